"""How a judge run is carried out: one frozen type, built once per run.

Why one type: the same dozen settings (concurrency, rate limits, budget, timeouts, retries, cache, price) travel
from the command line to the run, to every worker process and back into the run's stored notes, so that
``judgekit judge --resume RUN`` continues with the settings the run was started with. Written out as arguments
they were copied (and drifted) at each hop. None of them changes what the judge answers; that is the
:class:`~judgekit.models.JudgeConfig` (and its fingerprint).

``RunOptions.stored()`` is what is kept with the run: everything except the API key (a secret, never written)
and the excluded item ids (derived again from the split named in the run's notes).
"""

from __future__ import annotations

import os
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from judgekit.errors import ConfigError
from judgekit.judging.pricing import Price

DEFAULT_CONCURRENCY = 8
DEFAULT_MAX_RETRIES = 6
DEFAULT_PARSE_RETRIES = 2
DEFAULT_CIRCUIT_BREAKER = 8
AUTO_WORKERS_PER_PROCESS = 32
"""With ``workers="auto"``: one worker process per this many calls in flight (at most one per core). Why: one
process spends about 1.5 ms of CPU per call in the provider SDK, so past ~30 calls in flight at typical latencies a
second core pays off (benchmarks/bench_judge.py)."""


class PriceModel(BaseModel):
    """USD per 1M input and output tokens (the stored form of :class:`~judgekit.judging.pricing.Price`)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)  # NaN/inf: no setting
    input: float = Field(ge=0)
    output: float = Field(ge=0)
    batch_input: float | None = Field(default=None, ge=0)
    """In a provider batch, when it is not half the list price."""
    batch_output: float | None = Field(default=None, ge=0)

    def price(self) -> Price:
        return Price(self.input, self.output, self.batch_input, self.batch_output)


class BatchOptions(BaseModel):
    """How a run uses the provider's batch API (``judgekit judge --batch``; :mod:`judgekit.judging.batch`)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)  # NaN/inf: no setting

    wait: bool = Field(default=True, exclude=True)
    """Wait for the batches to end and turn their results into verdicts; ``False``: submit them and return (collect
    later with ``--resume``). Not stored with the run: a resume waits unless told not to again."""
    poll: float = Field(default=10.0, gt=0)
    """Seconds before the first look at a submitted batch; each further look waits 1.5 times longer."""
    poll_max: float = Field(default=120.0, gt=0)
    """The longest wait between two looks."""
    max_requests: int | None = Field(default=None, ge=1)
    """Requests per batch at most (default: the provider's documented limit)."""
    rounds: int = Field(default=3, ge=1, le=10)
    """Batches a request may be in: a request that failed transiently (expired, cancelled, 5xx) goes into a
    follow-up batch until it has been in this many."""
    fallback: Literal["interactive", "none"] = "interactive"
    """What happens to a request still without a reply after its rounds: sent interactively (full price), or
    left for a later ``--resume``. Replies that do not parse are repaired interactively either way (bounded by
    ``parse_retries``)."""


class RunOptions(BaseModel):
    """The settings of one judge run (not of the judge: see :class:`~judgekit.models.JudgeConfig`)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)  # NaN/inf: no setting

    concurrency: int = Field(default=DEFAULT_CONCURRENCY, ge=1, le=4096)
    """Calls in flight at most, over all worker processes (lowered while the provider answers 429)."""
    workers: Annotated[int, Field(ge=1, le=256)] | Literal["auto"] = "auto"
    """Worker processes; ``auto``: one per 32 calls in flight, at most one per core (see :func:`resolve_workers`)."""
    rpm: float | None = Field(default=None, gt=0)
    """Requests per minute allowed (a token bucket), over all processes."""
    tpm: float | None = Field(default=None, gt=0)
    """Tokens per minute allowed, over all processes."""
    max_cost: float | None = Field(default=None, ge=0)
    """Budget of the whole run in USD, resumes included; the run stops cleanly before passing it."""
    timeout: float = Field(default=60.0, gt=0)
    """Seconds per HTTP request."""
    max_retries: int = Field(default=DEFAULT_MAX_RETRIES, ge=0)
    """Retries of a call that failed transiently (429, 5xx, timeouts, connection errors)."""
    parse_retries: int = Field(default=DEFAULT_PARSE_RETRIES, ge=0)
    """Times an unreadable reply is sent back with the reason before it is stored as ``parse_error``."""
    use_cache: bool = True
    """Read and write the response cache."""
    backoff_base: float = Field(default=0.5, gt=0)
    """First backoff delay in seconds (doubling, full jitter)."""
    circuit_breaker: int = Field(default=DEFAULT_CIRCUIT_BREAKER, ge=0)
    """Stop the run when this many calls in a row, over several items, fail the same way (0: never)."""
    price: PriceModel | None = None
    """Price of the run's model (from the price table when the run started); ``None``: unknown."""
    batch: BatchOptions | None = None
    """Judge through the provider's batch API (half price, results within 24 h); ``None``: interactively."""
    api_key: str | None = Field(default=None, repr=False, exclude=True)
    """Key passed in code instead of the environment; never stored."""
    exclude_ids: tuple[str, ...] = Field(default=(), repr=False, exclude=True)
    """Items never shown as dynamic few-shot examples (a split's test items); derived from the split on resume."""

    def stored(self) -> dict[str, Any]:
        """What is kept with the run (``meta["options"]``): every setting but the key and the excluded ids."""
        return self.model_dump(mode="json")

    def with_overrides(self, **changes: Any) -> RunOptions:
        """A copy with ``changes`` applied and validated (``None`` values are ignored)."""
        given = {k: v for k, v in changes.items() if v is not None}
        try:
            return RunOptions.model_validate({**dict(self), **given})
        except ValidationError as exc:
            err = exc.errors()[0]
            name = ".".join(str(x) for x in err["loc"][:1])
            raise ConfigError(f"{name} (got {err.get('input')!r}): {err['msg']}") from None

    @property
    def cost_price(self) -> Price | None:
        return None if self.price is None else self.price.price()


def resolve_workers(workers: int | Literal["auto"], concurrency: int, n_items: int) -> int:
    """Worker processes for a run: the number asked for, or with ``auto`` one per
    :data:`AUTO_WORKERS_PER_PROCESS` calls in flight, at most one per core and never more than the calls in
    flight or than one per 2,000 items to judge (a second process pays for itself only on a run that lasts longer
    than starting it: the fork server imports the SDK once, about 1.5 s of CPU).

    >>> resolve_workers("auto", 8, 10_000), resolve_workers("auto", 64, 10_000) <= 2, resolve_workers(3, 2, 10)
    (1, True, 2)
    """
    if workers == "auto":
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        n = min(cores, -(-concurrency // AUTO_WORKERS_PER_PROCESS), max(1, n_items // 2000))
    else:
        n = workers
    return max(1, min(n, concurrency))
