"""Showing an item's conversation in the labeling app: turns with their roles, tool calls folded, the judged part
highlighted, every piece of item text rendered as plain text.

Why a module of its own: the label page and the admin page both show conversations, and the page layout is being
reworked; they call :func:`show_conversation` and nothing else. What is shown (turn numbers, which turn is judged,
tool calls and results) is decided by :meth:`judgekit.models.Item.turns`, not here. Safety: item text goes only
through ``st.code`` (verbatim, no markdown, no HTML); labels, captions and expander titles hold only judgekit's own
words (roles, numbers), never item text, because Streamlit renders markdown in them.
"""

from __future__ import annotations

from typing import Literal

import streamlit as st

from judgekit.models import Item, Turn

ROLE_NAMES = {"system": "System", "user": "User", "assistant": "Assistant", "tool": "Tool result"}


def _turn(turn: Turn, key: str) -> None:
    title = f"{turn.number}. {ROLE_NAMES[turn.role]}" + (" - under judgement" if turn.judged else "")
    box = st.container(border=turn.judged, key=f"{key}_turn{turn.number}" + ("_judged" if turn.judged else ""))
    with box:
        st.caption(("▶ " if turn.judged else "") + title)
        if turn.name:
            st.code(f"name: {turn.name}", language=None, wrap_lines=True)
        if turn.answers:
            st.code(f"result of tool call {turn.answers}", language=None, wrap_lines=True)
        if turn.text:
            st.code(turn.text, language=None, wrap_lines=True)
        for n, (name, call_id, arguments) in enumerate(turn.tool_calls, start=1):
            with st.expander(f"Tool call {n}", expanded=False):
                st.code(f"{name}  (id {call_id})\n{arguments}", language=None, wrap_lines=True)


def show_conversation(item: Item, *, side: Literal["a", "b"] | None = None, key: str = "conv") -> None:
    """Render the item's conversation (``side`` of a pair: only that side's own turns after the shared history)."""
    shown = item.turns(side)
    if side is not None:
        shown = [t for t in shown if not t.shared]
    for turn in shown:
        _turn(turn, key)


def show_item_conversation(item: Item, order: Literal["ab", "ba"] = "ab") -> None:
    """The whole conversation part of an item: the (shared) history, then each side of a pair in display order."""
    if item.messages:
        if item.messages_a is not None or item.output_a is not None:
            st.caption("Conversation so far")
        show_conversation(item, key="conv")
    if item.messages_a is not None:
        left, right = ("a", "b") if order == "ab" else ("b", "a")
        col_l, col_r = st.columns(2)
        with col_l:
            st.caption("Response A")
            show_conversation(item, side=left, key="conv_left")  # type: ignore[arg-type]
        with col_r:
            st.caption("Response B")
            show_conversation(item, side=right, key="conv_right")  # type: ignore[arg-type]
