"""Integrity check of a model loaded from JSON (internal to :mod:`sisso_lite.io.model_json`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sisso_lite.io.errors import ModelFileError


def self_check(model) -> None:
    """Refuse a file whose fitted state is damaged: it must name its features and predict.

    A model file is untrusted input; without this check a damaged entry (a number where a
    feature name belongs, a list where a coefficient belongs) would surface later as a bare
    ``TypeError`` inside ``predict``. The check predicts one row of ones: errors of the
    data (``ValueError``, e.g. a log of a non-positive value) are the data's business and are
    ignored, any other exception means the file is corrupt.
    """
    names = getattr(model, "feature_names_in_", None)
    if names is None:
        return
    names = list(names)
    if not all(isinstance(n, str) for n in names) or len(set(names)) != len(names):
        raise ModelFileError("corrupt model file: feature_names_in_ must be distinct strings")
    n_in = getattr(model, "n_features_in_", len(names))
    if n_in != len(names):
        raise ModelFileError(f"corrupt model file: n_features_in_ = {n_in!r} but "
                             f"{len(names)} feature names")
    probe = pd.DataFrame(np.ones((1, len(names))), columns=names)
    try:
        with np.errstate(all="ignore"):
            model.predict(probe)
    except ValueError:
        pass
    except Exception as exc:  # noqa: BLE001 - anything else is a damaged fitted state
        raise ModelFileError(f"corrupt model file: the fitted model cannot predict "
                             f"({type(exc).__name__}: {exc})") from None
