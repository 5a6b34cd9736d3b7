"""Rules of the subgroup-guided campaign: pool-fixed cut points, rule identity, evidence.

:class:`SubgroupDiscovery` places its cut points at quantiles of the data it is fitted on.
In a campaign that data (the measured rows) grows every round, so the same region of the
pool would get a new threshold, hence a new rule, every round, and no rule could collect
evidence over rounds. :class:`PoolLevels` therefore fixes the cut points once, on the whole
pool (whose features are known before anything is measured): every feature is replaced by
its *level*, the number of pool cut points at or below the value. Subgroup discovery on the
levels of the measured rows uses every level as a cut point (there are at most
``n_cutpoints + 1``), and a rule on levels is translated back into a rule on the original
features whose thresholds are pool values. The two select exactly the same pool rows, and a
region of the pool keeps its rule text from round to round.

:func:`rule_evidence` counts what the measurements made *after* a rule was proposed say
about it, and :func:`verdict` turns that count into "confirmed" / "falsified" / "open" with
two exact one-sided binomial tests (see its docstring).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy.stats import binom

from sisso_lite.subgroups import Rule, Selector
from sisso_lite.subgroups.selectors import equal_frequency_cutpoints

__all__ = ["VERDICTS", "Measured", "PoolLevels", "RuleEvidence", "rule_evidence", "verdict"]

VERDICTS = ("untested", "open", "confirmed", "falsified")


class Measured(NamedTuple):
    """The successful measurements of a campaign, in order.

    ``followed`` is the exact query of the rule a pick followed, or ``"initial"``,
    ``"explore"`` or ``"prior"``; ``reference`` flags the random (unbiased) ones.
    """

    positions: np.ndarray
    values: np.ndarray
    rounds: np.ndarray
    reference: np.ndarray
    followed: np.ndarray


class PoolLevels:
    """Per-feature levels of the pool for cut points fixed on the pool.

    Parameters
    ----------
    X : DataFrame
        Feature columns of the whole pool (numeric, finite).
    n_cutpoints : int
        Cut points per feature: every distinct value when a feature has at most
        ``n_cutpoints + 1`` of them, else the equal-frequency cut points of
        :func:`~sisso_lite.subgroups.selectors.equal_frequency_cutpoints`.

    Attributes
    ----------
    levels : DataFrame
        Integer level of every pool row and feature (constant features dropped).
    """

    def __init__(self, X: pd.DataFrame, n_cutpoints: int) -> None:
        columns = {}
        self._lower: dict[str, np.ndarray] = {}
        self._upper: dict[str, np.ndarray] = {}
        for name in X.columns:
            x = X[name].to_numpy(dtype=np.float64)
            distinct = np.unique(x)
            if distinct.size < 2:
                continue
            if distinct.size <= n_cutpoints + 1:
                cuts = distinct[1:]
            else:
                cuts = np.unique(np.asarray(equal_frequency_cutpoints(x, n_cutpoints)))
                cuts = cuts[cuts > distinct[0]]
            level = np.searchsorted(cuts, x, side="right")
            n_levels = cuts.size + 1
            # smallest / largest pool value of every level (levels are contiguous in x)
            lower = np.full(n_levels, np.nan)
            upper = np.full(n_levels, np.nan)
            np.fmin.at(lower, level, x)
            np.fmax.at(upper, level, x)
            self._lower[str(name)] = lower
            self._upper[str(name)] = upper
            columns[str(name)] = level.astype(np.int64)
        self.levels = pd.DataFrame(columns, index=X.index)

    def to_pool_rule(self, rule: Rule) -> Rule:
        """The rule on the original features that selects the same pool rows as ``rule``.

        ``level <= v`` becomes ``x <= (largest pool value of level <= v)`` and
        ``level >= v`` becomes ``x >= (smallest pool value of level >= v)``.
        """
        selectors = []
        for s in rule.selectors:
            v = int(round(float(s.value)))
            if s.op == "<=":
                threshold = float(np.nanmax(self._upper[s.feature][: v + 1]))
            elif s.op == ">=":
                threshold = float(np.nanmin(self._lower[s.feature][v:]))
            else:  # SubgroupDiscovery on integer levels only makes <= / >= selectors
                raise ValueError(f"unexpected selector {s} on pool levels")
            selectors.append(Selector(s.feature, s.op, threshold))
        return Rule(tuple(selectors))


@dataclass(frozen=True)
class RuleEvidence:
    """What the measurements say about one rule in one round.

    ``n_tested`` counts the *unbiased tests* of the rule: successful measurements inside
    it, made in rounds after it was first proposed, that were picked by following this
    rule or by exploration (both uniform over the rule's unmeasured members when
    ``within_rule="random"``). Picks that followed another, overlapping rule sample only
    the overlap and are left out, and so are the data the rule was found on.
    ``n_confirmed`` counts the tests that are good by the current standard.
    """

    n_tested: int
    n_confirmed: int
    n_measured_inside: int
    n_good_inside: int

    @property
    def confirmed_precision(self) -> float:
        """``n_confirmed / n_tested`` (NaN before the first test)."""
        return self.n_confirmed / self.n_tested if self.n_tested else float("nan")

    @property
    def in_sample_precision(self) -> float:
        """Share of good values among every measured member (NaN without members)."""
        return (self.n_good_inside / self.n_measured_inside if self.n_measured_inside
                else float("nan"))

    def posterior(self, prior: tuple[float, float]) -> tuple[float, float]:
        """Beta parameters of the rule's precision: prior + confirmations / failures."""
        return (prior[0] + self.n_confirmed,
                prior[1] + self.n_tested - self.n_confirmed)


