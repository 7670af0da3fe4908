"""Finding the rubric a command names: a YAML file (stored in the project on the way) or ``ID[@VERSION]``."""

from __future__ import annotations

from pathlib import Path

from judgekit.models import Rubric, load_rubric, parse_key
from judgekit.storage import Project

__all__ = ["resolve_rubric"]


def resolve_rubric(project: Project, spec: str) -> Rubric:
    """The rubric ``spec`` names: a ``.yaml``/``.yml`` path (or any existing file) is loaded and stored in the
    project; anything else is ``ID`` (latest version) or ``ID@VERSION`` of a stored rubric, read by
    :func:`judgekit.models.parse_key` (a malformed reference is a usage error, never the latest version)."""
    if spec.endswith((".yaml", ".yml")) or Path(spec).is_file():
        rubric = load_rubric(spec)
        project.save_rubric(rubric)
        return rubric
    key = parse_key(spec, "rubric")
    return project.rubric(key.id, key.version)
