"""Item text as an annotator sees it: markdown rendered safely, one pane per part of the item.

Why markdown at all: model outputs are mostly markdown (lists, tables, code blocks). Shown raw, a code answer is a
wall of backticks and a table a wall of pipes; rated that way, the label says more about the layout than about
the answer. Why *safely*: item text is untrusted (model outputs, user prompts, scraped pages, other people's
files). It must never run or load anything in the annotator's browser.

Two independent lines of defence:

1. `markdown-it-py <https://markdown-it-py.readthedocs.io>`_ renders CommonMark (plus tables and strikethrough)
   with raw HTML **disabled**: a ``<script>`` or ``<img onerror=...>`` in the text is escaped and shows as
   characters. Links and images are not rendered as ``<a>`` / ``<img>`` at all: a link shows its text followed by
   its address as plain text (nothing to click that navigates away), an image shows ``[image: alt]`` and its
   address (nothing is fetched). Fenced code blocks become ``<pre><code>`` with the language as a caption.
2. `nh3 <https://nh3.readthedocs.io>`_ (the Rust ``ammonia`` sanitizer) then keeps only an allowlist of tags with
   **no attributes** except a few fixed ``class`` names of our own, so even a renderer bug could not smuggle in a
   ``src``, ``href``, ``style`` or event handler.

Single newlines are kept as line breaks (``breaks=True``), as a chat or a plain-text answer means them.
"""

from __future__ import annotations

import dataclasses
import functools
import html
import re

import nh3
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from judgekit.models import Item, StrictModel, Turn

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "hr", "em", "strong", "s", "del", "code", "pre", "blockquote", "ul", "ol", "li",
        "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "div", "span",
        "details", "summary",
    }
)  # fmt: skip
"""Every tag the rendered HTML may contain (no ``a``, ``img``, ``iframe``, ``style``, ``script``, ``svg`` ...)."""
ALLOWED_CLASSES = {
    "div": {"jk-code", "jk-turn", "jk-judged"},
    "details": {"jk-tool-call"},
    "span": {"jk-link", "jk-url", "jk-image", "jk-lang", "jk-role"},
}
"""The only attributes kept: these fixed class names (for styling), nothing the text chooses."""


