"""Corrected pass-rate estimates: the judge on many unlabelled items plus a few human labels, with a valid interval.

The share of items a judge calls positive (its raw "pass rate") is biased whenever the judge errs asymmetrically:
a judge that passes 10% of the failing items inflates the rate by ``0.1 (1 - p)``. A small random sample labelled by
people removes the bias. Three estimators of the true rate ``p`` (share of items the human majority calls positive):

* **classical**: the human labels alone, ``mean(Y)`` with the CLT interval; ignores the judge.
* **Rogan-Gladen** (1978): the judge's apparent rate ``q`` on unlabelled items corrected with its sensitivity
  (TPR) and specificity (TNR) measured on the labelled sample, ``p = (q + TNR - 1) / (TPR + TNR - 1)``.
* **prediction-powered inference** (PPI; Angelopoulos et al. 2023, Boyeau et al. 2024 for autoevaluation): the
  judge's mean on unlabelled items plus the mean correction ("rectifier") measured on labelled items,
  ``theta = mean(f(X_u)) + mean(Y - f(X_l))``, and its power-tuned version PPI++ (Angelopoulos, Duchi & Zrnic 2023).

All three are consistent whatever the judge's errors are, as long as the labelled items are a random sample of the
same population as the unlabelled ones; PPI is exactly unbiased. The better the judge, the narrower the PPI interval
compared with the classical one: the labels only have to measure the judge's error, not the rate itself. Coverage of
the intervals is checked by simulation in ``tests/calibration/test_estimates.py``.

References
----------
Rogan, W. J., & Gladen, B. (1978). Estimating prevalence from the results of a screening test. American Journal of
Epidemiology 107(1), 71-76.
Angelopoulos, A. N., Bates, S., Fannjiang, C., Jordan, M. I., & Zrnic, T. (2023). Prediction-powered inference.
Science 382(6671), 669-674.
Angelopoulos, A. N., Duchi, J. C., & Zrnic, T. (2023). PPI++: Efficient prediction-powered inference.
arXiv:2311.01453.
Boyeau, P., Angelopoulos, A. N., Yosef, N., Malik, J., & Jordan, M. I. (2024). AutoEval done right: Using
synthetic data for model evaluation. arXiv:2403.07008.
Lang, Z., & Reiczigel, J. (2014). Confidence limits for prevalence of disease adjusted for estimated sensitivity
and specificity. Preventive Veterinary Medicine 113(1), 13-22.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from pydantic import BaseModel, ConfigDict
from scipy import stats as sps

from judgekit.agreement.data import reference_by_item
from judgekit.errors import UserError
from judgekit.models import JudgeRun
from judgekit.stats import Interval, StatResult
from judgekit.stats._warnings import warn_undefined
from judgekit.storage import Project

Method = Literal["classical", "rogan_gladen", "ppi", "ppi++"]
_CONFIG = ConfigDict(frozen=True, ser_json_inf_nan="constants")


class Estimate(StatResult):
    """A rate with its normal-theory interval (clipped to [0, 1]): a :class:`judgekit.stats.StatResult` named after
    its method (``classical``, ``rogan_gladen``, ``ppi``, ``ppi++``) with ``n_items`` the labelled items, plus the
    standard error, the unlabelled items, and the method's own parameters (``lam``, ``rectifier``, ``tpr``,
    ``tnr``, ``q``, ``youden_j``: None where they do not apply)."""

    model_config = _CONFIG
    method: Method
    se: float
    n_unlabelled: int
    lam: float | None = None
    """PPI++: the power-tuning weight of the judge (0 = classical, 1 = plain PPI)."""
    rectifier: float | None = None
    """PPI: mean of ``Y - lam f`` on the labelled items."""
    tpr: float | None = None
    tnr: float | None = None
    q: float | None = None
    """Rogan-Gladen: the judge's apparent positive rate on the unlabelled items."""
    youden_j: float | None = None

    @property
    def level(self) -> float:
        """Confidence level of the interval."""
        return self.interval.level if self.interval is not None else float("nan")

    @property
    def n_labelled(self) -> int:
        """Human-labelled items used."""
        return self.n_items

    @property
    def width(self) -> float:
        """``high - low``."""
        return self.interval.width if self.interval is not None else float("nan")


