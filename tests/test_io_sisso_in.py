"""Tests of the Fortran SISSO input readers (SISSO.in, train.dat) and the reference run."""

from __future__ import annotations

import re
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

from sisso_lite.io import (
    SissoInputError,
    SissoInputWarning,
    load_sisso_dir,
    parse_sisso_in,
    read_sisso_in,
    read_train_dat,
)
from sisso_lite.io.sisso_in import rung_from_fcomplexity

REF = Path(__file__).parent / "data" / "sisso_reference"

BASE = """\
ptype=1              ! regression
ntask=1
desc_dim=2
nsample=4
nsf=3
ops='(+)(-)(*)(/)'
fcomplexity=2
funit=(1:2)(3:3)
fmax_min=1e-3
fmax_max=1e5
nf_sis=5
method_so='L0'
fit_intercept=.true.
metric='RMSE'
nmodel=10
"""

TRAIN = """\
material  y  a  b  c
s1  1.0  1.0  2.0  3.0
s2  2.0  1.5  2.5  3.5
s3  3.0  2.0  2.0  1.0
s4  4.0  3.0  1.0  0.5
"""


def _with(text: str, **kw: str) -> str:
    """Replace (or append) keyword lines of BASE."""
    for key, value in kw.items():
        pat = re.compile(rf"^{key}=.*$", re.M)
        line = f"{key}={value}" if value is not None else ""
        text = pat.sub(line, text) if pat.search(text) else text + line + "\n"
    return text


def _write(tmp_path: Path, sisso_in: str = BASE, train: str = TRAIN) -> Path:
    (tmp_path / "SISSO.in").write_text(sisso_in)
    (tmp_path / "train.dat").write_text(train)
    return tmp_path


# ----------------------------------------------------------------------------- SISSO.in
def test_reference_inputs_parse():
    p = load_sisso_dir(REF / "octet14_r2_d3")
    c = p.config
    assert (c.ptype, c.ntask, c.desc_dim, c.nsf, c.fcomplexity, c.rung) == (1, 1, 3, 14, 3, 2)
    assert c.nsample == [82] and c.nf_sis == [100, 100, 100] and c.nmodel == 100
    assert c.funit == [(1, 8), (9, 14)]
    assert c.operators[0][:4] == ("+", "-", "*", "/") and len(c.operators) == 2
    assert p.X.shape == (82, 14) and p.X.columns[0] == "IP_A" and p.X.index[0] == "AgBr"
    assert p.y[0] == pytest.approx(-0.030033419005850936, rel=0, abs=0)
    params = c.estimator_params()
    assert params["fortran_compatible"] is True
    assert params["n_dim"] == 3 and params["max_complexity"] == 3 and params["n_sis"] == 100
    assert params["units"][:8] == ["funit1"] * 8 and params["units"][8:] == ["funit2"] * 6
    assert params["max_abs_value"] == 1e5 and params["min_abs_value"] == 1e-3
    assert params["metric"] == "rmse" and params["fit_intercept"] is True
    assert p.tasks is None


def test_multitask_layout():
    p = load_sisso_dir(REF / "octet14_mt2_r2_d2")
    assert p.config.nsample == [29, 53]
    assert list(np.bincount(p.tasks)[1:]) == [29, 53]
    assert (p.tasks[:29] == 1).all() and (p.tasks[29:] == 2).all()


def test_classification_layout():
    p = load_sisso_dir(REF / "octet20_class_r1_d2_nocbrt")
    c = p.config
    assert c.ptype == 2 and c.ngroup == [[41, 41]] and c.isconvex == [[1, 1]]
    assert c.bwidth == 0.001 and c.rung == 1
    assert p.data.y is None and p.X.shape == (82, 20)  # no target column in train.dat
    assert (p.y[:41] == 1).all() and (p.y[41:] == 2).all()
    units = c.units()
    assert units[8] is None and units[16] == "funit3"


def test_fcomplexity_to_rung():
    assert [rung_from_fcomplexity(f) for f in range(0, 16)] == (
        [0, 1, 2, 2, 3, 3, 3, 3] + [4] * 8)


