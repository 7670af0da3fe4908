"""The scripted LLM server (:mod:`fake_llm_server`) with the providers' batch endpoints, for tests and the benchmark.

OpenAI: ``POST /v1/files`` (multipart upload), ``GET /v1/files`` (list), ``GET /v1/files/{id}/content``,
``POST /v1/batches``, ``GET /v1/batches`` (list, newest first), ``GET /v1/batches/{id}``,
``POST /v1/batches/{id}/cancel``. Anthropic: ``POST /v1/messages/batches``, ``GET /v1/messages/batches`` (list),
``GET /v1/messages/batches/{id}``, ``GET /v1/messages/batches/{id}/results``, ``POST .../cancel``. Also under
Azure's ``/openai`` prefix with ``?api-version=``.

The server validates what the providers document (custom ids unique in a batch, Anthropic's custom-id pattern,
at most 50,000 / 100,000 requests, the endpoint of every line) and answers a 400 otherwise, so a test that passes
also shows that judgekit's batches are valid. Each request of a batch is answered with the same reply an
interactive call would get (:meth:`FakeLLMServer._respond`), unless ``request_rule`` scripts another outcome.

Scripting: each created batch takes the next :class:`BatchPlan` from ``plans`` (else the default): how many looks
it takes to end (slow completion), how it ends (``completed``, ``expired``, ``failed``) and which share of its
requests is finished then, and whether the create call's reply is lost (the batch is stored, the reply never
sent: a client killed in that window). ``hang_next_upload`` / ``hang_next_results`` do the same for one upload or
one results download, ``drop_next_create`` holds a create call without creating anything. Counters:
``submitted`` (custom id -> batches it was created in), ``paid`` (custom id ->
successful results produced), ``creates``, ``uploads``, ``looks``.
"""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import itertools
import json
import math
import random
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fake_llm_server import Action, FakeLLMServer

from judgekit.testing.llm_http import HTTPReply, json_reply

CUSTOM_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_ids = itertools.count(1)


@dataclass
class BatchPlan:
    """How one batch behaves."""

    looks: int = 1
    """Retrieves of the batch before it has ended (1: ended at the first look)."""
    outcome: str = "completed"
    """``completed``, ``expired`` (the 24 h window passed), ``failed`` (OpenAI: the file did not validate)."""
    finished: float = 1.0
    """Share of the requests finished when it ends (the others expire)."""
    lose_create_reply: bool = False
    """Store the batch but never answer the create call."""


@dataclass
class _Batch:
    api: str
    obj: dict[str, Any]
    lines: list[dict[str, Any]]
    plan: BatchPlan
    looks: int = 0
    results: bytes | None = None
    cancel: bool = False


def _http(status: int, payload: bytes, content_type: str = "application/json") -> HTTPReply:
    return HTTPReply(status, payload, content_type=content_type)


_json = json_reply


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


