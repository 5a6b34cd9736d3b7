"""Surrogate models of a campaign: named presets and one way to ask any of them for a
predictive distribution over the candidate pool.

A surrogate is any scikit-learn regressor whose ``predict(X, return_std=True)`` returns
``(mean, std)``. Ensembles that also expose ``predict_members(X)`` (one row per member:
:class:`~sisso_lite.estimators.SissoEnsemble`, :class:`RandomForestSpread`) give Thompson
sampling real member draws.

Presets (``surrogate=`` of :class:`~sisso_lite.learning.Campaign`):

``"sisso"``
    :class:`~sisso_lite.estimators.SissoEnsemble` of 50 SISSO models of up to three dimensions
    (:func:`sisso_preset_dimension`: 1D below 8 measured points, 2D below 20, 3D from then
    on; bootstrap + 20 % feature dropout, ``max_complexity=3`` up to 12 primary features and
    2 above (:func:`sisso_preset_complexity`), ``n_sis=20``), spread of the
    members plus their out-of-bag error (``predictive_std="mixture"``), recalibrated by one
    factor on out-of-bag residuals (``calibrate="sigma"``), predictions limited to the
    measured range widened by half a range on each side (:class:`BoundedSurrogate`).
    Nair, Foppa, Scheffler, npj Comput. Mater. (2025).
``"gp"``
    Gaussian process on standardised features: constant x anisotropic Matern-5/2 kernel plus
    a white-noise term, hyper-parameters by marginal likelihood with 2 restarts,
    ``normalize_y=True`` (Rasmussen & Williams, *Gaussian Processes for Machine Learning*,
    2006; the baseline of Rohr et al., Chem. Sci. 11, 2696 (2020)).
``"rf"``
    Random forest of 200 trees with the spread over the trees as sigma
    (:class:`RandomForestSpread`; Ling et al., Integr. Mater. Manuf. Innov. 6, 207 (2017)).
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.ensemble import RandomForestRegressor
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted, validate_data

from sisso_lite.learning.acquisition import Prediction

__all__ = [
    "SURROGATE_PRESETS",
    "BoundedSurrogate",
    "RandomForestSpread",
    "describe_surrogate",
    "make_surrogate",
    "predict_distribution",
    "sisso_preset_complexity",
    "sisso_preset_dimension",
    "surrogate_formula",
]

SURROGATE_PRESETS = ("sisso", "gp", "rf")


class RandomForestSpread(RegressorMixin, BaseEstimator):
    """Random forest whose predictive sigma is the standard deviation over its trees.

    Parameters
    ----------
    n_estimators : int
        Number of trees.
    min_samples_leaf : int
        Minimum samples per leaf (1: fully grown trees, as in Rohr et al. 2020).
    max_features : float, int, str or None
        Features considered per split (scikit-learn meaning); default all.
    random_state : int, RandomState or None
    n_jobs : int or None
        Parallel trees (joblib).

    Attributes
    ----------
    forest_ : RandomForestRegressor
    n_features_in_ : int
    """

    def __init__(self, n_estimators=200, min_samples_leaf=1, max_features=1.0,
                 random_state=None, n_jobs=None):
        self.n_estimators = n_estimators
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(self, X, y):
        """Fit the forest; returns self."""
        X, y = validate_data(self, X, y, y_numeric=True)
        self.forest_ = RandomForestRegressor(
            n_estimators=self.n_estimators, min_samples_leaf=self.min_samples_leaf,
            max_features=self.max_features, random_state=self.random_state,
            n_jobs=self.n_jobs).fit(X, y)
        return self

    def predict_members(self, X) -> np.ndarray:
        """Prediction of every tree, shape (n_estimators, n_samples)."""
        check_is_fitted(self, "forest_")
        X = validate_data(self, X, reset=False)
        return np.vstack([tree.predict(X) for tree in self.forest_.estimators_])

    def predict(self, X, return_std: bool = False):
        """Mean over the trees (and their standard deviation with ``return_std``)."""
        members = self.predict_members(X)
        mean = members.mean(axis=0)
        if not return_std:
            return mean
        return mean, members.std(axis=0, ddof=1)


class BoundedSurrogate(RegressorMixin, BaseEstimator):
    """A surrogate whose predictions stay within the plausible range of the target.

    Analytic laws extrapolate: a SISSO descriptor with ``^6`` or ``exp`` fitted on 15
    compositions can predict 9 V for an overpotential measured between 0.36 and 0.56 V, with
    a sigma to match, and expected improvement then chases those artefacts. The wrapper
    limits the mean and every member prediction to ``[min(y) - margin * range,
    max(y) + margin * range]`` of the training targets and sigma to the width of that
    interval. Inside the measured range nothing changes.

    Parameters
    ----------
    estimator : regressor with ``predict(X, return_std=True)``
    margin : float
        Widening of the measured range on each side, in units of the range.

    Attributes
    ----------
    estimator_ : the fitted regressor
    bounds_ : tuple of float
    """

    def __init__(self, estimator=None, margin=0.5):
        self.estimator = estimator
        self.margin = margin

    def fit(self, X, y):
        """Fit the wrapped estimator and the bounds; returns self."""
        y_arr = np.asarray(y, dtype=np.float64)
        self.estimator_ = clone(self.estimator).fit(X, y_arr)
        lo, hi = float(np.min(y_arr)), float(np.max(y_arr))
        width = hi - lo if hi > lo else max(abs(hi), 1.0)
        self.bounds_ = (lo - self.margin * width, hi + self.margin * width)
        return self

    def __getattr__(self, name):
        # fitted attributes of the wrapped model (members_, descriptor_frequency_, ...)
        if name.endswith("_") and not name.startswith("__") and "estimator_" in self.__dict__:
            return getattr(self.__dict__["estimator_"], name)
        raise AttributeError(name)

    def predict_members(self, X) -> np.ndarray:
        """Member predictions of the wrapped ensemble, limited to the bounds (NaN kept)."""
        check_is_fitted(self, "estimator_")
        return np.clip(np.asarray(self.estimator_.predict_members(X), dtype=np.float64),
                       *self.bounds_)

    def predict(self, X, return_std: bool = False):
        """Mean (and sigma) of the wrapped estimator, limited to the bounds."""
        check_is_fitted(self, "estimator_")
        lo, hi = self.bounds_
        if not return_std:
            return np.clip(self.estimator_.predict(X), lo, hi)
        mean, std = self.estimator_.predict(X, return_std=True)
        return np.clip(mean, lo, hi), np.minimum(std, hi - lo)


def sisso_preset_dimension(n_samples: int | None) -> int:
    """Descriptor dimension of the ``"sisso"`` preset for ``n_samples`` training points.

    1 below 8 points, 2 below 20, 3 from 20 on: a bootstrap sample must hold at least
    ``n_dim + 2`` distinct rows, and more terms than the data can pin down only add variance.
    """
    if n_samples is None or n_samples >= 20:
        return 3
    return 2 if n_samples >= 8 else 1


def sisso_preset_complexity(n_features: int) -> int:
    """``max_complexity`` of the ``"sisso"`` preset: 3 up to 12 primary features, else 2.

    The rung-2 space grows as the square of the rung-1 space: 22 primary features give
    8.9 M candidates at complexity 3 (a 50-member ensemble then takes ~2 min per round on
    2 cores) but 243 k at complexity 2 (~2 s).
    """
    return 3 if n_features <= 12 else 2


def _sisso_preset(random_state: int | None, n_samples: int | None = None,
                  n_features: int = 1):
    from sisso_lite.estimators import SissoEnsemble, SissoRegressor

    template = SissoRegressor(n_dim=sisso_preset_dimension(n_samples),
                              max_complexity=sisso_preset_complexity(n_features),
                              n_sis=20, n_models=1)
    ensemble = SissoEnsemble(template, n_estimators=50, feature_dropout=0.2,
                             calibrate="sigma", predictive_std="mixture",
                             random_state=random_state)
    return BoundedSurrogate(ensemble, margin=0.5)


def _gp_preset(n_features: int, random_state: int | None):
    kernel = (ConstantKernel(1.0, (1e-3, 1e3))
              * Matern(length_scale=np.ones(n_features), length_scale_bounds=(1e-2, 1e3),
                       nu=2.5)
              + WhiteKernel(1e-2, (1e-6, 1.0)))
    gp = GaussianProcessRegressor(kernel, normalize_y=True, n_restarts_optimizer=2,
                                  random_state=random_state)
    return Pipeline([("scale", StandardScaler()), ("gp", gp)])


def make_surrogate(spec, n_features: int, random_state: int | None = None,
                   n_samples: int | None = None):
    """A fresh, unfitted surrogate.

    Parameters
    ----------
    spec : None, str or estimator
        ``None`` or ``"sisso"``, ``"gp"``, ``"rf"`` (see the module docstring), or a
        scikit-learn regressor (cloned; its ``random_state`` is set when it has one).
    n_features : int
        Number of features the surrogate is fitted on (anisotropic GP length scales).
    random_state : int or None
        Seed of this fit (the campaign derives one per round so that a resumed campaign
        refits exactly as an uninterrupted one).
    n_samples : int, optional
        Number of training points (the ``"sisso"`` preset's descriptor dimension grows with
        it: :func:`sisso_preset_dimension`).
    """
    if spec is None or (isinstance(spec, str) and spec == "sisso"):
        return _sisso_preset(random_state, n_samples, n_features)
    if isinstance(spec, str):
        if spec == "gp":
            return _gp_preset(n_features, random_state)
        if spec == "rf":
            return RandomForestSpread(random_state=random_state)
        raise ValueError(f"unknown surrogate {spec!r}; use one of {SURROGATE_PRESETS} "
                         "or a regressor with predict(X, return_std=True)")
    if not hasattr(spec, "fit") or not hasattr(spec, "predict"):
        raise TypeError(f"surrogate must be a preset name or a regressor with fit/predict, "
                        f"got {type(spec).__name__}")
    model = clone(spec)
    if random_state is not None and "random_state" in model.get_params(deep=False):
        model.set_params(random_state=random_state)
    return model


def describe_surrogate(spec) -> str:
    """A short JSON-safe description of a surrogate spec (checkpoints, reports)."""
    if spec is None:
        return "sisso"
    if isinstance(spec, str):
        return spec
    return f"{type(spec).__module__}.{type(spec).__name__}"


def predict_distribution(model, X) -> Prediction:
    """Mean, sigma and (when the model has members) member predictions over ``X``.

    Raises
    ------
    TypeError
        If the model's ``predict`` does not accept ``return_std=True``.
    """
    try:
        mean, std = model.predict(X, return_std=True)
    except TypeError as err:
        raise TypeError(
            f"surrogate {type(model).__name__} must support predict(X, return_std=True) "
            f"to give a predictive sigma ({err})") from err
    samples = None
    if hasattr(model, "predict_members"):
        samples = np.asarray(model.predict_members(X), dtype=np.float64)
    mean = np.asarray(mean, dtype=np.float64).ravel()
    std = np.asarray(std, dtype=np.float64).ravel()
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        std = np.where(std < 0, np.nan, std)  # numerically negative variances are undefined
    return Prediction(mean=mean, std=std, samples=samples)


def surrogate_formula(model, digits: int = 4) -> str:
    """The law a SISSO surrogate currently stands for ('' for other surrogates).

    For a :class:`~sisso_lite.estimators.SissoEnsemble`: the most frequent descriptor set among
    the members (ties: the set with the lowest out-of-bag error), written with the
    coefficients of its member with the lowest out-of-bag error, and the share of members
    that use it.
    """
    if getattr(model, "members_", None) is None:  # BoundedSurrogate and similar wrappers
        model = getattr(model, "estimator_", model)
    members = getattr(model, "members_", None)
    if not members:
        best = getattr(model, "sympy", None)
        if callable(best):
            try:
                return str(best())
            except Exception:  # noqa: BLE001 - a formula is informative only
                return ""
        return ""
    groups: dict[tuple[str, ...], list] = {}
    for m in members:
        groups.setdefault(tuple(m.descriptors), []).append(m)
    # most frequent descriptor set; among equally frequent ones the lowest out-of-bag error
    key = min(groups, key=lambda k: (-len(groups[k]),
                                     min(float(m.error) for m in groups[k])))
    member = min(groups[key], key=lambda m: float(m.error))
    terms = [f"{float(member.intercept):.{digits}g}"]
    for c, d in zip(np.ravel(member.coefficients), key, strict=False):
        terms.append(f"{float(c):+.{digits}g}*{d}")
    share = len(groups[key]) / len(members)
    return f"{' '.join(terms)}  [{share:.0%} of members]"
