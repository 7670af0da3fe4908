"""What every bundled data set loads into: one shape, so the demo imports PandaLM, HANNA and DICES the same way."""

from __future__ import annotations

from dataclasses import dataclass

from judgekit.models import HumanLabel, Item, JudgeVerdict, Rubric


@dataclass(frozen=True)
class BundledDataset:
    """A bundled data set as judgekit models: its rubric, items, the people's labels, each judge run's verdicts
    (run name -> verdicts) and each run's model name."""

    rubric: Rubric
    items: list[Item]
    labels: list[HumanLabel]
    verdicts: dict[str, list[JudgeVerdict]]
    models: dict[str, str]
