"""Which items a run judges, in what form, and in which chunks.

* :func:`select_items`: the rubric's kind, a seeded sample, a limit; deterministic, so a resume selects the same.
* :class:`ItemVariant`: a transformation applied before judging and the inverse mapping of the label (probes).
* :func:`chunk_bounds`: the chunks the engine takes the items in. Items with the same text are kept in one chunk
  (and next to each other), so that their identical requests are in flight in the same process at the same time
  and share one call (single-flight, :mod:`judgekit.judging.calls`) even with several worker processes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import numpy as np

from judgekit.models import Item, Rubric

T = TypeVar("T")


@dataclass(frozen=True)
class ItemVariant:
    """A transformation applied to each item before judging and the inverse mapping of the label (probes)."""

    name: str
    transform: Callable[[Item], Item]
    map_label: Callable[[str], str] = field(default=lambda label: label)
    note: Callable[[Item], dict[str, Any]] | None = None


def select_items(
    items: Sequence[Item], rubric: Rubric, *, limit: int | None = None, sample: int | None = None, seed: int = 0
) -> list[Item]:
    """The items a run judges: those of the rubric's kind, a seeded random ``sample`` (kept in project order),
    then the first ``limit``. Deterministic, so a resume selects the same items."""
    pairwise = rubric.task == "pairwise"
    chosen = [it for it in items if it.is_pairwise == pairwise]
    if sample is not None and sample < len(chosen):
        rng = np.random.default_rng(seed)
        keep = set(rng.choice(len(chosen), size=sample, replace=False).tolist())
        chosen = [it for i, it in enumerate(chosen) if i in keep]
    if limit is not None:
        chosen = chosen[:limit]
    return chosen


def _text_key(item: Item) -> tuple[str | None, ...]:
    """What the judge sees of an item (its id and metadata aside)."""
    if item.messages is None and item.messages_a is None and item.messages_b is None and item.judged is None:
        return (item.input, item.output, item.output_a, item.output_b, item.reference, item.context)
    return (item.model_dump_json(exclude={"id", "metadata"}),)


def group_duplicates(items: Sequence[Item]) -> tuple[list[Item], list[int]]:
    """``(ordered, groups)``: the items with every item moved next to the first one of the same text (first
    occurrences keep their order), and the size of each run of same-text items in ``ordered``.

    >>> a, b = Item(id="1", input="q", output="x"), Item(id="2", input="r", output="y")
    >>> ordered, groups = group_duplicates([a, b, Item(id="3", input="q", output="x")])
    >>> [it.id for it in ordered], groups
    (['1', '3', '2'], [2, 1])
    """
    by_text: dict[tuple[str | None, ...], list[Item]] = {}
    for it in items:
        by_text.setdefault(_text_key(it), []).append(it)
    if len(by_text) == len(items):
        return list(items), [1] * len(items)
    ordered = [it for group in by_text.values() for it in group]
    return ordered, [len(g) for g in by_text.values()]


def chunk_bounds(groups: Sequence[int], size: int) -> list[int]:
    """Start offsets (and the end) of chunks of about ``size`` items that never split a group of same-text items.

    >>> chunk_bounds([1, 1, 3, 1, 1], 2)
    [0, 2, 5, 7]
    """
    bounds = [0]
    pos = 0
    for g in groups:
        pos += g
        if pos - bounds[-1] >= size:
            bounds.append(pos)
    if bounds[-1] != pos:
        bounds.append(pos)
    return bounds


class ChunkClaim(Generic[T]):
    """Hands out the chunks ``seq[bounds[k]:bounds[k + 1]]`` in turn. With ``counter`` (a ``multiprocessing``
    ``Value``) the turn is shared by every process holding the same counter and the same list (the items in the
    judging process, their ids in the others), so the processes split the work between them as they go."""

    def __init__(self, seq: Sequence[T], bounds: Sequence[int], counter: Any = None) -> None:
        self.seq, self.bounds, self.counter = seq, list(bounds), counter
        self._next = 0

    def _lock(self) -> Any:
        return self.counter.get_lock() if self.counter is not None else contextlib.nullcontext()

    def __call__(self) -> Sequence[T] | None:
        with self._lock():
            k = self.counter.value if self.counter is not None else self._next
            if k + 1 >= len(self.bounds):
                return None
            if self.counter is not None:
                self.counter.value = k + 1
            else:
                self._next = k + 1
        return self.seq[self.bounds[k] : self.bounds[k + 1]]

    @property
    def exhausted(self) -> bool:
        with self._lock():
            k = self.counter.value if self.counter is not None else self._next
            return bool(k + 1 >= len(self.bounds))
