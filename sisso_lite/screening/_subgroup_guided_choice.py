"""One round of choices of the subgroup-guided campaign: propose rules, sample, pick.

The rules of a round are the top ``n_rules`` rules of this round's subgroup discovery that
still have unmeasured members (``source="proposed"``) plus every earlier rule whose tests
confirm it and that still has unmeasured members (``source="kept"``): a confirmed rule
stays in play until later tests take the confirmation back or its members are all measured,
whether or not it is still among the best descriptions of the data. (Keeping every tested,
not falsified rule instead spreads the picks over weak rules: it lowered the hit rate on the
planted-subgroup test pool from 0.48 to 0.42.)

:func:`choose_round` is the decision step of
:class:`~sisso_lite.screening.subgroup_guided.SubgroupGuidedCampaign` (steps 1-4 of its
module docstring). It reads the campaign's state and returns the batch with the rule every
pick followed and the rule table of the round; the only state it changes is the rule
registry (a rule proposed for the first time is entered with its round and the precision it
claimed on the data it was found on). Every random choice comes from
``camp._rng(round, purpose)``, so the same state gives the same batch.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

import numpy as np

from sisso_lite.screening._subgroup_guided_rules import Measured, rule_evidence, verdict
from sisso_lite.subgroups import Rule, SubgroupDiscovery

if TYPE_CHECKING:  # pragma: no cover
    from sisso_lite.screening.subgroup_guided import SubgroupGuidedCampaign

__all__ = ["choose_round"]

PURPOSE_INITIAL, PURPOSE_THOMPSON, PURPOSE_EXPLORE, PURPOSE_WITHIN = 0, 1, 2, 3
#: SubgroupDiscovery returns this many times ``n_rules`` rules, so that the top rules that
#: still have unmeasured members can be kept when the best ones are fully measured.
_RESERVE = 4


def _propose(camp: SubgroupGuidedCampaign, rnd: int, positions: np.ndarray,
             good: np.ndarray, available: np.ndarray) -> list[dict]:
    """This round's top rules with unmeasured members (pool rules), best first."""
    if good.all() or not good.any() or positions.size < 2 * camp.min_support:
        return []
    levels = camp._levels.levels.iloc[positions]
    if levels.nunique().max() < 2:
        return []
    sd = SubgroupDiscovery(quality="wracc", depth=camp.depth,
                           n_cutpoints=camp.n_cutpoints + 1, top_k=_RESERVE * camp.n_rules,
                           min_coverage=camp.min_support, max_overlap=camp.max_overlap,
                           a=camp.coverage_exponent, allow_constant=True)
    sd.fit(levels, good.astype(np.int64))
    rules = []
    for rule, quality in zip(sd.rules_, sd.subgroups_["quality"], strict=True):
        if not quality > 0:
            continue
        pool_rule = camp._levels.to_pool_rule(rule)
        inside = pool_rule.covers(camp.pool)
        if not (inside & available).any():
            continue  # fully measured: nothing left to test or to find there
        key = pool_rule.query()
        if key not in camp._registry:
            member = inside[positions]
            camp._registry[key] = {"rule": pool_rule.to_dict(), "text": str(pool_rule),
                                   "first_round": rnd,
                                   "claimed_precision": float(good[member].mean())}
        rules.append({"query": key, "rule": pool_rule, "quality": float(quality),
                      "inside": inside})
        if len(rules) == camp.n_rules:
            break
    return rules


def _rule_row(camp: SubgroupGuidedCampaign, rnd: int, rank: int, item: dict,
              measured: Measured, good: np.ndarray, available: np.ndarray,
              base_rate: float) -> dict:
    entry = camp._registry[item["query"]]
    inside = item["inside"]
    positions = measured.positions
    ev = rule_evidence(inside, measured, good, entry["first_round"], item["query"])
    alpha, beta = ev.posterior(camp.prior)
    verdict_, p_above, p_below = verdict(ev.n_tested, ev.n_confirmed, base_rate,
                                         entry["claimed_precision"], camp.confidence)
    return {"round": rnd, "rank": rank, "rule": str(item["rule"]), "query": item["query"],
            "quality": item["quality"], "first_round": entry["first_round"],
            "n_pool": int(inside.sum()), "coverage_pool": float(inside.mean()),
            "n_unmeasured": int((inside & available).sum()),
            "n_measured": ev.n_measured_inside,
            "coverage_measured": ev.n_measured_inside / positions.size,
            "precision_in_sample": ev.in_sample_precision,
            "claimed_precision": entry["claimed_precision"],
            "n_tested": ev.n_tested, "n_confirmed": ev.n_confirmed,
            "confirmed_precision": ev.confirmed_precision,
            "posterior_mean": alpha / (alpha + beta), "alpha": alpha, "beta": beta,
            "p_above_base": p_above, "p_below_claim": p_below, "verdict": verdict_,
            "source": "proposed", "n_picked": 0}


