"""The annotator's page: one browser component (the desk, ``desk.js`` / ``desk.css``) in a Streamlit fragment.

Why a component: with Streamlit widgets every key press and click was a server round trip that re-sent the whole
form, keys pressed during one were lost, and the next item waited for the server. The desk handles keys and the
form in the page and exchanges only actions and item data with the server (see :mod:`judgekit.labeling._desk` for
the exchange), so picking a level costs nothing and the next item is already there when Enter is pressed.

This file holds no rules: each round it hands the page's outbox to :func:`judgekit.labeling.apply_actions` (which
checks the session first) and sends back what :func:`judgekit.labeling.desk_view` and friends return.
"""

from __future__ import annotations

import time
from functools import partial
from typing import Any

import streamlit as st
from browser_components import component

from judgekit.errors import UserError
from judgekit.labeling import (
    Outcome,
    Session,
    SessionEnded,
    answer_outbox,
    apply_actions,
    check_session,
    cookie_name,
    desk_view,
    my_labels_page,
    open_revision,
    parse_actions,
    progress,
    progress_line,
)
from judgekit.models import Rubric
from judgekit.storage import Project

KEY = "desk"
_DONE = "_desk_done"  # outcomes already given this browser session, by request id
_KEEP_DONE = 500

DESK = component("judgekit_desk", js="desk.js", css=["desk.css"])


def scope(project: Project, who: str, rubric: Rubric) -> str:
    """What the page's drafts and outbox are kept under: the project (its cookie name), the person, the rubric."""
    return f"{cookie_name(project)}:{who}:{rubric.key}"


def idle(project: Project, forget_who: str | None = None, *, forget: bool = False) -> None:
    """The desk before anyone signed in: nothing shown, but the component is already loaded (its code fetched and
    compiled while the person types their code), so signing in only hands it data. After a sign-out or an ended
    session (``forget``) the page drops the session cookie and the person's drafts (a pending outbox is kept for
    their next sign-in, so no submitted label is lost)."""
    data: dict[str, Any] = {"mode": "idle"}
    if forget:
        data |= {
            "cookie_name": cookie_name(project),
            "scope_prefix": f"{cookie_name(project)}:{forget_who}:" if forget_who else None,
        }
    DESK(key=KEY, data=data, default={"desk": {}}, on_desk_change=_noop)


def _noop() -> None:
    """The desk's state is read at the top of each run; the callback only registers the state key."""


def _outcomes(project: Project, session: Session, rubric: Rubric, raw: Any) -> list[Outcome]:
    actions, malformed = parse_actions(raw)
    done: dict[str, Outcome] = st.session_state.setdefault(_DONE, {})
    return (
        answer_outbox(done, actions, partial(apply_actions, project, session.token, rubric), keep=_KEEP_DONE)
        + malformed
    )


@st.fragment
def desk(project: Project, rubric: Rubric, token: str) -> None:
    """One round of the desk: apply the outbox, then send the items, answers and progress."""
    raw = st.session_state.get(KEY) or {}
    state = raw.get("desk") if isinstance(raw, dict) else None
    state = state if isinstance(state, dict) else {}
    try:
        session = check_session(project, token)
    except SessionEnded as exc:
        st.session_state["_ended"] = str(exc)
        st.rerun(scope="app")
    who = session.annotator.name
    outcomes = _outcomes(project, session, rubric, state.get("outbox"))
    if any(o.status == "ended" for o in outcomes):
        st.session_state["_ended"] = next(o.message for o in outcomes if o.status == "ended")
        st.rerun(scope="app")
    view = desk_view(project, who, rubric)
    revise = None
    opened = state.get("open")
    if isinstance(opened, str):
        try:
            revise = open_revision(project, who, rubric, opened).model_dump(mode="json")
        except UserError as exc:
            outcomes.append(Outcome(rid="-", item_id=opened, status="rejected", message=str(exc)))
    labels = None
    wanted = state.get("labels")
    if isinstance(wanted, dict):
        offset = wanted.get("offset")
        labels = my_labels_page(
            project, who, rubric, offset=offset if isinstance(offset, int) and offset >= 0 else 0
        ).model_dump(mode="json")
    mine = progress(project, who, rubric, ensure=False)
    st.session_state["_round"] = st.session_state.get("_round", 0) + 1
    data = {
        "mode": "desk",
        "round": st.session_state["_round"],
        "seen": state.get("nonce") if isinstance(state.get("nonce"), int) else 0,
        "scope": scope(project, who, rubric),
        "cookie": {
            "name": cookie_name(project),
            "token": token,
            "max_age": max(60, int(session.expires_at - time.time())),
        },
        "view": view.model_dump(mode="json"),
        "outcomes": [o.model_dump(mode="json") for o in outcomes],
        "revise": revise,
        "labels": labels,
        "progress": {"text": progress_line(mine, nothing_left=not view.items), "fraction": mine.fraction},
    }
    DESK(key=KEY, data=data, default={"desk": {}}, on_desk_change=_noop)
