"""Exceptions and warnings of the Fortran-compatibility and model-file readers."""

from __future__ import annotations

from pathlib import Path

__all__ = ["SissoInputError", "SissoInputWarning", "ModelFileError"]


class SissoInputError(ValueError):
    """An error in a Fortran SISSO input (``SISSO.in``, ``train.dat``, ``feature_units``).

    The message always names the file and, where known, the line and the keyword.

    Parameters
    ----------
    message : str
        What is wrong, phrased for the user.
    path : str or Path, optional
        The file the error is in.
    line : int, optional
        1-based line number in ``path``.
    keyword : str, optional
        The ``SISSO.in`` keyword concerned.
    """

    def __init__(
        self,
        message: str,
        path: str | Path | None = None,
        line: int | None = None,
        keyword: str | None = None,
    ) -> None:
        self.path = None if path is None else Path(path)
        self.line = line
        self.keyword = keyword
        self.reason = message
        where = []
        if self.path is not None:
            where.append(str(self.path))
        if line is not None:
            where.append(f"line {line}")
        if keyword is not None:
            where.append(f"keyword '{keyword}'")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class SissoInputWarning(UserWarning):
    """A Fortran SISSO input was accepted but something about it deserves a note.

    Examples: a keyword renamed in a later SISSO version, a keyword that has no effect here.
    """


class ModelFileError(ValueError):
    """A model JSON file cannot be read or does not fit the data it is applied to."""
