"""Mirrors of ``keras.optimizers.schedules``: plain schedules, no Keras needed.

Index convention: Keras calls a schedule with ``step`` = 0 for the first
update, so the value at t is Keras's at ``step = t - 1`` (s = t - 1 in the
formulas below). Values follow Keras's float64 arithmetic (a float64 initial
learning rate); Keras's usual float32 differs by float32 rounding. Golden
values: ``tests/golden/make_peers.py``.

Every argument is checked here, under the mirror's own parameter name, before
any primitive is built from it: a mistake is reported as
``decay_rate must be > 0, got -1``, never under a primitive's parameter.
"""

from __future__ import annotations

import math

from .. import _validate as v
from ..algebra import Function
from ..combinators import Cycle, Join
from ..engine import cycle_start
from ..primitives import Constant, Cosine, Exponential, InverseTime, Linear, Piecewise, Poly
from ..schedule import Schedule

__all__ = [
    "CosineDecay",
    "CosineDecayRestarts",
    "ExponentialDecay",
    "InverseTimeDecay",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
]


def _steps(name, value):
    x = v.real(name, value)
    if x <= 0:
        raise ValueError(f"{name} must be > 0 (Keras raises), got {v.show(value)}")
    return x


def ExponentialDecay(initial_learning_rate, decay_steps, decay_rate, staircase: bool = False) -> Schedule:
    r"""``ExponentialDecay``: :math:`I\, r^{s / T}` (floor of s / T when staircase), s = t - 1.

    >>> lrsched.keras.ExponentialDecay(1.0, 2, 0.5, staircase=True)(3)
    0.5
    """
    init = v.real("initial_learning_rate", initial_learning_rate)
    steps, rate = _steps("decay_steps", decay_steps), v.positive("decay_rate", decay_rate)
    staircase = v.flag("staircase", staircase)
    decay = Exponential(init, rate, every=steps, staircase=staircase)
    # continuous: s / T at s = t - 1; staircase: floor(s / T) = floor((t - 1) / T), lrsched's own staircase
    return decay if staircase else decay.shift(1)


def PiecewiseConstantDecay(boundaries, values) -> Schedule:
    """``PiecewiseConstantDecay``: values[i] for boundaries[i-1] < step <= boundaries[i].

    Keras keeps the old value at step == boundary, one step later than optax
    (a peer quirk, mirrored): in t the value changes after t = boundary + 1.

    >>> s = lrsched.keras.PiecewiseConstantDecay([2], [1.0, 0.5])
    >>> s(3), s(4)
    (1.0, 0.5)
    """
    bounds = v.reals("boundaries", boundaries)
    vals = v.reals("values", values)
    if len(bounds) != len(vals) - 1:
        raise ValueError(f"boundaries needs one entry fewer than values, got {len(bounds)} and {len(vals)}")
    v.increasing("boundaries", bounds)
    if bounds and bounds[0] < -1:
        raise ValueError(f"boundaries must be >= -1, got {v.show(list(bounds))}")
    shifted = [b + 1 for b in bounds]  # in t
    for i in range(1, len(shifted)):
        if shifted[i] == shifted[i - 1]:  # two boundaries past 2**53, one float apart: b + 1 rounds them together
            raise ValueError(
                f"boundaries[{i - 1}]={v.show(bounds[i - 1])}, boundaries[{i}]={v.show(bounds[i])}: "
                "too close to tell apart one step later (in t = step + 1, they round to one float)"
            )
    return Piecewise(shifted, vals) if bounds else Constant(vals[0])


def _held(init: float, end: float) -> float:
    """A polynomial decay with power 0: ``(init - end) * 1 + end`` in Keras's order, which must be finite."""
    value = (init - end) * 1.0 + end
    if not math.isfinite(value):
        raise ValueError(
            f"initial_learning_rate={v.show(init)}, end_learning_rate={v.show(end)}: "
            "initial_learning_rate - end_learning_rate is beyond the float range"
        )
    return value


