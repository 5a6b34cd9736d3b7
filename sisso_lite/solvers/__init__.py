"""Solvers: SIS scorers (:mod:`.sis`) and the exact L0 search (:mod:`.l0`)."""

from .sis import MultiTaskPearsonScorer, PearsonScorer, Scorer

__all__ = ["MultiTaskPearsonScorer", "PearsonScorer", "Scorer"]
