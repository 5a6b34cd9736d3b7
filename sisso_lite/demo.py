"""Old path of :mod:`sisso_lite.cli.demo`: ``python -m sisso_lite.demo`` still runs the demo
(``make demo`` uses ``python -m sisso_lite.cli.demo``)."""

from sisso_lite.cli.demo import main

__all__ = ["main"]

if __name__ == "__main__":
    raise SystemExit(main())
