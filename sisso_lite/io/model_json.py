"""Plain-JSON model files (no pickle, no eval): the format and its (de)serialisation.

A model file (format version 2) is one JSON object::

    {"format": "sisso-lite-model", "format_version": 2,
     "package": "sisso-lite", "package_version": "0.1.0", "created": "<ISO 8601 UTC>",
     "estimator": "SissoRegressor",            # class name (an allow-list), no module path
     "params": {...},                          # get_params(deep=False)
     "feature_names": [...], "units": {name: unit or null},
     "descriptors": ["(a*b)", ...],            # formulas of the final descriptor
     "training_data_sha256": "<hex>" or null,
     "fitted": {attribute: value, ...}}        # the class's documented fitted attributes

``fitted`` holds exactly the attributes the estimator class lists in
``_model_file_attributes`` (its documented schema; private attributes such as a feature
space are never written), encoded with tagged values: ``{"__ndarray__": [...], "dtype",
"shape"}``, ``{"__expression__": program}`` (:meth:`Expression.to_dict`), ``{"__dataframe__":
...}``, ``{"__dataclass__": "module:Name", "fields": ...}`` (only the result dataclasses of
:mod:`sisso_lite.models` and the classification solvers), ``{"__float__": "nan"}``, tuples and
dicts with non-string keys. Floats are written with ``repr`` precision, so a loaded model
predicts bit-identically to the original. Files of format version 1 (every attribute of the
estimator, as written up to sisso-lite 0.1.0 before the estimator contract) load through the
class's ``_migrate_model_file(fitted, version)``, which maps them onto today's attributes.

Loading only builds objects from allow-lists (the estimator classes the caller passes, the
dataclasses of :mod:`sisso_lite.models` and the classification solvers,
``Expression.from_dict``, numpy arrays, DataFrames); nothing in the file is executed.

This module knows no estimator class: :mod:`sisso_lite.estimators.persistence` passes the
allow-list of estimator classes and provides ``save_model`` / ``load_model`` and the
``to_json`` / ``from_json`` methods. Typical use::

    from sisso_lite.estimators.persistence import load_model, save_model
    from sisso_lite.io import predict_checked
    save_model(reg, "model.json", training_data=(X, y))
    reg2 = load_model("model.json")
    reg2.predict(X_new)                                      # bit-identical to reg.predict
    predict_checked(reg2, X_new, units={"r_s_A": "Angstrom"})  # also checks names and units
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import importlib
import json
import math
from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sisso_lite._compat import forward_moved
from sisso_lite.io._model_check import self_check
from sisso_lite.io.errors import ModelFileError

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "estimator_from_dict",
    "estimator_to_dict",
    "load_estimator",
    "save_estimator",
    "training_data_hash",
    "required_features",
    "model_feature_names",
    "check_prediction_input",
    "predict_checked",
]

FORMAT_NAME = "sisso-lite-model"
FORMAT_VERSION = 2

#: modules whose dataclasses may appear inside a model file (the estimator modules define
#: none; files written before the estimators became a package name only these)
_DATACLASS_MODULES = ("sisso_lite.models", "sisso_lite.solvers.classification",
                      "sisso_lite.solvers.overlap")
_ALLOWED_DTYPES = "biufcUSM"


# ----------------------------------------------------------------------------- hashing
def training_data_hash(X, y=None, tasks=None) -> str:
    """SHA-256 (hex) of the training data: feature names, ``X`` (float64), ``y``, ``tasks``.

    DataFrames contribute their column names; values are hashed as little-endian float64
    (labels that are not numbers as their ``str``), so the hash does not depend on the
    container type.
    """
    h = hashlib.sha256()
    if isinstance(X, pd.DataFrame):
        h.update(json.dumps([str(c) for c in X.columns]).encode())
        X = X.to_numpy()
    h.update(b"X")
    h.update(np.ascontiguousarray(np.asarray(X, dtype="<f8")).tobytes())
    for tag, arr in ((b"y", y), (b"tasks", tasks)):
        if arr is None:
            continue
        h.update(tag)
        a = np.asarray(arr)
        if a.dtype.kind in "biuf":
            h.update(np.ascontiguousarray(a.astype("<f8")).tobytes())
        else:
            h.update(json.dumps([str(v) for v in a.ravel().tolist()]).encode())
    return h.hexdigest()


# ----------------------------------------------------------------------------- encoding
def _float(x: float) -> Any:
    x = float(x)
    return x if math.isfinite(x) else {"__float__": repr(x)}


def _encode(obj: Any, where: str) -> Any:
    from sisso_lite.features import Expression, Unit

    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, np.integer)) and not isinstance(obj, np.bool_):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, (float, np.floating)):
        return _float(obj)
    if isinstance(obj, Expression):
        return {"__expression__": obj.to_dict()}
    if isinstance(obj, Unit):
        return {"__unit__": str(obj)}
    if isinstance(obj, Fraction):
        return {"__fraction__": str(obj)}
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind == "O":
            return {"__ndarray__": [_encode(v, where) for v in obj.ravel().tolist()],
                    "dtype": "object", "shape": list(obj.shape)}
        if obj.dtype.kind not in _ALLOWED_DTYPES:
            raise ModelFileError(f"cannot store array {where} of dtype {obj.dtype}")
        data = obj.ravel().tolist()
        if obj.dtype.kind in "fc":
            data = [_float(v) if obj.dtype.kind == "f" else [_float(v.real), _float(v.imag)]
                    for v in data]
        elif obj.dtype.kind == "M":
            data = [str(v) for v in obj.ravel()]
        return {"__ndarray__": data, "dtype": obj.dtype.str, "shape": list(obj.shape)}
    if isinstance(obj, pd.DataFrame):
        return {"__dataframe__": {
            "columns": _encode(list(obj.columns), where),
            "index": _encode(list(obj.index), where),
            "data": [[_encode(v, where) for v in row] for row in obj.itertuples(index=False)],
            "dtypes": [str(t) for t in obj.dtypes],
        }}
    if isinstance(obj, pd.Series):
        return {"__series__": {"name": _encode(obj.name, where),
                               "index": _encode(list(obj.index), where),
                               "data": _encode(obj.to_numpy(), where)}}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]
    if isinstance(obj, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in obj):
            return {k: _encode(v, f"{where}[{k!r}]") for k, v in obj.items()}
        return {"__dict__": [[_encode(k, where), _encode(v, f"{where}[{k!r}]")]
                             for k, v in obj.items()]}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        cls = type(obj)
        if cls.__module__ not in _DATACLASS_MODULES:
            raise ModelFileError(f"cannot store {where} of type {cls.__module__}.{cls.__name__}")
        return {"__dataclass__": f"{cls.__module__}:{cls.__qualname__}",
                "fields": {f.name: _encode(getattr(obj, f.name), f"{where}.{f.name}")
                           for f in dataclasses.fields(obj)}}
    raise ModelFileError(f"cannot store {where} of type {type(obj).__name__} in a model file")


def _decode(obj: Any) -> Any:
    if isinstance(obj, list):
        return [_decode(v) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if "__float__" in obj:
        return float(obj["__float__"])
    if "__expression__" in obj:
        from sisso_lite.features import Expression

        return Expression.from_dict(obj["__expression__"])
    if "__unit__" in obj:
        from sisso_lite.features import parse_unit

        return parse_unit(obj["__unit__"])
    if "__fraction__" in obj:
        return Fraction(obj["__fraction__"])
    if "__ndarray__" in obj:
        return _decode_array(obj)
    if "__dataframe__" in obj:
        d = obj["__dataframe__"]
        df = pd.DataFrame([_decode(r) for r in d["data"]], columns=_decode(d["columns"]),
                          index=_decode(d["index"]))
        for col, dtype in zip(df.columns, d.get("dtypes", []), strict=False):
            if dtype != "object" and str(df[col].dtype) != dtype:
                df[col] = df[col].astype(dtype)
        return df
    if "__series__" in obj:
        d = obj["__series__"]
        return pd.Series(_decode(d["data"]), index=_decode(d["index"]), name=_decode(d["name"]))
    if "__tuple__" in obj:
        return tuple(_decode(v) for v in obj["__tuple__"])
    if "__dict__" in obj:
        return {_hashable(_decode(k)): _decode(v) for k, v in obj["__dict__"]}
    if "__dataclass__" in obj:
        return _decode_dataclass(obj)
    return {k: _decode(v) for k, v in obj.items()}


def _hashable(key: Any) -> Any:
    return tuple(key) if isinstance(key, list) else key


def _decode_array(obj: dict) -> np.ndarray:
    dtype, shape, data = obj.get("dtype"), obj.get("shape"), obj["__ndarray__"]
    if dtype == "object":
        arr = np.empty(len(data), dtype=object)
        arr[:] = [_decode(v) for v in data]
        return arr.reshape(shape)
    dt = np.dtype(dtype)
    if dt.kind not in _ALLOWED_DTYPES:
        raise ModelFileError(f"array dtype {dtype!r} is not allowed in a model file")
    if dt.kind == "f":
        data = [_decode(v) for v in data]
    elif dt.kind == "c":
        data = [complex(_decode(a), _decode(b)) for a, b in data]
    return np.array(data, dtype=dt).reshape(shape)


def _decode_dataclass(obj: dict) -> Any:
    module, _, name = str(obj["__dataclass__"]).partition(":")
    if module not in _DATACLASS_MODULES:
        raise ModelFileError(f"class {module}.{name} is not allowed in a model file")
    cls = getattr(importlib.import_module(module), name, None)
    if cls is None or not dataclasses.is_dataclass(cls):
        raise ModelFileError(f"unknown class {module}.{name} in model file")
    values = {k: _decode(v) for k, v in obj["fields"].items()}
    init = {f.name for f in dataclasses.fields(cls) if f.init}
    inst = cls(**{k: v for k, v in values.items() if k in init})
    for k, v in values.items():
        if k not in init:
            object.__setattr__(inst, k, v)
    return inst


# ----------------------------------------------------------------------------- save/load
def _fitted_attributes(model) -> dict[str, Any]:
    attrs = {}
    for key, value in vars(model).items():
        if key.endswith("_") and not key.startswith("__"):
            attrs[key] = value
        elif key.startswith("_") and not key.startswith("__") and not key.endswith("_"):
            attrs[key] = value  # private fitted state such as _primary_names
    if not any(k.endswith("_") and not k.startswith("_") for k in attrs):
        raise ModelFileError(f"{type(model).__name__} is not fitted; call fit() before saving")
    return attrs


def _primary_units(model) -> dict[str, str | None]:
    from sisso_lite.features import parse_unit

    names = model_feature_names(model)
    units = model.get_params().get("units")
    if units is None:
        units_list: list = [None] * len(names)
    elif isinstance(units, dict):
        units_list = [units.get(n) for n in names]
    else:
        units_list = list(units)
    out = {}
    for name, u in zip(names, units_list, strict=False):
        unit = parse_unit(None if u is None else str(u))
        out[name] = None if unit.is_dimensionless else str(unit)
    return out


def model_feature_names(model) -> list[str]:
    """Primary-feature names of a fitted estimator, in training column order."""
    result = getattr(model, "result_", None)
    if result is not None and getattr(result, "feature_names", None) is not None:
        return [str(n) for n in result.feature_names]
    names = getattr(model, "_primary_names", None) or getattr(model, "feature_names_in_", None)
    if names is None:
        return [f"x{i}" for i in range(int(model.n_features_in_))]
    return [str(n) for n in names]


def estimator_to_dict(model, classes: Mapping[str, type],
                      training_data: tuple | None = None) -> dict[str, Any]:
    """JSON-ready dict of a fitted estimator whose class is one of ``classes``.

    Parameters
    ----------
    model : fitted estimator
    classes : mapping class name -> class
        The estimator classes a model file may hold (allow-list).
    training_data : tuple (X, y) or (X, y, tasks), optional
        Hashed with :func:`training_data_hash`. Default: the model's
        ``training_data_sha256_`` attribute if it has one, else no hash.
    """
    import sisso_lite

    name = type(model).__name__
    if name not in classes:
        raise ModelFileError(f"cannot save a {name}; supported: {', '.join(classes)}")
    schema = getattr(type(model), "_model_file_attributes", None)
    attrs = _fitted_attributes(model)
    if schema is not None:
        attrs = {key: attrs[key] for key in schema if key in attrs}
    fitted, skipped = {}, []
    for key, value in attrs.items():
        try:
            fitted[key] = _encode(value, key)
        except ModelFileError:
            if not key.startswith("_"):
                raise
            skipped.append(key)  # private cache (e.g. a feature space): not needed to predict
    digest = (training_data_hash(*training_data) if training_data is not None
              else getattr(model, "training_data_sha256_", None))
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "package": "sisso-lite",
        "package_version": sisso_lite.__version__,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "estimator": name,
        "params": _encode(model.get_params(deep=False), "params"),
        "feature_names": model_feature_names(model),
        "units": _primary_units(model),
        "descriptors": [str(d) for d in getattr(model, "descriptors_", [])],
        "training_data_sha256": digest,
        "fitted": fitted,
        "skipped_private_attributes": skipped,
    }


def save_estimator(model, path: str | Path, classes: Mapping[str, type],
                   training_data: tuple | None = None) -> Path:
    """Write a fitted estimator to a JSON file; see :func:`estimator_to_dict`.

    Returns the path written.
    """
    data = estimator_to_dict(model, classes, training_data)
    path = Path(path)
    text = json.dumps(data, indent=1, allow_nan=False)
    path.write_text(text + "\n")
    return path


def estimator_from_dict(data: dict[str, Any], classes: Mapping[str, type],
                        expected_class: type | None = None):
    """Rebuild an estimator from :func:`estimator_to_dict` output (allow-listed types only).

    ``classes`` maps the estimator class names a file may hold to the classes.
    """
    if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
        raise ModelFileError("not a sisso-lite model file (missing \"format\": "
                             f"\"{FORMAT_NAME}\")")
    version = data.get("format_version")
    if not isinstance(version, int):
        raise ModelFileError("model file has no integer format_version")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"model file format version {version} is newer than this sisso-lite supports "
            f"(<= {FORMAT_VERSION}); it was written by sisso-lite "
            f"{data.get('package_version', '?')} - upgrade sisso-lite to read it")
    name = data.get("estimator")
    if name not in classes:
        raise ModelFileError(f"unknown estimator {name!r} in model file")
    cls = classes[name]
    if expected_class is not None and not issubclass(cls, expected_class):
        raise ModelFileError(f"model file holds a {name}, not a {expected_class.__name__}")
    try:
        params = _decode(data["params"])
        valid = cls().get_params(deep=False)
        unknown = sorted(set(params) - set(valid))
        if unknown:
            raise ModelFileError(f"model file has parameters {unknown} unknown to {name}")
        model = cls(**params)
        fitted = {key: _decode(value) for key, value in data["fitted"].items()}
        migrate = getattr(cls, "_migrate_model_file", None)
        if version < FORMAT_VERSION and migrate is not None:
            fitted = migrate(fitted, version)
        for key, value in fitted.items():
            setattr(model, key, value)
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ModelFileError(f"corrupt model file: {type(exc).__name__}: {exc}") from None
    model.training_data_sha256_ = data.get("training_data_sha256")
    model.model_file_info_ = {k: data.get(k) for k in
                              ("format_version", "package_version", "created", "units",
                               "feature_names")}
    self_check(model)
    return model



def load_estimator(path: str | Path, classes: Mapping[str, type],
                   expected_class: type | None = None):
    """Load an estimator saved with :func:`save_estimator`; see :func:`estimator_from_dict`.

    Raises
    ------
    ModelFileError
        Not a model file, invalid JSON, a newer format version, or a wrong estimator class.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ModelFileError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path}: not a JSON model file ({exc})") from None
    try:
        return estimator_from_dict(data, classes, expected_class)
    except ModelFileError as exc:
        raise ModelFileError(f"{path}: {exc}") from None


