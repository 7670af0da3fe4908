"""``judgekit align``: from a judge people do not trust to a better one, chosen on dev and confirmed once on test.

The steps, each saved in the alignment record before the next starts (so an interrupted ``align`` resumes where it
stopped, paying for nothing twice: finished steps are not redone, judge runs resume, replies come from the cache):

1. **Split dev again.** The dev part of the locked split is divided (stratified by reference label and segment)
   into a *fit* half, from which candidates are built, and a *select* half, on which the selection rule compares
   them: a candidate is never chosen on the items it was fitted to. The test part is not read.
2. **Explain** the starting judge's disagreements on the fit half (:mod:`judgekit.align.explain`).
3. **Propose candidates** (:mod:`judgekit.align.strategies`): new rubric versions with their lineage (rules by a
   proposer model, few-shot examples), other judge configurations (dynamic few-shot, no examples, other models),
   then derived judges (an ensemble of existing runs, a confidence threshold).
4. **Evaluate on dev only.** Every judged candidate is an ordinary judge run over the dev items (cached,
   resumable, with progress, inside the one budget); its kappa gain over the starting judge gets a paired
   bootstrap interval on the select half (and, for comparison, the fit half), at the Bonferroni level
   ``1 - alpha / m`` for ``m`` ranked candidates.
5. **Choose** by the rule stated before anything is judged (:data:`SELECTION_RULE`).
6. **Look at test once**, for the chosen candidate only: its run is extended to the test items, the trust verdict
   before and after and the paired comparison are computed, and the look is recorded (``split_looks``). A candidate
   whose dev gain does not hold on test is reported as a dev-only winner, and no rubric file is written.
7. **Write** the new rubric version (``rubrics/ID.yaml``) when the chosen candidate changed the rubric and the gain
   held on test.

``--max-cost`` is one budget for the proposer, the candidates and the test look: each judge run gets what is left,
less a reserve for the test look (estimated from the candidates' prompts and prices before any of them runs).
"""

from __future__ import annotations

import asyncio
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal, TextIO

import numpy as np

from judgekit.agreement import TrustCriteria, assess, load_aligned, load_human_ratings
from judgekit.agreement.judge_judge import compare_pair
from judgekit.align import store
from judgekit.align.explain import explain
from judgekit.align.record import (
    AlignmentRecord,
    AlignSettings,
    CandidateRecord,
    CostAccount,
    DevFigures,
    TestLook,
)
from judgekit.align.rubric_files import check_target, default_rubric_path, write_rubric
from judgekit.align.strategies import BUDGET_SKIP, STRATEGIES, AlignContext, Plan
from judgekit.calibration import compare_aligned, get_split, look_summary, record_look, split_item_ids
from judgekit.calibration.splits import stratified_test_mask
from judgekit.errors import ConfigError, UserError
from judgekit.judging import PriceTable, arun_judge, build_config, split_model_spec
from judgekit.judging.prompts import MessageBuilder
from judgekit.judging.run import _blocking
from judgekit.models import JudgeConfig, JudgeRun
from judgekit.storage import Project

__all__ = ["SELECTION_RULE", "aalign", "align", "selection_rule"]

SELECTION_RULE = (
    "On the select half of dev ({n_select} items, never used to build a candidate), each ranked candidate's kappa "
    "gain over the starting judge (failures counted as wrong) gets a paired bootstrap interval at {level:.2%} "
    "(Bonferroni over {m} candidates, family-wise alpha {alpha:g}). A candidate qualifies when the lower bound is "
    "above 0; the winner has the largest lower bound; lower bounds within {tie:g} of each other are a tie, won by "
    "the cheaper judge (cost per item), then by the smaller change. Selective judges (abstention) are reported, not "
    "ranked: abstaining is not judging. The winner alone is evaluated on the test split, once."
)


