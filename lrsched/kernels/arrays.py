"""The interpreted tier over whole arrays: the kernel's formulas as NumPy array operations.

:func:`evaluate` walks a program's tree once per array of times (any order)
and gives every node its times at once: a leaf is a handful of array
operations, a join sorts its times among its kids, a cycle finds each time's
cycle. It is the same arithmetic as :mod:`.leaves`, :mod:`.cycles` and
:mod:`.interpreter`, operation for operation, so it gives the same bits:

- ``+ - * /``, ``sqrt``, ``floor``, ``ceil`` and ``fmod`` are exact in NumPy as
  in compiled code; ``min``/``max`` are written as Python's (``b if b < a else a``:
  the same result for -0.0 and NaN);
- ``cos``, ``pow``, ``exp``, ``log``, ``log1p`` and ``tanh`` come from the C
  library, one value at a time (:func:`_libm`), as the compiled tier calls
  them: NumPy's vectorised ``exp`` and ``power`` differ from the C library's in
  the last bit for about 5% of the values, and its ``cos`` need not agree on
  every CPU. Where Python's ``math`` raises (``cos(inf)``, an overflow), the C
  library's own answer is taken (NaN, inf), as compiled code gets it.

A leaf kind without an array formula here (a primitive just added, see the
README) runs its formula from :mod:`.leaves` as Python, one value at a time:
correct at once, and as fast as the others once it has one in ``_LEAVES``.

A cycle over sorted times is walked one cycle at a time, as the compiled
kernel does; over unsorted times, or over more cycles than
:data:`SEGMENT_WALK_MAX`, every time finds its cycle on its own (the
closed-form guess and the same bounded corrections, on arrays). Both give a
time the cycle the exact boundaries say. Nothing here is compiled and nothing
raises for IEEE reasons: a value that is not finite comes back as NaN or inf
for :mod:`lrsched.engine` to report, naming t.
"""

from __future__ import annotations

import ctypes
import math
import numbers

import numpy as np

from .. import layout as L
from . import cycles as _scalar
from . import leaves

#: a cycle over sorted times that spans more cycles than this finds each time's cycle on arrays
SEGMENT_WALK_MAX = 64

_C = ctypes.CDLL(None)  # the process's C library: the functions Python's math and numba's code call
_C_FUNCS = {}


def _c_function(name: str, arity: int):
    fn = _C_FUNCS.get(name)
    if fn is None:
        fn = getattr(_C, name)
        fn.restype = ctypes.c_double
        fn.argtypes = [ctypes.c_double] * arity
        _C_FUNCS[name] = fn
    return fn


def _libm(fn, *args) -> np.ndarray:
    """``fn`` (a function of :mod:`math`) of arrays, one value at a time: the C library's bits.

    Where Python's ``math`` raises for a value (a domain or range error), the C
    library's own result is taken instead (NaN, +-inf), as compiled code gets it.
    """
    arrays = np.broadcast_arrays(*[np.asarray(a, dtype=np.float64) for a in args])
    shape = arrays[0].shape
    lists = [a.ravel().tolist() for a in arrays]
    n = len(lists[0])
    try:
        return np.fromiter(map(fn, *lists), np.float64, count=n).reshape(shape)
    except (ValueError, OverflowError):
        c = _c_function(fn.__name__, len(args))
        return np.fromiter(map(c, *lists), np.float64, count=n).reshape(shape)


def _cos(x) -> np.ndarray:
    """cos of an array, the C library's bits: NumPy's ``cos`` where it is the C library's (checked once a
    process on :func:`_cos_probe`), else ``math.cos`` one value at a time (about 10x slower)."""
    if not _NUMPY_COS:
        probe = _cos_probe()
        _NUMPY_COS.append(bool(np.array_equal(np.cos(probe), _libm(math.cos, probe), equal_nan=True)))
    return np.cos(x) if _NUMPY_COS[0] else _libm(math.cos, x)


