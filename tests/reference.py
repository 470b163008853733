"""Independent NumPy formulas for the tests, written from the documented
definitions (the issue's contract), not from lrsched's code.

Each takes a float64 array of iterations t and returns the expected values.
"""

from __future__ import annotations

import math
from fractions import Fraction

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


def cycle_start(i, period, mult):
    """S_i, the start of cycle i: the exact sum of the lengths before it, rounded once to a float."""
    P, m = Fraction(period), Fraction(mult)
    return float(P * i) if m == 1 else float(P * (m**i - 1) / (m - 1))  # float() rounds to nearest


def cycle_locate(x, period, mult=1.0, limit=None, zero_based=False):
    """(cycle i, time into it) for x (x = t - 1 when zero_based); i = limit past the last cycle.

    period_mult = 1: the cycles are the exact multiples of the period (exact remainder).
    Otherwise x is in cycle i when it lies past S_i and not past S_{i+1} (past: >, or >=
    when zero_based), and the time into it is the float difference x - S_i.
    """
    if mult == 1.0:
        X, P = Fraction(x), Fraction(period)  # x may be a Fraction
        q = math.floor(X / P)
        if not zero_based and q * P == X and X > 0:
            q -= 1
        if limit is not None and q >= limit:
            return limit, None
        return q, float(X - q * P)

    def past(s):
        return x >= s if zero_based else x > s

    i = 0
    while past(cycle_start(i + 1, period, mult)):
        i += 1
        if limit is not None and i >= limit:
            return limit, None
    return i, x - cycle_start(i, period, mult)


def cycle_held(period, mult, limit, zero_based):
    """Past the last cycle: (cycle, time into it) of the last update, t = S_limit (1-indexed) or
    the last whole u below S_limit (zero-based; the exact multiple for period_mult = 1)."""
    if not zero_based:
        return limit - 1, math.inf  # the end of the last cycle: the kid at the period
    end = Fraction(period) * limit if mult == 1.0 else cycle_start(limit, period, mult)
    return cycle_locate(math.ceil(end) - 1, period, mult, None, zero_based)


def cycle(t, fn, period, period_mult=1.0, decay=1.0, limit=None, zero_based=False):
    """The cycle's definition, from :func:`cycle_locate` (a walk over exact boundaries).

    The kid sees (time into cycle i) * period / L_i, L_i = S_{i+1} - S_i; 1-indexed cycles end
    on the period itself. Past the limit: the last update's value, the value at the
    period (1-indexed) or at the last whole u below S_limit (zero-based).
    """
    out = np.empty_like(t)
    for j, x in enumerate(t):
        x = max(x - 1, 0.0) if zero_based else float(x)
        i, local = cycle_locate(x, period, period_mult, limit, zero_based)
        if local is None:  # past the limit
            i, local = cycle_held(period, period_mult, limit, zero_based)
        if period_mult == 1.0:
            length = float(period)
        else:
            length = cycle_start(i + 1, period, period_mult) - cycle_start(i, period, period_mult)
        if not zero_based and local >= length:
            clock = float(period)
        elif period_mult == 1.0:
            clock = local
        else:
            clock = local * (period / length)
        out[j] = decay**i * fn(np.array([clock]))[0]
    return out


def whole_cycle(t, kid, period, period_mult=1.0, decay=1.0, limit=None, zero_based=False):
    """The whole-period cycle's definition, walked: L_0 = P, L_{i+1} = floor(m L_i), S_i their sums (exact
    integers); the kid at (x - S_i) P / L_i, at P on a 1-indexed cycle's end; past the limit the last update's
    value (1-indexed: the end of the last cycle; zero-based: the last whole u below S_limit)."""
    out = np.empty(len(t))
    for j, x in enumerate(t):
        x = max(x - 1.0, 0.0) if zero_based else float(x)
        i, start, length = 0, 0, int(period)
        while x >= start + length if zero_based else x > start + length:
            if limit is not None and i + 1 >= limit:
                break
            i, start, length = i + 1, start + length, math.floor(period_mult * length)
        end = start + length
        if limit is not None and i + 1 == limit and (x >= end if zero_based else x > end):
            x = end - 1.0 if zero_based else float(end)  # held
        local = x - start
        clock = float(period) if not zero_based and local >= length else local * (period / length)
        out[j] = decay**i * kid(np.array([clock]))[0]
    return out


