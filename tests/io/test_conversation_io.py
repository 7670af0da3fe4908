"""Conversation items through JSONL and CSV: byte-stable round trips and located errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from judgekit.errors import InputError
from judgekit.io import export_items, import_items_file
from judgekit.storage import Project

TRACE = [
    {"role": "system", "content": "You book flights."},
    {"role": "user", "content": 'Paris on Friday, "cheap"\nplease', "name": "alice"},
    {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "name": "search", "arguments": {"to": "CDG"}}]},
    {"role": "tool", "tool_call_id": "c1", "content": "AF123 08:00"},
    {
        "role": "assistant",
        "content": [{"type": "text", "text": "Booked <b>AF123</b>."}, {"type": "image", "url": "https://x/y.png"}],
    },
]
ROWS = [
    {"id": "plain", "input": "q", "output": "o"},
    {"id": "trace", "messages": TRACE, "segment": "agents", "risk": "high"},
    {
        "id": "call",
        "input": "judge the search",
        "messages": TRACE,
        "judged": {"kind": "tool_call", "tool_call_id": "c1"},
    },
    {"id": "whole", "messages": TRACE, "judged": {"kind": "conversation"}},
    {"id": "ctx", "input": "q", "messages": TRACE[:2], "output": "answer"},
    {"id": "finals", "messages": TRACE[:2], "output_a": "A", "output_b": "B"},
    {
        "id": "pair",
        "messages": TRACE[:2],
        "messages_a": [{"role": "assistant", "content": "A"}],
        "messages_b": [{"role": "assistant", "content": "B"}],
        "judged": {"kind": "conversation"},
    },
]


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_conversation_round_trip_is_byte_stable(tmp_path: Path, fmt: str) -> None:
    first = Project(tmp_path / "a.db")
    import_items_file(first, _jsonl(tmp_path / "in.jsonl", ROWS))
    text = export_items(first, fmt)
    (tmp_path / f"out.{fmt}").write_text(text)
    second = Project(tmp_path / "b.db")
    result = import_items_file(second, tmp_path / f"out.{fmt}")
    assert result.added == len(ROWS)
    assert export_items(second, fmt) == text
    assert second.items() == first.items()
    # idempotent: the exported file imports into the first project as "already present"
    assert import_items_file(first, tmp_path / f"out.{fmt}").unchanged == len(ROWS)
    by_id = {it.id: it for it in second.items()}
    assert by_id["trace"].judged is not None and by_id["trace"].judged.turn == 4  # the default, stored explicitly
    assert by_id["trace"].input is None and by_id["plain"].messages is None


def test_projects_without_conversations_export_as_before(tmp_path: Path) -> None:
    p = Project(tmp_path / "p.db")
    import_items_file(p, _jsonl(tmp_path / "in.jsonl", ROWS[:1]))
    assert "messages" not in export_items(p, "jsonl") and "judged" not in export_items(p, "csv")


def test_csv_with_messages_as_json_text(tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "messages", "judged"])
        w.writerow(["t", json.dumps(TRACE), json.dumps({"kind": "turn", "turn": -1})])
    p = Project(tmp_path / "p.db")
    import_items_file(p, path)
    assert p.items()[0].judged is not None and p.items()[0].judged.turn == -1


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            {"id": "x", "messages": "not json"},
            "items.jsonl:2: field 'messages': expected a list of messages as JSON, got 'not json'",
        ),
        ({"id": "x", "messages": [{"role": "robot", "content": "x"}]}, "items.jsonl:2: field 'messages.0.role': Input"),
        (
            {"id": "x", "messages": [{"role": "user", "content": "x"}, {"role": "assistant", "contnt": "y"}]},
            "items.jsonl:2: field 'messages.1.contnt': unknown field",
        ),
        (
            {"id": "x", "messages": TRACE, "judged": {"kind": "turn", "turn": 1}},
            "items.jsonl:2: judged: turn 1 of messages is a 'user' message",
        ),
        ({"id": "x", "messages": TRACE, "judged": [1]}, "items.jsonl:2: field 'judged': expected a mapping"),
        ({"id": "x", "output": "o"}, "items.jsonl:2: field 'input': missing (required)"),
        (
            {"id": "x", "messages": [{"role": "tool", "content": [{"type": "text"}]}]},
            "items.jsonl:2: field 'messages.0.content",
        ),
    ],
)
def test_bad_conversation_rows_are_located(tmp_path: Path, row: dict, expected: str) -> None:
    path = _jsonl(tmp_path / "items.jsonl", [ROWS[0], row])
    p = Project(tmp_path / "p.db")
    with pytest.raises(InputError) as err:
        import_items_file(p, path)
    assert str(err.value).replace(str(tmp_path) + "/", "").startswith(expected), str(err.value)
    assert p.item_count() == 0, "nothing is kept from a refused import"
