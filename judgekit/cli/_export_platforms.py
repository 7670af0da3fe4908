"""``judgekit export otel`` and ``judgekit export trust-summary``: judge results in the platforms' conventions."""

from __future__ import annotations

from pathlib import Path

import click

from judgekit.cli.common import config_option, db_option, echo, open_project
from judgekit.io.files import write_text_atomic

_out = click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Output file (default: standard output).",
)


def _emit(text: str, output: Path | None, what: str) -> None:
    if output is None:
        click.echo(text, nl=False)
        return
    write_text_atomic(output, text, what)  # a missing folder is a clear error, a failed write leaves no half file
    echo(f"wrote {what} to {output}", err=True)


@click.command("otel")
@click.option("--run", "run_name", required=True, help="Judge run name or id.")
@click.option(
    "--with-verdict", is_flag=True, help="Add the run's trust verdict to every event (judgekit.trust.verdict)."
)
@db_option
@config_option
@_out
def otel(run_name: str, with_verdict: bool, db: Path | None, config: Path | None, output: Path | None) -> None:
    """Export a judge run as OTLP JSON logs: one gen_ai.evaluation.result event per item.

    Events of items imported from traces carry the trace and span ids, so they attach to the judged span.

    \b
    Example:
      judgekit export otel --run prod-judge-v3 --with-verdict -o evaluations.json
    """
    from judgekit.connectors.otel import export_otel

    with open_project(db) as project:
        verdict = None
        if with_verdict:
            from judgekit.connectors.trust_summary import trust_summaries

            run = project.run(run_name)
            verdict = trust_summaries(project, [run.name], config)[run.fingerprint]["runs"][0]["verdict"]
        _emit(export_otel(project, run_name, verdict=verdict), output, "evaluation events")


@click.command("trust-summary")
@click.argument("runs", nargs=-1)
@db_option
@config_option
@_out
def trust_summary(runs: tuple[str, ...], db: Path | None, config: Path | None, output: Path | None) -> None:
    """Export the trust verdict of judge runs as JSON keyed on the judge fingerprint.

    \b
    Example:
      judgekit export trust-summary prod-judge-v3 -o trust.json
    """
    from judgekit.connectors.trust_summary import export_trust_summary

    with open_project(db) as project:
        _emit(export_trust_summary(project, list(runs) or None, config), output, "trust summary")


PLATFORM_EXPORTS: list[click.Command] = [otel, trust_summary]
