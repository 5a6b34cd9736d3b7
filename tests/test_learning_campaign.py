"""Campaign loop: retrospective runs, oracles and failures, checkpoints and resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sisso_lite.datasets import load_oer_plate
from sisso_lite.learning import Campaign, CheckpointError
from sisso_lite.learning.checkpoint import atomic_write_json
from sisso_lite.learning.metrics import top_fraction_mask

TIMING = ["fit_seconds", "acquisition_seconds"]


@pytest.fixture(scope="module")
def plate() -> pd.DataFrame:
    X, y = load_oer_plate("A")
    pool = X.assign(overpotential_V=y)
    return pool.iloc[::7].copy()  # 303 compositions, every 7th of the plate


def _same(h1: pd.DataFrame, h2: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(h1.drop(columns=TIMING), h2.drop(columns=TIMING))


def test_retrospective_run_reveals_the_answer_key(plate):
    camp = Campaign(plate, target="overpotential_V", surrogate="rf", goal="minimize",
                    budget=25, n_initial=10, batch_size=5, random_state=0, progress=False)
    camp.run()
    h = camp.history_
    assert len(h) == 25 and h["pool_index"].is_unique
    assert (h["status"] == "ok").all()
    np.testing.assert_array_equal(h["value"], plate.loc[h["pool_index"], "overpotential_V"])
    assert h["best_so_far"].is_monotonic_decreasing
    assert h["best_so_far"].iloc[-1] == h["value"].min()
    assert list(camp.rounds_["n_measured"]) == [10, 15, 20, 25]
    assert h.loc[h["round"] > 0, "pred_std"].gt(0).all()
    assert h.loc[h["round"] == 0, "pred_mean"].isna().all()
    assert camp.rounds_["rmse_unmeasured"].iloc[1:].between(0, 0.2).all()
    assert camp.done and camp.step().empty


def test_sisso_campaign_recovers_a_planted_law_and_beats_random():
    """On real plate-A compositions with a planted target law, EI with the SISSO ensemble
    writes the law down and finds many of the top-1 % rows; random picks find ~0.4."""
    X, _ = load_oer_plate("A")
    law = X["fe_load"] * X["co_load"] + 0.5 * X["ni_load"] ** 2
    pool = X.assign(law=law)
    good = top_fraction_mask(law.to_numpy(), 0.01, "maximize")  # 23 rows
    kwargs = dict(target="law", budget=40, batch_size=10, progress=False,
                  batch_strategy="top")
    found = {"ei": [], "random": []}
    for seed in range(2):
        for acq in found:
            camp = Campaign(pool, acquisition=acq, random_state=seed, **kwargs).run()
            found[acq].append(int(good[pool.index.get_indexer(
                camp.history_["pool_index"])].sum()))
            if acq == "ei":  # the last surrogate has (nearly) the law
                assert "fe_load*co_load" in camp.history_["formula"].iloc[-1]
                pred = camp.model_.predict(X)
                assert 1 - np.var(pred - law) / np.var(law) > 0.95  # R2 over the pool
    assert min(found["ei"]) >= 6 and max(found["random"]) <= 3, found


def test_resume_in_process_equals_uninterrupted(plate, tmp_path):
    kwargs = dict(target="overpotential_V", goal="minimize", budget=22, n_initial=10,
                  batch_size=3, random_state=4, progress=False, batch_strategy="believer")
    full = Campaign(plate, **kwargs).run()
    ck = tmp_path / "camp.json"
    part = Campaign(plate, checkpoint=ck, **kwargs).run(n_rounds=2)
    assert len(part.history_) == 13
    resumed = Campaign.resume(ck, progress=False).run()
    _same(resumed.history_, full.history_)
    assert (tmp_path / "camp.pool.json").exists()


CHILD = """
import sys, time
import pandas as pd
from sisso_lite.learning import Campaign
pool = pd.read_csv(sys.argv[1], index_col=0)
camp = Campaign(pool, oracle=sys.argv[3], features=[c for c in pool if c.endswith("_load")],
                surrogate="rf", goal="minimize", budget=30, n_initial=6, batch_size=3,
                random_state=11, checkpoint=sys.argv[2], progress=False)
camp.run()
"""

ORACLE = """
import time
import pandas as pd
TABLE = pd.read_csv({table!r}, index_col=0)["overpotential_V"]
def measure(rows):
    time.sleep(0.05)
    return [TABLE.loc[i] for i in rows.index]
