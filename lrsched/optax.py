"""optax: mirrors of ``optax.schedules``, pure, :func:`schedule`, which hands any lrsched schedule to optax, and
:func:`find_lr`, the learning-rate range test on a JAX loss.

Nothing here imports JAX until :func:`schedule`'s result or :func:`find_lr` is called.

Index convention: optax's ``count`` = 0 is the first update, so the value at t
is optax's at ``count = t - 1``. Values follow optax's float64 arithmetic
(``jax_enable_x64``); optax's default float32 differs from them by float32
rounding (about 1e-7 relative). Golden values: ``tests/golden/make_peers.py``.
"""

from __future__ import annotations

import inspect
import math

import numpy as np

from . import _validate as v
from .combinators import Join
from .lr_range import MIN_SCORE, Batches, LRSuggestion, RangeTest
from .primitives import Constant, Cosine, Exponential, Linear, Piecewise, Poly
from .schedule import Schedule

__all__ = [
    "OptaxSchedule",
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
    "schedule",
    "sgdr_schedule",
    "warmup_constant_schedule",
    "warmup_cosine_decay_schedule",
    "warmup_exponential_decay_schedule",
    "find_lr",
]


class OptaxSchedule:
    """An optax schedule (``count -> value``) that follows an lrsched schedule; see :func:`schedule`.

    Unlike an optax closure it prints, compares and pickles (as its schedule and horizon).
    """

    __slots__ = ("__weakref__", "_tables", "schedule", "steps")  # jax.jit keeps a weak reference

    def __init__(self, schedule: Schedule, steps: int):
        self.schedule, self.steps, self._tables = schedule, steps, {}

    def __call__(self, count):
        import jax
        import jax.numpy as jnp

        x64 = bool(jax.config.jax_enable_x64)
        table = self._tables.get(x64)
        if table is None:  # the exact values over the horizon, made once (float64 under x64, else float32)
            table = self._tables[x64] = jnp.asarray(self.schedule.values(self.steps))
        if isinstance(count, (bool, np.bool_, str, bytes)) or count is None:
            raise TypeError(f"count must be an integer (optax's step count), got {v.show(count)}")
        if isinstance(count, (int, float, np.integer, np.floating)):  # a number from Python: checked, clamped here
            if not (math.isfinite(count) and float(count).is_integer()):
                raise ValueError(f"count must be a whole number, got {v.show(count)}")
            return table[min(max(int(count), 0), self.steps - 1)]
        return table[jnp.clip(jnp.asarray(count), 0, self.steps - 1)]

    def __repr__(self) -> str:
        return f"lrsched.optax.schedule({self.schedule!r}, steps={self.steps})"

    def __eq__(self, other):
        if not isinstance(other, OptaxSchedule):
            return NotImplemented
        return self.schedule == other.schedule and self.steps == other.steps

    def __hash__(self):
        return hash((self.schedule, self.steps))

    def __reduce__(self):
        return (OptaxSchedule, (self.schedule, self.steps))


def schedule(s: Schedule, steps: int | None = None) -> OptaxSchedule:
    r"""``s`` as an optax schedule: optax's count c (0 for the first update) gives s(c + 1).

    It works under ``jax.jit``, in ``optax.inject_hyperparams`` and as any
    optax optimizer's ``learning_rate``: a table of s(1) .. s(steps), exact
    (float64 with ``jax_enable_x64``, else rounded to float32 as optax's own
    schedules are), holding s(steps) past the horizon. ``steps`` defaults to
    where ``s`` settles (``s.length()``); a schedule that never settles needs it.

    Example:
        >>> import jax
        >>> lr = lrsched.optax.schedule(ls.warmup(ls.cosine(0.1, 0.0, steps=90), steps=10))
        >>> float(jax.jit(lr)(0)) == float(jax.numpy.float32(0.01))
        True
    """
    if not isinstance(s, Schedule):
        raise TypeError(f"s must be an lrsched schedule, got {v.show(s)}")
    return OptaxSchedule(s, v.horizon(s, steps))


def constant_schedule(value: float) -> Schedule:
    """``optax.constant_schedule``: the value at every count."""
    return Constant(value)


