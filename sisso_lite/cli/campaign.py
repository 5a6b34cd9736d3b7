"""``sisso-lite campaign``: a sequential-learning campaign from the command line.

::

    sisso-lite campaign POOL.csv --target COL [options]          # retrospective run
    sisso-lite campaign POOL.csv --oracle file.py:function [...]  # measure with a function
    sisso-lite campaign --resume CHECKPOINT [--oracle SPEC]       # continue a campaign
    sisso-lite campaign POOL.csv [--target COL] --suggest N       # next N picks, no measuring

The command drives :class:`sisso_lite.learning.Campaign` and writes ``history.csv``,
``rounds.csv``, ``best_so_far.png`` and the checkpoint into the output folder
(``suggestions.csv`` with ``--suggest``). It is registered by :mod:`sisso_lite.cli`; every
user error leaves this module as :class:`CampaignCliError`, a
:class:`~sisso_lite.cli._common.CliError` that the CLI prints as one line
``sisso-lite campaign: error: ...``.

The error class comes from :mod:`sisso_lite.cli._common`, not from the package
``__init__`` (which imports this module): no import cycle, and ``python -m sisso_lite.cli``
runs ``cli/__main__.py``, so the package is imported once and there is one ``CliError``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sisso_lite.cli._common import PROG, CliError, one_line, read_csv_table

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from sisso_lite.learning import Campaign

__all__ = ["CampaignCliError", "add_campaign_parser", "plot_best_so_far", "run_campaign"]

ACQUISITION_CHOICES = ("ei", "log_ei", "pi", "ucb", "lcb", "greedy", "explore", "random",
                       "thompson", "window")
#: acquisitions that take ``--xi`` / ``--kappa``
XI_ACQUISITIONS = ("ei", "log_ei", "pi")
KAPPA_ACQUISITIONS = ("ucb", "lcb")
#: defaults of the options that configure a new campaign (``None`` in argparse, so that
#: ``--resume`` can tell which ones were given)
DEFAULTS = {"surrogate": "sisso", "acquisition": "ei", "goal": "maximize", "batch_size": 1,
            "batch_strategy": "believer", "n_initial": 10, "budget": 100}
DEFAULT_OUTPUT_DIR = "campaign_output"
CHECKPOINT_NAME = "checkpoint.json"

#: options that only configure a new campaign: (argparse dest, option string)
_CONFIG_OPTIONS = (
    ("pool", "POOL.csv"), ("target", "--target"), ("features", "--features"),
    ("id_column", "--id-column"), ("index_col", "--index-col"), ("surrogate", "--surrogate"),
    ("acquisition", "--acquisition"), ("kappa", "--kappa"), ("xi", "--xi"),
    ("window", "--window"), ("goal", "--goal"), ("batch_size", "--batch-size"),
    ("batch_strategy", "--batch-strategy"), ("n_initial", "--n-initial"),
    ("budget", "--budget"), ("seed", "--seed"), ("checkpoint", "--checkpoint"),
    ("suggest", "--suggest"))

_EPILOG = """\
modes:
  retrospective  --target COL: the column is the answer key, revealed only for the rows
                 the campaign picks (rows with an empty value are never picked)
  oracle         --oracle SPEC: a function measures the picked rows; with --target, the
                 column's values are prior measurements and its empty rows the candidates
  resume         --resume CHECKPOINT: continue a killed or unfinished campaign exactly
  suggest        --suggest N: the next N picks for a human in the loop (measured rows:
                 non-empty --target values); writes suggestions.csv, measures nothing

