"""judgekit labeling app: annotators label items blind, admins watch progress and agreement.

Run with ``judgekit label [--db PATH] [--rubric ID]`` or ``JUDGEKIT_DB=PATH streamlit run labeling_app/app.py``
(``streamlit run labeling_app/app.py -- --db PATH --rubric ID`` works too).

Why it is thin: every rule (who gets which item, what a valid label is, one transaction per submit, agreement
figures) lives in :mod:`judgekit.labeling`, where it is tested without a browser. This file only lays out
widgets. Item text is untrusted: it is always rendered as plain text (``st.code`` / ``st.text``), never as
markdown or HTML, so a ``<script>`` tag or an image link in an item shows as characters and loads nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import streamlit as st

try:
    import judgekit  # noqa: F401
except ImportError:  # running from a source checkout without an install
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from judgekit.agreement import render_overview
from judgekit.errors import JudgekitError, UserError
from judgekit.io import export_labels
from judgekit.labeling import (
    Annotator,
    agreement_summary,
    authenticate,
    critique_required,
    disagreements,
    display_order,
    flags,
    label_history,
    my_labels,
    next_item,
    progress,
    progress_all,
    queue_entries,
    shown_label,
    skip_item,
    submit_label,
)
from judgekit.models import Item, Rubric, parse_key
from judgekit.storage import Project, resolve_db

ADMIN_PAGE = "Admin"
LABEL_PAGE = "Label"


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--db", default=None)
    parser.add_argument("--rubric", default=None)
    known, _ = parser.parse_known_args(sys.argv[1:])
    return known


def _project() -> Project:
    """One connection per browser session (a Project is not shared between threads)."""
    args = _args()
    location = resolve_db(args.db)  # a SQLite file or a PostgreSQL URL
    proj: Project | None = st.session_state.get("_project")
    if proj is None or st.session_state.get("_project_db") != location:
        proj = Project(location, create=False)
        st.session_state["_project"] = proj
        st.session_state["_project_db"] = location
    return proj


def _rubric(project: Project) -> Rubric | None:
    wanted = _args().rubric or os.environ.get("JUDGEKIT_RUBRIC")
    if wanted:
        return project.rubric(*parse_key(wanted, "rubric"))
    latest: dict[str, Rubric] = {}
    for r in project.rubrics():
        latest[r.id] = r
    if not latest:
        return None
    if len(latest) == 1:
        return next(iter(latest.values()))
    choice = st.sidebar.selectbox("Rubric", sorted(latest), key="rubric_choice")
    return latest[str(choice)]


# -- sign-in ------------------------------------------------------------------------------------------------


def _sign_in(project: Project) -> None:
    st.title("judgekit labeling")
    st.write("Sign in with the access code your admin gave you.")
    with st.form("signin", clear_on_submit=True):
        code = st.text_input("Access code", type="password", key="code")
        ok = st.form_submit_button("Sign in", type="primary")
    if ok:
        failures = int(st.session_state.get("_failures", 0))
        if failures >= 5:
            time.sleep(min(5.0, 0.5 * failures))  # slows guessing; codes are long anyway
        who = authenticate(project, code or "")
        if who is None:
            st.session_state["_failures"] = failures + 1
            st.error("Unknown or inactive access code.")
            return
        st.session_state["annotator"] = who
        st.session_state.pop("_failures", None)
        st.rerun()


# -- labeling -----------------------------------------------------------------------------------------------


def _new_task(item_id: str | None, mode: str = "queue") -> dict[str, Any]:
    """What one rendered form is about; ``request_id`` makes its submit idempotent (double click, rerun)."""
    return {"item_id": item_id, "mode": mode, "request_id": uuid.uuid4().hex, "shown_at": time.monotonic()}


def _show_text(title: str, text: str | None, key: str) -> None:
    if text is None or text == "":
        return
    st.caption(title)
    # st.code renders the string verbatim inside <pre><code>: no markdown, no HTML, nothing loaded or run.
    st.code(text, language=None, wrap_lines=True)


def _show_item(item: Item, rubric: Rubric, annotator: str) -> None:
    _show_text("Instruction / input", item.input, "input")
    _show_text("Context", item.context, "context")
    _show_text("Reference answer", item.reference, "reference")
    if item.is_pairwise:
        order = display_order(annotator, item.id)
        left, right = (item.output_a, item.output_b) if order == "ab" else (item.output_b, item.output_a)
        col_l, col_r = st.columns(2)
        with col_l:
            _show_text("Response A", left, "left")
        with col_r:
            _show_text("Response B", right, "right")
    else:
        _show_text("Response", item.output, "output")


def _pick(value: str) -> None:
    st.session_state["choice"] = value


def _do_submit(project: Project, rubric: Rubric, who: Annotator) -> None:
    task = st.session_state.get("task")
    choice = st.session_state.get("choice")
    if not task or not task.get("item_id"):
        return
    if choice is None:
        st.session_state["message"] = ("error", f"Pick a level first (keys 1-{len(rubric.scale.levels)}).")
        return
    rid = task["request_id"]
    try:
        stored = submit_label(
            project,
            who.name,
            rubric,
            task["item_id"],
            choice,
            critique=st.session_state.get(f"critique_{rid}"),
            flagged=bool(st.session_state.get(f"flag_{rid}")),
            time_spent_s=time.monotonic() - task["shown_at"],
            request_id=rid,
            as_shown=True,
        )
    except UserError as exc:
        st.session_state["message"] = ("error", str(exc))
        return
    what = "Revised" if stored.revision > 1 else "Saved"
    st.session_state["message"] = ("success", f"{what} label for item {stored.item_id} (revision {stored.revision}).")
    st.session_state["task"] = None
    st.session_state["choice"] = None


def _do_skip(project: Project, rubric: Rubric, who: Annotator) -> None:
    task = st.session_state.get("task")
    if not task or not task.get("item_id"):
        return
    rid = task["request_id"]
    if task["mode"] == "revise":
        st.session_state["message"] = ("info", "Revision cancelled.")
    else:
        flagged = bool(st.session_state.get(f"flag_{rid}"))
        skip_item(
            project, who.name, rubric, task["item_id"], flagged=flagged, note=st.session_state.get(f"critique_{rid}")
        )
        st.session_state["message"] = (
            "info",
            f"Skipped item {task['item_id']}" + (" and flagged it." if flagged else "."),
        )
    st.session_state["task"] = None
    st.session_state["choice"] = None


def _start_revision(project: Project, rubric: Rubric, who: Annotator, item_id: str) -> None:
    task = _new_task(item_id, "revise")
    old = project.latest_label(item_id, who.name, rubric.id, rubric.version)
    if old is not None:
        st.session_state["choice"] = shown_label(rubric, old.label, old.display_order)
        st.session_state[f"critique_{task['request_id']}"] = old.critique or ""
        st.session_state[f"flag_{task['request_id']}"] = old.flagged
    st.session_state["task"] = task


@st.fragment
def _labeling(project: Project, rubric: Rubric, who: Annotator) -> None:
    """The form; a fragment, so picking a level or submitting reruns only this part of the page."""
    task = st.session_state.get("task")
    if task is None:
        item = next_item(project, who.name, rubric)
        task = _new_task(None if item is None else item.id)
        st.session_state["task"] = task
        st.session_state["choice"] = None
    prog = progress(project, who.name, rubric, ensure=False)
    st.progress(
        prog.fraction, text=f"{prog.labelled} labelled · {prog.remaining} left for you · {prog.skipped} skipped"
    )
    msg = st.session_state.pop("message", None)
    if msg is not None:
        kind, text = msg
        {"success": st.success, "error": st.error, "info": st.info}[kind](text)
    if task["item_id"] is None:
        st.info("Nothing left for you to label right now. Thank you!")
        if st.button("Check again", key="check_again"):
            st.session_state["task"] = None
            st.rerun(scope="fragment")
        return
    item = project.get_item(task["item_id"])
    if item is None:
        st.session_state["task"] = None
        st.rerun(scope="fragment")
        return
    rid = task["request_id"]
    if task["mode"] == "revise":
        history = label_history(project, who.name, rubric, item.id)
        st.warning(f"Revising your label on item {item.id} ({len(history)} earlier revision(s) kept).")
    st.subheader(f"Item {item.id}")
    _show_item(item, rubric, who.name)

    st.markdown(f"**{rubric.title}**")
    choice = st.session_state.get("choice")
    for i, level in enumerate(rubric.scale.levels):
        number = i + 1
        cols = st.columns([2, 5], vertical_alignment="center")
        with cols[0]:
            st.button(
                level.name,
                key=f"level_{i}",
                on_click=_pick,
                args=(level.value,),
                shortcut=str(number) if number <= 9 else None,
                type="primary" if choice == level.value else "secondary",
                width="stretch",
            )
        with cols[1]:
            st.text(level.definition)
    needs = choice is not None and critique_required(rubric, choice)
    st.checkbox("Flag this item for review (unclear, broken, offensive ...)", key=f"flag_{rid}")
    st.text_area(
        "Critique (required for this level)" if needs else "Critique (optional)",
        key=f"critique_{rid}",
        placeholder="Why? (press Tab, then Enter, to submit from here)",
        height=90,
    )
    c1, c2, _ = st.columns([1, 1, 3])
    with c1:
        st.button(
            "Submit", key="submit", type="primary", shortcut="Enter", on_click=_do_submit, args=(project, rubric, who)
        )
    with c2:
        st.button(
            "Cancel revision" if task["mode"] == "revise" else "Skip",
            key="skip",
            shortcut="S",
            on_click=_do_skip,
            args=(project, rubric, who),
        )
    st.caption(f"Keys: 1-{min(9, len(rubric.scale.levels))} pick a level · Enter submits · S skips")

    with st.expander("My labels (revise an earlier one)"):
        mine = my_labels(project, who.name, rubric)
        if not mine:
            st.text("You have not labelled anything yet.")
        for lab in mine[:50]:
            a, b = st.columns([4, 1])
            name = next(
                lv.name for lv in rubric.scale.levels if lv.value == shown_label(rubric, lab.label, lab.display_order)
            )
            a.text(f"{lab.item_id}: {name}" + (f" (revision {lab.revision})" if lab.revision > 1 else ""))
            b.button(
                "Revise",
                key=f"revise_{lab.item_id}",
                on_click=_start_revision,
                args=(project, rubric, who, lab.item_id),
            )


# -- admin --------------------------------------------------------------------------------------------------


def _admin(project: Project, rubric: Rubric, who: Annotator) -> None:
    if not who.is_admin:  # the page is not offered to annotators; this guards a hand-made URL too
        st.error("Admins only.")
        return
    st.title(f"Admin · {rubric.key}")
    st.subheader("Progress")
    rows = [
        {
            "annotator": p.annotator,
            "labelled": p.labelled,
            "skipped": p.skipped,
            "flagged": p.flagged,
            "revisions": p.revisions,
            "left for them": p.remaining,
        }
        for p in progress_all(project, rubric)
    ]
    st.dataframe(rows, hide_index=True, key="progress_table")

    st.subheader("Agreement (95% bootstrap intervals; the figures of judgekit agree)")
    st.text(render_overview(agreement_summary(project, rubric)))

    st.subheader("Disagreements (judge vs reference label, most confident first)")
    runs = sorted(
        {
            r.name
            for r in project.runs()
            if r.config.rubric_id == rubric.id and r.config.rubric_version == rubric.version
        }
    )
    run = st.selectbox("Judge run", ["all", *runs], key="dis_run")
    found = disagreements(project, rubric, run=None if run == "all" else run, limit=50)
    if not found:
        st.text("No disagreements yet.")
    for d in found:
        conf = "n/a" if d.confidence is None else f"{d.confidence:.2f}"
        with st.expander(
            f"{d.item.id}: judge {d.run} said {d.judge_label} (confidence {conf}); reference: {', '.join(d.majority)}"
        ):
            _show_text("Input", d.item.input, "dinput")
            if d.item.is_pairwise:
                _show_text("Output A", d.item.output_a, "da")
                _show_text("Output B", d.item.output_b, "db")
            else:
                _show_text("Output", d.item.output, "dout")
            _show_text("Judge rationale", d.rationale, "drat")
            for h in d.human_labels:
                st.text(f"{h.annotator}: {h.label}" + (f" — {h.critique}" if h.critique else ""))

    st.subheader("Flagged items")
    fl = flags(project, rubric)
    if fl:
        st.dataframe(
            [{"item": f.item_id, "annotator": f.annotator, "kind": f.kind, "note": f.note or ""} for f in fl],
            hide_index=True,
            key="flags_table",
        )
    else:
        st.text("No flags.")

    st.subheader("Top of the queue")
    st.dataframe(
        [
            {"item": e.item_id, "priority": e.priority, "labels": f"{e.n_labelled}/{e.target}", "why": e.reasons}
            for e in queue_entries(project, rubric, limit=20)
        ],
        hide_index=True,
        key="queue_table",
    )

    st.subheader("Export")
    history = st.checkbox("Include every revision", key="export_history")
    fmt = st.radio("Format", ["jsonl", "csv"], horizontal=True, key="export_fmt")
    data = export_labels(
        project, "csv" if fmt == "csv" else "jsonl", rubric_id=rubric.id, rubric_version=rubric.version, history=history
    )
    st.download_button(
        "Download labels", data, file_name=f"labels-{rubric.id}-v{rubric.version}.{fmt}", key="export_button"
    )


# -- page ---------------------------------------------------------------------------------------------------


def main() -> None:
    st.set_page_config(page_title="judgekit labeling", layout="wide")
    try:
        project = _project()
    except JudgekitError as exc:
        st.error(f"Cannot open the project: {exc}")
        st.stop()
    who: Annotator | None = st.session_state.get("annotator")
    if who is None:
        _sign_in(project)
        return
    rubric = _rubric(project)
    if rubric is None:
        st.error("The project has no rubric yet: add one with 'judgekit import rubric FILE'.")
        return
    st.sidebar.write(f"Signed in as **{who.name}**" + (" (admin)" if who.is_admin else ""))
    st.sidebar.text(rubric.key)
    page = LABEL_PAGE
    if who.is_admin:
        page = str(st.sidebar.radio("Page", [LABEL_PAGE, ADMIN_PAGE], key="page"))
    elif st.query_params.get("page") == "admin":
        page = ADMIN_PAGE  # shown as "Admins only" by _admin
    if st.sidebar.button("Sign out", key="sign_out"):
        for k in list(st.session_state.keys()):
            if k != "_project":
                del st.session_state[k]
        st.rerun()
    if page == ADMIN_PAGE:
        _admin(project, rubric, who)
    else:
        _labeling(project, rubric, who)


main()
