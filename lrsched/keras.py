"""Keras: mirrors of ``keras.optimizers.schedules``, pure, :func:`schedule`, which hands any lrsched schedule
to a Keras optimizer, and :func:`find_lr`, the learning-rate range test on a compiled model (Keras is imported only
by these two).

Index convention: Keras calls a schedule with ``step`` = 0 for the first
update, so the value at t is Keras's at ``step = t - 1``. Values follow
Keras's float64 arithmetic (a float64 initial learning rate); Keras's usual
float32 differs by float32 rounding. Golden values: ``tests/golden/make_peers.py``.
"""

from __future__ import annotations

import math

import numpy as np

from . import _validate as v
from .combinators import Cycle, Function, Join
from .engine import cycle_start
from .lr_range import MIN_SCORE, LRSuggestion, RangeTest
from .primitives import Constant, Cosine, Exponential, InverseTime, Linear, Piecewise, Poly
from .schedule import Schedule

__all__ = [
    "CosineDecay",
    "CosineDecayRestarts",
    "ExponentialDecay",
    "InverseTimeDecay",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "schedule",
    "find_lr",
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
    staircase = v.flag("staircase", staircase)
    decay = Exponential(
        initial_learning_rate,
        v.positive("decay_rate", decay_rate),
        every=_steps("decay_steps", decay_steps),
        staircase=staircase,
    )
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
        raise ValueError(f"boundaries must be >= -1, got {list(bounds)}")
    return Piecewise([b + 1 for b in bounds], vals) if bounds else Constant(vals[0])


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
        return Constant((init - end) * 1.0 + end)
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
        return "lrsched.keras._KerasPolyCycle(init={}, end={}, steps={}, power={})".format(*self.args)


def InverseTimeDecay(initial_learning_rate, decay_steps, decay_rate, staircase: bool = False) -> Schedule:
    r"""``InverseTimeDecay``: :math:`I / (1 + r\, s / T)` (floor of s / T when staircase), s = t - 1.

    >>> lrsched.keras.InverseTimeDecay(1.0, 1, 1.0)(2)
    0.5
    """
    staircase = v.flag("staircase", staircase)
    decay = InverseTime(
        initial_learning_rate,
        rate=v.nonnegative("decay_rate", decay_rate),
        every=_steps("decay_steps", decay_steps),
        staircase=staircase,
    )
    return decay if staircase else decay.shift(1)


def CosineDecay(initial_learning_rate, decay_steps, alpha=0.0, warmup_target=None, warmup_steps=0) -> Schedule:
    r"""``CosineDecay``, with its optional linear warmup to ``warmup_target``.

    .. math::
        L\left((1 - \alpha)\,\tfrac{1}{2}\left(1 + \cos\left(\pi\, \tfrac{\min(s, T)}{T}\right)\right)
        + \alpha\right)

    where L is ``initial_learning_rate``, or ``warmup_target`` after a warmup
    of W steps (s counted from its end). In Keras's arithmetic order, to the bit.

    >>> s = lrsched.keras.CosineDecay(0.0, 4, warmup_target=1.0, warmup_steps=2)
    >>> s(1), s(2), s(3), s(7)
    (0.0, 0.5, 1.0, 0.0)
    """
    init, steps = v.real("initial_learning_rate", initial_learning_rate), _steps("decay_steps", decay_steps)
    unit = Cosine(1.0, v.real("alpha", alpha), steps=1).stretch(steps).shift(1)  # pi * (s / T)
    w = v.nonnegative("warmup_steps", warmup_steps)  # checked, used or not
    if warmup_target is None:
        return init * unit
    target = v.real("warmup_target", warmup_target)
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

    with f the fraction of the cycle done, counted from 0 at each restart.
    Cycle i starts at the first step where Keras's own arithmetic (its
    logarithm, in float64) puts it, so that the mirror restarts where Keras
    does even where a restart lands on a whole step and the logarithm rounds
    just below it; past 4,096 restarts or 2**31 steps the restarts are at
    the exact sums of the cycle lengths (a ``cycle``). With ``t_mul`` < 1 the
    cycles add up to T / (1 - t_mul) steps; Keras gives NaN after that, the
    mirror holds the end of the last cycle.

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
    pieces, bounds, u = [], [], 0
    for i in range(EXPLICIT_RESTARTS):
        end = cycle_start(i + 1, first, t_mul)  # the exact sum; Keras's restart is within a step or two of it
        try:
            length, peak = first * t_mul**i, init * ((1 - alpha) * m_mul**i + alpha)
        except OverflowError:
            length = peak = math.inf
        if not (0 < length < math.inf and math.isfinite(peak) and end < 2**31):
            pieces.append(wave.shift(-u))  # the rest at the exact sums (a cycle), on the global t
            bounds.append(float(u))
            break
        nxt = max(u, math.floor(end) - 2)
        while _keras_restart(nxt, first, t_mul) <= i and nxt <= end + 2:  # cycle i + 1's first step, by Keras
            nxt += 1
        if nxt > u:  # a cycle shorter than a step that Keras never reaches has no piece
            offset = (1.0 - t_mul**i) / (1.0 - t_mul) * first  # Keras's f = (step / T - sum_r) / t_mul**i
            piece = Cosine(peak, init * alpha, steps=length)
            pieces.append(piece.shift(offset + 1 - u))  # at t = u + x: Keras's step is u + x - 1
            bounds.append(float(u))
        if _keras_restart(nxt, first, t_mul) == math.inf:  # past every cycle (t_mul < 1): the last runs on
            break
        u = nxt
    return Join(pieces, bounds[1:]) if len(pieces) > 1 else pieces[0]