def _z(level: float) -> float:
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be between 0 and 1, got {level}")
    return float(sps.norm.ppf(0.5 + level / 2.0))


def _binary(x: ArrayLike, name: str) -> NDArray[np.float64]:
    a = np.asarray(x, dtype=float)
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {a.shape}")
    if a.size and not np.isin(a, (0.0, 1.0)).all():
        raise ValueError(f"{name} must hold 0/1 (or False/True) values")
    return a


def _result(method: Method, value: float, se: float, level: float, n: int, n_u: int, **params: float) -> Estimate:
    z = _z(level)
    if not math.isfinite(value):
        low = high = float("nan")
    else:
        low, high = max(0.0, value - z * se), min(1.0, value + z * se)
    return Estimate(
        name=method,
        method=method,
        value=value,
        n_items=n,
        interval=Interval(low=low, high=high, level=level, method="normal (clipped to [0, 1])"),
        se=se,
        n_unlabelled=n_u,
        **{k: float(v) for k, v in params.items()},
    )


def classical_estimate(y_labelled: ArrayLike, *, level: float = 0.95) -> Estimate:
    """The rate from the human labels alone: ``mean(Y)`` +- ``z s / sqrt(n)`` (CLT interval, ``s`` the sample SD).

    Parameters
    ----------
    y_labelled
        Shape (n,): 1 where the human reference label is positive.
    level
        Confidence level of the interval.

    Examples
    --------
    >>> classical_estimate([1, 0, 0, 1, 0, 0, 0, 1, 0, 0]).fmt()
    '0.300 [0.001, 0.599]'
    """
    y = _binary(y_labelled, "y_labelled")
    n = y.size
    if n < 2:
        return _result("classical", warn_undefined("classical estimate", "fewer than 2 labelled items"), 0, level, n, 0)
    p = float(y.mean())
    return _result("classical", p, math.sqrt(y.var(ddof=1) / n), level, n, 0)


def ppi_estimate(
    y_labelled: ArrayLike,
    f_labelled: ArrayLike,
    f_unlabelled: ArrayLike,
    *,
    level: float = 0.95,
    tuned: bool = True,
) -> Estimate:
    """Prediction-powered estimate of a mean (Angelopoulos et al. 2023), optionally power-tuned (PPI++).

    .. math::

        \\hat\\theta_\\lambda = \\lambda \\, \\overline{f(X^u)} + \\overline{Y - \\lambda f(X)}, \\qquad
        \\widehat{\\mathrm{se}}^2 = \\frac{\\lambda^2 \\widehat{\\mathrm{Var}}(f(X^u))}{N}
            + \\frac{\\widehat{\\mathrm{Var}}(Y - \\lambda f(X))}{n}

    with the interval ``theta +- z se``. ``lambda = 1`` is plain PPI (the rectifier ``Y - f`` corrects the judge's
    bias exactly, so the estimate is unbiased). PPI++ uses the variance-minimising
    ``lambda = Cov(Y, f) / ((1 + n / N) Var(f))``, clipped to [0, 1]: it never does worse than the classical
    estimate asymptotically (``lambda = 0`` is the classical estimate).

    Parameters
    ----------
    y_labelled
        Shape (n,): human reference labels (0/1) on the labelled sample.
    f_labelled
        Shape (n,): the judge's prediction (0/1, or a probability) on the same items.
    f_unlabelled
        Shape (N,): the judge's prediction on the unlabelled items.
    level
        Confidence level.
    tuned
        PPI++ power tuning (default) or plain PPI (``lambda = 1``).

    Examples
    --------
    >>> y = [1, 0, 1, 1, 0, 0, 1, 0, 0, 0]
    >>> f = [1, 0, 1, 1, 0, 1, 1, 0, 0, 0]
    >>> r = ppi_estimate(y, f, [1, 0, 0, 1] * 50, tuned=False)
    >>> round(r.value, 3)
    0.4
    """
    y = _binary(y_labelled, "y_labelled")
    fl = np.asarray(f_labelled, dtype=float)
    fu = np.asarray(f_unlabelled, dtype=float)
    if fl.shape != y.shape:
        raise ValueError(f"f_labelled needs one prediction per labelled item ({y.size}); got shape {fl.shape}")
    if fu.ndim != 1:
        raise ValueError(f"f_unlabelled must be 1-D, got shape {fu.shape}")
    n, big_n = y.size, fu.size
    method: Method = "ppi++" if tuned else "ppi"
    if n < 2 or big_n < 2:
        nan = warn_undefined(method, "needs at least 2 labelled and 2 unlabelled items")
        return _result(method, nan, float("nan"), level, n, big_n)
    lam = 1.0
    if tuned:
        f_all = np.concatenate([fl, fu])
        var_f = float(f_all.var(ddof=1))
        cov = float(np.cov(y, fl, ddof=1)[0, 1])
        lam = 0.0 if var_f == 0 else float(np.clip(cov / ((1.0 + n / big_n) * var_f), 0.0, 1.0))
    rect = y - lam * fl
    value = float(lam * fu.mean() + rect.mean())
    se = math.sqrt(lam**2 * fu.var(ddof=1) / big_n + rect.var(ddof=1) / n)
    return _result(method, value, se, level, n, big_n, lam=lam, rectifier=float(rect.mean()))


