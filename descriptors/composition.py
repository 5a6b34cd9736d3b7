"""Compositional featurizers with units.

* :class:`ElementStatistics`: statistics (mean, min, max, range, mean absolute deviation) of a
  small, physically chosen set of element properties, through matminer's
  ``ElementProperty`` with Magpie data, with units.
* :class:`MagpieProperties`: matminer's Magpie preset (Ward et al. 2016) with units attached.
* :class:`PerovskiteSiteFeatures`: oxidation-state-aware site features of ABX3 and A2BB'X6
  compositions: Shannon radii, Goldschmidt ``t``, octahedral factor ``mu``, Bartel's ``tau``,
  B-site d-electron count and high-spin spin-only moment, electronegativity differences.
"""

from __future__ import annotations

import numpy as np
from matminer.featurizers.composition import ElementProperty
from pymatgen.core import Composition, Element

from descriptors._perovskite import (
    assign_sites,
    bartel_tau,
    d_electron_count,
    octahedral_factor,
    shannon_radius,
    spin_only_moment,
    tolerance_factor,
)
from descriptors.base import UnitFeaturizer, naming_errors

__all__ = ["ElementStatistics", "MagpieProperties", "PerovskiteSiteFeatures"]

_MAGPIE_CITATION = (
    "@article{ward_agrawal_choudary_wolverton_2016, title={A general-purpose machine learning "
    "framework for predicting properties of inorganic materials}, volume={2}, "
    "DOI={10.1038/npjcompumats.2017.28}, number={1}, journal={npj Computational Materials}, "
    "author={Ward, Logan and Agrawal, Ankit and Choudhary, Alok and Wolverton, Christopher}, "
    "year={2016}}"
)
_MATMINER_CITATION = (
    "@article{ward_matminer_2018, title={Matminer: An open source toolkit for materials data "
    "mining}, volume={152}, DOI={10.1016/j.commatsci.2018.05.018}, journal={Computational "
    "Materials Science}, author={Ward, Logan and others}, year={2018}, pages={60--69}}"
)
_SHANNON_CITATION = (
    "@article{shannon_1976, title={Revised effective ionic radii and systematic studies of "
    "interatomic distances in halides and chalcogenides}, volume={32}, "
    "DOI={10.1107/S0567739476001551}, journal={Acta Crystallographica A}, "
    "author={Shannon, R. D.}, year={1976}, pages={751--767}}"
)
_BARTEL_CITATION = (
    "@article{bartel_2019, title={New tolerance factor to predict the stability of perovskite "
    "oxides and halides}, volume={5}, DOI={10.1126/sciadv.aav0693}, journal={Science Advances},"
    " author={Bartel, Christopher J. and Sutton, Christopher and Goldsmith, Bryan R. and Ouyang,"
    " Runhai and Musgrave, Charles B. and Ghiringhelli, Luca M. and Scheffler, Matthias}, "
    "year={2019}, pages={eaav0693}}"
)
_GOLDSCHMIDT_CITATION = (
    "@article{goldschmidt_1926, title={Die Gesetze der Krystallochemie}, volume={14}, "
    "DOI={10.1007/BF01507527}, journal={Naturwissenschaften}, author={Goldschmidt, V. M.}, "
    "year={1926}, pages={477--485}}"
)

#: Magpie property -> (unit, scale factor applied to the Magpie value, short label).
PROPERTY_UNITS: dict[str, tuple[str, float, str]] = {
    "Number": ("1", 1.0, "Z"),
    "MendeleevNumber": ("1", 1.0, "mendeleev_number"),
    "AtomicWeight": ("amu", 1.0, "atomic_mass"),
    "MeltingT": ("K", 1.0, "melting_T"),
    "Column": ("1", 1.0, "column"),
    "Row": ("1", 1.0, "row"),
    "CovalentRadius": ("Angstrom", 0.01, "covalent_radius"),  # Magpie stores pm
    "Electronegativity": ("1", 1.0, "electronegativity"),  # Pauling scale
    "FirstIonizationEnergy": ("eV", 1.0, "ionization_energy"),
    "ElectronAffinity": ("eV", 0.01036427, "electron_affinity"),  # Magpie stores kJ/mol
    "NsValence": ("1", 1.0, "n_s_valence"),
    "NpValence": ("1", 1.0, "n_p_valence"),
    "NdValence": ("1", 1.0, "n_d_valence"),
    "NfValence": ("1", 1.0, "n_f_valence"),
    "NValence": ("1", 1.0, "n_valence"),
    "NsUnfilled": ("1", 1.0, "n_s_unfilled"),
    "NpUnfilled": ("1", 1.0, "n_p_unfilled"),
    "NdUnfilled": ("1", 1.0, "n_d_unfilled"),
    "NfUnfilled": ("1", 1.0, "n_f_unfilled"),
    "NUnfilled": ("1", 1.0, "n_unfilled"),
    "GSvolume_pa": ("Angstrom^3", 1.0, "gs_volume_per_atom"),
    "GSbandgap": ("eV", 1.0, "gs_bandgap"),
    "GSmagmom": ("mu_B", 1.0, "gs_magmom"),
    "SpaceGroupNumber": ("1", 1.0, "space_group_number"),
}

