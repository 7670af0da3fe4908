"""Figures of the trust report, as matplotlib ``Figure`` objects (Agg, no pyplot, no global state).

Why a module of its own: the HTML report and the labeling app's admin page draw the same plots from the same
assessment data, so each function takes typed assessment fields (:class:`~judgekit.stats.StatResult` figures
and the assessment's records) and returns a figure; :func:`svg_text` turns it into inline SVG. matplotlib is
imported inside the functions so ``import judgekit`` (and the CLI's start-up) never pays for it.

Example (in the admin page or a notebook)::

    from judgekit.report import figures
    fig = figures.confusion_figure(assessment.confusion)
    html = figures.svg_text(fig)
"""

from __future__ import annotations

import base64
import io
import math
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from judgekit.agreement import NO_VERDICT, CalibrationFigures, GroupResult, TrustAssessment
from judgekit.agreement.evidence import Confusion
from judgekit.stats import StatResult

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure as MplFigure

__all__ = [
    "COLORS",
    "assessment_figures",
    "comparison_figure",
    "confusion_figure",
    "forest_figure",
    "png_data_uri",
    "reliability_figure",
    "risk_coverage_figure",
    "svg_text",
]

COLORS = {
    "judge": "#0969da",
    "human": "#8250df",
    "pass": "#1a7f37",
    "fail": "#cf222e",
    "inconclusive": "#9a6700",
    "muted": "#6e7781",
    "grid": "#d0d7de",
    "text": "#1f2328",
}
"""Palette shared with the HTML report's CSS (GitHub Primer colours: readable, colour-blind friendly pairs)."""

_RC: Any = {  # Any: matplotlib types rc keys as a Literal union
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Helvetica", "Arial"],
    "font.size": 9.5,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.edgecolor": COLORS["grid"],
    "axes.labelcolor": COLORS["text"],
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.color": COLORS["text"],
    "ytick.color": COLORS["text"],
    "text.color": COLORS["text"],
    "svg.fonttype": "none",
    "svg.hashsalt": None,
}


@contextmanager
def _style() -> Iterator[None]:
    import matplotlib

    with matplotlib.rc_context(_RC):
        yield


def _new(width: float, height: float, nrows: int = 1, **kw: Any) -> tuple[MplFigure, list[Axes]]:
    from matplotlib.figure import Figure as MplFigure

    fig = MplFigure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(nrows, 1, squeeze=False, **kw)[:, 0].tolist()
    return fig, axes


def svg_text(fig: MplFigure) -> str:
    """The figure as an ``<svg>`` element to inline in HTML: no XML prolog, no DOCTYPE, no metadata, and
    a fluid width (it shrinks with the page, never grows beyond its natural size).

    Text stays text (``svg.fonttype = none``), so the page is smaller and its labels are searchable; matplotlib
    escapes that text, so a segment named ``<script>`` cannot inject markup.
    """
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None}, facecolor="white")
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, count=1, flags=re.S)
    m = re.match(r'<svg([^>]*?)\swidth="([\d.]+)pt"\s+height="([\d.]+)pt"', svg)
    if m:
        width = float(m.group(2))
        svg = (
            f'<svg{m.group(1)} class="jk-figure" role="img" '
            f'style="width:100%;max-width:{width * 4 / 3:.0f}px;height:auto"' + svg[m.end() :]
        )
    return svg


