"""The ``sisso-lite`` command line.

::

    sisso-lite run DIR                      # Fortran-style SISSO.in + train.dat
    sisso-lite fit DATA.csv --target COL [--units COL=UNIT ...] [-o model.json]
    sisso-lite predict model.json DATA.csv [-o predictions.csv]
    sisso-lite campaign POOL.csv (--target COL | --oracle SPEC) [...]   # sequential learning

Errors are printed as one line ``sisso-lite: error: ...`` with a non-zero exit code
(2 for usage errors, 1 otherwise); ``--traceback`` shows the Python traceback instead.
``campaign`` (in :mod:`sisso_lite.cli.campaign`) prints ``sisso-lite campaign: error: ...``
and exits with 2 for every input error. ``python -m sisso_lite.cli`` runs :func:`main`
(``cli/__main__.py``); ``python -m sisso_lite.cli.demo`` is the demo (``make demo``).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

from sisso_lite.cli._common import PROG, CliError, one_line, read_csv_table

__all__ = ["CliError", "build_parser", "main"]

_EPILOG = """\
examples:
  sisso-lite run tests/data/sisso_reference/octet14_mt2_r2_d2
  sisso-lite fit octet.csv --target E_RS-E_ZB --index-col material \\
      --units IP_A=eV IP_B=eV r_s_A=Angstrom r_s_B=Angstrom \\
      --n-dim 2 --max-complexity 2 --operators + - '*' / --n-sis 20 -o model.json
  sisso-lite predict model.json new.csv --index-col material -o predictions.csv
  sisso-lite campaign plate_A.csv --target overpotential_V --goal minimize --surrogate rf \\
      --budget 40 --output-dir run1

documentation: docs/cli.md, docs/fortran_compatibility.md
"""


class _Parser(argparse.ArgumentParser):
    #: prefix of the parser's error lines (the campaign subparser sets its own prog)
    error_prog = PROG

    def error(self, message: str):  # type: ignore[override]
        raise CliError(f"{message} (see '{self.prog} --help')", code=2, prog=self.error_prog)


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of ``sisso-lite`` (exposed for documentation and tests)."""
    from sisso_lite import __version__

    fmt = argparse.RawDescriptionHelpFormatter
    parser = _Parser(prog=PROG, formatter_class=fmt, epilog=_EPILOG,
                     description="SISSO symbolic regression and classification for materials "
                                 "(sisso-lite).")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--traceback", action="store_true",
                        help="show the Python traceback on errors (for bug reports)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser,
                                help="run 'sisso-lite COMMAND --help' for its options")

    from sisso_lite.io.keywords import KEYWORDS, RENAMED_KEYWORDS

    run_epilog = "SISSO.in keywords (v3.5):\n" + "".join(
        f"  {k:<15} {v}\n" for k, v in KEYWORDS.items()) + (
        "renamed keywords of older versions (accepted with a warning):\n  "
        + ", ".join(f"{old}->{new}" for old, (new, _) in RENAMED_KEYWORDS.items())
        + "\nsee docs/fortran_compatibility.md")
    run = sub.add_parser(
        "run", formatter_class=fmt, help="run a Fortran SISSO input directory",
        epilog=run_epilog,
        description="Run SISSO.in + train.dat (Fortran SISSO v3.5 format, older keywords "
                    "accepted with a warning) and write SISSO.out, Models/ and "
                    "SIS_subspaces/ into the directory.")
    run.add_argument("directory", metavar="DIR", help="folder holding SISSO.in and train.dat")
    _common(run)

    fit = sub.add_parser(
        "fit", formatter_class=fmt, help="fit SISSO to a CSV table and save model.json",
        description="Fit SissoRegressor (or SissoClassifier with --classify) to a CSV file, "
                    "print the best model of every dimension and write a JSON model file.")
    fit.add_argument("data", metavar="DATA.csv", help="CSV table with a header row")
    fit.add_argument("--target", required=True, metavar="COL", help="target column")
    fit.add_argument("--units", nargs="+", action="extend", default=[], metavar="COL=UNIT",
                     help="unit of a primary feature, e.g. IP_A=eV r_s_A=Angstrom "
                          "(unlisted: dimensionless)")
    fit.add_argument("--n-dim", type=int, default=2, metavar="N",
                     help="largest descriptor dimension (default 2)")
    fit.add_argument("--max-complexity", type=int, default=3, metavar="N",
                     help="maximal operators per feature, SISSO fcomplexity (default 3)")
    fit.add_argument("--operators", nargs="+", action="extend", metavar="OP",
                     help="operators, space or comma separated, e.g. + - '*' / exp ^2 sqrt "
                          "'|-|' (default: the estimator's set)")
    fit.add_argument("--n-sis", type=int, default=100, metavar="N",
                     help="SIS subspace size per dimension, SISSO nf_sis (default 100)")
    fit.add_argument("--n-models", type=int, default=10, metavar="N",
                     help="top models kept per dimension (default 10)")
    fit.add_argument("--metric", choices=("rmse", "maxae"), default="rmse",
                     help="model-selection metric (regression, default rmse)")
    fit.add_argument("--no-intercept", action="store_true", help="fit without intercept")
    fit.add_argument("--classify", action="store_true",
                     help="classification (SissoClassifier): the target holds class labels")
    fit.add_argument("--fortran-compatible", action="store_true",
                     help="mimic the feature construction of Fortran SISSO v3.5")
    fit.add_argument("--task-column", metavar="COL",
                     help="column with the task label of each row (multi-task SISSO)")
    _table_options(fit)
    fit.add_argument("-o", "--output", default="model.json", metavar="FILE",
                     help="model file to write (default model.json)")
    _common(fit)

    pred = sub.add_parser(
        "predict", formatter_class=fmt, help="predict with a saved model",
        description="Predict with a model.json on a CSV table. Columns are matched by name; "
                    "--units checks the units of the columns against the model's.")
    pred.add_argument("model", metavar="MODEL.json", help="model file from 'sisso-lite fit'")
    pred.add_argument("data", metavar="DATA.csv", help="CSV table with the primary features")
    pred.add_argument("--units", nargs="+", action="extend", default=[], metavar="COL=UNIT",
                      help="units of the data columns; an error if they differ from training")
    pred.add_argument("--task-column", metavar="COL", help="task label column (multi-task)")
    pred.add_argument("--dim", type=int, metavar="N",
                      help="use the best model of this dimension (default: largest)")
    _table_options(pred)
    pred.add_argument("-o", "--output", metavar="FILE",
                      help="write the table with a 'prediction' column (default: print)")

    from sisso_lite.cli.campaign import add_campaign_parser

    add_campaign_parser(sub, fmt)
    return parser


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.add_argument("--n-jobs", type=int, metavar="N", help="numba threads (-1: all)")