def rule_evidence(inside: np.ndarray, measured: Measured, good: np.ndarray,
                  first_round: int, query: str) -> RuleEvidence:
    """Evidence for the rule ``query`` (pool membership ``inside``) from the measurements.

    Parameters
    ----------
    inside : ndarray of bool, shape (n_pool,)
        Pool membership of the rule.
    measured : Measured
        The successful measurements.
    good : ndarray of bool, shape (n_ok,)
        Good flag of every successful measurement.
    first_round : int
        Round in which the rule was first proposed.
    query : str
        The rule's exact query (what the picks that followed it recorded).
    """
    member = inside[measured.positions]
    unbiased = (measured.followed == query) | (measured.followed == "explore")
    tested = member & (measured.rounds > first_round) & unbiased
    return RuleEvidence(n_tested=int(tested.sum()), n_confirmed=int((tested & good).sum()),
                        n_measured_inside=int(member.sum()),
                        n_good_inside=int((member & good).sum()))


def verdict(n_tested: int, n_confirmed: int, base_rate: float, claimed: float,
            confidence: float) -> tuple[str, float, float]:
    """Whether the tests of a rule confirm or falsify it.

    A rule states "my members are exceptionally good more often than the rest". Two exact
    one-sided binomial tests on the ``n_confirmed`` good outcomes of ``n_tested`` tests:

    * ``p_above_base = P(X >= n_confirmed | n_tested, base_rate)`` -- small when the rule
      beats the base rate of "good" (its share among the random measurements);
    * ``p_below_claim = P(X <= n_confirmed | n_tested, claimed)`` -- small when the rule
      falls short of the precision it showed on the data it was found on.

    The verdict is ``"confirmed"`` when ``p_above_base <= 1 - confidence``, else
    ``"falsified"`` when ``p_below_claim <= 1 - confidence``, else ``"open"``
    (``"untested"`` before the first test).

    Returns
    -------
    verdict : str
    p_above_base, p_below_claim : float
        The two tail probabilities (NaN before the first test).
    """
    if n_tested == 0:
        return "untested", float("nan"), float("nan")
    alpha = 1.0 - confidence
    p_above = float(binom.sf(n_confirmed - 1, n_tested, base_rate))
    p_below = float(binom.cdf(n_confirmed, n_tested, claimed))
    if p_above <= alpha:
        return "confirmed", p_above, p_below
    if p_below <= alpha:
        return "falsified", p_above, p_below
    return "open", p_above, p_below
