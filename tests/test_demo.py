"""`make demo` entry point: runs, prints the model table, writes its files."""

import json

from sisso_lite.cli.demo import main


def test_demo_writes_table_plot_and_model(tmp_path, capsys):
    assert main(["--output", str(tmp_path), "--n-dim", "2", "--max-complexity", "2",
                 "--n-sis", "10"]) == 0
    out = capsys.readouterr().out
    assert "RMSE (eV)" in out and "feature space per rung" in out
    for name in ("models.csv", "parity.png", "model.json"):
        assert (tmp_path / name).stat().st_size > 0
    assert json.loads((tmp_path / "model.json").read_text())["format_version"]
