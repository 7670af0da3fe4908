"""Items: the things a judge and people rate."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from json.encoder import encode_basestring
from typing import Any, Literal

from pydantic import Field, JsonValue, TypeAdapter, model_validator

from judgekit.models._base import SCHEMA_VERSION, StrictModel
from judgekit.models.conversation import Judged, Message, Turn, find_tool_call, last_assistant_turn, turns
from judgekit.models.ids import Identifier
from judgekit.models.text import Text

RiskTier = Literal["low", "medium", "high"]
RISK_TIERS: tuple[RiskTier, ...] = ("low", "medium", "high")


class ItemMetadata(StrictModel):
    """What is known about an item besides its text; drives per-segment and per-risk breakdowns."""

    segment: Text | None = None
    """Use case or slice the item belongs to (e.g. ``"summarisation"``); agreement is reported per segment."""
    source: Text | None = None
    """Where the item came from (data set, product, log); splits by source keep near-copies out of test."""
    created_at: datetime | None = None
    """When the item was produced; allows time-based splits."""
    risk: RiskTier | None = None
    """Risk tier: a confidently wrong verdict on a ``high`` item weighs most in the harmful-confidence rate.
    ``None`` means not assessed (reported as its own tier, never assumed low)."""
    extra: dict[str, JsonValue] = Field(default_factory=dict)
    """Any further fields the team wants to keep (model names, prompt ids, ...)."""


class Item(StrictModel):
    """One thing to be judged: a single output, a pair of outputs, a conversation, or a pair of conversations.

    The kinds (exactly one):

    - single output: ``input`` and ``output``; ``messages`` may hold the conversation that led to it (context);
    - pair of outputs: ``input``, ``output_a`` and ``output_b``; ``messages`` may hold the shared history, so the
      pair is two candidate final turns;
    - conversation: ``messages`` alone (``input`` optional); ``judged`` says which turn, tool call or whether the
      whole conversation is judged (default: the last assistant turn, stored explicitly);
    - pair of conversations: ``messages_a`` and ``messages_b``, each continuing the shared ``messages`` (if any);
      ``judged`` is a turn index applied to each (default ``-1``, the final turns) or the whole conversations.
    """

    schema_version: Literal[1] = SCHEMA_VERSION
    """Version of this record's serialised form."""
    id: Identifier = Field(min_length=1, max_length=512)
    """Stable identifier, unique in the project; labels and verdicts refer to it."""
    input: Text | None = None
    """The instruction or prompt the output answers (required unless the item carries a conversation)."""
    output: Text | None = None
    """The output being graded (single-output rubrics)."""
    output_a: Text | None = None
    """First output of a pair (pairwise rubrics); shown left or right at random to annotators."""
    output_b: Text | None = None
    """Second output of a pair."""
    reference: Text | None = None
    """A reference answer, if the rubric uses one."""
    context: Text | None = None
    """Retrieved documents or conversation history the output should respect."""
    metadata: ItemMetadata = Field(default_factory=ItemMetadata)
    """Segment, source, creation time, risk tier and free-form extras."""
    messages: list[Message] | None = Field(default=None, min_length=1)
    """The conversation: the one judged, the context of ``output``, or the history shared by a pair."""
    messages_a: list[Message] | None = Field(default=None, min_length=1)
    """First conversation of a pair (continuing ``messages`` when that is set)."""
    messages_b: list[Message] | None = Field(default=None, min_length=1)
    """Second conversation of a pair."""
    judged: Judged | None = None
    """What is under judgement in a conversation item; ``None`` means the ``output`` (or the pair of outputs)."""

    @model_validator(mode="after")
    def _one_kind_of_output(self) -> Item:
        if (
            self.output is not None
            and self.input is not None
            and self.output_a is None
            and self.output_b is None
            and self.messages_a is None
            and self.messages_b is None
            and (self.judged is None or self.judged.kind == "output")
        ):
            return self  # a single output (the common kind, checked first: an import validates every item)
        pair = (self.output_a is not None, self.output_b is not None)
        convs = (self.messages_a is not None, self.messages_b is not None)
        if self.output is not None and any(pair):
            raise ValueError("an item has either 'output' or 'output_a'/'output_b', not both")
        if any(convs):
            if convs != (True, True):
                raise ValueError("a pair of conversations needs both 'messages_a' and 'messages_b'")
            if self.output is not None or any(pair):
                raise ValueError("a pair of conversations ('messages_a'/'messages_b') has no 'output' fields")
        elif self.output is None and pair != (True, True) and not (pair == (False, False) and self.messages):
            raise ValueError(
                "an item needs 'output', both 'output_a' and 'output_b' for a pairwise comparison, 'messages' "
                "(a conversation), or both 'messages_a' and 'messages_b' (a pair of conversations)"
            )
        if self.input is None and not self.is_conversation:
            raise ValueError("missing: 'input' is required unless the item carries 'messages'")
        judged = self._checked_judged()
        if judged != self.judged:
            # the default is resolved once, here, so the stored and exported item says explicitly what is judged
            object.__setattr__(self, "judged", judged)
            self.__pydantic_fields_set__.add("judged")
        return self

    def _checked_judged(self) -> Judged | None:
        j = self.judged
        if self.output is not None or self.output_a is not None:
            if j is not None and j.kind != "output":
                raise ValueError(f"judged: an item with an output judges the output, not a {j.kind!r}")
            return j
        if self.messages_a is not None:
            j = j or Judged(kind="turn", turn=-1)
            if j.kind not in ("turn", "conversation"):
                raise ValueError(
                    f"judged: a pair of conversations judges a 'turn' or the 'conversation', not {j.kind!r}"
                )
            if j.turn is not None:
                for side in ("a", "b"):
                    _check_turn(self.conversation(side), j.turn, f"messages_{side}")
            return j
        msgs = self.messages or []
        if j is None:
            last = last_assistant_turn(msgs)
            if last is None:
                raise ValueError("judged: the conversation has no assistant turn; say what is judged in 'judged'")
            return Judged(kind="turn", turn=last)
        if j.kind == "output":
            raise ValueError("judged: the item has no output; judge a 'turn', the 'conversation' or a 'tool_call'")
        if j.turn is not None:
            _check_turn(msgs, j.turn, "messages")
        if j.tool_call_id is not None and find_tool_call(msgs, j.tool_call_id) is None:
            raise ValueError(f"judged: no assistant message makes a tool call with id {j.tool_call_id!r}")
        return j

    @property
    def is_pairwise(self) -> bool:
        """True when the item holds a pair of outputs or a pair of conversations."""
        return self.output_a is not None or self.messages_a is not None

    @property
    def is_conversation(self) -> bool:
        """True when the item carries messages (as what is judged or as context)."""
        return self.messages is not None or self.messages_a is not None

    def conversation(self, side: Literal["a", "b"] | None = None) -> list[Message]:
        """The full conversation: ``messages``, followed by ``messages_a``/``messages_b`` for a side of a pair."""
        shared = list(self.messages or [])
        if side == "a":
            return shared + list(self.messages_a or [])
        if side == "b":
            return shared + list(self.messages_b or [])
        return shared

    def turns(self, side: Literal["a", "b"] | None = None) -> list[Turn]:
        """The conversation (of one side of a pair) as display turns, with what is judged marked (see :class:`Turn`)."""
        shared = len(self.messages or []) if side is not None else 0
        return turns(self.conversation(side), self.judged, shared=shared)

    def conversation_dump(self) -> dict[str, Any]:
        """The conversation fields that are set, as compact JSON-ready data (fields at their defaults left out):
        the form exports and the database write, which validates back to the same item."""
        return {
            key: self.model_dump(mode="json", include={key}, exclude_defaults=True)[key]
            for key in CONVERSATION_FIELDS
            if getattr(self, key) is not None
        }

    def content_hash(self) -> str:
        """sha256 of the canonical JSON form: re-importing an identical item is a no-op, a changed one an error.

        The conversation fields enter the hash only when set, so an item without them hashes as it always did.
        """
        return hashlib.sha256(self._hash_text().encode()).hexdigest()

    def _hash_text(self) -> str:
        """``canonical_json`` of ``model_dump(mode="json")`` without the unset conversation fields: what
        :meth:`content_hash` hashes.

        A plain item (text fields, flat extras, no conversation) is written out directly, keys in sorted order: an
        import hashes every item, and the general dump and encoding were most of the import's hashing time.
        ``tests/models/test_item_hash.py`` holds both ways to the same text, for generated items, and fails when a
        field is added without updating this.
        """
        m = self.metadata
        if self.judged is None and not self.is_conversation and all(type(v) in _FLAT for v in m.extra.values()):
            e = encode_basestring  # input and id are text here; the other fields may be None (null)
            created = None if m.created_at is None else _DATETIME.dump_python(m.created_at, mode="json")
            extra = canonical_json(m.extra) if m.extra else "{}"
            n = "null"
            return (
                f'{{"context":{n if self.context is None else e(self.context)},"id":{e(self.id)},'
                f'"input":{e(self.input or "")},"metadata":{{"created_at":{n if created is None else e(created)},'
                f'"extra":{extra},"risk":{n if m.risk is None else e(m.risk)},'
                f'"segment":{n if m.segment is None else e(m.segment)},'
                f'"source":{n if m.source is None else e(m.source)}}},'
                f'"output":{n if self.output is None else e(self.output)},'
                f'"output_a":{n if self.output_a is None else e(self.output_a)},'
                f'"output_b":{n if self.output_b is None else e(self.output_b)},'
                f'"reference":{n if self.reference is None else e(self.reference)},'
                f'"schema_version":{self.schema_version}}}'
            )
        return canonical_json(self._hash_document())

    def _hash_document(self) -> dict[str, Any]:
        """``model_dump(mode="json")`` without the unset conversation fields (the general form of the hash)."""
        d = self.model_dump(mode="json")
        for key in CONVERSATION_FIELDS:
            if d[key] is None:
                del d[key]
        return d


_TEXT_FIELDS = ("schema_version", "id", "input", "output", "output_a", "output_b", "reference", "context")
"""The fields of an :class:`Item` that :meth:`Item._hash_text` writes as they are (text, or the schema version)."""
_FLAT = (str, int, bool, type(None))
"""Extra values that dump as they are."""
_DATETIME = TypeAdapter(datetime)


CONVERSATION_FIELDS = ("messages", "messages_a", "messages_b", "judged")
"""The item fields that hold a conversation and what of it is judged."""


def _check_turn(messages: list[Message], turn: int, where: str) -> None:
    if not -len(messages) <= turn < len(messages):
        raise ValueError(f"judged: turn {turn} is outside {where} ({len(messages)} messages)")
    role = messages[turn].role
    if role != "assistant":
        raise ValueError(f"judged: turn {turn} of {where} is a {role!r} message; a judged turn is an assistant's")


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=True)
"""The encoder ``json.dumps`` would build for these options, built once: an import hashes every item, and
building the encoder was half the cost of a small item's hash."""


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no insignificant whitespace: the form hashed for ids and fingerprints."""
    return _CANONICAL.encode(value)
