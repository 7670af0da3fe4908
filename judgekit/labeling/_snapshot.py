"""The admin page's figures, computed once per state of the data and kept in the project (table
``admin_snapshots``).

Why: at 100,000 items and 1,000,000 labels from 50 annotators the estimands behind the page (the trust assessment
of every judge run with its bootstrap intervals, the human ceiling over every pair of annotators, the report's
plots, everyone's progress, the flags, the disagreement table) take a minute or two to compute, while the page
must load in under 2 s and answer a click in under 500 ms. None of them changes with a click, only with the data.
So they are computed together into one :class:`AdminSnapshot` for a :class:`DataStamp` (what they were computed
from), stored, and shown until the data moves on; clicks filter and page what the snapshot holds.

Invalidation: the stamp holds the newest label id (labels are append-only and every write holds the project's write
lock, so any new label of any provenance raises it), the items' count and newest sequence number, the rubric
version's judge runs, the newest verdict id, the skips, the annotators, the queue's own stamp (its policy) and the
criteria the figures are judged under. A snapshot whose stamp differs from the data's is *stale*: the page still
shows it, saying how old it is and how many labels arrived since, and one refresh recomputes it.

Refreshing: :func:`request_refresh` claims the refresh in the snapshot's row (one refresh per rubric version at a
time, across every app process and server) and recomputes it in a separate, lower-priority process
(``python -m judgekit.labeling._refresher``), so annotators on the same server keep their speed; a refresh waits at
least as long as the last one took since it ended (at most half a core on average, at any scale), unless forced.
With ``JUDGEKIT_ADMIN_REFRESH=inline`` it runs in the calling process instead (tests; tiny projects).
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from judgekit.agreement import (
    HumanCeiling,
    ProjectEvidence,
    ReferenceSummary,
    TrustAssessment,
    TrustCriteria,
    agreement_overview,
    load_aligned,
)
from judgekit.labeling._admin import DisagreementTable, disagreement_table, flags, judge_runs, progress_all
from judgekit.labeling._queue import ensure_queue, labelled_rubric, queue_stamp
from judgekit.models import OVERALL, Rubric
from judgekit.storage import Project

SNAPSHOT_FORMAT = 1
"""Version of :class:`AdminSnapshot`'s layout: part of the stamp, so a snapshot written by another layout is stale."""
RefreshMode = Literal["background", "inline"]

_CONFIG = ConfigDict(frozen=True, ser_json_inf_nan="constants")


class DataStamp(BaseModel):
    """What a snapshot was computed from (see the module docstring). Equal stamps mean equal figures."""

    model_config = _CONFIG
    format: int = SNAPSHOT_FORMAT
    labels: int
    """The newest label id (any rubric, any provenance)."""
    items: tuple[int, int]
    """Item count and newest sequence number."""
    runs: tuple[int, int]
    """The rubric version's judge runs: count and newest id."""
    verdicts: int
    """The newest verdict id."""
    skips: int
    annotators: int
    queue: str | None
    """The queue's own stamp (items, verdicts, escalations, policy as it last built)."""
    criteria: str
    """sha256 of the criteria's JSON."""


_STAMP_SQL = """
SELECT
  (SELECT COALESCE(MAX(id), 0) FROM labels),
  (SELECT COUNT(*) FROM items),
  (SELECT COALESCE(MAX(seq), 0) FROM items),
  (SELECT COUNT(*) FROM judge_runs WHERE rubric_id = :rid AND rubric_version = :ver),
  (SELECT COALESCE(MAX(id), 0) FROM judge_runs WHERE rubric_id = :rid AND rubric_version = :ver),
  (SELECT COALESCE(MAX(id), 0) FROM verdicts),
  (SELECT COUNT(*) FROM skips WHERE rubric_id = :rid AND rubric_version = :lver),
  (SELECT COUNT(*) FROM annotators)
"""


def criteria_digest(criteria: TrustCriteria) -> str:
    """A short, stable digest of the criteria (part of the stamp)."""
    return hashlib.sha256(criteria.model_dump_json().encode()).hexdigest()[:16]


