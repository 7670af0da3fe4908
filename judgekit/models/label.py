"""Human labels: what annotators decided, append-only."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal, get_args

from pydantic import Field

from judgekit.models._base import SCHEMA_VERSION, OmitNewDefaults
from judgekit.models.ids import Identifier
from judgekit.models.text import Text

Provenance = Literal["blind", "corrected", "adjudicated"]
"""How a human label came about (see :attr:`HumanLabel.provenance`)."""
PROVENANCES: tuple[Provenance, ...] = get_args(Provenance)
"""Every provenance, in the order above."""


class HumanLabel(OmitNewDefaults):
    """One annotator's label for one item under one rubric version.

    Labels are never updated in place: revising a label stores a new row with ``revision`` one higher, so the
    history of every decision is kept and a submitted label is never lost.

    Under a rubric with rated criteria, one label holds the annotator's answer for every criterion (``criteria``,
    one form) and ``label`` the overall label derived from them (:meth:`judgekit.models.Rubric.record_label`).
    """

    _omit_at_default: ClassVar[dict[str, Any]] = {"criteria": {}}

    schema_version: Literal[1] = SCHEMA_VERSION
    """Version of this record's serialised form."""
    item_id: Identifier = Field(min_length=1)
    """The labelled item."""
    annotator: Identifier = Field(min_length=1, max_length=128)
    """Who labelled it (a name or pseudonym; the same string for all of one person's labels)."""
    rubric_id: str = Field(min_length=1)
    """Rubric the label answers."""
    rubric_version: int = Field(ge=1)
    """Version of that rubric."""
    label: Text = Field(min_length=1)
    """A level value of the rubric's scale (a number on an interval scale); with rated criteria, the overall label
    derived from ``criteria``."""
    criteria: dict[str, str] = Field(default_factory=dict)
    """Rubrics with rated criteria: the answer for each criterion by name (a level value, or a number)."""
    critique: Text | None = None
    """Free-text reasoning, required by some rubrics for failing labels."""
    time_spent_s: float | None = Field(default=None, ge=0)
    """Seconds the annotator spent on the item."""
    created_at: datetime | None = None
    """When the label was submitted (set by storage when absent)."""
    revision: int = Field(default=1, ge=1)
    """1 for the first label of this annotator on this item, +1 for every revision."""
    flagged: bool = False
    """The annotator flagged the item for review (unclear, broken, offensive ...)."""
    display_order: Literal["ab", "ba"] | None = None
    """For pairwise items: the left/right order the annotator saw, so human position bias can be measured."""
    provenance: Provenance = "blind"
    """How the label came about. ``blind``: the annotator decided without seeing the judge or other people (the
    labeling app's labels, and the default basis of every human figure). ``corrected``: a person corrected a
    judge's score after seeing it, as annotation platforms record human feedback on an LLM judge; it is anchored on
    the judge, so it must not count as independent evidence of agreement. ``adjudicated``: a gold label an admin
    resolved from a disagreement (with the annotators' labels in view). Never mixed silently: readers choose."""
