"""The admin page on a rubric with rated criteria, one on an interval scale: beside the kappa figures it shows each
criterion's row (ICC on the interval one, kappa elsewhere) and the interval scale's numeric figures (people: ICC
and pairwise MAE; the judge: ICC, MAE, bias, ...), the very figures ``judgekit agree`` computes (one truth)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from judgekit.agreement import TrustCriteria, assess_run
from judgekit.agreement.render import figure_cell, numeric_rows
from judgekit.labeling import criterion_figure_rows, numeric_figure_rows, wait_for_refresh
from judgekit.models import CriterionVerdict, HumanLabel, JudgeConfig, JudgeVerdict
from judgekit.storage import Project

from .conftest import RUBRICS, build_project

APP = "../../labeling_app/app.py"
N = 40


def _rated_project(db_url: str) -> tuple[Project, dict[str, str]]:
    """40 items rated on helpfulness (ordinal), grounded (interval 0-1) and safety by alice, bob and root; a judge
    close to people on grounded but scoring it 0.25 higher on a quarter of the items."""
    project, codes = build_project(db_url, RUBRICS / "assistant_turn_criteria.yaml", n_items=N)
    r = project.rubrics()[0]
    rng = np.random.default_rng(3)
    truth = rng.integers(0, 5, N) / 4
    labels = []
    for n in range(N):
        for who in ("alice", "bob", "root"):
            g = float(truth[n]) if rng.random() < 0.75 else float(rng.integers(0, 5) / 4)
            answers = {"helpfulness": str(int(rng.integers(3, 6))), "grounded": str(g), "safety": "safe"}
            label, crit = r.answer(None, answers)
            labels.append(HumanLabel(item_id=f"it{n}", annotator=who, rubric_id=r.id, rubric_version=1, label=label,
                                     criteria=crit, critique=None if label != "fail" else "c"))  # fmt: skip
    project.add_labels(labels)
    run = project.create_run("j", JudgeConfig(provider="external", model="m", rubric_id=r.id, rubric_version=1),
                             source="import")  # fmt: skip
    verdicts = []
    for n in range(N):
        crit = {
            "helpfulness": CriterionVerdict(label="4"),
            "grounded": CriterionVerdict(label=repr(min(1.0, float(truth[n]) + (0.25 if n % 4 == 0 else 0.0)))),
            "safety": CriterionVerdict(label="safe"),
        }
        status, label = r.record_verdict({k: (v.status, v.label) for k, v in crit.items()})
        verdicts.append(JudgeVerdict(item_id=f"it{n}", status=status, label=label, criteria=crit))  # type: ignore[arg-type]
    project.add_verdicts(run.id, verdicts)
    return project, codes


def test_admin_page_shows_the_numeric_figures_of_an_interval_criterion(
    db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    project, codes = _rated_project(db_url)
    rubric = project.rubrics()[0]
    a = assess_run(project, "j", TrustCriteria())
    (grounded,) = [p for p in a.parts if p.scope == "grounded"]
    n = grounded.numeric
    assert n is not None and n.human_icc is not None and n.judge_bias is not None
    assert n.judge_bias.value == pytest.approx(0.25 * 10 / N, abs=0.05)  # the judge's known shift, roughly
    # the helpers are agree's rows, the people's first
    rows = numeric_figure_rows(a, "people") + numeric_figure_rows(a, "judge")
    assert [(r.title, r.value) for r in rows] == [(f"{s}: {t}", f) for s, t, f in numeric_rows(a)]
    assert [c.criterion for c in criterion_figure_rows(a)] == ["helpfulness", "grounded", "safety", "overall"]

    monkeypatch.chdir(tmp_path)  # no judgekit.toml: the page judges under the default criteria, as above
    monkeypatch.setenv("JUDGEKIT_DB", db_url)
    monkeypatch.delenv("JUDGEKIT_RUBRIC", raising=False)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.text_input(key="code").input(codes["root"])
    at.button[0].click().run()
    at.radio(key="page").set_value("Admin").run()
    assert not at.exception
    assert wait_for_refresh(project, rubric, timeout=300)  # the figures are computed in a background process
    at.run()
    assert not at.exception
    shown = "\n".join(t.value.to_csv() for t in at.table)
    for fig in (n.human_icc, n.human_mae, n.judge_icc, n.judge_mae, n.judge_bias, n.judge_mean_mae):
        assert fig is not None and figure_cell(fig) in shown, fig.name
    assert "grounded: people: MAE between annotators, pairs by shared items" in shown
    assert "grounded: judge: mean bias (judge - people)" in shown
    icc_row = next(c for c in criterion_figure_rows(a) if c.criterion == "grounded")
    assert icc_row.estimand == "ICC" and figure_cell(icc_row.judge) in shown