def test_ops_per_rung():
    c = parse_sisso_in(_with(BASE, ops="'(+)(-)','(*)(/)(exp)'"))
    assert c.operators == [("+", "-"), ("*", "/", "exp")]
    assert c.operators_param() == (("+", "-"), ("*", "/", "exp"))
    c = parse_sisso_in(_with(BASE, ops="'(+)(-)(^-1)'"))
    assert c.operators_param() == ("+", "-", "^-1")


def test_nf_sis_per_dimension_and_comments():
    c = parse_sisso_in(_with(BASE, nf_sis="5,7  ! per dimension"))
    assert c.nf_sis == [5, 7] and c.n_sis_param() == [5, 7]


def test_fit_intercept_false_and_metric():
    c = parse_sisso_in(_with(BASE, fit_intercept=".false.", metric="'MaxAE'"))
    assert c.fit_intercept is False and c.estimator_params()["metric"] == "maxae"


def test_fortran_real_with_d_exponent():
    assert parse_sisso_in(_with(BASE, fmax_max="1d5")).fmax_max == 1e5


def test_overlapping_funit_gives_product_unit():
    c = parse_sisso_in(_with(BASE, funit="(1:2)(2:3)"))
    assert c.units() == ["funit1", "funit1*funit2", "funit2"]


def test_no_funit_is_dimensionless():
    c = parse_sisso_in(_with(BASE, funit=None))
    assert c.units() == [None, None, None]


def test_feature_units_file_overrides_funit(tmp_path):
    _write(tmp_path)
    (tmp_path / "feature_units").write_text("1 0\n1 0\n0 2\n")
    assert read_sisso_in(tmp_path).units() == ["funit1", "funit1", "funit2^2"]


@pytest.mark.parametrize(
    ("old", "new", "value", "attr", "expected"),
    [
        ("subs_sis", "nf_sis", "7", "nf_sis", [7, 7]),
        ("opset", "ops", "'(+)(*)'", "operators", [("+", "*"), ("+", "*")]),
        ("dimclass", "funit", "(1:3)", "funit", [(1, 3)]),
        ("maxfval_lb", "fmax_min", "1e-4", "fmax_min", 1e-4),
        ("maxfval_ub", "fmax_max", "1e6", "fmax_max", 1e6),
        ("method", "method_so", "'L0'", "method_so", "L0"),
        ("nm_output", "nmodel", "5", "nmodel", 5),
        ("nmodels", "nmodel", "5", "nmodel", 5),
        ("width", "bwidth", "0.01", "bwidth", 0.01),
        ("maxcomplexity", "fcomplexity", "3", "fcomplexity", 3),
        ("nprop", "ntask", "1", "ntask", 1),
    ],
)
def test_renamed_keywords_warn(old, new, value, attr, expected):
    text = _with(BASE, **{new: None}) + f"{old}={value}\n"
    with pytest.warns(SissoInputWarning, match=f"'{old}'.*renamed to '{new}'"):
        c = parse_sisso_in(text)
    assert getattr(c, attr) == expected


def test_old_rung_without_fcomplexity():
    text = _with(BASE, fcomplexity=None) + "rung=1\n"
    with pytest.warns(SissoInputWarning, match="rung"):
        c = parse_sisso_in(text)
    assert c.rung == 1 and c.fcomplexity == 1


def test_old_ptype_spelling_and_logical_restart():
    text = _with(BASE, ptype="'quanti'", restart=".false.")
    with pytest.warns(SissoInputWarning, match="quanti"):
        c = parse_sisso_in(text)
    assert c.ptype == 1 and c.restart == 0