def selection_rule(settings: AlignSettings, n_select: int, m: int) -> str:
    """The selection rule in words, with its numbers."""
    m = max(m, 1)
    return SELECTION_RULE.format(
        n_select=n_select, level=1 - settings.alpha / m, m=m, alpha=settings.alpha, tie=settings.tie_tolerance
    )


Echo = Callable[[str], None]


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class _Aligner:
    """One alignment in progress (see the module docstring); the record is the state."""

    def __init__(
        self,
        project: Project,
        settings: AlignSettings,
        *,
        criteria: TrustCriteria | None,
        prices: PriceTable | None,
        echo: Echo,
        progress: bool,
        stream: TextIO | None,
    ) -> None:
        self.project = project
        self.settings = settings
        self.criteria = criteria or TrustCriteria()
        self.prices = prices or PriceTable.load()
        self.echo = echo
        self.progress = progress
        self.stream = stream
        self.start = project.run(settings.run)
        self.rubric = project.rubric(self.start.config.rubric_id, self.start.config.rubric_version)
        self.split = get_split(project, settings.split)
        if self.split.rubric_key != self.rubric.labels_key:
            raise UserError(
                f"split {self.split.key} was made for the labels of {self.split.rubric_key}, but run "
                f"{self.start.name!r} is measured against {self.rubric.labels_key}"
            )
        self.humans = load_human_ratings(project, self.rubric)
        self.start_data = load_aligned(
            project, self.start, self.rubric, reference=self.criteria.reference, humans=self.humans
        )
        labelled = set(self.start_data.item_ids)
        self.dev_ids = [i for i in split_item_ids(project, self.split, "dev") if i in labelled]
        self.test_ids = [i for i in split_item_ids(project, self.split, "test") if i in labelled]
        self.base = self._base_config()
        self.record: AlignmentRecord | None = None

    # -- set-up -------------------------------------------------------------------------------------------------
    def _base_config(self) -> JudgeConfig:
        s, start = self.settings, self.start.config
        if s.judge_model is None:
            if self.start.source != "engine":
                raise UserError(
                    f"run {self.start.name!r} was imported, so its judge cannot be run again: pass --judge-model "
                    "PROVIDER:MODEL for the candidates (the starting rubric judged by that model is a candidate too, "
                    "so the model's share of a gain is shown apart)"
                )
            return start if s.base_url is None else start.model_copy(update={"base_url": s.base_url})
        provider, model = split_model_spec(s.judge_model)
        if self.start.source == "engine":
            return start.model_copy(
                update={"provider": provider, "model": model, "base_url": s.base_url or start.base_url}
            )
        return build_config(provider, model, self.rubric, base_url=s.base_url)

    def save(self, **changes: Any) -> AlignmentRecord:
        assert self.record is not None
        self.record = store.save(self.project, self.record.model_copy(update=changes))
        return self.record

    def _spent(self) -> float:
        assert self.record is not None
        return self.record.cost.total

    def remaining(self) -> float | None:
        budget = self.settings.max_cost
        return None if budget is None else budget - self._spent()

    def _new_version(self) -> int:
        versions = [r.version for r in self.project.rubrics() if r.id == self.rubric.id]
        return max(versions, default=self.rubric.version) + 1

    def _inner_split(self) -> tuple[list[str], list[str]]:
        """Fit and select halves of dev: stratified by reference label and segment (systematic sampling)."""
        import pandas as pd

        data = self.start_data.subset(self.dev_ids)
        frame = pd.DataFrame({"reference": data.reference_labels, "segment": data.segment}, dtype=object)
        rng = np.random.default_rng(self.settings.seed)
        select = stratified_test_mask(frame, self.settings.select_fraction, rng)
        ids = np.asarray(data.item_ids, dtype=object)
        return [str(i) for i in ids[~select]], [str(i) for i in ids[select]]

    def begin(self, *, new: bool) -> AlignmentRecord:
        s = self.settings
        found = None if new else store.find_open(self.project, s.run, s.split, s.identity())
        if found is not None:
            budget = s.max_cost
            self.record = found.model_copy(
                update={"settings": s, "cost": found.cost.model_copy(update={"budget": budget})}
            )
            if found.status != "complete":
                self.echo(f"resuming {found.name} ({found.status}): finished steps are kept, nothing is paid twice")
                self.record = self.save(status="running", stop_reason=None)
            return self.record
        if len(self.dev_ids) < 20:
            raise UserError(
                f"the dev part of split {self.split.key} has {len(self.dev_ids)} labelled items; align needs at "
                "least 20 (10 to build candidates from, 10 to choose among them)"
            )
        missing_test = len(self.test_ids) - len(self.project.verdict_item_ids(self.start.id) & set(self.test_ids))
        if missing_test:
            self.echo(
                f"note: run {self.start.name!r} has no verdict on {missing_test} of the {len(self.test_ids)} test "
                "items; they count as failures of the starting judge in the test look"
            )
        fit, select = self._inner_split()
        record = AlignmentRecord(
            settings=s,
            rubric=self.rubric.key,
            start_fingerprint=self.start.fingerprint,
            n_dev=len(self.dev_ids),
            n_test=len(self.test_ids),
            fit_ids=fit,
            select_ids=select,
            selection_rule="",
            cost=CostAccount(budget=s.max_cost),
        )
        self.record = store.save(self.project, record)
        return self.record

    # -- the steps ----------------------------------------------------------------------------------------------
    def context(self) -> AlignContext:
        rec = self.record
        assert rec is not None and rec.explanation is not None
        return AlignContext(
            project=self.project,
            settings=self.settings,
            record_name=rec.name,
            start=self.start,
            rubric=self.rubric,
            base=self.base,
            fit=self.start_data.subset(rec.fit_ids),
            explanation=rec.explanation,
            fit_ids=rec.fit_ids,
            select_ids=rec.select_ids,
            dev_ids=self.dev_ids,
            test_ids=self.test_ids,
            prices=self.prices,
            remaining=self.remaining,
            labels=self.project.labels(self.rubric.id, self.rubric.labels_version, provenance="blind"),
            new_version=self._new_version,
        )

    def explain_fit(self) -> None:
        rec = self.record
        assert rec is not None
        if rec.explanation is not None:
            return
        from judgekit.agreement.data import verdict_rationales

        labels = self.project.labels(self.rubric.id, self.rubric.labels_version, provenance="blind")
        fit = self.start_data.subset(rec.fit_ids)
        report = explain(
            fit, run=self.start, criteria=self.criteria, where=f"the fit half of dev ({self.split.key})", labels=labels
        )
        shown = sorted({e.item_id for m in report.largest for e in m.examples})
        if shown:
            items = {it.id: it for it in self.project.items(shown)}
            report = explain(
                fit,
                run=self.start,
                criteria=self.criteria,
                where=report.where,
                items=items,
                labels=labels,
                rationales=verdict_rationales(self.project, self.start, shown),
            )
        self.save(explanation=report)

    def plan(self, phase: str, plans_out: dict[str, Plan], *, only: str | None = None) -> None:
        """Make the candidates of every strategy of ``phase`` not yet in the record (or re-make candidate ``only``,
        whose plan was lost with an interrupted process), saving the record after each."""
        rec = self.record
        assert rec is not None
        for name in self.settings.strategies:
            strat = STRATEGIES.get(name)
            if strat is None or strat.phase != phase:
                continue
            if only is None and any(c.strategy == name and not _budget_skipped(c) for c in rec.candidates):
                continue
            if only is not None and not any(c.strategy == name and c.name == only for c in rec.candidates):
                continue
            ctx = self.context()
            if phase == "derive":
                ctx.judged = [
                    (c, self.project.run(c.run))
                    for c in rec.candidates
                    if c.status in ("judged", "evaluated") and c.config is not None and c.run
                ]
            self.echo(f"[{rec.name}] proposing: {strat.title}")
            for plan in strat.make(ctx):
                if only is not None and plan.record.name != only:
                    continue
                if plan.rubric is not None:
                    self.project.save_rubric(plan.rubric)
                cur = self.record
                assert cur is not None
                others = [c for c in cur.candidates if c.name != plan.record.name]
                updates: dict[str, Any] = {"candidates": [*others, plan.record]}
                if plan.proposal is not None:
                    updates["proposals"] = [*cur.proposals, plan.proposal]
                    updates["cost"] = cur.cost.model_copy(
                        update={"proposer": cur.cost.proposer + plan.proposal.cost_usd}
                    )
                self.save(**updates)
                plans_out[plan.record.name] = plan
                what = plan.record.reason if plan.record.status == "skipped" else plan.record.description
                self.echo(f"  {plan.record.name}: {what}")
            rec = self.record
            assert rec is not None

    def _exclusion(self, cand: CandidateRecord, plans: dict[str, Plan]) -> list[str]:
        rec = self.record
        assert rec is not None
        plan = plans.get(cand.name)
        if plan is not None and plan.exclude_ids:
            return plan.exclude_ids
        if cand.config is not None and cand.config.few_shot == "dynamic":
            fit = set(rec.fit_ids)
            return [it.id for it in self.project.items() if it.id not in fit]
        return [*rec.select_ids, *self.test_ids]

    def estimate_per_item(self, config: JudgeConfig) -> float | None:
        """USD per item of ``config``'s prompts on a sample of dev items (4 characters per token, 80 reply tokens)."""
        price = self.prices.price(config.model)
        if price is None:
            return None
        rubric = self.project.rubric(config.rubric_id, config.rubric_version)
        sample = self.project.items(self.dev_ids[:20])
        builder = MessageBuilder(
            rubric,
            verbalized=config.confidence == "verbalized",
            static_examples=rubric.few_shot if config.few_shot == "static" else [],
        )
        chars = [sum(len(m["content"]) for m in builder.build(it)) for it in sample]
        per_prompt = (float(np.mean(chars)) if chars else 2000.0) / 4.0
        if config.few_shot == "dynamic":
            per_prompt *= 1 + config.few_shot_k
        return price.cost(int(per_prompt * config.samples), 80 * config.samples)

    async def judge(
        self, cand: CandidateRecord, items: Sequence[str], plans: dict[str, Plan], *, reserve: float
    ) -> JudgeRun | None:
        """Judge ``items`` with a candidate's configuration in its run (created or resumed), within the budget."""
        rec = self.record
        assert rec is not None and cand.config is not None and cand.run is not None
        existing = self.project.find_run(cand.run)
        spent_run = _run_cost(existing) if existing is not None else 0.0
        left = self.remaining()
        max_cost = None
        if left is not None:
            allowed = left - reserve
            if allowed <= 0:
                return None
            max_cost = spent_run + allowed
        rubric = self.project.rubric(cand.config.rubric_id, cand.config.rubric_version)
        wanted = self.project.items(list(items))
        meta = {"align": {"record": rec.name, "candidate": cand.name, "scope": "dev"}, "split": self.split.key}
        summary = await arun_judge(
            self.project,
            None if existing is not None else cand.config,
            rubric=rubric,
            items=wanted,
            run_name=cand.run,
            resume=cand.run if existing is not None else None,
            max_cost=max_cost,
            concurrency=self.settings.concurrency,
            prices=self.prices,
            exclude_ids=self._exclusion(cand, plans),
            progress=self.progress,
            stream=self.stream,
            run_meta=meta,
        )
        return summary.run

    def _cost_of(self, run: JudgeRun) -> float:
        return _run_cost(self.project.run(run.name))

    def _update(self, cand: CandidateRecord, **changes: Any) -> CandidateRecord:
        assert self.record is not None
        new = cand.model_copy(update=changes)
        self.save(candidates=[new if c.name == new.name else c for c in self.record.candidates])
        return new

    async def evaluate_judged(self, plans: dict[str, Plan]) -> None:
        rec = self.record
        assert rec is not None
        todo = [c for c in rec.candidates if c.config is not None and c.status in ("planned", "incomplete")]
        estimates = {c.name: self.estimate_per_item(c.config) for c in todo if c.config is not None}
        if self.settings.max_cost is not None:
            unpriced = [n for n, e in estimates.items() if e is None]
            if unpriced:
                raise ConfigError(
                    f"--max-cost needs the price of every candidate's model; no price for {', '.join(unpriced)} "
                    "(add it with --prices FILE)"
                )
        per_item = [e for e in estimates.values() if e is not None]
        reserve = (max(per_item) * len(self.test_ids) * 1.2) if per_item and self.settings.max_cost is not None else 0.0
        for cand in todo:
            proposer_share = cand.cost_usd if cand.strategy == "rules" else 0.0
            self.echo(f"[{rec.name}] judging {len(self.dev_ids)} dev items with candidate {cand.name}")
            run = await self.judge(cand, self.dev_ids, plans, reserve=reserve)
            if run is None:
                self._update(
                    cand, status="incomplete", reason="the budget left would not leave enough for the test look"
                )
                self.save(status="stopped_budget", stop_reason="max_cost")
                continue
            run_cost = self._cost_of(run)
            done = self.project.verdict_item_ids(run.id)
            complete = all(i in done for i in self.dev_ids)
            per = run_cost / max(len(done), 1)
            cand = self._update(
                cand,
                status="judged" if complete else "incomplete",
                reason=None if complete else "stopped by the budget before every dev item was judged",
                cost_usd=proposer_share + run_cost,
                cost_per_item=per if self.prices.price(cand.config.model if cand.config else "") is not None else None,
            )
            self._recount()
            if not complete:
                self.save(status="stopped_budget", stop_reason="max_cost")

    def _recount(self) -> None:
        rec = self.record
        assert rec is not None
        judged = 0.0
        for c in rec.candidates:
            if c.run and c.config is not None:
                r = self.project.find_run(c.run)
                if r is not None:
                    judged += _run_cost(r)
        test = rec.cost.test_look
        self.save(cost=rec.cost.model_copy(update={"candidates": judged - test}))

    def derive(self, plans: dict[str, Plan]) -> None:
        rec = self.record
        assert rec is not None
        for cand in [c for c in rec.candidates if c.config is None and c.status == "planned" and c.run]:
            if self.project.find_run(cand.run or "") is None:
                if cand.name not in plans:  # interrupted before its run was made: plan it again (nothing was paid)
                    self.plan("derive", plans, only=cand.name)
                plan = plans.get(cand.name)
                if plan is None or plan.derive is None:
                    self._update(cand, status="skipped", reason="could not be derived again after an interruption")
                    continue
                cand = next(c for c in (self.record.candidates if self.record else []) if c.name == cand.name)
                run = plan.derive(cand.run or "")
                meta = {"align": {"record": rec.name, "candidate": cand.name, "scope": "all"}}
                self.project.set_run_status(run.id, "complete", meta=meta)
            self._update(cand, status="judged")

    def figures(
        self, cand: CandidateRecord, ids: list[str], part: Literal["fit", "select"], level: float
    ) -> DevFigures:
        run = self.project.run(cand.run or "")
        rubric = self.project.rubric(run.config.rubric_id, run.config.rubric_version)
        data = load_aligned(self.project, run, rubric, reference=self.criteria.reference, humans=self.humans).subset(
            ids
        )
        start = self.start_data.subset(ids)
        pair = compare_pair(data, start, self.criteria, level=level)
        coverage = kept = None
        if not cand.ranked:
            keep = data.has_reference & data.ok
            n_ref = int(data.has_reference.sum())
            coverage = int(keep.sum()) / n_ref if n_ref else float("nan")
            kept = float(data.correct[keep].mean()) if keep.any() else float("nan")
        return DevFigures(
            part=part,
            n_items=pair.n_items,
            kappa=pair.kappa_a.failures_as_wrong,
            kappa_start=pair.kappa_b.failures_as_wrong,
            kappa_gain=pair.kappa_difference.failures_as_wrong,
            accuracy_gain=pair.accuracy_difference.failures_as_wrong,
            mcnemar_p=pair.mcnemar.p_value.value,
            coverage=coverage,
            kept_agreement=kept,
        )

    def choose(self) -> None:
        rec = self.record
        assert rec is not None
        ready = [c for c in rec.candidates if c.status in ("judged", "evaluated") and c.run]
        m = max(rec.compared, 1)
        level = 1 - self.settings.alpha / m
        out: list[CandidateRecord] = []
        for c in rec.candidates:
            if c not in ready:
                out.append(c)
                continue
            sel = self.figures(c, rec.select_ids, "select", level)
            fit = self.figures(c, rec.fit_ids, "fit", level)
            low = sel.kappa_gain.low
            qualifies = bool(c.ranked and low is not None and math.isfinite(low) and low > 0)
            if not c.ranked:
                verdict = (
                    f"selective: keeps {sel.coverage:.0%} of the select half with agreement {sel.kept_agreement:.3f} "
                    "(reported, not ranked)"
                )
            elif qualifies:
                verdict = f"qualifies: kappa gain {_signed(sel.kappa_gain)} on the select half"
            elif fit.kappa_gain.low is not None and fit.kappa_gain.low > 0 and c.strategy in ("rules", "fewshot"):
                verdict = (
                    f"fitted to dev: gain {_signed(fit.kappa_gain)} on the fit half it was built from, "
                    f"{_signed(sel.kappa_gain)} on the select half: it does not carry over"
                )
            else:
                verdict = f"no gain beyond noise: {_signed(sel.kappa_gain)} on the select half"
            out.append(
                c.model_copy(
                    update={
                        "fit": fit,
                        "select": sel,
                        "qualifies": qualifies,
                        "status": "evaluated",
                        "verdict": verdict,
                    }
                )
            )
        rec = self.save(candidates=out)
        winners = [c for c in rec.candidates if c.qualifies and c.select is not None]
        if not winners:
            self.save(
                chosen=None, choice="no candidate's kappa gain on the select half is above 0 with the stated confidence"
            )
            return
        best = max((c.select.kappa_gain.low or 0.0) for c in winners if c.select is not None)
        tied = [
            c
            for c in winners
            if c.select is not None and (c.select.kappa_gain.low or 0.0) >= best - self.settings.tie_tolerance
        ]
        tied.sort(key=lambda c: (c.cost_per_item if c.cost_per_item is not None else math.inf, len(c.changes), c.name))
        win = tied[0]
        gain = _signed(win.select.kappa_gain) if win.select else ""
        why = f"{win.name}: the largest lower bound of the kappa gain on the select half ({gain})"
        if len(tied) > 1:
            why += f"; tied with {', '.join(c.name for c in tied[1:])}, cheaper per item"
        self.save(chosen=win.name, choice=why)

    async def test_look(self) -> None:
        rec = self.record
        assert rec is not None
        if rec.chosen is None or rec.test is not None:
            return
        cand = rec.candidate(rec.chosen)
        before = self._cost_of(self.project.run(cand.run or ""))
        if cand.config is not None:
            done = self.project.verdict_item_ids(self.project.run(cand.run or "").id)
            if not all(i in done for i in self.test_ids):
                self.echo(
                    f"[{rec.name}] the one look at test: judging {len(self.test_ids)} test items with {cand.name}"
                )
                run = await self.judge(cand, [*self.dev_ids, *self.test_ids], {}, reserve=0.0)
                if run is None or not all(i in self.project.verdict_item_ids(run.id) for i in self.test_ids):
                    self.save(status="stopped_budget", stop_reason="max_cost")
                    return
        run = self.project.run(cand.run or "")
        spent = self._cost_of(run) - before
        rubric = self.project.rubric(run.config.rubric_id, run.config.rubric_version)
        data = load_aligned(self.project, run, rubric, reference=self.criteria.reference, humans=self.humans).subset(
            self.test_ids
        )
        start = self.start_data.subset(self.test_ids)
        after_a, before_a = assess(data, run, self.criteria), assess(start, self.start, self.criteria)
        pairs, _, _, _ = compare_aligned({run.name: data, self.start.name: start}, self.criteria, pairs="first")
        pair = pairs[0]
        for r, d in ((self.start, start), (run, data)):
            record_look(self.project, self.split, "test", r, purpose="align", n_items=d.n_items)
        gain = pair.kappa_difference.failures_as_wrong
        carried = gain.low is not None and math.isfinite(gain.low) and gain.low > 0
        words = {
            "a_better": "REAL DIFFERENCE",
            "b_better": "REAL DIFFERENCE (worse)",
            "within_noise": "WITHIN NOISE",
            "inconclusive": "INCONCLUSIVE",
        }[pair.conclusion]
        dev_gain = cand.select.kappa_gain if cand.select else None
        if carried:
            message = (
                f"CONFIRMED ON TEST: {cand.name} gains {_signed(gain)} kappa over {self.start.name} on the "
                f"{pair.n_items} test items (dev: {_signed(dev_gain)}); verdict {before_a.verdict} -> {after_a.verdict}"
            )
        else:
            message = (
                f"DID NOT CARRY OVER: {cand.name} won on dev ({_signed(dev_gain)}) but on the {pair.n_items} test "
                f"items its kappa gain is {_signed(gain)}: a dev-only winner, not an improvement (the rubric file "
                "is not written)"
            )
        look = TestLook(
            candidate=cand.name,
            run=run.name,
            start_run=self.start.name,
            n_items=pair.n_items,
            verdict_before=before_a.verdict,
            verdict_after=after_a.verdict,
            reasons_after=list(after_a.reasons),
            kappa_before=pair.kappa_b.failures_as_wrong,
            kappa_after=pair.kappa_a.failures_as_wrong,
            kappa_gain=gain,
            accuracy_gain=pair.accuracy_difference.failures_as_wrong,
            mcnemar_p=pair.mcnemar.p_value.value,
            conclusion=words,
            carried_over=carried,
            message=message,
            looks=look_summary(self.project, self.split),
        )
        cost = rec.cost
        self.save(test=look, cost=cost.model_copy(update={"test_look": cost.test_look + spent}))
        self._recount()

    def write(self) -> None:
        rec = self.record
        assert rec is not None
        if rec.test is None or not rec.test.carried_over or rec.chosen is None or rec.rubric_file:
            return
        cand = rec.candidate(rec.chosen)
        if cand.rubric == self.rubric.key:
            return
        rid, _, ver = cand.rubric.rpartition("@")
        new = self.project.rubric(rid, int(ver))
        path = Path(self.settings.out) if self.settings.out else default_rubric_path(new)
        header = (
            f"{new.key}, written by judgekit align ({rec.name}) from {self.rubric.key}: {cand.description}.\n"
            f"Confirmed once on the test split {self.split.key}: {_signed(rec.test.kappa_gain)} kappa over "
            f"{self.start.name}."
        )
        write_rubric(path, new, header=header)
        self.save(rubric_file=str(path))

    def finish(self) -> AlignmentRecord:
        rec = self.record
        assert rec is not None
        if rec.status == "stopped_budget":
            outcome = (
                f"stopped by --max-cost ${self.settings.max_cost:g}: ${rec.cost.total:.4f} spent, too little left "
                "for the next step and the test look's reserve; run the same command with a larger --max-cost to "
                "continue (nothing is paid twice)"
            )
            return self.save(outcome=outcome)
        if rec.chosen is None:
            outcome = (
                f"no candidate beat {self.start.name} on the select half of dev: the test split was not looked at "
                "(it stays an unbiased holdout)"
            )
        elif rec.test is not None:
            outcome = rec.test.message + (f"; wrote {rec.rubric_file}" if rec.rubric_file else "")
        else:
            outcome = "chosen, not yet evaluated on test"
        return self.save(status="complete", outcome=outcome)


