"""The admin page of the labeling app: progress, agreement, disagreements, flags, the queue, lockouts, export.

Kept apart from the annotator's page (``label_page.py``) so it can be reworked on its own. Every figure comes from
:mod:`judgekit.labeling` (``progress_all``, ``agreement_summary``, ``disagreements``, ``flags``, ``queue_entries``,
``lockouts``); item text is shown as plain text (``st.code``), never as markdown or HTML.
"""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from judgekit.agreement import render_overview
from judgekit.io import export_labels
from judgekit.labeling import (
    Annotator,
    agreement_summary,
    disagreements,
    failed_attempts,
    flags,
    lockouts,
    progress_all,
    queue_entries,
)
from judgekit.models import Rubric
from judgekit.storage import Project


def _show_text(title: str, text: str | None, key: str) -> None:
    if text is None or text == "":
        return
    st.caption(title)
    # st.code renders the string verbatim inside <pre><code>: no markdown, no HTML, nothing loaded or run.
    st.code(text, language=None, wrap_lines=True)


def render(project: Project, rubric: Rubric, who: Annotator) -> None:
    """The admin page (admins only)."""
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

    st.subheader("Sign-in lockouts")
    locked = lockouts(project)
    if locked:
        st.dataframe(
            [
                {
                    "locked out": f"{lk.kind} {lk.who}",
                    "failed attempts (15 min)": lk.failures,
                    "until (UTC)": datetime.fromtimestamp(lk.until, UTC).strftime("%H:%M:%S"),
                }
                for lk in locked
            ],
            hide_index=True,
            key="lockouts_table",
        )
    else:
        st.text("Nobody is locked out.")
    failed = failed_attempts(project, limit=10)
    if failed:
        st.caption("Latest failed sign-ins")
        st.dataframe(
            [
                {
                    "when (UTC)": datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S"),
                    "annotator": name or "(unknown code)",
                    "client": client or "",
                    "refused (locked out)": refused,
                }
                for at, name, client, refused in failed
            ],
            hide_index=True,
            key="failed_signins_table",
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
