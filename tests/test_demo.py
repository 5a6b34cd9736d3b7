"""`make demo`: a short stability-screening campaign; prints the law and the ranked
candidates and writes its tables and plots (reduced settings keep the test fast)."""

import json

import pandas as pd

from sisso_lite.cli.demo import main, run_demo

FILES = ("ranked_candidates.csv", "campaign_history.csv", "models.csv", "law.txt",
         "model.json", "discovery.png", "ranking.png", "parity.png")


def test_demo_runs_campaign_prints_law_and_ranking(tmp_path, capsys):
    result = run_demo(tmp_path, budget=40, batch_size=10, n_initial=10, n_estimators=6,
                      n_dim=2, max_complexity=2, n_sis=10, top=5)
    out = capsys.readouterr().out
    assert "398 stable" in out and "E_hull = " in out and "ranked candidates" in out
    assert "RMSE (eV/atom)" in out
    for name in FILES:
        assert (tmp_path / name).stat().st_size > 0, name
    history = pd.read_csv(tmp_path / "campaign_history.csv")
    assert len(history) == 40 and history["status"].eq("ok").all()
    assert result["n_found"] == int((history["value"] <= 0.025).sum())
    assert abs(result["n_random"] - 40 * 398 / 5276) < 1e-9
    ranked = pd.read_csv(tmp_path / "ranked_candidates.csv", index_col="rank")
    assert len(ranked) == 5276 - 40 and not ranked.formula.isin(history.pool_index).any()
    assert ranked.E_hull_meV.is_monotonic_increasing and ranked.P_stable.between(0, 1).all()
    assert (ranked.sigma_meV > 0).all()
    assert result["law"].startswith("E_hull = ") and result["law"] in out
    assert json.loads((tmp_path / "model.json").read_text())["format_version"]


def test_demo_command_line_options(tmp_path, capsys):
    assert main(["--output", str(tmp_path), "--budget", "30", "--batch-size", "10",
                 "--n-initial", "10", "--n-estimators", "4", "--n-dim", "1",
                 "--max-complexity", "1", "--n-sis", "5", "--top", "3"]) == 0
    assert "found" in capsys.readouterr().out
    assert len(pd.read_csv(tmp_path / "campaign_history.csv")) == 30
