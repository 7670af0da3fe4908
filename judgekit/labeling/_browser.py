"""The disagreement browser as the admin page serves it: a page of the snapshot's disagreement table with what has
changed since (adjudications, as they are now) and a text snippet per row.

Why apart from :mod:`judgekit.labeling._admin`: the table is computed once per snapshot; a page of it is read on
every click, so it only adds a few indexed reads (the page's items and their adjudications) to
:func:`judgekit.labeling.browse`, which is pure.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from judgekit.agreement import ProjectEvidence, TrustCriteria
from judgekit.labeling._adjudicate import adjudications, gold_label
from judgekit.labeling._admin import (
    DisagreementPage,
    DisagreementRow,
    Kind,
    Sort,
    browse,
    disagreement_table,
    judge_runs,
)
from judgekit.labeling._render import snippet
from judgekit.labeling._snapshot import AdminSnapshot, resolved_since
from judgekit.models import Item, Rubric
from judgekit.storage import Project

PAGE_SIZE = 50


class BrowserQuery(BaseModel):
    """What the admin asked the browser for (as the page sends it; unknown values fall back to the defaults)."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    kind: Kind = "judge"
    run: str | None = None
    status: Literal["open", "resolved", "all"] = "open"
    sort: Sort = "auto"
    offset: int = Field(default=0, ge=0)
    limit: int = Field(default=PAGE_SIZE, ge=1, le=200)


def parse_query(raw: object, runs: list[str]) -> BrowserQuery:
    """The page's query, validated field by field (a bad field gets its default, never an error page)."""
    if not isinstance(raw, dict):
        return BrowserQuery()
    good: dict[str, object] = {}
    for name in BrowserQuery.model_fields:
        if name in raw:
            try:
                BrowserQuery.model_validate({name: raw[name]})
            except ValueError:
                continue
            good[name] = raw[name]
    if good.get("run") not in (None, *runs):
        good.pop("run")
    return BrowserQuery.model_validate(good)


def item_snippet(item: Item | None, limit: int = 140) -> str:
    """One line of an item for a list: its input, else its conversation's first user turn, else its output."""
    if item is None:
        return ""
    text = item.input or ""
    if not text and item.messages:
        text = next((m.text() for m in item.messages if m.role == "user"), "") or item.messages[0].text()
    if not text:
        text = item.output or item.output_a or ""
    return snippet(text, limit)


def _fill(project: Project, rubric: Rubric, page: DisagreementPage) -> DisagreementPage:
    """Snippets and current gold labels for the rows of a page (two reads for the page's items)."""
    ids = [r.item_id for r in page.rows]
    items = {it.id: it for it in project.items(ids)} if ids else {}
    found = adjudications(project, rubric, ids)
    rows = [
        r.model_copy(
            update={"snippet": item_snippet(items.get(r.item_id)), "gold": gold_label(rubric, found.get(r.item_id, []))}
        )
        for r in page.rows
    ]
    return page.model_copy(update={"rows": rows})


def disagreement_page(
    project: Project, rubric: Rubric, snapshot: AdminSnapshot, query: BrowserQuery
) -> DisagreementPage:
    """A page of the snapshot's disagreements under ``query``; "open" / "resolved" and the gold labels are as of
    now (adjudications made since the snapshot count)."""
    resolved: set[str] = resolved_since(project, rubric, snapshot) if query.status != "all" else set()
    page = browse(
        snapshot.disagreements,
        kind=query.kind,
        run=query.run,
        status=query.status,
        resolved=resolved,
        sort=query.sort,
        offset=query.offset,
        limit=query.limit,
    )
    return _fill(project, rubric, page)


def disagreements(
    project: Project,
    rubric: Rubric,
    *,
    run: str | None = None,
    kind: Kind = "judge",
    sort: Sort = "auto",
    limit: int = 100,
    criteria: TrustCriteria | None = None,
) -> list[DisagreementRow]:
    """The disagreements of a rubric version computed now (no snapshot): for notebooks and scripts. One entry per
    item, every judge beside the labels, in the browser's order (see :func:`judgekit.labeling.browse`)."""
    c = criteria or TrustCriteria()
    shared = ProjectEvidence(project)
    data = [shared.aligned(r, c) for r in judge_runs(project, rubric)]
    if data:
        table = disagreement_table(data[0], data)
    else:
        from judgekit.agreement import load_aligned

        table = disagreement_table(load_aligned(project, None, rubric, humans=shared.humans(rubric)), [])
    return _fill(project, rubric, browse(table, kind=kind, run=run, sort=sort, limit=limit)).rows
