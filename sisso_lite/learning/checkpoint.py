"""Campaign checkpoints: plain JSON files written atomically (no pickle).

A checkpoint holds the campaign's configuration, every measurement made so far (value or
failure message), the per-round table, and the batch that was chosen but not yet measured
(so a kill during a long oracle call loses nothing: the resumed campaign measures the same
batch). The candidate pool is written once, beside the checkpoint
(``<name>.pool.json``), with a fingerprint stored in the checkpoint so that a campaign is
never resumed on a different pool by mistake.

Floats are written with Python's shortest round-trip repr, so a resumed campaign trains on
bit-identical values; NaN and infinities are written as ``null``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "CHECKPOINT_FORMAT",
    "CheckpointError",
    "atomic_write_json",
    "pool_fingerprint",
    "pool_path",
    "read_checkpoint",
    "read_pool",
    "write_pool",
]

CHECKPOINT_FORMAT = "sisso-lite-campaign"
CHECKPOINT_VERSION = 1
_REQUIRED = ("format", "version", "config", "pool_fingerprint", "records", "rounds", "pending")


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read back (names the file and the problem)."""


def _clean(obj: Any) -> Any:
    """JSON-safe copy: numpy scalars to Python, non-finite floats to None."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [_clean(v) for v in obj.tolist()]
    if isinstance(obj, np.bool_ | bool):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        value = float(obj)
        return value if math.isfinite(value) else None
    return obj


def atomic_write_json(path: str | os.PathLike, payload: dict) -> None:
    """Write ``payload`` to ``path`` so that a kill leaves either the old or the new file.

    The JSON goes to a temporary file in the same directory, is flushed and fsynced, and
    replaces ``path`` with :func:`os.replace` (atomic on POSIX and Windows).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(_clean(payload), allow_nan=False, indent=1)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _load_json(path: Path, what: str) -> dict:
    if not path.exists():
        raise CheckpointError(f"{path}: {what} file not found")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise CheckpointError(f"{path}: cannot read {what} ({err})") from err
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise CheckpointError(f"{path}:{err.lineno}: corrupt {what}: {err.msg}") from err
    if not isinstance(data, dict):
        raise CheckpointError(f"{path}: corrupt {what}: top level is not a JSON object")
    return data


def read_checkpoint(path: str | os.PathLike) -> dict:
    """Read and validate a checkpoint (raises :class:`CheckpointError` naming the problem)."""
    path = Path(path)
    data = _load_json(path, "checkpoint")
    if data.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path}: not a sisso-lite campaign checkpoint "
                              f"(format={data.get('format')!r})")
    missing = [k for k in _REQUIRED if k not in data]
    if missing:
        raise CheckpointError(f"{path}: corrupt checkpoint: missing {', '.join(missing)}")
    if data["version"] != CHECKPOINT_VERSION:
        raise CheckpointError(f"{path}: checkpoint version {data['version']} is not supported "
                              f"(this sisso-lite writes version {CHECKPOINT_VERSION})")
    if not isinstance(data["records"], list) or not isinstance(data["rounds"], list):
        raise CheckpointError(f"{path}: corrupt checkpoint: records/rounds are not lists")
    if not isinstance(data["config"], dict):
        raise CheckpointError(f"{path}: corrupt checkpoint: config is not a JSON object")
    missing = [k for k in _CONFIG if k not in data["config"]]
    if missing:
        raise CheckpointError(f"{path}: corrupt checkpoint: config lacks {', '.join(missing)}")
    if not isinstance(data["pool_fingerprint"], str):
        raise CheckpointError(f"{path}: corrupt checkpoint: pool_fingerprint is not a string")
    for i, rec in enumerate(data["records"]):
        _check_record(path, i, rec)
    for i, rnd in enumerate(data["rounds"]):
        if not isinstance(rnd, dict) or not _is_int(rnd.get("round")):
            raise CheckpointError(f"{path}: corrupt checkpoint: round {i} has no integer "
                                  "'round'")
    if data["pending"] is not None:
        _check_pending(path, data["pending"])
    return data


#: the configuration keys a checkpoint must hold (written by ``Campaign.save``)
_CONFIG = ("target", "features", "id_column", "mode", "oracle", "surrogate",
           "surrogate_is_preset", "acquisition", "acquisition_params", "goal", "batch_size",
           "n_initial", "initial", "budget", "random_state", "batch_strategy", "feasibility")
