"""The interpreter: one generic evaluator that walks a program's tree once per segment of times.

A frame per depth d: the node, where its times are
(T[to:to+m]) and where its values go (V[vo:vo+m]); a node that transforms
time gives its kid times in row d + 1 of T, and a binary node keeps its right
operand in row d + 1 of V (rows are B apart). Per-node state: STAGE (visits
so far), LO (first element not yet handed to a kid), SEG (start of the
segment last handed over) and CYC[d] (that segment's cycle).
"""

import math

import numpy as np

from ..layout import (
    ADD,
    CEIL,
    CLIP,
    CYCLE,
    DIV,
    EXP,
    FLOOR,
    HEADER,
    JOIN,
    LOG,
    MIN,
    MUL,
    PER_EPOCH,
    POW,
    ROUND,
    SHIFT,
    SQRT,
    STRETCH,
    SUB,
    WARP,
)
from ._decorators import entry, inline, internal
from .cycles import _beyond, _bound, _cycle_clock, _held, _whole_clock, _whole_held, cycle_index, whole_locate
from .leaves import leaf

#: times per block: the scratch rows are this long, and threads take whole blocks
BLOCK = 4096


@inline
def _no_literal(like, k):
    """The int k, computed from ``like`` so that numba types it as a plain int, not a literal: numba compiles a
    callee once per argument type, and a literal 0 or 1 would be a type of its own."""
    return like - like + k


NODE = 0
TO = 1
VO = 2
M = 3
STAGE = 4
LO = 5
SEG = 6
NCOL = 7


@inline
def _push(fr, d, node, to, vo, m):
    fr[d, NODE] = node
    fr[d, TO] = to
    fr[d, VO] = vo
    fr[d, M] = m
    fr[d, STAGE] = 0
    fr[d, LO] = 0
    fr[d, SEG] = 0


