"""judgekit labeling app: annotators label items blind, admins watch progress and agreement.

Run with ``judgekit label [--db PATH] [--rubric ID]`` or ``JUDGEKIT_DB=PATH streamlit run labeling_app/app.py``
(``streamlit run labeling_app/app.py -- --db PATH --rubric ID`` works too).

Why it is thin: every rule (who gets which item, what a valid label is, one transaction per submit, sessions,
sign-in throttling, how item text is rendered, agreement figures) lives in :mod:`judgekit.labeling`, where it is
tested without a browser. This file signs people in and hands them to the annotator's page (``label_page.py``,
the desk) or the admin page (``admin_page.py``).

Safe by default: unless the Streamlit server address was set explicitly (``judgekit label`` binds 127.0.0.1;
``--server.address`` on ``streamlit run``), the app serves this computer only, even though a bare ``streamlit run``
listens on every interface. Item text never runs or loads anything (see :func:`judgekit.labeling.render_markdown`).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

try:
    import judgekit  # noqa: F401
except ImportError:  # running from a source checkout without an install
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import label_page

from judgekit.errors import JudgekitError, UserError
from judgekit.labeling import (
    Session,
    SessionEnded,
    check_session,
    client_address,
    cookie_name,
    labelled_rubric,
    open_session,
    sign_in,
)
from judgekit.models import Rubric, parse_key
from judgekit.storage import Project, resolve_db

ADMIN_PAGE = "Admin"
LABEL_PAGE = "Label"


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--db", default=None)
    parser.add_argument("--rubric", default=None)
    known, _ = parser.parse_known_args(sys.argv[1:])
    return known


# How long a submit waits for another writer: after that the label stays in the page's outbox and is retried, so an
# annotator is told within seconds instead of waiting out a long import. (A comment, not a docstring: Streamlit's
# "magic" would print a bare string of the main script on the page.)
LOCK_TIMEOUT_S = 5.0


def _project() -> Project:
    """One connection per browser session (a Project is not shared between threads)."""
    args = _args()
    where = resolve_db(args.db)
    proj: Project | None = st.session_state.get("_project")
    if proj is None or st.session_state.get("_project_at") != where:
        proj = Project(where, create=False, lock_timeout=LOCK_TIMEOUT_S)
        st.session_state["_project"] = proj
        st.session_state["_project_at"] = where
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
    # in the URL (?rubric=ID): a reload or a bookmark stays on the rubric chosen
    choice = st.sidebar.selectbox("Rubric", sorted(latest), key="rubric", bind="query-params")
    return latest[str(choice)]


# -- who may see the app ------------------------------------------------------------------------------------


def _address_set_explicitly() -> bool:
    from streamlit import config

    return config.get_where_defined("server.address") != config.ConfigOption.DEFAULT_DEFINITION


def _peer() -> str | None:
    """The client's address as Streamlit reports it (``None`` for this machine, or when there is no connection)."""
    ip = st.context.ip_address
    return ip if isinstance(ip, str) and ip else None


def _refuse_remote() -> bool:
    """True when a client from another machine reached a server whose address nobody chose (a bare ``streamlit
    run`` listens on every interface): such a server serves this computer only."""
    return _peer() is not None and not _address_set_explicitly()


def _client() -> str:
    """The address sign-in attempts are throttled by (see :func:`judgekit.labeling.client_address`)."""
    forwarded = (
        st.context.headers.get("X-Forwarded-For")
        if _peer() is not None or os.environ.get("JUDGEKIT_TRUSTED_PROXIES")
        else None
    )
    return client_address(
        _peer(), forwarded if isinstance(forwarded, str) else None, os.environ.get("JUDGEKIT_TRUSTED_PROXIES")
    )


# -- sign-in ------------------------------------------------------------------------------------------------


