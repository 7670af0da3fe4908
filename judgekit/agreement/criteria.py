"""Trust criteria and where their thresholds come from.

Defaults follow common readings of agreement coefficients (Landis & Koch 1977: kappa 0.61-0.80 "substantial")
and are judged on the **lower bound** of a 95% bootstrap interval, not the point estimate: a judge is trusted
when the evidence says it is good enough, not when it merely might be. Teams override them in
``[tool.judgekit]`` of ``pyproject.toml`` or in ``judgekit.toml``, globally or per rubric::

    [tool.judgekit]
    min_kappa = 0.6

    [tool.judgekit.rubrics."pandalm-pairwise"]
    min_kappa = 0.5

A rubric with rated criteria is judged per criterion (and for its overall rule, named ``overall``); a criterion's
own table overrides the rubric's::

    [tool.judgekit.rubrics."hanna".criteria."coherence"]
    min_icc = 0.4
    max_mae = 0.8
"""

from __future__ import annotations

import re
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
    min_icc: float = Field(default=0.5, ge=-1, le=1)
    """Interval scales: lower bound of the judge's ICC(A,1) against the mean human score (Koo & Li 2016: below 0.5
    poor, 0.5-0.75 moderate)."""
    max_mae: float | None = Field(default=None, ge=0)
    """Interval scales: upper bound of the judge's mean absolute error against the mean human score, in score
    units (None: not judged; the right figure depends on the scale)."""
    max_abs_bias: float | None = Field(default=None, ge=0)
    """Interval scales: largest mean bias (judge - people, either sign) allowed, in score units; judged on the
    interval of the bias (None: not judged)."""
    per_criterion: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Overrides per rated criterion (or ``overall``), from ``[tool.judgekit.rubrics."ID".criteria."NAME"]``; see
    :meth:`for_unit`."""
    n_boot: int = Field(default=1000, ge=100, le=1_000_000)
    """Bootstrap resamples (at most a million: beyond that the interval's Monte Carlo error is far below its
    width, and the resamples would not fit in memory)."""
    seed: int = Field(default=0, ge=0, le=2**63 - 1)
    """Seed of the bootstrap, so a verdict is reproducible (a whole number >= 0)."""

    def for_unit(self, name: str | None) -> TrustCriteria:
        """The criteria of one rated criterion (or ``overall``): these, with that criterion's overrides."""
        if name is None or name not in self.per_criterion:
            return self
        values = {**self.model_dump(exclude={"per_criterion"}), **self.per_criterion[name]}
        return TrustCriteria.model_validate(values)


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
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read configuration: {exc.strerror}") from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            f"{path}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02X}): TOML files are UTF-8"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def _table(value: Any, where: str, path: Path | None) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{path or 'configuration'}: {where} must be a table of settings, got {value!r}")
    return value


def _toml_line(path: Path | None, key: str) -> str:
    """``path:line`` of the first ``key = ...`` in the file (best effort: TOML readers do not keep positions)."""
    if path is None:
        return "options"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return str(path)
    pattern = re.compile(rf"^\s*(\"?){re.escape(key)}\1\s*=")
    for number, line in enumerate(lines, start=1):
        if pattern.match(line):
            return f"{path}:{number}"
    return str(path)


def load_criteria(
    path: Path | None = None, *, rubric_id: str | None = None, overrides: dict[str, Any] | None = None
) -> TrustCriteria:
    """Criteria from the configuration file (found automatically when ``path`` is None), the rubric's own table,
    then ``overrides`` (command-line options), in increasing precedence."""
    cfg_path = path if path is not None else find_config()
    table: dict[str, Any] = {}
    if cfg_path is not None:
        data = _read(cfg_path)
        if cfg_path.name == "pyproject.toml":
            table = _table(
                _table(data.get("tool", {}), "[tool]", cfg_path).get("judgekit", {}), "[tool.judgekit]", cfg_path
            )
        else:
            table = data
    per_rubric = _table(table.get("rubrics", {}), "'rubrics'", cfg_path)
    values = {k: v for k, v in table.items() if k != "rubrics"}
    own: dict[str, Any] = {}
    per_criterion: dict[str, dict[str, Any]] = {}
    for rid, entry in per_rubric.items():
        entry = dict(_table(entry, f"rubrics.{rid!r}", cfg_path))
        tables = _table(entry.pop("criteria", {}), f"rubrics.{rid!r}.criteria", cfg_path)
        _validate({**values, **entry}, cfg_path)  # a typo in another rubric's table is reported too
        for name, t in tables.items():
            _table(t, f"rubrics.{rid!r}.criteria.{name!r}", cfg_path)
            _validate({**values, **entry, **t}, cfg_path, f' for rubric "{rid}" criterion "{name}"')
        if rid == rubric_id:
            own, per_criterion = entry, tables
    values.update(own)
    _validate(values, cfg_path)  # the file alone: its problems name its lines
    cli = {k: v for k, v in (overrides or {}).items() if v is not None}
    values.update(cli)
    base = _validate(values, None)  # what is left is the options' (reported as "options")
    # a criterion's table overrides the rubric's; command-line options still win over both
    return base.model_copy(update={"per_criterion": {n: {**t, **cli} for n, t in per_criterion.items()}})


def _validate(values: dict[str, Any], cfg_path: Path | None, what: str = "") -> TrustCriteria:
    """Validate strictly (a file's ``min_items = "100"`` is refused, not read as 100), naming the file and line."""
    try:
        return TrustCriteria.model_validate(values, strict=True)
    except ValidationError as exc:
        errors = exc.errors()
        key = ".".join(map(str, errors[0]["loc"]))
        where = _toml_line(cfg_path, key.split(".")[-1])
        problems = "; ".join(f"'{'.'.join(map(str, e['loc']))}': {_problem(e)}" for e in errors)
        raise ConfigError(f"{where}: invalid judgekit criteria{what}: {problems}") from None


def _problem(err: Any) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown setting (check the spelling; the settings are listed in the README, 'Agreement')"
    got = f" (got {err['input']!r})" if "input" in err and not isinstance(err["input"], dict) else ""
    return str(err["msg"]).removeprefix("Value error, ") + got
