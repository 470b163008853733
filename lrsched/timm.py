"""timm: mirrors of ``timm.scheduler``'s CosineLRScheduler, PolyLRScheduler,
TanhLRScheduler, StepLRScheduler and MultiStepLRScheduler, pure (no torch import).

Index convention: these mirror timm's per-update mode (``t_in_epochs=False``,
``scheduler.step_update(num_updates)`` after each ``optimizer.step()``): timm
sets the lr of the next update from ``_get_lr(num_updates)``, so the value at
t is timm's at ``t - 1``. In epoch mode (``scheduler.step(epoch)``) timm's
epoch e schedule value applies to the epoch after; read the mirror per epoch
with ``mirror.per_epoch(steps_per_epoch)``.

The first update runs at the lr timm sets at construction: ``warmup_lr_init``
with a warmup, else the base lr (not ``_get_lr(0)``, which differs for tanh).
Warmup: ``warmup_lr_init + (t - 1) * (base - init) / warmup_t`` for the first
``warmup_t`` updates; with ``warmup_prefix=False`` (the default of the cosine,
poly and tanh schedulers) the warmup *replaces* the schedule's first
``warmup_t`` updates instead of delaying it (mirrored). Cycles: lengths
``t_initial * cycle_mul**i``, peaks ``base * cycle_decay**i`` above lr_min, and
lr_min after ``cycle_limit`` cycles (default 1: a single cycle).

Not mirrored, refused with a clear error: ``k_decay != 1`` and the noise
options (timm draws its noise from torch's random generator).
Golden values: ``tests/golden/make_peers.py``.
"""

from __future__ import annotations

import numbers

from . import _validate as v
from . import kernels as K
from .combinators import Cycle, Join
from .primitives import Constant, Cosine, Linear, Multistep, Poly, Step, Tanh
from .schedule import Schedule

__all__ = ["CosineLRScheduler", "MultiStepLRScheduler", "PolyLRScheduler", "StepLRScheduler", "TanhLRScheduler"]


def _int(name, value, minimum=0):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {v.show(value)}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {v.show(value)}")
    return int(value)


def _unsupported(k_decay, noise_range_t):
    if v.real("k_decay", k_decay) != 1.0:
        raise ValueError(f"k_decay={k_decay!r} is not mirrored (only 1.0)")
    if noise_range_t is not None:
        raise ValueError("noise is not mirrored: timm draws it from torch's random generator")


def _warmup(base, warmup_t, warmup_lr_init, warmup_prefix, main: Schedule) -> Schedule:
    """timm's warmup, then ``main``, which reads t'' = u' + 1 (u' = u - W with prefix, else u)."""
    w = _int("warmup_t", warmup_t)
    prefix = v.flag("warmup_prefix", warmup_prefix)
    if w == 0:
        # the first update runs at the lr timm set at construction: the base lr, not _get_lr(0)
        return Join([Constant(base), main.shift(-1)], [1])
    init = v.real("warmup_lr_init", warmup_lr_init)
    step = (base - init) / w  # timm's warmup_steps entry
    ramp = init + step * Linear(0.0, w, w).shift(1)  # init + u * step, u = t - 1 exactly
    return Join([ramp, main if prefix else main.shift(-w)], [w])


def _cycles(shape, base, lr_min, t_initial, cycle_mul, cycle_decay, cycle_limit, **shape_kw) -> Schedule:
    """lr_min + (base * decay**i - lr_min) * g(t_curr / t_i) over timm's cycles, lr_min after the limit.

    Written as base * decay**i * g + lr_min * (1 - g): two cycles of the unit shape.
    """
    t0 = _int("t_initial", t_initial, 1)
    mul, decay = v.positive("cycle_mul", cycle_mul), v.positive("cycle_decay", cycle_decay)
    limit = _int("cycle_limit", cycle_limit, 1)
    lr_min = v.nonnegative("lr_min", lr_min)
    amp = Cycle(shape(base, 0.0, steps=t0, **shape_kw), t0, period_mult=mul, decay=decay, limit=limit, zero_based=True)
    wave = amp
    if lr_min:
        wave = amp + Cycle(shape(0.0, lr_min, steps=t0, **shape_kw), t0, period_mult=mul, limit=limit, zero_based=True)
    return Join([wave, Constant(lr_min)], [K.cycle_start(limit, float(t0), mul)])


def CosineLRScheduler(  # noqa: N802
    base_lr,
    t_initial: int,
    lr_min=0.0,
    cycle_mul=1.0,
    cycle_decay=1.0,
    cycle_limit: int = 1,
    warmup_t: int = 0,
    warmup_lr_init=0.0,
    warmup_prefix: bool = False,
    k_decay=1.0,
    noise_range_t=None,
) -> Schedule:
    r"""timm ``CosineLRScheduler``: in cycle i, with t_curr updates into it,

    .. math:: \eta_{\min} + \tfrac12 (b\, d^{i} - \eta_{\min})(1 + \cos(\pi\, t_{cur} / t_i))

    >>> s = lrsched.timm.CosineLRScheduler(1.0, t_initial=4)
    >>> s(1), s(3), s(5)
    (1.0, 0.5, 0.0)
    """
    _unsupported(k_decay, noise_range_t)
    b = v.real("base_lr", base_lr)
    main = _cycles(Cosine, b, lr_min, t_initial, cycle_mul, cycle_decay, cycle_limit)
    return _warmup(b, warmup_t, warmup_lr_init, warmup_prefix, main)


