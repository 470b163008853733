"""Every numba kernel of lrsched, and nothing else.

A schedule reaches this module as a *program*, the two flat arrays that
:mod:`lrsched.layout` describes. One generic evaluator, :func:`evaluate`,
walks the tree once per *segment*: a run of sorted iterations that takes the
same path through every join, warmup and cycle. Each leaf then runs a tight
loop over its segment, so a schedule costs about what its leaves cost, and a
new schedule never compiles anything.

:func:`evaluate` and :func:`evaluate_basic` are the only entry points for
schedules, two kernels compiled from one source: the basic one leaves out
cycles and the rarer leaves (``layout.FULL_ONLY``), so that a warmup, joins,
the usual leaves and arithmetic, what most runs use, compile in about half
the time. Scalar calls, ranges and each thread of a parallel range (Python
threads; the kernels release the GIL) all run the kernel their program
needs, so they agree to the last bit. Every array it touches has one layout
(C-contiguous), so every helper is compiled once.

Progress is built in: every segment handed to a kid starts at the element
that selected it and contains it, so each step of the walk consumes at least
one element, and the searches for a cycle are bounded (a fixed number of
corrections of a closed-form guess). No ``fastmath``: IEEE semantics.
"""

from __future__ import annotations

import math
import os
import tempfile
import types as pytypes

import numpy as np
from numba import config, njit

from .layout import (
    ADD,
    CLIP,
    CONST,
    COSINE,
    CYCLE,
    DIV,
    EASE,
    GEOMETRIC,
    HEADER,
    INV_SQRT,
    INV_TIME,
    JOIN,
    LAST_BASIC_LEAF,
    LINEAR,
    MIN,
    MUL,
    PER_EPOCH,
    POLY,
    SHIFT,
    STRETCH,
    SUB,
    TANH,
    WARP,
)

BLOCK = 4096

# --------------------------------------------------------------------------
# Where numba caches the compiled kernels. Beside the package (or in the
# user's cache) as numba decides; where neither is writable (read-only images,
# HOME=/nonexistent) in a private temporary directory; failing that, in memory.


def _probe():  # pragma: no cover - never called, only decorated
    return 0


def _private_dir():
    """A temporary directory only this user can write, or None."""
    try:
        path = os.path.join(tempfile.gettempdir(), f"lrsched-numba-cache-{os.getuid()}")
        os.makedirs(path, mode=0o700, exist_ok=True)
        st = os.stat(path)
        if st.st_uid != os.getuid() or st.st_mode & 0o022 or not os.access(path, os.W_OK):
            return None
        return path
    except (OSError, AttributeError):
        return None


def _cache_mode():
    """(cache, fallback dir or None, note): how this module's kernels are cached."""
    try:
        njit(cache=True)(_probe)
        return True, None, None
    except RuntimeError:
        pass
    path = _private_dir()
    if path is not None:
        old = config.CACHE_DIR
        try:
            config.CACHE_DIR = path
            njit(cache=True)(_probe)
            return True, path, None
        except RuntimeError:
            pass
        finally:
            config.CACHE_DIR = old
    return False, None, "lrsched: no writable numba cache directory; the kernels are compiled in memory, every process"


CACHE, CACHE_FALLBACK, CACHE_NOTE = _cache_mode()


def _jit(fn=None, **options):
    if fn is None:
        return lambda f: _jit(f, **options)
    old = config.CACHE_DIR
    try:
        if CACHE_FALLBACK:
            config.CACHE_DIR = CACHE_FALLBACK
        return njit(cache=CACHE, error_model="numpy", nogil=True, **options)(fn)
    finally:
        config.CACHE_DIR = old


#: tiny helpers are inlined where they are called (numba compiles no separate function for them)
_inline = _jit(inline="always")
#: functions only kernels call: no Python wrapper to generate and compile
_internal = _jit(no_cpython_wrapper=True, no_cfunc_wrapper=True)


# --------------------------------------------------------------------------
# Leaf formulas, one per opcode, over the phase-local times t into out, with
# parameters named and ordered as lrsched.layout.PARAMS declares. Each is a
# function of its own: its parameters arrive by value and LLVM vectorises its
# loop (inlined into the interpreter, the same loops ran twice as slow).
# p = min(t, n) / n is the progress through a phase of n iterations; every
# phase holds its end value for t >= n. Linear and cosine compute (a x) / n
# and cos((pi x) / n), the order of the closed forms in torch, MXNet, timm
# and optax, so that mirrors of those agree to the bit.


