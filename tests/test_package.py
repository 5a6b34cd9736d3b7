"""Top-level package: lazy exports, version, and the old import paths kept for users."""

import importlib
import importlib.metadata
import pickle
import subprocess
import sys

import pytest

import sisso_lite


@pytest.mark.parametrize("name", ["SissoRegressor", "SissoClassifier", "SissoEnsemble",
                                  "SubgroupDiscovery", "FeatureSpace"])
def test_top_level_exports(name):
    assert getattr(sisso_lite, name).__name__ == name


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute"):
        sisso_lite.NotAThing  # noqa: B018


def test_version_matches_distribution():
    assert sisso_lite.__version__ == importlib.metadata.version("sisso-lite")


# ----------------------------------------------------------------------------- old paths
OLD_PATHS = [  # (old module, name, new module): the old paths are kept for users
    ("sisso_lite.classifier", "SissoClassifier", "sisso_lite.estimators.classifier"),
    ("sisso_lite.classifier", "DEFAULT_OPERATORS", "sisso_lite.estimators.classifier"),
    ("sisso_lite.ensemble", "SissoEnsemble", "sisso_lite.estimators.ensemble"),
    ("sisso_lite.ensemble", "EnsembleMember", "sisso_lite.estimators.ensemble_members"),
    ("sisso_lite.ensemble_members", "EnsembleMember", "sisso_lite.estimators.ensemble_members"),
    ("sisso_lite.estimators", "SissoRegressor", "sisso_lite.estimators.regressor"),
    ("sisso_lite.calibration", "SigmaScaling", "sisso_lite.uncertainty.calibration"),
    ("sisso_lite.calibration", "IsotonicRecalibration", "sisso_lite.uncertainty.calibration"),
    ("sisso_lite.calibration", "make_recalibrator", "sisso_lite.uncertainty.calibration"),
    ("sisso_lite.plotting", "plot_calibration_curve", "sisso_lite.uncertainty.plotting"),
    ("sisso_lite.plotting", "plot_parity_with_errorbars", "sisso_lite.uncertainty.plotting"),
    ("sisso_lite.demo", "main", "sisso_lite.cli.demo"),
    ("sisso_lite.cli_campaign", "run_campaign", "sisso_lite.cli.campaign"),
    ("sisso_lite.cli_campaign", "CampaignCliError", "sisso_lite.cli.campaign"),
    ("sisso_lite.io", "load_model", "sisso_lite.estimators.persistence"),
    ("sisso_lite.io", "save_model", "sisso_lite.estimators.persistence"),
    ("sisso_lite.io", "run_sisso_dir", "sisso_lite.estimators.sisso_dir"),
    ("sisso_lite.io", "make_estimator", "sisso_lite.estimators.sisso_dir"),
    ("sisso_lite.io.model_json", "JsonModelMixin", "sisso_lite.estimators.persistence"),
    ("sisso_lite.io.runner", "run_sisso_dir", "sisso_lite.estimators.sisso_dir"),
    ("sisso_lite.features.space", "ScreenedFeature", "sisso_lite.features.screening"),
]


@pytest.mark.parametrize(("old", "name", "new"), OLD_PATHS)
def test_old_import_paths_give_the_same_objects(old, name, new):
    old_obj = getattr(importlib.import_module(old), name)
    assert old_obj is getattr(importlib.import_module(new), name)
    if isinstance(old_obj, type):  # pickles (and joblib files) name the old module
        assert pickle.loads(f"c{old}\n{name}\n.".encode()) is old_obj


def test_old_uncertainty_module_names_are_in_the_package():
    import sisso_lite.uncertainty
    import sisso_lite.uncertainty.metrics as metrics

    for name in metrics.__all__:
        assert getattr(sisso_lite.uncertainty, name) is getattr(metrics, name)
    assert set(metrics.__all__) <= set(sisso_lite.uncertainty.__all__)


def test_estimators_package_exports():
    import sisso_lite.estimators as est

    assert est.__all__ == ["CompositionClusterSplit", "EnsembleMember", "LeaveElementOut",
                           "SissoCV", "SissoClassifier", "SissoEnsemble",
                           "SissoEnsembleClassifier", "SissoRegressor"]
    assert sisso_lite.SissoCV is est.SissoCV
    assert sisso_lite.SissoClassifier is est.SissoClassifier
    assert sisso_lite.SissoEnsembleClassifier is est.SissoEnsembleClassifier


@pytest.mark.parametrize("module", ["sisso_lite.cli.demo", "sisso_lite.demo", "sisso_lite.cli"])
def test_python_m_entry_points(module):
    proc = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "usage:" in proc.stdout and not proc.stderr
