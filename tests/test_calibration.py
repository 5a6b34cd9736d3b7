"""Recalibration (sigma scaling, isotonic) and uncertainty plots."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
from scipy import optimize

from sisso_lite import uncertainty as unc
from sisso_lite.uncertainty.calibration import (
    IsotonicRecalibration,
    SigmaScaling,
    make_recalibrator,
)
from sisso_lite.uncertainty.plotting import plot_calibration_curve, plot_parity_with_errorbars

matplotlib.use("Agg")


def _overconfident(n: int, seed: int, factor: float = 2.5, df: float | None = None):
    rng = np.random.default_rng(seed)
    mu = rng.normal(size=n)
    sigma = rng.uniform(0.1, 1.0, size=n)
    noise = rng.standard_normal(n) if df is None else rng.standard_t(df, n)
    return mu + factor * sigma * noise, mu, sigma


def test_sigma_scaling_minimises_nll():
    y, mu, sigma = _overconfident(500, 0)
    rec = SigmaScaling().fit(y, mu, sigma)
    res = optimize.minimize_scalar(lambda s: unc.nll_gaussian(y, mu, s * sigma),
                                   bounds=(1e-2, 1e2), method="bounded",
                                   options={"xatol": 1e-8})
    assert rec.scale_ == pytest.approx(res.x, rel=1e-4)
    assert rec.scale_ == pytest.approx(2.5, rel=0.1)
    np.testing.assert_allclose(rec.transform(sigma), rec.scale_ * sigma)


@pytest.mark.parametrize("kind", ["sigma", "isotonic"])
def test_recalibration_fixes_heldout_coverage(kind):
    y_cal, mu_cal, s_cal = _overconfident(2000, 1)
    y, mu, s = _overconfident(2000, 2)
    raw = unc.uncertainty_metrics(y, mu, s)
    rec = make_recalibrator(kind).fit(y_cal, mu_cal, s_cal)
    cal = unc.uncertainty_metrics(y, mu, s, recalibrator=rec)
    assert raw["picp_90"] < 0.6
    assert 0.87 <= cal["picp_90"] <= 0.93
    assert cal["miscal_area"] < 0.03 < raw["miscal_area"]
    assert cal["nll"] < raw["nll"]


def test_isotonic_handles_heavy_tails_and_bias():
    # Student-t noise with a shift: sigma scaling cannot fix all levels, isotonic can
    y_cal, mu_cal, s_cal = _overconfident(4000, 3, factor=1.0, df=2.5)
    y, mu, s = _overconfident(4000, 4, factor=1.0, df=2.5)
    y_cal, y = y_cal + 0.3 * s_cal, y + 0.3 * s
    iso = IsotonicRecalibration().fit(y_cal, mu_cal, s_cal)
    sig = SigmaScaling().fit(y_cal, mu_cal, s_cal)
    a_iso = unc.miscalibration_area(y, mu, s, recalibrator=iso)
    a_sig = unc.miscalibration_area(y, mu, s, recalibrator=sig)
    assert a_iso < 0.02
    assert a_iso < a_sig
    for level in (0.68, 0.9, 0.95):
        lo, hi = iso.interval(mu, s, level)
        assert np.all(lo < hi)
        assert unc.picp(y, lo, hi) == pytest.approx(level, abs=0.03)


def test_isotonic_level_map_monotone_and_identity_when_calibrated():
    rng = np.random.default_rng(5)
    mu, s = rng.normal(size=5000), np.full(5000, 0.5)
    y = mu + s * rng.standard_normal(5000)
    iso = IsotonicRecalibration().fit(y, mu, s)
    q = np.linspace(0.01, 0.99, 50)
    mapped = iso.recalibrated_level(q)
    assert np.all(np.diff(mapped) >= 0)
    np.testing.assert_allclose(mapped, q, atol=0.03)
    assert iso.scale_ == pytest.approx(1.0, abs=0.05)


def test_recalibrators_validate_inputs():
    with pytest.raises(ValueError, match="length mismatch"):
        SigmaScaling().fit([1.0, 2.0], [1.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="strictly positive"):
        IsotonicRecalibration().fit([1.0, 2.0], [1.0, 2.0], [1.0, 0.0])
    with pytest.raises(ValueError, match="calibrate"):
        make_recalibrator("platt")
    assert make_recalibrator(None) is None
    rec = SigmaScaling().fit([1.0, 2.0, 3.0], [1.1, 2.0, 2.8], [0.1, 0.1, 0.1])
    with pytest.raises(ValueError, match="strictly positive"):
        rec.transform([-1.0])


def test_plots_render(tmp_path):
    y, mu, s = _overconfident(200, 6)
    iso = IsotonicRecalibration().fit(y, mu, s)
    ax = plot_calibration_curve(y, mu, s, label="raw")
    plot_calibration_curve(y, mu, s, ax=ax, recalibrator=iso, label="isotonic")
    ax.figure.savefig(tmp_path / "cal.png")
    ax2 = plot_parity_with_errorbars(y, mu, s, recalibrator=iso, label="test")
    ax2.figure.savefig(tmp_path / "parity.png")
    assert (tmp_path / "cal.png").stat().st_size > 1000
    assert (tmp_path / "parity.png").stat().st_size > 1000
    assert len(ax.lines) >= 3


def test_isotonic_very_overconfident_sigma_keeps_levels_apart():
    # raw sigma 20x too small: most |z| exceed 4.75, where clipped levels used to make the
    # 68/90/95 % intervals identical (+-4.75 sigma) and under-cover
    y_cal, mu_cal, s_cal = _overconfident(2000, 6, factor=20.0)
    y, mu, s = _overconfident(2000, 7, factor=20.0)
    z = np.abs(y_cal - mu_cal) / s_cal
    assert np.mean(z > 4.75) > 0.5
    iso = IsotonicRecalibration().fit(y_cal, mu_cal, s_cal)
    levels = (0.5, 0.68, 0.8, 0.9, 0.95, 0.99, 0.999)
    widths, coverage = [], []
    for level in levels:
        lo, hi = iso.interval(mu, s, level)
        widths.append(float(np.mean(hi - lo)))
        coverage.append(unc.picp(y, lo, hi))
    assert np.all(np.diff(widths) > 0)
    assert np.all(np.diff(coverage) >= 0)
    for level, cov in zip(levels[:5], coverage[:5], strict=True):
        assert cov == pytest.approx(level, abs=0.03)
    assert coverage[-1] >= 0.99
    lo90, hi90 = iso.interval(mu, s, 0.9)
    lo95, hi95 = iso.interval(mu, s, 0.95)
    assert np.all(hi95 - lo95 > hi90 - lo90)
    # beyond the observed levels the tail continues (sigma-scaled Gaussian), no clipping
    q = iso.quantile(mu[:1], s[:1], 1e-9)[0] - mu[0]
    assert q < iso.quantile(mu[:1], s[:1], 1e-4)[0] - mu[0] < 0
    assert iso.tail_scale_ == pytest.approx(20.0, rel=0.1)
