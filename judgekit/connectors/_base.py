"""What every connector shares: the mapping options, the records a connector produces, and how they are imported.

Why one shape: a connector only translates a platform's records (traces, spans, runs, samples, scores,
annotations, assessments, feedback) into judgekit's own import rows: item rows, human label rows and judge verdict
rows, each located at the platform record it came from. The existing importers
(:func:`judgekit.io.import_items`, :func:`~judgekit.io.import_labels`, :func:`~judgekit.io.import_verdicts`) then
validate and write them, all in ONE transaction, so a connector import behaves like a file import: a bad record
stops it with its location and nothing is kept, and importing the same export again adds nothing.

Authorship is never guessed from a score's name: each platform says who scored (Langfuse ``source``, Phoenix
``annotator_kind``, MLflow ``source_type``, LangSmith ``feedback_source.type``, Inspect's score edit provenance);
where it does not (OpenTelemetry, Hugging Face columns, Langfuse ``API`` scores), the user says so with an option,
and records of unknown authorship are left out and counted, never imported as either kind.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from judgekit.errors import InputError, UserError
from judgekit.io.importers import ImportResult, import_items, import_labels, import_verdicts
from judgekit.io.rows import Row
from judgekit.models import PROVENANCES, Provenance, Rubric
from judgekit.storage import Project

Authorship = Literal["human", "judge", "skip"]

CORRECTION_KEYS = ("judgekit_provenance", "corrects", "corrected_from", "overrides", "correction_of")
"""Metadata keys by which a human score says it corrects a judge's score (see :func:`metadata_provenance`)."""


@dataclass(frozen=True)
class ScoreMapping:
    """How one platform score maps onto one rubric (multi-criteria rubrics come later: one score name per import).

    ``value_map`` turns a platform value, written as text (``True`` -> ``"true"``, ``1.0`` -> ``"1"``), into a level
    value of the rubric; values already equal to a level need no entry. ``run`` names the judge run the judge's
    scores become (default ``<platform>:<score>``; several judges of one score get ``:<judge>`` appended).
    """

    score: str
    rubric: Rubric
    value_map: Mapping[str, str] = field(default_factory=dict)
    run: str | None = None
    id_prefix: str = ""
    assume_judge_seen: bool = False
    """Mark every human label given after a judge score of the same name on the same item ``corrected`` (for
    platforms whose annotation screen shows the judge's score, when the team knows annotators saw it)."""

    def level(self, value: Any, row: Row, field_name: str) -> str:
        """The rubric level for a platform value, or a located error saying how to map it."""
        key = value_text(value)
        if key is None:
            raise row.error("the score has no value (neither a label nor a number)", field=field_name)
        level = self.value_map.get(key, key)
        if level not in self.rubric.scale.values:
            raise row.error(
                f"value {key!r} of score {self.score!r} is not a level of rubric {self.rubric.key} "
                f"({', '.join(self.rubric.scale.values)}); map it with --value-map {key}=LEVEL",
                field=field_name,
            )
        return level

    def item_id(self, platform_id: str) -> str:
        """The judgekit item id of a platform record (the platform's id, with the optional prefix)."""
        return self.id_prefix + platform_id


