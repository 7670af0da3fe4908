"""The candidate strategies of ``judgekit align``: one registration each, a test can add one from outside.

A strategy reads the :class:`AlignContext` (the starting judge, its rubric, the fit half of dev and the failure
modes measured on it) and returns :class:`Plan` s: a candidate record, and either a judge configuration to run on
dev (``build`` strategies: rules, few-shot sets, other models) or a function deriving a run from verdicts that
exist (``derive`` strategies, after the judged candidates: ensembles, a confidence threshold). Whatever a strategy
is fitted on comes from the fit half only: the proposer's examples, the few-shot examples and pool, the threshold's
calibration items.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from judgekit.agreement import AlignedRatings, load_aligned
from judgekit.align.explain import DisagreementReport, FailureMode, disagreement_mask
from judgekit.align.proposer import Shown, call_proposer, proposal_request
from judgekit.align.record import STRATEGY_TITLES, AlignSettings, CandidateRecord, Proposal
from judgekit.align.rubric_files import config_diff, rubric_diff
from judgekit.judging import PriceTable, split_model_spec
from judgekit.models import FewShotExample, HumanLabel, Item, JudgeConfig, JudgeRun, JudgeVerdict, Rubric
from judgekit.storage import Project

__all__ = ["STRATEGIES", "AlignContext", "Plan", "Strategy", "strategy"]

Phase = Literal["build", "derive"]


@dataclass
class AlignContext:
    """What a strategy may read. ``fit`` is the starting judge's aligned ratings on the fit half of dev."""

    project: Project
    settings: AlignSettings
    record_name: str
    start: JudgeRun
    rubric: Rubric
    base: JudgeConfig
    """The configuration candidates start from (the starting run's, or the one ``--judge-model`` names)."""
    fit: AlignedRatings
    explanation: DisagreementReport
    fit_ids: list[str]
    select_ids: list[str]
    dev_ids: list[str]
    test_ids: list[str]
    prices: PriceTable
    remaining: Callable[[], float | None]
    """Budget left (USD), ``None`` without a budget."""
    labels: Sequence[HumanLabel]
    """The annotators' blind labels of the rubric (for critiques)."""
    judged: list[tuple[CandidateRecord, JudgeRun]] = field(default_factory=list)
    """Judged candidates and their runs (for ``derive`` strategies)."""
    new_version: Callable[[], int] = lambda: 0

    def run_name(self, candidate: str) -> str:
        return f"{self.record_name}.{candidate}"


@dataclass
class Plan:
    """One candidate to evaluate."""

    record: CandidateRecord
    rubric: Rubric | None = None
    """A new rubric version to store before judging (rubric changes)."""
    exclude_ids: list[str] = field(default_factory=list)
    """Items never shown as dynamic few-shot examples by this candidate's runs."""
    derive: Callable[[str], JudgeRun] | None = None
    """For derived candidates: makes the run (given its name) from existing verdicts."""
    proposal: Proposal | None = None


@dataclass(frozen=True)
class Strategy:
    name: str
    title: str
    phase: Phase
    make: Callable[[AlignContext], list[Plan]]


STRATEGIES: dict[str, Strategy] = {}
"""Every strategy by name, in registration order (the order candidates are made)."""


def strategy(
    name: str, phase: Phase = "build", title: str | None = None
) -> Callable[[Callable[[AlignContext], list[Plan]]], Strategy]:
    """Register ``make(ctx) -> [Plan, ...]`` as strategy ``name`` (replacing one of the same name)."""

    def register(fn: Callable[[AlignContext], list[Plan]]) -> Strategy:
        s = Strategy(name, title or STRATEGY_TITLES.get(name, name), phase, fn)
        STRATEGIES[name] = s
        return s

    return register


BUDGET_SKIP = "the budget left"
"""How the reason of a candidate skipped for want of budget begins (such a candidate is made again on resume)."""


def _skipped(ctx: AlignContext, name: str, strat: str, reason: str, **extra: object) -> Plan:
    rec = CandidateRecord(
        name=name,
        strategy=strat,
        description=STRATEGY_TITLES.get(strat, strat),
        parent=_parent(ctx),
        rubric=ctx.rubric.key,
        status="skipped",
        reason=reason,
        **extra,
    )
    return Plan(rec)


def _parent(ctx: AlignContext) -> str:
    return f"run {ctx.start.name}, rubric {ctx.rubric.key}"


def _targets(ctx: AlignContext, n: int = 3) -> str | None:
    modes = [m for m in ctx.explanation.largest if m.facet == "label_pair"][:n] or ctx.explanation.largest[:n]
    return "; ".join(m.title for m in modes) or None