# ----------------------------------------------------------------------------- prediction
def required_features(model, dim: int | None = None) -> list[str]:
    """Primary features the descriptors of the best model of ``dim`` need (sorted).

    ``dim`` defaults to the largest fitted dimension (the one ``predict`` uses).
    """
    result = getattr(model, "result_", None)
    if result is not None and hasattr(result, "best"):
        return sorted(result.best(dim).primary_features)
    exprs = getattr(model, "descriptors_", [])
    by_dim = getattr(model, "descriptors_by_dim_", None)
    if dim is not None and by_dim:
        exprs = by_dim[dim]
    names: set[str] = set()
    for e in exprs:
        if not hasattr(e, "primary_features"):
            return list(model_feature_names(model))
        names.update(e.primary_features)
    return sorted(names)


def _model_units(model) -> dict[str, str | None]:
    info = getattr(model, "model_file_info_", None)
    if info and info.get("units") is not None:
        return dict(info["units"])
    return _primary_units(model)


def check_prediction_input(model, X, units: dict | None = None, dim: int | None = None) -> None:
    """Raise a clear ``ValueError`` if ``X`` lacks a needed feature or has it in other units.

    ``units`` maps column name -> unit string; default: ``X.attrs["units"]`` of a DataFrame
    (if set). Units are compared after parsing (``"eV/Angstrom"`` equals ``"Angstrom^-1*eV"``).
    """
    from sisso_lite.features import parse_unit

    needed = required_features(model, dim)
    if isinstance(X, pd.DataFrame):
        cols = {str(c) for c in X.columns}
        missing = [n for n in needed if n not in cols]
        if missing:
            raise ValueError(f"the data lack the primary feature(s) {', '.join(missing)} "
                             "needed by the model")
        if units is None:
            units = X.attrs.get("units")
    if not units:
        return
    trained = _model_units(model)
    for name in needed:
        if name not in units:
            continue
        try:
            given = parse_unit(units[name])
        except ValueError as exc:
            raise ValueError(f"feature {name!r}: {exc}") from None
        expect = parse_unit(trained.get(name))
        if given != expect:
            raise ValueError(
                f"feature {name!r} is in units {str(given) if not given.is_dimensionless else '1'}"
                f" but the model was trained with {trained.get(name) or 'dimensionless'}")