def data_stamp(project: Project, rubric: Rubric, criteria: TrustCriteria) -> DataStamp:
    """The data's stamp now: one round trip of index lookups and small counts, plus the queue's stamp. The runs are
    the rubric version's; skips and the queue are the version people label (:func:`labelled_rubric`)."""
    row = project.db.one(_STAMP_SQL, {"rid": rubric.id, "ver": rubric.version, "lver": rubric.labels_version})
    assert row is not None
    labels, n_items, max_seq, n_runs, max_run, max_verdict, n_skips, n_annotators = (int(x) for x in row)
    return DataStamp(
        labels=labels,
        items=(n_items, max_seq),
        runs=(n_runs, max_run),
        verdicts=max_verdict,
        skips=n_skips,
        annotators=n_annotators,
        queue=queue_stamp(project, labelled_rubric(project, rubric)),
        criteria=criteria_digest(criteria),
    )


# -- what a snapshot holds --------------------------------------------------------------------------------------


class ProgressRow(BaseModel):
    """One annotator's progress (:class:`judgekit.labeling.Progress`)."""

    model_config = _CONFIG
    annotator: str
    labelled: int
    skipped: int
    flagged: int
    revisions: int
    remaining: int


class FlagRow(BaseModel):
    """A flagged item (:class:`judgekit.labeling.Flag`)."""

    model_config = _CONFIG
    item_id: str
    annotator: str
    kind: str
    note: str | None
    created_at: str


class RunFigures(BaseModel):
    """One judge run's trust assessment (``judgekit agree --json`` for the run) and the report's plots of it."""

    model_config = _CONFIG
    run: str
    assessment: TrustAssessment
    plots: dict[str, str]
    """Plot name (``confusion``, ``forest``, ``reliability``, ``risk_coverage``) -> inline SVG."""


class AdminSnapshot(BaseModel):
    """Everything on the admin page that does not change per click, for one rubric version and one stamp."""

    model_config = _CONFIG
    format: int = SNAPSHOT_FORMAT
    rubric: str
    stamp: DataStamp
    computed_at: float
    """When the computation started (seconds since the epoch): the figures hold the data as of then."""
    seconds: float
    """How long it took."""
    criteria: TrustCriteria
    n_items_labelled: int
    n_overlap_items: int
    """Items with at least two blind labels."""
    reference: ReferenceSummary
    ceiling: HumanCeiling
    runs: list[RunFigures]
    comparison_svg: str | None = None
    """Every judge's kappa beside the human ceiling (the report's comparison plot), when there is a run."""
    progress: list[ProgressRow]
    flags: list[FlagRow]
    disagreements: DisagreementTable
    adjudicated: list[str]
    """Items with an adjudicated label when the snapshot was computed."""


def lead_view(rubric: Rubric) -> Rubric:
    """The rubric itself, or for a rubric with rated criteria the unit its assessment leads with (the overall rule
    if it has one, else its first criterion, as :func:`judgekit.agreement.combine_units` does): the labels the
    page's human ceiling and disagreement browser read."""
    if not rubric.is_rated:
        return rubric
    return rubric.view(OVERALL if rubric.overall is not None else rubric.criterion_names[0])


def compute_snapshot(project: Project, rubric: Rubric, criteria: TrustCriteria) -> AdminSnapshot:
    """Compute the admin page's figures from the data as it is (see the module docstring): the trust assessment of
    every judge run of the rubric version (:class:`judgekit.agreement.ProjectEvidence`: labels read and coded once,
    one human ceiling), the report's plots, progress, flags and the disagreement table."""
    from judgekit.report import figures as F  # matplotlib: only where figures are drawn

    started = time.time()
    t0 = time.perf_counter()
    ensure_queue(project, labelled_rubric(project, rubric))  # progress reads the queue: up to date before the stamp
    stamp = data_stamp(project, rubric, criteria)  # then: whatever arrives while computing makes it stale
    shared = ProjectEvidence(project)
    lead = lead_view(rubric)
    humans = shared.humans(lead)
    assessed = [shared.assess(run, criteria) for run in judge_runs(project, rubric)]
    if assessed:
        first = assessed[0][0]
        n_items, n_overlap, reference, ceiling = (
            first.n_items_labelled,
            first.ceiling.kappa.n_items,
            first.reference,
            first.ceiling,
        )
        base = assessed[0][1]
    else:
        overview = agreement_overview(project, lead, criteria)
        n_items, n_overlap, reference, ceiling = (
            overview.n_items_labelled,
            overview.n_overlap_items,
            overview.reference,
            overview.ceiling,
        )
        base = load_aligned(project, None, rubric, reference=criteria.reference, humans=humans)
    runs = [
        RunFigures(run=a.run, assessment=a, plots={k: F.svg_text(v) for k, v in F.assessment_figures(a).items()})
        for a, _ in assessed
    ]
    comparison = F.svg_text(F.comparison_figure([a for a, _ in assessed])) if assessed else None
    table = disagreement_table(base, [data for _, data in assessed])
    adjudicated = shared.humans(lead, "adjudicated").item_ids
    return AdminSnapshot(
        rubric=rubric.key,
        stamp=stamp,
        computed_at=started,
        seconds=time.perf_counter() - t0,
        criteria=criteria,
        n_items_labelled=n_items,
        n_overlap_items=n_overlap,
        reference=reference,
        ceiling=ceiling,
        runs=runs,
        comparison_svg=comparison,
        progress=[ProgressRow(**vars(p)) for p in progress_all(project, rubric)],
        flags=[FlagRow(**vars(f)) for f in flags(project, rubric)],
        disagreements=table,
        adjudicated=list(adjudicated),
    )


