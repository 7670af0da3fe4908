"""The reference label: what the judge's verdict on an item is compared with. One definition, one tie rule.

Two rules (``TrustCriteria.reference``):

* ``majority`` (default): the plurality of the annotators' **blind** labels. With three annotators this is the
  majority vote used as the gold label by most LLM-as-a-judge benchmarks (PandaLM among them). An item whose top
  labels tie has **no** reference label: it is left out of every judge-vs-reference figure and counted
  (``n_ties``), never broken at random or by level order.
* ``adjudicated``: the label an admin resolved (provenance ``adjudicated``); items nobody adjudicated have no
  reference label and are left out, counted. Blind labels never stand in for a missing adjudication, so the two
  kinds are never mixed silently. Several adjudications of one item: the most recently submitted one is the gold
  label, whoever the admin: a second admin's resolution supersedes the first
  (:func:`judgekit.agreement.data.load_adjudications`).

The human ceiling and the judge-vs-each-annotator figures always use blind labels, whatever the rule.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict

from judgekit.models import Provenance

if TYPE_CHECKING:
    from judgekit.agreement.data import HumanRatings

__all__ = ["TIE_RULE", "ReferenceRule", "ReferenceSummary", "majority_codes", "reference_labels"]

ReferenceRule = Literal["majority", "adjudicated"]
"""Which labels make the reference label (see the module docstring)."""
TIE_RULE = "plurality of the labels; an item whose most frequent labels tie has no reference label (left out, counted)"

IntArray = NDArray[np.int64]


class ReferenceSummary(BaseModel):
    """How the reference label was made on a set of items, and for how many it exists."""

    model_config = ConfigDict(frozen=True)
    estimand: Literal["reference_label"] = "reference_label"
    rule: ReferenceRule
    provenance: Provenance
    """Labels the reference comes from: ``blind`` (majority) or ``adjudicated``."""
    description: str
    n_items: int
    """Labelled items (with at least one blind label)."""
    n_with_reference: int
    n_ties: int
    """Items left out because their top labels tie."""
    n_not_adjudicated: int = 0
    """``adjudicated`` rule: labelled items without an adjudicated label (left out)."""

    def recount(self, human_codes: IntArray, reference_codes: IntArray) -> ReferenceSummary:
        """The same rule's summary on a subset of the items (``human_codes`` and ``reference_codes`` of it)."""
        with_ref = reference_codes >= 0
        if self.rule == "majority":
            labelled = (human_codes >= 0).any(axis=1) if human_codes.size else np.zeros(len(reference_codes), bool)
            ties, not_adj = int((labelled & ~with_ref).sum()), 0
        else:
            ties, not_adj = 0, int((~with_ref).sum())
        return self.model_copy(
            update={
                "n_items": len(reference_codes),
                "n_with_reference": int(with_ref.sum()),
                "n_ties": ties,
                "n_not_adjudicated": not_adj,
            }
        )


def majority_codes(codes: IntArray, k: int) -> IntArray:
    """Per item, the code of the unique most frequent label among ``codes`` (items × raters, ``-1`` missing), or
    ``-1`` on a tie or with no label. Counting is one ``bincount`` (no Python loop over items)."""
    n = codes.shape[0]
    if n == 0 or codes.shape[1] == 0:
        return np.full(n, -1, dtype=np.int64)
    present = codes >= 0
    flat = (np.arange(n, dtype=np.int64)[:, None] * k + codes)[present]
    counts = np.bincount(flat, minlength=n * k).reshape(n, k)
    top = counts.max(axis=1)
    unique = (counts == top[:, None]).sum(axis=1) == 1
    return np.where(unique & (top > 0), counts.argmax(axis=1), -1).astype(np.int64)


def reference_labels(
    humans: HumanRatings, rule: ReferenceRule = "majority", *, adjudicated: HumanRatings | None = None
) -> tuple[IntArray, ReferenceSummary]:
    """Reference codes (``-1`` none) for the rows of ``humans`` under ``rule``, and their summary.

    ``adjudicated`` (the latest adjudication of each item, from
    :func:`judgekit.agreement.data.load_adjudications`: one column) is required for the ``adjudicated`` rule.
    """
    k = len(humans.levels)
    n = humans.n_items
    if rule == "majority":
        ref = majority_codes(humans.codes, k)
        description = f"majority of the annotators' blind labels: {TIE_RULE}"
        provenance: Provenance = "blind"
    elif rule == "adjudicated":
        if adjudicated is None:
            raise ValueError("the adjudicated reference needs the adjudicated labels")
        ref = np.full(n, -1, dtype=np.int64)
        if adjudicated.n_items and n:
            pos = humans.index.get_indexer(pd.Index(adjudicated.item_ids))
            hit = pos >= 0
            ref[pos[hit]] = majority_codes(adjudicated.codes, k)[hit]  # one column: the latest adjudication
        description = (
            "adjudicated labels (an admin's resolution); items without one are left out, never filled in with blind "
            "labels"
        )
        provenance = "adjudicated"
    else:  # pragma: no cover - guarded by the TrustCriteria type
        raise ValueError(f"unknown reference rule {rule!r}: expected 'majority' or 'adjudicated'")
    summary = ReferenceSummary(
        rule=rule, provenance=provenance, description=description, n_items=n, n_with_reference=0, n_ties=0
    ).recount(humans.codes, ref)
    return ref, summary
