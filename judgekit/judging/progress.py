"""The progress display on stderr: done/total, rate, errors by kind, cost so far, cache hits, ETA.

On a terminal it is a live display drawn with ``rich`` (a bar and two lines, cut to the terminal's width so that
nothing wraps at 80 columns); in a log (not a tty) it prints one plain line every few seconds, so CI logs stay short
and greppable. Events worth a line of their own (:meth:`Progress.note`) are printed above the live display.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from rich.console import Console, Group
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from judgekit.judging.counts import Counts

MIN_BAR = 10
"""Columns below which the bar is left out (the figures matter more)."""
MAX_BAR = 40


def _fmt_eta(seconds: float) -> str:
    if seconds != seconds or seconds == float("inf"):
        return "?"
    s = int(seconds)
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


class Progress:
    """Shows the run's :class:`~judgekit.judging.counts.Counts`: :meth:`line` formats them as one plain line,
    :meth:`renderable` as the live display; :meth:`maybe_print` throttles output."""

    def __init__(self, total: int, *, already: int = 0, stream: TextIO | None = None, enabled: bool = True) -> None:
        self.total = total
        self.already = already
        self.counts = Counts()
        self.start = time.monotonic()
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last = 0.0
        self._live: Live | None = None
        self._console: Console | None = None

    def update(self, counts: Counts) -> None:
        """The latest counts (redrawn at most every 0.5 s on a terminal, 5 s in a log)."""
        self.counts = counts
        self.maybe_print()

    def note(self, message: str) -> None:
        """An event worth a line of its own (a provider batch submitted, ended ...), printed at once."""
        if not self.enabled:
            return
        if self.tty:
            self._terminal().print(Text(message), soft_wrap=True)
            return
        self.stream.write(message + "\n")
        self.stream.flush()

    # -- what is shown ---------------------------------------------------------------------------------------

    def _figures(self) -> tuple[int, float, str, str, str]:
        c = self.counts
        elapsed = max(1e-9, time.monotonic() - self.start)
        rate = c.done / elapsed
        remaining = self.total - self.already - c.done
        eta = _fmt_eta(remaining / rate if rate > 0 else float("inf"))
        bad = {k: v for k, v in c.statuses.items() if k != "ok"}
        errs = " ".join(f"{k}={v}" for k, v in sorted({**bad, **c.errors}.items())) or "none"
        cost = f"${c.cost:.4f}" if c.cost_known else f"${c.cost:.4f}+unknown"
        return self.already + c.done, rate, eta, errs, cost

    def line(self) -> str:
        done, rate, eta, errs, cost = self._figures()
        return (
            f"judged {done}/{self.total} ({rate:.1f}/s) | errors: {errs} | "
            f"cost {cost} | cache hits {self.counts.cache_hits} | ETA {eta}"
        )

    def renderable(self, width: int) -> Group:
        """The live display for a terminal ``width`` columns wide: a bar with done/total, percentage, rate and
        ETA, then errors by kind, cost and cache hits; each line cut (with an ellipsis) rather than wrapped."""
        done, rate, eta, errs, cost = self._figures()
        pct = 100.0 * done / self.total if self.total else 100.0
        figures = Text(f" {done}/{self.total} {pct:3.0f}% {rate:.1f}/s ETA {eta}", no_wrap=True, overflow="ellipsis")
        bar_width = min(MAX_BAR, width - len(figures.plain))
        top = Table.grid(padding=0)
        if bar_width >= MIN_BAR:
            top.add_column(width=bar_width, no_wrap=True)
            top.add_column(no_wrap=True, overflow="ellipsis")
            top.add_row(ProgressBar(total=max(1, self.total), completed=done, width=bar_width), figures)
        else:
            top.add_column(no_wrap=True, overflow="ellipsis")
            top.add_row(Text(f"judged{figures.plain}", no_wrap=True, overflow="ellipsis"))
        rest = Text(
            f"errors: {errs} | cost {cost} | cache hits {self.counts.cache_hits}", no_wrap=True, overflow="ellipsis"
        )
        rest.truncate(width, overflow="ellipsis")
        return Group(top, rest)

    # -- drawing ---------------------------------------------------------------------------------------------

    def _terminal(self) -> Console:
        if self._console is None:
            self._console = Console(file=self.stream, force_terminal=True, highlight=False)
        return self._console

    def maybe_print(self, *, final: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        interval = 0.5 if self.tty else 5.0
        if not final and now - self._last < interval:
            return
        self._last = now
        if not self.tty:
            self.stream.write(self.line() + "\n")
            self.stream.flush()
            return
        console = self._terminal()
        if self._live is None:
            self._live = Live(
                console=console, auto_refresh=False, redirect_stdout=False, redirect_stderr=False, transient=False
            )
            self._live.start()
        self._live.update(self.renderable(console.width), refresh=True)
        if final:
            self._live.stop()
            self._live = None
