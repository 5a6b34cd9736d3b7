"""Leave-cluster-out splitters for materials (scikit-learn splitter API).

Random k-fold splits put compounds of the same chemistry on both sides of the split and so
overstate the accuracy of a model on new chemistries (Meredig et al., Mol. Syst. Des. Eng. 3,
819 (2018): leave-cluster-out cross-validation). Two splitters hold out whole chemistries:

* :class:`LeaveElementOut` -- one split per element ``E``: every compound that contains ``E``
  is in the test set;
* :class:`CompositionClusterSplit` -- k-means clusters of the fractional composition vectors;
  one split per cluster.

Both take the compositions as ``groups`` in ``split(X, y, groups)`` (formula strings such as
``"AgBr"``, ``"SrTiO3"``, ``"Ca(OH)2"``, or mappings element -> amount), so they plug into
:class:`~sisso_lite.estimators.model_selection.SissoCV`, ``GridSearchCV`` and
``cross_val_score`` like ``GroupKFold``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from numbers import Integral

import numpy as np
from sklearn.model_selection import BaseCrossValidator
from sklearn.utils.validation import check_random_state

__all__ = ["CompositionClusterSplit", "LeaveElementOut", "composition_matrix",
           "parse_formula"]

_TOKEN = re.compile(r"([A-Z][a-z]?|\(|\)|\[|\]|\d*\.\d+|\d+)")


def parse_formula(formula: str) -> dict[str, float]:
    """Element amounts of a chemical formula (nested parentheses, decimal amounts).

    >>> parse_formula("Ca(OH)2")
    {'Ca': 1.0, 'O': 2.0, 'H': 2.0}

    Raises
    ------
    ValueError
        Naming the formula when it has unbalanced brackets, characters that are not
        element symbols, amounts or brackets, or no element.
    """
    text = str(formula).replace(" ", "")
    tokens = _TOKEN.findall(text)
    if "".join(tokens) != text:
        raise ValueError(f"cannot parse the formula {formula!r}: unexpected characters")
    stack: list[dict[str, float]] = [{}]
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        amount = float(nxt) if nxt and (nxt[0].isdigit() or nxt[0] == ".") else None
        if tok in "([":
            stack.append({})
        elif tok in ")]":
            if len(stack) == 1:
                raise ValueError(f"cannot parse the formula {formula!r}: unbalanced brackets")
            inner = stack.pop()
            for el, n in inner.items():
                stack[-1][el] = stack[-1].get(el, 0.0) + n * (amount or 1.0)
        elif tok[0].isalpha():
            stack[-1][tok] = stack[-1].get(tok, 0.0) + (amount or 1.0)
        else:
            raise ValueError(f"cannot parse the formula {formula!r}: stray amount {tok!r}")
        i += 2 if amount is not None and tok not in "([" else 1
    if len(stack) != 1 or not stack[0]:
        raise ValueError(f"cannot parse the formula {formula!r}: "
                         + ("unbalanced brackets" if len(stack) != 1 else "no element"))
    return stack[0]


def _compositions(groups, n_samples: int | None) -> list[dict[str, float]]:
    if groups is None:
        raise ValueError("groups is required: one composition (formula string or mapping "
                         "element -> amount) per sample")
    comps = []
    for i, g in enumerate(groups):
        if isinstance(g, Mapping):
            comp = {str(k): float(v) for k, v in g.items() if float(v) != 0.0}
            if not comp:
                raise ValueError(f"groups[{i}] is an empty composition")
        elif isinstance(g, str):
            comp = parse_formula(g)
        else:
            raise ValueError(f"groups[{i}] must be a formula string or a mapping element -> "
                             f"amount, got {type(g).__name__}")
        comps.append(comp)
    if n_samples is not None and len(comps) != n_samples:
        raise ValueError(f"groups has {len(comps)} entries but X has {n_samples} rows")
    return comps


def composition_matrix(groups) -> tuple[np.ndarray, list[str]]:
    """Fractional composition vectors (rows sum to 1) and the sorted element list."""
    comps = _compositions(groups, None)
    elements = sorted({el for c in comps for el in c})
    col = {el: j for j, el in enumerate(elements)}
    M = np.zeros((len(comps), len(elements)))
    for i, c in enumerate(comps):
        for el, n in c.items():
            M[i, col[el]] = n
    M /= M.sum(axis=1, keepdims=True)
    return M, elements


def _n_rows(X, groups) -> int | None:
    if X is not None:
        return len(X)
    return None if groups is None else len(groups)


class LeaveElementOut(BaseCrossValidator):
    """One split per element: the compounds that contain it are the test set.

    Parameters
    ----------
    elements : sequence of str, optional
        Elements to hold out (default: every element of the compositions that leaves at
        least ``min_train`` compounds for training).
    min_train : int
        Smallest training set; elements contained in more compounds are skipped (e.g. the
        O of oxides).

    Notes
    -----
    Test sets of different elements overlap (AgBr is held out with Ag and with Br); each
    split is a fair "new element" test, so the mean over splits estimates the error on a
    compound with an element never seen in training.
    """

    def __init__(self, elements: Sequence[str] | None = None, min_train: int = 2):
        self.elements = elements
        self.min_train = min_train

    def _masks(self, X, groups) -> list[tuple[str, np.ndarray]]:
        if not isinstance(self.min_train, Integral) or self.min_train < 1:
            raise ValueError(f"min_train must be an integer >= 1, got {self.min_train!r}")
        comps = _compositions(groups, _n_rows(X, groups))
        present = sorted({el for c in comps for el in c})
        if self.elements is None:
            wanted = present
        else:
            wanted = [str(e) for e in self.elements]
            unknown = [e for e in wanted if e not in present]
            if unknown:
                raise ValueError(f"elements {unknown} occur in no composition of groups")
        n = len(comps)
        out = []
        for el in wanted:
            mask = np.array([el in c for c in comps])
            if n - int(mask.sum()) >= self.min_train:
                out.append((el, mask))
        if len(out) < 1:
            raise ValueError(f"no element leaves min_train={self.min_train} compounds for "
                             f"training (elements {wanted})")
        return out

    def split_elements(self, X=None, y=None, groups=None) -> list[str]:
        """The held-out element of each split, in split order."""
        return [el for el, _ in self._masks(X, groups)]

    def _iter_test_masks(self, X=None, y=None, groups=None) -> Iterator[np.ndarray]:
        for _, mask in self._masks(X, groups):
            yield mask

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        """Number of splits (needs ``groups``)."""
        return len(self._masks(X, groups))


class CompositionClusterSplit(BaseCrossValidator):
    """Leave-cluster-out: k-means clusters of the fractional composition vectors.

    Parameters
    ----------
    n_clusters : int
        Number of clusters = number of splits.
    random_state : int, RandomState or None
        Seed of k-means.

    Notes
    -----
    Composition vectors are the fractions of every element in the compound (one column per
    element present in ``groups``), so compounds that share elements cluster together.
    K-means: scikit-learn ``KMeans(n_init=10)``.
    """

    def __init__(self, n_clusters: int = 5, random_state=None):
        self.n_clusters = n_clusters
        self.random_state = random_state

    def cluster_labels(self, X=None, y=None, groups=None) -> np.ndarray:
        """Cluster of every sample (0 .. n_clusters - 1)."""
        from sklearn.cluster import KMeans

        M, _ = composition_matrix(_compositions(groups, _n_rows(X, groups)))
        if not isinstance(self.n_clusters, Integral) or self.n_clusters < 2:
            raise ValueError(f"n_clusters must be an integer >= 2, got {self.n_clusters!r}")
        n_distinct = len(np.unique(M, axis=0))
        if self.n_clusters > n_distinct:
            raise ValueError(f"n_clusters={self.n_clusters} is more than the {n_distinct} "
                             "distinct compositions in groups")
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        km = KMeans(n_clusters=int(self.n_clusters), n_init=10, random_state=seed)
        return km.fit_predict(M)

    def _iter_test_masks(self, X=None, y=None, groups=None) -> Iterator[np.ndarray]:
        labels = self.cluster_labels(X, y, groups)
        for k in range(int(self.n_clusters)):
            yield labels == k

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        """Number of splits (``n_clusters``)."""
        return int(self.n_clusters)
