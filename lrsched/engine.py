"""Where evaluation happens.

A schedule is laid out once as a :class:`Program` (the flat arrays described
in :mod:`lrsched.layout`), cached on the schedule, and evaluated by one of two
tiers of the same kernel, each a :class:`Kernel`:

- interpreted (:data:`INTERPRETED`, the default): one value runs the kernel
  source of :mod:`lrsched.kernels` as plain Python (microseconds, nothing
  compiled, numba not imported); arrays and ranges run
  :mod:`lrsched.kernels.arrays`, the same formulas as NumPy array operations
  (a million values in a fraction of a second);
- compiled (:class:`CompiledKernel`): the same source compiled by numba and
  cached on disk (:mod:`lrsched.compiled`). It is loaded when the work asked
  for pays for loading it (:func:`kernel_for`): a warm cache once a few
  million values or some ten thousand scalar calls are asked for, an empty
  one (a compile of several seconds) only for some fifty million values, or
  when asked (:func:`compile_kernels`, ``python -m lrsched --compile``).
  Chunked callers say how many values they will ask for in all
  (:func:`expecting`). Long ranges are split into blocks dealt round-robin to
  Python threads running the kernel without the GIL: no OpenMP or TBB runtime,
  so it works in forked children and from several threads at once.

Both tiers give the same bits. Laying out a new composition costs
microseconds and compiles nothing: the kernel is generic.

This module also checks the iterations it is given (numbers >= 0, finite)
and the values it returns: a value that is not finite anywhere in the
composition at t (a 0/0 inside a minimum, a 1/0 under a clip, a cosine of
an infinite phase) raises ValueError naming t, whatever the order of the
operands and whichever tier computed it.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import math
import numbers
import os
import threading

import numpy as np

from . import compiled, kernels
from . import layout as L
from ._validate import show
from .kernels import arrays

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

    def value_at(self, t: float, schedule) -> float:
        """The value at t of ``schedule`` (a warmup needs its s(0), a cooldown its s(at)): from the schedule's
        own program (the same kernel, the same bits), in time that grows with it alone, not with all that was laid
        out before it (a join of a thousand warmups would be laid out in quadratic time)."""
        return float(schedule(t))

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

            def at(t):
                y = SCALAR.at(ip, fp, t)  # the tier that serves scalar calls now
                if y - y == 0.0:
                    return y
                raise _not_finite(schedule, t, y)

        self.at = at


def cycle_start(i, period, mult) -> float:
    """S_i, where cycle i of a ``cycle`` starts, in the kernel's own arithmetic (see :class:`lrsched.Cycle`)."""
    with np.errstate(all="ignore"):
        return float(kernels.cycle_start(np.float64(i), np.float64(period), np.float64(mult)))


def cycle_starts(i, period, mult) -> np.ndarray:
    """:func:`cycle_start` of every whole i >= 0 in an array at once (the same bits; for walks over many cycles)."""
    with np.errstate(all="ignore"):
        return arrays.cycle_starts(np.asarray(i, dtype=np.float64), float(period), float(mult))


#: a cycle with whole periods tabulates at most this many cycle starts (those below 2**53, or its limit)
MAX_WHOLE_CYCLES = 1 << 16
#: past this, every float is whole: whole-period cycles continue with the float lengths
WHOLE_END = 2.0**53


