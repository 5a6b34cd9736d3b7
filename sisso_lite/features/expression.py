"""`Expression`: one feature as a small, self-contained expression program."""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from typing import Any, overload

import numpy as np

from .kernels import run_program_nb
from .operators import CODE, NAME, VAR, unit_of
from .units import Unit, parse_unit

__all__ = ["Expression", "NodeNames", "format_node"]

_FORMAT = "sisso_lite.expression/1"


def format_node(code: int, a: str, b: str | None = None) -> str:
    """Fortran SISSO spelling of ``code`` applied to operand strings ``a`` (and ``b``)."""
    name = NAME[code]
    if name in ("+", "-", "*", "/"):
        return f"({a}{name}{b})"
    if name == "|-|":
        return f"abs({a}-{b})"
    if name == "exp-":
        return f"exp(-{a})"
    if name.startswith("^"):
        return f"({a}){name}"
    return f"{name}({a})"


class NodeNames(Sequence[str]):
    """Fortran strings of the nodes of a feature table, the newest tier formatted on demand.

    A stored feature space holds up to a few hundred thousand nodes; their strings (about
    80 bytes each as Python objects) are only read for the few features that are selected,
    deduplicated or compared by name. Fixed nodes (all tiers but the newest, see
    :meth:`add_tier` and :meth:`fix`) are kept as strings; a newer node ``k`` is
    ``format_node(op[k], self[a[k]], self[b[k]])``, built when first asked for and kept in a
    dictionary (only the nodes asked for take memory).

    Parameters
    ----------
    names : sequence of str
        Strings of the first nodes (e.g. the primary features).
    """

    __slots__ = ("_fixed", "_asked", "_op", "_a", "_b", "_size")

    def __init__(self, names: Sequence[str]) -> None:
        self._fixed = [str(n) for n in names]
        self._asked: dict[int, str] = {}
        self._op: np.ndarray | None = None
        self._a: np.ndarray | None = None
        self._b: np.ndarray | None = None
        self._size = len(self._fixed)

    def fix(self) -> None:
        """Format and keep the strings of all current nodes (before they become operands)."""
        self._fixed.extend(self._format(k) for k in range(len(self._fixed), self._size))
        self._asked = {}

    def add_tier(self, op: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
        """Set the node table to ``(op, a, b)`` (all nodes); the nodes added are formatted lazily.

        The previous lazy tier is kept as strings from now on (:meth:`fix`): only the newest
        tier is computed on demand, and its operands are plain list lookups.
        """
        self.fix()
        self._op, self._a, self._b = op, a, b
        self._size = len(op)

    def __len__(self) -> int:
        return self._size

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self._format(k) for k in range(*index.indices(self._size))]
        k = operator.index(index)
        if 0 <= k < len(self._fixed):
            return self._fixed[k]
        if k < 0:
            k += self._size
        if not 0 <= k < self._size:
            raise IndexError(f"node {index} out of range ({self._size} nodes)")
        return self._format(k)

    def _format(self, k: int) -> str:
        if k < len(self._fixed):
            return self._fixed[k]
        name = self._asked.get(k)
        if name is None:
            b = int(self._b[k])
            name = self._asked[k] = format_node(int(self._op[k]), self._format(int(self._a[k])),
                                                self._format(b) if b >= 0 else None)  # fmt: skip
        return name


