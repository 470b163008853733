"""MXNet: a stateless LRScheduler, and mirrors of ``mx.lr_scheduler``.

Index convention: MXNet's optimizer increments ``num_update`` before it asks
the scheduler, so the first update is ``num_update = 1``: the same as
lrsched's t. The adapter passes it through (:meth:`Scheduler.__call__`, the
one place). Nothing here imports MXNet.

MXNet's own schedulers keep state and only work when called in order
(FactorScheduler called at 600 and then at 1 answers 0.25); these do not.
Each mirror's value at t is what the MXNet scheduler returns at
``num_update = t`` when called in order from 1.

The migration table (MXNet class -> lrsched call) is in docs/migration.md.

Each mirror checks every argument before it builds anything; a bad one gets
a TypeError or ValueError naming it and its value.
"""

from __future__ import annotations

import numpy as np

from . import _validate as v
from .combinators import Join
from .primitives import Constant, Cosine, Linear, Multistep, Poly, Step
from .schedule import Schedule

__all__ = ["Scheduler", "cosine_scheduler", "factor_scheduler", "multi_factor_scheduler", "poly_scheduler", "scheduler"]


class Scheduler:
    """The MXNet LRScheduler protocol over an lrsched schedule, without state.

    ``base_lr`` is the attribute MXNet's optimizer sets from its
    ``learning_rate``; it only matters when ``relative`` (lr = base_lr *
    schedule(num_update)). Calls may come in any order. ``base_lr`` must be
    finite and >= 0, checked here and, as MXNet sets it after construction,
    at each relative call: MXNet's own schedulers refuse a base_lr below
    their ``warmup_begin_lr`` (0 by default), and a negative lr would climb
    the loss.
    """

    def __init__(self, schedule: Schedule, relative: bool = False, base_lr: float | None = None):
        if not isinstance(schedule, Schedule):
            raise TypeError(f"schedule must be an lrsched schedule, got {v.show(schedule)}")
        self.schedule = schedule
        self.relative = v.flag("relative", relative)
        self.base_lr = None if base_lr is None else _base_lr(base_lr)

    def __call__(self, num_update) -> float:
        lr = self.schedule(num_update)
        if not self.relative:
            return lr
        if self.base_lr is None:
            raise RuntimeError(
                "relative=True needs base_lr: pass learning_rate to the MXNet optimizer, or base_lr here"
            )
        out = _base_lr(self.base_lr) * lr
        if not np.all(np.isfinite(out)):
            raise ValueError(
                f"base_lr={v.show(self.base_lr)} times the schedule's {v.show(lr)} at num_update="
                f"{v.show(num_update)} is beyond the float range"
            )
        return out

    def __repr__(self) -> str:
        extra = f", relative=True, base_lr={v.show(self.base_lr)}" if self.relative else ""
        return f"lrsched.mxnet.scheduler({self.schedule!r}{extra})"


def _base_lr(value) -> float:
    """MXNet's base_lr, checked: finite and >= 0."""
    return v.nonnegative("base_lr", value)


def scheduler(schedule: Schedule, relative: bool = False, base_lr: float | None = None) -> Scheduler:
    """An object to pass as ``lr_scheduler=`` to an MXNet optimizer.

    Example:
        >>> sched = lrsched.mxnet.scheduler(step(0.1, every=250, factor=0.5))
        >>> sched(600), sched(1)  # any order
        (0.025, 0.1)
    """
    return Scheduler(schedule, relative, base_lr)


# ---------------------------------------------------------------- mirrors


def _warmup_args(base_lr: float, warmup_steps, warmup_begin_lr, warmup_mode) -> tuple[int, float, str]:
    """MXNet's warmup arguments, checked: (steps, begin lr, mode)."""
    w = v.whole("warmup_steps", warmup_steps, 0)
    begin = v.real("warmup_begin_lr", warmup_begin_lr)
    mode = v.choice("warmup_mode", warmup_mode, ("linear", "constant"))
    if begin > base_lr:
        raise ValueError(
            f"warmup_begin_lr={v.show(warmup_begin_lr)} must not exceed base_lr={v.show(base_lr)} (MXNet refuses it)"
        )
    return w, begin, mode


def _with_warmup(main: Schedule, base_lr: float, warmup: tuple[int, float, str], absolute: bool) -> Schedule:
    """MXNet's warmup (checked by :func:`_warmup_args`) for num_update < warmup_steps, then ``main``.

    ``main`` reads x = t - warmup_steps, or t itself when ``absolute``
    (FactorScheduler counts its steps from 0, warmup or not).
    """
    w, begin, mode = warmup
    if w == 0:
        return main
    # warmup covers t < w; a join switches after its boundary, so put it at w - 1
    # (at 0.5 for w = 1, where only t = 0 is warmup)
    bound = w - 1 if w > 1 else 0.5
    ramp = Linear(begin, base_lr, w) if mode == "linear" else Constant(begin)
    # the main phase sees t - bound; shift it so that it reads its own x
    return Join([ramp, main.shift((0.0 if absolute else w) - bound)], [bound])


def _factor(factor) -> float:
    """MXNet's factor: > 0 (a multiplier), and no more than 1, as MXNet requires."""
    f = v.positive("factor", factor)
    if f > 1:
        raise ValueError(f"factor must be no more than 1 to make lr reduce, got {v.show(factor)}")
    return f


