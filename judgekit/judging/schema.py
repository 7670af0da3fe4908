"""The verdict reply schema, derived from the rubric: the label can only be one of the declared levels (or a
number, on an interval scale); a rubric with rated criteria asks for one such answer per criterion, in one object.

One function builds both the JSON Schema sent to the provider (OpenAI ``response_format`` json_schema in strict
mode, Anthropic forced-tool ``input_schema``) and the pydantic model that validates what comes back, so the two
cannot drift apart.

Text fallback (providers or servers without structured output): the judge is asked for the same JSON object in
plain text; :func:`extract_json_object` takes the first balanced ``{...}`` object in the reply, and failing that a
line ``label: <value>`` whose value is exactly a level. Nothing else is accepted: a reply saying "probably A" is a
parse error, never an ``A``.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from judgekit.models import Rubric

RATIONALE_MAX = 600


def reply_model(rubric: Rubric, *, verbalized: bool) -> type[BaseModel]:
    """Pydantic model of a valid reply: ``label`` (a level; a number on an interval scale, its range checked by
    the parser), ``rationale``, and ``confidence`` when verbalized. A rubric with rated criteria has one such
    model per criterion (:func:`reply_schema` nests them)."""
    label_type: Any = float if rubric.scale.is_interval else Literal[tuple(rubric.scale.values)]
    fields: dict[str, Any] = {
        "rationale": (str, Field(description="One or two sentences: why this label.")),
        "label": (label_type, Field(description="Exactly one of the rubric's level values.")),
    }
    if verbalized:
        fields["confidence"] = (float, Field(ge=0.0, le=1.0, description="Probability (0-1) the label is right."))
    model: type[BaseModel] = create_model("VerdictReply", __config__=ConfigDict(extra="forbid"), **fields)
    return model


def reply_schema(rubric: Rubric, *, verbalized: bool, label_first: bool = False) -> dict[str, Any]:
    """JSON Schema for the reply, in the subset strict structured output accepts (every field required,
    ``additionalProperties: false``). ``label_first`` puts the label before the rationale, so its token
    log-probability is not conditioned on a rationale the model already wrote (used for ``logprobs``)."""
    if rubric.is_rated:
        # one reply with a field per criterion, each the reply of that criterion's scale
        per = {
            name: reply_schema(rubric.view(name), verbalized=verbalized, label_first=label_first)
            for name in rubric.criterion_names
        }
        for name, sub in per.items():
            sub["description"] = f"Your answer for the criterion {name!r}."
        return {"type": "object", "properties": per, "required": list(per), "additionalProperties": False}
    scale = rubric.scale
    label: dict[str, Any]
    if scale.is_interval:
        label = {"type": "number", "description": f"A score from {scale.describe_range()}."}
    else:
        label = {
            "type": "string",
            "enum": list(scale.values),
            "description": "Exactly one of the rubric's level values.",
        }
    props: dict[str, Any] = {
        "rationale": {"type": "string", "description": "One or two sentences: why this label."},
        "label": label,
    }
    if label_first:
        props = {"label": props["label"], "rationale": props["rationale"]}
    if verbalized:
        props["confidence"] = {"type": "number", "description": "Probability from 0 to 1 that the label is right."}
    return {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}


def _answer_shape(rubric: Rubric, verbalized: bool) -> str:
    scale = rubric.scale
    if scale.is_interval:
        what = f"<a number from {scale.describe_range()}>"
    else:
        what = "<one of " + ", ".join(json.dumps(v) for v in scale.values) + ">"
    conf = ', "confidence": <probability 0-1 that your label is right>' if verbalized else ""
    return f'{{"rationale": "<one or two sentences>", "label": {what}{conf}}}'


def format_instructions(rubric: Rubric, *, verbalized: bool) -> str:
    """The reply instructions appended to the system message (also the whole contract in text-fallback mode)."""
    if rubric.is_rated:
        fields = ", ".join(
            f"{json.dumps(n)}: {_answer_shape(rubric.view(n), verbalized)}" for n in rubric.criterion_names
        )
        return (
            f"Reply with only a JSON object with one field per criterion: {{{fields}}}. Answer every criterion on "
            "its own scale; use a label value exactly as written."
        )
    exact = "" if rubric.scale.is_interval else " Use a label value exactly as written."
    return f"Reply with only a JSON object: {_answer_shape(rubric, verbalized)}.{exact}"


_LABEL_LINE = re.compile(
    r"^\s*\**label\**\s*[:=]\s*\**\s*[\"']?([^\"'*\n]+?)[\"']?\s*\**\s*$", re.IGNORECASE | re.MULTILINE
)


def extract_json_object(text: str) -> dict[str, Any] | None:
    """The first balanced JSON object in ``text`` (tolerates a code fence or prose around it), else ``None``."""
    start = text.find("{")
    while start != -1:
        depth, in_str, esc = 0, False, False
        for i in range(start, len(text)):
            ch = text[i]
            if in_str:
                if esc:
                    esc = False
                elif ch == "\\":
                    esc = True
                elif ch == '"':
                    in_str = False
            elif ch == '"':
                in_str = True
            elif ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    try:
                        value = json.loads(text[start : i + 1])
                    except json.JSONDecodeError:
                        break
                    if isinstance(value, dict):
                        return value
                    break
        start = text.find("{", start + 1)
    return None


def fallback_object(text: str) -> dict[str, Any] | None:
    """Text fallback: a JSON object, else ``{"label": value}`` from a single ``label: value`` line."""
    obj = extract_json_object(text)
    if obj is not None:
        return obj
    found = _LABEL_LINE.findall(text)
    if len(found) == 1:
        return {"label": found[0].strip(), "rationale": text.strip()}
    return None
