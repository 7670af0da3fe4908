"""Turning replies into a confidence: token log-probabilities, the judge's own statement, or sample agreement.

* ``logprobs``: at the token where the label is written, the probability mass the model put on each level
  (from the top alternatives), normalised over the levels. Needs a provider with logprobs (OpenAI and most
  OpenAI-compatible servers); the label is placed first in the schema so it is not conditioned on a rationale.
* ``verbalized``: the ``confidence`` field of the structured reply (known to be overconfident; calibrate it).
* ``sampling``: ``n`` independent replies at temperature > 0; the verdict is the most frequent label and the
  confidence the share of valid samples agreeing with it.

A provider that cannot deliver the method is refused before any call (:func:`check_supported`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from judgekit.errors import ConfigError
from judgekit.judging.providers.base import ProviderReply, TokenLogprob
from judgekit.judging.providers.registry import Capabilities


def check_supported(method: str, provider: str, capabilities: Capabilities) -> None:
    """Raise :class:`ConfigError` when ``provider`` (with its declared ``capabilities``) cannot produce confidence
    by ``method``."""
    if method == "logprobs" and not capabilities.logprobs:
        raise ConfigError(
            f"provider {provider!r} returns no token log-probabilities, so --confidence logprobs is "
            "impossible; use verbalized or sampling"
        )


def _label_token_index(reply: ProviderReply, label: str) -> int | None:
    """Index of the token where the label value starts in the reply text, located through the JSON key."""
    text = "".join(t.token for t in reply.logprobs)
    for needle in ('"label":"', '"label": "'):
        pos = text.find(needle)
        if pos != -1:
            start = pos + len(needle)
            break
    else:
        return None
    offset = 0
    for i, tok in enumerate(reply.logprobs):
        nxt = offset + len(tok.token)
        if nxt > start:
            return i
        offset = nxt
    return None


def level_probabilities(token: TokenLogprob, levels: Sequence[str]) -> dict[str, float] | None:
    """Probability of each level from one position's alternatives, normalised over the levels.

    An alternative counts for a level when, stripped of quotes and spaces, it equals the level or is a prefix of
    exactly one level (multi-token labels). Returns ``None`` when no alternative matches any level.
    """
    alts = dict(token.top) if token.top else {}
    alts.setdefault(token.token, token.logprob)
    mass = dict.fromkeys(levels, 0.0)
    for tok, lp in alts.items():
        t = tok.strip().strip('"').strip()
        if not t:
            continue
        if t in mass:
            mass[t] += math.exp(lp)
            continue
        cands = [lv for lv in levels if lv.startswith(t)]
        if len(cands) == 1:
            mass[cands[0]] += math.exp(lp)
    total = sum(mass.values())
    if total <= 0:
        return None
    return {k: v / total for k, v in mass.items()}


def logprob_confidence(
    reply: ProviderReply, label: str, levels: Sequence[str]
) -> tuple[float | None, dict[str, float]]:
    """(confidence of ``label``, per-level probabilities) from a reply with logprobs; ``(None, {})`` if the label
    token cannot be located."""
    idx = _label_token_index(reply, label)
    if idx is None:
        return None, {}
    probs = level_probabilities(reply.logprobs[idx], levels)
    if probs is None:
        return None, {}
    return min(1.0, max(0.0, probs[label])), probs


def sampling_vote(labels: Sequence[str | None]) -> tuple[str | None, float | None, bool]:
    """(most frequent label, its share of the valid samples, whether the top count was tied).

    Failed samples (``None``) do not vote but are not hidden: the caller records them. A tie at the top is
    broken by the earliest sample (deterministic) and reported.
    """
    valid = [x for x in labels if x is not None]
    if not valid:
        return None, None, False
    counts = Counter(valid)
    top = max(counts.values())
    tied = [lab for lab in counts if counts[lab] == top]
    winner = next(x for x in valid if x in tied)
    return winner, top / len(valid), len(tied) > 1
