"""Response cache in the project database (table ``llm_cache``): never pay twice for the same call.

The key is the sha256 of the canonical JSON of everything that determines the reply: provider, base URL, model,
messages, output-affecting parameters (temperature, max_tokens, seed, logprobs, extra), the reply schema, and the
sample index (so ``n`` samples are ``n`` entries, not one reply reused ``n`` times). Transport settings
(timeouts, concurrency, rate limits, keys) are not part of it: they do not change what the model says.

Every successful HTTP exchange is stored, including refusals and unreadable replies: they were paid for, and the
parser re-reads them on a rerun (a fixed parser benefits). Failed calls (429, 5xx, timeouts) are never stored.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from judgekit.judging.providers.base import ProviderReply, ProviderRequest
from judgekit.models import canonical_json
from judgekit.storage import Project, now_iso


def cache_key(provider: str, base_url: str | None, model: str, request: ProviderRequest, sample_index: int = 0) -> str:
    """sha256 hex of the canonical request."""
    body: dict[str, Any] = {
        "v": 1,
        "provider": provider,
        "base_url": (base_url or "").rstrip("/"),
        "model": model,
        "request": request.key_fields(),
        "sample": sample_index,
    }
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()


class CacheKeyer:
    """:func:`cache_key` for the requests of one run, which differ only in their messages (and sample index).

    The canonical JSON of the request is the same string around the messages for every call of a run; it is built
    once, so a key costs the serialisation of the messages and one sha256, not of the whole schema again. The keys
    are identical to :func:`cache_key` (tested), so caches written before and after stay interchangeable."""

    _MARK = "\x00judgekit-messages\x00"

    def __init__(self, provider: str, base_url: str | None, model: str, template: ProviderRequest) -> None:
        self.provider, self.base_url, self.model, self.template = provider, base_url, model, template
        self._parts: dict[int, tuple[str, str]] = {}
        self._prefix: dict[tuple[int, tuple[tuple[str, str], ...]], Any] = {}
        """sha256 state after the request's JSON up to the last message, by sample index and the (role, content) of
        the messages before it: the system prompt and few-shot turns, the same for most items of a run and the
        longest part of a request, are serialised and hashed once."""

    def _around(self, sample_index: int) -> tuple[str, str]:
        parts = self._parts.get(sample_index)
        if parts is None:
            fields = {**self.template.key_fields(), "messages": self._MARK}
            body = {
                "v": 1,
                "provider": self.provider,
                "base_url": (self.base_url or "").rstrip("/"),
                "model": self.model,
                "request": fields,
                "sample": sample_index,
            }
            text = canonical_json(body)
            mark = canonical_json(self._MARK)
            if text.count(mark) != 1:  # pragma: no cover - the marker cannot occur in a request
                raise AssertionError("cache key marker found in the request")
            before, after = text.split(mark)
            parts = self._parts[sample_index] = (before, after)
        return parts

    def key(self, messages: tuple[dict[str, str], ...] | list[dict[str, str]], sample_index: int = 0) -> str:
        """The cache key of the run's request with these ``messages``: the sha256 of ``before + canonical_json(
        messages) + after``, where the canonical form of a list is its items' forms joined by commas, so the hash of
        everything up to the last message can be kept and continued."""
        before, after = self._around(sample_index)
        head = messages[:-1]
        if not messages or any(m.keys() != {"role", "content"} for m in head):
            return hashlib.sha256((before + canonical_json(list(messages)) + after).encode()).hexdigest()
        shared = (sample_index, tuple((m["role"], m["content"]) for m in head))
        state = self._prefix.get(shared)
        if state is None:
            if len(self._prefix) >= _PREFIX_MAX:
                self._prefix.clear()
            state = hashlib.sha256((before + "[" + "".join(canonical_json(m) + "," for m in head)).encode())
            self._prefix[shared] = state
        h = state.copy()
        h.update((canonical_json(messages[-1]) + "]" + after).encode())
        return h.hexdigest()


_PREFIX_MAX = 4096
"""Prefixes kept by a :class:`CacheKeyer` (with dynamic few-shot they vary by item; beyond this many, start over)."""


_IN_CHUNK = 500
"""Keys per ``SELECT ... WHERE key IN (...)``: well under SQLite's limit on bound parameters."""


