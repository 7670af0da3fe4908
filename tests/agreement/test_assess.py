from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from judgekit.agreement import (
    TrustCriteria,
    assess_run,
    load_aligned,
    load_criteria,
    majority_codes,
    render_text,
)
from judgekit.cli import main
from judgekit.errors import ConfigError
from judgekit.models import HumanLabel, Item, ItemMetadata, JudgeConfig, JudgeVerdict
from judgekit.storage import Project
from tests.helpers import rubric

RUBRIC = rubric()  # binary pass/fail


def _project(
    tmp_path: Path,
    n: int,
    judge: str,
    *,
    n_annotators: int = 3,
    human_noise: float = 0.05,
    confidence: bool = False,
    seed: int = 0,
    risk: bool = True,
) -> Project:
    """A project with ``n`` items, noisy annotators around a hidden truth, and one judge run."""
    rng = np.random.default_rng(seed)
    truth = rng.choice(["pass", "fail"], size=n)
    p = Project(tmp_path / f"{judge}-{n}.db")
    p.save_rubric(RUBRIC)
    risks = ["low", "medium", "high"]
    p.add_items(
        [
            Item(
                id=f"i{i}",
                input="q",
                output="o",
                metadata=ItemMetadata(segment=f"s{i % 4}", risk=risks[i % 3] if risk else None),
            )
            for i in range(n)
        ]
    )
    flip = {"pass": "fail", "fail": "pass"}
    with p.transaction():
        for a in range(n_annotators):
            for i in range(n):
                lab = truth[i] if rng.random() > human_noise else flip[truth[i]]
                p.add_label(
                    HumanLabel(
                        item_id=f"i{i}", annotator=f"a{a}", rubric_id=RUBRIC.id, rubric_version=1, label=str(lab)
                    )
                )
    run = p.create_run(judge, JudgeConfig(provider="test", model=judge, rubric_id=RUBRIC.id, rubric_version=1))
    verdicts = []
    for i in range(n):
        if judge == "copy":
            lab = truth[i]
        elif judge == "random":
            lab = rng.choice(["pass", "fail"])
        else:
            lab = truth[i] if rng.random() > 0.3 else flip[truth[i]]
        conf = float(rng.uniform(0.85, 1.0)) if confidence else None
        verdicts.append(
            JudgeVerdict(
                item_id=f"i{i}",
                label=str(lab),
                confidence=conf,
                confidence_source="verbalized" if confidence else "none",
            )
        )
    p.add_verdicts(run.id, verdicts)
    return p


def test_majority_leaves_ties_out() -> None:
    # levels A=0, tie=1, B=2; -1 missing
    codes = np.array([[0, 0, 2], [0, 2, -1], [-1, -1, -1], [2, 1, 1]])
    assert majority_codes(codes, 3).tolist() == [0, -1, -1, 1]


def test_copy_of_the_truth_is_trusted(tmp_path: Path) -> None:
    a = assess_run(_project(tmp_path, 400, "copy"), "copy", TrustCriteria(n_boot=200))
    assert a.verdict == "TRUSTED", render_text(a)
    assert a.judge.kappa.failures_as_wrong.low is not None and a.judge.kappa.failures_as_wrong.low > 0.8
    assert {c.outcome for c in a.criteria} <= {"pass", "not_applicable"}


def test_random_judge_is_not_trusted_with_reasons(tmp_path: Path) -> None:
    a = assess_run(_project(tmp_path, 400, "random"), "random", TrustCriteria(n_boot=200))
    assert a.verdict == "NOT TRUSTED"
    failed = {c.name for c in a.criteria if c.outcome == "fail"}
    assert {"judge_kappa", "gap_to_human_ceiling"} <= failed
    assert any("judge_kappa" in r for r in a.reasons)


def test_too_few_items_is_insufficient_evidence(tmp_path: Path) -> None:
    a = assess_run(_project(tmp_path, 40, "copy"), "copy", TrustCriteria(n_boot=200))
    assert a.verdict == "INSUFFICIENT EVIDENCE"
    enough = next(c for c in a.criteria if c.name == "enough_items")
    assert enough.outcome == "inconclusive" and "60 more" in enough.reason


def test_failures_count_as_wrong_and_missing_is_reported(tmp_path: Path) -> None:
    p = _project(tmp_path, 200, "copy")
    run = p.create_run("half", JudgeConfig(provider="t", model="half", rubric_id=RUBRIC.id, rubric_version=1))
    ok = p.verdicts("copy")
    p.add_verdicts(
        run.id,
        [v.model_copy(update={"judge_fingerprint": ""}) for v in ok[:150]]
        + [JudgeVerdict(item_id=v.item_id, status="parse_error", raw_reply="??") for v in ok[150:180]],
    )
    data = load_aligned(p, p.run("half"), RUBRIC)
    assert (data.status == "missing").sum() == 20 and (data.status == "parse_error").sum() == 30
    assert (data.judge_strict_codes == data.k).sum() == 50
    a = assess_run(p, "half", TrustCriteria(n_boot=200))
    assert a.status_counts == {"ok": 150, "parse_error": 30, "refused": 0, "api_error": 0, "missing": 20}
    k, acc = a.judge.kappa, a.judge.accuracy
    assert k.failures_as_wrong.value < k.ok_only.value, "agreement is reported both ways"
    assert (k.failures_as_wrong.n_items, k.ok_only.n_items) == (200, 150)
    assert abs(acc.failures_as_wrong.value - 150 / 200) < 0.05 and acc.ok_only.value == 1.0
    assert acc.failures_as_wrong.name == "judge_accuracy.failures_as_wrong" and acc.ok_only.name.endswith("ok_only")
    fail = next(c for c in a.criteria if c.name == "failure_rate")
    assert fail.outcome == "fail" and a.verdict == "NOT TRUSTED"