@_internal
def _linear(t, out, start, end, steps):
    for j in range(t.size):
        x = min(t[j], steps)
        out[j] = end if x >= steps else start + (end - start) * x / steps


@_internal
def _cosine(t, out, start, end, steps, periodic, exponent):
    wrap = periodic != 0.0
    for j in range(t.size):
        x = t[j] if wrap else min(t[j], steps)
        h = (1.0 + math.cos(math.pi * x / steps)) * 0.5
        if exponent != 1.0:
            h = h**exponent
        v = end + (start - end) * h
        out[j] = start if x <= 0.0 else v


@_internal
def _poly(t, out, start, end, steps, power):
    for j in range(t.size):
        p = min(t[j], steps) / steps
        v = end + (start - end) * (1.0 - p) ** power
        out[j] = start if p <= 0.0 else v


@_internal
def _geometric(t, out, start, end, steps):
    ratio = end / start
    for j in range(t.size):
        p = min(t[j], steps) / steps
        v = start * ratio**p
        out[j] = end if p >= 1.0 else v


@_internal
def _exponent(t, every, staircase):
    """k = t / every, or floor((t - 1) / every) clamped at 0 when staircase."""
    if staircase != 0.0:
        return max(np.floor((t - 1.0) / every), 0.0)
    return t / every


@_internal
def _exponential(t, out, start, factor, every, staircase, low, high):
    for j in range(t.size):
        v = start * factor ** _exponent(t[j], every, staircase)
        out[j] = min(max(v, low), high)


@_internal
def _inv_sqrt(t, out, start, scale):
    for j in range(t.size):
        out[j] = start / math.sqrt(1.0 + t[j] / scale)


@_internal
def _inv_time(t, out, start, rate, every, staircase):
    for j in range(t.size):
        out[j] = start / (1.0 + rate * _exponent(t[j], every, staircase))


@_internal
def _ease(t, out, start, end, steps, power):
    for j in range(t.size):
        p = min(t[j], steps) / steps
        out[j] = end if p >= 1.0 else start + (end - start) * p**power


@_internal
def _tanh(t, out, start, end, steps, lb, ub):
    for j in range(t.size):
        p = min(t[j], steps) / steps
        out[j] = end + (start - end) * (0.5 * (1.0 - math.tanh(lb * (1.0 - p) + ub * p)))


@_internal
def _function(t, out, index, side, pos, mode):
    """A Python callable: mode 1 records (t, index) pairs in ``side``, mode 2 reads the values back."""
    p0 = pos[0]
    for j in range(t.size):
        if mode == 1:
            side[0, p0 + j] = t[j]
            side[1, p0 + j] = index
            out[j] = 0.0
        else:
            out[j] = side[0, p0 + j]
    pos[0] = p0 + t.size


@_inline
def _leaf(op, fp, f, T, to, V, vo, m, side, pos, mode):
    t = T[to : to + m]
    out = V[vo : vo + m]
    if op == CONST:
        for j in range(m):
            out[j] = fp[f]
    elif op == LINEAR:
        _linear(t, out, fp[f], fp[f + 1], fp[f + 2])
    elif op == COSINE:
        _cosine(t, out, fp[f], fp[f + 1], fp[f + 2], fp[f + 3], fp[f + 4])
    elif op == POLY:
        _poly(t, out, fp[f], fp[f + 1], fp[f + 2], fp[f + 3])
    elif op == GEOMETRIC:
        _geometric(t, out, fp[f], fp[f + 1], fp[f + 2])
    else:  # EXPONENTIAL, the last basic leaf
        _exponential(t, out, fp[f], fp[f + 1], fp[f + 2], fp[f + 3], fp[f + 4], fp[f + 5])


@_inline
def _rare_leaf(op, fp, f, T, to, V, vo, m, side, pos, mode):
    """The leaves only the full kernel compiles (layout.FULL_ONLY)."""
    t = T[to : to + m]
    out = V[vo : vo + m]
    if op == INV_SQRT:
        _inv_sqrt(t, out, fp[f], fp[f + 1])
    elif op == INV_TIME:
        _inv_time(t, out, fp[f], fp[f + 1], fp[f + 2], fp[f + 3])
    elif op == EASE:
        _ease(t, out, fp[f], fp[f + 1], fp[f + 2], fp[f + 3])
    elif op == TANH:
        _tanh(t, out, fp[f], fp[f + 1], fp[f + 2], fp[f + 3], fp[f + 4])
    else:  # FUNCTION
        _function(t, out, fp[f], side, pos, mode)


