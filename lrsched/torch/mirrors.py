"""Mirrors of ``torch.optim.lr_scheduler``: plain schedules, no torch needed.

Each mirror's value at t is what torch applies at the t-th
``optimizer.step()`` in the canonical loop (``optimizer.step();
scheduler.step()``); torch's own counter is ``last_epoch`` e = t - 1, and
each docstring gives its formula in e. Where torch updates the lr by
multiplying the previous one (its "chained" form: StepLR, ExponentialLR,
LinearLR, PolynomialLR, CosineAnnealingLR, MultiplicativeLR,
ChainedScheduler), the mirror follows torch's closed form, which that loop
approximates up to rounding drift.

The momentum mirrors (:func:`one_cycle_momentum`, :func:`cyclic_momentum`)
give the momentum (or Adam's beta1) that OneCycleLR and CyclicLR cycle by
default; hand them to :func:`lrsched.torch.scheduler` with the lr mirror.
The migration table (torch class -> lrsched call) is in docs/migration.md.

Each mirror checks every one of its arguments, used or not, before it
builds anything, and a bad one gets a TypeError or ValueError naming that
argument and its value (``gamma must be > 0, got -1``); what a mirror
derives from them (``max_lr / div_factor``) is checked too, naming the
arguments it comes from.
"""

from __future__ import annotations

import math
from collections import Counter

from .. import _validate as v
from ..algebra import Function
from ..combinators import Cycle, Join
from ..plateau import Plateau
from ..primitives import Constant, Cosine, Exponential, Linear, Piecewise, Poly, Step
from ..recipes import one_cycle_levels
from ..schedule import Schedule, as_schedule

__all__ = [
    "chained_scheduler",
    "constant_lr",
    "cosine_annealing_lr",
    "cosine_annealing_warm_restarts",
    "cyclic_lr",
    "cyclic_momentum",
    "exponential_lr",
    "linear_lr",
    "multi_step_lr",
    "multiplicative_lr",
    "one_cycle_lr",
    "one_cycle_momentum",
    "polynomial_lr",
    "reduce_lr_on_plateau",
    "sequential_lr",
    "step_lr",
]


def step_lr(base_lr: float, step_size: int, gamma: float = 0.1) -> Schedule:
    r"""torch ``StepLR``: :math:`b\,\gamma^{\lfloor e / s \rfloor}`, read at e = t - 1.

    That is ``step(b, every=s, factor=gamma)``. torch's loop multiplies the lr
    by gamma at each drop; the mirror computes the power (drift: a few ulps).
    ``base_lr`` must be >= 0 (torch's optimizers refuse a negative lr) and
    ``gamma`` > 0.

    Example:
        >>> s = lrsched.torch.step_lr(0.1, step_size=30)
        >>> s(30), round(s(31), 15)
        (0.1, 0.01)
    """
    b = v.nonnegative("base_lr", base_lr)
    every = v.whole("step_size", step_size, 1)
    return Step(b, every=every, factor=v.positive("gamma", gamma))


def multi_step_lr(base_lr: float, milestones, gamma: float = 0.1) -> Schedule:
    r"""torch ``MultiStepLR``: multiply by gamma at each milestone epoch.

    .. math:: \eta(t) = b\, \gamma^{\#\{m \in M : m \le e\}}, \qquad e = t - 1

    Milestones may repeat (the decay applies once per repeat) and come in any
    order, as in torch. The values are torch's own chained products (the
    lr multiplied by gamma**count at each milestone), so they agree to the bit.

    Example:
        >>> s = lrsched.torch.multi_step_lr(1.0, [2, 4, 4], gamma=0.5)
        >>> [s(t) for t in (1, 2, 3, 4, 5)]
        [1.0, 1.0, 0.5, 0.5, 0.125]
    """
    lr = v.real("base_lr", base_lr)
    counts = Counter(v.whole(f"milestones[{i}]", m, 0) for i, m in enumerate(v.items("milestones", milestones)))
    gamma = v.nonnegative("gamma", gamma)  # torch takes any number; 0 drops the lr to 0, a negative lr is refused
    bounds, values = [], [lr]
    for m in sorted(counts):
        lr = v.computed(f"the lr after milestone {m}", lr * v.power(gamma, counts[m]), gamma=gamma, base_lr=base_lr)
        bounds.append(m)
        values.append(lr)
    return Piecewise(bounds, values)