def _table_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--index-col", metavar="COL",
                   help="column with sample names (kept as row labels, not a feature)")
    p.add_argument("--drop", nargs="+", action="extend", default=[], metavar="COL",
                   help="columns to ignore")


# ----------------------------------------------------------------------------- helpers
def _parse_units(items: Sequence[str]) -> dict[str, str]:
    units: dict[str, str] = {}
    for item in items:
        col, sep, unit = item.partition("=")
        if not sep or not col.strip():
            raise CliError(f"--units expects COL=UNIT, got {item!r}", code=2)
        units[col.strip()] = unit.strip()
    return units


def _read_table(path: str, index_col: str | None, drop: Sequence[str], keep: Sequence[str],
                features: Sequence[str] | None = None):
    """Read a CSV; ``keep`` columns may hold text. With ``features`` (predict), text columns
    that are not model features are ignored instead of being an error."""
    import pandas as pd

    df = read_csv_table(path)
    for col in [index_col, *drop, *keep]:
        if col is not None and col not in df.columns:
            raise CliError(f"{path}: no column {col!r} (columns: {', '.join(df.columns)})")
    if index_col is not None:
        df = df.set_index(index_col)
    df = df.drop(columns=list(drop))
    bad = [c for c in df.columns if c not in keep and not pd.api.types.is_numeric_dtype(df[c])]
    if features is not None:
        df = df.drop(columns=[c for c in bad if c not in set(features)])
        bad = [c for c in bad if c in set(features)]
    if bad:
        raise CliError(f"{path}: column {bad[0]!r} is not numeric; use --index-col {bad[0]} "
                       f"or --drop {bad[0]}")
    return df


def _operators(items: Sequence[str] | None) -> tuple[str, ...] | None:
    if not items:
        return None
    return tuple(op for item in items for op in item.split(",") if op)


def _print_models(model, out) -> None:
    import pandas as pd

    table = model.models_
    table = table[table["rank"] == 1]
    with pd.option_context("display.max_colwidth", 200, "display.width", 200):
        print(table.to_string(index=False), file=out)


# ----------------------------------------------------------------------------- commands
def _cmd_run(args: argparse.Namespace) -> int:
    from sisso_lite.estimators.sisso_dir import run_sisso_dir

    model, report = run_sisso_dir(args.directory, verbose=not args.quiet, n_jobs=args.n_jobs)
    for d in report.dimensions:
        best = d.models[0]
        metric = (f"RMSE {best.rmse:.6f}  MaxAE {best.maxae:.6f}" if report.config.ptype == 1
                  else f"{best.n_overlap} sample(s) in overlap")
        print(f"{d.dim}D: {'  '.join(d.descriptors)}   {metric}")
    print(f"wrote {Path(args.directory) / 'SISSO.out'} and {Path(args.directory) / 'Models'}/")
    return 0


