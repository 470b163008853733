"""Independent NumPy formulas for the tests, written from the documented
definitions (the issue's contract), not from lrsched's code.

Each takes a float64 array of iterations t and returns the expected values.
"""

from __future__ import annotations

import math

import numpy as np


def progress(t, n):
    return np.minimum(t, n) / n


def constant(t, value):
    return np.full_like(t, value, dtype=float)


def linear(t, start, end, steps):
    return start + (end - start) * progress(t, steps)


def cosine(t, start, end, steps, exponent=1.0):
    return end + (start - end) * ((1 + np.cos(np.pi * progress(t, steps))) / 2) ** exponent


def ease(t, start, end, steps, power=1.0):
    return start + (end - start) * progress(t, steps) ** power


def poly(t, start, end, steps, power=1.0):
    return end + (start - end) * (1 - progress(t, steps)) ** power


def geometric(t, start, end, steps):
    return start * (end / start) ** progress(t, steps)


def _k(t, every, staircase):
    if staircase:
        return np.maximum(np.floor((t - 1) / every), 0)
    return t / every


def exponential(t, start, factor, every=1, staircase=False, end=None):
    with np.errstate(over="ignore"):  # growth past float range, then clamped at end
        out = start * factor ** _k(t, every, staircase)
    if end is not None:
        out = np.maximum(out, end) if factor < 1 else np.minimum(out, end)
    return out


def step(t, start, every, factor, minimum=0.0):
    k = np.maximum(np.floor((t - 1) / every), 0)
    return np.maximum(start * factor**k, minimum)


def multistep(t, start, milestones, factor):
    count = (t[:, None] > np.asarray(milestones, dtype=float)[None, :]).sum(axis=1)
    return start * factor ** count.astype(float)


def piecewise(t, boundaries, values):
    idx = (t[:, None] > np.asarray(boundaries, dtype=float)[None, :]).sum(axis=1)
    return np.asarray(values, dtype=float)[idx]


def interpolate(t, points, shape="linear"):
    ts = np.array([p[0] for p in points], dtype=float)
    vs = np.array([p[1] for p in points], dtype=float)
    out = np.empty_like(t)
    for j, x in enumerate(t):
        if x <= ts[0]:
            out[j] = vs[0]
        elif x > ts[-1]:
            out[j] = vs[-1]
        else:
            i = int(np.searchsorted(ts, x, side="left")) - 1
            p = (x - ts[i]) / (ts[i + 1] - ts[i])
            if shape == "linear":
                out[j] = vs[i] + (vs[i + 1] - vs[i]) * p
            else:
                out[j] = vs[i + 1] + (vs[i] - vs[i + 1]) * (1 + math.cos(math.pi * p)) / 2
    return out


def inverse_sqrt(t, start, scale):
    return start / np.sqrt(1 + t / scale)


def inverse_time(t, start, rate, every=1, staircase=False):
    return start / (1 + rate * _k(t, every, staircase))


def join(t, fns, boundaries):
    """fns: callables on arrays; phase i runs at t - b_i."""
    b = [0.0, *boundaries]
    out = np.empty_like(t)
    idx = (
        (t[:, None] > np.asarray(boundaries, dtype=float)[None, :]).sum(axis=1) if boundaries else np.zeros(t.size, int)
    )
    for i, fn in enumerate(fns):
        sel = idx == i
        if sel.any():
            out[sel] = fn(t[sel] - b[i])
    return out


def cycle(t, fn, period, period_mult=1.0, decay=1.0, limit=None, zero_based=False):
    """Cycle i covers L_i = period * mult**i iterations, by explicit accumulation.

    1-indexed: t in (S_i, S_i + L_i] at local t - S_i. Zero-based: u = t - 1 in
    [S_i, S_i + L_i) at local u - S_i; after the limit, the last update's value.
    """
    out = np.empty_like(t)
    for j, x in enumerate(t):
        if zero_based:
            x = max(x - 1, 0.0)
        start, i, length = 0.0, 0, float(period)
        while (x >= start + length if zero_based else x > start + length) and (limit is None or i < limit - 1):
            start += length
            i += 1
            length = period * period_mult**i
        if zero_based:
            past = x >= start + length  # only after the limit: the last whole update below its end
            local = max(math.ceil(start + length) - 1, start) - start if past else x - start
        else:
            local = min(x - start, length)
        out[j] = decay**i * fn(np.array([local * period / length]))[0]
    return out


def tanh(t, start, end, steps, lb=-7.0, ub=3.0):
    p = progress(t, steps)
    return end + (start - end) * 0.5 * (1 - np.tanh(lb * (1 - p) + ub * p))
