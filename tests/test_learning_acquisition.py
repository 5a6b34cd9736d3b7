"""Acquisition functions of the sequential-learning campaign (values, goals, edge cases)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sisso_lite.learning import acquisition as acq
from sisso_lite.learning.acquisition import (
    ACQUISITIONS,
    NEEDS_RNG,
    STOCHASTIC,
    Prediction,
    constrained,
    expected_improvement,
    explore,
    get_acquisition,
    greedy,
    is_stochastic,
    log_expected_improvement,
    lower_confidence_bound,
    probability_of_improvement,
    random,
    select_top,
    target_window,
    thompson,
    upper_confidence_bound,
)

SHORT_NAMES = (
    "greedy",
    "explore",
    "random",
    "pi",
    "ei",
    "log_ei",
    "ucb",
    "lcb",
    "thompson",
    "window",
    "constrained",
)

#: parameters that make every registered function callable on the test pools
PARAMS: dict[str, dict] = {
    "pi": {"xi": 0.1},
    "ei": {"xi": 0.1},
    "log_ei": {"xi": 0.1},
    "ucb": {"kappa": 1.5},
    "lcb": {"kappa": 1.5},
    "window": {"low": -0.5, "high": 0.7},
    "constrained": {"base": "ei", "xi": 0.05},
}


def _pred(n: int = 12, seed: int = 0, samples: bool = True) -> Prediction:
    rng = np.random.default_rng(seed)
    mean = rng.normal(size=n)
    std = rng.uniform(0.05, 1.5, size=n)
    std[0] = 0.0
    return Prediction(
        mean=mean,
        std=std,
        samples=mean + std * rng.normal(size=(5, n)) if samples else None,
        p_feasible=rng.uniform(size=n),
    )


def _negated(pred: Prediction) -> Prediction:
    return Prediction(
        mean=-pred.mean,
        std=pred.std,
        samples=None if pred.samples is None else -pred.samples,
        p_feasible=pred.p_feasible,
    )


def _one(mu: float, sigma: float) -> Prediction:
    return Prediction(mean=np.array([mu]), std=np.array([sigma]))


def _ei_closed_form(mu, sigma, best, xi=0.0):
    mu, sigma = np.asarray(mu, float), np.asarray(sigma, float)
    z = (mu - best - xi) / sigma
    return (mu - best - xi) * stats.norm.cdf(z) + sigma * stats.norm.pdf(z)


# ---------------------------------------------------------------------------------------
# Prediction
# ---------------------------------------------------------------------------------------


def test_prediction_converts_to_float_arrays():
    pred = Prediction(mean=[1, 2], std=[0, 1], samples=[[1, 2]], p_feasible=[0, 1])
    for field in (pred.mean, pred.std, pred.samples, pred.p_feasible):
        assert isinstance(field, np.ndarray)
        assert field.dtype == np.float64


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"mean": np.zeros((2, 2)), "std": np.zeros((2, 2))}, r"mean must be 1-D.*\(2, 2\)"),
        ({"mean": np.zeros(3), "std": np.zeros(4)}, r"std must have the shape.*\(3,\).*\(4,\)"),
        ({"mean": np.zeros(3), "std": np.array([1.0, -0.1, 1.0])}, "std must be >= 0"),
        (
            {"mean": np.zeros(3), "std": np.ones(3), "samples": np.zeros((2, 4))},
            r"samples must have shape \(K, n\).*\(2, 4\)",
        ),
        (
            {"mean": np.zeros(3), "std": np.ones(3), "samples": np.zeros(3)},
            r"samples must have shape.*\(3,\)",
        ),
        (
            {"mean": np.zeros(3), "std": np.ones(3), "samples": np.zeros((0, 3))},
            "samples must have shape",
        ),
        (
            {"mean": np.zeros(3), "std": np.ones(3), "p_feasible": np.ones(2)},
            r"p_feasible must have the shape.*\(3,\).*\(2,\)",
        ),
        (
            {"mean": np.zeros(2), "std": np.ones(2), "p_feasible": np.array([0.5, 1.2])},
            r"p_feasible must lie in \[0, 1\]",
        ),
        ({"mean": ["a", "b"], "std": np.ones(2)}, "mean must be a numeric array"),
    ],
)
def test_prediction_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Prediction(**kwargs)


def test_prediction_allows_nan_entries_and_is_frozen():
    pred = Prediction(
        mean=np.array([np.nan, 1.0]),
        std=np.array([1.0, np.nan]),
        samples=np.array([[np.nan, 1.0]]),
        p_feasible=np.array([np.nan, 0.5]),
    )
    with pytest.raises(AttributeError):
        pred.mean = np.zeros(2)  # type: ignore[misc]


# ---------------------------------------------------------------------------------------
# expected improvement and friends
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mu", "sigma", "best"), [(0.0, 1.0, 0.0), (1.0, 0.5, 2.0), (-1.0, 2.0, 0.5), (3.0, 0.3, 1.0)]
)
def test_ei_matches_monte_carlo(mu, sigma, best):
    rng = np.random.default_rng(42)
    y = rng.normal(mu, sigma, size=400_000)
    gain = np.maximum(y - best, 0.0)
    mc, se = gain.mean(), gain.std() / np.sqrt(y.size)
    ei = expected_improvement(_one(mu, sigma), best=best)[0]
    assert abs(ei - mc) < 5 * se + 1e-12


def test_ei_matches_closed_form():
    rng = np.random.default_rng(1)
    mu = rng.normal(scale=3.0, size=200)
    sigma = rng.uniform(0.01, 3.0, size=200)
    pred = Prediction(mean=mu, std=sigma)
    for best, xi in [(0.0, 0.0), (1.3, 0.0), (-2.0, 0.25)]:
        got = expected_improvement(pred, best=best, xi=xi)
        # the textbook form cancels for small EI: allow a few ulps of |mu - best| + sigma
        scale = np.abs(mu - best - xi) + sigma
        expected = _ei_closed_form(mu, sigma, best, xi)
        assert np.all(np.abs(got - expected) <= 1e-10 * expected + 8 * np.spacing(scale))
        pi = probability_of_improvement(pred, best=best, xi=xi)
        np.testing.assert_allclose(pi, stats.norm.cdf((mu - best - xi) / sigma), rtol=1e-12)


def test_ei_minimize_closed_form():
    mu, sigma = np.array([0.0, 1.0, -1.0]), np.array([1.0, 0.5, 2.0])
    got = expected_improvement(Prediction(mean=mu, std=sigma), best=0.5, goal="minimize")
    z = (0.5 - mu) / sigma
    np.testing.assert_allclose(got, (0.5 - mu) * stats.norm.cdf(z) + sigma * stats.norm.pdf(z))


def test_log_ei_equals_log_of_ei_where_representable():
    mu = np.linspace(-15.0, 6.0, 400)
    pred = Prediction(mean=mu, std=np.full_like(mu, 1.3))
    ei = expected_improvement(pred, best=0.4, xi=0.1)
    log_ei = log_expected_improvement(pred, best=0.4, xi=0.1)
    assert np.all(ei > 0)
    np.testing.assert_allclose(log_ei, np.log(ei), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ei, _ei_closed_form(mu, 1.3, 0.4, 0.1), rtol=1e-9)


def test_log_ei_finite_and_monotone_far_in_the_tail():
    z = np.linspace(-1e4, -5.0, 200_001)
    log_ei = log_expected_improvement(Prediction(mean=z, std=np.ones_like(z)), best=0.0)
    assert np.all(np.isfinite(log_ei))
    assert np.all(np.diff(log_ei) > 0)
    # around the internal branch switches as well
    z = np.concatenate([np.linspace(-31.0, -29.0, 20_001), np.linspace(-1.01, -0.99, 20_001)])
    log_ei = log_expected_improvement(Prediction(mean=z, std=np.ones_like(z)), best=0.0)
    assert np.all(np.diff(log_ei[:20_001]) > 0) and np.all(np.diff(log_ei[20_001:]) > 0)
    # plain EI underflows to 0 there, log EI keeps ordering the candidates
    assert expected_improvement(_one(-50.0, 1.0), best=0.0)[0] == 0.0


def test_log_ei_scales_with_sigma():
    # log EI = log sigma + log h(z): same z, sigma x 10 -> + log 10
    a = log_expected_improvement(_one(-80.0, 2.0), best=0.0)[0]
    b = log_expected_improvement(_one(-800.0, 20.0), best=0.0)[0]
    assert np.isfinite(a)
    np.testing.assert_allclose(b - a, np.log(10.0), rtol=1e-9)


@pytest.mark.parametrize("z", [-1.5, -10.0, -29.99, -30.01, -40.0, -200.0, -1e4, 0.3, 25.0])
def test_log_ei_against_mpmath(z):
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 80
    zz = mpmath.mpf(z)
    sigma = 0.7
    reference = mpmath.log(sigma * (mpmath.npdf(zz) + zz * mpmath.ncdf(zz)))
    got = log_expected_improvement(_one(z * sigma, sigma), best=0.0)[0]
    assert abs(got - float(reference)) <= 1e-13 * max(1.0, abs(float(reference)))


def test_zero_sigma_is_deterministic():
    mu = np.array([-1.0, 0.5, 1.0, 3.0])
    pred = Prediction(mean=mu, std=np.zeros(4))
    best, xi = 0.5, 0.25
    np.testing.assert_array_equal(
        expected_improvement(pred, best=best, xi=xi), np.maximum(mu - best - xi, 0.0)
    )
    with np.errstate(divide="ignore"):
        expected_log = np.log(np.maximum(mu - best - xi, 0.0))
    np.testing.assert_array_equal(log_expected_improvement(pred, best=best, xi=xi), expected_log)
    assert log_expected_improvement(pred, best=best, xi=xi)[0] == -np.inf
    np.testing.assert_array_equal(
        probability_of_improvement(pred, best=best, xi=xi), [0.0, 0.0, 1.0, 1.0]
    )
    np.testing.assert_array_equal(upper_confidence_bound(pred, best=best, kappa=3.0), mu)
    np.testing.assert_array_equal(target_window(pred, best=best, low=0.5, high=1.0), [0, 1, 1, 0])
    # minimisation: improvement is best - mu
    np.testing.assert_array_equal(
        expected_improvement(pred, best=best, goal="minimize"), np.maximum(best - mu, 0.0)
    )


def test_nan_best_uses_best_predicted_mean():
    pred = Prediction(mean=np.array([0.0, 2.0, np.nan, 1.0]), std=np.array([1.0, 0.5, 1.0, 2.0]))
    for fn in (expected_improvement, probability_of_improvement, log_expected_improvement):
        np.testing.assert_array_equal(fn(pred, best=np.nan), fn(pred, best=2.0))
        np.testing.assert_array_equal(fn(pred, best=-np.inf), fn(pred, best=2.0))
        np.testing.assert_array_equal(
            fn(pred, best=np.nan, goal="minimize"), fn(pred, best=0.0, goal="minimize")
        )
    with pytest.raises(ValueError, match="best must be finite"):
        expected_improvement(pred, best=np.inf)
    with pytest.raises(ValueError, match="best must be finite"):
        expected_improvement(pred, best=-np.inf, goal="minimize")


def test_ucb_and_lcb():
    mu, sigma = np.array([0.0, 1.0, 2.0]), np.array([1.0, 0.2, 0.0])
    pred = Prediction(mean=mu, std=sigma)
    np.testing.assert_allclose(upper_confidence_bound(pred, best=0.0), mu + 2.0 * sigma)
    np.testing.assert_allclose(
        upper_confidence_bound(pred, best=0.0, goal="minimize", kappa=0.5), -(mu - 0.5 * sigma)
    )
    assert lower_confidence_bound is upper_confidence_bound
    with pytest.raises(ValueError, match="kappa must be finite"):
        upper_confidence_bound(pred, best=0.0, kappa=np.nan)


def test_greedy_explore_random():
    pred = _pred()
    np.testing.assert_array_equal(greedy(pred, best=0.0), pred.mean)
    np.testing.assert_array_equal(greedy(pred, best=0.0, goal="minimize"), -pred.mean)
    np.testing.assert_array_equal(explore(pred, best=0.0, goal="minimize"), pred.std)
    r = random(pred, best=0.0, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(r, np.random.default_rng(3).random(pred.mean.size))
    with pytest.raises(ValueError, match="needs rng"):
        random(pred, best=0.0)
    with pytest.raises(TypeError, match="Generator"):
        random(pred, best=0.0, rng=np.random.RandomState(0))  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------
# goals
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SHORT_NAMES)
def test_minimize_equals_maximize_on_negated_inputs(name):
    fn = get_acquisition(name)
    params = dict(PARAMS.get(name, {}))
    pred, best = _pred(), 0.3
    minimized = fn(pred, best=best, goal="minimize", rng=np.random.default_rng(7), **params)
    if name == "window":  # goal-independent: negating y negates and swaps the window
        params = {"low": -params["high"], "high": -params["low"]}
    maximized = fn(
        _negated(pred), best=-best, goal="maximize", rng=np.random.default_rng(7), **params
    )
    assert minimized.shape == (pred.mean.size,)
    np.testing.assert_allclose(minimized, maximized, rtol=1e-14, atol=0)


@pytest.mark.parametrize("name", ["pi", "ei", "log_ei", "ucb", "greedy", "thompson"])
def test_goal_changes_the_ranking(name):
    fn = get_acquisition(name)
    pred = Prediction(mean=np.array([-2.0, 0.0, 2.0]), std=np.full(3, 0.5))
    up = fn(pred, best=0.0, goal="maximize", rng=np.random.default_rng(0))
    down = fn(pred, best=0.0, goal="minimize", rng=np.random.default_rng(0))
    assert np.argmax(up) == 2 and np.argmax(down) == 0


def test_window_is_goal_independent():
    pred = _pred()
    np.testing.assert_array_equal(
        target_window(pred, best=0.0, goal="minimize", low=-0.2, high=0.4),
        target_window(pred, best=5.0, goal="maximize", low=-0.2, high=0.4),
    )


@pytest.mark.parametrize("name", SHORT_NAMES)
def test_invalid_goal(name):
    fn = get_acquisition(name)
    with pytest.raises(ValueError, match="goal must be 'maximize' or 'minimize'"):
        fn(_pred(), best=0.0, goal="max", rng=np.random.default_rng(0), **PARAMS.get(name, {}))


# ---------------------------------------------------------------------------------------
# thompson
# ---------------------------------------------------------------------------------------


def test_thompson_returns_a_member_row():
    pred = _pred()
    pred.samples[2, 4] = np.nan
    for seed in range(6):
        k = int(np.random.default_rng(seed).integers(pred.samples.shape[0]))
        got = thompson(pred, best=0.0, rng=np.random.default_rng(seed))
        np.testing.assert_array_equal(got, pred.samples[k])
        got = thompson(pred, best=0.0, goal="minimize", rng=np.random.default_rng(seed))
        np.testing.assert_array_equal(got, -pred.samples[k])
    chosen = {
        int(np.argmax(np.nan_to_num(thompson(pred, best=0.0, rng=np.random.default_rng(s)))))
        for s in range(40)
    }
    assert len(chosen) > 1  # different members -> different picks


def test_thompson_without_samples_draws_gaussian():
    pred = _pred(samples=False)
    got = thompson(pred, best=0.0, rng=np.random.default_rng(11))
    z = np.random.default_rng(11).standard_normal(pred.mean.size)
    np.testing.assert_allclose(got, pred.mean + pred.std * z)
    with pytest.raises(ValueError, match="needs rng"):
        thompson(pred, best=0.0)
    # the draws have the predicted mean and spread
    one = Prediction(mean=np.full(50_000, 1.5), std=np.full(50_000, 0.4))
    draws = thompson(one, best=0.0, rng=np.random.default_rng(0))
    assert abs(draws.mean() - 1.5) < 0.01 and abs(draws.std() - 0.4) < 0.01


# ---------------------------------------------------------------------------------------
# target window
# ---------------------------------------------------------------------------------------


def test_window_matches_norm_cdf_and_monte_carlo():
    rng = np.random.default_rng(5)
    mu = rng.normal(size=30)
    sigma = rng.uniform(0.1, 2.0, size=30)
    low, high = -0.3, 0.8
    got = target_window(Prediction(mean=mu, std=sigma), best=0.0, low=low, high=high)
    expected = stats.norm.cdf((high - mu) / sigma) - stats.norm.cdf((low - mu) / sigma)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-15)
    for m, s, p in zip(mu[:4], sigma[:4], got[:4], strict=True):
        y = rng.normal(m, s, size=200_000)
        hits = (y >= low) & (y <= high)
        assert abs(hits.mean() - p) < 5 * np.sqrt(p * (1 - p) / y.size) + 1e-9


def test_window_far_tail_is_positive_and_accurate():
    pred = Prediction(mean=np.array([0.0, 0.0]), std=np.array([1.0, 1.0]))
    upper = target_window(pred, best=0.0, low=9.0, high=10.0)
    lower = target_window(pred, best=0.0, low=-10.0, high=-9.0)
    reference = stats.norm.sf(9.0) - stats.norm.sf(10.0)  # ~1e-19, cdf difference gives 0
    np.testing.assert_allclose(upper, reference, rtol=1e-10)
    np.testing.assert_allclose(lower, reference, rtol=1e-10)


def test_window_one_sided_and_errors():
    pred = Prediction(mean=np.array([0.0, 1.0]), std=np.array([1.0, 2.0]))
    np.testing.assert_allclose(
        target_window(pred, best=0.0, low=-np.inf, high=0.5), stats.norm.cdf([0.5, -0.25])
    )
    np.testing.assert_allclose(
        target_window(pred, best=0.0, low=0.5, high=np.inf), stats.norm.sf([0.5, -0.25])
    )
    np.testing.assert_array_equal(target_window(pred, best=0.0, low=0.2, high=0.2), [0.0, 0.0])
    with pytest.raises(ValueError, match="low must be <= high"):
        target_window(pred, best=0.0, low=1.0, high=0.0)
    with pytest.raises(ValueError, match="NaN"):
        target_window(pred, best=0.0, low=np.nan, high=0.0)


# ---------------------------------------------------------------------------------------
# constrained
# ---------------------------------------------------------------------------------------


def test_constrained_weights_by_feasibility():
    pred = _pred()
    p = pred.p_feasible
    np.testing.assert_allclose(
        constrained(pred, best=0.2, xi=0.1), p * expected_improvement(pred, best=0.2, xi=0.1)
    )
    np.testing.assert_allclose(
        constrained(pred, best=0.2, goal="minimize", base="pi"),
        p * probability_of_improvement(pred, best=0.2, goal="minimize"),
    )
    np.testing.assert_allclose(
        constrained(pred, best=0.0, base=target_window, low=0.0, high=1.0),
        p * target_window(pred, best=0.0, low=0.0, high=1.0),
    )
    np.testing.assert_allclose(
        constrained(pred, best=0.2, base="log_expected_improvement"),
        np.log(p) + log_expected_improvement(pred, best=0.2),
    )
    zero = Prediction(mean=pred.mean, std=pred.std, p_feasible=np.zeros_like(p))
    assert np.all(constrained(zero, best=0.2, base="log_ei") == -np.inf)
    assert np.all(constrained(zero, best=0.2) == 0.0)


def test_constrained_errors():
    pred = _pred()
    no_p = Prediction(mean=pred.mean, std=pred.std)
    with pytest.raises(ValueError, match="feasibility classifier"):
        constrained(no_p, best=0.0)
    with pytest.raises(ValueError, match="unsupported base"):
        constrained(pred, best=0.0, base="ucb")
    with pytest.raises(ValueError, match="unknown acquisition"):
        constrained(pred, best=0.0, base="nope")


# ---------------------------------------------------------------------------------------
# NaN handling
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SHORT_NAMES)
def test_non_finite_predictions_give_nan_without_warnings(name):
    fn = get_acquisition(name)
    mean = np.array([0.1, np.nan, np.inf, 0.5, -np.inf, 1.0])
    std = np.array([1.0, 1.0, 1.0, np.nan, 0.5, np.inf])
    samples = np.tile(np.arange(6.0), (3, 1))
    pred = Prediction(mean=mean, std=std, samples=samples, p_feasible=np.full(6, 0.5))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for goal in ("maximize", "minimize"):
            for best in (0.0, np.nan):
                scores = fn(
                    pred, best=best, goal=goal, rng=np.random.default_rng(0), **PARAMS.get(name, {})
                )
                assert scores.shape == (6,)
                if name == "random":  # ignores the predictions
                    assert np.all(np.isfinite(scores))
                else:
                    assert np.all(np.isnan(scores[1:])) and np.isfinite(scores[0])


def test_all_invalid_pool_and_nan_feasibility():
    pred = Prediction(mean=np.full(3, np.nan), std=np.ones(3), p_feasible=np.full(3, 0.5))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.all(np.isnan(expected_improvement(pred, best=np.nan)))
        assert np.all(np.isnan(constrained(pred, best=np.nan, base="log_ei")))
    pred = Prediction(mean=np.zeros(2), std=np.ones(2), p_feasible=np.array([np.nan, 0.5]))
    scores = constrained(pred, best=0.0)
    assert np.isnan(scores[0]) and np.isfinite(scores[1])


def test_extreme_but_finite_inputs_stay_quiet():
    pred = Prediction(mean=np.array([1e308, -1e308, 1.0]), std=np.array([1e-320, 1e308, 0.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in ("pi", "ei", "log_ei", "ucb", "window", "thompson"):
            scores = get_acquisition(name)(
                pred, best=-1e308, rng=np.random.default_rng(0), **PARAMS.get(name, {})
            )
            assert not np.any(np.isnan(scores))


# ---------------------------------------------------------------------------------------
# registry and selection
# ---------------------------------------------------------------------------------------


def test_registry():
    assert set(SHORT_NAMES) <= set(ACQUISITIONS)
    aliases = {
        "pi": "probability_of_improvement",
        "ei": "expected_improvement",
        "log_ei": "log_expected_improvement",
        "ucb": "upper_confidence_bound",
        "lcb": "lower_confidence_bound",
        "window": "target_window",
    }
    for short, long in aliases.items():
        assert ACQUISITIONS[short] is ACQUISITIONS[long] is getattr(acq, long)
    assert get_acquisition("EI") is expected_improvement
    assert get_acquisition(greedy) is greedy

    def custom(pred, *, best, goal="maximize", rng=None):
        return pred.mean

    assert get_acquisition(custom) is custom
    with pytest.raises(ValueError, match="unknown acquisition 'bogus'.*greedy.*log_ei"):
        get_acquisition("bogus")


def test_stochastic_names():
    assert STOCHASTIC == {"random", "thompson"} and NEEDS_RNG is STOCHASTIC
    assert is_stochastic("thompson") and is_stochastic(random)
    assert not is_stochastic("ei") and not is_stochastic(lambda pred, **kw: pred.mean)
    # deterministic functions ignore rng entirely
    pred = _pred()
    for name in set(SHORT_NAMES) - STOCHASTIC:
        fn = get_acquisition(name)
        a = fn(pred, best=0.1, rng=np.random.default_rng(1), **PARAMS.get(name, {}))
        b = fn(pred, best=0.1, rng=np.random.default_rng(2), **PARAMS.get(name, {}))
        np.testing.assert_array_equal(a, b)


def test_select_top_order_ties_and_nan():
    scores = np.array([0.5, np.nan, 2.0, 0.5, -np.inf, 2.0, np.inf, 0.5])
    np.testing.assert_array_equal(select_top(scores, 8), [6, 2, 5, 0, 3, 7, 1, 4])
    np.testing.assert_array_equal(select_top(scores, 3), [6, 2, 5])
    assert select_top(scores, 0).shape == (0,)
    assert select_top(np.full(4, np.nan), 2).tolist() == [0, 1]
    with pytest.raises(ValueError, match="number of candidates"):
        select_top(scores, 9)
    with pytest.raises(ValueError, match="number of candidates"):
        select_top(scores, -1)
    with pytest.raises(ValueError, match="1-D"):
        select_top(np.zeros((2, 2)), 1)
    with pytest.raises(TypeError, match="integer"):
        select_top(scores, 1.5)  # type: ignore[arg-type]


def test_select_top_random_tie_breaking():
    scores = np.array([1.0, 1.0, 1.0, 1.0, 3.0, np.nan])
    firsts = set()
    for seed in range(30):
        top = select_top(scores, 5, rng=np.random.default_rng(seed))
        assert top[0] == 4 and sorted(top[1:]) == [0, 1, 2, 3]
        firsts.add(int(top[1]))
    assert len(firsts) > 1


# ---------------------------------------------------------------------------------------
# properties
# ---------------------------------------------------------------------------------------

_finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
_sigma = st.floats(min_value=0.0, max_value=1e4, allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(
    mu=st.lists(_finite, min_size=1, max_size=8),
    sigma=st.lists(_sigma, min_size=8, max_size=8),
    best=_finite,
    goal=st.sampled_from(["maximize", "minimize"]),
)
def test_ei_bounds_property(mu, sigma, best, goal):
    n = len(mu)
    pred = Prediction(mean=np.array(mu), std=np.array(sigma[:n]))
    ei = expected_improvement(pred, best=best, goal=goal)
    sign = 1.0 if goal == "maximize" else -1.0
    assert np.all(ei >= 0)
    assert np.all(ei >= np.maximum(sign * (np.array(mu) - best), 0.0))
    pi = probability_of_improvement(pred, best=best, goal=goal)
    assert np.all((pi >= 0) & (pi <= 1))
    log_ei = log_expected_improvement(pred, best=best, goal=goal)
    assert not np.any(np.isnan(log_ei))
    with np.errstate(divide="ignore"):
        representable = ei > 1e-300
        # atol: near EI = 1, log EI = log(z + h) + log(sigma) is a difference of two logs
        np.testing.assert_allclose(log_ei[representable], np.log(ei[representable]),
                                   rtol=1e-9, atol=1e-12)


@settings(max_examples=300, deadline=None)
@given(
    mu=st.lists(_finite, min_size=1, max_size=8),
    sigma=st.lists(_sigma, min_size=8, max_size=8),
    bounds=st.tuples(_finite, _finite),
)
def test_window_is_a_probability_property(mu, sigma, bounds):
    n = len(mu)
    low, high = sorted(bounds)
    pred = Prediction(mean=np.array(mu), std=np.array(sigma[:n]))
    p = target_window(pred, best=0.0, low=low, high=high)
    assert np.all((p >= 0) & (p <= 1))
    wider = target_window(pred, best=0.0, low=low - 1.0, high=high + 1.0)
    assert np.all(wider >= p - 1e-12)
