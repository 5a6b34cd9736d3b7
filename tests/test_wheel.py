"""The wheel as a new user would install it: built, installed into a fresh venv, run from there.

The wheel is built (``python -m build --wheel``, isolated build environment) from a copy of
the working tree, so the checkout gets no ``build/`` folder and no stale files. It is
installed with ``--no-deps`` into a new venv whose only link to the project venv is a
``.pth`` line naming the project venv's site-packages (the dependencies, not the checkout:
``.pth`` files found there, such as the editable install's, are not run). Everything runs
from a temporary working directory with a temporary ``XDG_CACHE_HOME``, so the numba cache
starts cold, as on a first install, and nothing is left in the user's cache.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTICE = "sisso-lite: compiling the numerical kernels on first use"
DATA = {
    "sisso_lite/datasets/data/octet_binaries": ["octet_binaries_82.csv",
                                                "elements_atomic_features_PRL2015.csv"],
    "sisso_lite/datasets/data/rohr2020_oer": ["oer_plate_3496_A_Mn-Fe-Co-Ni-La-Ce.csv"],
    "sisso_lite/datasets/data/emery2017_abo3": ["PROVENANCE.md"],
    "sisso_lite/datasets/data/frey2020_magnetic_order": ["magnetic_order_FM_AFM_test.csv"],
    "sisso_lite/datasets/data/magndata_magnetic": ["magndata_labels.csv", "mcifs/1.6.mcif"],
}
NOT_COPIED = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "*.pyc", "*.nbi", "*.nbc",
    ".pytest_cache", ".ruff_cache", ".hypothesis", "demo_output", "results", "site", ".cache")

pytestmark = pytest.mark.slow  # about a minute, most of it numba's first compilation


def _run(args, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(args, capture_output=True, text=True, timeout=900, **kwargs)
    assert result.returncode == 0, (f"{args} failed ({result.returncode}):\n"
                                    f"{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("wheel")
    shutil.copytree(ROOT, tmp / "src", ignore=NOT_COPIED)
    _run([sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp / "dist"),
          str(tmp / "src")])
    (built,) = (tmp / "dist").glob("sisso_lite-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> tuple[Path, dict]:
    tmp = tmp_path_factory.mktemp("venv")
    env_dir = tmp / "env"
    _run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)])
    python = env_dir / "bin" / "python"
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()"
                                        "['purelib'])"]).stdout.strip())
    deps = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    (site / "_project_venv_deps.pth").write_text("".join(f"{p}\n" for p in deps))
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
          "--no-index", "--quiet", str(wheel)])
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "NUMBA_CACHE_DIR", "VIRTUAL_ENV",
                        "SISSO_LITE_QUIET")}
    env.update(XDG_CACHE_HOME=str(tmp / "cache"), MPLBACKEND="Agg")
    (tmp / "cwd").mkdir()
    return python, {"env": env, "cwd": tmp / "cwd"}


def test_wheel_has_the_package_and_its_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder, files in DATA.items():
        assert {f"{folder}/{f}" for f in files} <= names, folder
        assert f"{folder}/PROVENANCE.md" in names
    assert "sisso_lite/_numba_setup.py" in names
    assert any(n.startswith("descriptors/data/") for n in names)
    assert not [n for n in names if n.startswith(("tests/", "benchmarks/", "examples/"))]
    assert not [n for n in names if n.endswith((".nbi", ".nbc", ".pyc"))]


def test_installed_wheel_runs_demo_and_quick_start(venv, tmp_path):
    python, run = venv
    where = _run([str(python), "-c", "import sisso_lite, sisso_lite.datasets as d; "
                  "print(sisso_lite.__file__); print(d.__file__)"], **run).stdout.split()
    env_dir = python.parent.parent
    assert all(Path(p).is_relative_to(env_dir) for p in where), where  # not the checkout
    package = Path(where[0]).parent
    for folder, files in DATA.items():
        for name in files:
            assert (package.parent / folder / name).stat().st_size > 0, name

    out = tmp_path / "demo"
    demo = _run([str(python), "-m", "sisso_lite.cli.demo", "--output", str(out), "--n-dim", "1",
                 "--max-complexity", "2", "--n-sis", "10", "--budget", "60",
                 "--n-estimators", "5"], **run)
    assert "RMSE (eV/atom)" in demo.stdout
    for name in ("ranked_candidates.csv", "campaign_history.csv", "models.csv", "parity.png",
                 "model.json"):
        assert (out / name).stat().st_size > 0, name
    # first run of a fresh install: one notice, naming the per-user cache, which now holds it
    cache = Path(run["env"]["XDG_CACHE_HOME"]) / "sisso-lite" / "numba"
    assert demo.stderr.count(NOTICE) == 1, demo.stderr[-3000:]
    assert str(cache) in demo.stderr
    assert list(cache.glob("*/*.nbi")), "no numba index files in the user cache"
    assert not list(package.rglob("*.nbi")), "numba cache written into site-packages"

    quick_start = re.search(r"^```python\n(.*?)^```", (ROOT / "README.md").read_text(),
                            re.S | re.M).group(1)
    readme = _run([str(python), "-c", quick_start], **run)
    assert "rmse" in readme.stdout.lower() or "RMSE" in readme.stdout
    assert (run["cwd"] / "model.json").stat().st_size > 0

    cli = _run([str(env_dir / "bin" / "sisso-lite"), "--help"], **run)
    assert "usage" in cli.stdout.lower()
