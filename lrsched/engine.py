"""Where evaluation happens.

A schedule is laid out once as a :class:`Program` (the flat arrays described
in :mod:`lrsched.layout`), cached on the schedule, and every evaluation, of
one t or of ten million, runs the same compiled kernel,
:func:`lrsched.kernels.evaluate`, on it. Laying out a new composition costs
microseconds and compiles nothing: the kernel is generic, compiled once after
install and cached on disk by numba.

Long ranges are split into blocks dealt round-robin to Python threads running
that kernel without the GIL: no OpenMP or TBB runtime, so evaluation works in
forked children and from several threads at once.

This module also checks the iterations it is given (numbers >= 0, finite)
and the values it returns: a value that is not finite anywhere in the
composition at t (a 0/0 inside a minimum, a 1/0 under a clip) raises
ValueError naming t, whatever the order of the operands.
"""

from __future__ import annotations

import math
import numbers
import os
import threading

import numpy as np

from . import compiled, kernels
from . import layout as L
from ._validate import show

#: ranges at least this long are evaluated on several threads
PARALLEL_MIN = 1 << 16
#: the most values one call may produce (an 8 GB float64 array)
MAX_VALUES = 1 << 30

_EMPTY = np.empty(0)
_NO_SIDE = np.empty((2, 0))


def num_threads() -> int:
    """Threads for long ranges: ``LRSCHED_NUM_THREADS``, else the CPUs this process may use."""
    env = os.environ.get("LRSCHED_NUM_THREADS", "")
    if env.strip().isdigit() and int(env) > 0:
        return int(env)
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


class Encoder:
    """Collects node records while a schedule's ``_encode`` methods run."""

    def __init__(self):
        self.records: list[int] = []  # op, float offset, kid offset, kid count; per node
        self.fp: list[float] = []
        self.kids: list[int] = []
        self.functions: list = []
        self.height = 0
        self._depth = 0

    def encode(self, schedule) -> int:
        """Lay out ``schedule``; returns its node index."""
        self._depth += 1
        self.height = max(self.height, self._depth)
        try:
            return schedule._encode(self)
        finally:
            self._depth -= 1

    def leaf(self, op: int, values: dict) -> int:
        """A leaf: ``values`` names every kernel parameter ``lrsched.layout.PARAMS`` declares for ``op``."""
        return self._add(op, L.pack(op, values), ())

    def node(self, op: int, values, children) -> int:
        """A node over ``children`` (schedules, or node indices already laid out).

        ``values`` names its kernel parameters (a join passes its boundaries as a list).
        """
        kids = [c if isinstance(c, int) else self.encode(c) for c in children]
        self.height = max(self.height, self._depth + 1)
        params = [float(b) for b in values] if op == L.JOIN else L.pack(op, values)
        return self._add(op, params, kids)

    def function(self, fn) -> int:
        self.functions.append(fn)
        return self._add(L.FUNCTION, [float(len(self.functions) - 1)], ())

    def value_at(self, node: int, t: float, schedule) -> float:
        """The value at t of ``schedule``, already laid out as ``node`` (warmup needs s(0))."""
        return self.build(node, schedule).at(t)

    def _add(self, op, params, kids) -> int:
        self.records += (op, len(self.fp), len(self.kids), len(kids))
        self.fp += params
        self.kids += kids
        return len(self.records) // 4 - 1

    def build(self, root: int, schedule) -> Program:
        n = len(self.records) // 4
        base = L.HEADER + 4 * n
        ints = [n, root, self.height + 2, len(self.functions), *self.records, *self.kids]
        for i in range(L.HEADER + 2, base, 4):
            ints[i] += base  # kid offsets become positions in ip
        ip = np.array(ints, dtype=np.int64)
        fp = np.array(self.fp, dtype=np.float64)
        return Program(ip, fp, self.functions, schedule)


class Program:
    """A schedule laid out for the kernel; ``at(t)`` evaluates one float t >= 0 (a Python float)."""

    __slots__ = ("at", "fp", "functions", "ip")

    def __init__(self, ip, fp, functions, schedule):
        self.ip = ip
        self.fp = fp
        self.functions = tuple(functions)
        if self.functions:

            def at(t):
                return float(_run(schedule, self, np.array([t]), 0.0, 1)[0])

        else:
            local, current = _SCALAR, _SCALAR_ENTRY

            def at(t):
                try:
                    w = local.work
                except AttributeError:
                    w = _scalar_scratch()
                y = current[0](ip, fp, _EMPTY, t, True, 0, 1, _NO_SIDE, w[0], w[1], 0)
                if y - y == 0.0:
                    return float(y)
                return float(_run(schedule, self, np.array([t]), 0.0, 1)[0])  # raises, naming t

        self.at = at


