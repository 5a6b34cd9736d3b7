"""Every ```python block of the docs runs (pages run top to bottom, one process per page).

Blocks run in a temporary working directory in which ``tests`` and ``examples`` are links to
the repository's folders, so the paths of the docs (``tests/data/...``) resolve and the files
an example writes land in the temporary directory.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md",
         *sorted(p for p in (ROOT / "docs").glob("*.md") if p.name != "architecture.md")]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def test_every_page_has_a_runnable_example():
    missing = [p.name for p in PAGES if not BLOCK.search(p.read_text())]
    assert not missing, f"docs pages without a ```python example: {missing}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_doc_examples_run(page, tmp_path):
    code = "\n".join(BLOCK.findall(page.read_text()))
    if not code:
        pytest.skip("no python example")
    for name in ("tests", "examples"):
        (tmp_path / name).symlink_to(ROOT / name)
    env = {**os.environ, "MPLBACKEND": "Agg"}
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{page.name} example failed:\n{result.stderr[-3000:]}"
