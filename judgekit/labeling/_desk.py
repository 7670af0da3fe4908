"""The annotator's desk: what the labeling page shows and what it does, as data, for any front end.

Why here: the Streamlit page is a thin shell around one browser component (``labeling_app/desk.js``) that shows
items and collects what the person does. Which items and in which order, how an item is rendered, what a level
means, whether a critique is needed, what happens to a submit, what to say after it, what to show when nothing is
left: all of it is decided here and tested without a browser.

The exchange with the browser, one round per Streamlit rerun:

* the page sends the **outbox**: every action (:class:`DeskAction`, a submit or a skip with its own request id) the
  server has not yet acknowledged. :func:`apply_actions` applies each at most once (a label's request id is unique
  in the database; a skip is idempotent), so sending an action again, after a reload, a lost message or a busy
  database, never stores it twice. An action the database could not take because it was busy is answered
  ``busy`` and stays in the outbox: it is retried, never dropped;
* the server answers with :class:`Outcome` s and a fresh :class:`DeskView`: the current item *and the next one*,
  both reserved (:func:`judgekit.labeling.next_items`), so the page shows the next item the moment Enter is
  pressed, while the label travels.

Every round first checks the session (:func:`judgekit.labeling.check_session`): a deactivated annotator or one
whose code was reset can neither load items nor submit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal, TypeVar

from pydantic import Field, ValidationError

from judgekit.errors import DatabaseBusyError, UserError
from judgekit.labeling._queue import display_order, get_policy, next_items
from judgekit.labeling._render import Pane, item_panes, snippet
from judgekit.labeling._sessions import SessionEnded, check_session
from judgekit.labeling._work import (
    Progress,
    labelled_count,
    latest_label_rows,
    progress,
    shown_label,
    skip_item,
    submit_label,
)
from judgekit.models import Item, Rubric, StrictModel
from judgekit.storage import Project

_A = TypeVar("_A", bound=StrictModel)

AHEAD = 2
"""Items the page holds: the current one and the next."""


class Level(StrictModel):
    """A level of the rubric's scale as the form offers it."""

    value: str
    """The value submitted (in the annotator's terms: for pairwise items, ``A`` is the left response)."""
    name: str
    definition: str
    key: str | None
    """The key that picks it (``1``-``9`` for the first nine levels)."""
    critique: bool
    """Whether choosing it requires a written critique."""


class CriterionForm(StrictModel):
    """A rated criterion as the form offers it: categorical levels to pick, or a number on an interval."""

    name: str
    description: str
    kind: str
    """``binary``, ``nominal``, ``ordinal`` or ``interval``."""
    levels: list[Level]
    """Categorical: the levels to pick (no keys: keys pick the levels of a one-scale rubric). Interval: the anchors."""
    min: float | None = None
    max: float | None = None
    step: float | None = None


class Prior(StrictModel):
    """The annotator's current label on an item they are revising."""

    choice: str
    critique: str
    flagged: bool
    revision: int
    answers: dict[str, str] = Field(default_factory=dict)
    """Rated criteria: the answer to each."""


class DeskItem(StrictModel):
    """One item as the desk shows it."""

    item_id: str
    heading: str
    frame: list[Pane]
    """What frames the task: input, context, reference."""
    sides: list[Pane]
    """What is rated: one response, or two side by side (left = "Response A")."""
    pairwise: bool
    revise: Prior | None = None
    """Set when the annotator reopened an item they labelled: their label to start from."""


class DeskView(StrictModel):
    """Everything the desk needs to show the next items."""

    rubric: str
    """The rubric's ``id@version``."""
    title: str
    levels: list[Level]
    items: list[DeskItem]
    """The current item and the next one (empty when nothing is left)."""
    criteria: list[CriterionForm] = Field(default_factory=list)
    """A rubric with rated criteria: one control per criterion (``levels`` is then empty)."""
    empty_message: str | None = None
    """What to say when nothing is left (consistent with the progress line)."""


class DeskAction(StrictModel):
    """Something the annotator did, as the page sends it (until acknowledged)."""

    rid: str = Field(pattern=r"^[A-Za-z0-9_-]{8,64}$")
    """Request id, made by the page once per action: the idempotency key."""
    kind: Literal["submit", "skip"]
    item_id: str = Field(min_length=1, max_length=512)
    choice: str | None = None
    """The level as shown (submit only)."""
    answers: dict[str, str] = Field(default_factory=dict)
    """A rubric with rated criteria: every criterion's answer (submit only)."""
    critique: str = Field(default="", max_length=20_000)
    flagged: bool = False
    seconds: float | None = Field(default=None, ge=0, le=7 * 86400)
    """Time the item was on screen before the action."""
    revise: bool = False
    """Whether the page was revising an earlier label (informational: the server numbers revisions itself)."""


class Outcome(StrictModel):
    """The server's answer to one action."""

    rid: str
    item_id: str
    status: Literal["saved", "skipped", "rejected", "busy", "ended"]
    """``busy``: not stored yet, kept and retried; ``rejected``: refused for good (the message says why);
    ``ended``: the session no longer grants access."""
    message: str


