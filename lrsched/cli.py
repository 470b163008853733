"""``python -m lrsched``: preview a schedule from a JSON config or an expression.

    python -m lrsched schedule.json                 # a config written by to_json
    python -m lrsched -e "warmup(cosine(0.1, 1e-5, steps=9000), steps=1000)"
    python -m lrsched -e "sgdr(0.1, 1000, period_mult=2)" -n 20000 --log -o sgdr.png
    python -m lrsched --compile                     # compile and cache the kernel now (Docker images, CI)

Prints the schedule's summary and a terminal plot; ``-o`` also writes a PNG
(matplotlib). Expressions are the constructor calls a repr prints; they are
parsed, never ``eval``-ed: only lrsched's constructors, recipes and framework
mirrors, numbers, strings, lists, ``+ - * /`` and the methods ``clip``,
``shift``, ``stretch``, ``warp`` and ``per_epoch`` are understood, and the
symbols ``total`` and ``epoch``, bound by ``--total`` and ``--steps-per-epoch``.
A bad config or expression exits with status 2 and says why.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import inspect
import json
import os
import sys

import numpy as np

from . import _validate as v
from .schedule import REGISTRY, Schedule
from .symbols import SYMBOLS, Expr, check_bindings

_METHODS = {"clip", "shift", "stretch", "per_epoch", "warp"}
_MAX_DEPTH = 64
_MAX_TEXT = 100_000
_MAX_CONFIG = 10_000_000  # bytes of a config file


def _makes_a_schedule(fn) -> bool:
    """Whether ``fn`` is annotated to return a schedule (a mirror, not an adapter or a plateau rule)."""
    try:
        return inspect.signature(fn).return_annotation in ("Schedule", Schedule)
    except (TypeError, ValueError):
        return False


def _callables() -> dict[str, object]:
    """The names an expression may call: the kinds, the recipes, and each framework's mirrors
    (``lrsched.<framework>.mirrors``, or the flat module), none of which imports its framework."""
    import importlib

    from lrsched import recipes

    names = {
        kind: REGISTRY[kind] for kind in REGISTRY if kind not in {"add", "sub", "mul", "div", "function"} | _METHODS
    }
    names.update({name: getattr(recipes, name) for name in recipes.__all__})
    for prefix in ("torch", "mxnet", "optax", "transformers", "timm", "keras"):
        module = importlib.import_module(f"lrsched.{prefix}")
        home = getattr(module, "mirrors", module)
        names.update({f"{prefix}.{n}": getattr(home, n) for n in home.__all__ if _makes_a_schedule(getattr(home, n))})
    return names


def parse(text: str, **bindings) -> Schedule:
    """The schedule an expression describes, without evaluating any Python; bound to ``bindings``.

    The names ``total`` and ``epoch`` are the symbols of :mod:`lrsched.symbols`.

    >>> parse("0.5 * warmup(cosine(0.1, 1e-05, steps=9000), steps=1000) + 0.0001")
    0.5 * warmup(cosine(0.1, 1e-05, steps=9000), steps=1000) + 0.0001
    >>> parse("torch.step_lr(0.1, 30)")
    step(0.1, every=30, factor=0.1)
    """
    if not isinstance(text, str):
        raise TypeError(f"expression must be a str, got {type(text).__name__}")
    if len(text) > _MAX_TEXT:
        raise ValueError(f"expression is longer than {_MAX_TEXT} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as e:
        raise ValueError(f"not an expression: {e.msg} (column {e.offset})") from None
    except (RecursionError, MemoryError):
        raise ValueError("expression nests too deeply") from None
    bindings = check_bindings(bindings)
    try:
        value = _Interpreter(_callables()).run(tree.body, 0)
    except RecursionError:
        raise ValueError("expression nests too deeply") from None
    if not isinstance(value, Schedule):
        raise ValueError(f"the expression gives {v.show(value)}, not a schedule")
    return value.bind(**bindings)


class _Interpreter:
    def __init__(self, names):
        self.names = names

    def run(self, node, depth):
        if depth > _MAX_DEPTH:
            raise ValueError(f"expression nests deeper than {_MAX_DEPTH} levels")
        d = depth + 1
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bool, type(None))):
            return node.value
        if isinstance(node, ast.Name):
            if node.id in SYMBOLS:
                return Expr("sym", (node.id,))
            close = difflib.get_close_matches(node.id, [*SYMBOLS, *self.names], n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else f"; the symbols are {', '.join(SYMBOLS)}"
            raise ValueError(f"unknown name {node.id!r}{hint}")
        if isinstance(node, (ast.List, ast.Tuple)):
            items = [self.run(x, d) for x in node.elts]
            return items if isinstance(node, ast.List) else tuple(items)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = self.run(node.operand, d)
            return -operand if isinstance(node.op, ast.USub) else +operand
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div)):
            left, right = self.run(node.left, d), self.run(node.right, d)
            if not (isinstance(left, Schedule) or isinstance(right, Schedule)) and not all(
                isinstance(x, (int, float, Expr)) and not isinstance(x, bool) for x in (left, right)
            ):
                raise ValueError("arithmetic needs numbers or schedules")
            op = {ast.Add: "__add__", ast.Sub: "__sub__", ast.Mult: "__mul__", ast.Div: "__truediv__"}[type(node.op)]
            result = getattr(left, op)(right)
            if result is NotImplemented:
                result = getattr(right, "__r" + op[2:])(left)
            if result is NotImplemented:
                raise ValueError(f"cannot combine {left!r} and {right!r}")
            return result
        if isinstance(node, ast.Call):
            fn = self._function(node.func, d)
            args = [self.run(a, d) for a in node.args]
            if any(k.arg is None for k in node.keywords):
                raise ValueError("**keywords are not allowed")
            kwargs = {k.arg: self.run(k.value, d) for k in node.keywords}
            return fn(*args, **kwargs)
        raise ValueError(f"not allowed in a schedule expression: {ast.unparse(node)!r}")

    def _function(self, func, depth):
        if isinstance(func, ast.Name) and func.id in self.names:
            return self.names[func.id]
        if isinstance(func, ast.Attribute):
            if isinstance(func.value, ast.Name) and f"{func.value.id}.{func.attr}" in self.names:
                return self.names[f"{func.value.id}.{func.attr}"]
            if func.attr in _METHODS:
                target = self.run(func.value, depth)
                if isinstance(target, Schedule):
                    return getattr(target, func.attr)
        name = ast.unparse(func)
        known = [*self.names, *(f"s.{m}" for m in sorted(_METHODS))]
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown function {name!r}{hint}")


# ---------------------------------------------------------------- terminal plot

_BLOCKS = " ▁▂▃▄▅▆▇█"


def terminal_plot(values: np.ndarray, width: int = 72, height: int = 8, last: int | None = None) -> str:
    """Columns of block characters: each column is the maximum over its share of the range."""
    cols = min(width, values.size)
    edges = np.linspace(0, values.size, cols + 1).astype(int)
    tops = np.array([values[a:b].max() for a, b in zip(edges[:-1], edges[1:])])
    lo, hi = float(values.min()), float(values.max())
    span = hi - lo if hi > lo else 1.0
    levels = np.rint((tops - lo) / span * (height * 8)).astype(int)
    if hi == lo:
        levels[:] = height * 4
    rows = []
    for r in range(height - 1, -1, -1):
        row = "".join(_BLOCKS[min(max(x - r * 8, 0), 8)] for x in levels)
        label = f"{hi:.3g}" if r == height - 1 else (f"{lo:.3g}" if r == 0 else "")
        rows.append(f"{label:>9} |{row}")
    rows.append(" " * 10 + "+" + "-" * cols)
    last = values.size if last is None else last  # the values may be an even sample of t = 1 .. last
    rows.append(" " * 11 + f"t = 1{'':{max(cols - 10 - len(str(last)), 1)}}t = {last}")
    return "\n".join(rows)


# ---------------------------------------------------------------- entry point


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m lrsched",
        description="Preview a learning-rate schedule: its summary, a terminal plot and optionally a PNG.",
    )
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("config", nargs="?", help="a JSON config (the format of to_json), or - for standard input")
    src.add_argument("-e", "--expr", help="an expression such as 'warmup(cosine(0.1, 0, steps=900), steps=100)'")
    src.add_argument(
        "--compile",
        action="store_true",
        help="compile the evaluation kernel now and cache it on disk (for container images and CI caches)",
    )
    ap.add_argument("-n", type=int, help="iterations to show (default: where the schedule settles)")
    ap.add_argument("-o", "--output", help="write a plot to this PNG file (needs matplotlib)")
    ap.add_argument("--log", action="store_true", help="log-scale learning rate in the PNG")
    ap.add_argument("--steps-per-epoch", type=int, help="add an epoch axis to the PNG; binds the symbol epoch")
    ap.add_argument("--total", type=int, help="the run's number of updates: binds the symbol total")
    args = ap.parse_args(argv)
    if args.compile:
        from .engine import compile_kernels

        print(f"lrsched: the evaluation kernel is compiled and cached in {compile_kernels()}")
        return 0
    try:
        schedule = _load(args)
        schedule = schedule.bind(total=args.total, epoch=args.steps_per_epoch)
        if schedule._symbols:
            flags = {"total": "--total N", "epoch": "--steps-per-epoch N"}
            names = sorted(schedule._symbols)
            raise ValueError(
                f"{schedule!r} uses {', '.join(names)}: give {' and '.join(flags[n] for n in names)}"
            )
        n = args.n
        if n is None:
            total = schedule.length()
            if total is None:
                raise ValueError("this schedule never settles: give -n")
            n = max(int(total) + 1, 2)
        if n < 1:
            raise ValueError(f"-n must be >= 1, got {n}")
        if args.output is not None and not args.output.lower().endswith(".png"):
            raise ValueError(f"-o writes a PNG file: give a path ending in .png, got {args.output!r}")
        print(schedule.describe(n))
        print()
        print(terminal_plot(_preview_values(schedule, n), last=n))
        if args.output:
            _png(schedule, n, args)
            print(f"\nwrote {args.output}")
    except (ValueError, TypeError, OSError, MemoryError, RecursionError) as e:
        print(f"lrsched: error: {str(e) or type(e).__name__}", file=sys.stderr)
        return 2
    return 0


def _preview_values(schedule: Schedule, n: int) -> np.ndarray:
    """Every value for the terminal plot, or an even sample of them past a few million (memory stays small)."""
    from .analysis import CHUNK

    if n <= CHUNK:
        return schedule.values(n)
    return schedule(np.unique(np.round(np.linspace(1, n, CHUNK))))


def _load(args) -> Schedule:
    from .serialize import from_json

    if args.expr is not None:
        return parse(args.expr)
    if args.config == "-":
        text = sys.stdin.read(_MAX_CONFIG + 1)
        if len(text) > _MAX_CONFIG:
            raise ValueError(f"standard input: larger than {_MAX_CONFIG} characters, not a schedule config")
    elif not os.path.exists(args.config) and "(" in args.config:  # an expression given where a file was expected
        try:
            return parse(args.config)
        except ValueError as e:
            raise ValueError(f"{args.config!r} is not a file, and as an expression (-e): {e}") from None
    else:
        with open(args.config, "rb") as f:
            data = f.read(_MAX_CONFIG + 1)  # /dev/zero and /dev/urandom never end: read a bounded amount
        if len(data) > _MAX_CONFIG:
            raise ValueError(f"{args.config}: larger than {_MAX_CONFIG} bytes, not a schedule config")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"{args.config}: not UTF-8 text, not a schedule config") from None
    try:
        return from_json(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"{args.config}: not JSON: {e}") from None


def _png(schedule, n, args) -> None:
    try:
        import matplotlib
    except ImportError:
        raise ValueError("-o needs matplotlib: pip install 'lrsched[plot]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plotting import plot

    ax = plot(schedule, n, log=args.log, steps_per_epoch=args.steps_per_epoch)
    ax.set_title(repr(schedule) if len(repr(schedule)) < 90 else repr(schedule)[:87] + "...", fontsize="small")
    ax.figure.tight_layout()
    ax.figure.savefig(args.output, dpi=120)
    plt.close(ax.figure)