def _cmd_fit(args: argparse.Namespace) -> int:
    from sisso_lite.estimators.persistence import save_model

    keep = [args.target] + ([args.task_column] if args.task_column else [])
    df = _read_table(args.data, args.index_col, args.drop, keep)
    y = df.pop(args.target)
    tasks = df.pop(args.task_column).to_numpy() if args.task_column else None
    if df.shape[1] == 0:
        raise CliError(f"{args.data}: no feature columns left besides the target")
    units = _parse_units(args.units)
    unknown = [c for c in units if c not in df.columns]
    if unknown:
        raise CliError(f"--units: no feature column {unknown[0]!r} in {args.data}", code=2)
    params = dict(n_dim=args.n_dim, max_complexity=args.max_complexity, n_sis=args.n_sis,
                  units=[units.get(c) for c in df.columns] if units else None,
                  n_models=args.n_models,
                  fortran_compatible=args.fortran_compatible, n_jobs=args.n_jobs,
                  verbose=not args.quiet)
    ops = _operators(args.operators)
    if ops is not None:
        params["operators"] = ops
    if args.classify:
        from sisso_lite.estimators import SissoClassifier as cls

        if tasks is not None:
            raise CliError("--task-column (multi-task) is not supported with --classify", code=2)
    else:
        from sisso_lite.estimators import SissoRegressor as cls

        params.update(metric=args.metric, fit_intercept=not args.no_intercept)
        if not __import__("pandas").api.types.is_numeric_dtype(y):
            raise CliError(f"target {args.target!r} is not numeric; use --classify for labels")
    model = cls(**params)
    if tasks is not None:
        model.fit(df, y.to_numpy(), tasks=tasks)
    else:
        model.fit(df, y.to_numpy())
    _print_models(model, sys.stdout)
    path = save_model(model, args.output, training_data=(df, y.to_numpy(), tasks))
    print(f"wrote {path}")
    return 0


def _cmd_predict(args: argparse.Namespace) -> int:
    from sisso_lite.estimators.persistence import load_model
    from sisso_lite.io.model_json import model_feature_names, predict_checked

    model = load_model(args.model)
    keep = [args.task_column] if args.task_column else []
    df = _read_table(args.data, args.index_col, args.drop, keep, model_feature_names(model))
    tasks = df.pop(args.task_column).to_numpy() if args.task_column else None
    units = _parse_units(args.units) or None
    pred = predict_checked(model, df, tasks=tasks, units=units, dim=args.dim)
    out = df.copy()
    out["prediction"] = pred
    if args.output:
        out.to_csv(args.output, index=args.index_col is not None)
        print(f"wrote {args.output}")
    else:
        import pandas as pd

        with pd.option_context("display.max_rows", None, "display.float_format", "{:.10g}".format):
            print(out[["prediction"]].to_string())
    return 0


def _cmd_campaign(args: argparse.Namespace) -> int:
    from sisso_lite.cli.campaign import run_campaign  # its CampaignCliError is a CliError

    return run_campaign(args)


_COMMANDS = {"run": _cmd_run, "fit": _cmd_fit, "predict": _cmd_predict,
             "campaign": _cmd_campaign}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``sisso-lite``; returns the exit code."""
    from sisso_lite.io.errors import ModelFileError, SissoInputError, SissoInputWarning

    argv = list(sys.argv[1:] if argv is None else argv)
    traceback = "--traceback" in argv
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help / --version
            return int(exc.code or 0)
        if args.command is None:
            parser.print_help()
            return 2
        with warnings.catch_warnings():
            warnings.simplefilter("always", SissoInputWarning)
            warnings.showwarning = _show_warning
            return _COMMANDS[args.command](args)
    except CliError as exc:
        if traceback:
            raise
        print(f"{exc.prog}: error: {one_line(exc)}", file=sys.stderr)
        return exc.code
    except BrokenPipeError:  # output piped into e.g. `head`: stop quietly
        import os

        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):  # stdout without a file descriptor (tests)
            pass
        return 1
    except (SissoInputError, ModelFileError, ValueError, OSError, ImportError) as exc:
        if traceback:
            raise
        print(f"{PROG}: error: {one_line(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - a bug: still one line, ask for --traceback
        if traceback:
            raise
        print(f"{PROG}: error: internal error ({type(exc).__name__}: {one_line(exc)}); "
              "rerun with --traceback and report it", file=sys.stderr)
        return 1


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"{PROG}: warning: {message}", file=sys.stderr)
