"""Compiled SIS selection step of one ensemble member, names compared without strings.

:func:`~sisso_lite.features.screening.select_candidates` excludes candidates by name and
orders tied scores by the simplicity key ``(complexity, len(name), name)``: with Python
strings that is most of the per-member time of the batched ensemble
(:mod:`sisso_lite.solvers.batch`), and it holds the GIL. Here the name of a candidate is a
list of code-point *segments* -- the spelling of its operator around the names of its
stored operands (``"("``, name of ``a``, ``"*"``, name of ``b``, ``")"``), taken from
:func:`~sisso_lite.features.expression.format_node` itself -- and two names are compared
segment by segment, as Python compares the strings. :func:`select_member` is
``select_candidates`` on arrays, without the GIL; the tests check it against
``select_candidates``. :func:`screen_member` is the whole exact screen of one member
(candidates above a bound cut, exact scores, selection, the acceptance test), so that
members run in parallel threads.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from sisso_lite.features.expression import format_node
from sisso_lite.features.kernels import SELECTABLE
from sisso_lite.features.operators import BINARY, N_CODES, VAR
from sisso_lite.features.select import select_indices, unit_rows_nb
from sisso_lite.solvers.batch_kernels import exact_scores, pool_candidates

__all__ = ["DONE", "NEED_ALL_BOUNDS", "REFIT", "NameTables", "compare_names", "name_tables",
           "screen_member", "select_member"]

DONE, NEED_ALL_BOUNDS, REFIT = 0, 1, 2


class NameTables(NamedTuple):
    """Code points of the stored names and of the operator spellings.

    ``chars`` holds every string; stored feature ``k`` is ``chars[name_start[k] :
    name_start[k] + name_len[k]]``; operator ``c`` is spelled ``pre + a + mid + b + post``
    (``mid`` empty for unary operators) with piece ``j`` at ``tmpl_start[c, j]``,
    ``tmpl_len[c, j]``.
    """

    chars: np.ndarray
    name_start: np.ndarray
    name_len: np.ndarray
    tmpl_start: np.ndarray
    tmpl_len: np.ndarray


def name_tables(space) -> NameTables:
    """:class:`NameTables` of the stored features of a built space."""
    pieces: list[str] = []
    offset = 0

    def add(text: str) -> tuple[int, int]:
        nonlocal offset
        pieces.append(text)
        offset += len(text)
        return offset - len(text), len(text)

    tmpl_start = np.zeros((N_CODES, 3), np.int64)
    tmpl_len = np.zeros((N_CODES, 3), np.int64)
    for code in range(N_CODES):
        if code == VAR:
            continue
        if code in BINARY:
            pre, rest = format_node(code, "\x00", "\x01").split("\x00")
            mid, post = rest.split("\x01")
        else:
            (pre, post), mid = format_node(code, "\x00").split("\x00"), ""
        for j, text in enumerate((pre, mid, post)):
            tmpl_start[code, j], tmpl_len[code, j] = add(text)
    n = space.n_stored_
    name_start, name_len = np.empty(n, np.int64), np.empty(n, np.int64)
    for k in range(n):
        name_start[k], name_len[k] = add(space.tables.names[k])
    text = "".join(pieces)
    chars = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).copy()
    return NameTables(chars, name_start, name_len, tmpl_start, tmpl_len)


@njit(cache=True, inline="always")
def _segments(c, a, b, tables, seg_start, seg_len):
    """Segments of the name of candidate ``(c, a, b)`` (code -1: stored feature ``a``)."""
    _, name_start, name_len, tmpl_start, tmpl_len = tables
    if c < 0:
        seg_start[0], seg_len[0] = name_start[a], name_len[a]
        return 1
    seg_start[0], seg_len[0] = tmpl_start[c, 0], tmpl_len[c, 0]
    seg_start[1], seg_len[1] = name_start[a], name_len[a]
    if b < 0:
        seg_start[2], seg_len[2] = tmpl_start[c, 2], tmpl_len[c, 2]
        return 3
    seg_start[2], seg_len[2] = tmpl_start[c, 1], tmpl_len[c, 1]
    seg_start[3], seg_len[3] = name_start[b], name_len[b]
    seg_start[4], seg_len[4] = tmpl_start[c, 2], tmpl_len[c, 2]
    return 5


@njit(cache=True)
def name_length(c, a, b, tables):
    """``len`` of the name of candidate ``(c, a, b)``."""
    if c < 0:
        return tables[2][a]
    n = tables[4][c, 0] + tables[4][c, 2] + tables[2][a]
    if b >= 0:
        n += tables[4][c, 1] + tables[2][b]
    return n


@njit(cache=True)
def compare_names(c1, a1, b1, c2, a2, b2, tables):
    """-1, 0 or 1 as the name of ``(c1, a1, b1)`` sorts before, equal to or after the name
    of ``(c2, a2, b2)`` (code-point order, as Python compares strings)."""
    chars = tables[0]
    s1, l1 = np.empty(5, np.int64), np.empty(5, np.int64)
    s2, l2 = np.empty(5, np.int64), np.empty(5, np.int64)
    n1 = _segments(c1, a1, b1, tables, s1, l1)
    n2 = _segments(c2, a2, b2, tables, s2, l2)
    i1 = p1 = i2 = p2 = 0
    while True:
        while i1 < n1 and p1 >= l1[i1]:
            i1 += 1
            p1 = 0
        while i2 < n2 and p2 >= l2[i2]:
            i2 += 1
            p2 = 0
        if i1 == n1 or i2 == n2:
            return 0 if (i1 == n1 and i2 == n2) else (-1 if i1 == n1 else 1)
        x, y = chars[s1[i1] + p1], chars[s2[i2] + p2]
        if x != y:
            return -1 if x < y else 1
        p1 += 1
        p2 += 1


@njit(cache=True, inline="always")
def _compare_keys(i, j, comp, length, code, a, b, tables):
    """Compare the simplicity keys ``(complexity, len(name), name)`` of positions i, j."""
    if comp[i] != comp[j]:
        return -1 if comp[i] < comp[j] else 1
    if length[i] != length[j]:
        return -1 if length[i] < length[j] else 1
    return compare_names(code[i], a[i], b[i], code[j], a[j], b[j], tables)


@njit(cache=True)
def _tie_ranks(score, tol, comp, length, code, a, b, tables):
    """Dense ranks of the simplicity keys inside every run of tied scores (0 elsewhere),
    as :func:`~sisso_lite.features.select.tie_ranks`."""
    m = score.shape[0]
    rank = np.zeros(m, np.int64)
    first = 0
    while first < m:
        last = first
        while last + 1 < m and score[last] - score[last + 1] <= tol:
            last += 1
        if last > first:
            pos = np.arange(first, last + 1)
            for p in range(1, pos.shape[0]):  # insertion sort: runs are short
                q = p
                while q > 0 and _compare_keys(pos[q], pos[q - 1], comp, length, code, a, b,
                                              tables) < 0:  # fmt: skip
                    pos[q], pos[q - 1] = pos[q - 1], pos[q]
                    q -= 1
            r = 0
            for p in range(1, pos.shape[0]):
                if _compare_keys(pos[p], pos[p - 1], comp, length, code, a, b, tables) != 0:
                    r += 1
                rank[pos[p]] = r
        first = last + 1
    return rank


@njit(cache=True, nogil=True)
def select_member(score, code, a, b, row, vals, complexity, excluded, tables, corr_threshold,
                  tol, n_sis):  # fmt: skip
    """Positions of the selected candidates (in selection order), as ``select_candidates``.

    Parameters
    ----------
    score : float64 (m,)
        Exact scores.
    code, a, b : int64 (m,)
        Candidates (code -1: stored feature ``a``).
    row : int64 (m,)
        Their class (row of the materialised space): equal names imply equal classes.
    vals : float64 (m, n)
        Their values on the member rows (not modified).
    complexity : int64
        Complexity of every stored feature.
    excluded : int64 (k, 4)
        ``(code, a, b, row)`` of the features selected before: a candidate with the name of
        one of them is left out.
    tables : NameTables
    corr_threshold, tol, n_sis
        As ``select_candidates`` (duplicate correlation, score tolerance, count).
    """
    order = np.argsort(-score, kind="mergesort")  # stable, as select_candidates
    keep = np.empty(order.shape[0], np.int64)
    n_keep = 0
    for i in order:
        out = False
        for e in range(excluded.shape[0]):
            if (excluded[e, 3] == row[i]
                    and name_length(code[i], a[i], b[i], tables)
                    == name_length(excluded[e, 0], excluded[e, 1], excluded[e, 2], tables)
                    and compare_names(code[i], a[i], b[i], excluded[e, 0], excluded[e, 1],
                                      excluded[e, 2], tables) == 0):  # fmt: skip
                out = True
                break
        if not out:
            keep[n_keep] = i
            n_keep += 1
    order = keep[:n_keep]
    if n_keep == 0:
        return order
    s, c, x, y = score[order], code[order], a[order], b[order]
    comp = np.empty(n_keep, np.int64)
    length = np.empty(n_keep, np.int64)
    for k in range(n_keep):
        if c[k] < 0:
            comp[k] = complexity[x[k]]
        else:
            comp[k] = 1 + complexity[x[k]] + (complexity[y[k]] if y[k] >= 0 else 0)
        length[k] = name_length(c[k], x[k], y[k], tables)
    rank = _tie_ranks(s, tol, comp, length, c, x, y, tables)
    unit = np.empty((n_keep, vals.shape[1]))
    for k in range(n_keep):
        unit[k] = vals[order[k]]
    picked = select_indices(s, unit_rows_nb(unit, unit), rank, corr_threshold, tol, n_sis)
    return order[picked]


@njit(cache=True, nogil=True)
def screen_member(bound, bound_row, valid, cut, k_approx, k_limit, growth, length, fixed,
                  row_start, row_members, code_all, a_all, b_all, row_of, values, fortran,
                  lower, upper, y_unit, complexity, excluded, tables, corr_threshold, tol,
                  n_sis, guard, keep):  # fmt: skip
    """Exact SIS of one ensemble member from upper bounds of its scores per row.

    The candidates of the rows whose bound ``bound[j]`` (row ``bound_row[j]``, where
    ``valid``; every row not listed has a bound below ``cut``) reaches the ``k_approx``-th
    largest, with ``fixed``, are scored exactly (:func:`exact_scores`) and
    :func:`select_member` runs on the ``length`` best. The result is accepted when its
    lowest score minus ``guard`` is at least both cuts (no candidate left out can score as
    high); otherwise ``length`` doubles or ``k_approx`` grows by ``growth``.

    Returns ``(status, k_approx, length, candidates, picked, score, vals)``: status
    ``DONE`` (``candidates[picked]`` selected, in order; ``score`` and ``vals`` of all
    ``candidates``), ``NEED_ALL_BOUNDS`` (``k_approx`` exceeds ``k_limit``: call again with
    the bounds of all rows) or ``REFIT`` (more relevant candidates than the per-member
    ``screen`` keeps: the caller runs ``run_sisso``).
    """
    n = values.shape[1]
    while True:
        thr, cand = pool_candidates(bound, bound_row, valid, k_approx, cut, row_start,
                                    row_members, fixed)
        m = cand.shape[0]
        code, a, b = code_all[cand], a_all[cand], b_all[cand]
        vals = np.empty((m, n))
        status = np.empty(m, np.int8)
        score = np.empty(m)
        exact_scores(code, a, b, values, fortran, lower, upper, y_unit, vals, status, score)
        ok = np.flatnonzero((status == SELECTABLE) & ~np.isnan(score))
        ranked = -np.sort(-score[ok])
        grow = False
        while True:
            whole = length >= ok.shape[0]
            s_l = -np.inf if whole else ranked[length - 1]
            part = ok[score[ok] >= s_l]
            picked = part[select_member(score[part], code[part], a[part], b[part],
                                        row_of[cand[part]], vals[part], complexity, excluded,
                                        tables, corr_threshold, tol, n_sis)]
            filled = picked.shape[0] == n_sis
            low = score[picked].min() - guard if filled else -np.inf
            if filled and low >= max(s_l, thr):
                break
            if thr == -np.inf and (whole or (filled and low >= s_l)):
                break
            if whole or (filled and low >= s_l):
                grow = True  # the prefix is fine, the approximate cut is too high
                break
            length *= 2
        if not grow:
            break
        k_approx *= growth
        if k_approx > k_limit:
            return NEED_ALL_BOUNDS, k_approx, length, cand, picked, score, vals
    n_relevant = 0
    n_stored = 0
    for i in ok:
        if score[i] >= low:
            n_relevant += 1
            n_stored += code[i] < 0
    state = REFIT if (n_stored >= keep or n_relevant - n_stored >= keep) else DONE
    return state, k_approx, length, cand, picked, score, vals
