"""Conversation items: the kinds, what is judged, strictness, and a hash that leaves plain items unchanged."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from judgekit.models import Item, Judged

TRACE = [
    {"role": "system", "content": "You book flights."},
    {"role": "user", "content": "Paris on Friday"},
    {"role": "assistant", "tool_calls": [{"id": "c1", "name": "search", "arguments": {"to": "CDG"}}]},
    {"role": "tool", "tool_call_id": "c1", "content": "AF123 08:00"},
    {"role": "assistant", "content": [{"type": "text", "text": "Booked AF123."}]},
]


def test_conversation_defaults_to_the_last_assistant_turn_explicitly() -> None:
    item = Item(id="t", messages=TRACE)  # type: ignore[arg-type]
    assert item.judged == Judged(kind="turn", turn=4)
    assert item.input is None and item.is_conversation and not item.is_pairwise
    # the resolved default is part of the record: it survives a dump and a reload unchanged
    assert Item.model_validate_json(item.model_dump_json()) == item
    assert item.model_dump()["judged"] == {"kind": "turn", "turn": 4, "tool_call_id": None}


def test_pair_of_conversations_and_pair_of_final_turns() -> None:
    convs = Item(
        id="p",
        messages=TRACE[:2],  # type: ignore[arg-type]
        messages_a=[{"role": "assistant", "content": "A"}],  # type: ignore[list-item]
        messages_b=[
            {"role": "assistant", "content": "B"},
            {"role": "user", "content": "?"},  # type: ignore[list-item]
            {"role": "assistant", "content": "B2"},
        ],
    )
    assert convs.is_pairwise and convs.judged == Judged(kind="turn", turn=-1)
    assert [m.text() for m in convs.conversation("b")][-1] == "B2"
    finals = Item(id="f", messages=TRACE[:2], output_a="A", output_b="B")  # type: ignore[arg-type]
    assert finals.is_pairwise and finals.judged is None and finals.input is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"messages": [{"role": "user", "content": "hi"}]}, "no assistant turn"),
        ({"messages": TRACE, "judged": {"kind": "turn", "turn": 1}}, "'user' message"),
        ({"messages": TRACE, "judged": {"kind": "turn", "turn": 9}}, "outside messages"),
        ({"messages": TRACE, "judged": {"kind": "tool_call", "tool_call_id": "zz"}}, "no assistant message"),
        ({"messages": TRACE, "judged": {"kind": "output"}}, "has no output"),
        ({"messages": TRACE, "judged": {"kind": "turn"}}, "exactly when kind is 'turn'"),
        ({"messages": TRACE, "output": "x", "judged": {"kind": "turn", "turn": 4}}, "judges the output"),
        ({"messages_a": TRACE}, "both 'messages_a' and 'messages_b'"),
        ({"messages_a": TRACE, "messages_b": TRACE, "output": "x"}, "no 'output' fields"),
        ({"messages": [{"role": "robot", "content": "x"}]}, "role"),
        ({"messages": [{"role": "user", "tool_calls": [{"id": "c", "name": "n"}]}]}, "only assistant"),
        ({"messages": [{"role": "user", "tool_call_id": "c"}]}, "only tool messages"),
        ({"messages": [{"role": "user", "content": [{"type": "video", "url": "x"}]}]}, "video"),
        ({"messages": []}, "at least 1"),
        ({"output": "x"}, "'input' is required"),
    ],
)
def test_bad_conversations_are_refused_with_a_reason(fields: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Item(id="x", **fields)


def test_messages_are_strict() -> None:
    with pytest.raises(ValidationError):
        Item(id="x", messages=[{"role": "user", "content": "hi", "contnet": "typo"}])  # type: ignore[list-item]
    with pytest.raises(ValidationError):
        Item(id="x", messages=[{"role": "assistant", "content": 3}])  # type: ignore[list-item]


def test_hash_of_plain_items_is_unchanged_and_conversations_count() -> None:
    # the sha256 an item without a conversation had before conversations existed (judgekit 0.1 main, b0cc0cd)
    assert (
        Item(id="a", input="q", output="x").content_hash()
        == "166c3e3d476933743b2b41d0f7baf0eb7d344b0d3012ec3be36eb7711a248ec9"
    )
    a = Item(id="t", messages=TRACE)  # type: ignore[arg-type]
    b = Item(id="t", messages=TRACE, judged={"kind": "conversation"})  # type: ignore[arg-type]
    assert a.content_hash() != b.content_hash()


def test_text_of_parts_and_compact_dump() -> None:
    item = Item(id="t", messages=TRACE)  # type: ignore[arg-type]
    assert item.messages is not None and item.messages[4].text() == "Booked AF123."
    dump = item.conversation_dump()
    assert dump["messages"][2] == {
        "role": "assistant",
        "tool_calls": [{"id": "c1", "name": "search", "arguments": {"to": "CDG"}}],
    }
    assert Item.model_validate({"id": "t", **dump}) == item
