from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from judgekit.errors import ConfigError
from judgekit.models import load_rubric, rubric_from_dict, rubric_json_schema_text

ROOT = Path(__file__).resolve().parents[2]
RUBRICS = sorted((ROOT / "rubrics").glob("*.yaml"))


def test_every_kind_of_rubric_ships() -> None:
    rubrics = list(map(load_rubric, RUBRICS))
    kinds = {(r.task, r.scale.kind) for r in rubrics if not r.is_rated}
    assert ("pairwise", "nominal") in kinds
    assert ("single", "binary") in kinds
    assert ("single", "ordinal") in kinds
    rated = {c.scale.kind for r in rubrics if r.is_rated for c in r.criteria if c.scale is not None}
    assert {"binary", "ordinal", "interval"} <= rated


@pytest.mark.parametrize("path", RUBRICS, ids=lambda p: p.name)
def test_rubric_files_reference_the_schema(path: Path) -> None:
    first = path.read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=./rubric.schema.json"


def test_published_schema_is_current() -> None:
    assert (ROOT / "rubrics" / "rubric.schema.json").read_text() == rubric_json_schema_text(), (
        "regenerate with: judgekit rubric schema > rubrics/rubric.schema.json"
    )


@pytest.mark.parametrize("path", RUBRICS, ids=lambda p: p.name)
def test_rubric_files_validate_against_the_json_schema(path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    import json

    schema = json.loads((ROOT / "rubrics" / "rubric.schema.json").read_text())
    jsonschema.validate(yaml.safe_load(path.read_text()), schema)


def test_ordinal_scores() -> None:
    r = load_rubric(ROOT / "rubrics" / "answer_quality_1to5.yaml")
    assert r.scale.scores() == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert r.scale.stats_level == "ordinal"


def _base() -> dict:
    return yaml.safe_load((ROOT / "rubrics" / "helpfulness_pass_fail.yaml").read_text())


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d["scale"].pop("positive"), "positive"),
        (lambda d: d["scale"]["levels"].append(dict(d["scale"]["levels"][0])), "unique"),
        (lambda d: d.update(critique_required_for=["nope"]), "critique_required_for"),
        (lambda d: d.update(version=0), "version"),
        (lambda d: d.update(unknown_key=1), "unknown_key"),
        (lambda d: d["scale"].update(kind="likert"), "scale.kind"),
    ],
)
def test_invalid_rubrics_name_the_problem(mutate, message: str) -> None:
    d = _base()
    mutate(d)
    with pytest.raises(ConfigError, match=message):
        rubric_from_dict(d, source="x.yaml")


def test_load_rubric_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: [unclosed\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml:\d+: not valid YAML"):
        load_rubric(bad)
    with pytest.raises(ConfigError, match="cannot read"):
        load_rubric(tmp_path / "missing.yaml")
