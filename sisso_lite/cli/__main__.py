"""``python -m sisso_lite.cli``: the ``sisso-lite`` command line."""

import sys

from sisso_lite.cli import main

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
