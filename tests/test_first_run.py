"""First run as a new user meets it: the numba cache directory and the one-line compile notice.

Each check runs in a subprocess with a temporary ``XDG_CACHE_HOME`` and no
``NUMBA_CACHE_DIR``, so numba's cache starts cold and the user's cache is not touched.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sisso_lite import _numba_setup

NOTICE = "sisso-lite: compiling the numerical kernels on first use"
FIT = """
from sisso_lite.datasets import load_octet_binaries
from sisso_lite.estimators import SissoRegressor

X, y, _materials, units = load_octet_binaries()
model = SissoRegressor(n_dim=1, max_complexity=1, n_sis=5, units=units).fit(X, y)
print(model.models_["rmse"].iloc[0])
"""
ONE_KERNEL = "from sisso_lite.solvers.l0 import _binom_table; print(_binom_table(4, 2)[4, 2])"


def _env(tmp_path: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("NUMBA_CACHE_DIR", "SISSO_LITE_QUIET", "PYTHONPATH")}
    return {**env, "XDG_CACHE_HOME": str(tmp_path / "xdg"), **extra}


def _python(code: str, env: dict, cwd: Path) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.mark.slow  # about a minute: numba compiles the kernels of a fit from a cold cache
def test_first_fit_prints_one_notice_and_fills_the_user_cache(tmp_path):
    env = _env(tmp_path)
    cache = tmp_path / "xdg" / "sisso-lite" / "numba"
    first = _python(FIT, env, tmp_path)
    assert first.stderr.count(NOTICE) == 1, first.stderr
    assert f"cached in {cache}" in first.stderr
    # numba names each cache folder after the source folder: features_<hash>, solvers_<hash>
    folders = {p.parent.name.split("_")[0] for p in cache.glob("*/*.nbi")}
    assert {"features", "solvers"} <= folders, sorted(cache.rglob("*"))
    second = _python(FIT, env, tmp_path)
    assert NOTICE not in second.stderr, second.stderr
    assert second.stdout == first.stdout


def test_quiet_silences_the_notice(tmp_path):
    assert _python(ONE_KERNEL, _env(tmp_path, SISSO_LITE_QUIET="1"), tmp_path).stderr == ""
    (tmp_path / "xdg").rename(tmp_path / "xdg-quiet")  # cold again
    loud = _python(ONE_KERNEL, _env(tmp_path), tmp_path)
    assert loud.stderr.count(NOTICE) == 1, loud.stderr


def test_import_sets_the_cache_dir_without_importing_numba(tmp_path):
    code = ("import os, sys, sisso_lite; "
            "print(os.environ['NUMBA_CACHE_DIR'], 'numba' in sys.modules)")
    out = _python(code, _env(tmp_path), tmp_path).stdout.split()
    assert out == [str(tmp_path / "xdg" / "sisso-lite" / "numba"), "False"]
    mine = str(tmp_path / "mine")
    out = _python(code, _env(tmp_path, NUMBA_CACHE_DIR=mine), tmp_path).stdout.split()
    assert out == [mine, "False"]


def test_numba_imported_before_sisso_lite(tmp_path):
    cache = tmp_path / "xdg" / "sisso-lite" / "numba"
    run = _python("import numba, sisso_lite; " + ONE_KERNEL, _env(tmp_path), tmp_path)
    assert run.stderr.count(NOTICE) == 1 and f"cached in {cache}" in run.stderr, run.stderr
    assert list(cache.glob("solvers_*/*.nbi"))


def test_user_cache_dir_follows_xdg(monkeypatch, tmp_path):
    if sys.platform == "win32":
        pytest.skip("XDG rule is for POSIX")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert _numba_setup.user_cache_dir() == str(tmp_path / "sisso-lite" / "numba")
    for value in ("", "relative/dir"):  # the XDG spec: unset, empty or relative -> ~/.cache
        monkeypatch.setenv("XDG_CACHE_HOME", value)
        expected = Path("~/.cache/sisso-lite/numba").expanduser()
        assert _numba_setup.user_cache_dir() == str(expected)
