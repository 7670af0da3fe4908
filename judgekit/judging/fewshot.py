"""Few-shot examples: the rubric's static ones, or the k most similar human-labelled items (dynamic).

Dynamic selection uses TF-IDF cosine similarity over word tokens, in numpy (no extra dependency). Two leaks are
excluded by construction: the item being judged is never its own example, and items of an evaluation split
(``exclude_ids``) are never shown, otherwise the judge would be graded on answers it was given.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

from judgekit.models import FewShotExample, HumanLabel, Item, Rubric

_TOKEN = re.compile(r"\w+", re.UNICODE)


def _text(item: Item) -> str:
    return " ".join(x for x in (item.input, item.output, item.output_a, item.output_b) if x)


def consensus_labels(labels: Iterable[HumanLabel]) -> dict[str, str]:
    """Item id -> the label a strict majority of its annotators gave (items without one are left out)."""
    by_item: dict[str, list[str]] = {}
    for lab in labels:
        by_item.setdefault(lab.item_id, []).append(lab.label)
    out = {}
    for item_id, labs in by_item.items():
        ((label, n),) = Counter(labs).most_common(1)
        if n * 2 > len(labs):
            out[item_id] = label
    return out


class DynamicFewShot:
    """Index of labelled candidate items; :meth:`examples` returns the k nearest to an item."""

    def __init__(self, candidates: Sequence[Item], labels: dict[str, str], *, exclude_ids: Iterable[str] = ()) -> None:
        excluded = set(exclude_ids)
        self.items = [it for it in candidates if it.id in labels and it.id not in excluded]
        self.labels = labels
        docs = [Counter(t.lower() for t in _TOKEN.findall(_text(it))) for it in self.items]
        vocab: dict[str, int] = {}
        for d in docs:
            for t in d:
                vocab.setdefault(t, len(vocab))
        self.vocab = vocab
        n = len(docs)
        tf = np.zeros((n, len(vocab)))
        for i, d in enumerate(docs):
            for t, c in d.items():
                tf[i, vocab[t]] = c
        df = (tf > 0).sum(axis=0)
        self.idf = np.log((1 + n) / (1 + df)) + 1.0
        self.matrix = self._normalise(tf * self.idf)

    @staticmethod
    def _normalise(m: np.ndarray) -> np.ndarray:
        norms = np.linalg.norm(m, axis=-1, keepdims=True)
        return np.divide(m, norms, out=np.zeros_like(m), where=norms > 0)

    def _vector(self, item: Item) -> np.ndarray:
        v = np.zeros(len(self.vocab))
        for t, c in Counter(t.lower() for t in _TOKEN.findall(_text(item))).items():
            j = self.vocab.get(t)
            if j is not None:
                v[j] = c
        return self._normalise(v * self.idf)

    def examples(self, item: Item, k: int) -> list[FewShotExample]:
        """The k most similar candidates (never ``item`` itself), as few-shot examples, most similar first."""
        if k <= 0 or not self.items:
            return []
        sims = self.matrix @ self._vector(item)
        order = np.argsort(-sims, kind="stable")
        out: list[FewShotExample] = []
        for j in order:
            cand = self.items[int(j)]
            if cand.id == item.id or cand.is_conversation:
                continue  # a few-shot example holds input and output(s) only: conversations are not shown as examples
            out.append(
                FewShotExample(
                    input=cand.input or "",
                    output=cand.output,
                    output_a=cand.output_a,
                    output_b=cand.output_b,
                    label=self.labels[cand.id],
                )
            )
            if len(out) == k:
                break
        return out


def static_examples(rubric: Rubric) -> list[FewShotExample]:
    """The rubric's own examples."""
    return list(rubric.few_shot)
