"""Scripted LLM servers on 127.0.0.1: a judge whose answers follow documented rules, and a rubric proposer.

Why in the package: the README walks the demo judge through ``judgekit align`` without an API key, and tests prove
what ``align`` finds. Both need a judge that gets *better for a reason a reader can check*: it decides a class of
items correctly only when the rubric states a rule about that class, or a few-shot example of that class is in the
prompt, or the model "knows" the class. The server speaks OpenAI Chat Completions (``/v1/chat/completions``) and
Anthropic Messages (``/v1/messages``), so the real SDKs and the whole judging engine are exercised. Start it with
``judgekit dev-server`` (or ``python -m judgekit.testing.scripted_llm``) or, in code, ``ScriptedLLMServer``.

**The answer key** (:class:`AnswerKey`): item -> correct label, failure class, the mistake the judge makes, and a
memo (the first words of its input). Items are recognised by their text as judgekit fences it (the ``<<<INPUT>>>``,
``<<<OUTPUT>>>``, ``<<<RESPONSE A>>>`` / ``<<<RESPONSE B>>>`` blocks), never by id. :meth:`AnswerKey.from_project`
builds one from a project's human labels (the majority of blind labels is the correct label) with the classes of
:func:`pairwise_classes` / :func:`single_classes`; tests build their own.

**How the scripted judge answers** a request whose reply schema has a ``label`` (in this order):

1. the item (last user message) is not in the key: a level chosen by a hash of its text, confidence 0.7;
2. the item's class ``C`` is *known*, and the answer is the correct label, when (a) the model's profile lists
   ``C`` (``AnswerKey.profiles``: model name -> classes), (b) the system message's decision rules contain one of
   ``C``'s trigger phrases, or (c) a few-shot example (an earlier user turn) is an item of class ``C``;
3. otherwise, when the decision rules quote the item's own memo (its first words), the correct label (a rule
   written for that very item: it helps it and nothing else);
4. otherwise an item of a class makes the class's mistake (its ``wrong`` label);
5. an item without a class is answered correctly, except a ``noise`` share of items (fixed by a hash of the text)
   answered with another level.

Confidence, when the schema asks for it: 0.90-0.99 for a known or correct answer, 0.50-0.80 for a mistake (a hash
spreads them), so a confidence threshold separates them, imperfectly.

**How the scripted proposer answers** a request whose schema is named ``rubric_revision`` (what
``judgekit align`` sends): it finds the fenced items in the prompt, looks them up, and for every class with at
least ``min_support`` (2) of them writes the class's rule (and its clarified level definition, if it has one).
A model whose name contains ``overfit`` instead writes one rule per item shown ("When the instruction begins
"...", answer X."): rules fitted to the examples, which help those items and no others.

Every request is recorded (:attr:`ScriptedLLMServer.requests`; ``GET /_requests`` from another process), with the
item keys it contains, so a test can prove which items reached which prompt. ``GET /health`` answers 200.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from judgekit.align.proposer import MAX_RULES, PROPOSAL_SCHEMA_NAME
from judgekit.testing.llm_http import (
    HTTPReply,
    HTTPRequest,
    LoopbackHTTPServer,
    anthropic_message,
    conversation,
    json_reply,
    label_logprobs,
    openai_chat_completion,
    openai_error,
    prompt_tokens,
    reply_schema,
)

__all__ = [
    "PROPOSAL_SCHEMA_NAME",
    "AnswerKey",
    "FailureClass",
    "KeyEntry",
    "Received",
    "ScriptedLLMServer",
    "item_keys_in",
    "main",
    "pairwise_classes",
    "single_classes",
    "text_key",
    "wait_until_serving",
]

DEFAULT_PORT = 8787
MEMO_CHARS = 40
"""Characters of an item's input that form its memo (what a rule fitted to that item quotes)."""

