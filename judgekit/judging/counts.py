"""What a run did so far, as numbers: one typed record per engine, summed over worker processes.

The progress display, the run summary, the run's stored totals and the worker processes' reports all read this
one record, so they cannot disagree.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Counts:
    """Counters of one engine (one process), or their sum over the processes of a run."""

    done: int = 0
    """Verdicts written (this call of the run)."""
    statuses: Counter[str] = field(default_factory=Counter)
    """Verdicts written, by status (``ok``, ``parse_error``, ``refused``, ``api_error``)."""
    errors: Counter[str] = field(default_factory=Counter)
    """Failed attempts by kind (``http_429``, ``timeout`` ...), including the ones a retry recovered."""
    cost: float = 0.0
    """USD spent on calls (cache hits cost nothing)."""
    cost_known: bool = True
    """False once a call's cost could not be priced (a model missing from the price table)."""
    requests: int = 0
    """HTTP calls made."""
    cache_hits: int = 0
    """Replies served from the cache, or shared with an identical call in flight (single-flight)."""
    input_tokens: int = 0
    output_tokens: int = 0
    cpu_s: float = 0.0
    """CPU seconds the process spent in the run (the client's cost of judging)."""

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            done=self.done + other.done,
            statuses=self.statuses + other.statuses,
            errors=self.errors + other.errors,
            cost=self.cost + other.cost,
            cost_known=self.cost_known and other.cost_known,
            requests=self.requests + other.requests,
            cache_hits=self.cache_hits + other.cache_hits,
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cpu_s=self.cpu_s + other.cpu_s,
        )

    def snapshot(self) -> Counts:
        """A copy (a process reports snapshots while it keeps counting)."""
        return self + Counts()