@functools.lru_cache(maxsize=64)
def whole_cycles(period: float, mult: float, limit: int | None) -> tuple[np.ndarray, float, float]:
    """The table of a cycle with whole periods: (S_1, ..., S_K as a read-only array, tail length, tail ratio).

    L_0 = ``period`` (whole), L_{i+1} = floor(m L_i) (the float product, rounded down), S_i the sum of
    the lengths before cycle i, exact. Cycles 0 .. K - 1 are tabulated; from S_K on, the cycles are
    those of a plain cycle of first length L_K and the tail ratio: 1 once the lengths stall
    (floor(m L) = L), m once S_K >= 2**53 (:data:`WHOLE_END`: every float past it is whole). An integer
    m (or 1) keeps the lengths P m^i whole: no table, the plain cycle. Refused, by name: a length of 0
    before ``limit``, and more than :data:`MAX_WHOLE_CYCLES` starts to tabulate.

    >>> whole_cycles(7.0, 1.5, None)[0][:5].tolist()
    [7.0, 17.0, 32.0, 54.0, 87.0]
    """
    if mult == math.floor(mult):
        return _table([]), float(period), float(mult)
    starts: list[float] = []
    s, length = 0, int(period)
    while True:
        i = len(starts)  # cycle i starts at s and has this length
        if limit is not None and i >= limit:
            return _table(starts), float(length), 1.0
        if s >= WHOLE_END:
            return _table(starts), float(length), float(mult)
        after = mult * float(length)
        after = math.floor(after) if after < WHOLE_END else after  # past 2**53 every float is whole (or inf)
        if after == length:
            return _table(starts), float(length), 1.0
        if after == 0 and (limit is None or i + 1 < limit):
            raise ValueError(
                f"whole_periods=True: cycle {i + 1} would last floor({mult!r} * {length}) = 0 updates "
                f"(period={int(period)}, period_mult={mult!r}); give a limit of at most {i + 1} cycles"
            )
        if i >= MAX_WHOLE_CYCLES:
            raise ValueError(
                f"whole_periods=True: period={int(period)}, period_mult={mult!r} takes more than {MAX_WHOLE_CYCLES} "
                f"cycles to reach 2**53 updates{'' if limit is None else f' or limit={limit}'} "
                f"(cycle {i} starts at {s} and lasts {length}; lrsched.engine.MAX_WHOLE_CYCLES): "
                "give a larger period or period_mult, or a smaller limit"
            )
        s += length
        starts.append(float(s))
        length = after


def _table(starts: list[float]) -> np.ndarray:
    out = np.array(starts, dtype=np.float64)
    out.flags.writeable = False  # shared by every cycle of these parameters (cached)
    return out


def whole_start(i: int, table) -> float:
    """S_i of a cycle with whole periods (its :func:`whole_cycles` table), as the kernel computes it."""
    starts, lt, mt = table
    k = len(starts)
    if i <= k:
        return float(starts[i - 1]) if i > 0 else 0.0
    return float(starts[-1]) + cycle_start(i - k, lt, mt) if k else cycle_start(i, lt, mt)


def compile_program(schedule) -> Program:
    if schedule._symbols:
        from .symbols import unbound_message

        raise ValueError(unbound_message(schedule, schedule._symbols))
    enc = Encoder()
    return enc.build(enc.encode(schedule), schedule)


# ---------------------------------------------------------------- the two tiers

#: ranges are evaluated by the interpreted tier this many values at a time (bounded temporaries)
CHUNK = 1 << 16
#: arrays up to this long run the kernel source one value at a time on the interpreted tier
ONE_BY_ONE_MAX = 4
#: a warm cache is loaded (numba imported: 0.5-0.9 s) once a request, or all requests so far, ask for this many values
LOAD_MIN_VALUES = 3_000_000
#: ... or once this many scalar calls have run interpreted (about 30 us each)
LOAD_MIN_CALLS = 20_000
#: an empty cache is compiled (5-10 s) only for a request of this many values, or this many in all so far
COMPILE_MIN_VALUES = 50_000_000

_EMPTY_INT = np.empty(0, dtype=np.int64)
_SCRATCH = threading.local()  # per thread: scratch for scalar calls, so that they allocate nothing
_EXPECTED = contextvars.ContextVar("lrsched_expected_values", default=0)
_MATH_ERRORS = (ValueError, OverflowError, ZeroDivisionError)


def _scratch():
    try:
        return _SCRATCH.work
    except AttributeError:
        _SCRATCH.work = kernels.scratch(L.MAX_DEPTH + 2, 1)
        return _SCRATCH.work


