"""The HTTP plumbing of judgekit's scripted LLM servers: an HTTP/1.1 server on 127.0.0.1 in a background thread,
the request parts a scripted model reads, and the reply shapes of OpenAI Chat Completions and Anthropic Messages.

Why one module: the scripted judge and proposer (:mod:`judgekit.testing.scripted_llm`, what ``judgekit
dev-server`` and the README's align walkthrough start) and the test suite's fault-injecting server
(``tests/judging/fake_llm_server.py``: 429s, hangs, resets, malformed replies, batch endpoints) answer the same
SDKs. A reply shape fixed in one place is fixed for both, and both exercise the SDKs' real request building,
response parsing and error mapping over a socket (the SDKs are built on httpx, which mocking libraries do not
reach).

The server (:class:`LoopbackHTTPServer`) runs an asyncio loop in a daemon thread and keeps connections alive, so
one client reuses its connections and hundreds of requests can be in flight (the throughput benchmarks need
that). A subclass answers :meth:`LoopbackHTTPServer.respond`; it may await as long as it likes (a held or hung
reply), return :meth:`HTTPReply.reset` to close the connection without a reply, and is cancelled by
:meth:`~LoopbackHTTPServer.stop`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

__all__ = [
    "HTTPReply",
    "HTTPRequest",
    "LoopbackHTTPServer",
    "anthropic_error",
    "anthropic_message",
    "conversation",
    "json_reply",
    "label_logprobs",
    "last_user_text",
    "openai_chat_completion",
    "openai_error",
    "prompt_tokens",
    "reply_schema",
    "text_of",
]


# -- HTTP ----------------------------------------------------------------------------------------------------------


@dataclass
class HTTPRequest:
    """One request as it arrived: method, path (with the query), lower-cased headers, the raw body."""

    method: str
    path: str
    headers: dict[str, str]
    raw: bytes

    def json(self) -> Any:
        """The body as JSON; ``None`` when it is empty or not JSON."""
        if not self.raw:
            return None
        try:
            return json.loads(self.raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None


@dataclass
class HTTPReply:
    """A whole reply. ``headers`` may override ``content-type``; ``on_sent`` runs once the reply is fully written
    (a server counting the replies its clients received, not the ones it began)."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    on_sent: Callable[[], None] | None = None
    close: bool = False
    """Close the connection without writing anything (a TCP reset: what a crashed server or a proxy does)."""

    @classmethod
    def reset(cls) -> HTTPReply:
        return cls(status=0, close=True)

    def to_bytes(self) -> bytes:
        try:
            reason = HTTPStatus(self.status).phrase
        except ValueError:
            reason = "X"
        extra = {k.lower(): v for k, v in self.headers.items()}
        head = [
            f"HTTP/1.1 {self.status} {reason}",
            f"content-type: {extra.pop('content-type', self.content_type)}",
            f"content-length: {len(self.body)}",
        ]
        extra.pop("content-length", None)
        head += [f"{k}: {v}" for k, v in extra.items()]
        return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + self.body


def json_reply(status: int, obj: Any, headers: dict[str, str] | None = None) -> HTTPReply:
    """A JSON reply."""
    return HTTPReply(status, json.dumps(obj).encode(), dict(headers or {}))


class LoopbackHTTPServer:
    """An HTTP/1.1 keep-alive server on ``host:port`` (port 0: a free one, read :attr:`port` after :meth:`start`),
    answered by :meth:`respond` on an asyncio loop in a daemon thread. Use as a context manager, or
    :meth:`start` / :meth:`stop`."""

    thread_name = "loopback-http"

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self.connections = 0
        """TCP connections accepted so far (a client that keeps its connections alive opens few)."""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # -- addresses --------------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def openai_url(self) -> str:
        """Base URL for the OpenAI SDK (``OPENAI_BASE_URL``)."""
        return f"{self.url}/v1"

    @property
    def anthropic_url(self) -> str:
        """Base URL for the Anthropic SDK (``ANTHROPIC_BASE_URL``)."""
        return self.url

    # -- lifecycle --------------------------------------------------------------------------------------------
    def start(self) -> Any:
        """Bind and serve; returns ``self`` once the port is bound (``OSError`` if it cannot be, e.g. taken)."""
        ready = threading.Event()
        failed: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)

            async def bind() -> None:
                self._server = await asyncio.start_server(self._handle, self.host, self.port, backlog=1024)
                self.port = int(self._server.sockets[0].getsockname()[1])

            try:
                loop.run_until_complete(bind())
            except BaseException as e:  # handed to start(), which raises it in the caller's thread
                failed.append(e)
                loop.close()
                ready.set()
                return
            self._loop = loop
            ready.set()
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, daemon=True, name=self.thread_name)
        self._thread.start()
        ready.wait()
        if failed:
            self._thread.join()
            self._thread = None
            raise failed[0]
        return self

    def stop(self) -> None:
        """Stop serving: the open connections and the replies being held are cancelled."""
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
            self._thread = None
        self._loop = None

    def serve_until_stopped(self, until: threading.Event | None = None) -> None:
        """Block until Ctrl+C (or ``until`` is set), then :meth:`stop` (a server run in the foreground)."""
        stop = until or threading.Event()
        try:
            while not stop.wait(3600):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- answering --------------------------------------------------------------------------------------------
    async def respond(self, request: HTTPRequest) -> HTTPReply:
        """The reply to one request (a subclass's job)."""
        raise NotImplementedError

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
                method, path, _ = line.decode("latin-1").split(" ", 2)
                headers: dict[str, str] = {}
                while True:
                    h = await reader.readline()
                    if h in (b"\r\n", b"\n", b""):
                        break
                    k, _, v = h.decode("latin-1").partition(":")
                    headers[k.strip().lower()] = v.strip()
                n = int(headers.get("content-length", "0"))
                raw = await reader.readexactly(n) if n else b""
                reply = await self.respond(HTTPRequest(method, path, headers, raw))
                if reply.close:
                    with contextlib.suppress(Exception):
                        writer.transport.abort()  # RST, no reply
                    return
                writer.write(reply.to_bytes())
                await writer.drain()
                if reply.on_sent is not None:
                    reply.on_sent()
        except (asyncio.CancelledError, ConnectionError, asyncio.IncompleteReadError, ValueError):
            return
        finally:
            if task is not None:
                self._tasks.discard(task)
            with contextlib.suppress(Exception):
                writer.close()


