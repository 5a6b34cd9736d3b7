"""Sequential-learning campaigns: which candidates to measure next, round after round.

A :class:`Campaign` holds a pool of candidate materials, measures an initial design, then
in every round fits a surrogate (by default a SISSO ensemble) on what has been measured,
scores the unmeasured candidates with an acquisition function and sends the best batch to
the oracle. After every round it writes a JSON checkpoint; :meth:`Campaign.resume`
continues a killed campaign exactly where it stopped.

Every random choice of round ``r`` (initial design, surrogate seed, Thompson draws) comes
from ``numpy.random.SeedSequence([random_state, r, purpose])``, so a resumed campaign makes
the same choices as an uninterrupted one without storing any generator state.

References
----------
* A. S. Nair, L. Foppa, M. Scheffler, npj Comput. Mater. (2025) -- SISSO-guided active
  learning with bootstrap + feature-dropout ensembles.
* B. Rohr et al., Chem. Sci. 11, 2696 (2020) -- benchmarking sequential learning.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from sisso_lite.learning import pool as pool_checks
from sisso_lite.learning.acquisition import get_acquisition
from sisso_lite.learning.checkpoint import (
    CHECKPOINT_FORMAT,
    CHECKPOINT_VERSION,
    CheckpointError,
    atomic_write_json,
    pool_fingerprint,
    pool_path,
    read_checkpoint,
    read_pool,
    write_pool,
)
from sisso_lite.learning.oracles import load_oracle, lookup_oracle, measure
from sisso_lite.learning.selection import BATCH_STRATEGIES, choose_batch
from sisso_lite.learning.surrogates import describe_surrogate

__all__ = ["Campaign"]

_PURPOSE_INITIAL, _PURPOSE_SURROGATE, _PURPOSE_ACQUISITION = 0, 1, 2
HISTORY_COLUMNS = ["round", "pool_index", "value", "status", "message", "best_so_far",
                   "pred_mean", "pred_std", "acquisition", "formula", "fit_seconds",
                   "acquisition_seconds"]


class Campaign:
    """A sequential-learning campaign over a pool of candidates.

    Parameters
    ----------
    pool : DataFrame
        One row per candidate: primary features, optionally an id column and a target
        column. Its index identifies candidates in the history (must be unique).
    target : str, optional
        Column of known values. Without ``oracle`` this is a *retrospective* run: the
        column is the answer key, revealed only for the rows the campaign picks (rows with
        NaN are unmeasured and never picked). With ``oracle`` its non-NaN values are prior
        measurements (training data from the start; not counted in ``budget``) and the
        NaN rows are the candidates.
    oracle : callable or str, optional
        Measures the chosen rows (see :mod:`sisso_lite.learning.oracles`); a string
        ``"module:function"`` is imported (and stored in the checkpoint).
    features : list of str, optional
        Feature columns of the surrogate; default every numeric column but ``target``
        and ``id_column``.
    surrogate : {"sisso", "gp", "rf"} or regressor, optional
        Default ``"sisso"`` (see :mod:`sisso_lite.learning.surrogates`).
    acquisition : str or callable
        A name of :data:`sisso_lite.learning.acquisition.ACQUISITIONS` ("ei", "log_ei",
        "pi", "ucb", "lcb", "greedy", "explore", "random", "thompson", "window",
        "constrained") or a function with the same signature.
    goal : {"maximize", "minimize"}
    batch_size : int
        Candidates measured per round.
    n_initial : int
        Random initial design (when ``initial`` is not given and fewer prior values exist).
    initial : list, optional
        Pool index labels of the initial design.
    budget : int
        Number of measurements the campaign makes (initial design included; prior values
        from ``target`` with an oracle are not counted).
    random_state : int, optional
        Seed of every random choice (drawn and stored in the checkpoint when None).
    checkpoint : str or Path, optional
        JSON checkpoint written atomically after every round (and the pool once beside it).
    progress : bool
        A tqdm progress bar with the best value so far.
    acquisition_params : dict, optional
        Extra arguments of the acquisition (``kappa``, ``xi``, ``low``/``high``, ``base``).
    batch_strategy : {"believer", "liar", "thompson", "top"}
        How a batch of more than one is chosen (:mod:`sisso_lite.learning.selection`).
    feasibility : str, callable or classifier, optional
        Probability that a candidate is feasible, for ``acquisition="constrained"``: a pool
        column of probabilities, a function of the pool rows, or a fitted classifier
        (``predict_proba`` on the features; the column of class ``1``/``True`` or the last).
    id_column : str, optional
        Column naming the candidates (kept in the history; must be unique).

    Attributes
    ----------
    history_ : DataFrame
        One row per measurement (columns ``HISTORY_COLUMNS``, plus ``id_column``).
    rounds_ : DataFrame
        One row per round: sizes, best so far, seconds, the formula, model error on the
        unmeasured pool (retrospective runs) and notes (e.g. surrogate warnings).
    model_ : estimator or None
        The surrogate of the last round (None before the first fit and after a resume).
    """

    def __init__(self, pool, target=None, oracle=None, features=None, surrogate=None,
                 acquisition="ei", goal="maximize", batch_size=1, n_initial=10, initial=None,
                 budget=100, random_state=None, checkpoint=None, progress=True,
                 acquisition_params=None, batch_strategy="believer", feasibility=None,
                 id_column=None):
        self.pool = pool_checks.check_pool(pool, id_column)
        self.target = target
        self.id_column = id_column
        self.features = pool_checks.choose_features(self.pool, features, target, id_column)
        self._X = pool_checks.feature_matrix(self.pool, self.features)
        self._known = pool_checks.target_values(self.pool, target)
        self.oracle_spec = pool_checks.absolute_oracle_spec(oracle) if isinstance(
            oracle, str) else None
        if isinstance(oracle, str):
            oracle = load_oracle(oracle)
        if oracle is None and target is not None:
            oracle = lookup_oracle(pd.Series(self._known, index=self.pool.index, name=target))
            self.mode = "retrospective"
        else:
            self.mode = "oracle" if oracle is not None else "manual"
        self.oracle = oracle
        self.surrogate = surrogate
        self.acquisition = acquisition
        self._acquire = get_acquisition(acquisition)
        self.acquisition_params = dict(acquisition_params or {})
        self.goal = pool_checks.check_goal(goal)
        pool_checks.check_acquisition_params(self._acquire, self.acquisition_params, self.goal)
        self.batch_size = pool_checks.positive_int("batch_size", batch_size)
        self.n_initial = pool_checks.positive_int("n_initial", n_initial)
        self.budget = pool_checks.positive_int("budget", budget)
        if batch_strategy not in BATCH_STRATEGIES:
            raise ValueError(f"batch_strategy must be one of {BATCH_STRATEGIES}, "
                             f"got {batch_strategy!r}")
        self.batch_strategy = batch_strategy
        self.feasibility = feasibility
        self.initial = None if initial is None else list(initial)
        if random_state is None:
            random_state = int(np.random.SeedSequence().generate_state(1)[0])
        self.random_state = pool_checks.seed_int(random_state)
        self.checkpoint = None if checkpoint is None else Path(checkpoint)
        self.progress = progress
        self.model_ = None
        self._records: list[dict] = []
        self._rounds: list[dict] = []
        self._pending: dict | None = None
        self._p_feasible: np.ndarray | None = None
        self._check_sizes()
        self._add_prior()

    # ------------------------------------------------------------------ validation
    def _measurable(self) -> np.ndarray:
        """Rows that could ever be measured (retrospective: those with a known value)."""
        if self.mode == "retrospective":
            return np.isfinite(self._known)
        if self.mode == "oracle" and self._known is not None:
            return ~np.isfinite(self._known)
        return np.ones(len(self.pool), dtype=bool)

    def _check_sizes(self) -> None:
        n_cand = int(self._measurable().sum())
        if n_cand == 0:
            raise ValueError("the pool has no candidate that can be measured "
                             f"(target column {self.target!r} leaves none)")
        if self.budget > n_cand:
            raise ValueError(f"budget={self.budget} is larger than the {n_cand} candidates "
                             "that can be measured; lower budget")
        n_prior = 0 if self.mode != "oracle" or self._known is None else int(
            np.isfinite(self._known).sum())
        if self.initial is None and self.n_initial - n_prior > self.budget:
            raise ValueError(f"n_initial={self.n_initial} exceeds budget={self.budget}"
                             + (f" plus the {n_prior} prior values" if n_prior else ""))
        if self.initial is not None:
            self._initial_positions()  # validates the labels

    def _initial_positions(self) -> np.ndarray:
        positions = pool_checks.labels_to_positions(self.pool, self.initial, "initial")
        bad = positions[~self._measurable()[positions]]
        if bad.size:
            raise ValueError(f"initial rows {self.pool.index[bad].tolist()[:5]} cannot be "
                             "measured (no known value / already measured)")
        if positions.size > self.budget:
            raise ValueError(f"initial has {positions.size} rows, more than budget="
                             f"{self.budget}")
        return positions

    def _add_prior(self) -> None:
        if self.mode != "oracle" or self._known is None:
            return
        for pos in np.flatnonzero(np.isfinite(self._known)):
            self._records.append(self._record(0, int(pos), float(self._known[pos]), "prior"))

    # ------------------------------------------------------------------ state
    def _record(self, rnd: int, pos: int, value, status: str, message: str = "",
                info: dict | None = None) -> dict:
        rec = {"round": rnd, "position": pos, "value": value, "status": status,
               "message": message}
        rec.update(info or {})
        return rec

    @property
    def n_measured(self) -> int:
        """Measurements made by the campaign (failures included, prior values not)."""
        return sum(r["status"] != "prior" for r in self._records)

    @property
    def done(self) -> bool:
        """True when the budget is spent or nothing is left to measure."""
        return self.n_measured >= self.budget or self._candidates().size == 0

    def _taken(self) -> np.ndarray:
        taken = np.zeros(len(self.pool), dtype=bool)
        taken[[r["position"] for r in self._records]] = True
        return taken

    def _candidates(self) -> np.ndarray:
        return np.flatnonzero(self._measurable() & ~self._taken())

    def _training(self) -> tuple[np.ndarray, np.ndarray]:
        ok = [r for r in self._records if r["status"] in ("ok", "prior")]
        pos = np.array([r["position"] for r in ok], dtype=np.int64)
        return pos, np.array([r["value"] for r in ok], dtype=np.float64)

    def best_value(self) -> float:
        """Best measured value so far (NaN before any successful measurement)."""
        _, y = self._training()
        if y.size == 0:
            return float("nan")
        return float(np.max(y) if self.goal == "maximize" else np.min(y))

    def _rng(self, rnd: int, purpose: int) -> np.random.Generator:
        return np.random.default_rng(np.random.SeedSequence([self.random_state, rnd, purpose]))

    def _seed(self, rnd: int) -> int:
        seq = np.random.SeedSequence([self.random_state, rnd, _PURPOSE_SURROGATE])
        return int(seq.generate_state(1)[0] % np.iinfo(np.int32).max)

    @property
    def round_(self) -> int:
        """Number of the next round (0 is the initial design)."""
        return len(self._rounds)

    # ------------------------------------------------------------------ choosing
    def _feasible_probability(self) -> np.ndarray | None:
        if self.feasibility is None:
            return None
        if self._p_feasible is None:
            self._p_feasible = pool_checks.feasibility_probability(
                self.feasibility, self.pool, self._X)
        return self._p_feasible

    def _choose(self, rnd: int, k: int, initial_design: bool | None = None) -> dict:
        """The picks of round ``rnd`` and what the surrogate predicted for them.

        ``initial_design`` (default: round 0) picks the initial design instead of asking the
        surrogate; with fewer than 2 successful measurements the picks are random too.
        """
        cand = self._candidates()
        train_pos, y = self._training()
        name = self.acquisition if isinstance(self.acquisition, str) else ""
        initial_design = rnd == 0 if initial_design is None else initial_design
        no_model = initial_design or name == "random" or train_pos.size < 2
        if initial_design and self.initial is not None:
            chosen = self._initial_positions()[:k]
            return self._pick_info(rnd, chosen, note="initial design (given)")
        if no_model:
            rng = self._rng(rnd, _PURPOSE_INITIAL)
            chosen = np.sort(rng.choice(cand, size=k, replace=False))
            note = "random" if name == "random" and rnd > 0 else "initial design (random)"
            return self._pick_info(rnd, chosen, note=note)
        p_feas = self._feasible_probability()
        try:
            picks = choose_batch(
                spec=self.surrogate, X_train=self._X[train_pos], y_train=y,
                X_cand=self._X[cand], k=k, acquisition=self._acquire,
                params=self.acquisition_params, goal=self.goal, best=self.best_value(),
                strategy=self.batch_strategy, rng=self._rng(rnd, _PURPOSE_ACQUISITION),
                seed=self._seed(rnd), p_feasible=None if p_feas is None else p_feas[cand],
                feature_names=self.features)
        except (ValueError, ArithmeticError, np.linalg.LinAlgError) as err:
            raise RuntimeError(
                f"round {rnd}: fitting the surrogate on {train_pos.size} measured points or "
                f"scoring {cand.size} candidates failed: {err} (everything measured is in "
                "the checkpoint; fix the cause and resume, e.g. "
                "Campaign.resume(path, surrogate=...))") from err
        self.model_ = picks.model
        rmse = float("nan")
        if self.mode == "retrospective":
            known = np.isfinite(self._known[cand]) & np.isfinite(picks.prediction.mean)
            if known.any():
                err = picks.prediction.mean[known] - self._known[cand][known]
                rmse = float(np.sqrt(np.mean(err**2)))
        info = self._pick_info(rnd, cand[picks.positions], note=picks.note)
        info.update(formula=picks.formula, fit_seconds=picks.fit_seconds,
                    acquisition_seconds=picks.acquisition_seconds,
                    n_undefined=picks.n_undefined, rmse_unmeasured=rmse,
                    pred_mean=picks.pred_mean.tolist(), pred_std=picks.pred_std.tolist(),
                    acquisition=picks.acquisition.tolist())
        return info

    @staticmethod
    def _pick_info(rnd: int, chosen: np.ndarray, note: str = "") -> dict:
        n = len(chosen)
        return {"round": rnd, "positions": [int(p) for p in chosen], "note": note,
                "formula": "", "fit_seconds": 0.0, "acquisition_seconds": 0.0,
                "n_undefined": 0, "rmse_unmeasured": float("nan"),
                "pred_mean": [float("nan")] * n, "pred_std": [float("nan")] * n,
                "acquisition": [float("nan")] * n}

    def _round_size(self, rnd: int) -> int:
        left = self.budget - self.n_measured
        n_cand = self._candidates().size
        if rnd == 0:
            if self.initial is not None:
                return min(len(self.initial), left, n_cand)
            n_prior = len(self._records)
            size = max(self.n_initial - n_prior, 0) if n_prior else self.n_initial
            return min(size, left, n_cand)
        return min(self.batch_size, left, n_cand)

    # ------------------------------------------------------------------ the loop
    def step(self) -> pd.DataFrame:
        """Run one round (choose, checkpoint the choice, measure, checkpoint).

        Returns the history rows of this round (empty when the campaign is done).
        """
        if self.oracle is None:
            raise RuntimeError("this campaign has no oracle and no target column: use "
                               "suggest(n) and tell(index, values) (human in the loop)")
        if self._pending is None:
            if self.done:
                return self.history_.iloc[0:0]
            rnd = self.round_
            k = self._round_size(rnd)
            self._pending = (self._choose(rnd, k) if k > 0
                             else self._pick_info(rnd, np.empty(0, dtype=np.int64),
                                                  note="prior values only"))
            self.save()
        pending = self._pending
        positions = pending["positions"]
        results, oracle_s = measure_batch(self.oracle, self.pool, positions)
        keys = ("pred_mean", "pred_std", "acquisition")
        for j, (pos, res) in enumerate(zip(positions, results, strict=True)):
            info = {key: pending[key][j] for key in keys}
            info.update(formula=pending["formula"], fit_seconds=pending["fit_seconds"],
                        acquisition_seconds=pending["acquisition_seconds"])
            self._records.append(self._record(pending["round"], pos, res.value, res.status,
                                              res.message, info))
        self._rounds.append({
            "round": pending["round"], "n_picked": len(positions),
            "n_failed": sum(r.status == "failed" for r in results),
            "n_measured": self.n_measured, "best_so_far": self.best_value(),
            "fit_seconds": pending["fit_seconds"],
            "acquisition_seconds": pending["acquisition_seconds"],
            "oracle_seconds": oracle_s, "n_undefined": pending["n_undefined"],
            "rmse_unmeasured": pending["rmse_unmeasured"], "formula": pending["formula"],
            "note": pending["note"]})
        return close_round(self)

    def run(self, n_rounds: int | None = None) -> Campaign:
        """Run rounds until the budget is spent (or ``n_rounds`` more rounds); returns self."""
        run_rounds(self, n_rounds, "campaign")
        return self

    def suggest(self, n: int | None = None) -> pd.DataFrame:
        """The next ``n`` picks (default ``batch_size``) without measuring them.

        For a human in the loop: measure the suggested rows, then :meth:`tell` the values.
        Returns the pool rows with ``pred_mean``, ``pred_std``, ``acquisition``, ``formula``
        and ``note`` (how they were picked: the surrogate, or a random initial design while
        fewer than ``n_initial`` values are known) columns, best first. The campaign's state
        is not changed.
        """
        n = self.batch_size if n is None else pool_checks.positive_int("n", n)
        n = min(n, self._candidates().size)
        if n == 0:
            raise ValueError("nothing left to suggest: every candidate is measured")
        _, y = self._training()
        initial = self.round_ == 0 and self._round_size(0) > 0 and y.size < self.n_initial
        info = self._choose(self.round_, n, initial_design=initial)
        out = self.pool.iloc[info["positions"]].copy()
        for key in ("pred_mean", "pred_std", "acquisition"):
            out[key] = info[key]
        out["formula"] = info["formula"]
        out["note"] = info["note"] or "surrogate"
        return out

    def tell(self, index, values, messages=None) -> None:
        """Record values measured outside the campaign (NaN = failed) as one round."""
        labels = list(index) if np.ndim(index) else [index]
        vals = list(np.ravel(values)) if np.ndim(values) else [values]
        if len(vals) != len(labels):
            raise ValueError(f"tell got {len(labels)} index labels and {len(vals)} values")
        positions = pool_checks.labels_to_positions(self.pool, labels, "index")
        taken = self._taken()
        if taken[positions].any():
            dup = self.pool.index[positions[taken[positions]]].tolist()
            raise ValueError(f"rows {dup[:5]} are already measured")
        rnd = self.round_
        for j, (pos, value) in enumerate(zip(positions, vals, strict=True)):
            ok = value is not None and np.isfinite(float(value))
            msg = "" if ok else (messages[j] if messages else "told as not measurable")
            self._records.append(self._record(rnd, int(pos), float(value) if ok else None,
                                              "ok" if ok else "failed", msg))
        self._rounds.append({"round": rnd, "n_picked": len(positions),
                             "n_failed": sum(r["status"] == "failed" and r["round"] == rnd
                                             for r in self._records),
                             "n_measured": self.n_measured, "best_so_far": self.best_value(),
                             "note": "told"})
        self.save()

    # ------------------------------------------------------------------ tables
    @property
    def history_(self) -> pd.DataFrame:
        """One row per measurement, in order (see the class docstring)."""
        rows = []
        best = np.nan
        maximize = self.goal == "maximize"
        for r in self._records:
            v = r["value"]
            if v is not None and r["status"] in ("ok", "prior"):
                best = v if not np.isfinite(best) else (max(best, v) if maximize
                                                        else min(best, v))
            row = {"round": r["round"], "pool_index": self.pool.index[r["position"]],
                   "value": np.nan if v is None else v, "status": r["status"],
                   "message": r["message"], "best_so_far": best}
            for key in ("pred_mean", "pred_std", "acquisition", "fit_seconds",
                        "acquisition_seconds"):
                val = r.get(key)
                row[key] = np.nan if val is None else val
            row["formula"] = r.get("formula", "")
            if self.id_column is not None:
                row[self.id_column] = self.pool[self.id_column].iloc[r["position"]]
            rows.append(row)
        columns = HISTORY_COLUMNS + ([self.id_column] if self.id_column else [])
        return pd.DataFrame(rows, columns=columns)

    @property
    def rounds_(self) -> pd.DataFrame:
        """One row per round (see the class docstring)."""
        return pd.DataFrame(self._rounds)

    # ------------------------------------------------------------------ checkpoints
    def _fingerprint_columns(self) -> list[str]:
        extra = [c for c in (self.target, self.id_column) if c is not None]
        return list(dict.fromkeys(self.features + extra))

    def _config(self) -> dict:
        def spec(obj, fallback: str):
            return obj if isinstance(obj, str) or obj is None else fallback

        return {
            "target": self.target, "features": self.features, "id_column": self.id_column,
            "mode": self.mode, "oracle": self.oracle_spec or (
                None if self.mode != "oracle" else "<python callable>"),
            "surrogate": spec(self.surrogate, describe_surrogate(self.surrogate)),
            "surrogate_is_preset": self.surrogate is None or isinstance(self.surrogate, str),
            "acquisition": spec(self.acquisition, "<python callable>"),
            "acquisition_params": self.acquisition_params, "goal": self.goal,
            "batch_size": self.batch_size, "n_initial": self.n_initial,
            "initial": None if self.initial is None else [
                pool_checks.json_label(v) for v in self.initial],
            "budget": self.budget, "random_state": self.random_state,
            "batch_strategy": self.batch_strategy,
            "feasibility": spec(self.feasibility, "<python object>"),
        }

    def save(self, path: str | Path | None = None) -> None:
        """Write the checkpoint (atomic); the pool is written once beside it."""
        path = Path(path) if path is not None else self.checkpoint
        if path is None:
            return
        fingerprint = pool_fingerprint(self.pool, self._fingerprint_columns())
        ppath = pool_path(path)
        if getattr(self, "_pool_written", None) != str(ppath):
            write_pool(ppath, self.pool)
            self._pool_written = str(ppath)
        atomic_write_json(path, {
            "format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION,
            "config": self._config(), "pool_fingerprint": fingerprint,
            "pool_file": ppath.name, "records": self._records, "rounds": self._rounds,
            "pending": self._pending})

    @classmethod
    def resume(cls, path, pool=None, oracle=None, surrogate=None, acquisition=None,
               feasibility=None, progress=True, budget=None) -> Campaign:
        """Continue a campaign from its checkpoint.

        ``pool`` defaults to the copy stored beside the checkpoint; a given pool must be
        the same (checked by fingerprint). Python objects that cannot live in JSON (a
        callable oracle, a custom surrogate or acquisition, a feasibility model) must be
        passed again; names and presets are restored from the checkpoint. ``surrogate`` may
        also replace a preset (e.g. after a failed fit), and ``budget`` extends (or
        shortens, not below what is measured) the campaign.
        """
        path = Path(path)
        data = read_checkpoint(path)
        cfg = data["config"]
        if oracle is not None and cfg["mode"] != "oracle":
            raise ValueError(f"{path}: this is a {cfg['mode']} campaign (no oracle); "
                             "resume it without oracle=")
        if budget is not None:
            n_done = sum(r.get("status") != "prior" for r in data["records"])
            if pool_checks.positive_int("budget", budget) < n_done:
                raise ValueError(f"budget={budget} is below the {n_done} measurements "
                                 "already made")
            cfg = {**cfg, "budget": budget}
        if pool is None:
            pool = read_pool(path.with_name(data.get("pool_file") or pool_path(path).name))
        oracle = _restore(oracle, cfg["oracle"] if cfg["mode"] == "oracle" else None,
                          "oracle", path)
        surrogate = _restore(surrogate, cfg["surrogate"] if cfg["surrogate_is_preset"]
                             else "<custom>", "surrogate", path)
        acquisition = _restore(acquisition, cfg["acquisition"], "acquisition", path)
        feasibility = _restore(feasibility, cfg["feasibility"], "feasibility", path)
        try:
            camp = cls(pool, target=cfg["target"], oracle=oracle, features=cfg["features"],
                       surrogate=surrogate, acquisition=acquisition, goal=cfg["goal"],
                       batch_size=cfg["batch_size"], n_initial=cfg["n_initial"],
                       initial=cfg["initial"], budget=cfg["budget"],
                       random_state=cfg["random_state"], checkpoint=path, progress=progress,
                       acquisition_params=cfg["acquisition_params"],
                       batch_strategy=cfg["batch_strategy"], feasibility=feasibility,
                       id_column=cfg["id_column"])
        except (TypeError, ValueError) as err:  # corrupt settings or a damaged pool copy
            raise CheckpointError(f"{path}: cannot resume: {err}") from err
        if pool_fingerprint(camp.pool, camp._fingerprint_columns()) != data["pool_fingerprint"]:
            raise CheckpointError(f"{path}: the given pool differs from the campaign's pool "
                                  "(features, target, ids or index changed)")
        n_pool = len(camp.pool)
        for i, rec in enumerate(data["records"]):
            if not 0 <= rec["position"] < n_pool:
                raise CheckpointError(f"{path}: corrupt checkpoint: record {i} points at row "
                                      f"{rec['position']} of a pool of {n_pool}")
        if data["pending"] is not None and \
                not all(0 <= p < n_pool for p in data["pending"]["positions"]):
            raise CheckpointError(f"{path}: corrupt checkpoint: the pending batch points "
                                  f"outside the pool of {n_pool} rows")
        camp._records = data["records"]
        camp._rounds = data["rounds"]
        camp._pending = data["pending"]
        camp._pool_written = str(pool_path(path))
        return camp


def _restore(given, stored, what: str, path: Path):
    """A constructor argument on resume: the given object, or the stored name."""
    if given is not None:
        return given
    if isinstance(stored, str) and stored.startswith("<"):
        raise ValueError(f"{path}: this campaign used a {stored.strip('<>')} as {what}; pass "
                         f"{what}=... to Campaign.resume")
    return stored


def measure_batch(oracle, pool: pd.DataFrame, positions: list) -> tuple[list, float]:
    """The oracle's results for the pool rows at ``positions`` and the seconds it took."""
    start = time.perf_counter()
    results = measure(oracle, pool.iloc[positions]) if positions else []
    return results, time.perf_counter() - start


