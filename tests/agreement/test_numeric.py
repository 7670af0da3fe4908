"""Numeric agreement on an interval scale (judgekit.agreement.numeric): the ceiling among people (ICC in the form
of the design, pairwise MAE weighted by shared items), the judge against the mean score and against each
annotator, each checked by hand on a tiny data set and against formulas written out here with numpy/scipy (an
independent implementation), and the CLI's exit codes on the numeric thresholds."""

from __future__ import annotations

import json
import math
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as sps

from judgekit.agreement import TrustCriteria, assess_run, render_text
from judgekit.agreement.render import numeric_lines
from judgekit.cli import main
from judgekit.models import HumanLabel, Item, JudgeConfig, JudgeVerdict, Rubric
from judgekit.storage import Project

ITEM = "Score the answer from 1 to 5.\n{{ item_block }}\n"


def _rubric() -> Rubric:
    return Rubric.model_validate(
        {
            "id": "quality-score",
            "version": 1,
            "title": "How good is the answer?",
            "task": "single",
            "scale": {"kind": "interval", "min": 1, "max": 5, "step": 1},
            "template": ITEM,
        }
    )


def _project(path: Path, people: np.ndarray, judge: np.ndarray, names: list[str] | None = None) -> Project:
    """A project of ``people`` (items x annotators, nan = not scored) and one imported judge run ``j``."""
    r = _rubric()
    p = Project(path)
    p.save_rubric(r)
    n, m = people.shape
    names = names or [f"ann{a}" for a in range(m)]
    p.add_items([Item(id=f"i{i:03d}", input="q", output="o") for i in range(n)])
    p.add_labels(
        [
            HumanLabel(item_id=f"i{i:03d}", annotator=names[a], rubric_id=r.id, rubric_version=1, label=f"{x:g}")
            for i in range(n)
            for a in range(m)
            if not math.isnan(x := float(people[i, a]))
        ]
    )
    run = p.create_run(
        "j", JudgeConfig(provider="external", model="m", rubric_id=r.id, rubric_version=1), source="import"
    )
    p.add_verdicts(
        run.id, [JudgeVerdict(item_id=f"i{i:03d}", status="ok", label=f"{x:g}") for i, x in enumerate(judge)]
    )
    return p


def _icc_a1(x: np.ndarray) -> float:
    """McGraw & Wong (1996) ICC(A,1) from the two-way ANOVA mean squares, written out."""
    n, k = x.shape
    g = x.mean()
    msr = k * ((x.mean(axis=1) - g) ** 2).sum() / (n - 1)
    msc = n * ((x.mean(axis=0) - g) ** 2).sum() / (k - 1)
    mse = ((x - x.mean(axis=1, keepdims=True) - x.mean(axis=0, keepdims=True) + g) ** 2).sum() / ((n - 1) * (k - 1))
    return float((msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n))


def _icc_1(x: np.ndarray) -> float:
    """Shrout & Fleiss (1979) ICC(1,1), one-way random: (MSB - MSW) / (MSB + (k - 1) MSW)."""
    n, k = x.shape
    msb = k * ((x.mean(axis=1) - x.mean()) ** 2).sum() / (n - 1)
    msw = ((x - x.mean(axis=1, keepdims=True)) ** 2).sum() / (n * (k - 1))
    return float((msb - msw) / (msb + (k - 1) * msw))


def _lin(x: np.ndarray, y: np.ndarray) -> float:
    """Lin (1989): 2 s_xy / (s_x² + s_y² + (mean_x - mean_y)²), 1/n moments."""
    sxy = ((x - x.mean()) * (y - y.mean())).mean()
    return float(2 * sxy / (x.var() + y.var() + (x.mean() - y.mean()) ** 2))


PEOPLE = np.array([[1, 2], [2, 2], [3, 3], [4, 5], [5, 5]], dtype=float)
JUDGE = np.array([1, 3, 3, 4, 4], dtype=float)


