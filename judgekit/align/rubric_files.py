"""Rubric versions as text: the readable diff of a candidate against its parent, and the YAML file ``align`` writes.

Why YAML written by judgekit: the new version must load back exactly (``judgekit rubric validate``, ``judgekit
judge --rubric FILE``), so it is generated from the model, with multi-line text as literal blocks and the schema
line editors use, rather than patched into the user's file (whose comments could then contradict it).
"""

from __future__ import annotations

import difflib
import textwrap
from pathlib import Path
from typing import Any

import yaml

from judgekit.errors import UserError
from judgekit.io.files import write_text_atomic
from judgekit.models import Rubric, load_rubric

__all__ = ["config_diff", "default_rubric_path", "rubric_diff", "rubric_yaml", "write_rubric"]


class _Dumper(yaml.SafeDumper):
    """Multi-line strings as ``|`` blocks (templates stay readable); everything else as PyYAML's safe dumper."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _str)


def _body(rubric: Rubric) -> dict[str, Any]:
    data: dict[str, Any] = rubric.model_dump(mode="json", exclude_none=True)
    return data


def rubric_yaml(rubric: Rubric, *, header: str = "") -> str:
    """The rubric as a YAML file: the schema line, ``header`` as comment lines, then every field."""
    lines = ["# yaml-language-server: $schema=./rubric.schema.json"]
    for line in header.splitlines():
        lines += [f"# {part}" for part in textwrap.wrap(line, 100)] or ["#"]
    text = yaml.dump(_body(rubric), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110)
    return "\n".join(lines) + "\n" + text


def rubric_diff(parent: Rubric, child: Rubric) -> str:
    """A unified diff of the two versions' YAML (what a reviewer reads)."""
    a = rubric_yaml(parent).splitlines()[1:]
    b = rubric_yaml(child).splitlines()[1:]
    return "\n".join(difflib.unified_diff(a, b, fromfile=parent.key, tofile=child.key, lineterm="", n=1))


def config_diff(before: dict[str, Any], after: dict[str, Any], *, names: tuple[str, str]) -> str:
    """A unified diff of two judge configurations' fields that differ (one ``field: value`` line each)."""
    keys = sorted(set(before) | set(after))
    a = [f"{k}: {before.get(k)!r}" for k in keys]
    b = [f"{k}: {after.get(k)!r}" for k in keys]
    return "\n".join(difflib.unified_diff(a, b, fromfile=names[0], tofile=names[1], lineterm="", n=0))


def default_rubric_path(rubric: Rubric) -> Path:
    """``rubrics/ID.yaml`` in the current folder."""
    return Path("rubrics") / f"{rubric.id}.yaml"


def check_target(path: Path, rubric: Rubric) -> None:
    """Refuse, before any work, to overwrite a file that is not an older version of the same rubric."""
    if not path.exists():
        return
    if path.is_dir():
        raise UserError(f"{path}: is a folder; --out names the rubric file to write")
    try:
        old = load_rubric(path)
    except Exception as exc:  # any unreadable file is someone else's: leave it alone
        raise UserError(f"{path} exists and is not a rubric judgekit can read ({exc}); choose another --out") from None
    if old.id != rubric.id:
        raise UserError(f"{path} holds rubric {old.id!r}, not {rubric.id!r}; choose another --out")


def write_rubric(path: Path, rubric: Rubric, *, header: str) -> Path:
    """Write the rubric file (atomically: a failure leaves the old file), after checking it loads back equal."""
    check_target(path, rubric)
    if path.exists() and load_rubric(path).version >= rubric.version:
        raise UserError(f"{path} already holds {load_rubric(path).key}, not older than {rubric.key}; nothing written")
    text = rubric_yaml(rubric, header=header)
    loaded = yaml.safe_load(text)
    if Rubric.model_validate(loaded, strict=False) != rubric:  # pragma: no cover - a dumper bug, not a user error
        raise AssertionError("the written rubric does not load back equal")
    write_text_atomic(path, text, "rubric file", create_folder=True)
    schema = path.parent / "rubric.schema.json"
    if not schema.exists():
        from judgekit.models import rubric_json_schema_text

        write_text_atomic(schema, rubric_json_schema_text(), "rubric schema")
    return path