class Kernel:
    """A tier of the evaluation kernel: one value (:meth:`at`), or many in place (:meth:`fill`).

    This base is the interpreted tier: the kernel source of :mod:`lrsched.kernels`
    run as Python for a value, :mod:`lrsched.kernels.arrays` for arrays and ranges.
    Neither raises for IEEE reasons: a value that is not finite is returned (NaN,
    inf) for the engine to report by t.
    """

    name = "interpreted"

    def __init__(self):
        self.calls = 0  # scalar calls served (the warm cache is loaded after LOAD_MIN_CALLS)

    def at(self, ip, fp, t: float) -> float:
        """The value at t of a program without ``function`` leaves."""
        self.calls += 1
        if self.calls == LOAD_MIN_CALLS:
            _maybe_switch(0)
        w = _scratch()
        try:
            with np.errstate(all="ignore"):
                return float(kernels.evaluate(ip, fp, _EMPTY, t, True, 0, 1, _NO_SIDE, w[0], w[1], 0))
        except _MATH_ERRORS as e:  # Python's math raises where the C library returns NaN or inf
            if str(e).startswith("lrsched:"):
                raise
            return float(arrays.evaluate(ip, fp, np.array([t]))[0])

    def fill(self, program: Program, out, t0: float, ranged: bool) -> bool:
        """``out`` (holding the times unless ``ranged``: then t0, t0 + 1, ...) filled with the values; all finite?"""
        n, ok = out.size, True
        if n <= ONE_BY_ONE_MAX and not program.functions:
            for j in range(n):
                out[j] = self.at(program.ip, program.fp, t0 + j if ranged else float(out[j]))
            return bool(np.isfinite(out).all())
        for lo in range(0, n, CHUNK):
            hi = min(lo + CHUNK, n)
            times = t0 + np.arange(lo, hi, dtype=np.float64) if ranged else out[lo:hi]
            out[lo:hi] = arrays.evaluate(program.ip, program.fp, times, program.functions)
            ok = ok and bool(np.isfinite(out[lo:hi]).all())
        return ok


