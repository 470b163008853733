"""Mirrors of ``optax.schedules``: plain schedules, no JAX needed.

Index convention: optax's ``count`` = 0 is the first update, so the value at t
is optax's at ``count = t - 1`` (c = t - 1 in the formulas below). Values
follow optax's float64 arithmetic (``jax_enable_x64``); optax's default
float32 differs from them by float32 rounding (about 1e-7 relative). Golden
values: ``tests/golden/make_peers.py``.

Every argument is checked here, under the mirror's own parameter name, before
any primitive is built from it: a mistake is reported as
``peak_value must be a real number, got 'x'``, never under the name of a
primitive's parameter or of another mirror's that this one is built from.
"""

from __future__ import annotations

import math

from .. import _validate as v
from ..combinators import Join
from ..primitives import Constant, Cosine, Exponential, Linear, Piecewise, Poly
from ..schedule import Schedule

__all__ = [
    "constant_schedule",
    "cosine_decay_schedule",
    "cosine_onecycle_schedule",
    "exponential_decay",
    "join_schedules",
    "linear_onecycle_schedule",
    "linear_schedule",
    "piecewise_constant_schedule",
    "piecewise_interpolate_schedule",
    "polynomial_schedule",
    "sgdr_schedule",
    "warmup_constant_schedule",
    "warmup_cosine_decay_schedule",
    "warmup_exponential_decay_schedule",
]


def constant_schedule(value: float) -> Schedule:
    """``optax.constant_schedule``: the value at every count.

    >>> lrsched.optax.constant_schedule(0.1)(1000)
    0.1
    """
    return Constant(v.real("value", value))


def polynomial_schedule(init_value, end_value, power, transition_steps: int, transition_begin: int = 0) -> Schedule:
    r"""``optax.polynomial_schedule``: with c = clip(t - 1 - B, 0, T),

    .. math:: (I - E)\,(1 - c / T)^{P} + E

    T <= 0 holds ``init_value`` (as optax does); a negative B counts as 0.

    >>> s = lrsched.optax.polynomial_schedule(1.0, 0.0, 2, transition_steps=4)
    >>> s(1), s(3), s(5)
    (1.0, 0.25, 0.0)
    """
    steps, begin = v.whole("transition_steps", transition_steps), max(v.whole("transition_begin", transition_begin), 0)
    init, end = v.real("init_value", init_value), v.real("end_value", end_value)
    power = v.nonnegative("power", power)
    if steps > 0 and power == 0:
        return Constant(_held(init, end))
    return _polynomial(init, end, power, steps, begin)


def _held(init: float, end: float) -> float:
    """A polynomial schedule with power 0: ``(init - end) * 1 + end`` in optax's order, which must be finite."""
    value = (init - end) * 1.0 + end
    if not math.isfinite(value):
        raise ValueError(
            f"init_value={v.show(init)}, end_value={v.show(end)}: init_value - end_value is beyond the float range"
        )
    return value


def _polynomial(init: float, end: float, power: float, steps: int, begin: int) -> Schedule:
    """polynomial_schedule of checked arguments (power > 0 where steps > 0)."""
    if steps <= 0:
        return Constant(init)
    return Poly(init, end, steps=steps, power=power).shift(1 + begin)


def linear_schedule(init_value, end_value, transition_steps: int, transition_begin: int = 0) -> Schedule:
    r"""``optax.linear_schedule``: polynomial_schedule with power 1 (so the same arithmetic),
    :math:`(I - E)(1 - c / T) + E` with c = clip(t - 1 - B, 0, T).

    >>> lrsched.optax.linear_schedule(1.0, 0.0, 4)(3)
    0.5
    """
    steps, begin = v.whole("transition_steps", transition_steps), max(v.whole("transition_begin", transition_begin), 0)
    init, end = v.real("init_value", init_value), v.real("end_value", end_value)
    return _polynomial(init, end, 1.0, steps, begin)


