"""The admin page's refresh, as its own process: ``python -m judgekit.labeling._refresher --db URL --rubric ID@VER
--criteria JSON``.

Why a process: the computation takes most of a core for a minute at 1,000,000 labels; in the app server's process
it would slow every annotator on it (and hold the interpreter lock). Started by
:func:`judgekit.labeling._snapshot.request_refresh`, which has already claimed the refresh; it lowers its own
priority, computes, stores and exits.
"""

from __future__ import annotations

import argparse
import contextlib
import os

from judgekit.agreement import TrustCriteria
from judgekit.labeling._snapshot import run_refresh
from judgekit.models import parse_key
from judgekit.storage import Project


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m judgekit.labeling._refresher", description=__doc__)
    ap.add_argument("--db", required=True)
    ap.add_argument("--rubric", required=True, help="ID@VERSION")
    ap.add_argument("--criteria", required=True, help="TrustCriteria as JSON")
    ap.add_argument("--nice", type=int, default=10, help="priority decrease (0: none)")
    args = ap.parse_args(argv)
    if args.nice:
        with contextlib.suppress(OSError):
            os.nice(args.nice)
    criteria = TrustCriteria.model_validate_json(args.criteria)
    with Project(args.db, create=False) as project:
        rubric = project.rubric(*parse_key(args.rubric, "rubric"))
        return 0 if run_refresh(project, rubric, criteria) is not None else 1


if __name__ == "__main__":
    raise SystemExit(main())
