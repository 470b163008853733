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

``k_decay`` warps each cycle's clock (``warp``). The seeded noise
(``noise_range_t``, ``noise_type``, ``noise_pct``, ``noise_seed``) is
reproduced exactly and purely, torch's random generator re-implemented in
numpy; a noisy mirror is a ``function`` (slow, not serializable). timm 1.x
accepts ``noise_std`` but never reads it (a normal draw is redrawn until it
lies within ``noise_pct``), and so does the mirror; ``noise_pct`` below 1e-4
is refused for normal noise, where timm's unbounded redraw loop would spin.
Golden values: ``tests/golden/make_peers.py``.

Each mirror checks every argument, used or not, the same way (the noise
arguments without ``noise_range_t`` too, and ``warmup_lr_init`` without a
warmup), before it builds anything; a bad one gets a TypeError or
ValueError naming it and its value.
"""

from __future__ import annotations

import math

import numpy as np

from . import _validate as v
from .algebra import Function
from .combinators import Cycle, Join
from .engine import cycle_start
from .primitives import Constant, Cosine, Linear, Multistep, Poly, Step, Tanh
from .schedule import Schedule

__all__ = ["CosineLRScheduler", "MultiStepLRScheduler", "PolyLRScheduler", "StepLRScheduler", "TanhLRScheduler"]


#: normal draws tried per update before giving up (timm loops for ever); noise_pct >= 1e-4 needs ~1e4 at most
_MAX_DRAWS = 1_000_000
#: below this, timm's redraw loop needs so many draws per update that the mirror refuses it
_MIN_NOISE_PCT = 1e-4


class _TimmNoise:
    """timm's multiplicative noise for update t, drawn as timm draws it, without torch.

    timm seeds a fresh torch CPU generator with ``noise_seed + u`` (u = t - 1,
    the step_update count) and takes one normal (redrawn until |n| <
    noise_pct) or uniform sample. torch's CPU generator is the standard
    mt19937, and its normal is Box-Muller on two 53-bit uniforms with the
    second value kept for the next draw: reproduced here with numpy's
    MT19937 (checked against torch in the tests). 0 outside the noise range
    and at t = 1, which runs at the lr set at construction.
    """

    def __init__(self, range_t, noise_type, pct, std, seed):
        self.args = (range_t, noise_type, pct, std, seed)

    def _applies(self, u):
        range_t = self.args[0]
        if isinstance(range_t, (list, tuple)):
            return range_t[0] <= u < range_t[1]
        return u >= range_t

    def __call__(self, t):
        u = math.floor(t) - 1
        if u < 1 or not self._applies(u):
            return 0.0
        _, noise_type, pct, _std, seed = self.args  # timm never reads noise_std
        draw = _TorchCPUGenerator(seed + u)
        if noise_type == "normal":
            for _ in range(_MAX_DRAWS):  # timm redraws until |n| < noise_pct, without a bound
                noise = draw.randn()
                if abs(noise) < pct:
                    return noise
            raise ValueError(f"noise_pct={pct!r}: no normal draw below it in {_MAX_DRAWS} tries at t={t!r}")
        return 2 * (draw.rand() - 0.5) * pct

    def __eq__(self, other):
        return isinstance(other, _TimmNoise) and self.args == other.args

    def __hash__(self):
        return hash(tuple(tuple(a) if isinstance(a, list) else a for a in self.args))

    def __repr__(self):
        return "lrsched.timm._TimmNoise(range_t={!r}, noise_type={!r}, pct={!r}, std={!r}, seed={!r})".format(
            *self.args
        )


class _TorchCPUGenerator:
    """torch.Generator().manual_seed(seed) for randn(1) and rand(1), in numpy."""

    def __init__(self, seed):
        self.rs = np.random.RandomState(seed & 0xFFFFFFFF)  # init_genrand, as std::mt19937(seed)
        self.cached = None

    def _u53(self):
        a, b = (int(x) for x in self.rs.randint(0, 2**32, size=2, dtype=np.uint64))
        return (((a << 32) | b) & ((1 << 53) - 1)) * 2.0**-53

    def randn(self) -> float:
        if self.cached is not None:
            x, self.cached = self.cached, None
            return float(np.float32(x))
        u1, u2 = self._u53(), self._u53()
        radius = math.sqrt(-2.0 * math.log1p(-u2))
        theta = 2.0 * math.pi * u1
        self.cached = radius * math.sin(theta)
        return float(np.float32(radius * math.cos(theta)))

    def rand(self) -> float:
        r = int(self.rs.randint(0, 2**32, dtype=np.uint64))
        return float(np.float32((r & ((1 << 24) - 1)) * 2.0**-24))


def _noise_args(noise_range_t, noise_type, noise_pct, noise_std, noise_seed):
    """timm's noise arguments, checked whether or not ``noise_range_t`` turns the noise on: (range_t, type, pct,
    std, seed), range_t None without noise. ``noise_pct`` is held to the normal noise's minimum whenever
    ``noise_type`` is ``"normal"``, on or off."""
    if noise_range_t is None:
        range_t = None
    elif isinstance(noise_range_t, (list, tuple)):
        if len(noise_range_t) != 2:
            raise ValueError(f"noise_range_t must be (start, end) or an int, got {v.show(noise_range_t)}")
        range_t = (v.whole("noise_range_t[0]", noise_range_t[0], 0), v.whole("noise_range_t[1]", noise_range_t[1], 0))
    else:
        range_t = v.whole("noise_range_t", noise_range_t, 0)
    kind = v.choice("noise_type", noise_type, ("normal", "uniform"))
    pct, std = v.positive("noise_pct", noise_pct), v.positive("noise_std", noise_std)
    seed = v.whole("noise_seed", 42 if noise_seed is None else noise_seed, 0)
    if kind == "normal" and pct < _MIN_NOISE_PCT:
        raise ValueError(
            f"noise_pct must be >= {_MIN_NOISE_PCT} for normal noise, got {v.show(noise_pct)}: timm redraws a normal "
            "sample until it falls below noise_pct, about 1.25 / noise_pct draws per update"
        )
    return range_t, kind, pct, std, seed


def _noisy(schedule: Schedule, noise) -> Schedule:
    """timm's ``lr + lr * noise`` over the noise range (a function: slow, not serializable); ``noise`` is
    :func:`_noise_args`' (std checked and kept, though timm 1.x never reads it)."""
    if noise[0] is None:
        return schedule
    return schedule + schedule * Function(_TimmNoise(*noise))