class CompiledKernel(Kernel):
    """The kernel compiled by numba (:mod:`lrsched.compiled`): long ranges on several threads, without the GIL.

    Scalar calls go around numba's type dispatch where numba allows it (every
    call passes the types it was compiled for: about 200 ns saved a call);
    that raw entry point keeps the GIL, which a single value does not mind.
    Ranges go through the dispatcher, which releases the GIL.
    """

    name = "compiled"

    def __init__(self, module):
        super().__init__()
        ranged = module.evaluate
        if not hasattr(ranged, "overloads"):  # NUMBA_DISABLE_JIT: the same plain Python, IEEE results

            def ranged(*args):
                with np.errstate(all="ignore"):
                    return module.evaluate(*args)

            scalar = ranged
        else:
            try:
                scalar = module.evaluate.overloads[module.evaluate.signatures[0]].entry_point
            except Exception:  # pragma: no cover - a numba without entry points
                scalar = ranged
        self.evaluate, self._scalar = ranged, scalar
        self._compiled = hasattr(module.evaluate, "overloads")

    def at(self, ip, fp, t: float) -> float:
        w = _scratch()
        try:
            return float(self._scalar(ip, fp, _EMPTY, t, True, 0, 1, _NO_SIDE, w[0], w[1], 0))
        except _MATH_ERRORS as e:  # NUMBA_DISABLE_JIT runs the source as Python
            if str(e).startswith("lrsched:"):
                raise
            return float(arrays.evaluate(ip, fp, np.array([t]))[0])

    def call(
        self,
        program: Program,
        out: np.ndarray,
        t0: float,
        ranged: bool,
        first: int = 0,
        step: int = 1,
        side: np.ndarray = _NO_SIDE,
        work: np.ndarray = _EMPTY,
        iwork: np.ndarray = _EMPTY_INT,
        mode: int = 0,
    ) -> float:
        """The kernel's entry point, :func:`lrsched.kernels.interpreter.evaluate` (its arguments are explained
        there), compiled: the first value computed, or NaN if a value is not finite."""
        return self.evaluate(program.ip, program.fp, out, t0, ranged, first, step, side, work, iwork, mode)

    def fill(self, program: Program, out, t0: float, ranged: bool) -> bool:
        times = None if self._compiled or ranged else out.copy()
        try:
            y = self._fill(program, out, t0, ranged)
        except _MATH_ERRORS as e:  # NUMBA_DISABLE_JIT: Python's math raises where the C library gives NaN or inf
            if self._compiled or str(e).startswith("lrsched:"):
                raise
            if times is not None:
                out[:] = times
            return INTERPRETED.fill(program, out, t0, ranged)
        return y - y == 0.0

    def _fill(self, program: Program, out, t0: float, ranged: bool) -> float:
        n = out.size
        if program.functions:
            return self._with_functions(program, out, t0, ranged)
        if n >= PARALLEL_MIN and (threads := min(num_threads(), -(-n // 4096))) > 1:
            return self._threaded(program, out, t0, ranged, threads)
        return self.call(program, out, t0, ranged)

    def _threaded(self, program: Program, out, t0: float, ranged: bool, threads: int) -> float:
        """Blocks dealt round-robin to ``threads`` threads (this one included); NaN if any value is not finite."""
        found: list = [None] * threads

        def work(k):
            found[k] = self.call(program, out, t0, ranged, k, threads)

        helpers = [threading.Thread(target=work, args=(k,), daemon=True) for k in range(1, threads)]
        for th in helpers:
            th.start()
        work(0)
        for th in helpers:
            th.join()
        if any(y is None for y in found):  # pragma: no cover - the kernel raises nothing
            raise RuntimeError("lrsched: an evaluation thread did not finish")
        return math.nan if any(y - y != 0.0 for y in found) else 1.0

    def _with_functions(self, program: Program, out, t0: float, ranged: bool) -> float:
        """Two passes: record where each ``function`` leaf is needed, call it, fill in."""
        rows, fns = int(program.ip[2]), program.functions
        work, iwork = kernels.scratch(rows, min(kernels.BLOCK, max(out.size, 1)))
        side = np.empty((2, max(out.size, 1) * len(fns)))
        times = out.copy()
        self.call(program, out, t0, ranged, 0, 1, side, work, iwork, 1)
        for j in range(int(iwork[rows * kernels.NCOL])):
            side[0, j] = arrays.call_function(fns[int(side[1, j])], float(side[0, j]))
        iwork[rows * kernels.NCOL] = 0
        out[:] = times
        return self.call(program, out, t0, ranged, 0, 1, side, work, iwork, 2)


#: the interpreted tier (every process starts on it)
INTERPRETED = Kernel()
#: the tier that serves scalar calls now: INTERPRETED until the compiled tier is loaded
SCALAR: Kernel = INTERPRETED
_COMPILED: list = []  # [the CompiledKernel] once loaded (a list: read without a lock)
_DONE = [0]  # values the interpreted tier has evaluated in ranges and arrays


@contextlib.contextmanager
def expecting(total: int):
    """Calls made inside will ask for about ``total`` values in all: each picks its tier for that many.

    For callers that read a long range in chunks (``extend``, ``summary``,
    ``iterate``): without it each chunk would look short.

    >>> import lrsched as ls
    >>> with expecting(10_000):
    ...     [float(ls.linear(1.0, 0.0, 4).values(4)[-1]) for _ in range(2)]
    [0.0, 0.0]
    """
    token = _EXPECTED.set(max(int(total), _EXPECTED.get()))
    try:
        yield
    finally:
        _EXPECTED.reset(token)


def kernel_for(n: int) -> Kernel:
    """The tier for a request of n values: compiled when loaded, or when the work asked for pays for loading it."""
    if _COMPILED:
        return _COMPILED[0]
    _DONE[0] += n
    return _maybe_switch(max(n, _EXPECTED.get())) or INTERPRETED


def _maybe_switch(n: int) -> Kernel | None:
    """Load the compiled tier if n values (or all the work so far) pay for it: a load on a warm cache,
    a compile on an empty one (only if no other process is compiling: then stay interpreted)."""
    work = max(n, _DONE[0])
    if _jit_disabled():  # the "compiled" tier would be the kernel source run as Python: slower, never worth it
        return None
    if compiled.cached():
        if work >= LOAD_MIN_VALUES or INTERPRETED.calls >= LOAD_MIN_CALLS:
            return _use_compiled(wait=True)
    elif work >= COMPILE_MIN_VALUES:
        return _use_compiled(wait=False)
    return None


def _jit_disabled() -> bool:
    """Whether NUMBA_DISABLE_JIT is set (read as numba reads it, without importing numba)."""
    return os.environ.get("NUMBA_DISABLE_JIT", "0").strip() not in ("", "0")


def _use_compiled(wait: bool = True) -> Kernel | None:
    """Load the compiled tier (compiling it once if the cache does not hold it) and switch every call to it.

    With ``wait=False``, None when another process is compiling it now (the caller stays interpreted).
    """
    global SCALAR
    if _COMPILED:
        return _COMPILED[0]
    module = compiled.load(wait=wait)
    if module is None:
        return None
    with compiled.LOCK:
        if not _COMPILED:
            _COMPILED.append(CompiledKernel(module))
    SCALAR = _COMPILED[0]
    return SCALAR


def compile_kernels() -> str:
    """Compile the kernel now and cache it on disk (``python -m lrsched --compile``); returns where."""
    where = compiled.compile_kernels()
    _use_compiled()
    return where


# ---------------------------------------------------------------- entry points


def evaluate(schedule, program: Program, t):
    """``schedule(t)`` for anything but a plain in-range int or float."""
    if isinstance(t, (bool, np.bool_, np.timedelta64, np.datetime64)):  # numpy counts a timedelta as an integer
        raise TypeError(f"t must be a number or an array of numbers, got {show(t)} ({type(t).__name__})")
    if isinstance(t, numbers.Real):
        try:
            x = float(t)
        except OverflowError:
            raise ValueError(f"t must be finite and >= 0, got {show(t)} (beyond the float range)") from None
        if not 0 <= x < math.inf:
            raise ValueError(f"t must be finite and >= 0, got {show(t)}")
        return program.at(x)
    if isinstance(t, (np.ndarray, list, tuple, range)):
        try:
            arr = np.asarray(t)
        except (ValueError, TypeError, RecursionError) as e:  # ragged, or nested past numpy's 64 dimensions
            raise TypeError(f"t must be a number or an array of numbers, got {show(t)}: {str(e)[:200]}") from None
        if arr.dtype.kind not in "iuf":
            raise TypeError(f"t must be numbers, got an array of dtype {arr.dtype}: {show(t)}")
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
        if arr.ndim:
            return evaluate(schedule, program, arr)
        x = arr[()]
        if not isinstance(x, numbers.Real):  # complex, a string, a date: numpy gives the same scalar back
            raise TypeError(f"t must be a number or an array of numbers, got {show(t)} ({type(t).__name__})")
        return evaluate(schedule, program, x)
    raise TypeError(f"t must be a number or an array of numbers, got {show(t)}")


def evaluate_range(schedule, program: Program, t0: float, n: int) -> np.ndarray:
    """``schedule`` at t0, t0 + 1, ..., t0 + n - 1."""
    if n > MAX_VALUES:
        raise ValueError(f"n={n} values asked for; at most {MAX_VALUES} are evaluated at once (8 GB)")
    return _run(schedule, program, _EMPTY, t0, n)


def _run(schedule, program: Program, times, t0: float, n: int) -> np.ndarray:
    """``schedule`` at ``times`` (when not empty) or at t0, t0 + 1, ... (n values)."""
    ranged = times.size == 0
    out = np.empty(n) if ranged else np.array(times, dtype=np.float64)  # the kernels work in place
    if n == 0:
        return out
    if not kernel_for(n).fill(program, out, t0, ranged):
        i = int(np.argmin(np.isfinite(out)))
        raise _not_finite(schedule, float(times[i]) if times.size else t0 + i, out[i])
    return out


def _not_finite(schedule, t, y) -> ValueError:
    text = repr(schedule)
    if len(text) > 300:
        text = text[:300] + "..."
    value = "nan: it overflows or is undefined there" if y != y else show(y)  # a scalar call gives nan for either
    return ValueError(f"{text} is not finite at t={show(t)} (value {value})")
