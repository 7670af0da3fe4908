"""The figure functions the report and the admin page share."""

from __future__ import annotations

from pathlib import Path

import pytest
from matplotlib.figure import Figure as MplFigure

from judgekit.agreement import CalibrationFigures, TrustAssessment, TrustCriteria, assess_run
from judgekit.report import figures
from judgekit.storage import Project


@pytest.fixture(scope="module")
def assessment(small_db: Path) -> TrustAssessment:
    with Project(small_db) as p:
        return assess_run(p, "confident", TrustCriteria(n_boot=200))


def test_every_figure_renders_to_inline_svg(assessment: TrustAssessment) -> None:
    made = [
        figures.confusion_figure(assessment.confusion),
        figures.reliability_figure(assessment.calibration),
        figures.risk_coverage_figure(assessment.calibration),
        figures.forest_figure(assessment.per_segment, ceiling=assessment.ceiling.kappa, threshold=0.6),
        figures.comparison_figure([assessment, assessment]),
    ]
    for fig in made:
        assert isinstance(fig, MplFigure)
        svg = figures.svg_text(fig)
        assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
        assert "<?xml" not in svg and "DOCTYPE" not in svg and "<metadata" not in svg
        assert 'class="jk-figure"' in svg
    assert figures.png_data_uri(made[0]).startswith("data:image/png;base64,")


def test_segment_names_are_escaped_in_svg(assessment: TrustAssessment) -> None:
    svg = figures.svg_text(figures.forest_figure(assessment.per_segment, min_items=1))
    assert "&lt;seg&gt;&amp;" in svg and "<seg>" not in svg


def test_missing_confidence_is_said_not_drawn() -> None:
    fig = figures.reliability_figure(CalibrationFigures(available=False, reason="no confidence here"))
    assert "not available: no confidence here" in figures.svg_text(fig)
