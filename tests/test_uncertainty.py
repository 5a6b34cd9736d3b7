"""Uncertainty metrics, cross-checked against uncertainty-toolbox 0.1.1."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from sisso_lite import uncertainty as unc

uct = pytest.importorskip("uncertainty_toolbox")


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    n = 300
    mu = rng.normal(size=n)
    sigma = rng.uniform(0.2, 1.5, size=n)
    # mildly over-confident and biased predictions
    y = mu + 0.1 + 1.3 * sigma * rng.standard_normal(n)
    return y, mu, sigma


def test_accuracy_matches_uct(data):
    y, mu, _ = data
    ref = uct.metrics_accuracy.prediction_error_metrics(mu, y)
    assert unc.mae(y, mu) == pytest.approx(ref["mae"], rel=1e-12)
    assert unc.rmse(y, mu) == pytest.approx(ref["rmse"], rel=1e-12)


@pytest.mark.parametrize("n_bins", [100, 37])
def test_calibration_metrics_match_uct(data, n_bins):
    y, mu, sigma = data
    exp_p, obs_p = unc.calibration_curve(y, mu, sigma, n_bins=n_bins)
    ref_e, ref_o = uct.get_proportion_lists_vectorized(mu, sigma, y, num_bins=n_bins)
    np.testing.assert_allclose(exp_p, ref_e)
    np.testing.assert_allclose(obs_p, ref_o)
    assert unc.miscalibration_area(y, mu, sigma, n_bins=n_bins) == pytest.approx(
        uct.miscalibration_area(mu, sigma, y, num_bins=n_bins), abs=1e-12)
    assert unc.mace(y, mu, sigma, n_bins=n_bins) == pytest.approx(
        uct.mean_absolute_calibration_error(mu, sigma, y, num_bins=n_bins), abs=1e-12)
    assert unc.rmsce(y, mu, sigma, n_bins=n_bins) == pytest.approx(
        uct.root_mean_squared_calibration_error(mu, sigma, y, num_bins=n_bins), abs=1e-12)


def test_miscal_area_with_crossing_curve():
    exp_p = np.linspace(0, 1, 11)
    rng = np.random.default_rng(1)
    obs_p = np.clip(exp_p + rng.normal(scale=0.1, size=11), 0, 1)
    ref = uct.metrics_calibration.miscalibration_area_from_proportions(exp_p, obs_p)
    assert unc.miscalibration_area_from_proportions(exp_p, obs_p) == pytest.approx(ref)


def test_scores_match_uct(data):
    y, mu, sigma = data
    assert unc.sharpness(sigma) == pytest.approx(uct.sharpness(sigma))
    assert unc.nll_gaussian(y, mu, sigma) == pytest.approx(uct.nll_gaussian(mu, sigma, y))
    assert unc.crps_gaussian(y, mu, sigma) == pytest.approx(uct.crps_gaussian(mu, sigma, y))


def test_crps_against_numerical_integral():
    y, mu, s = 0.7, -0.2, 0.8
    grid = np.linspace(-12, 12, 200001)
    cdf = stats.norm.cdf(grid, mu, s)
    num = integrate.trapezoid((cdf - (grid >= y)) ** 2, grid)
    assert unc.crps_gaussian([y], [mu], [s]) == pytest.approx(num, rel=1e-4)


def test_interval_coverage_and_width(data):
    y, mu, sigma = data
    for level in (0.68, 0.9, 0.95):
        lo, hi = unc.gaussian_interval(mu, sigma, level)
        ref = uct.metrics_calibration.get_prediction_interval(mu, sigma, np.array([level]))
        np.testing.assert_allclose(lo, ref.lower)
        np.testing.assert_allclose(hi, ref.upper)
        assert unc.picp(y, lo, hi) == pytest.approx(
            uct.metrics_calibration.get_proportion_in_interval(mu, sigma, y, level))
        z = stats.norm.ppf(0.5 + level / 2)
        assert unc.interval_width(lo, hi) == pytest.approx(2 * z * sigma.mean())


def test_perfectly_calibrated_gaussian_is_calibrated():
    rng = np.random.default_rng(2)
    n = 20000
    mu = rng.normal(size=n)
    sigma = rng.uniform(0.1, 2.0, size=n)
    y = mu + sigma * rng.standard_normal(n)
    m = unc.uncertainty_metrics(y, mu, sigma)
    assert m["miscal_area"] < 0.01
    assert m["picp_90"] == pytest.approx(0.90, abs=0.01)
    assert m["picp_68"] == pytest.approx(0.68, abs=0.01)
    assert m["spearman"] > 0.3


def test_spearman(data):
    y, mu, sigma = data
    ref = stats.spearmanr(np.abs(y - mu), sigma).statistic
    assert unc.spearman_error_sigma(y, mu, sigma) == pytest.approx(ref)
    assert np.isnan(unc.spearman_error_sigma(y, mu, np.ones_like(y)))


def test_metrics_dict_keys(data):
    m = unc.uncertainty_metrics(*data)
    for key in ("mae", "rmse", "miscal_area", "mace", "rmsce", "sharpness", "nll", "crps",
                "spearman", "picp_68", "picp_90", "picp_95", "width_68", "width_90",
                "width_95"):
        assert key in m and np.isfinite(m[key])


@pytest.mark.parametrize(
    ("y", "mu", "sigma", "match"),
    [
        ([1.0, 2.0], [1.0], [1.0, 1.0], "length mismatch"),
        ([1.0, 2.0], [1.0, 2.0], [1.0, 0.0], "strictly positive"),
        ([1.0, 2.0], [1.0, 2.0], [1.0, -1.0], "strictly positive"),
        ([1.0, np.nan], [1.0, 2.0], [1.0, 1.0], "NaN"),
        ([1.0, 2.0], [1.0, np.inf], [1.0, 1.0], "NaN"),
        ([], [], [], "empty"),
        (np.ones((2, 2)), np.ones(4), np.ones(4), "1-D"),
    ],
)
def test_bad_inputs(y, mu, sigma, match):
    with pytest.raises(ValueError, match=match):
        unc.uncertainty_metrics(y, mu, sigma)


def test_bad_level_and_interval():
    with pytest.raises(ValueError, match="level"):
        unc.gaussian_interval([0.0], [1.0], 1.0)
    with pytest.raises(ValueError, match="upper bound"):
        unc.picp([0.0], [1.0], [0.0])
    with pytest.raises(ValueError, match="strictly positive"):
        unc.sharpness([1.0, 0.0])
