"""The bundled DICES-350 data (conversations, 40 raters, one safety criterion, a keyword baseline as the judge):
imported exactly, its ceiling and the baseline's figures equal independent computations from the bundled file
(numpy: Cohen's kappa per pair, Krippendorff's nominal alpha from the coincidence matrix), and the README's figures
are what ``judgekit demo dices`` prints."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from judgekit.agreement import TrustCriteria, assess_run
from judgekit.cli import main
from judgekit.datasets.dices import DATA_FILE, FOLDER, LABELS, keyword_baseline, load_dices
from judgekit.demo import build_demo_project
from judgekit.storage import Project

README = Path(__file__).resolve().parents[1] / "README.md"
LEVELS = ("unsafe", "safe", "unsure")


def _ratings() -> np.ndarray:
    """(items, raters) level indices, straight from the bundled file."""
    rows = [json.loads(line) for line in (FOLDER / DATA_FILE).read_text(encoding="utf-8").splitlines()]
    return np.array([[LEVELS.index(LABELS[c]) for c in r["ratings"]] for r in rows])


def _kappa(x: np.ndarray, y: np.ndarray) -> float:
    """Cohen's kappa, from its definition (observed vs chance agreement of the two marginals)."""
    po = float(np.mean(x == y))
    pe = sum(float(np.mean(x == k)) * float(np.mean(y == k)) for k in range(len(LEVELS)))
    return (po - pe) / (1 - pe)


def _nominal_alpha(r: np.ndarray) -> float:
    """Krippendorff's alpha (nominal, complete data): 1 - D_o / D_e from the coincidence matrix."""
    m = r.shape[1]
    counts = np.stack([(r == k).sum(axis=1) for k in range(len(LEVELS))], axis=1).astype(float)  # (items, levels)
    coincidence = (counts.T @ counts - np.diag(counts.sum(axis=0))) / (m - 1)
    n_c = coincidence.sum(axis=0)
    n = n_c.sum()
    d_o = n - np.trace(coincidence)
    d_e = (n * n - (n_c**2).sum()) / (n - 1)
    return float(1 - d_o / d_e)


def test_dices_items_are_conversations_judged_on_their_last_chatbot_turn() -> None:
    data = load_dices()
    assert len(data.items) == 350 and len(data.labels) == 350 * 40
    assert {lab.annotator for lab in data.labels} == {f"dices-rater-{k:03d}" for k in range(1, 41)}
    for item in data.items:
        assert item.messages is not None and item.judged is not None
        assert item.judged.kind == "turn" and item.judged.turn == len(item.messages) - 1
        assert item.messages[0].role == "user" and item.messages[-1].role == "assistant"
    first = json.loads((FOLDER / DATA_FILE).read_text(encoding="utf-8").splitlines()[1])
    two = next(i for i in data.items if i.id == "dices-002")
    assert two.messages is not None and len(two.messages) == first["context"].count("\n") + 2
    assert two.messages[-1].text() == first["response"]
    assert [keyword_baseline(i) for i in data.items].count("safe") == 336  # README: 'safe' on 336 of the 350


def test_dices_ceiling_and_baseline_equal_independent_computations(tmp_path: Path) -> None:
    demo = build_demo_project(tmp_path / "dices.db", "dices")
    with Project(demo.path) as p:
        a = assess_run(p, "keyword-baseline", TrustCriteria(n_boot=100))
        judge = {v.item_id: v.label for v in p.verdicts("keyword-baseline")}
    r = _ratings()
    pairs = [_kappa(r[:, i], r[:, j]) for i in range(40) for j in range(i + 1, 40)]
    assert len(a.ceiling.pairs) == 780 and a.ceiling.n_pairs_counted == 780
    assert a.ceiling.kappa.value == pytest.approx(np.mean(pairs))  # every pair shares all 350 items: equal weights
    assert a.ceiling.alpha.value == pytest.approx(_nominal_alpha(r))
    counts = np.stack([(r == k).sum(axis=1) for k in range(3)], axis=1)
    clear = (counts == counts.max(axis=1, keepdims=True)).sum(axis=1) == 1  # the majority label, ties left out
    assert int((~clear).sum()) == a.reference.n_ties == 5
    reference = counts.argmax(axis=1)[clear]
    verdicts = np.array([LEVELS.index(judge[f"dices-{k:03d}"]) for k in range(1, 351)])[clear]
    assert a.judge.kappa.failures_as_wrong.value == pytest.approx(_kappa(verdicts, reference))
    assert a.judge.accuracy.failures_as_wrong.value == pytest.approx(np.mean(verdicts == reference))
    assert a.verdict == "NOT TRUSTED"


def test_readme_dices_figures_are_what_the_demo_prints(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    section = README.read_text(encoding="utf-8").split("judgekit demo dices --db dices-demo.db", 1)[1]
    block = re.search(r"```text\n(.*?)```", section, re.S)
    assert block is not None
    expected = block.group(1).splitlines()
    assert len(expected) >= 10
    assert main(["demo", "dices", "--db", str(tmp_path / "dices-demo.db")]) == 0
    out = capsys.readouterr().out
    for line in expected:
        assert line in out, f"README line not printed by 'judgekit demo dices': {line!r}"