def tanh(t, start, end, steps, lb=-7.0, ub=3.0):
    p = progress(t, steps)
    return end + (start - end) * 0.5 * (1 - np.tanh(lb * (1 - p) + ub * p))


# ---------------------------------------------------------------- the composition semantics, recursively


def _warmup_ramp(t, shape, start, target, w):
    x = np.minimum(t, w)
    if shape == "linear":
        return start + (target - start) * x / w
    if shape == "cosine":
        return target + (start - target) * (1 + np.cos(np.pi * x / w)) / 2
    return start * (target / start) ** (x / w)


def evaluate(s, t):
    """``s`` at the float64 array ``t``, recursively over the schedule objects, from the documented formulas.

    Independent of lrsched's engine: it reads the schedules' public fields only.
    """
    t = np.asarray(t, dtype=float)
    k = s.kind
    if k == "constant":
        return constant(t, s.value)
    if k in ("linear", "geometric"):
        return globals()[k](t, s.start, s.end, s.steps)
    if k == "cosine":
        x = t if s.periodic else np.minimum(t, s.steps)
        return s.end + (s.start - s.end) * ((1 + np.cos(np.pi * x / s.steps)) / 2) ** s.exponent
    if k in ("poly", "ease"):
        return globals()[k](t, s.start, s.end, s.steps, s.power)
    if k == "tanh":
        return tanh(t, s.start, s.end, s.steps, s.lb, s.ub)
    if k == "exponential":
        return exponential(t, s.start, s.factor, s.every, s.staircase, s.end)
    if k == "step":
        return step(t, s.start, s.every, s.factor, s.minimum)
    if k == "multistep":
        return multistep(t, s.start, s.milestones, s.factor)
    if k == "piecewise":
        return piecewise(t, s.boundaries, s.levels)
    if k == "interpolate":
        return interpolate(t, s.points, s.shape)
    if k == "inverse_sqrt":
        return inverse_sqrt(t, s.start, s.scale)
    if k == "inverse_time":
        return inverse_time(t, s.start, s.rate, s.every, s.staircase)
    if k == "join":
        return join(t, [lambda x, c=c: evaluate(c, x) for c in s.schedules], s.boundaries)
    if k == "warmup":
        target = float(evaluate(s.schedule, np.zeros(1))[0])
        ramp = _warmup_ramp(t, s.shape, s.start, target, s.steps)
        rest = evaluate(s.schedule, np.maximum(t - s.steps, 0.0))
        return np.where(t <= s.steps, ramp, rest)
    if k == "cycle":
        kid = lambda x: evaluate(s.schedule, x)  # noqa: E731
        walk = whole_cycle if s.whole_periods else cycle
        return walk(t, kid, s.period, s.period_mult, s.decay, s.limit, s.zero_based)
    if k in ("add", "sub", "mul", "div"):
        a, b = evaluate(s.left, t), evaluate(s.right, t)
        return {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide}[k](a, b)
    if k in ("minimum", "maximum"):
        a, b = evaluate(s.left, t), evaluate(s.right, t)
        return (np.minimum if k == "minimum" else np.maximum)(a, b)  # NaN-propagating, either order
    if k == "clip":
        x = evaluate(s.schedule, t)
        lo = -np.inf if s.low is None else s.low
        hi = np.inf if s.high is None else s.high
        return np.where(np.isfinite(x), np.minimum(np.maximum(x, lo), hi), x)
    if k == "shift":
        return evaluate(s.schedule, np.maximum(t - s.k, 0.0))
    if k == "stretch":
        return evaluate(s.schedule, t / s.factor)
    if k == "warp":
        # libm's pow, as the kernel calls it: numpy's vectorised pow may differ in the last bit, which a
        # periodic kid at a large warped t would magnify far past any tolerance
        return evaluate(s.schedule, np.array([s.span * math.pow(x / s.span, s.power) for x in t]))
    if k == "per_epoch":
        return evaluate(s.schedule, np.ceil(t / s.steps_per_epoch))
    if k == "function":
        return np.array([float(s.fn(float(x))) for x in t])
    if k == "cooldown":
        x = float(evaluate(s.schedule, np.array([s.at]))[0])
        p = np.minimum(np.maximum(t - s.at, 0.0), s.steps) / s.steps
        g = {"linear": 1 - p, "cosine": (1 + np.cos(np.pi * p)) / 2, "sqrt": 1 - np.sqrt(p)}[s.shape]
        return np.where(t <= s.at, evaluate(s.schedule, t), s.to + (x - s.to) * g)
    if k == "extend":
        tau0, end = extend_point(s)
        tau = tau0 + (t - s.at) * (end - tau0) / (end - s.at)
        return np.where(t <= s.at, evaluate(s.old, t), evaluate(s.new, np.maximum(tau, 0.0)))
    if k == "t":
        return t.copy()
    if k == "pow":  # the C library's pow, one value at a time, as the kernel calls it
        a, b = evaluate(s.left, t), evaluate(s.right, t)
        y = np.array([_c_pow(x, e) for x, e in zip(a, b)])
        return np.where(np.isfinite(b), np.where(np.isfinite(a), y, a), b)
    if k in _FUNCTIONS:
        x = evaluate(s.schedule, t)
        with np.errstate(all="ignore"):
            y = _FUNCTIONS[k](x, s)
        return np.where(np.isfinite(x), y, x)
    raise NotImplementedError(f"no reference for {k!r}")


