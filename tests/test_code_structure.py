"""The layout of the code: no import cycles, nothing imported that is not needed, every class written where it is
defined. (What lrsched/layout.py declares is tested in tests/test_layout.py.)"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import lrsched as ls

PACKAGE = Path(ls.__file__).parent


def _modules() -> dict[str, Path]:
    """Every module of the package, subpackages included, by dotted name ("" is lrsched itself)."""
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def imports_of(name: str, path: Path, modules) -> set[str]:
    """The lrsched modules a file imports, anywhere in it (inside functions too), by dotted name."""
    is_package = path.name == "__init__.py"
    base = name.split(".") if name else []
    if not is_package:
        base = base[:-1]
    out = set()

    def add(target: str) -> None:
        while target not in modules and "." in target:  # an attribute of a module: the module
            target = target.rsplit(".", 1)[0]
        if target in modules:
            out.add(target)

    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level >= 1:
            here = base[: len(base) - (node.level - 1)] if node.level > 1 else base
            target = ".".join([*here, *(node.module.split(".") if node.module else [])])
            for alias in node.names:
                sub = f"{target}.{alias.name}" if target else alias.name
                add(sub if sub in modules else target)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "lrsched":
                    add(alias.name.partition(".")[2])
    out.discard(name)
    return out


def test_no_import_cycles():
    """Over every module, subpackages included (lrsched.torch.adapter, lrsched.kernels.interpreter, ...)."""
    modules = _modules()
    assert {"kernels.interpreter", "torch.adapter", "compiled"} <= set(modules)
    graph = {m: imports_of(m, path, modules) for m, path in modules.items()}
    done: set[str] = set()

    def visit(m, path):
        assert m not in path, f"import cycle: {' -> '.join(x or 'lrsched' for x in [*path, m])}"
        if m in done:
            return
        for n in sorted(graph[m]):
            visit(n, [*path, m])
        done.add(m)

    for m in sorted(graph):
        visit(m, [])


def test_import_loads_no_numba_and_no_framework():
    code = (
        "import sys, lrsched, lrsched.torch, lrsched.optax, lrsched.keras; "
        "print(sorted(m for m in ('numba', 'torch', 'jax', 'optax', 'keras', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_every_class_is_defined_at_module_level():
    """No class is made at run time inside a function (grep, go-to-definition and debuggers find each one)."""
    for name, path in _modules().items():
        tree = ast.parse(path.read_text())
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                inner = [c.name for c in ast.walk(fn) if isinstance(c, ast.ClassDef)]
                assert not inner, f"{name}.{fn.name} defines {inner} at run time"
