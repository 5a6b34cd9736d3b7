"""SissoClassifier: multi-task classification, Fortran pair counting, JSON round trip, units
and feature names (consistency with SissoRegressor)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sisso_lite.estimators import SissoClassifier
from sisso_lite.io.model_json import training_data_hash
from sisso_lite.solvers import classification as cl
from sisso_lite.solvers import multitask_classification as mt
from sisso_lite.solvers.overlap import overlap_1d_reference, overlap_nd

REF = Path(__file__).parent / "data" / "sisso_reference" / "octet20_class_r1_d2_nocbrt"
OPS = ("+", "-", "*", "/")



def _rows(clf, d):
    """The kept models of dimension ``d``, best first (dicts of the ``models_`` columns)."""
    table = clf.models_
    return table[table["dimension"] == d].sort_values("rank").to_dict("records")

def _planted(seed: int = 1, n: int = 240):
    """Three tasks, one law ``x0*x1 > threshold`` with a different threshold per task."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(0.5, 2.0, size=(n, 4))
    tasks = np.repeat(["A", "B", "C"], n // 3)
    thr = np.select([tasks == "A", tasks == "B"], [1.0, 1.6], 2.4)
    d = X[:, 0] * X[:, 1]
    keep = np.abs(d - thr) > 0.08
    y = np.where(d > thr, "high", "low")
    return pd.DataFrame(X[keep], columns=["a", "b", "c", "e"]), y[keep], tasks[keep]


# --------------------------------------------------------------------------- multi-task
def test_planted_multitask_law_recovered_exactly() -> None:
    X, y, tasks = _planted()
    clf = SissoClassifier(n_dim=2, max_complexity=1, operators=OPS, n_sis=5, n_models=3)
    clf.fit(X, y, tasks=tasks)
    assert [str(e) for e in clf.expressions_] == ["(a*b)"]
    best = _rows(clf, 1)[0]
    assert best["descriptors"] == ["(a*b)"] and best["n_overlap"] == 0
    assert list(clf.task_labels_) == ["A", "B", "C"]
    assert clf.coef_.shape == (3, 1, 1) and clf.intercept_.shape == (3, 1)
    assert np.array_equal(clf.predict(X, tasks=tasks), y)
    assert clf.score(X, y, tasks=tasks) == 1.0
    proba = clf.predict_proba(X, tasks=tasks)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    assert np.array_equal(clf.classes_[proba.argmax(1)], y)
    # the per-task thresholds in the descriptor (decision = 0) are recovered
    for t, thr in zip("ABC", (1.0, 1.6, 2.4), strict=True):
        z0 = -clf.intercept_[ord(t) - 65, 0] / clf.coef_[ord(t) - 65, 0, 0]
        assert z0 * clf.descriptor_scale_[0] + clf.descriptor_mean_[0] == pytest.approx(
            thr, abs=0.1)
    assert clf.sympy(task="B").free_symbols
    # one descriptor for all tasks: a single-task fit cannot separate the pooled data
    single = SissoClassifier(n_dim=1, max_complexity=1, operators=OPS, n_sis=5).fit(X, y)
    assert _rows(single, 1)[0]["n_overlap"] > 50


def test_multitask_prediction_errors() -> None:
    X, y, tasks = _planted()
    clf = SissoClassifier(n_dim=1, max_complexity=1, operators=OPS, n_sis=3).fit(
        X, y, tasks=tasks)
    with pytest.raises(ValueError, match="fitted with tasks"):
        clf.predict(X)
    with pytest.raises(ValueError, match=r"unknown task label\(s\) \['Z'\]"):
        clf.predict(X.iloc[:2], tasks=["A", "Z"])
    with pytest.raises(ValueError, match="shape"):
        clf.predict(X, tasks=tasks[:3])
    single = SissoClassifier(n_dim=1, max_complexity=1, operators=OPS, n_sis=3).fit(X, y)
    with pytest.raises(ValueError, match="without tasks"):
        single.predict(X, tasks=tasks)
    with pytest.raises(ValueError, match="one class only"):
        SissoClassifier(n_dim=1, max_complexity=1, operators=OPS, n_sis=3).fit(
            X, y, tasks=np.where(y == "high", "A", "B"))
    with pytest.raises(ValueError, match="scoring='overlap'"):
        SissoClassifier(n_dim=1, max_complexity=1, operators=OPS, n_sis=3,
                        scoring="accuracy").fit(X, y, tasks=tasks)


def test_multitask_scores_pool_the_tasks() -> None:
    rng = np.random.default_rng(3)
    n = 60
    codes = rng.integers(0, 2, n)
    task = np.repeat([0, 1], n // 2)
    values = rng.normal(size=(7, n)) + codes
    active = rng.random(n) > 0.2
    c, s = mt.MultiTaskOverlapScorer(codes, task, active, 0.01, standardize=False).details(
        values)
    # reference: per-task NumPy overlaps, Fortran's pooling of counts and pair sizes
    for r in range(values.shape[0]):
        parts = [overlap_1d_reference(values[r, task == t], codes[task == t], 2,
                                      active[task == t], 0.01, False) for t in (0, 1)]
        counts = [int(p[0][0]) for p in parts]
        sizes = [float(p[1][0]) for p in parts]
        assert c[r] == sum(counts)
        want = (sum(x for x in sizes if x >= 0) / 2 if any(x >= 0 for x in sizes)
                else max(sizes))
        assert s[r] == pytest.approx(want)
    # one task == the single-task scorer
    one = mt.MultiTaskOverlapScorer(codes, np.zeros(n, int), active, 0.01, False)
    ref = cl.OverlapScorer(codes, 2, active, 0.01, False)
    np.testing.assert_array_equal(one.score_block(values), ref.score_block(values))


@pytest.mark.parametrize("dim", [1, 2])
def test_multitask_l0_matches_per_task_sum(dim: int) -> None:
    rng = np.random.default_rng(4)
    n = 48
    codes = np.tile([0, 1], n // 2)
    task = np.repeat([0, 1], n // 2)
    F = rng.normal(size=(n, 5)) + codes[:, None] * np.array([0.5, 2, 0, 1, 3])
    got = mt.l0_overlap_multitask(F, codes, task, dim, n_models=100)
    for m in got:
        cols = list(m.columns)
        parts = [cl.overlap_flags(F[task == t][:, cols], codes[task == t], 2, 1e-3)
                 for t in (0, 1)]
        assert m.count == sum(p[0] for p in parts)
        flags = mt.overlap_flags_multitask(F[:, cols], codes, task, 1e-3)[2]
        assert flags.sum() == m.count
    assert [m.count for m in got] == sorted(m.count for m in got)


def test_multitask_three_classes_absent_class_gets_zero_probability() -> None:
    rng = np.random.default_rng(5)
    X = rng.uniform(0, 3, size=(150, 2))
    y = np.digitize(X[:, 0], [1.0, 2.0])  # 3 classes along x0
    tasks = np.repeat(["t1", "t2"], 75)
    keep = (tasks == "t1") | (y < 2)  # task t2 has classes 0 and 1 only
    clf = SissoClassifier(n_dim=1, max_complexity=0, n_sis=2, linear_model="logistic")
    clf.fit(X[keep], y[keep], tasks=tasks[keep])
    proba = clf.predict_proba(X[keep], tasks=tasks[keep])
    np.testing.assert_allclose(proba.sum(1), 1.0)
    assert np.all(proba[tasks[keep] == "t2", 2] == 0.0)
    assert clf.score(X[keep], y[keep], tasks=tasks[keep]) > 0.9


def test_fortran_dir_multitask_classification(tmp_path: Path) -> None:
    from sisso_lite.estimators.sisso_dir import run_sisso_dir

    X, y, tasks = _planted(seed=2, n=120)
    rows = []
    for t in ("A", "B", "C"):
        for lab in ("high", "low"):  # Fortran: tasks in order, classes grouped inside
            m = (tasks == t) & (y == lab)
            rows.append(X[m])
    counts = [len(r) for r in rows]
    data = pd.concat(rows)
    data.insert(0, "material", [f"s{i}" for i in range(len(data))])
    (tmp_path / "train.dat").write_text(data.to_string(index=False))
    nsample = ",".join(f"({counts[2 * i]},{counts[2 * i + 1]})" for i in range(3))
    (tmp_path / "SISSO.in").write_text(
        f"ptype=2\nntask=3\ndesc_dim=1\nnsample={nsample}\nnsf=4\nops='(+)(-)(*)(/)'\n"
        "fcomplexity=1\nfmax_min=1e-5\nfmax_max=1e8\nnf_sis=5\nmethod_so='L0'\nnmodel=5\n")
    model, report = run_sisso_dir(tmp_path)
    assert [str(e) for e in model.expressions_] == ["(a*b)"]
    assert _rows(model, 1)[0]["n_overlap"] == 0
    assert (tmp_path / "SISSO.out").is_file()


# ----------------------------------------------------------------- Fortran pair counting
def test_pair_count_counts_every_foreign_domain() -> None:
    x = np.array([0.0, 1.0, 2.0, 0.5, 1.5, 2.5, 0.9, 1.1, 1.2])
    codes = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
    act = np.ones(9, bool)
    once = cl.OverlapScorer(codes, 3, act, 0.0, False).details(x[None])[0][0]
    pair = cl.OverlapScorer(codes, 3, act, 0.0, False, pair_count=True).details(x[None])[0][0]
    ref = sum(int(((x >= x[codes == c].min()) & (x <= x[codes == c].max())
                   & (codes != c)).sum()) for c in range(3))
    assert pair == ref == overlap_1d_reference(x, codes, 3, act, 0.0, False, True)[0][0]
    assert once == overlap_1d_reference(x, codes, 3, act, 0.0, False)[0][0] < pair
    # 2D kernel vs the SciPy reference
    rng = np.random.default_rng(0)
    codes2 = np.repeat([0, 1, 2], 12)
    X2 = rng.normal(size=(36, 2)) + 0.7 * codes2[:, None]
    for pc in (False, True):
        c2 = cl.overlap_flags(X2, codes2, 3, 1e-3, pair_count=pc)[0]
        assert c2 == overlap_nd(X2, codes2, 3, 1e-3, pair_count=pc)[0]
    assert (cl.overlap_flags(X2, codes2, 3, 1e-3, pair_count=True)[0]
            > cl.overlap_flags(X2, codes2, 3, 1e-3)[0])


def test_fortran_compatible_uses_pair_counting_with_three_classes() -> None:
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 20)
    X = rng.normal(size=(60, 2)) + 0.8 * y[:, None]
    kw = dict(n_dim=1, max_complexity=0, n_sis=2)
    ours = SissoClassifier(**kw).fit(X, y)
    fort = SissoClassifier(fortran_compatible=True, **kw).fit(X, y)
    col = 0 if ours.expressions_[0].key == "x0" else 1
    codes = y.astype(np.int64)
    assert _rows(ours, 1)[0]["n_overlap"] == cl.overlap_flags(
        X[:, col] / X[:, col].std(), codes, 3, 1e-3)[0]
    fcol = 0 if fort.expressions_[0].key == "x0" else 1
    assert _rows(fort, 1)[0]["n_overlap"] == cl.overlap_flags(
        X[:, fcol], codes, 3, 1e-3, pair_count=True)[0]


# --------------------------------------------------------- consistency with the regressor
def _octet():
    df = pd.read_csv(REF / "train.dat", sep=r"\s+")
    return df.iloc[:, 1:], np.array(["RS"] * 41 + ["ZB"] * 41)


def test_units_dict_and_list_and_dataframe_names() -> None:
    X, y = _octet()
    cols = ["IP_A", "IP_B", "r_s_A", "r_p_A", "r_sigma"]
    units = {"IP_A": "eV", "IP_B": "eV", "r_s_A": "Angstrom", "r_p_A": "Angstrom",
             "r_sigma": "Angstrom"}
    kw = dict(n_dim=1, max_complexity=1, operators=OPS, n_sis=5)
    a = SissoClassifier(units=units, **kw).fit(X[cols], y)
    b = SissoClassifier(units=[units[c] for c in cols], **kw).fit(X[cols], y)
    assert a.sis_selected_ == b.sis_selected_
    assert all(set(e.primary_features) <= set(cols) for e in a.expressions_)
    assert list(a.feature_names_in_) == cols
    assert a.feature_space_size_ == a.n_features_per_rung_ and len(a.feature_space_size_) == 2
    assert a.training_data_sha256_ == training_data_hash(X[cols], y)
    # mixing units forbids e.g. IP_A + r_s_A
    assert not any(("IP_A+r_s_A" in n) for n, _ in a.sis_selected_[1])
    with pytest.raises(ValueError, match="unknown feature"):
        SissoClassifier(units={"nope": "eV"}, **kw).fit(X[cols], y)
    with pytest.raises(ValueError, match="cannot parse unit"):
        SissoClassifier(units={"IP_A": "eV^^"}, **kw).fit(X[cols], y)
    with pytest.raises(ValueError, match="entries"):
        SissoClassifier(units=["eV"], **kw).fit(X[cols], y)
    bad = X[cols].rename(columns={"IP_A": "IP-A"})
    with pytest.raises(ValueError, match="operator"):
        SissoClassifier(**kw).fit(bad, y)


def _assert_round_trip(clf, X, tmp_path: Path, **kw) -> None:
    path = clf.to_json(tmp_path / "clf.json")
    json.loads(path.read_text())  # plain JSON
    back = SissoClassifier.from_json(path)
    assert np.array_equal(back.predict(X, **kw), clf.predict(X, **kw))
    assert np.array_equal(back.predict_proba(X, **kw), clf.predict_proba(X, **kw))
    assert np.array_equal(back.decision_function(X, **kw), clf.decision_function(X, **kw))
    assert back.training_data_sha256_ == clf.training_data_sha256_
    assert [str(e) for e in back.expressions_] == [str(e) for e in clf.expressions_]


def test_json_round_trip_octet(tmp_path: Path) -> None:
    X, y = _octet()
    clf = SissoClassifier(n_dim=2, max_complexity=1, operators=OPS, n_sis=10,
                          fortran_compatible=True).fit(X, y)
    _assert_round_trip(clf, X, tmp_path)


def test_json_round_trip_bartel_accuracy(tmp_path: Path) -> None:
    from sisso_lite.datasets.bartel import load_bartel_perovskites

    df, units = load_bartel_perovskites()
    feats = ["rA", "rB", "rX", "nA", "nB", "nX"]
    clf = SissoClassifier(n_dim=2, max_complexity=2, scoring="accuracy", n_sis=5,
                          operators=OPS, units={f: units[f] for f in feats}, n_models=2)
    clf.fit(df[feats], df["label"])
    _assert_round_trip(clf, df[feats], tmp_path)


def test_json_round_trip_multitask(tmp_path: Path) -> None:
    X, y, tasks = _planted()
    clf = SissoClassifier(n_dim=1, max_complexity=1, operators=OPS, n_sis=3,
                          linear_model="logistic").fit(X, y, tasks=tasks)
    _assert_round_trip(clf, X, tmp_path, tasks=tasks)
