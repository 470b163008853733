"""Every numba kernel of lrsched, and nothing else.

A schedule reaches this module as a *program*: two flat arrays produced by
:mod:`lrsched.engine`.

``ip`` (int64)
    ``ip[0]`` number of nodes, ``ip[1]`` root node, ``ip[2]`` rows of scratch
    (tree height + 2), ``ip[3]`` number of ``function`` leaves; then one record
    of four integers per node, ``(op, float offset, kid offset, kid count)``,
    then the kid lists.
``fp`` (float64)
    every node's float parameters, at the node's float offset.

One generic evaluator, :func:`_run`, walks the tree once per *segment*: a
run of sorted iterations that takes the same path through every join, warmup
and cycle. Each leaf then runs a tight loop over its segment, so a schedule
costs about what its leaves cost, and a new schedule never compiles anything.
Iterations are processed in blocks of ``BLOCK`` values; scratch memory is
``2 * rows * BLOCK`` floats per thread, whatever the length of the range.

Scalar and array evaluation run this same code (a scalar is a segment of
length one), so they agree to the last bit. Scratch rows are per thread:
``tw`` times, ``vb`` values, ``fr`` frames, one row per depth.

No ``fastmath``: LLVM keeps IEEE semantics, vectorised or not.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

BLOCK = 4096
HEADER = 4

# Leaves (formulas over the phase-local iteration t).
CONST = 0
LINEAR = 1
COSINE = 2
POLY = 3
GEOMETRIC = 4
EXPONENTIAL = 5
INV_SQRT = 6
INV_TIME = 7
FUNCTION = 8
EASE = 9
TANH = 10
# Nodes that route time to their kids.
JOIN = 20
CYCLE = 21
SHIFT = 22
STRETCH = 23
PER_EPOCH = 24
CLIP = 25
WARP = 26
# Binary arithmetic on two kids evaluated at the same t.
ADD = 30
SUB = 31
MUL = 32
DIV = 33
MIN = 34
MAX = 35

_jit = njit(cache=True, error_model="numpy", nogil=True)


# --------------------------------------------------------------------------
# Leaf formulas. p = min(t, n) / n is the progress through a phase of n
# iterations; every leaf holds its end value for t >= n. Linear and cosine
# compute (a * x) / n and cos((pi * x) / n), the order of the closed forms in
# torch, MXNet, timm and optax, so that mirrors of those agree to the bit.


@_jit
def _linear(t, out, start, end, n):
    for j in range(t.size):
        x = min(t[j], n)
        out[j] = end if x >= n else start + (end - start) * x / n


@_jit
def _cosine(t, out, start, end, n, periodic, exponent):
    for j in range(t.size):
        x = t[j] if periodic else min(t[j], n)
        h = (1.0 + math.cos(math.pi * x / n)) * 0.5
        if exponent != 1.0:
            h = h**exponent
        v = end + (start - end) * h
        out[j] = start if x <= 0.0 else v


@_jit
def _tanh(t, out, start, end, n, lb, ub):
    for j in range(t.size):
        p = min(t[j], n) / n
        out[j] = end + (start - end) * (0.5 * (1.0 - math.tanh(lb * (1.0 - p) + ub * p)))


@_jit
def _ease(t, out, start, end, n, power):
    for j in range(t.size):
        p = min(t[j], n) / n
        out[j] = end if p >= 1.0 else start + (end - start) * p**power


@_jit
def _poly(t, out, start, end, n, power):
    for j in range(t.size):
        p = min(t[j], n) / n
        v = end + (start - end) * (1.0 - p) ** power
        out[j] = start if p <= 0.0 else v


@_jit
def _geometric(t, out, start, end, n):
    ratio = end / start
    for j in range(t.size):
        p = min(t[j], n) / n
        v = start * ratio**p
        out[j] = end if p >= 1.0 else v


@_jit
def _exponent(t, every, staircase):
    """k = t / every, or floor((t - 1) / every) clamped at 0 when staircase."""
    if staircase:
        return max(math.floor((t - 1.0) / every), 0.0)
    return t / every


@_jit
def _exponential(t, out, start, factor, every, staircase, lo, hi):
    for j in range(t.size):
        v = start * factor ** _exponent(t[j], every, staircase)
        out[j] = min(max(v, lo), hi)


@_jit
def _inv_sqrt(t, out, start, scale):
    for j in range(t.size):
        out[j] = start / math.sqrt(1.0 + t[j] / scale)


@_jit
def _inv_time(t, out, start, rate, every, staircase):
    for j in range(t.size):
        out[j] = start / (1.0 + rate * _exponent(t[j], every, staircase))


# --------------------------------------------------------------------------
# Cycles: cycle i (0-based) covers (S(i), S(i + 1)] with S(i) the sum of the
# first i lengths period * mult**k. Boundaries are defined by cycle_start
# alone; cycle_index only guesses and then corrects against it.


@_jit
def cycle_start(i, period, mult):
    if i <= 0:
        return 0.0
    if mult == 1.0:
        return i * period
    return period * (mult**i - 1.0) / (mult - 1.0)


@_jit
def cycle_clock(x, length, period, mult, zero_based):
    """The kid's time at local time x of a cycle of ``length``: x * period / length.

    x is in (0, length] (1-indexed cycles, where x = length lands on period
    exactly) or, ``zero_based``, in [0, length) (counted from the restart).
    """
    if not zero_based and x >= length:
        return period
    if mult == 1.0:
        return x
    return x * (period / length)


@_jit
def cycle_index_from_zero(u, period, mult, limit):
    """The cycle i with S(i) <= u < S(i + 1), u counted from 0; at most limit."""
    i = cycle_index(u, period, mult, limit)
    while i > 0 and u < cycle_start(i, period, mult):
        i -= 1
    while (limit <= 0 or i < limit) and u >= cycle_start(i + 1, period, mult):
        i += 1
    return i


@_jit
def cycle_index(t, period, mult, limit):
    """The cycle i with S(i) < t <= S(i + 1) (0 for t <= period); at most limit."""
    if t <= period:
        return 0
    if mult == 1.0:
        i = int(math.ceil(t / period)) - 1
    elif mult > 1.0:
        i = int(math.floor(math.log1p(t * (mult - 1.0) / period) / math.log(mult)))
    else:
        i = 0
    if limit > 0 and i > limit:
        i = limit
    if i < 0:
        i = 0
    while i > 0 and t <= cycle_start(i, period, mult):
        i -= 1
    while (limit <= 0 or i < limit) and t > cycle_start(i + 1, period, mult):
        i += 1
    return i


# --------------------------------------------------------------------------
# The evaluator: an explicit stack of frames, one per depth (numba compiles
# recursive functions slowly and cannot cache them reliably).

# frame columns
_NODE = 0
_TROW = 1  # the frame's times are tw[TROW, TLO:TLO + M]
_TLO = 2
_M = 3
_OROW = 4  # ... and its values go to vb[OROW, OLO:OLO + M]
_OLO = 5
_STAGE = 6
_LO = 7  # join / cycle: first element not yet handed to a kid
_I = 8  # join: phase of the next segment; cycle: cycle of the last segment
_PLO = 9  # cycle: start of the last segment
FRAME = 10


@_jit
def _lower(t, lo, hi, b):
    """First index j in [lo, hi) with t[j] >= b (t sorted), else hi."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if t[mid] < b:
            lo = mid + 1
        else:
            hi = mid
    return lo