def polynomial_schedule(init_value, end_value, power, transition_steps: int, transition_begin: int = 0) -> Schedule:
    r"""``optax.polynomial_schedule``: with c = clip(count - B, 0, T),

    .. math:: (I - E)\,(1 - c / T)^{P} + E

    T <= 0 holds ``init_value`` (as optax does); a negative B counts as 0.

    >>> s = lrsched.optax.polynomial_schedule(1.0, 0.0, 2, transition_steps=4)
    >>> s(1), s(3), s(5)
    (1.0, 0.25, 0.0)
    """
    steps, begin = v.whole("transition_steps", transition_steps), max(v.whole("transition_begin", transition_begin), 0)
    init, end = v.real("init_value", init_value), v.real("end_value", end_value)
    power = v.nonnegative("power", power)
    if steps <= 0:
        return Constant(init)
    if power == 0:
        return Constant((init - end) * 1.0 + end)
    return Poly(init, end, steps=steps, power=power).shift(1 + begin)


def linear_schedule(init_value, end_value, transition_steps: int, transition_begin: int = 0) -> Schedule:
    """``optax.linear_schedule``: polynomial_schedule with power 1 (so the same arithmetic)."""
    return polynomial_schedule(init_value, end_value, 1, transition_steps, transition_begin)


def piecewise_constant_schedule(init_value, boundaries_and_scales: dict | None = None) -> Schedule:
    """``optax.piecewise_constant_schedule``: multiply by each scale once count >= its boundary.

    At count == boundary the new value already applies (unlike Keras): in t, after t = boundary.

    >>> s = lrsched.optax.piecewise_constant_schedule(1.0, {2: 0.5})
    >>> s(2), s(3)
    (1.0, 0.5)
    """
    value = v.real("init_value", init_value)
    bounds, values = [], [value]
    if boundaries_and_scales is not None and not isinstance(boundaries_and_scales, dict):
        raise TypeError(
            f"boundaries_and_scales must be a dict {{step: scale}} or None, got {v.show(boundaries_and_scales)}"
        )
    for b, scale in sorted((boundaries_and_scales or {}).items()):
        b, scale = v.whole("boundary", b), v.nonnegative(f"scale at {b}", scale)
        value = scale * value
        if b < 0:  # already passed at the first update
            values[-1] = value
        else:
            bounds.append(b)
            values.append(value)
    return Piecewise(bounds, values) if bounds else Constant(values[0])


def exponential_decay(
    init_value, transition_steps: int, decay_rate, transition_begin: int = 0, staircase: bool = False, end_value=None
) -> Schedule:
    r"""``optax.exponential_decay``: with d = count - B,

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
    end = None if end_value is None else v.real("end_value", end_value)
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
    r"""``optax.cosine_decay_schedule``:

    .. math:: I\left((1 - \alpha)\left(\tfrac{1}{2}(1 + \cos(\pi \min(c, T) / T))\right)^{p} + \alpha\right)

    in optax's own arithmetic order (to the bit in float64).

    >>> s = lrsched.optax.cosine_decay_schedule(1.0, 4)
    >>> s(1), s(3), s(9)
    (1.0, 0.5, 0.0)
    """
    steps = v.whole("decay_steps", decay_steps)
    if steps <= 0:
        raise ValueError(f"decay_steps must be > 0 (optax raises), got {steps}")
    shape = Cosine(1.0, v.real("alpha", alpha), steps=steps, exponent=v.positive("exponent", exponent))
    return v.real("init_value", init_value) * shape.shift(1)


def join_schedules(schedules, boundaries) -> Schedule:
    """``optax.join_schedules``: schedule i from count b_i on, at count - b_i.

    That is ``join(schedules, boundaries)`` of lrsched mirrors. A boundary of 0
    (or a repeated one) skips the schedules before it, as optax does.
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
    keep, kept = [schedules[0]], []
    for b, s in zip(bounds, schedules[1:]):
        if b == (kept[-1] if kept else 0):
            keep[-1] = s
        else:
            kept.append(b)
            keep.append(s)
    return Join(keep, kept) if kept else keep[0]


def warmup_constant_schedule(init_value, peak_value, warmup_steps: int) -> Schedule:
    """``optax.warmup_constant_schedule``: linear_schedule(init, peak, warmup_steps)."""
    return linear_schedule(init_value, peak_value, warmup_steps)


