"""Test helpers: assert in a project's own test suite that its LLM judge is trusted, under the same thresholds
as ``judgekit check``.

Why: teams already run pytest in CI; a failing assertion with the criteria table in its message is the most
familiar way to stop a judge that drifted (new model version, edited prompt) from shipping. This module does
not import pytest, so it can be used from any test runner or script; :func:`trusted_judge_fixture` imports it
only when called.

Example (``tests/test_judge.py`` of a project)::

    from judgekit.testing import assert_judge_trusted

    def test_judge_is_trusted():
        assert_judge_trusted("judgekit.db", run="gpt-4.1-mini")

    def test_judge_is_good_enough_for_triage():
        assert_judge_trusted("judgekit.db", min_kappa=0.5, require_alt_test=False)
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported lazily: a test helper should cost nothing until it is used
    from judgekit.agreement import TrustAssessment

__all__ = ["assert_judge_trusted", "judge_assessment", "trusted_judge_fixture"]


def judge_assessment(
    db: str | os.PathLike[str],
    run: str | None = None,
    config: str | os.PathLike[str] | None = None,
    **overrides: Any,
) -> TrustAssessment:
    """The trust assessment of ``run`` (default: the newest judge run that is not a bias probe).

    Thresholds: ``config`` (judgekit.toml or pyproject.toml; default found from the current folder up), its
    table for the run's rubric, then ``overrides`` such as ``min_kappa=0.5`` (any
    :class:`~judgekit.agreement.TrustCriteria` field), exactly as ``judgekit check`` resolves them.
    """
    from judgekit.report import check_run
    from judgekit.storage import Project

    if not os.path.exists(db):
        raise FileNotFoundError(f"no judgekit project database at {db}")
    with Project(db, create=False) as project:
        return check_run(project, run, config, overrides)


def assert_judge_trusted(
    db: str | os.PathLike[str],
    run: str | None = None,
    config: str | os.PathLike[str] | None = None,
    **overrides: Any,
) -> TrustAssessment:
    """Raise ``AssertionError`` unless the judge run's verdict is TRUSTED; return the assessment otherwise.

    The message starts with the verdict and its reasons, followed by the table of every criterion (measured
    value, interval, threshold, outcome), so a CI log says what to fix without re-running anything.
    """
    from judgekit.report import criteria_table, failure_summary

    a = judge_assessment(db, run, config, **overrides)
    if a.verdict != "TRUSTED":
        raise AssertionError(failure_summary(a) + "\n" + criteria_table(a))
    return a


def trusted_judge_fixture(
    db: str | os.PathLike[str],
    run: str | None = None,
    config: str | os.PathLike[str] | None = None,
    *,
    scope: str = "session",
    **overrides: Any,
) -> Callable[..., Any]:
    """A pytest fixture (default session scope) that asserts the judge is trusted once and yields its
    assessment, so tests relying on the judge's scores fail early with the reason.

    In ``conftest.py``::

        from judgekit.testing import trusted_judge_fixture
        judge = trusted_judge_fixture("judgekit.db", run="gpt-4.1-mini")

        def test_scores_improve(judge):  # judge is the TrustAssessment
            ...
    """
    import pytest

    def _fixture() -> TrustAssessment:
        return assert_judge_trusted(db, run, config, **overrides)

    return pytest.fixture(scope=scope)(_fixture)  # type: ignore[call-overload]