# -- what a request asks for ---------------------------------------------------------------------------------------


def reply_schema(body: dict[str, Any]) -> tuple[str | None, dict[str, Any] | None]:
    """``(name, JSON schema)`` of the structured reply a request asks for: OpenAI's ``response_format`` or the
    first of Anthropic's ``tools``; ``(None, None)`` for free text."""
    rf = body.get("response_format")
    if isinstance(rf, dict) and rf.get("type") == "json_schema":
        return rf["json_schema"].get("name"), rf["json_schema"].get("schema")
    for tool in body.get("tools") or []:
        return tool.get("name"), tool.get("input_schema")
    return None, None


def text_of(content: Any) -> str:
    """The text of a message's content: a string, or a list of content parts (their ``text`` joined)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


def conversation(body: dict[str, Any]) -> tuple[str, list[tuple[str, str]]]:
    """``(system text, [(role, text), ...])`` of an OpenAI or Anthropic request (system messages, and Anthropic's
    ``system`` field, joined into the first)."""
    system = text_of(body.get("system")) if body.get("system") is not None else ""
    turns: list[tuple[str, str]] = []
    for m in body.get("messages") or []:
        role, text = str(m.get("role")), text_of(m.get("content"))
        if role == "system":
            system += ("\n" if system else "") + text
        else:
            turns.append((role, text))
    return system, turns


def last_user_text(body: dict[str, Any]) -> str:
    """The text of the request's last user message ('' if none): where judgekit puts the item."""
    users = [t for role, t in conversation(body)[1] if role == "user"]
    return users[-1] if users else ""


def prompt_tokens(body: dict[str, Any]) -> int:
    """A token count for the request's messages (4 characters a token: a scripted server's usage figure)."""
    return max(1, len(json.dumps(body.get("messages", []))) // 4)


# -- reply shapes --------------------------------------------------------------------------------------------------


def openai_chat_completion(
    model: str,
    content: str | None,
    *,
    refusal: str | None = None,
    logprobs: list[dict[str, Any]] | None = None,
    prompt_tokens: int = 1,
    completion_tokens: int = 1,
    reply_id: str = "chatcmpl-1",
) -> dict[str, Any]:
    """An OpenAI ``chat.completion`` with one choice (``logprobs``: the choice's ``logprobs.content`` tokens)."""
    return {
        "id": reply_id,
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "logprobs": None if logprobs is None else {"content": logprobs, "refusal": None},
                "message": {"role": "assistant", "content": content, "refusal": refusal},
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def anthropic_message(
    model: str,
    content: list[dict[str, Any]],
    *,
    stop_reason: str,
    input_tokens: int = 1,
    output_tokens: int = 1,
    reply_id: str = "msg_1",
) -> dict[str, Any]:
    """An Anthropic ``message`` (``content``: its blocks, ``text`` or ``tool_use``)."""
    return {
        "id": reply_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
    }


def openai_error(message: str, kind: str = "error") -> dict[str, Any]:
    """OpenAI's error body (the SDK maps the HTTP status to its exception class)."""
    return {"error": {"message": message, "type": kind, "code": None}}


def anthropic_error(status: int, message: str) -> dict[str, Any]:
    """Anthropic's error body, with the error type the API gives for ``status``."""
    kind = {404: "not_found_error", 429: "rate_limit_error", 529: "overloaded_error"}.get(status, "api_error")
    return {"type": "error", "error": {"type": kind, "message": message}}


def label_logprobs(text: str, label: Any, probs: dict[str, float] | None = None) -> list[dict[str, Any]]:
    """OpenAI ``logprobs.content`` tokens for a JSON reply ``text``: the label's value is one token whose top
    alternatives are ``probs`` (level -> probability; default the label with probability 1), the text before and
    after it one token each with log probability 0. The label is found as ``"label":"X"`` or ``"label": "X"``."""
    start = -1
    for needle in (f'"label":"{label}"', f'"label": "{label}"'):
        pos = text.find(needle)
        if pos >= 0:
            start = pos + len(needle) - len(f'{label}"')
            break
    if start < 0:
        return [{"token": text, "logprob": 0.0, "bytes": None, "top_logprobs": []}]
    label = str(label)
    p = probs or {label: 1.0}
    out: list[dict[str, Any]] = []
    for tok, alternatives in ((text[:start], None), (label, p), (text[start + len(label) :], None)):
        if not tok:
            continue
        if alternatives is None:
            out.append({"token": tok, "logprob": 0.0, "bytes": None, "top_logprobs": []})
            continue
        top = [{"token": k, "logprob": math.log(v), "bytes": None} for k, v in alternatives.items() if v > 0]
        out.append(
            {"token": tok, "logprob": math.log(alternatives.get(tok, 1e-9) or 1e-9), "bytes": None, "top_logprobs": top}
        )
    return out
