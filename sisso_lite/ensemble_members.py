"""Old import path of :mod:`sisso_lite.estimators.ensemble_members` (kept for users; the
package itself imports the new path)."""

from sisso_lite.estimators.ensemble_members import EnsembleMember

__all__ = ["EnsembleMember"]