def close_round(campaign) -> pd.DataFrame:
    """End a measured round: no batch pending, checkpoint written; the round's history rows.

    Shared by :class:`Campaign` and the screening campaigns (``_pending``, ``save()``,
    ``history_`` and ``_rounds``).
    """
    campaign._pending = None
    campaign.save()
    history = campaign.history_
    return history[history["round"] == campaign._rounds[-1]["round"]]


def run_rounds(campaign, n_rounds: int | None, desc: str) -> None:
    """Step ``campaign`` until its budget is spent (or ``n_rounds`` more rounds), with a bar.

    Shared by :class:`Campaign` and the screening campaigns: anything with ``step()``,
    ``done``, ``budget``, ``n_measured``, ``round_``, ``best_value()``, ``progress`` and a
    pending batch ``_pending`` (measured first after a resume).
    """
    bar = tqdm(total=campaign.budget, initial=min(campaign.n_measured, campaign.budget),
               disable=not campaign.progress, desc=desc, unit="meas")
    done_rounds = 0
    try:
        while (campaign._pending is not None or not campaign.done) and (
                n_rounds is None or done_rounds < n_rounds):
            before = campaign.n_measured
            campaign.step()
            done_rounds += 1
            bar.update(campaign.n_measured - before)
            bar.set_postfix(round=campaign.round_ - 1, best=f"{campaign.best_value():.4g}")
    finally:
        bar.close()
