"""Hugging Face transformers: mirrors of the ``get_*_schedule*`` functions of
``transformers.optimization``, pure (nothing here imports transformers or torch).

Each takes the base learning rate explicitly (HF reads it from the
optimizer). Index convention: HF's LambdaLR gets ``current_step`` s = 0 for
the first update, so the value at t is ``base_lr * f(t - 1)``. HF's warmup
therefore starts at lr = 0 on the first update (transformers issue 34754);
mirrored. Past ``num_training_steps`` the cosine schedules rise again, as
HF's do. Golden values: ``tests/golden/make_peers.py``.

Each mirror checks every argument, used or not, before it builds anything; a
bad one gets a TypeError or ValueError naming it and its value, and what a
mirror derives from its arguments (the cosine's period, from
``num_cycles``) is checked too, naming them.
"""

from __future__ import annotations

from . import _validate as v
from .combinators import Cycle, Join
from .plateau import Plateau
from .primitives import Constant, Cosine, Ease, InverseSqrt, Linear, Poly
from .schedule import Schedule

__all__ = [
    "get_constant_schedule",
    "get_constant_schedule_with_warmup",
    "get_cosine_schedule_with_warmup",
    "get_cosine_with_hard_restarts_schedule_with_warmup",
    "get_cosine_with_min_lr_schedule_with_warmup",
    "get_cosine_with_min_lr_schedule_with_warmup_lr_rate",
    "get_inverse_sqrt_schedule",
    "get_linear_schedule_with_warmup",
    "get_polynomial_decay_schedule_with_warmup",
    "get_reduce_on_plateau_schedule",
    "get_wsd_schedule",
]


def _with_warmup(b: float, warmup: int, main: Schedule) -> Schedule:
    """b * f: f = s / max(1, W) for s < W, then ``main`` (which reads x = s - W at t' = x + 1)."""
    if warmup == 0:
        return b * main
    return b * Join([Linear(0.0, 1.0, warmup).shift(1), main], [warmup])


def _half_wave(num_cycles) -> float:
    """``num_cycles`` checked: the progress of one half cosine, 1 / (2 num_cycles), finite and > 0."""
    cycles = v.positive("num_cycles", num_cycles)
    return v.computed(
        "a half cosine, 1 / (2 * num_cycles),", 1.0 / (2.0 * cycles), positive=True, num_cycles=num_cycles
    )


def _cos01(length: int, half: float) -> Schedule:
    """max(0, 0.5 (1 + cos(pi * progress / half))), progress = x / length, at t' = x + 1 (half: :func:`_half_wave`)."""
    wave = Cosine(1.0, 0.0, steps=half, periodic=True).stretch(max(1, length)).shift(1)
    return wave.clip(low=0.0)


def _counts(num_warmup_steps, num_training_steps) -> tuple[int, int]:
    return v.whole("num_warmup_steps", num_warmup_steps, 0), v.whole("num_training_steps", num_training_steps, 0)


def get_constant_schedule(base_lr) -> Schedule:
    """``get_constant_schedule``: base_lr throughout."""
    return Constant(v.real("base_lr", base_lr))


def get_constant_schedule_with_warmup(base_lr, num_warmup_steps: int) -> Schedule:
    """``get_constant_schedule_with_warmup``: s / W for s < W, then 1.

    >>> s = lrsched.transformers.get_constant_schedule_with_warmup(1.0, 4)
    >>> s(1), s(2), s(5)
    (0.0, 0.25, 1.0)
    """
    b = v.real("base_lr", base_lr)
    return _with_warmup(b, v.whole("num_warmup_steps", num_warmup_steps, 0), Constant(1.0))


