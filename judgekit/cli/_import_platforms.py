"""``judgekit import langfuse|phoenix|mlflow|langsmith|inspect|otel|huggingface``: one subcommand per connector.

Every subcommand maps ONE platform score name onto ONE rubric (``--score``, ``--rubric``), optionally translating
values (``--value-map 1=pass``), and imports items, human labels (with their provenance) and judge verdicts in one
transaction. What was left out (scores of unknown authorship, other names, ...) is printed with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from judgekit.cli.common import db_option, echo, open_project
from judgekit.connectors import Bundle, ScoreMapping, import_bundle, parse_value_map
from judgekit.io import resolve_rubric

F = TypeVar("F", bound=Callable[..., Any])
_AUTHORSHIP = click.Choice(["human", "judge", "skip"])


def mapping_options(f: F) -> F:
    """The options every connector shares: rubric, score name, value map, run name, id prefix, provenance rule."""
    for decorator in reversed(
        [
            click.option(
                "--rubric", "rubric_spec", required=True, help="Rubric YAML file, or id[@version] in the project."
            ),
            click.option("--score", "score", required=True, help="The platform's score / annotation / feedback name."),
            click.option(
                "--value-map",
                "value_map",
                multiple=True,
                metavar="VALUE=LEVEL",
                help="Translate a platform value into a rubric level (repeatable), e.g. --value-map 1=pass.",
            ),
            click.option("--run", "run", default=None, help="Judge run name (default PLATFORM:SCORE)."),
            click.option("--id-prefix", "id_prefix", default="", help="Prefix for item ids (keeps sources apart)."),
            click.option(
                "--assume-judge-seen",
                is_flag=True,
                help="Mark human labels made after a judge score of the same item 'corrected'.",
            ),
            db_option,
        ]
    ):
        f = decorator(f)
    return f


def _run_import(read: Callable[[ScoreMapping], Bundle], opts: dict[str, Any]) -> None:
    with open_project(opts["db"], create=True) as project:
        rubric = resolve_rubric(project, opts["rubric_spec"])
        mapping = ScoreMapping(
            score=opts["score"],
            rubric=rubric,
            value_map=parse_value_map(opts["value_map"]),
            run=opts["run"],
            id_prefix=opts["id_prefix"],
            assume_judge_seen=opts["assume_judge_seen"],
        )
        echo(import_bundle(project, read(mapping), rubric).summary())


_SHARED = ("rubric_spec", "score", "value_map", "run", "id_prefix", "assume_judge_seen", "db")


def _split(kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    return {k: kwargs.pop(k) for k in _SHARED}, kwargs


@click.command("langfuse")
@click.argument("traces", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--scores", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Scores file.")
@click.option(
    "--api-scores",
    type=_AUTHORSHIP,
    default="skip",
    show_default=True,
    help="What scores with source API are (Langfuse does not record who sent them).",
)
@mapping_options
def langfuse(**kwargs: Any) -> None:
    """Import Langfuse traces and scores (public API JSON: arrays, API pages or JSON Lines).

    Scores with source ANNOTATION are human labels (annotator: authorUserId), EVAL are judge verdicts.

    \b
    Example:
      judgekit import langfuse traces.json --scores scores.json \\
          --score helpfulness --rubric rubrics/helpfulness_pass_fail.yaml \\
          --value-map 1=pass --value-map 0=fail
    """
    shared, own = _split(kwargs)
    from judgekit.connectors.langfuse import read_langfuse

    _run_import(lambda m: read_langfuse(own["traces"], own["scores"], m, api_scores=own["api_scores"]), shared)


@click.command("phoenix")
@click.option("--url", default=None, help="A running Phoenix (e.g. http://127.0.0.1:6006).")
@click.option("--project", "phoenix_project", default="default", show_default=True, help="Phoenix project.")
@click.option(
    "--spans",
    "spans_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Spans JSON (instead of --url).",
)
@click.option(
    "--annotations",
    "annotations_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Span annotations JSON (with --spans).",
)
@click.option(
    "--code-annotations",
    type=_AUTHORSHIP,
    default="skip",
    show_default=True,
    help="What annotations with annotator_kind CODE are.",
)
@click.option(
    "--value-from",
    type=click.Choice(["auto", "label", "score"]),
    default="auto",
    show_default=True,
    help="Read the annotation's label or its score (auto: the label when it has one).",
)
@mapping_options
def phoenix(**kwargs: Any) -> None:
    """Import Arize Phoenix spans and span annotations (annotator_kind HUMAN: labels, LLM: verdicts).

    \b
    Example:
      judgekit import phoenix --url http://127.0.0.1:6006 --project my-app \\
          --score correctness --rubric rubrics/helpfulness_pass_fail.yaml \\
          --value-map correct=pass --value-map incorrect=fail
    """
    shared, own = _split(kwargs)
    from judgekit.connectors.phoenix import read_phoenix

    _run_import(
        lambda m: read_phoenix(
            m,
            url=own["url"],
            project=own["phoenix_project"],
            spans_file=own["spans_file"],
            annotations_file=own["annotations_file"],
            code_annotations=own["code_annotations"],
            value_from=own["value_from"],
        ),
        shared,
    )


PLATFORM_COMMANDS: list[click.Command] = [langfuse, phoenix]


@click.command("mlflow")
@click.option("--tracking-uri", required=True, help="MLflow tracking URI (http://..., sqlite:///mlflow.db, ...).")
@click.option("--experiment", default=None, help="Experiment name (default: every experiment).")
@click.option(
    "--code-assessments",
    type=_AUTHORSHIP,
    default="skip",
    show_default=True,
    help="What assessments with source type CODE are.",
)
@mapping_options
def mlflow(**kwargs: Any) -> None:
    """Import MLflow traces and their feedback assessments (HUMAN: labels, LLM_JUDGE: verdicts).

    A HUMAN assessment that overrides a judge's (mlflow.override_feedback) is imported as 'corrected'.

    \b
    Example:
      judgekit import mlflow --tracking-uri sqlite:///mlflow.db \\
          --experiment support-bot --score helpful \\
          --rubric rubrics/helpfulness_pass_fail.yaml
    """
    shared, own = _split(kwargs)
    from judgekit.connectors.mlflow import read_mlflow

    _run_import(
        lambda m: read_mlflow(
            m, tracking_uri=own["tracking_uri"], experiment=own["experiment"], code_assessments=own["code_assessments"]
        ),
        shared,
    )


PLATFORM_COMMANDS.append(mlflow)


@click.command("inspect")
@click.argument("log", type=click.Path(dir_okay=False, path_type=Path))
@mapping_options
def inspect_log(**kwargs: Any) -> None:
    """Import an Inspect AI log (.eval or .json): samples, the scorer's scores as verdicts, score edits as labels.

    \b
    Example:
      judgekit import inspect logs/2026-01-01_task.eval --score model_graded_qa \\
          --rubric rubrics/helpfulness_pass_fail.yaml \\
          --value-map C=pass --value-map I=fail
    """
    shared, own = _split(kwargs)
    from judgekit.connectors.inspect import read_inspect

    _run_import(lambda m: read_inspect(own["log"], m), shared)


PLATFORM_COMMANDS.append(inspect_log)


@click.command("langsmith")
@click.argument("runs", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--feedback", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Feedback file.")
@click.option(
    "--api-feedback",
    type=_AUTHORSHIP,
    default="skip",
    show_default=True,
    help="What feedback with source type api is (LangSmith does not record who sent it).",
)
@mapping_options
def langsmith(**kwargs: Any) -> None:
    """Import a LangSmith export: runs and feedback (source app: labels, model: verdicts, corrections: corrected).

    \b
    Example:
      judgekit import langsmith runs.jsonl --feedback feedback.jsonl \\
          --score correctness --rubric rubrics/helpfulness_pass_fail.yaml \\
          --value-map 1=pass --value-map 0=fail
    """
    shared, own = _split(kwargs)
    from judgekit.connectors.langsmith import read_langsmith

    _run_import(lambda m: read_langsmith(own["runs"], own["feedback"], m, api_feedback=own["api_feedback"]), shared)


PLATFORM_COMMANDS.append(langsmith)


def _rules(pairs: tuple[str, ...], option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{pair!r}: expected ATTRIBUTE=VALUE", param_hint=option)
        out[key] = value
    return out


@click.command("otel")
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--human-when",
    multiple=True,
    metavar="ATTR=VALUE",
    help="Events with this attribute value are human labels (repeatable: all must match).",
)
@click.option(
    "--judge-when",
    multiple=True,
    metavar="ATTR=VALUE",
    help="Events with this attribute value are judge verdicts (repeatable: all must match).",
)
@click.option(
    "--others", type=_AUTHORSHIP, default="skip", show_default=True, help="What the events matching neither rule are."
)
@click.option("--author-attribute", default=None, help="Event attribute naming the annotator (or the judge).")
@click.option(
    "--value-from",
    type=click.Choice(["auto", "label", "value"]),
    default="auto",
    show_default=True,
    help="Read gen_ai.evaluation.score.label or .value (auto: the label when there is one).",
)
@mapping_options
def otel(**kwargs: Any) -> None:
    """Import OpenTelemetry GenAI gen_ai.evaluation.result events and their parent spans (OTLP JSON files).

    The conventions record no evaluator kind: say which events are people's and which a judge's.

    \b
    Example:
      judgekit import otel traces.json logs.json --score relevance \\
          --others judge --human-when evaluator.kind=human \\
          --author-attribute user.id --rubric rubrics/helpfulness_pass_fail.yaml
    """
    shared, own = _split(kwargs)
    from judgekit.connectors.otel import read_otel

    human, judge = _rules(own["human_when"], "--human-when"), _rules(own["judge_when"], "--judge-when")
    _run_import(
        lambda m: read_otel(
            list(own["paths"]),
            m,
            human_when=human,
            judge_when=judge,
            others=own["others"],
            author_attribute=own["author_attribute"],
            value_from=own["value_from"],
        ),
        shared,
    )


PLATFORM_COMMANDS.append(otel)


@click.command("huggingface")
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--map",
    "columns",
    multiple=True,
    required=True,
    metavar="FIELD=COLUMN",
    help="Map a judgekit field to a column (repeatable; id is required; label = a person's rating, "
    "annotator, critique, provenance, verdict = a judge's label, rationale, messages, input, output, ...).",
)
@click.option("--split", default=None, help="Split of a DatasetDict (or of the data files).")
@click.option("--rubric", "rubric_spec", required=True, help="Rubric YAML file, or id[@version] in the project.")
@click.option("--value-map", "value_map", multiple=True, metavar="VALUE=LEVEL", help="Translate a value into a level.")
@click.option("--run", "run", default=None, help="Judge run name for the verdict column (default huggingface:COLUMN).")
@click.option("--id-prefix", "id_prefix", default="", help="Prefix for item ids.")
@db_option
def huggingface(**kwargs: Any) -> None:
    """Import a Hugging Face dataset (save_to_disk folder, or .jsonl/.csv/.parquet files) by a column mapping.

    \b
    Example:
      judgekit import huggingface data/ratings --map id=conv_id \\
          --map messages=dialog --map label=rating --map annotator=rater \\
          --rubric rubrics/helpfulness_pass_fail.yaml \\
          --value-map 1=pass --value-map 0=fail
    """
    from judgekit.connectors.huggingface import parse_columns, read_huggingface

    columns = parse_columns(kwargs["columns"])
    opts = {**kwargs, "score": columns.get("label", columns.get("verdict", "label")), "assume_judge_seen": False}
    _run_import(lambda m: read_huggingface(kwargs["path"], m, columns, split=kwargs["split"]), opts)


PLATFORM_COMMANDS.append(huggingface)