def piecewise_constant_schedule(init_value, boundaries_and_scales: dict | None = None) -> Schedule:
    """``optax.piecewise_constant_schedule``: multiply by each scale once count >= its boundary.

    At count == boundary the new value already applies (unlike Keras): in t, after t = boundary.

    >>> s = lrsched.optax.piecewise_constant_schedule(1.0, {2: 0.5})
    >>> s(2), s(3)
    (1.0, 0.5)
    """
    value = v.real("init_value", init_value)
    bounds, values = [], [value]
    given = {"init_value": init_value, "boundaries_and_scales": boundaries_and_scales}
    for b, scale in _scales(boundaries_and_scales):
        value = _times(value, scale, b, given)
        if b < 0:  # already passed at the first update
            values[-1] = value
        else:
            bounds.append(b)
            values.append(value)
    return Piecewise(bounds, values) if bounds else Constant(values[0])


def _scales(boundaries_and_scales) -> list[tuple[int, float]]:
    """``boundaries_and_scales`` checked (a dict of integer boundaries to scales >= 0, or None), sorted."""
    if boundaries_and_scales is None:
        return []
    if not isinstance(boundaries_and_scales, dict):
        raise TypeError(
            f"boundaries_and_scales must be a dict {{step: scale}} or None, got {v.show(boundaries_and_scales)}"
        )
    out = []
    for b, scale in boundaries_and_scales.items():
        b = v.whole("each boundary (key) of boundaries_and_scales", b)
        out.append((b, v.nonnegative(f"boundaries_and_scales[{b}]", scale)))
    return sorted(out)


def _given(arguments: dict) -> str:
    """The arguments at fault, as a message names them: ``peak_value=1e+300, div_factor=1e-10``."""
    return ", ".join(f"{name}={v.show(value)}" for name, value in arguments.items())


def _times(value: float, scale: float, boundary: int, given: dict) -> float:
    """``value * scale``, the value from ``boundary`` on, which must be finite (``given``: the arguments it is from)."""
    x = value * scale
    if not math.isfinite(x):
        raise ValueError(
            f"{_given(given)}: the value from boundary {boundary} on, {v.show(value)} * {v.show(scale)}, "
            "is beyond the float range"
        )
    return x


def exponential_decay(
    init_value, transition_steps: int, decay_rate, transition_begin: int = 0, staircase: bool = False, end_value=None
) -> Schedule:
    r"""``optax.exponential_decay``: with d = t - 1 - B,

    .. math:: I\, r^{d / T} \ (d > 0;\ \lfloor d / T \rfloor \text{ if staircase}), \quad I \ (d \le 0)

    clamped at ``end_value`` (a floor for r < 1, a ceiling otherwise). T <= 0
    or r = 0 hold ``init_value``, as in optax.

    >>> s = lrsched.optax.exponential_decay(1.0, 2, 0.5, staircase=True)
    >>> s(1), s(2), s(3)
    (1.0, 1.0, 0.5)
    """
    steps, begin = v.whole("transition_steps", transition_steps), max(v.whole("transition_begin", transition_begin), 0)
    init, rate = v.real("init_value", init_value), v.nonnegative("decay_rate", decay_rate)
    staircase = v.flag("staircase", staircase)
    end = v.optional_real("end_value", end_value)
    return _exponential(init, steps, rate, begin, staircase, end)


def _exponential(init: float, steps: int, rate: float, begin: int, staircase: bool, end: float | None) -> Schedule:
    """exponential_decay of checked arguments."""
    if steps <= 0 or rate == 0:
        return Constant(init)
    if end is not None and ((rate < 1 and end >= init) or (rate >= 1 and end <= init)):
        return Constant(end)  # the clamp binds from the start
    if rate == 1:
        return Constant(init)
    decay = Exponential(init, rate, every=steps, staircase=staircase, end=end)
    # continuous: k = d / T at d = t - 1 - B; staircase: floor(d / T) = floor((x - 1) / T) at x = t - B
    return decay.shift(begin if staircase else 1 + begin)


