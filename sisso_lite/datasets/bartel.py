"""Bartel et al. (2019) perovskite tolerance-factor data, bundled with sisso-lite.

C. J. Bartel et al., "New tolerance factor to predict the stability of perovskite oxides
and halides", Sci. Adv. 5, eaav0693 (2019); data from github.com/CJBartel/perovskite-stability
(MIT licence). See ``data/bartel2019_perovskite_tau/PROVENANCE.md``.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

__all__ = ["load_bartel_perovskites"]

_DIR = "data/bartel2019_perovskite_tau"

UNITS: dict[str, str] = {
    "rA": "Angstrom",
    "rB": "Angstrom",
    "rX": "Angstrom",
    "nA": "1",
    "nB": "1",
    "nX": "1",
    "t": "1",
    "tau": "1",
}


def _read(name: str) -> pd.DataFrame:
    path = resources.files("sisso_lite.datasets").joinpath(f"{_DIR}/{name}")
    with resources.as_file(path) as file:
        return pd.read_csv(file)


def load_bartel_perovskites(
    kind: str = "ABX3",
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Load Bartel's perovskite / non-perovskite table.

    Parameters
    ----------
    kind
        ``"ABX3"`` (default): the 576 experimentally characterised ABX3 compounds of
        Table S1 (313 perovskites) with the paper's train/test split.
        ``"A2BBX6"``: the 918 ICSD double perovskites (868 perovskites), where ``rB`` is
        the mean of ``rB1`` and ``rB2`` and there is no split (``split == "all"``).

    Returns
    -------
    (data, units)
        ``data`` has columns ``formula, A, B, X`` (for A2BBX6 also ``B1, B2, rB1, rB2``),
        ``rA, rB, rX`` (Shannon ionic radii, Angstrom), ``nA, nB, nX`` (oxidation states;
        for A2BBX6 ``nB`` is the mean of ``nB1, nB2``), ``label`` (1 perovskite, -1 not),
        ``split`` (``"train"`` / ``"test"``), ``t`` and ``tau`` as published (ABX3: rounded
        to 2 decimals). ``units`` maps the numeric feature columns to unit strings, ready for
        ``SissoRegressor(units=...)``.
    """
    if kind == "ABX3":
        raw = _read("TableS1.csv")
        data = pd.DataFrame(
            {
                "formula": raw["ABX3"],
                "A": raw["A"],
                "B": raw["B"],
                "X": raw["X"],
                "rA": raw["rA (Ang)"],
                "rB": raw["rB (Ang)"],
                "rX": raw["rX (Ang)"],
                "nA": raw["nA"].astype(float),
                "nB": raw["nB"].astype(float),
                "nX": raw["nX"].astype(float),
                "label": raw["exp_label"].astype(int),
                "split": raw["is_train"].map({1: "train", -1: "test"}),
                "t": raw["t"],
                "tau": raw["tau"],
            }
        )
    elif kind == "A2BBX6":
        raw = _read("icsd_A2BBX6.csv")
        data = pd.DataFrame(
            {
                "formula": raw["A2BBX6"],
                "A": raw["A"],
                "B1": raw["B1"],
                "B2": raw["B2"],
                "X": raw["X"],
                "rA": raw["rA"],
                "rB1": raw["rB1"],
                "rB2": raw["rB2"],
                "rB": (raw["rB1"] + raw["rB2"]) / 2,
                "rX": raw["rX"],
                "nA": raw["nA"].astype(float),
                "nB": (raw["nB1"] + raw["nB2"]) / 2,
                "nX": raw["nX"].astype(float),
                "label": raw["icsd_label"].astype(int),
                "split": "all",
                "t": raw["t"],
                "tau": raw["tau"],
            }
        )
    else:
        raise ValueError(f"kind must be 'ABX3' or 'A2BBX6', got {kind!r}")
    return data, dict(UNITS)
