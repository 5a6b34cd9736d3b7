"""Hypothesis fuzzing of every file reader: arbitrary bytes and mutated real files.

Each reader must either return a result or raise a ``ValueError`` subclass whose message
names the file (and the line where the format has lines) -- never a hang, a bare
``IndexError`` / ``KeyError`` / ``TypeError`` / ``UnicodeDecodeError`` or a numba traceback.
The heavy ``_hr.dat`` fuzzing (truncation, token corruption, gzip damage) lives in
``tests/test_wannier_io.py``; here every reader gets the same two generic attacks.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from descriptors._lobster import read_bonds, read_charges, read_madelung
from descriptors.wannier_io import read_centres_xyz, read_hr_dat, read_win
from sisso_lite.datasets import load_oer_plate
from sisso_lite.estimators import SissoRegressor  # noqa: F401  (registers the model classes)
from sisso_lite.estimators.persistence import load_model
from sisso_lite.io import read_sisso_in, read_train_dat
from sisso_lite.learning import Campaign
from sisso_lite.learning.checkpoint import pool_path, read_checkpoint, read_pool

DATA = Path(__file__).parent / "data"
WANNIER = DATA / "wannier" / "SrMnO3"
LOBSTER = DATA / "lobster" / "NaSi"
SISSO_DIR = DATA / "sisso_reference" / "octet14_r2_d3"
MODELS = DATA / "model_json_v0"

#: ``FUZZ_N=300 pytest tests/test_fuzz_parsers.py`` runs a longer, randomised search
_N = os.environ.get("FUZZ_N")
FUZZ = settings(max_examples=int(_N or 25), deadline=5000, derandomize=_N is None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
_garbage = st.sampled_from(["", "x", "-1", "0", "nan", "inf", "1e999", "1.5", "99999999999",
                            "é", "\x00", "!", "#", "=", ",", "(", ")", "begin", "end", "{",
                            "}", "[", "]", '"', "null", "true", "-0", "1d5"])
#: exception types that mean "the reader has a hole" even though some subclass ValueError
_HOLES = (UnicodeDecodeError, IndexError, KeyError, TypeError, AttributeError,
          ZeroDivisionError, OverflowError, AssertionError, RecursionError)


def check_reader(read: Callable[[Path], object], path: Path, line_numbers: bool) -> None:
    """Call ``read(path)``: a result, or a ValueError naming the file (and a line)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            read(path)
    except _HOLES as exc:  # pragma: no cover - a failure is the finding
        pytest.fail(f"{type(exc).__name__} escaped from {read.__name__}: {exc}")
    except ValueError as exc:
        msg = str(exc)
        assert path.name in msg, f"message does not name the file: {msg!r}"
        assert len(msg) > len(str(path)) + 5, f"message names no problem: {msg!r}"
        if line_numbers and re.search(r"(:\d+:|line \d+)", msg) is None:
            # only whole-file problems (empty, missing, not UTF-8 gzip...) may omit the line
            assert re.search(r"empty|not found|cannot read|no data|no bonds|not a |"
                             r"missing|truncated|nsf|row\(s\)|keyword '", msg), \
                f"message names no line: {msg!r}"


def mutate_text(data: st.DataObject, text: str) -> str:
    """One to three line-level edits of ``text`` (cut, delete, duplicate, swap, corrupt)."""
    lines = text.split("\n")
    for _ in range(data.draw(st.integers(1, 3), label="n_edits")):
        if not lines:
            lines = [data.draw(_garbage)]
        i = data.draw(st.integers(0, len(lines) - 1), label="line")
        op = data.draw(st.sampled_from(["cut", "delete", "dup", "swap", "token", "insert",
                                        "chars"]), label="op")
        if op == "cut":
            lines = lines[:i]
        elif op == "delete":
            del lines[i]
        elif op == "dup":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = data.draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "token":
            tokens = re.split(r"(\s+|[,:=()\[\]{}])", lines[i])
            k = data.draw(st.integers(0, len(tokens) - 1))
            tokens[k] = data.draw(_garbage)
            lines[i] = "".join(tokens)
        elif op == "insert":
            lines.insert(i, data.draw(_garbage))
        else:
            pos = data.draw(st.integers(0, max(len(lines[i]) - 1, 0)))
            junk = data.draw(st.text(min_size=1, max_size=4))
            lines[i] = lines[i][:pos] + junk + lines[i][pos + len(junk):]
    return "\n".join(lines)