def PolynomialDecay(
    initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0, cycle: bool = False
) -> Schedule:
    r"""``PolynomialDecay``: :math:`(I - E)(1 - \min(s, T) / T)^{p} + E`, s = t - 1.

    With ``cycle`` Keras stretches the decay to the next multiple of T
    instead (T' = T ceil(s / T)): the lr jumps up at every multiple and decays
    again over a longer span. No finite composition has that shape, so it is
    a ``function`` (slow, not serializable) computing Keras's formula.

    >>> s = lrsched.keras.PolynomialDecay(1.0, 4, 0.0)
    >>> s(3), s(9)
    (0.5, 0.0)
    """
    init, end = v.real("initial_learning_rate", initial_learning_rate), v.real("end_learning_rate", end_learning_rate)
    steps, power = _steps("decay_steps", decay_steps), v.nonnegative("power", power)
    if v.flag("cycle", cycle):
        return Function(_KerasPolyCycle(init, end, steps, power))
    if power == 0:
        return Constant(_held(init, end))
    return Poly(init, end, steps=steps, power=power).shift(1)


class _KerasPolyCycle:
    """Keras PolynomialDecay(cycle=True) at step = t - 1."""

    def __init__(self, init, end, steps, power):
        self.args = (init, end, steps, power)

    def __call__(self, t):
        init, end, steps, power = self.args
        s = max(t - 1.0, 0.0)
        ratio = s / steps
        if not math.isfinite(ratio):  # decay_steps below the float range's resolution: Keras's ceil overflows too
            return math.nan  # reported by the engine as a value that is not finite, naming t
        span = steps * (1.0 if s == 0 else math.ceil(ratio))
        return (init - end) * (1 - s / span) ** power + end

    def __eq__(self, other):
        return isinstance(other, _KerasPolyCycle) and self.args == other.args

    def __hash__(self):
        return hash(self.args)

    def __repr__(self):
        return "lrsched.keras.mirrors._KerasPolyCycle(init={}, end={}, steps={}, power={})".format(*self.args)


def InverseTimeDecay(initial_learning_rate, decay_steps, decay_rate, staircase: bool = False) -> Schedule:
    r"""``InverseTimeDecay``: :math:`I / (1 + r\, s / T)` (floor of s / T when staircase), s = t - 1.

    >>> lrsched.keras.InverseTimeDecay(1.0, 1, 1.0)(2)
    0.5
    """
    init = v.real("initial_learning_rate", initial_learning_rate)
    steps, rate = _steps("decay_steps", decay_steps), v.nonnegative("decay_rate", decay_rate)
    staircase = v.flag("staircase", staircase)
    decay = InverseTime(init, rate=rate, every=steps, staircase=staircase)
    return decay if staircase else decay.shift(1)


def CosineDecay(initial_learning_rate, decay_steps, alpha=0.0, warmup_target=None, warmup_steps=0) -> Schedule:
    r"""``CosineDecay``, with its optional linear warmup to ``warmup_target``.

    .. math::
        L\left((1 - \alpha)\,\tfrac{1}{2}\left(1 + \cos\left(\pi\, \tfrac{\min(s, T)}{T}\right)\right)
        + \alpha\right)

    with s = t - 1, and L ``initial_learning_rate``, or ``warmup_target`` after a
    warmup of W steps (s then counted from its end; during the warmup the lr
    is :math:`I + (L - I)\, s / W`). In Keras's arithmetic order, to the bit.

    >>> s = lrsched.keras.CosineDecay(0.0, 4, warmup_target=1.0, warmup_steps=2)
    >>> s(1), s(2), s(3), s(7)
    (0.0, 0.5, 1.0, 0.0)
    """
    init, steps = v.real("initial_learning_rate", initial_learning_rate), _steps("decay_steps", decay_steps)
    alpha = v.real("alpha", alpha)
    w = v.nonnegative("warmup_steps", warmup_steps)  # checked, used or not
    target = None if warmup_target is None else v.real("warmup_target", warmup_target)
    unit = Cosine(1.0, alpha, steps=1).stretch(steps).shift(1)  # pi * (s / T)
    if target is None:
        return init * unit
    if w == 0:
        return target * unit
    ramp = Linear(init, target, steps=1).stretch(w).shift(1)  # (target - init) * (s / W) + init
    return Join([ramp, target * unit], [w])


#: restarts laid out by Keras's own arithmetic: at most this many, and none past 2**31 steps (then exact sums)
EXPLICIT_RESTARTS = 4096


