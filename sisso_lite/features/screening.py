"""SIS over a built feature space: stored rungs scored in blocks, last rung on the fly.

Selection rules (Fortran SISSO v3.5 ``FC.f90``: ``update_select``, ``dup_scheck('selected')``,
``sure_indep_screening``):

* a candidate must be valid and within the ``[min_abs_value, max_abs_value]`` bounds, and its
  key must not be in ``exclude``;
* two candidates are equivalent when their scores differ by <= 1e-8 and their values are
  (anti)correlated with |r| >= ``corr_threshold`` (Fortran: 1 - 1e-8; default mode: 0.99);
  only the simpler one survives (lower complexity, shorter string, then alphabetical);
* features are taken best score first; among scores within 1e-8 of the best the simpler wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numba
import numpy as np

from .distributed import blocks_backend, screen_blocks, worth_blocking
from .expression import Expression
from .fused import chunk_bounds, partner_lists, screen_last_rung_chunks
from .generate import MAX_PER_PAIR, MODE_VALUES, generate_rung
from .kernels import SELECTABLE, pearson_score_one
from .memory import check_screen
from .operators import operator_mask
from .select import select_indices, tie_ranks, unit_rows_nb
from .storage import StoredValues

if TYPE_CHECKING:  # annotations only: space.py calls screen_space with itself
    from .space import FeatureSpace

SCORE_TOL = 1e-8
_VALUES_CHUNK_BYTES = 16 * 2**20
#: a progress bar is shown only for a last rung screened in at least this many steps
#: (windows of virtual rows, or groups of kernel chunks)
PROGRESS_MIN_STEPS = 4
_PROGRESS: ContextVar[bool] = ContextVar("sisso_lite_screen_progress", default=False)


@contextmanager
def screen_progress(enabled: bool = True) -> Iterator[None]:
    """Within the block, :func:`screen_space` (``FeatureSpace.screen``) shows a tqdm bar
    over the last-rung screen (tier features screened, candidates counted) when it runs in
    at least :data:`PROGRESS_MIN_STEPS` steps. Set by the SISSO driver when ``verbose``;
    the screened features do not depend on it. The setting is per thread (a context
    variable), so concurrent screens in other threads are not affected."""
    token = _PROGRESS.set(bool(enabled))
    try:
        yield
    finally:
        _PROGRESS.reset(token)


def _progress_bar(total: int, n_steps: int):
    """A tqdm bar over ``total`` tier features, or None (too few steps for a bar)."""
    if n_steps < PROGRESS_MIN_STEPS or total <= 0:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=int(total), desc="SIS last rung", unit="feature", leave=False)


@dataclass(frozen=True)
class ScreenedFeature:
    """One SIS-selected feature: its expression, values on the screened rows, and score."""

    expression: Expression
    values: np.ndarray
    score: float


def _keep_size(n_sis: int, n_exclude: int) -> int:
    """Candidates kept before duplicate removal (Fortran keeps 2 n_sis after removal)."""
    return 8 * n_sis + n_exclude + 64


def screen_space(
    space: FeatureSpace,
    scorer: Any,
    n_sis: int,
    exclude: Iterable[str] | None,
    rows: Sequence[int] | np.ndarray | None,
    allowed_primary: Sequence[bool] | np.ndarray | None,
    progress: bool | None = None,
) -> list[ScreenedFeature]:
    """Implementation of :meth:`FeatureSpace.screen`.

    ``progress``: a tqdm bar over the last-rung screen when it has enough steps (None: as
    set by :func:`screen_progress`, default off); results do not depend on it.
    """
    if progress is None:
        progress = _PROGRESS.get()
    if n_sis < 1:
        raise ValueError("n_sis must be >= 1")
    excluded = set(exclude or ())
    if rows is None:
        store, status, flags = space._storage, space._status, None
    else:
        rows = np.asarray(rows, dtype=np.int64).ravel()
        if rows.size < 2 or rows.min() < 0 or rows.max() >= space.n_samples_:
            raise ValueError(f"rows must index the {space.n_samples_} build samples")
        store = space._storage.subset(rows)
        status, *flags = store.status_and_flags(space._lower, space._upper)
    n_rows = store.n_samples
    if getattr(scorer, "n_samples", None) not in (None, n_rows):
        raise ValueError(f"scorer expects {scorer.n_samples} samples but {n_rows} rows screened")
    allowed = _allowed_features(space, allowed_primary)
    keep = _keep_size(n_sis, len(excluded))
    selectable = (status == SELECTABLE) & allowed
    stored = np.flatnonzero(selectable)
    fast = scorer.fast_path() if hasattr(scorer, "fast_path") else None
    check_screen(space, store, n_sis, keep, 8 * numba.get_num_threads(), fast is None)
    if fast is not None:
        stored_scores, n_valid, last = _screen_fast(space, store, fast, selectable, allowed,
                                                    flags, keep, progress)  # fmt: skip
    else:  # generic scorers read materialised rows
        values = store.full(cache=rows is None)
        stored_scores = np.full(store.n_total, np.nan)
        stored_scores[stored] = np.concatenate(
            [scorer.score_block(values[block]) for block in _blocks(stored, n_rows)]
            or [np.empty(0)]
        )
        n_valid, last = (_screen_last_rung(space, scorer, values, allowed, keep, progress)
                         if space.n_rungs_ >= 1 else (0, []))  # fmt: skip
    stored_scores = stored_scores[stored]
    cands: list[tuple[float, int, int, int]] = []  # (score, code, a, b); code -1 = stored a
    top = np.argsort(-np.nan_to_num(stored_scores, nan=-1.0), kind="stable")[:keep]
    for k in top:
        if not np.isnan(stored_scores[k]):
            cands.append((float(stored_scores[k]), -1, int(stored[k]), -1))
    cands.extend(last)
    if (space.n_rungs_ >= 1 and rows is None and allowed_primary is None
            and not space._last_rung_counted):  # fmt: skip
        space.n_features_per_rung_.append(space.n_stored_ + n_valid)
        space._last_rung_counted = True

    chosen = _select(space, cands, store, n_sis, excluded)
    result = []
    for score, code, a, b, vals in chosen:
        expr = space.expression_of(a) if code < 0 else space.candidate_expression(code, a, b)
        result.append(ScreenedFeature(expr, vals, score))
    return result


def _screen_fast(
    space: FeatureSpace, store: StoredValues, fast: tuple, selectable: np.ndarray,
    allowed: np.ndarray, flags: list | None, keep: int, progress: bool = False,
) -> tuple[np.ndarray, int, list[tuple[float, int, int, int]]]:  # fmt: skip
    """Pearson screen block by block over the (partly virtual) stored rows.

    Returns the scores of the stored features (NaN where not selectable), the number of
    valid last-rung candidates and the best ``keep`` of them ``(score, code, a, b)``.
    ``progress``: a bar over the windows of virtual rows, or (all rows stored, one window)
    over groups of the kernel's chunks (:meth:`_LastRung.screen`); the same calls either way.
    """
    scores = np.full(store.n_total, np.nan)
    index = np.flatnonzero(selectable[: store.start])
    scores[index] = pearson_scores_at(store.operands, index, *fast)
    last = None
    if space.n_rungs_ >= 1:
        inputs = space._rung_inputs(None, flags)
        last = _LastRung(space, inputs, allowed, keep, fast)
    n_workers = blocks_backend() if last is not None else None
    if n_workers is not None and not worth_blocking(last, store):
        n_workers = None
    if n_workers is not None:  # last rung in blocks through joblib (distributed.py)
        screen_blocks(last, store, n_workers)
    bar = None  # windows of virtual rows; one window: the kernel's chunks (screen())
    if progress and last is not None and n_workers is None and store.n_virtual:
        n_windows = -(-(store.n_total - store.start) // store.block_rows)
        bar = _progress_bar(store.n_total - store.start, n_windows)
    try:
        for lo, hi, window in store.blocks():
            shift = lo - store.start
            index = lo + np.flatnonzero(selectable[lo:hi])
            scores[index] = pearson_scores_at(window, index - shift, *fast)
            if last is not None and n_workers is None:
                i_lo, i_hi = (lo, hi) if store.n_virtual else (last.tier_start, store.n_total)
                last.screen(i_lo, i_hi, window, store.start, shift,
                            progress=progress and not store.n_virtual)  # fmt: skip
                if bar is not None:
                    bar.set_postfix(candidates=f"{last.n_valid:,}", refresh=False)
                    bar.update(i_hi - i_lo)
    finally:
        if bar is not None:
            bar.close()
    if last is None:
        return scores, 0, []
    return scores, last.n_valid, last.best()


class _LastRung:
    """Fused last-rung screen over ranges of tier features, keeping the best ``keep``."""

    def __init__(self, space: FeatureSpace, inputs: dict, allowed: np.ndarray, keep: int,
                 fast: tuple) -> None:  # fmt: skip
        self.space, self.inputs, self.allowed, self.keep, self.fast = (
            space, inputs, allowed, keep, fast)
        rung = space.n_rungs_
        self.opmask = np.array(operator_mask(space.operator_sets_[rung - 1]), dtype=np.bool_)
        self.tier_start = start = inputs["tier_start"]
        n_total = space.n_stored_
        max_budget = max(space.max_complexity - 1, 0)
        self.older = partner_lists(space._complexity, allowed, 0, start, max_budget)
        self.tier = partner_lists(space._complexity, allowed, start, n_total, max_budget)
        self.n_valid = 0
        empty = np.empty(0, np.int64)
        self.top = (np.empty(0), empty, empty, empty)  # score, code, a, b; best first

    def screen(self, lo: int, hi: int, values: np.ndarray, start: int, shift: int,
               progress: bool = False) -> None:  # fmt: skip
        """Candidates of tier features ``[lo, hi)``; ``values`` rows as in the kernel.

        ``progress``: run the kernel's chunks in groups of one per numba thread, with a bar
        over them (when there are at least :data:`PROGRESS_MIN_STEPS` groups). Every chunk
        gets the same bounds and threshold as in the single call and the per-chunk outputs
        are concatenated in chunk order, so the result is the same.
        """
        space, inputs = self.space, self.inputs
        n_threads = numba.get_num_threads()
        n_chunks = 8 * n_threads if hi - lo > 1000 else 1
        bounds = chunk_bounds(space._complexity, space.max_complexity, self.older[1], lo, hi,
                              n_chunks)  # fmt: skip
        threshold = self.top[0][-1] if len(self.top[0]) == self.keep else -np.inf

        def run(bnds: np.ndarray) -> tuple:
            return screen_last_rung_chunks(
                bnds, self.opmask, space._op, space._a, space._b, space._complexity,
                space.max_complexity, inputs["right_first"], inputs["unit_id"],
                inputs["nonzero"], inputs["positive"], inputs["dimensionless"], self.allowed,
                values, start, shift, space._fortran, space._lower, space._upper, *self.older,
                *self.tier, *self.fast, self.keep, threshold,
            )  # fmt: skip

        bar = None
        if progress:
            cuts = np.arange(0, len(bounds) - 1, n_threads)  # first chunk of each group
            bar = _progress_bar(hi - lo, len(cuts))
        if bar is None:
            n_valid, n_top, score, code, a, b = run(bounds)
        else:
            parts = []
            try:
                for g, c0 in enumerate(cuts):
                    c1 = cuts[g + 1] if g + 1 < len(cuts) else len(bounds) - 1
                    parts.append(run(np.ascontiguousarray(bounds[c0 : c1 + 1])))
                    n_so_far = self.n_valid + sum(int(p[0].sum()) for p in parts)
                    bar.set_postfix(candidates=f"{n_so_far:,}", refresh=False)
                    bar.update(int(bounds[c1] - bounds[c0]))
            finally:
                bar.close()
            n_valid, n_top, score, code, a, b = (np.concatenate(col)
                                                for col in zip(*parts, strict=True))
        self.n_valid += int(n_valid.sum())
        filled = np.arange(score.shape[1])[None, :] < n_top[:, None]
        merged = [np.concatenate([old, new[filled]])
                  for old, new in zip(self.top, (score, code, a, b), strict=True)]  # fmt: skip
        order = np.argsort(-merged[0], kind="stable")[: self.keep]
        self.top = tuple(col[order] for col in merged)

    def best(self) -> list[tuple[float, int, int, int]]:
        return list(zip(*(col.tolist() for col in self.top), strict=True))


@numba.njit(cache=True)
def pearson_scores_at(values, index, y_unit, task_index, n_tasks, weights):
    """``pearson_scores_nb(values[index], ...)`` without the copy of the rows."""
    out = np.empty(index.shape[0])
    for k in range(index.shape[0]):
        out[k] = pearson_score_one(values[index[k]], y_unit, task_index, n_tasks, weights)
    return out


def _allowed_features(space: FeatureSpace, allowed_primary: Any) -> np.ndarray:
    if allowed_primary is None:
        return np.ones(space.n_stored_, dtype=np.bool_)
    mask = np.asarray(allowed_primary, dtype=bool).ravel()
    if mask.size != len(space.primary_names_):
        raise ValueError(
            f"allowed_primary has {mask.size} entries for {len(space.primary_names_)} features"
        )
    return ~np.any(space._uses & ~mask[None, :], axis=1)


def _blocks(indices: np.ndarray, n_rows: int) -> list[np.ndarray]:
    size = max(1, _VALUES_CHUNK_BYTES // (8 * max(n_rows, 1)))
    return [indices[k : k + size] for k in range(0, len(indices), size)]


def _screen_last_rung(
    space: FeatureSpace, scorer: Any, values: np.ndarray, allowed: np.ndarray, keep: int,
    progress: bool = False,
) -> tuple[int, list[tuple[float, int, int, int]]]:
    """Last rung for a generic scorer: blocks of candidate values scored by ``score_block``.

    ``progress``: a bar over the tier features (updated per block of candidates).
    """
    inputs = space._rung_inputs(values)
    rung = space.n_rungs_
    opmask = np.array(operator_mask(space.operator_sets_[rung - 1]), dtype=np.bool_)
    n_total = space.n_stored_
    start = inputs["tier_start"]
    n_rows = values.shape[1]
    cap = max(4 * MAX_PER_PAIR, _VALUES_CHUNK_BYTES // (8 * n_rows))
    code, a, b = (np.empty(cap, np.int64) for _ in range(3))
    block = np.empty((cap, n_rows))
    best: list[tuple[float, int, int, int]] = []
    threshold = -np.inf
    n_valid_total = 0
    i_pos, j_pos = start, -1
    bar = None
    if progress:  # blocks of ~cap candidates: a bar when the rung fills a few of them
        n_tier = int(np.count_nonzero(allowed[start:n_total]))
        n_older = int(np.count_nonzero(allowed[:start]))
        bar = _progress_bar(n_total - start, n_tier * (n_older + n_tier) // cap)
    try:
        while i_pos < n_total:
            if bar is not None:
                bar.set_postfix(candidates=f"{n_valid_total:,}", refresh=False)
                bar.update(i_pos - start - bar.n)
            n_out, n_valid, i_pos, j_pos = generate_rung(
                MODE_VALUES, i_pos, j_pos, n_total, start, True, opmask, space._op, space._a,
                space._b, space._complexity, space.max_complexity, inputs["suffix_min"],
                inputs["right_first"], inputs["unit_id"], inputs["nonzero"],
                inputs["positive"], inputs["dimensionless"], allowed, values, space._fortran,
                space._lower, space._upper, space._tag[:n_rows], code, a, b,
                np.empty(cap, np.int8), np.empty(cap), block,
            )  # fmt: skip
            n_valid_total += n_valid
            if n_out == 0:
                continue
            scores = np.asarray(scorer.score_block(block[:n_out]), dtype=np.float64)
            good = np.flatnonzero(scores >= threshold)
            best.extend((float(scores[k]), int(code[k]), int(a[k]), int(b[k])) for k in good)
            if len(best) > 2 * keep:
                best.sort(key=lambda c: -c[0])
                best = best[:keep]
                threshold = best[-1][0]
    finally:
        if bar is not None:
            bar.close()
    best.sort(key=lambda c: -c[0])
    return n_valid_total, best[:keep]


def _select(
    space: FeatureSpace,
    cands: list[tuple[float, int, int, int]],
    values: StoredValues,
    n_sis: int,
    excluded: set[str],
) -> list[tuple[float, int, int, int, np.ndarray]]:
    """Exclusion, duplicate removal and tie-aware ordering of the candidates."""
    if not cands:
        return []
    score, code, a, b = (np.array(col) for col in zip(*cands, strict=True))
    return select_candidates(space, score.astype(np.float64), code.astype(np.int64),
                             a.astype(np.int64), b.astype(np.int64), values, n_sis, excluded)


def select_candidates(
    space: FeatureSpace,
    score: np.ndarray,
    code: np.ndarray,
    arg_a: np.ndarray,
    arg_b: np.ndarray,
    values: StoredValues | None,
    n_sis: int,
    excluded: set[str],
    candidate_values: np.ndarray | None = None,
) -> list[tuple[float, int, int, int, np.ndarray]]:
    """:func:`_select` on arrays: candidate rows come from ``candidate_values`` when given
    (rows of the candidates, e.g. on a member's rows), else from ``values`` (the space's
    ``StoredValues``). Names are formatted for every candidate only when ``excluded`` is
    not empty, else only for candidates whose scores tie."""
    corr_threshold = 1.0 - 1e-8 if space._fortran else 0.99
    order = np.argsort(-score, kind="stable")
    cache: dict[tuple[int, int, int], str] = {}

    def name_of(key: tuple[int, int, int]) -> str:
        name = cache.get(key)
        if name is None:
            c, x, y = key
            name = cache[key] = space._names[x] if c < 0 else space.candidate_name(c, x, y)
        return name

    if excluded:  # names of every candidate; otherwise only where scores tie (below)
        keys = zip(code[order].tolist(), arg_a[order].tolist(), arg_b[order].tolist(),
                   strict=True)
        keep = [k for k, key in enumerate(keys) if name_of(key) not in excluded]
        if not keep:
            return []
        order = order[keep]
    if len(order) == 0:
        return []
    score, code, arg_a, arg_b = score[order], code[order], arg_a[order], arg_b[order]
    stored = code < 0

    def rows_of(k: np.ndarray) -> np.ndarray:  # values of the candidates at positions k
        if candidate_values is not None:
            return candidate_values[order[k]]
        return values.candidate_rows(code[k], arg_a[k], arg_b[k])

    vals = rows_of(np.arange(len(order)))
    cx = space._complexity
    comp = np.where(stored, cx[arg_a], 1 + cx[arg_a] + np.where(arg_b >= 0, cx[arg_b], 0))

    # simplicity keys (complexity, then the formula), only where scores tie (the kernel
    # compares nothing else)
    lists = (code.tolist(), arg_a.tolist(), arg_b.tolist(), comp.tolist())

    def simplicity(i: int) -> tuple[int, int, str]:
        name = name_of((lists[0][i], lists[1][i], lists[2][i]))
        return lists[3][i], len(name), name

    rank = tie_ranks(score, SCORE_TOL, simplicity)
    # normalised in place (vals is a fresh array), then the picked few are taken again
    picked = select_indices(score, unit_rows_nb(vals, vals), rank, corr_threshold, SCORE_TOL,
                            n_sis)  # fmt: skip
    del vals
    rows = rows_of(picked)
    return list(zip(score[picked].tolist(), code[picked].tolist(), arg_a[picked].tolist(),
                    arg_b[picked].tolist(), rows, strict=True))