def _c_pow(x: float, e: float) -> float:
    try:
        return math.pow(x, e)
    except ValueError:  # a negative base to a fractional power, zero to a negative one
        return math.inf if x == 0 else math.nan
    except OverflowError:
        return math.inf if x > 0 or (float(e).is_integer() and e % 2 == 0) else -math.inf


#: the functions of one value: exp and log as the C library's (math's, one value at a time), floor(x / q) * q,
#: round half to even
_FUNCTIONS = {
    "exp": lambda x, s: np.array([math.exp(v) if v < 709 else np.exp(v) for v in x]),
    "log": lambda x, s: np.array([math.log(v) if v > 0 else (-math.inf if v == 0 else math.nan) for v in x]),
    "sqrt": lambda x, s: np.sqrt(x),
    "floor": lambda x, s: np.floor(x / s.multiple) * s.multiple,
    "ceil": lambda x, s: np.ceil(x),
    "round": lambda x, s: np.round(x),
}


def extend_point(s):
    """(tau_0, L) of an ``extend``: ``at`` clamped into the first stretch after new's peak where new is old(at).

    L is read from ``new.length()`` (the analysis, tested on its own); the peak P is the first whole t where new
    is largest; tau_a, where new first comes down to old(at) at or after P, by bisection on the reference
    formula; tau_b, the last whole t of a plateau at old(at) that starts there (else tau_a). A run still on
    new's own warmup ramp (at before P, new(at) = old(at)) continues from at.
    """
    at = float(s.at)
    end = s.new.length()
    x = float(evaluate(s.old, np.array([at]))[0])
    here = float(evaluate(s.new, np.array([at]))[0])
    ys = evaluate(s.new, np.arange(0.0, math.ceil(end) + 2.0))
    top = int(np.argmax(ys[:-1]))
    if at < top and here == x:
        return at, end
    k = top + int(np.flatnonzero(ys[top:] <= x)[0])
    lo, hi = float(k - 1), float(k)
    if k > top:
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            if float(evaluate(s.new, np.array([mid]))[0]) <= x:
                hi = mid
            else:
                lo = mid
    else:
        hi = float(top)
    tau_b = float(k - 1 + int(np.argmin(ys[k:] == x))) if ys[k] == x else hi
    return min(max(at, hi), tau_b), end


#: every kind :func:`evaluate` knows
KINDS = frozenset(
    [
        "constant",
        "linear",
        "geometric",
        "cosine",
        "poly",
        "ease",
        "tanh",
        "exponential",
        "step",
        "multistep",
        "piecewise",
        "interpolate",
        "inverse_sqrt",
        "inverse_time",
        "join",
        "warmup",
        "cycle",
        "add",
        "sub",
        "mul",
        "div",
        "minimum",
        "maximum",
        "clip",
        "shift",
        "stretch",
        "warp",
        "per_epoch",
        "function",
        "cooldown",
        "extend",
        "t",
        "pow",
        *_FUNCTIONS,
    ]
)
