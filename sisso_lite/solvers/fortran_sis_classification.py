"""Emulation of Fortran SISSO v3.5's SIS *selection* for classification (``FC.f90``).

Why the SIS subspaces of :class:`~sisso_lite.estimators.SissoClassifier` differ from Fortran's
(docs/sisso_classification.md): Fortran keeps the selected candidates in a bounded list and
removes "duplicates" with ``equivalent()``: two features are equivalent if their *first*
SIS scores agree within 1e-8 (for classification ``1 / (overlap count + 1)``, so any two
features with the same overlap count) **and** ``|Pearson r| > 0.99`` over all samples; the
*simpler* one is kept (lower complexity, then shorter name, then smaller name), whatever
its overlap size.  The check runs when the list is full (``update_select``, list ordered by
both scores) and once more at the end (``dup_scheck``, ordered by the first score and
simplicity only), each time only against the features met on a bisection path, so the
outcome depends on the order in which the features were generated.

This module reproduces that procedure for a candidate sequence given in Fortran's
generation order (:func:`rung1_candidates` builds it for ``fcomplexity <= 1``).  It is a
reference tool (pure NumPy on top of the overlap kernels), not used by the estimator.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sisso_lite.solvers.classification import OverlapScorer

__all__ = ["Candidate", "rung1_candidates", "fortran_overlap_scores", "fortran_sis_select"]


@dataclass
class Candidate:
    """A feature as Fortran sees it: name, complexity, values and its two SIS scores."""

    name: str
    complexity: int
    values: NDArray
    score1: float = np.nan
    score2: float = np.nan


def _simpler(a: Candidate, b: Candidate) -> bool:
    """Fortran ``simpler(a, b) == 1``."""
    if a.complexity != b.complexity:
        return a.complexity < b.complexity
    return len(a.name) < len(b.name) or (len(a.name) == len(b.name) and a.name <= b.name)


def _ffcorr(a: NDArray, b: NDArray) -> float:
    n = a.shape[0]
    m1, m2 = a.sum() / n, b.sum() / n
    s1 = math.sqrt(((a - m1) ** 2).sum() / n)
    s2 = math.sqrt(((b - m2) ** 2).sum() / n)
    return max(-1.0, min(1.0, float(((a - m1) * (b - m2)).sum() / n / s1 / s2)))


def _equivalent(a: Candidate, b: Candidate) -> bool:
    return abs(a.score1 - b.score1) <= 1e-8 and abs(_ffcorr(a.values, b.values)) > 0.99


def rung1_candidates(X: NDArray, names: Sequence[str], units: Sequence,
                     operators: str) -> list[Candidate]:
    """Primary features and rung-1 features in Fortran SISSO v3.5's generation order.

    Parameters
    ----------
    X : ndarray (n_samples, n_primary)
    names : primary-feature names
    units : one hashable unit key per primary feature (``+ - |-|`` need equal keys)
    operators : Fortran ``ops`` string, e.g. ``"(+)(-)(*)(/)(exp)"``
    """
    X = np.asarray(X, dtype=np.float64)
    out = [Candidate(f"({n})", 0, X[:, i]) for i, n in enumerate(names)]
    unary = [("(exp)", "exp({})", np.exp), ("(exp-)", "exp(-{})", lambda x: np.exp(-x)),
             ("(^-1)", "({})^-1", lambda x: x ** -1.0), ("(^2)", "({})^2", np.square),
             ("(^3)", "({})^3", lambda x: x ** 3), ("(^6)", "({})^6", lambda x: x ** 6),
             ("(sqrt)", "sqrt({})", np.sqrt), ("(log)", "log({})", np.log),
             ("(sin)", "sin({})", np.sin), ("(cos)", "cos({})", np.cos)]
    with np.errstate(all="ignore"):
        for i, n in enumerate(names):
            x = X[:, i]
            for op, fmt, fun in unary:
                if op not in operators:
                    continue
                if op == "(^-1)" and not np.min(np.abs(x)) > 1e-50:
                    continue
                if op in ("(sqrt)", "(log)") and not x.min() > 0:
                    continue
                out.append(Candidate(fmt.format(n), 1, fun(x)))
            for j in range(i + 1, len(names)):
                m, y = names[j], X[:, j]
                if units[i] == units[j]:
                    if "(+)" in operators:
                        out.append(Candidate(f"({n}+{m})", 1, x + y))
                    if "(-)" in operators:
                        out.append(Candidate(f"({n}-{m})", 1, x - y))
                    if "(|-|)" in operators:
                        out.append(Candidate(f"abs({n}-{m})", 1, np.abs(x - y)))
                if "(*)" in operators:
                    out.append(Candidate(f"({n}*{m})", 1, x * y))
                if "(/)" in operators:
                    if np.min(np.abs(y)) > 1e-50:
                        out.append(Candidate(f"({n}/{m})", 1, x / y))
                    if np.min(np.abs(x)) > 1e-50:
                        out.append(Candidate(f"({m}/{n})", 1, y / x))
    return out


def fortran_overlap_scores(scorer: OverlapScorer) -> Callable[[NDArray], tuple[float, float]]:
    """Fortran's two classification SIS scores (higher is better) from an
    :class:`OverlapScorer`: ``1 / (count + 1)`` and ``1 / (size + 1)`` (overlapping domains)
    or the separation (separated domains)."""
    def score(values: NDArray) -> tuple[float, float]:
        c, s = scorer.details(values[None])
        c, s = int(c[0]), float(s[0])
        return 1.0 / (c + 1.0), (1.0 / (s + 1.0) if s >= 0 else -s)
    return score


def _insert(order: list[int], sel: list[Candidate], i: int, better) -> int | None:
    """Fortran's bisection insertion of ``sel[i]`` into ``order`` (best first).

    Returns the position in ``order`` of an equivalent feature met on the path (nothing
    inserted), else None (inserted)."""
    lo, hi = 0, len(order)
    j = lo + math.ceil((hi - lo) / 2)
    while True:
        o = order[j - 1]
        if _equivalent(sel[i], sel[o]):
            return j - 1
        if better(sel[i], sel[o]):
            hi = j
            if j == lo + math.ceil((hi - lo) / 2):
                order.insert(j - 1, i)
                return None
        else:
            lo = j
            if j == lo + math.ceil((hi - lo) / 2):
                order.insert(j, i)
                return None
        j = lo + math.ceil((hi - lo) / 2)


def _by_both(a: Candidate, b: Candidate) -> bool:
    return (a.score1 > b.score1 or (a.score1 == b.score1 and a.score2 > b.score2)
            or (a.score1 == b.score1 and a.score2 == b.score2 and _simpler(a, b)))


def _by_first(a: Candidate, b: Candidate) -> bool:
    return a.score1 > b.score1 or (a.score1 == b.score1 and _simpler(a, b))


def fortran_sis_select(candidates: Sequence[Candidate],
                       score: Callable[[NDArray], tuple[float, float]], n_sis: int,
                       reject: Sequence[str] = (), max_abs_value: float = 1e5,
                       min_abs_value: float = 1e-3, n_cores: int = 1) -> list[Candidate]:
    """Fortran SISSO v3.5's SIS over ``candidates`` (in generation order).

    ``goodf`` filters (constant, |x| > 1e50 or <= 1e-50, ``fmax_max`` / ``fmax_min``), the
    score threshold, rejection of earlier selections by name, the bounded list
    (``2 n_sis`` kept + ``n_sis`` extra on one core; ``n_sis`` + ``n_sis`` with MPI) with
    ``update_select``, the final ``dup_scheck`` and the screening with Fortran's tie rules.
    Returns the selected candidates, best first.
    """
    n_basic = 2 * n_sis if n_cores == 1 else n_sis
    n_extra = min(n_sis, 50000)
    rejected = set(reject)
    sel: list[Candidate] = []
    threshold = -1.0
    for cand in candidates:
        v = cand.values
        if np.max(np.abs(v - v[0])) <= 1e-8:
            continue
        mx = np.max(np.abs(v))
        if not (1e-50 < mx <= 1e50) or mx > max_abs_value or mx < min_abs_value:
            continue
        cand.score1, cand.score2 = score(v)
        if cand.score1 < threshold or cand.name in rejected:
            continue
        sel.append(cand)
        if len(sel) == n_basic + n_extra:  # update_select
            order = [0]
            for i in range(1, len(sel)):
                hit = _insert(order, sel, i, _by_both)
                if hit is not None and _simpler(sel[i], sel[order[hit]]):
                    order[hit] = i
            sel = [sel[o] for o in order[:n_basic]]
            threshold = sel[-1].score1
    # dup_scheck on the first score
    available = [True] * len(sel)
    order = [0] if sel else []
    for i in range(1, len(sel)):
        hit = _insert(order, sel, i, _by_first)
        if hit is None:
            continue
        if _simpler(sel[i], sel[order[hit]]):
            available[order[hit]] = False
            order[hit] = i
        else:
            available[i] = False
    s1 = np.array([c.score1 if a else -1.0 for c, a in zip(sel, available, strict=True)])
    s2 = np.array([c.score2 if a else -1.0 for c, a in zip(sel, available, strict=True)])
    out: list[Candidate] = []
    while len(out) < n_sis and any(available):
        loc = int(np.argmax(s1))
        top = s1[loc]
        for ll in range(len(sel)):
            if abs(top - s1[ll]) <= 1e-8 and (
                    s2[ll] - s2[loc] > 1e-8 or (abs(s2[ll] - s2[loc]) <= 1e-8
                                                and _simpler(sel[ll], sel[loc]))):
                loc = ll
        out.append(sel[loc])
        available[loc] = False
        s1[loc] = s2[loc] = -1.0
    return out


#: operators :func:`rung1_candidates` implements (Fortran spelling without parentheses)
SUPPORTED_OPERATORS = frozenset({"+", "-", "|-|", "*", "/", "exp", "exp-", "^-1", "^2", "^3",
                                 "^6", "sqrt", "log", "sin", "cos"})


def fortran_rung1_screen(space, X: NDArray, names: Sequence[str], units: Sequence,
                         operators: Sequence[str], scorer: OverlapScorer, n_sis: int,
                         exclude: set[str], max_abs_value: float, min_abs_value: float):
    """Fortran's SIS selection mapped onto the features of a built ``FeatureSpace``.

    For ``fcomplexity <= 1`` spaces: the candidates are generated in Fortran's order
    (:func:`rung1_candidates`), selected with :func:`fortran_sis_select` and returned as
    the space's screened features (``space.screen`` over the whole space, matched by
    name).  Returns None if the emulation does not apply (unsupported operator, or a
    selected name the space does not hold).
    """
    if not set(operators) <= SUPPORTED_OPERATORS:
        return None
    primary = set(names)
    reject = [f"({k})" if k in primary else k for k in exclude]
    ops = "".join(f"({op})" for op in operators)
    cands = rung1_candidates(X, names, units, ops)
    chosen = fortran_sis_select(cands, fortran_overlap_scores(scorer), n_sis, reject,
                                max_abs_value, min_abs_value)
    pool = {str(f.expression): f for f in space.screen(scorer, n_sis=len(cands) + 1,
                                                         exclude=exclude)}
    out = []
    for c in chosen:
        name = c.name[1:-1] if c.complexity == 0 else c.name
        if name not in pool:
            return None
        out.append(pool[name])
    return out