def test_small_set_by_hand(tmp_path: Path) -> None:
    """Five items, two annotators, checked by hand: reference = mean (1.5, 2, 3, 4.5, 5); judge - reference =
    (-0.5, 1, 0, -0.5, -1): bias -0.2, MAE 0.6; people differ by (1, 0, 0, 1, 0): MAE 0.4; the judge is 0.4 from
    one annotator and 0.8 from the other: 0.6 vs each annotator, 0.2 further than people are from each other."""
    p = _project(tmp_path / "p.db", PEOPLE, JUDGE)
    a = assess_run(p, "j", TrustCriteria(min_pair_overlap=2, min_items=1, n_boot=200))
    n = a.numeric
    assert n is not None and a.scale == "interval"
    assert n.reference == "mean of the blind human scores of each item"
    assert n.judge_bias is not None and n.judge_bias.value == pytest.approx(-0.2)
    assert n.judge_mae is not None and n.judge_mae.value == pytest.approx(0.6) and n.judge_mae.n_items == 5
    assert n.human_mae is not None and n.human_mae.value == pytest.approx(0.4)
    assert [(q.a, q.b, q.mae.value, q.mae.n_items, q.counted) for q in n.pairs] == [("ann0", "ann1", 0.4, 5, True)]
    assert n.judge_mean_mae is not None and n.judge_mean_mae.value == pytest.approx(0.6)
    assert [(x.annotator, x.mae.value) for x in n.per_annotator] == [("ann0", pytest.approx(0.4)), ("ann1", 0.8)]
    assert n.mae_gap is not None and n.mae_gap.value == pytest.approx(0.2)
    # bias: t interval, limits of agreement bias +/- 1.96 sd
    d = JUDGE - PEOPLE.mean(axis=1)
    sd = d.std(ddof=1)
    half = sps.t.ppf(0.975, 4) * sd / math.sqrt(5)
    assert (n.judge_bias.low, n.judge_bias.high) == pytest.approx((-0.2 - half, -0.2 + half))
    assert n.judge_bias.details["loa_low"] == pytest.approx(-0.2 - 1.96 * sd)
    assert n.judge_bias.details["loa_high"] == pytest.approx(-0.2 + 1.96 * sd)
    # every figure names its estimand and carries its n
    assert {f.name for f in (n.judge_icc, n.judge_ccc, n.human_icc) if f is not None} == {
        "judge_icc",
        "judge_ccc",
        "human_icc",
    }


