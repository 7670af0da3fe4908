"""The demo: the bundled PandaLM data imported into a fresh project, ready for ``agree``, ``report`` and ``label``.

Why a real data set: three people labelled every item and two real LLM judges (GPT-3.5-turbo, PandaLM-7B)
judged the same items, so the demo shows the product's question on real evidence: how close does each judge
come to the agreement people reach among themselves?
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from judgekit.datasets.bundle import BundledDataset
from judgekit.datasets.pandalm import load_pandalm
from judgekit.errors import UserError
from judgekit.storage import Project

DEMO_DB = "judgekit-demo.db"
"""Default database file of the demo (in the current folder)."""


@dataclass(frozen=True)
class DemoProject:
    """What the demo created."""

    path: Path
    rubric_key: str
    n_items: int
    n_labels: int
    runs: list[str]


DATASETS = ("pandalm", "hanna", "dices")
"""The bundled data sets a demo can be built from: PandaLM (pairwise, 3 annotators, 2 judges; the default),
HANNA (six criteria on 1-5 scales, 3 raters, 2 judges; :mod:`judgekit.datasets.hanna`) and DICES (350
conversations, safety of the last chatbot turn rated by 123 people, a keyword baseline as the judge;
:mod:`judgekit.datasets.dices`)."""


def build_demo_project(path: str | os.PathLike[str] | None = None, dataset: str = "pandalm") -> DemoProject:
    """Create a fresh demo database at ``path`` (default ``./judgekit-demo.db``) from a bundled data set.

    An existing demo database is replaced; any other existing file is refused, so the demo never overwrites a
    real project.
    """
    if dataset not in DATASETS:
        raise UserError(f"unknown demo data set {dataset!r}; expected one of {', '.join(DATASETS)}")
    p = Path(path) if path is not None else Path(DEMO_DB)
    if p.exists():
        try:
            with Project(p) as old:
                kind = old.get_meta("kind")
        except Exception:
            kind = None
        if kind != "demo":
            raise UserError(
                f"{p} exists and is not a judgekit demo database; the demo will not overwrite it "
                "(pass another --db path)"
            )
        for suffix in ("", "-wal", "-shm"):
            Path(str(p) + suffix).unlink(missing_ok=True)
    if dataset == "hanna":
        return _build_hanna(p)
    if dataset == "dices":
        return _build_dices(p)
    data = load_pandalm()
    with Project(p) as project, project.transaction():
        project.set_meta("kind", "demo")
        project.save_rubric(data.rubric)
        project.add_items(data.items)
        for label in data.labels:
            project.add_label(label)
        from judgekit.io.importers import import_verdicts
        from judgekit.io.rows import Row

        for run, verdicts in data.verdicts.items():
            rows = [
                Row(
                    v.model_dump(mode="json", exclude={"schema_version", "judge_fingerprint"}),
                    f"pandalm/{run}",
                    i,
                )
                for i, v in enumerate(verdicts, start=1)
            ]
            import_verdicts(
                project,
                rows,
                data.rubric,
                run_name=run,
                model=data.models[run],
                meta={"imported_from": "PandaLM test set (Apache-2.0)"},
            )
        # Every bundled item already has three labels: ask for a fourth opinion, so that a newcomer who signs in to
        # `judgekit label` gets items to label and the admin page shows agreement moving as their labels arrive.
        from judgekit.labeling import AssignmentPolicy, set_policy

        set_policy(
            project, data.rubric.id, AssignmentPolicy(annotators_per_item=4, overlap_fraction=0.1, overlap_annotators=5)
        )
        return DemoProject(p, data.rubric.key, project.item_count(), project.label_count(), list(data.verdicts))


def _build_hanna(p: Path) -> DemoProject:
    """The HANNA demo: six rated criteria on interval scales, three raters, two LLM judges."""
    from judgekit.datasets.hanna import load_hanna

    return _build_imported(p, load_hanna(), "external", "HANNA (MIT), prompt variant 1")


def _build_dices(p: Path) -> DemoProject:
    """The DICES demo: conversations judged on their last chatbot turn, 40 raters, the keyword baseline (not an
    LLM) as the judge run."""
    from judgekit.datasets.dices import load_dices

    return _build_imported(p, load_dices(), "baseline", "judgekit.datasets.dices.keyword_baseline")


def _build_imported(p: Path, data: BundledDataset, provider: str, imported_from: str) -> DemoProject:
    """A demo project from a bundled data set: its rubric, items and labels, and each judge's verdicts as an
    imported run (``provider``: ``external`` for a real LLM judged elsewhere, ``baseline`` for a non-LLM one)."""
    from judgekit.models import JudgeConfig

    with Project(p) as project:
        with project.transaction():
            project.set_meta("kind", "demo")
            project.save_rubric(data.rubric)
            project.add_items(data.items)
        project.add_labels(data.labels)
        for run, verdicts in data.verdicts.items():
            cfg = JudgeConfig(
                provider=provider,
                model=data.models[run],
                rubric_id=data.rubric.id,
                rubric_version=data.rubric.version,
            )
            r = project.create_run(run, cfg, source="import", meta={"imported_from": imported_from})
            project.append_verdicts(r.id, verdicts)
        return DemoProject(p, data.rubric.key, project.item_count(), project.label_count(), list(data.verdicts))