# --------------------------------------------------------------------------
# Cycles. Cycle i (0-based) is P m**i long and starts at S(i), the sum of the
# lengths before it. For m = 1 the boundaries are the exact multiples i P
# (kept as p + e, the product and its rounding error, and the time into a
# cycle is the exact remainder), so any t finds its place, 1e300 included.
# Otherwise S(i) is that sum computed in double-double arithmetic and rounded
# once: S(1) is P itself, and a boundary that is a whole number in exact
# arithmetic (30 + 33 = 63 for P = 30, m = 1.1) is that number.


@_internal
def _two_sum(a, b):
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


@_internal
def _two_prod(a, b):
    """a * b = p + e exactly (Dekker); e = 0 near the float range's ends."""
    p = a * b
    if not (abs(a) < 1e290 and abs(b) < 1e290 and abs(p) < 1e300):
        return p, 0.0
    c = 134217729.0 * a
    ah = c - (c - a)
    al = a - ah
    c = 134217729.0 * b
    bh = c - (c - b)
    bl = b - bh
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


@_internal
def _dd_mul(ah, al, bh, bl):
    p, e = _two_prod(ah, bh)
    return _two_sum(p, e + (ah * bl + al * bh))


@_jit
def cycle_start(i, period, mult):
    """S(i), where cycle i starts, for a whole i >= 0 (a float): the exact sum, rounded once."""
    if i <= 0.0:
        return 0.0
    if i == 1.0:
        return period
    if mult == 1.0:
        return i * period
    rh, rl = 1.0, 0.0  # m**i by squaring, in double-double: at most ~1100 rounds for any float i
    bh, bl = mult, 0.0
    k = i
    while k > 0.0:
        half = np.floor(k * 0.5)
        if k - 2.0 * half == 1.0:
            rh, rl = _dd_mul(rh, rl, bh, bl)
        k = half
        if k > 0.0:
            bh, bl = _dd_mul(bh, bl, bh, bl)
        if not (abs(rh) < 1e300 and abs(bh) < 1e300):
            if mult > 1.0:
                return math.inf
            rl = 0.0
            break
    nh, nl = _two_sum(rh, -1.0)  # (m**i - 1) / (m - 1) * P
    nl += rl
    dh, dl = _two_sum(mult, -1.0)
    q = nh / dh
    ph, pl = _dd_mul(q, 0.0, dh, dl)
    rh, rl = _two_sum(nh, -ph)
    qh, ql = _two_sum(q, (rh + rl + nl - pl) / dh)
    sh, sl = _dd_mul(qh, ql, period, 0.0)
    return sh + sl


@_internal
def _bound(i, period, mult):
    """The start of cycle i as p + e: e is the rounding error of i P (m = 1), else 0 (S(i) is the rounded sum)."""
    if mult == 1.0:
        return _two_prod(i, period)
    return cycle_start(i, period, mult), 0.0


@_inline
def _beyond(x, p, e, zero_based):
    """x lies past the boundary p + e: after it, or on or after it for half-open (zero-based) cycles."""
    return x > p or (x == p and (e <= 0.0 if zero_based else e < 0.0))


@_internal
def cycle_index(x, period, mult, limit, zero_based):
    """The cycle i (a whole float) with x past its start and not past its end; ``limit`` past the last.

    A closed-form guess, then at most eight corrections against the boundaries:
    bounded work for any x, period and limit (0: none).
    """
    if mult == 1.0:
        g = np.floor((x - np.fmod(x, period)) / period + 0.5)
    else:
        y = x * (mult - 1.0) / period  # m**i = 1 + y at the start of cycle i
        g = np.floor(math.log1p(y) / math.log(mult)) if y > -1.0 else math.inf
    if not g >= 0.0:
        g = 0.0
    if limit > 0.0 and g > limit:
        g = limit
    g = min(g, 1e300)
    for _ in range(8):
        p, e = _bound(g, period, mult)
        if g > 0.0 and not _beyond(x, p, e, zero_based):
            g -= 1.0
            continue
        p, e = _bound(g + 1.0, period, mult)
        if (limit <= 0.0 or g < limit) and _beyond(x, p, e, zero_based):
            g += 1.0
            continue
        break
    return g


