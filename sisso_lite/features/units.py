"""Physical units as exponent vectors over base dimensions.

Every distinct base symbol in the unit strings of the primary features is one dimension
(``eV`` and ``Angstrom`` are two dimensions; there is no conversion between symbols).
``Å`` is accepted as an alias of ``Angstrom``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from fractions import Fraction

__all__ = ["Unit", "parse_unit", "DIMENSIONLESS"]

_ALIASES = {"\u00c5": "Angstrom", "\u212b": "Angstrom", "angstrom": "Angstrom", "AA": "Angstrom"}
_TOKEN = re.compile(
    r"\s*(?:(?P<sym>[^\W\d][\w]*|%)|(?P<num>\d+(?:\.\d+)?)|(?P<op>\*\*|[*/^()\-]))"
)


class Unit:
    """An immutable product of base symbols raised to rational exponents.

    Parameters
    ----------
    exponents : Mapping[str, Fraction | int | float], optional
        Base symbol -> exponent. Zero exponents are dropped.
    """

    __slots__ = ("_exponents", "_hash")

    def __init__(self, exponents: Mapping[str, Fraction | int | float] | None = None) -> None:
        items = {}
        for base, power in (exponents or {}).items():
            power = _to_fraction(power)
            if power != 0:
                items[str(base)] = power
        self._exponents: tuple[tuple[str, Fraction], ...] = tuple(sorted(items.items()))
        self._hash = hash(self._exponents)

    # ------------------------------------------------------------------ algebra
    @property
    def exponents(self) -> dict[str, Fraction]:
        """Base symbol -> exponent (non-zero entries only)."""
        return dict(self._exponents)

    @property
    def is_dimensionless(self) -> bool:
        """True when all exponents are zero."""
        return not self._exponents

    def __mul__(self, other: Unit) -> Unit:
        merged = self.exponents
        for base, power in other._exponents:
            merged[base] = merged.get(base, Fraction(0)) + power
        return Unit(merged)

    def __truediv__(self, other: Unit) -> Unit:
        return self * other ** -1

    def __pow__(self, power: Fraction | int | float) -> Unit:
        power = _to_fraction(power)
        return Unit({base: p * power for base, p in self._exponents})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unit) and self._exponents == other._exponents

    def __hash__(self) -> int:
        return self._hash

    # ------------------------------------------------------------- conversions
    def vector(self, bases: Iterable[str]) -> list[float]:
        """Exponents as floats in the order of ``bases``."""
        exps = self.exponents
        unknown = set(exps) - set(bases)
        if unknown:
            raise ValueError(f"unit {self} uses base symbols {sorted(unknown)} not in {bases}")
        return [float(exps.get(base, 0)) for base in bases]

    @classmethod
    def from_vector(cls, vector: Iterable[float], bases: Iterable[str]) -> Unit:
        """Inverse of :meth:`vector` (floats are rounded to fractions with denominator <= 1000)."""
        pairs = zip(bases, vector, strict=True)
        return cls({b: Fraction(float(v)).limit_denominator(1000) for b, v in pairs})

    def __str__(self) -> str:
        if not self._exponents:
            return "1"
        num = [_fmt(b, p) for b, p in self._exponents if p > 0]
        den = [_fmt(b, -p) for b, p in self._exponents if p < 0]
        text = "*".join(num) if num else "1"
        for part in den:
            text += "/" + part
        return text

    def __repr__(self) -> str:
        return f"Unit('{self}')"


DIMENSIONLESS = Unit()


def _to_fraction(value: Fraction | int | float) -> Fraction:
    if isinstance(value, Fraction):
        return value
    if isinstance(value, int):
        return Fraction(value)
    return Fraction(float(value)).limit_denominator(1000)


def _fmt(base: str, power: Fraction) -> str:
    if power == 1:
        return base
    if power.denominator == 1:
        return f"{base}^{power.numerator}"
    return f"{base}^({power.numerator}/{power.denominator})"


def parse_unit(text: str | Unit | None) -> Unit:
    """Parse a unit string such as ``"eV"``, ``"eV/Angstrom^2"``, ``"1"`` or ``None``.

    Grammar: products (``*`` or whitespace) and quotients (``/``, left to right) of base
    symbols with optional integer / rational exponents (``^2``, ``^-1``, ``**3``,
    ``^(1/2)``, ``^0.5``); parentheses group factors; ``1`` and ``None`` / ``""`` are
    dimensionless.

    Raises
    ------
    ValueError
        Naming the unparsable unit string.
    """
    if text is None:
        return DIMENSIONLESS
    if isinstance(text, Unit):
        return text
    if not isinstance(text, str):
        raise ValueError(f"unit must be a string or None, got {text!r}")
    stripped = text.strip()
    if stripped in ("", "1", "-", "dimensionless"):
        return DIMENSIONLESS
    try:
        tokens = _tokenize(stripped)
        parser = _Parser(tokens)
        unit = parser.expression()
        if parser.pos != len(tokens):
            raise ValueError("trailing input")
    except ValueError as exc:
        raise ValueError(f"cannot parse unit string {text!r}: {exc}") from None
    return unit


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
            continue
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise ValueError(f"unexpected character {text[pos]!r}")
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind == "op" and value == "**":
            value = "^"
        if kind == "sym":
            value = _ALIASES.get(value, value)
        # implicit multiplication between adjacent factors ("eV Angstrom")
        starts_factor = kind in ("sym", "num") or value == "("
        if starts_factor and tokens and (tokens[-1][0] in ("sym", "num") or tokens[-1][1] == ")"):
            tokens.append(("op", "*"))
        tokens.append((kind, value))
        pos = match.end()
    return tokens


class _Parser:
    """Recursive-descent parser: expr := factor (('*'|'/') factor)*; factor := atom ['^' exp]."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.pos = 0

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _take(self) -> tuple[str, str]:
        token = self._peek()
        if token is None:
            raise ValueError("unexpected end")
        self.pos += 1
        return token

    def expression(self) -> Unit:
        unit = self.factor()
        while (token := self._peek()) is not None and token[1] in ("*", "/"):
            self._take()
            right = self.factor()
            unit = unit * right if token[1] == "*" else unit / right
        return unit

    def factor(self) -> Unit:
        kind, value = self._take()
        if kind == "sym":
            unit = Unit({value: 1})
        elif kind == "num":
            if float(value) != 1.0:
                raise ValueError(f"numeric factor {value} is not a unit")
            unit = DIMENSIONLESS
        elif value == "(":
            unit = self.expression()
            if self._take()[1] != ")":
                raise ValueError("missing ')'")
        else:
            raise ValueError(f"unexpected {value!r}")
        if (token := self._peek()) is not None and token[1] == "^":
            self._take()
            unit = unit ** self.exponent()
        return unit

    def exponent(self) -> Fraction:
        sign = 1
        kind, value = self._take()
        if value == "-":
            sign = -1
            kind, value = self._take()
        if value == "(":
            inner = []
            while (tok := self._take())[1] != ")":
                inner.append(tok[1])
            return sign * Fraction("".join(inner))
        if kind == "num":
            return sign * Fraction(value)
        raise ValueError(f"bad exponent {value!r}")
