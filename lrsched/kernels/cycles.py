"""Cycle arithmetic. Cycle i (0-based) is P m**i long and starts at S(i), the sum of the
lengths before it. For m = 1 the boundaries are the exact multiples i P
(kept as p + e, the product and its rounding error, and the time into a
cycle is the exact remainder), so any t finds its place, 1e300 included.
Otherwise S(i) is that sum computed in double-double arithmetic and rounded
once: S(1) is P itself, and a boundary that is a whole number in exact
arithmetic (30 + 33 = 63 for P = 30, m = 1.1) is that number.
"""

import math

import numpy as np

from ._decorators import entry, inline, internal


@internal
def _two_sum(a, b):
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


@internal
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


@internal
def _dd_mul(ah, al, bh, bl):
    p, e = _two_prod(ah, bh)
    return _two_sum(p, e + (ah * bl + al * bh))


@entry
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


@internal
def _bound(i, period, mult):
    """The start of cycle i as p + e: e is the rounding error of i P (m = 1), else 0 (S(i) is the rounded sum)."""
    if mult == 1.0:
        return _two_prod(i, period)
    return cycle_start(i, period, mult), 0.0


@inline
def _beyond(x, p, e, zero_based):
    """x lies past the boundary p + e: after it, or on or after it for half-open (zero-based) cycles."""
    return x > p or (x == p and (e <= 0.0 if zero_based else e < 0.0))


@internal
def cycle_index(x, period, mult, limit, zero_based):
    """The cycle i (a whole float) with x past its start and not past its end; ``limit`` past the last.

    A closed-form guess, then at most eight corrections against the boundaries:
    bounded work for any x, period and limit (0: none).
    """
    if mult == 1.0:
        g = np.floor((x - np.fmod(x, period)) / period + 0.5)
    else:
        y = x / period * (mult - 1.0)  # m**i = 1 + y at the start of cycle i
        if y > 1e300:  # log1p(y) = log(y), taken apart so that a huge y (or one past the float range) is exact
            g = np.floor((math.log(x) - math.log(period) + math.log(mult - 1.0)) / math.log(mult))
        else:
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


@internal
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


@internal
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


# ---------------------------------------------------------------- whole periods
# A cycle with whole periods (``cycle(..., whole_periods=True)``) carries its table after its eight
# parameters: fp[f + 5] = K starts, fp[f + 6] and fp[f + 7] the tail's first length and its ratio, then
# S(1) .. S(K), whole numbers. Cycles 0 .. K - 1 are tabulated; cycles K, K + 1, ... are a cycle of the
# kind above (first length fp[f + 6], ratio fp[f + 7]) that starts at S(K): the lengths have stalled
# (ratio 1), or S(K) is past 2**53, where every float is whole. Each cycle's time is exact below 2**53.


@internal
def _whole_clock(x, p0, length, fm, period, zero_based):
    """The kid's time at x in the cycle [p0, p0 + length): (x - p0) * period / length, ending on the period
    itself (1-indexed); fm > 0: cycles of length fm from 0, the time into one the exact remainder."""
    if fm > 0.0:
        local = np.fmod(x, fm)
        if not zero_based and local == 0.0 and x > 0.0:
            local = fm
    else:
        local = x - p0
    if not length > 0.0:
        return 0.0 if zero_based else period
    if not zero_based and local >= length:
        return period
    local = max(local, 0.0)
    return local * (period / length)


@internal
def whole_locate(u, fp, f, limit, zero_based):
    """The cycle of u, and its geometry: (i, off, p0, e0, p1, e1, length, fm).

    u - off lies in the cycle that starts at p0 + e0 and ends at p1 + e1 (off: 0 in the table, S(K) in
    the tail); length and fm as :func:`_whole_clock` takes them; i >= limit past the last cycle.
    """
    k = int(fp[f + 5])
    w = f + 8
    a, z = 0, k  # the number of tabulated starts u lies past: binary search
    while a < z:
        mid = (a + z) >> 1
        if _beyond(u, fp[w + mid], 0.0, zero_based):
            a = mid + 1
        else:
            z = mid
    if a < k or (limit > 0.0 and limit <= k):
        p0 = fp[w + a - 1] if a > 0 else 0.0
        p1 = fp[w + a] if a < k else p0
        return float(a), 0.0, p0, 0.0, p1, 0.0, p1 - p0, 0.0
    off = fp[w + k - 1]
    lt, mt = fp[f + 6], fp[f + 7]
    g = cycle_index(u - off, lt, mt, limit - k if limit > 0.0 else 0.0, zero_based)
    p0, e0 = _bound(g, lt, mt)
    p1, e1 = _bound(g + 1.0, lt, mt)
    if mt == 1.0:
        return k + g, off, p0, e0, p1, e1, lt, lt
    return k + g, off, p0, e0, p1, e1, p1 - p0, 0.0


@internal
def _whole_held(fp, f, limit, zero_based):
    """:func:`_held` of a cycle with whole periods: the last update's (cycle, kid time)."""
    period = fp[f]
    if not zero_based:
        return limit - 1.0, period
    k = int(fp[f + 5])
    w = f + 8
    if limit <= k:  # the last whole u below S(limit), in the table
        n = int(limit)
        s1 = fp[w + n - 1]
        s0 = fp[w + n - 2] if n > 1 else 0.0
        u = max(np.ceil(s1) - 1.0, s0)
        return limit - 1.0, _whole_clock(u, s0, s1 - s0, 0.0, period, True)
    lt, mt = fp[f + 6], fp[f + 7]
    tl = limit - k
    p, e = _bound(tl, lt, mt)  # the tail's own end, relative to S(K)
    u = np.ceil(p) - 1.0
    if e > 0.0 and u + 1.0 == p:
        u = p
    u = max(u, 0.0)
    g = min(cycle_index(u, lt, mt, tl, True), tl - 1.0)
    s0 = cycle_start(g, lt, mt)
    if mt == 1.0:
        return k + g, _whole_clock(u, s0, lt, lt, period, True)
    return k + g, _whole_clock(u, s0, cycle_start(g + 1.0, lt, mt) - s0, 0.0, period, True)
