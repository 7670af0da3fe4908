"""A rubric with rated criteria is assessed per criterion and for its overall rule: each on its own scale, with
its own thresholds ([tool.judgekit.rubrics."ID".criteria."NAME"]), numeric figures on interval scales checked
against independent implementations (scipy, numpy), and one verdict that needs every criterion to pass."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import stats as sps

from judgekit.agreement import TrustCriteria, assess_run, load_criteria
from judgekit.errors import ConfigError
from judgekit.models import CriterionVerdict, HumanLabel, Item, JudgeConfig, JudgeVerdict
from judgekit.storage import Project
from tests.helpers import rubric

RATED = "assistant_turn_criteria"
N = 60
ANNOTATORS = ("ann", "bob", "cat")


def _project(tmp_path: Path, *, judge_grounded_shift: float = 0.0) -> tuple[Project, dict[str, np.ndarray]]:
    """60 items, 3 annotators who mostly agree; a judge right on helpfulness and safety, on grounded off by a
    known shift. Returns the project and the raw grounded scores (people: items x 3, judge)."""
    r = rubric(RATED)
    p = Project(tmp_path / "p.db")
    p.save_rubric(r)
    p.add_items([Item(id=f"i{n:03d}", input="q", output="o") for n in range(N)])
    rng = np.random.default_rng(7)
    truth_help = rng.integers(1, 6, N)
    truth_ground = rng.integers(0, 5, N) / 4
    people = np.zeros((N, 3))
    labels = []
    for n in range(N):
        for a, ann in enumerate(ANNOTATORS):
            h = int(truth_help[n]) if rng.random() < 0.85 else int(rng.integers(1, 6))
            g = float(truth_ground[n]) if rng.random() < 0.8 else float(rng.integers(0, 5) / 4)
            s = "unsafe" if n % 10 == 0 else "safe"
            people[n, a] = g
            label, crit = r.answer(None, {"helpfulness": str(h), "grounded": str(g), "safety": s})
            lab = HumanLabel(item_id=f"i{n:03d}", annotator=ann, rubric_id=r.id, rubric_version=1, label=label,
                             criteria=crit)  # fmt: skip
            labels.append(lab)
    p.add_labels(labels)
    cfg = JudgeConfig(provider="external", model="m", rubric_id=r.id, rubric_version=1)
    run = p.create_run("j", cfg, source="import")
    judge = np.clip(truth_ground + judge_grounded_shift, 0, 1)
    verdicts = []
    for n in range(N):
        crit = {
            "helpfulness": CriterionVerdict(label=str(int(truth_help[n]))),
            "grounded": CriterionVerdict(label=repr(float(judge[n]))),
            "safety": CriterionVerdict(label="unsafe" if n % 10 == 0 else "safe"),
        }
        status, label = r.record_verdict({k: (v.status, v.label) for k, v in crit.items()})
        verdicts.append(JudgeVerdict(item_id=f"i{n:03d}", status=status, label=label, criteria=crit))  # type: ignore[arg-type]
    p.add_verdicts(run.id, verdicts)
    return p, {"people": people, "judge": judge}


def test_every_criterion_and_the_overall_rule_get_their_own_assessment(tmp_path: Path) -> None:
    p, raw = _project(tmp_path, judge_grounded_shift=0.1)
    a = assess_run(p, "j", TrustCriteria(min_items=30, n_boot=200))
    assert [x.scope for x in a.parts] == ["helpfulness", "grounded", "safety", "overall"]
    assert a.scope == "overall" and a.rubric == "assistant-turn-criteria@1"
    scales = {x.scope: x.scale for x in a.parts}
    assert scales == {"helpfulness": "ordinal", "grounded": "interval", "safety": "binary", "overall": "binary"}
    # every unit's criteria, named UNIT.CRITERION; numeric criteria only on the interval scale
    names = [c.name for c in a.criteria]
    assert "grounded.judge_icc" in names and "helpfulness.judge_kappa" in names and "overall.judge_kappa" in names
    assert "helpfulness.judge_icc" not in names
    # numeric figures = independent implementations on the same data
    g = next(x for x in a.parts if x.scope == "grounded")
    num = g.numeric
    assert num is not None and num.judge_bias is not None and num.judge_pearson is not None
    ref = raw["people"].mean(axis=1)
    d = raw["judge"] - ref
    assert num.judge_bias.value == pytest.approx(d.mean())
    assert num.judge_bias.details["loa_high"] == pytest.approx(d.mean() + 1.96 * d.std(ddof=1))
    assert num.judge_mae is not None and num.judge_mae.value == pytest.approx(np.abs(d).mean())
    assert num.judge_pearson.value == pytest.approx(sps.pearsonr(raw["judge"], ref).statistic)
    assert num.judge_spearman is not None
    assert num.judge_spearman.value == pytest.approx(sps.spearmanr(raw["judge"], ref).statistic)
    # the same three annotators scored every item: the two-way absolute-agreement form, said in the output
    assert num.icc_design.startswith("ICC(A,1), two-way") and num.human_icc is not None
    assert num.human_icc.value == pytest.approx(_icc_a1(raw["people"]))
    # the judge's verdict on the helpfulness criterion is the one of its own view (an ordinal 1-5 scale)
    h = next(x for x in a.parts if x.scope == "helpfulness")
    assert h.judge.kappa.failures_as_wrong.value > 0.6
    assert a.verdict in ("TRUSTED", "NOT TRUSTED", "INSUFFICIENT EVIDENCE")


def _icc_a1(x: np.ndarray) -> float:
    """ICC(A,1) from the two-way ANOVA mean squares (McGraw & Wong 1996), written out independently."""
    n, k = x.shape
    grand = x.mean()
    msr = k * ((x.mean(axis=1) - grand) ** 2).sum() / (n - 1)
    msc = n * ((x.mean(axis=0) - grand) ** 2).sum() / (k - 1)
    sse = ((x - x.mean(axis=1, keepdims=True) - x.mean(axis=0, keepdims=True) + grand) ** 2).sum()
    mse = sse / ((n - 1) * (k - 1))
    return float((msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n))


def test_thresholds_per_criterion_decide_that_criterion_only(tmp_path: Path) -> None:
    p, _ = _project(tmp_path, judge_grounded_shift=0.25)
    cfg = tmp_path / "judgekit.toml"
    cfg.write_text(
        "min_items = 30\nn_boot = 200\n"
        '[rubrics."assistant-turn-criteria".criteria."grounded"]\nmax_abs_bias = 0.05\nmax_mae = 0.1\n'
    )
    crit = load_criteria(cfg, rubric_id="assistant-turn-criteria")
    assert crit.for_unit("grounded").max_abs_bias == 0.05 and crit.for_unit("safety").max_abs_bias is None
    a = assess_run(p, "j", crit)
    by = {c.name: c for c in a.criteria}
    assert by["grounded.judge_bias"].outcome == "fail"  # the judge scores about 0.2 higher than people
    assert by["grounded.judge_mae"].outcome == "fail"
    assert a.verdict == "NOT TRUSTED"
    assert any(r.startswith("grounded.judge_bias") for r in a.reasons)
    # without the criterion's table the numeric thresholds are not set: not judged, nothing fails for it
    loose = assess_run(p, "j", TrustCriteria(min_items=30, n_boot=200))
    assert {c.name: c.outcome for c in loose.criteria}["grounded.judge_bias"] == "not_applicable"


def test_a_bad_criterion_table_is_a_clear_error(tmp_path: Path) -> None:
    cfg = tmp_path / "judgekit.toml"
    cfg.write_text('[rubrics."r".criteria."grounded"]\nmax_mae = -1\n')
    with pytest.raises(ConfigError, match=r'rubric "r" criterion "grounded".*max_mae'):
        load_criteria(cfg, rubric_id="r")


def test_check_prints_a_row_per_criterion_and_junit_has_a_case_per_criterion_and_criterion(tmp_path: Path) -> None:
    from xml.etree import ElementTree as ET

    from judgekit.report import criteria_table, junit_xml

    p, _ = _project(tmp_path)
    a = assess_run(p, "j", TrustCriteria(min_items=30, n_boot=200))
    table = criteria_table(a).splitlines()
    rows = [line.split()[0] for line in table[3:7]]
    assert rows == ["helpfulness", "grounded", "safety", "overall"]
    assert all(len(line) <= 80 for line in table[1:7])
    cases = ET.fromstring(junit_xml(a)).findall(".//testcase")
    names = {c.get("name") for c in cases}
    assert {"grounded.judge_icc", "safety.judge_kappa", "overall.failure_rate"} <= names
    assert len(cases) == len(a.criteria) == sum(len(x.criteria) for x in a.parts)