def rogan_gladen_estimate(
    y_labelled: ArrayLike, f_labelled: ArrayLike, f_unlabelled: ArrayLike, *, level: float = 0.95
) -> Estimate:
    """Rogan-Gladen (1978) correction of the judge's apparent rate for its sensitivity and specificity.

    .. math::

        \\hat p = \\frac{q + \\mathrm{TNR} - 1}{\\mathrm{TPR} + \\mathrm{TNR} - 1}, \\qquad
        \\widehat{\\mathrm{Var}}(\\hat p) = \\frac{\\mathrm{Var}(q) + \\hat p^2 \\mathrm{Var}(\\mathrm{TPR})
            + (1 - \\hat p)^2 \\mathrm{Var}(\\mathrm{TNR})}{(\\mathrm{TPR} + \\mathrm{TNR} - 1)^2}

    ``q`` is the judge's positive rate on the ``N`` unlabelled items, TPR and TNR its rates on the ``n_pos`` positive
    and ``n_neg`` negative labelled items (the three samples are independent). The variance is the delta method; the
    binomial variances of TPR and TNR use the "plus two" adjusted proportions ``(x + 2) / (m + 4)`` (Agresti & Coull
    1998; cf. Lang & Reiczigel 2014) so that a perfect TPR or TNR on a small sample does not give a zero-width term.
    The estimate is clipped to [0, 1]. Undefined (NaN) when ``TPR + TNR <= 1`` (a judge no better than chance).

    Parameters
    ----------
    y_labelled, f_labelled
        Shape (n,): human reference and judge prediction (0/1) on the labelled items.
    f_unlabelled
        Shape (N,): judge predictions (0/1) on the unlabelled items.
    level
        Confidence level.

    Examples
    --------
    >>> y = [1] * 40 + [0] * 60
    >>> f = [1] * 36 + [0] * 4 + [1] * 6 + [0] * 54
    >>> r = rogan_gladen_estimate(y, f, [1] * 420 + [0] * 580)
    >>> round(r.value, 3), round(r.tpr, 2), round(r.tnr, 2)
    (0.4, 0.9, 0.9)
    """
    y = _binary(y_labelled, "y_labelled")
    fl = _binary(f_labelled, "f_labelled")
    fu = _binary(f_unlabelled, "f_unlabelled")
    if fl.shape != y.shape:
        raise ValueError(f"f_labelled needs one prediction per labelled item ({y.size}); got shape {fl.shape}")
    n, big_n = y.size, fu.size
    pos, neg = y == 1, y == 0
    n_pos, n_neg = int(pos.sum()), int(neg.sum())
    if n_pos == 0 or n_neg == 0 or big_n == 0:
        nan = warn_undefined("rogan_gladen", "needs positive and negative labelled items and unlabelled items")
        return _result("rogan_gladen", nan, float("nan"), level, n, big_n)
    tp, tn = float(fl[pos].sum()), float((1 - fl[neg]).sum())
    tpr, tnr, q = tp / n_pos, tn / n_neg, float(fu.mean())
    j = tpr + tnr - 1.0
    if j <= 0:
        nan = warn_undefined("rogan_gladen", f"the judge is no better than chance (TPR + TNR - 1 = {j:.3f})")
        return _result("rogan_gladen", nan, float("nan"), level, n, big_n, tpr=tpr, tnr=tnr, q=q)
    p = float(np.clip((q + tnr - 1.0) / j, 0.0, 1.0))
    tpr_a, tnr_a = (tp + 2) / (n_pos + 4), (tn + 2) / (n_neg + 4)
    q_a = (q * big_n + 2) / (big_n + 4)
    var = (
        q_a * (1 - q_a) / big_n + p**2 * tpr_a * (1 - tpr_a) / n_pos + (1 - p) ** 2 * tnr_a * (1 - tnr_a) / n_neg
    ) / j**2
    return _result("rogan_gladen", p, math.sqrt(var), level, n, big_n, tpr=tpr, tnr=tnr, q=q, youden_j=j)