@_jit
def _upper(t, lo, hi, b):
    """First index j in [lo, hi) with t[j] > b (t sorted), else hi."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if t[mid] <= b:
            lo = mid + 1
        else:
            hi = mid
    return lo


@_jit
def _leaf(op, fp, f, t, out, side, pos, mode):
    m = t.size
    if op == CONST:
        v = fp[f]
        for j in range(m):
            out[j] = v
    elif op == LINEAR:
        _linear(t, out, fp[f], fp[f + 1], fp[f + 2])
    elif op == COSINE:
        _cosine(t, out, fp[f], fp[f + 1], fp[f + 2], fp[f + 3] != 0.0, fp[f + 4])
    elif op == EASE:
        _ease(t, out, fp[f], fp[f + 1], fp[f + 2], fp[f + 3])
    elif op == TANH:
        _tanh(t, out, fp[f], fp[f + 1], fp[f + 2], fp[f + 3], fp[f + 4])
    elif op == POLY:
        _poly(t, out, fp[f], fp[f + 1], fp[f + 2], fp[f + 3])
    elif op == GEOMETRIC:
        _geometric(t, out, fp[f], fp[f + 1], fp[f + 2])
    elif op == EXPONENTIAL:
        _exponential(t, out, fp[f], fp[f + 1], fp[f + 2], fp[f + 3] != 0.0, fp[f + 4], fp[f + 5])
    elif op == INV_SQRT:
        _inv_sqrt(t, out, fp[f], fp[f + 1])
    elif op == INV_TIME:
        _inv_time(t, out, fp[f], fp[f + 1], fp[f + 2], fp[f + 3] != 0.0)
    else:  # FUNCTION
        p0 = pos[0]
        if mode == 1:
            for j in range(m):
                side[0, p0 + j] = t[j]
                side[1, p0 + j] = fp[f]
                out[j] = 0.0
        else:
            for j in range(m):
                out[j] = side[0, p0 + j]
        pos[0] = p0 + m


@_jit
def _push(fr, sp, node, trow, tlo, m, orow, olo):
    fr[sp, _NODE] = node
    fr[sp, _TROW] = trow
    fr[sp, _TLO] = tlo
    fr[sp, _M] = m
    fr[sp, _OROW] = orow
    fr[sp, _OLO] = olo
    fr[sp, _STAGE] = 0
    fr[sp, _LO] = 0
    fr[sp, _I] = 0
    fr[sp, _PLO] = 0


@_jit
def _run(ip, fp, m, tw, vb, dst, fr, side, pos, mode):
    """Evaluate the root at the sorted times tw[0, :m] into dst[:m].

    The frame at depth d hands its kids times in row d + 1 of ``tw`` when it
    transforms time (else its own), and a binary frame keeps its right
    operand in row d + 1 of ``vb``; rows below d + 1 belong to ancestors.

    ``mode`` is 0 for plain evaluation. Trees with ``function`` leaves (Python
    callables) run twice: mode 1 records each such leaf's (time, index) pairs
    in ``side``; Python computes the values; mode 2 reads them back in the
    same order (the path through the tree depends on t alone).
    """
    _push(fr, 0, ip[1], 0, 0, m, 0, 0)
    sp = 0
    while sp >= 0:
        node = fr[sp, _NODE]
        trow = fr[sp, _TROW]
        tlo = fr[sp, _TLO]
        mm = fr[sp, _M]
        orow = fr[sp, _OROW]
        olo = fr[sp, _OLO]
        stage = fr[sp, _STAGE]
        rec = HEADER + 4 * node
        op = ip[rec]
        f = ip[rec + 1]
        k = ip[rec + 2]
        nk = ip[rec + 3]
        t = tw[trow, tlo : tlo + mm]
        out = dst[olo : olo + mm] if orow == 0 else vb[orow, olo : olo + mm]
        fr[sp, _STAGE] = stage + 1
        if op < JOIN:
            _leaf(op, fp, f, t, out, side, pos, mode)
            sp -= 1
        elif op == JOIN:
            # kid i runs on (b[i-1], b[i]] at t - b[i-1]; b = fp[f:f+nk-1]
            lo = fr[sp, _LO]
            i = fr[sp, _I]
            if stage == 0:
                while i < nk - 1 and t[0] > fp[f + i]:
                    i += 1
            if lo >= mm:
                sp -= 1
                continue
            hi = mm
            if i < nk - 1:
                hi = _upper(t, lo, mm, fp[f + i])
            fr[sp, _LO] = hi
            fr[sp, _I] = i + 1
            if hi > lo:
                if i == 0:
                    _push(fr, sp + 1, ip[k], trow, tlo + lo, hi - lo, orow, olo + lo)
                else:
                    off = fp[f + i - 1]
                    tt = tw[sp + 1, : hi - lo]
                    for j in range(hi - lo):
                        tt[j] = t[lo + j] - off
                    _push(fr, sp + 1, ip[k + i], sp + 1, 0, hi - lo, orow, olo + lo)
                sp += 1
        elif op == CYCLE:
            period = fp[f]
            mult = fp[f + 1]
            decay = fp[f + 2]
            limit = int(fp[f + 3])
            zb = fp[f + 4] != 0.0
            lo = fr[sp, _LO]
            if lo < 0:
                # back from the kid's value at the end of the last cycle:
                # hold it (scaled) over the rest of the segment
                lo = -lo - 1
                v = out[lo]
                if decay != 1.0:
                    v = v * decay ** fr[sp, _I]
                for j in range(lo, mm):
                    out[j] = v
                sp -= 1
                continue
            if stage > 0 and decay != 1.0:
                # the kid just filled [PLO, LO) for cycle I
                scale = decay ** fr[sp, _I]
                for j in range(fr[sp, _PLO], lo):
                    out[j] = out[j] * scale
            if lo >= mm:
                sp -= 1
                continue
            # zero-based cycles count u = t - 1 from 0 and are half-open, S(i) <= u < S(i + 1),
            # as torch, timm and Keras restart; otherwise S(i) < t <= S(i + 1)
            if zb:
                i = cycle_index_from_zero(max(t[lo] - 1.0, 0.0), period, mult, limit)
            else:
                i = cycle_index(t[lo], period, mult, limit)
            if limit > 0 and i >= limit:
                fr[sp, _I] = limit - 1
                fr[sp, _LO] = -lo - 1
                s0 = cycle_start(limit - 1, period, mult)
                s1 = cycle_start(limit, period, mult)
                length = s1 - s0
                # the local time of the cycle's last update: u = ceil(s1) - 1 when zero-based
                last = max(math.ceil(s1) - 1.0 - s0, 0.0) if zb else length
                tw[sp + 1, 0] = cycle_clock(last, length, period, mult, zb)
                _push(fr, sp + 1, ip[k], sp + 1, 0, 1, orow, olo + lo)
                sp += 1
                continue
            s0 = cycle_start(i, period, mult)
            s1 = cycle_start(i + 1, period, mult)
            tt = tw[sp + 1, :mm]
            length = s1 - s0
            if zb:
                hi = _lower(t, lo, mm, s1 + 1.0)
                for j in range(hi - lo):
                    tt[j] = cycle_clock(max(t[lo + j] - 1.0, 0.0) - s0, length, period, mult, zb)
            else:
                hi = _upper(t, lo, mm, s1)
                for j in range(hi - lo):
                    tt[j] = cycle_clock(t[lo + j] - s0, length, period, mult, zb)
            tt = tw[sp + 1, : hi - lo]
            fr[sp, _I] = i
            fr[sp, _PLO] = lo
            fr[sp, _LO] = hi
            _push(fr, sp + 1, ip[k], sp + 1, 0, hi - lo, orow, olo + lo)
            sp += 1
        elif op == SHIFT or op == STRETCH or op == PER_EPOCH or op == WARP:
            if stage > 0:
                sp -= 1
                continue
            a = fp[f]
            tt = tw[sp + 1, :mm]
            if op == SHIFT:
                for j in range(mm):
                    tt[j] = max(t[j] - a, 0.0)
            elif op == STRETCH:
                for j in range(mm):
                    tt[j] = t[j] / a
            elif op == WARP:
                span = fp[f + 1]
                for j in range(mm):
                    tt[j] = span * (t[j] / span) ** a
            else:
                for j in range(mm):
                    tt[j] = math.ceil(t[j] / a)
            _push(fr, sp + 1, ip[k], sp + 1, 0, mm, orow, olo)
            sp += 1
        elif op == CLIP:
            if stage == 0:
                _push(fr, sp + 1, ip[k], trow, tlo, mm, orow, olo)
                sp += 1
                continue
            lo_v = fp[f]
            hi_v = fp[f + 1]
            for j in range(mm):
                out[j] = min(max(out[j], lo_v), hi_v)
            sp -= 1
        else:
            if stage == 0:
                _push(fr, sp + 1, ip[k], trow, tlo, mm, orow, olo)
                sp += 1
                continue
            if stage == 1:
                _push(fr, sp + 1, ip[k + 1], trow, tlo, mm, sp + 1, 0)
                sp += 1
                continue
            right = vb[sp + 1, :mm]
            if op == ADD:
                for j in range(mm):
                    out[j] = out[j] + right[j]
            elif op == SUB:
                for j in range(mm):
                    out[j] = out[j] - right[j]
            elif op == MUL:
                for j in range(mm):
                    out[j] = out[j] * right[j]
            elif op == DIV:
                for j in range(mm):
                    out[j] = out[j] / right[j]
            elif op == MIN:
                for j in range(mm):
                    out[j] = min(out[j], right[j])
            else:
                for j in range(mm):
                    out[j] = max(out[j], right[j])
            sp -= 1


# --------------------------------------------------------------------------
# Drivers.


@_jit
def _is_sorted(t):
    for j in range(1, t.size):
        if not (t[j - 1] <= t[j]):
            return False
    return True


@_jit
def _block(ip, fp, times, t0, lo, hi, out, tw, vb, fr, side, pos, mode):
    """Evaluate output block [lo, hi): at times[lo:hi], or at t0 + lo, ... when times is empty."""
    m = hi - lo
    tt = tw[0, :m]
    if times.size == 0:
        for j in range(m):
            tt[j] = t0 + (lo + j)
    else:
        for j in range(m):
            tt[j] = times[lo + j]
    seg = out[lo:hi]
    if times.size == 0 or _is_sorted(tt):
        _run(ip, fp, m, tw, vb, seg, fr, side, pos, mode)
    else:
        # unsorted input: every element is its own segment
        for j in range(m):
            tw[0, 0] = times[lo + j]
            _run(ip, fp, 1, tw, vb, seg[j : j + 1], fr, side, pos, mode)
    bad = 0
    for j in range(m):
        if not (abs(seg[j]) < np.inf):
            bad += 1
    return bad


@_jit
def evaluate(ip, fp, times, t0, out, side, pos, mode):
    """Serial evaluation into ``out``; returns the number of non-finite values.

    The times are ``times`` when it is not empty, else ``t0, t0 + 1, ...``.
    """
    rows = ip[2]
    tw = np.empty((rows, BLOCK))
    vb = np.empty((rows, BLOCK))
    fr = np.empty((rows, FRAME), dtype=np.int64)
    n = out.size
    bad = 0
    for lo in range(0, n, BLOCK):
        bad += _block(ip, fp, times, t0, lo, min(lo + BLOCK, n), out, tw, vb, fr, side, pos, mode)
    return bad


@njit(cache=True, error_model="numpy", nogil=True, parallel=True)
def evaluate_parallel(ip, fp, times, t0, out, nthreads):
    """:func:`evaluate` on ``nthreads`` threads, blocks dealt round-robin.

    Trees with ``function`` leaves never come here.
    """
    rows = ip[2]
    n = out.size
    nblocks = (n + BLOCK - 1) // BLOCK
    bad = np.zeros(nthreads, dtype=np.int64)
    for th in prange(nthreads):
        tw = np.empty((rows, BLOCK))
        vb = np.empty((rows, BLOCK))
        fr = np.empty((rows, FRAME), dtype=np.int64)
        side = np.empty((2, 0))
        pos = np.zeros(1, dtype=np.int64)
        for b in range(th, nblocks, nthreads):
            lo = b * BLOCK
            bad[th] += _block(ip, fp, times, t0, lo, min(lo + BLOCK, n), out, tw, vb, fr, side, pos, 0)
    return bad.sum()


@_jit
def evaluate_scalar(ip, fp, t):
    """The value at one time t (trees without ``function`` leaves)."""
    rows = ip[2]
    ws = np.empty((2 * rows, 1))
    fr = np.empty((rows, FRAME), dtype=np.int64)
    res = np.empty(1)
    ws[0, 0] = t
    _run(ip, fp, 1, ws[:rows], ws[rows:], res, fr, ws[:2, :0], fr[0, :1], 0)
    return res[0]


# --------------------------------------------------------------------------
# Reduce-on-plateau: one decision per reported metric (lrsched.plateau).


@_jit
def plateau_step(best, bad, cool, scale, metric, is_min, rel, threshold, patience, cooldown, factor, min_scale, eps):
    """One report: returns (best, bad epochs, cooldown left, scale).

    torch's ReduceLROnPlateau decision, in torch's own arithmetic: a NaN metric
    is never an improvement (so it counts as a bad epoch).
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
        reduced = max(scale * factor, min_scale)
        if scale - reduced > eps:
            scale = reduced
        cool = cooldown
        bad = 0
    return best, bad, cool, scale


@_jit
def plateau_replay(
    metrics, best, bad, cool, scale, is_min, rel, threshold, patience, cooldown, factor, min_scale, eps, out
):
    """out[k] = the scale in force after k reports (out[0] = the starting scale)."""
    out[0] = scale
    for k in range(metrics.size):
        best, bad, cool, scale = plateau_step(
            best, bad, cool, scale, metrics[k], is_min, rel, threshold, patience, cooldown, factor, min_scale, eps
        )
        out[k + 1] = scale


@_jit
def scale_per_epoch(values, scales, steps_per_epoch):
    """values[t - 1] *= scales[min((t - 1) // steps_per_epoch, last)]: epoch k's updates use scales[k]."""
    last = scales.size - 1
    for i in range(values.size):
        values[i] = values[i] * scales[min(i // steps_per_epoch, last)]
