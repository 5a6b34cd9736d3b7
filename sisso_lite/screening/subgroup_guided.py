"""Subgroup-guided discovery: propose a rule for "exceptionally good", test it, repeat.

Every round, :class:`SubgroupGuidedCampaign`

1. labels the measured values: *good* = at least as good as the best ``good_fraction``
   of the random measurements (initial design and exploration picks, an unbiased sample
   of the pool), or as a fixed ``threshold``;
2. fits :class:`~sisso_lite.subgroups.SubgroupDiscovery` (binary WRAcc-type quality
   ``cov^a (p_S - p_P)``, Boley et al. 2017) on the measured rows for that label and keeps
   the top ``n_rules`` rules that still have unmeasured members (cut points fixed on the
   pool, so a region keeps its rule over rounds:
   :mod:`sisso_lite.screening._subgroup_guided_rules`); earlier rules that are confirmed
   stay in play until the confirmation is lost or they are exhausted;
3. gives each rule a Beta posterior of its *confirmed precision*: the prior plus its
   unbiased tests -- measurements inside the rule, made in rounds after it was first
   proposed, picked by following this rule or by exploration -- good ones as successes
   (the rows a rule was found on, and picks that followed an overlapping rule, never
   count), and a verdict: ``"confirmed"`` (tested precision significantly above the base
   rate of good among the random measurements), ``"falsified"`` (significantly below the
   precision the rule claimed when it was found), ``"open"`` or ``"untested"``
   (:func:`~sisso_lite.screening._subgroup_guided_rules.verdict`);
4. fills the batch pick by pick by Thompson sampling over the rules (draw a precision from
   every posterior, follow the rule with the largest draw that still has unmeasured
   members; Thompson 1933) and picks inside the rule (``within_rule="random"``: uniformly,
   an unbiased test of the rule; ``"nearest"``: the member closest, in pool-standardised
   features, to a good measured member of the rule); a share ``exploration`` of the batch
   is drawn uniformly from the whole unmeasured pool (and the whole batch while no rule
   can be found);
5. measures (failed oracle calls are recorded with their message and never retried),
   records, checkpoints.

Randomness of round ``r`` comes from ``SeedSequence([random_state, r, purpose])`` (as
:class:`~sisso_lite.learning.Campaign`, whose random initial design it reproduces exactly
for the same seed, so a comparison with a ``Campaign`` on the same seed starts from the
same measurements), and the chosen batch is checkpointed before it is measured, so a
campaign resumed after a kill makes the choices of an uninterrupted one.

References
----------
* M. Boley, B. R. Goldsmith, L. M. Ghiringhelli, J. Vreeken, Data Min. Knowl. Disc. 31,
  1391 (2017) -- identifying consistent statements about numerical data (SGD).
* B. R. Goldsmith, M. Boley, J. Vreeken, M. Scheffler, L. M. Ghiringhelli, New J. Phys.
  19, 013031 (2017) -- subgroup discovery for materials (gold clusters).
* L. Foppa et al., arXiv:2403.18437 (2024) -- rules describing exceptional perovskites.
* W. R. Thompson, Biometrika 25, 285 (1933) -- Thompson sampling.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sisso_lite.learning import pool as pool_checks
from sisso_lite.learning.campaign import close_round, measure_batch, run_rounds
from sisso_lite.learning.checkpoint import pool_fingerprint
from sisso_lite.learning.metrics import top_fraction_mask
from sisso_lite.learning.oracles import lookup_oracle
from sisso_lite.screening._subgroup_guided_checks import beta_prior, finite_or_none, unit_interval
from sisso_lite.screening._subgroup_guided_choice import choose_round
from sisso_lite.screening._subgroup_guided_io import resume_campaign, write_state
from sisso_lite.screening._subgroup_guided_rules import Measured, PoolLevels
from sisso_lite.screening._subgroup_guided_tables import (
    HISTORY_COLUMNS,
    RULE_COLUMNS,
    SUMMARY_COLUMNS,
    history_table,
    rules_table,
    summary_table,
)
from sisso_lite.subgroups import Rule

__all__ = ["HISTORY_COLUMNS", "RULE_COLUMNS", "SUMMARY_COLUMNS", "SubgroupGuidedCampaign"]

FORMAT = "sisso-lite-subgroup-campaign"
_REFERENCE = ("initial", "explore", "prior")  # unbiased picks that set the standard
WITHIN_RULE = ("random", "nearest")


class SubgroupGuidedCampaign:
    """Sequential discovery guided by subgroup rules, with Thompson sampling over rules.

    Parameters
    ----------
    pool : DataFrame
        One row per candidate (unique index): feature columns, optionally the target.
    target : str, optional
        Column of known values. Without ``oracle`` a retrospective run (the answers are
        revealed pick by pick; NaN rows are never picked); with ``oracle`` its non-NaN
        values are prior measurements (not counted in ``budget``).
    oracle : callable, optional
        Measures the chosen rows (contract of :mod:`sisso_lite.learning.oracles`: one value
        per row; NaN, inf, None or an exception is recorded as failed and the loop goes on).
    features : list of str, optional
        Columns the rules may use; default every numeric column but ``target``.
    goal : {"maximize", "minimize"}
    batch_size : int
        Measurements per round (after the initial design).
    n_initial : int
        Size of the random initial design (round 0).
    budget : int
        Measurements the campaign makes, the initial design included.
    random_state : int, optional
        Seed of every random choice (drawn when None and stored in the checkpoint).
    exploration : float in [0, 1]
        Expected share of each batch drawn uniformly from the whole unmeasured pool
        (stochastic rounding of ``exploration * batch_size``).
    n_rules : int
        Top rules of each round's subgroup discovery the Thompson sampler chooses from.
    good_fraction : float in (0, 1)
        "Exceptionally good" = the best ``good_fraction`` of the pool, estimated from the
        random measurements (initial design, exploration picks, prior values), which are an
        unbiased sample of the pool; the rule-guided picks are not, and a standard set on
        them would rise with every success and falsify the very rules that work. (Prior
        values chosen for being good are not a random sample: give ``threshold`` then.)
    threshold : float, optional
        A fixed standard of "good" instead (``value >= threshold`` when maximising,
        ``<=`` when minimising), e.g. a target a material must beat.
    within_rule : {"random", "nearest"}
        How a candidate is picked inside the chosen rule (see the module docstring).
    confidence : float in (0, 1)
        Level of the binomial tests behind a rule's verdict (``1 - confidence`` is the
        largest tail probability that confirms or falsifies).
    depth, n_cutpoints, coverage_exponent, min_support, max_overlap
        Subgroup discovery: conditions per rule, pool cut points per feature, the exponent
        ``a`` of ``cov^a (p_S - p_P)``, minimum measured members of a rule, and the largest
        Jaccard overlap (on the measured rows) between two kept rules (None: no limit).
    prior : tuple of two floats
        Beta prior ``(alpha, beta)`` of every rule's precision.
    checkpoint : str or Path, optional
        JSON file written atomically after every round (the pool once beside it).
    progress : bool
        tqdm progress bar.

    Attributes
    ----------
    history_ : DataFrame
        One row per measurement (``HISTORY_COLUMNS``): ``rule`` is the rule followed,
        ``"explore"``, ``"initial"`` or ``"prior"``; ``theta`` the Thompson draw.
    rules_ : DataFrame
        One row per rule per round (``RULE_COLUMNS``): coverage of the pool and of the
        measured rows, in-sample and claimed precision, tests, confirmations, confirmed
        precision, posterior mean, the two test tail probabilities, verdict, ``source``
        (``"proposed"`` this round or ``"kept"`` from an earlier one), picks.
    rule_summary_ : DataFrame
        One row per rule ever proposed (``SUMMARY_COLUMNS``), its latest state, most
        tested first.
    rounds_ : DataFrame
        One row per round: picks, failures, best so far, good threshold, seconds.
    """

    def __init__(self, pool: pd.DataFrame, target: str | None = None, oracle=None,
                 features: list[str] | None = None, goal: str = "maximize",
                 batch_size: int = 10, n_initial: int = 10, budget: int = 100,
                 random_state: int | None = None, exploration: float = 0.2,
                 n_rules: int = 5, good_fraction: float = 0.1, within_rule: str = "random",
                 confidence: float = 0.99, threshold: float | None = None,
                 depth: int = 2, n_cutpoints: int = 10, coverage_exponent: float = 0.5,
                 min_support: int = 2, max_overlap: float | None = 0.5,
                 prior: tuple[float, float] = (1.0, 1.0),
                 checkpoint: str | Path | None = None, progress: bool = True) -> None:
        self.pool = pool_checks.check_pool(pool, None)
        self.target = target
        self.features = pool_checks.choose_features(self.pool, features, target, None)
        self._X = pool_checks.feature_matrix(self.pool, self.features)
        self._known = pool_checks.target_values(self.pool, target)
        if oracle is not None and not callable(oracle):
            raise TypeError(f"oracle must be callable, got {type(oracle).__name__}")
        if oracle is None and target is None:
            raise ValueError("give target= (a retrospective run) or oracle= (what measures)")
        self.mode = "oracle" if oracle is not None else "retrospective"
        self.oracle = oracle if oracle is not None else lookup_oracle(
            pd.Series(self._known, index=self.pool.index, name=target))
        self.goal = pool_checks.check_goal(goal)
        self.batch_size = pool_checks.positive_int("batch_size", batch_size)
        self.n_initial = pool_checks.positive_int("n_initial", n_initial)
        self.budget = pool_checks.positive_int("budget", budget)
        self.n_rules = pool_checks.positive_int("n_rules", n_rules)
        self.depth = pool_checks.positive_int("depth", depth)
        self.n_cutpoints = pool_checks.positive_int("n_cutpoints", n_cutpoints)
        self.min_support = pool_checks.positive_int("min_support", min_support)
        self.exploration = unit_interval("exploration", exploration, closed=True)
        self.good_fraction = unit_interval("good_fraction", good_fraction, closed=False)
        if within_rule not in WITHIN_RULE:
            raise ValueError(f"within_rule must be one of {WITHIN_RULE}, got {within_rule!r}")
        self.within_rule = within_rule
        self.confidence = unit_interval("confidence", confidence, closed=False)
        self.threshold = finite_or_none("threshold", threshold)
        self.coverage_exponent = unit_interval("coverage_exponent", coverage_exponent,
                                               closed=True)
        self.max_overlap = (None if max_overlap is None
                            else unit_interval("max_overlap", max_overlap, closed=True))
        self.prior = beta_prior(prior)
        if random_state is None:
            random_state = int(np.random.SeedSequence().generate_state(1)[0])
        self.random_state = pool_checks.seed_int(random_state)
        self.checkpoint = None if checkpoint is None else Path(checkpoint)
        self.progress = progress
        self._levels = PoolLevels(self.pool[self.features], self.n_cutpoints)
        if self._levels.levels.shape[1] == 0:
            raise ValueError("every feature column is constant over the pool; rules need "
                             "at least one varying feature")
        std = self._X.std(axis=0)
        self._Z = (self._X - self._X.mean(axis=0)) / np.where(std > 0, std, 1.0)
        self._records: list[dict] = []
        self._rounds: list[dict] = []
        self._rule_rows: list[dict] = []
        self._registry: dict[str, dict] = {}
        self._pending: dict | None = None
        self._check_sizes()
        if self.mode == "oracle" and self._known is not None:
            for pos in np.flatnonzero(np.isfinite(self._known)):
                self._records.append({"round": 0, "position": int(pos),
                                      "value": float(self._known[pos]), "status": "prior",
                                      "message": "", "rule": "prior", "theta": None})

    # ------------------------------------------------------------------ state
    def _measurable(self) -> np.ndarray:
        if self._known is None:
            return np.ones(len(self.pool), dtype=bool)
        finite = np.isfinite(self._known)
        return finite if self.mode == "retrospective" else ~finite

    def _check_sizes(self) -> None:
        n_cand = int(self._measurable().sum())
        if n_cand == 0:
            raise ValueError(f"the pool has no candidate that can be measured (target "
                             f"column {self.target!r} leaves none)")
        if self.budget > n_cand:
            raise ValueError(f"budget={self.budget} is larger than the {n_cand} candidates "
                             "that can be measured; lower budget")
        if self.n_initial > self.budget:
            raise ValueError(f"n_initial={self.n_initial} exceeds budget={self.budget}")

    @property
    def n_measured(self) -> int:
        """Measurements made by the campaign (failures included, prior values not)."""
        return sum(r["status"] != "prior" for r in self._records)

    @property
    def round_(self) -> int:
        """Number of the next round (0 is the initial design)."""
        return len(self._rounds)

    @property
    def done(self) -> bool:
        """True when the budget is spent or nothing is left to measure."""
        return self.n_measured >= self.budget or self._candidates().size == 0

    def _candidates(self) -> np.ndarray:
        taken = np.zeros(len(self.pool), dtype=bool)
        taken[[r["position"] for r in self._records]] = True
        return np.flatnonzero(self._measurable() & ~taken)

    def _ok(self) -> Measured:
        """The successful measurements (see :class:`Measured`)."""
        ok = [r for r in self._records if r["status"] in ("ok", "prior")]
        return Measured(np.array([r["position"] for r in ok], dtype=np.int64),
                        np.array([r["value"] for r in ok], dtype=np.float64),
                        np.array([r["round"] for r in ok], dtype=np.int64),
                        np.array([r["rule"] in _REFERENCE for r in ok], dtype=bool),
                        np.array([r.get("query") or r["rule"] for r in ok], dtype=object))

    def best_value(self) -> float:
        """Best measured value so far (NaN before any successful measurement)."""
        y = self._ok().values
        if y.size == 0:
            return float("nan")
        return float(y.max() if self.goal == "maximize" else y.min())

    def _rng(self, rnd: int, purpose: int) -> np.random.Generator:
        return np.random.default_rng(np.random.SeedSequence([self.random_state, rnd, purpose]))

    # ------------------------------------------------------------------ rules
    def _good(self, y: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, float, float]:
        """Good flags of the measured values, the threshold of "good", and the base rate.

        The threshold is ``threshold`` if given, else the value of the best
        ``good_fraction`` of the reference measurements (the random ones: initial design,
        exploration, prior values; all measurements while fewer than two are random). The
        base rate is the smoothed share ``(n_good + 0.5) / (n + 1)`` of good reference
        values: the precision a rule must beat to be confirmed.
        """
        y_ref = y[ref] if ref.sum() >= 2 else y
        if self.threshold is not None:
            threshold = self.threshold
        else:
            top = top_fraction_mask(y_ref, self.good_fraction, self.goal)
            threshold = float(y_ref[top].min() if self.goal == "maximize"
                              else y_ref[top].max())
        maximize = self.goal == "maximize"
        good = y >= threshold if maximize else y <= threshold
        n_good_ref = int((y_ref >= threshold).sum() if maximize else (y_ref <= threshold).sum())
        return good, threshold, (n_good_ref + 0.5) / (y_ref.size + 1)

    def _choose(self, rnd: int, k: int) -> dict:
        return choose_round(self, rnd, k)

    def _round_size(self, rnd: int) -> int:
        left = self.budget - self.n_measured
        size = self.n_initial if rnd == 0 else self.batch_size
        return min(size, left, self._candidates().size)

    # ------------------------------------------------------------------ the loop
    def step(self) -> pd.DataFrame:
        """One round: choose, checkpoint the choice, measure, checkpoint.

        Returns the history rows of this round (empty when the campaign is done).
        """
        if self._pending is None:
            if self.done:
                return self.history_.iloc[0:0]
            rnd = self.round_
            self._pending = self._choose(rnd, self._round_size(rnd))
            self.save()
        pending = self._pending
        positions = pending["positions"]
        results, oracle_s = measure_batch(self.oracle, self.pool, positions)
        for pos, res, rule, query, theta in zip(positions, results, pending["rules"],
                                                pending["queries"], pending["theta"],
                                                strict=True):
            self._records.append({"round": pending["round"], "position": pos,
                                  "value": res.value, "status": res.status,
                                  "message": res.message, "rule": rule, "query": query,
                                  "theta": theta})
        self._rule_rows.extend(pending["rule_rows"])
        self._rounds.append({
            "round": pending["round"], "n_picked": len(positions),
            "n_rule_picks": sum(r not in ("initial", "explore") for r in pending["rules"]),
            "n_failed": sum(r.status == "failed" for r in results),
            "n_measured": self.n_measured, "best_so_far": self.best_value(),
            "good_threshold": pending["threshold"], "base_rate": pending["base_rate"],
            "n_rules": len(pending["rule_rows"]),
            "fit_seconds": pending["fit_seconds"], "oracle_seconds": oracle_s})
        return close_round(self)

    def run(self, n_rounds: int | None = None) -> SubgroupGuidedCampaign:
        """Run rounds until the budget is spent (or ``n_rounds`` more rounds); returns self."""
        run_rounds(self, n_rounds, "subgroup-guided")
        return self

    def suggest(self, n: int | None = None) -> pd.DataFrame:
        """The next ``n`` picks (default ``batch_size``) with the rule each follows.

        Returns the pool rows with ``rule``, ``theta`` and the rule's ``posterior_mean``;
        the campaign's measurements are not changed.
        """
        n = self.batch_size if n is None else pool_checks.positive_int("n", n)
        n = min(n, self._candidates().size)
        if n == 0:
            raise ValueError("nothing left to suggest: every candidate is measured")
        registry = dict(self._registry)
        try:
            info = self._choose(max(self.round_, 1), n)
        finally:
            self._registry = registry
        out = self.pool.iloc[info["positions"]].copy()
        out["rule"] = info["rules"]
        out["theta"] = [np.nan if t is None else t for t in info["theta"]]
        means = {r["rule"]: r["posterior_mean"] for r in info["rule_rows"]}
        out["posterior_mean"] = [means.get(r, np.nan) for r in info["rules"]]
        return out

    # ------------------------------------------------------------------ tables
    @property
    def history_(self) -> pd.DataFrame:
        """One row per measurement (see the class docstring)."""
        return history_table(self._records, self.pool.index, self.goal)

    @property
    def rules_(self) -> pd.DataFrame:
        """One row per rule per round (see the class docstring)."""
        return rules_table(self._rule_rows)

    @property
    def rule_summary_(self) -> pd.DataFrame:
        """One row per rule ever proposed: its latest state, most tested first."""
        return summary_table(self.rules_)

    @property
    def rounds_(self) -> pd.DataFrame:
        """One row per round."""
        return pd.DataFrame(self._rounds)

    def rule(self, text: str) -> Rule:
        """The :class:`~sisso_lite.subgroups.Rule` of a ``rule`` text or ``query`` of
        ``rules_`` (evaluate it on any table with ``.covers(frame)``)."""
        if text in self._registry:
            return Rule.from_dict(self._registry[text]["rule"])
        for entry in self._registry.values():
            if entry["text"] == text:
                return Rule.from_dict(entry["rule"])
        raise KeyError(f"no rule {text!r} was proposed by this campaign")

    # ------------------------------------------------------------------ checkpoints
    def _config(self) -> dict:
        return {"target": self.target, "features": self.features, "mode": self.mode,
                "goal": self.goal, "batch_size": self.batch_size,
                "n_initial": self.n_initial, "budget": self.budget,
                "random_state": self.random_state, "exploration": self.exploration,
                "n_rules": self.n_rules, "good_fraction": self.good_fraction,
                "within_rule": self.within_rule, "confidence": self.confidence,
                "threshold": self.threshold,
                "depth": self.depth,
                "n_cutpoints": self.n_cutpoints, "coverage_exponent": self.coverage_exponent,
                "min_support": self.min_support, "max_overlap": self.max_overlap,
                "prior": list(self.prior)}

    def _fingerprint(self) -> str:
        columns = self.features + ([self.target] if self.target is not None else [])
        return pool_fingerprint(self.pool, list(dict.fromkeys(columns)))

    def save(self, path: str | Path | None = None) -> None:
        """Write the checkpoint (atomic JSON); the pool is written once beside it."""
        path = Path(path) if path is not None else self.checkpoint
        if path is not None:
            write_state(self, path, FORMAT)

    @classmethod
    def resume(cls, path: str | Path, pool: pd.DataFrame | None = None, oracle=None,
               progress: bool = True, budget: int | None = None) -> SubgroupGuidedCampaign:
        """Continue a campaign from its checkpoint.

        ``pool`` defaults to the copy beside the checkpoint (a given pool must have the same
        fingerprint); a campaign with an oracle needs ``oracle=`` again (a callable cannot
        live in JSON). ``budget`` extends (or shortens, not below what is measured) it.
        A campaign killed at any point (even during an oracle call) and resumed makes the
        same choices and ends with the same history as one that was never interrupted.
        """
        return resume_campaign(cls, Path(path), FORMAT, pool=pool, oracle=oracle,
                               progress=progress, budget=budget)