def constant_lr(base_lr: float, factor: float = 1.0 / 3, total_iters: int = 5) -> Schedule:
    r"""torch ``ConstantLR``: :math:`b f` for the first ``total_iters`` updates, then b.

    torch's loop multiplies by f at e = 0 and by 1/f at e = total_iters; the
    mirror uses those same products. With ``total_iters=0`` torch never
    undoes the factor (the lr stays b f: arguably a bug, mirrored).

    Example:
        >>> s = lrsched.torch.constant_lr(0.3, factor=0.5, total_iters=2)
        >>> s(1), s(2), s(3)
        (0.15, 0.15, 0.3)
    """
    b = v.real("base_lr", base_lr)
    f = v.interval("factor", factor, 0, 1, low_open=True)  # torch divides by it at total_iters
    total = v.whole("total_iters", total_iters, 0)
    low = b * f
    if total == 0:
        return Constant(low)
    back = v.computed("base_lr * factor * (1 / factor)", low * (1.0 / f), factor=factor, base_lr=base_lr)
    return Join([Constant(low), Constant(back)], [total])


def linear_lr(base_lr: float, start_factor: float = 1.0 / 3, end_factor: float = 1.0, total_iters: int = 5) -> Schedule:
    r"""torch ``LinearLR``: the factor goes linearly from start to end over ``total_iters``.

    .. math:: \eta(t) = b \left(f_0 + \frac{(f_1 - f_0)\min(e, T)}{T}\right), \qquad e = t - 1

    torch's closed form, to the bit (its loop multiplies ratios: drift of a
    few ulps). With ``total_iters=0`` torch's loop keeps b f_0 for ever (its
    closed form divides by zero); mirrored.

    Example:
        >>> s = lrsched.torch.linear_lr(1.0, start_factor=0.5, total_iters=2)
        >>> s(1), s(2), s(3), s(4)
        (0.5, 0.75, 1.0, 1.0)
    """
    b = v.real("base_lr", base_lr)
    f0 = v.interval("start_factor", start_factor, 0, 1, low_open=True)
    f1 = v.interval("end_factor", end_factor, 0, 1)
    total = v.whole("total_iters", total_iters, 0)
    if total == 0:
        return Constant(b * f0)
    return b * Linear(f0, f1, total).shift(1)


def exponential_lr(base_lr: float, gamma: float) -> Schedule:
    r"""torch ``ExponentialLR``: :math:`b\,\gamma^{e}`, e = t - 1 (closed form; the loop drifts).

    Example:
        >>> lrsched.torch.exponential_lr(1.0, gamma=0.5)(3)
        0.25
    """
    return Exponential(v.real("base_lr", base_lr), v.positive("gamma", gamma)).shift(1)


def polynomial_lr(base_lr: float, total_iters: int = 5, power: float = 1.0) -> Schedule:
    r"""torch ``PolynomialLR``: :math:`b\,(1 - \min(e, T)/T)^{p}`, e = t - 1 (closed form).

    Example:
        >>> s = lrsched.torch.polynomial_lr(1.0, total_iters=4, power=2.0)
        >>> s(1), s(3), s(5), s(9)
        (1.0, 0.25, 0.0, 0.0)
    """
    b = v.real("base_lr", base_lr)
    total = v.whole("total_iters", total_iters, 1)
    p = v.nonnegative("power", power)
    if p == 0:
        return Constant(b)
    return Poly(b, 0.0, steps=total, power=p).shift(1)