def _config_changes(before: JudgeConfig, after: JudgeConfig) -> tuple[list[str], str]:
    keys = ("provider", "model", "base_url", "rubric_version", "few_shot", "few_shot_k", "confidence", "prompt_variant")
    b, a = before.model_dump(mode="json"), after.model_dump(mode="json")
    changed = {k: (b.get(k), a.get(k)) for k in keys if b.get(k) != a.get(k)}
    lines = [f"{k}: {x!r} -> {y!r}" for k, (x, y) in changed.items()]
    diff = config_diff(
        {k: b.get(k) for k in changed}, {k: a.get(k) for k in changed}, names=("starting judge", "candidate")
    )
    return lines, diff


def _clarity_order(data: AlignedRatings, ids: Sequence[str], critiques: dict[str, list[str]]) -> list[str]:
    """``ids`` with the clearest disagreements first: unanimous annotators, then with critiques, then item order."""
    row = {i: n for n, i in enumerate(data.item_ids)}

    def key(i: str) -> tuple[int, int, int]:
        r = data.human_codes[row[i]]
        given = r[r >= 0]
        unanimous = int(given.size >= 2 and bool((given == given[0]).all()))
        return (-unanimous, -int(bool(critiques.get(i))), row[i])

    return sorted(ids, key=key)