class PassRateReport(BaseModel):
    """The judge's raw positive rate and the three corrected estimates, side by side."""

    model_config = _CONFIG
    run: str
    rubric: str
    positive: str
    one_vs_rest: bool
    level: float
    n_labelled: int
    n_unlabelled: int
    label_budget: int | None
    judge_rate_unlabelled: float
    classical: Estimate
    rogan_gladen: Estimate
    ppi: Estimate
    ppi_plus: Estimate
    width_ratio: float
    """Width of the PPI++ interval divided by the classical one (< 1: the judge saved labels)."""
    effective_labels: float
    """How many human labels alone would give an interval as narrow as PPI++: ``n / width_ratio^2``."""
    full_label_rate: float | None = None
    """With ``label_budget``: the rate on every labelled item (the answer the budgeted estimate should cover)."""


def _frames(project: Project, run: JudgeRun) -> tuple[pd.DataFrame, pd.DataFrame]:
    rubric = project.rubric(run.config.rubric_id, run.config.rubric_version)
    verdicts = pd.DataFrame(
        [(item_id, status, label) for item_id, status, label, _ in project.verdict_rows(run.id)],
        columns=["item_id", "status", "label"],
    ).set_index("item_id")
    majority = reference_by_item(project, rubric).rename("majority")
    labelled = verdicts.join(majority, how="inner")
    labelled = labelled[labelled["majority"].notna()]
    unlabelled = verdicts.loc[~verdicts.index.isin(majority.index)]
    return labelled, unlabelled