def warmup_cosine_decay_schedule(
    init_value, peak_value, warmup_steps: int, decay_steps: int, end_value=0.0, exponent=1.0
) -> Schedule:
    """``optax.warmup_cosine_decay_schedule``: linear warmup, then cosine decay to
    ``end_value``; ``decay_steps`` includes the warmup (optax's convention).

    >>> s = lrsched.optax.warmup_cosine_decay_schedule(0.0, 1.0, 2, 6)
    >>> s(1), s(3), s(7)
    (0.0, 1.0, 0.0)
    """
    peak = v.real("peak_value", peak_value)
    alpha = 0.0 if peak == 0.0 else v.real("end_value", end_value) / peak
    w = v.whole("warmup_steps", warmup_steps)
    cos = cosine_decay_schedule(peak, v.whole("decay_steps", decay_steps) - w, alpha, exponent)
    if w <= 0:
        return cos
    return join_schedules([linear_schedule(init_value, peak, w), cos], [w])


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
    """``optax.warmup_exponential_decay_schedule``: linear warmup, then exponential_decay from the peak."""
    w = v.whole("warmup_steps", warmup_steps)
    decay = exponential_decay(peak_value, transition_steps, decay_rate, transition_begin, staircase, end_value)
    if w <= 0:
        return decay
    return join_schedules([linear_schedule(init_value, peak_value, w), decay], [w])


def sgdr_schedule(cosine_kwargs) -> Schedule:
    """``optax.sgdr_schedule``: warmup_cosine_decay_schedule cycles, one after another."""
    kwargs = list(cosine_kwargs)
    if not kwargs:
        raise ValueError("cosine_kwargs must not be empty")
    schedules, bounds, step = [], [], 0
    for kw in kwargs:
        schedules.append(warmup_cosine_decay_schedule(**kw))
        step += v.whole("decay_steps", kw["decay_steps"])
        bounds.append(step)
    return join_schedules(schedules, bounds[:-1])


def piecewise_interpolate_schedule(
    interpolate_type: str, init_value, boundaries_and_scales: dict | None = None
) -> Schedule:
    """``optax.piecewise_interpolate_schedule``: linear or cosine between the running
    products of the scales, boundary to boundary; the last value after.

    pct = (count - b_i) / max(b_{i+1} - b_i, 1), as optax computes it (to the bit).

    >>> s = lrsched.optax.piecewise_interpolate_schedule("linear", 1.0, {4: 0.1, 8: 0.01})
    >>> [round(s(t), 6) for t in (1, 3, 5, 7, 9, 11)]
    [1.0, 0.55, 0.1, 0.0505, 0.001, 0.001]
    """
    kind = v.choice("interpolate_type", interpolate_type, ("linear", "cosine"))
    piece = Linear if kind == "linear" else Cosine
    if boundaries_and_scales is not None and not isinstance(boundaries_and_scales, dict):
        raise TypeError(
            f"boundaries_and_scales must be a dict {{step: scale}} or None, got {v.show(boundaries_and_scales)}"
        )
    items = sorted((boundaries_and_scales or {}).items())
    bounds = [0] + [v.whole("boundary", b) for b, _ in items]
    values = [v.real("init_value", init_value)]
    for b, scale in items:
        values.append(values[-1] * v.nonnegative(f"scale at {b}", scale))
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


def cosine_onecycle_schedule(
    transition_steps: int, peak_value, pct_start: float = 0.3, div_factor: float = 25.0, final_div_factor: float = 1e4
) -> Schedule:
    """``optax.cosine_onecycle_schedule``: piecewise_interpolate_schedule('cosine', ...), built as optax builds it."""
    steps = v.whole("transition_steps", transition_steps)
    if steps <= 0:
        raise ValueError(f"transition_steps must be > 0, got {steps}")
    peak_value, pct_start = v.real("peak_value", peak_value), v.fraction("pct_start", pct_start)
    div_factor = v.positive("div_factor", div_factor)
    final_div_factor = v.positive("final_div_factor", final_div_factor)
    return piecewise_interpolate_schedule(
        "cosine",
        peak_value / div_factor,
        {int(pct_start * steps): div_factor, int(steps): 1.0 / (div_factor * final_div_factor)},
    )


def linear_onecycle_schedule(
    transition_steps: int,
    peak_value,
    pct_start: float = 0.3,
    pct_final: float = 0.85,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
) -> Schedule:
    """``optax.linear_onecycle_schedule``: three linear phases, built as optax builds them."""
    steps = v.whole("transition_steps", transition_steps)
    if steps <= 0:
        raise ValueError(f"transition_steps must be > 0, got {steps}")
    peak_value, pct_start = v.real("peak_value", peak_value), v.fraction("pct_start", pct_start)
    pct_final = v.fraction("pct_final", pct_final)
    div_factor = v.positive("div_factor", div_factor)
    final_div_factor = v.positive("final_div_factor", final_div_factor)
    return piecewise_interpolate_schedule(
        "linear",
        peak_value / div_factor,
        {int(pct_start * steps): div_factor, int(pct_final * steps): 1.0 / div_factor, steps: 1.0 / final_div_factor},
    )