_NUMPY_COS: list = []  # [whether np.cos gave the C library's bits on the probe]


def _cos_probe() -> np.ndarray:
    """16,384 arguments: a cosine schedule's phases in [0, pi], periodic ones up to 1e6 pi, huge ones up to
    1e300, and the specials. NumPy's float64 cos calls the C library here; a vectorised approximation (a
    few ulp) would differ on hundreds of these, and is then not used."""
    rng = np.random.default_rng(23)
    return np.concatenate(
        [
            rng.uniform(0.0, math.pi, 12_000),
            math.pi * np.arange(0, 1001) / 1000,
            rng.uniform(0.0, 1e6 * math.pi, 2_000),
            10.0 ** rng.uniform(6.0, 300.0, 1_376),
            [0.0, -0.0, math.inf, -math.inf, math.nan, 1e-300, 5e-324],
        ]
    )[:16_384]


def libm_scalar(fn, *args) -> float:
    """``fn`` of numbers, the C library's result where Python's ``math`` raises."""
    try:
        return fn(*args)
    except (ValueError, OverflowError):
        return _c_function(fn.__name__, len(args))(*args)


def _min(a, b):
    """Python's and numba's ``min(a, b)``: b if b < a else a (NumPy's minimum where that is the same)."""
    if np.ndim(b) == 0 and b == b and b != 0.0:  # a NaN a is kept by both; a == b is the same number
        return np.minimum(a, b)
    return np.where(b < a, b, a)


def _max(a, b):
    """Python's and numba's ``max(a, b)``: b if b > a else a (NumPy's maximum where that is the same)."""
    if np.ndim(b) == 0 and b == b and b != 0.0:
        return np.maximum(a, b)
    return np.where(b > a, b, a)


def _finite_or(v, a, b, w):
    """:func:`lrsched.kernels.leaves._finite_or` on arrays (v is updated in place)."""
    bad = ~np.isfinite(v)
    if bad.any():
        wb = w[bad] if np.ndim(w) else w
        v[bad] = a * (1.0 - wb) + b * wb
    return v


def _progress(t, steps):
    return _min(t, steps) / steps


# ---------------------------------------------------------------- leaves (kernels/leaves.py)


def _linear(t, start, end, steps):
    x = _min(t, steps)
    v = _finite_or(start + (end - start) * x / steps, start, end, x / steps)
    return np.where(x >= steps, end, v)


def _cosine(t, start, end, steps, periodic, exponent):
    x = t if periodic != 0.0 else _min(t, steps)
    h = _cos(math.pi * x / steps)
    h += 1.0
    h *= 0.5
    if exponent != 1.0:
        h = _libm(math.pow, h, exponent)
    v = (start - end) * h
    v += end
    v = _finite_or(v, end, start, h)
    v[x <= 0.0] = start
    return v


def _poly(t, start, end, steps, power):
    p = _progress(t, steps)
    w = _libm(math.pow, 1.0 - p, power)
    v = _finite_or(end + (start - end) * w, end, start, w)
    return np.where(p <= 0.0, start, v)


def _geometric(t, start, end, steps):
    ratio = end / start
    p = _progress(t, steps)
    v = start * _libm(math.pow, ratio, p)
    bad = ~np.isfinite(v) | (v == 0.0)
    if bad.any():
        pb = p[bad]
        logs = libm_scalar(math.log, start), libm_scalar(math.log, end)
        v[bad] = _libm(math.exp, logs[0] * (1.0 - pb) + logs[1] * pb)
    return np.where(p >= 1.0, end, v)


def _exponent(t, every, staircase):
    if staircase != 0.0:
        return _max(np.floor((t - 1.0) / every), 0.0)
    return t / every


def _exponential(t, start, factor, every, staircase, low, high):
    v = start * _libm(math.pow, factor, _exponent(t, every, staircase))
    return _min(_max(v, low), high)


def _inv_sqrt(t, start, scale):
    return start / np.sqrt(1.0 + t / scale)


