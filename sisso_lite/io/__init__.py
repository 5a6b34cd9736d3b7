"""Fortran SISSO compatibility (``SISSO.in``, ``train.dat``, ``SISSO.out``) and model files.

Everything here works without the estimators: reading inputs, writing the Fortran-style
outputs, the model-file format (:mod:`.model_json`) and the prediction checks. What needs
the estimator classes lives one layer up, in :mod:`sisso_lite.estimators`:
``save_model`` / ``load_model`` (:mod:`sisso_lite.estimators.persistence`) and
``make_estimator`` / ``run_sisso_dir`` (:mod:`sisso_lite.estimators.sisso_dir`). Their old
paths ``sisso_lite.io.load_model`` etc. keep working (resolved on first use).
"""

from sisso_lite._compat import forward_moved
from sisso_lite.io.errors import ModelFileError, SissoInputError, SissoInputWarning
from sisso_lite.io.model_json import (
    check_prediction_input,
    predict_checked,
    training_data_hash,
)
from sisso_lite.io.runner import build_report, estimator_params
from sisso_lite.io.sisso_in import SissoConfig, parse_sisso_in, read_sisso_in
from sisso_lite.io.sisso_out import RunReport, write_outputs
from sisso_lite.io.train_dat import SissoProblem, TrainData, load_sisso_dir, read_train_dat

__all__ = [
    "ModelFileError",
    "RunReport",
    "SissoConfig",
    "SissoInputError",
    "SissoInputWarning",
    "SissoProblem",
    "TrainData",
    "build_report",
    "check_prediction_input",
    "estimator_params",
    "load_sisso_dir",
    "parse_sisso_in",
    "predict_checked",
    "read_sisso_in",
    "read_train_dat",
    "training_data_hash",
    "write_outputs",
]

#: moved to the estimators layer (the old import paths keep working)
_MOVED = {
    "load_model": "sisso_lite.estimators.persistence",
    "save_model": "sisso_lite.estimators.persistence",
    "make_estimator": "sisso_lite.estimators.sisso_dir",
    "run_sisso_dir": "sisso_lite.estimators.sisso_dir",
}
__getattr__ = forward_moved(__name__, _MOVED)