def test_ignored_keywords_warn():
    with pytest.warns(SissoInputWarning, match="L1L0"):
        parse_sisso_in(BASE + "L1para.max_iter=100\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parse_sisso_in(BASE + "fstore=1\nnl1l0=10\n")  # valid, silent


@pytest.mark.parametrize(
    ("edit", "keyword", "message"),
    [
        ({"foo": "1"}, "foo", "unknown keyword"),
        ({"nsf": "three"}, "nsf", "expected an integer"),
        ({"desc_dim": "0"}, "desc_dim", "out of range"),
        ({"ptype": "3"}, "ptype", "out of range"),
        ({"fcomplexity": "16"}, "fcomplexity", "out of range"),
        ({"fit_intercept": "yes"}, "fit_intercept", r"\.true\. or \.false\."),
        ({"fmax_max": "big"}, "fmax_max", "real number"),
        ({"fmax_min": "1e6"}, "fmax_min", "fmax_min < fmax_max"),
        ({"ops": "'(+)(pow)'"}, "ops", "unknown operator"),
        ({"ops": "'+-*'"}, "ops", "cannot read operator group"),
        ({"ops": "'(+)','(-)','(*)'"}, "ops", "3 operator groups"),
        ({"ops": None}, "ops", "no operators"),
        ({"funit": "(1:2)(3:9)"}, "funit", r"not within 1\.\.nsf=3"),
        ({"funit": "(1-2)"}, "funit", "column ranges"),
        ({"nf_sis": "5,5,5"}, "nf_sis", "desc_dim=2"),
        ({"nsample": "(2,2)"}, "nsample", "classification layout"),
        ({"nsample": "2,2"}, "nsample", "ntask=1"),
        ({"nsample": None}, "nsample", "required"),
        ({"method_so": "'L1L0'"}, "method_so", "only the exact 'L0'"),
        ({"metric": "'R2'"}, "metric", "'RMSE' or 'MaxAE'"),
        ({"scmt": ".true."}, "scmt", "not supported"),
        ({"nvf": "2"}, "nvf", "vector features"),
        ({"nsf": "3\nnsf=4"}, "nsf", "set twice"),
        ({"ptype": "2", "nsample": "(2,2)", "desc_dim": "4"}, "desc_dim", "desc_dim <= 3"),
    ],
)
def test_bad_sisso_in(edit, keyword, message):
    text = _with(BASE, **edit)
    with pytest.raises(SissoInputError, match=message) as info:
        parse_sisso_in(text, "job/SISSO.in")
    err = info.value
    assert err.keyword == keyword and str(err).startswith("job/SISSO.in")
    if edit.get(keyword) is not None:
        assert err.line is not None and f"line {err.line}" in str(err)


def test_renamed_and_new_keyword_together_is_error():
    with pytest.raises(SissoInputError, match="set twice"):
        parse_sisso_in(BASE + "subs_sis=3\n")


def test_line_without_equals_sign():
    with pytest.raises(SissoInputError, match=r"line 16.*keyword=value"):
        parse_sisso_in(BASE + "nonsense\n")


def test_classification_nsample_errors():
    base = _with(BASE, ptype="2")
    with pytest.raises(SissoInputError, match="ntask=1"):
        parse_sisso_in(_with(base, nsample="(2,2),(1,1)"))
    with pytest.raises(SissoInputError, match=">= 2 classes"):
        parse_sisso_in(_with(base, nsample="(4)"))
    with pytest.raises(SissoInputError, match="isconvex"):
        parse_sisso_in(_with(base, nsample="(2,2)", isconvex="(1,1,1)"))


def test_missing_sisso_in(tmp_path):
    with pytest.raises(SissoInputError, match="file not found"):
        read_sisso_in(tmp_path / "SISSO.in")


# ----------------------------------------------------------------------------- train.dat
def test_train_dat_separators(tmp_path):
    f = tmp_path / "train.dat"
    f.write_text("material,y,a,b\ns1,1.0,2.0,3.0\ns2\t2.0\t1d0\t4\n\n")
    d = read_train_dat(f, ptype=1, nsf=2)
    assert d.feature_names == ["a", "b"] and d.target_name == "y"
    np.testing.assert_array_equal(d.X, [[2.0, 3.0], [1.0, 4.0]])
    np.testing.assert_array_equal(d.y, [1.0, 2.0])


def test_train_dat_extra_columns_warn(tmp_path):
    f = tmp_path / "train.dat"
    f.write_text(TRAIN)
    with pytest.warns(SissoInputWarning, match="only the first 2"):
        d = read_train_dat(f, ptype=1, nsf=2)
    assert d.feature_names == ["a", "b"]


@pytest.mark.parametrize(
    ("train", "message", "line"),
    [
        (TRAIN.replace("s2  2.0  1.5", "s2  2.0"), "field", 3),
        (TRAIN.replace("2.5", "abc"), "'abc' \\(column 'b'\\)", 3),
        (TRAIN.replace("2.5", "nan"), "non-finite value in column 'b'", 3),
        ("material y a b\n", "header has 2 feature column", 1),
        (TRAIN.replace("a  b", "a  a"), "duplicate feature name", 1),
        ("", "empty", None),
    ],
)
def test_bad_train_dat(tmp_path, train, message, line):
    f = tmp_path / "train.dat"
    f.write_text(train)
    with pytest.raises(SissoInputError, match=message) as info:
        read_train_dat(f, ptype=1, nsf=3, n_rows=4)
    assert info.value.line == line and str(info.value).startswith(str(f))


def test_nsample_disagrees_with_train_dat(tmp_path):
    _write(tmp_path, _with(BASE, nsample="5"))
    with pytest.raises(SissoInputError, match="4 data row.*adds up to 5") as info:
        load_sisso_dir(tmp_path)
    assert info.value.keyword == "nsample" and info.value.path.name == "train.dat"


@pytest.mark.filterwarnings("ignore::sisso_lite.io.SissoInputWarning")
def test_classification_train_dat_has_no_target_column(tmp_path):
    # a regression train.dat read as classification has one column too many for nsf
    _write(tmp_path, _with(BASE, ptype="2", nsample="(2,2)", nsf="4"), TRAIN)
    p = load_sisso_dir(tmp_path)  # accepted: 'y' is then just a feature named y
    assert p.X.columns[0] == "y"
    _write(tmp_path, _with(BASE, ptype="2", nsample="(2,2)", nsf="5"), TRAIN)
    with pytest.raises(SissoInputError, match="nsf=5"):
        load_sisso_dir(tmp_path)


def test_missing_train_dat(tmp_path):
    (tmp_path / "SISSO.in").write_text(BASE)
    with pytest.raises(SissoInputError, match="train.dat: file not found"):
        load_sisso_dir(tmp_path)


def test_copy_of_reference_dir_loads(tmp_path):
    shutil.copytree(REF / "octet14_mt2_r2_d2", tmp_path / "job",
                    ignore=shutil.ignore_patterns("Models.reference"))
    assert load_sisso_dir(tmp_path / "job").X.shape == (82, 14)


# ----------------------------------------------------------------------------- output format
def _reference_rows(folder: Path, dim: int, ntask: int = 1) -> list:
    from sisso_lite.io.sisso_out import ModelRow

    name = next((folder / "Models.reference").glob(f"top*_D{dim:03d}")).name
    lines = (folder / "Models.reference" / name).read_text().splitlines()[1:]
    coef_file = folder / "Models.reference" / f"{name}_coeff"
    coefs = (coef_file.read_text().splitlines()[1:] if coef_file.exists() else [None] * len(lines))
    rows = []
    for line, cline in zip(lines, coefs, strict=True):
        head, ids = line.split("(")
        fid = [int(i) for i in ids.strip(" )").split()]
        if cline is None:
            _, n_overlap, size = head.split()
            rows.append(ModelRow(fid, n_overlap=int(n_overlap), overlap_size=float(size)))
            continue
        _, rmse, maxae = head.split()
        vals = np.array([float(v) for v in cline.split()[1:]]).reshape(ntask, dim + 1)
        rows.append(ModelRow(fid, rmse=float(rmse), maxae=float(maxae), coef=vals[:, 1:],
                             intercept=vals[:, 0]))
    return rows, name


@pytest.mark.parametrize(("case", "dim", "ntask"),
                         [("octet14_r2_d3", 2, 1), ("octet14_mt2_r2_d2", 2, 2),
                          ("octet20_class_r1_d2_nocbrt", 2, 1),
                          ("octet20_class_r1_d2_nocbrt", 1, 1)])
def test_output_format_matches_fortran(tmp_path, case, dim, ntask):
    """Re-write the reference numbers through the writers: byte-identical except timings."""
    from sisso_lite.io.sisso_out import (
        DimensionReport,
        RunReport,
        _dimension_block,
        _header,
        write_models,
    )

    folder = REF / case
    problem = load_sisso_dir(folder)
    ref_out = (folder / "SISSO.out.reference").read_text().splitlines()
    report = RunReport(problem.config, problem.y, problem.tasks)
    header = _header(report)[5:]
    assert header == ref_out[5:5 + len(header)]

    rows, name = _reference_rows(folder, dim, ntask)
    start = ref_out.index(f"Dimension: {dim:3d}")
    end = next(i for i in range(start, len(ref_out)) if "used for this DI" in ref_out[i])
    block = ref_out[start:end + 1]
    descs = [ln.split(" = ")[1].split()[0] for ln in block if re.match(r"\s+d\d{3} = ", ln)]
    descs = descs[:dim]
    sizes = [int(ln.split(":")[1]) for ln in block if "Total number of features" in ln]
    n_sel = int(next(ln for ln in block if "Size of the SIS-selected" in ln).split(":")[1])
    n_tot = int(next(ln for ln in block if "for this DI:" in ln).split(":")[1])
    task_err = [[float(v) for v in ln.split(":")[1].split()] for ln in block
                if ln.startswith("    RMSE and MaxAE:")][:ntask]
    data_file = folder / "Models.reference" / "data_top1" / (
        f"desc_D{dim:03d}" + ("_t001" if ntask > 1 else "") + ".dat")
    data = np.array([[float(v) for v in ln.split()[1:] if v not in ("YES", "NO")]
                     for ln in data_file.read_text().splitlines()[1:]])
    if problem.config.ptype == 1:
        y_pred = np.zeros(len(problem.y))
        y_pred[: len(data)] = data[:, 1]
        report.y = problem.y.copy()
        report.y[: len(data)] = data[:, 0]
        values = np.zeros((len(problem.y), dim))
        values[: len(data)] = data[:, 2:]
        errs = np.array(task_err) if ntask > 1 else None
        d = DimensionReport(dim, sizes, n_sel, descs, rows, values, y_pred,
                            None if errs is None else errs[:, 0],
                            None if errs is None else errs[:, 1])
        if ntask == 1:
            rows[0].rmse, rows[0].maxae = task_err[0]
    else:
        d = DimensionReport(dim, sizes, n_sel, descs, rows, data, np.ones(len(data), bool))
    ours = _dimension_block(report, d, n_tot)[1:]
    theirs = ref_out[start:start + len(ours)]
    assert [a for a in ours if "Time (second)" not in a] == \
        [b for b in theirs if "Time (second)" not in b]

    report.dimensions = [d]
    models = write_models(report, tmp_path)
    assert (models / name).read_text() == (folder / "Models.reference" / name).read_text()
    if problem.config.ptype == 1:
        assert (models / f"{name}_coeff").read_text() == \
            (folder / "Models.reference" / f"{name}_coeff").read_text()
    ours_data = (models / "data_top1" / data_file.name).read_text().splitlines()
    theirs_data = data_file.read_text().splitlines()
    assert ours_data[0] == theirs_data[0]
    if problem.config.ptype == 1:
        assert ours_data[1:len(data) + 1] == theirs_data[1:]
    else:
        ours_values = [ln.split()[2:] for ln in ours_data[1:]]
        assert ours_values == [ln.split()[2:] for ln in theirs_data[1:]]


# ----------------------------------------------------------------------------- reference runs
_NUM = r"[-+]?\d\.\d+E[-+]\d+"


def _blocks(text: str) -> dict[int, dict]:
    """Descriptors and numbers (coefficients, c0, errors / overlap) per dimension."""
    out = {}
    for block in re.split(r"\n\s+\d+D descriptor", text)[1:]:
        block = block.split("Time (second)")[0]
        descs = re.findall(r"d\d{3} = (\S+)\s+feature_ID", block)
        nums = [float(v) for v in re.findall(_NUM, block)]
        overlap = re.findall(r"overlap regions:\s+(\d+)", block)
        size = re.findall(r"3D:volume\):\s+(\S+)", block)
        out[len(descs)] = {"descriptors": descs, "numbers": np.array(nums),
                           "overlap": [int(v) for v in overlap],
                           "size": [float(v) for v in size]}
    return out


def _run_reference(case: str, tmp_path: Path, desc_dim: int | None = None, n_top: int = 20):
    from sisso_lite.estimators.sisso_dir import run_sisso_dir

    job = tmp_path / case
    shutil.copytree(REF / case, job, ignore=shutil.ignore_patterns("*.reference"))
    if desc_dim is not None:
        text = (job / "SISSO.in").read_text()
        (job / "SISSO.in").write_text(re.sub(r"desc_dim=\d+", f"desc_dim={desc_dim}", text))
    run_sisso_dir(job)
    ours = _blocks((job / "SISSO.out").read_text())
    ref = _blocks((REF / case / "SISSO.out.reference").read_text())
    for dim, got in ours.items():
        want = ref[dim]
        assert got["descriptors"] == want["descriptors"], f"{case} {dim}D"
        np.testing.assert_allclose(got["numbers"], want["numbers"], rtol=1e-6, atol=1e-12,
                                   err_msg=f"{case} {dim}D")
        assert got["overlap"] == want["overlap"]
        np.testing.assert_allclose(got["size"], want["size"], atol=1e-5)
    # ranked models: same errors (rank order of exact ties may differ)
    for dim in ours:
        ref_file = next((REF / case / "Models.reference").glob(f"top*_D{dim:03d}"))
        our_file = next((job / "Models").glob(f"top*_D{dim:03d}"))
        ref_col = np.loadtxt(ref_file, skiprows=1, usecols=(1, 2))
        our_col = np.loadtxt(our_file, skiprows=1, usecols=(1, 2))
        n = min(len(ref_col), len(our_col), n_top)
        np.testing.assert_allclose(our_col[:n], ref_col[:n], atol=1.5e-6)
    return ours


def test_reference_run_multitask(tmp_path):
    ours = _run_reference("octet14_mt2_r2_d2", tmp_path)
    assert sorted(ours) == [1, 2]


def test_reference_run_octet14_r2_d3(tmp_path):
    """The full reference input (rung 2, 473,048 features, 3D L0 over 300), as `run` does it."""
    ours = _run_reference("octet14_r2_d3", tmp_path)
    assert sorted(ours) == [1, 2, 3]


def test_reference_run_sisso_plus_plus_setup(tmp_path):
    """20 features, 16 operators incl. sin/cos/^6, fmax_max 1e8, dimensions 1-4."""
    ours = _run_reference("octet20_sisppp_r2_d4", tmp_path)
    assert sorted(ours) == [1, 2, 3, 4]


@pytest.mark.slow
def test_reference_run_rung3(tmp_path):
    """fcomplexity 4 (rung 3, 25.7 million features on the last rung), nf_sis 1000."""
    ours = _run_reference("octet14_r3c4_d2", tmp_path)
    assert sorted(ours) == [1, 2]


def test_reference_run_classification(tmp_path):
    # the best models agree; lower ranks depend on the classifier's SIS tie-breaking
    ours = _run_reference("octet20_class_r1_d2_nocbrt", tmp_path, n_top=1)
    assert ours[2]["overlap"] == [0]


@pytest.mark.parametrize(
    ("edit", "keyword", "message"),
    [
        ({"nf_sis": "5,7"}, "nf_sis", "per dimension"),
        ({"ptype": "2", "nsample": "(2,2)", "isconvex": "(1,0)"}, "isconvex",
         "not supported by SissoClassifier"),
    ],
)
@pytest.mark.filterwarnings("ignore::sisso_lite.io.SissoInputWarning")
def test_settings_the_estimators_cannot_honour(tmp_path, edit, keyword, message):
    from sisso_lite.estimators.sisso_dir import make_estimator

    _write(tmp_path, _with(BASE, **edit))
    problem = load_sisso_dir(tmp_path)
    with pytest.raises(SissoInputError, match=message) as info:
        make_estimator(problem)
    assert info.value.keyword == keyword and info.value.line is not None


def test_make_estimator_parameters(tmp_path):
    from sisso_lite.estimators.sisso_dir import make_estimator

    _write(tmp_path, _with(BASE, fit_intercept=".false.", metric="'MaxAE'"))
    est = make_estimator(load_sisso_dir(tmp_path), verbose=True)
    p = est.get_params()
    assert p["fortran_compatible"] is True and p["fit_intercept"] is False
    assert p["metric"] == "maxae" and p["n_sis"] == 5 and p["n_models"] == 10
    assert p["units"] == ["funit1", "funit1", "funit2"] and p["verbose"] is True