def _inv_time(t, start, rate, every, staircase):
    return start / (1.0 + rate * _exponent(t, every, staircase))


def _ease(t, start, end, steps, power):
    p = _progress(t, steps)
    w = _libm(math.pow, p, power)
    v = _finite_or(start + (end - start) * w, start, end, w)
    return np.where(p >= 1.0, end, v)


def _tanh(t, start, end, steps, lb, ub):
    p = _progress(t, steps)
    w = 0.5 * (1.0 - _libm(math.tanh, lb * (1.0 - p) + ub * p))
    return _finite_or(end + (start - end) * w, end, start, w)


_LEAVES = {
    L.LINEAR: _linear,
    L.COSINE: _cosine,
    L.POLY: _poly,
    L.GEOMETRIC: _geometric,
    L.EXPONENTIAL: _exponential,
    L.INV_SQRT: _inv_sqrt,
    L.INV_TIME: _inv_time,
    L.EASE: _ease,
    L.TANH: _tanh,
    L.CLOCK: lambda t: t.copy(),
}


def call_function(fn, t: float) -> float:
    """A ``function`` leaf's callable at t, checked: a number (bool and others refused, naming fn and t)."""
    y = fn(t)
    if isinstance(y, (bool, np.bool_)) or not isinstance(y, numbers.Real):
        from .._validate import show

        raise TypeError(f"function {fn!r} returned {show(y)} at t={t!r}: not a number")
    return float(y)


def _function(fn, t):
    """A Python callable, once per time (the compiled tier's two passes call it the same way)."""
    return np.fromiter((call_function(fn, x) for x in t.tolist()), np.float64, count=t.size)


def _leaf(op, fp, f, t, functions):
    if op == L.CONST:
        return np.full(t.size, fp[f])
    if op == L.FUNCTION:
        return _function(functions[int(fp[f])], t)
    formula = _LEAVES.get(op)
    if formula is None:
        return _leaf_by_source(op, fp, f, t)
    return formula(t, *fp[f : f + len(L.PARAMS[op])].tolist())


def _leaf_by_source(op, fp, f, t):
    """A leaf without an array formula here (a primitive just added): the kernel source's own loop, run as
    Python (:func:`lrsched.kernels.leaves.leaf`), the same bits; a value where Python's math raises is NaN."""
    out, side, pos = np.empty(t.size), np.empty((2, 0)), np.zeros(1, dtype=np.int64)
    try:
        leaves.leaf(op, fp, f, t, 0, out, 0, t.size, side, pos, 0)
    except (ValueError, OverflowError, ZeroDivisionError) as e:
        if str(e).startswith("lrsched:"):
            raise
        for j in range(t.size):
            try:
                leaves.leaf(op, fp, f, t, j, out, j, 1, side, pos, 0)
            except (ValueError, OverflowError, ZeroDivisionError):
                out[j] = math.nan
    return out


# ---------------------------------------------------------------- the tree walk (kernels/interpreter.py)


def evaluate(ip, fp, t: np.ndarray, functions=()) -> np.ndarray:
    """The program ``ip, fp`` at the times ``t`` (a float64 array, any order): a new array of values."""
    with np.errstate(all="ignore"):
        return _node(ip, fp, int(ip[1]), np.asarray(t, dtype=np.float64), functions)


