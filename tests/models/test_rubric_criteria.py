"""Rubrics with several rated criteria and interval scales: the schema stays backward compatible, every shape
mistake is named, answers are checked and stored canonically, the overall rules derive what they say."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from judgekit.errors import ConfigError
from judgekit.models import (
    CriterionVerdict,
    JudgeVerdict,
    Rubric,
    canonical_json,
    format_number,
    load_rubric,
    rubric_from_dict,
)
from judgekit.models.judge import check_verdict

ROOT = Path(__file__).resolve().parents[2]
BASE: dict[str, Any] = {"id": "r", "version": 1, "title": "t", "task": "single", "template": "{{ item_block }}"}
BINARY = {
    "kind": "binary",
    "positive": "yes",
    "levels": [{"value": "yes", "name": "Y", "definition": "y"}, {"value": "no", "name": "N", "definition": "n"}],
}
ORDINAL = {"kind": "ordinal", "levels": [{"value": v, "name": v, "definition": v} for v in "123"]}
INTERVAL = {"kind": "interval", "min": 1, "max": 5, "step": 1}


def rated(*criteria: tuple[str, dict[str, Any]], **extra: Any) -> Rubric:
    body = [{"name": n, "description": "d", "scale": sc, **({"pass_at": p} if (p := sc.get("_pass")) else {})}
            for n, sc in criteria]  # fmt: skip
    for c in body:
        c["scale"] = {k: v for k, v in c["scale"].items() if k != "_pass"}
    return rubric_from_dict({**BASE, "criteria": body, **extra})


def test_rubrics_written_before_criteria_serialise_byte_for_byte_as_before() -> None:
    # a stored rubric version is compared with a re-imported one by its JSON: new fields at their defaults are
    # left out, so the shipped rubrics' canonical JSON is what judgekit 0.2 stored (hashes taken before the change)
    import hashlib

    expected = {"answer_quality_1to5": "aad9008c08ed", "helpfulness_pass_fail": "92aa84cc3046"}
    for name, digest in expected.items():
        body = canonical_json(load_rubric(ROOT / "rubrics" / f"{name}.yaml").model_dump(mode="json"))
        assert hashlib.sha256(body.encode()).hexdigest()[:12] == digest
        assert '"overall"' not in body and '"step"' not in body and '"pass_at"' not in body


def test_interval_scale_checks_and_canonicalises_numbers() -> None:
    r = rubric_from_dict({**BASE, "scale": {"kind": "interval", "min": 0, "max": 10, "step": 0.5}})
    assert r.canonical_label("7.0") == "7" and r.canonical_label("7.5") == "7.5"
    assert r.scale.stats_level == "interval" and r.scale.is_interval
    with pytest.raises(ValueError, match="not on the scale's steps"):
        r.canonical_label("7.25")
    assert r.canonical_label("7.25", on_step=False) == "7.25"  # a judge's score may fall between steps
    for bad, why in (("11", "outside"), ("nan", "outside"), ("seven", "not a number"), ("inf", "outside")):
        with pytest.raises(ValueError, match=why):
            r.canonical_label(bad)
    assert format_number(1e-7) == "1e-07" and float(format_number(1 / 3)) == 1 / 3


@pytest.mark.parametrize(
    "change, message",
    [
        ({"scale": {"kind": "interval", "min": 5, "max": 1}}, "min < max"),
        ({"scale": {"kind": "interval", "max": 1}}, "min and max"),
        ({"scale": {"kind": "interval", "min": 0, "max": 1, "step": 0.3}}, "whole steps"),
        ({"scale": {**INTERVAL, "levels": [{"value": "9", "name": "x", "definition": "x"}]}}, "anchor '9'"),
        ({"scale": {**ORDINAL, "min": 1}}, "belong to interval scales"),
        ({"scale": {"kind": "ordinal", "levels": ORDINAL["levels"][:1]}}, "at least 2 levels"),
        ({}, "needs a 'scale'"),
        ({"scale": BINARY, "overall": {"rule": "all_pass"}}, "combines rated criteria"),
        ({"scale": BINARY, "judge_calls": "per_criterion"}, "needs rated criteria"),
    ],
)
def test_scale_mistakes_are_named(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        rubric_from_dict({**BASE, **change}, source="x.yaml")


@pytest.mark.parametrize(
    "criteria, extra, message",
    [
        (
            [{"name": "a", "description": "d", "scale": BINARY}, {"name": "b", "description": "d"}],
            {},
            "'b' has no scale",
        ),
        ([{"name": "a", "description": "d", "scale": BINARY}], {"scale": BINARY}, "no top-level 'scale'"),
        ([{"name": "a b", "description": "d", "scale": BINARY}], {}, "criterion name 'a b'"),
        ([{"name": "overall", "description": "d", "scale": BINARY}], {}, "is not 'overall'"),
        ([{"name": "a", "description": "d", "scale": BINARY}] * 2, {}, "unique"),
        ([{"name": "a", "description": "d", "scale": INTERVAL}], {"overall": {"rule": "all_pass"}}, "pass_at"),
        ([{"name": "a", "description": "d", "scale": BINARY, "pass_at": "yes"}], {}, "positive level"),
        ([{"name": "a", "description": "d", "scale": INTERVAL, "pass_at": 9}], {}, "outside"),
        (
            [{"name": "a", "description": "d", "scale": BINARY}, {"name": "b", "description": "d", "scale": INTERVAL}],
            {"overall": {"rule": "worst_case"}},
            "same scale",
        ),
        (
            [{"name": "a", "description": "d", "scale": {**ORDINAL, "kind": "nominal"}}],
            {"overall": {"rule": "weighted_mean"}},
            "nominal",
        ),
        (
            [{"name": "a", "description": "d", "scale": INTERVAL}],
            {"overall": {"rule": "weighted_mean", "weights": {"zz": 2}}},
            "zz",
        ),
        (
            [{"name": "a", "description": "d", "scale": INTERVAL}],
            {"critique_required_for": ["fail"]},
            "critique_required_for",
        ),
        (
            [{"name": "a", "description": "d", "scale": INTERVAL}],
            {"few_shot": [{"input": "q", "label": "3"}]},
            "not a 'label'",
        ),
        (
            [{"name": "a", "description": "d", "scale": INTERVAL}],
            {"few_shot": [{"input": "q", "criteria": {"a": "7"}}]},
            "few_shot.0.criteria: criterion 'a'",
        ),
    ],
)
def test_criteria_mistakes_are_named(criteria: list[Any], extra: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace(".", r"[.\[\]0-9]*")):
        rubric_from_dict({**BASE, "criteria": criteria, **extra}, source="x.yaml")


def test_answers_are_every_criterion_canonical_with_the_derived_label() -> None:
    r = rated(("coherence", {**INTERVAL, "_pass": 3}), ("safe", BINARY), ("style", {**ORDINAL, "_pass": "2"}),
              overall={"rule": "all_pass"})  # fmt: skip
    assert r.units() == ["coherence", "safe", "style", "overall"]
    assert r.answer(None, {"style": "2", "coherence": "4.0", "safe": "yes"}) == (
        "pass",
        {"coherence": "4", "safe": "yes", "style": "2"},
    )
    assert r.answer("fail", {"coherence": "2", "safe": "yes", "style": "3"})[0] == "fail"
    with pytest.raises(ValueError, match="does not match"):
        r.answer("pass", {"coherence": "2", "safe": "yes", "style": "3"})
    with pytest.raises(ValueError, match="no answer for style"):
        r.answer(None, {"coherence": "2", "safe": "yes"})
    with pytest.raises(ValueError, match="unknown criteria"):
        r.answer(None, {"coherence": "2", "safe": "yes", "style": "3", "tone": "1"})
    with pytest.raises(ValueError, match=r"criterion .coherence.*steps"):
        r.answer(None, {"coherence": "2.5", "safe": "yes", "style": "3"})
    with pytest.raises(ConfigError, match="rates 3 criteria"):
        r.scale  # noqa: B018 - a rubric with rated criteria has no single scale


def test_without_an_overall_rule_the_label_lists_the_answers() -> None:
    r = rated(("a", INTERVAL), ("b", BINARY))
    assert r.units() == ["a", "b"] and r.overall_scale is None
    assert r.answer(None, {"b": "no", "a": "5"})[0] == "a=5; b=no"


@pytest.mark.parametrize(
    "rule, scales, answers, expected",
    [
        ({"rule": "worst_case"}, [INTERVAL, INTERVAL], ["5", "2"], "2"),
        ({"rule": "worst_case"}, [ORDINAL, ORDINAL], ["3", "2"], "2"),
        ({"rule": "worst_case"}, [BINARY, BINARY], ["yes", "no"], "no"),
        ({"rule": "weighted_mean"}, [INTERVAL, INTERVAL], ["5", "2"], "3.5"),
        ({"rule": "weighted_mean", "weights": {"c0": 3}}, [INTERVAL, INTERVAL], ["5", "1"], "4"),
        # different ranges: each rescaled to 0-1 first: (5-1)/4 = 1 and yes = 1, no = 0
        ({"rule": "weighted_mean"}, [INTERVAL, BINARY], ["5", "no"], "0.5"),
        ({"rule": "weighted_mean"}, [ORDINAL, ORDINAL], ["1", "3"], "2"),
    ],
)
def test_overall_rules(rule: dict[str, Any], scales: list[dict[str, Any]], answers: list[str], expected: str) -> None:
    r = rated(*((f"c{i}", s) for i, s in enumerate(scales)), overall=rule)
    assert r.answer(None, {f"c{i}": a for i, a in enumerate(answers)})[0] == expected
    overall = r.view("overall")
    assert overall.key == "r@1#overall" and overall.scale.check_value(expected) == expected


def test_a_view_is_one_scale_of_the_rubric() -> None:
    r = load_rubric(ROOT / "rubrics" / "assistant_turn_criteria.yaml")
    v = r.view("grounded")
    assert v.key == "assistant-turn-criteria@1#grounded" and v.scope == "grounded"
    assert v.scale.is_interval and not v.is_rated and v.criterion_names == []
    assert [c.name for c in v.criteria] == ["grounded"] and v.overall is None
    assert r.view("overall").scale.values == ["pass", "fail"]
    with pytest.raises(KeyError, match="no rated criterion 'tone'"):
        r.view("tone")
    assert load_rubric(ROOT / "rubrics" / "helpfulness_pass_fail.yaml").view(None).key == "helpfulness-pass-fail@1"


def test_verdicts_are_checked_against_the_criteria() -> None:
    r = rated(("a", INTERVAL), ("b", BINARY), overall={"rule": "weighted_mean"})
    ok = JudgeVerdict(
        item_id="i", label="0.75", criteria={"a": CriterionVerdict(label="4.5"), "b": CriterionVerdict(label="yes")}
    )
    # 4.5 is between steps: a judge's score may be (a mean of samples); (4.5-1)/4 = 0.875, yes = 1 -> 0.9375
    assert check_verdict(r, ok.model_copy(update={"label": None, "status": "ok"})).label == "0.9375"
    failed = check_verdict(r, JudgeVerdict(item_id="i", status="parse_error"))
    assert {n: a.status for n, a in failed.criteria.items()} == {"a": "parse_error", "b": "parse_error"}
    partial = JudgeVerdict(
        item_id="i",
        status="refused",
        criteria={"a": CriterionVerdict(label="3"), "b": CriterionVerdict(status="refused")},
    )
    assert check_verdict(r, partial).status == "refused"
    with pytest.raises(ValueError, match="does not match the criteria"):
        check_verdict(r, partial.model_copy(update={"status": "api_error"}))
    with pytest.raises(ValueError, match="no answer for b"):
        check_verdict(r, JudgeVerdict(item_id="i", label="x", criteria={"a": CriterionVerdict(label="3")}))
    with pytest.raises(ValueError, match=r"criterion .a.*outside"):
        check_verdict(r, ok.model_copy(update={"criteria": {**ok.criteria, "a": CriterionVerdict(label="9")}}))