def _warmup_args(base: float, warmup_t, warmup_lr_init, warmup_prefix) -> tuple[int, float, bool]:
    """timm's warmup arguments, checked (``warmup_lr_init`` too without a warmup): (W, init, prefix)."""
    w = v.whole("warmup_t", warmup_t, 0)
    init = v.real("warmup_lr_init", warmup_lr_init)  # checked even where unused: a mistake is never silent
    prefix = v.flag("warmup_prefix", warmup_prefix)
    if w:
        v.computed(
            "the warmup's step, (base_lr - warmup_lr_init) / warmup_t,",
            (base - init) / w,
            base_lr=base,
            warmup_lr_init=warmup_lr_init,
        )
    return w, init, prefix


def _warmup(base: float, warmup: tuple[int, float, bool], main: Schedule) -> Schedule:
    """timm's warmup (checked by :func:`_warmup_args`), then ``main``, which reads t'' = u' + 1
    (u' = u - W with prefix, else u)."""
    w, init, prefix = warmup
    if w == 0:
        # the first update runs at the lr timm set at construction: the base lr, not _get_lr(0)
        return Join([Constant(base), main.shift(-1)], [1])
    step = (base - init) / w  # timm's warmup_steps entry
    ramp = init + step * Linear(0.0, w, w).shift(1)  # init + u * step, u = t - 1 exactly
    return Join([ramp, main if prefix else main.shift(-w)], [w])


#: up to this many cycles the mirror lays out each one where timm's own arithmetic puts it; past it, ls.cycle
EXPLICIT_CYCLES = 4096


def _timm_cycle(u: int, t0: int, mul: float) -> int:
    """The cycle timm's ``_get_lr`` puts its epoch u in, in timm's own float arithmetic (its ``math.log``)."""
    if mul == 1.0:
        return u // t0
    x = 1 - u / t0 * (1 - mul)
    if x <= 0:  # past the sum of every cycle of a shrinking schedule (timm raises there): no cycle of its own
        return 2**62
    return math.floor(math.log(x, mul))


def _timm_offset(i: int, t0: int, mul: float) -> float:
    """Where timm's cycle i starts (its t_curr = u - offset), in timm's arithmetic."""
    return t0 * i if mul == 1.0 else (1 - mul**i) / (1 - mul) * t0


def _timm_starts(t0: int, mul: float, limit: int) -> list[int]:
    """The first epoch u of cycles 1 .. limit by timm's own arithmetic: a boundary whose exact sum is whole can
    fall an epoch either side of it when timm's log rounds (cycle_limit's end included)."""
    starts = []
    for i in range(1, limit + 1):
        exact = cycle_start(i, t0, mul)
        if not math.isfinite(exact) or exact > 2**52:
            break
        u = max(int(math.floor(exact)) - 2, starts[-1] if starts else 0)
        while _timm_cycle(u, t0, mul) < i and u <= exact + 2:  # within a step or two of the exact sum: bounded
            u += 1
        starts.append(u)
    return starts