def png_data_uri(fig: MplFigure, dpi: int = 144) -> str:
    """The figure as a ``data:image/png;base64,...`` URI, for places that cannot take inline SVG (e-mail)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _finite(x: float | None) -> bool:
    return x is not None and not math.isnan(x)


def _bounds(f: StatResult) -> tuple[float, float]:
    """The interval of ``f``, or the point itself when there is none."""
    lo = f.low if f.low is not None and not math.isnan(f.low) else f.value
    hi = f.high if f.high is not None and not math.isnan(f.high) else f.value
    return lo, hi


def confusion_figure(confusion: Confusion, *, title: str = "Reference label vs judge") -> MplFigure:
    """Heatmap of ``TrustAssessment.confusion``: rows are the reference label, columns the judge's.

    Cells show counts and the share of the row, coloured by that share, so a judge that turns ties into
    wins (or the reverse) shows as a dark off-diagonal cell whatever the class sizes. The ``<no verdict>``
    column appears only when the judge had failed verdicts.
    """
    import numpy as np

    matrix = np.asarray(confusion.matrix, dtype=float)
    with _style():
        if matrix.size == 0:
            fig, (ax,) = _new(4.0, 1.2)
            ax.axis("off")
            ax.text(0, 0.5, "no items with a reference label", color=COLORS["muted"])
            return fig
        rows = list(range(len(confusion.rows)))
        cols = [j for j, lv in enumerate(confusion.columns) if lv != NO_VERDICT or matrix[:, j].sum() > 0]
        m = matrix[np.ix_(rows, cols)]
        share = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
        k = max(len(cols), 2)
        fig, (ax,) = _new(1.2 + 1.05 * k, 0.9 + 0.8 * len(rows))
        ax.imshow(share, cmap="Blues", vmin=0, vmax=1, aspect="auto")
        for i in range(len(rows)):
            for j in range(len(cols)):
                dark = share[i, j] > 0.55
                ax.text(
                    j,
                    i,
                    f"{int(m[i, j])}\n{share[i, j]:.0%}",
                    ha="center",
                    va="center",
                    fontsize=9,
                    color="white" if dark else COLORS["text"],
                    fontweight="bold" if rows[i] == cols[j] else "normal",
                )
        names = ["no verdict" if lv == NO_VERDICT else str(lv) for lv in confusion.columns]
        ax.set_xticks(range(len(cols)), [names[j] for j in cols])
        ax.set_yticks(range(len(rows)), [str(confusion.rows[i]) for i in rows])
        ax.set_xlabel("judge")
        ax.set_ylabel("reference label")
        ax.xaxis.set_label_position("top")
        ax.xaxis.tick_top()
        for side in ("top", "right", "bottom", "left"):
            ax.spines[side].set_visible(False)
        ax.tick_params(length=0)
        ax.set_title(title, pad=8)
    return fig


def _not_available(text: str) -> MplFigure:
    with _style():
        fig, (ax,) = _new(5.0, 0.8)
        ax.axis("off")
        ax.text(0, 0.5, text, color=COLORS["muted"], va="center")
    return fig


def reliability_figure(calibration: CalibrationFigures, *, title: str = "Reliability diagram") -> MplFigure:
    """Observed accuracy per confidence bin against the diagonal (perfect calibration), with the bin counts
    below; bars under the diagonal are over-confidence. A figure saying "not available" when the judge reports
    no confidence, rather than an invented curve."""
    rel = calibration.reliability
    if not calibration.available or rel is None:
        return _not_available(f"Reliability diagram not available: {calibration.reason or 'no confidence'}")
    edges = [float(e) for e in rel.bin_edges]
    acc = [float(a) for a in rel.accuracy]
    conf = [float(c) for c in rel.mean_confidence]
    counts = [int(c) for c in rel.counts]
    width = [edges[i + 1] - edges[i] for i in range(len(counts))]
    with _style():
        fig, (ax, axc) = _new(4.6, 4.4, nrows=2, gridspec_kw={"height_ratios": [3, 1]}, sharex=True)
        ax.plot([0, 1], [0, 1], ls="--", color=COLORS["muted"], lw=1, label="perfect calibration")
        shown = [i for i, c in enumerate(counts) if c > 0]
        ax.bar(
            [edges[i] for i in shown],
            [acc[i] for i in shown],
            width=[width[i] for i in shown],
            align="edge",
            color=COLORS["judge"],
            alpha=0.75,
            edgecolor="white",
            label="observed accuracy",
        )
        ax.plot(
            [conf[i] for i in shown],
            [acc[i] for i in shown],
            "o",
            color=COLORS["text"],
            ms=3.5,
            label="mean confidence",
        )
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_ylabel("accuracy vs reference label")
        ece = calibration.ece
        ax.set_title(title + (f"  (ECE {ece.value:.3f}, n={ece.n_items})" if ece is not None else ""))
        ax.legend(loc="upper left", frameon=False, fontsize=8)
        ax.grid(color=COLORS["grid"], lw=0.5)
        axc.bar(edges[:-1], counts, width=width, align="edge", color=COLORS["muted"], edgecolor="white")
        axc.set_ylabel("items")
        axc.set_xlabel("judge confidence")
    return fig


def risk_coverage_figure(calibration: CalibrationFigures, *, title: str = "Risk vs coverage") -> MplFigure:
    """Error rate among the items the judge is most confident about, as more items are kept: a useful
    confidence gives a curve rising from near 0; a flat curve means confidence does not separate right from
    wrong, so routing low-confidence items to people would not help."""
    rc = calibration.risk_coverage
    if not calibration.available or rc is None:
        return _not_available(f"Risk-coverage curve not available: {calibration.reason or 'no confidence'}")
    cov = [0.0, *[float(c) for c in rc.coverage]]
    risk = [float(rc.risk[0]) if rc.risk else 0.0, *[float(r) for r in rc.risk]]
    with _style():
        fig, (ax,) = _new(4.6, 3.2)
        ax.step(cov, risk, where="post", color=COLORS["judge"], lw=1.8, label="judge, most confident first")
        if risk:
            ax.axhline(risk[-1], ls="--", color=COLORS["muted"], lw=1, label=f"all items ({risk[-1]:.1%} wrong)")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, max(0.05, max(risk) * 1.15))
        ax.set_xlabel("coverage (share of items kept)")
        ax.set_ylabel("error rate among kept items")
        ax.set_title(title)
        ax.legend(loc="upper left", frameon=False, fontsize=8)
        ax.grid(color=COLORS["grid"], lw=0.5)
    return fig


def forest_figure(
    rows: Sequence[GroupResult],
    *,
    ceiling: StatResult | None = None,
    overall: StatResult | None = None,
    threshold: float | None = None,
    title: str = "Judge-human kappa per segment",
    min_items: int = 10,
    max_rows: int = 25,
) -> MplFigure:
    """Forest plot: the judge's kappa with its interval per segment (worst at the top), beside the human
    ceiling (shaded band), the judge's overall kappa (dashed) and the ``min_kappa`` threshold (dotted).

    Segments under ``min_items`` have no interval and are left out (the title says how many); beyond
    ``max_rows`` only the weakest are drawn.
    """
    usable = [r for r in rows if r.n_items >= min_items and _finite(r.kappa.failures_as_wrong.value)]
    usable.sort(key=lambda r: r.kappa.failures_as_wrong.value)
    dropped = len(rows) - len(usable)
    shown = usable[:max_rows]
    with _style():
        if not shown:
            return _not_available(f"{title}: no segment has {min_items} or more items")
        fig, (ax,) = _new(8.0, 1.5 + 0.24 * len(shown))
        ys = list(range(len(shown)))[::-1]
        if ceiling is not None and _finite(ceiling.value):
            c_lo, c_hi = _bounds(ceiling)
            if c_hi > c_lo:
                ax.axvspan(c_lo, c_hi, color=COLORS["human"], alpha=0.12, lw=0)
            ax.axvline(ceiling.value, color=COLORS["human"], lw=1.5, label=f"human ceiling {ceiling.value:.2f}")
        if overall is not None and _finite(overall.value):
            ax.axvline(overall.value, color=COLORS["judge"], lw=1, ls="--", label=f"judge overall {overall.value:.2f}")
        if threshold is not None:
            ax.axvline(threshold, color=COLORS["fail"], lw=1, ls=":", label=f"min_kappa {threshold:g}")
        for y, r in zip(ys, shown, strict=True):
            k = r.kappa.failures_as_wrong
            lo, hi = _bounds(k)
            below = threshold is not None and hi < threshold
            color = COLORS["fail"] if below else COLORS["judge"]
            ax.plot([lo, hi], [y, y], color=color, lw=1.6, solid_capstyle="round")
            ax.plot([k.value], [y], "o", color=color, ms=4.5)
        ax.set_yticks(ys, [f"{r.key[:34]}  (n={r.kappa.failures_as_wrong.n_items})" for r in shown])
        ax.tick_params(axis="y", length=0)
        ax.set_xlim(min(-0.2, min(_bounds(r.kappa.failures_as_wrong)[0] for r in shown) - 0.05), 1.0)
        extra = []
        if dropped:
            extra.append(f"{dropped} with < {min_items} items not shown")
        if len(usable) > max_rows:
            extra.append(f"weakest {max_rows} of {len(usable)}")
        ax.set_xlabel(
            "Cohen's kappa vs reference label, failures counted as wrong (95% bootstrap interval)"
            + (f"\n{'; '.join(extra)}" if extra else "")
        )
        ax.set_title(title)
        ax.grid(axis="x", color=COLORS["grid"], lw=0.5)
        if ax.get_legend_handles_labels()[0]:
            fig.legend(loc="outside upper right", ncols=3, fontsize=8, frameon=False)
    return fig


def comparison_figure(
    assessments: Sequence[TrustAssessment], *, title: str = "Judges side by side (kappa vs reference label)"
) -> MplFigure:
    """Each judge's kappa with its interval, beside the human ceiling of their rubric and the threshold.

    Overlapping intervals do not mean the judges are equal: the report's paired bootstrap difference answers
    that; this plot shows where each judge stands against people.
    """
    with _style():
        fig, (ax,) = _new(8.0, 1.5 + 0.42 * (len(assessments) + 1))
        labels: list[str] = []
        ceiling = assessments[0].ceiling.kappa if assessments else None
        y = len(assessments)
        if ceiling is not None and _finite(ceiling.value):
            lo, hi = _bounds(ceiling)
            ax.plot([lo, hi], [y, y], color=COLORS["human"], lw=2.2, solid_capstyle="round")
            ax.plot([ceiling.value], [y], "D", color=COLORS["human"], ms=6)
            ax.axvline(ceiling.value, color=COLORS["human"], lw=0.8, alpha=0.5)
            labels.append(f"human ceiling (n={ceiling.n_items})")
        else:
            labels.append("human ceiling: n/a")
        for i, a in enumerate(assessments):
            k = a.judge.kappa.failures_as_wrong
            yy = len(assessments) - 1 - i
            color = (
                COLORS["pass"]
                if a.verdict == "TRUSTED"
                else COLORS["fail"]
                if a.verdict == "NOT TRUSTED"
                else COLORS["inconclusive"]
            )
            if _finite(k.value):
                lo, hi = _bounds(k)
                ax.plot([lo, hi], [yy, yy], color=color, lw=2.2, solid_capstyle="round")
                ax.plot([k.value], [yy], "o", color=color, ms=6)
                ax.annotate(
                    f"{k.value:.3f}",
                    (k.value, yy),
                    textcoords="offset points",
                    xytext=(0, 7),
                    ha="center",
                    fontsize=8,
                    color=color,
                )
        labels += [f"{a.run[:28]} (n={a.judge.kappa.failures_as_wrong.n_items})" for a in assessments]
        threshold = assessments[0].criteria_config.min_kappa if assessments else None
        if threshold is not None:
            ax.axvline(float(threshold), color=COLORS["fail"], lw=1, ls=":", label=f"min_kappa {float(threshold):g}")
            fig.legend(loc="outside upper right", fontsize=8, frameon=False)
        ax.set_yticks(range(len(assessments), -1, -1), labels)
        ax.set_ylim(-0.6, len(assessments) + 0.6)
        ax.tick_params(axis="y", length=0)
        ax.set_xlim(min(0.0, *(_bounds(a.judge.kappa.failures_as_wrong)[0] for a in assessments)) - 0.02, 1.0)
        ax.set_xlabel("Cohen's kappa (95% bootstrap interval)")
        ax.set_title(title)
        ax.grid(axis="x", color=COLORS["grid"], lw=0.5)
    return fig


def assessment_figures(a: TrustAssessment) -> dict[str, MplFigure]:
    """The figures of one judge run as the report draws them, by name: ``confusion``, ``forest`` (kappa per
    segment beside the ceiling and the threshold) and, when the verdicts carry confidence, ``reliability`` and
    ``risk_coverage``. One place, so the report and the labeling app's admin page draw the same plots."""
    figs = {
        "confusion": confusion_figure(a.confusion),
        "forest": forest_figure(
            a.per_segment,
            ceiling=a.ceiling.kappa,
            overall=a.judge.kappa.failures_as_wrong,
            threshold=a.criteria_config.min_kappa,
        ),
    }
    if a.calibration.available:
        figs["reliability"] = reliability_figure(a.calibration)
        figs["risk_coverage"] = risk_coverage_figure(a.calibration)
    return figs