def test_confidence_enables_calibration_and_harmful_confidence(tmp_path: Path) -> None:
    p = _project(tmp_path, 300, "noisy", confidence=True)
    a = assess_run(p, "noisy", TrustCriteria(n_boot=200))
    assert a.calibration.available and a.calibration.ece is not None and a.calibration.ece.value > 0.1
    assert a.harmful.available and a.harmful.rate is not None and a.harmful.rate.value > 0.2
    assert {g.key for g in a.harmful.per_risk} == {"low", "medium", "high"}
    assert a.harmful.worst, "the worst confidently-wrong items are listed"
    outcomes = {c.name: c.outcome for c in a.criteria}
    assert outcomes["harmful_confidence"] == "fail" and outcomes["calibration_ece"] == "fail"


def test_confidence_without_risk_tiers_is_a_normal_case(tmp_path: Path) -> None:
    """Items without a risk tier are the default (imported verdicts with confidence, ensembles): no crash, the
    items form the "unassessed" tier (this raised "Risk tier(s) ['None'] have no weight" before)."""
    p = _project(tmp_path, 150, "noisy", confidence=True, risk=False)
    a = assess_run(p, "noisy", TrustCriteria(n_boot=200))
    assert a.harmful.available and {g.key for g in a.harmful.per_risk} == {"unassessed"}
    assert [r.key for r in a.per_risk] == ["unassessed"]


def test_an_internal_error_exits_2_never_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    """Exit 1 means "not trusted" to CI: a bug must not look like a verdict."""
    p = _project(tmp_path, 120, "noisy")

    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("boom")

    monkeypatch.setattr("judgekit.report._check.assess_run", broken)
    monkeypatch.delenv("JUDGEKIT_DEBUG", raising=False)
    assert main(["check", "noisy", "--db", str(p.path)]) == 2
    err = capsys.readouterr().err
    assert "internal error: ValueError: boom" in err and "Traceback" not in err


def test_no_confidence_is_not_available_never_invented(tmp_path: Path) -> None:
    a = assess_run(_project(tmp_path, 150, "noisy"), "noisy", TrustCriteria(n_boot=200))
    assert not a.calibration.available and a.calibration.reason == "the judge's verdicts carry no confidence"
    assert a.harmful.available is False
    assert {c.name: c.outcome for c in a.criteria}["harmful_confidence"] == "not_applicable"


def test_assessment_is_reproducible_and_json(tmp_path: Path) -> None:
    p = _project(tmp_path, 150, "noisy")
    a1 = assess_run(p, "noisy", TrustCriteria(n_boot=200, seed=3))
    a2 = assess_run(p, "noisy", TrustCriteria(n_boot=200, seed=3))
    assert a1.model_dump_json() == a2.model_dump_json()
    assert json.loads(a1.model_dump_json())["verdict"] == a1.verdict


def test_criteria_from_pyproject_and_judgekit_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.judgekit]\nmin_kappa = 0.5\n[tool.judgekit.rubrics."r1"]\nmin_kappa = 0.7\n'
    )
    monkeypatch.chdir(tmp_path)
    assert load_criteria().min_kappa == 0.5
    assert load_criteria(rubric_id="r1").min_kappa == 0.7
    assert load_criteria(rubric_id="r1", overrides={"min_kappa": 0.2, "seed": None}).min_kappa == 0.2
    (tmp_path / "judgekit.toml").write_text("min_kappa = 0.65\n")
    assert load_criteria().min_kappa == 0.65
    (tmp_path / "judgekit.toml").write_text("min_kapa = 0.65\n")
    with pytest.raises(ConfigError, match="min_kapa"):
        load_criteria()


def test_defaults_apply_without_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_criteria() == TrustCriteria()


def test_agree_cli_json(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    p = _project(tmp_path, 120, "noisy")
    assert main(["agree", "--db", str(p.path), "--json", "--n-boot", "200"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["run"] for r in out] == ["noisy"] and out[0]["verdict"] in ("NOT TRUSTED", "INSUFFICIENT EVIDENCE")


def test_single_annotator_projects_work(tmp_path: Path) -> None:
    """One annotator: no ceiling can be measured, but nothing crashes (pandas returns read-only arrays for a
    single column) and the verdict says why the evidence is insufficient."""
    p = _project(tmp_path, 120, "copy", n_annotators=1)
    a = assess_run(p, "copy", TrustCriteria(n_boot=200))
    outcomes = {c.name: c.outcome for c in a.criteria}
    assert outcomes["human_ceiling_measurable"] == "inconclusive"
    assert a.verdict == "INSUFFICIENT EVIDENCE"
    from judgekit.calibration import create_split

    assert create_split(p, RUBRIC).n_test > 0
