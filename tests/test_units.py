"""Unit parsing and unit algebra."""

from __future__ import annotations

import re
from fractions import Fraction

import pytest

from sisso_lite.features import DIMENSIONLESS, Unit, parse_unit
from sisso_lite.features.operators import CODE, unit_of


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("eV", {"eV": 1}),
        ("Angstrom", {"Angstrom": 1}),
        ("Å", {"Angstrom": 1}),
        ("eV/Angstrom^2", {"eV": 1, "Angstrom": -2}),
        ("eV/Å**2", {"eV": 1, "Angstrom": -2}),
        ("1", {}),
        (None, {}),
        ("", {}),
        ("1/Angstrom", {"Angstrom": -1}),
        ("Angstrom^-1", {"Angstrom": -1}),
        ("kg m^2 s^-2", {"kg": 1, "m": 2, "s": -2}),
        ("eV/(Angstrom*K)", {"eV": 1, "Angstrom": -1, "K": -1}),
        ("eV^(1/2)", {"eV": Fraction(1, 2)}),
        ("eV^0.5", {"eV": Fraction(1, 2)}),
        ("(eV/Angstrom)^2", {"eV": 2, "Angstrom": -2}),
        ("eV*eV/eV", {"eV": 1}),
    ],
)
def test_parse_unit(text, expected):
    assert parse_unit(text) == Unit(expected)


@pytest.mark.parametrize("text", ["eV+1", "2eV", "eV^", "eV/(", "#", "eV^x", ")"])
def test_parse_unit_errors_name_the_string(text):
    with pytest.raises(ValueError, match=re.escape(repr(text))):
        parse_unit(text)


def test_unit_algebra_and_str():
    ev, aa = parse_unit("eV"), parse_unit("Angstrom")
    assert str(ev * aa) == "Angstrom*eV"
    assert str(ev / aa**2) == "eV/Angstrom^2"
    assert (ev / ev).is_dimensionless and str(ev / ev) == "1"
    assert (aa ** Fraction(1, 2)) ** 2 == aa
    assert str(aa ** Fraction(1, 3)) == "Angstrom^(1/3)"
    assert parse_unit(str(ev / aa**2)) == ev / aa**2
    assert Unit.from_vector(ev.vector(["Angstrom", "eV"]), ["Angstrom", "eV"]) == ev
    assert hash(parse_unit("eV*Angstrom")) == hash(parse_unit("Angstrom eV"))
    with pytest.raises(ValueError):
        ev.vector(["Angstrom"])


def test_operator_unit_rules():
    ev, aa = parse_unit("eV"), parse_unit("Angstrom")
    assert unit_of(CODE["+"], ev, ev) == ev
    assert unit_of(CODE["|-|"], aa, aa) == aa
    with pytest.raises(ValueError):
        unit_of(CODE["-"], ev, aa)
    assert unit_of(CODE["*"], ev, aa) == ev * aa
    assert unit_of(CODE["/"], ev, aa) == ev / aa
    assert unit_of(CODE["^-1"], aa) == aa**-1
    assert unit_of(CODE["^2"], aa) == aa**2
    assert unit_of(CODE["^3"], aa) == aa**3
    assert unit_of(CODE["^6"], aa) == aa**6
    assert unit_of(CODE["sqrt"], aa) == aa ** Fraction(1, 2)
    assert unit_of(CODE["cbrt"], aa) == aa ** Fraction(1, 3)
    for name in ("exp", "exp-", "log", "scd", "sin", "cos"):
        assert unit_of(CODE[name], DIMENSIONLESS) == DIMENSIONLESS