def _node(ip, fp, node, t, functions):
    rec = L.HEADER + 4 * node
    op, f, kids, nk = (int(x) for x in ip[rec : rec + 4])
    if t.size == 0:
        return np.empty(0)
    if op < L.JOIN:
        return _leaf(op, fp, f, t, functions)
    if op == L.JOIN:
        return _join(ip, fp, f, kids, nk, t, functions)
    if op == L.CYCLE:
        return _cycle(ip, fp, f, int(ip[kids]), t, functions)
    if op in (L.SHIFT, L.STRETCH, L.WARP, L.PER_EPOCH):
        return _node(ip, fp, int(ip[kids]), _retime(op, fp, f, t), functions)
    if op == L.CLIP:
        x = _node(ip, fp, int(ip[kids]), t, functions)
        return np.where(np.isfinite(x), _min(_max(x, fp[f]), fp[f + 1]), x)
    if op in _FUNCTIONS:
        x = _node(ip, fp, int(ip[kids]), t, functions)
        return np.where(np.isfinite(x), _apply(op, x, fp[f] if L.PARAMS[op] else 1.0), x)
    if op in (L.ADD, L.SUB, L.MUL, L.DIV, L.MIN, L.MAX, L.POW):
        a = _node(ip, fp, int(ip[kids]), t, functions)
        return _combine(op, a, _node(ip, fp, int(ip[kids + 1]), t, functions))
    raise ValueError("lrsched: a program holds a node opcode the kernel does not know")


def _groups(index, count):
    """(order or None, cuts): the positions holding each value 0 .. count - 1 of ``index``."""
    order = None
    if index.size > 1 and not (index[1:] >= index[:-1]).all():
        order = np.argsort(index, kind="stable")
        index = index[order]
    return order, np.searchsorted(index, np.arange(count + 1), side="left")


def _join(ip, fp, f, kids, nk, t, functions):
    """Kid i at t - b[i-1] for t in (b[i-1], b[i]]: i = the number of boundaries below t."""
    if nk == 1:
        return _node(ip, fp, int(ip[kids]), t, functions)
    bounds = fp[f : f + nk - 1]
    phase = np.searchsorted(bounds, t, side="left")
    phase[np.isnan(t)] = 0  # the kernel's search sends NaN to the first kid
    order, cuts = _groups(phase, nk)
    ts = t if order is None else t[order]
    out = np.empty(t.size)
    for i in range(nk):
        a, b = int(cuts[i]), int(cuts[i + 1])
        if a < b:
            kt = ts[a:b] if i == 0 else ts[a:b] - bounds[i - 1]
            out[a:b] = _node(ip, fp, int(ip[kids + i]), kt, functions)
    if order is None:
        return out
    res = np.empty(t.size)
    res[order] = out
    return res


def _retime(op, fp, f, t):
    a = fp[f]
    if op == L.SHIFT:
        return _max(t - a, 0.0)
    if op == L.STRETCH:
        return t / a
    if op == L.WARP:
        span = fp[f + 1]
        return span * _libm(math.pow, t / span, a)
    return np.ceil(t / a)  # PER_EPOCH


def _apply(op, x, q):
    """A function of one value as the kernel's ``_apply`` computes it (the C library's exp and log)."""
    if op == L.EXP:
        return _libm(math.exp, x)
    if op == L.LOG:
        return _libm(math.log, x)
    if op == L.SQRT:
        return np.sqrt(x)  # correctly rounded, as the C library's
    if op == L.FLOOR:
        return np.floor(x / q) * q
    if op == L.CEIL:
        return np.ceil(x)
    return np.rint(x)


_FUNCTIONS = (L.EXP, L.LOG, L.SQRT, L.FLOOR, L.CEIL, L.ROUND)


def _combine(op, a, b):
    """Binary arithmetic as the kernel does it: DIV, MIN, MAX, POW never hide a non-finite operand."""
    if op == L.ADD:
        return a + b
    if op == L.SUB:
        return a - b
    if op == L.MUL:
        return a * b
    if op == L.DIV:
        r = a / b
    elif op == L.POW:
        r = np.where(np.isfinite(a), _libm(math.pow, a, b), a)
    elif op == L.MIN:
        r = np.where(np.isfinite(a), _min(a, b), a)
    else:
        r = np.where(np.isfinite(a), _max(a, b), a)
    return np.where(np.isfinite(b), r, b)


# ---------------------------------------------------------------- cycles (kernels/cycles.py, on arrays)


