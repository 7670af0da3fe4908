"""A scripted OpenAI- and Anthropic-compatible HTTP server on 127.0.0.1, for tests and the benchmark.

Why a real server: the provider SDKs are built on ``httpx2``, which HTTP mocking libraries do not reach; a loopback
server exercises the SDKs' real request building, response parsing and error mapping.

It speaks HTTP/1.1 with keep-alive on an asyncio loop in a background thread. Each request takes the next
:class:`Action` from the script (``server.script(...)``), else the first matching rule (``server.rules``), else the
default: a valid structured verdict whose label comes from ``labeler(prompt_text, levels)``. It records every
request and counts, per item (the text between ``<<<INPUT>>>`` markers), the requests received and the 200
replies fully written.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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
    schema = None
    rf = body.get("response_format")
    if isinstance(rf, dict) and rf.get("type") == "json_schema":
        schema = rf["json_schema"]["schema"]
    for tool in body.get("tools") or []:
        schema = tool.get("input_schema")
    return schema


def _levels(body: dict[str, Any]) -> list[str]:
    schema = _schema(body)
    if schema and "label" in schema["properties"]:
        return list(schema["properties"]["label"].get("enum", []))
    return []


def _prompt_text(body: dict[str, Any]) -> str:
    msgs = body.get("messages") or []
    for m in reversed(msgs):
        if m.get("role") == "user":
            c = m.get("content")
            return c if isinstance(c, str) else json.dumps(c)
    return ""


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


class FakeLLMServer:
    """Start with :meth:`start` (or as a context manager); ``openai_url`` / ``anthropic_url`` for the SDKs."""

    def __init__(
        self,
        *,
        latency: float = 0.0,
        labeler: Callable[[str, list[str]], str] | None = None,
        limiter: RateLimiter | None = None,
        criteria_labeler: Callable[[str, str, dict[str, Any]], Any] | None = None,
    ) -> None:
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
        self.connections = 0
        """TCP connections accepted so far (a client that keeps its connections alive opens few)."""
        self.in_flight = 0
        """Requests being answered now (received, reply not yet written)."""
        self.in_flight_seen: list[int] = []
        """Requests in flight at each arrival (how many calls the client keeps going)."""
        self._ok = 0
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self._tasks: set[asyncio.Task[None]] = set()

    # -- lifecycle ------------------------------------------------------------------------------------------

    @property
    def openai_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def anthropic_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeLLMServer:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)

            async def main() -> None:
                self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, backlog=1024)
                self.port = self._server.sockets[0].getsockname()[1]
                ready.set()

            loop.run_until_complete(main())
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, daemon=True, name="fake-llm-server")
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        loop = self._loop
        if loop is None:
            return

        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            for t in list(self._tasks):
                t.cancel()
            await asyncio.sleep(0)

        fut = asyncio.run_coroutine_threadsafe(shutdown(), loop)
        with contextlib.suppress(Exception):
            fut.result(5)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(5)
        self._loop = None

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

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

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        self.connections += 1
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                _method, path, _ = line.decode("latin-1").split(" ", 2)
                headers: dict[str, str] = {}
                while True:
                    h = await reader.readline()
                    if h in (b"\r\n", b"\n", b""):
                        break
                    k, _, v = h.decode("latin-1").partition(":")
                    headers[k.strip().lower()] = v.strip()
                n = int(headers.get("content-length", "0"))
                raw = await reader.readexactly(n) if n else b""
                if path == "/_count":  # the benchmark reads the counts of a server in another process
                    payload = json.dumps(self.stats()).encode()
                    writer.write(
                        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
                        + str(len(payload)).encode()
                        + b"\r\n\r\n"
                        + payload
                    )
                    await writer.drain()
                    continue
                response = await self.route(_method, path, headers, raw)
                if response is not None:  # endpoints a subclass adds (batch_server.BatchServer: files, batches)
                    writer.write(response)
                    await writer.drain()
                    continue
                try:
                    body = json.loads(raw) if raw else {}
                except json.JSONDecodeError:
                    body = {}
                m = _INPUT.search(_prompt_text(body))
                item = m.group(1) if m else None
                rec = Received(path, body, item, headers, time.monotonic())
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
                        return
                    until = self.hold(rec) if self.hold is not None else None
                    if until is not None:
                        give_up = time.monotonic() + self.hold_limit_s
                        while not until() and time.monotonic() < give_up:
                            await asyncio.sleep(0.005)
                    if action.kind == "reset":
                        with contextlib.suppress(Exception):
                            writer.transport.abort()  # RST, no reply
                        return
                    if delay > 0:
                        await asyncio.sleep(delay)
                finally:
                    with self._lock:
                        self.in_flight -= 1
                status, extra_headers, payload = self._respond(path, body, action)
                head = [
                    f"HTTP/1.1 {status} X",
                    "content-type: application/json",
                    f"content-length: {len(payload)}",
                    "connection: keep-alive",
                ]
                head += [f"{k}: {v}" for k, v in extra_headers.items()]
                writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
                await writer.drain()
                if status == 200:
                    with self._lock:
                        self._ok += 1
                        self.last_reply = time.time()
                        if item is not None:
                            self.answered[item] += 1
        except (asyncio.CancelledError, ConnectionError, asyncio.IncompleteReadError, ValueError):
            return
        finally:
            if task is not None:
                self._tasks.discard(task)
            with contextlib.suppress(Exception):
                writer.close()

    async def route(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> bytes | None:
        """A whole HTTP response for a request this server answers itself, or ``None`` (a model call)."""
        return None

    def _criterion_label(self, body: dict[str, Any], name: str, label_schema: dict[str, Any]) -> Any:
        if self.criteria_labeler is not None:
            return self.criteria_labeler(_prompt_text(body), name, label_schema)
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
            if anthropic:
                etype = {429: "rate_limit_error", 529: "overloaded_error"}.get(a.status, "api_error")
                err: dict[str, Any] = {"type": "error", "error": {"type": etype, "message": f"status {a.status}"}}
            else:
                err = {"error": {"message": f"status {a.status}", "type": "error", "code": None}}
            return a.status, a.headers, json.dumps(err).encode()
        if a.kind == "malformed":
            return 200, a.headers, b'{"choices": [ this is not json'
        if a.kind == "raw":
            return 200, {"content-type": "application/json", **a.headers}, (a.text or "").encode()
        levels = _levels(body)
        label = a.label
        if label is None:
            label = self.labeler(_prompt_text(body), levels) if self.labeler else (levels[0] if levels else "A")
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
        in_tok = max(1, len(json.dumps(body.get("messages", []))) // 4)
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
            msg = {
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": content,
                "stop_reason": stop,
                "stop_sequence": None,
                "usage": {"input_tokens": in_tok, "output_tokens": out_tok},
            }
            return 200, a.headers, json.dumps(msg).encode()
        refusal = None
        if a.kind == "refusal":
            text = None
            refusal = a.text or "I can't help with that."
        elif a.kind == "text":
            text = a.text or ""
        else:
            text = json.dumps(obj, separators=(",", ":"))
        logprobs = None
        if body.get("logprobs") and text is not None:
            logprobs = {"content": _tokens(text, label, a.probs, levels), "refusal": None}
        out_tok = max(1, len(text or refusal or "") // 4)
        resp = {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 0,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "logprobs": logprobs,
                    "message": {"role": "assistant", "content": text, "refusal": refusal},
                }
            ],
            "usage": {"prompt_tokens": in_tok, "completion_tokens": out_tok, "total_tokens": in_tok + out_tok},
        }
        return 200, a.headers, json.dumps(resp).encode()


def _tokens(text: str, label: Any, probs: dict[str, float] | None, levels: list[str]) -> list[dict[str, Any]]:
    """Split ``text`` into tokens with the label value as one token carrying ``probs`` as top alternatives."""
    needle = f'"label":"{label}"'
    pos = text.find(needle)
    if pos == -1:
        return [{"token": text, "logprob": 0.0, "bytes": None, "top_logprobs": []}]
    start = pos + len('"label":"')
    parts = [(text[:start], None), (label, probs or {label: 1.0}), (text[start + len(label) :], None)]
    out = []
    for tok, p in parts:
        if not tok:
            continue
        if p is None:
            out.append({"token": tok, "logprob": 0.0, "bytes": None, "top_logprobs": []})
        else:
            top = [{"token": k, "logprob": math.log(v), "bytes": None} for k, v in p.items() if v > 0]
            out.append(
                {"token": tok, "logprob": math.log(p.get(tok, 1e-9) or 1e-9), "bytes": None, "top_logprobs": top}
            )
    return out


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
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        srv.stop()


if __name__ == "__main__":  # pragma: no cover
    main()
