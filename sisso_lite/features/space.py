"""`FeatureSpace`: build the stored rungs of a SISSO feature space and screen the last rung."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from .dedup import unique_by_fingerprint
from .expression import Expression, NodeNames, format_node
from .generate import (
    MODE_RECORD,
    compute_nodes,
    compute_nodes_into,
    domain_flags,
    generate_rung,
)
from .kernels import SELECTABLE
from .memory import check_rung_records, check_rung_values
from .operators import (
    ALL_OPERATORS,
    CODE,
    MUL,
    N_CODES,
    VAR,
    normalize_operator_sets,
    operator_mask,
)
from .operators import power_of as _power_of
from .screening import ScreenedFeature, screen_space
from .storage import StoredValues
from .tables import SpaceTables
from .units import Unit, parse_unit

__all__ = ["FeatureSpace", "ScreenedFeature", "n_rungs_for_complexity"]

_FORBIDDEN_NAME_CHARS = set("+-*/^()| \t\n")
_RECORD_CHUNK = 131_072
VIRTUAL_TIER = True  # keep the newest stored tier as a program where allowed (storage.py)


def n_rungs_for_complexity(max_complexity: int) -> int:
    """Rungs needed for ``max_complexity`` operators (SISSO v3.1+: 0->0, 1->1, 2-3->2, 4-7->3)."""
    if max_complexity < 0:
        raise ValueError("max_complexity must be >= 0")
    return math.ceil(math.log2(max_complexity + 1)) if max_complexity > 0 else 0


class FeatureSpace:
    """SISSO feature space (Ouyang et al., Phys. Rev. Mater. 2, 083802 (2018)).

    Parameters
    ----------
    operators : sequence of str, or sequence of sequences (one per rung)
        SISSO operators ``+ - * / exp exp- ^-1 ^2 ^3 ^6 sqrt cbrt log |-| scd sin cos``.
    max_complexity : int
        Maximal number of operators in a feature (SISSO ``fcomplexity``); the number of
        rungs is ``ceil(log2(max_complexity + 1))``.
    max_abs_value, min_abs_value : float
        SISSO ``fmax_max`` / ``fmax_min``: a feature whose max |value| lies outside
        ``[min_abs_value, max_abs_value]`` is kept for further combination but never selected.
    fortran_compatible : bool
        Mimic Fortran SISSO v3.5 exactly: exp/exp-/log/scd/sin/cos also of dimensional
        features, ``cbrt`` of negative numbers is NaN, and NaN entries are ignored by the
        validity checks as gfortran's ``maxval``/``minval`` do. Default False: those unary
        operators only act on dimensionless features, ``cbrt`` is the real cube root and any
        non-finite value invalidates a feature.
    memory_limit : int, float or str, optional
        Bytes the space may hold (``"4GB"``, ``"50%"`` of RAM, ``"none"``); default: the
        environment variable ``SISSO_LITE_MEMORY_LIMIT``, else 75 % of RAM. A rung or
        screen whose estimated memory exceeds it raises
        :class:`~sisso_lite.features.memory.MemoryLimitError` before allocating
        (:mod:`sisso_lite.features.memory`).
    """

    def __init__(
        self,
        operators: Sequence[Any] = ALL_OPERATORS,
        max_complexity: int = 3,
        max_abs_value: float = 1e5,
        min_abs_value: float = 1e-3,
        fortran_compatible: bool = False,
        memory_limit: int | float | str | None = None,
    ) -> None:
        self.operators = operators
        self.max_complexity = max_complexity
        self.max_abs_value = max_abs_value
        self.min_abs_value = min_abs_value
        self.fortran_compatible = fortran_compatible
        self.memory_limit = memory_limit

    # ================================================================= build
    def build(
        self,
        X: Any,
        names: Sequence[str] | None = None,
        units: Sequence[str | Unit | None] | Mapping[str, str | Unit | None] | None = None,
    ) -> FeatureSpace:
        """Validate the primary features and construct all rungs but the last.

        Parameters
        ----------
        X : array-like or DataFrame (n_samples, n_primary)
            Primary feature values (float, finite).
        names : sequence of str, optional
            Column names (taken from a DataFrame if omitted).
        units : sequence of str | Unit | None, or mapping name -> unit, optional
            Unit of each column (None = dimensionless).
        """
        values, names = _validate_primary(X, names)
        n_primary = len(names)
        if units is None:
            units = [None] * n_primary
        elif isinstance(units, Mapping):
            units = [units.get(name) for name in names]
        if len(units) != n_primary:
            raise ValueError(f"{len(units)} units given for {n_primary} primary features")
        parsed = []
        for name, unit in zip(names, units, strict=True):
            try:
                parsed.append(parse_unit(unit))
            except ValueError as exc:
                raise ValueError(f"primary feature {name!r}: {exc}") from None
        self.max_complexity = int(self.max_complexity)
        self.n_rungs_ = n_rungs_for_complexity(self.max_complexity)
        self.operator_sets_ = normalize_operator_sets(self.operators, max(self.n_rungs_, 1))
        self.primary_names_ = tuple(names)
        self.primary_units_ = tuple(parsed)
        self.unit_bases_ = tuple(sorted({b for u in parsed for b in u.exponents}))
        self._fortran = bool(self.fortran_compatible)
        self._lower = float(self.min_abs_value)
        self._upper = float(self.max_abs_value)
        n_samples = values.shape[0]
        self.n_samples_ = n_samples
        self._tag = 1.0 + 0.001 * np.arange(1, n_samples + 1, dtype=np.float64)

        self._operand_rows = np.ascontiguousarray(values.T)
        self._op = np.zeros(n_primary, dtype=np.int64)
        self._a = np.arange(n_primary, dtype=np.int64)
        self._b = np.full(n_primary, -1, dtype=np.int64)
        self._complexity = np.zeros(n_primary, dtype=np.int64)
        self._unit_vec = np.array(
            [u.vector(self.unit_bases_) for u in parsed], dtype=np.float64
        ).reshape(n_primary, len(self.unit_bases_))
        self._uses_table: np.ndarray | None = None
        self._names = NodeNames(names)
        self._static_inputs = None
        self._tier_starts = [0]
        self.n_features_per_rung_ = [n_primary]
        for rung in range(1, self.n_rungs_):
            self._build_rung(rung)
        self._storage = StoredValues(self._operand_rows, self._op, self._a, self._b,
                                     self._fortran)  # fmt: skip
        del self._operand_rows  # now the storage's
        self._status, *flags = self._storage.status_and_flags(self._lower, self._upper)
        self._flags = tuple(flags)
        self._status[:n_primary] = np.where(
            self._status[:n_primary] == SELECTABLE, SELECTABLE, 0
        )
        self._last_rung_counted = self.n_rungs_ == 0
        return self

    @property
    def tables(self) -> SpaceTables:
        """Frozen public view of the stored program (operators, operands, complexities,
        units, names, stored values): what solvers and tests may read."""
        self._check_built(values=False)
        return SpaceTables.of(self)

    @property
    def _virtual_tier(self) -> bool:
        """Whether the newest stored tier is kept as a program (``storage.StoredValues``)."""
        return self._storage.n_virtual > 0

    @property
    def _values(self) -> np.ndarray:
        """All stored rows, materialised (and kept) if the newest tier is virtual.

        For consumers that read arbitrary rows (generic scorers, the batched ensemble, the
        NumPy references); the SIS fast path reads ``_storage`` block by block instead.
        """
        self._check_built()
        return self._storage.full()

    def _rung_inputs(
        self, values: np.ndarray | None = None, flags: Sequence[np.ndarray] | None = None
    ) -> dict[str, Any]:
        """Per-feature arrays the enumeration kernels read (domain flags of ``values``' rows,
        or ``flags = (nonzero, positive)``; neither: the build rows' flags).

        The row-independent part is cached until the next rung is added.
        """
        n_total = len(self._names)
        cached = getattr(self, "_static_inputs", None)
        if cached is None or len(cached["unit_id"]) != n_total:
            _, unit_id = np.unique(np.round(self._unit_vec, 6), axis=0, return_inverse=True)
            right_first = np.zeros(n_total, dtype=np.bool_)
            for k in np.flatnonzero(self._op == MUL):
                name, right = self._names[k], self._names[self._b[k]]
                right_first[k] = name.find(right) == len(name) - 1 - len(right)
            comp = self._complexity
            cached = {
                "unit_id": unit_id.ravel().astype(np.int64),
                "right_first": right_first,
                "tier_start": self._tier_starts[-1],
                "suffix_min": np.minimum.accumulate(comp[::-1])[::-1].copy(),
                "dimensionless": np.all(np.abs(self._unit_vec) < 1e-8, axis=1),
            }
            self._static_inputs = cached
        if flags is not None:
            nonzero, positive = flags
        elif values is None:
            nonzero, positive = self._flags
        else:
            nonzero, positive = domain_flags(values, self._fortran)
        return {**cached, "nonzero": nonzero, "positive": positive}

    def _build_rung(self, rung: int) -> None:
        self._names.fix()  # the newest tier's strings are read often below (as operands)
        inputs = self._rung_inputs(self._operand_rows)
        opmask = np.array(operator_mask(self.operator_sets_[rung - 1]), dtype=np.bool_)
        n_total = len(self._names)
        allowed = np.ones(n_total, dtype=np.bool_)
        codes, arg_a, arg_b, fids = [], [], [], []
        i_pos, j_pos = inputs["tier_start"], -1
        cap = _RECORD_CHUNK
        out = _empty_record_buffers(cap, self.n_samples_)
        while i_pos < n_total:
            n_out, _, i_pos, j_pos = generate_rung(
                MODE_RECORD, i_pos, j_pos, n_total, inputs["tier_start"], False, opmask,
                self._op, self._a, self._b, self._complexity, self.max_complexity,
                inputs["suffix_min"], inputs["right_first"], inputs["unit_id"],
                inputs["nonzero"], inputs["positive"], inputs["dimensionless"], allowed,
                self._operand_rows, self._fortran, self._lower, self._upper, self._tag, *out,
            )  # fmt: skip
            codes.append(out[0][:n_out].copy())
            arg_a.append(out[1][:n_out].copy())
            arg_b.append(out[2][:n_out].copy())
            fids.append(out[4][:n_out].copy())
            check_rung_records(self, rung, sum(len(c) for c in codes))
        code = np.concatenate(codes)
        a = np.concatenate(arg_a)
        b = np.concatenate(arg_b)
        fid = np.concatenate(fids)
        del codes, arg_a, arg_b, fids, out
        comp = 1 + self._complexity[a] + np.where(b >= 0, self._complexity[np.maximum(b, 0)], 0)
        same_values = None if self._fortran else self._same_values_check(code, a, b)
        keep = unique_by_fingerprint(
            fid, comp, lambda k: self._node_name(int(code[k]), int(a[k]), int(b[k])),
            same_values, self._fortran,
        )
        del fid
        code, a, b, comp = code[keep], a[keep], b[keep], comp[keep]
        # the newest stored tier stays virtual (see storage.py) when the last rung cannot
        # pair two of its features: 1 + 2 * its lowest complexity > max_complexity
        virtual = (VIRTUAL_TIER and rung == self.n_rungs_ - 1 and len(comp) > 0
                   and 1 + 2 * int(comp.min()) > self.max_complexity)  # fmt: skip
        check_rung_values(self, rung, len(code), virtual)
        if not virtual:
            grown = np.empty((n_total + len(code), self.n_samples_))
            grown[:n_total] = self._operand_rows
            self._operand_rows = grown  # no second copy of the stored rungs
            compute_nodes_into(code, a, b, grown, self._fortran, grown, n_total)
        unit_new = _unit_vectors(code, self._unit_vec[a], self._unit_vec[np.maximum(b, 0)])
        self._tier_starts.append(n_total)
        self._op = np.concatenate([self._op, code])
        self._a = np.concatenate([self._a, a])
        self._b = np.concatenate([self._b, b])
        self._complexity = np.concatenate([self._complexity, comp])
        self._unit_vec = np.vstack([self._unit_vec, unit_new])
        self._uses_table = None
        self._names.add_tier(self._op, self._a, self._b)
        self.n_features_per_rung_.append(len(self._names))

    @property
    def _uses(self) -> np.ndarray:
        """Bool ``(n_stored, n_primary)``: primary features each stored feature reads.

        Only screens restricted by ``allowed_primary`` need it: built on first use, tier by
        tier (operands lie in earlier tiers), and kept until the next rung is added.
        """
        if self._uses_table is None:
            n_total, n_primary = len(self._names), len(self.primary_names_)
            uses = np.zeros((n_total, n_primary), dtype=np.bool_)
            uses[:n_primary] = np.eye(n_primary, dtype=np.bool_)
            bounds = [*self._tier_starts[1:], n_total]
            for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
                a, b = self._a[lo:hi], self._b[lo:hi]
                uses[lo:hi] = uses[a] | (uses[np.maximum(b, 0)] & (b >= 0)[:, None])
            self._uses_table = uses
        return self._uses_table

    def _node_name(self, code: int, a: int, b: int) -> str:
        return format_node(code, self._names[a], self._names[b] if b >= 0 else None)

    def _same_values_check(self, code: np.ndarray, a: np.ndarray, b: np.ndarray) -> Any:
        """Callable ``(g, r) -> bool``: candidates g and r really have the same values."""

        def same(g: int, r: int) -> bool:
            vals = compute_nodes(code[[g, r]], a[[g, r]], b[[g, r]], self._operand_rows, False)
            return bool(np.allclose(vals[0], vals[1], rtol=1e-9, atol=1e-12))

        return same

    # ============================================================ expressions
    def expression_of(self, index: int) -> Expression:
        """The :class:`Expression` of stored feature ``index``."""
        return self._expression_from_nodes(*self._collect(int(index)))

    def _collect(self, index: int) -> tuple[list[tuple[int, int, int]], list[int]]:
        nodes: list[tuple[int, int, int]] = []
        primaries: list[int] = []
        memo: dict[int, int] = {}

        def visit(k: int) -> int:
            if k in memo:
                return memo[k]
            if self._op[k] == VAR:
                col = int(self._a[k])
                if col not in primaries:
                    primaries.append(col)
                nodes.append((VAR, primaries.index(col), -1))
            else:
                x = visit(int(self._a[k]))
                y = visit(int(self._b[k])) if self._b[k] >= 0 else -1
                nodes.append((int(self._op[k]), x, y))
            memo[k] = len(nodes) - 1
            return memo[k]

        visit(index)
        return nodes, primaries

    def _expression_from_nodes(
        self, nodes: list[tuple[int, int, int]], primaries: list[int]
    ) -> Expression:
        return Expression(
            nodes,
            [self.primary_names_[c] for c in primaries],
            [self.primary_units_[c] for c in primaries],
            primaries,
            real_cbrt=not self._fortran,
        )

    def candidate_expression(self, code: int, a: int, b: int) -> Expression:
        """Expression of a last-rung candidate ``a OP b`` over stored features."""
        nodes_a, prim_a = self._collect(a)
        if b < 0:
            return self._expression_from_nodes(nodes_a + [(code, len(nodes_a) - 1, -1)], prim_a)
        nodes_b, prim_b = self._collect(b)
        primaries = list(prim_a)
        remap = {}
        for k, col in enumerate(prim_b):
            if col not in primaries:
                primaries.append(col)
            remap[k] = primaries.index(col)
        offset = len(nodes_a)
        shifted = [
            (c, remap[x], -1) if c == VAR else (c, x + offset, y + offset if y >= 0 else -1)
            for c, x, y in nodes_b
        ]
        nodes = nodes_a + shifted + [(code, offset - 1, offset + len(nodes_b) - 1)]
        return self._expression_from_nodes(nodes, primaries)

    def candidate_name(self, code: int, a: int, b: int) -> str:
        """Fortran string of a last-rung candidate (cheaper than building the expression)."""
        return format_node(code, self._names[a], self._names[b] if b >= 0 else None)

    # ================================================================ screen
    def screen(
        self,
        scorer: Any,
        n_sis: int,
        exclude: Iterable[str] | None = None,
        rows: Sequence[int] | np.ndarray | None = None,
        allowed_primary: Sequence[bool] | np.ndarray | None = None,
    ) -> list[ScreenedFeature]:
        """Sure independence screening of the whole space (stored rungs + last rung).

        Parameters
        ----------
        scorer : sisso_lite.solvers.sis.Scorer
            Built on the screened rows (``score_block`` receives ``(m, len(rows))``).
        n_sis : int
            Number of features to return (best first).
        exclude : set of str
            ``Expression.key`` of features that may not be selected (earlier dimensions).
        rows : int array, optional
            Rows of the build data to screen on (repeats allowed, e.g. a bootstrap sample).
        allowed_primary : bool array (n_primary,), optional
            Features using a disallowed primary feature are skipped.
        """
        self._check_built()
        return screen_space(self, scorer, int(n_sis), exclude, rows, allowed_primary)

    def evaluate(self, expressions: Sequence[Expression], X: Any) -> np.ndarray:
        """Columns ``(n_samples, len(expressions))`` of the expressions on new data."""
        if not expressions:
            return np.empty((np.asarray(X).shape[0], 0))
        return np.column_stack([expr.evaluate(X) for expr in expressions])

    def release(self) -> None:
        """Free the stored feature values, by far the largest array of a built space.

        For a caller that is done screening (e.g. before the final L0 search of a fit).
        Names, expressions and sizes stay available (``stored_names``, ``expression_of``,
        ``n_features_per_rung_``); ``screen`` raises until the space is built again.
        """
        self._check_built(values=False)
        for name in ("_storage", "_status", "_flags"):
            self.__dict__.pop(name, None)
        self._static_inputs = None
        self._uses_table = None

    def _check_built(self, values: bool = True) -> None:
        if not hasattr(self, "_names"):
            raise RuntimeError("call FeatureSpace.build(X, names, units) first")
        if values and "_storage" not in self.__dict__:
            raise RuntimeError("the stored values were released (FeatureSpace.release); "
                               "call FeatureSpace.build(X, names, units) again")

    @property
    def n_stored_(self) -> int:
        """Number of stored features (all rungs but the last)."""
        self._check_built(values=False)
        return len(self._names)

    def stored_names(self) -> list[str]:
        """Fortran strings of the stored features (primary features first)."""
        self._check_built(values=False)
        return list(self._names)


# ====================================================================== helpers
def _empty_record_buffers(cap: int, n_samples: int) -> tuple[np.ndarray, ...]:
    return (
        np.empty(cap, np.int64), np.empty(cap, np.int64), np.empty(cap, np.int64),
        np.empty(cap, np.int8), np.empty(cap, np.float64), np.empty((1, n_samples)),
    )  # fmt: skip


def _unit_vectors(code: np.ndarray, ua: np.ndarray, ub: np.ndarray) -> np.ndarray:
    """Unit exponent vectors of new nodes from those of their operands (rows)."""
    power = np.array([_power_of(c) for c in range(N_CODES)])
    power[[CODE["+"], CODE["-"], CODE["|-|"], CODE["*"], CODE["/"]]] = 1.0
    out = ua * power[code][:, None]
    out[code == CODE["*"]] += ub[code == CODE["*"]]
    out[code == CODE["/"]] -= ub[code == CODE["/"]]
    return out


def _validate_primary(X: Any, names: Sequence[str] | None) -> tuple[np.ndarray, list[str]]:
    if hasattr(X, "columns") and hasattr(X, "to_numpy"):
        if names is None:
            names = [str(c) for c in X.columns]
        columns = [X[c] for c in X.columns]
    else:
        arr = np.asarray(X, dtype=object)
        if arr.ndim != 2:
            raise ValueError(f"X must be 2-D (n_samples, n_primary), got shape {arr.shape}")
        columns = [arr[:, k] for k in range(arr.shape[1])]
        if names is None:
            names = [f"x{k}" for k in range(arr.shape[1])]
    names = [str(n) for n in names]
    if len(names) != len(columns):
        raise ValueError(f"{len(names)} names given for {len(columns)} columns")
    seen: set[str] = set()
    for name in names:
        if not name or set(name) & _FORBIDDEN_NAME_CHARS:
            raise ValueError(
                f"feature name {name!r} is empty or contains operator characters "
                "(+ - * / ^ ( ) | or spaces)"
            )
        if name in seen:
            raise ValueError(f"duplicate feature name {name!r}")
        seen.add(name)
    out = np.empty((len(columns[0]) if columns else 0, len(columns)), dtype=np.float64)
    for k, (name, col) in enumerate(zip(names, columns, strict=True)):
        try:
            out[:, k] = np.asarray(col, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"column {name!r} is not numeric") from None
        if not np.all(np.isfinite(out[:, k])):
            raise ValueError(f"column {name!r} contains NaN or infinite values")
    if out.shape[0] < 2:
        raise ValueError("at least two samples are needed")
    return out, names