def cosine_decay_schedule(init_value, decay_steps: int, alpha=0.0, exponent=1.0) -> Schedule:
    r"""``optax.cosine_decay_schedule``: with c = t - 1,

    .. math:: I\left((1 - \alpha)\left(\tfrac{1}{2}(1 + \cos(\pi \min(c, T) / T))\right)^{p} + \alpha\right)

    in optax's own arithmetic order (to the bit in float64).

    >>> s = lrsched.optax.cosine_decay_schedule(1.0, 4)
    >>> s(1), s(3), s(9)
    (1.0, 0.5, 0.0)
    """
    steps = v.whole("decay_steps", decay_steps)
    if steps <= 0:
        raise ValueError(f"decay_steps must be > 0 (optax raises), got {v.show(decay_steps)}")
    alpha, exponent = v.real("alpha", alpha), v.positive("exponent", exponent)
    return _cosine_decay(v.real("init_value", init_value), steps, alpha, exponent)


def _cosine_decay(init: float, steps: int, alpha: float, exponent: float) -> Schedule:
    """cosine_decay_schedule of checked arguments (steps > 0)."""
    return init * Cosine(1.0, alpha, steps=steps, exponent=exponent).shift(1)


def join_schedules(schedules, boundaries) -> Schedule:
    """``optax.join_schedules``: schedule i from count b_i on, at count - b_i.

    That is ``join(schedules, boundaries)`` of lrsched mirrors: schedule i runs
    for t in (b_i, b_{i+1}], seeing t - b_i. A boundary of 0 (or a repeated
    one) skips the schedules before it, as optax does.

    >>> s = lrsched.optax.join_schedules([ls.constant(1.0), ls.constant(0.5)], [2])
    >>> s(2), s(3)
    (1.0, 0.5)
    """
    schedules = v.items("schedules", schedules, "schedules")
    for i, x in enumerate(schedules):
        if not isinstance(x, Schedule):
            raise TypeError(f"schedules[{i}] must be an lrsched schedule (a mirror), got {v.show(x)}")
    bounds = [v.whole(f"boundaries[{i}]", b) for i, b in enumerate(v.items("boundaries", boundaries))]
    if len(bounds) != len(schedules) - 1:
        raise ValueError(
            f"boundaries needs one entry fewer than schedules: got {len(schedules)} schedules and {len(bounds)} "
            "boundaries"
        )
    if bounds != sorted(bounds) or (bounds and bounds[0] < 0):
        raise ValueError(f"boundaries must be sorted and >= 0, got {bounds}")
    return _join(schedules, bounds)


def _join(schedules: list[Schedule], bounds: list[int]) -> Schedule:
    """join_schedules of checked arguments: a boundary equal to the one before it (or to 0) drops a schedule."""
    keep, kept = [schedules[0]], []
    for b, s in zip(bounds, schedules[1:]):
        if b == (kept[-1] if kept else 0):
            keep[-1] = s
        else:
            kept.append(b)
            keep.append(s)
    return Join(keep, kept) if kept else keep[0]


def warmup_constant_schedule(init_value, peak_value, warmup_steps: int) -> Schedule:
    """``optax.warmup_constant_schedule``: linear_schedule(init, peak, warmup_steps), then the peak.

    >>> s = lrsched.optax.warmup_constant_schedule(0.0, 1.0, 4)
    >>> s(3), s(5), s(100)
    (0.5, 1.0, 1.0)
    """
    init, peak = v.real("init_value", init_value), v.real("peak_value", peak_value)
    return _polynomial(init, peak, 1.0, v.whole("warmup_steps", warmup_steps), 0)


def warmup_cosine_decay_schedule(
    init_value, peak_value, warmup_steps: int, decay_steps: int, end_value=0.0, exponent=1.0
) -> Schedule:
    """``optax.warmup_cosine_decay_schedule``: linear warmup, then cosine decay to
    ``end_value``; ``decay_steps`` includes the warmup (optax's convention).

    With c = t - 1, W = ``warmup_steps`` and D = ``decay_steps``: I + (P - I) c / W
    for c < W, then cosine_decay_schedule(P, D - W, E / P, exponent) at count
    c - W (a W < 0 runs it from count -W on, as optax's join does).

    >>> s = lrsched.optax.warmup_cosine_decay_schedule(0.0, 1.0, 2, 6)
    >>> s(1), s(3), s(7)
    (0.0, 1.0, 0.0)
    """
    return _warmup_cosine(init_value, peak_value, warmup_steps, decay_steps, end_value, exponent)