def factor_scheduler(
    step: int,
    factor: float = 1,
    stop_factor_lr: float = 1e-8,
    base_lr: float = 0.01,
    warmup_steps: int = 0,
    warmup_begin_lr: float = 0,
    warmup_mode: str = "linear",
) -> Schedule:
    r"""MXNet ``FactorScheduler``: multiply by ``factor`` after every ``step`` updates.

    .. math:: \eta(t) = \max\!\left(b\, f^{\lfloor (t-1)/s \rfloor},\ \eta_{stop}\right)

    counting from t = 1 even with warmup (as MXNet does), after the warmup.
    MXNet multiplies step by step; the mirror takes the power (a few ulps).
    ``stop_factor_lr`` must not exceed ``base_lr`` (MXNet would raise the lr
    to it at the first step).

    Example:
        >>> s = lrsched.mxnet.factor_scheduler(step=250, factor=0.5, base_lr=1.0)
        >>> s(250), s(251), s(501)
        (1.0, 0.5, 0.25)
    """
    s = v.whole("step", step, 1)
    f = _factor(factor)
    stop = v.real("stop_factor_lr", stop_factor_lr)
    b = v.real("base_lr", base_lr)
    if stop > b:
        raise ValueError(
            f"stop_factor_lr={v.show(stop_factor_lr)} must not exceed base_lr={v.show(base_lr)} "
            "(MXNet would raise the lr to it at the first step)"
        )
    warmup = _warmup_args(b, warmup_steps, warmup_begin_lr, warmup_mode)
    return _with_warmup(Step(b, every=s, factor=f, minimum=stop), b, warmup, absolute=True)


def multi_factor_scheduler(
    step,
    factor: float = 1,
    base_lr: float = 0.01,
    warmup_steps: int = 0,
    warmup_begin_lr: float = 0,
    warmup_mode: str = "linear",
) -> Schedule:
    r"""MXNet ``MultiFactorScheduler``: multiply by ``factor`` once t passes each step.

    .. math:: \eta(t) = b\, f^{\#\{k : t > s_k\}}

    Example:
        >>> s = lrsched.mxnet.multi_factor_scheduler([10, 20], factor=0.1, base_lr=1.0)
        >>> s(10), s(11), round(s(21), 15)
        (1.0, 0.1, 0.01)
    """
    if not isinstance(step, list) or not step:
        raise TypeError(f"step must be a non-empty list of integers, got {v.show(step)}")
    steps = [v.whole(f"step[{i}]", x, 1) for i, x in enumerate(step)]
    v.increasing("step", tuple(float(x) for x in steps))
    f = _factor(factor)
    b = v.real("base_lr", base_lr)
    warmup = _warmup_args(b, warmup_steps, warmup_begin_lr, warmup_mode)
    return _with_warmup(Multistep(b, steps, factor=f), b, warmup, absolute=True)


def _decay(max_update, base_lr, warmup_steps, warmup_begin_lr, warmup_mode):
    """(base_lr, warmup, decay length) of MXNet's Poly- and CosineScheduler, checked."""
    m = v.whole("max_update", max_update, 1)
    b = v.real("base_lr", base_lr)
    warmup = _warmup_args(b, warmup_steps, warmup_begin_lr, warmup_mode)
    w = warmup[0]
    if m <= w:
        raise ValueError(f"max_update={m} must exceed warmup_steps={w} (MXNet divides by their difference)")
    return b, warmup, m - w


def poly_scheduler(
    max_update: int,
    base_lr: float = 0.01,
    pwr: float = 2,
    final_lr: float = 0,
    warmup_steps: int = 0,
    warmup_begin_lr: float = 0,
    warmup_mode: str = "linear",
) -> Schedule:
    r"""MXNet ``PolyScheduler``: polynomial decay to ``final_lr`` at ``max_update``.

    .. math:: \eta(t) = \eta_f + (b - \eta_f)\left(1 - \frac{t - W}{M - W}\right)^{p}, \quad W \le t \le M

    then ``final_lr`` (MXNet returns its last value, called in order).

    Example:
        >>> s = lrsched.mxnet.poly_scheduler(max_update=4, base_lr=1.0, pwr=2)
        >>> s(2), s(4), s(9)
        (0.25, 0.0, 0.0)
    """
    b, warmup, span = _decay(max_update, base_lr, warmup_steps, warmup_begin_lr, warmup_mode)
    p, end = v.positive("pwr", pwr), v.real("final_lr", final_lr)
    return _with_warmup(Poly(b, end, steps=span, power=p), b, warmup, absolute=False)


def cosine_scheduler(
    max_update: int,
    base_lr: float = 0.01,
    final_lr: float = 0,
    warmup_steps: int = 0,
    warmup_begin_lr: float = 0,
    warmup_mode: str = "linear",
) -> Schedule:
    r"""MXNet ``CosineScheduler``: cosine from ``base_lr`` to ``final_lr`` at ``max_update``.

    .. math:: \eta(t) = \eta_f + \frac{(b - \eta_f)(1 + \cos(\pi (t - W) / (M - W)))}{2}, \quad W \le t \le M

    then ``final_lr``. Computed as MXNet computes it, to the bit.

    Example:
        >>> s = lrsched.mxnet.cosine_scheduler(max_update=4, base_lr=1.0)
        >>> s(2), s(4), s(9)
        (0.5, 0.0, 0.0)
    """
    b, warmup, span = _decay(max_update, base_lr, warmup_steps, warmup_begin_lr, warmup_mode)
    end = v.real("final_lr", final_lr)
    return _with_warmup(Cosine(b, end, steps=span), b, warmup, absolute=False)
