"""Judging through the providers' batch APIs (``judgekit judge --batch``): half price, results within 24 hours,
and nothing sent or paid twice across a kill at any moment.

* ``store`` -- the batch jobs of runs in the project (tables ``judge_batches``, ``judge_batch_requests``)
* ``api`` -- the contract of a batch API; ``openai_batches`` (Files + Batch API), ``anthropic_batches`` (Message
  Batches) implement it over the providers' SDK clients
* ``runner`` -- :func:`judge_in_batches`: build, submit, poll, fetch, turn into verdicts (see its docstring for the
  guarantees)
* ``control`` -- ``judgekit runs show`` lines and ``judgekit runs cancel``

Which API a provider uses is declared in its registration (``Capabilities.batch``); the interactive engine
(:mod:`judgekit.judging.engine`) provides the requests, cache keys and verdict making, so both paths judge alike.
"""

from judgekit.judging.batch.api import BatchApi, NoBatchApi, RemoteBatch, Result, make_batch_api
from judgekit.judging.batch.control import CancelReport, batch_lines, cancel_batches
from judgekit.judging.batch.runner import check_batch_api, judge_in_batches, poll_delay
from judgekit.judging.batch.store import BatchRow, BatchTotals, batch_totals, run_batches

__all__ = [
    "BatchApi",
    "BatchRow",
    "BatchTotals",
    "CancelReport",
    "NoBatchApi",
    "RemoteBatch",
    "Result",
    "batch_lines",
    "batch_totals",
    "cancel_batches",
    "check_batch_api",
    "judge_in_batches",
    "make_batch_api",
    "poll_delay",
    "run_batches",
]
