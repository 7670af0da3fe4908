"""Item text rendered for annotators: markdown shown as markdown, and nothing in it can run or load anything."""

from __future__ import annotations

from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st

from judgekit.labeling import item_panes, render_markdown, snippet
from judgekit.labeling._render import ALLOWED_CLASSES, ALLOWED_TAGS
from judgekit.models import Item, Message, ToolCall

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "![x](http://127.0.0.1:9/x.png)",
    "[click](javascript:alert(1))",
    "[click](http://127.0.0.1:9/)",
    "<http://127.0.0.1:9/auto>",
    '<a href="http://127.0.0.1:9/">raw</a>',
    '<iframe src="http://127.0.0.1:9/"></iframe>',
    "<svg onload=alert(1)>",
    "<style>body{background:url(http://127.0.0.1:9/)}</style>",
    '```"><img src=x onerror=alert(1)>\nx\n```',
    "[![i](http://127.0.0.1:9/i.png)](http://127.0.0.1:9/l)",
    '<div class="jk-code" style="position:fixed">x</div>',
    "| a | <img src=x> |\n|---|---|\n| [l](http://x) | ![i](http://y) |",
    "<!-- comment --><b onclick=x>b</b>",
    "<math><mi xlink:href='javascript:alert(1)'>x</mi></math>",
]


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))


def _assert_inert(html: str) -> None:
    parser = _Tags()
    parser.feed(html)
    for tag, attrs in parser.found:
        assert tag in ALLOWED_TAGS, (tag, html)
        for name, value in attrs:
            assert name == "class", (tag, name, html)  # no src, href, style, on*, ...
            assert set((value or "").split()) <= ALLOWED_CLASSES.get(tag, set()), (tag, value, html)


def test_hostile_markdown_is_inert() -> None:
    for text in HOSTILE:
        out = render_markdown(text)
        _assert_inert(out)
        assert "<script" not in out and "<img" not in out and "<a " not in out


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("<>/=\"' ab!()[]`*_#|-\nhttp:javascriptonerrorimgsrc")), max_size=200))
def test_any_text_renders_inert(text: str) -> None:
    _assert_inert(render_markdown(text))


def test_markdown_code_tables_and_links_render_as_a_reader_expects() -> None:
    out = render_markdown("Use **this**:\n\n```python\nprint('<b>')\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |")
    assert "<strong>this</strong>" in out
    assert '<div class="jk-code"><span class="jk-lang">python</span><pre><code>print(\'&lt;b&gt;\')' in out
    assert "<table>" in out and "<td>1</td>" in out
    link = render_markdown("see [the docs](http://example.invalid/x)")
    assert link == (
        '<p>see <span class="jk-link">the docs</span> <span class="jk-url">(http://example.invalid/x)</span></p>'
    )
    assert render_markdown("line one\nline two") == "<p>line one<br>\nline two</p>"  # newlines kept


def test_panes_pairwise_in_display_order_and_snippets() -> None:
    item = Item(id="p1", input="Which?", output_a="left one", output_b="right one", context="ctx")
    frame, sides = item_panes(item, "ba")
    assert [p.key for p in frame] == ["input", "context"]
    assert [(p.title, p.text) for p in sides] == [("Response A", "right one"), ("Response B", "left one")]
    assert [p.text for p in item_panes(item, "ab")[1]] == ["left one", "right one"]
    assert snippet("  a\n\n b  " + "x" * 200, limit=10) == "a b xxxxx…"


def test_conversation_items_show_each_turn_inert() -> None:
    item = Item(
        id="c1",
        input=None,
        messages=[
            Message(role="system", content="Be <b>nice</b>."),
            Message(role="user", content="```\nunclosed fence"),
            Message(role="assistant", tool_calls=[ToolCall(id="t1", name="search", arguments={"q": "<img src=x>"})]),
            Message(role="tool", tool_call_id="t1", content="![x](http://127.0.0.1:9/x.png)"),
        ],
        output="Final answer.",
    )
    frame, sides = item_panes(item, None)
    (conv,) = frame
    assert conv.title == "Conversation so far" and [p.text for p in sides] == ["Final answer."]
    assert conv.html.count('<div class="jk-turn"') == 4  # the unclosed fence stays inside its own turn
    assert "tool call search (id t1)" in conv.html and "&lt;img src=x&gt;" in conv.html
    assert "<details" in conv.html  # tool calls folded
    assert "4. Tool result ← t1" in conv.html and "jk-judged" not in conv.html  # the output is what is judged
    _assert_inert(conv.html)
    # a conversation rated as a whole turn: numbered turns by role, the judged (last) turn highlighted
    rated = Item(id="c2", messages=[Message(role="user", content="Hi"), Message(role="assistant", content="Hello")])
    _, (whole,) = item_panes(rated, None)
    assert whole.title == "Conversation" and "1. User" in whole.html and "2. Assistant · under judgement" in whole.html
    _assert_inert(whole.html)
    assert whole.html.count("jk-judged") == 1 and '<div class="jk-turn jk-judged">' in whole.html