def criteria_form(rubric: Rubric) -> list[CriterionForm]:
    """The rated criteria of a rubric as the form offers them (empty for a rubric with one scale)."""
    out = []
    for name in rubric.criterion_names:
        c = rubric.criterion(name)
        scale = c.scale
        assert scale is not None
        lvls = [Level(value=lv.value, name=lv.name, definition=lv.definition, key=None, critique=False)
                for lv in scale.levels]  # fmt: skip
        out.append(
            CriterionForm(
                name=name,
                description=c.description,
                kind=scale.kind,
                levels=lvls,
                min=scale.min,
                max=scale.max,
                step=scale.step,
            )
        )
    return out


def levels(rubric: Rubric) -> list[Level]:
    """The rubric's levels as the form offers them, with their keys (none for a rubric with rated criteria)."""
    if rubric.is_rated:
        return []
    return [
        Level(
            value=lv.value,
            name=lv.name,
            definition=lv.definition,
            key=str(i + 1) if i < 9 else None,
            critique=lv.value in rubric.critique_required_for,
        )
        for i, lv in enumerate(rubric.scale.levels)
    ]


def desk_item(item: Item, annotator: str, *, revise: Prior | None = None) -> DeskItem:
    """An item rendered for one annotator (pairwise sides in their display order)."""
    order = display_order(annotator, item.id) if item.is_pairwise else None
    frame, sides = item_panes(item, order)
    return DeskItem(
        item_id=item.id, heading=f"Item {item.id}", frame=frame, sides=sides, pairwise=item.is_pairwise, revise=revise
    )


def empty_message(progress: Progress, claim_minutes: float) -> str:
    """What the desk says when it has no item, never contradicting the progress line: items still open but
    reserved by other annotators are named as such."""
    text = "Nothing left for you to label right now. Thank you!"
    if progress.remaining:
        n = progress.remaining
        text += (
            f" {n} more item{'s are' if n != 1 else ' is'} being labelled by someone else; "
            f"{'they come' if n != 1 else 'it comes'} back to you if not finished within {claim_minutes:g} minutes."
        )
    return text


def progress_line(progress: Progress, *, nothing_left: bool) -> str:
    """The progress caption: labelled, left for you, skipped. With nothing left to give, "left for you" is 0 and
    the items others hold are counted apart, so it agrees with :func:`empty_message`."""
    left = f"{progress.remaining} left for you"
    if nothing_left:
        held = f" ({progress.remaining} held by others)" if progress.remaining else ""
        left = f"0 left for you now{held}"
    return f"{progress.labelled} labelled · {left} · {progress.skipped} skipped"


def desk_view(project: Project, annotator: str, rubric: Rubric, *, ahead: int = AHEAD) -> DeskView:
    """The current and next items for an annotator, reserved for them."""
    items = [desk_item(it, annotator) for it in next_items(project, annotator, rubric, ahead)]
    message = None
    if not items:
        mine = progress(project, annotator, rubric, ensure=False)
        message = empty_message(mine, get_policy(project, rubric.id).claim_minutes)
    return DeskView(
        rubric=rubric.key,
        title=rubric.title,
        levels=levels(rubric),
        items=items,
        empty_message=message,
        criteria=criteria_form(rubric),
    )


def open_revision(project: Project, annotator: str, rubric: Rubric, item_id: str) -> DeskItem:
    """An item the annotator labelled, reopened with their current label to start from (a submit then stores a
    new revision; the earlier ones are kept)."""
    old = project.latest_label(item_id, annotator, rubric.id, rubric.version, provenance="blind")
    item = project.get_item(item_id)
    if old is None or item is None:
        raise UserError(f"you have no label on item {item_id!r} to revise")
    prior = Prior(
        choice=old.label if rubric.is_rated else shown_label(rubric, old.label, old.display_order),
        answers=dict(old.criteria),
        critique=old.critique or "",
        flagged=old.flagged,
        revision=old.revision,
    )
    return desk_item(item, annotator, revise=prior)


def parse_actions(raw: Any) -> tuple[list[DeskAction], list[Outcome]]:
    """Validate the outbox the desk sent (see :func:`parse_outbox`)."""
    return parse_outbox(raw, DeskAction)


def parse_outbox(raw: Any, model: type[_A]) -> tuple[list[_A], list[Outcome]]:
    """Validate an outbox a page sent (the desk's, the admin page's): the well-formed actions as ``model``, and a
    ``rejected`` outcome for each malformed one that carries a request id (so the page drops it instead of
    resending it forever)."""
    good: list[_A] = []
    bad: list[Outcome] = []
    for entry in raw if isinstance(raw, list) else []:
        try:
            good.append(model.model_validate(entry, strict=False))
        except ValidationError as exc:
            if isinstance(entry, dict) and isinstance(entry.get("rid"), str):
                item = entry.get("item_id")
                bad.append(
                    Outcome(
                        rid=entry["rid"][:64],
                        item_id=item if isinstance(item, str) else "",
                        status="rejected",
                        message=f"The app sent a malformed action and it was not stored: {exc.errors()[0]['msg']}",
                    )
                )
    return good, bad


