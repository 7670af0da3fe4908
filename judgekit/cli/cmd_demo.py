"""``judgekit demo``."""

from __future__ import annotations

from pathlib import Path

import click

from judgekit.cli.common import echo


@click.command("demo")
@click.argument("dataset", type=click.Choice(["pandalm", "hanna", "dices"]), default="pandalm", required=False)
@click.option(
    "--db",
    "db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Demo database file (default ./judgekit-demo.db; replaced if it is a demo database).",
)
def command(dataset: str, db: Path | None) -> None:
    """Import a bundled, human-labelled data set and assess its judges: PandaLM, HANNA or DICES.

    PandaLM (the default): 999 pairwise items, 3 annotators, two real LLM judges. HANNA: 1,056 stories, 6 criteria
    rated 1-5 by 3 people, two real LLM judges (a row per criterion). DICES: 350 conversations whose last chatbot
    turn 40 people rated for safety, with a keyword baseline judge (not an LLM).

    \b
    Example:
      judgekit demo
      judgekit demo hanna --db /tmp/hanna.db
    """
    from judgekit.agreement import load_criteria, render_text
    from judgekit.agreement.render import fit
    from judgekit.demo import build_demo_project
    from judgekit.storage import Project

    demo = build_demo_project(db, dataset)
    head = (
        f"demo project {demo.path}: {demo.n_items} items, {demo.n_labels} human labels, "
        f"judge runs: {', '.join(demo.runs)} (rubric {demo.rubric_key})"
    )
    echo("\n".join(fit(head)) + "\n")
    from judgekit.report import build_report, write_report

    with Project(demo.path) as project:
        report = build_report(project, demo.runs, lambda rid: load_criteria(rubric_id=rid))
    echo("\n\n".join(render_text(r.assessment) for r in report.runs))
    paths = write_report(report, demo.path.parent / "judgekit-report")
    echo("\n" + "\n".join(fit(f"report: {paths.html}  (also {paths.markdown.name}, {paths.json.name})")))
    echo("\n".join(fit(f"more: judgekit agree --db {demo.path} --json; judgekit label --db {demo.path}")))
