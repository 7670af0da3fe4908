"""Dev/test splits of the labelled items, stored and versioned in the project.

Why: a judge prompt tuned, few-shot-fed or threshold-calibrated on the same items it is then graded on looks
better than it is. A split fixes, once, which labelled items may be used for development (``dev``: tuning,
dynamic few-shot examples, calibrating an abstention threshold) and which are kept for the final estimate
(``test``). Every evaluation on ``test`` is recorded (:mod:`judgekit.calibration.looks`).

Three ways to split:

* ``stratified`` (default): proportional allocation within strata of human majority label x segment x risk
  tier, by systematic sampling over the items sorted by stratum (random order inside a stratum), so every
  stratum - even one with three items - gets its share to within one item and the test set has the label and
  segment mix of the whole;
* ``time``: the newest items (``metadata.created_at``) go to test: the judge is graded on data that comes after
  what it was tuned on, as it will be in production;
* ``source``: whole sources (``metadata.source``) go to test, so test items are not near-copies of dev items
  (same prompt template, same model pair, same log).

A split covers the items with at least one human label for its rubric version at the time it is made. Splits are
immutable; splitting again under the same name stores a new version (and the looks of the old one stay with it).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from judgekit.agreement.data import reference_by_item
from judgekit.errors import UserError
from judgekit.models import Rubric, parse_key
from judgekit.storage import Project
from judgekit.storage.project import now_iso

SplitMethod = Literal["stratified", "time", "source"]
SplitPart = Literal["dev", "test"]
SPLIT_METHODS: tuple[SplitMethod, ...] = ("stratified", "time", "source")
DEFAULT_SPLIT = "main"
"""Split name used when none is given."""

_NO_VALUE = "(none)"


class SplitInfo(BaseModel):
    """One stored split version: how it was made and how many items each part holds."""

    model_config = ConfigDict(frozen=True)
    name: str
    version: int
    rubric_id: str
    rubric_version: int
    method: SplitMethod
    test_fraction: float
    seed: int | None
    created_at: str
    n_dev: int
    n_test: int
    params: dict[str, object] = {}

    @property
    def key(self) -> str:
        """``name@version``."""
        return f"{self.name}@{self.version}"

    @property
    def rubric_key(self) -> str:
        """``rubric_id@version`` of the rubric whose labelled items were split."""
        return f"{self.rubric_id}@{self.rubric_version}"


def _labelled_frame(project: Project, rubric: Rubric) -> pd.DataFrame:
    """One row per labelled item: id, seq, segment, source, risk, created_at and the human majority label."""
    majority = reference_by_item(project, rubric).rename("majority")
    if majority.empty:
        return pd.DataFrame(columns=["item_id", "seq", "segment", "source", "risk", "created_at", "majority"])
    items = pd.DataFrame(
        project.item_info(), columns=["item_id", "seq", "segment", "source", "risk", "created_at"], dtype=object
    )
    items["seq"] = items["seq"].astype("int64")
    frame = items.set_index("item_id").join(majority, how="inner").reset_index()
    return frame.sort_values("seq", kind="stable").reset_index(drop=True)


def stratified_test_mask(strata: pd.DataFrame, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Systematic sampling over items sorted by stratum: proportional allocation, within one item per stratum.

    ``strata`` has one column per stratification key (outermost first). The items are ordered by the keys, with
    a random order inside each stratum; item ``i`` of that order is in test when ``floor((i + u) f)`` steps up
    (``u`` uniform on [0, 1)), which selects ``floor(n f)`` or ``ceil(n f)`` items, spread evenly along the order.
    """
    n = len(strata)
    noise = rng.random(n)
    keys = [noise] + [
        pd.factorize(strata[c].fillna(_NO_VALUE).astype(str), sort=True)[0] for c in reversed(list(strata.columns))
    ]
    order = np.lexsort(keys)
    u = rng.random()
    pos = np.arange(n)
    take = np.floor((pos + 1 + u) * fraction) > np.floor((pos + u) * fraction)
    mask = np.zeros(n, dtype=bool)
    mask[order[take]] = True
    return mask


def _time_test_mask(frame: pd.DataFrame, fraction: float) -> np.ndarray:
    missing = int(frame["created_at"].isna().sum())
    if missing:
        raise UserError(
            f"{missing} of {len(frame)} labelled items have no metadata.created_at; a time split needs it on every "
            "item (re-import them with created_at, or use --by stratified or --by source)"
        )
    when = pd.to_datetime(frame["created_at"], utc=True, format="ISO8601")
    n_test = max(1, round(len(frame) * fraction))
    order = np.lexsort((frame["seq"].to_numpy(), when.to_numpy()))
    mask = np.zeros(len(frame), dtype=bool)
    mask[order[len(frame) - n_test :]] = True
    return mask