def cosine_annealing_lr(base_lr: float, T_max: int, eta_min: float = 0.0) -> Schedule:
    r"""torch ``CosineAnnealingLR``, including what it does past ``T_max``.

    .. math:: \eta(t) = \eta_{\min} + \frac{(b - \eta_{\min})(1 + \cos(\pi e / T_{max}))}{2}, \qquad e = t - 1

    for every e: past T_max torch's lr rises back to b at 2 T_max and keeps
    cycling (``cosine(..., periodic=True)``). The closed form to the bit; torch's
    loop updates by ratios and drifts by a few ulps.

    Example:
        >>> s = lrsched.torch.cosine_annealing_lr(1.0, T_max=2)
        >>> s(1), s(2), s(3), s(5)
        (1.0, 0.5, 0.0, 1.0)
    """
    b, low = v.real("base_lr", base_lr), v.real("eta_min", eta_min)
    T = v.whole("T_max", T_max, 1)
    return Cosine(b, low, steps=T, periodic=True).shift(1)


def cosine_annealing_warm_restarts(base_lr: float, T_0: int, T_mult: int = 1, eta_min: float = 0.0) -> Schedule:
    r"""torch ``CosineAnnealingWarmRestarts`` (SGDR).

    .. math:: \eta(t) = \eta_{\min} + \frac{(b - \eta_{\min})(1 + \cos(\pi T_{cur} / T_i))}{2}

    where cycle i lasts :math:`T_i = T_0 T_{mult}^i` updates and :math:`T_{cur}`
    counts from 0 at each restart (torch's clock, epoch = t - 1: the first
    update of a cycle gets b; fractional epochs as torch's ``step(epoch)``).
    It is a zero-based ``cycle``: to the bit for T_mult = 1 and 2 (powers of
    two rescale the clock exactly), within 3e-16 of ``base_lr`` otherwise.

    Example:
        >>> s = lrsched.torch.cosine_annealing_warm_restarts(1.0, T_0=2, T_mult=2)
        >>> [s(t) for t in (1, 2, 3, 4, 5, 6, 7)]
        [1.0, 0.5, 1.0, 0.8535533905932737, 0.5, 0.14644660940672627, 1.0]
    """
    b, low = v.real("base_lr", base_lr), v.real("eta_min", eta_min)
    t0 = v.whole("T_0", T_0, 1)
    mult = v.whole("T_mult", T_mult, 1)
    return Cycle(Cosine(b, low, steps=t0), t0, mult, zero_based=True)


def cyclic_lr(
    base_lr: float,
    max_lr: float,
    step_size_up: float = 2000,
    step_size_down: float | None = None,
    mode: str = "triangular",
    gamma: float = 1.0,
    scale_fn=None,
    scale_mode: str = "cycle",
) -> Schedule:
    r"""torch ``CyclicLR`` (triangular, triangular2, exp_range, or a custom scale_fn).

    .. math:: \eta(t) = b + (m - b)\,\mathrm{tri}(e)\,\mathrm{scale}, \qquad e = t - 1

    where tri rises linearly from 0 to 1 over ``step_size_up`` and falls back
    over ``step_size_down`` in every cycle; scale is 1 (triangular),
    :math:`2^{-(c-1)}` in cycle c (triangular2) or :math:`\gamma^{e}` (exp_range).
    torch also cycles the momentum by default: :func:`cyclic_momentum`
    gives it. A custom ``scale_fn`` is wrapped as
    ``function`` (slow, not serializable). Agrees with torch to about 1e-15 of
    the amplitude (torch computes the cycle position from e / cycle length).

    Example:
        >>> s = lrsched.torch.cyclic_lr(0.1, 1.0, step_size_up=2, mode="triangular2")
        >>> [round(s(t), 12) for t in range(1, 10)]
        [0.1, 0.55, 1.0, 0.55, 0.1, 0.325, 0.55, 0.325, 0.1]
    """
    b = v.real("base_lr", base_lr)
    top = v.real("max_lr", max_lr)
    amplitude = v.computed("max_lr - base_lr", top - b, max_lr=max_lr, base_lr=base_lr)
    wave = _cyclic_wave(step_size_up, step_size_down, mode, gamma, scale_fn, scale_mode)
    return b + amplitude * wave