class Expression:
    """An immutable feature: a program of nodes ``(opcode, a, b)`` in topological order.

    A ``var`` node ``(0, k, -1)`` reads primary feature ``primary_features[k]``; an operator
    node reads earlier nodes ``a`` (and ``b``). The last node is the feature.

    Parameters
    ----------
    nodes : sequence of (int, int, int)
        The program.
    primary_features : sequence of str
        Names of the primary features the program reads.
    primary_units : sequence of str or Unit or None
        Their units.
    columns : sequence of int, optional
        Column of each primary feature in the matrix the feature space was built from
        (used by :meth:`evaluate` with a plain array).
    real_cbrt : bool
        ``cbrt`` of negative numbers is the real cube root (True) or NaN (Fortran SISSO).
    """

    __slots__ = ("_nodes", "_names", "_units", "_columns", "_real_cbrt", "_string", "_hash")

    def __init__(
        self,
        nodes: Sequence[Sequence[int]],
        primary_features: Sequence[str],
        primary_units: Sequence[str | Unit | None] | None = None,
        columns: Sequence[int] | None = None,
        real_cbrt: bool = True,
    ) -> None:
        self._nodes = tuple((int(c), int(a), int(b)) for c, a, b in nodes)
        self._names = tuple(str(n) for n in primary_features)
        units = primary_units if primary_units is not None else [None] * len(self._names)
        self._units = tuple(parse_unit(u) for u in units)
        self._columns = tuple(int(c) for c in columns) if columns is not None else None
        self._real_cbrt = bool(real_cbrt)
        self._validate()
        self._string = self._format(len(self._nodes) - 1)
        self._hash = hash(self._string)

    def _validate(self) -> None:
        if not self._nodes:
            raise ValueError("an expression needs at least one node")
        if len(self._units) != len(self._names):
            raise ValueError("primary_units and primary_features differ in length")
        for k, (code, a, b) in enumerate(self._nodes):
            if code not in NAME:
                raise ValueError(f"unknown opcode {code} in node {k}")
            if code == VAR:
                if not 0 <= a < len(self._names):
                    raise ValueError(f"node {k} reads missing primary feature {a}")
                continue
            binary = NAME[code] in ("+", "-", "*", "/", "|-|")
            if not 0 <= a < k or (binary and not 0 <= b < k) or (not binary and b != -1):
                raise ValueError(f"node {k} has invalid operands ({a}, {b})")

    # ---------------------------------------------------------------- strings
    def _format(self, k: int) -> str:
        code, a, b = self._nodes[k]
        if code == VAR:
            return self._names[a]
        return format_node(code, self._format(a), self._format(b) if b >= 0 else None)

    def __str__(self) -> str:
        return self._string

    def __repr__(self) -> str:
        return f"Expression('{self._string}')"

    @property
    def key(self) -> str:
        """Identity of the feature (its Fortran SISSO string)."""
        return self._string

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Expression) and other._string == self._string

    def __hash__(self) -> int:
        return self._hash

    # -------------------------------------------------------------- properties
    @property
    def nodes(self) -> tuple[tuple[int, int, int], ...]:
        """The program ``((opcode, a, b), ...)``."""
        return self._nodes

    @property
    def primary_features(self) -> tuple[str, ...]:
        """Names of the primary features used."""
        return self._names

    @property
    def columns(self) -> tuple[int, ...] | None:
        """Column of each primary feature in the build matrix."""
        return self._columns

    @property
    def real_cbrt(self) -> bool:
        """Whether ``cbrt`` is the real cube root (False: NaN for negatives, as Fortran)."""
        return self._real_cbrt

    def _complexity(self, k: int) -> int:
        code, a, b = self._nodes[k]
        if code == VAR:
            return 0
        return 1 + self._complexity(a) + (self._complexity(b) if b >= 0 else 0)

    @property
    def complexity(self) -> int:
        """Number of operators in the expression tree."""
        return self._complexity(len(self._nodes) - 1)

    def _unit(self, k: int) -> Unit:
        code, a, b = self._nodes[k]
        if code == VAR:
            return self._units[a]
        return unit_of(code, self._unit(a), self._unit(b) if b >= 0 else None)

    @property
    def unit(self) -> Unit:
        """Unit of the feature (Fortran rules: exp/log/... of anything are dimensionless)."""
        return self._unit(len(self._nodes) - 1)

    # -------------------------------------------------------------- evaluation
    def _leaves(self, X: Any) -> np.ndarray:
        if hasattr(X, "columns") and hasattr(X, "to_numpy"):  # pandas DataFrame
            missing = [n for n in self._names if n not in X.columns]
            if missing:
                raise ValueError(f"X lacks the primary feature columns {missing}")
            return np.ascontiguousarray(X[list(self._names)].to_numpy(dtype=np.float64).T)
        if isinstance(X, Mapping):
            return np.array([np.asarray(X[n], dtype=np.float64) for n in self._names])
        arr = np.asarray(X, dtype=np.float64)
        if arr.ndim != 2:
            raise ValueError("X must be 2-D (n_samples, n_primary_features)")
        if self._columns is None:
            if arr.shape[1] != len(self._names):
                raise ValueError("X columns must match primary_features (no column map)")
            return np.ascontiguousarray(arr.T)
        if arr.shape[1] <= max(self._columns):
            raise ValueError(f"X has {arr.shape[1]} columns; column {max(self._columns)} needed")
        return np.ascontiguousarray(arr[:, list(self._columns)].T)

    def evaluate(self, X: Any) -> np.ndarray:
        """Values of the feature on new data.

        ``X`` is a DataFrame or mapping with the primary feature names, or an array with
        the columns of the build matrix.
        """
        leaves = self._leaves(X)
        codes = np.array([n[0] for n in self._nodes], dtype=np.int64)
        arg_a = np.array([n[1] for n in self._nodes], dtype=np.int64)
        arg_b = np.array([n[2] for n in self._nodes], dtype=np.int64)
        return run_program_nb(codes, arg_a, arg_b, leaves, self._real_cbrt)[-1]

    # ----------------------------------------------------------- sympy / latex
    def sympy(self) -> Any:
        """SymPy expression (real symbols; ``scd(x)`` = 1/(pi (1+x^2)); the real ``cbrt`` is
        ``sign(x) |x|^(1/3)``, the Fortran one the principal root ``x^(1/3)``)."""
        import sympy as sp

        symbols = [sp.Symbol(n, real=True) for n in self._names]
        built: list[Any] = []
        for code, a, b in self._nodes:
            if code == VAR:
                built.append(symbols[a])
            else:
                y = built[b] if b >= 0 else None
                built.append(_sympy_node(sp, NAME[code], built[a], y, self._real_cbrt))
        return built[-1]

    def latex(self) -> str:
        """LaTeX rendering following the tree (no algebraic rewriting)."""
        return self._latex(len(self._nodes) - 1)

    def _latex(self, k: int) -> str:
        code, a, b = self._nodes[k]
        name = NAME[code]
        if code == VAR:
            return _latex_symbol(self._names[a])
        x = self._latex(a)
        y = self._latex(b) if b >= 0 else ""
        table = {
            "+": f"\\left({x} + {y}\\right)", "-": f"\\left({x} - {y}\\right)",
            "*": f"{x} {y}", "/": f"\\frac{{{x}}}{{{y}}}", "|-|": f"\\left|{x} - {y}\\right|",
            "exp": f"\\exp\\left({x}\\right)", "exp-": f"\\exp\\left(-{x}\\right)",
            "^-1": f"\\left({x}\\right)^{{-1}}", "^2": f"\\left({x}\\right)^{{2}}",
            "^3": f"\\left({x}\\right)^{{3}}", "^6": f"\\left({x}\\right)^{{6}}",
            "sqrt": f"\\sqrt{{{x}}}", "cbrt": f"\\sqrt[3]{{{x}}}", "log": f"\\ln\\left({x}\\right)",
            "scd": f"\\frac{{1}}{{\\pi\\left(1 + \\left({x}\\right)^{{2}}\\right)}}",
            "sin": f"\\sin\\left({x}\\right)", "cos": f"\\cos\\left({x}\\right)",
        }  # fmt: skip
        return table[name]

    # ---------------------------------------------------------------- JSON
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable description (operator names, never code)."""
        return {
            "format": _FORMAT,
            "expression": self._string,
            "nodes": [[NAME[c], a, b] for c, a, b in self._nodes],
            "primary_features": list(self._names),
            "primary_units": [str(u) for u in self._units],
            "columns": list(self._columns) if self._columns is not None else None,
            "real_cbrt": self._real_cbrt,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Expression:
        """Inverse of :meth:`to_dict`; validates operator names and node references."""
        if data.get("format") != _FORMAT:
            raise ValueError(f"not a {_FORMAT} record: format={data.get('format')!r}")
        nodes = []
        for item in data["nodes"]:
            name, a, b = item
            if name != "var" and name not in CODE:
                raise ValueError(f"unknown operator {name!r}")
            nodes.append((0 if name == "var" else CODE[name], int(a), int(b)))
        expr = cls(
            nodes,
            data["primary_features"],
            data.get("primary_units"),
            data.get("columns"),
            bool(data.get("real_cbrt", True)),
        )
        if "expression" in data and data["expression"] != str(expr):
            raise ValueError(
                f"expression string {data['expression']!r} does not match its nodes ({expr})"
            )
        return expr


def _sympy_node(sp: Any, name: str, x: Any, y: Any, real_cbrt: bool) -> Any:
    """SymPy form of operator ``name`` applied to ``x`` (and ``y``)."""
    if name == "+":
        return x + y
    if name == "-":
        return x - y
    if name == "*":
        return x * y
    if name == "/":
        return x / y
    if name == "|-|":
        return sp.Abs(x - y)
    if name == "exp":
        return sp.exp(x)
    if name == "exp-":
        return sp.exp(-x)
    if name.startswith("^"):
        return x ** int(name[1:])
    if name == "scd":
        return 1 / (sp.pi * (1 + x**2))
    if name == "cbrt" and real_cbrt:
        return sp.sign(x) * sp.Abs(x) ** sp.Rational(1, 3)
    return {"sqrt": sp.sqrt, "cbrt": sp.cbrt, "log": sp.log, "sin": sp.sin, "cos": sp.cos}[name](x)


def _latex_symbol(name: str) -> str:
    head, _, tail = name.partition("_")
    head = head.replace("%", "\\%")
    if not tail:
        return f"\\mathrm{{{head}}}" if len(head) > 1 else head
    tail = tail.replace("_", ",")
    return f"{head}_{{\\mathrm{{{tail}}}}}"