def _current_session(project: Project) -> tuple[Session | None, str | None]:
    """The session of this browser (from this Streamlit session or the cookie), or ``None`` and why not."""
    token = st.session_state.get("token")
    if token is None and not st.session_state.get("_signed_out"):
        token = st.context.cookies.get(cookie_name(project))
    if not isinstance(token, str) or not token:
        return None, st.session_state.pop("_ended", None)
    try:
        session = check_session(project, token)
    except SessionEnded as exc:
        st.session_state.pop("token", None)
        st.session_state["_forget"] = True
        return None, (None if str(exc) == "Please sign in." else str(exc))
    st.session_state["token"] = token
    return session, None


def _sign_in_page(project: Project, notice: str | None, slot: DeltaGenerator) -> Session | None:
    """The sign-in form in ``slot``; returns the new session when a code was accepted (the desk then renders in this
    run, in place of the form)."""
    session = None
    with slot.container():
        st.title("judgekit labeling")
        if notice:
            st.warning(notice)
        st.write("Sign in with the access code your admin gave you.")
        with st.form("signin", clear_on_submit=True):
            code = st.text_input("Access code", type="password", key="code")
            ok = st.form_submit_button("Sign in", type="primary")
        if ok:
            result = sign_in(project, code or "", client=_client())
            if result.annotator is None:
                st.error(result.message)
            else:
                token = open_session(project, result.annotator)
                st.session_state["token"] = token
                st.session_state.pop("_signed_out", None)
                session = check_session(project, token)
    if session is not None:
        slot.empty()
    return session


def _sign_out() -> None:
    who = st.session_state.get("_who")
    for k in list(st.session_state.keys()):
        if k != "_project":
            del st.session_state[k]
    st.session_state["_signed_out"] = True
    st.session_state["_forget_who"] = who


# -- page ---------------------------------------------------------------------------------------------------


def main() -> None:
    st.set_page_config(page_title="judgekit labeling", layout="wide")
    if _refuse_remote():
        st.error(
            "This labeling app serves this computer only: it was started without choosing a network address. "
            "To let your team in, run it behind a reverse proxy with TLS (see 'Deploying for a team' in the "
            "README) or start it with an explicit --server.address."
        )
        st.stop()
    try:
        project = _project()
    except JudgekitError as exc:
        st.error(f"Cannot open the project: {exc}")
        st.stop()
    slot = st.empty()  # the sign-in form; the desk comes after it, at the same place before and after signing in
    session, notice = _current_session(project)
    if session is None:
        side = st.sidebar.empty()  # a sidebar before and after signing in: the page does not jump
        side.caption("Not signed in")
        session = _sign_in_page(project, notice, slot)
        side.empty()
        if session is None:
            side.caption("Not signed in")
            forget = bool(st.session_state.pop("_forget", False) or st.session_state.get("_signed_out"))
            label_page.idle(project, st.session_state.pop("_forget_who", None), forget=forget)
            return
    who = session.annotator
    st.session_state["_who"] = who.name
    try:
        rubric = _rubric(project)
    except UserError as exc:
        st.error(str(exc))
        return
    if rubric is None:
        st.error("The project has no rubric yet: add one with 'judgekit import rubric FILE'.")
        return
    st.sidebar.write(f"Signed in as **{who.name}**" + (" (admin)" if who.is_admin else ""))
    st.sidebar.text(rubric.key)
    page = LABEL_PAGE
    asked_admin = st.query_params.get("page") == "admin"  # a bookmark of the admin page
    if who.is_admin:
        page = str(st.sidebar.radio("Page", [LABEL_PAGE, ADMIN_PAGE], index=1 if asked_admin else 0, key="page"))
    elif asked_admin:
        page = ADMIN_PAGE  # shown as "Admins only" by the admin page
    st.sidebar.button("Sign out", key="sign_out", on_click=_sign_out)
    if page == ADMIN_PAGE:
        import admin_page  # statistics and pandas: loaded when an admin first needs them, not for every annotator

        admin_page.render(project, rubric, who, session)
    else:
        # people label the version whose labels count: after 'judgekit align' wrote v2, still v1 (its root)
        label_page.desk(project, labelled_rubric(project, rubric), session.token)


main()
