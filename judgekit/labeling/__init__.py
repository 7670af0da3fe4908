"""Human labeling: annotators, access codes and sessions, assignment and queue, submit/skip/flag/revise, the
annotator's desk (what the labeling page shows and does), admin figures.

The Streamlit app (``labeling_app/app.py``, started by ``judgekit label``) is a thin front end over this
package; everything here works, and is tested, without it. Importing it does not import streamlit.
"""

from judgekit.labeling._annotators import (
    Annotator,
    add_annotator,
    authenticate,
    get_annotator,
    list_annotators,
    reset_code,
    set_active,
)
from judgekit.labeling._desk import (
    AHEAD,
    DeskAction,
    DeskItem,
    DeskView,
    Level,
    MyLabel,
    MyLabels,
    Outcome,
    Prior,
    apply_actions,
    desk_item,
    desk_view,
    empty_message,
    is_busy,
    levels,
    my_labels_page,
    open_revision,
    parse_actions,
    progress_line,
)
from judgekit.labeling._queue import (
    CONFIDENTLY_WRONG,
    AssignmentPolicy,
    QueueEntry,
    display_order,
    ensure_queue,
    get_policy,
    in_overlap,
    next_item,
    next_items,
    open_item_count,
    queue_entries,
    raise_abstained,
    rebuild_queue,
    release_claim,
    set_policy,
)
from judgekit.labeling._render import (
    Pane,
    item_panes,
    render_markdown,
    snippet,
)
from judgekit.labeling._sessions import (
    SESSION_HOURS,
    Session,
    SessionEnded,
    check_session,
    cookie_name,
    end_all_sessions,
    open_session,
)
from judgekit.labeling._signin import (
    Lockout,
    SignIn,
    clear_lockout,
    client_address,
    failed_attempts,
    lockouts,
    sign_in,
)
from judgekit.labeling._work import (
    Progress,
    critique_required,
    label_history,
    my_labels,
    progress,
    shown_label,
    skip_item,
    submit_label,
)

# The admin figures need judgekit.stats (numpy, scipy, pandas: seconds to import). The annotator's page never uses
# them, so they load on first use (PEP 562), and a freshly started app signs its first annotator in without them.
_ADMIN_NAMES = frozenset(
    {
        "AgreementSummary",
        "Disagreement",
        "Flag",
        "JudgeAgreement",
        "LabelMatrix",
        "agreement_summary",
        "current_labels",
        "disagreements",
        "flags",
        "label_matrix",
        "progress_all",
    }
)


def __getattr__(name: str) -> object:
    if name in _ADMIN_NAMES:
        from judgekit.labeling import _admin

        return getattr(_admin, name)
    raise AttributeError(f"module 'judgekit.labeling' has no attribute {name!r}")


__all__ = [
    "AHEAD",
    "CONFIDENTLY_WRONG",
    "SESSION_HOURS",
    "AgreementSummary",
    "Annotator",
    "AssignmentPolicy",
    "DeskAction",
    "DeskItem",
    "DeskView",
    "Disagreement",
    "Flag",
    "LabelMatrix",
    "Level",
    "Lockout",
    "MyLabel",
    "MyLabels",
    "Outcome",
    "Pane",
    "Prior",
    "Progress",
    "QueueEntry",
    "Session",
    "SessionEnded",
    "SignIn",
    "add_annotator",
    "agreement_summary",
    "apply_actions",
    "authenticate",
    "check_session",
    "clear_lockout",
    "client_address",
    "cookie_name",
    "critique_required",
    "current_labels",
    "desk_item",
    "desk_view",
    "disagreements",
    "display_order",
    "empty_message",
    "end_all_sessions",
    "ensure_queue",
    "failed_attempts",
    "flags",
    "get_annotator",
    "get_policy",
    "in_overlap",
    "is_busy",
    "item_panes",
    "label_history",
    "label_matrix",
    "levels",
    "list_annotators",
    "lockouts",
    "my_labels",
    "my_labels_page",
    "next_item",
    "next_items",
    "open_item_count",
    "open_revision",
    "open_session",
    "parse_actions",
    "progress",
    "progress_all",
    "progress_line",
    "queue_entries",
    "raise_abstained",
    "rebuild_queue",
    "release_claim",
    "render_markdown",
    "reset_code",
    "set_active",
    "set_policy",
    "shown_label",
    "sign_in",
    "skip_item",
    "snippet",
    "submit_label",
]
