"""The money a run may commit (``--max-cost``), shared by every worker process of the run.

Why shared: with ``--workers N`` each process used to stop at ``max_cost / N``, so a run stopped as soon as the
process with the dearest items reached its share, with the others' shares unspent. One budget in shared memory
(two doubles behind one lock) lets every process draw on the whole amount, and the run stops when the run's total
would pass it, as with one process.

The rule is the engine's: an item is started only if ``spent + reserved + estimate <= limit``, where ``reserved``
is the estimated cost of the items in flight (in every process) and ``spent`` the cost of the calls made so far; an
item in flight always finishes. A reservation is released when its item ends, and each call's real cost is added to
``spent`` as it arrives.
"""

from __future__ import annotations

import contextlib
from typing import Any

_SPENT, _RESERVED = 0, 1


class Budget:
    """``limit`` (USD, ``None`` for no limit) over the calls of one run, in this process or (``cell``: a
    ``multiprocessing`` ``Array("d", 2)``) in every process that holds the same cell."""

    def __init__(self, limit: float | None, cell: Any = None) -> None:
        self.limit = limit
        self._cell = cell
        self._local = [0.0, 0.0]

    def _lock(self) -> Any:
        return self._cell.get_lock() if self._cell is not None else contextlib.nullcontext()

    def _values(self) -> Any:
        return self._cell if self._cell is not None else self._local

    def try_reserve(self, estimate: float) -> bool:
        """Reserve ``estimate`` for an item about to start; ``False`` (nothing reserved) if that would pass the
        limit."""
        with self._lock():
            v = self._values()
            if self.limit is not None and v[_SPENT] + v[_RESERVED] + estimate > self.limit:
                return False
            v[_RESERVED] += estimate
            return True

    def hold(self, estimate: float) -> None:
        """Reserve ``estimate`` whatever the limit: money already committed (a provider batch submitted earlier,
        billed when it ends), so that no further work starts on it."""
        with self._lock():
            self._values()[_RESERVED] += estimate

    def release(self, estimate: float) -> None:
        """The item that reserved ``estimate`` has ended."""
        with self._lock():
            v = self._values()
            v[_RESERVED] = max(0.0, v[_RESERVED] - estimate)

    def spend(self, cost: float) -> None:
        """A call cost ``cost``."""
        with self._lock():
            self._values()[_SPENT] += cost

    @property
    def spent(self) -> float:
        """Spent so far by every process sharing the budget."""
        with self._lock():
            return float(self._values()[_SPENT])

    @property
    def reserved(self) -> float:
        """Estimated cost of the items in flight in every process sharing the budget."""
        with self._lock():
            return float(self._values()[_RESERVED])
