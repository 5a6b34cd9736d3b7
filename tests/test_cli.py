"""The sisso-lite command line (sisso_lite.cli.main in-process, plus one real subprocess)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sisso_lite.cli import build_parser, main

FIT_OPTS = ["--n-dim", "2", "--max-complexity", "1", "--operators", "+,-,*,/", "--n-sis", "5",
            "--n-models", "3", "-q"]


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _assert_one_line_error(code, err, pattern, expected_code=1):
    assert code == expected_code
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sisso-lite: error: "), err
    assert "Traceback" not in err
    import re

    assert re.search(pattern, lines[0]), lines[0]


@pytest.fixture(scope="module")
def csv_path(tmp_path_factory):
    from sisso_lite.datasets import load_octet_binaries

    X, y, _, _ = load_octet_binaries()
    path = tmp_path_factory.mktemp("data") / "octet.csv"
    X.assign(target=y.to_numpy()).to_csv(path, index_label="material")
    return path


UNITS = ["r_s_A=Angstrom", "r_p_A=Angstrom", "r_s_B=Angstrom", "r_p_B=Angstrom",
         "r_d_A=Angstrom", "r_d_B=Angstrom", "IP_A=eV", "IP_B=eV", "EA_A=eV", "EA_B=eV",
         "E_HOMO_A=eV", "E_HOMO_B=eV", "E_LUMO_A=eV", "E_LUMO_B=eV"]


@pytest.fixture(scope="module")
def model_path(csv_path, tmp_path_factory):
    out = tmp_path_factory.mktemp("model") / "model.json"
    code = main([
        "fit", str(csv_path), "--target", "target", "--index-col", "material",
        "--units", *UNITS, *FIT_OPTS, "-o", str(out)])
    assert code == 0
    return out


SMALL_IN = """\
ptype=1
ntask=1
desc_dim=2
nsample=82
nsf=14
ops='(+)(-)(*)(/)'
fcomplexity=1
funit=(1:8)(9:14)
nf_sis=5
fit_intercept=.true.
metric='RMSE'
nmodel=4
"""
REF = Path(__file__).parent / "data" / "sisso_reference"


@pytest.fixture
def job(tmp_path):
    shutil.copy(REF / "octet14_r2_d3" / "train.dat", tmp_path / "train.dat")
    (tmp_path / "SISSO.in").write_text(SMALL_IN)
    return tmp_path


# ----------------------------------------------------------------------------- help
def test_help(capsys):
    code, out, _ = _run(capsys, "--help")
    assert code == 0
    for word in ("run", "fit", "predict", "--traceback", "examples:"):
        assert word in out


@pytest.mark.parametrize("command", ["run", "fit", "predict"])
def test_subcommand_help(capsys, command):
    code, out, _ = _run(capsys, command, "--help")
    assert code == 0 and f"usage: sisso-lite {command}" in out
    expected = {"run": ["DIR", "--quiet", "--n-jobs", "nsample", "subs_sis->nf_sis"],
                "fit": ["--target", "--units", "--n-dim", "--max-complexity", "--operators",
                        "--n-sis", "--classify", "--task-column", "--output"],
                "predict": ["MODEL.json", "--units", "--output", "--dim"]}[command]
    for word in expected:
        assert word in out


def test_every_option_has_help():
    parser = build_parser()
    subparsers = parser._subparsers._group_actions[0].choices  # noqa: SLF001
    for sub in [parser, *subparsers.values()]:
        for action in sub._actions:  # noqa: SLF001
            assert action.help, f"{sub.prog} {action.option_strings or action.dest}"


def test_version(capsys):
    code, out, _ = _run(capsys, "--version")
    assert code == 0 and out.startswith("sisso-lite ")


def test_no_command_prints_help(capsys):
    code, out, _ = _run(capsys)
    assert code == 2 and "usage:" in out


# ----------------------------------------------------------------------------- fit/predict
def test_fit_writes_model_and_prints_table(model_path, csv_path, capsys):
    data = json.loads(model_path.read_text())
    assert data["estimator"] == "SissoRegressor" and data["training_data_sha256"]
    assert data["units"]["r_p_A"] == "Angstrom"


def test_predict_matches_estimator(model_path, csv_path, tmp_path, capsys):
    from sisso_lite.estimators.persistence import load_model

    out = tmp_path / "pred.csv"
    code, stdout, _ = _run(capsys, "predict", str(model_path), str(csv_path), "--index-col",
                           "material", "--drop", "target", "-o", str(out))
    assert code == 0 and "wrote" in stdout
    pred = pd.read_csv(out, index_col=0, float_precision="round_trip")
    X = pd.read_csv(csv_path, index_col=0, float_precision="round_trip").drop(columns="target")
    assert np.array_equal(pred["prediction"].to_numpy(), load_model(model_path).predict(X))


def test_predict_prints_without_output(model_path, csv_path, capsys):
    code, out, _ = _run(capsys, "predict", str(model_path), str(csv_path),
                        "--index-col", "material")
    assert code == 0 and "prediction" in out and "AgBr" in out


def test_fit_classify_and_predict(csv_path, tmp_path, capsys):
    from sisso_lite.estimators.persistence import load_model

    df = pd.read_csv(csv_path, float_precision="round_trip")
    df["phase"] = np.where(df.pop("target") < 0, "RS", "ZB")
    data = tmp_path / "classes.csv"
    df.to_csv(data, index=False)
    model = tmp_path / "clf.json"
    code, out, _ = _run(capsys, "fit", str(data), "--target", "phase", "--index-col",
                        "material", "--classify", *FIT_OPTS, "-o", str(model))
    assert code == 0 and "n_overlap" in out
    assert json.loads(model.read_text())["estimator"] == "SissoClassifier"
    pred = tmp_path / "pred.csv"
    code, _, _ = _run(capsys, "predict", str(model), str(data), "--index-col", "material",
                      "-o", str(pred))
    assert code == 0
    X = df.set_index("material").drop(columns="phase")
    assert list(pd.read_csv(pred)["prediction"]) == list(load_model(model).predict(X))


def test_fit_multitask_task_column(csv_path, tmp_path, capsys):
    from sisso_lite.estimators.persistence import load_model

    df = pd.read_csv(csv_path, float_precision="round_trip")
    df["task"] = np.where(np.arange(len(df)) < 29, "A", "B")
    data = tmp_path / "mt.csv"
    df.to_csv(data, index=False)
    model = tmp_path / "mt.json"
    code, _, _ = _run(capsys, "fit", str(data), "--target", "target", "--index-col",
                      "material", "--task-column", "task", *FIT_OPTS, "-o", str(model))
    assert code == 0
    pred = tmp_path / "pred.csv"
    code, _, _ = _run(capsys, "predict", str(model), str(data), "--index-col", "material",
                      "--task-column", "task", "-o", str(pred))
    assert code == 0
    X = df.set_index("material").drop(columns=["target", "task"])
    expected = load_model(model).predict(X, tasks=df["task"].to_numpy())
    got = pd.read_csv(pred, float_precision="round_trip")["prediction"].to_numpy()
    assert np.array_equal(got, expected)


def test_fit_classify_with_task_column_is_error(csv_path, capsys):
    code, _, err = _run(capsys, "fit", str(csv_path), "--target", "target", "--index-col",
                        "material", "--classify", "--task-column", "r_s_A", *FIT_OPTS)
    _assert_one_line_error(code, err, "not supported with --classify", expected_code=2)


def test_fit_text_target_without_classify(csv_path, tmp_path, capsys):
    df = pd.read_csv(csv_path)
    df["target"] = np.where(df["target"] < 0, "RS", "ZB")
    data = tmp_path / "labels.csv"
    df.to_csv(data, index=False)
    code, _, err = _run(capsys, "fit", str(data), "--target", "target", "--index-col",
                        "material", *FIT_OPTS)
    _assert_one_line_error(code, err, "use --classify")


def test_run_writes_fortran_outputs(job, capsys):
    code, out, _ = _run(capsys, "run", str(job), "-q")
    assert code == 0 and "1D:" in out and "2D:" in out
    text = (job / "SISSO.out").read_text()
    assert "Total number of features in the space Phi01:" in text
    assert "  2D descriptor/model(y=sum(ci*di)+c0) : " in text
    assert (job / "Models" / "top0004_D002").is_file()
    assert (job / "Models" / "top0004_D002_coeff").is_file()
    assert (job / "Models" / "data_top1" / "desc_D002.dat").is_file()
    assert len((job / "SIS_subspaces" / "Uspace.expressions").read_text().splitlines()) == 10


def test_run_renamed_keyword_warns_and_runs(job, capsys):
    (job / "SISSO.in").write_text(SMALL_IN.replace("nf_sis=5", "subs_sis=5"))
    code, _, err = _run(capsys, "run", str(job), "-q")
    assert code == 0 and "warning" in err and "'subs_sis'" in err and "renamed" in err


# ----------------------------------------------------------------------------- bad input
def test_run_missing_directory(capsys, tmp_path):
    code, _, err = _run(capsys, "run", str(tmp_path / "nope"))
    _assert_one_line_error(code, err, "not a directory")


def test_run_unknown_keyword(job, capsys):
    (job / "SISSO.in").write_text(SMALL_IN + "colour=blue\n")
    code, _, err = _run(capsys, "run", str(job))
    _assert_one_line_error(code, err, r"SISSO.in, line 13, keyword 'colour': unknown keyword")


def test_run_bad_value(job, capsys):
    (job / "SISSO.in").write_text(SMALL_IN.replace("desc_dim=2", "desc_dim=two"))
    code, _, err = _run(capsys, "run", str(job))
    _assert_one_line_error(code, err, r"line 3, keyword 'desc_dim': expected an integer")


def test_run_nsample_mismatch(job, capsys):
    (job / "SISSO.in").write_text(SMALL_IN.replace("nsample=82", "nsample=80"))
    code, _, err = _run(capsys, "run", str(job))
    _assert_one_line_error(code, err, r"train.dat.*82 data row.*adds up to 80")


def test_run_malformed_row(job, capsys):
    lines = (job / "train.dat").read_text().splitlines()
    lines[5] = lines[5].rsplit(" ", 1)[0]
    (job / "train.dat").write_text("\n".join(lines) + "\n")
    code, _, err = _run(capsys, "run", str(job))
    _assert_one_line_error(code, err, r"train.dat, line 6: 15 field")


def test_fit_missing_file(capsys, tmp_path):
    code, _, err = _run(capsys, "fit", str(tmp_path / "x.csv"), "--target", "y")
    _assert_one_line_error(code, err, "file not found")


def test_fit_unknown_target(csv_path, capsys):
    code, _, err = _run(capsys, "fit", str(csv_path), "--target", "nope", "--index-col",
                        "material")
    _assert_one_line_error(code, err, "no column 'nope'")


def test_fit_text_column(csv_path, capsys):
    code, _, err = _run(capsys, "fit", str(csv_path), "--target", "target")
    _assert_one_line_error(code, err, "'material' is not numeric; use --index-col material")


def test_fit_bad_units_syntax(csv_path, capsys):
    code, _, err = _run(capsys, "fit", str(csv_path), "--target", "target", "--index-col",
                        "material", "--units", "r_s_A:Angstrom")
    _assert_one_line_error(code, err, "COL=UNIT", expected_code=2)


def test_fit_units_for_unknown_column(csv_path, capsys):
    code, _, err = _run(capsys, "fit", str(csv_path), "--target", "target", "--index-col",
                        "material", "--units", "radius=Angstrom")
    _assert_one_line_error(code, err, "no feature column 'radius'", expected_code=2)


def test_fit_unparsable_unit(csv_path, capsys):
    code, _, err = _run(capsys, "fit", str(csv_path), "--target", "target", "--index-col",
                        "material", "--units", "r_s_A=Ang^^2", *FIT_OPTS)
    _assert_one_line_error(code, err, "unit")


def test_fit_unknown_operator(csv_path, capsys):
    code, _, err = _run(capsys, "fit", str(csv_path), "--target", "target", "--index-col",
                        "material", *FIT_OPTS, "--operators", "pow")
    _assert_one_line_error(code, err, "pow")


def test_fit_bad_integer_option(csv_path, capsys):
    code, _, err = _run(capsys, "fit", str(csv_path), "--target", "target", "--n-dim", "x")
    _assert_one_line_error(code, err, "--n-dim", expected_code=2)


def test_fit_invalid_n_dim_value(csv_path, capsys):
    code, _, err = _run(capsys, "fit", str(csv_path), "--target", "target", "--index-col",
                        "material", "--n-dim", "0", "-q")
    _assert_one_line_error(code, err, "n_dim")


def test_fit_missing_target_option(csv_path, capsys):
    code, _, err = _run(capsys, "fit", str(csv_path))
    _assert_one_line_error(code, err, "--target", expected_code=2)


def test_unknown_option(capsys):
    code, _, err = _run(capsys, "predict", "--colour", "red")
    _assert_one_line_error(code, err, "unrecognized arguments|required", expected_code=2)


def test_predict_missing_model(csv_path, capsys, tmp_path):
    code, _, err = _run(capsys, "predict", str(tmp_path / "m.json"), str(csv_path))
    _assert_one_line_error(code, err, "m.json: file not found")


def test_predict_not_a_model(csv_path, capsys):
    code, _, err = _run(capsys, "predict", str(csv_path), str(csv_path))
    _assert_one_line_error(code, err, "not a JSON model file")


def test_predict_newer_model_version(model_path, csv_path, capsys, tmp_path):
    data = json.loads(model_path.read_text())
    data["format_version"] += 1
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps(data))
    code, _, err = _run(capsys, "predict", str(newer), str(csv_path))
    _assert_one_line_error(code, err, "newer")


def test_predict_missing_feature(model_path, csv_path, capsys, tmp_path):
    from sisso_lite.estimators.persistence import load_model

    needed = load_model(model_path).result_.best().primary_features
    df = pd.read_csv(csv_path).drop(columns=[needed[0]])
    path = tmp_path / "lacking.csv"
    df.to_csv(path, index=False)
    code, _, err = _run(capsys, "predict", str(model_path), str(path), "--index-col", "material")
    _assert_one_line_error(code, err, f"lack the primary feature.*{needed[0]}")


def test_predict_wrong_units(model_path, csv_path, capsys):
    from sisso_lite.estimators.persistence import load_model

    model = load_model(model_path)
    needed = model.result_.best().primary_features
    name = needed[0]
    trained = json.loads(model_path.read_text())["units"][name]
    wrong = "nm" if trained != "nm" else "eV"
    code, _, err = _run(capsys, "predict", str(model_path), str(csv_path), "--index-col",
                        "material", "--units", f"{name}={wrong}")
    _assert_one_line_error(code, err, f"'{name}' is in units {wrong}")


# ----------------------------------------------------------------------------- installed script
def test_installed_script_subprocess(tmp_path):
    script = Path(sys.executable).with_name("sisso-lite")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "sisso_lite.cli"]
    proc = subprocess.run([*cmd, "run", str(tmp_path / "missing")], capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip().startswith("sisso-lite: error: ") and "Traceback" not in proc.stderr
    proc = subprocess.run([*cmd, "--help"], capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.returncode == 0 and "predict" in proc.stdout
