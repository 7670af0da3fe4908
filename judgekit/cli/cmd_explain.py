"""``judgekit explain``: where a judge disagrees with people, and how much of the gap each failure mode explains."""

from __future__ import annotations

from pathlib import Path

import click

from judgekit.cli.common import criteria_options, db_option, echo, json_option, open_project, split_option


@click.command("explain")
@click.argument("run")
@db_option
@split_option(required=False, help="Explain on this split's dev part (default: the newest split of the labels).")
@click.option("--all", "everything", is_flag=True, help="Every labelled item, test items included.")
@click.option("--min-items", type=click.IntRange(1), default=3, show_default=True, help="Smallest group shown.")
@click.option("--largest", type=click.IntRange(1, 50), default=5, show_default=True, help="Failure modes detailed.")
@json_option("every group")
@criteria_options
def command(
    run: str,
    db: Path | None,
    split_name: str | None,
    everything: bool,
    min_items: int,
    largest: int,
    as_json: bool,
    config: Path | None,
    reference: str | None,
) -> None:
    """Explain RUN's disagreements with people: failure modes by label pair, segment, risk tier and the words of
    the annotators' critiques, each with its share of the gap to the human ceiling and example items. No LLM.

    By default the dev part of the newest split of the rubric's labels is explained (reading the test items'
    disagreements and fixing the rubric after them is tuning on test); --all takes every labelled item.

    \b
    Example:
      judgekit explain gpt-3.5-turbo --db judgekit-demo.db
      judgekit explain gpt-3.5-turbo --split main --json > modes.json
    """
    from judgekit.agreement import load_criteria
    from judgekit.align.explain import dev_scope, explain_run
    from judgekit.align.render import render_explanation

    with open_project(db) as project:
        r = project.run(run)
        rubric = project.rubric(r.config.rubric_id, r.config.rubric_version)
        criteria = load_criteria(config, rubric_id=rubric.id, overrides={"reference": reference})
        ids, where = dev_scope(project, rubric.labels_key, split_name, everything=everything)
        report = explain_run(
            project, r, item_ids=ids, where=where, criteria=criteria, min_items=min_items, max_largest=largest
        )
    if as_json:
        click.echo(report.model_dump_json(indent=2))
        return
    echo(render_explanation(report))