def get_linear_schedule_with_warmup(base_lr, num_warmup_steps: int, num_training_steps: int) -> Schedule:
    """``get_linear_schedule_with_warmup``: then max(0, (N - s) / max(1, N - W)).

    (N - s) is computed exactly, as HF's integer subtraction, so values agree to the bit.

    >>> s = lrsched.transformers.get_linear_schedule_with_warmup(1.0, 2, 6)
    >>> [s(t) for t in range(1, 8)]
    [0.0, 0.5, 1.0, 0.75, 0.5, 0.25, 0.0]
    """
    b = v.real("base_lr", base_lr)
    w, n = _counts(num_warmup_steps, num_training_steps)
    span = n - w
    # linear(K, 0, K) at x is exactly K - x (integers), then divided by max(1, K)
    main = Linear(float(span), 0.0, span).shift(1) / max(1, span) if span > 0 else Constant(0.0)
    return _with_warmup(b, w, main)


def get_cosine_schedule_with_warmup(
    base_lr, num_warmup_steps: int, num_training_steps: int, num_cycles=0.5
) -> Schedule:
    """``get_cosine_schedule_with_warmup``: then max(0, 0.5 (1 + cos(pi c 2 progress))),
    progress = (s - W) / max(1, N - W); it rises again past N (HF's quirk, mirrored).
    To the bit for the default c = 0.5.

    >>> s = lrsched.transformers.get_cosine_schedule_with_warmup(1.0, 0, 4)
    >>> s(1), s(3), s(5), round(s(7), 12)
    (1.0, 0.5, 0.0, 0.5)
    """
    b = v.real("base_lr", base_lr)
    w, n = _counts(num_warmup_steps, num_training_steps)
    return _with_warmup(b, w, _cos01(n - w, _half_wave(num_cycles)))


def get_cosine_with_hard_restarts_schedule_with_warmup(
    base_lr, num_warmup_steps: int, num_training_steps: int, num_cycles: int = 1
) -> Schedule:
    """``get_cosine_with_hard_restarts_schedule_with_warmup``: num_cycles half cosines
    from 1 to 0 over N - W steps, each starting afresh; 0 from N on.

    >>> s = lrsched.transformers.get_cosine_with_hard_restarts_schedule_with_warmup(1.0, 0, 4, num_cycles=2)
    >>> s(1), s(2), s(3), s(5)
    (1.0, 0.5, 1.0, 0.0)
    """
    b = v.real("base_lr", base_lr)
    w, n = _counts(num_warmup_steps, num_training_steps)
    cycles = v.positive("num_cycles", num_cycles)
    span = max(1, n - w)
    period = v.computed(
        "a cycle, max(1, num_training_steps - num_warmup_steps) / num_cycles,",
        span / cycles,
        positive=True,
        num_cycles=num_cycles,
        num_training_steps=n,
        num_warmup_steps=w,
    )
    wave = Cycle(Cosine(1.0, 0.0, steps=period), period, zero_based=True).clip(low=0.0)
    return _with_warmup(b, w, Join([wave, Constant(0.0)], [span]))


def get_polynomial_decay_schedule_with_warmup(
    base_lr, num_warmup_steps: int, num_training_steps: int, lr_end=1e-7, power=1.0
) -> Schedule:
    """``get_polynomial_decay_schedule_with_warmup``: then ((I - E) (1 - (s - W) / D)^p + E) / I,
    D = N - W, and E / I past N; multiplied back by I = base_lr (HF's rounding kept).

    >>> s = lrsched.transformers.get_polynomial_decay_schedule_with_warmup(1.0, 0, 4, lr_end=0.0, power=2.0)
    >>> s(1), s(3), s(9)
    (1.0, 0.25, 0.0)
    """
    init = v.real("base_lr", base_lr)
    w, n = _counts(num_warmup_steps, num_training_steps)
    end, p = v.real("lr_end", lr_end), v.positive("power", power)
    if not init > end:
        raise ValueError(
            f"lr_end={v.show(lr_end)} must be smaller than base_lr={v.show(base_lr)}, the initial lr, as HF requires"
        )
    if init == 0:
        raise ValueError(f"base_lr must not be 0, got {v.show(base_lr)}: HF divides by it")
    v.computed("the final factor, lr_end / base_lr,", end / init, lr_end=lr_end, base_lr=base_lr)
    if n - w <= 0:
        raise ValueError(f"num_training_steps={n} must exceed num_warmup_steps={w} (HF divides by their difference)")
    main = Poly(init, end, steps=n - w, power=p).shift(1) / init
    return _with_warmup(init, w, main)