# -- stored snapshots -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SnapshotRow:
    """The stored row of a rubric version (without the payload)."""

    stamp: DataStamp | None
    computed_at: float | None
    seconds: float | None
    refresh_started: float | None
    refresh_owner: str | None
    error: str | None
    error_at: float | None


def _row(project: Project, rubric: Rubric) -> SnapshotRow | None:
    r = project.db.one(
        "SELECT stamp, computed_at, seconds, refresh_started, refresh_owner, error, error_at FROM admin_snapshots "
        "WHERE rubric_id = ? AND rubric_version = ?",
        (rubric.id, rubric.version),
    )
    if r is None:
        return None
    stamp = None
    if r[0] is not None:
        try:
            stamp = DataStamp.model_validate_json(r[0])
        except ValueError:  # another layout: stale
            stamp = None
    return SnapshotRow(stamp, r[1], r[2], r[3], r[4], r[5], r[6])


def save_snapshot(project: Project, snapshot: AdminSnapshot) -> None:
    """Store a snapshot for its rubric version (replacing the previous one), ending the refresh that made it."""
    rid, ver = snapshot.rubric.rsplit("@", 1)
    with project.transaction() as db:
        db.execute(
            "INSERT INTO admin_snapshots (rubric_id, rubric_version, stamp, computed_at, seconds, payload, "
            "refresh_started, refresh_owner, error, error_at) VALUES (?,?,?,?,?,?,NULL,NULL,NULL,NULL) "
            "ON CONFLICT (rubric_id, rubric_version) DO UPDATE SET stamp = excluded.stamp, "
            "computed_at = excluded.computed_at, seconds = excluded.seconds, payload = excluded.payload, "
            "refresh_started = NULL, refresh_owner = NULL, error = NULL, error_at = NULL",
            (
                rid,
                int(ver),
                snapshot.stamp.model_dump_json(),
                snapshot.computed_at,
                snapshot.seconds,
                snapshot.model_dump_json(),
            ),
        )


_CACHE: dict[tuple[str, str], AdminSnapshot] = {}
_CACHE_LOCK = threading.Lock()


def load_snapshot(project: Project, rubric: Rubric) -> AdminSnapshot | None:
    """The stored snapshot of a rubric version, or ``None``. Parsed once per process and kept while it is the
    stored one (a page load reads its row, not its payload)."""
    row = _row(project, rubric)
    if row is None or row.stamp is None or row.computed_at is None:
        return None
    key = (project.url, rubric.key)
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
    if cached is not None and cached.stamp == row.stamp and cached.computed_at == row.computed_at:
        return cached
    raw = project.db.scalar(
        "SELECT payload FROM admin_snapshots WHERE rubric_id = ? AND rubric_version = ?", (rubric.id, rubric.version)
    )
    if raw is None:
        return None
    try:
        snapshot = AdminSnapshot.model_validate_json(raw)
    except ValueError:  # written by another layout: recomputed on the next refresh
        return None
    with _CACHE_LOCK:
        _CACHE[key] = snapshot
    return snapshot


