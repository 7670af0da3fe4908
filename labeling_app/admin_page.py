"""The admin page of the labeling app: completion, agreement with intervals (the report's figures), the
disagreement browser with adjudication, annotators' progress, flags and the queue, sign-in lockouts, the export.

Why it is fast at any size: everything that does not change per click (the trust assessment of every judge run,
the human ceiling, the report's plots, progress, flags, the disagreement table) is one snapshot computed by
:mod:`judgekit.labeling` in a separate process when the data moves on (see ``judgekit/labeling/_snapshot.py``);
the page reads it (parsed once per server process) and says how fresh it is. A small fragment checks every few
seconds and reloads the page when new figures are ready. The disagreement browser is a browser component
(``admin.js``): moving through the list and filling in a gold label happen in the page; filters, pages, item
details and gold labels are what travel to the server, each a fragment run.

This file holds no rules and computes nothing: every figure comes from :mod:`judgekit.labeling` and
:mod:`judgekit.agreement` (formatted by :func:`judgekit.agreement.render.figure_cell`, the CLI's formatter); item
text reaches the page as the safe HTML of :func:`judgekit.labeling.render_markdown`, everything else as text.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from functools import partial
from typing import Any

import streamlit as st
from browser_components import SESSION, component

from judgekit.agreement import TrustCriteria, load_criteria, render_text
from judgekit.agreement.render import figure_cell
from judgekit.errors import UserError
from judgekit.io import export_labels
from judgekit.labeling import (
    PAGE_SIZE,
    SORTS,
    AdminSnapshot,
    Annotator,
    DisagreementPage,
    Outcome,
    Session,
    answer_outbox,
    apply_admin_actions,
    ceiling_rows,
    completion,
    cookie_name,
    criterion_figure_rows,
    disagreement_page,
    failed_attempts,
    item_detail,
    judge_rows,
    labelled_rubric,
    lead_view,
    levels,
    lockouts,
    numeric_figure_rows,
    parse_admin_actions,
    parse_query,
    queue_entries,
    request_refresh,
    snapshot_state,
)
from judgekit.models import PROVENANCES, Rubric
from judgekit.storage import Project

KEY = "adjudication"
POLL_S = 3.0
"""How often the page checks for new figures (a few indexed reads)."""
_DONE = "_adj_done"
_KEEP_DONE = 500
BLOCK = 200
"""Rows of the disagreement table sent at once (the most a query may ask): admin.js shows them PAGE_SIZE at a time,
so turning to another page of the block needs no server round."""
_SHOWN = "_adj_shown"  # the query of the page last sent, to send its first items' details with a new one
KINDS = [["judge", "Judge vs people"], ["tie", "People tied (no majority)"], ["all", "Both"]]
STATUSES = [["open", "Not adjudicated"], ["resolved", "Adjudicated"], ["all", "All"]]
SECTIONS = ["Agreement", "Disagreements", "Annotators", "Flags & queue", "Sign-ins", "Export"]
TAB_KEY = "section"
"""The tabs' key: also the URL's query parameter naming the open section (``?page=admin&section=Disagreements``)."""
VERDICT_BOX = {"TRUSTED": st.success, "NOT TRUSTED": st.error, "INSUFFICIENT EVIDENCE": st.warning}

BROWSER = component("judgekit_admin", js="admin.js", css=["desk.css", "admin.css"])

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~$])")


def _md(text: object) -> str:
    """Text (a run name, a reason) with markdown's special characters escaped, for the few places that render
    markdown (titles, alerts): data never becomes a link, an image or markup."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def _utc(ts: float, fmt: str = "%H:%M:%S") -> str:
    return datetime.fromtimestamp(ts, UTC).strftime(fmt)