def get_inverse_sqrt_schedule(base_lr, num_warmup_steps: int, timescale: int | None = None) -> Schedule:
    """``get_inverse_sqrt_schedule``: then 1 / sqrt((s - W + tau) / tau), tau = ``timescale``
    (default: W, or 10,000 without warmup). Agrees with HF to an ulp or two.

    >>> s = lrsched.transformers.get_inverse_sqrt_schedule(1.0, 0, timescale=1)
    >>> s(1), s(4)
    (1.0, 0.5)
    """
    b = v.real("base_lr", base_lr)
    w = v.whole("num_warmup_steps", num_warmup_steps, 0)
    tau = (w or 10_000) if timescale is None else v.whole("timescale", timescale, 1)
    return _with_warmup(b, w, InverseSqrt(1.0, scale=tau).shift(1))


def _min_rate(base_lr, min_lr, min_lr_rate) -> float:
    """The floor as a fraction of base_lr: min_lr / base_lr, or min_lr_rate (exactly one of them given)."""
    low = v.optional_real("min_lr", min_lr)
    rate = v.optional_real("min_lr_rate", min_lr_rate)
    if low is not None and rate is not None:
        raise ValueError(f"give min_lr or min_lr_rate, not both: got min_lr={low!r} and min_lr_rate={rate!r}")
    if low is None and rate is None:
        raise ValueError("one of min_lr or min_lr_rate is needed")
    if rate is not None:
        return rate
    if not base_lr > 0:
        raise ValueError(f"base_lr must be > 0 to read min_lr as a fraction of it, got {v.show(base_lr)}")
    return v.computed("min_lr / base_lr", low / base_lr, min_lr=min_lr, base_lr=base_lr)


def get_cosine_with_min_lr_schedule_with_warmup(
    base_lr, num_warmup_steps: int, num_training_steps: int, num_cycles=0.5, min_lr=None, min_lr_rate=None
) -> Schedule:
    """``get_cosine_with_min_lr_schedule_with_warmup``: the cosine factor f rescaled to
    max(0, f (1 - r) + r), r = min_lr / base_lr or min_lr_rate.

    >>> s = lrsched.transformers.get_cosine_with_min_lr_schedule_with_warmup(1.0, 0, 4, min_lr_rate=0.1)
    >>> s(1), s(5)
    (1.0, 0.1)
    """
    b = v.real("base_lr", base_lr)
    w, n = _counts(num_warmup_steps, num_training_steps)
    half = _half_wave(num_cycles)
    rate = _min_rate(b, min_lr, min_lr_rate)
    return _with_warmup(b, w, (_cos01(n - w, half) * (1 - rate) + rate).clip(low=0.0))


def get_cosine_with_min_lr_schedule_with_warmup_lr_rate(
    base_lr,
    num_warmup_steps: int,
    num_training_steps: int,
    num_cycles=0.5,
    min_lr=None,
    min_lr_rate=None,
    warmup_lr_rate=None,
) -> Schedule:
    """``get_cosine_with_min_lr_schedule_with_warmup_lr_rate``: HF's variant whose
    warmup does not start at 0: (s + 1) / W, or r_w + (1 - r_w) s / max(1, W - 1)
    with ``warmup_lr_rate``; the decay's progress counts from 1: (s - W + 1) / (N - W).
    """
    b = v.real("base_lr", base_lr)
    w, n = _counts(num_warmup_steps, num_training_steps)
    half = _half_wave(num_cycles)
    rate = _min_rate(b, min_lr, min_lr_rate)
    r = v.optional_real("warmup_lr_rate", warmup_lr_rate)  # checked, used or not
    wave = Cosine(1.0, 0.0, steps=half, periodic=True).stretch(max(1, n - w))  # progress = t' / span
    main = (wave.clip(low=0.0) * (1 - rate) + rate).clip(low=0.0)
    if w == 0:
        return b * main
    if r is None:
        ramp = Linear(0.0, 1.0, max(1, w))  # (s + 1) / W = t / W
    else:
        ramp = Linear(r, 1.0, max(1, w - 1)).shift(1)
    return b * Join([ramp, main], [w])


