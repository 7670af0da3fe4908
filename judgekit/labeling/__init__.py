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
    parse_outbox,
    progress_line,
)
from judgekit.labeling._queue import (
    CONFIDENTLY_WRONG,
    AssignmentPolicy,
    Completion,
    QueueEntry,
    completion,
    display_order,
    ensure_queue,
    get_policy,
    in_overlap,
    next_item,
    next_items,
    open_item_count,
    queue_entries,
    queue_stamp,
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
_LAZY: dict[str, str] = (
    {
        name: "_admin"
        for name in (
            "SORTS",
            "AgreementSummary",
            "DisagreementPage",
            "DisagreementRow",
            "DisagreementTable",
            "FigureRow",
            "Flag",
            "JudgeCell",
            "LabelMatrix",
            "LevelCount",
            "agreement_summary",
            "browse",
            "ceiling_rows",
            "current_labels",
            "disagreement_page",
            "disagreement_table",
            "flags",
            "judge_rows",
            "judge_runs",
            "label_matrix",
            "progress_all",
        )
    }
    | {
        name: "_adjudicate"
        for name in (
            "Adjudication",
            "AdminAction",
            "ItemDetail",
            "JudgeVerdictView",
            "PersonLabel",
            "adjudicate",
            "adjudications",
            "apply_admin_actions",
            "gold_label",
            "item_detail",
            "parse_admin_actions",
        )
    }
    | {
        name: "_browser"
        for name in ("PAGE_SIZE", "BrowserQuery", "disagreement_page", "disagreements", "item_snippet", "parse_query")
    }
    | {
        name: "_snapshot"
        for name in (
            "AdminSnapshot",
            "DataStamp",
            "RunFigures",
            "SnapshotState",
            "compute_snapshot",
            "data_stamp",
            "load_snapshot",
            "request_refresh",
            "resolved_since",
            "save_snapshot",
            "snapshot_state",
            "wait_for_refresh",
        )
    }
)


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is not None:
        import importlib

        return getattr(importlib.import_module(f"judgekit.labeling.{module}"), name)
    raise AttributeError(f"module 'judgekit.labeling' has no attribute {name!r}")


__all__ = [
    "AHEAD",
    "CONFIDENTLY_WRONG",
    "PAGE_SIZE",
    "SESSION_HOURS",
    "SORTS",
    "Adjudication",
    "AdminAction",
    "AdminSnapshot",
    "AgreementSummary",
    "Annotator",
    "AssignmentPolicy",
    "BrowserQuery",
    "Completion",
    "DataStamp",
    "DeskAction",
    "DeskItem",
    "DeskView",
    "DisagreementPage",
    "DisagreementRow",
    "DisagreementTable",
    "FigureRow",
    "Flag",
    "ItemDetail",
    "JudgeCell",
    "JudgeVerdictView",
    "LabelMatrix",
    "Level",
    "LevelCount",
    "Lockout",
    "MyLabel",
    "MyLabels",
    "Outcome",
    "Pane",
    "PersonLabel",
    "Prior",
    "Progress",
    "QueueEntry",
    "RunFigures",
    "Session",
    "SessionEnded",
    "SignIn",
    "SnapshotState",
    "add_annotator",
    "adjudicate",
    "adjudications",
    "agreement_summary",
    "apply_actions",
    "apply_admin_actions",
    "authenticate",
    "browse",
    "ceiling_rows",
    "check_session",
    "clear_lockout",
    "client_address",
    "completion",
    "compute_snapshot",
    "cookie_name",
    "critique_required",
    "current_labels",
    "data_stamp",
    "desk_item",
    "desk_view",
    "disagreement_page",
    "disagreement_table",
    "disagreements",
    "display_order",
    "empty_message",
    "end_all_sessions",
    "ensure_queue",
    "failed_attempts",
    "flags",
    "get_annotator",
    "get_policy",
    "gold_label",
    "in_overlap",
    "is_busy",
    "item_detail",
    "item_panes",
    "item_snippet",
    "judge_rows",
    "judge_runs",
    "label_history",
    "label_matrix",
    "levels",
    "list_annotators",
    "load_snapshot",
    "lockouts",
    "my_labels",
    "my_labels_page",
    "next_item",
    "next_items",
    "open_item_count",
    "open_revision",
    "open_session",
    "parse_actions",
    "parse_admin_actions",
    "parse_outbox",
    "parse_query",
    "progress",
    "progress_all",
    "progress_line",
    "queue_entries",
    "queue_stamp",
    "raise_abstained",
    "rebuild_queue",
    "release_claim",
    "render_markdown",
    "request_refresh",
    "reset_code",
    "resolved_since",
    "save_snapshot",
    "set_active",
    "set_policy",
    "shown_label",
    "sign_in",
    "skip_item",
    "snapshot_state",
    "snippet",
    "submit_label",
    "wait_for_refresh",
]
