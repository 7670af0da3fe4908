"""Item.content_hash: the text written directly for a plain item is exactly the general model dump's.

Why: stored items keep their hash; a re-import compares against it, so a hash that changed would turn every
re-import of an unchanged item into "already exists with different content". The import writes plain items'
hash texts directly (speed); these tests hold that shortcut to ``canonical_json(model_dump(mode="json"))``.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from judgekit.models import CONVERSATION_FIELDS, Item, ItemMetadata
from judgekit.models.item import _TEXT_FIELDS, canonical_json


def _general_document(item: Item) -> dict[str, Any]:
    d = item.model_dump(mode="json")
    return {k: v for k, v in d.items() if not (k in CONVERSATION_FIELDS and v is None)}


def test_the_direct_text_names_every_field_of_the_models() -> None:
    """Adding a field to Item or ItemMetadata fails here until the direct text writes it too."""
    assert set(Item.model_fields) == {*_TEXT_FIELDS, "metadata", *CONVERSATION_FIELDS}
    assert set(ItemMetadata.model_fields) == {"segment", "source", "created_at", "risk", "extra"}


text = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=12)  # storable text
optional_text = st.none() | text
flat_extra = st.dictionaries(text, st.none() | st.booleans() | st.integers() | text, max_size=3)
deep_extra = st.dictionaries(
    text,
    st.floats(allow_nan=False) | st.lists(st.integers(), max_size=2) | st.dictionaries(text, text, max_size=2),
    min_size=1,
    max_size=2,
)
times = (
    st.none()
    | st.datetimes(
        min_value=datetime(1, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30))]),
    )
    | st.datetimes()
)


@given(
    id_=st.text(st.characters(codec="ascii", categories=("L", "N")), min_size=1, max_size=10),
    input_=text,
    single=st.booleans(),
    outputs=st.tuples(text, text),
    reference=optional_text,
    context=optional_text,
    segment=optional_text,
    source=optional_text,
    created_at=times,
    risk=st.sampled_from([None, "low", "medium", "high"]),
    extra=flat_extra | deep_extra,
)
def test_plain_items_hash_as_their_model_dump(
    id_: str,
    input_: str,
    single: bool,
    outputs: tuple[str, str],
    reference: str | None,
    context: str | None,
    segment: str | None,
    source: str | None,
    created_at: datetime | None,
    risk: str | None,
    extra: dict[str, Any],
) -> None:
    kind = {"output": outputs[0]} if single else {"output_a": outputs[0], "output_b": outputs[1]}
    meta = {"segment": segment, "source": source, "created_at": created_at, "risk": risk, "extra": extra}
    item = Item.model_validate(
        {"id": id_, "input": input_, "reference": reference, "context": context, "metadata": meta, **kind},
        strict=False,
    )
    general = canonical_json(_general_document(item))
    assert item._hash_text() == general
    assert item.content_hash() == hashlib.sha256(general.encode()).hexdigest()


def test_conversation_items_hash_as_their_model_dump() -> None:
    item = Item.model_validate(
        {"id": "c", "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}
    )
    assert item._hash_text() == canonical_json(_general_document(item))


def test_a_known_item_keeps_its_stored_hash() -> None:
    """The hash of a fixed item, as stored by earlier versions: a change here breaks every existing project."""
    plain = Item(id="a", input="q", output="x", metadata=ItemMetadata(segment="s", extra={"k": 1}))
    assert plain.content_hash() == "b29ce69878fb01ce20469a1698f2060032fe1437ebecc45409686c07b4bde44a"
    timed = Item(
        id="b",
        input="q",
        output_a="x",
        output_b="y",
        metadata=ItemMetadata(created_at=datetime(2024, 5, 1, 10, tzinfo=UTC), extra={"k": [1.5]}),
    )
    assert timed.content_hash() == "00c743ef2c57c1f4e2a39fcb8e3e1cb016980b49a1e0aa865adaebd0242d8f3e"


def test_canonical_json_is_json_dumps_with_its_options() -> None:
    values: list[Any] = [
        {"b": 1, "a": [1.5, float("nan"), float("inf"), -0.0, 10**30], "é": "ü\n\u2028\x00", "n": None, "t": True},
        [],
        "plain",
        {"nested": {"z": {}, "y": [{"b": 2, "a": 1}]}},
    ]
    for value in values:
        expected = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=True)
        assert canonical_json(value) == expected
