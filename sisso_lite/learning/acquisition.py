"""Acquisition functions for sequential learning (active learning / Bayesian optimisation).

Every acquisition function scores a whole candidate pool at once from a :class:`Prediction`
(predicted mean, standard deviation and, optionally, ensemble-member predictions and a
feasibility probability) and has the signature::

    fn(pred, *, best, goal="maximize", rng=None, **params) -> np.ndarray  # shape (n,)

Conventions
-----------
* **Higher score = better pick**, whatever the goal. :func:`select_top` takes the ``k``
  highest scores.
* ``goal`` is ``"maximize"`` or ``"minimize"``. Minimisation is handled by working on the
  flipped problem (``-mean``, ``-best``, ``-samples``; ``std`` unchanged), so each formula is
  written once for maximisation. Parameters such as ``xi`` and ``kappa`` keep their sign and
  are in the units of the target.
* ``best`` is the best value observed so far, in the original units. ``NaN`` (or the value
  of an empty max/min, ``-inf`` for maximisation and ``+inf`` for minimisation) means that
  nothing has been observed yet: the improvement-based functions (PI, EI, log-EI) then use
  the best *predicted* mean over the valid candidates as the incumbent. The other functions
  ignore ``best`` (it is accepted so that all functions can be called the same way).
* Candidates whose mean or standard deviation is not finite get a ``NaN`` score (no
  exception and no warning); :func:`select_top` treats ``NaN`` as the worst score. The only
  exception is :func:`random`, which ignores the predictions altogether.
* :func:`random` and :func:`thompson` need a :class:`numpy.random.Generator` (``rng``); their
  names are listed in :data:`STOCHASTIC`.

The scores
----------
* :func:`greedy` -- exploitation, the (flipped) mean.
* :func:`explore` -- pure exploration, the standard deviation.
* :func:`random` -- uniform random scores (baseline).
* :func:`probability_of_improvement` -- ``Phi(z)`` (Kushner 1964).
* :func:`expected_improvement` -- ``sigma * h(z)`` with ``h(z) = phi(z) + z Phi(z)``
  (Jones, Schonlau, Welch 1998).
* :func:`log_expected_improvement` -- ``log EI`` evaluated stably for very negative ``z``
  (Ament et al. 2023).
* :func:`upper_confidence_bound` / :func:`lower_confidence_bound` -- ``mean + kappa * std``
  on the flipped problem (Srinivas et al. 2010).
* :func:`thompson` -- one posterior draw or one ensemble member (Thompson 1933).
* :func:`target_window` -- probability that the target falls in ``[low, high]``, as used for
  target-value searches (e.g. a band gap window).
* :func:`constrained` -- a base function weighted by the probability of feasibility.

Here ``z = (mean - best - xi) / std`` on the flipped problem.

References
----------
* H. J. Kushner, J. Basic Eng. 86, 97 (1964) -- probability of improvement.
* D. R. Jones, M. Schonlau, W. J. Welch, J. Global Optim. 13, 455 (1998) -- expected
  improvement.
* N. Srinivas, A. Krause, S. Kakade, M. Seeger, ICML 2010 -- GP-UCB.
* W. R. Thompson, Biometrika 25, 285 (1933) -- Thompson sampling.
* S. Ament, S. Daulton, D. Eriksson, M. Balandat, E. Bakshy, "Unexpected improvements to
  expected improvement for Bayesian optimization", NeurIPS 2023 -- LogEI.
* B. Rohr et al., Chem. Sci. 11, 2696 (2020) -- benchmarking sequential learning for
  materials discovery.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr

from sisso_lite.learning._normal import h_neg as _h_neg
from sisso_lite.learning._normal import log_h as _log_h
from sisso_lite.learning.prediction import Prediction

__all__ = [
    "ACQUISITIONS",
    "NEEDS_RNG",
    "STOCHASTIC",
    "Prediction",
    "constrained",
    "expected_improvement",
    "explore",
    "get_acquisition",
    "greedy",
    "is_stochastic",
    "log_expected_improvement",
    "lower_confidence_bound",
    "probability_of_improvement",
    "random",
    "select_top",
    "target_window",
    "thompson",
    "upper_confidence_bound",
]

Array = NDArray[np.float64]

_GOALS = ("maximize", "minimize")


# ---------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------


def _check_goal(goal: str) -> float:
    """Sign that maps the problem to maximisation (+1 maximise, -1 minimise)."""
    if goal not in _GOALS:
        raise ValueError(f"goal must be 'maximize' or 'minimize', got {goal!r}")
    return 1.0 if goal == "maximize" else -1.0


def _check_rng(rng: np.random.Generator | None, name: str) -> np.random.Generator:
    if rng is None:
        raise ValueError(f"{name} is stochastic and needs rng (a numpy.random.Generator)")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    return rng


def _check_finite_param(value: float, name: str) -> float:
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def _flipped(pred: Prediction, goal: str) -> tuple[Array, Array, Array, float]:
    """``(sign * mean, std, valid, sign)`` with ``valid`` = finite mean and std."""
    sign = _check_goal(goal)
    mu = sign * pred.mean
    valid = np.isfinite(mu) & np.isfinite(pred.std)
    return mu, pred.std, valid, sign


def _incumbent(mu: Array, valid: Array, best: float, sign: float) -> float:
    """Incumbent of the flipped problem (best predicted mean if nothing observed)."""
    b = sign * float(best)
    if math.isnan(b) or b == -math.inf:
        return float(np.max(mu[valid])) if np.any(valid) else math.nan
    if b == math.inf:
        raise ValueError(
            "best must be finite, or NaN when nothing has been observed yet "
            f"(got {best} for this goal)"
        )
    return b


def _masked(values: Array, valid: Array) -> Array:
    return np.where(valid, values, np.nan)


def _improvement(
    pred: Prediction, best: float, goal: str, xi: float
) -> tuple[Array, Array, Array, Array]:
    """``(improvement, std, z, valid)`` of the flipped problem; ``z = 0`` where std = 0."""
    xi = _check_finite_param(xi, "xi")
    mu, sd, valid, sign = _flipped(pred, goal)
    incumbent = _incumbent(mu, valid, best, sign)
    if math.isnan(incumbent):  # no valid candidate
        valid = np.zeros_like(valid)
        incumbent = 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        mu = np.where(valid, mu, 0.0)
        sd = np.where(valid, sd, 1.0)
        imp = mu - incumbent - xi
        positive = sd > 0
        z = np.where(positive, imp / np.where(positive, sd, 1.0), 0.0)
    return imp, sd, z, valid


# ---------------------------------------------------------------------------------------
# acquisition functions
# ---------------------------------------------------------------------------------------


def greedy(
    pred: Prediction,
    *,
    best: float,
    goal: str = "maximize",
    rng: np.random.Generator | None = None,
) -> Array:
    """Pure exploitation: the predicted mean (``-mean`` when minimising).

    Parameters
    ----------
    pred : Prediction
        Prediction over the candidate pool.
    best : float
        Ignored (uniform signature).
    goal : {"maximize", "minimize"}
        Optimisation direction.
    rng : numpy.random.Generator, optional
        Ignored.

    Returns
    -------
    ndarray of shape (n,)
        Scores, higher is better; ``NaN`` where mean or std is not finite.
    """
    mu, _, valid, _ = _flipped(pred, goal)
    return _masked(mu, valid)


def explore(
    pred: Prediction,
    *,
    best: float,
    goal: str = "maximize",
    rng: np.random.Generator | None = None,
) -> Array:
    """Pure exploration: the predictive standard deviation (goal-independent).

    Parameters
    ----------
    pred : Prediction
        Prediction over the candidate pool.
    best : float
        Ignored (uniform signature).
    goal : {"maximize", "minimize"}
        Validated but does not change the scores.
    rng : numpy.random.Generator, optional
        Ignored.

    Returns
    -------
    ndarray of shape (n,)
        ``std``; ``NaN`` where mean or std is not finite.
    """
    _, sd, valid, _ = _flipped(pred, goal)
    return _masked(sd, valid)


def random(
    pred: Prediction,
    *,
    best: float,
    goal: str = "maximize",
    rng: np.random.Generator | None = None,
) -> Array:
    """Random baseline: ``rng.random(n)``, ignoring the predictions entirely.

    The predictions are not looked at (not even for finiteness), so this works with a
    placeholder :class:`Prediction` before any model has been fitted.

    Parameters
    ----------
    pred : Prediction
        Only its length is used.
    best : float
        Ignored (uniform signature).
    goal : {"maximize", "minimize"}
        Validated but does not change the scores.
    rng : numpy.random.Generator
        Required.

    Returns
    -------
    ndarray of shape (n,)
        Uniform scores in ``[0, 1)``.

    Raises
    ------
    ValueError
        If ``rng`` is None.
    """
    _check_goal(goal)
    rng = _check_rng(rng, "random")
    return rng.random(pred.mean.shape[0])


def probability_of_improvement(
    pred: Prediction,
    *,
    best: float,
    goal: str = "maximize",
    rng: np.random.Generator | None = None,
    xi: float = 0.0,
) -> Array:
    """Probability of improvement ``Phi((mean - best - xi) / std)`` (Kushner 1964).

    Parameters
    ----------
    pred : Prediction
        Prediction over the candidate pool.
    best : float
        Best observed value; ``NaN`` -> best predicted mean (see module docstring).
    goal : {"maximize", "minimize"}
        Optimisation direction.
    rng : numpy.random.Generator, optional
        Ignored.
    xi : float, default 0.0
        Required margin of improvement (target units).

    Returns
    -------
    ndarray of shape (n,)
        Probabilities in ``[0, 1]``; with ``std = 0`` the indicator
        ``mean - best - xi > 0``; ``NaN`` where mean or std is not finite.
    """
    imp, sd, z, valid = _improvement(pred, best, goal, xi)
    pi = np.where(sd > 0, ndtr(z), (imp > 0).astype(np.float64))
    return _masked(pi, valid)


def expected_improvement(
    pred: Prediction,
    *,
    best: float,
    goal: str = "maximize",
    rng: np.random.Generator | None = None,
    xi: float = 0.0,
) -> Array:
    """Expected improvement ``E[max(Y - best - xi, 0)]`` for ``Y ~ N(mean, std^2)``.

    ``EI = std * h(z)`` with ``h(z) = phi(z) + z Phi(z)`` and ``z = (mean - best - xi) / std``
    (Jones, Schonlau, Welch 1998). It is evaluated as
    ``max(mean - best - xi, 0) + std * h(-|z|)`` (using ``h(z) = z + h(-z)``), which avoids
    cancellation, is exactly ``>= max(mean - best - xi, 0)``, and reduces to the deterministic
    improvement for ``std = 0``.

    Parameters
    ----------
    pred : Prediction
        Prediction over the candidate pool.
    best : float
        Best observed value; ``NaN`` -> best predicted mean (see module docstring).
    goal : {"maximize", "minimize"}
        Optimisation direction.
    rng : numpy.random.Generator, optional
        Ignored.
    xi : float, default 0.0
        Exploration margin (target units).

    Returns
    -------
    ndarray of shape (n,)
        Non-negative scores; ``NaN`` where mean or std is not finite.
    """
    imp, sd, z, valid = _improvement(pred, best, goal, xi)
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        ei = np.maximum(imp, 0.0) + sd * _h_neg(np.abs(z))
    return _masked(ei, valid)


def log_expected_improvement(
    pred: Prediction,
    *,
    best: float,
    goal: str = "maximize",
    rng: np.random.Generator | None = None,
    xi: float = 0.0,
) -> Array:
    """Logarithm of the expected improvement, numerically stable where EI underflows.

    ``log EI = log(std) + log h(z)``, with ``log h`` evaluated through ``erfcx`` for
    ``-30 < z <= -1`` and an asymptotic series below (Ament et al. 2023), so it stays finite
    and monotone in ``z`` far beyond the point where ``EI`` itself underflows to 0
    (``z ~ -38``). Ranking candidates by log-EI is the same as ranking by EI wherever EI is
    representable, but log-EI still separates the candidates where EI is 0.

    Parameters
    ----------
    pred : Prediction
        Prediction over the candidate pool.
    best : float
        Best observed value; ``NaN`` -> best predicted mean (see module docstring).
    goal : {"maximize", "minimize"}
        Optimisation direction.
    rng : numpy.random.Generator, optional
        Ignored.
    xi : float, default 0.0
        Exploration margin (target units).

    Returns
    -------
    ndarray of shape (n,)
        ``log EI``; with ``std = 0`` the log of the deterministic improvement (``-inf`` where
        it is 0); ``NaN`` where mean or std is not finite.
    """
    imp, sd, z, valid = _improvement(pred, best, goal, xi)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore", under="ignore"):
        positive = sd > 0
        log_ei = np.where(
            positive, np.log(np.where(positive, sd, 1.0)) + _log_h(z), np.log(np.maximum(imp, 0))
        )
        # std so small that z overflowed: EI equals the (positive) improvement
        log_ei = np.where(positive & (z == np.inf), np.log(np.maximum(imp, 0)), log_ei)
    return _masked(log_ei, valid)


def upper_confidence_bound(
    pred: Prediction,
    *,
    best: float,
    goal: str = "maximize",
    rng: np.random.Generator | None = None,
    kappa: float = 2.0,
) -> Array:
    """Confidence bound ``mean + kappa * std`` on the flipped problem (Srinivas et al. 2010).

    With ``goal="minimize"`` the score is ``-(mean - kappa * std)``, i.e. minus the lower
    confidence bound, so that the candidate with the lowest LCB scores highest.
    :func:`lower_confidence_bound` is the same function (an alias): which bound is used is
    decided by ``goal`` alone.

    Parameters
    ----------
    pred : Prediction
        Prediction over the candidate pool.
    best : float
        Ignored (uniform signature).
    goal : {"maximize", "minimize"}
        Optimisation direction.
    rng : numpy.random.Generator, optional
        Ignored.
    kappa : float, default 2.0
        Exploration weight (number of standard deviations).

    Returns
    -------
    ndarray of shape (n,)
        Scores, higher is better; ``NaN`` where mean or std is not finite.
    """
    kappa = _check_finite_param(kappa, "kappa")
    mu, sd, valid, _ = _flipped(pred, goal)
    with np.errstate(over="ignore", invalid="ignore"):
        ucb = mu + kappa * sd
    return _masked(ucb, valid)


#: Alias of :func:`upper_confidence_bound`; use it with ``goal="minimize"`` to rank by the
#: lower confidence bound ``mean - kappa * std`` (score ``-(mean - kappa * std)``).
lower_confidence_bound = upper_confidence_bound


def thompson(
    pred: Prediction,
    *,
    best: float,
    goal: str = "maximize",
    rng: np.random.Generator | None = None,
) -> Array:
    """Thompson sampling (Thompson 1933): score the pool with one posterior draw.

    If ``pred.samples`` (shape ``(K, n)``) is given, one member row ``k = rng.integers(K)``
    is returned (negated when minimising; ``NaN`` entries stay ``NaN``). Otherwise an
    independent Gaussian draw ``mean + std * rng.standard_normal(n)`` is returned.

    Parameters
    ----------
    pred : Prediction
        Prediction over the candidate pool.
    best : float
        Ignored (uniform signature).
    goal : {"maximize", "minimize"}
        Optimisation direction.
    rng : numpy.random.Generator
        Required.

    Returns
    -------
    ndarray of shape (n,)
        Scores, higher is better; ``NaN`` where mean or std is not finite.

    Raises
    ------
    ValueError
        If ``rng`` is None.
    """
    mu, sd, valid, sign = _flipped(pred, goal)
    rng = _check_rng(rng, "thompson")
    if pred.samples is not None:
        k = int(rng.integers(pred.samples.shape[0]))
        draw = sign * pred.samples[k]
    else:
        noise = rng.standard_normal(mu.shape[0])
        with np.errstate(over="ignore", invalid="ignore"):
            draw = mu + sd * noise
    return _masked(draw, valid)


def target_window(
    pred: Prediction,
    *,
    best: float,
    goal: str = "maximize",
    rng: np.random.Generator | None = None,
    low: float,
    high: float,
) -> Array:
    """Probability that the target lies in ``[low, high]``: ``Phi(b) - Phi(a)``.

    ``a = (low - mean) / std`` and ``b = (high - mean) / std``. The difference is taken on the
    side with the smaller tail (``Phi(-a) - Phi(-b)`` when ``a > 0``), so windows far in a
    tail keep a positive probability instead of cancelling to 0. The score does not depend
    on ``goal``. ``low = -inf`` or ``high = inf`` give one-sided windows.

    Parameters
    ----------
    pred : Prediction
        Prediction over the candidate pool.
    best : float
        Ignored (uniform signature).
    goal : {"maximize", "minimize"}
        Validated but does not change the scores.
    rng : numpy.random.Generator, optional
        Ignored.
    low, high : float
        Window bounds in target units, ``low <= high``.

    Returns
    -------
    ndarray of shape (n,)
        Probabilities in ``[0, 1]``; for ``std = 0`` the indicator ``low <= mean <= high``;
        ``NaN`` where mean or std is not finite.

    Raises
    ------
    ValueError
        If ``low > high`` or a bound is NaN.
    """
    _check_goal(goal)
    low, high = float(low), float(high)
    if math.isnan(low) or math.isnan(high):
        raise ValueError("low and high must not be NaN")
    if low > high:
        raise ValueError(f"low must be <= high, got low={low}, high={high}")
    mu, sd = pred.mean, pred.std
    valid = np.isfinite(mu) & np.isfinite(sd)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        mu = np.where(valid, mu, 0.0)
        sd = np.where(valid, sd, 1.0)
        positive = sd > 0
        scale = np.where(positive, sd, 1.0)
        a = np.where(positive, (low - mu) / scale, 0.0)
        b = np.where(positive, (high - mu) / scale, 0.0)
        upper_tail = a > 0
        p = np.where(upper_tail, ndtr(-a) - ndtr(-b), ndtr(b) - ndtr(a))
        p = np.clip(p, 0.0, 1.0)
        inside = ((mu >= low) & (mu <= high)).astype(np.float64)
        p = np.where(positive, p, inside)
    return _masked(p, valid)


#: bases whose scores are non-negative, multiplied by ``p_feasible`` in :func:`constrained`
_NONNEGATIVE_BASES = ("expected_improvement", "probability_of_improvement", "target_window")
_LOG_BASES = ("log_expected_improvement",)


def constrained(
    pred: Prediction,
    *,
    best: float,
    goal: str = "maximize",
    rng: np.random.Generator | None = None,
    base: str | Callable[..., Array] = "expected_improvement",
    **base_params: float,
) -> Array:
    """Base acquisition weighted by the probability of feasibility ``pred.p_feasible``.

    For non-negative bases (expected improvement, probability of improvement, target window)
    the score is ``p_feasible * base(pred, ...)``; for log expected improvement it is
    ``log(p_feasible) + log EI`` (``-inf`` where ``p_feasible = 0``).

    Parameters
    ----------
    pred : Prediction
        Prediction with ``p_feasible`` set (from a feasibility classifier).
    best : float
        Best observed (feasible) value, passed to the base function.
    goal : {"maximize", "minimize"}
        Optimisation direction, passed to the base function.
    rng : numpy.random.Generator, optional
        Passed to the base function.
    base : str or callable, default "expected_improvement"
        Registry name or function of one of the supported bases ("ei", "pi", "window",
        "log_ei" and their long names).
    **base_params
        Parameters of the base function (``xi``, ``low``/``high``).

    Returns
    -------
    ndarray of shape (n,)
        Scores, higher is better; ``NaN`` where mean, std or ``p_feasible`` is not finite.

    Raises
    ------
    ValueError
        If ``pred.p_feasible`` is missing or ``base`` is not supported.
    """
    if pred.p_feasible is None:
        raise ValueError(
            "constrained acquisition needs pred.p_feasible: a feasibility classifier is "
            "needed to provide the probability that each candidate is feasible"
        )
    fn = get_acquisition(base)
    name = fn.__name__
    if name not in _NONNEGATIVE_BASES + _LOG_BASES:
        raise ValueError(
            f"unsupported base {base!r} for constrained acquisition; use one of "
            f"{sorted(_NONNEGATIVE_BASES + _LOG_BASES)} (or 'ei', 'pi', 'window', 'log_ei')"
        )
    scores = fn(pred, best=best, goal=goal, rng=rng, **base_params)
    p = pred.p_feasible
    with np.errstate(divide="ignore", invalid="ignore"):
        if name in _LOG_BASES:
            return scores + np.log(p)
        return p * scores


# ---------------------------------------------------------------------------------------
# registry and selection
# ---------------------------------------------------------------------------------------

#: Acquisition functions by name (short names and the long function names).
ACQUISITIONS: dict[str, Callable[..., Array]] = {
    "greedy": greedy,
    "explore": explore,
    "random": random,
    "pi": probability_of_improvement,
    "ei": expected_improvement,
    "log_ei": log_expected_improvement,
    "ucb": upper_confidence_bound,
    "lcb": lower_confidence_bound,
    "thompson": thompson,
    "window": target_window,
    "constrained": constrained,
    "probability_of_improvement": probability_of_improvement,
    "expected_improvement": expected_improvement,
    "log_expected_improvement": log_expected_improvement,
    "upper_confidence_bound": upper_confidence_bound,
    "lower_confidence_bound": lower_confidence_bound,
    "target_window": target_window,
}

#: Names (in :data:`ACQUISITIONS`) of the functions whose result depends on ``rng``; they
#: raise ``ValueError`` when called without one.
STOCHASTIC: frozenset[str] = frozenset({"random", "thompson"})
#: Same as :data:`STOCHASTIC`.
NEEDS_RNG = STOCHASTIC


def get_acquisition(name_or_callable: str | Callable[..., Array]) -> Callable[..., Array]:
    """Look up an acquisition function by name; a callable is returned unchanged.

    Parameters
    ----------
    name_or_callable : str or callable
        A key of :data:`ACQUISITIONS` (case-insensitive) or an acquisition function.

    Returns
    -------
    callable
        The acquisition function.

    Raises
    ------
    ValueError
        For an unknown name (the message lists the valid names).
    """
    if callable(name_or_callable):
        return name_or_callable
    if isinstance(name_or_callable, str):
        fn = ACQUISITIONS.get(name_or_callable.strip().lower())
        if fn is not None:
            return fn
    raise ValueError(
        f"unknown acquisition {name_or_callable!r}; valid names: {', '.join(ACQUISITIONS)}"
    )


def is_stochastic(name_or_callable: str | Callable[..., Array]) -> bool:
    """Whether the acquisition's result depends on ``rng`` (see :data:`STOCHASTIC`).

    Callables not in the registry are reported as not stochastic.
    """
    fn = get_acquisition(name_or_callable)
    return any(ACQUISITIONS[name] is fn for name in STOCHASTIC)


def select_top(
    scores: ArrayLike, k: int, rng: np.random.Generator | None = None
) -> NDArray[np.intp]:
    """Indices of the ``k`` highest scores, best first.

    ``NaN`` counts as the worst score (like ``-inf``). Without ``rng`` ties are broken by the
    lower index (stable sort, deterministic); with ``rng`` tied candidates are ordered
    uniformly at random instead.

    Parameters
    ----------
    scores : array-like of shape (n,)
        Acquisition scores (higher is better).
    k : int
        Number of candidates to pick, ``0 <= k <= n``.
    rng : numpy.random.Generator, optional
        Random tie-breaking.

    Returns
    -------
    ndarray of shape (k,)
        Indices into ``scores``.

    Raises
    ------
    ValueError
        If ``scores`` is not 1-D or ``k`` is negative or larger than the number of candidates.
    """
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 1:
        raise ValueError(f"scores must be 1-D, got shape {s.shape}")
    if isinstance(k, bool) or not isinstance(k, int | np.integer):
        raise TypeError(f"k must be an integer, got {type(k).__name__}")
    n = s.shape[0]
    if k < 0 or k > n:
        raise ValueError(f"k must be between 0 and the number of candidates ({n}), got {k}")
    key = -np.where(np.isnan(s), -np.inf, s)
    if rng is None:
        order = np.argsort(key, kind="stable")
    else:
        perm = rng.permutation(n)
        order = perm[np.argsort(key[perm], kind="stable")]
    return order[: int(k)]
