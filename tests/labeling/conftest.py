"""Small projects for the labeling tests: binary, ordinal 1-5 and pairwise rubrics, a few annotators."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from judgekit.labeling import add_annotator, submit_label
from judgekit.models import Item, ItemMetadata, JudgeConfig, JudgeVerdict, load_rubric
from judgekit.storage import Project

from .browser_support import UI_WAIT_MS, launch, require_chromium

REPO = Path(__file__).resolve().parents[2]
RUBRICS = REPO / "rubrics"
BINARY = RUBRICS / "helpfulness_pass_fail.yaml"
ORDINAL = RUBRICS / "answer_quality_1to5.yaml"
PAIRWISE = RUBRICS / "pandalm_pairwise.yaml"
SCRIPT_ITEM = 'Say hi <script>document.title="PWNED";window.__pwned=1</script> ![x](http://127.0.0.1:9/x.png)'


def build_project(
    path: str | Path, rubric_file: Path, n_items: int = 6, *, risky: tuple[int, ...] = (), script_item: bool = False
) -> tuple[Project, dict[str, str]]:
    """A project with one rubric, ``n_items`` items and annotators alice, bob (annotators) and root (admin).

    Returns the open project and the access codes by name.
    """
    project = Project(path)
    rubric = load_rubric(rubric_file)
    project.save_rubric(rubric)
    items = []
    for i in range(n_items):
        text = SCRIPT_ITEM if script_item and i == 0 else f"Question number {i}?"
        meta = ItemMetadata(risk="high" if i in risky else None)
        if rubric.task == "pairwise":
            items.append(
                Item(id=f"it{i}", input=text, output_a=f"left answer {i}", output_b=f"right answer {i}", metadata=meta)
            )
        else:
            items.append(Item(id=f"it{i}", input=text, output=f"answer {i} **bold** <b>x</b>", metadata=meta))
    project.add_items(items)
    codes = {name: add_annotator(project, name, admin=name == "root") for name in ("alice", "bob", "root")}
    return project, codes


def add_judge(project: Project, name: str, labels: dict[str, tuple[str, float | None]]) -> None:
    """A judge run with the given (label, confidence) per item id."""
    rubric = project.rubrics()[0]
    cfg = JudgeConfig(
        provider="external", model=name, rubric_id=rubric.id, rubric_version=rubric.version, confidence="external"
    )
    run = project.create_run(name, cfg, source="import")
    project.add_verdicts(
        run.id,
        [
            JudgeVerdict(
                item_id=i,
                label=lab,
                confidence=conf,
                confidence_source="external" if conf is not None else "none",
                rationale=f"because {lab}",
            )
            for i, (lab, conf) in labels.items()
        ],
    )


def build_disagreements(path: str | Path, *, script_item: bool = False) -> tuple[Project, dict[str, str]]:
    """12 binary items labelled by alice and bob (bob differs on it1 and it5: ties) and a judge ``judge-x`` saying
    pass everywhere with rising confidence (0.5 + i/30): on it0, it3, it6 and it9 it is against both people."""
    project, codes = build_project(path, BINARY, n_items=12, script_item=script_item)
    rubric = project.rubrics()[0]
    for who in ("alice", "bob"):
        for i in range(12):
            value = "fail" if i % 3 == 0 or (who == "bob" and i in (1, 5)) else "pass"
            submit_label(project, who, rubric, f"it{i}", value, critique="c" if value == "fail" else None)
    add_judge(project, "judge-x", {f"it{i}": ("pass", 0.5 + i / 30) for i in range(12)})
    return project, codes


@pytest.fixture
def binary_project(db_url: str, tmp_path: Path) -> tuple[Project, dict[str, str]]:
    p, codes = build_project(db_url, BINARY)
    yield p, codes
    p.close()


@pytest.fixture
def browser() -> Iterator[Any]:
    """Debian's Chromium through Playwright, for one test (checks wait up to ``UI_WAIT_MS``)."""
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        expect.set_options(timeout=UI_WAIT_MS)
        b = launch(p)
        yield b
        b.close()
