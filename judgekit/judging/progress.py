"""The progress line on stderr: done/total, rate, errors by kind, cost so far, ETA.

On a terminal it redraws one line; in a log (not a tty) it prints a line every few seconds, so CI logs stay short.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from judgekit.judging.counts import Counts


def _fmt_eta(seconds: float) -> str:
    if seconds != seconds or seconds == float("inf"):
        return "?"
    s = int(seconds)
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


class Progress:
    """Shows the run's :class:`~judgekit.judging.counts.Counts`: :meth:`line` formats them; :meth:`maybe_print`
    throttles output."""

    def __init__(self, total: int, *, already: int = 0, stream: TextIO | None = None, enabled: bool = True) -> None:
        self.total = total
        self.already = already
        self.counts = Counts()
        self.start = time.monotonic()
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last = 0.0

    def update(self, counts: Counts) -> None:
        """The latest counts (redrawn at most every 0.5 s on a terminal, 5 s in a log)."""
        self.counts = counts
        self.maybe_print()

    def note(self, message: str) -> None:
        """An event worth a line of its own (a provider batch submitted, ended ...), printed at once."""
        if not self.enabled:
            return
        if self.tty:
            self.stream.write("\r\x1b[K")
        self.stream.write(message + "\n")
        self.stream.flush()

    def line(self) -> str:
        c = self.counts
        elapsed = max(1e-9, time.monotonic() - self.start)
        rate = c.done / elapsed
        remaining = self.total - self.already - c.done
        eta = remaining / rate if rate > 0 else float("inf")
        bad = {k: v for k, v in c.statuses.items() if k != "ok"}
        errs = " ".join(f"{k}={v}" for k, v in sorted({**bad, **c.errors}.items())) or "none"
        cost = f"${c.cost:.4f}" if c.cost_known else f"${c.cost:.4f}+unknown"
        return (
            f"judged {self.already + c.done}/{self.total} ({rate:.1f}/s) | errors: {errs} | "
            f"cost {cost} | cache hits {c.cache_hits} | ETA {_fmt_eta(eta)}"
        )

    def maybe_print(self, *, final: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        interval = 0.5 if self.tty else 5.0
        if not final and now - self._last < interval:
            return
        self._last = now
        if self.tty:
            self.stream.write("\r" + self.line() + ("\n" if final else ""))
        else:
            self.stream.write(self.line() + "\n")
        self.stream.flush()
