"""The labeling app shows a conversation as turns: roles, tool calls folded, the judged turn marked, text as text."""

from __future__ import annotations

from judgekit.models import Item

from .conftest import SCRIPT_ITEM

APP = "../../labeling_app/app.py"
TRACE = [
    {"role": "system", "content": "You book flights."},
    {"role": "user", "content": SCRIPT_ITEM, "name": "**eve** ![x](http://127.0.0.1:9/y.png)"},
    {"role": "assistant", "tool_calls": [{"id": "c1", "name": "search", "arguments": {"to": "<b>CDG</b>"}}]},
    {"role": "tool", "tool_call_id": "c1", "content": "AF123 at 08:00"},
    {
        "role": "assistant",
        "content": [
            {"type": "text", "text": "Booked **AF123**."},
            {"type": "image", "url": "http://127.0.0.1:9/z.png"},
        ],
    },
]


def test_item_turns_mark_what_is_judged() -> None:
    item = Item.model_validate({"id": "t", "messages": TRACE})
    turns = item.turns()
    assert [(t.number, t.role, t.judged) for t in turns] == [
        (1, "system", False),
        (2, "user", False),
        (3, "assistant", False),
        (4, "tool", False),
        (5, "assistant", True),
    ]
    assert turns[2].tool_calls == (("search", "c1", '{"to": "<b>CDG</b>"}'),) and turns[3].answers == "c1"
    assert turns[4].text == "Booked **AF123**.\n\n[image: http://127.0.0.1:9/z.png]"
    call = Item.model_validate({"id": "t", "messages": TRACE, "judged": {"kind": "tool_call", "tool_call_id": "c1"}})
    assert [t.judged for t in call.turns()] == [False, False, True, True, False]
    pair = Item.model_validate(
        {
            "id": "p",
            "messages": TRACE[:2],
            "messages_a": [{"role": "assistant", "content": "A"}],
            "messages_b": [{"role": "assistant", "content": "B"}],
        }
    )
    assert [(t.number, t.shared, t.judged) for t in pair.turns("b")] == [
        (1, True, False),
        (2, True, False),
        (3, False, True),
    ]
