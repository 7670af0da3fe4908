"""A scripted OpenAI- and Anthropic-compatible HTTP server on 127.0.0.1, for tests and the benchmark.

Why a real server: the provider SDKs are built on ``httpx``, which HTTP mocking libraries do not reach; a loopback
server exercises the SDKs' real request building, response parsing and error mapping. The HTTP layer and the
reply shapes are judgekit's own (:mod:`judgekit.testing.llm_http`, shared with the scripted judge of
``judgekit dev-server``); this module adds the faults and the counting. Each request takes the next
:class:`Action` from the script (``server.script(...)``), else the first matching rule (``server.rules``), else the
default: a valid structured verdict whose label comes from ``labeler(prompt_text, levels)``. It records every
request and counts, per item (the text between ``<<<INPUT>>>`` markers), the requests received and the 200
replies fully written.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from judgekit.testing.llm_http import (
    HTTPReply,
    HTTPRequest,
    LoopbackHTTPServer,
    anthropic_error,
    anthropic_message,
    json_reply,
    label_logprobs,
    last_user_text,
    openai_chat_completion,
    openai_error,
    prompt_tokens,
    reply_schema,
)

_INPUT = re.compile(r"<<<INPUT>>>\n(.*?)\n<<<END INPUT>>>", re.S)


@dataclass
class Action:
    """What to do with one request."""

    kind: str = "reply"
    """``reply`` (valid verdict), ``text`` (raw content), ``refusal``, ``status`` (error code), ``hang`` (never
    answer), ``reset`` (close the connection without a reply), ``malformed`` (200 with a body that is not JSON),
    ``raw`` (200 with ``text`` as the body)."""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    label: str | None = None
    rationale: str = "Because."
    confidence: float | None = 0.8
    text: str | None = None
    probs: dict[str, float] | None = None
    """Logprobs: probability of each level at the label token (when the request asks for logprobs)."""


@dataclass
class Received:
    path: str
    body: dict[str, Any]
    item: str | None
    headers: dict[str, str]
    t: float


def _schema(body: dict[str, Any]) -> dict[str, Any] | None:
    return reply_schema(body)[1]


def _levels(body: dict[str, Any]) -> list[str]:
    schema = _schema(body)
    if schema and "label" in (schema.get("properties") or {}):
        return list(schema["properties"]["label"].get("enum", []))
    return []


class RateLimiter:
    """A provider's rate limit: a token bucket of ``rate`` requests per second holding at most ``burst``; a request
    finding no token is refused with 429 and ``retry-after-ms`` = the time until the next token (a refused request
    takes no token). ``extra_429`` refuses that share of the requests at random on top (other clients, a
    congested region), with ``retry-after-ms: 50``; seeded. ``rate=None``: the random 429s only."""

    def __init__(
        self, rate: float | None, *, burst: float | None = None, extra_429: float = 0.0, seed: int = 0
    ) -> None:
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, (rate or 0.0) * 0.1)
        self.tokens = self.burst
        self.updated = time.monotonic()
        self.extra_429 = extra_429
        self.rng = random.Random(seed)
        self.limited = 0
        self.random_429 = 0

    def check(self) -> Action | None:
        """``None`` (go ahead) or the 429 to send."""
        if self.extra_429 and self.rng.random() < self.extra_429:
            self.random_429 += 1
            return Action(kind="status", status=429, headers={"retry-after-ms": "50"})
        if self.rate is None:
            return None
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return None
        self.limited += 1
        wait_ms = max(1, math.ceil((1.0 - self.tokens) / self.rate * 1000))
        return Action(kind="status", status=429, headers={"retry-after-ms": str(wait_ms)})


class FakeLLMServer(LoopbackHTTPServer):
    """Start with :meth:`start` (or as a context manager); ``openai_url`` / ``anthropic_url`` for the SDKs."""

    thread_name = "fake-llm-server"

    def __init__(
        self,
        *,
        latency: float = 0.0,
        labeler: Callable[[str, list[str]], str] | None = None,
        limiter: RateLimiter | None = None,
        criteria_labeler: Callable[[str, str, dict[str, Any]], Any] | None = None,
    ) -> None:
        super().__init__()
        self.latency = latency
        self.labeler = labeler
        self.criteria_labeler = criteria_labeler
        """Rubrics with rated criteria (a schema with one object per criterion): ``(prompt, criterion, label schema)``
        -> that criterion's label (a level, or a number); default the first level, or the middle of the range."""
        self.limiter = limiter
        """A rate limit enforced before anything else (its 429s are answered at once, without the latency)."""
        self.first_request: float | None = None
        self.last_reply: float | None = None
        """Wall-clock times (``time.time()``) of the first request and of the last 200 reply written."""
        self.rules: list[Callable[[Received], Action | None]] = []
        self._script: deque[Action] = deque()
        self.requests: list[Received] = []
        self.received: Counter[str] = Counter()
        self.answered: Counter[str] = Counter()
        self.hang_after: int | None = None
        """After this many 200 replies, every further request hangs (simulates a process killed mid-run)."""
        self.hold: Callable[[Received], Callable[[], bool] | None] | None = None
        """Called (on the server's loop) for each model request: ``None`` answers it as usual, a condition holds
        its reply until the condition is true (looked at every 5 ms, at most :attr:`hold_limit_s`). Tests use it to
        order events between client processes without timing them."""
        self.hold_limit_s = 120.0
        self.record = True
        self.count = 0
        self.in_flight = 0
        """Requests being answered now (received, reply not yet written)."""
        self.in_flight_seen: list[int] = []
        """Requests in flight at each arrival (how many calls the client keeps going)."""
        self._ok = 0
        self._lock = threading.Lock()

    def start(self) -> FakeLLMServer:
        super().start()
        return self

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    # -- scripting ------------------------------------------------------------------------------------------

    def script(self, *actions: Action) -> None:
        """Queue actions used by the next requests, in order."""
        with self._lock:
            self._script.extend(actions)

    def stats(self) -> dict[str, Any]:
        """Counts and times, for a benchmark reading a server in another process (``GET /_count``)."""
        with self._lock:
            out: dict[str, Any] = {
                "count": self.count,
                "ok": self._ok,
                "first_request": self.first_request,
                "last_reply": self.last_reply,
            }
            if self.limiter is not None:
                out.update(limited=self.limiter.limited, random_429=self.limiter.random_429)
            return out

    def reset_counts(self) -> None:
        with self._lock:
            self.requests.clear()
            self.received.clear()
            self.answered.clear()
            self.count = 0
            self._ok = 0
            self.first_request = self.last_reply = None
            self.in_flight_seen.clear()

    def _action(self, rec: Received) -> Action:
        with self._lock:
            if self.limiter is not None:
                refused = self.limiter.check()
                if refused is not None:
                    refused.delay = -self.latency  # answered at once
                    return refused
            if self.hang_after is not None and self._ok >= self.hang_after:
                return Action(kind="hang")
            if self._script:
                return self._script.popleft()
        for rule in self.rules:
            a = rule(rec)
            if a is not None:
                return a
        return Action()

    # -- HTTP -------------------------------------------------------------------------------------------------

    async def respond(self, request: HTTPRequest) -> HTTPReply:
        path = request.path
        if path == "/_count":  # the benchmark reads the counts of a server in another process
            return json_reply(200, self.stats())
        response = await self.route(request.method, path, request.headers, request.raw)
        if response is not None:  # endpoints a subclass adds (batch_server.BatchServer: files, batches)
            return response
        parsed = request.json()
        body: dict[str, Any] = parsed if isinstance(parsed, dict) else {}
        m = _INPUT.search(last_user_text(body))
        item = m.group(1) if m else None
        rec = Received(path, body, item, request.headers, time.monotonic())
        with self._lock:
            if self.first_request is None:
                self.first_request = time.time()
            self.in_flight += 1
            if self.record:
                self.in_flight_seen.append(self.in_flight)
            self.count += 1
            if self.record:
                self.requests.append(rec)
            if item is not None:
                self.received[item] += 1
        try:
            action = self._action(rec)
            delay = action.delay + self.latency
            if action.kind == "hang":
                await asyncio.sleep(3600)
                return HTTPReply.reset()
            until = self.hold(rec) if self.hold is not None else None
            if until is not None:
                give_up = time.monotonic() + self.hold_limit_s
                while not until() and time.monotonic() < give_up:
                    await asyncio.sleep(0.005)
            if action.kind == "reset":
                return HTTPReply.reset()
            if delay > 0:
                await asyncio.sleep(delay)
        finally:
            with self._lock:
                self.in_flight -= 1
        status, extra_headers, payload = self._respond(path, body, action)
        reply = HTTPReply(status, payload, {"connection": "keep-alive", **extra_headers})
        if status == 200:
            reply.on_sent = lambda: self._answered(item)
        return reply

    def _answered(self, item: str | None) -> None:
        """A 200 reply was fully written."""
        with self._lock:
            self._ok += 1
            self.last_reply = time.time()
            if item is not None:
                self.answered[item] += 1

    async def route(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> HTTPReply | None:
        """The reply to a request this server answers itself, or ``None`` (a model call)."""
        return None

    def _criterion_label(self, body: dict[str, Any], name: str, label_schema: dict[str, Any]) -> Any:
        if self.criteria_labeler is not None:
            return self.criteria_labeler(last_user_text(body), name, label_schema)
        if label_schema.get("type") == "number":
            return 0.5
        return label_schema["enum"][0]

    @staticmethod
    def _answer(a: Action, label: Any, props: dict[str, Any]) -> dict[str, Any]:
        obj: dict[str, Any] = {"rationale": a.rationale, "label": label}
        if "confidence" in props and a.confidence is not None:
            obj["confidence"] = a.confidence
        if list(props)[:1] == ["label"]:
            obj = {"label": obj["label"], **{k: v for k, v in obj.items() if k != "label"}}
        return obj

    def _respond(self, path: str, body: dict[str, Any], a: Action) -> tuple[int, dict[str, str], bytes]:
        # Anthropic's Messages API, and the same body on Bedrock (/model/M/invoke) and Vertex (...:rawPredict)
        anthropic = path.rstrip("/").endswith(("/messages", "/invoke", ":rawPredict"))
        if a.kind == "status":
            message = f"status {a.status}"
            err = anthropic_error(a.status, message) if anthropic else openai_error(message)
            return a.status, a.headers, json.dumps(err).encode()
        if a.kind == "malformed":
            return 200, a.headers, b'{"choices": [ this is not json'
        if a.kind == "raw":
            return 200, {"content-type": "application/json", **a.headers}, (a.text or "").encode()
        levels = _levels(body)
        label = a.label
        if label is None:
            label = self.labeler(last_user_text(body), levels) if self.labeler else (levels[0] if levels else "A")
        schema = _schema(body) or {"properties": {}}
        props = schema["properties"]
        if props and "label" not in props:  # rated criteria: one answer object per criterion
            obj: dict[str, Any] = {
                name: self._answer(a, self._criterion_label(body, name, sub["properties"]["label"]), sub["properties"])
                for name, sub in props.items()
            }
        else:
            if "label" in props and props["label"].get("type") == "number" and a.label is None:
                label = self._criterion_label(body, "", props["label"])
            obj = self._answer(a, label, props)
        in_tok = prompt_tokens(body)
        model = body.get("model", "m")
        if anthropic:
            if a.kind == "refusal":
                content: list[dict[str, Any]] = [{"type": "text", "text": a.text or "I can't help with that."}]
                stop = "refusal"
            elif a.kind == "text" or not body.get("tools"):
                content = [{"type": "text", "text": a.text if a.text is not None else json.dumps(obj)}]
                stop = "end_turn"
            else:
                content = [{"type": "tool_use", "id": "toolu_1", "name": body["tools"][0]["name"], "input": obj}]
                stop = "tool_use"
            out_tok = max(1, len(json.dumps(content)) // 4)
            msg = anthropic_message(model, content, stop_reason=stop, input_tokens=in_tok, output_tokens=out_tok)
            return 200, a.headers, json.dumps(msg).encode()
        refusal = None
        if a.kind == "refusal":
            text = None
            refusal = a.text or "I can't help with that."
        elif a.kind == "text":
            text = a.text or ""
        else:
            text = json.dumps(obj, separators=(",", ":"))
        logprobs = label_logprobs(text, label, a.probs) if body.get("logprobs") and text is not None else None
        out_tok = max(1, len(text or refusal or "") // 4)
        resp = openai_chat_completion(
            model, text, refusal=refusal, logprobs=logprobs, prompt_tokens=in_tok, completion_tokens=out_tok
        )
        return 200, a.headers, json.dumps(resp).encode()


def main() -> None:  # pragma: no cover - the benchmark's server: python tests/judging/fake_llm_server.py ...
    ap = argparse.ArgumentParser(description="A scripted OpenAI/Anthropic server on 127.0.0.1; prints its URL.")
    ap.add_argument("latency", type=float, nargs="?", default=0.0, help="seconds per 200 reply")
    ap.add_argument("--rate-limit", type=float, default=None, help="requests per second enforced (429 above)")
    ap.add_argument("--burst", type=float, default=None, help="token bucket size (default: 0.1 s of the rate)")
    ap.add_argument("--extra-429", type=float, default=0.0, help="share of requests refused with 429 at random")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    limiter = None
    if args.rate_limit or args.extra_429:
        limiter = RateLimiter(args.rate_limit, burst=args.burst, extra_429=args.extra_429, seed=args.seed)
    srv = FakeLLMServer(latency=args.latency, limiter=limiter)
    srv.record = False
    srv.start()
    print(srv.openai_url, flush=True)
    srv.serve_until_stopped()


if __name__ == "__main__":  # pragma: no cover
    main()