def render(project: Project, rubric: Rubric, who: Annotator, session: Session) -> None:
    """The admin page (admins only)."""
    if not who.is_admin:  # the page is not offered to annotators; this guards a hand-made URL too
        st.error("Admins only.")
        return
    try:
        criteria = load_criteria(rubric_id=rubric.id)
    except UserError as exc:
        st.error(f"The trust criteria could not be read: {exc}")
        return
    st.title(f"Admin · {_md(rubric.key)}")
    left = max(60, int(session.expires_at - time.time()))
    cookie = {"name": cookie_name(project), "token": session.token, "max_age": left}
    SESSION(key="session_cookie", data={"cookie": cookie})  # a reload stays signed in, whichever section is open
    state = snapshot_state(project, rubric, criteria)
    if request_refresh(project, rubric, criteria, state=state) and state.snapshot is None:
        state = snapshot_state(project, rubric, criteria)  # an inline refresh has finished by now
    snapshot = state.snapshot
    _freshness(project, rubric, criteria, None if snapshot is None else snapshot.computed_at)
    done = completion(project, labelled_rubric(project, rubric))  # an aligned version: its root's labelling
    st.progress(done.fraction, text=done.line())
    # Only the open section is computed and sent (a tab switch is a run): the page the browser builds holds one
    # section's elements, not six; the open section is in the URL, so a reload (or a bookmark) reopens it.
    tabs = st.tabs(SECTIONS, key=TAB_KEY, on_change="rerun", bind="query-params")
    agreement, browser, people, flagged, sign_ins, export = tabs
    if agreement.open:
        with agreement:
            _agreement(snapshot)
    if browser.open:
        with browser:
            _browser(project, lead_view(rubric), session, snapshot)  # rated criteria: the unit figures lead with
    if people.open:
        with people:
            _annotators(snapshot)
    if flagged.open:
        with flagged:
            _flags_and_queue(project, rubric, snapshot)
    if sign_ins.open:
        with sign_ins:
            _sign_ins(project)
    if export.open:
        with export:
            _export(project, rubric)


# -- freshness ----------------------------------------------------------------------------------------------------


def _force(project: Project, rubric: Rubric, criteria: TrustCriteria) -> None:
    request_refresh(project, rubric, criteria, force=True)


@st.fragment(run_every=POLL_S)
def _freshness(project: Project, rubric: Rubric, criteria: TrustCriteria, shown: float | None) -> None:
    """How fresh the figures are; starts a refresh when they are stale, and reloads the page when new ones are
    ready."""
    state = snapshot_state(project, rubric, criteria)
    if state.snapshot is None or not state.fresh:
        request_refresh(project, rubric, criteria, state=state)
        state = snapshot_state(project, rubric, criteria)
    now_shown = None if state.snapshot is None else state.snapshot.computed_at
    if now_shown != shown:
        st.rerun(scope="app")
    left, right = st.columns([5, 1])
    left.caption(_md(state.describe()))
    right.button(
        "Recompute now",
        key="refresh_now",
        on_click=_force,
        args=(project, rubric, criteria),
        disabled=state.refreshing_since is not None,
        help="Recompute every figure from the data as it is now (runs in the background).",
    )


# -- agreement ----------------------------------------------------------------------------------------------------


def _figure_table(rows: list[Any], *, both: bool) -> None:
    if both:
        data = [
            {
                "figure": r.title,
                "failures counted as wrong": figure_cell(r.value),
                "ok verdicts only": "" if r.ok_only is None else figure_cell(r.ok_only),
            }
            for r in rows
        ]
    else:
        data = [{"figure": r.title, "value [95% interval] n": figure_cell(r.value)} for r in rows]
    st.table(data)  # a static table: a few rows, readable text (cells are our own formatted figures)


