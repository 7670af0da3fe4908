"""The batch jobs of judge runs in the project database: tables ``judge_batches`` and ``judge_batch_requests``
(migration 11); this module owns their SQL.

Why a row before anything is sent: a batch is paid for by the provider whether or not judgekit is still running
when it ends. The row (with the custom id of every request in it) is committed before the input file is uploaded,
and each step's outcome (file id, "about to create", the provider's batch id) is committed as soon as it is known,
so a run killed at any moment (``kill -9``) knows, on ``--resume``, what it may have sent and never sends it again
(:mod:`judgekit.judging.batch.runner`).

States: ``prepared`` (requests chosen, nothing sent) -> ``uploaded`` (OpenAI: input file id known) ->
``submitting`` (a create call may have reached the provider: look for the batch before creating another) ->
``submitted`` (the provider's batch id known) -> ``ended`` (the provider says it is over) -> ``fetched`` (results
stored), or ``abandoned`` (never submitted, or gone at the provider).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from judgekit.storage import Project, now_iso

OUTSTANDING = ("prepared", "uploaded", "submitting", "submitted", "ended")
"""States of a batch whose requests may still get results."""
_IN_CHUNK = 500


@dataclass(frozen=True)
class BatchRow:
    """One batch job of a run, as stored."""

    id: str
    """Local id (``jkb-...``): named in the provider's metadata and the input file's name."""
    run_id: int
    api: str
    round: int
    state: str
    remote_id: str | None
    file_id: str | None
    remote_status: str | None
    candidates: tuple[str, ...]
    """Anthropic batches that may be this one (a create whose reply was lost): verified by their custom ids."""
    n_requests: int
    n_done: int
    n_ok: int
    n_retry: int
    n_error: int
    input_tokens: int
    output_tokens: int
    cost_usd: float | None
    estimate_usd: float | None
    cancel_requested: bool
    error: str | None
    created_at: str
    submitted_at: str | None
    ended_at: str | None

    @property
    def outstanding(self) -> bool:
        return self.state in OUTSTANDING


_COLUMNS = (
    "id, run_id, api, round, state, remote_id, file_id, remote_status, candidates_json, n_requests, n_done, n_ok,"
    " n_retry, n_error, input_tokens, output_tokens, cost_usd, estimate_usd, cancel_requested, error, created_at,"
    " submitted_at, ended_at"
)


def _row(r: Sequence[Any]) -> BatchRow:
    return BatchRow(
        id=r[0],
        run_id=int(r[1]),
        api=r[2],
        round=int(r[3]),
        state=r[4],
        remote_id=r[5],
        file_id=r[6],
        remote_status=r[7],
        candidates=tuple(json.loads(r[8])) if r[8] else (),
        n_requests=int(r[9]),
        n_done=int(r[10]),
        n_ok=int(r[11]),
        n_retry=int(r[12]),
        n_error=int(r[13]),
        input_tokens=int(r[14]),
        output_tokens=int(r[15]),
        cost_usd=r[16],
        estimate_usd=r[17],
        cancel_requested=bool(r[18]),
        error=r[19],
        created_at=r[20],
        submitted_at=r[21],
        ended_at=r[22],
    )


def new_batch(
    project: Project, run_id: int, api: str, round_: int, custom_ids: Sequence[str], estimate: float | None
) -> BatchRow:
    """Record a batch of ``custom_ids`` (state ``prepared``) in one transaction, before anything is sent."""
    batch_id = f"jkb-{run_id}-{secrets.token_hex(4)}"
    now = now_iso()
    with project.transaction() as db:
        db.execute(
            "INSERT INTO judge_batches (id, run_id, api, round, state, n_requests, estimate_usd, created_at,"
            " updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
            (batch_id, run_id, api, round_, "prepared", len(custom_ids), estimate, now, now),
        )
        db.insert_rows("judge_batch_requests", ("batch_id", "custom_id"), [(batch_id, k) for k in custom_ids])
    return get_batch(project, batch_id)


def get_batch(project: Project, batch_id: str) -> BatchRow:
    r = project.db.one(f"SELECT {_COLUMNS} FROM judge_batches WHERE id = ?", (batch_id,))
    if r is None:
        raise KeyError(batch_id)
    return _row(r)


def run_batches(project: Project, run_id: int, *, outstanding: bool = False) -> list[BatchRow]:
    """The batches of a run, oldest first (only the outstanding ones with ``outstanding``)."""
    sql = f"SELECT {_COLUMNS} FROM judge_batches WHERE run_id = ?"
    params: list[Any] = [run_id]
    if outstanding:
        sql += f" AND state IN ({','.join('?' * len(OUTSTANDING))})"
        params += list(OUTSTANDING)
    return [_row(r) for r in project.db.rows(sql + " ORDER BY created_at, id", params)]


def batch_custom_ids(project: Project, batch_id: str) -> list[str]:
    """The custom ids of a batch's requests, in the order they were recorded."""
    rows = project.db.rows(
        "SELECT custom_id FROM judge_batch_requests WHERE batch_id = ? ORDER BY custom_id", (batch_id,)
    )
    return [r[0] for r in rows]