def _link_open(self: RendererHTML, tokens: list[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    return '<span class="jk-link">'


def _link_close(self: RendererHTML, tokens: list[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    # the address of the matching link_open, shown as text after the link text
    depth = 0
    for tok in reversed(tokens[:idx]):
        if tok.type == "link_close":
            depth += 1
        elif tok.type == "link_open":
            if depth == 0:
                href = str(tok.attrs.get("href", ""))
                text = "".join(t.content for t in tokens[tokens.index(tok) + 1 : idx])
                if not href or href == text or href == f"mailto:{text}":
                    return "</span>"
                return f'</span> <span class="jk-url">({html.escape(href)})</span>'
            depth -= 1
    return "</span>"


def _image(self: RendererHTML, tokens: list[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    tok = tokens[idx]
    alt = html.escape(tok.content or "")
    src = html.escape(str(tok.attrs.get("src", "")))
    return f'<span class="jk-image">[image: {alt or "no description"}]</span> <span class="jk-url">({src})</span>'


_LANG = re.compile(r"^[A-Za-z0-9_+#.-]{1,32}$")


def _fence(self: RendererHTML, tokens: list[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    tok = tokens[idx]
    lang = tok.info.strip().split(maxsplit=1)[0] if tok.info.strip() else ""
    caption = f'<span class="jk-lang">{html.escape(lang)}</span>' if _LANG.match(lang) else ""
    return f'<div class="jk-code">{caption}<pre><code>{html.escape(tok.content)}</code></pre></div>\n'


def _code_block(self: RendererHTML, tokens: list[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    return f'<div class="jk-code"><pre><code>{html.escape(tokens[idx].content)}</code></pre></div>\n'


@functools.cache
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "breaks": True, "linkify": False}).enable(["table", "strikethrough"])
    md.add_render_rule("link_open", _link_open)
    md.add_render_rule("link_close", _link_close)
    md.add_render_rule("image", _image)
    md.add_render_rule("fence", _fence)
    md.add_render_rule("code_block", _code_block)
    return md


@functools.lru_cache(maxsize=4096)
def render_markdown(text: str) -> str:
    """Untrusted markdown as HTML that can neither run nor load anything (see the module docstring).

    >>> render_markdown('**hi** <script>alert(1)</script> ![x](http://h/x.png)')
    '<p><strong>hi</strong> &lt;script&gt;alert(1)&lt;/script&gt; <span class="jk-image">[image: x]</span> <span class="jk-url">(http://h/x.png)</span></p>'
    """
    raw = _markdown().render(text)
    return nh3.clean(
        raw,
        tags=set(ALLOWED_TAGS),
        attributes={},
        allowed_classes={k: set(v) for k, v in ALLOWED_CLASSES.items()},
        url_schemes=set(),
        link_rel=None,
        strip_comments=True,
    ).strip()


class Pane(StrictModel):
    """One part of an item, rendered for the annotator (each in its own scrolling box)."""

    key: str
    """What it is: ``input``, ``context``, ``reference``, ``output``, ``left`` or ``right``."""
    title: str
    """Its caption ("Instruction / input", "Response A" ...)."""
    html: str
    """The text as safe HTML (:func:`render_markdown`)."""
    text: str
    """The text verbatim, for the "raw" view (shown as text, never as HTML)."""


def pane(key: str, title: str, text: str) -> Pane:
    """A pane of ``text`` rendered with :func:`render_markdown`."""
    return Pane(key=key, title=title, html=render_markdown(text), text=text)


ROLE_NAMES = {"system": "System", "user": "User", "assistant": "Assistant", "tool": "Tool result"}
"""How each role is named on screen."""


def conversation_pane(key: str, title: str, turns: list[Turn]) -> Pane:
    """A conversation as one pane, the one conversation display of the app: each turn numbered under its role
    (and name), its text rendered like any item text (safe HTML, :func:`render_markdown`), tool calls folded
    (``<details>``), a tool result naming the call it answers, and the turns under judgement highlighted. What is
    shown and judged is decided by :meth:`judgekit.models.Item.turns`. Each turn is rendered on its own, so a
    turn's markdown (an unclosed code fence, say) cannot spill into the next one."""
    parts: list[str] = []
    raw: list[str] = []
    for t in turns:
        who = f"{t.number}. {ROLE_NAMES.get(t.role, t.role)}" + (f" ({t.name})" if t.name else "")
        who += f" ← {t.answers}" if t.answers else ""
        mark = " · under judgement" if t.judged else ""
        calls = "".join(
            f'<details class="jk-tool-call"><summary>tool call {html.escape(name)} (id {html.escape(call_id)})'
            f"</summary><pre><code>{html.escape(arguments)}</code></pre></details>"
            for name, call_id, arguments in t.tool_calls
        )
        cls = "jk-turn jk-judged" if t.judged else "jk-turn"
        parts.append(
            f'<div class="{cls}"><span class="jk-role">{html.escape(who + mark)}</span>'
            f"{render_markdown(t.text)}{calls}</div>"
        )
        body = t.text + "".join(f"\n[tool call {n} (id {i})] {args}" for n, i, args in t.tool_calls)
        raw.append(f"[{who}{mark}]\n{body}")
    return Pane(key=key, title=title, html="\n".join(parts), text="\n\n".join(raw))


def item_panes(item: Item, order: str | None) -> tuple[list[Pane], list[Pane]]:
    """The panes of an item: what frames the task (input, the conversation so far, context, reference) and what is
    rated (one output, or two side by side in the annotator's display ``order``: with ``"ba"`` the left pane,
    "Response A", shows ``output_b``; for a pair of conversations, their two continuations).

    Kept as one function so new kinds of item add their panes here and every front end shows them the same way.
    """
    frame = [pane("input", "Instruction / input", item.input)] if item.input else []
    pair_of_turns = item.messages_a is not None and item.messages_b is not None
    rated_conversation = item.messages is not None and item.output is None and not item.is_pairwise
    if item.messages and not rated_conversation:
        # the history before the judged output: context, none of it under judgement
        history = [dataclasses.replace(t, judged=False) for t in item.turns()]
        frame.append(conversation_pane("conversation", "Conversation so far", history))
    if item.context:
        frame.append(pane("context", "Context", item.context))
    if item.reference:
        frame.append(pane("reference", "Reference answer", item.reference))
    if pair_of_turns:
        a = [t for t in item.turns("a") if not t.shared]
        b = [t for t in item.turns("b") if not t.shared]
        left, right = (a, b) if order != "ba" else (b, a)
        return frame, [conversation_pane("left", "Response A", left), conversation_pane("right", "Response B", right)]
    if item.is_pairwise:
        a_text, b_text = (item.output_a or "", item.output_b or "")
        lt, rt = (a_text, b_text) if order != "ba" else (b_text, a_text)
        return frame, [pane("left", "Response A", lt), pane("right", "Response B", rt)]
    if rated_conversation:
        return frame, [conversation_pane("conversation", "Conversation", item.turns())]
    return frame, [pane("output", "Response", item.output or "")]


def snippet(text: str, limit: int = 120) -> str:
    """The start of a text on one line (whitespace collapsed), for lists such as "My labels"."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"
