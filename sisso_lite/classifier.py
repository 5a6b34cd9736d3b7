"""Old import path of :mod:`sisso_lite.estimators.classifier` (kept for users; the package
itself imports the new path)."""

from sisso_lite.estimators.classifier import DEFAULT_OPERATORS, SissoClassifier

__all__ = ["DEFAULT_OPERATORS", "SissoClassifier"]
