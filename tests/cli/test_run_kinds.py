"""Every command that takes a run, on every kind of run, over items with and without risk tiers and segments:
each exits 0, 1 or 2 as documented, never with a traceback or an internal error.

Kinds: judged (engine run with parse errors, refusals and confidences), imported without confidence, imported
with a confidence column, an ensemble of two runs, and a bias-probe run. Before issue 11, the imported-with-
confidence run and the ensemble crashed ``agree``/``report``/``check`` on items without a risk tier.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from judgekit.cli import main
from judgekit.models import HumanLabel, Item, ItemMetadata, JudgeConfig, JudgeVerdict
from judgekit.storage import Project
from tests.helpers import rubric

RUBRIC = rubric()  # binary pass / fail
N_ITEMS, N_LABELLED = 160, 130
KINDS = ("judged", "imported", "imported-conf", "panel", "probe")
ALLOWED = {
    "agree": {0},
    "report": {0},
    "check": {0, 1},
    "compare": {0},
    "runs show": {0},
    "abstain": {0, 2},  # 2: the run has no confidence (a usage error with the fix in the message)
    "estimate": {0, 2},  # 2: the run has no verdicts on unlabelled items
    "split assess": {0},
}


def _project(folder: Path, with_metadata: bool) -> Path:
    rng = np.random.default_rng(3)
    db = folder / "p.db"
    truth = rng.choice(["pass", "fail"], size=N_ITEMS)
    flip = {"pass": "fail", "fail": "pass"}
    risks = ["low", "medium", "high"]
    with Project(db) as p:
        p.save_rubric(RUBRIC)
        p.add_items(
            [
                Item(
                    id=f"i{i}",
                    input=f"q{i}",
                    output="o",
                    metadata=ItemMetadata(segment=f"s{i % 3}", risk=risks[i % 3]) if with_metadata else ItemMetadata(),
                )
                for i in range(N_ITEMS)
            ]
        )
        with p.transaction():
            for a in range(3):
                for i in range(N_LABELLED):
                    lab = truth[i] if rng.random() > 0.08 else flip[truth[i]]
                    p.add_label(
                        HumanLabel(
                            item_id=f"i{i}", annotator=f"a{a}", rubric_id=RUBRIC.id, rubric_version=1, label=str(lab)
                        )
                    )
        cfg = JudgeConfig(provider="openai", model="m", rubric_id=RUBRIC.id, rubric_version=1, confidence="logprobs")
        judged = p.create_run("judged", cfg)
        verdicts = []
        for i in range(N_ITEMS):
            if i % 17 == 0:
                verdicts.append(JudgeVerdict(item_id=f"i{i}", status="parse_error", raw_reply="??"))
            elif i % 23 == 0:
                verdicts.append(JudgeVerdict(item_id=f"i{i}", status="refused", raw_reply="no"))
            else:
                lab = truth[i] if rng.random() > 0.2 else flip[truth[i]]
                verdicts.append(
                    JudgeVerdict(
                        item_id=f"i{i}",
                        label=str(lab),
                        confidence=float(rng.uniform(0.5, 1)),
                        confidence_source="logprobs",
                    )
                )
        p.add_verdicts(judged.id, verdicts)
        probe = p.create_run(
            "probe", cfg.model_copy(update={"prompt_variant": "swapped"}), meta={"probe": "position", "flip_rate": 0.1}
        )
        p.add_verdicts(probe.id, [JudgeVerdict(item_id=f"i{i}", label=str(truth[i])) for i in range(N_ITEMS)])
    for name, conf in (("imported", False), ("imported-conf", True)):
        path = folder / f"{name}.csv"
        with path.open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["item_id", "label", *(["confidence"] if conf else [])])
            for i in range(N_ITEMS - 10):  # ten items without a verdict: "missing"
                lab = truth[i] if rng.random() > 0.25 else flip[truth[i]]
                w.writerow([f"i{i}", lab, *([f"{rng.uniform(0.6, 1):.3f}"] if conf else [])])
        assert main(["import", "verdicts", str(path), "--rubric", RUBRIC.id, "--run", name, "--db", str(db)]) == 0
    assert main(["ensemble", "judged", "imported", "imported-conf", "--name", "panel", "--db", str(db)]) == 0
    assert main(["split", "--db", str(db)]) == 0
    return db


@pytest.fixture(scope="module", params=[True, False], ids=["tiers-and-segments", "no-metadata"])
def project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("kinds")
    (folder / "judgekit.toml").write_text("n_boot = 200\n")
    return _project(folder, request.param)


def _args(command: str, run: str, db: Path) -> list[str]:
    other = "imported" if run != "imported" else "judged"
    by = {
        "agree": ["agree", run],
        "report": ["report", run, "-o", str(db.parent / f"rep-{run}")],
        "check": ["check", run],
        "compare": ["compare", run, other],
        "runs show": ["runs", "show", run],
        "abstain": ["abstain", run],
        "estimate": ["estimate", run],
        "split assess": ["split", "assess", run],
    }
    return [*by[command], "--db", str(db)]


@pytest.mark.parametrize("kind", KINDS)
def test_every_command_on_every_kind_of_run(
    project: Path, kind: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project.parent)
    monkeypatch.delenv("JUDGEKIT_DEBUG", raising=False)
    for command, allowed in ALLOWED.items():
        rc = main(_args(command, kind, project))
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err and "internal error" not in err, (command, kind, err)
        assert rc in allowed, (command, kind, rc, err)
        if rc == 2:
            assert err.startswith("judgekit: error: ") and len(err.strip().splitlines()) == 1, (command, err)