def _keras_restart(u: int, first: float, t_mul: float) -> float:
    """Keras's ``i_restart`` at step u (its ``compute_step``, geometric), in float64; inf past every cycle."""
    x = 1.0 - u / first * (1.0 - t_mul)
    if not 0 < x < math.inf:
        return math.inf
    i = math.log(x) / math.log(t_mul)
    return math.floor(i) if math.isfinite(i) else math.inf


def CosineDecayRestarts(initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0) -> Schedule:
    r"""``CosineDecayRestarts`` (SGDR): cycle i lasts :math:`T t_{mul}^{i}` steps and peaks at
    :math:`m_{mul}^{i}`; within it

    .. math:: L\left((1 - \alpha)\, m_{mul}^{i}\, \tfrac{1}{2}(1 + \cos(\pi f)) + \alpha\right)

    with f the fraction of the cycle done, counted from 0 at each restart
    (at s = t - 1). Cycle i starts at the first step where Keras's own
    arithmetic (its logarithm, in float64) puts it, so that the mirror
    restarts where Keras does even where a restart lands on a whole step and
    the logarithm rounds just below it; past 4,096 restarts or 2**31 steps
    the restarts are at the exact sums of the cycle lengths (a ``cycle``).
    With ``t_mul`` < 1 the cycles add up to T / (1 - t_mul) steps; Keras gives
    NaN after that, the mirror holds the end of the last cycle.

    >>> s = lrsched.keras.CosineDecayRestarts(1.0, 2, t_mul=1.0, m_mul=0.5)
    >>> s(1), s(2), s(3)
    (1.0, 0.5, 0.5)
    """
    init, first = v.real("initial_learning_rate", initial_learning_rate), _steps("first_decay_steps", first_decay_steps)
    alpha = v.real("alpha", alpha)
    t_mul, m_mul = v.positive("t_mul", t_mul), v.positive("m_mul", m_mul)
    wave = init * ((1 - alpha) * Cycle(
        Cosine(1.0, 0.0, steps=first),
        first,
        period_mult=t_mul,
        decay=m_mul,
        limit=2**53 if t_mul < 1 else None,
        zero_based=True,
    ) + alpha)  # fmt: skip
    if t_mul == 1.0:  # equal cycles: the exact multiples are Keras's floor(step / T)
        return wave
    return _restarts_by_keras(wave, init, first, t_mul, m_mul, alpha)


def _restarts_by_keras(wave: Schedule, init: float, first: float, t_mul: float, m_mul: float, alpha: float):
    """CosineDecayRestarts with t_mul != 1: each cycle a piece from the step where Keras's logarithm starts it,
    then ``wave`` (the cycles at the exact sums) from where that stops being exact in float64."""
    pieces, bounds, u, low = [], [], 0, init * alpha
    for i in range(EXPLICIT_RESTARTS):
        end = cycle_start(i + 1, first, t_mul)  # the exact sum; Keras's restart is within a step or two of it
        try:
            length, peak = first * t_mul**i, init * ((1 - alpha) * m_mul**i + alpha)
        except OverflowError:
            length = peak = math.inf
        if not (0 < length < math.inf and math.isfinite(peak) and math.isfinite(low) and end < 2**31):
            pieces.append(wave.shift(-u))  # the rest at the exact sums (a cycle), on the global t
            bounds.append(float(u))
            break
        nxt = max(u, math.floor(end) - 2)
        while _keras_restart(nxt, first, t_mul) <= i and nxt <= end + 2:  # cycle i + 1's first step, by Keras
            nxt += 1
        if nxt > u:  # a cycle shorter than a step that Keras never reaches has no piece
            offset = (1.0 - t_mul**i) / (1.0 - t_mul) * first  # Keras's f = (step / T - sum_r) / t_mul**i
            piece = Cosine(peak, low, steps=length)
            pieces.append(piece.shift(offset + 1 - u))  # at t = u + x: Keras's step is u + x - 1
            bounds.append(float(u))
        if _keras_restart(nxt, first, t_mul) == math.inf:  # past every cycle (t_mul < 1): the last runs on
            break
        u = nxt
    return Join(pieces, bounds[1:]) if len(pieces) > 1 else pieces[0]