outputs (in --output-dir, default campaign_output; with --resume the checkpoint's folder):
  history.csv      one row per measurement: round, pool_index, value, status, message,
                   best_so_far, pred_mean, pred_std, acquisition, formula, seconds
  rounds.csv       one row per round: sizes, failures, best so far, seconds, formula, note
  best_so_far.png  best value so far versus the measurement number
  checkpoint.json  the campaign's state after every round (plus checkpoint.pool.json)

examples:
  sisso-lite campaign plate_A.csv --target overpotential_V --goal minimize \\
      --surrogate rf --n-initial 10 --budget 40 --seed 0 --output-dir run1
  sisso-lite campaign --resume run1/checkpoint.json
  sisso-lite campaign pool.csv --features a,b,c --oracle my_oracle.py:measure --budget 20
  sisso-lite campaign partial.csv --target overpotential_V --goal minimize --suggest 5

documentation: docs/cli.md
"""


class CampaignCliError(CliError):
    """A user error of ``sisso-lite campaign``: one line, exit code ``code`` (default 2)."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message, code=code, prog=f"{PROG} campaign")


# ----------------------------------------------------------------------------- parser
def add_campaign_parser(sub: argparse._SubParsersAction,
                        formatter_class: type[argparse.HelpFormatter]) -> argparse.ArgumentParser:
    """Add the ``campaign`` subcommand to the subparsers ``sub`` of ``sisso-lite``.

    Parameters
    ----------
    sub
        The subparsers action of the ``sisso-lite`` parser.
    formatter_class
        Help formatter of the other subcommands.

    Returns
    -------
    argparse.ArgumentParser
        The new subparser (its usage errors are reported as ``sisso-lite campaign: error``).
    """
    p = sub.add_parser(
        "campaign", formatter_class=formatter_class, epilog=_EPILOG,
        help="sequential learning: choose which candidates to measure next",
        description="Run a sequential-learning campaign (sisso_lite.learning.Campaign) on a "
                    "CSV pool of candidates: fit a surrogate on the measured rows, score the "
                    "others with an acquisition function, measure the best batch, repeat "
                    "until the budget is spent.")
    p.error_prog = p.prog  # read by sisso_lite.cli._Parser.error
    p.add_argument("pool", nargs="?", metavar="POOL.csv",
                   help="CSV table of candidates, one row each (not with --resume)")
    what = p.add_argument_group("what is measured")
    what.add_argument("--target", metavar="COL",
                      help="column of known values (retrospective run; with --oracle or "
                           "--suggest: prior measurements, empty = unmeasured)")
    what.add_argument("--oracle", metavar="SPEC",
                      help="function that measures the picked rows: 'package.module:function' "
                           "or 'path/to/file.py:function' (gets the pool rows as a DataFrame, "
                           "returns one value per row; NaN or an exception = failed)")
    what.add_argument("--features", metavar="A,B,C",
                      help="comma-separated feature columns (default: every numeric column "
                           "but --target and --id-column)")
    what.add_argument("--id-column", metavar="COL",
                      help="column naming the candidates (unique; copied into the history)")
    what.add_argument("--index-col", metavar="COL",
                      help="column used as the pool index (default: the row number, from 0)")
    how = p.add_argument_group("how candidates are chosen")
    how.add_argument("--surrogate", choices=("sisso", "gp", "rf"),
                     help="surrogate model: SISSO ensemble, Gaussian process or random forest "
                          "(default sisso)")
    how.add_argument("--acquisition", choices=ACQUISITION_CHOICES,
                     help="acquisition function (default ei)")
    how.add_argument("--kappa", type=float, metavar="K",
                     help="exploration weight of ucb/lcb (default 2)")
    how.add_argument("--xi", type=float, metavar="X",
                     help="improvement margin of ei/log_ei/pi in target units (default 0)")
    how.add_argument("--window", type=float, nargs=2, metavar=("LOW", "HIGH"),
                     help="target window of --acquisition window (required there)")
    how.add_argument("--goal", choices=("maximize", "minimize"),
                     help="maximize or minimize the target (default maximize)")
    how.add_argument("--batch-size", type=int, metavar="N",
                     help="candidates measured per round (default 1)")
    how.add_argument("--batch-strategy", choices=("believer", "liar", "thompson", "top"),
                     help="how a batch of more than one is chosen (default believer)")
    how.add_argument("--n-initial", type=int, metavar="N",
                     help="size of the random initial design (default 10)")
    how.add_argument("--budget", type=int, metavar="N",
                     help="measurements in total, initial design included, prior values not "
                          "(default 100)")
    how.add_argument("--seed", type=int, metavar="S",
                     help="seed of every random choice (default: drawn, printed and stored "
                          "in the checkpoint)")
    run = p.add_argument_group("running")
    run.add_argument("--checkpoint", metavar="PATH",
                     help="checkpoint file written after every round (default "
                          f"OUTPUT_DIR/{CHECKPOINT_NAME}; never overwritten)")
    run.add_argument("--resume", metavar="CHECKPOINT",
                     help="continue the campaign of this checkpoint (its configuration is "
                          "used; only --oracle and --output-dir may be given)")
    run.add_argument("--suggest", type=int, metavar="N",
                     help="print and write the next N picks without measuring them")
    run.add_argument("--output-dir", metavar="DIR",
                     help=f"folder of the output files (default {DEFAULT_OUTPUT_DIR}; with "
                          "--resume the checkpoint's folder)")
    run.add_argument("--no-progress", "-q", "--quiet", dest="no_progress", action="store_true",
                     help="no progress bar")
    return p


# ----------------------------------------------------------------------------- entry
def run_campaign(args: argparse.Namespace) -> int:
    """Run ``sisso-lite campaign`` for parsed ``args``; returns the exit code.

    Raises
    ------
    CampaignCliError
        For every user error (bad option combination, unreadable file, any ``ValueError``
        or ``TypeError`` of :class:`~sisso_lite.learning.Campaign`, e.g. a
        :class:`~sisso_lite.learning.CheckpointError`), with a one-line message and exit
        code 2; an ``OSError`` or the ``RuntimeError`` of a failed round gets exit code 1.
    """
    try:
        if args.resume is not None:
            return _resume(args)
        if args.suggest is not None:
            return _suggest(args)
        return _new(args)
    except CampaignCliError:
        raise
    except (ValueError, TypeError) as exc:  # CheckpointError is a ValueError
        raise CampaignCliError(one_line(exc)) from exc
    except BrokenPipeError:
        raise
    except (OSError, RuntimeError) as exc:  # unwritable folder; a round's fit that failed
        raise CampaignCliError(one_line(exc), code=1) from exc


def _given(args: argparse.Namespace, dest: str) -> bool:
    return getattr(args, dest) is not None


def _setting(args: argparse.Namespace, dest: str):
    value = getattr(args, dest)
    return DEFAULTS[dest] if value is None else value


def _acquisition_params(args: argparse.Namespace) -> dict[str, float]:
    acq = _setting(args, "acquisition")
    params: dict[str, float] = {}
    if args.window is not None:
        if acq != "window":
            raise CampaignCliError(f"--window is only used by --acquisition window "
                                   f"(got --acquisition {acq})")
        low, high = args.window
        if not low <= high:
            raise CampaignCliError(f"--window LOW HIGH needs LOW <= HIGH, got {low:g} {high:g}")
        params.update(low=low, high=high)
    elif acq == "window":
        raise CampaignCliError("--acquisition window needs --window LOW HIGH")
    if args.kappa is not None:
        if acq not in KAPPA_ACQUISITIONS:
            raise CampaignCliError(f"--kappa is only used by --acquisition ucb or lcb "
                                   f"(got --acquisition {acq})")
        params["kappa"] = args.kappa
    if args.xi is not None:
        if acq not in XI_ACQUISITIONS:
            raise CampaignCliError(f"--xi is only used by --acquisition ei, log_ei or pi "
                                   f"(got --acquisition {acq})")
        params["xi"] = args.xi
    return params


def _features(args: argparse.Namespace) -> list[str] | None:
    if args.features is None:
        return None
    names = [f.strip() for f in args.features.split(",") if f.strip()]
    if not names:
        raise CampaignCliError("--features is empty; give comma-separated column names")
    return names


def _oracle_spec(spec: str) -> str:
    """Check that the oracle loads; a file path is made absolute (checkpoints then work
    from any folder)."""
    from sisso_lite.learning.oracles import load_oracle

    module, sep, attr = spec.rpartition(":")
    if sep and module.endswith(".py"):
        spec = f"{Path(module).resolve()}:{attr}"
    try:
        load_oracle(spec)
    except ValueError as exc:
        raise CampaignCliError(one_line(exc)) from exc
    except Exception as exc:  # noqa: BLE001 - an error inside the user's module
        raise CampaignCliError(f"cannot load oracle {spec!r}: {type(exc).__name__}: "
                               f"{one_line(exc)}") from exc
    return spec


def _read_pool(path: str, index_col: str | None) -> pd.DataFrame:
    df = read_csv_table(path, CampaignCliError)
    if index_col is not None:
        if index_col not in df.columns:
            raise CampaignCliError(f"{path}: no column {index_col!r} for --index-col "
                                   f"(columns: {', '.join(df.columns)})")
        df = df.set_index(index_col)
    return df


def _output_dir(args: argparse.Namespace, default: Path) -> Path:
    return Path(args.output_dir) if args.output_dir is not None else default


# ----------------------------------------------------------------------------- modes
def _new(args: argparse.Namespace) -> int:
    from sisso_lite.learning import Campaign

    if args.pool is None:
        raise CampaignCliError("give POOL.csv (or --resume CHECKPOINT)")
    if args.target is None and args.oracle is None:
        raise CampaignCliError("give --target COL (retrospective run on known values) or "
                               "--oracle SPEC (a function that measures), or use --resume "
                               "CHECKPOINT / --suggest N")
    params = _acquisition_params(args)
    features = _features(args)
    oracle = None if args.oracle is None else _oracle_spec(args.oracle)
    pool = _read_pool(args.pool, args.index_col)
    out = _output_dir(args, Path(DEFAULT_OUTPUT_DIR))
    checkpoint = Path(args.checkpoint) if args.checkpoint is not None else out / CHECKPOINT_NAME
    if checkpoint.exists():
        raise CampaignCliError(f"{checkpoint}: a checkpoint exists already; continue it with "
                               f"--resume {checkpoint}, or delete it, or choose another "
                               "--output-dir or --checkpoint")
    camp = Campaign(pool, target=args.target, oracle=oracle, features=features,
                    surrogate=_setting(args, "surrogate"),
                    acquisition=_setting(args, "acquisition"), goal=_setting(args, "goal"),
                    batch_size=_setting(args, "batch_size"),
                    n_initial=_setting(args, "n_initial"), budget=_setting(args, "budget"),
                    random_state=args.seed, checkpoint=checkpoint,
                    progress=not args.no_progress, acquisition_params=params,
                    batch_strategy=_setting(args, "batch_strategy"), id_column=args.id_column)
    return _run_and_report(camp, out)


def _resume(args: argparse.Namespace) -> int:
    from sisso_lite.learning import Campaign
    from sisso_lite.learning.checkpoint import read_checkpoint

    extra = [opt for dest, opt in _CONFIG_OPTIONS if _given(args, dest)]
    if extra:
        raise CampaignCliError(f"--resume continues the campaign as its checkpoint configures "
                               f"it; drop {', '.join(extra)} (only --oracle, --output-dir and "
                               "--no-progress may be given)")
    path = Path(args.resume)
    mode = read_checkpoint(path)["config"].get("mode")
    oracle = None
    if args.oracle is not None:
        if mode == "retrospective":
            raise CampaignCliError(f"{path}: a retrospective campaign (answer key in its "
                                   "target column) takes no --oracle")
        oracle = _oracle_spec(args.oracle)
    elif mode == "manual":
        raise CampaignCliError(f"{path}: this campaign has no oracle and no target column "
                               "(human in the loop); give --oracle SPEC to continue it")
    camp = Campaign.resume(path, oracle=oracle, progress=not args.no_progress)
    return _run_and_report(camp, _output_dir(args, path.parent))


def _suggest(args: argparse.Namespace) -> int:
    import numpy as np
    import pandas as pd

    from sisso_lite.learning import Campaign

    unused = [opt for dest, opt in (("oracle", "--oracle"), ("budget", "--budget"),
                                    ("checkpoint", "--checkpoint"),
                                    ("n_initial", "--n-initial"),
                                    ("batch_size", "--batch-size"))
              if _given(args, dest)]
    if unused:
        raise CampaignCliError(f"--suggest N measures nothing and keeps no state; drop "
                               f"{', '.join(unused)} (N is the batch size)")
    if args.suggest < 1:
        raise CampaignCliError(f"--suggest needs a positive number, got {args.suggest}")
    if args.pool is None:
        raise CampaignCliError("give POOL.csv with --suggest")
    params = _acquisition_params(args)
    features = _features(args)
    pool = _read_pool(args.pool, args.index_col)
    known = None
    if args.target is not None:
        if args.target not in pool.columns:
            raise CampaignCliError(f"target column {args.target!r} is not in the pool "
                                   f"(columns: {list(pool.columns)[:10]})")
        if features is not None and args.target in features:
            raise CampaignCliError(f"target column {args.target!r} cannot also be a feature")
        column = pool.pop(args.target)
        if not pd.api.types.is_numeric_dtype(column):
            raise CampaignCliError(f"target column {args.target!r} is not numeric "
                                   f"(dtype {column.dtype})")
        known = column.to_numpy(dtype=np.float64)
        if np.isinf(known).any():
            raise CampaignCliError(f"target column {args.target!r} has infinite values at "
                                   f"rows {pool.index[np.isinf(known)].tolist()[:5]}")
    # a human-in-the-loop campaign: every row is a candidate, the measured ones are told
    camp = Campaign(pool, features=features, surrogate=_setting(args, "surrogate"),
                    acquisition=_setting(args, "acquisition"), goal=_setting(args, "goal"),
                    n_initial=1, budget=len(pool), random_state=args.seed, progress=False,
                    acquisition_params=params, batch_strategy=_setting(args, "batch_strategy"),
                    id_column=args.id_column)
    measured = np.isfinite(known) if known is not None else np.zeros(len(pool), dtype=bool)
    if measured.any():
        camp.tell(pool.index[measured], known[measured])
    picks = camp.suggest(args.suggest)
    out = _output_dir(args, Path(DEFAULT_OUTPUT_DIR))
    out.mkdir(parents=True, exist_ok=True)
    path = out / "suggestions.csv"
    picks.to_csv(path, index_label=pool.index.name or "pool_index")
    shown = ([args.id_column] if args.id_column else []) + ["pred_mean", "pred_std",
                                                            "acquisition"]
    print(f"next {len(picks)} of {int((~measured).sum())} unmeasured candidates "
          f"({int(measured.sum())} measured, seed {camp.random_state}):")
    with pd.option_context("display.width", 200, "display.max_colwidth", 60):
        print(picks[shown].to_string(float_format="{:.6g}".format))
    if int(measured.sum()) < 2:
        print("random picks: the surrogate needs at least 2 measured values")
    formula = str(picks["formula"].iloc[0]) if len(picks) else ""
    if formula:
        print(f"formula: {formula}")
    print(f"wrote {path}")
    return 0


# ----------------------------------------------------------------------------- outputs
def _run_and_report(camp: Campaign, out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    try:
        camp.run()
    except KeyboardInterrupt:
        if camp.checkpoint is not None:
            print(f"sisso-lite campaign: interrupted after {camp.n_measured} measurement(s); "
                  f"continue with: sisso-lite campaign --resume {camp.checkpoint}",
                  file=sys.stderr)
        raise
    history, rounds = camp.history_, camp.rounds_
    files = [out / "history.csv", out / "rounds.csv", out / "best_so_far.png"]
    history.to_csv(files[0], index=False)
    rounds.to_csv(files[1], index=False)
    plot_best_so_far(history, camp.goal, files[2])
    _print_summary(camp, history, files)
    return 0


def _print_summary(camp: Campaign, history: pd.DataFrame, files: list[Path]) -> None:
    status = history["status"]
    n_prior = int((status == "prior").sum())
    n_failed = int((status == "failed").sum())
    print(f"campaign ({camp.mode}): surrogate {camp.surrogate or 'sisso'}, acquisition "
          f"{camp.acquisition}, goal {camp.goal}, seed {camp.random_state}")
    print(f"measured {camp.n_measured} of budget {camp.budget} in {len(camp.rounds_)} "
          f"round(s), {n_failed} failed" + (f"; {n_prior} prior value(s)" if n_prior else ""))
    ok = history[status.isin(["ok", "prior"])]
    if ok.empty:
        print("best value: none (no successful measurement)")
    else:
        row = ok.loc[ok["value"].idxmax() if camp.goal == "maximize" else ok["value"].idxmin()]
        name = f" (id {row[camp.id_column]})" if camp.id_column else ""
        when = "a prior value" if row["status"] == "prior" else f"round {row['round']}"
        print(f"best value {row['value']:.6g} at pool index {row['pool_index']}{name}, {when}")
    formulas = history["formula"].fillna("").astype(str)
    formulas = formulas[formulas != ""]
    print(f"last formula: {formulas.iloc[-1] if len(formulas) else '(none)'}")
    print(f"wrote {', '.join(str(f) for f in files)}")
    if camp.checkpoint is not None:
        print(f"checkpoint {camp.checkpoint}")


def plot_best_so_far(history: pd.DataFrame, goal: str, path: str | Path) -> None:
    """Save a plot of the best value so far against the measurement number.

    Parameters
    ----------
    history : DataFrame
        :attr:`Campaign.history_ <sisso_lite.learning.Campaign.history_>`; prior values
        (status ``"prior"``) are not numbered, the best of them is drawn as a dashed line.
    goal : {"maximize", "minimize"}
        Only used in the axis label.
    path : str or Path
        PNG file to write (pyplot-free Agg figure: no global matplotlib state is touched).
    """
    import numpy as np
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    prior = history[history["status"] == "prior"]
    h = history[history["status"] != "prior"]
    n = np.arange(1, len(h) + 1)
    ok = (h["status"] == "ok").to_numpy()
    fig = Figure(figsize=(5.0, 4.0), layout="constrained")
    ax = fig.add_subplot()
    if len(prior):
        best_prior = prior["value"].max() if goal == "maximize" else prior["value"].min()
        ax.axhline(best_prior, ls="--", color="0.5", lw=1, label="best prior value")
    ax.plot(n[ok], h["value"].to_numpy()[ok], "o", ms=3, color="0.6", label="measured")
    if (~ok).any():
        ax.plot(n[~ok], np.full(int((~ok).sum()), 0.02), "x", color="tab:red",
                transform=ax.get_xaxis_transform(), label="failed")
    ax.step(n, h["best_so_far"].to_numpy(), where="post", lw=2, color="tab:blue",
            label="best so far")
    ax.set(xlabel="measurement number", ylabel=f"value ({goal})")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if len(h) or len(prior):
        ax.legend(loc="best", fontsize="small")
    fig.savefig(path, dpi=120)
