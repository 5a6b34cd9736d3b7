"""Octet binaries (Goldsmith et al., New J. Phys. 19, 013031 (2017)): rules on the s/p
orbital radii classify at least 79 of the 82 materials as rocksalt vs zincblende."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

from sisso_lite.subgroups import SubgroupDiscovery, plot_subgroups

matplotlib.use("Agg")

DATA = Path(__file__).parent / "data" / "octet_binaries_82.csv"
RADII = ["r_s_A", "r_p_A", "r_s_B", "r_p_B"]


@pytest.fixture(scope="module")
def octet() -> pd.DataFrame:
    return pd.read_csv(DATA)


def test_data_copy_is_complete(octet):
    assert octet.shape == (82, 20)
    assert int((octet.dE_RS_ZB_eV > 0).sum()) == 41


@pytest.mark.parametrize("n_cutpoints", [10, 20])
def test_radius_rules_classify_79_of_82(octet, n_cutpoints):
    zb = (octet.dE_RS_ZB_eV > 0).astype(int)  # 1: zincblende more stable
    m = SubgroupDiscovery(quality="wracc", depth=3, n_cutpoints=n_cutpoints, top_k=5)
    m.fit(octet[RADII], zb)
    inside = m.predict(octet[RADII])
    correct = int((inside == (zb == 1)).sum())
    assert correct >= 79, m.subgroups_.rule[0]
    assert set(m.rules_[0].features) <= set(RADII)
    # WRAcc with p_P = 1/2 is (TP - FP) / (2N) = (correct - 41) / (2N): best = most accurate
    assert m.subgroups_.quality[0] == pytest.approx((correct - 41) / (2 * 82))


def test_rocksalt_rule_via_numeric_target(octet):
    """Downward mean shift of E_RS - E_ZB finds the rocksalt region (same radii)."""
    m = SubgroupDiscovery(quality="mean_shift", direction="less", depth=2, top_k=3)
    m.fit(octet[RADII], octet.dE_RS_ZB_eV)
    inside = m.predict(octet[RADII])
    assert (octet.dE_RS_ZB_eV[inside] < 0).mean() > 0.8
    assert m.subgroups_.mean_in[0] < m.subgroups_.mean_out[0]


def test_json_roundtrip_and_query_on_new_data(octet):
    zb = (octet.dE_RS_ZB_eV > 0).astype(int)
    m = SubgroupDiscovery(quality="wracc", depth=2, top_k=4).fit(octet[RADII], zb)
    back = SubgroupDiscovery.from_json(m.to_json_string())
    new = octet[RADII].sample(frac=1.0, random_state=0).reset_index(drop=True)
    assert np.array_equal(back.transform(new), m.transform(new))
    assert list(back.subgroups_.rule) == list(m.subgroups_.rule)
    for q, col in zip(m.subgroups_["query"], m.transform(new).T, strict=True):
        assert np.array_equal(new.eval(q).to_numpy(), col)
    # arrays + names work too
    arr = m.transform(new.to_numpy())
    assert np.array_equal(arr, m.transform(new))


def test_plot_helper(octet):
    m = SubgroupDiscovery(depth=2, top_k=2).fit(octet[RADII], octet.dE_RS_ZB_eV)
    fig = plot_subgroups(m, octet[RADII], octet.dE_RS_ZB_eV, n_rules=2)
    assert len(fig.axes) == 2
    assert fig.axes[0].get_title() == m.subgroups_.rule[0]