def answer_outbox(
    done: dict[str, Outcome], actions: Sequence[Any], apply: Callable[[list[Any]], list[Outcome]], keep: int = 500
) -> list[Outcome]:
    """Answer a page's outbox (the desk's, the admin page's): apply the actions not answered before (``done``, the
    final answers of this browser session by request id, at most ``keep``), and answer every action in the order
    the page queued it. A run that Streamlit interrupted may have applied an action without its answer reaching the
    page: the page sends it again beside newer ones, and listing the repeat last would leave its status line on the
    older answer ("Saved item 1" while item 2 is the one just saved)."""
    fresh = [a for a in actions if a.rid not in done]
    answered = apply(fresh)
    for o in answered:
        if o.status in ("saved", "skipped", "rejected"):
            done[o.rid] = o
    while len(done) > keep:
        done.pop(next(iter(done)))
    now = {o.rid: o for o in answered}
    return [now.get(a.rid) or done[a.rid] for a in actions if a.rid in now or a.rid in done]


def is_busy(exc: BaseException) -> bool:
    """Whether an error means "the database is busy, try again" (another writer held the lock longer than this
    project waits: :class:`judgekit.errors.DatabaseBusyError`)."""
    return isinstance(exc, DatabaseBusyError)


def apply_actions(project: Project, token: str, rubric: Rubric, actions: Iterable[DeskAction]) -> list[Outcome]:
    """Apply the page's actions in order, each at most once, after checking the session (see the module
    docstring). A busy database stops the round: that action and the ones after it are answered ``busy`` and
    stay in the page's outbox, in order."""
    actions = list(actions)
    try:
        who = check_session(project, token).annotator
    except SessionEnded as exc:
        return [Outcome(rid=a.rid, item_id=a.item_id, status="ended", message=str(exc)) for a in actions]
    out: list[Outcome] = []
    for n, a in enumerate(actions):
        try:
            out.append(_apply(project, who.name, rubric, a))
        except DatabaseBusyError:
            msg = "The database is busy: your label is kept in this browser and will be sent again in a moment."
            out += [Outcome(rid=b.rid, item_id=b.item_id, status="busy", message=msg) for b in actions[n:]]
            break
        except UserError as exc:
            out.append(Outcome(rid=a.rid, item_id=a.item_id, status="rejected", message=str(exc)))
    return out


def _apply(project: Project, annotator: str, rubric: Rubric, a: DeskAction) -> Outcome:
    if a.kind == "skip":
        skip_item(project, annotator, rubric, a.item_id, flagged=a.flagged, note=a.critique)
        what = f"Skipped item {a.item_id}" + (" and flagged it." if a.flagged else ".")
        return Outcome(rid=a.rid, item_id=a.item_id, status="skipped", message=what)
    if rubric.is_rated:
        missing = [n for n in rubric.criterion_names if not a.answers.get(n)]
        if missing:
            raise UserError(f"Rate every criterion first: {', '.join(missing)}.")
    elif a.choice is None:
        raise UserError(f"Pick a level first (keys 1-{min(9, len(rubric.scale.levels))}).")
    stored = submit_label(
        project,
        annotator,
        rubric,
        a.item_id,
        a.choice or "",
        critique=a.critique,
        flagged=a.flagged,
        time_spent_s=a.seconds,
        request_id=a.rid,
        as_shown=True,
        criteria=a.answers or None,
    )
    what = "Revised" if stored.revision > 1 else "Saved"
    return Outcome(
        rid=a.rid,
        item_id=a.item_id,
        status="saved",
        message=f"{what} label for item {stored.item_id} (revision {stored.revision}).",
    )


class MyLabel(StrictModel):
    """One row of "My labels": what the annotator said about which item."""

    item_id: str
    level: str
    """The level's name as they saw it."""
    revision: int
    flagged: bool
    snippet: str
    """The start of the item's input, so the row says which item it is."""


class MyLabels(StrictModel):
    """A page of an annotator's current labels, most recent first."""

    rows: list[MyLabel]
    total: int
    """How many items they labelled."""
    offset: int


def my_labels_page(project: Project, annotator: str, rubric: Rubric, *, offset: int = 0, limit: int = 50) -> MyLabels:
    """A page of "My labels" with a snippet per item (see :func:`judgekit.labeling._work.latest_label_rows`: it
    costs a page, not the annotator's whole history)."""
    names = {} if rubric.is_rated else {lv.value: lv.name for lv in rubric.scale.levels}
    rows = []
    for item_id, label, revision, flagged, order, text in latest_label_rows(
        project, annotator, rubric, offset=offset, limit=limit
    ):
        shown = shown_label(rubric, label, order)
        rows.append(
            MyLabel(
                item_id=item_id,
                level=names.get(shown, shown),
                revision=revision,
                flagged=flagged,
                snippet=snippet(text) or "(conversation)",
            )
        )
    return MyLabels(rows=rows, total=labelled_count(project, annotator, rubric), offset=offset)