def _two_sum(a, b):
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _two_prod(a, b):
    p = a * b
    c = 134217729.0 * a
    ah = c - (c - a)
    al = a - ah
    c = 134217729.0 * b
    bh = c - (c - b)
    bl = b - bh
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    return p, np.where((np.abs(a) < 1e290) & (np.abs(b) < 1e290) & (np.abs(p) < 1e300), e, 0.0)


def _dd_mul(ah, al, bh, bl):
    p, e = _two_prod(ah, bh)
    return _two_sum(p, e + (ah * bl + al * bh))


def cycle_starts(i, period, mult) -> np.ndarray:
    """:func:`lrsched.kernels.cycles.cycle_start` of every whole i >= 0 in an array, the same bits."""
    i = np.asarray(i, dtype=np.float64)
    out = i * period if mult == 1.0 else _starts(i, period, mult)
    return np.where(i <= 0.0, 0.0, np.where(i == 1.0, period, out))


def _starts(i, period, mult):
    """m**i by squaring in double-double, each i its own number of rounds, then the rounded sum."""
    n = i.size
    rh, rl, bh, bl = np.ones(n), np.zeros(n), np.full(n, mult), np.zeros(n)
    k = np.where(i > 1.0, i, 0.0)
    infinite = np.zeros(n, dtype=bool)
    active = k > 0.0
    while active.any():
        at = np.flatnonzero(active)
        kk, h, hl, b, b_l = k[at], rh[at], rl[at], bh[at], bl[at]
        half = np.floor(kk * 0.5)
        odd = kk - 2.0 * half == 1.0
        mh, ml = _dd_mul(h, hl, b, b_l)
        h, hl = np.where(odd, mh, h), np.where(odd, ml, hl)
        kk = half
        sh, sl = _dd_mul(b, b_l, b, b_l)
        b, b_l = np.where(kk > 0.0, sh, b), np.where(kk > 0.0, sl, b_l)
        over = ~((np.abs(h) < 1e300) & (np.abs(b) < 1e300))
        if mult > 1.0:
            infinite[at[over]] = True
        else:
            hl = np.where(over, 0.0, hl)
        k[at], rh[at], rl[at], bh[at], bl[at] = kk, h, hl, b, b_l
        active[at] = (kk > 0.0) & ~over
    nh, nl = _two_sum(rh, -1.0)
    nl = nl + rl
    dh, dl = _two_sum(mult, -1.0)
    q = nh / dh
    ph, pl = _dd_mul(q, 0.0, dh, dl)
    rh, rl = _two_sum(nh, -ph)
    qh, ql = _two_sum(q, (rh + rl + nl - pl) / dh)
    sh, sl = _dd_mul(qh, ql, period, 0.0)
    return np.where(infinite, math.inf, sh + sl)


def _bounds(i, period, mult):
    """The start of cycle i as p + e (e: the rounding error of i P when m = 1), for an array of i."""
    if mult == 1.0:
        return _two_prod(i, period)
    distinct, back = np.unique(i, return_inverse=True)
    return cycle_starts(distinct, period, mult)[back], np.zeros(i.size)


def _beyond(x, p, e, zero_based):
    return (x > p) | ((x == p) & ((e <= 0.0) if zero_based else (e < 0.0)))


def _cycle_index(x, period, mult, limit, zero_based):
    """:func:`lrsched.kernels.cycles.cycle_index` of every x: the same guess, the same eight corrections."""
    if mult == 1.0:
        g = np.floor((x - np.fmod(x, period)) / period + 0.5)
    else:
        y = x / period * (mult - 1.0)
        big, mid = y > 1e300, (y <= 1e300) & (y > -1.0)
        log_m = libm_scalar(math.log, mult)
        g = np.full(x.size, math.inf)
        g[mid] = np.floor(_libm(math.log1p, y[mid]) / log_m)
        if big.any():
            rest = libm_scalar(math.log, period), libm_scalar(math.log, mult - 1.0)
            g[big] = np.floor((_libm(math.log, x[big]) - rest[0] + rest[1]) / log_m)
    g = np.where(g >= 0.0, g, 0.0)
    if limit > 0.0:
        g = np.where(g > limit, limit, g)
    g = _min(g, 1e300)
    active = np.ones(x.size, dtype=bool)
    for _ in range(8):
        at = np.flatnonzero(active)
        if not at.size:
            break
        gi, xi = g[at], x[at]
        p, e = _bounds(gi, period, mult)
        down = (gi > 0.0) & ~_beyond(xi, p, e, zero_based)
        p, e = _bounds(gi + 1.0, period, mult)
        up = ~down & ((limit <= 0.0) | (gi < limit)) & _beyond(xi, p, e, zero_based)
        g[at] = np.where(down, gi - 1.0, np.where(up, gi + 1.0, gi))
        active[at] = down | up
    return g


