"""Read a Fortran SISSO ``train.dat`` and load a whole SISSO input directory.

Layout (``src/SISSO.f90``, ``read_data``; ``input_templates/train.dat_*``): one header line,
then one row per sample. Tabs and commas are read as blanks. The first column is the sample
name. Regression (``ptype=1``): then the target, then the ``nsf`` features. Classification
(``ptype=2``): no target column, only the features; samples are grouped by class in the order
of ``nsample=(n1,n2,...)``. Multi-task: the rows of task 1 come first, then task 2, ...
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sisso_lite.io.errors import SissoInputError, SissoInputWarning
from sisso_lite.io.sisso_in import SissoConfig, read_sisso_in

__all__ = ["TrainData", "SissoProblem", "read_train_dat", "load_sisso_dir"]


@dataclass
class TrainData:
    """Contents of a ``train.dat``.

    Attributes
    ----------
    sample_names : list of str
    feature_names : list of str
    X : ndarray, shape (n_samples, nsf)
    y : ndarray or None
        Target (regression); ``None`` for classification.
    target_name : str or None
    """

    sample_names: list[str]
    feature_names: list[str]
    X: np.ndarray
    y: np.ndarray | None
    target_name: str | None

    @property
    def frame(self) -> pd.DataFrame:
        """Primary features as a DataFrame indexed by sample name."""
        return pd.DataFrame(self.X, columns=self.feature_names,
                            index=pd.Index(self.sample_names, name="material"))


def _to_float(tok: str) -> float:
    return float(tok.replace("d", "e").replace("D", "E"))


def read_train_dat(
    path: str | Path,
    ptype: int = 1,
    nsf: int | None = None,
    n_rows: int | None = None,
) -> TrainData:
    """Read a ``train.dat``.

    Parameters
    ----------
    path : str or Path
    ptype : {1, 2}
        1: regression (target in column 2); 2: classification (no target column).
    nsf : int, optional
        Number of primary features to read (columns after the name/target). Default: all.
        Extra columns are ignored with a warning, as Fortran SISSO reads only ``nsf``.
    n_rows : int, optional
        Expected number of data rows (``sum(nsample)``); a different count is an error.

    Raises
    ------
    SissoInputError
        Missing file, too few columns, unreadable number, non-finite value, wrong row count.
    """
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise SissoInputError("file not found", path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SissoInputError(f"cannot read file ({exc})", path) from None
    lines = [(i, ln.replace("\t", " ").replace(",", " ").split())
             for i, ln in enumerate(text.splitlines(), start=1)]
    lines = [(i, toks) for i, toks in lines if toks]
    if not lines:
        raise SissoInputError("file is empty", path)
    head_line, header = lines[0]
    n_lead = 2 if ptype == 1 else 1
    n_avail = len(header) - n_lead
    if n_avail < 1:
        raise SissoInputError(
            f"header has {len(header)} column(s); expected the sample-name column"
            f"{', the target' if ptype == 1 else ''} and the features", path, head_line)
    if nsf is None:
        nsf = n_avail
    elif n_avail < nsf:
        raise SissoInputError(f"header has {n_avail} feature column(s) but nsf={nsf}",
                              path, head_line, "nsf")
    elif n_avail > nsf:
        warnings.warn(f"{path}: {n_avail} feature columns but nsf={nsf}; only the first {nsf} "
                      "are used (as in Fortran SISSO)", SissoInputWarning, stacklevel=2)
    names = header[n_lead:n_lead + nsf]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise SissoInputError(f"duplicate feature name(s): {', '.join(dup)}", path, head_line)
    rows = lines[1:]
    if n_rows is not None and len(rows) != n_rows:
        raise SissoInputError(
            f"{len(rows)} data row(s) but SISSO.in nsample adds up to {n_rows}", path,
            rows[-1][0] if rows else head_line, "nsample")
    X = np.empty((len(rows), nsf))
    y = np.empty(len(rows)) if ptype == 1 else None
    samples = []
    for r, (lineno, toks) in enumerate(rows):
        if len(toks) != len(header):
            raise SissoInputError(f"{len(toks)} field(s) but the header has {len(header)}",
                                  path, lineno)
        samples.append(toks[0])
        vals = toks[1:n_lead + nsf]
        try:
            nums = [_to_float(t) for t in vals]
        except ValueError:
            bad = next(t for t in vals if not _is_float(t))
            col = header[1 + vals.index(bad)]
            raise SissoInputError(f"cannot read {bad!r} (column '{col}') as a number",
                                  path, lineno) from None
        if not np.all(np.isfinite(nums)):
            col = header[1 + int(np.flatnonzero(~np.isfinite(nums))[0])]
            raise SissoInputError(f"non-finite value in column '{col}'", path, lineno)
        if y is not None:
            y[r] = nums[0]
            nums = nums[1:]
        X[r] = nums
    if not rows:
        raise SissoInputError("no data rows", path)
    return TrainData(samples, list(names), X, y, header[1] if ptype == 1 else None)


def _is_float(tok: str) -> bool:
    try:
        _to_float(tok)
    except ValueError:
        return False
    return True


@dataclass
class SissoProblem:
    """A Fortran SISSO job: settings plus data, ready for the estimators.

    Attributes
    ----------
    config : SissoConfig
    data : TrainData
    X : DataFrame
        Primary features (columns = feature names, index = sample names).
    y : ndarray
        Regression: the target. Classification: the class (1, 2, ... in the order of
        ``nsample``; classes are numbered within each task).
    tasks : ndarray or None
        Task (1, 2, ...) of each sample when ``ntask > 1``, else ``None``.
    """

    config: SissoConfig
    data: TrainData
    X: pd.DataFrame
    y: np.ndarray
    tasks: np.ndarray | None

    @property
    def directory(self) -> Path | None:
        """Folder holding ``SISSO.in``."""
        return None if self.config.path is None else self.config.path.parent


def load_sisso_dir(directory: str | Path) -> SissoProblem:
    """Read ``SISSO.in`` and ``train.dat`` (and ``feature_units`` if present) of a folder.

    Raises
    ------
    SissoInputError
        Any problem in either file, including ``nsample`` disagreeing with ``train.dat``.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise SissoInputError("not a directory", directory)
    config = read_sisso_in(directory / "SISSO.in")
    data = read_train_dat(directory / "train.dat", ptype=config.ptype, nsf=config.nsf,
                          n_rows=sum(config.nsample))
    task_counts = config.nsample
    tasks = np.repeat(np.arange(1, len(task_counts) + 1), task_counts)
    if config.is_classification:
        assert config.ngroup is not None
        y = np.concatenate([np.repeat(np.arange(1, len(g) + 1), g) for g in config.ngroup])
    else:
        assert data.y is not None
        y = data.y
    return SissoProblem(config, data, data.frame, y, tasks if config.ntask > 1 else None)
