"""The 17 SISSO operators: integer codes, arity, unit rule and spellings.

Codes are the opcodes of the expression program evaluated by :mod:`.kernels`. A binary
node ``(code, a, b)`` always means ``a OP b`` (``b - a`` is stored as ``SUB`` with swapped
operands), so the program needs no "reversed" operators.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fractions import Fraction

from .units import DIMENSIONLESS, Unit

__all__ = [
    "ALL_OPERATORS",
    "BINARY",
    "CODE",
    "NAME",
    "N_CODES",
    "normalize_operator_sets",
    "operator_mask",
    "unit_of",
]

VAR, ADD, SUB, ABSDIFF, MUL, DIV = 0, 1, 2, 3, 4, 5
EXP, EXPNEG, INV, SQ, CUBE, SIXTH, SQRT, CBRT, LOG, SCD, SIN, COS = range(6, 18)
N_CODES = 18

#: SISSO spelling -> opcode
CODE: dict[str, int] = {
    "+": ADD, "-": SUB, "|-|": ABSDIFF, "*": MUL, "/": DIV,
    "exp": EXP, "exp-": EXPNEG, "^-1": INV, "^2": SQ, "^3": CUBE, "^6": SIXTH,
    "sqrt": SQRT, "cbrt": CBRT, "log": LOG, "scd": SCD, "sin": SIN, "cos": COS,
}  # fmt: skip
NAME: dict[int, str] = {code: name for name, code in CODE.items()} | {VAR: "var"}
ALL_OPERATORS: tuple[str, ...] = (
    "+", "-", "*", "/", "exp", "exp-", "^-1", "^2", "^3", "^6",
    "sqrt", "cbrt", "log", "|-|", "scd", "sin", "cos",
)  # fmt: skip
BINARY = frozenset({ADD, SUB, ABSDIFF, MUL, DIV})
#: unary operators whose argument must be dimensionless (unless fortran_compatible)
TRANSCENDENTAL = frozenset({EXP, EXPNEG, LOG, SCD, SIN, COS})
#: Fortran SISSO applies the unary operators in this fixed order, whatever the input order
UNARY_ORDER = (EXP, EXPNEG, INV, SCD, SQ, CUBE, SIXTH, SQRT, CBRT, LOG, SIN, COS)
_POWER = {INV: Fraction(-1), SQ: Fraction(2), CUBE: Fraction(3), SIXTH: Fraction(6),
          SQRT: Fraction(1, 2), CBRT: Fraction(1, 3)}  # fmt: skip


def _parse_operator_string(text: str) -> list[str]:
    """Accept SISSO.in style ``'(+)(-)(*)'`` as well as a plain name."""
    text = text.strip()
    if text.startswith("(") and text.endswith(")") and text.count("(") > 1:
        return [part for part in text[1:-1].split(")(")]
    if text.startswith("(") and text.endswith(")") and text not in CODE:
        return [text[1:-1]]
    return [text]


def _operator_set(ops: Iterable[str] | str) -> tuple[str, ...]:
    names: list[str] = []
    for item in [ops] if isinstance(ops, str) else ops:
        if not isinstance(item, str):
            raise ValueError(f"unknown operator {item!r}")
        for name in _parse_operator_string(item):
            if name not in CODE:
                raise ValueError(
                    f"unknown operator {name!r}; known operators: {' '.join(ALL_OPERATORS)}"
                )
            if name not in names:
                names.append(name)
    return tuple(names)


def normalize_operator_sets(operators: Sequence, n_rungs: int) -> list[tuple[str, ...]]:
    """One operator tuple per rung.

    ``operators`` is either a flat sequence of names (used for every rung) or a list of
    tuples, one per rung (SISSO's ``ops='set1','set2'``). A single nested tuple is reused for
    all rungs. Unknown names raise ``ValueError`` naming the operator.
    """
    if isinstance(operators, str) or all(isinstance(o, str) for o in operators):
        flat = _operator_set(operators)
        return [flat] * n_rungs
    sets = [_operator_set(o) for o in operators]
    if len(sets) == 1:
        return sets * n_rungs
    if len(sets) < n_rungs:
        raise ValueError(f"{len(sets)} operator sets given for {n_rungs} rungs")
    return sets[:n_rungs]


def operator_mask(names: Iterable[str]) -> list[bool]:
    """Boolean list indexed by opcode: which operators are enabled."""
    mask = [False] * N_CODES
    for name in names:
        mask[CODE[name]] = True
    return mask


def unit_of(code: int, a: Unit, b: Unit | None = None) -> Unit:
    """Unit of ``code`` applied to operands of units ``a`` (and ``b``)."""
    if code in (ADD, SUB, ABSDIFF):
        if b is not None and a != b:
            raise ValueError(f"cannot combine {a} and {b} with {NAME[code]}")
        return a
    if code == MUL:
        return a * b
    if code == DIV:
        return a / b
    if code in TRANSCENDENTAL:
        return DIMENSIONLESS
    if code in _POWER:
        return a ** _POWER[code]
    raise ValueError(f"unknown opcode {code}")


def power_of(code: int) -> float:
    """Exponent applied to the unit vector by a power operator (0 for dimensionless results)."""
    return float(_POWER.get(code, 0))
