"""``SpaceTables``: the frozen, public view of a built feature space's program.

The solvers (the lock-step ensemble driver, the member selection), the NumPy references and
the tests read the space's program through this view instead of the space's private
attributes, so the space may change how it stores itself without breaking them. Arrays are
read-only views (no copy): writing to one raises ``ValueError: assignment destination is
read-only``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["SpaceTables"]


def _frozen(arr: np.ndarray) -> np.ndarray:
    view = arr.view()
    view.flags.writeable = False
    return view


@dataclass(frozen=True)
class SpaceTables:
    """The program of every stored feature of a built :class:`FeatureSpace` (index ``k``).

    Attributes
    ----------
    op, a, b : int ndarray (n_stored,)
        Operator code of feature ``k`` (``-1``/``0`` for primary features; see
        :mod:`~sisso_lite.features.operators`) and its operand indices (``b = -1`` unary).
    complexity : int ndarray (n_stored,)
        Number of operators.
    unit_vec : float ndarray (n_stored, n_base_units)
        Unit exponents.
    names : Sequence[str]
        Formula of feature ``k`` (Fortran SISSO spelling), built lazily.
    tier_starts : tuple of int
        First index of every stored rung.
    fortran : bool
        Fortran-compatible construction rules (``fortran_compatible``).
    lower, upper : float
        ``min_abs_value`` / ``max_abs_value`` of the space.
    tag : float ndarray (n_samples,)
        Row tags of the duplicate fingerprints.
    """

    op: np.ndarray
    a: np.ndarray
    b: np.ndarray
    complexity: np.ndarray
    unit_vec: np.ndarray
    names: Sequence[str]
    tier_starts: tuple[int, ...]
    fortran: bool
    lower: float
    upper: float
    tag: np.ndarray
    _space: Any

    @classmethod
    def of(cls, space) -> SpaceTables:
        """The view of a built ``space``."""
        return cls(op=_frozen(space._op), a=_frozen(space._a), b=_frozen(space._b),
                   complexity=_frozen(space._complexity), unit_vec=_frozen(space._unit_vec),
                   names=space._names, tier_starts=tuple(space._tier_starts),
                   fortran=bool(space._fortran), lower=float(space._lower),
                   upper=float(space._upper), tag=_frozen(space._tag), _space=space)

    @property
    def n_stored(self) -> int:
        return len(self.op)

    @property
    def storage(self):
        """The stored values (:class:`~sisso_lite.features.storage.StoredValues`: blocks,
        row subsets, a virtual newest tier)."""
        return self._space._storage

    @property
    def values(self) -> np.ndarray:
        """All stored rows ``(n_stored, n_samples)``, materialised once if needed."""
        return _frozen(self._space._values)

    @property
    def status(self) -> np.ndarray:
        """Per stored feature: selectable / operand-only flags (``features.kernels``)."""
        return _frozen(self._space._status)

    @property
    def uses(self) -> np.ndarray:
        """Bool ``(n_stored, n_primary)``: the primary features each stored feature reads."""
        return _frozen(self._space._uses)

    @property
    def virtual_tier(self) -> bool:
        """Whether the newest stored tier is kept as a program, not as values."""
        return self._space._virtual_tier

    def rung_inputs(self, values: np.ndarray | None = None,
                    flags: Sequence[np.ndarray] | None = None) -> dict[str, Any]:
        """The per-feature arrays the enumeration kernels read (see ``FeatureSpace``)."""
        return self._space._rung_inputs(values, flags)