@_internal
def _cycle_clock(u, start, length, period, mult, zero_based):
    """The kid's time for u in the cycle that starts at ``start``: (time into the cycle) * period / length.

    1-indexed cycles end on the period itself (u at the end), zero-based ones never reach it.
    """
    if mult == 1.0:
        local = np.fmod(u, period)  # exact
        if not zero_based and local == 0.0 and u > 0.0:
            local = period
    else:
        local = u - start
    if not length > 0.0:
        return 0.0 if zero_based else period
    if not zero_based and local >= length:
        return period
    local = max(local, 0.0)
    if mult == 1.0:
        return local
    return local * (period / length)


@_internal
def _held(period, mult, limit, zero_based):
    """Past the last cycle the last update's value is held: its (cycle, kid time).

    The last update is t = S(limit) (1-indexed: the end of the last cycle), or
    the last whole u below S(limit) (zero-based), wherever that falls.
    """
    if not zero_based:
        return limit - 1.0, period
    p, e = _bound(limit, period, mult)
    u = np.ceil(p) - 1.0
    if e > 0.0 and u + 1.0 == p:  # p is whole but the exact end lies above it
        u = p
    u = max(u, 0.0)
    i = min(cycle_index(u, period, mult, limit, True), limit - 1.0)
    s0 = cycle_start(i, period, mult)
    length = period if mult == 1.0 else cycle_start(i + 1.0, period, mult) - s0
    return i, _cycle_clock(u, s0, length, period, mult, True)


# --------------------------------------------------------------------------
# The interpreter. A frame per depth d: the node, where its times are
# (T[to:to+m]) and where its values go (V[vo:vo+m]); a node that transforms
# time gives its kid times in row d + 1 of T, and a binary node keeps its right
# operand in row d + 1 of V (rows are B apart). Per-node state: STAGE (visits
# so far), LO (first element not yet handed to a kid), SEG (start of the
# segment last handed over) and CYC[d] (that segment's cycle).

NODE = 0
TO = 1
VO = 2
M = 3
STAGE = 4
LO = 5
SEG = 6
NCOL = 7


@_inline
def _push(fr, d, node, to, vo, m):
    fr[d, NODE] = node
    fr[d, TO] = to
    fr[d, VO] = vo
    fr[d, M] = m
    fr[d, STAGE] = 0
    fr[d, LO] = 0
    fr[d, SEG] = 0


