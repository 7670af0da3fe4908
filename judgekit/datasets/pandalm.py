"""The PandaLM human-annotated test set (Wang et al., ICLR 2024), with two real LLM judges' verdicts.

999 pairwise items; the same three annotators labelled every item; GPT-3.5-turbo's and PandaLM-7B's verdicts on
the same items. Apache-2.0, see ``pandalm/SOURCE.md``. Mapping: ``output_a`` = response1, ``output_b`` = response2;
label 1 -> ``A``, 2 -> ``B``, 0 / "Tie" -> ``tie``; GPT-3.5's "garbage" (unparseable reply) -> status
``parse_error`` with the raw reply kept, never a tie.
"""

from __future__ import annotations

import json
from typing import Any

from judgekit.datasets import DATA_DIR, bundled_rubric_path
from judgekit.datasets.bundle import BundledDataset
from judgekit.models import HumanLabel, Item, ItemMetadata, JudgeVerdict, load_rubric

FOLDER = DATA_DIR / "pandalm"
RUBRIC_FILE = "pandalm_pairwise.yaml"
ANNOTATORS = ("annotator1", "annotator2", "annotator3")
_LABELS = {0: "tie", 1: "A", 2: "B", "0": "tie", "1": "A", "2": "B", "Tie": "tie"}
#: The two judges in the data: run name -> (file, result field, reason field, model name).
JUDGES = {
    "gpt-3.5-turbo": ("gpt-3.5-turbo-testset-v1.json", "gpt_result", "gpt_reason", "gpt-3.5-turbo"),
    "pandalm-7b": ("pandalm-7b-testset-v1.json", "pandalm_result", "pandalm_reason", "PandaLM-7B"),
}


def _load(name: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads((FOLDER / name).read_text(encoding="utf-8"))
    return data


def _text(value: Any) -> str:
    """Six responses in the source file are the JSON literal ``true`` (the model answered "True"); keep them as
    the text ``"True"`` rather than refusing the item."""
    return value if isinstance(value, str) else json.dumps(value) if not isinstance(value, bool) else str(value)


def load_pandalm() -> BundledDataset:
    """Read the bundled files into items, the three annotators' labels and both judges' verdicts."""
    rubric = load_rubric(bundled_rubric_path(RUBRIC_FILE))
    rows = _load("testset-v1.json")
    items: list[Item] = []
    labels: list[HumanLabel] = []
    for r in rows:
        item_id = f"pandalm-{r['idx']}"
        items.append(
            Item(
                id=item_id,
                input=r["instruction"] + (f"\n\n{r['input']}" if r["input"] else ""),
                output_a=_text(r["response1"]),
                output_b=_text(r["response2"]),
                metadata=ItemMetadata(
                    segment=r["motivation_app"],
                    source=r["cmp_key"],
                    extra={"idx": r["idx"], "instruction": r["instruction"], "input": r["input"]},
                ),
            )
        )
        for ann in ANNOTATORS:
            labels.append(
                HumanLabel(
                    item_id=item_id,
                    annotator=ann,
                    rubric_id=rubric.id,
                    rubric_version=rubric.version,
                    label=_LABELS[r[ann]],
                )
            )
    verdicts: dict[str, list[JudgeVerdict]] = {}
    models: dict[str, str] = {}
    for run, (fname, field, reason, model) in JUDGES.items():
        models[run] = model
        out: list[JudgeVerdict] = []
        for r in _load(fname):
            raw = r[field]
            label = _LABELS.get(raw)
            item_id = f"pandalm-{r['idx']}"
            if label is None:
                out.append(
                    JudgeVerdict(
                        item_id=item_id,
                        status="parse_error",
                        raw_reply=str(raw),
                        rationale=r.get(reason) or None,
                    )
                )
            else:
                out.append(
                    JudgeVerdict(
                        item_id=item_id,
                        status="ok",
                        label=label,
                        raw_reply=str(raw),
                        rationale=r.get(reason) or None,
                    )
                )
        verdicts[run] = out
    return BundledDataset(rubric, items, labels, verdicts, models)
