"""A small world for ``judgekit align``: a project whose judge fails one documented class of items.

120 single-output items, 3 annotators (who disagree on a few ordinary items, so the human ceiling is below 1).
A third of the items are *hedges* (the output dodges the question): people say ``fail``, and the scripted judge
says ``pass`` unless the rubric's decision rules mention hedging or a few-shot example of a hedge is in the
prompt (see :mod:`judgekit.testing.scripted_llm`). Every other item is judged correctly except a 5% noise share.
The starting judge is an ordinary run of ``openai:gpt-4o-mini`` on the scripted server, over every item.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from judgekit.calibration import SplitInfo, create_split
from judgekit.judging import build_config, run_judge
from judgekit.models import HumanLabel, Item, ItemMetadata, Rubric
from judgekit.storage import Project
from judgekit.testing.scripted_llm import AnswerKey, FailureClass, ScriptedLLMServer
from tests.helpers import rubric as bundled_rubric

HEDGE = FailureClass(
    "hedge",
    "the output dodges the question instead of answering it",
    ("hedg", "dodg", "evasive"),
    "An output that hedges or dodges the question instead of answering it fails, however polite it is.",
    ("fail", "The output does not answer the question (including hedging or dodging it), or is wrong."),
)


@dataclass
class World:
    project: Project
    path: Path
    rubric: Rubric
    server: ScriptedLLMServer
    key: AnswerKey
    split: SplitInfo
    truth: dict[str, str]
    classes: dict[str, str | None]

    def ids_of(self, keys: list[str]) -> set[str]:
        by_key = self.key.ids_by_key()
        return {by_key[k] for k in keys if k in by_key}


def _items(n: int = 120) -> tuple[list[Item], dict[str, str], dict[str, str | None]]:
    items, truth, cls = [], {}, {}
    for i in range(n):
        iid = f"q{i:03d}"
        if i % 3 == 0:
            out = f"That depends on many factors; it is hard to say for item {i}, and experts differ on it."
            truth[iid], cls[iid] = "fail", "hedge"
        else:
            good = i % 3 == 1
            out = f"The answer to question {i} is {i * 7}." if good else f"Question {i} is about colours, not sums."
            truth[iid], cls[iid] = ("pass" if good else "fail"), None
        items.append(
            Item(
                id=iid,
                input=f"Question {i}: what is {i} times seven?",
                output=out,
                metadata=ItemMetadata(segment=f"s{i % 2}", source="forum" if i % 3 == 0 else f"docs-{i % 2}"),
            )
        )
    return items, truth, cls


def make_world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, hedges_in_test: bool = True) -> Iterator[World]:
    """The world (see the module docstring), its server stopped and project closed afterwards. With
    ``hedges_in_test=False`` the split keeps whole sources apart and every hedge (source ``forum``) is in dev: a
    rule about hedges then wins on dev and cannot help on test."""
    for var in ("OPENAI_BASE_URL", "ANTHROPIC_BASE_URL", "JUDGEKIT_DB", "JUDGEKIT_PRICES"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "scripted")
    monkeypatch.chdir(tmp_path)
    rub = bundled_rubric()
    items, truth, cls = _items()
    path = tmp_path / "align.db"
    project = Project(path, create=True)
    project.save_rubric(rub)
    project.add_items(items)
    labels = []
    for n, it in enumerate(items):
        for a, annotator in enumerate(("ann1", "ann2", "ann3")):
            lab = truth[it.id]
            if cls[it.id] is None and (n + a) % 11 == 0:  # a little human disagreement on ordinary items
                lab = "pass" if lab == "fail" else "fail"
            labels.append(
                HumanLabel(item_id=it.id, annotator=annotator, rubric_id=rub.id, rubric_version=rub.version, label=lab)
            )
    project.add_labels(labels)
    key = AnswerKey.from_items(
        items,
        truth,
        lambda it, label: (cls[it.id], "pass" if cls[it.id] == "hedge" else ("fail" if label == "pass" else "pass")),
        [HEDGE],
        noise=0.05,
        levels=rub.scale.values,
    )
    server = ScriptedLLMServer(key).start()
    try:
        config = build_config("openai", "gpt-4o-mini", rub, base_url=server.openai_url)
        run_judge(project, config, rubric=rub, run_name="start", progress=False, stream=sys.stderr)
        if hedges_in_test:
            split = create_split(project, rub, test_fraction=0.3, seed=1)
        else:
            for seed in range(20):
                split = create_split(project, rub, test_fraction=0.3, method="source", seed=seed)
                if "forum" not in split.params.get("test_sources", ["forum"]):
                    break
        server.requests.clear()
        yield World(project, path, rub, server, key, split, truth, cls)
    finally:
        server.stop()
        project.close()
