"""The package's layers (docs/architecture.md): imports only run down, and no cycles.

Every module of ``sisso_lite`` and ``descriptors`` is parsed with :mod:`ast`; every import
counts (module level, inside functions, under ``if TYPE_CHECKING:``), and so does a string
that names a module of the package (``importlib.import_module("sisso_lite.x")``, allow-lists
of module names), except the lazy maps that keep public names importable:

* ``_LAZY`` in ``sisso_lite/__init__.py`` (``from sisso_lite import SissoRegressor``): an
  import of such a name counts as an import of its target module;
* ``_MOVED`` in a module whose names moved up a layer (:mod:`sisso_lite._compat`): the old
  paths are for users, so the package, the tests, the benchmarks and the examples must not
  import through them, nor import the top-level shim modules (:data:`SHIMS`).

A failure names the module, the line and the offending import.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("sisso_lite", "descriptors")

#: lowest first; a module may import its own layer and the layers below it
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("utilities", ("sisso_lite", "sisso_lite._numba_setup", "sisso_lite._validation",
                   "sisso_lite._threads", "sisso_lite._compat")),
    ("features", ("sisso_lite.features",)),
    ("models", ("sisso_lite.models",)),
    ("solvers", ("sisso_lite.solvers",)),
    ("io", ("sisso_lite.io",)),
    ("uncertainty", ("sisso_lite.uncertainty",)),
    ("estimators", ("sisso_lite.estimators",)),
    ("subgroups", ("sisso_lite.subgroups",)),
    ("learning", ("sisso_lite.learning",)),
    ("screening", ("sisso_lite.screening",)),
    ("cli", ("sisso_lite.cli",)),
)
#: leaves: import only the utilities (and themselves); any layer above features uses them
LEAVES = ("sisso_lite.datasets", "descriptors")
#: old module paths kept for users (they import the new paths; nothing of ours imports them)
SHIMS = ("sisso_lite.classifier", "sisso_lite.ensemble", "sisso_lite.ensemble_members",
         "sisso_lite.calibration", "sisso_lite.plotting", "sisso_lite.demo",
         "sisso_lite.cli_campaign")
#: folders whose imports must use the new paths too
USERS_OF_THE_PACKAGE = ("tests", "benchmarks", "examples")


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    path: Path
    line: int
    text: str  # the source line
    target: str  # the module imported (resolved)
    runtime: bool  # False under ``if TYPE_CHECKING:``
    moved: bool = False  # through an old path of a ``_MOVED`` map
    string: bool = False  # a string naming a module (no import statement)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


MODULES = _modules()


def _literal_map(tree: ast.Module, name: str) -> dict[str, str]:
    """A module-level ``name = {"attr": "module", ...}`` dict literal."""
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name) and node.targets[0].id == name):
            return ast.literal_eval(node.value)
    return {}


TREES = {name: ast.parse(path.read_text(), filename=str(path)) for name, path in MODULES.items()}
LAZY = _literal_map(TREES["sisso_lite"], "_LAZY")
MOVED = {name: moved for name, tree in TREES.items() if (moved := _literal_map(tree, "_MOVED"))}


def _package_of(module: str, path: Path) -> str:
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def _resolve(base: str, names: list[str]) -> Iterator[tuple[str, bool]]:
    """(module, through a moved name) for ``from base import names``."""
    for name in names:
        sub = f"{base}.{name}"
        if sub in MODULES:
            yield sub, False
        elif base == "sisso_lite" and name in LAZY:
            yield LAZY[name], False
        elif name in MOVED.get(base, {}):
            yield MOVED[base][name], True
        else:
            yield base, False


def _type_checking_nodes(tree: ast.Module) -> set[int]:
    ids: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
            if name == "TYPE_CHECKING":
                ids.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    return ids


def _ours(name: str) -> bool:
    return name.split(".")[0] in PACKAGES


def _lazy_map_values(tree: ast.Module) -> set[int]:
    """ids of the string values of ``_LAZY`` / ``_MOVED`` (checked separately)."""
    ids = set()
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id in ("_LAZY", "_MOVED")
                and isinstance(node.value, ast.Dict)):
            ids.update(id(v) for v in node.value.values)
    return ids


def imports_of(module: str, path: Path, tree: ast.Module, strings: bool = True) -> list[Import]:
    """Every import of a package module by ``module`` (and strings naming one)."""
    lines = path.read_text().splitlines()
    type_only = _type_checking_nodes(tree)
    skip = _lazy_map_values(tree)
    package = _package_of(module, path)
    out = []
    for node in ast.walk(tree):
        found: list[tuple[str, bool]] = []
        string = False
        if isinstance(node, ast.Import):
            found = [(a.name, False) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            found = list(_resolve(base, [a.name for a in node.names]))
        elif (strings and isinstance(node, ast.Constant) and isinstance(node.value, str)
              and id(node) not in skip and node.value.startswith(("sisso_lite", "descriptors."))
              and node.value.partition(":")[0].replace(".", "").replace("_", "").isalnum()):
            found = [(node.value.partition(":")[0], False)]
            string = True
        for target, moved in dict.fromkeys(found):
            if _ours(target):
                text = lines[node.lineno - 1].strip()
                out.append(Import(module, path, node.lineno, text, target,
                                  id(node) not in type_only, moved, string))
    return out


def _in(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def layer_of(module: str) -> tuple[int, str] | None:
    """(rank, layer) of the longest matching prefix; rank -1 for leaves and shims."""
    if any(_in(module, p) for p in (*LEAVES, *SHIMS)):
        return -1, "leaf" if any(_in(module, p) for p in LEAVES) else "shim"
    best = None
    for rank, (layer, prefixes) in enumerate(LAYERS):
        for p in prefixes:
            if _in(module, p) and (best is None or len(p) > best[2]):
                best = (rank, layer, len(p))
    return None if best is None else best[:2]


ALL_IMPORTS = [imp for name, path in MODULES.items()
               for imp in imports_of(name, path, TREES[name])]
FEATURES = next(i for i, (layer, _) in enumerate(LAYERS) if layer == "features")


def _where(imp: Import) -> str:
    return f"{imp.path.relative_to(ROOT)}:{imp.line}: `{imp.text}`"


def test_every_module_has_a_layer():
    missing = [m for m in MODULES if layer_of(m) is None]
    assert not missing, (f"modules in no layer: {missing}; add them to LAYERS in "
                         "tests/test_layers.py and to the map in docs/architecture.md")


def _violation(imp: Import) -> str | None:
    src, dst = imp.module, imp.target
    if any(_in(src, s) for s in SHIMS):
        return None  # shims re-export the new paths
    if any(_in(dst, s) for s in SHIMS):
        return f"imports the old-path shim {dst} (use the new path)"
    if imp.moved:
        return f"imports a name that moved to {dst} through its old path (use the new path)"
    dst_layer, src_layer = layer_of(dst), layer_of(src)
    if dst_layer is None:
        return f"imports {dst}, which is no module of the package"
    src_leaf = next((p for p in LEAVES if _in(src, p)), None)
    dst_leaf = next((p for p in LEAVES if _in(dst, p)), None)
    if src_leaf is not None:
        if dst_leaf == src_leaf or dst_layer[0] == 0:
            return None
        return f"{src_leaf} is a leaf (imports only the utilities) but imports {dst}"
    if dst_leaf is not None:
        if src_layer[0] > FEATURES:
            return None
        return (f"{src_layer[1]} imports the leaf {dst_leaf}, which only the layers above "
                "features use")
    if dst_layer[0] > src_layer[0]:
        return (f"{src_layer[1]} (layer {src_layer[0]}) imports {dst} of the higher layer "
                f"{dst_layer[1]} (layer {dst_layer[0]})")
    return None


def test_imports_only_run_down_the_layers():
    bad = [f"{_where(imp)}: {msg}" for imp in ALL_IMPORTS if (msg := _violation(imp))]
    assert not bad, "imports against the layers:\n" + "\n".join(bad)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _child(package: str, module: str) -> str | None:
    """The direct child of ``package`` that holds ``module`` (``package`` for itself)."""
    if module == package:
        return package
    if module.startswith(package + "."):
        return package + "." + module[len(package) + 1:].split(".")[0]
    return None


def test_no_import_cycle_between_sibling_modules():
    """Within every package, the modules and subpackages (and its ``__init__``) import each
    other without a cycle (import statements that run: not those under ``TYPE_CHECKING``,
    nor strings such as ``resources.files("sisso_lite.datasets")``)."""
    packages = {_package_of(m, p) for m, p in MODULES.items()}
    found = []
    for package in sorted(packages):
        graph: dict[str, set[str]] = {}
        lines: dict[tuple[str, str], Import] = {}
        for imp in ALL_IMPORTS:
            if not imp.runtime or imp.string:
                continue
            a, b = _child(package, imp.module), _child(package, imp.target)
            if a is None or b is None or a == b:
                continue
            if a == package and imp.module != package:
                continue  # deeper modules are the child's business
            graph.setdefault(a, set()).add(b)
            lines.setdefault((a, b), imp)
        for comp in _cycles(graph):
            edges = [_where(lines[(a, b)]) for a in comp for b in comp if (a, b) in lines]
            found.append(f"{' <-> '.join(comp)}:\n    " + "\n    ".join(edges))
    assert not found, "import cycles:\n" + "\n".join(found)


@pytest.mark.parametrize(("module", "name"),
                         [(m, n) for m, moved in sorted(MOVED.items()) for n in sorted(moved)])
def test_moved_names_still_import_from_their_old_path(module, name):
    old = getattr(importlib.import_module(module), name)
    new = getattr(importlib.import_module(MOVED[module][name]), name)
    assert old is new


def test_users_of_the_package_import_the_new_paths():
    """Tests, benchmarks and examples import the new paths (the shims are for users)."""
    bad = []
    for folder in USERS_OF_THE_PACKAGE:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path.is_relative_to(ROOT / "tests" / "data"):
                continue  # tests/data/model_json_v0/generate.py documents the old layout
            tree = ast.parse(path.read_text(), filename=str(path))
            for imp in imports_of(path.stem, path, tree, strings=False):
                if any(_in(imp.target, s) for s in SHIMS) or imp.moved:
                    bad.append(f"{_where(imp)}: old path, import from {imp.target}")
    assert not bad, "\n".join(bad)


def test_the_check_sees_upward_lazy_and_string_imports(tmp_path):
    """The parser catches function-level, TYPE_CHECKING, string and old-path imports."""
    src = ("import importlib\n"
           "from typing import TYPE_CHECKING\n"
           "if TYPE_CHECKING:\n"
           "    from sisso_lite.learning import Campaign\n"
           "def f():\n"
           "    from sisso_lite.estimators import SissoRegressor\n"
           "    from sisso_lite.io import load_model\n"
           "    from sisso_lite import SissoEnsemble\n"
           "    return importlib.import_module('sisso_lite.cli')\n")
    path = tmp_path / "probe.py"
    path.write_text(src)
    found = imports_of("sisso_lite.features.probe", path, ast.parse(src))
    got = {(imp.line, imp.target, imp.runtime, imp.moved) for imp in found}
    assert got == {(4, "sisso_lite.learning", False, False),
                   (6, "sisso_lite.estimators", True, False),
                   (7, "sisso_lite.estimators.persistence", True, True),
                   (8, "sisso_lite.estimators", True, False),
                   (9, "sisso_lite.cli", True, False)}
    msgs = [_violation(imp) for imp in found]
    assert all(msgs), msgs
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
