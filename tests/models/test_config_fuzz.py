"""Generated rubric files and judgekit.toml files (issue 16: "fuzzed tests for rubric files and configuration").

A valid rubric is mutated (a key removed, a value replaced by any YAML value, an unknown key added) or replaced by
arbitrary text; a configuration file holds any settings with any TOML values. Whatever the file,
``judgekit rubric validate`` ends in 0 or 2 with the file named and never the CLI's "internal error" line, and
:func:`load_criteria` returns criteria or raises :class:`ConfigError` naming the file.
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from judgekit.agreement.criteria import TrustCriteria, load_criteria
from judgekit.cli import main
from judgekit.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
RUBRIC = yaml.safe_load((ROOT / "rubrics" / "helpfulness_pass_fail.yaml").read_text())

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.sampled_from(["pass", "fail", "{{ item_block }}", "{{ nope }}", "{% for %}", "binary", "ordinal", "1"])
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


PATHS = _paths(RUBRIC)


@st.composite
def rubric_texts(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.text(max_size=200))
    doc = json.loads(json.dumps(RUBRIC))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(PATHS))
        parent: Any = doc
        try:
            for key in path[:-1]:
                parent = parent[key]
            action = draw(st.sampled_from(["delete", "replace", "add"]))
            if action == "delete":
                del parent[path[-1]]
            elif action == "replace":
                parent[path[-1]] = draw(VALUES)
            elif isinstance(parent, dict):
                parent[draw(st.text(min_size=1, max_size=8))] = draw(VALUES)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or changed the path
    return yaml.safe_dump(doc, allow_unicode=True)


@given(rubric_texts())
def test_any_rubric_file_is_valid_or_refused_with_its_name(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "r.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        with _capture() as err:
            rc = main(["rubric", "validate", str(path)])
        assert rc in (0, 2)
        assert "internal error" not in err.getvalue() and "Traceback" not in err.getvalue(), err.getvalue()
        if rc == 2:
            assert str(path) in err.getvalue(), err.getvalue()


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"


KEYS = st.sampled_from([*TrustCriteria.model_fields, "min_kapa", "rubrics", "tool"]) | st.text(min_size=1, max_size=6)
TOML_VALUES = st.recursive(
    st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(min_size=1, max_size=6), inner, max_size=3),
    max_leaves=6,
)


@given(st.dictionaries(KEYS, TOML_VALUES, max_size=5), st.sampled_from(["judgekit.toml", "pyproject.toml"]))
def test_any_configuration_is_read_or_refused_with_its_name(settings: dict[str, Any], name: str) -> None:
    lines = "\n".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in settings.items())
    text = f"[tool.judgekit]\n{lines}\n" if name == "pyproject.toml" else lines + "\n"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            criteria = load_criteria(path, rubric_id="helpfulness-pass-fail")
        except ConfigError as exc:
            assert str(exc).startswith(str(path)), str(exc)
        else:
            assert all(math.isfinite(v) for v in criteria.model_dump().values() if isinstance(v, float))


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("min_kappa = nan\n", "min_kappa"),
        ("n_boot = 99999999999999999999999\n", "n_boot"),
        ('seed = "0"\n', "seed"),
        ("[rubrics]\nx = 1\n", "rubrics.'x'"),
        ("min_kappa = 0.6\nmin_kappa = 0.7\n", "not valid TOML"),
        ("\xff", "not valid TOML"),
    ],
)
def test_configuration_problems_named(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "judgekit.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=says.replace(".", r"\.").replace("'", "'")):
        load_criteria(path)


class _capture:
    """Standard output and error of an in-process CLI call (capsys is not usable inside a hypothesis example)."""

    def __enter__(self) -> Any:
        import contextlib
        import io

        self._buf = io.StringIO()
        self._ctx = contextlib.redirect_stderr(self._buf)
        self._ctx.__enter__()
        self._out = contextlib.redirect_stdout(self._buf)  # the INVALID lines go to standard output
        self._out.__enter__()
        return self._buf

    def __exit__(self, *exc: object) -> None:
        self._out.__exit__(*exc)  # type: ignore[arg-type]
        self._ctx.__exit__(*exc)  # type: ignore[arg-type]