def get_wsd_schedule(
    base_lr,
    num_warmup_steps: int,
    num_decay_steps: int,
    num_training_steps: int | None = None,
    num_stable_steps: int | None = None,
    warmup_type: str = "linear",
    decay_type: str = "cosine",
    min_lr_ratio=0.0,
    num_cycles=0.5,
) -> Schedule:
    """``get_wsd_schedule``: warmup (linear, cosine or 1-sqrt) from min_lr_ratio to 1,
    stable at 1, decay (linear, cosine or 1-sqrt) back to min_lr_ratio, then min_lr_ratio.

    >>> s = lrsched.transformers.get_wsd_schedule(1.0, 2, 2, num_stable_steps=2, decay_type="linear")
    >>> [s(t) for t in range(1, 9)]
    [0.0, 0.5, 1.0, 1.0, 1.0, 0.5, 0.0, 0.0]
    """
    b = v.real("base_lr", base_lr)
    w, d = v.whole("num_warmup_steps", num_warmup_steps, 0), v.whole("num_decay_steps", num_decay_steps, 0)
    total = None if num_training_steps is None else v.whole("num_training_steps", num_training_steps, 0)
    fixed = None if num_stable_steps is None else v.whole("num_stable_steps", num_stable_steps, 0)
    kinds = ("linear", "cosine", "1-sqrt")
    warm_kind, decay_kind = v.choice("warmup_type", warmup_type, kinds), v.choice("decay_type", decay_type, kinds)
    m = v.real("min_lr_ratio", min_lr_ratio)
    half = _half_wave(num_cycles)  # checked even where unused: a mistake is never silent
    if total is None and fixed is None:
        raise ValueError("give num_training_steps or num_stable_steps")
    # num_training_steps is checked the same way when num_stable_steps wins (HF warns and ignores it then)
    if total is not None and total < w + d:
        raise ValueError(
            f"num_warmup_steps + num_decay_steps = {w + d} exceed num_training_steps={total} by {w + d - total}"
        )
    stable = total - w - d if fixed is None else fixed

    def rescale(f):
        return (f * (1.0 - m) + m).clip(low=0.0)

    phases, bounds = [], []
    if w:
        unit = {
            "linear": Linear(0.0, 1.0, 1),
            "cosine": Cosine(0.0, 1.0, steps=1),
            "1-sqrt": Poly(0.0, 1.0, steps=1, power=0.5),
        }
        phases.append(rescale(unit[warm_kind].stretch(w).shift(1)))
        bounds.append(w)
    if stable:
        phases.append(Constant(1.0))
        bounds.append(w + stable)
    if d:
        unit = {
            "linear": Linear(1.0, 0.0, 1).stretch(d).shift(1),
            "cosine": Cosine(1.0, 0.0, steps=half, periodic=True).stretch(d).shift(1).clip(low=0.0),
            "1-sqrt": Ease(1.0, 0.0, steps=1, power=0.5).stretch(d).shift(1),
        }
        phases.append(rescale(unit[decay_kind]))
        bounds.append(w + stable + d)
    phases.append(Constant(m))
    return b * (Join(phases, bounds) if bounds else phases[0])


def get_reduce_on_plateau_schedule(
    base_lr,
    mode: str = "min",
    factor=0.1,
    patience: int = 10,
    threshold=1e-4,
    threshold_mode: str = "rel",
    cooldown: int = 0,
    min_lr=0.0,
    eps=1e-8,
) -> Plateau:
    """``get_reduce_on_plateau_schedule``: torch's ReduceLROnPlateau (HF passes its keyword arguments on
    to it), as an lrsched plateau rule: :func:`lrsched.torch.reduce_lr_on_plateau`, whose parameters these are."""
    from .torch.mirrors import reduce_lr_on_plateau

    return reduce_lr_on_plateau(base_lr, mode, factor, patience, threshold, threshold_mode, cooldown, min_lr, eps)