def _warmup_cosine(init_value, peak_value, warmup_steps, decay_steps, end_value, exponent, name=str) -> Schedule:
    """warmup_cosine_decay_schedule, its arguments checked under ``name(parameter)`` (sgdr_schedule's kwargs)."""
    init, peak = v.real(name("init_value"), init_value), v.real(name("peak_value"), peak_value)
    w, steps = v.whole(name("warmup_steps"), warmup_steps), v.whole(name("decay_steps"), decay_steps)
    end, exponent = v.real(name("end_value"), end_value), v.positive(name("exponent"), exponent)
    if steps - w <= 0:
        given = _given({name("decay_steps"): decay_steps, name("warmup_steps"): warmup_steps})
        raise ValueError(
            f"{given}: decay_steps must exceed warmup_steps (decay_steps include the warmup, "
            "and the cosine decay after it needs at least one; optax raises)"
        )
    alpha = 0.0 if peak == 0.0 else end / peak
    if not math.isfinite(alpha):
        given = _given({name("end_value"): end_value, name("peak_value"): peak_value})
        raise ValueError(f"{given}: end_value / peak_value (the cosine's alpha) is beyond the float range")
    return _after_warmup(init, peak, w, _cosine_decay(peak, steps - w, alpha, exponent))


def _after_warmup(init: float, peak: float, w: int, decay: Schedule) -> Schedule:
    """optax's ``join_schedules([linear_schedule(init, peak, w), decay], [w])``: from count w on, decay at count - w.

    For w < 0 that is decay from its count -w on (from the first update), as optax computes it; w = 0 is decay."""
    if w < 0:
        return decay.shift(w)
    if w == 0:
        return decay
    return _join([_polynomial(init, peak, 1.0, w, 0), decay], [w])


def warmup_exponential_decay_schedule(
    init_value,
    peak_value,
    warmup_steps: int,
    transition_steps: int,
    decay_rate,
    transition_begin: int = 0,
    staircase: bool = False,
    end_value=None,
) -> Schedule:
    """``optax.warmup_exponential_decay_schedule``: linear warmup, then exponential_decay from the peak.

    With c = t - 1 and W = ``warmup_steps``: I + (P - I) c / W for c < W, then
    exponential_decay(P, ...) at count c - W (a W < 0 runs it from count -W on,
    as optax's join does).

    >>> s = lrsched.optax.warmup_exponential_decay_schedule(0.0, 1.0, 2, 1, 0.5)
    >>> s(1), s(2), s(3), s(4)
    (0.0, 0.5, 1.0, 0.5)
    """
    init, peak = v.real("init_value", init_value), v.real("peak_value", peak_value)
    w, steps = v.whole("warmup_steps", warmup_steps), v.whole("transition_steps", transition_steps)
    rate, begin = v.nonnegative("decay_rate", decay_rate), max(v.whole("transition_begin", transition_begin), 0)
    staircase, end = v.flag("staircase", staircase), v.optional_real("end_value", end_value)
    return _after_warmup(init, peak, w, _exponential(peak, steps, rate, begin, staircase, end))


def sgdr_schedule(cosine_kwargs) -> Schedule:
    """``optax.sgdr_schedule``: warmup_cosine_decay_schedule cycles, one after another.

    ``cosine_kwargs`` is a list of dicts of warmup_cosine_decay_schedule's
    arguments; cycle i runs for its ``decay_steps`` (warmup included), from
    the sum of the earlier ones on, at the count since then.

    >>> cycle = {"init_value": 0.0, "peak_value": 1.0, "warmup_steps": 1, "decay_steps": 3}
    >>> s = lrsched.optax.sgdr_schedule([cycle, cycle])
    >>> s(1), s(2), s(4), s(5)
    (0.0, 1.0, 0.0, 1.0)
    """
    if isinstance(cosine_kwargs, (str, bytes, dict)):
        raise TypeError(f"cosine_kwargs must be a list of dicts, got {v.show(cosine_kwargs)}")
    try:
        kwargs = list(cosine_kwargs)
    except TypeError:
        raise TypeError(f"cosine_kwargs must be a list of dicts, got {v.show(cosine_kwargs)}") from None
    if not kwargs:
        raise ValueError("cosine_kwargs must not be empty")
    schedules, bounds, step = [], [], 0
    for i, kw in enumerate(kwargs):
        schedules.append(_sgdr_cycle(i, kw, last=i == len(kwargs) - 1))
        step += int(kw["decay_steps"])  # checked by _sgdr_cycle: an integer
        if step > v.MAX_COUNT:
            raise ValueError(f"cosine_kwargs: the cycles' decay_steps add up to {step} by cycle {i}, past 2**53")
        bounds.append(step)
    return _join(schedules, bounds[:-1])