@st.fragment
def _agreement(snapshot: AdminSnapshot | None) -> None:
    """The figures; a fragment, so opening one of its expanders (lazy: sent when opened) reruns only this."""
    if snapshot is None:
        st.info("Computing the figures for the first time: they appear here when ready.")
        return
    ref = snapshot.reference
    level = f"{snapshot.criteria.confidence_level:.0%}"
    st.text(
        f"{snapshot.n_items_labelled:,} labelled items, {snapshot.n_overlap_items:,} with at least two blind labels. "
        f"Reference label: {ref.description}; on {ref.n_with_reference:,} items"
        + (f" ({ref.n_ties:,} ties left out)" if ref.n_ties else "")
        + (f" ({ref.n_not_adjudicated:,} not adjudicated, left out)" if ref.n_not_adjudicated else "")
        + f". Intervals: {level} bootstrap ({snapshot.criteria.n_boot} resamples), as in judgekit agree."
    )
    st.subheader("Human ceiling (people vs people)")
    _figure_table(ceiling_rows(snapshot.ceiling), both=False)
    counted = snapshot.ceiling.n_pairs_counted
    pairs = st.expander(
        f"Every annotator pair ({len(snapshot.ceiling.pairs)}; {counted} with enough shared items)",
        key="pairs_open",
        on_change="rerun",  # lazy: the table (1,225 rows at 50 annotators) is sent only when opened
    )
    if pairs.open:
        pairs.dataframe(
            [
                {
                    "pair": f"{p.a} vs {p.b}",
                    "Cohen's kappa [95% interval] n": figure_cell(p.kappa),
                    "counted": p.counted,
                }
                for p in snapshot.ceiling.pairs
            ],
            hide_index=True,
            key="pairs_table",
        )
    if snapshot.runs and (people := numeric_figure_rows(snapshot.runs[0].assessment, "people")):
        st.caption("Interval scales: people among themselves (as judgekit agree shows them)")
        _figure_table(people, both=False)
    if not snapshot.runs:
        st.text("No judge run of this rubric version yet: the judge figures appear once one is imported or run.")
        return
    if snapshot.comparison_svg:
        st.image(snapshot.comparison_svg)
    for r in snapshot.runs:
        a = r.assessment
        st.subheader(f"Judge {_md(a.run)} ({_md(a.provider)}:{_md(a.model)})")
        VERDICT_BOX.get(a.verdict, st.info)(f"**{a.verdict}**" + "".join(f"\n- {_md(reason)}" for reason in a.reasons))
        _figure_table(judge_rows(a), both=True)
        if per_criterion := criterion_figure_rows(a):
            st.caption("Per criterion: people among themselves beside the judge, ICC on interval scales, else kappa")
            st.table(
                [
                    {
                        "criterion": c.criterion,
                        "scale": c.scale,
                        "estimand": c.estimand,
                        "people [95% interval] n": figure_cell(c.people),
                        "judge [95% interval] n": figure_cell(c.judge),
                        "verdict": c.verdict,
                    }
                    for c in per_criterion
                ]
            )
        if numeric := numeric_figure_rows(a, "judge"):
            st.caption("Interval scales: the judge's numeric figures (as judgekit agree shows them)")
            _figure_table(numeric, both=False)
        st.table(
            [
                {
                    "criterion": c.name,
                    "outcome": c.outcome,
                    "measured": c.measured.fmt() if c.measured else "n/a",
                    "needs": "" if c.threshold is None else f"{c.direction} {c.threshold:g}",
                }
                for c in a.criteria
            ]
        )
        cols = st.columns(2)
        for n, (name, svg) in enumerate(r.plots.items()):
            with cols[n % 2]:
                st.caption(name.replace("_", " "))
                st.image(svg)
        printed = st.expander("As judgekit agree prints it", key=f"printed_open_{a.run}", on_change="rerun")
        if printed.open:  # lazy: a long text block is costly to lay out, and rarely opened
            printed.code(render_text(a), language=None)


# -- the disagreement browser -------------------------------------------------------------------------------------


def _noop() -> None:
    """The browser's state is read at the top of each run; the callback only registers the state key."""


def _outcomes(project: Project, token: str, rubric: Rubric, raw: Any) -> list[Outcome]:
    actions, malformed = parse_admin_actions(raw)
    done: dict[str, Outcome] = st.session_state.setdefault(_DONE, {})
    return (
        answer_outbox(done, actions, partial(apply_admin_actions, project, token, rubric), keep=_KEEP_DONE) + malformed
    )


@st.fragment
def _browser(project: Project, rubric: Rubric, session: Session, snapshot: AdminSnapshot | None) -> None:
    """One round of the browser: apply the gold labels sent, then send the page asked for and the details
    wanted."""
    token = session.token
    raw = st.session_state.get(KEY) or {}
    state = raw.get("adj") if isinstance(raw, dict) else None
    state = state if isinstance(state, dict) else {}
    outcomes = _outcomes(project, token, rubric, state.get("outbox"))
    if any(o.status == "ended" for o in outcomes):
        st.session_state["_ended"] = next(o.message for o in outcomes if o.status == "ended")
        st.rerun(scope="app")
    runs = [] if snapshot is None else snapshot.disagreements.runs
    query = parse_query(state.get("query", {"limit": BLOCK}), runs)  # at first, the first block
    if snapshot is None:
        page = DisagreementPage(total=0, offset=0, rows=[])
    else:
        page = disagreement_page(project, rubric, snapshot, query)
    wanted = [i for i in state.get("want") or [] if isinstance(i, str)][:3]
    shown = f"{query.model_dump_json()} {None if snapshot is None else snapshot.computed_at}"
    if st.session_state.get(_SHOWN) != shown:  # a new page (or new figures): its first items come with it
        wanted += [r.item_id for r in page.rows[:3]]
        st.session_state[_SHOWN] = shown
    details = {}
    for item_id in dict.fromkeys(wanted):
        try:
            details[item_id] = item_detail(project, rubric, item_id).model_dump(mode="json")
        except UserError:
            continue  # an item id the page made up: nothing to show
    st.session_state["_adj_round"] = st.session_state.get("_adj_round", 0) + 1
    note = None
    if snapshot is None:
        note = "The disagreements come with the first figures."
    elif not runs:
        note = "No judge run yet: only items on which people tie are listed (choose 'People tied')."
    data = {
        "scope": f"{project.name}:{rubric.key}",
        "round": st.session_state["_adj_round"],
        "seen": state.get("nonce") if isinstance(state.get("nonce"), int) else 0,
        "levels": [lv.model_dump(mode="json") for lv in levels(rubric)],
        "runs": runs,
        "kinds": KINDS,
        "statuses": STATUSES,
        "sorts": [[k, v] for k, v in SORTS.items()],
        "query": query.model_dump(mode="json"),
        "page": page.model_dump(mode="json"),
        "details": details,
        "outcomes": [o.model_dump(mode="json") for o in outcomes],
        "note": note,
        "page_size": PAGE_SIZE,
        "block": BLOCK,
    }
    BROWSER(key=KEY, data=data, default={"adj": {}}, on_adj_change=_noop)