def value_text(value: Any) -> str | None:
    """A platform score value as the text ``value_map`` keys are written in (``None`` for a missing value)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int | str):
        return str(value)
    raise UserError(f"a score value must be a label, a number or a boolean, got {type(value).__name__}")


def parse_value_map(pairs: Iterable[str]) -> dict[str, str]:
    """``["1=pass", "0=fail"]`` -> ``{"1": "pass", "0": "fail"}`` (the CLI's repeatable ``--value-map``)."""
    out: dict[str, str] = {}
    for pair in pairs:
        src, sep, dst = pair.partition("=")
        if not sep or not src or not dst:
            raise UserError(f"--value-map {pair!r}: expected PLATFORM_VALUE=LEVEL, e.g. 1=pass")
        out[src] = dst
    return out


def metadata_provenance(metadata: Mapping[str, Any] | None, *, after_judge: bool, assume_seen: bool) -> Provenance:
    """The provenance of a human score from its metadata, for platforms without a correction field.

    The rule (Langfuse, Phoenix, OpenTelemetry, Hugging Face): ``judgekit_provenance`` in the metadata is taken as
    it is (``blind``, ``corrected``, ``adjudicated``); any of ``corrects``, ``corrected_from``, ``overrides`` or
    ``correction_of`` with a non-empty value makes the label ``corrected`` (the person corrected the judge's
    score); with ``assume_seen``, a human score made after a judge score of the same name on the same item is
    ``corrected`` too. Everything else is ``blind``.
    """
    meta = metadata or {}
    explicit = meta.get("judgekit_provenance")
    for p in PROVENANCES:
        if explicit == p:
            return p
    if any(meta.get(k) not in (None, "", False) for k in CORRECTION_KEYS[1:]):
        return "corrected"
    if assume_seen and after_judge:
        return "corrected"
    return "blind"


def parse_time(value: Any) -> datetime | None:
    """A platform timestamp (ISO text, epoch milliseconds or nanoseconds) as an aware datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1e9 if value > 1e14 else value / 1e3 if value > 1e11 else float(value)
        return datetime.fromtimestamp(seconds, UTC)
    if isinstance(value, str):
        text = value.strip().replace("Z", "+00:00")
        if text.isdigit():
            return parse_time(int(text))
        try:
            out = datetime.fromisoformat(text)
        except ValueError:
            raise UserError(f"not a timestamp: {value!r}") from None
        return out if out.tzinfo else out.replace(tzinfo=UTC)
    raise UserError(f"not a timestamp: {value!r}")


@dataclass
class Bundle:
    """What a connector read: item rows, human label rows and the verdict rows of each judge run, with notes.

    Rows are plain import records (the columns of ``judgekit import items|labels|verdicts``) located at the
    platform record they came from, so every error names it.
    """

    platform: str
    items: list[Row] = field(default_factory=list)
    labels: list[Row] = field(default_factory=list)
    verdicts: dict[str, list[Row]] = field(default_factory=dict)
    """Run name -> its verdict rows (one per item)."""
    models: dict[str, str] = field(default_factory=dict)
    """Run name -> the judge's model name, where the platform records it."""
    skipped: dict[str, int] = field(default_factory=dict)
    """Why records were left out -> how many (unknown authorship, other score names, code scorers ...)."""
    source: str = ""
    """Where the data came from (a file, a server), recorded with the runs."""

    def skip(self, reason: str, n: int = 1) -> None:
        """Count a record left out, with the reason the summary prints."""
        self.skipped[reason] = self.skipped.get(reason, 0) + n


@dataclass(frozen=True)
class ConnectorResult:
    """The outcome of one connector import: the three imports' counts, per run, and what was left out."""

    platform: str
    items: ImportResult
    labels: ImportResult
    verdicts: dict[str, ImportResult]
    provenance: dict[str, int]
    skipped: dict[str, int]

    def summary(self) -> str:
        """Lines for the CLI."""
        counts = ", ".join(f"{n} {p}" for p, n in sorted(self.provenance.items()))
        lines = [
            f"{self.platform}: {self.items.summary()}",
            f"{self.platform}: {self.labels.summary(f' ({counts})' if counts else '')}",
        ]
        for run, res in sorted(self.verdicts.items()):
            lines.append(f"{self.platform}: run {run}: {res.summary()}")
        for reason, n in sorted(self.skipped.items()):
            lines.append(f"{self.platform}: left out {n}: {reason}")
        return "\n".join(lines)


def import_bundle(project: Project, bundle: Bundle, rubric: Rubric) -> ConnectorResult:
    """Import a connector's rows through the existing importers, all in one transaction."""
    if not bundle.items:
        raise UserError(
            f"{bundle.platform}: nothing to import from {bundle.source or 'the source'}"
            + (
                " (left out: " + "; ".join(f"{n} {r}" for r, n in bundle.skipped.items()) + ")"
                if bundle.skipped
                else ""
            )
        )
    provenance: dict[str, int] = {}
    for row in bundle.labels:
        p = str(row.data.get("provenance") or "blind")
        provenance[p] = provenance.get(p, 0) + 1
    with project.transaction():
        items = import_items(project, bundle.items)
        labels = import_labels(project, bundle.labels, rubric)
        verdicts = {
            run: import_verdicts(
                project,
                rows,
                rubric,
                run_name=run,
                model=bundle.models.get(run),
                meta={"imported_from": bundle.platform, "source": bundle.source},
            )
            for run, rows in bundle.verdicts.items()
            if rows
        }
    return ConnectorResult(bundle.platform, items, labels, verdicts, provenance, dict(bundle.skipped))


def latest_per_item(rows: list[tuple[datetime | None, Row]]) -> tuple[list[Row], int]:
    """One verdict per item: the latest (by time, then position) of each item's judge scores; and how many went."""
    best: dict[str, tuple[datetime, int, Row]] = {}
    floor = datetime.min.replace(tzinfo=UTC)
    for pos, (when, row) in enumerate(rows):
        key = str(row.data["item_id"])
        cand = (when or floor, pos, row)
        if key not in best or cand[:2] > best[key][:2]:
            best[key] = cand
    kept = sorted(best.values(), key=lambda t: t[1])
    return [r for _, _, r in kept], len(rows) - len(kept)


def require(obj: Mapping[str, Any], key: str, row: Row, what: str = "text") -> Any:
    """A required field of a platform record, or a located error."""
    value = obj.get(key)
    if value is None or value == "":
        raise row.error(f"missing (required {what})", field=key)
    return value


def record_row(data: dict[str, Any], path: str, pos: int) -> Row:
    """An import row located at record ``pos`` of ``path`` (fields that are ``None`` left out)."""
    return Row({k: v for k, v in data.items() if v is not None}, path, pos)


def platform_error(path: str, line: int | None, message: str, field: str | None = None) -> InputError:
    """A located error about a platform record (not one of judgekit's rows)."""
    return InputError(message, path=path, line=line, field=field)


@dataclass(frozen=True)
class PlatformScore:
    """One score, annotation, assessment or feedback as a platform records it, before mapping.

    ``kind`` is who made it, as the platform says (never inferred from ``name``); ``provenance`` is set when the
    platform itself records that a human score corrects a judge's (MLflow ``overrides``, LangSmith ``correction``,
    an Inspect score edit); otherwise :func:`metadata_provenance` decides from ``metadata``.
    """

    path: str
    line: int
    item: str
    """The platform id of the scored record (trace, span, run, sample), before ``id_prefix``."""
    name: str
    value: Any
    kind: Authorship
    author: str | None = None
    """The annotator (human) or the judge's name (judge), when recorded."""
    comment: str | None = None
    created_at: datetime | None = None
    metadata: Mapping[str, Any] | None = None
    provenance: Provenance | None = None
    confidence: float | None = None
    field: str = "value"
    """The record's field holding the value (for error messages)."""


def add_scores(bundle: Bundle, scores: Iterable[PlatformScore], mapping: ScoreMapping, known: set[str]) -> None:
    """Map the platform scores named ``mapping.score`` to label and verdict rows of ``bundle``.

    Human scores become labels (time order, so a person's later score is a revision); judge scores become the
    verdicts of one run per judge (the latest score per item); scores of unknown authorship, of other names and
    of items not in the export are left out and counted.
    """
    chosen: list[PlatformScore] = []
    names: set[str] = set()
    for s in scores:
        names.add(s.name)
        if s.name != mapping.score:
            bundle.skip("scores with another name")
        elif s.kind == "skip":
            bundle.skip("scores of unknown authorship (see this command's --help)")
        elif s.item not in known:
            bundle.skip("scores of records not in the export")
        else:
            chosen.append(s)
    if not chosen and mapping.score not in names:
        raise UserError(
            f"{bundle.platform}: no score named {mapping.score!r} in {bundle.source or 'the source'}"
            + (f"; scores found: {', '.join(sorted(names)[:20])}" if names else "; it holds no scores")
        )
    floor = datetime.min.replace(tzinfo=UTC)
    first_judge: dict[str, datetime] = {}
    for s in chosen:
        if s.kind == "judge":
            when = s.created_at or floor
            first_judge[s.item] = min(first_judge.get(s.item, when), when)
    judges = sorted({s.author or "" for s in chosen if s.kind == "judge"})
    per_run: dict[str, list[tuple[datetime | None, Row]]] = {}
    humans: list[tuple[datetime, int, Row]] = []
    for pos, s in enumerate(chosen):
        loc = Row({}, s.path, s.line)
        level = mapping.level(s.value, loc, s.field)
        item_id = mapping.item_id(s.item)
        if s.kind == "human":
            after = s.item in first_judge and (s.created_at is None or first_judge[s.item] <= s.created_at)
            prov = s.provenance or metadata_provenance(
                s.metadata, after_judge=after, assume_seen=mapping.assume_judge_seen
            )
            data: dict[str, Any] = {
                "item_id": item_id,
                "annotator": s.author or f"{bundle.platform}:anonymous",
                "label": level,
                "critique": s.comment,
                "created_at": s.created_at.isoformat() if s.created_at else None,
                "provenance": prov,
            }
            humans.append((s.created_at or floor, pos, Row(data, s.path, s.line)))
        else:
            run = mapping.run or f"{bundle.platform}:{mapping.score}"
            if len(judges) > 1:
                run += f":{s.author or 'unnamed'}"
            vdata: dict[str, Any] = {"item_id": item_id, "label": level, "rationale": s.comment}
            if s.confidence is not None:
                vdata["confidence"] = s.confidence
            if s.created_at is not None:
                vdata["created_at"] = s.created_at.isoformat()
            per_run.setdefault(run, []).append((s.created_at, Row(vdata, s.path, s.line)))
            if s.author:
                bundle.models.setdefault(run, s.author)
    bundle.labels.extend(r for _, _, r in sorted(humans, key=lambda t: (t[0], t[1])))
    for run, rows in per_run.items():
        kept, dropped = latest_per_item(rows)
        bundle.verdicts[run] = kept
        if dropped:
            bundle.skip(f"earlier judge scores of an item (run {run} keeps the latest)", dropped)
