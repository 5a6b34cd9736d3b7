"""Stability screening (issue 13): hull references, the two E_hull routes, bad input,
perovskite formability and the "find all stable perovskites" campaign.

Small subsets and small SISSO settings keep the file fast; every check compares against a
known number (the Emery table's own E_hull, hand-computed hulls, Bartel's published
accuracies, random picking).
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

from sisso_lite.datasets import load_emery_perovskites
from sisso_lite.screening.stability import StabilityScreen, compare_routes, default_estimator
from sisso_lite.screening.stability_campaign import (
    STABLE_THRESHOLD,
    emery_stability_pool,
    run_stability_benchmark,
    stability_strategies,
)
from sisso_lite.screening.stability_features import ABO3Features, FeaturizationError, parse_abo3
from sisso_lite.screening.stability_formability import formability_comparison
from sisso_lite.screening.stability_hull import (
    CompetingPhasesHull,
    HullError,
    TabulatedHull,
    e_hull_from_formation,
)


@pytest.fixture(scope="module")
def emery():
    X, eh, _, units = load_emery_perovskites("stability")
    ef = load_emery_perovskites("formation_energy").y
    return X, ef.loc[X.index], eh, units


@pytest.fixture(scope="module")
def emery_hull():
    return TabulatedHull.from_emery()


# ------------------------------------------------------------------------------ hulls
def test_emery_hull_identity_reproduces_the_tables_e_hull(emery, emery_hull):
    X, ef, eh, _ = emery
    assert len(emery_hull) == len(X) == 5276
    hull = np.array([emery_hull.hull_energy_of(f) for f in X.index])
    np.testing.assert_allclose(e_hull_from_formation(ef, hull), eh.to_numpy(), atol=1e-12)
    # the stable set of the issue: ~395 materials within 25 meV/atom of the hull
    assert int((e_hull_from_formation(ef, hull) <= STABLE_THRESHOLD).sum()) == 398
    # reduced-formula look-up: Sr2Ti2O6 is SrTiO3
    assert emery_hull.hull_energy_of("Sr2Ti2O6") == emery_hull.hull_energy_of("SrTiO3")
    with pytest.raises(HullError, match="NoSuchO3"):
        emery_hull.hull_energy_of("NoSuchO3")


def test_competing_phases_hull_by_hand(tmp_path):
    # SrTiO3 (5 atoms) = SrO (2 atoms) + TiO2 (3 atoms): (2 * -3.0 + 3 * -3.3) / 5 = -3.18
    hull = CompetingPhasesHull([("SrO", -3.0), ("TiO2", -3.3), ("Sr2TiO4", -2.0)])
    assert hull.hull_energy_of("SrTiO3") == pytest.approx(-3.18, abs=1e-12)
    assert hull.hull_energy_of("SrO") == pytest.approx(-3.0, abs=1e-12)
    assert hull.hull_energy_of("Sr") == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(HullError, match=r"BaTiO3.*do not span.*Ba"):
        hull.hull_energy_of("BaTiO3")
    # total energies with elemental references give the same formation-energy hull
    mu = {"Sr": -1.7, "Ti": -7.8, "O": -4.9}
    total = [("Sr", mu["Sr"]), ("Ti", mu["Ti"]), ("O", mu["O"]),
             ("SrO", -3.0 + (mu["Sr"] + mu["O"]) / 2),
             ("TiO2", -3.3 + (mu["Ti"] + 2 * mu["O"]) / 3)]
    assert CompetingPhasesHull(total, energies="total").hull_energy_of(
        "SrTiO3") == pytest.approx(-3.18, abs=1e-9)
    with pytest.raises(ValueError, match="phase diagram"):
        CompetingPhasesHull(total[1:], energies="total")  # no Sr reference
    # JSON: plain objects and serialised pymatgen entries
    path = tmp_path / "phases.json"
    path.write_text(json.dumps([{"composition": "SrO", "energy_per_atom": -3.0},
                                {"composition": "TiO2", "energy_per_atom": -3.3}]))
    assert CompetingPhasesHull.from_json(path).hull_energy_of("SrTiO3") == pytest.approx(-3.18)
    from pymatgen.entries.computed_entries import ComputedEntry

    entries = [ComputedEntry("SrO", -6.0).as_dict(), ComputedEntry("TiO2", -9.9).as_dict()]
    path.write_text(json.dumps(entries))
    assert CompetingPhasesHull.from_json(path).hull_energy_of("SrTiO3") == pytest.approx(-3.18)
    path.write_text("{not json")
    with pytest.raises(ValueError, match="phases.json"):
        CompetingPhasesHull.from_json(path)


# ------------------------------------------------------------------------------ features
def test_abo3_features_reproduce_the_emery_rows(emery):
    X, *_ = emery
    feats, skipped = ABO3Features().featurize(pd.DataFrame(index=X.index[::97]))
    assert skipped.empty
    np.testing.assert_allclose(feats.to_numpy(), X.iloc[::97].to_numpy(), rtol=1e-12)
    assert parse_abo3("La2O3") == ("La", "La") and parse_abo3("SrTiO3") == ("Sr", "Ti")
    with pytest.raises(FeaturizationError, match="Fe2O4"):
        parse_abo3("Fe2O4")
    with pytest.raises(FeaturizationError, match=r"XxTiO3.*Xx has no A-site radius"):
        ABO3Features().featurize_one("XxTiO3")


# ------------------------------------------------------------------------------ routes
def test_route_a_with_true_formation_energy_has_zero_error(emery, emery_hull):
    X, ef, eh, _ = emery
    sub = np.random.default_rng(1).permutation(len(X))[:1200]
    # a "law" that knows E_f exactly: linear regression on the E_f column itself
    Xs = X.iloc[sub].assign(E_f_true=ef.iloc[sub].to_numpy())[["E_f_true"]]
    table, pred = compare_routes(Xs, ef.iloc[sub], eh.iloc[sub], emery_hull,
                                 estimator=LinearRegression(), return_predictions=True)
    a, b = table.loc["formation (a)"], table.loc["hull (b)"]
    assert a.MAE_meV < 1e-9 and a.RMSE_meV < 1e-9
    assert a.recall == 1.0 and a.precision == 1.0 and a.n_stable_true > 10
    assert np.isfinite(b.MAE_meV) and b.MAE_meV > 50  # E_hull is not linear in E_f
    assert pred.stable_true.sum() == a.n_stable_true
    np.testing.assert_allclose(pred.E_hull_formation, pred.E_hull_true, atol=1e-9)


def test_route_comparison_with_sisso_beats_the_mean(emery, emery_hull):
    X, ef, eh, units = emery
    sub = np.random.default_rng(0).permutation(len(X))[:1000]
    est = default_estimator(units, 0, n_estimators=8, n_dim=2, max_complexity=2)
    table = compare_routes(X.iloc[sub], ef.iloc[sub], eh.iloc[sub], emery_hull,
                           estimator=est, test_size=0.25)
    assert list(table.index) == ["formation (a)", "hull (b)"]
    assert np.isfinite(table[["MAE_meV", "RMSE_meV"]].to_numpy()).all()
    # predicting the mean E_hull has MAE ~ 0.5 eV/atom; the direct SISSO law is better
    mean_mae = float(np.mean(np.abs(eh.iloc[sub] - eh.iloc[sub].mean()))) * 1000
    assert table.loc["hull (b)", "MAE_meV"] < 0.9 * mean_mae
    assert table.law.str.startswith(("E_f = ", "E_hull = ")).all()
    assert table.loc["formation (a)", "law"].count("*") >= 2  # a formula, not a class name


# ------------------------------------------------------------------------------ the screen
def test_screen_ranks_and_skips_bad_candidates_by_name(emery, emery_hull):
    X, ef, eh, units = emery
    train = X.iloc[:600]
    screen = StabilityScreen(route="formation", hull=emery_hull, units=units,
                             estimator=default_estimator(units, 0, n_estimators=6, n_dim=2))
    assert screen.fit(train, ef.iloc[:600]) is screen
    assert screen.n_features_in_ == 6 and screen.law_.startswith("E_f = ")
    mean, std = screen.predict(X.iloc[600:650], return_std=True)
    np.testing.assert_allclose(
        mean, screen.predict_target(X.iloc[600:650]) - (ef - eh).iloc[600:650].to_numpy())
    assert (std > 0).all()
    cands = pd.DataFrame({"formula": ["SrTiO3", "XxTiO3", "BaZrO3", "LaAlO3", "FeTiO4"]})
    with pytest.warns(UserWarning, match=r"skipped 2 of 5.*XxTiO3"):
        ranked = screen.screen(cands)
    assert list(ranked.formula.sort_values()) == ["BaZrO3", "LaAlO3", "SrTiO3"]
    assert ranked.E_hull_meV.is_monotonic_increasing and list(ranked.index) == [1, 2, 3]
    assert ranked.P_stable.between(0, 1).all() and (ranked.route == "formation").all()
    np.testing.assert_allclose(ranked.E_hull_meV, ranked.E_f_meV - ranked.hull_energy_meV)
    skipped = screen.skipped_.set_index("compound").reason
    assert "Xx has no A-site radius" in skipped["XxTiO3"]
    assert "not an ABO3 formula" in skipped["FeTiO4"]

    # competing phases that do not span a candidate: that one is skipped, the rest ranked
    phases = CompetingPhasesHull([("SrO", -3.0), ("TiO2", -3.3), ("ZrO2", -3.8),
                                  ("BaO", -2.8)])
    screen2 = StabilityScreen(route="formation", hull=phases,
                              estimator=LinearRegression()).fit(train, ef.iloc[:600])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ranked2 = screen2.screen(cands.iloc[[0, 2, 3]])
    assert list(ranked2.formula.sort_values()) == ["BaZrO3", "SrTiO3"]
    assert ranked2.sigma_meV.eq(0).all() and ranked2.P_stable.isin([0.0, 1.0]).all()
    reason = screen2.skipped_.set_index("compound").reason["LaAlO3"]
    assert "LaAlO3" in reason and "do not span" in reason and "Al, La" in reason
    with pytest.raises(HullError, match="LaAlO3"):
        screen2.predict(X.loc[["LaAlO3"]])


def test_screen_parameters_are_validated(emery):
    X, ef, eh, _ = emery
    with pytest.raises(ValueError, match="route must be one of"):
        StabilityScreen(route="energy").fit(X.iloc[:50], eh.iloc[:50])
    with pytest.raises(ValueError, match="needs hull="):
        StabilityScreen(route="formation").fit(X.iloc[:50], ef.iloc[:50])
    with pytest.raises(ValueError, match="non-finite"):
        StabilityScreen(route="hull", estimator=LinearRegression()).fit(
            X.iloc[:3], [0.1, math.nan, 0.2])
    screen = StabilityScreen(route="hull", estimator=LinearRegression()).fit(
        X.iloc[:100], eh.iloc[:100])
    with pytest.raises(ValueError, match="lacks the features"):
        screen.predict(X.iloc[:5, :3])
    assert screen.get_params()["route"] == "hull"


# ------------------------------------------------------------------------------ formability
def test_bartel_formability_matches_the_published_accuracies():
    table, clf = formability_comparison()
    # Bartel et al., Sci. Adv. 5, eaav0693 (2019): tau 91 %, t 74 % on the 576 compounds
    assert round(table.loc["Bartel tau", "all"], 2) == 0.91
    assert round(table.loc["Goldschmidt t", "all"], 2) == 0.74
    assert table.loc["Bartel tau", "test"] == pytest.approx(109 / 116)
    sisso = table.loc["SISSO classifier"]
    assert table.loc["Goldschmidt t", "test"] < sisso.test < table.loc["Bartel tau", "test"]
    assert sisso.rule.endswith("> 0")


# ------------------------------------------------------------------------------ property map
def test_bulk_modulus_map_ranks_held_out_perovskites():
    from sisso_lite.datasets import load_foppa_perovskites
    from sisso_lite.screening.stability_map import (
        bulk_modulus_estimator,
        evaluate_map,
        property_map,
    )

    X, y, _, units = load_foppa_perovskites()
    order = np.random.default_rng(0).permutation(len(X))
    fit, held = X.index[order[:400]], X.index[order[400:]]
    table, _ = property_map(X.loc[fit], y.loc[fit], X.loc[held],
                            bulk_modulus_estimator(units, 0, n_estimators=8))
    assert list(table["rank"]) == list(range(1, 105)) and table.predicted.is_monotonic_decreasing
    metrics, joined = evaluate_map(table, y.loc[held].to_frame(), top_k=(25,))
    row = metrics.loc["all"]
    assert row.n == 104 and len(joined) == 104
    assert row.spearman > 0.5 and row.top25_overlap > 2 * row.top25_random
    assert 0.7 < row.coverage_90 <= 1.0
    with pytest.raises(ValueError, match="lack the features"):
        property_map(X.loc[fit], y.loc[fit], X.loc[held].iloc[:, :3])


# ------------------------------------------------------------------------------ campaign
def test_window_campaign_finds_more_stable_than_random():
    pool, _ = emery_stability_pool()
    strategies = {k: v for k, v in stability_strategies().items() if k != "sisso-greedy"}
    summary, traces, runs = run_stability_benchmark(
        pool, seeds=[0], budget=100, batch_size=10, n_initial=10, strategies=strategies,
        checkpoints=(50, 100))
    assert summary.attrs["n_stable"] == 398 and (traces.n_targets == 398).all()
    found = traces.groupby("strategy").hit.sum()
    assert found["sisso-window"] > found["random"]
    # random picking finds 100 * 398 / 5276 = 7.5 stable materials on average
    assert found["sisso-window"] >= 1.5 * summary.loc["random (closed form)", "n_found_median"]
    assert summary.loc["sisso-window", "f100_median"] == pytest.approx(
        found["sisso-window"] / 398)
    assert runs.set_index("strategy").loc["sisso-window", "final_formula"]
