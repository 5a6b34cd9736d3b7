"""Oracles: what measures a chosen candidate (a DFT workflow, an experiment, a look-up).

An oracle is a callable that receives the chosen pool rows as a DataFrame (the pool's
index kept) and returns one value per row: a sequence in row order, a ``pandas.Series``
or ``dict`` keyed by the pool index, or a float for a single row. A value that cannot be
delivered (NaN, inf, ``None``, or an exception) is recorded as a failed measurement with
its message; the campaign never drops it silently and goes on.

Oracles can be named by a string ``"package.module:function"`` or
``"path/to/file.py:function"`` (the CLI and checkpoints use this form).
"""

from __future__ import annotations

import importlib
import importlib.util
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["Measurement", "load_oracle", "lookup_oracle", "measure"]


@dataclass(frozen=True)
class Measurement:
    """The outcome of measuring one candidate."""

    value: float | None
    status: str  # "ok" or "failed"
    message: str = ""


def load_oracle(spec: str) -> Callable:
    """Import an oracle from ``"module:function"`` or ``"file.py:function"``."""
    if not isinstance(spec, str) or ":" not in spec:
        raise ValueError(f"oracle spec {spec!r} must look like 'package.module:function' or "
                         "'path/to/file.py:function'")
    module_name, _, attr = spec.rpartition(":")
    if module_name.endswith(".py"):
        path = Path(module_name)
        if not path.exists():
            raise ValueError(f"oracle file {path} not found")
        mod_spec = importlib.util.spec_from_file_location(f"_oracle_{path.stem}", path)
        module = importlib.util.module_from_spec(mod_spec)
        try:
            mod_spec.loader.exec_module(module)
        except Exception as err:  # noqa: BLE001 - the user's file: report it in one line
            raise ValueError(f"oracle file {path} failed to load: "
                             f"{type(err).__name__}: {err}") from err
    else:
        try:
            module = importlib.import_module(module_name)
        except ImportError as err:
            raise ValueError(f"cannot import oracle module {module_name!r}: {err}") from err
    try:
        fn = getattr(module, attr)
    except AttributeError as err:
        raise ValueError(f"oracle module {module_name!r} has no attribute {attr!r}") from err
    if not callable(fn):
        raise ValueError(f"oracle {spec!r} is not callable")
    return fn


def lookup_oracle(values: pd.Series) -> Callable[[pd.DataFrame], list]:
    """Retrospective oracle: reveals the known value of each chosen row."""

    def oracle(rows: pd.DataFrame) -> list:
        return [values.loc[i] for i in rows.index]

    oracle.__name__ = f"lookup[{values.name}]"
    return oracle


def _as_measurement(value) -> Measurement:
    if value is None:
        return Measurement(None, "failed", "oracle returned no value (None)")
    try:
        number = float(value)
    except (TypeError, ValueError):
        return Measurement(None, "failed", f"oracle returned a non-number: {value!r}")
    if not math.isfinite(number):
        return Measurement(None, "failed", f"oracle returned {number}")
    return Measurement(number, "ok")


def _values_in_order(result, rows: pd.DataFrame) -> list:
    n = len(rows)
    if isinstance(result, pd.DataFrame):
        if result.shape[1] != 1:
            raise ValueError(f"oracle returned a DataFrame with {result.shape[1]} columns; "
                             "return one value per row")
        result = result.iloc[:, 0]
    if isinstance(result, pd.Series | dict):
        mapping = result if isinstance(result, dict) else result.to_dict()
        missing = [i for i in rows.index if i not in mapping]
        if missing:
            raise ValueError(f"oracle result has no value for pool index {missing[:5]}")
        return [mapping[i] for i in rows.index]
    if np.ndim(result) == 0:
        if n != 1:
            raise ValueError(f"oracle returned one value for {n} rows")
        return [result]
    out = list(np.ravel(np.asarray(result, dtype=object)))
    if len(out) != n:
        raise ValueError(f"oracle returned {len(out)} values for {n} rows")
    return out


def measure(oracle: Callable, rows: pd.DataFrame) -> list[Measurement]:
    """Measure ``rows`` with ``oracle``; failures become failed measurements.

    If a call on several rows raises, each row is measured on its own, so that one bad
    candidate does not fail the whole batch. A result of the wrong shape is a bug in the
    oracle and raises ``ValueError`` (the chosen batch stays pending in the checkpoint).
    """
    try:
        result = oracle(rows)
    except Exception as err:  # noqa: BLE001 - any oracle failure is recorded, not raised
        if len(rows) == 1:
            return [Measurement(None, "failed", f"{type(err).__name__}: {err}")]
        return [m for i in range(len(rows)) for m in measure(oracle, rows.iloc[i:i + 1])]
    return [_as_measurement(v) for v in _values_in_order(result, rows)]