#: the parameters of warmup_cosine_decay_schedule, and which of them have defaults
_COSINE_KWARGS = ("init_value", "peak_value", "warmup_steps", "decay_steps", "end_value", "exponent")
_COSINE_DEFAULTS = {"end_value": 0.0, "exponent": 1.0}


def _sgdr_cycle(i: int, kw, last: bool) -> Schedule:
    """Cycle i of sgdr_schedule: ``cosine_kwargs[i]`` checked, as warmup_cosine_decay_schedule's arguments. Where
    the cycle is not the last, its decay_steps, the count from its start to the next one's, must be >= 0."""
    if not isinstance(kw, dict):
        raise TypeError(
            f"cosine_kwargs[{i}] must be a dict of warmup_cosine_decay_schedule's arguments, got {v.show(kw)}"
        )
    unknown = [k for k in kw if k not in _COSINE_KWARGS]
    if unknown:
        raise TypeError(f"cosine_kwargs[{i}] has {unknown[0]!r}, not an argument of warmup_cosine_decay_schedule")
    missing = [k for k in _COSINE_KWARGS if k not in kw and k not in _COSINE_DEFAULTS]
    if missing:
        raise TypeError(f"cosine_kwargs[{i}] lacks {missing[0]!r}, which warmup_cosine_decay_schedule needs")
    args = [kw.get(k, _COSINE_DEFAULTS.get(k)) for k in _COSINE_KWARGS]
    name = lambda p: f"cosine_kwargs[{i}][{p!r}]"  # noqa: E731
    if v.whole(name("decay_steps"), kw["decay_steps"]) < 0 and not last:
        raise ValueError(
            f"{name('decay_steps')} must be >= 0 (where cycle {i + 1} starts, after cycle {i}), "
            f"got {v.show(kw['decay_steps'])}"
        )
    return _warmup_cosine(*args, name=name)


def piecewise_interpolate_schedule(
    interpolate_type: str, init_value, boundaries_and_scales: dict | None = None
) -> Schedule:
    """``optax.piecewise_interpolate_schedule``: linear or cosine between the running
    products of the scales, boundary to boundary; the last value after.

    pct = (c - b_i) / max(b_{i+1} - b_i, 1) at c = t - 1, as optax computes it (to the bit).

    >>> s = lrsched.optax.piecewise_interpolate_schedule("linear", 1.0, {4: 0.1, 8: 0.01})
    >>> [round(s(t), 6) for t in (1, 3, 5, 7, 9, 11)]
    [1.0, 0.55, 0.1, 0.0505, 0.001, 0.001]
    """
    kind = v.choice("interpolate_type", interpolate_type, ("linear", "cosine"))
    items = _scales(boundaries_and_scales)
    init = v.real("init_value", init_value)
    return _interpolate(kind, init, items, {"init_value": init_value, "boundaries_and_scales": boundaries_and_scales})


def _interpolate(kind: str, init: float, items: list[tuple[int, float]], given: dict) -> Schedule:
    """piecewise_interpolate_schedule of checked arguments (``given``: the caller's, named should a value overflow)."""
    piece = Linear if kind == "linear" else Cosine
    bounds = [0] + [b for b, _ in items]
    values = [init]
    for b, scale in items:
        values.append(_times(values[-1], scale, b, given))
    phases: list[Schedule] = []
    joins: list[float] = []
    for i in range(len(bounds) - 1):
        lo, hi = bounds[i], bounds[i + 1]
        if hi <= lo or hi <= 0:  # no count falls in [lo, hi)
            continue
        shape = piece(values[i], values[i + 1], steps=1).stretch(max(hi - lo, 1))
        # counts in [lo, hi) are t in (lo, hi]; the first kept piece sees t itself
        phases.append(shape.shift(1) if phases else shape.shift(1 + lo))
        joins.append(hi)
    phases.append(Constant(values[-1]))
    return Join(phases, joins[: len(phases) - 1]) if joins else phases[0]


