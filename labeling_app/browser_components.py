"""The labeling app's browser components (Streamlit ``components.v2``), each built from ``prelude.js`` (the
helpers they share: ids, localStorage, elements, the session cookie, an item's panes) followed by its own script.

Why one place: the desk (``desk.js``) and the admin's disagreement browser (``admin.js``) used to carry their own
copies of the same helpers, and the copies drifted (one pane had "raw", the other not).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import streamlit as st

HERE = Path(__file__).resolve().parent
PRELUDE = "prelude.js"

_SESSION_JS = """
// Keeps the session cookie set (a reload stays signed in), whatever else the page shows.
export default function (component) {
  if (component.data) setCookie(component.data.cookie);
  return undefined;
}
"""


def _read(name: str) -> str:
    return (HERE / name).read_text(encoding="utf-8")


def component(name: str, *, js: str, css: Sequence[str] = ()) -> Any:
    """A component named ``name`` whose script is ``prelude.js`` followed by ``js`` (a file in this folder, or
    the script itself), styled by the ``css`` files, in the page's DOM (not isolated: the keyboard handlers see
    focus anywhere on the page and the tests find the text)."""
    script = _read(js) if js.endswith(".js") else js
    return st.components.v2.component(
        name,
        js=_read(PRELUDE) + "\n" + script,
        css="".join(_read(c) for c in css) or None,
        isolate_styles=False,
    )


SESSION = component("judgekit_session", js=_SESSION_JS)
"""Sets the session cookie sent as ``data={"cookie": {"name", "token", "max_age"}}`` and shows nothing."""