def _critiques(labels: Sequence[HumanLabel], keep: set[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for lab in labels:
        if lab.item_id in keep and lab.critique and lab.critique.strip():
            out.setdefault(lab.item_id, []).append(lab.critique.strip())
    return out


def pick_disagreements(ctx: AlignContext, n: int, modes: Sequence[FailureMode] | None = None) -> list[str]:
    """Up to ``n`` fit-half disagreements, round-robin over the largest failure modes (clearest first), then any
    other disagreement: every kind of mistake is represented."""
    fit_set = set(ctx.fit_ids)
    critiques = _critiques(ctx.labels, fit_set)
    pools = [
        [i for i in _clarity_order(ctx.fit, m.item_ids, critiques) if i in fit_set]
        for m in (modes if modes is not None else ctx.explanation.largest)
    ]
    rest = [str(i) for i in np.asarray(ctx.fit.item_ids, dtype=object)[disagreement_mask(ctx.fit)]]
    pools.append(_clarity_order(ctx.fit, rest, critiques))
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n and any(pools):
        for pool in pools:
            while pool and pool[0] in seen:
                pool.pop(0)
            if pool and len(out) < n:
                seen.add(pool[0])
                out.append(pool.pop(0))
    return out


def _people(data: AlignedRatings, item_id: str) -> tuple[str, str]:
    i = data.item_ids.index(item_id)
    given = [v for v in data.human[i].tolist() if v is not None]
    ref = data.reference_labels[i]
    return str(ref), f"{ref} ({sum(1 for v in given if v == ref)} of {len(given)})"


def _new_rubric(ctx: AlignContext, base: Rubric, strat: str, changes: list[str], **fields: object) -> Rubric:
    body = base.model_dump(mode="json")
    body.update(fields)
    body["version"] = ctx.new_version()
    body["lineage"] = {
        "parent": base.version,
        "labels_from": base.labels_version,
        "strategy": strat,
        "targets": _targets(ctx),
        "changes": changes,
        "record": ctx.record_name,
    }
    return Rubric.model_validate(body, strict=False)


def _judged_plan(
    ctx: AlignContext,
    name: str,
    strat: str,
    config: JudgeConfig,
    rubric: Rubric | None,
    changes: list[str],
    diff: str,
    **kw: object,
) -> Plan:
    rec = CandidateRecord(
        name=name,
        strategy=strat,
        description=STRATEGY_TITLES.get(strat, strat),
        targets=_targets(ctx) if strat in ("rules", "fewshot") else None,
        parent=_parent(ctx),
        rubric=(rubric or ctx.rubric).key,
        changes=changes,
        diff=diff,
        config=config,
        run=ctx.run_name(name),
    )
    return Plan(rec, rubric=rubric, **kw)  # type: ignore[arg-type]


# -- build strategies -----------------------------------------------------------------------------------------------


@strategy("rules")
def _rules(ctx: AlignContext) -> list[Plan]:
    s = ctx.settings
    if not s.proposer:
        return [_skipped(ctx, "rules", "rules", "no proposer model: pass --model PROVIDER:MODEL")]
    ids = pick_disagreements(ctx, s.max_examples)
    if not ids:
        return [_skipped(ctx, "rules", "rules", "no disagreements on the fit half of dev: nothing to write rules for")]
    items = {it.id: it for it in ctx.project.items(ids)}
    from judgekit.agreement.data import verdict_rationales

    rationales = verdict_rationales(ctx.project, ctx.start, ids)
    critiques = _critiques(ctx.labels, set(ids))
    row = {i: n for n, i in enumerate(ctx.fit.item_ids)}
    shown = [
        Shown(
            item=items[i],
            people=_people(ctx.fit, i)[1],
            judge=ctx.fit.judge[row[i]] or "no verdict",
            rationale=rationales.get(i),
            critiques=tuple(critiques.get(i, [])[:3]),
        )
        for i in ids
    ]
    request = proposal_request(ctx.rubric, ctx.explanation, shown)
    price = ctx.prices.price(split_model_spec(s.proposer)[1])
    left = ctx.remaining()
    if left is not None:
        est = (
            None
            if price is None
            else price.cost(sum(len(m["content"]) for m in request.messages) // 4, request.max_tokens)
        )
        if est is None:
            return [_skipped(ctx, "rules", "rules", f"the proposer {s.proposer} has no price, and --max-cost is set")]
        if est > left:
            return [
                _skipped(
                    ctx, "rules", "rules", f"{BUDGET_SKIP} (${left:.4f}) does not cover the proposer (~${est:.4f})"
                )
            ]
    call = call_proposer(ctx.project, s.proposer, request, ctx.rubric, base_url=s.base_url, prices=ctx.prices)
    reply = call.reply
    proposal = Proposal(
        model=s.proposer,
        shown=ids,
        rationale=reply.rationale if reply else (call.problem or ""),
        level_definitions={d.value: d.definition for d in reply.level_definitions} if reply else {},
        decision_rules=list(reply.decision_rules) if reply else [],
        cost_usd=call.cost_usd,
        cache_hit=call.cache_hit,
    )
    if reply is None:
        plan = _skipped(ctx, "rules", "rules", call.problem or "unreadable reply", cost_usd=call.cost_usd)
        plan.proposal = proposal
        return [plan]
    defs = {d.value: " ".join(d.definition.split()) for d in reply.level_definitions}
    rules = [" ".join(r.split()) for r in reply.decision_rules if r.strip()]
    levels = [lv.model_dump(mode="json") for lv in ctx.rubric.scale.levels]
    changes: list[str] = []
    for lv in levels:
        new = defs.get(lv["value"])
        if new and new != lv["definition"]:
            changes.append(f"level {lv['value']}: {lv['definition']!r} -> {new!r}")
            lv["definition"] = new
    changes += [f"+ rule: {r}" for r in rules if r not in ctx.rubric.decision_rules]
    if not changes:
        plan = _skipped(
            ctx,
            "rules",
            "rules",
            "the proposer wrote no change: " + (reply.rationale or "no reason given"),
            cost_usd=call.cost_usd,
        )
        plan.proposal = proposal
        return [plan]
    scale = ctx.rubric.scale.model_dump(mode="json")
    scale["levels"] = levels
    new_rubric = _new_rubric(
        ctx,
        ctx.rubric,
        "rules",
        changes,
        scale=scale,
        decision_rules=[*ctx.rubric.decision_rules, *[r for r in rules if r not in ctx.rubric.decision_rules]],
    )
    config = ctx.base.model_copy(update={"rubric_version": new_rubric.version})
    plan = _judged_plan(ctx, "rules", "rules", config, new_rubric, changes, rubric_diff(ctx.rubric, new_rubric))
    plan.record = plan.record.model_copy(update={"cost_usd": call.cost_usd})
    plan.proposal = proposal
    return [plan]


@strategy("fewshot")
def _fewshot(ctx: AlignContext) -> list[Plan]:
    k = ctx.settings.k
    modes = [m for m in ctx.explanation.largest if m.facet == "label_pair"] or None
    ids = pick_disagreements(ctx, 4 * k, modes)
    items = {it.id: it for it in ctx.project.items(ids)} if ids else {}
    critiques = _critiques(ctx.labels, set(ids))
    chosen: list[Item] = [items[i] for i in ids if not items[i].is_conversation][:k]
    if not chosen:
        return [
            _skipped(ctx, "fewshot", "fewshot", "no disagreement on the fit half of dev can be shown as an example")
        ]
    examples = []
    for it in chosen:
        label, people = _people(ctx.fit, it.id)
        why = critiques.get(it.id, [])
        explanation = f"People chose {people}." + (f" {why[0]}" if why else "")
        examples.append(
            FewShotExample(
                input=it.input or "",
                output=it.output,
                output_a=it.output_a,
                output_b=it.output_b,
                label=label,
                explanation=" ".join(explanation.split())[:600],
            )
        )
    changes = [f"+ example from {it.id} (label {ex.label})" for it, ex in zip(chosen, examples, strict=True)]
    new_rubric = _new_rubric(
        ctx,
        ctx.rubric,
        "fewshot",
        changes,
        few_shot=[
            *[e.model_dump(mode="json") for e in ctx.rubric.few_shot],
            *[e.model_dump(mode="json") for e in examples],
        ],
    )
    config = ctx.base.model_copy(update={"rubric_version": new_rubric.version, "few_shot": "static"})
    return [_judged_plan(ctx, "fewshot", "fewshot", config, new_rubric, changes, rubric_diff(ctx.rubric, new_rubric))]


def _pool_exclusion(ctx: AlignContext) -> list[str]:
    """Every item but the fit half of dev: the dynamic pool holds fit items only."""
    fit = set(ctx.fit_ids)
    return [it.id for it in ctx.project.items() if it.id not in fit]


@strategy("dynamic")
def _dynamic(ctx: AlignContext) -> list[Plan]:
    k = ctx.settings.k
    if ctx.base.few_shot == "dynamic" and ctx.base.few_shot_k == k:
        return [_skipped(ctx, "dynamic", "dynamic", f"the starting judge already retrieves {k} examples")]
    config = ctx.base.model_copy(update={"few_shot": "dynamic", "few_shot_k": k})
    changes, diff = _config_changes(ctx.base, config)
    changes.append(f"pool: the {len(ctx.fit_ids)} labelled items of the fit half of dev (never select or test items)")
    return [_judged_plan(ctx, "dynamic", "dynamic", config, None, changes, diff, exclude_ids=_pool_exclusion(ctx))]


@strategy("no-fewshot")
def _no_fewshot(ctx: AlignContext) -> list[Plan]:
    shows = ctx.base.few_shot == "dynamic" or (ctx.base.few_shot == "static" and ctx.rubric.few_shot)
    if not shows:
        return [_skipped(ctx, "no-fewshot", "no-fewshot", "the starting judge shows no examples")]
    config = ctx.base.model_copy(update={"few_shot": "none", "few_shot_k": 0})
    changes, diff = _config_changes(ctx.base, config)
    return [_judged_plan(ctx, "no-fewshot", "no-fewshot", config, None, changes, diff)]


@strategy("model")
def _models(ctx: AlignContext) -> list[Plan]:
    plans = []
    start = ctx.start.config
    specs = list(ctx.settings.candidate_models)
    own = f"{ctx.base.provider}:{ctx.base.model}"
    if (start.provider, start.model, start.base_url) != (ctx.base.provider, ctx.base.model, ctx.base.base_url):
        specs.insert(0, own)  # the starting rubric with the candidates' model: the model's share of any gain
    for spec in dict.fromkeys(specs):
        provider, model = split_model_spec(spec)
        config = ctx.base.model_copy(update={"provider": provider, "model": model})
        changes, diff = _config_changes(start, config)
        plan = _judged_plan(ctx, f"model:{spec}", "model", config, None, changes, diff)
        if spec == own and spec not in ctx.settings.candidate_models:
            plan.record = plan.record.model_copy(
                update={"description": f"the starting rubric judged by {spec} (the model every other candidate uses)"}
            )
        plans.append(plan)
    if not plans:
        return [_skipped(ctx, "model", "model", "no other model given: pass --candidate-model PROVIDER:MODEL")]
    return plans


# -- derive strategies ----------------------------------------------------------------------------------------------


def _covers(project: Project, run: JudgeRun, ids: Sequence[str]) -> float:
    done = project.verdict_item_ids(run.id)
    return sum(1 for i in ids if i in done) / max(len(ids), 1)


@strategy("ensemble", phase="derive")
def _ensemble(ctx: AlignContext) -> list[Plan]:
    from judgekit.judging.ensemble import combine_runs

    wanted = [*ctx.dev_ids, *ctx.test_ids]
    others = []
    for r in ctx.project.runs():
        if r.name == ctx.start.name or r.meta.get("probe") or r.meta.get("align") or r.config.provider == "ensemble":
            continue
        rub = ctx.project.rubric(r.config.rubric_id, r.config.rubric_version)
        if (
            rub.labels_key == ctx.rubric.labels_key
            and rub.scale.same_answers(ctx.rubric.scale)
            and _covers(ctx.project, r, wanted) >= 0.95
        ):
            others.append(r)
    if len(others) < 2:
        found = ", ".join(r.name for r in others) or "none"
        return [
            _skipped(
                ctx,
                "ensemble",
                "ensemble",
                f"an ensemble needs at least two other runs of these labels covering dev and test (found: {found})",
            )
        ]
    members = [ctx.start.name, *(r.name for r in others[:4])]
    costs = [_cost_per_item(ctx.project, ctx.project.run(m)) for m in members]
    per_item = None if any(c is None for c in costs) else float(sum(c or 0.0 for c in costs))
    rec = CandidateRecord(
        name="ensemble",
        strategy="ensemble",
        description=f"majority of {', '.join(members)}; {ctx.start.name} breaks ties",
        parent=_parent(ctx),
        rubric=ctx.rubric.key,
        changes=[f"+ member: {m}" for m in members[1:]],
        run=ctx.run_name("ensemble"),
        cost_per_item=per_item,
    )

    def derive(name: str) -> JudgeRun:
        result = combine_runs(ctx.project, members, name=name, method="majority", tiebreak=ctx.start.name)
        return ctx.project.run(result.run)

    return [Plan(rec, derive=derive)]


def _cost_per_item(project: Project, run: JudgeRun) -> float | None:
    cost = run.meta.get("cost_usd")
    known = run.meta.get("cost_known", True)
    n = project.verdict_count(run.id)
    if not isinstance(cost, int | float) or known is False or not n:
        return None
    return float(cost) / n


@strategy("abstain", phase="derive")
def _abstain(ctx: AlignContext) -> list[Plan]:
    from judgekit.calibration import calibrate_threshold

    bases: list[tuple[JudgeRun, Rubric]] = [(ctx.start, ctx.rubric)]
    bases += [
        (run, ctx.project.rubric(rec.config.rubric_id, rec.config.rubric_version))
        for rec, run in ctx.judged
        if rec.config is not None and rec.strategy == "model" and rec.config.rubric_version == ctx.rubric.version
    ]
    for run, rubric in bases:
        data = load_aligned(ctx.project, run, rubric).subset(ctx.fit_ids)
        conf = np.where(data.ok, data.confidence, np.nan)[data.has_reference]
        if not np.isfinite(conf).any():
            continue
        t = calibrate_threshold(
            conf, data.correct[data.has_reference], target=ctx.settings.target, delta=ctx.settings.delta
        )
        if t.threshold is None:
            return [
                _skipped(
                    ctx,
                    "abstain",
                    "abstain",
                    f"no confidence threshold of {run.name} reaches agreement {t.target:g} on the fit half with "
                    f"probability {1 - t.delta:g} (Trust or Escalate)",
                )
            ]
        lam = float(t.threshold)
        rec = CandidateRecord(
            name="abstain",
            strategy="abstain",
            description=(
                f"{run.name} keeping the items with confidence >= {lam:.2f}, the rest to people (calibrated on the "
                f"fit half: agreement {t.agreement:.3f} on {t.n_selected} of {t.n_calibration} items, guaranteed >= "
                f"{t.target:g} with probability {1 - t.delta:g})"
            ),
            parent=f"run {run.name}, rubric {rubric.key}",
            rubric=rubric.key,
            changes=[f"+ abstain below confidence {lam:.2f}"],
            run=ctx.run_name("abstain"),
            ranked=False,
            cost_per_item=_cost_per_item(ctx.project, run),
        )

        def derive(name: str, run: JudgeRun = run, lam: float = lam) -> JudgeRun:
            keep = [
                v.model_copy(update={"judge_fingerprint": ""})
                for v in ctx.project.verdicts(run)
                if v.status == "ok" and v.confidence is not None and v.confidence >= lam
            ]
            cfg = run.config.model_copy(update={"prompt_variant": f"abstain>={lam:.2f}"})
            new = ctx.project.create_run(
                name, cfg, source="import", meta={"derived_from": run.name, "threshold": lam, "kept": len(keep)}
            )
            ctx.project.add_verdicts(new.id, [JudgeVerdict.model_validate(v.model_dump()) for v in keep])
            ctx.project.set_run_status(new.id, "complete")
            return ctx.project.run(name)

        return [Plan(rec, derive=derive)]
    return [
        _skipped(
            ctx,
            "abstain",
            "abstain",
            "no verdicts with a confidence to threshold (judge with --confidence verbalized|logprobs|sampling)",
        )
    ]
