"""The scikit-learn estimators: what a user fits.

* :mod:`.regressor` -- :class:`SissoRegressor` (SISSO regression, multi-task);
* :mod:`.classifier` -- :class:`SissoClassifier` (domain-overlap or accuracy SISSO), with its
  final linear decision rule in :mod:`._decision_rule`;
* :mod:`.ensemble` -- :class:`SissoEnsemble` (bootstrap + feature-dropout members,
  recalibrated uncertainty), :mod:`.ensemble_classifier` -- :class:`SissoEnsembleClassifier`
  (vote fractions); their member sampling in :mod:`.ensemble_base`, the members in
  :mod:`.ensemble_members`;
* :mod:`._base` -- :class:`SissoBase`, the parameter constraints and the fitted-model contract
  of the SISSO estimators; :mod:`.classification_strategy` -- the classification task of the
  one SISSO loop (:func:`sisso_lite.solvers.driver.sisso_loop`);
* :mod:`.persistence` -- ``save_model`` / ``load_model`` (model files, format in
  :mod:`sisso_lite.io.model_json`); :mod:`.sisso_dir` -- ``run_sisso_dir`` (Fortran-style
  input folders);
* :mod:`.model_selection` -- :class:`SissoCV` (cross-validated dimension and rung, one-SE
  rule); :mod:`.splits` -- leave-cluster-out splitters for materials
  (:class:`LeaveElementOut`, :class:`CompositionClusterSplit`);
* :mod:`._validation` -- the input checks the estimators share.

Importing this package registers both model-file classes (:mod:`.persistence`).
"""

from sisso_lite.estimators.classifier import SissoClassifier
from sisso_lite.estimators.ensemble import SissoEnsemble
from sisso_lite.estimators.ensemble_classifier import SissoEnsembleClassifier
from sisso_lite.estimators.ensemble_members import EnsembleMember
from sisso_lite.estimators.model_selection import SissoCV
from sisso_lite.estimators.regressor import SissoRegressor
from sisso_lite.estimators.splits import CompositionClusterSplit, LeaveElementOut

__all__ = ["CompositionClusterSplit", "EnsembleMember", "LeaveElementOut", "SissoCV",
           "SissoClassifier", "SissoEnsemble", "SissoEnsembleClassifier", "SissoRegressor"]
