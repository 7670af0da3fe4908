"""The OpenAI Batch API (with the Files API), through the ``openai`` SDK: OpenAI, Azure OpenAI, and
OpenAI-compatible servers that implement it.

How it works (platform.openai.com/docs/guides/batch, and the SDK's ``files`` / ``batches`` resources):

1. The requests go into a JSONL file, one ``{"custom_id", "method": "POST", "url": "/v1/chat/completions", "body"}``
   per line (Azure: ``url`` ``/chat/completions`` and the deployment as ``model``), uploaded with
   ``files.create(purpose="batch")``: at most 50,000 requests and 200 MB per file. custom ids must be unique in
   a batch. judgekit names the file ``judgekit-{local id}.jsonl``, so an upload whose reply was lost is found again.
2. ``batches.create(input_file_id, endpoint, completion_window="24h", metadata={"judgekit_batch": local id})``;
   a create whose reply was lost is found again by ``batches.list`` (newest first) with that input file or metadata.
3. The batch goes ``validating`` -> ``in_progress`` -> ``finalizing`` -> ``completed``; or ``failed`` (the file did
   not validate: ``errors``), ``expired`` (not done within 24 h: finished requests are in the output file, the
   others in the error file as ``batch_expired``), ``cancelling`` -> ``cancelled`` (likewise).
4. ``output_file_id``: one ``{"custom_id", "response": {"status_code": 200, "body": ...}, "error": null}`` per
   finished request; ``error_file_id``: failed ones (``response`` with a 4xx/5xx ``status_code``, or ``error``
   with a ``code``). Lines come in any order.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from judgekit.judging.batch.api import BatchApi, Outcome, RemoteBatch, Result, classify_http
from judgekit.judging.batch.store import BatchRow
from judgekit.models import canonical_json

ENDED = frozenset({"completed", "expired", "cancelled", "failed"})
RETRY_CODES = frozenset({"batch_expired", "batch_cancelled", "rate_limit_exceeded", "server_error", "timeout"})
"""Error codes of a request that did not run (or failed on the provider's side): worth another batch."""
FIND_WINDOW_S = 600.0
"""How far before a batch row was made :meth:`OpenAIBatchApi.find_created` looks (clock skew, queueing)."""


def file_name(row: BatchRow) -> str:
    return f"judgekit-{row.id}.jsonl"


class OpenAIBatchApi(BatchApi):
    """Files API + Batch API (see the module docstring)."""

    name: ClassVar[str] = "openai"
    max_requests: ClassVar[int] = 50_000
    max_bytes: ClassVar[int] = 200 * 1024 * 1024
    uploads: ClassVar[bool] = True

    @property
    def endpoint(self) -> str:
        return str(getattr(self.adapter, "batch_url", "/v1/chat/completions"))

    async def _list_one(self) -> Any:
        return await self.client.batches.list(limit=1, timeout=min(self.timeout, 30.0))

    def entry(self, custom_id: str, body: dict[str, Any]) -> bytes:
        line = {"custom_id": custom_id, "method": "POST", "url": self.endpoint, "body": body}
        return canonical_json(line).encode()

    async def upload(self, row: BatchRow, entries: list[bytes]) -> str | None:
        data = b"\n".join(entries) + b"\n"
        f = await self.call(
            "uploading the batch file",
            self.client.files.create,
            file=(file_name(row), data, "application/jsonl"),
            purpose="batch",
        )
        return str(f.id)

    async def find_upload(self, row: BatchRow) -> str | None:
        name = file_name(row)
        page = await self.call("listing files", self.client.files.list, purpose="batch", limit=100)
        async for f in page:
            if getattr(f, "filename", None) == name and getattr(f, "status", "processed") != "error":
                return str(f.id)
            if f.created_at and f.created_at < _epoch(row.created_at) - FIND_WINDOW_S:
                break
        return None

    async def create(self, row: BatchRow, file_id: str | None, entries: list[bytes]) -> RemoteBatch:
        assert file_id is not None
        b = await self.call(
            "creating the batch",
            self.client.batches.create,
            input_file_id=file_id,
            endpoint=self.endpoint,
            completion_window="24h",
            metadata={"judgekit_batch": row.id},
        )
        return self._remote(b)

    async def find_created(self, row: BatchRow, known: set[str]) -> list[str]:
        page = await self.call("listing batches", self.client.batches.list, limit=100)
        since = _epoch(row.created_at) - FIND_WINDOW_S
        async for b in page:
            meta = b.metadata or {}
            if (row.file_id and b.input_file_id == row.file_id) or meta.get("judgekit_batch") == row.id:
                return [str(b.id)]
            if b.created_at and b.created_at < since:
                break
        return []

    async def retrieve(self, remote_id: str) -> RemoteBatch:
        return self._remote(await self.call("looking at the batch", self.client.batches.retrieve, remote_id))

    async def cancel(self, remote_id: str) -> RemoteBatch:
        return self._remote(await self.call("cancelling the batch", self.client.batches.cancel, remote_id))

    def _remote(self, b: Any) -> RemoteBatch:
        counts = b.request_counts
        errors = [e.message or e.code or "" for e in ((b.errors.data or []) if b.errors else [])]
        return RemoteBatch(
            id=str(b.id),
            status=str(b.status),
            ended=b.status in ENDED,
            failed=b.status == "failed",
            done=(counts.completed + counts.failed) if counts else 0,
            total=counts.total if counts else 0,
            created_at=float(b.created_at or 0),
            error="; ".join(e for e in errors if e)[:500] or None,
            handle=b,
        )

    async def _file_lines(self, file_id: str | None) -> list[dict[str, Any]]:
        if not file_id:
            return []
        content = await self.call("downloading batch results", self.client.files.content, file_id)
        return [json.loads(line) for line in content.content.splitlines() if line.strip()]

    async def results(self, remote: RemoteBatch) -> list[Result]:
        b = remote.handle
        out: list[Result] = []
        for line in [*await self._file_lines(b.output_file_id), *await self._file_lines(b.error_file_id)]:
            out.append(_result(line))
        return out


def _result(line: dict[str, Any]) -> Result:
    """One line of an output or error file."""
    custom_id = str(line.get("custom_id"))
    response = line.get("response") or {}
    error = line.get("error") or {}
    status = response.get("status_code")
    if status == 200 and not error:
        return Result(custom_id, "ok", body=response.get("body"))
    if error and not status:
        code = str(error.get("code") or "")
        outcome: Outcome = "retry" if code in RETRY_CODES or not code else "error"
        return Result(custom_id, outcome, detail=f"{code}: {error.get('message') or ''}".strip())
    body = response.get("body") or {}
    message = (body.get("error") or {}).get("message") if isinstance(body, dict) else None
    outcome, detail = classify_http(status, str(message or error.get("message") or ""))
    return Result(custom_id, outcome, detail=detail)


def _epoch(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso).timestamp()
