"""``judgekit dev-server``: the scripted judge and proposer (no API key), for the README, demos and tests."""

from __future__ import annotations

from pathlib import Path

import click

from judgekit.cli.common import FiniteFloatRange, echo


@click.command("dev-server")
@click.option("--db", "db", default=None, help="Project whose human labels form the answer key (read lazily).")
@click.option("--rubric", "rubric_id", default=None, help="Rubric of the key (default: the first with labels).")
@click.option(
    "--key", "key_file", type=click.Path(dir_okay=False, path_type=Path), default=None, help="An answer key file."
)
@click.option("--port", type=click.IntRange(0, 65535), default=8787, show_default=True, help="Port (0: a free one).")
@click.option(
    "--wait",
    is_flag=True,
    help="Serve nothing: return once a server answers on --port (exit 2 after --timeout seconds).",
)
@click.option("--timeout", type=FiniteFloatRange(0.1, 3600), default=60.0, show_default=True, help="For --wait.")
def command(
    db: str | None, rubric_id: str | None, key_file: Path | None, port: int, wait: bool, timeout: float
) -> None:
    """Serve a scripted LLM on 127.0.0.1 (OpenAI Chat Completions and Anthropic Messages).

    Its judge decides a class of items correctly only when the rubric states a rule about the class, a few-shot
    example of the class is in the prompt, or the model knows it (gpt-4.1 knows length); its proposer writes the
    rules for the classes it is shown (see judgekit/testing/scripted_llm.py). With --db, people's majority label is
    the right answer. Ctrl+C (or SIGTERM) stops it.

    \b
    Example:
      judgekit dev-server --db judgekit-demo.db &
      judgekit dev-server --wait        # returns once it answers
      export OPENAI_BASE_URL=http://127.0.0.1:8787/v1 OPENAI_API_KEY=scripted
    """
    from judgekit.testing.scripted_llm import serve, wait_until_serving

    if wait:
        wait_until_serving(port, timeout=timeout)
        echo(f"scripted LLM server answers on http://127.0.0.1:{port}")
        return
    serve(db=db, rubric_id=rubric_id, key_file=key_file, port=port, echo=echo)