def mutate_bytes(data: st.DataObject, raw: bytes) -> bytes:
    """Overwrite a few bytes anywhere (may break UTF-8 or gzip framing)."""
    pos = data.draw(st.integers(0, max(len(raw) - 1, 0)), label="pos")
    junk = data.draw(st.binary(min_size=1, max_size=6), label="junk")
    return raw[:pos] + junk + raw[pos + len(junk):]


def _text(path: Path) -> str:
    raw = path.read_bytes()
    return (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode()


# --------------------------------------------------------------------------- readers
def _mini_hr(tmp: Path) -> str:
    """The first 3 Wannier functions and 4 R vectors of the real SrMnO3 Hamiltonian."""
    hr = read_hr_dat(WANNIER / "abinito_w90_up_hr.dat.gz")
    from descriptors.wannier_io import write_hr_dat
    write_hr_dat(tmp / "mini_hr.dat", hr.r_vectors[:4], hr.h[:4, :3, :3] * hr.ndegen[:4, None,
                 None], hr.ndegen[:4])
    return (tmp / "mini_hr.dat").read_text()


def _read_sisso_in(path: Path):
    return read_sisso_in(path)


def _read_train(path: Path):
    return read_train_dat(path, ptype=1)


def _read_train_nrows(path: Path):
    return read_train_dat(path, ptype=1, nsf=14, n_rows=82)


def _read_centres(path: Path):
    return read_centres_xyz(path, num_wann=14)


READERS: dict[str, tuple[Callable[[Path], object], str, Path | None, bool]] = {
    # name: (reader, file name, real file to mutate (None: built in the test), has lines)
    "hr.dat": (read_hr_dat, "x_hr.dat", None, True),
    "centres.xyz": (_read_centres, "x_centres.xyz",
                    WANNIER / "abinito_w90_up_centres.xyz", True),
    "win": (read_win, "x.win", WANNIER / "abinito_w90_up.win", True),
    "SISSO.in": (_read_sisso_in, "SISSO.in", SISSO_DIR / "SISSO.in", True),
    "train.dat": (_read_train, "train.dat", SISSO_DIR / "train.dat", True),
    "train.dat nsf/nsample": (_read_train_nrows, "train.dat", SISSO_DIR / "train.dat", True),
    "ICOHPLIST": (read_bonds, "ICOHPLIST.lobster", LOBSTER / "ICOHPLIST.lobster.gz", False),
    "CHARGE": (read_charges, "CHARGE.lobster", LOBSTER / "CHARGE.lobster.gz", False),
    "Madelung": (read_madelung, "MadelungEnergies.lobster",
                 LOBSTER / "MadelungEnergies.lobster.gz", False),
}


def _source(tmp: Path, name: str) -> str:
    real = READERS[name][2]
    return _mini_hr(tmp) if real is None else _text(real)


@pytest.mark.parametrize("name", list(READERS))
def test_real_file_reads(tmp_path, name):
    read, fname, _, _ = READERS[name]
    path = tmp_path / fname
    path.write_text(_source(tmp_path, name))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert read(path) is not None


@pytest.mark.parametrize("name", list(READERS))
@FUZZ
@given(data=st.data())
def test_mutated_real_file(tmp_path, name, data):
    read, fname, _, lines = READERS[name]
    path = tmp_path / fname
    path.write_text(mutate_text(data, _source(tmp_path, name)), encoding="utf-8")
    check_reader(read, path, lines)


@pytest.mark.parametrize("name", list(READERS))
@FUZZ
@given(data=st.data())
def test_damaged_bytes(tmp_path, name, data):
    read, fname, _, lines = READERS[name]
    path = tmp_path / fname
    path.write_bytes(mutate_bytes(data, _source(tmp_path, name).encode()))
    check_reader(read, path, lines)


@pytest.mark.parametrize("name", list(READERS))
@FUZZ
@given(raw=st.binary(max_size=200), gz=st.booleans())
def test_arbitrary_bytes(tmp_path, name, raw, gz):
    read, fname, _, lines = READERS[name]
    path = tmp_path / fname
    path.write_bytes(gzip.compress(raw, mtime=0) if gz else raw)
    check_reader(read, path, lines)


# --------------------------------------------------------------------------- model JSON
@pytest.fixture(scope="module")
def x_new() -> pd.DataFrame:
    spec = json.loads((MODELS / "expected.json").read_text())["X_new"]
    return pd.DataFrame(spec["data"], columns=spec["columns"])


def _leaves(obj, path=()):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _leaves(v, (*path, i))
    yield path


_json_values = st.one_of(st.none(), st.booleans(), st.integers(-3, 10**6),
                         st.floats(allow_nan=False), st.text(max_size=5),
                         st.just([]), st.just({}), st.just([1, 2]), st.just({"a": 1}))


@FUZZ
@given(data=st.data(), name=st.sampled_from(["regressor.json", "classifier.json"]))
def test_model_json_mutated_values(tmp_path, x_new, data, name):
    """Replace or delete one JSON node; load + predict either works or says what is wrong."""
    doc = json.loads((MODELS / name).read_text())
    paths = [p for p in _leaves(doc) if p]
    target = data.draw(st.sampled_from(paths), label="node")
    parent = doc
    for key in target[:-1]:
        parent = parent[key]
    if data.draw(st.booleans(), label="delete") and isinstance(parent, dict):
        del parent[target[-1]]
    else:
        parent[target[-1]] = data.draw(_json_values, label="value")
    path = tmp_path / name
    path.write_text(json.dumps(doc))

    def load_and_predict(p):
        model = load_model(p)
        try:
            model.predict(x_new)
        except ValueError as exc:
            raise ValueError(f"{p}: {exc}") from exc

    check_reader(load_and_predict, path, line_numbers=False)


@FUZZ
@given(data=st.data())
def test_model_json_damaged_text(tmp_path, data):
    path = tmp_path / "model.json"
    path.write_text(mutate_text(data, (MODELS / "regressor.json").read_text()))
    check_reader(load_model, path, line_numbers=False)


# --------------------------------------------------------------------------- checkpoints
@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    X, y = load_oer_plate("A")
    pool = X.assign(overpotential_V=y).iloc[::20].copy()
    ck = tmp_path_factory.mktemp("ck") / "camp.json"
    Campaign(pool, target="overpotential_V", surrogate="rf", budget=12, n_initial=8,
             batch_size=2, random_state=0, checkpoint=ck, progress=False).run(n_rounds=1)
    return ck


def _resume(path: Path):
    return Campaign.resume(path, progress=False)


@FUZZ
@given(data=st.data(), which=st.sampled_from(["checkpoint", "pool"]))
def test_checkpoint_mutated(tmp_path, checkpoint, data, which):
    ck = tmp_path / "camp.json"
    ck.write_text(checkpoint.read_text())
    pool = pool_path(ck)
    pool.write_text(pool_path(checkpoint).read_text())
    victim = ck if which == "checkpoint" else pool
    text = victim.read_text()
    if data.draw(st.booleans(), label="as JSON"):
        doc = json.loads(text)
        paths = [p for p in _leaves(doc) if p]
        target = data.draw(st.sampled_from(paths), label="node")
        parent = doc
        for key in target[:-1]:
            parent = parent[key]
        parent[target[-1]] = data.draw(_json_values, label="value")
        victim.write_text(json.dumps(doc))
    else:
        victim.write_text(mutate_text(data, text))
    check_reader(read_checkpoint if which == "checkpoint" else read_pool, victim, False)
    try:
        _resume(ck)
    except _HOLES as exc:  # pragma: no cover - a failure is the finding
        pytest.fail(f"{type(exc).__name__} escaped from Campaign.resume: {exc}")
    except ValueError as exc:
        assert victim.name in str(exc) or ck.name in str(exc), str(exc)


@FUZZ
@given(raw=st.binary(max_size=200))
def test_checkpoint_arbitrary_bytes(tmp_path, raw):
    ck = tmp_path / "camp.json"
    ck.write_bytes(raw)
    check_reader(read_checkpoint, ck, False)
    pool = tmp_path / "camp.pool.json"
    pool.write_bytes(raw)
    check_reader(read_pool, pool, False)


def test_numbers_survive_the_real_files(tmp_path):
    """Sanity: the fuzzed readers really parse the real files (values, not just no error)."""
    data = read_train_dat(SISSO_DIR / "train.dat")
    assert data.X.shape == (82, 14) and np.isfinite(data.X).all()
    bonds = read_bonds(LOBSTER / "ICOHPLIST.lobster.gz")
    assert len(bonds.icohp) > 0 and np.all(np.isfinite(bonds.icohp))