# -- people, flags, queue, sign-ins, export -----------------------------------------------------------------------


def _annotators(snapshot: AdminSnapshot | None) -> None:
    if snapshot is None:
        st.text("Progress comes with the first figures.")
        return
    st.caption(f"As of {_utc(snapshot.computed_at)} UTC (with the figures).")
    st.dataframe(
        [
            {
                "annotator": p.annotator,
                "labelled": p.labelled,
                "skipped": p.skipped,
                "flagged": p.flagged,
                "revisions": p.revisions,
                "left for them": p.remaining,
            }
            for p in snapshot.progress
        ],
        hide_index=True,
        key="progress_table",
    )


def _flags_and_queue(project: Project, rubric: Rubric, snapshot: AdminSnapshot | None) -> None:
    st.subheader("Flagged items")
    if snapshot is None:
        st.text("Flags come with the first figures.")
    elif snapshot.flags:
        st.caption(f"{len(snapshot.flags):,} flags, newest first (as of {_utc(snapshot.computed_at)} UTC).")
        st.dataframe(
            [
                {
                    "item": f.item_id,
                    "annotator": f.annotator,
                    "kind": f.kind,
                    "note": f.note or "",
                    "when": f.created_at,
                }
                for f in snapshot.flags[:500]
            ],
            hide_index=True,
            key="flags_table",
        )
    else:
        st.text("No flags.")
    st.subheader("Top of the queue")
    top = queue_entries(project, labelled_rubric(project, rubric), limit=20, ensure=False)
    if not top:
        st.text("Nothing is waiting for labels.")
        return
    st.dataframe(
        [
            {"item": e.item_id, "priority": e.priority, "labels": f"{e.n_labelled}/{e.target}", "why": e.reasons}
            for e in top
        ],
        hide_index=True,
        key="queue_table",
    )


def _sign_ins(project: Project) -> None:
    st.subheader("Sign-in lockouts")
    locked = lockouts(project)
    if locked:
        st.dataframe(
            [
                {
                    "locked out": f"{lk.kind} {lk.who}",
                    "failed attempts (15 min)": lk.failures,
                    "until (UTC)": _utc(lk.until),
                }
                for lk in locked
            ],
            hide_index=True,
            key="lockouts_table",
        )
    else:
        st.text("Nobody is locked out.")
    failed = failed_attempts(project, limit=20)
    st.subheader("Latest failed sign-ins")
    if failed:
        st.dataframe(
            [
                {
                    "when (UTC)": _utc(at, "%Y-%m-%d %H:%M:%S"),
                    "annotator": name or "(unknown code)",
                    "client": client or "",
                    "refused (locked out)": refused,
                }
                for at, name, client, refused in failed
            ],
            hide_index=True,
            key="failed_signins_table",
        )
    else:
        st.text("No failed sign-ins.")


@st.fragment
def _export(project: Project, rubric: Rubric) -> None:
    """The labels of this rubric version as a file, made when the button is pressed (on a million labels that
    takes a while; nothing is prepared for a page load)."""
    history = st.checkbox("Include every revision", key="export_history")
    fmt = str(st.radio("Format", ["jsonl", "csv"], horizontal=True, key="export_fmt"))
    kinds = st.multiselect(
        "Provenance",
        list(PROVENANCES),
        default=list(PROVENANCES),
        key="export_provenance",
        help="blind: the annotators' own labels; adjudicated: gold labels resolved here; corrected: corrections "
        "of a judge's score.",
    )
    url = project.url

    def make() -> str:
        with Project(url, create=False) as p:  # its own connection: this runs in another thread
            return export_labels(
                p,
                "csv" if fmt == "csv" else "jsonl",
                rubric_id=rubric.id,
                rubric_version=rubric.version,
                history=history,
                provenance=list(kinds) or None,
            )

    st.download_button(
        "Download labels",
        make,
        file_name=f"labels-{rubric.id}-v{rubric.version}.{fmt}",
        key="export_button",
        on_click="ignore",
        disabled=not kinds,
    )