class BatchServer(FakeLLMServer):
    """See the module docstring."""

    def __init__(self, *, batch_endpoints: bool = True, seed: int = 0, **kw: Any) -> None:
        super().__init__(**kw)
        self.batch_endpoints = batch_endpoints
        self.plans: deque[BatchPlan] = deque()
        self.request_rule: Callable[[str, dict[str, Any], int], Action | None] | None = None
        """``rule(custom_id, body, attempt)`` (attempt: 1 for the first batch it is in) -> an :class:`Action`
        (``status``: the request fails with that HTTP status; ``text``: an unreadable reply; ``expire``: not run)
        or ``None`` (a normal reply)."""
        self.hang_next_upload = False
        self.hang_next_results = False
        self.drop_next_create = False
        """Hold the next create call without creating the batch (it never reached the provider)."""
        self.files: dict[str, dict[str, Any]] = {}
        self._contents: dict[str, bytes] = {}
        self.batches: dict[str, _Batch] = {}
        self.submitted: Counter[str] = Counter()
        self.paid: Counter[str] = Counter()
        self.creates: list[str] = []
        self.uploads: list[str] = []
        self.looks: Counter[str] = Counter()
        self.downloads: Counter[str] = Counter()
        self.cancels: list[str] = []
        self.hung = threading.Event()
        """Set when the server starts holding back a reply (``lose_create_reply``, ``hang_next_*``)."""
        self.rng = random.Random(seed)
        self.batch_lock = threading.Lock()

    # -- routing --------------------------------------------------------------------------------------------

    def batch_stats(self) -> dict[str, Any]:
        """Counts for a benchmark reading a server in another process (``GET /_batch_stats``)."""
        with self.batch_lock:
            return {
                "creates": len(self.creates),
                "uploads": len(self.uploads),
                "submitted": sum(self.submitted.values()),
                "distinct": len(self.submitted),
                "repeated": sum(n - 1 for n in self.submitted.values()),
                "paid": sum(self.paid.values()),
                "paid_twice": sum(n - 1 for n in self.paid.values()),
                "looks": sum(self.looks.values()),
                "downloads": sum(self.downloads.values()),
                "hung": self.hung.is_set(),
            }

    def reset_batches(self) -> None:
        with self.batch_lock:
            self.submitted.clear()
            self.paid.clear()
            self.creates.clear()
            self.uploads.clear()
            self.looks.clear()
            self.downloads.clear()
            self.hung.clear()

    def _control(self, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /_control``: script a server in another process (``plan`` for the next batch, ``hang_next_*``,
        ``release``: let the held batches end at their next look, ``reset``: zero the counters)."""
        with self.batch_lock:
            if "plan" in body:
                self.plans.append(BatchPlan(**body["plan"]))
            for flag in ("hang_next_upload", "hang_next_results", "drop_next_create"):
                if flag in body:
                    setattr(self, flag, bool(body[flag]))
            if body.get("release"):
                for b in self.batches.values():
                    b.plan.looks = 0
        if body.get("reset"):
            self.reset_batches()
        return self.batch_stats()

    async def route(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> HTTPReply | None:
        if path == "/_batch_stats":
            return _json(200, self.batch_stats())
        if path == "/_control" and method == "POST":
            return _json(200, self._control(json.loads(raw or b"{}")))
        url = urlsplit(path)
        p = url.path
        if p.startswith("/openai/"):  # Azure: /openai/files?api-version=...
            p = "/v1" + p[len("/openai") :]
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        batchy = p.startswith(("/v1/files", "/v1/batches", "/v1/messages/batches"))
        if not batchy:
            return None
        if not self.batch_endpoints:
            return _json(404, {"detail": "Not Found"})
        if p.startswith("/v1/messages/batches"):
            return await self._anthropic(method, p, query, raw)
        if p.startswith("/v1/files"):
            return await self._files(method, p, query, headers, raw)
        return await self._openai(method, p, query, raw)

    async def _hold(self) -> None:
        self.hung.set()
        await asyncio.sleep(3600)

    async def _maybe_drop(self) -> None:
        with self.batch_lock:
            drop, self.drop_next_create = self.drop_next_create, False
        if drop:
            await self._hold()

    # -- OpenAI files -----------------------------------------------------------------------------------------

    async def _files(
        self, method: str, p: str, query: dict[str, str], headers: dict[str, str], raw: bytes
    ) -> HTTPReply:
        parts = p.split("/")  # ['', 'v1', 'files', id?, 'content'?]
        if method == "POST" and len(parts) == 3:
            fields = _multipart(headers.get("content-type", ""), raw)
            name, content = fields["file"]
            fid = f"file-{next(_ids)}"
            obj = {
                "id": fid,
                "object": "file",
                "bytes": len(content),
                "created_at": int(time.time()),
                "filename": name,
                "purpose": fields["purpose"][1].decode(),
                "status": "processed",
            }
            with self.batch_lock:
                self.files[fid] = obj
                self._contents[fid] = content
                self.uploads.append(name)
                hang, self.hang_next_upload = self.hang_next_upload, False
            if hang:
                await self._hold()
            return _json(200, obj)
        if method == "GET" and len(parts) == 3:
            with self.batch_lock:
                data = [
                    f for f in reversed(list(self.files.values())) if f["purpose"] == query.get("purpose", f["purpose"])
                ]
            return _json(200, _page(data))
        fid = parts[3] if len(parts) > 3 else ""
        if fid not in self.files:
            return _json(404, {"error": {"message": f"No such File object: {fid}", "type": "invalid_request_error"}})
        if method == "GET" and len(parts) == 5 and parts[4] == "content":
            with self.batch_lock:
                self.downloads[fid] += 1
                hang, self.hang_next_results = self.hang_next_results, False
            if hang:
                await self._hold()
            return _http(200, self._contents[fid], "application/octet-stream")
        return _json(200, self.files[fid])

    def _new_file(self, content: bytes, purpose: str) -> str:
        fid = f"file-{next(_ids)}"
        self.files[fid] = {
            "id": fid,
            "object": "file",
            "bytes": len(content),
            "created_at": int(time.time()),
            "filename": f"{purpose}.jsonl",
            "purpose": purpose,
            "status": "processed",
        }
        self._contents[fid] = content
        return fid

    # -- OpenAI batches ---------------------------------------------------------------------------------------

    async def _openai(self, method: str, p: str, query: dict[str, str], raw: bytes) -> HTTPReply:
        parts = p.split("/")  # ['', 'v1', 'batches', id?, 'cancel'?]
        if method == "POST" and len(parts) == 3:
            await self._maybe_drop()
            body = json.loads(raw)
            fid = body.get("input_file_id")
            if fid not in self._contents:
                return _json(400, {"error": {"message": f"no input file {fid}", "type": "invalid_request_error"}})
            lines = [json.loads(x) for x in self._contents[fid].splitlines() if x.strip()]
            problem = _check_lines(lines, body.get("endpoint"), 50_000, pattern=None)
            if problem:
                return _json(400, {"error": {"message": problem, "type": "invalid_request_error"}})
            now = int(time.time())
            bid = f"batch_{next(_ids)}"
            obj = {
                "id": bid,
                "object": "batch",
                "endpoint": body["endpoint"],
                "errors": None,
                "input_file_id": fid,
                "completion_window": body.get("completion_window"),
                "status": "validating",
                "output_file_id": None,
                "error_file_id": None,
                "created_at": now,
                "in_progress_at": None,
                "expires_at": now + 86400,
                "request_counts": {"total": len(lines), "completed": 0, "failed": 0},
                "metadata": body.get("metadata"),
            }
            plan = self._created(bid, "openai", obj, lines)
            if plan.lose_create_reply:
                await self._hold()
            return _json(200, obj)
        if method == "GET" and len(parts) == 3:
            with self.batch_lock:
                data = [b.obj for b in reversed(list(self.batches.values())) if b.api == "openai"]
            return _json(200, _page(data[: int(query.get("limit", 20))]))
        b = self.batches.get(parts[3]) if len(parts) > 3 else None
        if b is None or b.api != "openai":
            return _json(404, {"error": {"message": "No such batch", "type": "invalid_request_error"}})
        if method == "POST" and parts[-1] == "cancel":
            with self.batch_lock:
                self.cancels.append(b.obj["id"])
                if b.obj["status"] not in ("completed", "expired", "failed", "cancelled"):
                    b.cancel = True
                    b.obj["status"] = "cancelling"
            return _json(200, b.obj)
        with self.batch_lock:
            self.looks[b.obj["id"]] += 1
            self._advance(b)
            return _json(200, b.obj)

    def _created(self, bid: str, api: str, obj: dict[str, Any], lines: list[dict[str, Any]]) -> BatchPlan:
        with self.batch_lock:
            plan = self.plans.popleft() if self.plans else BatchPlan()
            self.batches[bid] = _Batch(api, obj, lines, plan)
            self.creates.append(bid)
            for line in lines:
                self.submitted[line["custom_id"]] += 1
        return plan

    def _run_requests(self, b: _Batch, finished: int) -> list[tuple[str, str, Any]]:
        """``(custom_id, kind, payload)`` per request: ``ok`` (a reply body), ``http`` ((status, message)),
        ``expired`` (not run)."""
        out: list[tuple[str, str, Any]] = []
        for i, line in enumerate(b.lines):
            cid = line["custom_id"]
            body = line["body"] if b.api == "openai" else line["params"]
            action = self.request_rule(cid, body, self.submitted[cid]) if self.request_rule else None
            if i >= finished or (action is not None and action.kind == "expire"):
                out.append((cid, "expired", None))
                continue
            if action is not None and action.kind == "status":
                out.append((cid, "http", (action.status, f"status {action.status}")))
                continue
            path = "/v1/messages" if b.api == "anthropic" else "/v1/chat/completions"
            _, _, payload = self._respond(path, body, action or Action())
            self.paid[cid] += 1
            out.append((cid, "ok", json.loads(payload)))
        self.rng.shuffle(out)  # results come in any order
        return out

    def _advance(self, b: _Batch) -> None:
        """One look at an OpenAI batch: ``validating`` -> ``in_progress`` -> ended after ``plan.looks`` looks."""
        o = b.obj
        if o["status"] in ("completed", "expired", "failed", "cancelled"):
            return
        b.looks += 1
        if o["status"] == "validating":
            o["status"] = "in_progress"
            o["in_progress_at"] = int(time.time())
        total = len(b.lines)
        if not b.cancel and b.looks < b.plan.looks:
            o["request_counts"]["completed"] = total * b.looks // (b.plan.looks + 1)
            return
        now = int(time.time())
        if b.plan.outcome == "failed" and not b.cancel:
            o.update(status="failed", failed_at=now)
            o["errors"] = {"object": "list", "data": [{"code": "invalid_request", "message": "scripted failure"}]}
            return
        share = b.plan.finished if (b.cancel or b.plan.outcome == "expired") else 1.0
        runs = self._run_requests(b, math.ceil(total * share))
        code = "batch_cancelled" if b.cancel else "batch_expired"
        ok, err = [], []
        for cid, kind, payload in runs:
            rid = f"batch_req_{next(_ids)}"
            if kind == "ok":
                ok.append(
                    {
                        "id": rid,
                        "custom_id": cid,
                        "response": {"status_code": 200, "request_id": rid, "body": payload},
                        "error": None,
                    }
                )
            elif kind == "http":
                status, msg = payload
                body = {"error": {"message": msg, "type": "server_error" if status >= 500 else "invalid_request_error"}}
                err.append(
                    {
                        "id": rid,
                        "custom_id": cid,
                        "response": {"status_code": status, "request_id": rid, "body": body},
                        "error": None,
                    }
                )
            else:
                err.append(
                    {
                        "id": rid,
                        "custom_id": cid,
                        "response": None,
                        "error": {
                            "code": code,
                            "message": "This request could not be executed before the completion window expired.",
                        },
                    }
                )
        o["output_file_id"] = (
            self._new_file(b"".join(json.dumps(x).encode() + b"\n" for x in ok), "batch_output") if ok else None
        )
        o["error_file_id"] = (
            self._new_file(b"".join(json.dumps(x).encode() + b"\n" for x in err), "batch_output") if err else None
        )
        o["request_counts"] = {"total": total, "completed": len(ok), "failed": len(err)}
        status = "cancelled" if b.cancel else ("expired" if b.plan.outcome == "expired" else "completed")
        o["status"] = status
        o[f"{status}_at"] = now

    # -- Anthropic message batches ----------------------------------------------------------------------------

    async def _anthropic(self, method: str, p: str, query: dict[str, str], raw: bytes) -> HTTPReply:
        parts = p.split("/")  # ['', 'v1', 'messages', 'batches', id?, 'results'|'cancel'?]
        if method == "POST" and len(parts) == 4:
            await self._maybe_drop()
            lines = json.loads(raw).get("requests") or []
            problem = _check_lines(lines, None, 100_000, pattern=CUSTOM_ID)
            if problem:
                return _json(400, {"type": "error", "error": {"type": "invalid_request_error", "message": problem}})
            now = time.time()
            bid = f"msgbatch_{next(_ids):06d}"
            obj = {
                "id": bid,
                "type": "message_batch",
                "processing_status": "in_progress",
                "request_counts": {"processing": len(lines), "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0},
                "ended_at": None,
                "created_at": _iso(now),
                "expires_at": _iso(now + 86400),
                "archived_at": None,
                "cancel_initiated_at": None,
                "results_url": None,
            }
            plan = self._created(bid, "anthropic", obj, lines)
            if plan.lose_create_reply:
                await self._hold()
            return _json(200, obj)
        if method == "GET" and len(parts) == 4:
            with self.batch_lock:
                data = [b.obj for b in reversed(list(self.batches.values())) if b.api == "anthropic"]
            limit = int(query.get("limit", 20))
            return _json(200, {"data": data[:limit], "has_more": len(data) > limit, "first_id": None, "last_id": None})
        b = self.batches.get(parts[4])
        if b is None or b.api != "anthropic":
            return _json(404, {"type": "error", "error": {"type": "not_found_error", "message": "no such batch"}})
        if method == "POST" and parts[-1] == "cancel":
            with self.batch_lock:
                self.cancels.append(b.obj["id"])
                if b.obj["processing_status"] != "ended":
                    b.cancel = True
                    b.obj["processing_status"] = "canceling"
                    b.obj["cancel_initiated_at"] = _iso(time.time())
            return _json(200, b.obj)
        if parts[-1] == "results":
            with self.batch_lock:
                self.downloads[b.obj["id"]] += 1
                hang, self.hang_next_results = self.hang_next_results, False
                data = b.results
            if hang:
                await self._hold()
            if data is None:
                return _json(400, {"type": "error", "error": {"type": "invalid_request_error", "message": "not ended"}})
            return _http(200, data, "application/binary")
        with self.batch_lock:
            self.looks[b.obj["id"]] += 1
            self._advance_anthropic(b)
            return _json(200, b.obj)

    def _advance_anthropic(self, b: _Batch) -> None:
        o = b.obj
        if o["processing_status"] == "ended":
            return
        b.looks += 1
        if not b.cancel and b.looks < b.plan.looks:
            return
        total = len(b.lines)
        share = b.plan.finished if (b.cancel or b.plan.outcome == "expired") else 1.0
        runs = self._run_requests(b, math.ceil(total * share))
        counts = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
        lines = []
        for cid, kind, payload in runs:
            if kind == "ok":
                result: dict[str, Any] = {"type": "succeeded", "message": payload}
                counts["succeeded"] += 1
            elif kind == "http":
                status, msg = payload
                etype = "api_error" if status >= 500 else "invalid_request_error"
                result = {"type": "errored", "error": {"type": "error", "error": {"type": etype, "message": msg}}}
                counts["errored"] += 1
            else:
                result = {"type": "canceled" if b.cancel else "expired"}
                counts["canceled" if b.cancel else "expired"] += 1
            lines.append({"custom_id": cid, "result": result})
        b.results = b"".join(json.dumps(x).encode() + b"\n" for x in lines)
        o.update(
            processing_status="ended",
            request_counts=counts,
            ended_at=_iso(time.time()),
            results_url=f"http://127.0.0.1:{self.port}/v1/messages/batches/{o['id']}/results",
        )


def _page(data: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "object": "list",
        "data": data,
        "has_more": False,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
    }


def _check_lines(lines: list[dict[str, Any]], endpoint: str | None, limit: int, pattern: re.Pattern[str] | None) -> str:
    """What the provider would refuse about a batch's requests ('' if nothing)."""
    if not lines:
        return "a batch needs at least one request"
    if len(lines) > limit:
        return f"{len(lines)} requests: at most {limit} per batch"
    ids = [line.get("custom_id") for line in lines]
    if len(set(ids)) != len(ids):
        return "custom_id values must be unique within a batch"
    for line in lines:
        cid = str(line.get("custom_id"))
        if pattern is not None and not pattern.match(cid):
            return f"custom_id {cid!r} does not match {pattern.pattern}"
        if endpoint is not None and (line.get("url") != endpoint or line.get("method") != "POST"):
            return f"line with custom_id {cid}: url {line.get('url')!r} is not the batch's endpoint {endpoint!r}"
        if pattern is not None and not isinstance(line.get("params"), dict):
            return f"request {cid}: params must be a Messages API body"
    return ""


def _multipart(content_type: str, raw: bytes) -> dict[str, tuple[str, bytes]]:
    """Fields of a ``multipart/form-data`` body: name -> (filename or '', content)."""
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw
    )
    out: dict[str, tuple[str, bytes]] = {}
    for part in msg.iter_parts():  # type: ignore[attr-defined]
        name = part.get_param("name", header="content-disposition")
        out[str(name)] = (part.get_filename() or "", part.get_payload(decode=True) or b"")
    return out


def main() -> None:  # pragma: no cover - the benchmark's server: python tests/judging/batch_server.py
    import sys

    srv = BatchServer()
    srv.record = False
    srv.start()
    print(srv.openai_url, flush=True)
    srv.serve_until_stopped()
    sys.exit(0)


if __name__ == "__main__":  # pragma: no cover
    main()