@_inline
def _first_after(T, to, lo, hi, b):
    """First j in [lo, hi) with T[to + j] > b, else hi (binary search over sorted times)."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if T[to + mid] > b:
            hi = mid
        else:
            lo = mid + 1
    return lo


@_inline
def _join(ip, fp, rec, d, B, T, fr):
    """Kid i runs on (b[i-1], b[i]] at t - b[i-1] (b = the boundaries)."""
    to, vo, m, lo = fr[d, TO], fr[d, VO], fr[d, M], fr[d, LO]
    if lo >= m:
        return d - 1
    f, kids, nk = ip[rec + 1], ip[rec + 2], ip[rec + 3]
    x = T[to + lo]
    a, z = 0, nk - 1  # phase i = number of boundaries below x: binary search
    while a < z:
        mid = (a + z) >> 1
        if x > fp[f + mid]:
            a = mid + 1
        else:
            z = mid
    i = a
    hi = m if i == nk - 1 else _first_after(T, to, lo + 1, m, fp[f + i])
    fr[d, LO] = hi
    if i == 0:
        _push(fr, d + 1, ip[kids], to + lo, vo + lo, hi - lo)
        return d + 1
    off = fp[f + i - 1]
    row = (d + 1) * B
    for j in range(hi - lo):
        T[row + j] = T[to + lo + j] - off
    _push(fr, d + 1, ip[kids + i], row, vo + lo, hi - lo)
    return d + 1


@_inline
def _cycle(ip, fp, rec, d, B, T, V, fr, cyc):
    """Cycle i of u (u = t, or t - 1 zero-based): the kid at its clock, times decay**i."""
    f, kid = ip[rec + 1], ip[ip[rec + 2]]
    period, mult, decay, limit, zb = fp[f], fp[f + 1], fp[f + 2], fp[f + 3], fp[f + 4] != 0.0
    to, vo, m, lo, stage, seg = fr[d, TO], fr[d, VO], fr[d, M], fr[d, LO], fr[d, STAGE], fr[d, SEG]
    fr[d, STAGE] = 1
    if stage == 2:  # back from the held value (after the limit): spread it over the rest
        v = V[vo + seg]
        if decay != 1.0:
            v = v * decay ** cyc[d]
        for j in range(seg, m):
            V[vo + j] = v
        return d - 1
    if stage == 1 and decay != 1.0:  # back from cycle cyc[d], which filled [seg, lo)
        scale = decay ** cyc[d]
        for j in range(seg, lo):
            V[vo + j] = V[vo + j] * scale
    if lo >= m:
        return d - 1
    row = (d + 1) * B
    u = max(T[to + lo] - 1.0, 0.0) if zb else T[to + lo]
    i = cycle_index(u, period, mult, limit, zb)
    fr[d, SEG] = lo
    if limit > 0.0 and i >= limit:
        cyc[d], T[row] = _held(period, mult, limit, zb)
        fr[d, STAGE] = 2
        fr[d, LO] = m
        _push(fr, d + 1, kid, row, vo + lo, m - lo - (m - lo - 1))  # one element (not a literal: one variant)
        return d + 1
    cyc[d] = i
    p0, e0 = _bound(i, period, mult)
    p1, e1 = _bound(i + 1.0, period, mult)
    length = period if mult == 1.0 else p1 - p0
    hi = lo + 1  # the segment: the elements up to the end of cycle i (just lo where rounding leaves it between)
    if (i == 0.0 or _beyond(u, p0, e0, zb)) and not _beyond(u, p1, e1, zb):
        z = m
        while hi < z:
            mid = (hi + z) >> 1
            x = max(T[to + mid] - 1.0, 0.0) if zb else T[to + mid]
            if _beyond(x, p1, e1, zb):
                z = mid
            else:
                hi = mid + 1
    for j in range(hi - lo):
        x = max(T[to + lo + j] - 1.0, 0.0) if zb else T[to + lo + j]
        T[row + j] = _cycle_clock(x, p0, length, period, mult, zb)
    fr[d, LO] = hi
    _push(fr, d + 1, kid, row, vo + lo, hi - lo)
    return d + 1


@_inline
def _retime(op, fp, f, kid, d, B, T, fr):
    """shift, stretch, warp, per_epoch: the kid at a function of t."""
    if fr[d, STAGE] > 0:
        return d - 1
    fr[d, STAGE] = 1
    to, vo, m = fr[d, TO], fr[d, VO], fr[d, M]
    a = fp[f]
    row = (d + 1) * B
    for j in range(m):
        t = T[to + j]
        if op == SHIFT:
            u = max(t - a, 0.0)
        elif op == STRETCH:
            u = t / a
        elif op == WARP:
            u = fp[f + 1] * (t / fp[f + 1]) ** a
        else:  # PER_EPOCH
            u = np.ceil(t / a)
        T[row + j] = u
    _push(fr, d + 1, kid, row, vo, m)
    return d + 1


@_inline
def _finite(x):
    return abs(x) < math.inf


@_inline
def _combine(op, fp, f, kids, ip, d, B, V, fr):
    """clip and binary arithmetic: the kids at the node's own t; a non-finite operand passes through."""
    to, vo, m, stage = fr[d, TO], fr[d, VO], fr[d, M], fr[d, STAGE]
    fr[d, STAGE] = stage + 1
    if stage == 0:  # left operand (or the clipped kid) straight into our values
        _push(fr, d + 1, ip[kids], to, vo, m)
        return d + 1
    if op == CLIP:
        lo_v, hi_v = fp[f], fp[f + 1]
        for j in range(m):
            x = V[vo + j]
            if _finite(x):
                V[vo + j] = min(max(x, lo_v), hi_v)
        return d - 1
    right = (d + 1) * B
    if stage == 1:
        _push(fr, d + 1, ip[kids + 1], to, right, m)
        return d + 1
    for j in range(m):
        a = V[vo + j]
        b = V[right + j]
        if op == ADD:
            r = a + b
        elif op == SUB:
            r = a - b
        elif op == MUL:
            r = a * b
        elif not _finite(b):  # DIV, MIN, MAX: never hide a non-finite operand
            r = b
        elif op == DIV:
            r = a / b
        elif not _finite(a):
            r = a
        elif op == MIN:
            r = min(a, b)
        else:
            r = max(a, b)
        V[vo + j] = r
    return d - 1


