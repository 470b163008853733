"""Where evaluation happens.

A schedule is laid out once as a :class:`Program` (the flat arrays described
in :mod:`lrsched.kernels`), cached on the schedule, and every evaluation, of
one t or of ten million, runs the same compiled kernel on it. Laying out a
new composition costs microseconds and compiles nothing: the kernels are
generic and cached on disk by numba after their first compilation.

This module also checks the iterations it is given (numbers >= 0, finite)
and the values it returns (finite, else ValueError naming t).
"""

from __future__ import annotations

import math
import numbers

import numba
import numpy as np

from . import kernels as K
from ._validate import show

#: ranges at least this long are evaluated on all of numba's threads
PARALLEL_MIN = 1 << 16

_EMPTY = np.empty(0)
_NO_SIDE = np.empty((2, 0))


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

    def leaf(self, op: int, params) -> int:
        return self._add(op, params, ())

    def node(self, op: int, params, children) -> int:
        """A node over ``children``: schedules, or node indices already laid out."""
        kids = [c if isinstance(c, int) else self.encode(c) for c in children]
        self.height = max(self.height, self._depth + 1)
        return self._add(op, params, kids)

    def function(self, fn) -> int:
        self.functions.append(fn)
        return self._add(K.FUNCTION, [len(self.functions) - 1], ())

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
        base = K.HEADER + 4 * n
        ints = [n, root, self.height + 2, len(self.functions), *self.records, *self.kids]
        for i in range(K.HEADER + 2, base, 4):
            ints[i] += base  # kid offsets become positions in ip
        ip = np.array(ints, dtype=np.int64)
        fp = np.array(self.fp, dtype=np.float64)
        return Program(ip, fp, self.functions, schedule)


class Program:
    """A schedule laid out for the kernels; ``at(t)`` evaluates one float t >= 0."""

    __slots__ = ("at", "fp", "functions", "ip")

    def __init__(self, ip, fp, functions, schedule):
        self.ip = ip
        self.fp = fp
        self.functions = tuple(functions)
        if self.functions:

            def at(t):
                return float(_run(schedule, self, np.array([t]), 0.0, 1)[0])

        else:
            entry = _scalar_entry()

            def at(t):
                y = entry(ip, fp, t)
                if y - y == 0.0:
                    return y
                raise _not_finite(schedule, t, y)

        self.at = at


def compile_program(schedule) -> Program:
    enc = Encoder()
    return enc.build(enc.encode(schedule), schedule)


_ENTRY = None


def _scalar_entry():
    """The compiled scalar kernel, called without numba's type dispatch.

    Every call passes arrays made by :func:`compile_program` and a Python
    float, the types it was compiled for; this saves about 200 ns a call.
    """
    global _ENTRY
    if _ENTRY is None:
        ip = np.array([1, 0, 2, 0, K.CONST, 0, 0, 0], dtype=np.int64)
        fp = np.zeros(1)
        K.evaluate_scalar(ip, fp, 0.0)
        disp = K.evaluate_scalar
        try:
            _ENTRY = disp.overloads[disp.signatures[0]].entry_point
            _ENTRY(ip, fp, 0.0)
        except Exception:  # pragma: no cover - a numba without entry points
            _ENTRY = disp
    return _ENTRY


# ---------------------------------------------------------------- entry points


def evaluate(schedule, program: Program, t):
    """``schedule(t)`` for anything but a plain in-range int or float."""
    if isinstance(t, (bool, np.bool_)):
        raise TypeError(f"t must be a number or an array of numbers, got {show(t)}")
    if isinstance(t, numbers.Real):
        x = float(t)
        if not 0 <= x < math.inf:
            raise ValueError(f"t must be finite and >= 0, got {show(t)}")
        return program.at(x)
    if isinstance(t, (np.ndarray, list, tuple, range)):
        arr = np.asarray(t)
        if arr.dtype.kind not in "iuf":
            raise TypeError(f"t must be numbers, got an array of dtype {arr.dtype}: {t!r}")
        flat = np.ascontiguousarray(arr, dtype=np.float64).reshape(-1)
        ok = (flat >= 0) & (flat < math.inf)
        if not ok.all():
            i = int(np.argmin(ok))
            where = tuple(int(j) for j in np.unravel_index(i, arr.shape))
            raise ValueError(f"t must be finite and >= 0, got {show(flat[i])} at index {where}")
        return _run(schedule, program, flat, 0.0, flat.size).reshape(arr.shape)
    raise TypeError(f"t must be a number or an array of numbers, got {show(t)}")


def evaluate_range(schedule, program: Program, t0: float, n: int) -> np.ndarray:
    """``schedule`` at t0, t0 + 1, ..., t0 + n - 1."""
    return _run(schedule, program, _EMPTY, t0, n)


def _run(schedule, program: Program, times, t0: float, n: int) -> np.ndarray:
    out = np.empty(n)
    if n == 0:
        return out
    ip, fp = program.ip, program.fp
    if program.functions:
        bad = _run_with_functions(program, times, t0, out)
    elif n >= PARALLEL_MIN and (threads := numba.get_num_threads()) > 1:
        bad = K.evaluate_parallel(ip, fp, times, t0, out, threads)
    else:
        bad = K.evaluate(ip, fp, times, t0, out, _NO_SIDE, np.zeros(1, dtype=np.int64), 0)
    if bad:
        i = int(np.argmin(np.isfinite(out)))
        raise _not_finite(schedule, float(times[i]) if times.size else t0 + i, out[i])
    return out


def _run_with_functions(program: Program, times, t0: float, out) -> int:
    """Two passes: record where each ``function`` leaf is needed, call it, fill in."""
    ip, fp, fns = program.ip, program.fp, program.functions
    side = np.empty((2, out.size * len(fns)))
    pos = np.zeros(1, dtype=np.int64)
    K.evaluate(ip, fp, times, t0, out, side, pos, 1)
    for j in range(int(pos[0])):
        fn = fns[int(side[1, j])]
        t = float(side[0, j])
        y = fn(t)
        if isinstance(y, (bool, np.bool_)) or not isinstance(y, numbers.Real):
            raise TypeError(f"function {fn!r} returned {show(y)} at t={t!r}: not a number")
        side[0, j] = float(y)
    pos[0] = 0
    return K.evaluate(ip, fp, times, t0, out, side, pos, 2)


def _not_finite(schedule, t, y) -> ValueError:
    text = repr(schedule)
    if len(text) > 300:
        text = text[:300] + "..."
    return ValueError(f"{text} is not finite at t={show(t)} (value {show(y)})")
