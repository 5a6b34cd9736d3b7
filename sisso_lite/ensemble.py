"""Old import path of :mod:`sisso_lite.estimators.ensemble` (kept for users; the package
itself imports the new path)."""

from sisso_lite.estimators.ensemble import EnsembleMember, SissoEnsemble

__all__ = ["EnsembleMember", "SissoEnsemble"]