# --------------------------------------------------------------------------
# Two kernels from one source. The full kernel is _run and evaluate as
# written; the basic one is the same code compiled with the cycle and the
# rarer leaves (layout.FULL_ONLY) bound to stand-ins that write NaN, so it
# never compiles them. The engine gives every program that has them to the
# full kernel, so a stand-in is never reached; were it reached, the NaN would
# be reported, never returned as a value.


@_inline
def _nan_leaf(op, fp, f, T, to, V, vo, m, side, pos, mode):
    for j in range(m):
        V[vo + j] = math.nan


@_inline
def _nan_cycle(ip, fp, rec, d, B, T, V, fr, cyc):
    vo, m = fr[d, VO], fr[d, M]
    for j in range(m):
        V[vo + j] = math.nan
    return d - 1


def _variant(fn, name: str, **callees):
    """``fn`` (a jitted function or, without JIT, a plain one) as a new plain function ``name`` that calls
    ``callees`` in place of the functions of those names: the same source, compiled again."""
    fn = getattr(fn, "py_func", fn)
    scope = {**fn.__globals__, **callees}
    new = pytypes.FunctionType(fn.__code__, scope, name, fn.__defaults__, fn.__closure__)
    new.__qualname__, new.__module__, new.__doc__ = name, fn.__module__, fn.__doc__
    return new


@_internal
def _run(ip, fp, m, B, T, V, fr, cyc, side, pos, mode):
    """Evaluate the root at the sorted times T[0:m] into V[0:m]."""
    d = m - m  # 0 (computed, not a literal: numba compiles one variant of each callee)
    _push(fr, d, ip[1], d, d, m)
    while d >= 0:
        rec = HEADER + 4 * fr[d, NODE]
        op = ip[rec]
        f = ip[rec + 1]
        if op <= LAST_BASIC_LEAF:
            _leaf(op, fp, f, T, fr[d, TO], V, fr[d, VO], fr[d, M], side, pos, mode)
            d -= 1
        elif op < JOIN:
            _rare_leaf(op, fp, f, T, fr[d, TO], V, fr[d, VO], fr[d, M], side, pos, mode)
            d -= 1
        elif op == JOIN:
            d = _join(ip, fp, rec, d, B, T, fr)
        elif op == CYCLE:
            d = _cycle(ip, fp, rec, d, B, T, V, fr, cyc)
        elif op == SHIFT or op == STRETCH or op == WARP or op == PER_EPOCH:
            d = _retime(op, fp, f, ip[ip[rec + 2]], d, B, T, fr)
        else:
            d = _combine(op, fp, f, ip[rec + 2], ip, d, B, V, fr)


@_inline
def _is_sorted(T, m):
    for j in range(1, m):
        if not (T[j - 1] <= T[j]):
            return False
    return True


