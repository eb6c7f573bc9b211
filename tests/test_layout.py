"""The package's layout rules: areas talk through their public API, no import cycles.

An area is a subpackage of ``medrisk`` (``medrisk.credit``, ``medrisk.data`` ...); the
root modules (``kernel``, ``i18n``, ``config``, ``exceptions``, ``cli``) are shared.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import medrisk

PKG = Path(medrisk.__file__).parent
ROOT_MODULES = {"__init__", "cli", "config", "exceptions", "i18n", "kernel"}
AREAS = sorted(p.name for p in PKG.iterdir() if (p / "__init__.py").exists())
#: Imports inside functions: only heavy or optional dependencies, loaded when used.
LAZY_ALLOWED = {"sqlalchemy", "psycopg", "papermill", "nbformat", "nbconvert", "jupyter_client",
                "traitlets", "IPython", "plotly.io", "skops", "statsmodels", "sklearn.metrics"}


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PKG.rglob("*.py")):
        parts = path.relative_to(PKG.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = _modules()


def _area(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in AREAS) else None


def _imports(path: Path):
    """(module, names, line, where) of every import of a file; where is top, function or typing.

    ``typing`` imports (under ``if TYPE_CHECKING:``) only serve annotations: they never run.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    where: dict[int, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            where.update({id(n): "function" for n in ast.walk(node) if n is not node})
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            where.update({id(n): "typing" for n in ast.walk(node) if n is not node})
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0:
            yield (node.module or "", [a.name for a in node.names], node.lineno,
                   where.get(id(node), "top"))
        elif isinstance(node, ast.Import):
            for a in node.names:
                yield a.name, [], node.lineno, where.get(id(node), "top")


def test_root_holds_at_most_eight_modules_and_every_area_lists_its_api():
    root = sorted(p.stem for p in PKG.glob("*.py"))
    assert len(root) <= 8, root
    assert set(root) <= ROOT_MODULES
    for area in AREAS:
        mod = importlib.import_module(f"medrisk.{area}")
        assert mod.__all__, area
        missing = [n for n in mod.__all__ if not hasattr(mod, n)]
        assert not missing, (area, missing)
        privates = [p.stem for p in (PKG / area).glob("*.py") if p.stem != "__init__"]
        assert all(p.startswith("_") for p in privates), (area, privates)


def test_no_private_name_or_private_module_crosses_an_area():
    crossings = []
    for name, path in MODULES.items():
        here = _area(name)
        for module, names, line, _ in _imports(path):
            if not module.startswith("medrisk"):
                continue
            there = _area(module)
            if there is None or there == here:
                continue
            inside = module.split(".")[2:]
            if any(part.startswith("_") for part in inside):
                crossings.append(f"{path.name}:{line} imports private module {module}")
            crossings += [f"{path.name}:{line} imports {module}.{n}" for n in names
                          if n.startswith("_")]
    assert crossings == []


def test_no_import_cycles_between_modules():
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    for name, path in MODULES.items():
        for module, names, _, where in _imports(path):
            if where != "top" or not module.startswith("medrisk"):
                continue
            targets = {module} | {f"{module}.{n}" for n in names}
            graph[name] |= {t for t in targets if t in MODULES and t != name}
    # a package imports its own modules from __init__: that edge is not a cycle
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if nxt.startswith(node + "."):
                continue
            if state.get(nxt) == 1:
                cycles.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []


def test_imports_inside_functions_are_only_heavy_optional_dependencies():
    lazy = [f"{path.relative_to(PKG)}:{line} {module}"
            for name, path in MODULES.items()
            for module, _, line, where in _imports(path)
            if where == "function"
            and not any(module == a or module.startswith(a + ".") for a in LAZY_ALLOWED)]
    assert lazy == []


@pytest.mark.parametrize("area", AREAS)
def test_each_area_imports_on_its_own(area):
    # a fresh interpreter would show import-order problems; here: the area and its API load
    mod = importlib.import_module(f"medrisk.{area}")
    assert mod.__doc__ and mod.__doc__.startswith(f"medrisk.{area}")
