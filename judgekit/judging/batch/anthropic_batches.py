"""Anthropic Message Batches, through the ``anthropic`` SDK (``messages.batches``).

How it works (docs.anthropic.com, "Batch processing", and the SDK's ``messages.batches`` resource):

* ``messages.batches.create(requests=[{"custom_id", "params"}, ...])``: ``params`` is exactly a Messages API body;
  at most 100,000 requests or 256 MB per batch, whichever comes first; custom ids match
  ``^[a-zA-Z0-9_-]{1,64}$`` and are unique in the batch.
* ``processing_status``: ``in_progress`` -> ``canceling`` (after a cancel) -> ``ended``; a batch not done within
  24 hours ends with its unfinished requests ``expired``. ``request_counts`` (processing, succeeded, errored,
  canceled, expired) are final only once it has ended.
* Results (``results_url``, available for 29 days): one ``{"custom_id", "result": {"type": ...}}`` per request,
  in any order; ``succeeded`` (``message``: a Messages API reply), ``errored`` (``error``: an API error, e.g.
  ``invalid_request_error``), ``canceled``, ``expired``.
* The API takes no metadata, so a create whose reply was lost (a kill, a timeout) is found again by listing the
  batches made since, with as many requests, that no run of the project knows; such a *candidate* is adopted only
  once its results carry our custom ids (:attr:`verify_by_custom_ids`).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, ClassVar

from judgekit.judging.batch.api import BatchApi, Outcome, RemoteBatch, Result
from judgekit.judging.batch.store import BatchRow
from judgekit.models import canonical_json

RETRY_ERRORS = frozenset({"api_error", "overloaded_error", "rate_limit_error", "timeout_error"})
"""Error types of an ``errored`` result worth another batch (the others, e.g. ``invalid_request_error``, are not)."""
FIND_WINDOW_S = 600.0


class AnthropicBatchApi(BatchApi):
    """Message Batches (see the module docstring)."""

    name: ClassVar[str] = "anthropic"
    max_requests: ClassVar[int] = 100_000
    max_bytes: ClassVar[int] = 256 * 1000 * 1000
    verify_by_custom_ids: ClassVar[bool] = True

    async def _list_one(self) -> Any:
        return await self.client.messages.batches.list(limit=1, timeout=min(self.timeout, 30.0))

    def entry(self, custom_id: str, body: dict[str, Any]) -> bytes:
        return canonical_json({"custom_id": custom_id, "params": body}).encode()

    async def create(self, row: BatchRow, file_id: str | None, entries: list[bytes]) -> RemoteBatch:
        requests = [json.loads(e) for e in entries]
        b = await self.call("creating the batch", self.client.messages.batches.create, requests=requests)
        return self._remote(b)

    async def find_created(self, row: BatchRow, known: set[str]) -> list[str]:
        page = await self.call("listing batches", self.client.messages.batches.list, limit=100)
        since = datetime.fromisoformat(row.created_at).timestamp() - FIND_WINDOW_S
        found: list[str] = []
        async for b in page:
            created = b.created_at.timestamp()
            if created < since:
                break
            c = b.request_counts
            total = c.processing + c.succeeded + c.errored + c.canceled + c.expired
            if str(b.id) not in known and total == row.n_requests:
                found.append(str(b.id))
        return found

    async def retrieve(self, remote_id: str) -> RemoteBatch:
        return self._remote(await self.call("looking at the batch", self.client.messages.batches.retrieve, remote_id))

    async def cancel(self, remote_id: str) -> RemoteBatch:
        return self._remote(await self.call("cancelling the batch", self.client.messages.batches.cancel, remote_id))

    def _remote(self, b: Any) -> RemoteBatch:
        c = b.request_counts
        total = c.processing + c.succeeded + c.errored + c.canceled + c.expired
        return RemoteBatch(
            id=str(b.id),
            status=str(b.processing_status),
            ended=b.processing_status == "ended",
            done=total - c.processing,
            total=total,
            created_at=b.created_at.timestamp(),
            handle=b,
        )

    async def results(self, remote: RemoteBatch) -> list[Result]:
        # the raw JSONL, read with the interactive path's reader (one pydantic model per line costs CPU for nothing)
        raw = await self.call(
            "downloading batch results", self.client.messages.batches.with_raw_response.results, remote.id
        )
        data = await raw.read()
        return [_result(json.loads(line)) for line in data.splitlines() if line.strip()]


def _result(line: dict[str, Any]) -> Result:
    custom_id = str(line.get("custom_id"))
    result = line.get("result") or {}
    kind = result.get("type")
    if kind == "succeeded":
        return Result(custom_id, "ok", body=result.get("message"))
    if kind == "errored":
        err = (result.get("error") or {}).get("error") or {}
        etype = str(err.get("type") or "api_error")
        outcome: Outcome = "retry" if etype in RETRY_ERRORS else "error"
        return Result(custom_id, outcome, detail=f"{etype}: {err.get('message') or ''}".strip())
    return Result(custom_id, "retry", detail=str(kind or "no result"))
