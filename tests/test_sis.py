"""SIS scorers: Pearson, multi-task, numba/NumPy agreement."""

from __future__ import annotations

import numpy as np
import pytest

from sisso_lite.features.kernels import pearson_scores_nb, pearson_scores_numpy
from sisso_lite.solvers.sis import MultiTaskPearsonScorer, PearsonScorer, Scorer


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(40, 30)) * rng.uniform(0.1, 100, size=(40, 1)) + 5.0
    residual = rng.normal(size=30)
    return values, residual


def test_pearson_scorer_is_abs_correlation(data):
    values, residual = data
    scores = PearsonScorer(residual).score_block(values)
    expected = [abs(np.corrcoef(v, residual)[0, 1]) for v in values]
    np.testing.assert_allclose(scores, expected, rtol=1e-12)
    assert PearsonScorer(residual).kind == "pearson"
    assert isinstance(PearsonScorer(residual), Scorer)


def test_pearson_is_the_fortran_projection_score(data):
    values, residual = data
    yc = residual - residual.mean()
    xc = values - values.mean(axis=1, keepdims=True)
    xc /= np.linalg.norm(xc, axis=1, keepdims=True)
    projection = np.abs(xc @ yc) / np.linalg.norm(yc)
    np.testing.assert_allclose(PearsonScorer(residual).score_block(values), projection)


def test_multitask_weightings(data):
    values, residual = data
    task = np.repeat([3, 7], [12, 18])  # arbitrary labels
    r = np.array([[abs(np.corrcoef(v[task == t], residual[task == t])[0, 1]) for t in (3, 7)]
                  for v in values])
    equal = MultiTaskPearsonScorer(residual, task, weighting="equal").score_block(values)
    np.testing.assert_allclose(equal, np.sqrt((r**2).mean(axis=1)), rtol=1e-12)
    norms2 = np.array([np.sum((residual[task == t] - residual[task == t].mean()) ** 2)
                       for t in (3, 7)])
    sisso = MultiTaskPearsonScorer(residual, task).score_block(values)
    np.testing.assert_allclose(sisso, np.sqrt((r**2 * norms2).sum(axis=1) / norms2.sum()))
    one_task = MultiTaskPearsonScorer(residual, np.zeros(30, int)).score_block(values)
    np.testing.assert_allclose(one_task, PearsonScorer(residual).score_block(values))


def test_numba_and_numpy_scores_agree(data):
    values, residual = data
    task = np.repeat([0, 1, 2], 10)
    scorer = MultiTaskPearsonScorer(residual, task)
    y_unit, task_index, n_tasks, weights = scorer.fast_path()
    np.testing.assert_allclose(
        pearson_scores_nb(values, y_unit, task_index, n_tasks, weights),
        pearson_scores_numpy(values, y_unit, task_index, n_tasks, weights),
        rtol=1e-12,
    )


def test_scorer_errors(data):
    values, residual = data
    with pytest.raises(ValueError, match="samples"):
        PearsonScorer(residual).score_block(values[:, :10])
    with pytest.raises(ValueError):
        PearsonScorer([1.0, np.nan, 2.0])
    with pytest.raises(ValueError):
        MultiTaskPearsonScorer(residual, np.zeros(5))
    with pytest.raises(ValueError, match="weighting"):
        MultiTaskPearsonScorer(residual, np.zeros(30), weighting="median")
    with pytest.raises(NotImplementedError):
        Scorer().score_block(values)