def _source_test_mask(frame: pd.DataFrame, fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, list[str]]:
    source = frame["source"].fillna(_NO_VALUE).astype(str)
    counts = source.value_counts()
    if len(counts) < 2:
        raise UserError(
            f"a source split needs at least two distinct metadata.source values among the labelled items, found "
            f"{len(counts)}; use --by stratified"
        )
    names = np.array(sorted(counts.index))
    perm = names[rng.permutation(len(names))]
    sizes = counts.loc[perm].to_numpy()
    target = fraction * len(frame)
    cum = np.cumsum(sizes)
    # the prefix of the shuffled sources whose size is closest to the target, at least one source, never all
    k = int(np.argmin(np.abs(cum[:-1] - target))) + 1
    chosen = [str(s) for s in perm[:k]]
    return source.isin(chosen).to_numpy(), chosen


def create_split(
    project: Project,
    rubric: Rubric,
    *,
    name: str = DEFAULT_SPLIT,
    test_fraction: float = 0.3,
    method: SplitMethod = "stratified",
    seed: int | None = 0,
) -> SplitInfo:
    """Split the items labelled for ``rubric`` into dev and test and store it as the next version of ``name``.

    Parameters
    ----------
    project
        The project database.
    rubric
        Rubric version whose labelled items are split (items with at least one human label).
    name
        Split name; an existing name gets a new version.
    test_fraction
        Share of the items that go to test, in (0, 1).
    method
        ``stratified`` (majority label x segment x risk), ``time`` (newest to test) or ``source`` (whole sources
        to test).
    seed
        Random seed (stratified and source splits), stored with the split.

    Returns
    -------
    SplitInfo
        The stored split version.
    """
    if not 0.0 < test_fraction < 1.0:
        raise UserError(f"--test-fraction must be between 0 and 1 (exclusive), got {test_fraction}")
    if method not in SPLIT_METHODS:
        raise UserError(f"unknown split method {method!r}; expected one of {', '.join(SPLIT_METHODS)}")
    if not name or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise UserError(f"split name {name!r} must be letters, digits, '-', '_' or '.'")
    frame = _labelled_frame(project, rubric)
    if len(frame) < 2:
        raise UserError(
            f"rubric {rubric.key} has {len(frame)} labelled item(s); a split needs at least 2 (label items first)"
        )
    rng = np.random.default_rng(seed)
    params: dict[str, object] = {}
    if method == "stratified":
        test = stratified_test_mask(frame[["majority", "segment", "risk"]], test_fraction, rng)
        params["strata"] = ["human majority label", "segment", "risk"]
    elif method == "time":
        test = _time_test_mask(frame, test_fraction)
        cut = pd.to_datetime(frame.loc[test, "created_at"], utc=True, format="ISO8601").min()
        params["test_from"] = cut.isoformat()
    else:
        test, chosen = _source_test_mask(frame, test_fraction, rng)
        params["test_sources"] = chosen
    if test.all() or not test.any():
        raise UserError("the split would leave dev or test empty; change --test-fraction or label more items")
    with project.transaction() as c:
        version = 1 + int(c.scalar("SELECT COALESCE(MAX(version), 0) FROM splits WHERE name = ?", (name,)))
        c.execute(
            "INSERT INTO splits (name, version, rubric_id, rubric_version, method, test_fraction, seed, params_json,"
            " created_at) VALUES (?,?,?,?,?,?,?,?,?)",
            (
                name,
                version,
                rubric.id,
                rubric.labels_version,
                method,
                test_fraction,
                seed,
                json.dumps(params),
                now_iso(),
            ),
        )
        c.executemany(
            "INSERT INTO split_items (split_name, split_version, item_id, part) VALUES (?,?,?,?)",
            [(name, version, str(i), "test" if t else "dev") for i, t in zip(frame["item_id"], test, strict=True)],
        )
    return get_split(project, name, version)


def _info(project: Project, row: Sequence[object]) -> SplitInfo:
    name, version = str(row[0]), int(str(row[1]))
    counts = dict(
        project.db.rows(
            "SELECT part, COUNT(*) FROM split_items WHERE split_name = ? AND split_version = ? GROUP BY part",
            (name, version),
        )
    )
    return SplitInfo(
        name=name,
        version=version,
        rubric_id=str(row[2]),
        rubric_version=int(str(row[3])),
        method=str(row[4]),
        test_fraction=float(str(row[5])),
        seed=None if row[6] is None else int(str(row[6])),
        params=json.loads(str(row[7])),
        created_at=str(row[8]),
        n_dev=int(counts.get("dev", 0)),
        n_test=int(counts.get("test", 0)),
    )


