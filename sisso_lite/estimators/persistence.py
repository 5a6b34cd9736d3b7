"""Model files of the estimators: ``save_model`` / ``load_model`` and ``to_json`` / ``from_json``.

The file format and its (de)serialisation are :mod:`sisso_lite.io.model_json`; this module
holds the allow-list of the estimator classes a file may name, filled by the estimator
modules with :func:`model_file_class` (importing :mod:`sisso_lite.estimators` registers all
of them). Files name the class only (``"estimator": "SissoRegressor"``), so files written
before the estimators became a package load unchanged.

Typical use::

    from sisso_lite.estimators.persistence import load_model, save_model
    save_model(reg, "model.json", training_data=(X, y))
    reg2 = load_model("model.json")      # predicts bit-identically to reg
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sisso_lite.io.model_json import (
    estimator_from_dict,
    estimator_to_dict,
    load_estimator,
    save_estimator,
)

__all__ = ["JsonModelMixin", "load_model", "model_file_class", "model_from_dict",
           "model_to_dict", "save_model"]

#: the estimators a model file may hold, in the order error messages list them
MODEL_FILE_CLASSES = ("SissoRegressor", "SissoClassifier")
_CLASSES: dict[str, type] = {}


def model_file_class(cls: type) -> type:
    """Class decorator: allow ``cls`` (one of :data:`MODEL_FILE_CLASSES`) in model files."""
    if cls.__name__ not in MODEL_FILE_CLASSES:
        raise ValueError(f"{cls.__name__} is not one of the model-file classes "
                         f"{MODEL_FILE_CLASSES}")
    _CLASSES[cls.__name__] = cls
    return cls


def _classes() -> dict[str, type]:
    return {name: _CLASSES[name] for name in MODEL_FILE_CLASSES if name in _CLASSES}


def model_to_dict(model, training_data: tuple | None = None) -> dict[str, Any]:
    """JSON-ready dict of a fitted ``SissoRegressor``/``SissoClassifier``.

    Parameters
    ----------
    model : fitted estimator
    training_data : tuple (X, y) or (X, y, tasks), optional
        Hashed with :func:`~sisso_lite.io.model_json.training_data_hash`. Default: the
        model's ``training_data_sha256_`` attribute if it has one, else no hash.
    """
    return estimator_to_dict(model, _classes(), training_data)


def save_model(model, path: str | Path, training_data: tuple | None = None) -> Path:
    """Write a fitted estimator to a JSON file; see :func:`model_to_dict`.

    Returns the path written.
    """
    return save_estimator(model, path, _classes(), training_data)


def model_from_dict(data: dict[str, Any], expected_class: type | None = None):
    """Rebuild an estimator from :func:`model_to_dict` output (allow-listed types only)."""
    return estimator_from_dict(data, _classes(), expected_class)


def load_model(path: str | Path, expected_class: type | None = None):
    """Load an estimator saved with :func:`save_model`.

    Raises
    ------
    ModelFileError
        Not a model file, invalid JSON, a newer format version, or a wrong estimator class.
    """
    return load_estimator(path, _classes(), expected_class)


class JsonModelMixin:
    """``to_json`` / ``from_json`` for the sisso-lite estimators (plain JSON, never pickle)."""

    def to_json(self, path: str | Path, training_data: tuple | None = None) -> Path:
        """Save the fitted model as JSON; see :func:`save_model`."""
        return save_model(self, path, training_data=training_data)

    @classmethod
    def from_json(cls, path: str | Path):
        """Load a model saved by :meth:`to_json`; see :func:`load_model`."""
        return load_model(path, expected_class=cls)
