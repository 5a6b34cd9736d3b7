"""Subgroup-guided discovery: planted rules recovered, verdicts, checkpoints, bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import pytest

from sisso_lite.learning import Campaign, CheckpointError
from sisso_lite.learning.oracles import load_oracle
from sisso_lite.screening._subgroup_guided_rules import PoolLevels, verdict
from sisso_lite.screening.subgroup_guided import (
    RULE_COLUMNS,
    SUMMARY_COLUMNS,
    SubgroupGuidedCampaign,
)
from sisso_lite.subgroups import Rule, Selector

SECONDS = ["fit_seconds", "oracle_seconds"]


@pytest.fixture(scope="module")
def planted() -> tuple[pd.DataFrame, np.ndarray]:
    """400 candidates, 4 uniform features; inside x1 >= 0.6 AND x2 <= 0.4 (73 rows) the
    target is 1.5 higher (noise sd 0.25), so "exceptionally good" means "in the region"."""
    rng = np.random.default_rng(42)
    X = pd.DataFrame(rng.uniform(0, 1, (400, 4)), columns=["x0", "x1", "x2", "x3"])
    inside = ((X["x1"] >= 0.6) & (X["x2"] <= 0.4)).to_numpy()
    y = rng.normal(0, 0.25, 400) + 1.5 * inside
    return X.assign(y=y), inside


KW = dict(target="y", budget=80, n_initial=20, batch_size=5, progress=False)


def _jaccard(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


def test_confirmed_rules_recover_the_planted_region(planted):
    pool, region = planted
    base = region.mean()  # 0.1825: the hit rate of random picks
    for seed in range(3):
        camp = SubgroupGuidedCampaign(pool, random_state=seed, **KW).run()
        h = camp.history_
        assert len(h) == 80 and h["pool_index"].is_unique and (h["status"] == "ok").all()
        guided = h[h["round"] > 0]
        hit_rate = region[guided["pool_index"].to_numpy()].mean()
        assert hit_rate >= 0.3 > 1.6 * base, (seed, hit_rate)  # random: 0.18
        summary = camp.rule_summary_
        assert list(summary.columns) == SUMMARY_COLUMNS
        confirmed = summary[summary["verdict"] == "confirmed"]
        assert len(confirmed) >= 1, summary.head()
        best = confirmed.iloc[0]  # the most tested confirmed rule
        rule = camp.rule(best["rule"])
        assert {(s.feature, s.op) for s in rule.selectors} == {("x1", ">="), ("x2", "<=")}
        th = {s.feature: s.value for s in rule.selectors}
        assert 0.5 <= th["x1"] <= 0.8 and 0.3 <= th["x2"] <= 0.45, str(rule)
        members = rule.covers(pool)
        assert region[members].mean() >= 0.85  # the rule's members are the planted ones
        assert _jaccard(members, region) >= 0.5
        assert best["n_confirmed"] >= 4 and best["confirmed_precision"] >= 0.65
        assert camp.rule(best["query"]) == rule


def test_rule_table_counts_are_consistent(planted):
    pool, _ = planted
    camp = SubgroupGuidedCampaign(pool, random_state=1, **KW).run()
    h, rules, rounds = camp.history_, camp.rules_, camp.rounds_
    assert list(rules.columns) == RULE_COLUMNS
    assert set(h.loc[h["round"] == 0, "rule"]) == {"initial"}
    followed = h[~h["rule"].isin(["initial", "explore"])]
    # every rule pick is recorded against its rule in the round it was made
    picks = rules.groupby(["round", "rule"])["n_picked"].sum()
    counted = followed.groupby(["round", "rule"]).size()
    pd.testing.assert_series_equal(picks[picks > 0], counted, check_names=False)
    assert (rounds["n_rule_picks"].iloc[1:] > 0).all()
    assert (rules["n_confirmed"] <= rules["n_tested"]).all()
    assert (rules["n_unmeasured"] > 0).all()  # only rules with something left to test
    proposed = rules[rules["source"] == "proposed"]
    assert proposed.groupby("round")["rank"].max().le(4).all()  # n_rules = 5
    kept = rules[rules["source"] == "kept"]
    assert len(kept) and (kept["verdict"] == "confirmed").all()
    assert kept["quality"].isna().all()
    tested = rules[rules["n_tested"] > 0]
    np.testing.assert_allclose(tested["confirmed_precision"],
                               tested["n_confirmed"] / tested["n_tested"])
    np.testing.assert_allclose(rules["posterior_mean"], (1 + rules["n_confirmed"])
                               / (2 + rules["n_tested"]))
    # the standard of "good" comes from the random picks: top 10 % of them
    r1 = rounds.iloc[1]
    initial = np.sort(h.loc[h["round"] == 0, "value"].to_numpy())[::-1]
    assert r1["good_threshold"] == initial[1]  # ceil(0.1 * 20) = 2nd best
    assert r1["base_rate"] == pytest.approx(2.5 / 21)


def test_verdict_binomial_tests():
    assert verdict(0, 0, 0.1, 0.5, 0.95)[0] == "untested"
    v, p_above, p_below = verdict(2, 2, 0.1, 0.5, 0.95)
    assert v == "confirmed" and p_above == pytest.approx(0.01) and p_below == 1.0
    v, p_above, p_below = verdict(4, 0, 0.1, 0.6, 0.95)
    assert v == "falsified" and p_above == 1.0 and p_below == pytest.approx(0.4**4)
    v, p_above, _ = verdict(3, 1, 0.1, 0.5, 0.95)
    assert v == "open" and p_above == pytest.approx(1 - 0.9**3)


def test_pool_levels_translate_rules_exactly():
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"a": rng.normal(size=300), "b": rng.integers(0, 4, 300).astype(float),
                      "c": np.ones(300)})
    levels = PoolLevels(X, n_cutpoints=6)
    assert list(levels.levels.columns) == ["a", "b"]  # the constant column is dropped
    assert levels.levels["b"].nunique() == 4 and levels.levels["a"].max() == 6
    for va in range(7):
        for vb in range(4):
            lv = Rule((Selector("a", ">=", va), Selector("b", "<=", vb)))
            np.testing.assert_array_equal(levels.to_pool_rule(lv).covers(X),
                                          lv.covers(levels.levels))


def test_initial_design_equals_campaign_and_minimize(planted):
    pool, region = planted
    flipped = pool.assign(y=-pool["y"])
    sg = SubgroupGuidedCampaign(flipped, goal="minimize", random_state=7, **KW)
    sg.step()
    camp = Campaign(flipped, target="y", goal="minimize", n_initial=20, budget=80,
                    random_state=7, progress=False)
    camp.step()
    assert sg.history_["pool_index"].tolist() == camp.history_["pool_index"].tolist()
    sg.run()
    guided = sg.history_[sg.history_["round"] > 0]
    assert region[guided["pool_index"].to_numpy()].mean() >= 0.3
    assert sg.best_value() == sg.history_["value"].min()


def test_suggest_does_not_change_the_campaign(planted):
    pool, _ = planted
    camp = SubgroupGuidedCampaign(pool, random_state=2, **KW).run(n_rounds=4)
    before = (camp.history_.copy(), dict(camp._registry), camp.rules_.copy())
    s1, s2 = camp.suggest(6), camp.suggest(6)
    pd.testing.assert_frame_equal(s1, s2)
    assert len(s1) == 6 and not set(s1.index) & set(before[0]["pool_index"])
    assert {"rule", "theta", "posterior_mean"} <= set(s1.columns)
    pd.testing.assert_frame_equal(camp.history_, before[0])
    assert camp._registry == before[1]
    pd.testing.assert_frame_equal(camp.rules_, before[2])


def test_failed_measurements_are_recorded_and_never_retried(planted):
    pool, _ = planted
    truth = pool["y"]

    def oracle(rows):
        if 5 in rows.index:
            raise RuntimeError("DFT did not converge for row 5")
        return [np.nan if i % 9 == 0 else truth.loc[i] for i in rows.index]

    camp = SubgroupGuidedCampaign(pool.drop(columns="y"), oracle=oracle, budget=60,
                                  n_initial=20, batch_size=5, random_state=0,
                                  progress=False).run()
    h = camp.history_
    assert len(h) == 60 and h["pool_index"].is_unique  # failures count, none retried
    failed = h[h["status"] == "failed"]
    expected = (h["pool_index"] % 9 == 0) | (h["pool_index"] == 5)
    np.testing.assert_array_equal(h["status"] == "failed", expected)
    assert failed["value"].isna().all() and len(failed) >= 3
    assert set(failed["message"]) <= {"oracle returned nan",
                                      "RuntimeError: DFT did not converge for row 5"}
    ok = h[h["status"] == "ok"]
    np.testing.assert_array_equal(ok["value"], truth.loc[ok["pool_index"]])
    assert (ok["pool_index"] % 9 != 0).all()
    assert camp.rounds_["n_failed"].sum() == len(failed)


def _same(a: SubgroupGuidedCampaign, b: SubgroupGuidedCampaign) -> None:
    pd.testing.assert_frame_equal(a.history_, b.history_)
    pd.testing.assert_frame_equal(a.rules_, b.rules_)
    pd.testing.assert_frame_equal(a.rounds_.drop(columns=SECONDS),
                                  b.rounds_.drop(columns=SECONDS))


def test_resume_in_process_equals_uninterrupted(planted, tmp_path):
    pool, _ = planted
    kw = dict(KW, budget=50, random_state=5)
    full = SubgroupGuidedCampaign(pool, **kw).run()
    ck = tmp_path / "sg.json"
    part = SubgroupGuidedCampaign(pool, checkpoint=ck, **kw).run(n_rounds=3)
    assert len(part.history_) == 30 and (tmp_path / "sg.pool.json").exists()
    resumed = SubgroupGuidedCampaign.resume(ck, progress=False).run()
    _same(resumed, full)
    again = SubgroupGuidedCampaign.resume(ck, progress=False)  # the finished file
    _same(again, full)
    assert again.done
    longer = SubgroupGuidedCampaign.resume(ck, budget=60, progress=False).run()
    assert len(longer.history_) == 60
    pd.testing.assert_frame_equal(longer.history_.iloc[:50], full.history_)


CHILD = """
import sys
import pandas as pd
from sisso_lite.learning.oracles import load_oracle
from sisso_lite.screening.subgroup_guided import SubgroupGuidedCampaign
pool = pd.read_csv(sys.argv[1], index_col=0)
SubgroupGuidedCampaign(pool, oracle=load_oracle(sys.argv[3]), budget=60, n_initial=15,
                       batch_size=3, random_state=11, checkpoint=sys.argv[2],
                       progress=False).run()
