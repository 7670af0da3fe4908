"""The queue rows as the original implementation computed them, item by item in Python: the oracle the set-based
SQL rebuild is tested against (tests/labeling/test_queue_rebuild.py) and the baseline it is timed against
(benchmarks/bench_labeling.py). One copy, so the test and the benchmark measure against the same thing."""

from __future__ import annotations

from collections import defaultdict

from judgekit.labeling import AssignmentPolicy, in_overlap
from judgekit.models import Rubric
from judgekit.storage import Project

Row = tuple[str, int, str, int, float, int, int, int, str]


def reference_rows(project: Project, rubric: Rubric, policy: AssignmentPolicy) -> list[Row]:
    """The queue rows as the original implementation computed them, item by item in Python (plus the
    "judge abstained" rule), to check the SQL rebuild against."""
    c = project.db
    key = (rubric.id, rubric.version)
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for item_id, label, n in c.execute(
        "SELECT item_id, label, COUNT(*) FROM (SELECT item_id, label, ROW_NUMBER() OVER (PARTITION BY item_id, "
        "annotator ORDER BY revision DESC) AS rn FROM labels WHERE rubric_id = ? AND rubric_version = ? "
        "AND provenance = 'blind') AS latest WHERE rn = 1 GROUP BY item_id, label",
        key,
    ):
        counts[item_id][label] = int(n)
    majority = {i: {lab for lab, n in cnt.items() if n == max(cnt.values())} for i, cnt in counts.items()}
    verdicts: dict[str, list[tuple[str, float | None]]] = defaultdict(list)
    for item_id, label, conf in c.execute(
        "SELECT v.item_id, v.label, v.confidence FROM verdicts v JOIN judge_runs r ON r.id = v.run_id "
        "WHERE r.rubric_id = ? AND r.rubric_version = ? AND v.status = 'ok'",
        key,
    ):
        verdicts[item_id].append((label, conf))
    abstained = {
        r[0] for r in c.execute("SELECT item_id FROM escalations WHERE rubric_id = ? AND rubric_version = ?", key)
    }
    out: list[Row] = []
    for item_id, seq, risk in c.execute("SELECT id, seq, risk FROM items ORDER BY seq"):
        reasons: list[str] = []
        priority = {"high": 100.0, "medium": 50.0}.get(risk or "", 0.0)
        if risk in ("high", "medium"):
            reasons.append(f"{risk} risk")
        vs = verdicts.get(item_id, [])
        human = majority.get(item_id)
        if human is not None:
            wrong = [conf for label, conf in vs if label not in human and conf is not None and conf >= 0.7]
            if wrong:
                priority += 30.0 * max(wrong)
                reasons.append("judge confidently wrong")
        if len({label for label, _ in vs}) > 1:
            priority += 20.0
            reasons.append("judges disagree")
        confs = [conf for _, conf in vs if conf is not None]
        if confs:
            priority += 10.0 * (1.0 - min(confs))
            if min(confs) < 0.6:
                reasons.append("judge unsure")
        overlap = in_overlap(rubric.id, item_id, policy.overlap_fraction)
        if overlap:
            priority += 1.0
            reasons.append("overlap set")
        if item_id in abstained:
            priority += 40.0
            reasons.append("judge abstained")
        target = max(policy.overlap_annotators, policy.annotators_per_item) if overlap else policy.annotators_per_item
        people = sum(counts[item_id].values()) if item_id in counts else 0
        out.append(
            (rubric.id, rubric.version, item_id, int(seq), round(priority, 6), target, int(overlap), people,
             "; ".join(reasons))
        )  # fmt: skip
    return out


def queue_rows(project: Project, rubric: Rubric) -> list[Row]:
    """The queue rows the set-based rebuild stored, in the same shape and order as :func:`reference_rows`."""
    return [
        tuple(r)  # type: ignore[misc]
        for r in project.db.execute(
            "SELECT q.rubric_id, q.rubric_version, q.item_id, q.seq, q.priority, q.target, q.overlap, q.n_labelled,"
            " q.reasons FROM label_queue q WHERE q.rubric_id = ? AND q.rubric_version = ? ORDER BY q.seq",
            (rubric.id, rubric.version),
        )
    ]