# -- freshness and refreshing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SnapshotState:
    """What the page needs to know about its figures now."""

    snapshot: AdminSnapshot | None
    current: DataStamp
    """The data's stamp now."""
    refreshing_since: float | None
    """When the refresh that is running started (``None``: none is running)."""
    error: str | None
    """Why the last refresh failed (cleared by the next one that succeeds)."""
    new_labels: int
    """Labels stored since the snapshot was computed (any rubric)."""

    @property
    def fresh(self) -> bool:
        """The snapshot holds the data as it is now."""
        return self.snapshot is not None and self.snapshot.stamp == self.current

    def describe(self, now: float | None = None) -> str:
        """One line for the page: when the figures were computed and from what, and whether newer data is being
        taken in (never presents stale figures as current)."""
        t = time.time() if now is None else now
        parts = []
        s = self.snapshot
        if s is None:
            parts.append("No figures yet.")
        else:
            when = datetime.fromtimestamp(s.computed_at, UTC).strftime("%Y-%m-%d %H:%M:%S")
            age = _ago(t - s.computed_at)
            parts.append(f"Figures computed from the data as of {when} UTC ({age} ago, took {s.seconds:.1f} s).")
            if self.fresh:
                parts.append("Up to date.")
            elif self.new_labels:
                parts.append(
                    f"{self.new_labels:,} label{'s' if self.new_labels != 1 else ''} stored since are not in them yet."
                )
            else:
                parts.append("The data changed since (items, judge runs, skips, annotators or settings).")
        if self.refreshing_since is not None:
            parts.append(f"Recomputing (started {_ago(t - self.refreshing_since)} ago).")
        elif s is not None and not self.fresh:
            parts.append("They are recomputed in the background shortly.")
        if self.error:
            parts.append(f"The last recomputation failed: {self.error}")
        return " ".join(parts)


