"""Fortran SISSO compatibility (``SISSO.in``, ``train.dat``, ``SISSO.out``) and model files.

The estimator-dependent parts (:func:`run_sisso_dir`, the model-file functions) import the
estimators lazily, so reading inputs works without them.
"""

from sisso_lite.io.errors import ModelFileError, SissoInputError, SissoInputWarning
from sisso_lite.io.model_json import (
    check_prediction_input,
    load_model,
    predict_checked,
    save_model,
    training_data_hash,
)
from sisso_lite.io.runner import build_report, make_estimator, run_sisso_dir
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
    "load_model",
    "load_sisso_dir",
    "make_estimator",
    "parse_sisso_in",
    "predict_checked",
    "read_sisso_in",
    "read_train_dat",
    "run_sisso_dir",
    "save_model",
    "training_data_hash",
    "write_outputs",
]