def _cyclic_wave(step_size_up, step_size_down, mode, gamma, scale_fn, scale_mode) -> Schedule:
    """CyclicLR's tri(e) * scale, from 0 to 1 and back (each argument checked, used or not)."""
    up = v.positive("step_size_up", step_size_up)
    down = up if step_size_down is None else v.positive("step_size_down", step_size_down)
    mode = v.choice("mode", mode, ("triangular", "triangular2", "exp_range"))
    gamma = v.positive("gamma", gamma)  # checked in every mode, as torch stores it
    if scale_fn is not None and not callable(scale_fn):
        raise TypeError(f"scale_fn must be callable (or None), got {v.show(scale_fn)}")
    scale_mode = v.choice("scale_mode", scale_mode, ("cycle", "iterations"))
    if step_size_down is None:
        total = v.computed("the cycle, 2 * step_size_up,", up + down, step_size_up=step_size_up)
    else:
        total = v.computed(
            "the cycle, step_size_up + step_size_down,", up + down, step_size_up=step_size_up, step_size_down=down
        )
    tri = Join([Linear(0.0, 1.0, up), Linear(1.0, 0.0, down)], [up])
    if scale_fn is not None:
        scale = _CycleScale(scale_fn, total) if scale_mode == "cycle" else _EpochScale(scale_fn)
        return Cycle(tri, total, zero_based=True) * Function(scale)
    if mode == "triangular2":
        return Cycle(tri, total, decay=0.5, zero_based=True)
    wave = Cycle(tri, total, zero_based=True)
    if mode == "exp_range":
        return wave * Exponential(1.0, gamma).shift(1)
    return wave


class _CycleScale:
    """scale_fn(cycle) with torch's cycle = floor(1 + e / total)."""

    def __init__(self, fn, total):
        self.fn, self.total = fn, total

    def __call__(self, t):
        return self.fn(math.floor(1 + max(t - 1, 0) / self.total))

    def __repr__(self):
        return f"_CycleScale({self.fn!r}, {self.total!r})"


