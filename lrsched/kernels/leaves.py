"""The leaf formulas, one function per opcode, and :func:`leaf`, which dispatches on the opcode.

Each formula runs over the phase-local times t into out, with parameters
named and ordered as :data:`lrsched.layout.PARAMS` declares (a test checks
the names). Each is a function of its own: its parameters arrive by value and
LLVM vectorises its loop (inlined into the interpreter, the same loops ran
twice as slow). p = min(t, n) / n is the progress through a phase of n
iterations; every phase holds its end value for t >= n. Linear and cosine
compute (a x) / n and cos((pi x) / n), the order of the closed forms in torch,
MXNet, timm and optax, so that mirrors of those agree to the bit.
"""

import math

import numpy as np

from .. import layout as L
from ._decorators import inline, internal


@inline
def _finite_or(v, a, b, w):
    """v = a + (b - a) w as the formula computed it, or, where that left the float range (b - a overflows
    near its ends: linear(1e308, -1e308, n)), the same point written a (1 - w) + b w, which stays in it."""
    if math.isfinite(v):
        return v
    return a * (1.0 - w) + b * w


@internal
def _linear(t, out, start, end, steps):
    for j in range(t.size):
        x = min(t[j], steps)
        v = start + (end - start) * x / steps
        out[j] = end if x >= steps else _finite_or(v, start, end, x / steps)


@internal
def _cosine(t, out, start, end, steps, periodic, exponent):
    wrap = periodic != 0.0
    for j in range(t.size):
        x = t[j] if wrap else min(t[j], steps)
        h = (1.0 + math.cos(math.pi * x / steps)) * 0.5
        if exponent != 1.0:
            h = h**exponent
        v = _finite_or(end + (start - end) * h, end, start, h)
        out[j] = start if x <= 0.0 else v


@internal
def _poly(t, out, start, end, steps, power):
    for j in range(t.size):
        p = min(t[j], steps) / steps
        w = (1.0 - p) ** power
        v = _finite_or(end + (start - end) * w, end, start, w)
        out[j] = start if p <= 0.0 else v


@internal
def _geometric(t, out, start, end, steps):
    ratio = end / start
    for j in range(t.size):
        p = min(t[j], steps) / steps
        v = start * ratio**p
        if not math.isfinite(v) or v == 0.0:  # end / start left the float range: the same point in logs
            v = math.exp(math.log(start) * (1.0 - p) + math.log(end) * p)
        out[j] = end if p >= 1.0 else v


@internal
def _exponent(t, every, staircase):
    """k = t / every, or floor((t - 1) / every) clamped at 0 when staircase."""
    if staircase != 0.0:
        return max(np.floor((t - 1.0) / every), 0.0)
    return t / every


@internal
def _exponential(t, out, start, factor, every, staircase, low, high):
    for j in range(t.size):
        v = start * factor ** _exponent(t[j], every, staircase)
        out[j] = min(max(v, low), high)


@internal
def _inv_sqrt(t, out, start, scale):
    for j in range(t.size):
        out[j] = start / math.sqrt(1.0 + t[j] / scale)


@internal
def _inv_time(t, out, start, rate, every, staircase):
    for j in range(t.size):
        out[j] = start / (1.0 + rate * _exponent(t[j], every, staircase))


@internal
def _ease(t, out, start, end, steps, power):
    for j in range(t.size):
        p = min(t[j], steps) / steps
        w = p**power
        out[j] = end if p >= 1.0 else _finite_or(start + (end - start) * w, start, end, w)


@internal
def _tanh(t, out, start, end, steps, lb, ub):
    for j in range(t.size):
        p = min(t[j], steps) / steps
        w = 0.5 * (1.0 - math.tanh(lb * (1.0 - p) + ub * p))
        out[j] = _finite_or(end + (start - end) * w, end, start, w)


@internal
def _clock(t, out):
    for j in range(t.size):
        out[j] = t[j]


@internal
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


@inline
def leaf(op, fp, f, T, to, V, vo, m, side, pos, mode):
    """Leaf ``op`` (parameters at fp[f:]) at the times T[to:to+m], into V[vo:vo+m]."""
    t = T[to : to + m]
    out = V[vo : vo + m]
    if op == L.CONST:
        for j in range(m):
            out[j] = fp[f]
    elif op == L.LINEAR:
        _linear(t, out, fp[f], fp[f + 1], fp[f + 2])
    elif op == L.COSINE:
        _cosine(t, out, fp[f], fp[f + 1], fp[f + 2], fp[f + 3], fp[f + 4])
    elif op == L.POLY:
        _poly(t, out, fp[f], fp[f + 1], fp[f + 2], fp[f + 3])
    elif op == L.GEOMETRIC:
        _geometric(t, out, fp[f], fp[f + 1], fp[f + 2])
    elif op == L.EXPONENTIAL:
        _exponential(t, out, fp[f], fp[f + 1], fp[f + 2], fp[f + 3], fp[f + 4], fp[f + 5])
    elif op == L.INV_SQRT:
        _inv_sqrt(t, out, fp[f], fp[f + 1])
    elif op == L.INV_TIME:
        _inv_time(t, out, fp[f], fp[f + 1], fp[f + 2], fp[f + 3])
    elif op == L.EASE:
        _ease(t, out, fp[f], fp[f + 1], fp[f + 2], fp[f + 3])
    elif op == L.TANH:
        _tanh(t, out, fp[f], fp[f + 1], fp[f + 2], fp[f + 3], fp[f + 4])
    elif op == L.CLOCK:
        _clock(t, out)
    elif op == L.FUNCTION:
        _function(t, out, fp[f], side, pos, mode)
    else:
        raise ValueError("lrsched: a program holds a leaf opcode the kernel does not know")
