"""Conversations and agent traces: the messages of an item, and which part of them is under judgement.

Why a model of its own: teams grade chatbots and agents, whose outputs are turns of a conversation with tool calls
and tool results, not one string. The shape follows the chat-completions convention most platforms export
(OpenAI, Langfuse, Phoenix/OpenInference, MLflow, OpenTelemetry GenAI all map onto it): a message has a ``role``,
``content`` as text or a list of typed parts, an assistant's ``tool_calls`` (id, name, arguments) and a tool
message's ``tool_call_id`` naming the call it answers.

What is judged is always explicit (:class:`Judged`): the item's ``output`` (the conversation is context), one turn
(by index), the whole conversation, or one tool call with its result.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import Field, JsonValue, model_validator

from judgekit.models._base import StrictModel
from judgekit.models.text import Text

Role = Literal["system", "user", "assistant", "tool"]
ROLES: tuple[Role, ...] = ("system", "user", "assistant", "tool")
JudgedKind = Literal["output", "turn", "conversation", "tool_call"]


class TextPart(StrictModel):
    """A piece of text in a message."""

    type: Literal["text"]
    """Always ``"text"``."""
    text: Text
    """The text."""


class ImagePart(StrictModel):
    """A reference to an image; judgekit shows the reference as text and never loads it."""

    type: Literal["image"]
    """Always ``"image"``."""
    url: str
    """Where the image was (a URL or a ``data:`` URI); kept for audits, never fetched or rendered."""


class DataPart(StrictModel):
    """Structured content that is neither text nor an image (a file reference, audio metadata, a JSON blob)."""

    type: Literal["data"]
    """Always ``"data"``."""
    data: JsonValue
    """The content as JSON."""


ContentPart = Annotated[TextPart | ImagePart | DataPart, Field(discriminator="type")]


class ToolCall(StrictModel):
    """A tool (function) call an assistant turn makes."""

    id: str = Field(min_length=1)
    """The call's id; the tool message answering it carries the same ``tool_call_id``."""
    name: str = Field(min_length=1)
    """The tool's name."""
    arguments: JsonValue = None
    """The arguments, as JSON (a mapping usually; text when the model's arguments were not valid JSON)."""


class Message(StrictModel):
    """One turn of a conversation."""

    role: Role
    """``system``, ``user``, ``assistant`` or ``tool`` (a tool's result)."""
    content: Text | list[ContentPart] | None = None
    """The text, or a list of typed parts; ``None`` for an assistant turn that only calls tools."""
    name: str | None = None
    """The speaker's or the tool's name, when the platform records one."""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    """The tool calls an assistant turn makes (assistant messages only)."""
    tool_call_id: str | None = None
    """For a ``tool`` message: the id of the call whose result it is."""

    @model_validator(mode="after")
    def _role_fields(self) -> Message:
        if self.tool_calls and self.role != "assistant":
            raise ValueError(f"only assistant messages make tool calls (this one is {self.role!r})")
        if self.tool_call_id is not None and self.role != "tool":
            raise ValueError(f"only tool messages answer a tool call (this one is {self.role!r})")
        return self

    def text(self) -> str:
        """The message's text: ``content`` itself, or its text parts joined by blank lines (other parts left out)."""
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "\n\n".join(p.text for p in self.content if isinstance(p, TextPart))


class Judged(StrictModel):
    """Which part of an item is under judgement.

    - ``output``: the item's ``output`` (or ``output_a``/``output_b``); any ``messages`` are the context it answers.
    - ``turn``: the message at index ``turn`` (0-based; negative counts from the end, ``-1`` is the last) of the
      conversation; for a pairwise item the same index in each of the two conversations. It must be an
      ``assistant`` message.
    - ``conversation``: the whole conversation (each of the two, for a pairwise item).
    - ``tool_call``: the tool call with id ``tool_call_id`` and the tool message answering it (single items only).
    """

    kind: JudgedKind
    """``output``, ``turn``, ``conversation`` or ``tool_call``."""
    turn: int | None = None
    """Index of the judged message (``kind: turn`` only)."""
    tool_call_id: str | None = None
    """Id of the judged tool call (``kind: tool_call`` only)."""

    @model_validator(mode="after")
    def _fields_match_kind(self) -> Judged:
        if (self.kind == "turn") != (self.turn is not None):
            raise ValueError("'turn' is set exactly when kind is 'turn'")
        if (self.kind == "tool_call") != (self.tool_call_id is not None):
            raise ValueError("'tool_call_id' is set exactly when kind is 'tool_call'")
        return self


def last_assistant_turn(messages: list[Message]) -> int | None:
    """Index of the last assistant message, or ``None`` when there is none."""
    for i in range(len(messages) - 1, -1, -1):
        if messages[i].role == "assistant":
            return i
    return None


def find_tool_call(messages: list[Message], call_id: str) -> tuple[int, ToolCall, int | None] | None:
    """``(index of the assistant message, the call, index of the tool message answering it or None)``."""
    for i, m in enumerate(messages):
        for call in m.tool_calls:
            if call.id == call_id:
                answer = next(
                    (j for j in range(i + 1, len(messages)) if messages[j].tool_call_id == call_id),
                    None,
                )
                return i, call, answer
    return None


@dataclass(frozen=True)
class Turn:
    """One message as a screen shows it: what the labeling app (and any front end) renders, decided here once.

    ``text`` is the message's text (images and data parts as ``[image: url]`` / ``[data: ...]`` lines: never
    loaded); ``tool_calls`` are ``(name, id, arguments as JSON text)``; ``answers`` is the id of the tool call a
    tool message answers; ``judged`` marks what is under judgement (the judged turn, or the judged tool call and its
    result, or every turn when the whole conversation is judged); ``shared`` marks the history a pair shares.
    """

    number: int
    role: Role
    name: str | None
    text: str
    tool_calls: tuple[tuple[str, str, str], ...]
    answers: str | None
    judged: bool
    shared: bool = False


def message_text(m: Message) -> str:
    """All of a message's content as text: text parts as they are, images and data parts as one line each."""
    if m.content is None or isinstance(m.content, str):
        return m.content or ""
    pieces = []
    for part in m.content:
        if isinstance(part, TextPart):
            pieces.append(part.text)
        elif isinstance(part, ImagePart):
            pieces.append(f"[image: {part.url[:200]}]")
        else:
            pieces.append("[data: " + json.dumps(part.data, ensure_ascii=False, sort_keys=True) + "]")
    return "\n\n".join(pieces)


def turns(messages: list[Message], judged: Judged | None, *, shared: int = 0) -> list[Turn]:
    """The display turns of a full conversation whose first ``shared`` messages are a pair's common history."""
    total = len(messages)
    turn = None if judged is None or judged.turn is None else judged.turn % total if total else None
    whole = judged is not None and judged.kind == "conversation"
    call = judged.tool_call_id if judged is not None else None
    out = []
    for i, m in enumerate(messages):
        is_judged = (
            whole
            or i == turn
            or (call is not None and (m.tool_call_id == call or any(c.id == call for c in m.tool_calls)))
        )
        out.append(
            Turn(
                number=i + 1,
                role=m.role,
                name=m.name,
                text=message_text(m),
                tool_calls=tuple(
                    (
                        c.name,
                        c.id,
                        c.arguments if isinstance(c.arguments, str) else json.dumps(c.arguments, ensure_ascii=False),
                    )
                    for c in m.tool_calls
                ),
                answers=m.tool_call_id,
                judged=is_judged and i >= shared,
                shared=i < shared,
            )
        )
    return out