def cycle_start(i, period, mult) -> float:
    """S_i, where cycle i of a ``cycle`` starts, in the kernel's own arithmetic (see :class:`lrsched.Cycle`)."""
    with np.errstate(all="ignore"):
        return float(kernels.cycle_start(np.float64(i), np.float64(period), np.float64(mult)))


def compile_program(schedule) -> Program:
    if schedule._symbols:
        from .symbols import unbound_message

        raise ValueError(unbound_message(schedule, schedule._symbols))
    enc = Encoder()
    return enc.build(enc.encode(schedule), schedule)


# ---------------------------------------------------------------- the two tiers
#
# One kernel source (lrsched.kernels), run two ways: as it is, plain Python over
# NumPy (the interpreted tier: no compiler, a value at once), or compiled by numba
# (lrsched.compiled: compiled once, then loaded from numba's on-disk cache). The
# compiled tier serves every call once it is loaded, or when numba's cache
# already holds it (a warm cache: its scalar calls are several times faster);
# otherwise the first range longer than INTERPRETED_MAX loads, or compiles, it.
# Both give the same bits.

#: the longest range the interpreted tier evaluates while the compiled kernel is neither loaded nor cached
INTERPRETED_MAX = 100_000

_EMPTY_INT = np.empty(0, dtype=np.int64)
_SCALAR = threading.local()  # per thread: scratch for scalar calls, so that they allocate nothing
_COMPILED: list = []  # [the compiled range entry] once the compiled tier is in use


def _scalar_scratch():
    _SCALAR.work = kernels.scratch(L.MAX_DEPTH + 2, 1)
    return _SCALAR.work


def _interpreted(*args):
    """The kernel source run as Python; IEEE results (inf, nan) as compiled code gives them, without warnings."""
    with np.errstate(all="ignore"):
        return kernels.evaluate(*args)


def _first_scalar(*args):
    """The first scalar call of the process: picks the tier (compiled if numba's cache holds it), then runs."""
    if not _COMPILED and compiled.cached():
        _use_compiled()
    elif not _COMPILED:
        _SCALAR_ENTRY[0] = _interpreted
    return _SCALAR_ENTRY[0](*args)


#: the kernel every scalar call runs (one list, read by every Program.at, switched when the compiled tier loads)
_SCALAR_ENTRY: list = [_first_scalar]


def _use_compiled():
    """Load the compiled tier (compiling it once if numba's cache does not hold it) and switch every call to it.

    Scalar calls go around numba's type dispatch where numba allows it (every
    call passes the types it was compiled for: about 200 ns saved a call);
    that raw entry point keeps the GIL, which a single value does not mind.
    Ranges go through the dispatcher, which releases the GIL, so threads run at once.
    """
    module = compiled.load()
    ranged = module.evaluate
    if not hasattr(ranged, "overloads"):  # NUMBA_DISABLE_JIT: the same plain Python

        def plain(*args):
            with np.errstate(all="ignore"):
                return module.evaluate(*args)

        ranged = scalar = plain
    else:
        try:
            scalar = ranged.overloads[ranged.signatures[0]].entry_point
        except Exception:  # pragma: no cover - a numba without entry points
            scalar = ranged
    _SCALAR_ENTRY[0] = scalar
    if not _COMPILED:
        _COMPILED.append(ranged)
    return _COMPILED[0]


def _range_entry(n: int):
    """The kernel for a range of n values: the compiled one when it is in use, cached, or n is long."""
    if _COMPILED:
        return _COMPILED[0]
    if n > INTERPRETED_MAX or compiled.cached():
        return _use_compiled()
    return _interpreted


def compile_kernels() -> str:
    """Compile the kernel now and cache it on disk (``python -m lrsched --compile``); returns where."""
    where = compiled.compile_kernels()
    _use_compiled()
    return where


# ---------------------------------------------------------------- entry points


