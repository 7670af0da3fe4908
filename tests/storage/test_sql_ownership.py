"""Each table has one owner module; only owners hold SQL, and only a table's owner writes it (issue 11).

The source of every judgekit module and of the labeling app is read (the AST's string constants and attribute
uses), so a module that starts writing another package's table, or reaching for the raw connection, fails here.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from judgekit.storage import Project
from judgekit.storage.tables import DATABASE_MODULES, TABLE_OWNERS, sql_modules

ROOT = Path(__file__).resolve().parents[2]
_WRITE = re.compile(
    r"(?<!DO )\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|COPY)\s+(?:temp\.)?([A-Za-z_][A-Za-z0-9_]*)", re.IGNORECASE
)
_READ = re.compile(r"\bSELECT\b[\s\S]*\bFROM\s+([A-Za-z_][A-Za-z0-9_]*)", re.IGNORECASE)
_DB_METHODS = {"execute", "executemany", "one", "scalar", "rows", "insert_rows", "table_exists", "table_names"}


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted((ROOT / "judgekit").rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        name = ".".join(rel.parts).removesuffix(".__init__")
        out[name] = path
    for path in sorted((ROOT / "labeling_app").rglob("*.py")):
        out["labeling_app." + path.stem] = path
    return out


def _strings(tree: ast.AST) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            out.append((node.lineno, node.value))
        elif isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
            out.append((node.lineno, text))
    return out


def _temp_tables(strings: list[tuple[int, str]]) -> set[str]:
    return {
        m.group(1).lower()
        for _, s in strings
        for m in re.finditer(r"CREATE\s+TEMP(?:ORARY)?\s+TABLE\s+(?:IF NOT EXISTS\s+)?(\w+)", s, re.IGNORECASE)
    }


def _is_docstring_like(text: str) -> bool:
    return not re.search(r"\b(SELECT|INSERT|UPDATE|DELETE|FROM|WHERE)\b", text) or text.strip().endswith(".")


def test_every_table_has_an_owner(tmp_path: Path) -> None:
    with Project(tmp_path / "p.db") as p:
        tables = {t for t in p.db.table_names() if not t.startswith("sqlite_")}
    assert tables == set(TABLE_OWNERS), "add new tables to judgekit/storage/tables.py with their owner module"
    modules = _modules()
    assert all(owner in modules for owner in TABLE_OWNERS.values())


@pytest.mark.parametrize("name", sorted(_modules()))
def test_only_owners_hold_sql_and_write_their_tables(name: str) -> None:
    path = _modules()[name]
    tree = ast.parse(path.read_text())
    strings = _strings(tree)
    allowed = sql_modules()
    temp = _temp_tables(strings)
    problems = []
    for line, text in strings:
        if name in DATABASE_MODULES:
            break  # the schema itself (migrations' triggers write tables of every owner)
        for m in _WRITE.finditer(text):
            table = m.group(1).lower()
            if table in temp or table not in TABLE_OWNERS:
                continue
            if TABLE_OWNERS[table] != name:
                problems.append(f"{path.name}:{line}: writes {table}, owned by {TABLE_OWNERS[table]}")
        if name not in allowed and not _is_docstring_like(text):
            for m in _READ.finditer(text):
                if m.group(1).lower() in TABLE_OWNERS:
                    problems.append(f"{path.name}:{line}: SQL on {m.group(1)} outside an owner module")
    if name not in allowed:
        for node in ast.walk(tree):
            if not isinstance(node, ast.Attribute):
                continue
            # project.conn, pandas.read_sql*, project.db.execute(...): a raw handle outside the owners.
            # (project.transaction() is the unit of work and may group calls of several owners.)
            uses_db = isinstance(node.value, ast.Attribute) and node.value.attr == "db" and node.attr in _DB_METHODS
            if node.attr == "conn" or node.attr.startswith("read_sql") or uses_db:
                problems.append(f"{path.name}:{node.lineno}: uses the database directly (call the owner's functions)")
    assert not problems, "\n".join(problems)