_KERAS_CLASS = None


def _keras_class():
    """The LearningRateSchedule subclass, made (and registered for saving) when Keras is first needed."""
    global _KERAS_CLASS
    if _KERAS_CLASS is not None:
        return _KERAS_CLASS
    import keras

    from .serialize import from_dict

    @keras.saving.register_keras_serializable(package="lrsched", name="Schedule")
    class KerasSchedule(keras.optimizers.schedules.LearningRateSchedule):
        """A lrsched schedule for Keras: step k (0 for the first update) gives s(k + 1); see :func:`schedule`."""

        def __init__(self, schedule, steps):
            super().__init__()
            self.schedule, self.steps, self._table = schedule, steps, None

        def __call__(self, step):
            if self._table is None:
                self._table = keras.ops.convert_to_tensor(self.schedule.values(self.steps), dtype="float32")
            if isinstance(step, (bool, np.bool_, str, bytes)) or step is None:
                raise TypeError(f"step must be an integer (the optimizer's iterations), got {v.show(step)}")
            if isinstance(step, (int, float, np.integer, np.floating)):  # a number from Python: checked, clamped
                if not (math.isfinite(step) and float(step).is_integer()):
                    raise ValueError(f"step must be a whole number, got {v.show(step)}")
                return keras.ops.take(self._table, min(max(int(step), 0), self.steps - 1))
            index = keras.ops.cast(keras.ops.clip(step, 0, self.steps - 1), "int32")  # clipped before narrowing
            return keras.ops.take(self._table, index)

        def get_config(self):
            return {"schedule": self.schedule.to_dict(), "steps": self.steps}

        @classmethod
        def from_config(cls, config):
            return cls(from_dict(config["schedule"]), int(config["steps"]))

        def __repr__(self):
            return f"lrsched.keras.schedule({self.schedule!r}, steps={self.steps})"

    _KERAS_CLASS = KerasSchedule
    return KerasSchedule


def schedule(s: Schedule, steps: int | None = None):
    r"""``s`` as a Keras 3 ``LearningRateSchedule`` (any backend): step k (0 for the first update) gives s(k + 1).

    A float32 table of s(1) .. s(steps), holding s(steps) past it; ``steps``
    defaults to where ``s`` settles (``s.length()``); a schedule that never
    settles needs it. ``get_config`` holds the lrsched config, and the class is
    registered, so ``model.save("m.keras")`` and ``keras.saving.load_model``
    keep the schedule.
    """
    if not isinstance(s, Schedule):
        raise TypeError(f"s must be an lrsched schedule, got {v.show(s)}")
    return _keras_class()(s, v.horizon(s, steps))