def _cycle_clock(u, start, length, period, mult, zero_based):
    """:func:`lrsched.kernels.cycles._cycle_clock` on arrays (start and length: numbers or arrays)."""
    if np.ndim(length) == 0 and not length > 0.0:
        return np.full(u.size, 0.0 if zero_based else period)
    if mult == 1.0:
        local = np.fmod(u, period)
        if not zero_based:
            local[(local == 0.0) & (u > 0.0)] = period
    else:
        local = u - start
    r = local.copy()
    r[local < 0.0] = 0.0  # max(local, 0.0), -0.0 and NaN kept
    if mult != 1.0:
        r *= period / length
    if not zero_based:
        r[local >= length] = period
    if np.ndim(length) == 0:
        return r
    return np.where(length > 0.0, r, 0.0 if zero_based else period)


def _scaled(values, decay, cycle):
    """values * decay**cycle (cycle: a number or an array), the power from the C library."""
    if decay == 1.0:
        return values
    if np.ndim(cycle) == 0:
        return values * libm_scalar(math.pow, decay, float(cycle))
    distinct, back = np.unique(cycle, return_inverse=True)
    return values * _libm(math.pow, decay, distinct)[back]


def _cycle(ip, fp, f, kid, t, functions):
    """Cycle i of u (u = t, or t - 1 zero-based): the kid at its clock, times decay**i."""
    if fp[f + 5] > 0.0:
        return _whole_cycle(ip, fp, f, kid, t, functions)
    period, mult, decay, limit, zb = fp[f : f + 5].tolist()
    zb = zb != 0.0
    u = _max(t - 1.0, 0.0) if zb else t
    n = u.size
    if n > 1 and (u[1:] >= u[:-1]).all():
        first = _scalar.cycle_index(float(u[0]), period, mult, limit, zb)
        last = _scalar.cycle_index(float(u[-1]), period, mult, limit, zb)
        if last - first <= SEGMENT_WALK_MAX:
            return _cycle_walk(ip, fp, kid, u, functions, (period, mult, decay, limit, zb))
    g = _cycle_index(u, period, mult, limit, zb)
    out = np.empty(n)
    held = g >= limit if limit > 0.0 else np.zeros(n, dtype=bool)
    if held.any():
        out[held] = _held_value(ip, fp, kid, functions, (period, mult, decay, limit, zb))
    live = ~held
    ul, gl = u[live], g[live]
    if mult == 1.0:
        start, length = 0.0, period
    else:
        start = _bounds(gl, period, mult)[0]
        length = _bounds(gl + 1.0, period, mult)[0] - start
    values = _node(ip, fp, kid, _cycle_clock(ul, start, length, period, mult, zb), functions)
    out[live] = _scaled(values, decay, gl)
    return out


def _held_value(ip, fp, kid, functions, c):
    """Past the last cycle: the kid's value at the last update, times decay**(its cycle)."""
    period, mult, decay, limit, zb = c
    cycle, clock = _scalar._held(period, mult, limit, zb)
    return _scaled(_node(ip, fp, kid, np.array([float(clock)]), functions), decay, cycle)[0]


