"""The table of bad inputs in ``docs/reliability.md``: each row is run here, and the message
in the doc must be exactly what the code says (so the doc cannot drift).

Each case returns the outcome as one line: the first line of the ``ValueError`` message, or
``fits: <descriptors>`` when the input is legal and a model is found. Regenerate the table
with ``python tests/test_bad_inputs.py`` after a deliberate change of a message.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from descriptors.composition import ElementStatistics
from sisso_lite.datasets import load_octet_binaries
from sisso_lite.estimators import SissoClassifier, SissoRegressor

DOC = Path(__file__).parents[1] / "docs" / "reliability.md"


def _data() -> tuple[pd.DataFrame, np.ndarray]:
    X, y, _, _ = load_octet_binaries()
    return X.iloc[:30, :4].copy(), np.asarray(y, dtype=float)[:30]


def _reg(**kw) -> SissoRegressor:
    return SissoRegressor(n_dim=1, max_complexity=1, n_sis=5, n_models=1, **kw)


def _fit(X, y, **kw) -> str:
    return f"fits: {_reg(**kw).fit(X, y).descriptors_}"


def _edit(i: int, j: int, value) -> pd.DataFrame:
    X, _ = _data()
    X.iloc[i, j] = value
    return X


def _predict(X_new) -> str:
    X, y = _data()
    _reg().fit(X, y).predict(X_new)
    return "predicts"


def _y_nan():
    X, y = _data()
    y[4] = np.nan
    return _fit(X, y)


def _dup_col():
    X, y = _data()
    X.columns = ["IP_A", "IP_B", "EA_A", "IP_A"]
    return _fit(X, y)


def _str_col():
    X, y = _data()
    X["IP_B"] = X["IP_B"].astype(object)
    X.iloc[2, 1] = "abc"
    return _fit(X, y)


def _const_col():
    X, y = _data()
    X["IP_A"] = 1.0
    return _fit(X, y)


def _all_const():
    X, y = _data()
    X.iloc[:, :] = 1.0
    return _fit(X, y)


def _dup_rows():
    X, _ = _data()
    return _fit(pd.concat([X.iloc[:1]] * 10), np.arange(10.0))


def _singular():
    X, y = _data()
    X["IP_A_copy"] = X["IP_A"]
    model = SissoRegressor(n_dim=2, max_complexity=0, n_sis=5, n_models=1).fit(X, y)
    return f"fits: {model.descriptors_}"


def _exp_overflow():
    X, y = _data()
    return _fit(X * 100.0, y, operators=("exp",))


CASES: dict[str, tuple[str, Callable[[], str]]] = {
    "x-nan": ("NaN in a feature (row 3, column IP_B)",
              lambda: _fit(_edit(3, 1, np.nan), _data()[1])),
    "x-inf": ("inf in a feature (row 5, column EA_A)",
              lambda: _fit(_edit(5, 2, np.inf), _data()[1])),
    "y-nan": ("NaN in the target (row 4)", _y_nan),
    "y-constant": ("zero-variance target",
                   lambda: _fit(_data()[0], np.ones(30))),
    "y-2d": ("target with two columns",
             lambda: _fit(_data()[0], np.c_[_data()[1], _data()[1]])),
    "duplicate-column": ("two columns named IP_A", _dup_col),
    "string-column": ("text in a numeric column", _str_col),
    "wrong-length": ("29 targets for 30 rows", lambda: _fit(_data()[0], _data()[1][:-1])),
    "one-sample": ("a single sample",
                   lambda: _fit(_data()[0].iloc[:1], _data()[1][:1])),
    "x-1d": ("X given as a 1-d array", lambda: _fit(np.ones(5), np.arange(5.0))),
    "constant-column": ("one constant column (legal: the others are used)", _const_col),
    "all-constant": ("every column constant", _all_const),
    "duplicate-rows": ("all rows identical", _dup_rows),
    "singular-design": ("a column duplicated under another name, n_dim=2", _singular),
    "exp-overflow": ("exp of values ~1e3 (exp overflows float64)", _exp_overflow),
    "predict-nan": ("NaN in the data given to predict (row 0, IP_A)",
                    lambda: _predict(_edit(0, 0, np.nan))),
    "predict-missing": ("predict without a column the model uses",
                        lambda: _predict(_data()[0].drop(columns="IP_A"))),
    "one-class": ("classifier given a single class",
                  lambda: str(SissoClassifier(n_dim=1, max_complexity=1, n_sis=5)
                              .fit(_data()[0], np.zeros(30)))),
    "unknown-element": ("formula with an unknown element",
                        lambda: str(ElementStatistics().featurize("Xx2O"))),
    "negative-amount": ("formula with a negative amount",
                        lambda: str(ElementStatistics().featurize("Na-1Cl"))),
    "empty-formula": ("empty formula", lambda: str(ElementStatistics().featurize(""))),
}


def outcome(case: str) -> str:
    """First line of what the case gives: the error message or the fitted descriptors."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return CASES[case][1]()
    except ValueError as exc:
        return str(exc).splitlines()[0]


def doc_table() -> dict[str, str]:
    """``case id -> outcome`` from the table of ``docs/reliability.md``."""
    rows = {}
    for line in DOC.read_text().splitlines():
        m = re.match(r"\|\s*`([\w-]+)`\s*\|[^|]*\|\s*`(.*)`\s*\|\s*$", line)
        if m:
            rows[m.group(1)] = m.group(2).replace("\\|", "|")
    return rows


def test_doc_lists_every_case():
    assert sorted(doc_table()) == sorted(CASES)


@pytest.mark.parametrize("case", list(CASES))
def test_message_in_the_doc_is_what_the_code_says(case):
    got = outcome(case)
    assert got == doc_table()[case]
    if not got.startswith("fits"):  # errors must point at the culprit
        assert re.search(r"row \d|column|'IP_|element|sample|y |class|formula|array|feature|^\S+: ",
                         got), got


def test_the_culprit_is_named():
    assert "column 'IP_B' at row 3" in outcome("x-nan")
    assert "at row 4" in outcome("y-nan")
    assert "'Xx'" in outcome("unknown-element")
    assert "'IP_A'" in outcome("duplicate-column")
    assert "['IP_B']" in outcome("string-column")


if __name__ == "__main__":  # print the table for docs/reliability.md
    for key, (what, _) in CASES.items():
        print(f"| `{key}` | {what} | `{outcome(key).replace('|', chr(92) + '|')}` |")