def _budget_skipped(cand: CandidateRecord) -> bool:
    """A candidate not made because the budget ran out: made again when the alignment resumes."""
    return cand.status == "skipped" and (cand.reason or "").startswith(BUDGET_SKIP)


def _run_cost(run: JudgeRun) -> float:
    """What the engine recorded a run's calls cost (USD; 0 when it recorded nothing)."""
    cost = run.meta.get("cost_usd")
    return float(cost) if isinstance(cost, int | float) and not isinstance(cost, bool) else 0.0


def _signed(fig: Any) -> str:
    from judgekit.align.render import signed

    return signed(fig)


async def aalign(
    project: Project,
    settings: AlignSettings,
    *,
    criteria: TrustCriteria | None = None,
    prices: PriceTable | None = None,
    echo: Echo = _stderr,
    progress: bool = True,
    stream: TextIO | None = None,
    new: bool = False,
) -> AlignmentRecord:
    """Run (or resume) one alignment; see the module docstring. Returns the saved record."""
    unknown = [s for s in settings.strategies if s not in STRATEGIES]
    if unknown:
        raise UserError(f"unknown strategies {', '.join(unknown)}; known: {', '.join(STRATEGIES)}")
    a = _Aligner(project, settings, criteria=criteria, prices=prices, echo=echo, progress=progress, stream=stream)
    if settings.out is not None:
        check_target(Path(settings.out), a.rubric)
    proposing = settings.proposer is not None and settings.max_cost is not None and "rules" in settings.strategies
    if proposing and a.prices.price(split_model_spec(settings.proposer or "")[1]) is None:
        raise ConfigError(
            f"--max-cost needs the proposer's price; {settings.proposer} has none (add it with --prices FILE)"
        )
    rec = a.begin(new=new)
    if rec.status == "complete":
        echo(f"{rec.name} is complete (run with --new to start another alignment)")
        return rec
    echo(
        f"[{rec.name}] dev: {len(rec.fit_ids)} items to build candidates from, {len(rec.select_ids)} to choose on; "
        f"test: {rec.n_test} items, not read until the one look"
    )
    plans: dict[str, Plan] = {}
    try:
        a.explain_fit()
        a.plan("build", plans)
        if a.record is not None and any(_budget_skipped(c) for c in a.record.candidates):
            a.save(status="stopped_budget", stop_reason="max_cost")
            return a.finish()
        if not (a.record and a.record.selection_rule):
            cur = a.record
            assert cur is not None
            built = sum(1 for c in cur.candidates if c.status != "skipped" and c.ranked)
            derived = sum(
                1 for n in settings.strategies if n in STRATEGIES and STRATEGIES[n].phase == "derive" and n != "abstain"
            )
            m = max(built + derived, 1)
            a.save(selection_rule=selection_rule(settings, len(cur.select_ids), m), compared=m)
        assert a.record is not None
        echo(f"[{a.record.name}] selection rule, fixed before any candidate is judged: {a.record.selection_rule}")
        await a.evaluate_judged(plans)
        if a.record is not None and a.record.status == "stopped_budget":
            return a.finish()
        a.plan("derive", plans)
        a.derive(plans)
        a.choose()
        await a.test_look()
        a.write()
    except (KeyboardInterrupt, asyncio.CancelledError):
        a.save(status="interrupted", stop_reason="interrupted")
        raise
    return a.finish()


align = _blocking(aalign)
align.__name__ = align.__qualname__ = "align"
align.__doc__ = """:func:`aalign` run to completion in its own event loop: the call for scripts and the CLI."""