@dataclass
class RequestHistory:
    """What the batches of a run did with one request (custom id)."""

    rounds: int = 0
    """Batches it was put in."""
    outstanding: bool = False
    """It is in a batch that may still return its result."""
    outcome: str | None = None
    """The latest result: ``ok``, ``retry``, ``error`` or ``None``."""
    detail: str | None = None


def request_history(project: Project, run_id: int) -> dict[str, RequestHistory]:
    """Per custom id, what this run's batches did with it."""
    rows = project.db.rows(
        "SELECT r.custom_id, r.outcome, r.detail, b.state FROM judge_batch_requests r"
        " JOIN judge_batches b ON b.id = r.batch_id WHERE b.run_id = ? ORDER BY b.created_at, b.id",
        (run_id,),
    )
    out: dict[str, RequestHistory] = {}
    for key, outcome, detail, state in rows:
        h = out.setdefault(key, RequestHistory())
        if state == "abandoned":
            continue
        h.rounds += 1
        if state in OUTSTANDING and outcome is None:
            h.outstanding = True
        if outcome is not None:
            h.outcome, h.detail = outcome, detail
    return out


def update_batch(project: Project, batch_id: str, **fields: Any) -> None:
    """Set columns of a batch row (``candidates`` is stored as JSON) and its ``updated_at``, in one transaction."""
    if "candidates" in fields:
        fields["candidates_json"] = json.dumps(list(fields.pop("candidates")))
    if "cancel_requested" in fields:
        fields["cancel_requested"] = int(bool(fields["cancel_requested"]))
    fields["updated_at"] = now_iso()
    cols = ", ".join(f"{k} = ?" for k in fields)
    with project.transaction() as db:
        db.execute(f"UPDATE judge_batches SET {cols} WHERE id = ?", (*fields.values(), batch_id))


def record_outcomes(project: Project, batch_id: str, outcomes: Iterable[tuple[str, str, str | None]]) -> None:
    """Store ``(custom_id, outcome, detail)`` of a batch's requests (call inside the fetch's transaction)."""
    with project.transaction() as db:
        db.executemany(
            "UPDATE judge_batch_requests SET outcome = ?, detail = ? WHERE batch_id = ? AND custom_id = ?",
            [(o, d, batch_id, k) for k, o, d in outcomes],
        )


def drop_requests(project: Project, batch_id: str, custom_ids: Sequence[str]) -> None:
    """Remove requests from a batch that was never sent (their items changed since it was prepared)."""
    with project.transaction() as db:
        db.executemany(
            "DELETE FROM judge_batch_requests WHERE batch_id = ? AND custom_id = ?", [(batch_id, k) for k in custom_ids]
        )
        n = int(db.scalar("SELECT COUNT(*) FROM judge_batch_requests WHERE batch_id = ?", (batch_id,)))
        db.execute("UPDATE judge_batches SET n_requests = ?, updated_at = ? WHERE id = ?", (n, now_iso(), batch_id))


def known_remote_ids(project: Project, *, excluding: str | None = None) -> set[str]:
    """Provider batch ids the project's batches have recorded, as their own or as candidates (a batch found at the
    provider that is none of them may be the one a lost create call made); ``excluding`` a batch row's own."""
    ids: set[str] = set()
    for local, remote, cands in project.db.rows("SELECT id, remote_id, candidates_json FROM judge_batches"):
        if local == excluding:
            continue
        if remote:
            ids.add(remote)
        ids.update(json.loads(cands) if cands else ())
    return ids


@dataclass(frozen=True)
class BatchTotals:
    """The batches of a run, summed (``judgekit runs show``)."""

    batches: int
    by_state: dict[str, int]
    requests: int
    ok: int
    retry: int
    error: int
    cost_usd: float
    outstanding_estimate_usd: float


def batch_totals(project: Project, run_id: int) -> BatchTotals:
    rows = run_batches(project, run_id)
    by_state: dict[str, int] = {}
    for b in rows:
        by_state[b.state] = by_state.get(b.state, 0) + 1
    return BatchTotals(
        batches=len(rows),
        by_state=by_state,
        requests=sum(b.n_requests for b in rows),
        ok=sum(b.n_ok for b in rows),
        retry=sum(b.n_retry for b in rows),
        error=sum(b.n_error for b in rows),
        cost_usd=sum(b.cost_usd or 0.0 for b in rows),
        outstanding_estimate_usd=sum(b.estimate_usd or 0.0 for b in rows if b.outstanding),
    )
