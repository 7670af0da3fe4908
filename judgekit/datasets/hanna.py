"""HANNA (Chhun et al., COLING 2022): 1,056 generated stories, six criteria rated 1-5 by three people, with two LLM
judges' scores of the same stories (Chhun, Suchanek, Clavel, TACL 2024).

MIT licence, see ``hanna/SOURCE.md`` (origin, commit, and how ``hanna_ratings.csv`` was derived from the original
file). Mapping: one item per (system, prompt) pair; the three human rating slots become annotators
``hanna-rater-1..3`` (slots, not fixed people: the original data does not say who rated what); each criterion's
rating is that criterion's answer of the rubric ``hanna-story`` (six interval scales 1-5); the LLM scores (prompt
variant 1, each a mean of three sampled answers, so fractional) are the judge's answers. The story texts are not
in the ratings file, so an item names its system and prompt number instead. A judge score outside 1-5 in the source
(Mistral-7B 253 scores, ChatGPT 3) is a ``parse_error`` of that criterion, kept with its number in the rationale.
"""

from __future__ import annotations

import csv

from judgekit.datasets import DATA_DIR, bundled_rubric_path
from judgekit.datasets.bundle import BundledDataset
from judgekit.models import CriterionVerdict, HumanLabel, Item, ItemMetadata, JudgeVerdict, load_rubric
from judgekit.models.rubric import format_number

FOLDER = DATA_DIR / "hanna"
RUBRIC_FILE = "hanna_story.yaml"
CRITERIA = {
    "relevance": "RE",
    "coherence": "CH",
    "empathy": "EM",
    "surprise": "SU",
    "engagement": "EG",
    "complexity": "CX",
}
"""Rubric criterion -> HANNA's column code."""
ANNOTATORS = ("hanna-rater-1", "hanna-rater-2", "hanna-rater-3")
JUDGES = {"chatgpt": ("ChatGPT", "gpt-3.5-turbo (ChatGPT)"), "mistral-7b": ("Mistral-7B", "Mistral-7B-Instruct")}
"""Run name -> (column prefix in the ratings file, model name)."""


def _answer(score: float) -> CriterionVerdict:
    """A judge's score as its answer; a mean outside 1-5 (253 of Mistral-7B's 6,336 scores, 3 of ChatGPT's: the
    source scores an answer it could not read below 1) is a ``parse_error`` with the number kept, never clipped
    into the scale."""
    if 1 <= score <= 5:
        return CriterionVerdict(label=format_number(score))
    return CriterionVerdict(
        status="parse_error", rationale=f"score {format_number(score)} in the source is outside 1-5 (unreadable reply)"
    )


def load_hanna() -> BundledDataset:
    """Read the bundled ratings into items, the three raters' labels (one answer per criterion) and both judges'
    verdicts."""
    rubric = load_rubric(bundled_rubric_path(RUBRIC_FILE))
    with (FOLDER / "hanna_ratings.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    items: list[Item] = []
    labels: list[HumanLabel] = []
    verdicts: dict[str, list[JudgeVerdict]] = {run: [] for run in JUDGES}
    for r in rows:
        item_id = f"hanna-{r['system']}-{int(r['prompt']):02d}".replace(" ", "_").replace("(", "").replace(")", "")
        items.append(
            Item(
                id=item_id,
                input=f"HANNA writing prompt {r['prompt']} (of 96)",
                output=f"The story the system {r['system']} wrote for prompt {r['prompt']} (text not bundled).",
                metadata=ItemMetadata(segment=r["system"], extra={"system": r["system"], "prompt": int(r["prompt"])}),
            )
        )
        for slot, ann in enumerate(ANNOTATORS, start=1):
            answers = {c: r[f"human{slot}_{code}"] for c, code in CRITERIA.items()}
            label, criteria = rubric.answer(None, answers)
            labels.append(
                HumanLabel(
                    item_id=item_id,
                    annotator=ann,
                    rubric_id=rubric.id,
                    rubric_version=rubric.version,
                    label=label,
                    criteria=criteria,
                )
            )
        for run, (prefix, _) in JUDGES.items():
            crit = {c: _answer(float(r[f"{prefix}_{code}"])) for c, code in CRITERIA.items()}
            status, overall = rubric.record_verdict({c: (v.status, v.label) for c, v in crit.items()})
            verdicts[run].append(
                JudgeVerdict(item_id=item_id, status=status, label=overall, criteria=crit)  # type: ignore[arg-type]
            )
    return BundledDataset(rubric, items, labels, verdicts, {run: model for run, (_, model) in JUDGES.items()})