DEFAULT_PROPERTIES = (
    "Electronegativity",
    "CovalentRadius",
    "FirstIonizationEnergy",
    "NsValence",
    "NpValence",
    "NdValence",
    "NfValence",
    "MendeleevNumber",
    "AtomicWeight",
)
DEFAULT_STATS = ("mean", "minimum", "maximum", "range", "avg_dev")


def _as_composition(material: Composition | str) -> Composition:
    if isinstance(material, str):
        return Composition(material)
    if hasattr(material, "composition") and not isinstance(material, Composition):
        return material.composition
    return material


class ElementStatistics(UnitFeaturizer):
    """Fraction-weighted statistics of element properties, with units.

    Wraps matminer's ``ElementProperty`` on Magpie data (bundled with matminer, offline)
    and converts to the units of :data:`PROPERTY_UNITS` (covalent radius in Angstrom,
    ionisation energy in eV, ...).

    Parameters
    ----------
    properties
        Magpie property names (keys of :data:`PROPERTY_UNITS`). Default: Pauling
        electronegativity, covalent radius, first ionisation energy, s/p/d/f valence
        electrons, Mendeleev number, atomic mass.
    stats
        matminer ``PropertyStats`` names: ``mean``, ``minimum``, ``maximum``, ``range``,
        ``avg_dev`` (mean absolute deviation), ``std_dev``, ``mode``. All are linear in
        the property, so they share its unit.
    impute_nan
        Passed to matminer: replace missing element data by the Magpie mean (default
        ``False``: missing data give ``nan``).

    Notes
    -----
    Features are named ``"<stat> <label>"``, e.g. ``"mean electronegativity"``.
    """

    def __init__(
        self,
        properties: tuple[str, ...] | list[str] = DEFAULT_PROPERTIES,
        stats: tuple[str, ...] | list[str] = DEFAULT_STATS,
        impute_nan: bool = False,
    ) -> None:
        super().__init__()
        unknown = [p for p in properties if p not in PROPERTY_UNITS]
        if unknown:
            raise ValueError(f"no unit known for Magpie properties {unknown}")
        self.properties = tuple(properties)
        self.stats = tuple(stats)
        self.impute_nan = impute_nan
        self._element_property = ElementProperty(
            "magpie", list(self.properties), list(self.stats), impute_nan=impute_nan
        )
        self._scale = np.repeat([PROPERTY_UNITS[p][1] for p in self.properties], len(self.stats))

    def featurize(self, composition: Composition | str) -> list[float]:
        """Statistics of the element properties of ``composition``."""
        with naming_errors(composition):
            comp = _as_composition(composition)
            values = np.asarray(self._element_property.featurize(comp), dtype=float)
            return list(values * self._scale)

    def feature_labels(self) -> list[str]:
        return [f"{s} {PROPERTY_UNITS[p][2]}" for p in self.properties for s in self.stats]

    def feature_units(self) -> list[str]:
        return [PROPERTY_UNITS[p][0] for p in self.properties for _ in self.stats]

    def citations(self) -> list[str]:
        return [_MAGPIE_CITATION, _MATMINER_CITATION]

    def implementors(self) -> list[str]:
        return ["sisso-lite developers (wrapping matminer ElementProperty)"]


class MagpieProperties(UnitFeaturizer):
    """matminer's ``ElementProperty.from_preset("magpie")`` with units attached.

    Labels are matminer's (``"MagpieData mean CovalentRadius"``); values are matminer's,
    unconverted (covalent radius in pm, see :data:`PROPERTY_UNITS` for the units). The
    ``mode`` statistic of a categorical property (space group number) is dimensionless.
    """

    def __init__(self, impute_nan: bool = False) -> None:
        super().__init__()
        self.impute_nan = impute_nan
        self._element_property = ElementProperty.from_preset("magpie", impute_nan=impute_nan)

    def featurize(self, composition: Composition | str) -> list[float]:
        """matminer Magpie features of ``composition``."""
        with naming_errors(composition):
            return list(self._element_property.featurize(_as_composition(composition)))

    def feature_labels(self) -> list[str]:
        return self._element_property.feature_labels()

    def feature_units(self) -> list[str]:
        unscaled = {"CovalentRadius": "pm", "ElectronAffinity": "kJ/mol"}
        units = []
        for prop in self._element_property.features:
            unit = unscaled.get(prop, PROPERTY_UNITS[prop][0])
            units.extend([unit] * len(self._element_property.stats))
        return units

    def citations(self) -> list[str]:
        return [_MAGPIE_CITATION, _MATMINER_CITATION]

    def implementors(self) -> list[str]:
        return ["sisso-lite developers (wrapping matminer ElementProperty)"]