@inline
def _first_after(T, to, lo, hi, b):
    """First j in [lo, hi) with T[to + j] > b, else hi (binary search over sorted times)."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if T[to + mid] > b:
            hi = mid
        else:
            lo = mid + 1
    return lo


@inline
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


@inline
def _cycle(ip, fp, rec, d, B, T, V, fr, cyc):
    """Cycle i of u (u = t, or t - 1 zero-based): the kid at its clock, times decay**i.

    With whole periods (fp[f + 5] > 0) the cycle and its geometry come from the node's table
    (:func:`.cycles.whole_locate`), and u - off lies in it.
    """
    f, kid = ip[rec + 1], ip[ip[rec + 2]]
    period, mult, decay, limit, zb = fp[f], fp[f + 1], fp[f + 2], fp[f + 3], fp[f + 4] != 0.0
    whole = fp[f + 5] > 0.0
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
    if whole:
        i, off, p0, e0, p1, e1, length, fm = whole_locate(u, fp, f, limit, zb)
    else:
        i = cycle_index(u, period, mult, limit, zb)
        off, fm = 0.0, 0.0
        p0, e0 = _bound(i, period, mult)
        p1, e1 = _bound(i + 1.0, period, mult)
        length = period if mult == 1.0 else p1 - p0
    fr[d, SEG] = lo
    if limit > 0.0 and i >= limit:
        if whole:
            cyc[d], T[row] = _whole_held(fp, f, limit, zb)
        else:
            cyc[d], T[row] = _held(period, mult, limit, zb)
        fr[d, STAGE] = 2
        fr[d, LO] = m
        _push(fr, d + 1, kid, row, vo + lo, _no_literal(m, 1))  # one element
        return d + 1
    cyc[d] = i
    hi = lo + 1  # the segment: the elements up to the end of cycle i (just lo where rounding leaves it between)
    if (i == 0.0 or _beyond(u - off, p0, e0, zb)) and not _beyond(u - off, p1, e1, zb):
        z = m
        while hi < z:
            mid = (hi + z) >> 1
            x = max(T[to + mid] - 1.0, 0.0) if zb else T[to + mid]
            if _beyond(x - off, p1, e1, zb):
                z = mid
            else:
                hi = mid + 1
    for j in range(hi - lo):
        x = max(T[to + lo + j] - 1.0, 0.0) if zb else T[to + lo + j]
        if whole:
            T[row + j] = _whole_clock(x - off, p0, length, fm, period, zb)
        else:
            T[row + j] = _cycle_clock(x, p0, length, period, mult, zb)
    fr[d, LO] = hi
    _push(fr, d + 1, kid, row, vo + lo, hi - lo)
    return d + 1


@inline
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


@inline
def _finite(x):
    return abs(x) < math.inf


@inline
def _apply(op, x, fp, f):
    """A function of one value (EXP .. ROUND): the C library's exp, log and pow, IEEE sqrt; round is half to
    even; FLOOR rounds down to a multiple of its parameter. Outside a function's domain the value is NaN or
    inf, which the caller reports, naming t."""
    if op == EXP:
        return math.exp(x)
    if op == LOG:
        return math.log(x) if x > 0.0 else (-math.inf if x == 0.0 else math.nan)
    if op == SQRT:
        return math.sqrt(x) if x >= 0.0 else math.nan
    if op == FLOOR:
        q = fp[f]
        return np.floor(x / q) * q
    if op == CEIL:
        return np.ceil(x)
    return np.rint(x)  # ROUND


@inline
def _combine(op, fp, f, kids, ip, d, B, V, fr):
    """clip, the functions of one value and binary arithmetic: the kids at the node's own t; a non-finite operand
    passes through all but ADD, SUB and MUL (which keep IEEE's)."""
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
    if op >= EXP:
        for j in range(m):
            x = V[vo + j]
            if _finite(x):
                V[vo + j] = _apply(op, x, fp, f)
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
        elif not _finite(b):  # DIV, MIN, MAX, POW: never hide a non-finite operand
            r = b
        elif op == DIV:
            r = a / b
        elif not _finite(a):
            r = a
        elif op == POW:
            r = math.pow(a, b)
        elif op == MIN:
            r = min(a, b)
        else:
            r = max(a, b)
        V[vo + j] = r
    return d - 1


@internal
def _run(ip, fp, m, B, T, V, fr, cyc, side, pos, mode):
    """Evaluate the root at the sorted times T[0:m] into V[0:m]."""
    d = _no_literal(m, 0)
    _push(fr, d, ip[1], d, d, m)
    while d >= 0:
        rec = HEADER + 4 * fr[d, NODE]
        op = ip[rec]
        f = ip[rec + 1]
        if op < JOIN:
            leaf(op, fp, f, T, fr[d, TO], V, fr[d, VO], fr[d, M], side, pos, mode)
            d -= 1
        elif op == JOIN:
            d = _join(ip, fp, rec, d, B, T, fr)
        elif op == CYCLE:
            d = _cycle(ip, fp, rec, d, B, T, V, fr, cyc)
        elif op == SHIFT or op == STRETCH or op == WARP or op == PER_EPOCH:
            d = _retime(op, fp, f, ip[ip[rec + 2]], d, B, T, fr)
        elif op == CLIP or (op >= ADD and op <= POW) or (op >= EXP and op <= ROUND):
            d = _combine(op, fp, f, ip[rec + 2], ip, d, B, V, fr)
        else:
            raise ValueError("lrsched: a program holds a node opcode the kernel does not know")


@inline
def _is_sorted(T, m):
    for j in range(1, m):
        if not (T[j - 1] <= T[j]):
            return False
    return True


@entry
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


@inline
def scratch_sizes(rows, block):
    """(floats, ints) of scratch for ``rows`` rows of ``block`` values: times and values per row, each
    frame's cycle; the frames and the ``function`` counter."""
    return rows * (2 * block + 1), rows * NCOL + 1


def scratch(rows, block):
    """Scratch arrays for :func:`evaluate` (from Python; the same sizes it computes itself)."""
    nw, ni = scratch_sizes(rows, block)
    return np.empty(nw), np.zeros(ni, dtype=np.int64)
