"""Magnetic screening (issue 13): mcif labels, sublattice geometry, the Frey FM/AFM split, the
two-stage screen, frustration and the "find high-T_C ferromagnets" campaign.

Checks compare against known numbers: published structures (LaMnO3 Mn-O-Mn ~155 deg, NiO
rock salt), the Frey et al. split sizes and their 0.80 random forest, the SrMnO3 Wannier
superexchange of test_wannier.py, Ramirez's frustration ratio. Small subsets keep it fast.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sisso_lite.datasets.magnetic import (
    FREY_RF_TEST_ACCURACY,
    FREY_UNITS,
    load_frey_magnetic_order,
    load_magndata_labels,
    load_magndata_summary,
    magndata_mcif_path,
)
from sisso_lite.screening.magnetic import (
    RAMIREZ_THRESHOLD,
    MagneticScreen,
    compare_with_frey,
    frustration,
    plot_screen,
)
from sisso_lite.screening.magnetic_campaign import (
    POOL_FEATURES,
    FerromagnetCampaign,
    ferromagnet_strategies,
    magndata_ferromagnet_pool,
    run_ferromagnet_benchmark,
)
from sisso_lite.screening.magnetic_features import MagneticFeatures
from sisso_lite.screening.magnetic_labels import (
    MCIFError,
    magndata_table,
    magnetic_geometry,
    order_from_moments,
    read_mcif,
)

WANNIER = Path(__file__).parent / "data" / "wannier" / "SrMnO3"


# ------------------------------------------------------------------------ labels from moments
def test_order_from_moments_fm_afm_fim():
    assert order_from_moments([[0, 0, 3], [0, 0, 3.1]])["order"] == "FM"
    afm = order_from_moments([[0, 0, 3], [0, 0, -3], [0, 0, 0.01]])
    assert afm["order"] == "AFM" and afm["n_magnetic_sites"] == 2
    assert afm["antiparallel_fraction"] == 0.5
    # magnetite-like: 2 x 5 muB (A) against 2 x (4 + 5) muB (B) -> net 8 of 28 muB
    fim = order_from_moments([-5, -5, 4, 5, 4, 5])
    assert fim["order"] == "FiM" and fim["net_ratio"] == pytest.approx(8 / 28)
    # canted antiferromagnet with a weak net moment stays AFM (r < 0.1)
    cant = order_from_moments([[3, 0, 0.2], [-3, 0, 0.2]])
    assert cant["order"] == "AFM"
    assert cant["net_ratio"] == pytest.approx(0.4 / (2 * math.sqrt(9.04)))
    with pytest.raises(ValueError, match="no site carries a moment"):
        order_from_moments([0.0, 0.05])


def test_read_mcif_labels_and_geometry_of_bundled_files():
    lamno3 = read_mcif(magndata_mcif_path("0.1"))
    from sisso_lite.screening.magnetic_labels import _moment_vectors

    lab = order_from_moments(_moment_vectors(lamno3))
    assert lamno3.composition.reduced_formula == "LaMnO3"
    assert lab["order"] == "AFM" and lab["mean_moment"] == pytest.approx(3.87)
    geo = magnetic_geometry(lamno3)
    # Mn-O-Mn of LaMnO3 ~155 deg (Rodriguez-Carvajal et al., PRB 57, R3189 (1998)); Mn-O ~1.97 A
    assert 150 < geo["angle_mxm"] < 160 and geo["d_mx"] == pytest.approx(1.97, abs=0.03)
    nio = magnetic_geometry(read_mcif(magndata_mcif_path("1.6")))
    # rock salt a = 4.17 A: 12 Ni at a/sqrt(2), 6 at a, Ni-O-Ni 90 deg in the first shell
    assert nio["d_mm1"] == pytest.approx(4.175 / math.sqrt(2), abs=0.01)
    assert nio["z_mm1"] == 12 and nio["d_mm2"] == pytest.approx(4.175, abs=0.01)
    assert nio["angle_mxm"] == pytest.approx(90.0, abs=0.5)
    for mid, order in [("0.767", "FM"), ("0.274", "FiM"), ("0.2", "AFM")]:
        s = read_mcif(magndata_mcif_path(mid))
        assert order_from_moments(_moment_vectors(s))["order"] == order, mid


def test_bad_mcifs_name_the_file(tmp_path):
    with pytest.raises(MCIFError, match=r"2\.44\.mcif: not a readable"):
        read_mcif(magndata_mcif_path("2.44"))  # disordered magnetic structure
    garbage = tmp_path / "broken.mcif"
    garbage.write_text("data_x\n_cell_length_a 4.0\nloop_\n_atom_site_label\n")
    with pytest.raises(MCIFError, match="broken.mcif"):
        read_mcif(garbage)
    from pymatgen.core import Lattice, Structure

    plain = tmp_path / "nio.cif"
    Structure.from_spacegroup("Fm-3m", Lattice.cubic(4.17), ["Ni", "O"],
                              [[0, 0, 0], [0.5, 0.5, 0.5]]).to(filename=str(plain))
    with pytest.raises(MCIFError, match="nio.cif: no magnetic moments"):
        read_mcif(plain)
    with pytest.raises(MCIFError, match="no such mcif"):
        read_mcif(tmp_path / "missing.mcif")
    nacl = Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"],
                                     [[0, 0, 0], [0.5, 0.5, 0.5]])
    with pytest.raises(ValueError, match="NaCl: the structure has no magnetic ion"):
        magnetic_geometry(nacl)


def test_bundled_label_table_matches_a_fresh_parse():
    labels = load_magndata_labels()
    assert len(labels) == 1691
    assert labels["order"].value_counts().to_dict() == {"AFM": 1411, "FiM": 205, "FM": 75}
    assert int(labels["transition_temperature_K"].notna().sum()) == 1559
    folder = magndata_mcif_path("0.1").parent
    fresh, skipped = magndata_table(folder, load_magndata_summary().reset_index())
    assert sorted(fresh.index) == ["0.1", "0.2", "0.274", "0.767", "1.6"]
    assert skipped["magndata_id"].tolist() == ["2.44"]
    assert "Disordered" in skipped["reason"].iloc[0]
    cols = ["order", "net_ratio", "d_mm1", "angle_mxm", "transition_temperature_K"]
    pd.testing.assert_frame_equal(fresh[cols], labels.loc[fresh.index, cols], check_names=False)
    assert fresh.loc["0.1", "transition_temperature_K"] == 139.5  # LaMnO3 T_N


# ------------------------------------------------------------------------ Frey et al. split
def test_frey_split_and_side_by_side_accuracy():
    X, y, Xt, yt, units = load_frey_magnetic_order()
    assert X.shape == (3988, 14) and Xt.shape == (315, 14) and set(units) == set(FREY_UNITS)
    assert y.value_counts().to_dict() == {1: 1994, 0: 1994}
    assert yt.value_counts().to_dict() == {0: 236, 1: 79}
    table = compare_with_frey()
    assert (table["n_test"] == 315).all() and (table["n_train"] == 3988).all()
    pub = table.loc["random forest (Frey et al. 2020, published)", "test_accuracy"]
    assert pub == FREY_RF_TEST_ACCURACY == 0.80
    # the same random forest re-fitted on the bundled split reproduces the published number
    assert table.loc["random forest (refitted here, same split)", "test_accuracy"] == \
        pytest.approx(0.80, abs=0.02)
    ours = table.loc["SISSO classifier (this work)"]
    # a 2D rung-1 SISSO descriptor: better than the majority class only if it learned
    # something, and not above the forest (0.740 measured)
    majority = 236 / 315
    assert 0.65 < ours["test_accuracy"] < 0.85 and ours["test_accuracy"] != majority
    assert 0 < ours["f1_fm"] < 1 and "|" in ours["model"]


# ------------------------------------------------------------------------ features + screen
def test_wannier_path_superexchange_and_frustration():
    hr = WANNIER / "abinito_w90_up_hr.dat.gz"
    mats = pd.DataFrame({"formula": ["SrMnO3", "NaCl", "Xx2O"], "hr_dat": [str(hr), None, None],
                         "magnetic_element": ["Mn", None, None]}, index=["smo", "nacl", "bad"])
    F, units = MagneticFeatures(u=3.0).transform(mats)
    assert list(F.index) == ["smo"]
    # J_AF = 4 sum|t|^2 / U of the first Mn-Mn shell (21.91 meV at U = 3 eV, test_wannier.py)
    assert F.loc["smo", "w90_shell1_J_AF"] == pytest.approx(21.91, abs=0.01)
    assert units["w90_shell1_J_AF"] == "meV"
    j21 = F.loc["smo", "w90_J2_over_J1"]
    assert j21 == pytest.approx(0.168 / 21.91, rel=0.01)  # unfrustrated G-type AFM
    fr = frustration([np.nan], j2_over_j1=[j21])
    assert fr["f_method"].iloc[0] == "J2/J1 (Wannier)" and not fr["frustrated"].iloc[0]


def test_frustration_indicator():
    # SrCr8Ga4O19: theta_W = -515 K, freezing at 3.5 K (Ramirez 1994) -> f ~ 147;
    # MnO: theta_W = -610 K, T_N = 118 K -> f = 5.2 (just frustrated); 0.6 via J2/J1
    fr = frustration([3.5, 118.0, 100.0, 50.0], weiss=[-515.0, -610.0, np.nan, np.nan],
                     j2_over_j1=[np.nan, np.nan, 0.6, np.nan])
    assert fr["f"].iloc[0] == pytest.approx(515 / 3.5) and fr["f"].iloc[1] > RAMIREZ_THRESHOLD
    assert fr["frustrated"].tolist() == [True, True, True, False]
    assert fr["f_method"].tolist() == ["|theta_W|/T", "|theta_W|/T", "J2/J1 (Wannier)", ""]
    assert math.isnan(fr["f"].iloc[3])


@pytest.fixture(scope="module")
def magndata_split():
    lab = load_magndata_labels(with_temperature=True)
    lab = lab.sort_values("transition_temperature_K").groupby("formula").tail(1).sort_index()
    perm = np.random.default_rng(0).permutation(len(lab))  # the 70/30 split of bench_magnetic
    n_train = int(0.7 * len(lab))  # (smaller training sets give held-out AUCs of 0.49-0.73)
    return lab.iloc[perm[:n_train]], lab.iloc[perm[n_train:]]


def test_screen_two_stages_on_magndata(magndata_split):
    from sklearn.metrics import roc_auc_score

    train, test = magndata_split
    screen = MagneticScreen().fit(train, train["order"], train["transition_temperature_K"])
    assert len(screen.classifier_descriptors_) == 2 and screen.temperature_law_.startswith("ln")
    p = screen.predict_proba(test)[:, 1]
    ok = np.isfinite(p)  # compounds without a d/f magnetic ion (CsO2) are not featurised
    assert ok.mean() > 0.99
    test, p = test[ok], p[ok]
    y = test["order"].isin(["FM", "FiM"]).to_numpy()
    assert roc_auc_score(y, p) > 0.55  # held-out ranking of ferro/ferrimagnets
    t_pred, sigma = screen.predict_temperature(test, return_std=True)
    ln_t = np.log(test["transition_temperature_K"].to_numpy())
    rmse = float(np.sqrt(np.mean((np.log(t_pred) - ln_t) ** 2)))
    assert rmse < ln_t.std()  # beats predicting the mean ln T
    assert 0.4 < np.mean(np.abs(np.log(t_pred) - ln_t) <= sigma) < 0.95  # ~68 % nominal
    cands = pd.concat([test.head(20).drop(columns="transition_temperature_K"),
                       pd.DataFrame({"formula": ["NaCl"]}, index=["no-magnetic-ion"]),
                       pd.DataFrame({"formula": ["Fe2O3"],
                                     "structure": [str(magndata_mcif_path("2.44"))]},
                                    index=["disordered-mcif"])])
    cands["weiss_temperature_K"] = np.nan
    cands.iloc[0, cands.columns.get_loc("weiss_temperature_K")] = -2000.0
    table = screen.screen(cands)
    assert len(table) == 20 and table["rank"].tolist() == list(range(1, 21))
    assert table["score"].is_monotonic_decreasing
    np.testing.assert_allclose(table["score"], table["p_fm"] * table["T_K"])
    assert ((table["T_low_K"] <= table["T_K"]) & (table["T_K"] <= table["T_high_K"])).all()
    first = table.loc[cands.index[0]]
    assert first["f_method"] == "|theta_W|/T"
    assert first["f"] == pytest.approx(2000.0 / first["T_K"])
    skipped = table.attrs["skipped"]
    assert list(skipped) == ["no-magnetic-ion", "disordered-mcif"]
    assert screen.skipped_["material"].tolist() == list(skipped)
    assert "NaCl" in skipped["no-magnetic-ion"] and "no magnetic ion" in skipped["no-magnetic-ion"]
    assert "2.44.mcif: not a readable" in skipped["disordered-mcif"]
    print(table.head(3))  # attrs must not break pandas printing / concatenation
    assert table["classifier_descriptors"].iloc[0] == " | ".join(screen.classifier_descriptors_)
    fig = plot_screen(table)
    assert fig.axes[0].get_yscale() == "log"


def test_screen_bad_labels_and_numeric_mode():
    X, y, Xt, _, _ = load_frey_magnetic_order()
    with pytest.raises(ValueError, match="order label 'ferro'"):
        MagneticScreen(featurizer="none").fit(X.head(10), ["ferro"] * 10)
    with pytest.raises(ValueError, match="stage 2 was not fitted"):
        MagneticScreen(featurizer="none").fit(X.head(400), y.head(400)) \
            .predict_temperature(Xt.head(3))


# ------------------------------------------------------------------------ campaign
@pytest.fixture(scope="module")
def small_pool():
    lab = load_magndata_labels(with_temperature=True)
    return magndata_ferromagnet_pool(lab.iloc[::3])


def test_pool_and_constrained_incumbent(small_pool):
    pool = small_pool
    assert set(POOL_FEATURES) <= set(pool.columns) and pool["formula"].is_unique
    assert pool[list(POOL_FEATURES)].notna().all().all()
    assert pool["p_fm"].between(0, 1).all()
    np.testing.assert_allclose(np.exp(pool["ln_T"]), pool["T_K"])
    camp = FerromagnetCampaign(pool, target="ln_T", features=list(POOL_FEATURES),
                               acquisition="constrained", feasibility="p_fm", surrogate="rf",
                               budget=30, n_initial=10, batch_size=10, random_state=1,
                               progress=False).run(n_rounds=1)
    hist = camp.history_
    fm = pool.loc[hist["pool_index"], "is_fm"].to_numpy(bool)
    expect = hist["value"][fm].max() if fm.any() else hist["value"].max()
    assert camp.best_value() == pytest.approx(expect)


def test_ferromagnet_benchmark_runs_and_constrains(small_pool):
    summary, traces = run_ferromagnet_benchmark(
        small_pool, seeds=[0], budget=40, batch_size=10, n_initial=10, n_targets=8,
        strategies=ferromagnet_strategies("rf"), checkpoints=(40,))
    assert set(traces["strategy"]) == {"random", "ei", "p_fm_ei"}
    assert traces.groupby("strategy").size().eq(40).all()
    assert summary.attrs["n_targets"] >= 8
    # P(FM) * EI measures more ferromagnets than unconstrained EI on the same start
    fm = summary["fm_fraction_median"]
    assert fm["p_fm_ei"] > fm["ei"]
    closed = summary.loc["random (closed form)", "n_found_median"]
    assert closed == pytest.approx(40 * summary.attrs["n_targets"] / len(small_pool))
