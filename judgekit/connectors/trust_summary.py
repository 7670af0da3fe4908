"""A trust summary keyed on the judge fingerprint: what a platform (or a CI job) stores beside a judge's scores.

Why keyed on the fingerprint: the same judge (provider, model, rubric version, prompt, parameters) gets the same
16-hex-digit :meth:`~judgekit.models.JudgeConfig.fingerprint` wherever it runs, so a platform can attach the
summary to every score that judge produced and show whether it can be trusted. The figures come from
:func:`judgekit.agreement.assess_run`, the one home of the verdict; nothing is recomputed here.
"""

from __future__ import annotations

import json
from typing import Any

from judgekit.agreement import assess_run, load_criteria
from judgekit.storage import Project

SUMMARY_FIELDS = (
    "run",
    "model",
    "provider",
    "rubric",
    "verdict",
    "reasons",
    "criteria",
    "n_items_labelled",
    "n_annotators",
)
"""The parts of the assessment the summary keeps (the full assessment is ``judgekit agree --json``)."""


def trust_summaries(project: Project, runs: list[str] | None = None, config: Any = None) -> dict[str, dict[str, Any]]:
    """``{fingerprint: summary}`` for the named runs (default every run), with the configured criteria."""
    chosen = [project.run(r) for r in runs] if runs else project.runs()
    out: dict[str, dict[str, Any]] = {}
    for r in chosen:
        assessment = assess_run(project, r, load_criteria(config, rubric_id=r.config.rubric_id))
        full = json.loads(assessment.model_dump_json())
        summary = {k: full[k] for k in SUMMARY_FIELDS if k in full}
        summary["judge_config"] = r.config.model_dump(mode="json")
        out.setdefault(r.fingerprint, {"runs": []})["runs"].append(summary)
    return out


def export_trust_summary(project: Project, runs: list[str] | None = None, config: Any = None) -> str:
    """:func:`trust_summaries` as deterministic JSON text."""
    return json.dumps(trust_summaries(project, runs, config), indent=1, sort_keys=True, ensure_ascii=False) + "\n"
