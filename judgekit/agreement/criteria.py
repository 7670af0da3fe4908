"""Trust criteria and where their thresholds come from.

Defaults follow common readings of agreement coefficients (Landis & Koch 1977: kappa 0.61-0.80 "substantial")
and are judged on the **lower bound** of a 95% bootstrap interval, not the point estimate: a judge is trusted
when the evidence says it is good enough, not when it merely might be. Teams override them in
``[tool.judgekit]`` of ``pyproject.toml`` or in ``judgekit.toml``, globally or per rubric::

    [tool.judgekit]
    min_kappa = 0.6

    [tool.judgekit.rubrics."pandalm-pairwise"]
    min_kappa = 0.5
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from judgekit.agreement.reference import ReferenceRule
from judgekit.errors import ConfigError


class TrustCriteria(BaseModel):
    """Thresholds of the trust verdict. Every field can be set in the configuration file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_items: int = Field(default=100, ge=1)
    """Labelled items with a judge verdict needed before any verdict other than INSUFFICIENT EVIDENCE."""
    min_annotators_per_item: float = Field(default=2.0, ge=1)
    """Mean annotators per item needed to measure the human ceiling."""
    min_pair_overlap: int = Field(default=30, ge=2)
    """Items an annotator pair (or the judge and one annotator) must share to count towards the human ceiling and
    the judge's mean kappa vs each annotator; a pair with fewer is reported with its n but not counted."""
    reference: ReferenceRule = "majority"
    """What the judge is compared with: ``majority`` of the blind labels (ties left out) or ``adjudicated``
    labels (items nobody adjudicated are left out; blind labels never stand in for them)."""
    min_human_agreement: float = Field(default=0.4, ge=-1, le=1)
    """Lower bound of Krippendorff's alpha among humans; below it the rubric itself is unclear and no judge can
    be validated against it."""
    min_kappa: float = Field(default=0.6, ge=-1, le=1)
    """Lower bound of the judge's kappa against the reference label (failed verdicts count as wrong; quadratic
    weights for ordinal rubrics)."""
    max_gap_to_ceiling: float = Field(default=0.1, ge=0, le=2)
    """Upper bound of the gap to the human ceiling (overlap-weighted pairwise kappa among annotators minus the
    judge's overlap-weighted kappa vs each annotator): how far below a typical annotator the judge may be."""
    max_failure_rate: float = Field(default=0.05, ge=0, le=1)
    """Upper bound (Wilson 95%) of the share of verdicts that are parse errors, refusals, API errors or missing."""
    max_harmful_rate: float = Field(default=0.05, ge=0, le=1)
    """Upper bound of the harmful-confidence rate (wrong with confidence >= ``confidence_threshold``); only
    applies when the judge reports confidence."""
    confidence_threshold: float = Field(default=0.8, ge=0, le=1)
    """Confidence at or above which a wrong verdict counts as harmful."""
    max_ece: float = Field(default=0.1, ge=0, le=1)
    """Expected calibration error (top-label, 10 bins) allowed when the judge reports confidence."""
    require_alt_test: bool = True
    """Require the alternative annotator test (Calderon et al. 2025) to pass when >= 3 annotators exist."""
    alt_test_epsilon: float = Field(default=0.1, ge=0, le=1)
    """The alt-test's epsilon: 0.1 for crowd workers, 0.15 skilled, 0.2 experts (the authors' advice)."""
    target_ci_width: float = Field(default=0.1, gt=0, le=2)
    """Interval width of the judge's kappa at which the evidence is precise enough; used to say how many
    more items to label."""
    confidence_level: float = Field(default=0.95, gt=0.5, lt=1)
    """Level of every bootstrap interval."""
    n_boot: int = Field(default=1000, ge=100)
    """Bootstrap resamples."""
    seed: int = 0
    """Seed of the bootstrap, so a verdict is reproducible."""


CONFIG_FILES = ("judgekit.toml", "pyproject.toml")


def find_config(start: Path | None = None) -> Path | None:
    """The nearest ``judgekit.toml``, or ``pyproject.toml`` with a ``[tool.judgekit]`` table, from ``start`` up."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        jk = folder / "judgekit.toml"
        if jk.exists():
            return jk
        pp = folder / "pyproject.toml"
        if pp.exists() and "judgekit" in _read(pp).get("tool", {}):
            return pp
    return None


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read configuration: {exc}") from exc


def load_criteria(
    path: Path | None = None, *, rubric_id: str | None = None, overrides: dict[str, Any] | None = None
) -> TrustCriteria:
    """Criteria from the configuration file (found automatically when ``path`` is None), the rubric's own table,
    then ``overrides`` (command-line options), in increasing precedence."""
    cfg_path = path if path is not None else find_config()
    table: dict[str, Any] = {}
    if cfg_path is not None:
        data = _read(cfg_path)
        table = data.get("tool", {}).get("judgekit", {}) if cfg_path.name == "pyproject.toml" else data
    per_rubric = table.get("rubrics", {})
    values = {k: v for k, v in table.items() if k != "rubrics"}
    if rubric_id is not None and isinstance(per_rubric, dict):
        values.update(per_rubric.get(rubric_id, {}))
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    try:
        return TrustCriteria.model_validate(values)
    except ValidationError as exc:
        where = str(cfg_path) if cfg_path else "options"
        problems = "; ".join(f"'{'.'.join(map(str, e['loc']))}': {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{where}: invalid judgekit criteria: {problems}") from None