def find_lr(
    loss_fn,
    params,
    optimizer,
    batches,
    start: float = 1e-7,
    end: float = 10.0,
    steps: int = 100,
    method: str = "valley",
    diverge: float = 5.0,
    smooth: float = 0.05,
    skip_start: int = 0,
    skip_end: int = 0,
    min_score: float = MIN_SCORE,
) -> LRSuggestion:
    r"""The learning-rate range test on a JAX loss: raise the lr update by update, then suggest one.

    Update t (1 .. n, n = ``steps``) takes the next batch (cycling through
    ``batches``, any iterable of what ``loss_fn(params, batch)`` takes; a
    one-shot iterator is remembered as it is read), records the loss at the
    current params and updates them with the lr

    .. math:: \eta(t) = s \left(\frac{e}{s}\right)^{(t - 1) / (n - 1)}

    (``ls.range_test(start, end, steps)``, s = ``start``, e = ``end``). It stops
    once the loss is not finite or its smoothed value exceeds ``diverge`` times
    the best so far (the rule of ``lrsched.torch.find_lr``; that point is
    recorded, its update dropped), so it makes at most n updates. The result is
    ``ls.suggest_lr`` of the record (``method``: ``"valley"``, ``"steepest"`` or
    ``"minimum"``; ``smooth``: the weight of each new loss; ``skip_start`` /
    ``skip_end``: points left out at either end of the curve; ``min_score``:
    the bar of a reliable descent, below which ``lr`` is None); ``.plot()`` draws it.

    ``optimizer`` is an optax constructor that takes the lr as its parameter
    ``learning_rate`` or, lacking one, as its first argument: ``optax.sgd``,
    ``optax.adamw``, ``functools.partial(optax.sgd, momentum=0.9)``, ``lambda lr:
    optax.chain(optax.clip(1.0), optax.adam(lr))``. It is built once, under
    ``optax.inject_hyperparams`` with the ramp as its lr schedule
    (``lrsched.optax.schedule``), so that one jitted step (value and gradient
    of ``loss_fn``, optimizer update) serves every lr: nothing recompiles per lr.
    The lr is held in the params' dtype (optax's rule): the ramp must fit in it.
    ``loss_fn`` must return a real scalar; its batches should keep one shape
    (a new shape compiles the step again).

    Nothing needs restoring: ``params`` is a pytree of immutable arrays that the
    test reads and never changes (it is not donated), and the optimizer is made
    fresh, so the training that follows starts from the same params and a new
    ``optimizer(lr).init(params)``. Randomness inside ``loss_fn`` is the caller's
    (a key in the batch).

    Example (skipped where optax is not installed):
        >>> import pytest; optax = pytest.importorskip("optax")
        >>> import jax.numpy as jnp
        >>> x = np.random.default_rng(0).normal(size=(256, 4)).astype(np.float32)
        >>> batches = [(x[i : i + 32], x[i : i + 32] @ np.float32([1, -2, 0.5, 3])) for i in range(0, 256, 32)]
        >>> def loss_fn(params, batch):
        ...     inputs, targets = batch
        ...     return jnp.mean((inputs @ params["w"] + params["b"] - targets) ** 2)
        >>> params = {"w": jnp.zeros(4), "b": jnp.zeros(())}
        >>> r = lrsched.optax.find_lr(loss_fn, params, optax.sgd, batches)
        >>> r.method, len(r.lrs) < 100, r.diverged_at == len(r.lrs) - 1  # plain SGD diverges on the way to 10
        ('valley', True, True)
        >>> tx = optax.sgd(lrsched.optax.schedule(ls.one_cycle(10 * r.lr, steps=1000)))  # or a constant r.lr
    """
    import jax
    import jax.numpy as jnp
    import optax

    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable (params, batch) -> scalar loss, got {v.show(loss_fn)}")
    if isinstance(optimizer, optax.GradientTransformation) or not callable(optimizer):
        raise TypeError(
            "optimizer must be an optax constructor taking the learning rate (optax.adam, not optax.adam(1e-3); "
            f"or functools.partial(optax.sgd, momentum=0.9)), got {v.show(optimizer)}"
        )
    run = RangeTest(start, end, steps, method, diverge, smooth, skip_start, skip_end, min_score)
    ramp, n = run.lr, run.steps
    leaves = jax.tree_util.tree_leaves(params)
    if not leaves:
        raise ValueError(f"params must hold at least one array to train, got {v.show(params)}")
    for path, leaf in jax.tree_util.tree_leaves_with_path(params):
        if not jnp.issubdtype(jnp.result_type(leaf), jnp.inexact):
            where = jax.tree_util.keystr(path) or ""
            raise TypeError(f"params{where} must be a float array (it is differentiated), got {v.show(leaf)}")
    _fits("start", start, "end", end, optax.tree.dtype(params, "highest"))
    make, static = _lr_constructor(optimizer)
    try:
        probe = make(optimizer, float(ramp(1)))
    except TypeError as e:
        raise TypeError(f"optimizer must take the learning rate as its first argument or as learning_rate: {e}") from e
    if not isinstance(probe, optax.GradientTransformation):
        raise TypeError(f"optimizer(learning_rate) must return an optax GradientTransformation, got {v.show(probe)}")
    feed = Batches(batches)

    batch = feed.next()
    out = jax.eval_shape(loss_fn, params, batch)  # traced, not run: the shape of the loss before any update
    if not (isinstance(out, jax.ShapeDtypeStruct) and out.shape == () and jnp.issubdtype(out.dtype, jnp.floating)):
        got = f"an array of shape {out.shape} and dtype {out.dtype}" if hasattr(out, "shape") else v.show(out)
        raise ValueError(f"loss_fn must return a real scalar loss (shape ()), got {got}")

    tx = make(optax.inject_hyperparams(optimizer, static), schedule(ramp, n))  # lr(count) = ramp(count + 1)

    @jax.jit
    def update(params, state, batch):
        loss, grads = jax.value_and_grad(loss_fn)(params, batch)
        updates, state = tx.update(grads, state, params)
        return loss, optax.apply_updates(params, updates), state

    state = tx.init(params)
    for t in range(1, n + 1):
        if t > 1:
            batch = feed.next()
        loss, new_params, new_state = update(params, state, batch)
        if run.record(ramp(t), float(loss)):  # diverged: recorded, its update dropped
            break
        params, state = new_params, new_state
    return run.suggestion()