_PEROVSKITE_FEATURES: tuple[tuple[str, str], ...] = (
    ("r_A", "Angstrom"),
    ("r_B", "Angstrom"),
    ("r_X", "Angstrom"),
    ("delta_r_B", "Angstrom"),
    ("n_A", "1"),
    ("n_B", "1"),
    ("n_X", "1"),
    ("t", "1"),
    ("mu", "1"),
    ("tau", "1"),
    ("rA_over_rB", "1"),
    ("n_d_B", "1"),
    ("moment_B", "mu_B"),
    ("chi_A", "1"),
    ("chi_B", "1"),
    ("chi_X", "1"),
    ("chi_X_minus_A", "1"),
    ("chi_X_minus_B", "1"),
)


class PerovskiteSiteFeatures(UnitFeaturizer):
    """Oxidation-state-aware site features of ABX3 and A2BB'X6 compositions.

    Input is a pymatgen ``Composition`` (or formula string). If its species carry
    oxidation states (``Composition({"Ba2+": 1, "Ti4+": 1, "O2-": 3})``) those are used,
    otherwise they are guessed with pymatgen (most probable charge-balanced assignment
    with ``rA > rB``). Sites follow the stoichiometry: one anion X; for ABX3 the larger
    cation is A; for A2BB'X6 the cation with two atoms per six anions is A.

    Radii are Shannon ionic radii from pymatgen's bundled table: A at CN XII, B and X at
    CN VI (nearest tabulated CN otherwise), high spin where both spin states exist, as in
    Bartel et al. (2019). For A2BB'X6, ``r_B``, ``n_B``, ``n_d_B``, ``moment_B`` and
    ``chi_B`` are averages over B and B' and ``delta_r_B = |r_B - r_B'|`` (0 for ABX3).

    Features (units): ``r_A, r_B, r_X, delta_r_B`` (Angstrom); oxidation states ``n_A, n_B,
    n_X``; ``t = (rA + rX) / (sqrt 2 (rB + rX))``; ``mu = rB/rX``; ``tau = rX/rB - nA (nA -
    (rA/rB)/ln(rA/rB))``; ``rA_over_rB``; ``n_d_B`` (d electrons, see
    :func:`descriptors._perovskite.d_electron_count`); ``moment_B`` (high-spin spin-only
    moment sqrt(n(n+2)), Bohr magnetons); Pauling electronegativities ``chi_A, chi_B,
    chi_X`` and differences ``chi_X_minus_A``, ``chi_X_minus_B`` (dimensionless).

    Raises
    ------
    ValueError
        Naming the formula: unknown element, not ABX3/A2BB'X6, oxidation states cannot be
        guessed, or no Shannon radius for an ion.
    """

    def featurize(self, composition: Composition | str) -> list[float]:
        """Site features of one ABX3 or A2BB'X6 composition."""
        with naming_errors(composition):
            sites = assign_sites(_as_composition(composition))
            r_a = shannon_radius(sites.a, sites.n_a, 12)[0]
            r_bs = [shannon_radius(b, n, 6)[0] for b, n in zip(sites.b, sites.n_b, strict=True)]
            r_x = shannon_radius(sites.x, sites.n_x, 6)[0]
            r_b = float(np.mean(r_bs))
            n_b = float(np.mean(sites.n_b))
            n_ds = [d_electron_count(b, n) for b, n in zip(sites.b, sites.n_b, strict=True)]
            moment = float(np.mean([spin_only_moment(n) for n in n_ds]))
            chi_a = Element(sites.a).X
            chi_b = float(np.mean([Element(b).X for b in sites.b]))
            chi_x = Element(sites.x).X
            return [
                r_a,
                r_b,
                r_x,
                float(max(r_bs) - min(r_bs)),
                sites.n_a,
                n_b,
                sites.n_x,
                float(tolerance_factor(r_a, r_b, r_x)),
                float(octahedral_factor(r_b, r_x)),
                float(bartel_tau(r_a, r_b, r_x, sites.n_a)),
                r_a / r_b,
                float(np.mean(n_ds)),
                moment,
                chi_a,
                chi_b,
                chi_x,
                chi_x - chi_a,
                chi_x - chi_b,
            ]

    def feature_labels(self) -> list[str]:
        return [name for name, _ in _PEROVSKITE_FEATURES]

    def feature_units(self) -> list[str]:
        return [unit for _, unit in _PEROVSKITE_FEATURES]

    def citations(self) -> list[str]:
        return [_BARTEL_CITATION, _GOLDSCHMIDT_CITATION, _SHANNON_CITATION]

    def implementors(self) -> list[str]:
        return ["sisso-lite developers"]
