"""Compositional primary features of ABO3 candidates, as in the Emery & Wolverton table.

:class:`ABO3Features` turns a formula ``ABO3`` (or ``A2O3``) into the primary features of
:func:`sisso_lite.datasets.load_emery_perovskites`: the Shannon radii ``r_A, r_B`` the
authors used (Angstrom), Pauling electronegativity ``X``, first ionisation energy ``IE`` (eV)
and, with ``with_extra``, electron affinity ``EA`` (eV) and atomic radius ``rat`` (Angstrom)
of both cations (pymatgen element data).

The radii come from the table (A. A. Emery, C. Wolverton, Sci. Data 4, 170153 (2017)): the
pair's own radii when the A-B pair is in the table, else the element's most frequent radius
on that site. An element without a radius on its site in the table, or without one of the
pymatgen properties, raises :class:`FeaturizationError` naming the compound and the element.
"""

from __future__ import annotations

import math
import re
import warnings
from functools import cache
from importlib import resources

import numpy as np
import pandas as pd

__all__ = ["ABO3Features", "FeaturizationError", "parse_abo3"]

_EMERY_CSV = "data/emery2017_abo3/ABO3_Emery_Wolverton_2017.csv"
_ABO3 = re.compile(r"^([A-Z][a-z]?)([A-Z][a-z]?)O3$")
_A2O3 = re.compile(r"^([A-Z][a-z]?)2O3$")
_PROPS = ("X", "IE", "EA", "rat")
_UNITS = {"r": "Angstrom", "X": None, "IE": "eV", "EA": "eV", "rat": "Angstrom"}


class FeaturizationError(ValueError):
    """A candidate's features cannot be computed (the message names compound and cause)."""


def parse_abo3(formula: str) -> tuple[str, str]:
    """``(A, B)`` of a formula ``ABO3`` (A written first) or ``A2O3`` (A = B).

    Raises
    ------
    FeaturizationError
        If the formula is not of that form.
    """
    text = str(formula).strip()
    match = _ABO3.match(text)
    if match and match.group(2) != "O":
        return match.group(1), match.group(2)
    match = _A2O3.match(text)
    if match:
        return match.group(1), match.group(1)
    raise FeaturizationError(f"{formula}: not an ABO3 formula (expected e.g. 'SrTiO3', with "
                             "the A cation first, or 'La2O3'); give A and B columns")


@cache
def _element_properties(symbol: str) -> tuple[float, float, float, float]:
    """(Pauling X, first ionisation energy, electron affinity, atomic radius); NaN if absent."""
    from pymatgen.core import Element

    try:
        el = Element(symbol)
    except ValueError:
        return (math.nan,) * 4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ie = el.ionization_energies[0] if el.ionization_energies else math.nan
        values = []
        for getter in (lambda: el.X, lambda: ie, lambda: el.electron_affinity,
                       lambda: el.atomic_radius):
            try:
                v = getter()
                values.append(math.nan if v is None else float(v))
            except (ValueError, TypeError, AttributeError):
                values.append(math.nan)
    return tuple(values)


@cache
def _emery_radii() -> tuple[dict, dict, dict]:
    """(pair -> (r_A, r_B), A element -> radius, B element -> radius) from the table."""
    with resources.files("sisso_lite.datasets").joinpath(_EMERY_CSV).open("r") as fh:
        df = pd.read_csv(fh, na_values=["-"], usecols=["A", "B", "Radius A [ang]",
                                                        "Radius B [ang]"])
    pairs = {(a, b): (float(ra), float(rb)) for a, b, ra, rb in df.itertuples(index=False)}
    site_a = df.groupby("A")["Radius A [ang]"].agg(lambda s: s.mode().iloc[0]).to_dict()
    site_b = df.groupby("B")["Radius B [ang]"].agg(lambda s: s.mode().iloc[0]).to_dict()
    return pairs, site_a, site_b