def evaluate(schedule, program: Program, t):
    """``schedule(t)`` for anything but a plain in-range int or float."""
    if isinstance(t, (bool, np.bool_)):
        raise TypeError(f"t must be a number or an array of numbers, got {show(t)}")
    if isinstance(t, numbers.Real):
        try:
            x = float(t)
        except OverflowError:
            raise ValueError(f"t must be finite and >= 0, got {show(t)} (beyond the float range)") from None
        if not 0 <= x < math.inf:
            raise ValueError(f"t must be finite and >= 0, got {show(t)}")
        return program.at(x)
    if isinstance(t, (np.ndarray, list, tuple, range)):
        arr = np.asarray(t)
        if arr.dtype.kind not in "iuf":
            raise TypeError(f"t must be numbers, got an array of dtype {arr.dtype}: {t!r}")
        if arr.size > MAX_VALUES:
            raise ValueError(f"t has {arr.size} elements; at most {MAX_VALUES} values are evaluated at once")
        flat = np.ascontiguousarray(arr, dtype=np.float64).reshape(-1)
        ok = (flat >= 0) & (flat < math.inf)
        if not ok.all():
            i = int(np.argmin(ok))
            where = tuple(int(j) for j in np.unravel_index(i, arr.shape))
            raise ValueError(f"t must be finite and >= 0, got {show(flat[i])} at index {where}")
        return _run(schedule, program, flat, 0.0, flat.size).reshape(arr.shape)
    if hasattr(t, "__array__") or hasattr(t, "__array_interface__"):  # torch tensors (CPU), 0-d arrays, ...
        try:
            arr = np.asarray(t)
        except Exception as e:  # a JAX tracer inside jit, a CUDA tensor, ...
            if "Tracer" in type(t).__name__:
                raise TypeError(
                    f"t is a JAX tracer ({type(t).__name__}): a schedule computes in NumPy, outside jax.jit; "
                    "for optax and jit, pass lrsched.optax.schedule(s)"
                ) from None
            raise TypeError(f"t must be a number or an array of numbers, got {type(t).__name__}: {e}") from None
        return evaluate(schedule, program, arr if arr.ndim else arr[()])
    raise TypeError(f"t must be a number or an array of numbers, got {show(t)}")


def evaluate_range(schedule, program: Program, t0: float, n: int) -> np.ndarray:
    """``schedule`` at t0, t0 + 1, ..., t0 + n - 1."""
    if n > MAX_VALUES:
        raise ValueError(f"n={n} values asked for; at most {MAX_VALUES} are evaluated at once (8 GB)")
    return _run(schedule, program, _EMPTY, t0, n)


def _run(schedule, program: Program, times, t0: float, n: int) -> np.ndarray:
    """``schedule`` at ``times`` (when not empty) or at t0, t0 + 1, ... (n values)."""
    ranged = times.size == 0
    out = np.empty(n) if ranged else np.array(times, dtype=np.float64)  # the kernel works in place
    if n == 0:
        return out
    entry = _range_entry(n)
    if program.functions:
        y = _run_with_functions(entry, program, out, t0, ranged)
    elif entry is not _interpreted and n >= PARALLEL_MIN and (threads := min(num_threads(), -(-n // 4096))) > 1:
        y = _threaded(entry, program, out, t0, ranged, threads)
    else:
        y = entry(program.ip, program.fp, out, t0, ranged, 0, 1, _NO_SIDE, _EMPTY, _EMPTY_INT, 0)
    if y - y != 0.0:
        i = int(np.argmin(np.isfinite(out)))
        raise _not_finite(schedule, float(times[i]) if times.size else t0 + i, out[i])
    return out


def _threaded(entry, program: Program, out, t0: float, ranged: bool, threads: int) -> float:
    """Blocks dealt round-robin to ``threads`` threads (this one included); NaN if any value is not finite."""
    found: list = [None] * threads

    def work(k):
        found[k] = entry(program.ip, program.fp, out, t0, ranged, k, threads, _NO_SIDE, _EMPTY, _EMPTY_INT, 0)

    helpers = [threading.Thread(target=work, args=(k,), daemon=True) for k in range(1, threads)]
    for th in helpers:
        th.start()
    work(0)
    for th in helpers:
        th.join()
    if any(y is None for y in found):  # pragma: no cover - the kernel raises nothing
        raise RuntimeError("lrsched: an evaluation thread did not finish")
    return math.nan if any(y - y != 0.0 for y in found) else 1.0


def _run_with_functions(entry, program: Program, out, t0: float, ranged: bool) -> float:
    """Two passes: record where each ``function`` leaf is needed, call it, fill in."""
    from .kernels import BLOCK, NCOL, scratch

    ip, fp, fns = program.ip, program.fp, program.functions
    rows = int(ip[2])
    work, iwork = scratch(rows, min(BLOCK, max(out.size, 1)))
    side = np.empty((2, max(out.size, 1) * len(fns)))
    times = out.copy()
    entry(ip, fp, out, t0, ranged, 0, 1, side, work, iwork, 1)
    for j in range(int(iwork[rows * NCOL])):
        fn = fns[int(side[1, j])]
        t = float(side[0, j])
        y = fn(t)
        if isinstance(y, (bool, np.bool_)) or not isinstance(y, numbers.Real):
            raise TypeError(f"function {fn!r} returned {show(y)} at t={t!r}: not a number")
        side[0, j] = float(y)
    iwork[rows * NCOL] = 0
    out[:] = times
    return entry(ip, fp, out, t0, ranged, 0, 1, side, work, iwork, 2)


def _not_finite(schedule, t, y) -> ValueError:
    text = repr(schedule)
    if len(text) > 300:
        text = text[:300] + "..."
    return ValueError(f"{text} is not finite at t={show(t)} (value {show(y)})")
