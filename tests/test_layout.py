"""The layout of the code: kernel parameters declared once, no import cycles, nothing imported that is not needed."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
from pathlib import Path

import lrsched as ls
from lrsched import layout

PACKAGE = Path(ls.__file__).parent


def imports_of(path: Path) -> set[str]:
    """The lrsched modules a file imports, anywhere in it (inside functions too)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                out.add(node.module.split(".")[0])
            else:
                out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            out.update("__init__" for alias in node.names if alias.name.split(".")[0] == "lrsched")
    return out


def test_no_import_cycles():
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    graph = {m: imports_of(PACKAGE / f"{m}.py") & modules for m in modules}
    graph["__init__"] = graph.get("__init__", set())
    done: set[str] = set()

    def visit(m, path):
        assert m not in path, f"import cycle: {' -> '.join([*path, m])}"
        if m in done:
            return
        for n in sorted(graph[m]):
            visit(n, [*path, m])
        done.add(m)

    for m in sorted(graph):
        visit(m, [])


def test_import_loads_no_numba_and_no_framework():
    code = "import sys, lrsched; print(sorted(m for m in ('numba', 'torch', 'jax', 'matplotlib') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_each_leaf_formula_takes_the_declared_parameters_in_order():
    from lrsched.kernels import leaves as k

    formulas = {
        layout.LINEAR: k._linear,
        layout.COSINE: k._cosine,
        layout.POLY: k._poly,
        layout.GEOMETRIC: k._geometric,
        layout.EXPONENTIAL: k._exponential,
        layout.INV_SQRT: k._inv_sqrt,
        layout.INV_TIME: k._inv_time,
        layout.EASE: k._ease,
        layout.TANH: k._tanh,
        layout.FUNCTION: k._function,
    }
    for op, fn in formulas.items():
        names = list(inspect.signature(fn).parameters)[2:]  # after (t, out)
        assert tuple(names[: len(layout.PARAMS[op])]) == layout.PARAMS[op], (op, names)