def _fits(start_name, start, end_name, end, dtype) -> None:
    """Refuse a ramp whose ends the lr's float ``dtype`` cannot hold: inf, or 0, before any update."""
    import jax.numpy as jnp

    finfo, name = jnp.finfo(dtype), jnp.dtype(dtype).name
    if float(end) > float(finfo.max):
        raise ValueError(
            f"{end_name}={v.show(end)} overflows the learning rate's {name} (at most {float(finfo.max):.4g}): "
            f"lower {end_name}"
        )
    if float(start) < float(finfo.tiny):  # a subnormal: XLA on CPU flushes it to 0
        raise ValueError(
            f"{start_name}={v.show(start)} is below the smallest {name} learning rate "
            f"({float(finfo.tiny):.4g}; smaller ones flush to 0): raise {start_name}"
        )


def _lr_constructor(optimizer):
    """How to hand ``optimizer`` its lr, and which of its other parameters are bound to callables.

    ``make(factory, lr)`` calls ``factory(learning_rate=lr)`` or ``factory(lr)``;
    ``static`` names the parameters bound to callables (a partial's
    ``mask=fn``), which ``optax.inject_hyperparams`` must not take for schedules.
    """
    try:
        params = inspect.signature(optimizer).parameters
    except (TypeError, ValueError):  # no signature to read: positionally (inject_hyperparams will need one)
        params = {}
    positional = [n for n, p in params.items() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if "learning_rate" in params:
        name, make = "learning_rate", lambda factory, lr: factory(learning_rate=lr)
    elif positional or not params or any(p.kind == p.VAR_POSITIONAL for p in params.values()):
        name, make = (positional or [None])[0], lambda factory, lr: factory(lr)
    else:
        raise TypeError(
            f"optimizer must take the learning rate as its first argument or as learning_rate, "
            f"got {v.show(optimizer)} with parameters ({', '.join(params)})"
        )
    static = tuple(n for n, p in params.items() if n != name and p.default is not p.empty and callable(p.default))
    return make, static



v.name_arguments(globals(), __all__)  # not find_lr: it names its own, and passes the caller's errors on