def _ago(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _claim_alive(row: SnapshotRow | None, now: float) -> bool:
    """Whether the refresh recorded in ``row`` is still running: started, not timed out (15 min, or 5x the last
    refresh's duration), and, when it ran on this machine, its process still exists."""
    if row is None or row.refresh_started is None:
        return False
    timeout = max(900.0, 5 * (row.seconds or 0.0))
    if now - row.refresh_started > timeout:
        return False
    host, _, pid = (row.refresh_owner or "").rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        return _pid_alive(int(pid))
    return True


def snapshot_state(project: Project, rubric: Rubric, criteria: TrustCriteria) -> SnapshotState:
    """The stored snapshot, the data's stamp now, and whether a refresh is running (a few indexed reads)."""
    current = data_stamp(project, rubric, criteria)
    row = _row(project, rubric)
    snapshot = load_snapshot(project, rubric)
    running = row.refresh_started if _claim_alive(row, time.time()) and row is not None else None
    new = 0
    if snapshot is not None and snapshot.stamp.labels < current.labels:
        new = int(project.db.scalar("SELECT COUNT(*) FROM labels WHERE id > ?", (snapshot.stamp.labels,)))
    return SnapshotState(snapshot, current, running, None if row is None else row.error, new)


def resolved_since(project: Project, rubric: Rubric, snapshot: AdminSnapshot) -> set[str]:
    """Items adjudicated in the snapshot, and those adjudicated since (labels newer than the snapshot's newest
    label id: a range of the primary key)."""
    found = set(snapshot.adjudicated)
    found |= {
        str(r[0])
        for r in project.db.rows(
            "SELECT DISTINCT item_id FROM labels WHERE id > ? AND rubric_id = ? AND rubric_version = ? "
            "AND provenance = 'adjudicated'",
            (snapshot.stamp.labels, rubric.id, rubric.labels_version),
        )
    }
    return found


def refresh_mode() -> RefreshMode:
    """``JUDGEKIT_ADMIN_REFRESH``: ``background`` (default: a separate process) or ``inline``."""
    return "inline" if os.environ.get("JUDGEKIT_ADMIN_REFRESH", "").strip().lower() == "inline" else "background"


RETRY_AFTER_ERROR_S = 60.0
"""A refresh that failed is retried after this long (unless forced), not on every page load."""


def _may_start(row: SnapshotRow | None, now: float, *, force: bool, fresh: bool) -> bool:
    """Whether a refresh may start now: none running, and without ``force`` the snapshot is stale, the last refresh
    ended at least its own duration ago and the last failure is a minute old."""
    if _claim_alive(row, now):
        return False
    if force or row is None:
        return True
    if row.error_at is not None and now < row.error_at + RETRY_AFTER_ERROR_S:
        return False
    if row.computed_at is None:
        return True
    if fresh:
        return False
    ended = row.computed_at + (row.seconds or 0.0)
    return now >= ended + max(2.0, row.seconds or 0.0)


def _claim(project: Project, rubric: Rubric, *, force: bool, fresh: bool) -> bool:
    """Record that a refresh starts now if :func:`_may_start` allows it. Checked first without the write lock (a
    page asks every few seconds), then again under it: of several pages asking at once, one wins."""
    if not _may_start(_row(project, rubric), time.time(), force=force, fresh=fresh):
        return False
    with project.transaction() as db:
        now = time.time()
        if not _may_start(_row(project, rubric), now, force=force, fresh=fresh):
            return False
        db.execute(
            "INSERT INTO admin_snapshots (rubric_id, rubric_version, refresh_started, refresh_owner) VALUES (?,?,?,?) "
            "ON CONFLICT (rubric_id, rubric_version) DO UPDATE SET refresh_started = excluded.refresh_started, "
            "refresh_owner = excluded.refresh_owner",
            (rubric.id, rubric.version, now, _owner()),
        )
    return True


def _set_owner(project: Project, rubric: Rubric, owner: str) -> None:
    with project.transaction() as db:
        db.execute(
            "UPDATE admin_snapshots SET refresh_owner = ? WHERE rubric_id = ? AND rubric_version = ?",
            (owner, rubric.id, rubric.version),
        )


def _fail(project: Project, rubric: Rubric, error: str) -> None:
    with project.transaction() as db:
        db.execute(
            "UPDATE admin_snapshots SET refresh_started = NULL, refresh_owner = NULL, error = ?, error_at = ? "
            "WHERE rubric_id = ? AND rubric_version = ?",
            (error[:4000], time.time(), rubric.id, rubric.version),
        )


def run_refresh(project: Project, rubric: Rubric, criteria: TrustCriteria) -> AdminSnapshot | None:
    """Compute and store the snapshot under a claim already taken (what the refresher process runs). A failure is
    recorded in the row (the page shows it) instead of leaving the claim behind; returns ``None`` then."""
    _set_owner(project, rubric, _owner())
    try:
        snapshot = compute_snapshot(project, rubric, criteria)
    except Exception as exc:  # recorded for the page; the refresh's own log has the traceback
        traceback.print_exc()
        _fail(project, rubric, f"{type(exc).__name__}: {exc}")
        return None
    save_snapshot(project, snapshot)
    return snapshot


def request_refresh(
    project: Project,
    rubric: Rubric,
    criteria: TrustCriteria,
    *,
    state: SnapshotState | None = None,
    force: bool = False,
    mode: RefreshMode | None = None,
) -> bool:
    """Start a refresh of the snapshot when it is stale (or ``force``) and none is running; ``True`` if started.

    ``background`` (the default, :func:`refresh_mode`) recomputes in a separate process at a lower priority and
    returns at once; ``inline`` recomputes before returning.
    """
    st = state or snapshot_state(project, rubric, criteria)
    if not _claim(project, rubric, force=force, fresh=st.fresh):
        return False
    if (mode or refresh_mode()) == "inline":
        run_refresh(project, rubric, criteria)
        return True
    cmd = [
        sys.executable,
        "-m",
        "judgekit.labeling._refresher",
        "--db",
        project.url,
        "--rubric",
        rubric.key,
        "--criteria",
        criteria.model_dump_json(),
    ]
    try:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            close_fds=True,
        )
    except OSError as exc:
        _fail(project, rubric, f"could not start the refresh: {exc}")
        return False
    _set_owner(project, rubric, f"{socket.gethostname()}:{proc.pid}")
    _CHILDREN.append(proc)
    _reap()
    return True


_CHILDREN: list[subprocess.Popen[bytes]] = []


def _reap() -> None:
    """Collect refresher processes that ended (no zombies in a long-running app server)."""
    for proc in list(_CHILDREN):
        if proc.poll() is not None:
            _CHILDREN.remove(proc)


def wait_for_refresh(project: Project, rubric: Rubric, timeout: float = 120.0) -> bool:
    """Wait until no refresh is running (tests, scripts); ``True`` if none is running at the end."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _claim_alive(_row(project, rubric), time.time()):
            return True
        time.sleep(0.1)
    return False


def snapshot_payload_size(project: Project, rubric: Rubric) -> int:
    """Characters of the stored snapshot (0 without one), for the benchmark's and the docs' figures."""
    n = project.db.scalar(
        "SELECT LENGTH(payload) FROM admin_snapshots WHERE rubric_id = ? AND rubric_version = ?",
        (rubric.id, rubric.version),
    )
    return int(n or 0)
