"""``python -m lrsched``: preview a schedule from a JSON or YAML config or an expression.

    python -m lrsched schedule.json                 # a config written by to_json
    python -m lrsched schedule.yaml                 # a config as people write them (needs PyYAML)
    python -m lrsched -e "warmup(cosine(0.1, 1e-5, steps=9000), steps=1000)"
    python -m lrsched -e "sgdr(0.1, 1000, period_mult=2)" -n 20000 --log -o sgdr.png
    python -m lrsched --compile                     # compile and cache the kernel now (Docker images, CI)

Prints the schedule's summary and a terminal plot; ``-o`` also writes a PNG
(matplotlib). Expressions are the constructor calls a repr prints, read by
:func:`lrsched.parsing.parse` (never ``eval``-ed); the symbols ``total`` and
``epoch`` they hold are bound by ``--total`` and ``--steps-per-epoch``. A bad
config or expression exits with status 2 and says why; output cut short by
its reader (``| head``) ends the program quietly, with status 141 as a
SIGPIPE would.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

from .parsing import parse
from .schedule import Schedule

__all__ = ["main", "parse", "terminal_plot"]

_MAX_CONFIG = 10_000_000  # bytes of a config file
_FLAGS = {"total": "--total N", "epoch": "--steps-per-epoch N"}


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
    """The command line; returns the exit status (0, 2 for bad input, 141 when the output's reader has gone)."""
    try:
        return _main(argv)
    except BrokenPipeError:  # `| head` stopped reading: no message, and nothing more to write at exit
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 141


class _Parser(argparse.ArgumentParser):
    """argparse's parser, whose errors are one line, as lrsched's own are (not the usage, then the error)."""

    def error(self, message):
        self.exit(2, f"lrsched: error: {message} (python -m lrsched --help)\n")


def _main(argv) -> int:
    ap = _Parser(
        prog="python -m lrsched",
        description="Preview a learning-rate schedule: its summary, a terminal plot and optionally a PNG.",
    )
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("config", nargs="?", help="a JSON or YAML config (YAML needs PyYAML), or - for standard input")
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
        from . import compiled
        from .engine import compile_kernels

        where = compile_kernels()
        if compiled.CACHE_DIR is None:  # a build step should notice a cache that was never written
            print(f"lrsched: the evaluation kernel is compiled but {where}", file=sys.stderr)
            return 1
        print(f"lrsched: the evaluation kernel is compiled and cached in {where}")
        return 0
    try:
        schedule = _load(args)
        given = {"total": args.total, "epoch": args.steps_per_epoch}  # each bound if the schedule holds it
        schedule = schedule.bind(**{k: x for k, x in given.items() if k in schedule._symbols})
        if schedule._symbols:
            names = sorted(schedule._symbols)
            raise ValueError(f"{schedule!r} uses {', '.join(names)}: give {' and '.join(_FLAGS[n] for n in names)}")
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
        sys.stdout.flush()  # a reader gone shows here, inside main, and not at exit
    except BrokenPipeError:
        raise
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
    return _from_text(text, "standard input" if args.config == "-" else args.config)


def _from_text(text: str, where: str) -> Schedule:
    """A config's text as JSON, or else as YAML (when PyYAML is installed)."""
    from .serialize import from_dict, from_json

    try:
        return from_json(text)
    except json.JSONDecodeError as e:  # from_json's says "text is not JSON: ...": here the file is named instead
        not_json = f"not JSON ({str(e).removeprefix('text is not JSON: ')})"
    try:
        import yaml
    except ImportError:
        raise ValueError(
            f"{where}: {not_json}; for a YAML config install PyYAML (pip install pyyaml, or 'lrsched[config]')"
        ) from None
    try:
        config = yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError) as e:
        detail = "it nests too deeply" if isinstance(e, RecursionError) else str(e).replace("\n", " ")
        raise ValueError(f"{where}: {not_json}, and not YAML: {detail}") from None
    if not isinstance(config, dict):
        raise ValueError(f"{where}: {not_json}, and as YAML it is a {type(config).__name__}, not a config")
    return from_dict(config)


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
    ax.figure.savefig(args.output, dpi=120)
    plt.close(ax.figure)