def _cycle_args(t_initial, lr_min, cycle_mul, cycle_decay, cycle_limit, k_decay=1.0) -> tuple:
    """timm's cycle arguments, checked: (t0, lr_min, mul, decay, limit, k)."""
    t0 = v.whole("t_initial", t_initial, 1)
    lr_min = v.nonnegative("lr_min", lr_min)
    mul, decay = v.positive("cycle_mul", cycle_mul), v.positive("cycle_decay", cycle_decay)
    limit = v.whole("cycle_limit", cycle_limit, 1)
    k = v.positive("k_decay", k_decay)
    return t0, lr_min, mul, decay, limit, k


def _cycles(shape, base, cycles: tuple, **shape_kw) -> Schedule:
    """lr_min + (base * decay**i - lr_min) * g((t_curr / t_i)**k) over timm's cycles, lr_min after the limit.

    Cycle i runs on the epochs u (t = u + 1) where timm's own arithmetic
    (its float ``log``) puts it, at timm's t_curr = u - offset_i, so that the
    mirror restarts where timm does, to the epoch, and switches to lr_min at
    the first epoch u >= S(limit), as timm does. Past ``EXPLICIT_CYCLES``
    cycles, one ``ls.cycle`` stands for them (boundaries by the exact sum).
    ``cycles`` is :func:`_cycle_args`'.
    """
    t0, lr_min, mul, decay, limit, k = cycles

    def unit(start, end, steps):
        s = shape(start, end, steps=steps, **shape_kw)
        return s if k == 1.0 else s.warp(k, steps)

    if limit > EXPLICIT_CYCLES:
        amp = Cycle(unit(base, 0.0, t0), t0, period_mult=mul, decay=decay, limit=limit, zero_based=True)
        wave = amp
        if lr_min:
            wave = amp + Cycle(unit(0.0, lr_min, t0), t0, period_mult=mul, limit=limit, zero_based=True)
        end = cycle_start(limit, t0, mul)
        return Join([wave, Constant(lr_min)], [math.ceil(end)]) if math.isfinite(end) else wave
    starts = [0, *_timm_starts(t0, mul, limit)]
    pieces, bounds = [], []
    for i, b in enumerate(starts[:limit]):
        t_i = mul**i * t0
        if not (t_i > 0 and math.isfinite(t_i)):
            break
        if i + 1 < len(starts) and starts[i + 1] == b:
            continue  # a cycle shorter than an epoch that timm never reaches
        peak = v.computed(
            f"the peak of cycle {i}, base_lr * cycle_decay**{i},",
            base * v.power(decay, i),
            cycle_decay=decay,
            base_lr=base,
        )
        piece = unit(peak, lr_min, t_i)
        pieces.append(piece.shift(_timm_offset(i, t0, mul) + 1 - b))  # at t = b + x: t_curr = b + x - 1 - offset
        bounds.append(float(b))
    if len(starts) > limit:  # lr_min from the first epoch u >= S(limit)
        pieces.append(Constant(lr_min))
        bounds.append(float(starts[limit]))
    return Join(pieces, bounds[1:]) if len(pieces) > 1 else pieces[0]


def CosineLRScheduler(
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
    noise_type: str = "normal",
    noise_pct=0.67,
    noise_std=1.0,
    noise_seed: int | None = 42,
) -> Schedule:
    r"""timm ``CosineLRScheduler``: in cycle i, with t_curr updates into it,

    .. math:: \eta_{\min} + \tfrac12 (b\, d^{i} - \eta_{\min})(1 + \cos(\pi\, t_{cur} / t_i))

    >>> s = lrsched.timm.CosineLRScheduler(1.0, t_initial=4)
    >>> s(1), s(3), s(5)
    (1.0, 0.5, 0.0)
    """
    b = v.real("base_lr", base_lr)
    cycles = _cycle_args(t_initial, lr_min, cycle_mul, cycle_decay, cycle_limit, k_decay)
    warmup = _warmup_args(b, warmup_t, warmup_lr_init, warmup_prefix)
    noise = _noise_args(noise_range_t, noise_type, noise_pct, noise_std, noise_seed)
    return _noisy(_warmup(b, warmup, _cycles(Cosine, b, cycles)), noise)


