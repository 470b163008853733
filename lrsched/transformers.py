"""Hugging Face transformers: mirrors of the ``get_*_schedule*`` functions of
``transformers.optimization``, pure (nothing here imports transformers or torch).

Each takes the base learning rate explicitly (HF reads it from the
optimizer). Index convention: HF's LambdaLR gets ``current_step`` s = 0 for
the first update, so the value at t is ``base_lr * f(t - 1)``. HF's warmup
therefore starts at lr = 0 on the first update (transformers issue 34754);
mirrored. Past ``num_training_steps`` the cosine schedules rise again, as
HF's do. Golden values: ``tests/golden/make_peers.py``.
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


def _with_warmup(base_lr, warmup: int, main: Schedule) -> Schedule:
    """base_lr * f: f = s / max(1, W) for s < W, then ``main`` (which reads x = s - W at t' = x + 1)."""
    b = v.real("base_lr", base_lr)
    if warmup == 0:
        return b * main
    return b * Join([Linear(0.0, 1.0, warmup).shift(1), main], [warmup])


def _cos01(length: int, num_cycles) -> Schedule:
    """max(0, 0.5 (1 + cos(pi * num_cycles * 2 * progress))), progress = x / length, at t' = x + 1."""
    cycles = v.positive("num_cycles", num_cycles)
    wave = Cosine(1.0, 0.0, steps=1.0 / (2.0 * cycles), periodic=True).stretch(max(1, length)).shift(1)
    return wave.clip(low=0.0)


def get_constant_schedule(base_lr) -> Schedule:
    """``get_constant_schedule``: base_lr throughout."""
    return Constant(base_lr)


def get_constant_schedule_with_warmup(base_lr, num_warmup_steps: int) -> Schedule:
    """``get_constant_schedule_with_warmup``: s / W for s < W, then 1.

    >>> s = lrsched.transformers.get_constant_schedule_with_warmup(1.0, 4)
    >>> s(1), s(2), s(5)
    (0.0, 0.25, 1.0)
    """
    return _with_warmup(base_lr, v.whole("num_warmup_steps", num_warmup_steps, 0), Constant(1.0))


def get_linear_schedule_with_warmup(base_lr, num_warmup_steps: int, num_training_steps: int) -> Schedule:
    """``get_linear_schedule_with_warmup``: then max(0, (N - s) / max(1, N - W)).

    (N - s) is computed exactly, as HF's integer subtraction, so values agree to the bit.

    >>> s = lrsched.transformers.get_linear_schedule_with_warmup(1.0, 2, 6)
    >>> [s(t) for t in range(1, 8)]
    [0.0, 0.5, 1.0, 0.75, 0.5, 0.25, 0.0]
    """
    w, n = v.whole("num_warmup_steps", num_warmup_steps, 0), v.whole("num_training_steps", num_training_steps, 0)
    span = n - w
    # linear(K, 0, K) at x is exactly K - x (integers), then divided by max(1, K)
    main = Linear(float(span), 0.0, span).shift(1) / max(1, span) if span > 0 else Constant(0.0)
    return _with_warmup(base_lr, w, main)


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
    w, n = v.whole("num_warmup_steps", num_warmup_steps, 0), v.whole("num_training_steps", num_training_steps, 0)
    return _with_warmup(base_lr, w, _cos01(n - w, num_cycles))


def get_cosine_with_hard_restarts_schedule_with_warmup(
    base_lr, num_warmup_steps: int, num_training_steps: int, num_cycles: int = 1
) -> Schedule:
    """``get_cosine_with_hard_restarts_schedule_with_warmup``: num_cycles half cosines
    from 1 to 0 over N - W steps, each starting afresh; 0 from N on.

    >>> s = lrsched.transformers.get_cosine_with_hard_restarts_schedule_with_warmup(1.0, 0, 4, num_cycles=2)
    >>> s(1), s(2), s(3), s(5)
    (1.0, 0.5, 1.0, 0.0)
    """
    w, n = v.whole("num_warmup_steps", num_warmup_steps, 0), v.whole("num_training_steps", num_training_steps, 0)
    cycles = v.positive("num_cycles", num_cycles)
    span = max(1, n - w)
    period = span / cycles
    wave = Cycle(Cosine(1.0, 0.0, steps=period), period, zero_based=True).clip(low=0.0)
    return _with_warmup(base_lr, w, Join([wave, Constant(0.0)], [span]))


def get_polynomial_decay_schedule_with_warmup(
    base_lr, num_warmup_steps: int, num_training_steps: int, lr_end=1e-7, power=1.0
) -> Schedule:
    """``get_polynomial_decay_schedule_with_warmup``: then ((I - E) (1 - (s - W) / D)^p + E) / I,
    D = N - W, and E / I past N; multiplied back by I = base_lr (HF's rounding kept).

    >>> s = lrsched.transformers.get_polynomial_decay_schedule_with_warmup(1.0, 0, 4, lr_end=0.0, power=2.0)
    >>> s(1), s(3), s(9)
    (1.0, 0.25, 0.0)
    """
    w, n = v.whole("num_warmup_steps", num_warmup_steps, 0), v.whole("num_training_steps", num_training_steps, 0)
    init, end = v.real("base_lr", base_lr), v.real("lr_end", lr_end)
    if not init > end:
        raise ValueError(f"lr_end ({end}) must be smaller than the initial lr ({init}), as HF requires")
    if n - w <= 0:
        raise ValueError(f"num_training_steps={n} must exceed num_warmup_steps={w} (HF divides by their difference)")
    main = Poly(init, end, steps=n - w, power=v.positive("power", power)).shift(1) / init
    return _with_warmup(init, w, main)


def get_inverse_sqrt_schedule(base_lr, num_warmup_steps: int, timescale: int | None = None) -> Schedule:
    """``get_inverse_sqrt_schedule``: then 1 / sqrt((s - W + tau) / tau), tau = ``timescale``
    (default: W, or 10,000 without warmup). Agrees with HF to an ulp or two.

    >>> s = lrsched.transformers.get_inverse_sqrt_schedule(1.0, 0, timescale=1)
    >>> s(1), s(4)
    (1.0, 0.5)
    """
    w = v.whole("num_warmup_steps", num_warmup_steps, 0)
    tau = (w or 10_000) if timescale is None else v.whole("timescale", timescale, 1)
    return _with_warmup(base_lr, w, InverseSqrt(1.0, scale=tau).shift(1))


def _min_rate(base_lr, min_lr, min_lr_rate):
    if min_lr is not None and min_lr_rate is not None:
        raise ValueError("give min_lr or min_lr_rate, not both")
    if min_lr is not None:
        return v.real("min_lr", min_lr) / v.positive("base_lr", base_lr)
    if min_lr_rate is None:
        raise ValueError("one of min_lr or min_lr_rate is needed")
    return v.real("min_lr_rate", min_lr_rate)


def get_cosine_with_min_lr_schedule_with_warmup(
    base_lr, num_warmup_steps: int, num_training_steps: int, num_cycles=0.5, min_lr=None, min_lr_rate=None
) -> Schedule:
    """``get_cosine_with_min_lr_schedule_with_warmup``: the cosine factor f rescaled to
    max(0, f (1 - r) + r), r = min_lr / base_lr or min_lr_rate.

    >>> s = lrsched.transformers.get_cosine_with_min_lr_schedule_with_warmup(1.0, 0, 4, min_lr_rate=0.1)
    >>> s(1), s(5)
    (1.0, 0.1)
    """
    w, n = v.whole("num_warmup_steps", num_warmup_steps, 0), v.whole("num_training_steps", num_training_steps, 0)
    rate = _min_rate(base_lr, min_lr, min_lr_rate)
    return _with_warmup(base_lr, w, (_cos01(n - w, num_cycles) * (1 - rate) + rate).clip(low=0.0))


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
    w, n = v.whole("num_warmup_steps", num_warmup_steps, 0), v.whole("num_training_steps", num_training_steps, 0)
    b = v.real("base_lr", base_lr)
    rate = _min_rate(b, min_lr, min_lr_rate)
    cycles = v.positive("num_cycles", num_cycles)
    r = None if warmup_lr_rate is None else v.real("warmup_lr_rate", warmup_lr_rate)  # checked, used or not
    wave = Cosine(1.0, 0.0, steps=1.0 / (2.0 * cycles), periodic=True).stretch(max(1, n - w))  # progress = t' / span
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
    w, d = v.whole("num_warmup_steps", num_warmup_steps, 0), v.whole("num_decay_steps", num_decay_steps, 0)
    total = None if num_training_steps is None else v.whole("num_training_steps", num_training_steps, 0)
    v.real("num_cycles", num_cycles)  # checked even where unused: a mistake is never silent
    if num_stable_steps is None:
        if total is None:
            raise ValueError("give num_training_steps or num_stable_steps")
        stable = total - w - d
    else:
        stable = v.whole("num_stable_steps", num_stable_steps, 0)
    if stable < 0:
        raise ValueError(f"num_warmup_steps + num_decay_steps exceed num_training_steps by {-stable}")
    m = v.real("min_lr_ratio", min_lr_ratio)
    kinds = ("linear", "cosine", "1-sqrt")
    warm_kind, decay_kind = v.choice("warmup_type", warmup_type, kinds), v.choice("decay_type", decay_type, kinds)

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
            "cosine": Cosine(1.0, 0.0, steps=1.0 / (2.0 * v.positive("num_cycles", num_cycles)), periodic=True)
            .stretch(d)
            .shift(1)
            .clip(low=0.0),
            "1-sqrt": Ease(1.0, 0.0, steps=1, power=0.5).stretch(d).shift(1),
        }
        phases.append(rescale(unit[decay_kind]))
        bounds.append(w + stable + d)
    phases.append(Constant(m))
    return v.real("base_lr", base_lr) * (Join(phases, bounds) if bounds else phases[0])


def get_reduce_on_plateau_schedule(base_lr, **kwargs) -> Plateau:
    """``get_reduce_on_plateau_schedule``: torch's ReduceLROnPlateau, as an lrsched plateau rule."""
    from .torch import reduce_lr_on_plateau

    return reduce_lr_on_plateau(base_lr, **kwargs)


v.name_arguments(globals(), __all__)