"""


def test_sigkill_mid_campaign_then_resume_gives_the_same_history(plate, tmp_path):
    table = tmp_path / "plate.csv"
    plate.to_csv(table)
    pool_csv = tmp_path / "pool.csv"
    plate.drop(columns="overpotential_V").to_csv(pool_csv)
    oracle_py = tmp_path / "oracle.py"
    oracle_py.write_text(ORACLE.format(table=str(table)))
    spec = f"{oracle_py}:measure"
    ck = tmp_path / "killed.json"
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(CHILD))
    proc = subprocess.Popen([sys.executable, str(script), str(pool_csv), str(ck), spec])
    deadline = time.time() + 120
    n_rounds = 0
    while time.time() < deadline and proc.poll() is None:
        if ck.exists():
            try:
                n_rounds = len(json.loads(ck.read_text())["rounds"])
            except (json.JSONDecodeError, KeyError):
                pytest.fail("the checkpoint was read half-written")
            if n_rounds >= 3:
                break
        time.sleep(0.02)
    assert proc.poll() is None, "the child finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    killed = json.loads(ck.read_text())
    assert 3 <= len(killed["rounds"]) < 9
    resumed = Campaign.resume(ck, progress=False).run()
    pool = pd.read_csv(pool_csv, index_col=0)
    full = Campaign(pool, oracle=spec, features=list(pool.columns), surrogate="rf",
                    goal="minimize", budget=30, n_initial=6, batch_size=3, random_state=11,
                    progress=False).run()
    _same(resumed.history_, full.history_)
    # nothing measured before the kill is lost or re-measured
    before = [r["position"] for r in killed["records"]]
    assert resumed.history_["pool_index"].iloc[:len(before)].tolist() == \
        pool.index[before].tolist()


def test_pending_batch_is_measured_after_a_crash_in_the_oracle(plate, tmp_path):
    calls = []

    def crashing(rows):
        calls.append(list(rows.index))
        if len(calls) == 3:
            raise SystemExit("machine went down")  # not an Exception: the loop dies
        return rows["overpotential_V"].tolist()

    ck = tmp_path / "c.json"
    kwargs = dict(features=[c for c in plate if c.endswith("_load")], surrogate="rf",
                  goal="minimize", budget=16, n_initial=6, batch_size=5, random_state=2,
                  progress=False)
    camp = Campaign(plate, oracle=crashing, checkpoint=ck, **kwargs)
    with pytest.raises(SystemExit):
        camp.run()
    pending = json.loads(ck.read_text())["pending"]
    assert pending is not None and plate.index[pending["positions"]].tolist() == calls[2]
    with pytest.raises(ValueError, match="pass oracle="):
        Campaign.resume(ck)
    again = []

    def oracle(rows):
        again.append(list(rows.index))
        return rows["overpotential_V"].tolist()

    resumed = Campaign.resume(ck, oracle=oracle, progress=False).run()
    assert again[0] == calls[2]  # the same batch, not a new choice
    assert len(resumed.history_) == 16


def test_failed_measurements_are_recorded_and_the_loop_goes_on(plate):
    bad = set(plate.index[::3])

    def oracle(rows):
        out = []
        for i, row in rows.iterrows():
            if i in bad and i % 2:
                raise RuntimeError(f"SCF did not converge for {i}")
            out.append(np.nan if i in bad else row["overpotential_V"])
        return out

    camp = Campaign(plate, oracle=oracle, features=[c for c in plate if c.endswith("_load")],
                    surrogate="rf", budget=20, n_initial=8, batch_size=4, random_state=3,
                    goal="minimize", progress=False).run()
    h = camp.history_
    assert len(h) == 20
    failed = h[h["status"] == "failed"]
    assert len(failed) > 0 and failed["value"].isna().all()
    assert failed["message"].str.contains("SCF did not converge|returned nan").all()
    assert set(failed["pool_index"]) <= bad
    assert camp.rounds_["n_failed"].sum() == len(failed)


def test_prior_values_with_an_oracle_and_human_in_the_loop(plate):
    pool = plate.copy()
    known = pool.index[:12]
    pool.loc[~pool.index.isin(known), "overpotential_V"] = np.nan
    truth = plate["overpotential_V"]
    camp = Campaign(pool, target="overpotential_V", oracle=lambda r: truth.loc[r.index],
                    surrogate="rf", budget=6, batch_size=3, random_state=0, goal="minimize",
                    progress=False).run()
    h = camp.history_
    assert (h["status"] == "prior").sum() == 12 and camp.n_measured == 6
    assert not h.loc[h["status"] == "ok", "pool_index"].isin(known).any()

    human = Campaign(plate.drop(columns="overpotential_V"), surrogate="rf", random_state=0,
                     goal="minimize", budget=20, batch_size=4, progress=False)
    first = human.suggest()
    assert len(first) == 4  # no data yet: a random initial design
    human.tell(first.index, truth.loc[first.index])
    human.tell(plate.index[100:104], truth.iloc[100:104])
    nxt = human.suggest(3)
    assert len(nxt) == 3 and not nxt.index.isin(human.history_["pool_index"]).any()
    assert nxt["pred_std"].notna().all()
    assert nxt.equals(human.suggest(3))  # suggesting changes nothing
    with pytest.raises(RuntimeError, match="suggest"):
        human.step()
    with pytest.raises(ValueError, match="already measured"):
        human.tell(first.index[:1], [0.4])


@pytest.mark.parametrize("strategy", ["believer", "liar", "thompson", "top"])
def test_batch_strategies_pick_distinct_rows(plate, strategy):
    camp = Campaign(plate, target="overpotential_V", surrogate="rf", goal="minimize",
                    acquisition="thompson" if strategy == "thompson" else "ucb",
                    batch_strategy=strategy, budget=16, n_initial=8, batch_size=4,
                    random_state=5, progress=False).run()
    h = camp.history_
    assert h["pool_index"].is_unique and len(h) == 16
    if strategy == "believer":
        assert camp.rounds_["fit_seconds"].iloc[1] > 0


def test_constrained_acquisition_avoids_infeasible_rows(plate):
    pool = plate.assign(p_ok=np.where(plate["la_load"] > 0, 0.0, 1.0))
    camp = Campaign(pool, target="overpotential_V", features=[c for c in plate
                                                              if c.endswith("_load")],
                    acquisition="constrained", feasibility="p_ok", surrogate="rf",
                    goal="minimize", budget=20, n_initial=8, batch_size=4, random_state=0,
                    progress=False).run()
    later = camp.history_[camp.history_["round"] > 0]
    assert (pool.loc[later["pool_index"], "la_load"] == 0).all()


def test_gp_preset_and_surrogates_without_std(plate):
    from sklearn.linear_model import LinearRegression

    gp = Campaign(plate, target="overpotential_V", surrogate="gp", goal="minimize",
                  budget=14, n_initial=10, batch_size=2, random_state=0,
                  progress=False).run()
    assert gp.history_["pred_std"].iloc[-1] > 0
    with pytest.raises(TypeError, match="return_std"):
        Campaign(plate, target="overpotential_V", surrogate=LinearRegression(), budget=12,
                 progress=False).run()


def test_progress_bar_only_when_asked(plate, capsys):
    kwargs = dict(target="overpotential_V", surrogate="rf", budget=12, n_initial=10,
                  batch_size=2, random_state=0)
    Campaign(plate, progress=False, **kwargs).run()
    assert capsys.readouterr().err == ""
    Campaign(plate, progress=True, **kwargs).run()
    err = capsys.readouterr().err
    assert "campaign" in err and "best=" in err


def test_bad_input_names_the_problem(plate, tmp_path):
    t = "overpotential_V"
    with pytest.raises(ValueError, match="empty"):
        Campaign(plate.iloc[:0], target=t)
    with pytest.raises(ValueError, match=r"lacks the feature columns \['r_s'\]"):
        Campaign(plate, target=t, features=["ni_load", "r_s"])
    with pytest.raises(ValueError, match="budget=400 is larger than the 303"):
        Campaign(plate, target=t, budget=400)
    with pytest.raises(ValueError, match="duplicate labels"):
        Campaign(pd.concat([plate.iloc[:5], plate.iloc[:5]]), target=t, budget=3)
    with pytest.raises(ValueError, match="duplicate ids"):
        Campaign(plate.assign(name="x"), target=t, id_column="name", budget=3)
    with pytest.raises(ValueError, match="'ni_load' has 1 non-finite"):
        Campaign(plate.assign(ni_load=plate["ni_load"].where(plate.index != plate.index[4])),
                 target=t)
    with pytest.raises(ValueError, match="target column 'eta'"):
        Campaign(plate, target="eta")
    with pytest.raises(ValueError, match="unknown|valid"):
        Campaign(plate, target=t, acquisition="expected-awesomeness")
    with pytest.raises(ValueError, match="goal"):
        Campaign(plate, target=t, goal="max")
    # NaN targets are unmeasured rows: allowed, and never picked in a retrospective run
    holes = plate.assign(**{t: plate[t].where(plate["la_load"] == 0)})
    camp = Campaign(holes, target=t, surrogate="rf", budget=12, random_state=0,
                    progress=False).run()
    assert holes.loc[camp.history_["pool_index"], t].notna().all()


def test_corrupt_or_foreign_checkpoints_are_refused(plate, tmp_path):
    ck = tmp_path / "c.json"
    Campaign(plate, target="overpotential_V", surrogate="rf", budget=12, n_initial=10,
             batch_size=2, random_state=0, checkpoint=ck, progress=False).run(n_rounds=1)
    text = ck.read_text()
    ck.write_text(text[: len(text) // 2])
    with pytest.raises(CheckpointError, match=r"c\.json:\d+: corrupt checkpoint"):
        Campaign.resume(ck)
    ck.write_text(json.dumps({"format": "something else"}))
    with pytest.raises(CheckpointError, match="not a sisso-lite campaign checkpoint"):
        Campaign.resume(ck)
    ck.write_text(text)
    other = plate.assign(ni_load=plate["ni_load"] * 1.0001)
    with pytest.raises(CheckpointError, match="differs"):
        Campaign.resume(ck, pool=other)
    assert len(Campaign.resume(ck, pool=plate, progress=False).history_) == 10


def test_atomic_write_keeps_the_old_file_when_interrupted(tmp_path, monkeypatch):
    path = tmp_path / "state.json"
    atomic_write_json(path, {"a": 1})

    def boom(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_json(path, {"a": 2, "b": [1.5, float("nan")]})
    assert json.loads(path.read_text()) == {"a": 1}
    assert [p.name for p in Path(tmp_path).iterdir()] == ["state.json"]


def test_wrong_acquisition_params_fail_before_anything_is_measured(plate):
    with pytest.raises(ValueError, match="acquisition_params"):
        Campaign(plate, target="overpotential_V", acquisition="ei",
                 acquisition_params={"kappa": 2.0})
    with pytest.raises(ValueError, match="acquisition_params"):
        Campaign(plate, target="overpotential_V", acquisition="window")


def test_resume_can_extend_the_budget_and_refuses_a_new_oracle(plate, tmp_path):
    ck = tmp_path / "c.json"
    kwargs = dict(target="overpotential_V", surrogate="rf", n_initial=10, batch_size=2,
                  random_state=0, progress=False)
    Campaign(plate, budget=12, checkpoint=ck, **kwargs).run()
    with pytest.raises(ValueError, match="retrospective campaign"):
        Campaign.resume(ck, oracle=lambda rows: [0.4] * len(rows))
    with pytest.raises(ValueError, match="below the 12 measurements"):
        Campaign.resume(ck, budget=8)
    longer = Campaign.resume(ck, budget=16, progress=False).run()
    _same(longer.history_, Campaign(plate, budget=16, **kwargs).run().history_)


def test_suggest_uses_the_model_when_prior_values_exist(plate):
    pool = plate.copy()
    pool.loc[pool.index[20:], "overpotential_V"] = np.nan
    camp = Campaign(pool, target="overpotential_V", oracle=lambda r: [0.4] * len(r),
                    surrogate="rf", budget=5, random_state=0, progress=False)
    picks = camp.suggest(4)
    assert picks["pred_std"].notna().all() and (picks["note"] == "surrogate").all()
    assert not picks.index.isin(pool.index[:20]).any()


def test_sisso_surrogate_fits_from_a_tiny_initial_design(plate):
    """Bootstrap samples with too few distinct rows are redrawn, not fatal."""
    camp = Campaign(plate, target="overpotential_V", features=["ni_load", "fe_load",
                                                               "co_load"],
                    n_initial=8, budget=9, random_state=1, goal="minimize",
                    progress=False).run()
    assert len(camp.history_) == 9 and np.isfinite(camp.history_["pred_mean"].iloc[-1])


def test_feasibility_from_a_fitted_classifier(plate):
    """P(feasible) from predict_proba of a classifier trained elsewhere (P(FM) x EI)."""
    from sklearn.linear_model import LogisticRegression

    features = [c for c in plate if c.endswith("_load")]
    label = (plate["la_load"] == 0).to_numpy()
    clf = LogisticRegression(C=100.0).fit(plate[features], label)
    camp = Campaign(plate, target="overpotential_V", features=features, surrogate="rf",
                    acquisition="constrained", feasibility=clf, goal="minimize", budget=20,
                    n_initial=8, batch_size=4, random_state=1, progress=False).run()
    later = camp.history_[camp.history_["round"] > 0]
    p = clf.predict_proba(plate.loc[later["pool_index"], features])[:, 1]
    assert (p > 0.5).mean() >= 0.75  # picks avoid what the classifier calls infeasible
    with pytest.raises(TypeError, match="feasibility must be"):
        Campaign(plate, target="overpotential_V", acquisition="constrained", feasibility=3.0,
                 surrogate="rf", budget=12, progress=False).run()