class _EpochScale:
    """scale_fn(e) with e = t - 1."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, t):
        return self.fn(max(t - 1, 0))

    def __repr__(self):
        return f"_EpochScale({self.fn!r})"


def cyclic_momentum(
    base_momentum: float = 0.8,
    max_momentum: float = 0.9,
    step_size_up: float = 2000,
    step_size_down: float | None = None,
    mode: str = "triangular",
    gamma: float = 1.0,
    scale_fn=None,
    scale_mode: str = "cycle",
) -> Schedule:
    r"""torch ``CyclicLR``'s momentum (``cycle_momentum=True``, its default): the lr's wave upside down.

    .. math:: m(t) = M - (M - B)\,\mathrm{tri}(e)\,\mathrm{scale}, \qquad e = t - 1

    with M = max_momentum, B = base_momentum and tri and scale as in
    :func:`cyclic_lr` (same step sizes, mode, gamma, scale_fn, scale_mode): the
    momentum is at M when the lr is at its base, and at B when the lr peaks.
    Agrees with torch as :func:`cyclic_lr` does.

    Example:
        >>> m = lrsched.torch.cyclic_momentum(0.8, 0.9, step_size_up=2)
        >>> [round(m(t), 12) for t in range(1, 6)]
        [0.9, 0.85, 0.8, 0.85, 0.9]
    """
    low = v.nonnegative("base_momentum", base_momentum)
    top = v.nonnegative("max_momentum", max_momentum)
    return top + (low - top) * _cyclic_wave(step_size_up, step_size_down, mode, gamma, scale_fn, scale_mode)


def one_cycle_lr(
    max_lr: float,
    total_steps: int | None = None,
    epochs: int | None = None,
    steps_per_epoch: int | None = None,
    pct_start: float = 0.3,
    anneal_strategy: str = "cos",
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    three_phase: bool = False,
) -> Schedule:
    r"""torch ``OneCycleLR``'s lr: up from max_lr / div_factor to max_lr, then down to min_lr.

    torch's phases end at e = pct_start * total - 1 and total - 1 (three_phase:
    pct_start * total - 1, 2 pct_start * total - 2, total - 1); within each,
    pct = (e - start) / (end - start) drives a cosine or linear anneal.
    At e = total_steps (one update past the end) torch still computes the
    anneal with pct > 1 (overshooting); the mirror gives that value too. Past
    that torch raises ValueError; the mirror holds min_lr. torch also cycles
    the momentum by default: :func:`one_cycle_momentum` gives it, and
    ``lrsched.torch.scheduler(opt, lr=..., momentum=...)`` applies both.

    Example:
        >>> s = lrsched.torch.one_cycle_lr(1.0, total_steps=10, anneal_strategy="linear")
        >>> s(1), round(s(3), 12), round(s(10), 12)
        (0.04, 1.0, 4e-06)
    """
    top = v.positive("max_lr", max_lr)
    div, final_div = v.positive("div_factor", div_factor), v.positive("final_div_factor", final_div_factor)
    initial, low = one_cycle_levels("max_lr", top, div, final_div)  # the recipe's levels; torch's own clock below
    if v.flag("three_phase", three_phase):
        levels = [(initial, top), (top, initial), (initial, low)]
    else:
        levels = [(initial, top), (top, low)]
    return _one_cycle(levels, total_steps, epochs, steps_per_epoch, pct_start, anneal_strategy)


def one_cycle_momentum(
    total_steps: int | None = None,
    epochs: int | None = None,
    steps_per_epoch: int | None = None,
    pct_start: float = 0.3,
    anneal_strategy: str = "cos",
    base_momentum: float = 0.85,
    max_momentum: float = 0.95,
    three_phase: bool = False,
) -> Schedule:
    r"""torch ``OneCycleLR``'s momentum (``cycle_momentum=True``, its default): the lr's mirror image.

    Over the phases of :func:`one_cycle_lr` the momentum anneals from
    max_momentum down to base_momentum while the lr rises, and back up to
    max_momentum while it falls (three_phase: down, up, then held at
    max_momentum), with the same pct and anneal. torch writes it to each
    group's ``momentum``, or to ``betas[0]`` for Adam-like optimizers;
    :func:`lrsched.torch.scheduler` does the same with ``momentum=``.

    Example:
        >>> m = lrsched.torch.one_cycle_momentum(total_steps=10, anneal_strategy="linear")
        >>> m(1), round(m(3), 12), round(m(10), 12)
        (0.95, 0.85, 0.95)
    """
    base = v.nonnegative("base_momentum", base_momentum)
    top = v.nonnegative("max_momentum", max_momentum)
    if v.flag("three_phase", three_phase):
        levels = [(top, base), (base, top), (top, top)]
    else:
        levels = [(top, base), (base, top)]
    return _one_cycle(levels, total_steps, epochs, steps_per_epoch, pct_start, anneal_strategy)


def _one_cycle(levels, total_steps, epochs, steps_per_epoch, pct_start, anneal_strategy) -> Schedule:
    """OneCycleLR's phases from (start, end) levels; past the end the last level's end is held."""
    e = None if epochs is None else v.whole("epochs", epochs, 1)  # checked even where total_steps wins
    k = None if steps_per_epoch is None else v.whole("steps_per_epoch", steps_per_epoch, 1)
    if total_steps is not None:
        total = v.whole("total_steps", total_steps, 1)
    elif e is not None and k is not None:
        total = e * k
        if total > v.MAX_COUNT:
            raise ValueError(f"epochs={e} * steps_per_epoch={k} = {total} updates: more than 2**53")
    else:
        raise ValueError("OneCycleLR needs total_steps, or epochs and steps_per_epoch")
    pct = v.fraction("pct_start", pct_start)
    strategy = v.choice("anneal_strategy", anneal_strategy, ("cos", "linear"))
    if len(levels) == 3:
        ends = [float(pct * total) - 1, float(2 * pct * total) - 2, total - 1]
    else:
        ends = [float(pct * total) - 1, total - 1]

    piece = Cosine if strategy == "cos" else Linear
    phases: list[Schedule] = []
    bounds: list[float] = []
    begin = 0.0  # torch's start_step of the phase
    for i, ((a, z), end) in enumerate(zip(levels, ends)):
        last = i == len(ends) - 1
        # torch takes the first phase with e <= end: a phase whose end is below 0 or
        # not past the previous end never gets an update (the first phase gets e = 0)
        if not last and (end < 0 or (i > 0 and end <= begin)):
            begin = end
            continue
        if end - begin <= 0:
            raise ValueError(
                f"pct_start={pct!r} with total_steps={total} gives phase {i} no length; torch divides by zero there"
            )
        # torch anneals over pct = (e - begin) / (end - begin): a unit phase stretched to the
        # phase's length computes that same quotient; the first kept phase sees t = e + 1
        shape = piece(a, z, steps=1).stretch(end - begin)
        phases.append(shape if phases else shape.shift(1 + begin))
        if last:
            # torch at e = total (one past the end) still anneals, with pct > 1
            pct_over = (total - begin) / (end - begin)
            over = (
                z + (a - z) / 2.0 * (math.cos(math.pi * pct_over) + 1) if strategy == "cos" else (z - a) * pct_over + a
            )
        else:
            bounds.append(end + 1)
        begin = end
    phases += [Constant(over), Constant(levels[-1][1])]
    bounds += [float(total), float(total + 1)]
    return Join(phases, bounds)


def multiplicative_lr(base_lr: float, lr_lambda) -> Schedule:
    r"""torch ``MultiplicativeLR``: the lr is multiplied by ``lr_lambda(e)`` at every e >= 1.

    .. math:: \eta(t) = b \prod_{k=1}^{e} f(k), \qquad e = t - 1

    A number f gives ``exponential`` (:math:`b f^{e}`, the closed form); a
    callable is wrapped as ``function`` that keeps the running product, so its
    values are torch's own to the bit (slow, not serializable).

    Example:
        >>> lrsched.torch.multiplicative_lr(1.0, 0.5)(3)
        0.25
        >>> lrsched.torch.multiplicative_lr(1.0, lambda e: 0.5)(3)
        0.25
    """
    b = v.real("base_lr", base_lr)
    if callable(lr_lambda):
        return Function(_RunningProduct(b, lr_lambda))
    return Exponential(b, v.positive("lr_lambda", lr_lambda)).shift(1)


class _RunningProduct:
    """b * f(1) * f(2) * ... * f(e) for e = floor(t) - 1, memoised."""

    def __init__(self, base, fn):
        self.base, self.fn, self._prefix = base, fn, [base]

    def __call__(self, t):
        e = max(math.floor(t) - 1, 0)
        prefix = self._prefix
        while len(prefix) <= e:
            prefix.append(prefix[-1] * self.fn(len(prefix)))
        return prefix[e]

    def __getstate__(self):
        return {"base": self.base, "fn": self.fn}

    def __setstate__(self, state):
        self.__init__(state["base"], state["fn"])

    def __eq__(self, other):
        return isinstance(other, _RunningProduct) and (self.base, self.fn) == (other.base, other.fn)

    def __hash__(self):
        return hash((self.base, self.fn))

    def __repr__(self):
        return f"_RunningProduct({self.base!r}, {self.fn!r})"


def sequential_lr(schedules, milestones) -> Schedule:
    r"""torch ``SequentialLR``: each schedule restarts at its own first update at its milestone.

    Schedule i runs for :math:`m_{i} < t \le m_{i+1}` at :math:`t - m_i` (torch
    restarts it at its epoch 0 there): that is ``join(schedules, milestones)``.
    Repeated milestones skip the schedules between them, and a milestone of 0
    skips the schedules before it, as in torch. Unlike torch's SequentialLR the
    result has no state, so a resumed run cannot drift from an uninterrupted
    one (pytorch issues 162591, 196243).

    Example:
        >>> warm = lrsched.torch.linear_lr(0.1, start_factor=0.1, total_iters=5)
        >>> cos = lrsched.torch.cosine_annealing_lr(0.1, T_max=95)
        >>> s = lrsched.torch.sequential_lr([warm, cos], milestones=[5])
        >>> s(6) == cos(1)
        True
    """
    if not isinstance(schedules, (list, tuple)) or not schedules:
        raise TypeError(f"schedules must be a non-empty list of schedules, got {v.show(schedules)}")
    schedules = [as_schedule(f"schedules[{i}]", x) for i, x in enumerate(schedules)]
    ms = [v.whole(f"milestones[{i}]", m, 0) for i, m in enumerate(v.items("milestones", milestones))]
    if len(ms) != len(schedules) - 1:
        raise ValueError(
            f"milestones needs one milestone fewer than schedules: got {len(schedules)} schedules and "
            f"{len(ms)} milestones"
        )
    if ms != sorted(ms):
        raise ValueError(f"milestones must be sorted (torch's SequentialLR misbehaves otherwise), got {ms}")
    keep = [schedules[0]]
    bounds: list[int] = []
    for m, s in zip(ms, schedules[1:]):
        if m == (bounds[-1] if bounds else 0):
            keep[-1] = s  # the previous schedule never runs
        else:
            bounds.append(m)
            keep.append(s)
    return Join(keep, bounds) if bounds else keep[0]


def chained_scheduler(schedules, base_lr: float) -> Schedule:
    r"""torch ``ChainedScheduler``: every scheduler multiplies the lr by its own ratio.

    .. math:: \eta(t) = b \prod_i \frac{s_i(t)}{b}

    for mirrors ``s_i`` built with the same base lr b. Exact (up to the drift of
    torch's chained updates) when every scheduler updates multiplicatively:
    StepLR, MultiStepLR, ConstantLR, LinearLR, ExponentialLR, PolynomialLR,
    MultiplicativeLR and CosineAnnealingLR with eta_min = 0.

    Example:
        >>> s = lrsched.torch.chained_scheduler(
        ...     [lrsched.torch.constant_lr(1.0, 0.1, 2), lrsched.torch.exponential_lr(1.0, 0.5)], 1.0)
        >>> s(1), s(2), s(3)
        (0.1, 0.05, 0.25)
    """
    if not isinstance(schedules, (list, tuple)) or not schedules:
        raise TypeError(f"schedules must be a non-empty list of schedules, got {v.show(schedules)}")
    for i, x in enumerate(schedules):
        if not isinstance(x, Schedule):
            raise TypeError(f"schedules[{i}] must be an lrsched schedule (a mirror), got {v.show(x)}")
    b = v.positive("base_lr", base_lr)
    n = len(schedules) - 1
    divisor = v.computed(f"base_lr**{n}", v.power(b, n), positive=True, base_lr=base_lr)
    product = schedules[0]
    for s in schedules[1:]:
        product = product * s
    return product / divisor if n else product


def reduce_lr_on_plateau(
    base_lr: float,
    mode: str = "min",
    factor: float = 0.1,
    patience: int = 10,
    threshold: float = 1e-4,
    threshold_mode: str = "rel",
    cooldown: int = 0,
    min_lr: float = 0.0,
    eps: float = 1e-8,
) -> Plateau:
    """torch ``ReduceLROnPlateau``'s parameters as an lrsched plateau rule.

    torch's ``min_lr`` and ``eps`` are learning rates; the rule works in units
    of its scale, so they are divided by ``base_lr``. Composed with
    ``constant(base_lr)`` the rule makes torch's decisions, report for report,
    negative metrics included (``torch_threshold``: torch's relative test).

    >>> rule = lrsched.torch.reduce_lr_on_plateau(0.1, patience=5, min_lr=1e-4)
    >>> rule.min_scale, rule.patience
    (0.001, 5)
    """
    b = v.positive("base_lr", base_lr)
    mode = v.choice("mode", mode, ("min", "max"))
    factor = v.interval("factor", factor, 0, 1, low_open=True, high_open=True)
    patience = v.count("patience", patience, minimum=0)
    threshold = v.nonnegative("threshold", threshold)
    threshold_mode = v.choice("threshold_mode", threshold_mode, ("rel", "abs"))
    cooldown = v.count("cooldown", cooldown, minimum=0)
    low, e = v.nonnegative("min_lr", min_lr), v.nonnegative("eps", eps)
    min_scale = v.computed("min_lr / base_lr", low / b, min_lr=min_lr, base_lr=base_lr)
    eps_scale = v.computed("eps / base_lr", e / b, eps=eps, base_lr=base_lr)
    return Plateau(
        mode, factor, patience, threshold, threshold_mode, cooldown, min_scale, eps_scale, torch_threshold=True
    )