@_jit
def evaluate(ip, fp, out, t0, ranged, first, step, side, work, iwork, mode):
    """Evaluate blocks ``first``, ``first + step``, ... of ``out`` in place.

    The times are ``t0, t0 + 1, ...`` when ``ranged``, else the values ``out``
    holds on entry. An empty ``out`` asks for the one value at ``t0`` (a
    scalar call). Returns the first value computed when every value is
    finite, else NaN.

    ``work`` (float64) and ``iwork`` (int64) are scratch: when they are too
    small for this call the kernel allocates its own (``scratch_sizes`` gives
    what it needs; ``iwork[rows * NCOL]`` counts ``function`` values).
    ``mode`` is 0 for plain evaluation. Trees with ``function`` leaves (Python
    callables) run twice: mode 1 records each such leaf's (time, index) pairs
    in ``side``; Python computes the values; mode 2 reads them back in the
    same order (the path through the tree depends on t alone).
    """
    n = max(out.size, 1)
    B = min(BLOCK, n)
    rows = ip[2]
    nw, ni = scratch_sizes(rows, B)
    if work.size < nw:
        work = np.empty(nw)
    if iwork.size < ni:
        iwork = np.zeros(ni, dtype=np.int64)
    T = work[: rows * B]
    V = work[rows * B : 2 * rows * B]
    cyc = work[2 * rows * B : nw]
    fr = iwork[: rows * NCOL].reshape((rows, NCOL))
    pos = iwork[rows * NCOL : ni]
    first_value = math.nan
    bad = 0
    for b in range(first, (n + B - 1) // B, step):
        lo = b * B
        m = min(B, n - lo)
        if not out.size:
            T[0] = t0
        elif ranged:
            for j in range(m):
                T[j] = t0 + (lo + j)
        else:
            for j in range(m):
                T[j] = out[lo + j]
        if _is_sorted(T, m):
            _run(ip, fp, m, B, T, V, fr, cyc, side, pos, mode)
        else:  # unsorted times (never a scalar call): every element its own segment
            one = min(m, 1)
            for j in range(m):
                T[0] = out[lo + j]
                _run(ip, fp, one, B, T, V, fr, cyc, side, pos, mode)
                out[lo + j] = V[0]
            for j in range(m):
                V[j] = out[lo + j]
        if b == first:
            first_value = V[0]
        for j in range(m):
            bad += not abs(V[j]) < math.inf
        if out.size:
            for j in range(m):
                out[lo + j] = V[j]
    return first_value if bad == 0 else math.nan


@_inline
def scratch_sizes(rows, block):
    """(floats, ints) of scratch for ``rows`` rows of ``block`` values: times and values per row, each
    frame's cycle; the frames and the ``function`` counter."""
    return rows * (2 * block + 1), rows * NCOL + 1


def scratch(rows: int, block: int):
    """Scratch arrays for :func:`evaluate` (from Python; the same sizes it computes itself)."""
    nw, ni = getattr(scratch_sizes, "py_func", scratch_sizes)(rows, block)
    return np.empty(nw), np.zeros(ni, dtype=np.int64)


# --------------------------------------------------------------------------
# Reduce-on-plateau: one decision per reported metric (lrsched.plateau).


@_inline
def plateau_step(
    best, bad, cool, scale, metric, base, is_min, rel, threshold, patience, cooldown, factor, min_scale, eps, absolute
):
    """One report: returns (best, bad epochs, cooldown left, scale).

    torch's ReduceLROnPlateau decision, in torch's own arithmetic: a NaN metric
    is never an improvement (so it counts as a bad epoch). ``absolute``: the
    reduction is decided on the current lr, base * scale (base: the schedule's
    value), with ``min_scale`` as torch's min_lr and ``eps`` in lr units.
    """
    if is_min:
        better = metric < best * (1.0 - threshold) if rel else metric < best - threshold
    else:
        better = metric > best * (threshold + 1.0) if rel else metric > best + threshold
    if better:
        best = metric
        bad = 0
    else:
        bad += 1
    if cool > 0:
        cool -= 1
        bad = 0
    if bad > patience:
        if absolute:
            lr = base * scale
            reduced = max(lr * factor, min_scale)
            if lr - reduced > eps:
                scale = reduced / base
        else:
            reduced = max(scale * factor, min_scale)
            if scale - reduced > eps:
                scale = reduced
        cool = cooldown
        bad = 0
    return best, bad, cool, scale


@_jit
def plateau_replay(
    metrics,
    bases,
    best,
    bad,
    cool,
    scale,
    is_min,
    rel,
    threshold,
    patience,
    cooldown,
    factor,
    min_scale,
    eps,
    absolute,
    out,
):
    """out[k] = the scale in force after k reports (out[0] = the starting scale); returns the last state.

    ``bases[k]``: the schedule's value at report k (read only when ``absolute``).
    """
    out[0] = scale
    for k in range(metrics.size):
        best, bad, cool, scale = plateau_step(
            best,
            bad,
            cool,
            scale,
            metrics[k],
            bases[k],
            is_min,
            rel,
            threshold,
            patience,
            cooldown,
            factor,
            min_scale,
            eps,
            absolute,
        )
        out[k + 1] = scale
    return best, bad, cool, scale


# The basic kernel (made last: a variant sees the module's globals as they are when it is made).
_run_basic = _internal(_variant(_run, "_run_basic", _rare_leaf=_nan_leaf, _cycle=_nan_cycle))
#: the basic kernel: :func:`evaluate` without cycles and the layout.FULL_ONLY leaves
evaluate_basic = _jit(_variant(evaluate, "evaluate_basic", _run=_run_basic))
