"""Platform message formats -> judgekit messages (plain dicts that validate as :class:`judgekit.models.Message`).

Three conventions cover the platforms:

- **chat completions** (OpenAI; what Langfuse, MLflow, LangSmith and Hugging Face data sets usually hold):
  ``{"role", "content": str | [{"type": "text", "text"}, {"type": "image_url", "image_url": {"url"}}],
  "tool_calls": [{"id", "type": "function", "function": {"name", "arguments": JSON text}}], "tool_call_id"}``;
  Anthropic-style blocks (``tool_use``, ``tool_result``) are read too;
- **OpenInference** (Phoenix): span attributes ``llm.input_messages`` / ``llm.output_messages``, each message
  ``message.role``, ``message.content`` or ``message.contents`` (``message_content.type/text/image``),
  ``message.tool_calls`` (``tool_call.id``, ``tool_call.function.name``, ``tool_call.function.arguments``),
  ``message.tool_call_id``; flattened (``llm.input_messages.0.message.role``) or nested;
- **OpenTelemetry GenAI** (semantic conventions 1.37+): ``gen_ai.input.messages`` / ``gen_ai.output.messages``
  / ``gen_ai.system_instructions`` as JSON, each message ``{"role", "parts": [{"type": "text", "content"},
  {"type": "tool_call", "id", "name", "arguments"}, {"type": "tool_call_response", "id", "response"}]}``.

A trace's input and output become item fields by :func:`item_fields`: a list of messages (plus the output turn)
becomes a conversation whose last assistant turn is judged; plain text stays ``input``/``output``; anything else
is kept as canonical JSON text, so nothing is dropped or reinterpreted.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from judgekit.models import canonical_json

_ROLE_ALIASES = {"developer": "system", "human": "user", "ai": "assistant", "model": "assistant", "function": "tool"}


def _role(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    role = value.lower()
    role = _ROLE_ALIASES.get(role, role)
    return role if role in ("system", "user", "assistant", "tool") else None


def _arguments(value: Any) -> Any:
    """Tool-call arguments as JSON data: JSON text is parsed, anything else kept."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _text_of(value: Any) -> str:
    return value if isinstance(value, str) else canonical_json(value)


def is_chat(value: Any) -> bool:
    """True for a non-empty list of chat messages (every element a mapping with a known ``role``)."""
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(m, Mapping) and _role(m.get("role") or m.get("type")) for m in value)
    )


