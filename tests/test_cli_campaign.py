"""``sisso-lite campaign``: retrospective, oracle, resume and suggest runs, and its errors.

The CLI runs in-process through :func:`sisso_lite.cli.main` (plus one real subprocess), on
303 rows of the bundled Rohr et al. (2020) OER plate A with the fast random-forest surrogate.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sisso_lite.cli import main
from sisso_lite.datasets import load_oer_plate
from sisso_lite.learning import Campaign

TARGET = "overpotential_V"
FAST = ["--surrogate", "rf", "--no-progress"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def pool() -> pd.DataFrame:
    X, y = load_oer_plate("A")
    df = X.assign(**{TARGET: y}).iloc[::7].reset_index(drop=True)  # 303 compositions
    df["sample"] = [f"A{i:04d}" for i in range(len(df))]
    return df


@pytest.fixture(scope="module")
def pool_csv(pool, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("pool") / "plate_A.csv"
    pool.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def features(pool) -> list[str]:
    return [c for c in pool.columns if c.endswith("_load")]


def _run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _assert_one_line_error(code: int, err: str, pattern: str, expected_code: int = 2) -> None:
    assert code == expected_code, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sisso-lite campaign: error: "), err
    assert "Traceback" not in err
    assert re.search(pattern, lines[0]), lines[0]


def _read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, float_precision="round_trip", keep_default_na=False,
                       na_values=[""])


# ----------------------------------------------------------------------------- retrospective
def test_retrospective_run_writes_history_rounds_and_plot(pool, pool_csv, tmp_path, capsys):
    out = tmp_path / "run"
    code, stdout, _ = _run(capsys, "campaign", pool_csv, "--target", TARGET, "--id-column",
                           "sample", "--goal", "minimize", "--n-initial", "5", "--budget", "12",
                           "--batch-size", "2", "--seed", "3", "--output-dir", out, *FAST)
    assert code == 0
    history = _read_csv(out / "history.csv")
    rounds = _read_csv(out / "rounds.csv")
    assert len(history) == 12 and history["pool_index"].is_unique
    assert (history["status"] == "ok").all()
    # the answer key is revealed row by row: value = the CSV's target of that row
    np.testing.assert_array_equal(history["value"], pool.loc[history["pool_index"], TARGET])
    assert list(history["sample"]) == list(pool.loc[history["pool_index"], "sample"])
    assert history["best_so_far"].is_monotonic_decreasing
    assert list(rounds["n_measured"]) == [5, 7, 9, 11, 12]  # 5 initial, batches of 2, rest 1
    assert (out / "best_so_far.png").read_bytes()[:8] == PNG_MAGIC
    assert (out / "checkpoint.json").is_file() and (out / "checkpoint.pool.json").is_file()

    # the options reach Campaign: the same campaign from Python picks the same rows
    ref = Campaign(pool, target=TARGET, id_column="sample", surrogate="rf", goal="minimize",
                   n_initial=5, budget=12, batch_size=2, random_state=3, progress=False).run()
    assert list(history["pool_index"]) == list(ref.history_["pool_index"])

    best = history.loc[history["value"].idxmin()]
    assert "measured 12 of budget 12 in 5 round(s), 0 failed" in stdout
    assert f"best value {best['value']:.6g} at pool index {best['pool_index']} " \
           f"(id {best['sample']})" in stdout
    assert "last formula: (none)" in stdout  # a random forest has no formula
    assert str(out / "history.csv") in stdout and str(out / "best_so_far.png") in stdout


def test_existing_checkpoint_is_not_overwritten(pool_csv, tmp_path, capsys):
    args = ["campaign", pool_csv, "--target", TARGET, "--n-initial", "3", "--budget", "4",
            "--seed", "0", "--output-dir", tmp_path, *FAST]
    assert _run(capsys, *args)[0] == 0
    before = (tmp_path / "checkpoint.json").read_text()
    code, _, err = _run(capsys, *args)
    _assert_one_line_error(code, err, r"checkpoint exists already; continue it with --resume")
    assert (tmp_path / "checkpoint.json").read_text() == before


def test_sisso_surrogate_reports_its_formula(pool_csv, features, tmp_path, capsys):
    code, stdout, _ = _run(capsys, "campaign", pool_csv, "--target", TARGET, "--features",
                           ",".join(features[:3]), "--goal", "minimize", "--n-initial", "15",
                           "--budget", "16", "--seed", "1", "--output-dir", tmp_path,
                           "--no-progress")
    assert code == 0
    history = _read_csv(tmp_path / "history.csv")
    formula = history["formula"].dropna().iloc[-1]
    assert "_load" in formula
    assert f"last formula: {formula}" in stdout


# ----------------------------------------------------------------------------- resume
def test_resume_a_partial_run_finishes_the_budget(pool, tmp_path, capsys):
    kwargs = dict(target=TARGET, surrogate="rf", goal="minimize", n_initial=4, budget=10,
                  batch_size=2, random_state=5, progress=False)
    ck = tmp_path / "camp" / "ck.json"
    part = Campaign(pool, checkpoint=ck, **kwargs).run(n_rounds=2)
    assert len(part.history_) == 6
    code, stdout, _ = _run(capsys, "campaign", "--resume", ck, "--no-progress")
    assert code == 0
    history = _read_csv(ck.parent / "history.csv")  # default: the checkpoint's folder
    assert len(history) == 10 and history["pool_index"].is_unique
    full = Campaign(pool, **kwargs).run()
    assert list(history["pool_index"]) == list(full.history_["pool_index"])
    assert "measured 10 of budget 10" in stdout
    # a finished campaign resumes to the same outputs, here into another folder
    code, _, _ = _run(capsys, "campaign", "--resume", ck, "--output-dir", tmp_path / "again",
                      "--no-progress")
    assert code == 0
    again = _read_csv(tmp_path / "again" / "history.csv")
    assert list(again["pool_index"]) == list(history["pool_index"])


def test_interrupted_cli_run_resumes_exactly(pool, pool_csv, tmp_path, capsys, monkeypatch):
    calls = {"n": 0}
    real_step = Campaign.step

    def step_then_interrupt(self):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real_step(self)

    out = tmp_path / "run"
    args = ["--target", TARGET, "--goal", "minimize", "--n-initial", "4", "--budget", "8",
            "--seed", "9", *FAST]
    monkeypatch.setattr(Campaign, "step", step_then_interrupt)
    code, _, err = _run(capsys, "campaign", pool_csv, *args, "--output-dir", out)
    assert code == 130
    assert f"interrupted after 5 measurement(s); continue with: sisso-lite campaign " \
           f"--resume {out / 'checkpoint.json'}" in err
    monkeypatch.setattr(Campaign, "step", real_step)
    assert _run(capsys, "campaign", "--resume", out / "checkpoint.json", "--no-progress")[0] == 0
    uninterrupted = tmp_path / "full"
    assert _run(capsys, "campaign", pool_csv, *args, "--output-dir", uninterrupted)[0] == 0
    resumed = _read_csv(out / "history.csv")
    full = _read_csv(uninterrupted / "history.csv")
    assert len(resumed) == 8
    assert list(resumed["pool_index"]) == list(full["pool_index"])
    np.testing.assert_array_equal(resumed["value"], full["value"])


# ----------------------------------------------------------------------------- oracle
ORACLE = """
import numpy as np

