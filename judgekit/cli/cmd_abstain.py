"""``judgekit abstain``."""

from __future__ import annotations

from pathlib import Path

import click

from judgekit.cli.common import abstention_options, db_option, echo, open_project
from judgekit.io import detect_format, write_export, write_records


@click.command("abstain")
@click.argument("run")
@db_option
@abstention_options
@click.option("--split", "split_name", default=None, help="Calibrate on this split's dev part, check on its test part.")
@click.option("--escalate", is_flag=True, help="Raise the label-queue priority of the items under the threshold.")
@click.option(
    "--export",
    "export",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the escalated items (item_id, label, confidence) to this CSV file.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def command(
    run: str,
    db: Path | None,
    target: float,
    delta: float,
    split_name: str | None,
    escalate: bool,
    export: Path | None,
    as_json: bool,
) -> None:
    """Trust or escalate: a confidence threshold above which RUN agrees with people at least TARGET of the time.

    The threshold is chosen on labelled calibration items (a split's dev part) by fixed-sequence testing with
    exact binomial bounds, so that agreement on items at or above it is >= TARGET with probability >= 1 - DELTA
    (Jung, Brahman & Choi, ICLR 2025). Items below it, and failed verdicts, are routed to people. Needs verdicts
    with confidence (judge with --confidence).

    \b
    Example:
      judgekit abstain my-judge --target 0.9 --delta 0.1 --split main
      judgekit abstain my-judge --escalate --export escalated.csv
    """
    from judgekit.calibration import abstain, render_abstention

    with open_project(db) as project:
        rep = abstain(project, run, target=target, delta=delta, split=split_name, escalate_items=escalate)
        if export is not None:
            r = project.run(run)
            wanted = set(rep.escalated)
            rows = [
                {"item_id": v.item_id, "status": v.status, "label": v.label, "confidence": v.confidence}
                for v in project.verdicts(r)
                if v.item_id in wanted
            ]
            columns = ("item_id", "status", "label", "confidence")
            write_export(write_records(rows, columns, detect_format(export, "csv")), export)
    if as_json:
        click.echo(rep.model_dump_json(indent=2))
        return
    echo(render_abstention(rep))
    if export is not None:
        echo(f"  wrote {rep.n_escalated} escalated item(s) to {export}")
    elif not escalate and rep.n_escalated:
        echo("  pass --escalate to raise their priority in the label queue, or --export FILE to list them")
