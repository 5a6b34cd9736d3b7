"""The documentation site's configuration (mkdocs.yml, docs/api/*.md), without building it.

`make docs` builds the site with ``mkdocs build --strict``; these checks run in ``make test``
too, where the docs packages may be absent, so they read mkdocs.yml with PyYAML only (the
one test that loads it through mkdocs is skipped without mkdocs):

* every page ``docs/*.md`` and every notebook ``examples/*.ipynb`` is in the nav, and every
  nav entry exists;
* every ``::: identifier`` and ``members:`` entry of the API pages names a public object
  (mkdocstrings silently drops a listed member that does not exist).
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
EXAMPLES = ROOT / "examples"


def _nav_paths(node) -> list[str]:
    """All page paths of a mkdocs nav (nested lists of str / {title: str | list})."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [p for item in node for p in _nav_paths(item)]
    if isinstance(node, dict):
        return [p for value in node.values() for p in _nav_paths(value)]
    raise TypeError(f"unexpected nav entry {node!r}")


@pytest.fixture(scope="module")
def config() -> dict:
    return yaml.safe_load((ROOT / "mkdocs.yml").read_text())


@pytest.fixture(scope="module")
def nav(config) -> list[str]:
    return _nav_paths(config["nav"])


def test_every_docs_page_is_in_nav(nav):
    pages = sorted(p.name for p in DOCS.glob("*.md"))
    assert pages, "no docs/*.md found"
    missing = [p for p in pages if p not in nav]
    assert not missing, f"docs pages missing from the mkdocs.yml nav: {missing}"


def test_every_api_page_is_in_nav(nav):
    missing = [f"api/{p.name}" for p in (DOCS / "api").glob("*.md") if f"api/{p.name}" not in nav]
    assert not missing, f"API pages missing from the mkdocs.yml nav: {missing}"


def test_every_notebook_is_in_nav(nav):
    notebooks = sorted(p.name for p in EXAMPLES.glob("*.ipynb"))
    assert notebooks, "no examples/*.ipynb found"
    missing = [n for n in notebooks if f"notebooks/{n}" not in nav]
    assert not missing, f"notebooks missing from the mkdocs.yml nav: {missing}"


def test_notebooks_dir_is_the_examples_folder():
    # docs/notebooks is a relative symlink, so the site renders the tested notebooks themselves
    link = DOCS / "notebooks"
    assert link.is_symlink(), "docs/notebooks should be a symlink to ../examples"
    assert link.resolve() == EXAMPLES.resolve()


def test_nav_entries_exist(nav):
    absent = [p for p in nav if not (DOCS / p).is_file()]
    assert not absent, f"mkdocs.yml nav entries with no file under docs/: {absent}"


def _api_references() -> list[tuple[str, str, list[str]]]:
    """(page, identifier, explicit members) for every ``:::`` block of docs/api/*.md."""
    refs = []
    for page in sorted((DOCS / "api").glob("*.md")):
        blocks = re.split(r"^::: *", page.read_text(), flags=re.M)[1:]
        for block in blocks:
            ident, _, options = block.partition("\n")
            members = []
            m = re.search(r"^( +)members:\n((?:\1 +- .*\n?)+)", options, flags=re.M)
            if m:
                members = re.findall(r"- *(\S+)", m.group(2))
            refs.append((page.name, ident.strip(), members))
    return refs


def _resolve(ident: str):
    """Import the longest importable module prefix of ``ident``, then getattr the rest."""
    parts = ident.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ModuleNotFoundError:
            continue
        for name in parts[i:]:
            public = getattr(obj, "__all__", None)
            assert public is None or name in public, f"{ident}: {name} is not in __all__"
            obj = getattr(obj, name)
        return obj
    raise ModuleNotFoundError(ident)


def test_api_references_are_public_objects():
    refs = _api_references()
    assert refs, "no ::: blocks in docs/api/*.md"
    for page, ident, members in refs:
        obj = _resolve(ident)
        public = getattr(obj, "__all__", None)
        for name in members:
            assert hasattr(obj, name), f"{page}: {ident} has no member {name}"
            if public is not None:
                assert name in public, f"{page}: {ident}.{name} is not in __all__"


def test_mkdocs_config_loads():
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")
    pytest.importorskip("mkdocs_jupyter")
    from mkdocs.config import load_config

    cfg = load_config(str(ROOT / "mkdocs.yml"))
    assert cfg["strict"] is True
    assert {"mkdocstrings", "mkdocs-jupyter"} <= set(cfg["plugins"])
    assert cfg["plugins"]["mkdocs-jupyter"].config["execute"] is False