def measure(rows):
    if (rows["la_load"] >= 0.5).any():
        raise RuntimeError("furnace broke")
    return rows["ni_load"] - 0.5 * rows["fe_load"]
"""


def test_oracle_from_a_python_file(pool, pool_csv, features, tmp_path, capsys, monkeypatch):
    (tmp_path / "my_oracle.py").write_text(textwrap.dedent(ORACLE))
    monkeypatch.chdir(tmp_path)  # a relative path, as a user would type it
    code, stdout, _ = _run(capsys, "campaign", pool_csv, "--oracle", "my_oracle.py:measure",
                           "--features", ",".join(features), "--acquisition", "ucb",
                           "--kappa", "1.5", "--n-initial", "30", "--budget", "34",
                           "--seed", "2", *FAST)
    assert code == 0
    out = tmp_path / "campaign_output"  # the default output folder
    history = _read_csv(out / "history.csv")
    assert len(history) == 34
    rows = pool.loc[history["pool_index"]]
    failed = (rows["la_load"] >= 0.5).to_numpy()
    assert failed.any() and not failed.all()  # 30 random picks of this pool hit both cases
    assert list(history["status"]) == ["failed" if f else "ok" for f in failed]
    assert history.loc[failed, "message"].str.contains("furnace broke").all()
    expected = (rows["ni_load"] - 0.5 * rows["fe_load"]).to_numpy()
    np.testing.assert_array_equal(history.loc[~failed, "value"], expected[~failed])
    assert f"measured 34 of budget 34 in 5 round(s), {int(failed.sum())} failed" in stdout
    config = json.loads((out / "checkpoint.json").read_text())["config"]
    assert config["oracle"] == f"{tmp_path / 'my_oracle.py'}:measure"  # made absolute
    assert config["acquisition_params"] == {"kappa": 1.5}
    assert TARGET not in config["features"]


def test_oracle_with_prior_values(pool, features, tmp_path, capsys):
    (tmp_path / "my_oracle.py").write_text(textwrap.dedent(ORACLE))
    partial = pool.copy()
    partial.loc[20:, TARGET] = np.nan  # rows 0-19 measured before
    path = tmp_path / "partial.csv"
    partial.to_csv(path, index=False)
    code, stdout, _ = _run(capsys, "campaign", path, "--target", TARGET, "--oracle",
                           f"{tmp_path / 'my_oracle.py'}:measure", "--id-column", "sample",
                           "--budget", "3", "--output-dir", tmp_path / "out", *FAST)
    assert code == 0
    history = _read_csv(tmp_path / "out" / "history.csv")
    assert list(history["status"].iloc[:20]) == ["prior"] * 20
    assert len(history) == 23 and (history["pool_index"].iloc[20:] >= 20).all()
    assert "measured 3 of budget 3" in stdout and "20 prior value(s)" in stdout


# ----------------------------------------------------------------------------- suggest
def test_suggest_writes_the_next_picks_of_the_measured_rows(pool, tmp_path, capsys):
    partial = pool.copy()
    partial.loc[40:, TARGET] = np.nan
    path = tmp_path / "partial.csv"
    partial.to_csv(path, index=False)
    out = tmp_path / "sg"
    code, stdout, _ = _run(capsys, "campaign", path, "--target", TARGET, "--id-column", "sample",
                           "--goal", "minimize", "--suggest", "3", "--seed", "4",
                           "--output-dir", out, "--surrogate", "rf")
    assert code == 0
    picks = _read_csv(out / "suggestions.csv")
    assert len(picks) == 3 and picks["pool_index"].is_unique
    assert (picks["pool_index"] >= 40).all()  # only unmeasured rows are suggested
    assert np.isfinite(picks[["pred_mean", "pred_std", "acquisition"]].to_numpy()).all()
    assert list(picks["sample"]) == list(pool.loc[picks["pool_index"], "sample"])
    assert TARGET not in picks.columns
    assert not (out / "history.csv").exists() and not (out / "checkpoint.json").exists()
    assert "next 3 of 263 unmeasured candidates (40 measured" in stdout
    # the same as the Python human-in-the-loop API
    camp = Campaign(partial.drop(columns=TARGET), surrogate="rf", goal="minimize",
                    id_column="sample", n_initial=1, budget=len(partial), random_state=4,
                    progress=False)
    camp.tell(partial.index[:40], partial[TARGET].iloc[:40])
    assert list(picks["pool_index"]) == list(camp.suggest(3).index)


def test_suggest_without_measurements_is_random(pool_csv, features, tmp_path, capsys):
    code, stdout, _ = _run(capsys, "campaign", pool_csv, "--features", ",".join(features),
                           "--suggest", "3", "--output-dir", tmp_path, "--surrogate", "rf")
    assert code == 0
    picks = _read_csv(tmp_path / "suggestions.csv")
    assert len(picks) == 3 and picks["pred_mean"].isna().all()
    assert "random picks" in stdout


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize("argv, pattern", [
    (["{missing}", "--target", TARGET], r"missing\.csv: file not found"),
    (["{csv}", "--target", TARGET, "--features", "ni_load,nope_load"],
     r"lacks the feature columns \['nope_load'\]"),
    (["{csv}", "--target", TARGET, "--budget", "400"],
     r"budget=400 is larger than the 303 candidates"),
    (["{csv}", "--target", "nope"], r"target column 'nope' is not in the pool"),
    (["{csv}", "--target", TARGET, "--window", "0.3", "0.4"],
     r"--window is only used by --acquisition window"),
    (["{csv}", "--target", TARGET, "--acquisition", "window"], r"needs --window LOW HIGH"),
    (["{csv}", "--target", TARGET, "--acquisition", "window", "--window", "0.4", "0.3"],
     r"LOW <= HIGH"),
    (["{csv}", "--target", TARGET, "--kappa", "2"], r"--kappa is only used by .*ucb or lcb"),
    (["{csv}", "--target", TARGET, "--acquisition", "ucb", "--xi", "0.1"],
     r"--xi is only used by"),
    (["{csv}"], r"give --target COL .* or --oracle SPEC"),
    (["--target", TARGET], r"give POOL\.csv"),
    (["{csv}", "--oracle", "{tmp}/none.py:f", "--features", "ni_load"],
     r"oracle file .*none\.py not found"),
    (["{csv}", "--oracle", "no_such_module_xyz:f", "--features", "ni_load"],
     r"cannot import oracle module 'no_such_module_xyz'"),
    (["{csv}", "--target", TARGET, "--budget", "0"], r"budget must be a positive integer"),
    (["{csv}", "--target", TARGET, "--id-column", "nope"], r"id_column 'nope'"),
    (["{csv}", "--target", TARGET, "--index-col", "nope"], r"no column 'nope' for --index-col"),
    (["{csv}", "--target", TARGET, "--surrogate", "xgb"],
     r"invalid choice: 'xgb'.*see 'sisso-lite campaign --help'"),
    (["{csv}", "--target", TARGET, "--budget", "x"], r"--budget: invalid int value"),
    (["{csv}", "--target", TARGET, "--suggest", "2", "--budget", "5"],
     r"--suggest N measures nothing .* drop --budget"),
    (["{csv}", "--target", TARGET, "--suggest", "0"], r"--suggest needs a positive number"),
    (["{csv}", "--target", TARGET, "--suggest", "2", "--features", f"ni_load,{TARGET}"],
     r"cannot also be a feature"),
    (["--resume", "{tmp}/none.json"], r"none\.json: checkpoint file not found"),
])
def test_bad_input_is_one_line_exit_2(argv, pattern, pool_csv, tmp_path, capsys):
    subs = {"{csv}": str(pool_csv), "{missing}": str(tmp_path / "missing.csv"),
            "{tmp}": str(tmp_path)}
    argv = [next((a.replace(k, v) for k, v in subs.items() if k in a), a) for a in argv]
    code, _, err = _run(capsys, "campaign", *argv, "--output-dir", tmp_path / "out", *FAST[2:])
    _assert_one_line_error(code, err, pattern)
    assert not (tmp_path / "out").exists()  # nothing written


def test_oracle_module_that_fails_to_import(pool_csv, tmp_path, capsys):
    (tmp_path / "broken.py").write_text("def measure(rows):\n    return rows[\n")
    code, _, err = _run(capsys, "campaign", pool_csv, "--oracle", f"{tmp_path}/broken.py:measure",
                        "--features", "ni_load", "--output-dir", tmp_path / "out")
    _assert_one_line_error(code, err, r"oracle file .*broken\.py failed to load: SyntaxError")


def test_resume_errors(pool, tmp_path, capsys):
    ck = tmp_path / "ck.json"
    Campaign(pool, target=TARGET, surrogate="rf", n_initial=3, budget=5, random_state=0,
             checkpoint=ck, progress=False).run(n_rounds=1)
    code, _, err = _run(capsys, "campaign", "--resume", ck, "--budget", "6", "--seed", "1")
    _assert_one_line_error(code, err, r"drop --budget, --seed \(only --oracle")
    code, _, err = _run(capsys, "campaign", "--resume", ck, "--oracle", "x.py:f")
    _assert_one_line_error(code, err, r"retrospective campaign .* takes no --oracle")
    ck.write_text(ck.read_text()[:-20])
    code, _, err = _run(capsys, "campaign", "--resume", ck)
    _assert_one_line_error(code, err, r"ck\.json:\d+: corrupt checkpoint")
    other = pool.assign(ni_load=pool["ni_load"][::-1].to_numpy())
    ck2 = tmp_path / "ck2.json"
    Campaign(pool, target=TARGET, surrogate="rf", n_initial=3, budget=5, random_state=0,
             checkpoint=ck2, progress=False).run(n_rounds=1)
    from sisso_lite.learning.checkpoint import pool_path, write_pool

    write_pool(pool_path(ck2), other)  # the stored pool was changed behind its back
    code, _, err = _run(capsys, "campaign", "--resume", ck2)
    _assert_one_line_error(code, err, r"pool differs from the campaign's pool")


def test_failed_round_is_one_line_exit_1(pool_csv, tmp_path, capsys, monkeypatch):
    real_step = Campaign.step

    def fail_after_initial_design(self):
        if self.round_ == 1:
            raise RuntimeError("round 1: fitting the surrogate failed: singular matrix")
        return real_step(self)

    monkeypatch.setattr(Campaign, "step", fail_after_initial_design)
    code, _, err = _run(capsys, "campaign", pool_csv, "--target", TARGET, "--n-initial", "3",
                        "--budget", "5", "--output-dir", tmp_path, *FAST)
    _assert_one_line_error(code, err, r"round 1: fitting the surrogate failed", 1)
    assert len(json.loads((tmp_path / "checkpoint.json").read_text())["records"]) == 3


def test_campaign_help(capsys):
    code, out, _ = _run(capsys, "campaign", "--help")
    assert code == 0 and "usage: sisso-lite campaign" in out
    for word in ("POOL.csv", "--target", "--oracle", "--resume", "--suggest", "--window",
                 "--batch-strategy", "history.csv", "rounds.csv", "best_so_far.png"):
        assert word in out
    code, out, _ = _run(capsys, "--help")
    assert "campaign" in out


# ----------------------------------------------------------------------------- entry point
def test_subprocess_entry_point(pool_csv, tmp_path):
    script = Path(sys.executable).with_name("sisso-lite")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "sisso_lite.cli"]
    out = tmp_path / "run"
    proc = subprocess.run([*cmd, "campaign", str(pool_csv), "--target", TARGET,
                           "--n-initial", "3", "--budget", "5", "--seed", "0",
                           "--output-dir", str(out), *FAST],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert len(_read_csv(out / "history.csv")) == 5 and "measured 5 of budget 5" in proc.stdout
    # run as ``python -m sisso_lite.cli`` (cli is __main__ there) errors stay one line
    proc = subprocess.run([sys.executable, "-m", "sisso_lite.cli", "campaign",
                           str(tmp_path / "missing.csv"), "--target", TARGET],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"sisso-lite campaign: error: {tmp_path / 'missing.csv'}: " \
                                  "file not found"