def _cycle_walk(ip, fp, kid, u, functions, c):
    """Sorted times, one cycle at a time, as the compiled kernel walks them."""
    period, mult, decay, limit, zb = c
    n, lo = u.size, 0
    out = np.empty(n)
    while lo < n:
        x = float(u[lo])
        i = float(_scalar.cycle_index(x, period, mult, limit, zb))
        if limit > 0.0 and i >= limit:
            out[lo:] = _held_value(ip, fp, kid, functions, c)
            break
        p0, e0 = _scalar._bound(i, period, mult)
        p1, e1 = _scalar._bound(i + 1.0, period, mult)
        length = period if mult == 1.0 else p1 - p0
        hi = lo + 1
        if (i == 0.0 or _scalar._beyond(x, p0, e0, zb)) and not _scalar._beyond(x, p1, e1, zb):
            on_boundary_beyond = (e1 <= 0.0) if zb else (e1 < 0.0)
            end = np.searchsorted(u, p1, side="left" if on_boundary_beyond else "right")
            hi = max(hi, int(end))
        values = _node(ip, fp, kid, _cycle_clock(u[lo:hi], float(p0), length, period, mult, zb), functions)
        out[lo:hi] = _scaled(values, decay, i)
        lo = hi
    return out


def _whole_clock(x, p0, length, fm, period, zero_based):
    """:func:`lrsched.kernels.cycles._whole_clock` on arrays (p0 and length: numbers or arrays)."""
    if fm > 0.0:
        local = np.fmod(x, fm)
        if not zero_based:
            local[(local == 0.0) & (x > 0.0)] = fm
    else:
        local = x - p0
    r = local.copy()
    r[local < 0.0] = 0.0  # max(local, 0.0), -0.0 kept
    r = r * (period / np.asarray(length, dtype=np.float64))
    if not zero_based:
        r = np.where(local >= length, period, r)
    return np.where(np.asarray(length) > 0.0, r, 0.0 if zero_based else period)


def _whole_cycle(ip, fp, f, kid, t, functions):
    """A cycle with whole periods (see :mod:`lrsched.kernels.cycles`): its table searched for every u."""
    period, _, decay, limit, zb, whole, lt, mt = fp[f : f + 8].tolist()
    zb, k = zb != 0.0, int(whole)
    starts = fp[f + 8 : f + 8 + k]
    u = _max(t - 1.0, 0.0) if zb else t
    n = u.size
    a = np.searchsorted(starts, u, side="right" if zb else "left")  # the starts u lies past
    g = a.astype(np.float64)
    tail = a >= k if not (limit > 0.0 and limit <= k) else np.zeros(n, dtype=bool)
    off = float(starts[-1])
    if tail.any():
        g[tail] = k + _cycle_index(u[tail] - off, lt, mt, limit - k if limit > 0.0 else 0.0, zb)
    held = g >= limit if limit > 0.0 else np.zeros(n, dtype=bool)
    out = np.empty(n)
    if held.any():
        cycle, clock = _scalar._whole_held(fp, f, limit, zb)
        out[held] = _scaled(_node(ip, fp, kid, np.array([float(clock)]), functions), decay, cycle)[0]
    clocks = np.empty(n)
    table = ~held & ~tail
    if table.any():
        at = a[table]
        p0 = np.where(at > 0, starts[np.maximum(at - 1, 0)], 0.0)
        clocks[table] = _whole_clock(u[table], p0, starts[at] - p0, 0.0, period, zb)
    rest = ~held & tail
    if rest.any():
        gt = g[rest] - k
        p0 = _bounds(gt, lt, mt)[0]
        if mt == 1.0:
            clocks[rest] = _whole_clock(u[rest] - off, p0, lt, lt, period, zb)
        else:
            clocks[rest] = _whole_clock(u[rest] - off, p0, _bounds(gt + 1.0, lt, mt)[0] - p0, 0.0, period, zb)
    live = ~held
    out[live] = _scaled(_node(ip, fp, kid, clocks[live], functions), decay, g[live])
    return out
