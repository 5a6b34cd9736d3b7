"""Run every ``benchmarks/bench_*.py`` script in turn (``make bench``).

Each script prints its own table. Pass names to run a subset, e.g.
``python -m benchmarks.run_all bench_l0 bench_subgroups``.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    """Run the selected benchmark scripts; returns the number of failures."""
    argv = sys.argv[1:] if argv is None else argv
    here = Path(__file__).parent
    scripts = sorted(here.glob("bench_*.py"))
    if argv:
        scripts = [s for s in scripts if s.stem in argv]
    failures = 0
    for script in scripts:
        print(f"\n=== {script.stem} ===", flush=True)
        start = time.perf_counter()
        code = subprocess.call([sys.executable, "-m", f"benchmarks.{script.stem}"],
                               cwd=here.parent)
        print(f"--- {script.stem}: exit {code}, {time.perf_counter() - start:.1f} s", flush=True)
        failures += code != 0
    return failures


if __name__ == "__main__":
    raise SystemExit(main())
