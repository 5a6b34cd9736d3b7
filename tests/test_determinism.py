"""Same seed, same result for any ``n_jobs``; a campaign killed at any save resumes exactly.

Ensemble members for n_jobs=1/2 are checked in ``tests/test_ensemble.py``
(``test_deterministic_regardless_of_n_jobs``), a SIGKILL of a running campaign and a crash
inside the oracle in ``tests/test_learning_campaign.py``; this file adds the regressor, the
retrospective benchmark, and an interruption at *every* checkpoint write.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sisso_lite.learning.campaign as campaign_module
from sisso_lite.datasets import load_octet_binaries, load_oer_plate
from sisso_lite.estimators import SissoRegressor
from sisso_lite.learning import Campaign
from sisso_lite.learning.retrospective import run_retrospective

TIMING = ["fit_seconds", "acquisition_seconds", "oracle_seconds", "wall_seconds"]


@pytest.fixture(scope="module")
def plate() -> pd.DataFrame:
    X, y = load_oer_plate("A")
    return X.assign(overpotential_V=y).iloc[::20].copy()


def _drop_timing(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns=[c for c in df.columns if c in TIMING or "seconds" in c])


def test_regressor_is_bit_identical_for_n_jobs_1_and_2():
    X, y, _, _ = load_octet_binaries()
    kw = dict(n_dim=2, max_complexity=2, n_sis=20, n_models=3)
    a = SissoRegressor(n_jobs=1, **kw).fit(X, y)
    b = SissoRegressor(n_jobs=2, **kw).fit(X, y)
    assert a.descriptors_ == b.descriptors_
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert a.intercept_ == b.intercept_
    pd.testing.assert_frame_equal(a.models_, b.models_)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))


def test_retrospective_histories_are_identical_for_n_jobs_1_and_2(plate):
    strategies = {"rf-ei": {"surrogate": "rf", "acquisition": "ei"},
                  "random": {"acquisition": "random"}}
    kw = dict(seeds=[0, 1], goal="minimize", budget=14, n_initial=8, batch_size=3)
    t1, r1 = run_retrospective(plate, "overpotential_V", strategies, n_jobs=1, **kw)
    t2, r2 = run_retrospective(plate, "overpotential_V", strategies, n_jobs=2, **kw)
    pd.testing.assert_frame_equal(_drop_timing(t1), _drop_timing(t2))
    pd.testing.assert_frame_equal(_drop_timing(r1), _drop_timing(r2))
    assert len(t1) > 0


CAMPAIGN = dict(target="overpotential_V", goal="minimize", surrogate="rf", budget=12,
                n_initial=6, batch_size=3, random_state=3, progress=False)


class _Killed(BaseException):
    """Stands in for SIGKILL: not an Exception, so nothing in the campaign catches it."""


def _n_saves(plate, tmp_path) -> int:
    calls = []
    real = campaign_module.atomic_write_json

    def counting(path, payload):
        calls.append(path)
        real(path, payload)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(campaign_module, "atomic_write_json", counting)
        Campaign(plate, checkpoint=tmp_path / "count.json", **CAMPAIGN).run()
    return len(calls)


def test_kill_at_every_checkpoint_write_then_resume_loses_nothing(plate, tmp_path):
    full = Campaign(plate, **CAMPAIGN).run()
    n = _n_saves(plate, tmp_path)
    assert n >= 6  # the initial design, then pick + measurement of each round
    real = campaign_module.atomic_write_json
    for kill_at in range(1, n + 1):
        for before_write in (True, False):
            ck = tmp_path / f"k{kill_at}{'b' if before_write else 'a'}.json"
            count = [0]

            def dying(path, payload, kill_at=kill_at, before_write=before_write, count=count):
                count[0] += 1
                if count[0] == kill_at and before_write:
                    raise _Killed
                real(path, payload)
                if count[0] == kill_at:
                    raise _Killed

            with pytest.MonkeyPatch.context() as mp:
                mp.setattr(campaign_module, "atomic_write_json", dying)
                with pytest.raises(_Killed):
                    Campaign(plate, checkpoint=ck, **CAMPAIGN).run()
            if not ck.exists():  # killed before the first checkpoint: start again
                resumed = Campaign(plate, checkpoint=ck, **CAMPAIGN).run()
            else:
                resumed = Campaign.resume(ck, progress=False).run()
            pd.testing.assert_frame_equal(_drop_timing(resumed.history_),
                                          _drop_timing(full.history_),
                                          obj=f"kill at write {kill_at} "
                                              f"({'before' if before_write else 'after'})")