def PolyLRScheduler(
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
    noise_type: str = "normal",
    noise_pct=0.67,
    noise_std=1.0,
    noise_seed: int | None = 42,
) -> Schedule:
    r"""timm ``PolyLRScheduler``: :math:`\eta_{\min} + (b\, d^{i} - \eta_{\min})(1 - t_{cur}/t_i)^{p}`.

    >>> s = lrsched.timm.PolyLRScheduler(1.0, t_initial=4, power=2.0)
    >>> s(3), s(5)
    (0.25, 0.0)
    """
    b = v.real("base_lr", base_lr)
    p = v.positive("power", power)
    cycles = _cycle_args(t_initial, lr_min, cycle_mul, cycle_decay, cycle_limit, k_decay)
    warmup = _warmup_args(b, warmup_t, warmup_lr_init, warmup_prefix)
    noise = _noise_args(noise_range_t, noise_type, noise_pct, noise_std, noise_seed)
    return _noisy(_warmup(b, warmup, _cycles(Poly, b, cycles, power=p)), noise)


def TanhLRScheduler(
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
    noise_type: str = "normal",
    noise_pct=0.67,
    noise_std=1.0,
    noise_seed: int | None = 42,
) -> Schedule:
    r"""timm ``TanhLRScheduler``, r = t_cur / t_i in cycle i:

    .. math:: \eta_{\min} + \tfrac12 (b\, d^{i} - \eta_{\min})(1 - \tanh(l (1 - r) + u r))
    """
    b = v.real("base_lr", base_lr)
    low, high = v.real("lb", lb), v.real("ub", ub)
    if not low < high:
        raise ValueError(f"lb={v.show(lb)} must be less than ub={v.show(ub)}")
    cycles = _cycle_args(t_initial, lr_min, cycle_mul, cycle_decay, cycle_limit)
    warmup = _warmup_args(b, warmup_t, warmup_lr_init, warmup_prefix)
    noise = _noise_args(noise_range_t, noise_type, noise_pct, noise_std, noise_seed)
    return _noisy(_warmup(b, warmup, _cycles(Tanh, b, cycles, lb=low, ub=high)), noise)


def StepLRScheduler(
    base_lr,
    decay_t,
    decay_rate=1.0,
    warmup_t: int = 0,
    warmup_lr_init=0.0,
    warmup_prefix: bool = True,
    noise_range_t=None,
    noise_type: str = "normal",
    noise_pct=0.67,
    noise_std=1.0,
    noise_seed: int | None = 42,
) -> Schedule:
    r"""timm ``StepLRScheduler``: :math:`b\, r^{\lfloor u / T \rfloor}` (u counted after the warmup with the prefix).

    ``base_lr`` must be >= 0 (torch's optimizers refuse a negative lr).

    >>> s = lrsched.timm.StepLRScheduler(1.0, decay_t=2, decay_rate=0.5)
    >>> s(2), s(3)
    (1.0, 0.5)
    """
    b = v.nonnegative("base_lr", base_lr)
    every, rate = v.positive("decay_t", decay_t), v.positive("decay_rate", decay_rate)
    warmup = _warmup_args(b, warmup_t, warmup_lr_init, warmup_prefix)
    noise = _noise_args(noise_range_t, noise_type, noise_pct, noise_std, noise_seed)
    return _noisy(_warmup(b, warmup, Step(b, every=every, factor=rate)), noise)


def MultiStepLRScheduler(
    base_lr,
    decay_t,
    decay_rate=1.0,
    warmup_t: int = 0,
    warmup_lr_init=0.0,
    warmup_prefix: bool = True,
    noise_range_t=None,
    noise_type: str = "normal",
    noise_pct=0.67,
    noise_std=1.0,
    noise_seed: int | None = 42,
) -> Schedule:
    r"""timm ``MultiStepLRScheduler``: :math:`b\, r^{\#\{m : m \le u + 1\}}`.

    timm decays at u = m - 1, one update earlier than torch's MultiStepLR (a
    documented timm convention, mirrored): the value changes after t = m - 1.

    >>> s = lrsched.timm.MultiStepLRScheduler(1.0, [3], decay_rate=0.5)
    >>> s(2), s(3)
    (1.0, 0.5)
    """
    b = v.real("base_lr", base_lr)
    steps = sorted(v.whole(f"decay_t[{i}]", m, 0) for i, m in enumerate(v.items("decay_t", decay_t)))
    rate = v.positive("decay_rate", decay_rate)
    v.computed(
        f"the lr after the last of {len(steps)} decays, base_lr * decay_rate**{len(steps)},",
        b * v.power(rate, len(steps)),
        decay_rate=decay_rate,
        base_lr=base_lr,
    )
    warmup = _warmup_args(b, warmup_t, warmup_lr_init, warmup_prefix)
    noise = _noise_args(noise_range_t, noise_type, noise_pct, noise_std, noise_seed)
    start = b * rate ** sum(1 for m in steps if m - 1 < 0)
    main = Multistep(start, [m - 1 for m in steps if m >= 1], factor=rate)
    return _noisy(_warmup(b, warmup, main), noise)