_BLOCK = re.compile(r"<<<(INPUT|OUTPUT|RESPONSE A|RESPONSE B)>>>\n(.*?)\n<<<END \1>>>", re.S)


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def text_key(blocks: dict[str, str]) -> str:
    """The key of one item from its fenced blocks (``INPUT``, ``OUTPUT`` or ``RESPONSE A``/``B``, as written in
    prompts): the first 16 hex digits of a sha256. The same function reads prompts and builds keys."""
    body = json.dumps({k: blocks[k] for k in sorted(blocks)}, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()[:16]


def _items_in(text: str) -> list[dict[str, str]]:
    """The items fenced in ``text``, in order: each ``INPUT`` block starts a new one."""
    out: list[dict[str, str]] = []
    for name, content in _BLOCK.findall(text):
        if name == "INPUT" or not out:
            out.append({})
        out[-1][name] = content
    return out


def item_keys_in(text: str) -> list[str]:
    """The :func:`text_key` of every item fenced in ``text`` (a prompt, a reply), in order."""
    return [text_key(b) for b in _items_in(text)]


def _memo(blocks: dict[str, str]) -> str:
    return _norm(blocks.get("INPUT", ""))[:MEMO_CHARS]


def _fraction(*parts: str) -> float:
    """A number in [0, 1) fixed by ``parts`` (the same text always gives the same number)."""
    h = hashlib.sha256("\x00".join(parts).encode()).digest()
    return int.from_bytes(h[:8], "big") / 2**64


@dataclass(frozen=True)
class FailureClass:
    """A kind of item the scripted judge gets wrong until told how to decide it."""

    name: str
    description: str
    """What the items have in common (for people reading a test or the README)."""
    triggers: tuple[str, ...]
    """Phrases (lower case); a decision rule containing any of them teaches the judge this class."""
    rule: str
    """The decision rule the scripted proposer writes for this class (it contains a trigger)."""
    definition: tuple[str, str] | None = None
    """``(level value, clarified definition)`` the scripted proposer also writes, if any."""


@dataclass(frozen=True)
class KeyEntry:
    """One item of the answer key."""

    label: str
    """The correct label."""
    wrong: str
    """The label the judge gives when it does not know how to decide the item."""
    cls: str | None = None
    """Its failure class (``None``: an ordinary item)."""
    memo: str = ""
    """Its first words, normalised (a rule quoting them was fitted to this item)."""
    item_id: str | None = None
    """The project item it was built from (for tests; the server never sees ids)."""


@dataclass
class AnswerKey:
    """What the scripted judge knows: items by text key, failure classes, model profiles and the noise share."""

    items: dict[str, KeyEntry] = field(default_factory=dict)
    classes: dict[str, FailureClass] = field(default_factory=dict)
    profiles: dict[str, frozenset[str]] = field(default_factory=dict)
    """Model name -> classes that model decides correctly without help (exact name; ``*`` for every model)."""
    noise: float = 0.08
    """Share of ordinary items answered wrongly (chosen by a hash of the item's text)."""

    def add(self, blocks: dict[str, str], entry: KeyEntry) -> None:
        self.items[text_key(blocks)] = entry

    def entry(self, key: str) -> KeyEntry | None:
        return self.items.get(key)

    def knows(self, model: str) -> frozenset[str]:
        return self.profiles.get(model, frozenset()) | self.profiles.get("*", frozenset())

    def ids_by_key(self) -> dict[str, str]:
        """Text key -> project item id (entries built from a project)."""
        return {k: e.item_id for k, e in self.items.items() if e.item_id is not None}

    # -- building ---------------------------------------------------------------------------------------------
    @classmethod
    def from_items(
        cls,
        items: Iterable[Any],
        labels: dict[str, str],
        classify: Callable[[Any, str], tuple[str | None, str]],
        classes: Iterable[FailureClass],
        *,
        profiles: Mapping[str, Iterable[str]] | None = None,
        noise: float = 0.08,
        levels: list[str] | None = None,
    ) -> AnswerKey:
        """A key over ``items`` (judgekit :class:`~judgekit.models.Item`) with correct ``labels`` (item id ->
        label); ``classify(item, label) -> (class or None, wrong label)``."""
        from judgekit.judging.prompts import item_block

        key = cls(
            classes={c.name: c for c in classes},
            profiles={m: frozenset(cs) for m, cs in (profiles or {}).items()},
            noise=noise,
        )
        for it in items:
            label = labels.get(it.id)
            if label is None:
                continue
            found = _items_in(item_block(it))
            if not found:
                continue
            blocks = found[0]
            name, wrong = classify(it, label)
            if wrong == label and levels:
                wrong = next(v for v in levels if v != label)
            key.add(blocks, KeyEntry(label=label, wrong=wrong, cls=name, memo=_memo(blocks), item_id=it.id))
        return key

    @classmethod
    def from_project(cls, path: str | Path, rubric_id: str | None = None, *, noise: float = 0.08) -> AnswerKey:
        """The key of a project's labelled items: the correct label is the majority of the blind labels (ties left
        out), the classes are :func:`pairwise_classes` or :func:`single_classes` by the rubric's task. Model
        profiles: ``gpt-4.1`` and ``claude-sonnet-4-5`` know the ``length`` class (a stronger model is less swayed
        by length), every other model knows nothing."""
        from judgekit.agreement import reference_by_item
        from judgekit.storage import Project

        with Project(path) as project:
            keys = project.labelled_rubric_keys()
            if not keys:
                return cls(noise=noise)
            rid, ver = next(((r, v) for r, v in keys if rubric_id in (None, r)), keys[0])
            rubric = project.rubric(rid, ver)
            ref = reference_by_item(project, rubric)
            labels = {str(i): str(v) for i, v in ref.items() if v is not None}
            items = project.items(list(labels))
        levels = rubric.scale.values
        if rubric.task == "pairwise":
            classes, classify = pairwise_classes(levels)
        else:
            classes, classify = single_classes(levels, rubric.scale.positive)
        strong = {"gpt-4.1": ["length"], "claude-sonnet-4-5": ["length"]}
        return cls.from_items(items, labels, classify, classes, profiles=strong, noise=noise, levels=levels)

    # -- files ------------------------------------------------------------------------------------------------
    def to_json(self) -> str:
        return json.dumps(
            {
                "noise": self.noise,
                "classes": [
                    {**c.__dict__, "triggers": list(c.triggers), "definition": c.definition}
                    for c in self.classes.values()
                ],
                "profiles": {m: sorted(cs) for m, cs in self.profiles.items()},
                "items": {k: e.__dict__ for k, e in self.items.items()},
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> AnswerKey:
        raw = json.loads(text)
        return cls(
            items={k: KeyEntry(**v) for k, v in raw["items"].items()},
            classes={
                c["name"]: FailureClass(
                    name=c["name"],
                    description=c["description"],
                    triggers=tuple(c["triggers"]),
                    rule=c["rule"],
                    definition=(str(c["definition"][0]), str(c["definition"][1])) if c.get("definition") else None,
                )
                for c in raw["classes"]
            },
            profiles={m: frozenset(cs) for m, cs in raw.get("profiles", {}).items()},
            noise=float(raw.get("noise", 0.08)),
        )


def pairwise_classes(levels: list[str]) -> tuple[list[FailureClass], Callable[[Any, str], tuple[str | None, str]]]:
    """Failure classes of a pairwise rubric whose first level means "A is better" and last "B is better":

    * ``tie``: people found the responses of similar quality; the judge picks the longer one;
    * ``length``: people preferred the response that is at least 20% shorter; the judge picks the longer one.
    """
    first, last = levels[0], levels[-1]
    middle = [v for v in levels[1:-1]]
    tie = FailureClass(
        "tie",
        "people judged the two responses of similar quality",
        ("tie", "similar quality", "equally good"),
        "When neither response is clearly better (both correct, or both flawed in similar ways), answer "
        + (middle[0] if middle else "the middle level")
        + ": do not pick one for its style, position or how much it says.",
        (middle[0], "Neither response is clearly better: both are similarly good or similarly bad (a tie).")
        if middle
        else None,
    )
    length = FailureClass(
        "length",
        "people preferred the clearly shorter response",
        ("longer", "length", "verbose"),
        "Do not prefer a response because it is longer or more detailed: prefer the one that does what the "
        "instruction asks, correctly and concisely.",
    )

    def classify(item: Any, label: str) -> tuple[str | None, str]:
        la, lb = len(item.output_a or ""), len(item.output_b or "")
        longer = first if la >= lb else last
        if label in middle:
            return "tie", longer
        preferred, other = (la, lb) if label == first else (lb, la)
        if label in (first, last) and preferred <= 0.8 * other:
            return "length", longer
        return None, last if label == first else first

    return [tie, length], classify


def single_classes(
    levels: list[str], positive: str | None
) -> tuple[list[FailureClass], Callable[[Any, str], tuple[str | None, str]]]:
    """Failure classes of a single-output rubric: ``lenient`` (the output is long and people gave a lower level
    than the best; the judge gives the best level), everything else ordinary."""
    best = positive or levels[-1]
    lenient = FailureClass(
        "lenient",
        "long outputs that people did not rate the best",
        ("long", "length", "detailed"),
        "A long or detailed output earns nothing for its length: judge only whether it does what was asked.",
    )

    def classify(item: Any, label: str) -> tuple[str | None, str]:
        if label != best and len(item.output or "") >= 200:
            return "lenient", best
        return None, next(v for v in levels if v != label)

    return [lenient], classify


# -- answering -------------------------------------------------------------------------------------------------


_TEXT_LEVELS = re.compile(r'"label": <one of ([^>]*)>')


def _text_levels(system: str) -> list[str]:
    """The levels named by the text-fallback reply instructions (``"label": <one of "A", "B">``)."""
    m = _TEXT_LEVELS.search(system)
    if not m:
        return []
    try:
        return [str(v) for v in json.loads("[" + m.group(1) + "]")]
    except json.JSONDecodeError:
        return []


def _rules_text(system: str) -> str:
    head = "Decision rules of this rubric"
    pos = system.find(head)
    return _norm(system[pos:]) if pos >= 0 else ""


@dataclass
class Received:
    """One request the server answered."""

    path: str
    model: str
    kind: str
    """``judge``, ``proposer`` or ``other``."""
    system: str
    prompt: str
    """The last user message."""
    item: str | None
    """Text key of the judged item (judge requests)."""
    examples: list[str]
    """Text keys of the items in earlier user turns (few-shot examples)."""
    items: list[str]
    """Text keys of every item in the request (all messages)."""
    t: float
    body: dict[str, Any] = field(repr=False, default_factory=dict)


class ScriptedLLMServer(LoopbackHTTPServer):
    """The scripted judge and proposer on ``127.0.0.1:port`` (0: a free port), in a background thread.

    ``key`` is an :class:`AnswerKey`, or a callable returning one (called at the first request and again whenever
    it returns a different object: :meth:`from_project_file` rebuilds the key when the project file changes), or
    ``None`` (every item unknown). Use as a context manager, or :meth:`start` / :meth:`stop`. The HTTP layer is
    :class:`~judgekit.testing.llm_http.LoopbackHTTPServer`; each request is answered by :meth:`handle` in a worker
    thread (building a key from a project reads its database).
    """

    thread_name = "scripted-llm"

    def __init__(
        self,
        key: AnswerKey | Callable[[], AnswerKey] | None = None,
        *,
        port: int = 0,
        host: str = "127.0.0.1",
        min_support: int = 2,
        record: bool = True,
    ) -> None:
        super().__init__(host=host, port=port)
        self._key_source = key
        self._key: AnswerKey | None = key if isinstance(key, AnswerKey) else None
        self.min_support = min_support
        self.record = record
        self.requests: list[Received] = []
        self.count = 0
        self._lock = threading.Lock()

    @classmethod
    def from_project_file(cls, path: str | Path, rubric_id: str | None = None, **kw: Any) -> ScriptedLLMServer:
        """A server whose key is built from the project at ``path`` when the first request arrives (the file may
        not exist yet when the server starts), and rebuilt when the file changes."""
        p = Path(path)
        cache: dict[str, Any] = {}

        def load() -> AnswerKey:
            try:
                stamp = (p.stat().st_mtime_ns, p.stat().st_size)
            except OSError:
                return AnswerKey()
            if cache.get("stamp") != stamp:
                cache["key"] = AnswerKey.from_project(p, rubric_id)
                cache["stamp"] = stamp
            key: AnswerKey = cache["key"]
            return key

        return cls(load, **kw)

    def start(self) -> ScriptedLLMServer:
        super().start()
        return self

    def __enter__(self) -> ScriptedLLMServer:
        return self.start()

    async def respond(self, request: HTTPRequest) -> HTTPReply:
        if request.method == "GET":
            if request.path.rstrip("/") in ("/health", "/v1/health"):
                return json_reply(200, {"ok": True})
            if request.path.startswith("/_requests"):
                return json_reply(200, {"requests": [self._summary(r) for r in list(self.requests)]})
            return json_reply(404, openai_error(f"no such path {request.path}", "not_found"))
        body = request.json()
        if request.raw and not isinstance(body, dict):
            return json_reply(400, openai_error("body is not a JSON object", "invalid_request_error"))
        status, payload = await asyncio.to_thread(self.handle, request.path, body or {})
        return json_reply(status, payload)

    # -- answering --------------------------------------------------------------------------------------------
    @property
    def key(self) -> AnswerKey:
        src = self._key_source
        if callable(src):
            self._key = src()
        return self._key or AnswerKey()

    def _summary(self, r: Received) -> dict[str, Any]:
        return {
            "path": r.path,
            "model": r.model,
            "kind": r.kind,
            "item": r.item,
            "examples": r.examples,
            "items": r.items,
            "system": r.system,
            "prompt": r.prompt,
        }

    def handle(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """The status and JSON reply for one POST (the HTTP layer only moves bytes)."""
        anthropic = path.rstrip("/").endswith("/messages")
        if not anthropic and not path.rstrip("/").endswith("/chat/completions"):
            return 404, openai_error(f"no such path {path}", "not_found")
        name, schema = reply_schema(body)
        system, turns = conversation(body)
        users = [t for r, t in turns if r == "user"]
        prompt = users[-1] if users else ""
        model = str(body.get("model") or "")
        key = self.key
        everything = "\n".join([system, *(t for _, t in turns)])
        if schema is None and (levels := _text_levels(system)):  # the text fallback (no structured output)
            schema = {"properties": {"rationale": {}, "label": {"enum": levels}}}
            if '"confidence"' in system:
                schema["properties"]["confidence"] = {}
        obj: dict[str, Any]
        if name == PROPOSAL_SCHEMA_NAME:
            kind, item, examples = "proposer", None, []
            obj = self._propose(key, model, prompt)
        elif schema is not None and "label" in (schema.get("properties") or {}):
            kind = "judge"
            found = item_keys_in(prompt)
            item = found[-1] if found else None
            examples = [k for t in users[:-1] for k in item_keys_in(t)]
            obj = self._judge(key, model, system, prompt, item, examples, schema)
        else:
            kind, item, examples = "other", None, []
            obj = {"text": "ok"}
        rec = Received(path, model, kind, system, prompt, item, examples, item_keys_in(everything), time.time(), body)
        with self._lock:
            self.count += 1
            if self.record:
                self.requests.append(rec)
        text = json.dumps(obj, ensure_ascii=False)
        in_tok, out_tok = prompt_tokens(body), max(1, len(text) // 4)
        if anthropic:
            content = (
                [{"type": "tool_use", "id": "toolu_1", "name": name, "input": obj}]
                if name
                else [{"type": "text", "text": text}]
            )
            stop = "tool_use" if name else "end_turn"
            reply = anthropic_message(
                model, content, stop_reason=stop, input_tokens=in_tok, output_tokens=out_tok, reply_id="msg_scripted"
            )
            return 200, reply
        logprobs = None
        if body.get("logprobs") and "label" in obj:
            label = str(obj["label"])
            logprobs = label_logprobs(text, label, {label: min(max(float(obj.get("confidence", 0.8)), 1e-6), 1.0)})
        return 200, openai_chat_completion(
            model,
            text,
            logprobs=logprobs,
            prompt_tokens=in_tok,
            completion_tokens=out_tok,
            reply_id="chatcmpl-scripted",
        )

    def _judge(
        self,
        key: AnswerKey,
        model: str,
        system: str,
        prompt: str,
        item: str | None,
        examples: list[str],
        schema: dict[str, Any],
    ) -> dict[str, Any]:
        props = schema.get("properties") or {}
        levels = [str(v) for v in (props.get("label") or {}).get("enum") or []] or ["A"]
        entry = key.entry(item) if item else None
        spread = _fraction(prompt)
        if entry is None:
            label = levels[int(spread * len(levels)) % len(levels)]
            why, conf = "An item this scripted judge has no key for.", 0.7
        else:
            rules = _rules_text(system)
            known = entry.cls is not None and (
                entry.cls in key.knows(model)
                or any(t in rules for t in key.classes[entry.cls].triggers)
                or any((e := key.entry(x)) is not None and e.cls == entry.cls for x in examples)
            )
            if known:
                label, why, conf = (
                    entry.label,
                    f"Decided as a {entry.cls} case, as the rubric says.",
                    0.9 + 0.09 * spread,
                )
            elif entry.memo and entry.memo in rules:
                label, why, conf = entry.label, "The rubric has a rule for this very item.", 0.9 + 0.09 * spread
            elif entry.cls is not None:
                label, why, conf = entry.wrong, "The longer, more detailed answer looks better.", 0.5 + 0.3 * spread
            elif _fraction("noise", item or "") < key.noise:
                label, why, conf = entry.wrong, "A judgement call.", 0.5 + 0.3 * spread
            else:
                label, why, conf = entry.label, "It follows the instruction best.", 0.9 + 0.09 * spread
            if label not in levels:
                label = levels[0]
        out: dict[str, Any] = {"rationale": why, "label": label}
        if "confidence" in props:
            out["confidence"] = round(conf, 3)
        if list(props)[:1] == ["label"]:
            out = {"label": label, **{k: v for k, v in out.items() if k != "label"}}
        return out

    def _propose(self, key: AnswerKey, model: str, prompt: str) -> dict[str, Any]:
        shown = [(b, key.entry(text_key(b))) for b in _items_in(prompt)]
        if "overfit" in model:
            rules = [
                f'When the instruction begins "{e.memo}", answer {e.label}.'
                for _, e in shown
                if e is not None and e.memo
            ][:MAX_RULES]
            return {
                "rationale": "One rule for each disagreement shown, so that each of them is decided as people did.",
                "level_definitions": [],
                "decision_rules": rules,
            }
        counts: dict[str, int] = {}
        for _, e in shown:
            if e is not None and e.cls is not None:
                counts[e.cls] = counts.get(e.cls, 0) + 1
        chosen = [
            key.classes[c] for c, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if n >= self.min_support
        ]
        return {
            "rationale": "; ".join(f"{counts[c.name]} disagreements where {c.description}" for c in chosen)
            or "No pattern is common enough among the disagreements shown to write a rule for.",
            "level_definitions": [
                {"value": c.definition[0], "definition": c.definition[1]} for c in chosen if c.definition
            ],
            "decision_rules": [c.rule for c in chosen],
        }


def serve(
    *,
    db: str | Path | None = None,
    rubric_id: str | None = None,
    key_file: str | Path | None = None,
    port: int = DEFAULT_PORT,
    host: str = "127.0.0.1",
    echo: Callable[[str], None] = print,
    until: threading.Event | None = None,
) -> None:
    """Run the scripted server in the foreground until interrupted (``judgekit dev-server``)."""
    if key_file is not None:
        server = ScriptedLLMServer(
            AnswerKey.from_json(Path(key_file).read_text(encoding="utf-8")), port=port, host=host
        )
        source = f"answer key {key_file}"
    elif db is not None:
        server = ScriptedLLMServer.from_project_file(db, rubric_id, port=port, host=host)
        source = f"answer key from the labels of {db} (read at the first request, again when the file changes)"
    else:
        server = ScriptedLLMServer(port=port, host=host)
        source = "no answer key (every item answered by a hash of its text)"
    server.record = False
    try:
        server.start()
    except OSError as e:
        from judgekit.errors import UserError

        raise UserError(
            f"cannot serve on {host}:{port}: {e.strerror or e} (another dev-server? choose --port N)"
        ) from e
    echo(f"scripted LLM server: {server.openai_url} (OpenAI) and {server.anthropic_url} (Anthropic); {source}")
    echo(f"use it with: export OPENAI_BASE_URL={server.openai_url} OPENAI_API_KEY=scripted; Ctrl+C stops it")
    server.serve_until_stopped(until)


def wait_until_serving(port: int, *, host: str = "127.0.0.1", timeout: float = 60.0) -> None:
    """Return once a server answers ``GET /health`` on ``host:port``; :class:`~judgekit.errors.UserError` after
    ``timeout`` seconds (a condition waited on, not a sleep: the README starts the server in the background)."""
    import urllib.error
    import urllib.request

    from judgekit.errors import UserError

    deadline = time.monotonic() + timeout
    url = f"http://{host}:{port}/health"
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise UserError(f"no scripted LLM server answered on {url} within {timeout:g} s (is it started?)")
        time.sleep(0.1)


def main(argv: list[str] | None = None) -> None:  # pragma: no cover - the CLI is tested through judgekit dev-server
    """``python -m judgekit.testing.scripted_llm [--db PATH] [--port N]``."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--db")
    parser.add_argument("--rubric")
    parser.add_argument("--key")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args(argv)
    serve(db=args.db, rubric_id=args.rubric, key_file=args.key, port=args.port)


if __name__ == "__main__":  # pragma: no cover
    main()
