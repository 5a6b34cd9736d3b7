"""How the model files in this folder were made (kept for the record; do not re-run).

They were written by sisso-lite at commit 806c919, *before* the package layout change
(``sisso_lite.estimators`` / ``sisso_lite.classifier`` were modules then), so that
``tests/test_model_json.py`` can check that files saved with the old module layout still
load and predict bit-identically.  ``expected.json`` holds the prediction inputs and the
predictions of the models that wrote the files.

    python tests/data/model_json_v0/generate.py    # only with the code of commit 806c919
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from sisso_lite.classifier import SissoClassifier
from sisso_lite.datasets import load_octet_binaries
from sisso_lite.estimators import SissoRegressor
from sisso_lite.io import save_model

HERE = Path(__file__).parent
REF = HERE.parent / "sisso_reference" / "octet20_class_r1_d2_nocbrt"


def main() -> None:
    X, y, _, units = load_octet_binaries()
    rng = np.random.default_rng(0)
    X_new = X.iloc[:12] * rng.uniform(0.9, 1.1, size=(12, X.shape[1]))
    expected: dict = {"X_new": {"columns": list(X.columns), "data": X_new.to_numpy().tolist()}}

    reg = SissoRegressor(n_dim=2, max_complexity=2, operators=("+", "-", "*", "/", "^2", "exp"),
                         n_sis=10, n_models=3, units=units).fit(X, y)
    save_model(reg, HERE / "regressor.json", training_data=(X, y))
    expected["regressor"] = {"predict": reg.predict(X_new).tolist(),
                             "predict_dim1": reg.predict(X_new, dim=1).tolist()}

    tasks = np.where(np.arange(len(y)) % 2 == 0, "even", "odd")
    mt = SissoRegressor(n_dim=1, max_complexity=1, n_sis=5, n_models=2, units=units).fit(
        X, y, tasks=tasks)
    save_model(mt, HERE / "regressor_multitask.json", training_data=(X, y, tasks))
    tasks_new = tasks[:12]
    expected["regressor_multitask"] = {"tasks": tasks_new.tolist(),
                                       "predict": mt.predict(X_new, tasks=tasks_new).tolist()}

    df = pd.read_csv(REF / "train.dat", sep=r"\s+")
    Xc, yc = df.iloc[:, 1:], np.array(["RS"] * 41 + ["ZB"] * 41)
    Xc_new = Xc.iloc[::7] * rng.uniform(0.95, 1.05, size=(len(Xc.iloc[::7]), Xc.shape[1]))
    expected["Xc_new"] = {"columns": list(Xc.columns), "data": Xc_new.to_numpy().tolist()}
    clf = SissoClassifier(n_dim=2, max_complexity=1,
                          operators=("+", "-", "*", "/", "^2", "sqrt"), n_sis=10).fit(Xc, yc)
    clf.to_json(HERE / "classifier.json")
    expected["classifier"] = {"predict": clf.predict(Xc_new).tolist(),
                              "predict_proba": clf.predict_proba(Xc_new).tolist(),
                              "decision_function": clf.decision_function(Xc_new).tolist()}

    acc = SissoClassifier(n_dim=1, max_complexity=1, operators=("+", "-", "*", "/"), n_sis=5,
                          scoring="accuracy").fit(Xc, yc)
    acc.to_json(HERE / "classifier_accuracy.json")
    expected["classifier_accuracy"] = {"predict": acc.predict(Xc_new).tolist(),
                                       "predict_proba": acc.predict_proba(Xc_new).tolist()}
    (HERE / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")


if __name__ == "__main__":
    main()
