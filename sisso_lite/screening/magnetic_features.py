"""Primary features of the magnetic screen: composition, magnetic sublattice, Wannier.

:class:`MagneticFeatures` turns a table of materials into primary features with units:

* composition (always): fraction-weighted statistics of element properties through
  :class:`descriptors.ElementStatistics` (Magpie data; Ward et al., npj Comput. Mater. 2, 16028
  (2016)) and whether a magnetic ion is a 4f/5f element (``f_ion``);
* magnetic sublattice (where a ``structure`` is given: a pymatgen ``Structure`` or a CIF /
  mcif path): M-M neighbour distances, first-shell coordination, mean M-X-M bridging angle
  and M-X bond (:func:`sisso_lite.screening.magnetic_labels.magnetic_geometry`); or given
  directly as columns ``d_mm1, d_mm2, z_mm1, angle_mxm, d_mx, x_magnetic``;
* Wannier (where an ``hr_dat`` path is given): onsite energies, d-d transfer integrals and
  the Anderson superexchange estimate ``J_AF = 4 sum|t|^2 / U`` per neighbour shell
  (:class:`descriptors.WannierHoppingFeatures`; Guo, Morrow, van den Brink, Janson,
  J. Mater. Chem. A (2024), doi:10.1039/D3TA05679A; P. W. Anderson, Phys. Rev. 115, 2 (1959)).

A material whose features cannot be computed (unknown element, unreadable file, no magnetic
ion) is skipped with a message naming it; :attr:`MagneticFeatures.skipped_` lists them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sisso_lite.screening.magnetic_labels import (
    MAGNETIC_ELEMENTS,
    MCIFError,
    magnetic_geometry,
    read_mcif,
)

__all__ = ["COMPOSITION_PROPERTIES", "GEOMETRY_UNITS", "MagneticFeatures",
           "MagneticFeaturizationError"]

#: Magpie properties of the composition statistics
COMPOSITION_PROPERTIES = ("Electronegativity", "CovalentRadius", "FirstIonizationEnergy",
                          "NdValence", "NfValence", "NdUnfilled", "Number")
_STATS = ("mean", "maximum", "range")

#: geometry features and units (None = dimensionless)
GEOMETRY_UNITS: dict[str, str | None] = {
    "d_mm1": "Angstrom", "d_mm2": "Angstrom", "z_mm1": None, "angle_mxm": "deg",
    "d_mx": "Angstrom", "x_magnetic": None,
}

_WANNIER_KEEP = ("w90_onsite_d", "w90_crystal_field_10Dq", "w90_exchange_splitting_d",
                 "w90_shell1_distance", "w90_shell1_max_t", "w90_shell1_J_AF",
                 "w90_shell2_J_AF", "w90_J2_over_J1")

_F_ELEMENTS = frozenset("Ce Pr Nd Pm Sm Eu Gd Tb Dy Ho Er Tm Yb U Np Pu".split())

class MagneticFeaturizationError(ValueError):
    """A material that could not be featurised (the message names it and the cause)."""


def _geometry_from(structure, name: str) -> dict:
    if isinstance(structure, str | Path):
        path = Path(structure)
        if path.suffix == ".mcif":
            structure = read_mcif(path)
        else:
            from pymatgen.core import Structure

            try:
                structure = Structure.from_file(path)
            except Exception as err:
                raise MCIFError(f"{path}: not a readable structure file: {err}") from err
    return magnetic_geometry(structure, name=name)


class MagneticFeatures:
    """Featurise materials for :class:`~sisso_lite.screening.magnetic.MagneticScreen`.

    Parameters
    ----------
    u : float
        Hubbard U (eV) of the superexchange estimate from Wannier hoppings.
    use_geometry : bool
        Add the magnetic-sublattice geometry features (NaN where a material has none; the
        screen imputes them by the training median).
    use_wannier : bool
        Add Wannier features for the materials with an ``hr_dat`` (NaN for the others).

    Notes
    -----
    Input table columns: ``formula`` (required), optional ``structure`` (Structure or path),
    ``hr_dat`` (path to ``seed_hr.dat``; the ``.win`` / ``_centres.xyz`` beside it),
    ``magnetic_element`` (for the Wannier features; default the heaviest d/f element) and
    the geometry columns of :data:`GEOMETRY_UNITS` (used when no structure is given).
    """

    def __init__(self, u: float = 4.0, use_geometry: bool = True,
                 use_wannier: bool = True) -> None:
        if not u > 0:
            raise ValueError(f"u must be a positive Hubbard U in eV, got {u}")
        self.u, self.use_geometry, self.use_wannier = u, use_geometry, use_wannier
        from descriptors import ElementStatistics

        self._composition = ElementStatistics(COMPOSITION_PROPERTIES, _STATS)
        self.skipped_: pd.DataFrame = pd.DataFrame(columns=["material", "reason"])

    # ------------------------------------------------------------------ names / units
    def units(self, wannier: bool = False) -> dict[str, str | None]:
        """Unit of every feature column (``wannier``: include the Wannier columns)."""
        comp = self._composition
        units: dict[str, str | None] = {
            _clean(label): (None if unit == "1" else unit)
            for label, unit in zip(comp.feature_labels(), comp.feature_units(), strict=True)}
        units["f_ion"] = None
        if self.use_geometry:
            units.update(GEOMETRY_UNITS)
        if self.use_wannier and wannier:
            from descriptors import WannierHoppingFeatures

            wf = WannierHoppingFeatures(u=self.u).unit_map()
            units.update({k: (None if wf[k] == "1" else wf[k]) for k in _WANNIER_KEEP})
        return units

    # ------------------------------------------------------------------ featurise
    def transform(self, materials: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
        """Features of every material that can be featurised.

        Returns
        -------
        features : DataFrame
            Same index as ``materials`` minus the skipped rows.
        units : dict
            Column -> unit (None = dimensionless).

        Raises
        ------
        ValueError
            If ``materials`` has no ``formula`` column or no material can be featurised.
        """
        if not isinstance(materials, pd.DataFrame) or "formula" not in materials.columns:
            raise ValueError("materials must be a DataFrame with a 'formula' column "
                             "(optional: structure, hr_dat, magnetic_element, d_mm1, ...)")
        want_w = self.use_wannier and "hr_dat" in materials.columns and \
            materials["hr_dat"].notna().any()
        units = self.units(wannier=want_w)
        rows, skipped = {}, []
        for idx, row in materials.iterrows():
            name = f"{idx} ({row['formula']})"
            try:
                rows[idx] = self._one(row, name, want_w)
            except (ValueError, KeyError, TypeError, OSError) as err:
                skipped.append({"material": idx, "reason": f"{name}: {err}"})
        self.skipped_ = pd.DataFrame(skipped, columns=["material", "reason"])
        if not rows:
            raise MagneticFeaturizationError(
                "no material could be featurised; first problems: "
                + "; ".join(self.skipped_["reason"].head(3)))
        out = pd.DataFrame.from_dict(rows, orient="index")[list(units)]
        out.index.name = materials.index.name
        return out.astype(float), units

    def _one(self, row: pd.Series, name: str, want_w: bool) -> dict:
        from pymatgen.core import Composition, Element

        try:
            comp = Composition(str(row["formula"]))
        except Exception as err:
            raise MagneticFeaturizationError(f"formula {row['formula']!r} is not parseable: "
                                             f"{err}") from err
        if not comp.elements:
            raise MagneticFeaturizationError("empty formula")
        unknown = [str(e) for e in comp.elements if not isinstance(e, Element)]
        if unknown:
            raise MagneticFeaturizationError(f"unknown element(s) {unknown} in the formula")
        values = np.asarray(self._composition.featurize(comp), dtype=float)
        if not np.all(np.isfinite(values)):
            raise MagneticFeaturizationError(
                "an element has no Magpie data for the composition features")
        labels = [_clean(s) for s in self._composition.feature_labels()]
        feats = dict(zip(labels, values.tolist(), strict=True))
        mags = [e for e in comp.elements if e.symbol in MAGNETIC_ELEMENTS]
        if not mags:
            raise MagneticFeaturizationError("no magnetic ion (no 3d/4d/5d/4f/5f element)")
        feats["f_ion"] = float(any(e.symbol in _F_ELEMENTS for e in mags))
        if self.use_geometry:
            geo = {k: float("nan") for k in GEOMETRY_UNITS}
            structure = row.get("structure")
            if structure is not None and not (isinstance(structure, float) and
                                              np.isnan(structure)):
                geo.update(_geometry_from(structure, name))
            else:
                for k in GEOMETRY_UNITS:
                    if k in row.index and pd.notna(row[k]):
                        geo[k] = float(row[k])
            feats.update(geo)
        if want_w:
            feats.update(self._wannier(row, mags))
        return feats

    def _wannier(self, row: pd.Series, mags) -> dict:
        out = {k: float("nan") for k in _WANNIER_KEEP}
        hr = row.get("hr_dat")
        if hr is None or (isinstance(hr, float) and np.isnan(hr)):
            return out
        from descriptors import WannierHoppingFeatures

        element = row.get("magnetic_element")
        if not isinstance(element, str) or not element:
            element = max(mags, key=lambda e: e.Z).symbol
        wf = WannierHoppingFeatures(element=element, u=self.u)
        values = dict(zip(wf.feature_labels(), wf.featurize(Path(hr)), strict=True))
        out.update({k: float(values[k]) for k in _WANNIER_KEEP})
        return out


def _clean(label: str) -> str:
    """``"mean electronegativity"`` -> ``"mean_electronegativity"`` (formula-safe)."""
    return label.replace(" ", "_").replace("-", "_")
