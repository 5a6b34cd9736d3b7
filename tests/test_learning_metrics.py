"""Sequential-learning metrics (Rohr et al., Chem. Sci. 11, 2696 (2020)) and their plots."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pandas as pd
import pytest

from sisso_lite.learning.metrics import (
    acceleration_factor,
    enhancement_factor,
    first_hit,
    fraction_found,
    hits,
    random_first_hit,
    random_fraction_found,
    summarize_traces,
    top_fraction_mask,
)
from sisso_lite.learning.plotting import plot_best_so_far, plot_fraction_found

matplotlib.use("Agg")

# --------------------------------------------------------------------------- top_fraction_mask


def test_top_fraction_mask_ties_included():
    mask = top_fraction_mask([1.0, 5.0, 3.0, 5.0, 2.0], fraction=0.2)
    np.testing.assert_array_equal(mask, [False, True, False, True, False])


def test_top_fraction_mask_nan_and_minimize():
    values = [np.nan, 4.0, 1.0, 3.0, np.nan, 2.0]
    top = top_fraction_mask(values, fraction=0.5)  # K = ceil(0.5 * 4 finite) = 2
    np.testing.assert_array_equal(top, [False, True, False, True, False, False])
    low = top_fraction_mask(values, fraction=0.5, goal="minimize")
    np.testing.assert_array_equal(low, [False, False, True, False, False, True])


def test_top_fraction_mask_infinite_never_selected():
    mask = top_fraction_mask([np.inf, 1.0, 2.0, -np.inf], fraction=0.5, goal="maximize")
    np.testing.assert_array_equal(mask, [False, False, True, False])


def test_top_fraction_mask_counts_and_round_off():
    rng = np.random.default_rng(0)
    assert top_fraction_mask(rng.normal(size=2121)).sum() == 22  # ceil(21.21)
    assert top_fraction_mask(rng.normal(size=2100)).sum() == 21
    # 0.07 * 100 == 7.000000000000001 in floating point: still 7 targets, not 8
    assert top_fraction_mask(rng.normal(size=100), fraction=0.07).sum() == 7
    assert top_fraction_mask([3.0, 1.0, 2.0], fraction=1.0).all()
    assert top_fraction_mask([3.0, 1.0, 2.0], fraction=1e-6).sum() == 1


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"values": [1.0, 2.0], "fraction": 0.0}, "fraction"),
        ({"values": [1.0, 2.0], "fraction": 1.5}, "fraction"),
        ({"values": [1.0, 2.0], "goal": "max"}, "goal"),
        ({"values": [[1.0, 2.0]]}, "values"),
        ({"values": [np.nan, np.nan]}, "values"),
    ],
)
def test_top_fraction_mask_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        top_fraction_mask(**kwargs)


# --------------------------------------------------------------------------- single traces


def test_hits_small_example():
    mask = np.array([True, False, False, True])
    np.testing.assert_array_equal(hits([3, 0, 1], mask), [True, True, False])
    assert hits(np.array([], dtype=int), mask).shape == (0,)


@pytest.mark.parametrize(
    ("order", "match"),
    [
        ([0, 0], "repeated"),
        ([4], r"\[0, 4\)"),
        ([-1], r"\[0, 4\)"),
        ([0.0, 1.0], "integer"),
        ([[0, 1]], "acquired_order"),
    ],
)
def test_hits_validation(order, match):
    with pytest.raises(ValueError, match=match):
        hits(order, [True, False, False, True])


def test_hits_rejects_non_boolean_mask():
    with pytest.raises(ValueError, match="target_mask"):
        hits([0], [0.5, 1.0])


def test_first_hit():
    assert first_hit([False, False, True, True]) == 3.0
    assert first_hit([True]) == 1.0
    assert first_hit([False, False]) == np.inf
    assert first_hit([]) == np.inf
    assert first_hit([0, 1]) == 2.0


def test_fraction_found():
    f = fraction_found([False, True, False, True], n_targets=4)
    np.testing.assert_allclose(f, [0.0, 0.25, 0.25, 0.5])
    with pytest.raises(ValueError, match="n_targets"):
        fraction_found([True, True, True], n_targets=2)
    with pytest.raises(ValueError, match="n_targets"):
        fraction_found([True], n_targets=0)


def test_random_closed_forms_small():
    assert random_first_hit(200, 5) == pytest.approx(201 / 6)
    assert random_first_hit(10, 10) == 1.0  # every pick is a hit
    np.testing.assert_allclose(random_fraction_found([0, 50, 200], 200), [0.0, 0.25, 1.0])
    with pytest.raises(ValueError, match="n_targets"):
        random_first_hit(5, 6)
    with pytest.raises(ValueError, match="n_pool"):
        random_first_hit(0, 1)
    with pytest.raises(ValueError, match="i must lie"):
        random_fraction_found(201, 200)


def test_enhancement_factor():
    ef = enhancement_factor([0.0, 0.25, 0.25, 0.5], n_pool=100)
    np.testing.assert_allclose(ef, [0.0, 12.5, 100 / 12, 12.5])
    with pytest.raises(ValueError, match="n_pool"):
        enhancement_factor([0.0, 0.5, 1.0], n_pool=2)


def test_acceleration_factor():
    f = [0.0, 0.25, 0.25, 0.5]
    assert acceleration_factor(f, n_pool=100, f_star=0.5) == pytest.approx(50 / 4)
    assert acceleration_factor(f, n_pool=100, f_star=0.25) == pytest.approx(25 / 2)
    assert np.isnan(acceleration_factor(f, n_pool=100, f_star=0.75))
    with pytest.raises(ValueError, match="f_star"):
        acceleration_factor(f, n_pool=100, f_star=0.0)


@pytest.mark.parametrize("f_star", [0.1, 0.3, 0.5, 1.0])
def test_oracle_ordering_acceleration(f_star):
    rng = np.random.default_rng(1)
    values = rng.normal(size=200)
    mask = top_fraction_mask(values, fraction=0.035)  # K = 7
    n_targets = int(mask.sum())
    assert n_targets == 7
    order = np.argsort(-values)  # best first
    f = fraction_found(hits(order, mask), n_targets)
    expected = f_star * 200 / math.ceil(f_star * n_targets)
    assert acceleration_factor(f, 200, f_star) == pytest.approx(expected)
    assert first_hit(hits(order, mask)) == 1.0


def test_random_closed_forms_match_monte_carlo():
    n_pool, n_targets, n_perm = 200, 5, 20000
    rng = np.random.default_rng(2024)
    mask = np.zeros(n_pool, dtype=bool)
    mask[rng.choice(n_pool, n_targets, replace=False)] = True
    orders = np.argsort(rng.random((n_perm, n_pool)), axis=1)
    flags = mask[orders]
    first = np.array([first_hit(row) for row in flags])
    expected_first = random_first_hit(n_pool, n_targets)
    assert abs(first.mean() - expected_first) / expected_first < 0.03
    mean_f = np.mean([fraction_found(row, n_targets) for row in flags], axis=0)
    steps = np.arange(1, n_pool + 1)
    np.testing.assert_allclose(mean_f, random_fraction_found(steps, n_pool), atol=0.01)
    mean_ef = np.mean([enhancement_factor(fraction_found(r, n_targets), n_pool) for r in flags],
                      axis=0)
    np.testing.assert_allclose(mean_ef[49:], 1.0, atol=0.05)  # EF of random picking ~ 1


# --------------------------------------------------------------------------- summarize_traces


def _trace_rows(strategy, seed, flags, n_pool=100, n_targets=4, values=None):
    rows = []
    for step, hit in enumerate(flags, start=1):
        row = {"strategy": strategy, "seed": seed, "step": step, "hit": bool(hit),
               "n_pool": n_pool, "n_targets": n_targets}
        if values is not None:
            row["value"] = values[step - 1]
        rows.append(row)
    return rows


def _synthetic_traces(shuffle: bool = True):
    rows = []
    rows += _trace_rows("good", 0, [1, 1, 0, 0, 0, 0])
    rows += _trace_rows("good", 1, [0, 1, 1, 0, 0, 0])
    rows += _trace_rows("good", 2, [0, 0, 0, 1, 1, 0])
    rows += _trace_rows("bad", 0, [0, 0, 0, 0, 0, 0])
    rows += _trace_rows("bad", 1, [0, 0, 1])  # shorter trace
    table = pd.DataFrame(rows)
    if shuffle:  # row order must not matter
        table = table.sample(frac=1.0, random_state=3).reset_index(drop=True)
    return table


def test_summarize_traces_synthetic():
    out = summarize_traces(_synthetic_traces(), checkpoints=(2, 4, 6), f_star=0.5)
    assert sorted(out.index) == ["bad", "good", "random (closed form)"]
    assert out.index[-1] == "random (closed form)" and out.index.name == "strategy"
    ordered = summarize_traces(_synthetic_traces(shuffle=False), checkpoints=(2, 4, 6))
    assert list(ordered.index) == ["good", "bad", "random (closed form)"]  # first appearance
    pd.testing.assert_frame_equal(ordered.loc[out.index], out)
    good, bad, rnd = out.loc["good"], out.loc["bad"], out.loc["random (closed form)"]
    # good: first hits 1, 2, 4
    assert (good.first_hit_median, good.first_hit_q25, good.first_hit_q75) == (2.0, 1.5, 3.0)
    # f(2) = 0.5, 0.25, 0; f(4) = 0.5, 0.5, 0.25
    assert (good.f2_median, good.f2_q25, good.f2_q75) == (0.25, 0.125, 0.375)
    assert (good.f4_median, good.f4_q25, good.f4_q75) == (0.5, 0.375, 0.5)
    assert good.f6_median == 0.5
    assert good.ef6_median == pytest.approx(0.5 * 100 / 6)
    # f reaches 0.5 at picks 2, 3, 5 -> AF = 50/2, 50/3, 50/5
    assert good.af_median == pytest.approx(50 / 3)
    assert good.af_q25 == pytest.approx((10 + 50 / 3) / 2)
    assert good.af_q75 == pytest.approx((50 / 3 + 25) / 2)
    assert good.n_seeds == 3 and good.af_reached == 3
    # bad: one trace without hits (first hit inf), one of length 3 (NaN beyond)
    assert bad.first_hit_median == np.inf and bad.first_hit_q75 == np.inf
    assert bad.f2_median == 0.0 and bad.f6_median == 0.0 and bad.ef6_median == 0.0
    assert np.isnan(bad.af_median) and bad.af_reached == 0 and bad.n_seeds == 2
    # closed forms: (N+1)/(K+1), c/N, EF = AF = 1
    assert rnd.first_hit_median == pytest.approx(101 / 5)
    assert (rnd.f2_median, rnd.f4_median, rnd.f6_median) == pytest.approx((0.02, 0.04, 0.06))
    assert rnd.ef6_median == 1.0 and rnd.af_median == 1.0
    assert np.isnan(rnd.first_hit_q25) and np.isnan(rnd.n_seeds)


def test_summarize_traces_default_columns():
    rows = _trace_rows("s", 0, [0] * 149 + [1], n_pool=1000, n_targets=10)
    out = summarize_traces(pd.DataFrame(rows))
    expected = {f"{m}_{q}" for m in ("first_hit", "f50", "f100", "f150", "ef150", "af")
                for q in ("median", "q25", "q75")} | {"af_reached", "n_seeds"}
    assert set(out.columns) == expected
    assert out.loc["s", "first_hit_median"] == 150.0
    assert out.loc["s", "ef150_median"] == pytest.approx(0.1 * 1000 / 150)


def test_summarize_traces_validation():
    table = _synthetic_traces()
    with pytest.raises(ValueError, match="missing columns"):
        summarize_traces(table.drop(columns="n_targets"))
    gap = table[~((table.strategy == "good") & (table.seed == 0) & (table.step == 3))]
    with pytest.raises(ValueError, match="1..L"):
        summarize_traces(gap)
    mixed = table.copy()
    mixed.loc[mixed.strategy == "bad", "n_pool"] = 50
    with pytest.raises(ValueError, match="n_pool"):
        summarize_traces(mixed)
    with pytest.raises(ValueError, match="checkpoints"):
        summarize_traces(table, checkpoints=(4, 2))
    with pytest.raises(ValueError, match="f_star"):
        summarize_traces(table, f_star=2.0)


# --------------------------------------------------------------------------- plots


def test_plot_fraction_found_lines():
    table = _synthetic_traces()
    ax = plot_fraction_found(table)
    assert len(ax.get_lines()) == 3  # two strategies + random
    assert len(ax.collections) == 2  # one IQR band per strategy
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == {"good (n=3)", "bad (n=2)", "random (i/N)"}
    np.testing.assert_allclose(lines["good (n=3)"].get_ydata(), [0, 0.25, 0.5, 0.5, 0.5, 0.5])
    np.testing.assert_allclose(lines["bad (n=2)"].get_ydata(), [0, 0, 0.125, 0, 0, 0])
    np.testing.assert_allclose(lines["random (i/N)"].get_ydata(), np.arange(7) / 100)
    assert len(plot_fraction_found(table, show_random=False).get_lines()) == 2


def test_plot_fraction_found_into_given_axes():
    from matplotlib.figure import Figure

    ax = Figure().add_subplot()
    assert plot_fraction_found(_synthetic_traces(), ax=ax) is ax


def test_plot_best_so_far():
    rows = []
    rows += _trace_rows("a", 0, [0, 0, 0], values=[1.0, 3.0, 2.0])
    rows += _trace_rows("a", 1, [0, 0, 0], values=[2.0, np.nan, 5.0])
    rows += _trace_rows("b", 0, [0, 0], values=[0.5, 0.2])
    table = pd.DataFrame(rows)
    ax = plot_best_so_far(table)
    assert len(ax.get_lines()) == 2 and len(ax.collections) == 2
    # running max: seed 0 -> 1, 3, 3; seed 1 -> 2, 2, 5; median per step
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), [1.5, 2.5, 4.0])
    low = plot_best_so_far(table, goal="minimize")
    np.testing.assert_allclose(low.get_lines()[1].get_ydata(), [0.5, 0.2])
    with pytest.raises(ValueError, match="missing columns"):
        plot_best_so_far(table.drop(columns="value"))
    with pytest.raises(ValueError, match="goal"):
        plot_best_so_far(table, goal="best")