class ResponseCache:
    """Get and put replies by key; ``enabled=False`` makes every lookup a miss and stores nothing.

    :meth:`put` only buffers (a commit per call costs more than the rest of a call's bookkeeping); :meth:`flush`
    writes the buffer in one transaction. The engine flushes every ``WRITE_INTERVAL`` and before each batch of
    verdicts, so a verdict is never stored before its reply; lookups see buffered replies too."""

    def __init__(self, project: Project, *, enabled: bool = True) -> None:
        self.project = project
        self.enabled = enabled
        self.hits = 0
        self.misses = 0
        self._pending: dict[str, tuple[ProviderReply, str, str, float | None, str]] = {}
        self._written: set[str] = set()

    def get(self, key: str) -> ProviderReply | None:
        if not self.enabled:
            return None
        pending = self._pending.get(key)
        if pending is not None:
            self.hits += 1
            return pending[0]
        row = self.project.db.one("SELECT response_json FROM llm_cache WHERE key = ?", (key,))
        if row is None:
            self.misses += 1
            return None
        self.hits += 1
        return ProviderReply.from_json_dict(json.loads(row[0]))

    def get_many(self, keys: list[str]) -> dict[str, ProviderReply]:
        """The cached replies of ``keys`` (buffered ones included), in one query per 500 keys; missing keys are
        absent from the result."""
        if not self.enabled or not keys:
            return {}
        found: dict[str, ProviderReply] = {}
        rest: list[str] = []
        for k in keys:
            pending = self._pending.get(k)
            if pending is not None:
                found[k] = pending[0]
            else:
                rest.append(k)
        rest = list(dict.fromkeys(rest))
        for i in range(0, len(rest), _IN_CHUNK):
            chunk = rest[i : i + _IN_CHUNK]
            # plain tuples: a Row object per reply is a measurable share of a cached rerun
            rows = self.project.db.rows(
                f"SELECT key, response_json FROM llm_cache WHERE key IN ({','.join('?' * len(chunk))})", chunk
            )
            for key, body in rows:
                found[key] = ProviderReply.from_json_dict(json.loads(body))
        self.hits += len(found)
        self.misses += len(set(keys)) - len(found)
        return found

    def get_after_miss(self, key: str) -> ProviderReply | None:
        """:meth:`get` for a key that :meth:`get_many` found absent: only a reply this cache stored since (buffered
        or written) can be there, so the table is read only in that case."""
        if not self.enabled:
            return None
        pending = self._pending.get(key)
        if pending is not None:
            return pending[0]
        return self.get(key) if key in self._written else None

    def put(self, key: str, provider: str, model: str, reply: ProviderReply, cost_usd: float | None) -> None:
        """Buffer a reply; it is written by the next :meth:`flush`."""
        if not self.enabled:
            return
        self._pending[key] = (reply, provider, model, cost_usd, now_iso())

    @property
    def pending(self) -> int:
        """Replies buffered and not yet written."""
        return len(self._pending)

    def flush(self) -> None:
        """Write the buffered replies in one transaction."""
        if not self._pending:
            return
        rows = [
            (
                key,
                provider,
                model,
                json.dumps(reply.to_json_dict(), ensure_ascii=False),
                reply.input_tokens,
                reply.output_tokens,
                cost,
                created,
            )
            for key, (reply, provider, model, cost, created) in self._pending.items()
        ]
        with self.project.transaction() as c:
            c.executemany(
                "INSERT INTO llm_cache (key, provider, model, response_json, input_tokens,"
                " output_tokens, cost_usd, created_at) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (key) DO NOTHING",
                rows,
            )
        self._written.update(self._pending)
        self._pending.clear()

    def size(self) -> int:
        """Number of cached replies."""
        return int(self.project.db.scalar("SELECT COUNT(*) FROM llm_cache"))
