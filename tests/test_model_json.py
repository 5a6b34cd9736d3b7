"""Model files: JSON round trip of fitted estimators (sisso_lite.io.model_json, written and
read through sisso_lite.estimators.persistence)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sisso_lite.datasets import load_octet_binaries
from sisso_lite.estimators import SissoClassifier, SissoRegressor
from sisso_lite.estimators.persistence import load_model, model_from_dict, model_to_dict, save_model
from sisso_lite.io import (
    ModelFileError,
    check_prediction_input,
    predict_checked,
    training_data_hash,
)
from sisso_lite.io.model_json import FORMAT_VERSION, _decode

SMALL = dict(n_dim=2, max_complexity=2, operators=("+", "-", "*", "/", "^2", "exp"), n_sis=10,
             n_models=5)


@pytest.fixture(scope="module")
def octet():
    X, y, _, units = load_octet_binaries()
    return X, y, units


@pytest.fixture(scope="module")
def fitted(octet):
    X, y, units = octet
    return SissoRegressor(units=units, **SMALL).fit(X, y)


def _new_data(X: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return X * rng.uniform(0.9, 1.1, size=X.shape)


def _roundtrip(model, tmp_path, **kw):
    path = save_model(model, tmp_path / "model.json", **kw)
    return load_model(path), path


def test_roundtrip_octet_bit_identical(fitted, octet, tmp_path):
    X, y, units = octet
    loaded, path = _roundtrip(fitted, tmp_path, training_data=(X, y))
    X_new = _new_data(X)
    assert np.array_equal(fitted.predict(X_new), loaded.predict(X_new))
    for dim in (1, 2):
        assert np.array_equal(fitted.predict(X_new, dim=dim), loaded.predict(X_new, dim=dim))
    assert loaded.descriptors_ == fitted.descriptors_
    assert np.array_equal(loaded.coef_, fitted.coef_)
    assert loaded.intercept_ == fitted.intercept_
    assert loaded.get_params() == fitted.get_params()
    pd.testing.assert_frame_equal(loaded.models_, fitted.models_)
    data = json.loads(path.read_text())
    assert data["format_version"] == FORMAT_VERSION and data["estimator"] == "SissoRegressor"
    assert data["training_data_sha256"] == training_data_hash(X, y)
    assert data["units"]["r_p_A"] == "Angstrom" and data["units"]["IP_A"] == "eV"
    assert data["descriptors"] == fitted.descriptors_
    assert "package_version" in data and data["feature_names"] == list(X.columns)


def test_roundtrip_octet20_arrays_and_no_intercept(tmp_path):
    X, y, _, units = load_octet_binaries(n_features=20)
    model = SissoRegressor(units=[units[c] for c in X.columns], fit_intercept=False,
                           **{**SMALL, "max_complexity": 1}).fit(X.to_numpy(), y.to_numpy())
    loaded, _ = _roundtrip(model, tmp_path)
    X_new = _new_data(X, 1).to_numpy()
    assert np.array_equal(model.predict(X_new), loaded.predict(X_new))


def test_roundtrip_multitask(octet, tmp_path):
    X, y, units = octet
    tasks = np.where(np.arange(len(y)) < 29, "t1", "t2")
    model = SissoRegressor(units=units, **{**SMALL, "max_complexity": 1}).fit(X, y, tasks=tasks)
    loaded, _ = _roundtrip(model, tmp_path, training_data=(X, y, tasks))
    X_new = _new_data(X, 2)
    new_tasks = tasks[::-1]
    assert np.array_equal(model.predict(X_new, tasks=new_tasks),
                          loaded.predict(X_new, tasks=new_tasks))
    assert np.array_equal(model.coef_, loaded.coef_)


def test_roundtrip_emery_perovskites(tmp_path):
    emery = pytest.importorskip("sisso_lite.datasets.emery")
    X, y, _, units = emery.load_emery_perovskites()
    X, y = X.iloc[:400], y.iloc[:400]
    model = SissoRegressor(n_dim=2, max_complexity=1, operators=("+", "-", "*", "/"), n_sis=5,
                           n_models=3, units=units).fit(X, y)
    loaded, _ = _roundtrip(model, tmp_path, training_data=(X, y))
    X_new = _new_data(X, 3)
    assert np.array_equal(model.predict(X_new), loaded.predict(X_new))


def test_roundtrip_bartel_perovskites_classifier(tmp_path):
    bartel = pytest.importorskip("sisso_lite.datasets.bartel")

    data, units = bartel.load_bartel_perovskites()
    cols = ["rA", "rB", "rX", "nA", "nB", "nX"]
    X, y = data[cols], data["label"].to_numpy()
    model = SissoClassifier(n_dim=1, max_complexity=1, operators=("+", "-", "*", "/"),
                            n_sis=5, units=[units.get(c) for c in cols]).fit(X, y)
    loaded, _ = _roundtrip(model, tmp_path, training_data=(X, y))
    X_new = _new_data(X, 5)
    assert np.array_equal(model.predict(X_new), loaded.predict(X_new))
    assert np.array_equal(model.predict_proba(X_new), loaded.predict_proba(X_new))
    assert np.array_equal(model.decision_function(X_new), loaded.decision_function(X_new))


def test_roundtrip_classifier(octet, tmp_path):
    X, y, units = octet
    labels = np.where(y.to_numpy() < 0, "RS", "ZB")
    model = SissoClassifier(n_dim=2, max_complexity=1, n_sis=10,
                            operators=("+", "-", "*", "/"), units=units).fit(X, labels)
    loaded, path = _roundtrip(model, tmp_path, training_data=(X, labels))
    X_new = _new_data(X, 4)
    assert np.array_equal(np.asarray(model.predict(X_new)), np.asarray(loaded.predict(X_new)))
    assert json.loads(path.read_text())["estimator"] == "SissoClassifier"


# ----------------------------------------------------------------------------- checks
def test_missing_needed_feature_is_clear_error(fitted, octet):
    X, _, _ = octet
    needed = fitted.result_.best().primary_features
    with pytest.raises(ValueError, match=f"lack the primary feature.*{needed[0]}"):
        predict_checked(fitted, X.drop(columns=[needed[0]]))


def test_unneeded_feature_may_be_missing(fitted, octet):
    X, _, _ = octet
    needed = set(fitted.result_.best().primary_features)
    unused = [c for c in X.columns if c not in needed]
    pred = predict_checked(fitted, X.drop(columns=unused))
    assert np.array_equal(pred, fitted.predict(X))


def test_different_units_is_clear_error(fitted, octet):
    X, _, _ = octet
    needed = fitted.result_.best().primary_features
    name = next(n for n in needed if n.startswith("r_"))
    with pytest.raises(ValueError, match=f"'{name}' is in units nm.*trained with Angstrom"):
        check_prediction_input(fitted, X, units={name: "nm"})
    X2 = X.copy()
    X2.attrs["units"] = {name: "nm"}
    with pytest.raises(ValueError, match="trained with Angstrom"):
        predict_checked(fitted, X2)
    check_prediction_input(fitted, X, units={name: "Angstrom"})  # same unit: fine


def test_newer_format_version_is_refused(fitted, tmp_path):
    data = model_to_dict(fitted)
    data["format_version"] = FORMAT_VERSION + 1
    path = tmp_path / "future.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ModelFileError, match="newer.*upgrade sisso-lite"):
        load_model(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not a JSON model file"),
        ('{"a": 1}', "not a sisso-lite model file"),
        ('{"format": "sisso-lite-model", "format_version": 1, "estimator": "os.system"}',
         "unknown estimator"),
    ],
)
def test_bad_model_files(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ModelFileError, match=message):
        load_model(path)


def test_missing_model_file(tmp_path):
    with pytest.raises(ModelFileError, match="file not found"):
        load_model(tmp_path / "nope.json")


def test_no_code_is_executed_from_a_tampered_file(fitted):
    data = model_to_dict(fitted)
    data["fitted"]["result_"] = {"__dataclass__": "os:system", "fields": {"command": "echo"}}
    with pytest.raises(ModelFileError, match="not allowed"):
        model_from_dict(data)
    data = model_to_dict(fitted)
    data["fitted"]["coef_"] = {"__ndarray__": [1], "dtype": "|O8", "shape": [1]}
    with pytest.raises(ModelFileError, match="not allowed"):
        model_from_dict(data)


def test_unfitted_model_cannot_be_saved(tmp_path):
    with pytest.raises(ModelFileError, match="not fitted"):
        save_model(SissoRegressor(), tmp_path / "m.json")


def test_wrong_expected_class(fitted, tmp_path):
    path = save_model(fitted, tmp_path / "m.json")

    class Other:
        pass

    with pytest.raises(ModelFileError, match="not a Other"):
        load_model(path, expected_class=Other)
    assert isinstance(load_model(path, expected_class=SissoRegressor), SissoRegressor)


def test_training_data_hash_depends_on_data(octet):
    X, y, _ = octet
    h = training_data_hash(X, y)
    assert h == training_data_hash(X.copy(), y.to_numpy())
    assert h != training_data_hash(X, y + 1e-12)
    assert h != training_data_hash(X.rename(columns={"IP_A": "ip_a"}), y)
    assert len(h) == 64


def test_file_is_plain_json_without_nan(fitted, tmp_path):
    path = save_model(fitted, tmp_path / "m.json")
    text = path.read_text()
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard constant {c}"))


# ----------------------------------------------------------------------------- old files
V0 = Path(__file__).parent / "data" / "model_json_v0"


def _v0_expected():
    exp = json.loads((V0 / "expected.json").read_text())
    frame = {key: pd.DataFrame(exp[key]["data"], columns=exp[key]["columns"])
             for key in ("X_new", "Xc_new")}
    return exp, frame


@pytest.mark.parametrize("name", ["regressor", "regressor_multitask", "classifier",
                                  "classifier_accuracy"])
def test_files_saved_before_the_package_layout_change_load(name):
    """Files written by the old module layout (sisso_lite.estimators / sisso_lite.classifier
    as modules, tests/data/model_json_v0/generate.py) load through every path and predict
    bit-identically to the models that wrote them."""
    import sisso_lite.io
    import sisso_lite.io.model_json

    exp, frame = _v0_expected()
    path = V0 / f"{name}.json"
    cls = SissoClassifier if name.startswith("classifier") else SissoRegressor
    loaded = [load_model(path), cls.from_json(path), sisso_lite.io.load_model(path),
              sisso_lite.io.model_json.load_model(path)]
    want = exp[name]
    for model in loaded:
        assert type(model) is cls
        if cls is SissoRegressor:
            X = frame["X_new"]
            kw = {"tasks": np.asarray(want["tasks"])} if "tasks" in want else {}
            assert model.predict(X, **kw).tolist() == want["predict"]
            if "predict_dim1" in want:
                assert model.predict(X, dim=1).tolist() == want["predict_dim1"]
        else:
            X = frame["Xc_new"]
            assert model.predict(X).tolist() == want["predict"]
            # the same numbers up to the last bits, which differ between CPUs (SIMD/FMA paths)
            np.testing.assert_allclose(model.predict_proba(X), want["predict_proba"],
                                       rtol=1e-12, atol=1e-300)
            if "decision_function" in want:
                np.testing.assert_allclose(model.decision_function(X),
                                           want["decision_function"], rtol=1e-12, atol=1e-15)


def test_old_file_saves_again_identically(tmp_path):
    """Re-saving a loaded format-1 file writes format 2 with the same parameters, names,
    units, descriptors and hash; its fitted part is exactly the class's schema, the renamed
    attributes carry the old values, and the new file predicts as the old one."""
    old = json.loads((V0 / "regressor.json").read_text())
    assert old["format_version"] == 1
    path = save_model(load_model(V0 / "regressor.json"), tmp_path / "m.json")
    new = json.loads(path.read_text())
    assert new["format_version"] == 2
    for key in ("format", "estimator", "params", "feature_names", "units", "descriptors",
                "training_data_sha256"):
        assert new[key] == old[key], key
    assert list(new["fitted"]) == [k for k in SissoRegressor._model_file_attributes
                                   if k in new["fitted"]]
    assert new["fitted"]["n_dim_"] == old["fitted"]["n_dim_fitted_"]
    for key in ("coef_", "intercept_", "models_", "result_", "descriptors_"):
        assert new["fitted"][key] == old["fitted"][key], key
    exp, frame = _v0_expected()
    assert load_model(path).predict(frame["X_new"]).tolist() == exp["regressor"]["predict"]


def test_format_1_classifier_file_gets_the_models_table():
    old = json.loads((V0 / "classifier.json").read_text())
    clf = load_model(V0 / "classifier.json")
    assert isinstance(clf.models_, pd.DataFrame)
    old_models = _decode(old["fitted"]["models_"])
    for d, ranked in old_models.items():
        rows = clf.models_[clf.models_["dimension"] == d].sort_values("rank")
        assert rows["descriptors"].tolist() == [m["descriptor"] for m in ranked]
        assert rows["n_overlap"].tolist() == [m["n_overlap"] for m in ranked]
    assert clf.descriptors_ == [str(e) for e in clf.expressions_] == old["descriptors"]
    final = clf.models_[(clf.models_["dimension"] == clf.n_dim_) & (clf.models_["rank"] == 1)]
    assert np.asarray(final["coefficients"].iloc[0]).tolist() == clf.coef_.tolist()


def test_model_file_holds_only_the_schema(octet, tmp_path):
    """A private cache or an attribute outside the class's schema never reaches the file."""
    X, y, _ = octet
    reg = SissoRegressor(n_dim=1, max_complexity=1, n_sis=5).fit(X, y)
    reg._scratch = np.arange(3)
    reg.extra_attribute_ = 1.0
    data = json.loads(save_model(reg, tmp_path / "m.json").read_text())
    assert set(data["fitted"]) <= set(SissoRegressor._model_file_attributes)
    assert {"n_dim_", "expressions_", "coef_", "result_"} <= set(data["fitted"])