def predict_checked(model, X, tasks=None, units: dict | None = None, dim: int | None = None):
    """``model.predict`` after :func:`check_prediction_input`.

    A ``DataFrame`` is matched to the training columns by name: the order may differ, and
    columns the descriptors do not use may be absent (they are filled with 0.0, which the
    descriptors never read). The values are identical to ``model.predict`` on the full table.
    """
    check_prediction_input(model, X, units, dim)
    if isinstance(X, pd.DataFrame):
        names = model_feature_names(model)
        X = X.reindex(columns=names, fill_value=0.0)
        if not hasattr(model, "feature_names_in_"):
            X = X.to_numpy(dtype=np.float64)
    kwargs = {}
    if tasks is not None:
        kwargs["tasks"] = tasks
    if dim is not None:
        kwargs["dim"] = dim
    return model.predict(X, **kwargs)


#: moved to :mod:`sisso_lite.estimators.persistence` (the old import path keeps working)
_MOVED = {
    "JsonModelMixin": "sisso_lite.estimators.persistence",
    "load_model": "sisso_lite.estimators.persistence",
    "model_from_dict": "sisso_lite.estimators.persistence",
    "model_to_dict": "sisso_lite.estimators.persistence",
    "save_model": "sisso_lite.estimators.persistence",
}
__getattr__ = forward_moved(__name__, _MOVED)
