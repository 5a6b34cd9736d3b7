"""The classification task of the SISSO loop (:func:`sisso_lite.solvers.driver.sisso_loop`).

:class:`ClassificationStrategy` screens the samples the best model of the previous dimension
leaves unresolved (all samples at ``d = 1``) and ranks L0 models by domain overlap
(Ouyang et al., Phys. Rev. Mater. 2, 083802 (2018); multi-task: J. Phys. Mater. 2, 024002
(2019)) or by accuracy (a stump in 1D, a linear SVM in 2D+). It holds no estimator: the
:class:`~sisso_lite.estimators.classifier.SissoClassifier` builds one per fit.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from sisso_lite.estimators._decision_rule import fit_rule_codes, safe_std
from sisso_lite.solvers.classification import (
    OverlapScorer,
    StumpScorer,
    l0_accuracy,
    l0_overlap,
    overlap_flags,
)
from sisso_lite.solvers.fortran_sis_classification import fortran_rung1_screen
from sisso_lite.solvers.multitask_classification import (
    MultiTaskOverlapScorer,
    l0_overlap_multitask,
    overlap_flags_multitask,
)

__all__ = ["ClassificationStrategy", "FortranScreenInput"]


@dataclass(frozen=True)
class FortranScreenInput:
    """What the emulation of Fortran SISSO's rung-1 SIS needs besides the space."""

    X: NDArray
    names: list[str]
    unit_keys: list[str]
    operators: tuple
    max_abs_value: float
    min_abs_value: float


@dataclass
class ClassificationStrategy:
    """SIS / L0 / unresolved samples of SISSO classification.

    Parameters
    ----------
    codes : int ndarray (n_samples,)
        Class index of every sample (0 .. n_classes - 1).
    n_classes : int
    task_index : int ndarray or None
        Task of every sample (multi-task, ``scoring="overlap"`` only).
    scoring : {"overlap", "accuracy"}
    bwidth : float
        Domain-boundary tolerance.
    n_models : int
    fortran_compatible : bool
        Raw units for tolerance and separations; with three or more classes, Fortran's
        overlap count (once per foreign domain).
    balanced : bool
        Balanced accuracy (``scoring="accuracy"``).
    C : float
        Inverse regularisation of the accuracy L0's SVM and the unresolved-sample rule.
    n_keep : int or None
        Bound pruning of the stump screen (see :class:`SissoClassifier`).
    rule_params : dict
        Parameters of :func:`~sisso_lite.estimators._decision_rule.linear_rule`.
    fortran_screen : FortranScreenInput or None
        Given: emulate Fortran's rung-1 SIS selection where it applies.
    """

    codes: NDArray
    n_classes: int
    task_index: NDArray | None
    scoring: str
    bwidth: float
    n_models: int
    fortran_compatible: bool
    balanced: bool
    C: float
    n_keep: int | None
    rule_params: dict
    fortran_screen: FortranScreenInput | None = None
    active: NDArray = field(init=False)
    screen_stats: list[dict] = field(init=False, default_factory=list)
    scales: dict[int, NDArray | None] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.active = np.ones(len(self.codes), bool)

    @property
    def pair_count(self) -> bool:
        """Count a sample once per foreign domain (Fortran, three or more classes)."""
        return bool(self.fortran_compatible) and self.n_classes > 2

    def _scorer(self, n_sis: int, exclude: set[str]):
        standardize = not self.fortran_compatible
        if self.scoring == "overlap" and self.task_index is not None:
            return MultiTaskOverlapScorer(self.codes, self.task_index, self.active, self.bwidth,
                                          standardize=standardize, pair_count=self.pair_count)
        if self.scoring == "overlap":
            return OverlapScorer(self.codes, self.n_classes, self.active, self.bwidth,
                                 standardize=standardize, pair_count=self.pair_count)
        # >= the candidates the screen keeps before its duplicate removal
        keep = self.n_keep if self.n_keep is not None else 8 * n_sis + len(exclude) + 64
        return StumpScorer(self.codes, self.n_classes, self.active, self.balanced,
                           n_keep=keep or None)

    def screen(self, space, n_sis: int, exclude: set[str]) -> list:
        scorer = self._scorer(n_sis, exclude)
        t0 = time.perf_counter()
        out = None
        fs = self.fortran_screen
        emulated = fs is not None
        if emulated:
            out = fortran_rung1_screen(space, fs.X, fs.names, fs.unit_keys, fs.operators,
                                       scorer, n_sis, exclude, fs.max_abs_value,
                                       fs.min_abs_value)
        if out is None:
            emulated = False
            out = space.screen(scorer, n_sis=n_sis, exclude=exclude)
        self.screen_stats.append({
            "seconds": time.perf_counter() - t0, "fortran_selection": emulated,
            "n_scored": getattr(scorer, "n_scored", None),
            "n_pruned": getattr(scorer, "n_pruned", None)})
        return out

    def l0(self, F: NDArray, d: int) -> list:
        codes, k, n_models = self.codes, self.n_classes, int(self.n_models)
        if self.scoring != "overlap":
            self.scales[d] = None
            return l0_accuracy(F, codes, k, d, n_models, self.balanced, self.C)
        scale = None if self.fortran_compatible else safe_std(F)
        self.scales[d] = scale
        if self.task_index is not None:
            return l0_overlap_multitask(F, codes, self.task_index, d, n_models, self.bwidth,
                                        self.fortran_compatible, scale, self.pair_count)
        return l0_overlap(F, codes, k, d, n_models, self.bwidth, self.fortran_compatible,
                          scale, self.pair_count)

    def columns(self, model) -> Sequence[int]:
        return model.columns

    def advance(self, F: NDArray, model, d: int) -> bool:
        """Mark the samples the best model leaves unresolved; stop when none is left."""
        cols = list(model.columns)
        D = F[:, cols]
        if self.scoring == "overlap":
            scale = self.scales[d]
            Z = D if scale is None else D / scale[cols]
            if self.task_index is not None:
                flags = overlap_flags_multitask(Z, self.codes, self.task_index, self.bwidth,
                                                self.fortran_compatible, self.pair_count)
            else:
                flags = overlap_flags(Z, self.codes, self.n_classes, self.bwidth,
                                      self.fortran_compatible, self.pair_count)
            self.active = flags[2]
        else:
            predicted = fit_rule_codes(D, self.codes, self.n_classes, None, self.rule_params)
            self.active = predicted != self.codes
        return bool(self.active.any())

    def describe(self, model) -> dict[str, str]:
        out = {"unresolved": str(int(self.active.sum()))}
        if self.scoring == "overlap":
            out["overlap"] = str(model.count)
        else:
            out["accuracy"] = f"{model.accuracy:.3f}"
        return out
