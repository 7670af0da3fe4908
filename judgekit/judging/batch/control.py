"""What the CLI shows and does with a run's batches: ``judgekit runs show`` (status and cost) and
``judgekit runs cancel`` (cancel them at the provider)."""

from __future__ import annotations

from dataclasses import dataclass, field

from judgekit.errors import UserError
from judgekit.judging.batch import store
from judgekit.judging.batch.api import BatchApi, make_batch_api
from judgekit.judging.options import RunOptions
from judgekit.judging.providers.base import PermanentError, TransientError
from judgekit.judging.providers.registry import get_provider
from judgekit.models import JudgeRun
from judgekit.storage import Project


def batch_lines(project: Project, run: JudgeRun) -> list[str]:
    """Lines for ``judgekit runs show``: the run's batches summed, then one line per batch (empty: no batches)."""
    rows = store.run_batches(project, run.id)
    if not rows:
        return []
    t = store.batch_totals(project, run.id)
    states = ", ".join(f"{k} {v}" for k, v in sorted(t.by_state.items()))
    fetched = [b for b in rows if b.state == "fetched"]
    if not fetched:
        cost = "no results yet"
    elif all(b.cost_usd is None for b in fetched):
        cost = "cost unknown (the model has no price)"
    else:
        cost = f"${t.cost_usd:.4f} at batch prices"
    held = f" (+ about ${t.outstanding_estimate_usd:.4f} still running)" if t.outstanding_estimate_usd else ""
    out = [
        f"batches: {t.batches} ({states}); {t.requests:,} requests: {t.ok:,} replies, {t.retry:,} to retry, "
        f"{t.error:,} refused",
        f"  {cost}{held}",
    ]
    for b in rows:  # two lines each, to fit 80 columns with the providers' long batch ids
        line = f"  {b.id}, round {b.round}: {b.state}, {b.n_requests:,} requests"
        if b.state == "fetched":
            line += f", {b.n_ok:,} ok" + (f", ${b.cost_usd:.4f}" if b.cost_usd is not None else "")
        elif b.outstanding and b.n_done:
            line += f", {b.n_done:,} done"
        if b.cancel_requested and b.outstanding:
            line += ", cancel requested"
        out.append(line)
        remote = b.remote_id or (f"one of {', '.join(b.candidates)}" if b.candidates else None)
        detail = [f"provider batch {remote}" + (f" ({b.remote_status})" if b.remote_status else "")] if remote else []
        if b.error:
            detail.append(b.error[:70])
        out += [f"    {d}" for d in detail]
    return out


@dataclass
class CancelReport:
    """What :func:`cancel_batches` did."""

    cancelled: list[str] = field(default_factory=list)
    """Provider batch ids asked to stop."""
    unsent: int = 0
    """Batches recorded but never sent (now abandoned)."""
    failed: list[str] = field(default_factory=list)
    """Messages of cancel calls that failed (the batch may still run)."""


def _api_for(run: JudgeRun) -> BatchApi:
    provider = get_provider(run.config.provider)
    stored = run.meta.get("options")
    options = RunOptions.model_validate(stored) if isinstance(stored, dict) else RunOptions()
    if provider.capabilities.batch is None:
        raise UserError(f"run {run.name!r} uses {provider.name}, which has no batch API")
    adapter = provider.make(run.config.model, base_url=run.config.base_url, timeout=options.timeout, max_connections=1)
    return make_batch_api(provider.capabilities.batch, adapter, timeout=options.timeout)


async def cancel_batches(project: Project, run: JudgeRun, *, api: BatchApi | None = None) -> CancelReport:
    """Cancel the run's outstanding batches at the provider.

    The run is marked cancelled first (a process still judging it submits nothing more, collects what the
    cancelled batches finished and stops); batches never sent are abandoned, submitted ones are cancelled with the
    provider's cancel call. Requests a batch finished before the cancel keep their results (they are billed): the
    next ``judgekit judge --resume RUN`` fetches them, and carries on with the rest."""
    rows = store.run_batches(project, run.id, outstanding=True)
    report = CancelReport()
    project.set_run_status(run.id, "interrupted", meta={"batch_cancelled": True, "stop_reason": "cancelled"})
    if not rows:
        return report
    api = api or _api_for(run)
    try:
        for row in rows:
            ids: list[str] = [row.remote_id] if row.remote_id else list(row.candidates)
            if row.state in ("prepared", "uploaded"):
                store.update_batch(project, row.id, state="abandoned", error="cancelled before it was sent")
                report.unsent += 1
                continue
            if row.state == "submitting":  # its create reply was lost: find it before cancelling it
                try:
                    ids = await api.find_created(row, store.known_remote_ids(project, excluding=row.id))
                except (TransientError, PermanentError) as exc:
                    report.failed.append(f"{row.id}: {exc}")
                    continue
                if not ids:
                    store.update_batch(
                        project, row.id, state="abandoned", error="cancelled; never reached the provider"
                    )
                    report.unsent += 1
                    continue
                store.update_batch(project, row.id, state="submitted", candidates=ids)
            for rid in ids:
                try:
                    remote = await api.cancel(rid)
                except (TransientError, PermanentError) as exc:
                    report.failed.append(f"{rid}: {exc}")
                    continue
                report.cancelled.append(rid)
                store.update_batch(project, row.id, cancel_requested=True, remote_status=remote.status)
    finally:
        await api.adapter.aclose()
    return report
