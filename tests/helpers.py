"""Small builders shared by tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from judgekit.models import Rubric, load_rubric

ROOT = Path(__file__).resolve().parents[1]


def rubric(name: str = "helpfulness_pass_fail") -> Rubric:
    """A rubric shipped in rubrics/."""
    return load_rubric(ROOT / "rubrics" / f"{name}.yaml")


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    """Write ``rows`` as JSON Lines to ``path`` and return it."""
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path
