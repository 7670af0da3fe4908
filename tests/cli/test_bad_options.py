"""Every option of every command, given what a careless user or an attacker types (issue 16, "option values").

Generated from the CLI itself: each command's options are read from click, and each gets values of the wrong kind
for its type (words for numbers, NaN, infinities, negative and absurdly large numbers, folders where files go,
files in missing folders, blank names). Whatever the value, the command must end with one of judgekit's exit codes
(0 ok, 1 not trusted, 2 usage or input error), never with the CLI's "internal error" line or a traceback, and a
value that is not of the option's type must be exit 2. A new command fails :func:`test_every_command_has_a_base`
until it is given base arguments here, so it is covered too.

Commands that start a server or call a model (``label``, ``judge``, ``probe``) and those that reach another
platform's server (``import mlflow``, ``import phoenix``) are checked up to the point where they would do so: every
option is parsed and checked by click and by its callbacks (``make_context``); a judge or probe value that parses
but must be refused (NaN) is run for real against a closed port and must be refused before any call.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from judgekit.cli import cli, main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "examples"
RUBRIC = str(ROOT / "rubrics" / "helpfulness_pass_fail.yaml")
NB = ["--n-boot", "100"]
CONNECTORS = EXAMPLES / "connectors"
VM = ["--value-map", "1=pass", "--value-map", "0=fail"]
CI = ["--value-map", "C=pass", "--value-map", "I=fail"]

BASE: dict[str, list[str]] = {
    "abstain": ["r"],
    "agree": NB,
    "align": ["r", "--split", "main", "--judge-model", "openai:m", "--base-url", "http://127.0.0.1:9/v1"],
    "alignments": [],
    "annotators activate": ["alice"],
    "annotators add": ["carol"],
    "annotators assign": ["--rubric", "helpfulness-pass-fail"],
    "annotators deactivate": ["alice"],
    "annotators list": [],
    "annotators reset-code": ["alice"],
    "check": ["r", *NB],
    "compare": ["r", "r2", *NB],
    "db copy": ["{db}", "{tmp}/copy.db"],
    "db info": [],
    "demo": [],
    "dev-server": ["--port", "0"],
    "ensemble": ["r", "r2", "--name", "panel"],
    "explain": ["r", "--all"],
    "estimate": ["r", "--label-budget", "5"],
    "export items": ["-o", "{tmp}/items.jsonl"],
    "export labels": ["-o", "{tmp}/labels.csv"],
    "export otel": ["--run", "r", "-o", "{tmp}/otel.jsonl"],
    "export trust-summary": ["r", "-o", "{tmp}/trust.json"],
    "export verdicts": ["--run", "r", "-o", "{tmp}/v.csv"],
    "import huggingface": [
        str(CONNECTORS / "ratings.jsonl"),
        *("--map", "id=conv_id", "--map", "messages=dialog", "--map", "label=safe", "--map", "annotator=rater"),
        *("--rubric", RUBRIC, *VM),
    ],
    "import inspect": [str(CONNECTORS / "inspect-weather.eval"), "--score", "model_graded_qa", "--rubric", RUBRIC, *CI],
    "import items": [str(EXAMPLES / "items.jsonl")],
    "import labels": [str(EXAMPLES / "labels.csv"), "--rubric", RUBRIC],
    "import langfuse": [
        *(str(CONNECTORS / "langfuse-traces.json"), "--scores", str(CONNECTORS / "langfuse-scores.jsonl")),
        *("--score", "helpful", "--rubric", RUBRIC, "--value-map", "true=pass", "--value-map", "false=fail"),
    ],
    "import langsmith": [str(CONNECTORS / "langsmith-export.jsonl"), "--score", "correct", "--rubric", RUBRIC, *VM],
    "import mlflow": ["--tracking-uri", "sqlite:///{tmp}/mlflow.db", "--score", "helpful", "--rubric", RUBRIC],
    "import otel": [
        *(str(CONNECTORS / "otel-traces.json"), str(CONNECTORS / "otel-logs.jsonl"), "--score", "relevance"),
        *("--rubric", RUBRIC, "--value-map", "relevant=pass", "--value-map", "not_relevant=fail"),
    ],
    "import phoenix": ["--url", "http://127.0.0.1:9", "--score", "correctness", "--rubric", RUBRIC],
    "import rubric": [RUBRIC],
    "import verdicts": [str(EXAMPLES / "other_tool.jsonl"), "--rubric", RUBRIC, "--run", "r3"],
    "init": [],
    "judge": ["--rubric", RUBRIC, "--model", "openai:m", "--base-url", "http://127.0.0.1:9/v1"],
    "label": [],
    "probe": ["position", "--rubric", RUBRIC, "--model", "openai:m", "--base-url", "http://127.0.0.1:9/v1"],
    "report": ["r", "-o", "{tmp}/report.html", *NB],
    "rubric schema": [],
    "rubric validate": [RUBRIC],
    "runs": [],
    "runs cancel": ["r"],
    "runs compare": ["r", "r2"],
    "runs show": ["r"],
    "split": [],
    "split assess": ["r", *NB],
    "split ids": [],
    "split list": [],
    "split show": [],
}
"""Arguments that make each command valid on the project of :func:`project` (``{db}``, ``{tmp}`` filled in)."""

OK = {"estimate": (0, 1, 2), "compare": (0, 1, 2)}
"""Base arguments that may end in exit 2 on this small project (``estimate`` needs unlabelled items, ``compare``
ten labelled ones): their options are still parsed and checked."""

PARSE_ONLY = {"label", "judge", "probe", "import mlflow", "import phoenix", "demo", "align", "dev-server"}
"""Commands checked up to the point where they would start a server, call a model or write a large demo project."""

FULL = os.environ.get("JUDGEKIT_FULL_OPTIONS") == "1"
"""Set to 1 for every value below; the suite runs the first few of each kind (the ones that found bugs)."""

NUMBER_GARBAGE = ["abc", "1,5", "", "0x10"][: None if FULL else 2]
"""Not numbers: exit 2 whatever the command."""
NUMBER_EXTREMES = ["nan", "-1", "1e400", "inf", "-inf", "0", "99999999999999999999999"][: None if FULL else 3]
"""Numbers, but often out of range: a clear error or a meaningful result, never a crash."""
PATH_VALUES = ["{tmp}", "{tmp}/missing/folder/file.out", "", "{tmp}/a\nb.out"][: None if FULL else 2]
TEXT_VALUES = ["", "a\nb", "\u202eevil", " ", "nope", "x@y@z", "../../etc/passwd"][: None if FULL else 3]


def _commands(group: click.Group = cli, path: tuple[str, ...] = ()) -> Iterator[tuple[str, click.Command]]:
    for name, cmd in sorted(group.commands.items()):
        if isinstance(cmd, click.Group):
            if not getattr(cmd, "invoke_without_command", False) or cmd.commands:
                yield from _commands(cmd, (*path, name))
            if getattr(cmd, "invoke_without_command", False):
                yield " ".join((*path, name)), cmd
        else:
            yield " ".join((*path, name)), cmd


COMMANDS = dict(_commands())


def _values(param: click.Option) -> list[tuple[str, bool]]:
    """``(value, must_be_refused)`` for one option, by its type."""
    t = param.type
    if isinstance(t, click.types.IntParamType | click.types.FloatParamType):
        # NaN is no number a user means (a threshold of NaN would pass every check): refused wherever it is typed
        return [(v, True) for v in NUMBER_GARBAGE] + [(v, v == "nan") for v in NUMBER_EXTREMES]
    if isinstance(t, click.Choice):
        return [("no-such-choice", True), ("", True)]
    if isinstance(t, click.Path):
        return [(v, False) for v in PATH_VALUES]
    return [(v, False) for v in TEXT_VALUES]


CASES = [
    pytest.param(name, opt.opts[0], value, refused, id=f"{name} {opt.opts[0]}={value!r}")
    for name, cmd in COMMANDS.items()
    for opt in cmd.params
    if isinstance(opt, click.Option) and not opt.is_flag and not opt.count and opt.name not in ("db", "help")
    for value, refused in _values(opt)
]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small project: the example items, two annotators' labels and two runs of imported verdicts."""
    folder = tmp_path_factory.mktemp("bad-options")
    db = str(folder / "base.db")
    assert main(["import", "items", str(EXAMPLES / "items.jsonl"), "--db", db]) == 0
    assert main(["import", "labels", str(EXAMPLES / "labels.csv"), "--rubric", RUBRIC, "--db", db]) == 0
    for run in ("r", "r2"):
        verdicts = [str(EXAMPLES / "other_tool.jsonl"), "--rubric", RUBRIC, "--run", run, "--db", db]
        assert main(["import", "verdicts", *verdicts]) == 0
    for who in ("alice", "bob"):
        assert main(["annotators", "add", who, "--db", db]) == 0
    assert main(["split", "--db", db]) == 0
    return folder / "base.db"