def find_lr(
    model,
    x,
    y=None,
    batch_size: int = 32,
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
    r"""The learning-rate range test on a compiled Keras 3 model; the model and its optimizer are then restored exactly.

    Update t (1 .. n, n = ``steps``) sets the optimizer's learning rate to

    .. math:: \eta(t) = s \left(\frac{e}{s}\right)^{(t - 1) / (n - 1)}

    (``ls.range_test(start, end, steps)``, s = ``start``, e = ``end``), trains on
    the next batch with ``model.train_on_batch`` and records that batch's loss
    (the loss before the update, as ``fit`` reports it, regularization included).
    The batches are ``x`` and ``y`` (arrays, or the lists and dicts of arrays
    ``fit`` takes) cut in order into ``batch_size`` rows, cycled; a remainder
    that fills no whole batch is left out, so that one compiled step serves
    every lr (shuffle x and y first if they are sorted). It stops once the loss
    is not finite or its smoothed value exceeds ``diverge`` times the best so
    far (the rule of ``lrsched.torch.find_lr``), so it makes at most n
    updates. The result is ``ls.suggest_lr`` of the record (``method``:
    ``"valley"``, ``"steepest"`` or ``"minimum"``; ``smooth``: the weight of
    each new loss; ``skip_start`` / ``skip_end``: points left out at either end
    of the curve; ``min_score``: the bar of a reliable descent, below which
    ``lr`` is None); ``.plot()`` draws it.

    The optimizer needs a float learning rate (a Keras variable, which the test
    sets): compile with a schedule only after the test. Afterwards every
    variable the training step touches is what it was, even if a step raised:
    the weights (trainable and not: batch-norm statistics), the dropout
    layers' seed states, the optimizer's variables (iterations, moments, the
    learning rate) and the compiled metrics. A model or an optimizer not yet
    built is built first (the optimizer's slots as its first ``fit`` would make
    them), so that ``fit`` then runs as it would have without the test.

    Example (skipped where Keras or its backend is not installed):
        >>> import pytest; keras = pytest.importorskip("keras")
        >>> x = np.random.default_rng(0).normal(size=(256, 4)).astype("float32")
        >>> y = x @ np.float32([[1], [-2], [0.5], [3]])
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
        >>> model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01), loss="mse")
        >>> before = model.get_weights()
        >>> r = lrsched.keras.find_lr(model, x, y)
        >>> r.method, len(r.lrs) < 100, all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
        ('valley', True, True)
        >>> float(model.optimizer.learning_rate) == float(np.float32(0.01))  # its lr and state back, too
        True
    """
    import keras

    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model, got {v.show(model)}")
    opt = getattr(model, "optimizer", None)
    if not getattr(model, "compiled", False) or opt is None:
        raise ValueError("model must be compiled with an optimizer and a loss: model.compile(optimizer, loss)")
    lr = opt.learning_rate
    if not isinstance(lr, keras.Variable):
        given = getattr(opt, "_learning_rate", lr)  # the schedule or callable itself, not its current value
        raise TypeError(
            f"model.optimizer's learning rate must be a float for the range test to set, got {v.show(given)}: "
            "compile with learning_rate=<float> for the test, and with the schedule after it"
        )
    run = RangeTest(start, end, steps, method, diverge, smooth, skip_start, skip_end, min_score)
    size = v.count("batch_size", batch_size)
    _fits(start, end, lr.dtype)
    rows = _rows(keras, "x", x)
    if y is not None and _rows(keras, "y", y) != rows:
        raise ValueError(f"x and y differ in length: {rows} rows of x, {_rows(keras, 'y', y)} of y")
    count = max(rows // size, 1)

    def batch(i):
        lo, hi = i * size, min((i + 1) * size, rows)
        cut = lambda a: a[lo:hi]  # noqa: E731
        return keras.tree.map_structure(cut, x), None if y is None else keras.tree.map_structure(cut, y)

    if hasattr(model, "_symbolic_build"):  # what train_on_batch does first: create every variable, untrained
        model._symbolic_build(data_batch=(*batch(0), None))
    elif not opt.built:
        opt.build(model.trainable_variables)
    sync = getattr(model, "jax_state_sync", None)  # JAX: the variables hold the latest values (as for a callback)
    if sync is not None:
        sync()
    state: dict[int, tuple] = {}  # id -> (variable, its value)
    for var in [*model.variables, *opt.variables, *model.metrics_variables]:
        state.setdefault(id(var), (var, np.array(keras.ops.convert_to_numpy(var), copy=True)))
    try:
        for t in range(1, run.steps + 1):
            lr.assign(run.lr(t))
            xb, yb = batch((t - 1) % count)
            logs = model.train_on_batch(xb, yb, return_dict=True)
            if run.record(run.lr(t), float(logs["loss"])):  # diverged: recorded (its update is undone with the rest)
                break
    finally:
        if getattr(model, "_jax_state", None) is not None:
            model._jax_state = None  # JAX: drop the train step's state, stale if a step raised (as fit does at its end)
        for var, value in state.values():
            var.assign(value)
    return run.suggestion()


def _fits(start, end, dtype) -> None:
    """Refuse a ramp whose ends the lr variable's float ``dtype`` cannot hold: inf, or 0, before any update."""
    finfo = np.finfo(dtype)
    if float(end) > float(finfo.max):
        raise ValueError(
            f"end={v.show(end)} overflows the learning rate's {np.dtype(dtype).name} "
            f"(at most {float(finfo.max):.4g}): lower end"
        )
    if float(start) < float(finfo.tiny):  # a subnormal: XLA on CPU flushes it to 0
        raise ValueError(
            f"start={v.show(start)} is below the smallest {np.dtype(dtype).name} learning rate "
            f"({float(finfo.tiny):.4g}; smaller ones flush to 0): raise start"
        )


def _rows(keras, name, data) -> int:
    """The number of rows of ``data`` (an array, or a list or dict of arrays of one length)."""
    leaves = keras.tree.flatten(data)
    if not leaves or not all(hasattr(a, "shape") and len(a.shape) >= 1 for a in leaves):
        raise TypeError(f"{name} must be an array (or a list or dict of arrays, as fit takes), got {v.show(data)}")
    rows = {int(a.shape[0]) for a in leaves}
    if len(rows) > 1:
        raise ValueError(f"the arrays of {name} differ in length: {sorted(rows)} rows")
    (n,) = rows
    if n == 0:
        raise ValueError(f"{name} has no rows")
    return n


v.name_arguments(globals(), __all__)  # not find_lr: it names its own, and passes the caller's errors on