class ABO3Features:
    """Emery-style primary features for ABO3 formulas.

    Parameters
    ----------
    with_extra : bool
        Also ``EA_A, EA_B, rat_A, rat_B`` (10 instead of 6 features, as
        ``load_emery_perovskites(with_extra=True)``).

    Attributes
    ----------
    feature_names : list of str
        In the loader's column order.
    units : dict
        Unit of every feature (None = dimensionless).
    """

    def __init__(self, with_extra: bool = False):
        self.with_extra = with_extra
        props = ["X", "IE", "EA", "rat"] if with_extra else ["X", "IE"]
        self.feature_names = [f"{n}_{s}" for n in ["r", *props] for s in ("A", "B")]
        self.units = {c: _UNITS[c.rsplit("_", 1)[0]] for c in self.feature_names}

    def featurize_one(self, formula: str, a: str | None = None,
                      b: str | None = None) -> dict[str, float]:
        """The features of one compound (``a``, ``b`` override the parsed cations).

        Raises
        ------
        FeaturizationError
            Naming the compound and the element whose data are missing.
        """
        if a is None or b is None:
            a, b = parse_abo3(formula)
        pairs, site_a, site_b = _emery_radii()
        if (a, b) in pairs:
            r_a, r_b = pairs[(a, b)]
        else:
            missing = [f"{el} has no {site}-site radius" for el, site, table in
                       ((a, "A", site_a), (b, "B", site_b)) if el not in table]
            if missing:
                raise FeaturizationError(
                    f"{formula}: element missing from the descriptor tables: "
                    f"{'; '.join(missing)} (Emery 2017 radii cover 73 elements per site)")
            r_a, r_b = float(site_a[a]), float(site_b[b])
        row = {"r_A": r_a, "r_B": r_b}
        for site, el in (("A", a), ("B", b)):
            values = dict(zip(_PROPS, _element_properties(el), strict=True))
            for name in self.feature_names:
                stem, _, s = name.rpartition("_")
                if s == site and stem != "r":
                    if not math.isfinite(values[stem]):
                        raise FeaturizationError(
                            f"{formula}: element missing from the descriptor tables: "
                            f"{el} has no {stem} (pymatgen element data)")
                    row[name] = values[stem]
        return {name: float(row[name]) for name in self.feature_names}

    def featurize(self, candidates: pd.DataFrame, formula_column: str = "formula"
                  ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Features of every candidate that can be featurised.

        Parameters
        ----------
        candidates : DataFrame
            With a ``formula_column`` (or formulas as the index), optionally ``A`` and
            ``B`` columns naming the cations.
        formula_column : str

        Returns
        -------
        features : DataFrame
            One row per featurised candidate, indexed like ``candidates``.
        skipped : DataFrame
            ``compound, reason`` of the others, indexed like ``candidates``.
        """
        formulas = _formulas(candidates, formula_column)
        rows, skipped = {}, {}
        has_sites = {"A", "B"} <= set(candidates.columns)
        for label, formula in formulas.items():
            a = candidates.at[label, "A"] if has_sites else None
            b = candidates.at[label, "B"] if has_sites else None
            try:
                rows[label] = self.featurize_one(formula, a, b)
            except FeaturizationError as err:
                skipped[label] = {"compound": formula, "reason": str(err)}
        features = pd.DataFrame.from_dict(rows, orient="index",
                                          columns=self.feature_names).astype(np.float64)
        features.index.name = candidates.index.name
        return features, pd.DataFrame.from_dict(skipped, orient="index",
                                                columns=["compound", "reason"])


def _formulas(candidates: pd.DataFrame, formula_column: str) -> pd.Series:
    """The formula of every candidate: the column, else the index."""
    if not isinstance(candidates, pd.DataFrame):
        raise TypeError(f"candidates must be a DataFrame, got {type(candidates).__name__}")
    if formula_column in candidates.columns:
        formulas = candidates[formula_column]
    else:
        formulas = pd.Series(candidates.index, index=candidates.index)
    if not candidates.index.is_unique:
        raise ValueError("candidates must have a unique index")
    return formulas.astype(str)