def _argv(name: str, extra: list[str], db: Path, tmp: Path) -> list[str]:
    cmd = COMMANDS[name]
    args = [a.replace("{db}", str(db)).replace("{tmp}", str(tmp)) for a in BASE[name] + extra]
    has_db = any(isinstance(p, click.Option) and p.name == "db" for p in cmd.params)
    return [*name.split(), *args, *(["--db", str(db)] if has_db else [])]


def test_every_command_has_a_base() -> None:
    assert sorted(COMMANDS) == sorted(BASE), "give the new command base arguments in BASE"


@pytest.mark.parametrize("name", sorted(set(BASE) - PARSE_ONLY))
def test_the_base_arguments_are_valid(
    name: str, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "p.db"
    shutil.copy(project, db)
    assert main(_argv(name, [], db, tmp_path)) in OK.get(name, (0, 1))


@pytest.mark.parametrize(("name", "option", "value", "refused"), CASES)
def test_bad_option_value(
    name: str,
    option: str,
    value: str,
    refused: bool,
    project: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = tmp_path / "p.db"
    shutil.copy(project, db)
    monkeypatch.chdir(tmp_path)  # an output that defaults to the current folder lands here, not in the checkout
    value = value.replace("{tmp}", str(tmp_path))
    argv = _argv(name, [option, value], db, tmp_path)
    if name in PARSE_ONLY:
        words = len(name.split())
        try:
            COMMANDS[name].make_context(name, argv[words:])
        except click.exceptions.UsageError:
            return
        except click.exceptions.Exit:
            return
        if refused and name in ("judge", "probe"):  # refused once the run's options are built, before any call
            monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
            assert main(argv) == 2
            err = capsys.readouterr().err
            assert "internal error" not in err and "Traceback" not in err, err
            return
        assert not refused, f"{argv!r} was accepted by the parser"
        return
    rc = main(argv)
    err = capsys.readouterr().err
    assert "internal error" not in err and "Traceback" not in err, err
    assert rc in (0, 1, 2), (rc, err)
    if refused:
        assert rc == 2, err


OUTPUTS = sorted(n for n, c in COMMANDS.items() if any(p.name == "output" for p in c.params) and n not in PARSE_ONLY)


@pytest.mark.parametrize("name", OUTPUTS)
def test_an_empty_output_path_is_refused(
    name: str, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``-o "$OUT"`` with OUT unset: exit 2, nothing written in the current folder (report wrote it there)."""
    db = tmp_path / "p.db"
    shutil.copy(project, db)
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    assert main(_argv(name, ["-o", ""], db, tmp_path)) == 2
    assert "empty path" in capsys.readouterr().err
    assert list(work.iterdir()) == []