def PolyLRScheduler(  # noqa: N802
    base_lr,
    t_initial: int,
    power=0.5,
    lr_min=0.0,
    cycle_mul=1.0,
    cycle_decay=1.0,
    cycle_limit: int = 1,
    warmup_t: int = 0,
    warmup_lr_init=0.0,
    warmup_prefix: bool = False,
    k_decay=1.0,
    noise_range_t=None,
) -> Schedule:
    r"""timm ``PolyLRScheduler``: :math:`\eta_{\min} + (b\, d^{i} - \eta_{\min})(1 - t_{cur}/t_i)^{p}`.

    >>> s = lrsched.timm.PolyLRScheduler(1.0, t_initial=4, power=2.0)
    >>> s(3), s(5)
    (0.25, 0.0)
    """
    _unsupported(k_decay, noise_range_t)
    b = v.real("base_lr", base_lr)
    main = _cycles(Poly, b, lr_min, t_initial, cycle_mul, cycle_decay, cycle_limit, power=v.positive("power", power))
    return _warmup(b, warmup_t, warmup_lr_init, warmup_prefix, main)


def TanhLRScheduler(  # noqa: N802
    base_lr,
    t_initial: int,
    lb=-7.0,
    ub=3.0,
    lr_min=0.0,
    cycle_mul=1.0,
    cycle_decay=1.0,
    cycle_limit: int = 1,
    warmup_t: int = 0,
    warmup_lr_init=0.0,
    warmup_prefix: bool = False,
    noise_range_t=None,
) -> Schedule:
    r"""timm ``TanhLRScheduler``: :math:`\eta_{\min} + \tfrac12 (b\, d^{i} - \eta_{\min})(1 - \tanh(l (1 - r) + u r))`, r = t_cur / t_i."""
    _unsupported(1.0, noise_range_t)
    b = v.real("base_lr", base_lr)
    main = _cycles(Tanh, b, lr_min, t_initial, cycle_mul, cycle_decay, cycle_limit, lb=lb, ub=ub)
    return _warmup(b, warmup_t, warmup_lr_init, warmup_prefix, main)


def StepLRScheduler(  # noqa: N802
    base_lr, decay_t, decay_rate=1.0, warmup_t: int = 0, warmup_lr_init=0.0, warmup_prefix: bool = True, noise_range_t=None
) -> Schedule:
    r"""timm ``StepLRScheduler``: :math:`b\, r^{\lfloor u / T \rfloor}` (u counted after the warmup with the prefix).

    >>> s = lrsched.timm.StepLRScheduler(1.0, decay_t=2, decay_rate=0.5)
    >>> s(2), s(3)
    (1.0, 0.5)
    """
    _unsupported(1.0, noise_range_t)
    b = v.real("base_lr", base_lr)
    main = Step(b, every=v.positive("decay_t", decay_t), factor=v.positive("decay_rate", decay_rate))
    return _warmup(b, warmup_t, warmup_lr_init, warmup_prefix, main)


def MultiStepLRScheduler(  # noqa: N802
    base_lr, decay_t, decay_rate=1.0, warmup_t: int = 0, warmup_lr_init=0.0, warmup_prefix: bool = True, noise_range_t=None
) -> Schedule:
    r"""timm ``MultiStepLRScheduler``: :math:`b\, r^{\#\{m : m \le u + 1\}}`.

    timm decays at u = m - 1, one update earlier than torch's MultiStepLR (a
    documented timm convention, mirrored): the value changes after t = m - 1.

    >>> s = lrsched.timm.MultiStepLRScheduler(1.0, [3], decay_rate=0.5)
    >>> s(2), s(3)
    (1.0, 0.5)
    """
    _unsupported(1.0, noise_range_t)
    b = v.real("base_lr", base_lr)
    if isinstance(decay_t, (str, bytes)) or not hasattr(decay_t, "__iter__"):
        raise TypeError(f"decay_t must be a list of integers, got {v.show(decay_t)}")
    steps = sorted(_int(f"decay_t[{i}]", m) for i, m in enumerate(decay_t))
    rate = v.positive("decay_rate", decay_rate)
    start = b * rate ** sum(1 for m in steps if m - 1 < 0)
    main = Multistep(start, [m - 1 for m in steps if m >= 1], factor=rate)
    return _warmup(b, warmup_t, warmup_lr_init, warmup_prefix, main)
