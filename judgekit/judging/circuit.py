"""The circuit breaker: stop a run when the same failure repeats on every call.

Why: retries are right for a failure that passes (a 500, a reset, a slow reply) and wrong for one that does not: a
server that hangs on every request, a model name the endpoint answers with 400 on every call, a proxy that resets
every connection. Retrying each item with backoff would spend minutes (a hang with ``--timeout 2`` ran 52 s for 2
items) and, for a 400, store an ``api_error`` verdict for every item, all of which a resume would then skip. The
breaker opens when ``threshold`` calls in a row, over at least ``min(3, items)`` different items, failed with the
same kind of failure (``timeout``, ``connection``, ``http_400``, ``http_500``, ``bad_response`` ...) and no call
succeeded in between. 429s are the provider pacing the run, not a failure, and never open it.

When it opens, the run stops as after Ctrl-C: calls in flight end without retry, the items of the failing streak
get no verdict (the ``api_error`` verdicts of a 400 streak are held back until a call succeeds, and dropped), and
the run is ``interrupted`` with ``stop_reason: circuit_open``, resumable once the cause is fixed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Trip:
    """Why the breaker opened."""

    kind: str
    calls: int
    items: int
    message: str

    def describe(self) -> str:
        return (
            f"the last {self.calls} calls ({self.items} items) all failed the same way ({self.kind}): "
            f"{self.message[:300]}"
        )


class CircuitBreaker:
    """Counts consecutive failures of one kind; ``threshold`` 0 never opens."""

    def __init__(self, threshold: int, items_in_run: int) -> None:
        self.threshold = threshold
        self.min_items = max(1, min(3, items_in_run))
        self.tripped: Trip | None = None
        self._kind: str | None = None
        self._calls = 0
        self._items: set[str] = set()

    def success(self) -> None:
        """A call got a reply: the streak ends."""
        self._kind, self._calls = None, 0
        self._items.clear()

    def failure(self, kind: str, item_id: str, message: str) -> bool:
        """A call failed with ``kind``; ``True`` when this opens the breaker."""
        if kind == "http_429" or self.tripped is not None or self.threshold <= 0:
            return False
        if kind != self._kind:
            self._kind, self._calls = kind, 0
            self._items.clear()
        self._calls += 1
        self._items.add(item_id)
        if self._calls >= self.threshold and len(self._items) >= self.min_items:
            self.tripped = Trip(kind, self._calls, len(self._items), message)
            return True
        return False