def _pick_inside(camp: SubgroupGuidedCampaign, members: np.ndarray,
                 good_members: np.ndarray, rng: np.random.Generator) -> int:
    """A pool position inside a rule: uniform, or nearest to a good measured member."""
    if camp.within_rule == "random" or good_members.size == 0:
        return int(rng.choice(members))
    diff = camp._Z[members][:, None, :] - camp._Z[good_members][None, :, :]
    dist = np.sqrt((diff**2).sum(axis=2)).min(axis=1)
    return int(members[np.argmin(dist)])


def choose_round(camp: SubgroupGuidedCampaign, rnd: int, k: int) -> dict:
    """The ``k`` picks of round ``rnd``, the rule each follows, and the round's rule table.

    Returns a JSON-safe dict (it is stored as the pending batch of the checkpoint):
    ``round, positions, rules, queries, theta, rule_rows, threshold, base_rate, fit_seconds``.
    """
    cand = camp._candidates()
    measured = camp._ok()
    positions = measured.positions
    if rnd == 0 or positions.size < 2:
        chosen = np.sort(camp._rng(rnd, PURPOSE_INITIAL).choice(cand, size=k, replace=False))
        label = "initial" if rnd == 0 else "explore"
        return {"round": rnd, "positions": [int(p) for p in chosen], "rules": [label] * k,
                "queries": [None] * k, "theta": [None] * k, "rule_rows": [], "threshold": None,
                "base_rate": None, "fit_seconds": 0.0}
    start = time.perf_counter()
    good, threshold, base_rate = camp._good(measured.values, measured.reference)
    available = np.zeros(len(camp.pool), dtype=bool)
    available[cand] = True
    proposed = _propose(camp, rnd, positions, good, available)
    rows = [_rule_row(camp, rnd, rank, item, measured, good, available, base_rate)
            for rank, item in enumerate(proposed)]
    # confirmed earlier rules stay in play until no longer confirmed or exhausted
    fresh = {item["query"] for item in proposed}
    for query, entry in camp._registry.items():
        if query in fresh:
            continue
        rule = Rule.from_dict(entry["rule"])
        item = {"query": query, "rule": rule, "quality": float("nan"),
                "inside": rule.covers(camp.pool)}
        if not (item["inside"] & available).any():
            continue
        row = _rule_row(camp, rnd, len(rows), item, measured, good, available, base_rate)
        if row["verdict"] == "confirmed":
            row["source"] = "kept"
            rows.append(row)
            proposed.append(item)
    members = [item["inside"] for item in proposed]

    frac = camp.exploration * k
    rng_explore = camp._rng(rnd, PURPOSE_EXPLORE)
    n_explore = int(math.floor(frac)) + int(rng_explore.random() < frac - math.floor(frac))
    rng_ts, rng_in = camp._rng(rnd, PURPOSE_THOMPSON), camp._rng(rnd, PURPOSE_WITHIN)
    good_pos = positions[good]
    chosen, labels, queries, thetas = [], [], [], []
    for _ in range(k - n_explore):
        open_rules = [j for j, m in enumerate(members) if (m & available).any()]
        if not open_rules:
            break
        draws = np.array([rng_ts.beta(rows[j]["alpha"], rows[j]["beta"])
                          for j in open_rules])
        j = open_rules[int(np.argmax(draws))]
        pos = _pick_inside(camp, np.flatnonzero(members[j] & available),
                           good_pos[members[j][good_pos]], rng_in)
        available[pos] = False
        rows[j]["n_picked"] += 1
        chosen.append(pos)
        labels.append(rows[j]["rule"])
        queries.append(rows[j]["query"])
        thetas.append(float(draws.max()))
    rest = np.flatnonzero(available)
    n_rand = min(k - len(chosen), rest.size)
    for pos in np.sort(rng_explore.choice(rest, size=n_rand, replace=False)):
        chosen.append(int(pos))
        labels.append("explore")
        queries.append(None)
        thetas.append(None)
    return {"round": rnd, "positions": [int(p) for p in chosen], "rules": labels,
            "queries": queries, "theta": thetas, "rule_rows": rows, "threshold": threshold,
            "base_rate": base_rate, "fit_seconds": time.perf_counter() - start}