def estimate_pass_rate(
    project: Project,
    run: str | JudgeRun,
    *,
    positive: str | None = None,
    level: float = 0.95,
    label_budget: int | None = None,
    seed: int | None = 0,
) -> PassRateReport:
    """Corrected estimate of the share of items people would call ``positive``, from a run and the human labels.

    Unlabelled sample: items with a verdict of ``run`` and no human label for its rubric version. Labelled sample:
    items with a verdict and a human majority label. The judge's prediction is 1 when its verdict is ``positive``
    (a failed verdict counts as 0, in both samples alike). ``positive`` defaults to the rubric's positive level, else
    its first level (one-vs-rest, e.g. "A is better" for a pairwise rubric).

    ``label_budget=n`` keeps the labels of only ``n`` randomly drawn labelled items and treats the others as
    unlabelled: it shows what a small labelling effort would give, and the full-label rate it should recover.
    """
    r = run if isinstance(run, JudgeRun) else project.run(run)
    rubric = project.rubric(r.config.rubric_id, r.config.rubric_version)
    levels = rubric.scale.values
    pos = positive if positive is not None else (rubric.scale.positive or levels[0])
    if pos not in levels:
        raise UserError(f"--positive {pos!r} is not a level of rubric {rubric.key} ({', '.join(levels)})")
    one_vs_rest = len(levels) > 2
    labelled, unlabelled = _frames(project, r)
    full_rate: float | None = None
    if label_budget is not None:
        if label_budget < 2 or label_budget >= len(labelled):
            raise UserError(
                f"--label-budget must be between 2 and {len(labelled) - 1} (the labelled items with a verdict)"
            )
        full_rate = float((labelled["majority"] == pos).mean())
        rng = np.random.default_rng(seed)
        keep = np.zeros(len(labelled), dtype=bool)
        keep[rng.choice(len(labelled), size=label_budget, replace=False)] = True
        unlabelled = pd.concat([unlabelled, labelled.loc[~keep].drop(columns="majority")])
        labelled = labelled.loc[keep]
    if len(unlabelled) == 0:
        raise UserError(
            f"run {r.name!r} has no verdicts on unlabelled items, so there is nothing to correct: judge the unlabelled"
            " items, or pass --label-budget N to see what N human labels plus the judge would give"
        )
    if len(labelled) < 2:
        raise UserError(f"only {len(labelled)} labelled item(s) with a verdict; label a random sample of items first")
    y = (labelled["majority"] == pos).to_numpy(dtype=float)
    fl = ((labelled["status"] == "ok") & (labelled["label"] == pos)).to_numpy(dtype=float)
    fu = ((unlabelled["status"] == "ok") & (unlabelled["label"] == pos)).to_numpy(dtype=float)
    classical = classical_estimate(y, level=level)
    plus = ppi_estimate(y, fl, fu, level=level, tuned=True)
    ratio = plus.width / classical.width if classical.width > 0 else float("nan")
    return PassRateReport(
        run=r.name,
        rubric=rubric.key,
        positive=pos,
        one_vs_rest=one_vs_rest,
        level=level,
        n_labelled=int(y.size),
        n_unlabelled=int(fu.size),
        label_budget=label_budget,
        judge_rate_unlabelled=float(fu.mean()),
        classical=classical,
        rogan_gladen=rogan_gladen_estimate(y, fl, fu, level=level),
        ppi=ppi_estimate(y, fl, fu, level=level, tuned=False),
        ppi_plus=plus,
        width_ratio=ratio,
        effective_labels=y.size / ratio**2 if ratio and math.isfinite(ratio) else float("nan"),
        full_label_rate=full_rate,
    )


def _num(x: float | None, digits: int = 3) -> str:
    return "n/a" if x is None or math.isnan(x) else f"{x:.{digits}f}"


def render_estimate(rep: PassRateReport) -> str:
    """Plain-text report of a corrected pass-rate estimate."""
    what = f"'{rep.positive}'" + (" (one-vs-rest; choose another with --positive)" if rep.one_vs_rest else "")
    lines = [
        f"Share of items people would label {what}, run {rep.run} (rubric {rep.rubric})",
        f"  {rep.n_labelled} human-labelled items, {rep.n_unlabelled} items judged without human labels"
        + (f" (label budget {rep.label_budget}: the other labels are hidden)" if rep.label_budget else ""),
        f"  judge's raw rate on the unlabelled items: {rep.judge_rate_unlabelled:.3f} (biased by its errors)",
        f"  {rep.level:.0%} intervals:",
        f"    human labels only (classical) {rep.classical.fmt()}  width {rep.classical.width:.3f}  "
        f"(n={rep.classical.n_items})",
        f"    Rogan-Gladen correction       {rep.rogan_gladen.fmt()}  "
        f"(TPR {_num(rep.rogan_gladen.tpr)}, TNR {_num(rep.rogan_gladen.tnr)})",
        f"    prediction-powered (PPI)      {rep.ppi.fmt()}  width {rep.ppi.width:.3f}",
        f"    PPI++ (power-tuned)           {rep.ppi_plus.fmt()}  width {rep.ppi_plus.width:.3f}  "
        f"(lambda {_num(rep.ppi_plus.lam, 2)})",
    ]
    if math.isfinite(rep.width_ratio):
        if rep.width_ratio < 1:
            lines.append(
                f"  PPI++ interval is {1 - rep.width_ratio:.0%} narrower than human labels alone: worth about "
                f"{rep.effective_labels:.0f} human labels instead of {rep.n_labelled}"
            )
        else:
            lines.append("  the judge does not narrow the interval here: rely on the human labels")
    if rep.full_label_rate is not None:
        lines.append(f"  (check: the rate on all labelled items is {rep.full_label_rate:.3f})")
    return "\n".join(lines)