"""

ORACLE = """
import time
import numpy as np
import pandas as pd
TABLE = pd.read_csv({table!r}, index_col=0)["y"]
def measure(rows):
    time.sleep(0.15)
    return [np.nan if i % 11 == 0 else TABLE.loc[i] for i in rows.index]
"""


def test_sigkill_mid_campaign_then_resume_gives_the_same_history(planted, tmp_path):
    pool, _ = planted
    table = tmp_path / "truth.csv"
    pool.to_csv(table)
    pool_csv = tmp_path / "pool.csv"
    pool.drop(columns="y").to_csv(pool_csv)
    oracle_py = tmp_path / "oracle.py"
    oracle_py.write_text(ORACLE.format(table=str(table)))
    spec = f"{oracle_py}:measure"
    ck = tmp_path / "killed.json"
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(CHILD))
    proc = subprocess.Popen([sys.executable, str(script), str(pool_csv), str(ck), spec])
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if ck.exists():
            try:
                if len(json.loads(ck.read_text())["rounds"]) >= 4:
                    break
            except (json.JSONDecodeError, KeyError):
                pytest.fail("the checkpoint was read half-written")
        time.sleep(0.02)
    assert proc.poll() is None, "the child finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    killed = json.loads(ck.read_text())
    assert 4 <= len(killed["rounds"]) < 16
    with pytest.raises(ValueError, match="pass oracle="):
        SubgroupGuidedCampaign.resume(ck)
    oracle = load_oracle(spec)
    resumed = SubgroupGuidedCampaign.resume(ck, oracle=oracle, progress=False).run()
    full = SubgroupGuidedCampaign(pd.read_csv(pool_csv, index_col=0), oracle=oracle,
                                  budget=60, n_initial=15, batch_size=3, random_state=11,
                                  progress=False).run()
    _same(resumed, full)
    assert (full.history_["status"] == "failed").any()
    before = [r["position"] for r in killed["records"]]
    assert resumed.history_["pool_index"].iloc[:len(before)].tolist() == before


def test_bad_input_names_the_problem(planted, tmp_path):
    pool, _ = planted
    make = SubgroupGuidedCampaign
    with pytest.raises(ValueError, match="give target="):
        make(pool)
    with pytest.raises(ValueError, match="target column 'z' is not in the pool"):
        make(pool, target="z")
    with pytest.raises(ValueError, match="budget=401 is larger than the 400"):
        make(pool, target="y", budget=401)
    with pytest.raises(ValueError, match="exploration must be a number in \\[0, 1\\]"):
        make(pool, target="y", exploration=1.5)
    with pytest.raises(ValueError, match="good_fraction must be a number in \\(0, 1\\)"):
        make(pool, target="y", good_fraction=0)
    with pytest.raises(ValueError, match="within_rule must be one of"):
        make(pool, target="y", within_rule="closest")
    with pytest.raises(ValueError, match="threshold must be a finite number"):
        make(pool, target="y", threshold=float("nan"))
    with pytest.raises(ValueError, match="prior must be two positive numbers"):
        make(pool, target="y", prior=(1, 0))
    with pytest.raises(ValueError, match="confidence must be a number in \\(0, 1\\)"):
        make(pool, target="y", confidence=1)
    with pytest.raises(ValueError, match="coverage_exponent must be a number in \\[0, 1\\]"):
        make(pool, target="y", coverage_exponent=True)
    with pytest.raises(TypeError, match="oracle must be callable"):
        make(pool, oracle="not callable")
    bad = pool.copy()
    bad.loc[7, "x2"] = np.nan
    with pytest.raises(ValueError, match="feature column 'x2' has 1 non-finite.*\\[7\\]"):
        make(bad, target="y")
    with pytest.raises(ValueError, match="every feature column is constant"):
        make(pool.assign(x0=1.0, x1=2.0, x2=0.0, x3=5.0), target="y")
    ck = tmp_path / "c.json"
    make(pool, checkpoint=ck, random_state=0, **KW).run(n_rounds=2)
    with pytest.raises(ValueError, match="retrospective campaign"):
        SubgroupGuidedCampaign.resume(ck, oracle=lambda rows: [0.0] * len(rows))
    with pytest.raises(CheckpointError, match="given pool differs"):
        SubgroupGuidedCampaign.resume(ck, pool=pool.assign(y=pool["y"] + 1))
    with pytest.raises(ValueError, match="budget=10 is below the 25 measurements"):
        SubgroupGuidedCampaign.resume(ck, budget=10)
    text = ck.read_text()
    ck.write_text(text[: len(text) // 2])
    with pytest.raises(CheckpointError, match=f"{ck}:\\d+: corrupt checkpoint"):
        SubgroupGuidedCampaign.resume(ck)
    with pytest.raises(CheckpointError, match="checkpoint file not found"):
        SubgroupGuidedCampaign.resume(tmp_path / "missing.json")
    with pytest.raises(KeyError, match="no rule 'x9 >= 1' was proposed"):
        make(pool, random_state=0, **KW).rule("x9 >= 1")
