"""What the commands of the command line share: one-line user errors and reading a CSV."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["PROG", "CliError", "one_line", "read_csv_table"]

PROG = "sisso-lite"


class CliError(Exception):
    """A user error: printed as one line ``<prog>: error: ...``, exit code ``code``."""

    def __init__(self, message: str, code: int = 1, prog: str = PROG) -> None:
        super().__init__(message)
        self.code = code
        self.prog = prog


def one_line(exc: BaseException) -> str:
    """The message of ``exc`` on one line (its type name when it has none)."""
    return " ".join(str(exc).split()) if str(exc) else type(exc).__name__


def read_csv_table(path: str, error: type[CliError] = CliError) -> pd.DataFrame:
    """A CSV file as a DataFrame (full float precision, column names stripped).

    A missing or unreadable file raises ``error`` (with its default exit code) naming it.
    """
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise error(f"{path}: file not found")
    try:
        df = pd.read_csv(p, float_precision="round_trip")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise error(f"{path}: cannot read CSV ({first})") from exc
    df.columns = [str(c).strip() for c in df.columns]
    return df