def chat_messages(value: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Chat-completions (or Anthropic-style) messages -> judgekit messages; tool results become tool messages."""
    out: list[dict[str, Any]] = []
    for m in value:
        role = _role(m.get("role") or m.get("type"))
        content = m.get("content")
        msg: dict[str, Any] = {"role": role}
        parts: list[dict[str, Any]] = []
        calls: list[dict[str, Any]] = []
        trailing: list[dict[str, Any]] = []
        if isinstance(content, list):
            for p in content:
                if not isinstance(p, Mapping):
                    parts.append({"type": "text", "text": _text_of(p)})
                    continue
                kind = p.get("type")
                if kind in ("text", "input_text", "output_text"):
                    parts.append({"type": "text", "text": str(p.get("text", ""))})
                elif kind in ("image_url", "input_image", "image"):
                    url = p.get("image_url")
                    url = url.get("url") if isinstance(url, Mapping) else url
                    parts.append({"type": "image", "url": str(url or p.get("url") or p.get("source") or "")})
                elif kind == "tool_use":
                    calls.append({"id": str(p.get("id")), "name": str(p.get("name")), "arguments": p.get("input")})
                elif kind == "tool_result":
                    trailing.append(
                        {"role": "tool", "tool_call_id": str(p.get("tool_use_id")), "content": _flat(p.get("content"))}
                    )
                else:
                    parts.append({"type": "data", "data": dict(p)})
        elif content is not None:
            msg["content"] = _text_of(content)
        for call in m.get("tool_calls") or []:
            fn = call.get("function") or {}
            calls.append(
                {
                    "id": str(call.get("id") or call.get("tool_call_id") or f"call_{len(calls)}"),
                    "name": str(fn.get("name") or call.get("name") or "tool"),
                    "arguments": _arguments(fn.get("arguments", call.get("arguments", call.get("args")))),
                }
            )
        if parts:
            msg["content"] = parts if any(p["type"] != "text" for p in parts) or len(parts) > 1 else parts[0]["text"]
        if m.get("name") and role != "tool":
            msg["name"] = str(m["name"])
        if role == "tool":
            if m.get("tool_call_id"):
                msg["tool_call_id"] = str(m["tool_call_id"])
            if m.get("name"):
                msg["name"] = str(m["name"])
        if calls:
            if role == "assistant":
                msg["tool_calls"] = calls
            else:  # a tool call outside an assistant turn is kept as data, not dropped
                msg.setdefault("content", canonical_json(calls))
        if role == "user" and trailing and "content" not in msg:
            out.extend(trailing)  # an Anthropic user turn that only carries tool results
            continue
        out.append(msg)
        out.extend(trailing)
    return out


def _flat(value: Any) -> str:
    if isinstance(value, list):
        return "\n\n".join(
            str(p.get("text", "")) if isinstance(p, Mapping) and p.get("type") == "text" else _text_of(p) for p in value
        )
    return "" if value is None else _text_of(value)


def _unflatten(attrs: Mapping[str, Any], prefix: str) -> list[dict[str, Any]]:
    """OpenInference list attributes, flattened (``prefix.0.message.role``) or nested (``prefix: [...]``)."""
    nested = attrs.get(prefix)
    if isinstance(nested, list):
        return [dict(x) for x in nested if isinstance(x, Mapping)]
    if isinstance(nested, Mapping):  # a nested attribute tree, as Phoenix's REST API returns it
        return [dict(nested[k]) for k in sorted(nested, key=lambda k: int(k) if str(k).isdigit() else 0)]
    rows: dict[int, dict[str, Any]] = {}
    for key, value in attrs.items():
        if not key.startswith(prefix + "."):
            continue
        idx, _, rest = key[len(prefix) + 1 :].partition(".")
        if idx.isdigit() and rest:
            _set_path(rows.setdefault(int(idx), {}), rest.split("."), value)
    return [rows[i] for i in sorted(rows)]


def _set_path(tree: dict[str, Any], path: list[str], value: Any) -> None:
    for part in path[:-1]:
        tree = tree.setdefault(part, {})
    tree[path[-1]] = value


def _get(tree: Mapping[str, Any], dotted: str) -> Any:
    """``tree["message"]["role"]`` for ``"message.role"``, also when the keys were left dotted."""
    if dotted in tree:
        return tree[dotted]
    node: Any = tree
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _indexed(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, Mapping):
        return [value[k] for k in sorted(value, key=lambda k: int(k) if str(k).isdigit() else 0)]
    return []


def openinference_messages(attrs: Mapping[str, Any], prefix: str) -> list[dict[str, Any]]:
    """The messages of an OpenInference span attribute (``llm.input_messages`` or ``llm.output_messages``)."""
    out: list[dict[str, Any]] = []
    for entry in _unflatten(attrs, prefix):
        role = _role(_get(entry, "message.role"))
        if role is None:
            continue
        msg: dict[str, Any] = {"role": role}
        content = _get(entry, "message.content")
        contents = _indexed(_get(entry, "message.contents"))
        if contents:
            parts = []
            for c in contents:
                kind = _get(c, "message_content.type")
                if kind == "image":
                    parts.append({"type": "image", "url": str(_get(c, "message_content.image.image.url") or "")})
                else:
                    parts.append({"type": "text", "text": str(_get(c, "message_content.text") or "")})
            msg["content"] = parts if len(parts) > 1 or parts[0]["type"] != "text" else parts[0]["text"]
        elif content is not None:
            msg["content"] = _text_of(content)
        calls: list[dict[str, Any]] = []
        for call in _indexed(_get(entry, "message.tool_calls")):
            calls.append(
                {
                    "id": str(_get(call, "tool_call.id") or f"call_{len(calls)}"),
                    "name": str(_get(call, "tool_call.function.name") or "tool"),
                    "arguments": _arguments(_get(call, "tool_call.function.arguments")),
                }
            )
        if calls and role == "assistant":
            msg["tool_calls"] = calls
        call_id = _get(entry, "message.tool_call_id")
        if call_id and role == "tool":
            msg["tool_call_id"] = str(call_id)
        name = _get(entry, "message.name")
        if name:
            msg["name"] = str(name)
        out.append(msg)
    return out


def genai_messages(value: Any) -> list[dict[str, Any]]:
    """OpenTelemetry GenAI messages (``gen_ai.input.messages`` / ``gen_ai.output.messages``, JSON or parsed)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return [{"role": "user", "content": value}]
    out: list[dict[str, Any]] = []
    for m in value if isinstance(value, list) else []:
        if not isinstance(m, Mapping):
            continue
        role = _role(m.get("role")) or "user"
        texts: list[dict[str, Any]] = []
        calls: list[dict[str, Any]] = []
        responses: list[dict[str, Any]] = []
        for p in m.get("parts") or []:
            kind = p.get("type")
            if kind == "text":
                texts.append({"type": "text", "text": str(p.get("content", ""))})
            elif kind == "tool_call":
                calls.append(
                    {
                        "id": str(p.get("id") or f"call_{len(calls)}"),
                        "name": str(p.get("name") or "tool"),
                        "arguments": _arguments(p.get("arguments")),
                    }
                )
            elif kind == "tool_call_response":
                responses.append(
                    {"role": "tool", "tool_call_id": str(p.get("id")), "content": _flat(p.get("response"))}
                )
            elif kind in ("uri", "blob", "file"):
                texts.append({"type": "image", "url": str(p.get("uri") or p.get("mime_type") or kind)})
            else:
                texts.append({"type": "data", "data": dict(p)})
        if responses and role in ("tool", "user") and not texts:
            out.extend(responses)
            continue
        msg: dict[str, Any] = {"role": role}
        if texts:
            msg["content"] = texts[0]["text"] if len(texts) == 1 and texts[0]["type"] == "text" else texts
        if calls:
            if role == "assistant":
                msg["tool_calls"] = calls
            else:
                msg.setdefault("content", canonical_json(calls))
        if m.get("name"):
            msg["name"] = str(m["name"])
        out.append(msg)
        out.extend(responses)
    return out


def genai_system(value: Any) -> list[dict[str, Any]]:
    """``gen_ai.system_instructions`` (JSON parts) -> one system message, or none."""
    if value is None:
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return [{"role": "system", "content": value}]
    texts = [str(p.get("content", "")) for p in value if isinstance(p, Mapping) and p.get("type") == "text"]
    return [{"role": "system", "content": "\n\n".join(texts)}] if texts else []


def _unwrap(value: Any) -> Any:
    """JSON text is parsed; ``{"messages": [...]}`` and ``{"input"|"output"|"content"|...: x}`` are unwrapped."""
    if isinstance(value, str):
        stripped = value.strip()
        if stripped[:1] in ("[", "{"):
            try:
                value = json.loads(stripped)
            except json.JSONDecodeError:
                return value
        else:
            return value
    if isinstance(value, Mapping):
        if is_chat(value.get("messages")):
            return value["messages"]
        if "choices" in value and isinstance(value["choices"], list) and value["choices"]:
            first = value["choices"][0]
            if isinstance(first, Mapping) and isinstance(first.get("message"), Mapping):
                return [first["message"]]
        if len(value) == 1:
            (only,) = value.values()
            if isinstance(only, str) or is_chat(only):
                return only
        if _role(value.get("role")) and ("content" in value or "tool_calls" in value):
            return [value]
    return value


def item_fields(inp: Any, out: Any) -> dict[str, Any]:
    """Item fields for a trace's input and output (see the module docstring); never empty."""
    inp, out = _unwrap(inp), _unwrap(out)
    if is_chat(inp):
        messages = chat_messages(inp)
        if is_chat(out):
            messages += chat_messages(out)
            return {"messages": messages}
        if out is None or out == "":
            return {"messages": messages}
        return {"messages": messages, "output": _text_of(out)}
    text_in = "" if inp is None else _text_of(inp)
    if is_chat(out):
        messages = chat_messages(out)
        if text_in:
            messages = [{"role": "user", "content": text_in}, *messages]
        return {"messages": messages}
    return {"input": text_in, "output": "" if out is None else _text_of(out)}