_COLUMNS = "name, version, rubric_id, rubric_version, method, test_fraction, seed, params_json, created_at"


def get_split(project: Project, name: str | SplitInfo = DEFAULT_SPLIT, version: int | None = None) -> SplitInfo:
    """A stored split: ``name`` (or ``name@version``) at ``version``, the latest version when not given."""
    if isinstance(name, SplitInfo):
        return name
    key = parse_key(name, "split")
    if key.version is not None:
        if version is not None and version != key.version:
            raise UserError(f"split {name!r} names version {key.version} but version {version} was asked for")
        name, version = key.id, key.version
    if version is None:
        row = project.db.one(f"SELECT {_COLUMNS} FROM splits WHERE name = ? ORDER BY version DESC LIMIT 1", (name,))
    else:
        row = project.db.one(f"SELECT {_COLUMNS} FROM splits WHERE name = ? AND version = ?", (name, version))
    if row is None:
        known = ", ".join(s.key for s in list_splits(project)) or "none"
        want = name if version is None else f"{name}@{version}"
        raise UserError(f"no split {want!r} in the project (splits: {known}); create one with 'judgekit split'")
    return _info(project, tuple(row))


def list_splits(project: Project) -> list[SplitInfo]:
    """Every stored split version, by name then version."""
    rows = project.db.rows(f"SELECT {_COLUMNS} FROM splits ORDER BY name, version")
    return [_info(project, tuple(r)) for r in rows]


def split_item_ids(project: Project, split: str | SplitInfo, part: SplitPart, version: int | None = None) -> list[str]:
    """Ids of the items in one part (``dev`` or ``test``) of a split, in item order."""
    if part not in ("dev", "test"):
        raise UserError(f"split part must be 'dev' or 'test', got {part!r}")
    info = get_split(project, split, version)
    rows = project.db.rows(
        "SELECT s.item_id FROM split_items s JOIN items i ON i.id = s.item_id WHERE s.split_name = ? AND "
        "s.split_version = ? AND s.part = ? ORDER BY i.seq",
        (info.name, info.version, part),
    )
    return [str(r[0]) for r in rows]


def dev_item_ids(project: Project, split: str | SplitInfo = DEFAULT_SPLIT, version: int | None = None) -> list[str]:
    """Items tuning may use: dynamic few-shot pools, prompt iteration and threshold calibration draw only from here."""
    return split_item_ids(project, split, "dev", version)


def test_item_ids(project: Project, split: str | SplitInfo = DEFAULT_SPLIT, version: int | None = None) -> list[str]:
    """Items kept for the final evaluation; never use them for tuning (evaluate on them through the recorded looks).

    Pass them as ``exclude_ids`` to the judge engine so they are never shown as dynamic few-shot examples.
    """
    return split_item_ids(project, split, "test", version)


setattr(test_item_ids, "__test__", False)  # noqa: B010 - not a pytest test when imported into a test module


def balance(project: Project, split: str | SplitInfo, version: int | None = None) -> pd.DataFrame:
    """Share of each human majority label in dev and in test (rows: labels, columns: dev, test).

    A stratified split keeps these within about one item per stratum; a time or source split can shift them,
    which is the point (the test set then measures how the judge transfers).
    """
    info = get_split(project, split, version)
    rubric = project.rubric(info.rubric_id, info.rubric_version)
    frame = _labelled_frame(project, rubric).set_index("item_id")
    parts = pd.DataFrame(
        project.db.rows(
            "SELECT item_id, part FROM split_items WHERE split_name = ? AND split_version = ?",
            (info.name, info.version),
        ),
        columns=["item_id", "part"],
    ).set_index("item_id")
    joined = parts.join(frame["majority"], how="left")
    joined["majority"] = joined["majority"].fillna("(no majority)")
    table = pd.crosstab(joined["majority"], joined["part"], normalize="columns")
    return table.reindex(columns=["dev", "test"], fill_value=0.0)


def expected_test_size(n_items: int, test_fraction: float) -> tuple[int, int]:
    """Bounds on the test size of a stratified split: ``floor(n f)`` to ``ceil(n f)``."""
    return math.floor(n_items * test_fraction), math.ceil(n_items * test_fraction)