def test_against_independent_formulas(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    truth = rng.integers(1, 6, 80).astype(float)
    people = np.clip(truth[:, None] + rng.integers(-1, 2, (80, 3)), 1, 5)
    judge = np.clip(truth + rng.normal(0.3, 0.6, 80), 1, 5).round(2)
    p = _project(tmp_path / "p.db", people, judge)
    a = assess_run(p, "j", TrustCriteria(n_boot=200))
    n = a.numeric
    assert n is not None
    ref = people.mean(axis=1)
    assert n.human_icc is not None and n.human_icc.value == pytest.approx(_icc_a1(people))
    assert n.icc_design.startswith("ICC(A,1), two-way, absolute agreement: the same 3 annotators")
    assert n.judge_icc is not None and n.judge_icc.value == pytest.approx(_icc_a1(np.column_stack([judge, ref])))
    assert n.judge_ccc is not None and n.judge_ccc.value == pytest.approx(_lin(judge, ref))
    assert n.judge_pearson is not None and n.judge_pearson.value == pytest.approx(np.corrcoef(judge, ref)[0, 1])
    rho = sps.spearmanr(judge, ref).statistic
    tau = sps.kendalltau(judge, ref).statistic
    assert n.judge_spearman is not None and n.judge_spearman.value == pytest.approx(rho)
    assert n.judge_kendall is not None and n.judge_kendall.value == pytest.approx(tau)
    z = sps.norm.ppf(0.975)
    h = z * math.sqrt((1 + rho**2 / 2) / (80 - 3))  # Bonett & Wright (2000)
    assert (n.judge_spearman.low, n.judge_spearman.high) == pytest.approx(
        (math.tanh(math.atanh(rho) - h), math.tanh(math.atanh(rho) + h))
    )
    h = z * math.sqrt(0.437 / (80 - 4))  # Fieller, Hartley & Pearson (1957)
    assert n.judge_kendall.low == pytest.approx(math.tanh(math.atanh(tau) - h))
    ad = np.abs(judge - ref)
    half = sps.t.ppf(0.975, 79) * ad.std(ddof=1) / math.sqrt(80)
    assert n.judge_mae is not None
    assert (n.judge_mae.value, n.judge_mae.low, n.judge_mae.high) == pytest.approx(
        (ad.mean(), ad.mean() - half, ad.mean() + half)
    )
    pair_mae = [np.abs(people[:, i] - people[:, j]).mean() for i, j in combinations(range(3), 2)]
    assert n.human_mae is not None and n.human_mae.value == pytest.approx(np.mean(pair_mae))
    assert n.human_mae.low is not None and n.human_mae.low < n.human_mae.value < n.human_mae.high  # type: ignore[operator]
    # the delta-method standard error of the weighted pairwise MAE matches an item bootstrap written out here
    rng_b = np.random.default_rng(0)
    per_item = np.mean([np.abs(people[:, i] - people[:, j]) for i, j in combinations(range(3), 2)], axis=0)
    boot = [per_item[rng_b.integers(0, 80, 80)].mean() for _ in range(4000)]
    assert n.human_mae.se == pytest.approx(float(np.std(boot)), rel=0.1)
    judge_mae = [np.abs(judge - people[:, a]).mean() for a in range(3)]
    assert n.judge_mean_mae is not None and n.judge_mean_mae.value == pytest.approx(np.mean(judge_mae))
    # Krippendorff's alpha among annotators uses the interval metric on an interval scale (krippendorff package)
    import krippendorff

    assert a.ceiling.alpha.value == pytest.approx(
        krippendorff.alpha(reliability_data=people.T, level_of_measurement="interval")
    )


def test_annotators_assigned_at_random_get_the_one_way_icc_and_overlap_weights(tmp_path: Path) -> None:
    """Four annotators, each item scored by two of them in rotation: no common set of raters, so ICC(1) (one-way)
    on the two scores of each item; pairs weighted by their shared items, a pair below min_pair_overlap not
    counted."""
    rng = np.random.default_rng(11)
    n_items = 150
    truth = rng.integers(1, 6, n_items).astype(float)
    people = np.full((n_items, 4), np.nan)
    for i in range(n_items):
        pair = [(0, 1), (1, 2), (2, 3), (0, 2), (0, 1), (1, 2)][i % 6] if i < 144 else (0, 3)
        for a in pair:
            people[i, a] = float(np.clip(truth[i] + rng.integers(-1, 2), 1, 5))
    judge = truth
    p = _project(tmp_path / "p.db", people, judge)
    a = assess_run(p, "j", TrustCriteria(n_boot=200))
    n = a.numeric
    assert n is not None and n.human_icc is not None
    slots = np.array([row[~np.isnan(row)] for row in people])
    assert n.human_icc.value == pytest.approx(_icc_1(slots))
    assert n.icc_design.startswith("ICC(1), one-way random: each item scored by its own people")
    shared, maes = [], []
    for i, j in combinations(range(4), 2):
        both = ~np.isnan(people[:, i]) & ~np.isnan(people[:, j])
        shared.append(int(both.sum()))
        maes.append(float(np.abs(people[both, i] - people[both, j]).mean()) if both.any() else math.nan)
    assert [q.mae.n_items for q in n.pairs] == shared
    counted = [s >= 30 for s in shared]
    assert [q.counted for q in n.pairs] == counted
    w = np.array([s if c else 0 for s, c in zip(shared, counted, strict=True)], dtype=float)
    expected = float(np.nansum(w * np.nan_to_num(np.array(maes))) / w.sum())
    assert n.human_mae is not None and n.human_mae.value == pytest.approx(expected)


def _check(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(args)
    return code, capsys.readouterr().out


def test_check_and_agree_on_numeric_thresholds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(5)
    truth = rng.integers(1, 6, 150).astype(float)
    people = np.clip(truth[:, None] + rng.choice([-1, 0, 0, 0, 1], (150, 3)), 1, 5)
    db = tmp_path / "p.db"
    _project(db, people, np.clip(truth + 0.5, 1, 5)).close()  # a judge half a point high on average
    cfg = tmp_path / "judgekit.toml"
    cfg.write_text("n_boot = 200\nrequire_alt_test = false\nmin_kappa = 0\nmax_gap_to_ceiling = 2\n")
    base = ["check", "--db", str(db), "--config", str(cfg)]
    code, out = _check([*base, "--min-icc", "0.3", "--max-mae", "1.5"], capsys)
    assert code == 0, out
    assert "judge_icc" in out and "judge_mae" in out
    code, out = _check([*base, "--max-abs-bias", "0.1"], capsys)  # the bias interval is well above 0.1
    assert code == 1 and "judge_bias" in out
    code, out = _check([*base, "--min-icc", "0.99"], capsys)
    assert code == 1 and "judge_icc" in out
    code, _ = _check([*base, "--max-mae", "-1"], capsys)
    assert code == 2
    assert main(["agree", "--db", str(db), "--config", str(cfg), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)[0]
    assert data["numeric"]["judge_icc"]["name"] == "judge_icc"
    assert data["numeric"]["human_mae"]["n_items"] == 150
    assert data["numeric"]["judge_bias"]["value"] == pytest.approx(
        float(np.mean(np.clip(truth + 0.5, 1, 5) - people.mean(axis=1)))
    )
    with Project(db) as p:
        a = assess_run(p, "j", TrustCriteria(n_boot=200))
    text = render_text(a)
    assert "ICC(A,1)" in text and "Bland-Altman limits of agreement" in text
    assert a.numeric is not None and all(line in text for line in numeric_lines(a.numeric))
    assert max(len(line) for line in numeric_lines(a.numeric)) <= 80


def test_report_and_check_show_the_numeric_figures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from judgekit.report import build_report, write_report

    db = tmp_path / "p.db"
    with _project(db, PEOPLE, JUDGE) as p:
        report = build_report(p, ["j"], lambda _rid: TrustCriteria(min_pair_overlap=2, min_items=1, n_boot=200))
    paths = write_report(report, tmp_path / "report")
    md, html = paths.markdown.read_text(), paths.html.read_text()
    n = report.runs[0].assessment.numeric
    assert n is not None and n.judge_mae is not None and n.human_mae is not None
    assert "judge: MAE" in md and f"{n.judge_mae.value:.3f}" in md and f"{n.human_mae.value:.3f}" in md
    assert "Numeric scores" in html and "limits of agreement" in html and "ICC(A,1)" in html
    assert main(["check", "--db", str(db), "--min-items", "1"]) == 1
    out = capsys.readouterr().out
    assert "people: ICC" in out and "judge vs each annotator: MAE" in out