def _onecycle_start(transition_steps, peak_value, div_factor) -> tuple[int, float, float]:
    """The arguments the one-cycle schedules share, checked: transition_steps, peak_value / div_factor, div_factor."""
    steps = v.whole("transition_steps", transition_steps)
    if steps <= 0:
        raise ValueError(f"transition_steps must be > 0 (optax raises), got {v.show(transition_steps)}")
    peak, div = v.real("peak_value", peak_value), v.positive("div_factor", div_factor)
    start = peak / div
    if not math.isfinite(start):
        given = _given({"peak_value": peak_value, "div_factor": div_factor})
        raise ValueError(f"{given}: peak_value / div_factor (the initial value) is beyond the float range")
    return steps, start, div


def _reciprocal(x: float, what: str, given: dict) -> float:
    """1 / x, a scale of the one-cycle schedules, which must be finite (``what``: x in the arguments ``given``)."""
    r = math.inf if x == 0 else 1.0 / x
    if not math.isfinite(r):
        raise ValueError(f"{_given(given)}: 1 / ({what}) is beyond the float range")
    return r


def cosine_onecycle_schedule(
    transition_steps: int, peak_value, pct_start: float = 0.3, div_factor: float = 25.0, final_div_factor: float = 1e4
) -> Schedule:
    """``optax.cosine_onecycle_schedule``: piecewise_interpolate_schedule('cosine', ...), built as optax builds it:
    from peak / div_factor up to the peak at t - 1 = pct_start T, then down to peak / (div_factor final_div_factor)
    at t - 1 = T.

    >>> s = lrsched.optax.cosine_onecycle_schedule(10, 1.0, div_factor=10.0)
    >>> s(1), s(4), s(11)
    (0.1, 1.0, 1e-05)
    """
    steps, start, div = _onecycle_start(transition_steps, peak_value, div_factor)
    pct_start = v.fraction("pct_start", pct_start)
    final = v.positive("final_div_factor", final_div_factor)
    given = {"peak_value": peak_value, "div_factor": div_factor, "final_div_factor": final_div_factor}
    last = _reciprocal(div * final, "div_factor * final_div_factor", given)
    scales = {int(pct_start * steps): div, int(steps): last}
    return _interpolate("cosine", start, sorted(scales.items()), given)


def linear_onecycle_schedule(
    transition_steps: int,
    peak_value,
    pct_start: float = 0.3,
    pct_final: float = 0.85,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
) -> Schedule:
    """``optax.linear_onecycle_schedule``: three linear phases, built as optax builds them: from
    peak / div_factor up to the peak at t - 1 = pct_start T, back down at pct_final T, then to
    peak / (div_factor final_div_factor) at T.

    >>> s = lrsched.optax.linear_onecycle_schedule(10, 1.0, pct_start=0.2, pct_final=0.6, div_factor=10.0)
    >>> s(1), s(3), s(7), s(11)
    (0.1, 1.0, 0.1, 1e-05)
    """
    steps, start, div = _onecycle_start(transition_steps, peak_value, div_factor)
    pct_start, pct_final = v.fraction("pct_start", pct_start), v.fraction("pct_final", pct_final)
    final = v.positive("final_div_factor", final_div_factor)
    down = _reciprocal(div, "div_factor", {"div_factor": div_factor})
    last = _reciprocal(final, "final_div_factor", {"final_div_factor": final_div_factor})
    given = {"peak_value": peak_value, "div_factor": div_factor, "final_div_factor": final_div_factor}
    scales = {int(pct_start * steps): div, int(pct_final * steps): down, steps: last}
    return _interpolate("linear", start, sorted(scales.items()), given)