_PENDING_LISTS = ("pred_mean", "pred_std", "acquisition")
_PENDING = ("round", "positions", "note", "formula", "fit_seconds", "acquisition_seconds",
            "n_undefined", "rmse_unmeasured", *_PENDING_LISTS)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_record(path: Path, i: int, rec: Any) -> None:
    where = f"{path}: corrupt checkpoint: record {i}"
    if not isinstance(rec, dict) or not {"position", "status", "round"} <= rec.keys():
        raise CheckpointError(f"{where} lacks position/status/round")
    if not (_is_int(rec["position"]) and _is_int(rec["round"])):
        raise CheckpointError(f"{where}: position and round must be integers, got "
                              f"{rec['position']!r}, {rec['round']!r}")
    if rec["status"] not in ("ok", "failed", "prior"):
        raise CheckpointError(f"{where}: unknown status {rec['status']!r}")
    value = rec.get("value")
    if rec["status"] in ("ok", "prior") and value is None:
        raise CheckpointError(f"{where} is {rec['status']!r} without a value")
    if value is not None and not _is_number(value):
        raise CheckpointError(f"{where}: value {value!r} is not a number")
    for key in ("pred_mean", "pred_std", "acquisition", "fit_seconds", "acquisition_seconds"):
        if rec.get(key) is not None and not _is_number(rec[key]):
            raise CheckpointError(f"{where}: {key} {rec[key]!r} is not a number")
    for key in ("message", "formula"):
        if key in rec and not isinstance(rec[key], str):
            raise CheckpointError(f"{where}: {key} is not a string")


def _check_pending(path: Path, pending: Any) -> None:
    where = f"{path}: corrupt checkpoint: pending batch"
    if not isinstance(pending, dict) or not set(_PENDING) <= pending.keys():
        raise CheckpointError(f"{where} lacks {', '.join(_PENDING)}")
    positions = pending["positions"]
    if not _is_int(pending["round"]) or not isinstance(positions, list) or \
            not all(_is_int(p) for p in positions):
        raise CheckpointError(f"{where}: round and positions must be integers")
    for key in _PENDING_LISTS:
        values = pending[key]
        if not isinstance(values, list) or len(values) != len(positions) or \
                not all(v is None or _is_number(v) for v in values):
            raise CheckpointError(f"{where}: {key} must hold {len(positions)} numbers")
    for key in ("fit_seconds", "acquisition_seconds", "n_undefined"):
        if not _is_number(pending[key]):
            raise CheckpointError(f"{where}: {key} is not a number")
    if not (isinstance(pending["note"], str) and isinstance(pending["formula"], str)):
        raise CheckpointError(f"{where}: note and formula must be strings")


# --------------------------------------------------------------------------- the pool
def pool_path(checkpoint: str | os.PathLike) -> Path:
    """Where the pool of a checkpoint is stored: ``<checkpoint stem>.pool.json``."""
    checkpoint = Path(checkpoint)
    return checkpoint.with_name(checkpoint.stem + ".pool.json")


def pool_fingerprint(pool: pd.DataFrame, columns: list[str]) -> str:
    """SHA-256 of the index and the given columns' values (order-sensitive)."""
    digest = hashlib.sha256()
    digest.update(json.dumps([str(c) for c in columns]).encode())
    digest.update(pd.util.hash_pandas_object(pool.index.to_series(), index=False).values
                  .tobytes())
    for col in columns:
        digest.update(pd.util.hash_pandas_object(pool[col], index=False).values.tobytes())
    return digest.hexdigest()


def _column_payload(series: pd.Series) -> dict:
    kind = series.dtype.kind
    if kind in "biuf":
        values = series.to_numpy()
        dtype = "float64" if kind == "f" else ("bool" if kind == "b" else "int64")
        return {"dtype": dtype, "values": _clean(values)}
    return {"dtype": "object",
            "values": [None if pd.isna(v) else str(v) for v in series.tolist()]}


def write_pool(path: str | os.PathLike, pool: pd.DataFrame) -> None:
    """Write a pool losslessly (float64, int64, bool and text columns; index kept)."""
    payload = {
        "format": "sisso-lite-pool",
        "index": _column_payload(pool.index.to_series()),
        "index_name": pool.index.name,
        "columns": [{"name": str(c), **_column_payload(pool[c])} for c in pool.columns],
    }
    atomic_write_json(path, payload)


def _column_from_payload(item: dict) -> np.ndarray:
    values = item["values"]
    if item["dtype"] == "float64":
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    if item["dtype"] in ("int64", "bool"):
        return np.array(values, dtype=item["dtype"])
    return np.array(values, dtype=object)


def read_pool(path: str | os.PathLike) -> pd.DataFrame:
    """Read a pool written by :func:`write_pool`."""
    path = Path(path)
    data = _load_json(path, "pool")
    if data.get("format") != "sisso-lite-pool":
        raise CheckpointError(f"{path}: not a sisso-lite pool file")
    try:
        index = pd.Index(_column_from_payload(data["index"]), name=data.get("index_name"))
        columns = {c["name"]: _column_from_payload(c) for c in data["columns"]}
        return pd.DataFrame(columns, index=index)
    except (KeyError, TypeError, ValueError) as err:
        raise CheckpointError(f"{path}: corrupt pool file ({err})") from err
