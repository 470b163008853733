"""NeMo: mirrors of the schedulers of ``nemo/core/optim/lr_scheduler.py`` (NeMo 2 wraps the same classes), pure
(nothing here imports nemo or torch), and :func:`from_config` for the ``sched:`` block of a NeMo optimizer config.

The clock is torch's: the scheduler's constructor sets the first update's lr at ``last_epoch`` 0 and
``step()`` follows each update, so update t runs at NeMo's ``step`` s = t - 1. Each mirror takes the class's own
keyword arguments and ``lr``, the optimizer's lr (NeMo's ``base_lrs``). ``warmup_ratio`` (and ``hold_ratio``,
``constant_ratio``) become ``int(ratio * max_steps)`` steps, as NeMo computes them. Each mirror checks every
argument before it builds anything; a bad one gets a TypeError or ValueError naming it and its value.

Most policies warm up as lr (s + 1) / (W + 1) for s <= W (the peak first at t = W + 1), then run their decay
while s <= max_steps, then hold ``min_lr``. Golden values: ``tests/golden/make_nemo.py`` runs NeMo's own file.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping

from . import _validate as v
from .algebra import Maximum, Pow
from .megatron import _on_clock  # the same clock: n = s = t - 1 there with increment 1
from .primitives import Clock, Constant, Cosine, Ease, InverseSqrt, Linear, Poly
from .schedule import Schedule

__all__ = [
    "CosineAnnealing",
    "InverseSquareRootAnnealing",
    "NoamAnnealing",
    "NoamHoldAnnealing",
    "PolynomialDecayAnnealing",
    "PolynomialHoldDecayAnnealing",
    "SquareAnnealing",
    "SquareRootAnnealing",
    "T5InverseSquareRootAnnealing",
    "WarmupAnnealing",
    "WarmupHoldAnnealLinear",
    "WarmupHoldAnnealOneMinusSquareRoot",
    "WarmupHoldPolicy",
    "WarmupPolicy",
    "from_config",
]

#: s itself, exactly, for every s up to 2**53 (powers of two make s * 2**53 / 2**53 exact)
_RAMP = Linear(0.0, float(2**53), 2**53)


def _steps(name: str, steps, ratio, max_steps, ratio_name: str) -> int:
    """NeMo's ``steps``, or ``int(ratio * max_steps)``, or 0; not both (NeMo asserts it)."""
    if steps is not None and ratio is not None:
        raise ValueError(f"give {name} or {ratio_name}, not both (got {v.show(steps)} and {v.show(ratio)})")
    if steps is not None:
        return v.whole(name, steps, 0)
    if ratio is not None:
        r = v.nonnegative(ratio_name, ratio)
        if max_steps is None:
            raise ValueError(f"{ratio_name}={v.show(ratio)} needs max_steps (NeMo asserts it)")
        n = v.computed(
            f"{name}, int({ratio_name} * max_steps),", r * max_steps, **{ratio_name: ratio}, max_steps=max_steps
        )
        return int(n)
    return 0


def _common(lr, max_steps, min_lr, *, required: bool = True) -> tuple[float, int | None, float]:
    base = v.real("lr", lr)
    if max_steps is None and required:
        raise ValueError("max_steps is needed (NeMo's constructor requires it)")
    m = None if max_steps is None else v.whole("max_steps", max_steps, 0)
    return base, m, v.real("min_lr", min_lr)


def _warm(lr: float, w: int) -> list:
    """WarmupPolicy's warmup, lr (s + 1) / (W + 1) for s <= W (read at x = s + 1 = t), one division as NeMo's."""
    return [(Linear(0.0, 1.0, 1).stretch(w + 1) * lr, -1, w)] if w > 0 else []


def _build(lr, w, main, origin, max_steps, min_lr, hold=None) -> Schedule:
    """Warmup, an optional hold at lr up to s = hold - 1, ``main`` at x = s - origin while s <= max_steps, then
    min_lr; a phase with no update is dropped (``main`` may be None then)."""
    phases = _warm(lr, w)
    if hold is not None:
        phases.append((Constant(lr), 0, hold - 1))
    if max_steps is None:
        return _on_clock([*phases, (main, origin, None)], 1)
    if main is not None:
        phases.append((main, origin, max_steps))
    return _on_clock([*phases, (Constant(min_lr), 0, None)], 1)


def _span(n: int) -> int | None:
    """A decay's length, or None where it holds no update (NeMo would divide by it only past max_steps)."""
    return n if n > 0 else None


def WarmupPolicy(lr, *, warmup_steps=None, warmup_ratio=None, max_steps=None, min_lr=0.0) -> Schedule:
    """``WarmupPolicy``: the warmup lr (s + 1) / (W + 1), then lr; min_lr past ``max_steps`` (if given).

    >>> s = lrsched.nemo.WarmupPolicy(1.0, warmup_steps=3, max_steps=6, min_lr=0.1)
    >>> [s(t) for t in range(1, 10)]
    [0.25, 0.5, 0.75, 1.0, 1.0, 1.0, 1.0, 0.1, 0.1]
    """
    base, m, low = _common(lr, max_steps, min_lr, required=False)
    w = _steps("warmup_steps", warmup_steps, warmup_ratio, m, "warmup_ratio")
    return _build(base, w, Constant(base), 0, m, low)


def WarmupAnnealing(lr, *, max_steps, min_lr=0.0, warmup_steps=None, warmup_ratio=None) -> Schedule:
    """``WarmupAnnealing``: then min_lr + (1 - p) (lr - min_lr), p = (s - W) / (M - W), linearly to min_lr.
    To the bit.

    >>> s = lrsched.nemo.WarmupAnnealing(1.0, max_steps=5, warmup_steps=1)
    >>> [s(t) for t in range(1, 8)]
    [0.5, 1.0, 0.75, 0.5, 0.25, 0.0, 0.0]
    """
    base, m, low = _common(lr, max_steps, min_lr)
    w = _steps("warmup_steps", warmup_steps, warmup_ratio, m, "warmup_ratio")
    d = _span(m - w)
    main = None if d is None else Linear(1.0, 0.0, 1).stretch(d) * (base - low) + low
    return _build(base, w, main, w, m, low)


def SquareAnnealing(lr, *, max_steps, min_lr=1e-5, warmup_steps=None, warmup_ratio=None) -> Schedule:
    """``SquareAnnealing``: then max(lr ((D - x) / D)^2, min_lr), x = s - W, D = M - W: min_lr is a floor, not
    the end (NeMo's default min_lr is 1e-5). To the bit.

    >>> s = lrsched.nemo.SquareAnnealing(1.0, max_steps=4, min_lr=0.0)
    >>> [s(t) for t in range(1, 7)]
    [1.0, 0.5625, 0.25, 0.0625, 0.0, 0.0]
    """
    base, m, low = _common(lr, max_steps, min_lr)
    w = _steps("warmup_steps", warmup_steps, warmup_ratio, m, "warmup_ratio")
    d = _span(m - w)
    if d is None:
        return _build(base, w, None, w, m, low)
    q = Linear(float(d), 0.0, d) / d  # (D - x) / D, the subtraction exact (integers) as NeMo's
    return _build(base, w, Maximum(q * q * base, Constant(low)), w, m, low)


def SquareRootAnnealing(lr, *, max_steps, min_lr=0.0, warmup_steps=None, warmup_ratio=None) -> Schedule:
    """``SquareRootAnnealing``: then max(lr sqrt((M - s) / M), min_lr). NeMo's quirk, mirrored: the decay counts
    from s = 0, not from the warmup's end, so the lr drops right after the warmup. Within an ulp or two.

    >>> s = lrsched.nemo.SquareRootAnnealing(1.0, max_steps=4, warmup_steps=1)
    >>> [round(s(t), 12) for t in range(1, 7)]
    [0.5, 1.0, 0.707106781187, 0.5, 0.0, 0.0]
    """
    base, m, low = _common(lr, max_steps, min_lr)
    w = _steps("warmup_steps", warmup_steps, warmup_ratio, m, "warmup_ratio")
    main = None if m == 0 else Maximum(Poly(base, 0.0, steps=m, power=0.5), Constant(low))
    return _build(base, w, main, 0, m, low)


def CosineAnnealing(
    lr, *, max_steps, min_lr=0.0, warmup_steps=None, warmup_ratio=None, constant_steps=None, constant_ratio=None
) -> Schedule:
    r"""``CosineAnnealing``, both of NeMo's paths.

    Without ``constant_steps`` (or 0): the warmup lr (s + 1) / (W + 1), then
    min_lr + (lr - min_lr) (1 + cos(π x / D)) / 2, x = s - W, D = M - W. With C = ``constant_steps`` > 0 (the
    Megatron-style path; NeMo 2's ``CosineAnnealingScheduler`` defaults to it): a *different* warmup, lr s / W
    (update 1 at lr 0), the cosine over D = M - C - W, then min_lr (for the C "constant" steps and past M). To
    the bit (but for lr s / W at s = W, which is lr itself here and may be an ulp off in NeMo).

    >>> s = lrsched.nemo.CosineAnnealing(1.0, max_steps=4, warmup_steps=1)
    >>> [round(s(t), 12) for t in range(1, 7)]
    [0.5, 1.0, 0.75, 0.25, 0.0, 0.0]
    >>> s = lrsched.nemo.CosineAnnealing(1.0, max_steps=6, warmup_steps=2, constant_steps=2)
    >>> [round(s(t), 12) for t in range(1, 9)]
    [0.0, 0.5, 1.0, 0.5, 0.0, 0.0, 0.0, 0.0]
    """
    base, m, low = _common(lr, max_steps, min_lr)
    w = _steps("warmup_steps", warmup_steps, warmup_ratio, m, "warmup_ratio")
    c = _steps("constant_steps", constant_steps, constant_ratio, m, "constant_ratio")
    if base < low or (c > 0 and base == low):
        rule = "lr must exceed min_lr (NeMo asserts it)" if c > 0 else "lr must be >= min_lr (NeMo raises)"
        raise ValueError(f"{rule}: got lr={v.show(lr)} and min_lr={v.show(min_lr)}")
    if c == 0:  # NeMo's cos(pi x / D) here, cos(pi (x / D)) on the other path
        d = _span(m - w)
        main = None if d is None else Cosine(1.0, 0.0, steps=d) * (base - low) + low
        return _build(base, w, main, w, m, low)
    d = _span(m - c - w)
    phases = [(Linear(0.0, base, w), 0, w)] if w > 0 else []
    if d is not None:
        phases.append((Cosine(1.0, 0.0, steps=1).stretch(d) * (base - low) + low, w, w + d))
    return _on_clock([*phases, (Constant(low), 0, None)], 1)


def InverseSquareRootAnnealing(lr, *, max_steps, min_lr=0.0, warmup_steps=None, warmup_ratio=None) -> Schedule:
    """``InverseSquareRootAnnealing``: then lr / sqrt((s + 1) / (W + 1)), min_lr past ``max_steps``. Within an
    ulp or two.

    >>> s = lrsched.nemo.InverseSquareRootAnnealing(1.0, max_steps=20, warmup_steps=1)
    >>> s(2), s(8), s(22)
    (1.0, 0.5, 0.0)
    """
    base, m, low = _common(lr, max_steps, min_lr)
    w = _steps("warmup_steps", warmup_steps, warmup_ratio, m, "warmup_ratio")
    return _build(base, w, InverseSqrt(base, scale=w + 1), w, m, low)


def T5InverseSquareRootAnnealing(lr, *, max_steps, min_lr=0.0, constant_steps=None, constant_ratio=None) -> Schedule:
    """``T5InverseSquareRootAnnealing``: 1 / sqrt(C) for s <= C, then 1 / sqrt(s), min_lr past ``max_steps``.
    It ignores the optimizer's lr (checked all the same). NeMo computes 1 / sqrt(C) from ``constant_steps``
    itself, so it needs it > 0 even with ``constant_ratio``. Within an ulp or two.

    >>> s = lrsched.nemo.T5InverseSquareRootAnnealing(0.1, max_steps=20, constant_steps=4)
    >>> s(1), s(5), s(17), s(22)
    (0.5, 0.5, 0.25, 0.0)
    """
    _, m, low = _common(lr, max_steps, min_lr)
    c = _steps("constant_steps", constant_steps, constant_ratio, m, "constant_ratio")
    if constant_steps is None or c == 0:
        raise ValueError(f"constant_steps must be > 0, got {v.show(constant_steps)}: NeMo divides by its square root")
    top = 1 / c**0.5
    phases = [(Constant(top), 0, c), (InverseSqrt(1.0, scale=1.0), 1, m), (Constant(low), 0, None)]
    return _on_clock(phases, 1)


def _poly(lr, m, low, w, hold, power, cycle, origin) -> Schedule:
    p, c = v.positive("power", power), v.flag("cycle", cycle)
    d = _span(m - max(w, 0 if hold is None else hold))
    if c and d is not None and origin < max(w, 0 if hold is None else hold):
        raise ValueError(
            "cycle=True with a warmup and no hold restarts NeMo's decay before max_steps, which is not mirrored; "
            "give hold_steps (cycle=True then changes nothing, as NeMo's min_lr past max_steps comes first)"
        )
    main = None if d is None else Poly(lr, low, steps=d, power=p)
    return _build(lr, w, main, origin, m, low, hold)


def PolynomialDecayAnnealing(
    lr, *, max_steps, min_lr=0.0, power=1.0, cycle=False, warmup_steps=None, warmup_ratio=None
) -> Schedule:
    """``PolynomialDecayAnnealing``: then (lr - min_lr) (1 - x / D)^power + min_lr, x = s - W, D = M - W.
    ``cycle=True`` changes nothing (NeMo returns min_lr past max_steps before it cycles). To the bit.

    >>> s = lrsched.nemo.PolynomialDecayAnnealing(1.0, max_steps=4, power=2.0)
    >>> [s(t) for t in range(1, 7)]
    [1.0, 0.5625, 0.25, 0.0625, 0.0, 0.0]
    """
    base, m, low = _common(lr, max_steps, min_lr)
    w = _steps("warmup_steps", warmup_steps, warmup_ratio, m, "warmup_ratio")
    v.positive("power", power)
    v.flag("cycle", cycle)
    return _poly(base, m, low, w, None, power, False, w)


def _hold(m, w, hold_steps, hold_ratio) -> int | None:
    """WarmupHoldPolicy's hold end H (the hold is W <= s < H): hold_steps + W, int(hold_ratio M) + W, or None."""
    if hold_steps is None and hold_ratio is None:
        return None
    return _steps("hold_steps", hold_steps, hold_ratio, m, "hold_ratio") + w


def WarmupHoldPolicy(
    lr, *, warmup_steps=None, warmup_ratio=None, hold_steps=None, hold_ratio=None, max_steps=None, min_lr=0.0
) -> Schedule:
    """``WarmupHoldPolicy``: the warmup, lr while s < H = W + ``hold_steps`` (even past ``max_steps``: NeMo
    checks the hold first), lr after it too, min_lr past ``max_steps``.

    >>> s = lrsched.nemo.WarmupHoldPolicy(1.0, warmup_steps=1, hold_steps=2, max_steps=4, min_lr=0.1)
    >>> [s(t) for t in range(1, 8)]
    [0.5, 1.0, 1.0, 1.0, 1.0, 0.1, 0.1]
    """
    base, m, low = _common(lr, max_steps, min_lr, required=False)
    w = _steps("warmup_steps", warmup_steps, warmup_ratio, m, "warmup_ratio")
    return _build(base, w, Constant(base), 0, m, low, _hold(m, w, hold_steps, hold_ratio))


def _hold_args(lr, max_steps, min_lr, warmup_steps, warmup_ratio, hold_steps, hold_ratio):
    base, m, low = _common(lr, max_steps, min_lr)
    w = _steps("warmup_steps", warmup_steps, warmup_ratio, m, "warmup_ratio")
    hold = _hold(m, w, hold_steps, hold_ratio)
    return base, m, low, w, hold, 0 if hold is None else hold


def WarmupHoldAnnealOneMinusSquareRoot(
    lr, *, max_steps, min_lr=0.0, warmup_steps=None, warmup_ratio=None, hold_steps=None, hold_ratio=None
) -> Schedule:
    """``WarmupHoldAnnealOneMinusSquareRoot``: after the hold, max(min_lr, lr (1 - sqrt((s - H) / (M - H)))).
    To the bit.

    >>> s = lrsched.nemo.WarmupHoldAnnealOneMinusSquareRoot(1.0, max_steps=6, warmup_steps=1, hold_steps=1)
    >>> [round(s(t), 12) for t in range(1, 9)]
    [0.5, 1.0, 1.0, 0.5, 0.292893218813, 0.133974596216, 0.0, 0.0]
    """
    base, m, low, w, hold, origin = _hold_args(
        lr, max_steps, min_lr, warmup_steps, warmup_ratio, hold_steps, hold_ratio
    )
    d = _span(m - origin)
    main = None if d is None else Maximum(Ease(1.0, 0.0, steps=1, power=0.5).stretch(d) * base, Constant(low))
    return _build(base, w, main, origin, m, low, hold)


def WarmupHoldAnnealLinear(
    lr, *, max_steps, min_lr=0.0, warmup_steps=None, warmup_ratio=None, hold_steps=None, hold_ratio=None
) -> Schedule:
    """``WarmupHoldAnnealLinear``: after the hold, lr - (lr - min_lr) (s - H) / (M - H). To the bit.

    >>> s = lrsched.nemo.WarmupHoldAnnealLinear(1.0, max_steps=5, warmup_steps=1, hold_steps=1)
    >>> [s(t) for t in range(1, 8)]
    [0.5, 1.0, 1.0, 0.6666666666666667, 0.33333333333333337, 0.0, 0.0]
    """
    base, m, low, w, hold, origin = _hold_args(
        lr, max_steps, min_lr, warmup_steps, warmup_ratio, hold_steps, hold_ratio
    )
    d = _span(m - origin)
    main = None if d is None else base - Linear(0.0, 1.0, 1).stretch(d) * (base - low)
    return _build(base, w, main, origin, m, low, hold)


def PolynomialHoldDecayAnnealing(
    lr, *, max_steps, min_lr=0.0, power=1.0, cycle=False, warmup_steps=None, warmup_ratio=None, hold_steps=None,
    hold_ratio=None,
) -> Schedule:  # fmt: skip
    """``PolynomialHoldDecayAnnealing``: after the hold, (lr - min_lr) (1 - x / D)^power + min_lr, x = s - H,
    D = M - max(W, H). Without a hold NeMo reads x = s (not s - W) with D = M - W, so the decay reaches min_lr W
    updates early (mirrored); ``cycle=True`` would restart it there and is refused in that case only. To the bit.

    >>> s = lrsched.nemo.PolynomialHoldDecayAnnealing(1.0, max_steps=5, warmup_steps=1, hold_steps=1)
    >>> [s(t) for t in range(1, 8)]
    [0.5, 1.0, 1.0, 0.6666666666666667, 0.33333333333333337, 0.0, 0.0]
    """
    base, m, low, w, hold, origin = _hold_args(
        lr, max_steps, min_lr, warmup_steps, warmup_ratio, hold_steps, hold_ratio
    )
    return _poly(base, m, low, w, hold, power, cycle, origin)


def _noam_value(base: float, norm: float, w: int, step: int, low: float) -> float:
    """NoamAnnealing's lr at ``step`` (>= 1), in NeMo's own arithmetic: for its first update, where step = 1."""
    mult = norm * min(step**-0.5, step * w**-1.5) if w > 0 else norm * step**-0.5
    out = base * mult
    return max(out, low) if step > w else out


def NoamAnnealing(lr, *, d_model, warmup_steps=None, warmup_ratio=None, max_steps=None, min_lr=0.0) -> Schedule:
    r"""``NoamAnnealing``: lr d^{-1/2} min(k^{-1/2}, k W^{-3/2}), k = max(1, s), floored at min_lr after the
    warmup; it never stops at ``max_steps`` (NeMo reads it only for ``warmup_ratio``). Updates 1 and 2 are equal
    (k = 1 for both). Within an ulp or two.

    >>> s = lrsched.nemo.NoamAnnealing(1.0, d_model=1, warmup_steps=4)
    >>> [s(t) for t in range(1, 7)] + [s(17)]
    [0.125, 0.125, 0.25, 0.375, 0.5, 0.4472135954999579, 0.25]
    """
    base, m, low = _common(lr, max_steps, min_lr, required=False)
    d = v.positive("d_model", d_model)
    w = _steps("warmup_steps", warmup_steps, warmup_ratio, m, "warmup_ratio")
    if base < low:
        raise ValueError(f"lr must be >= min_lr (NeMo raises): got lr={v.show(lr)} and min_lr={v.show(min_lr)}")
    norm = d**-0.5
    phases = [(Constant(_noam_value(base, norm, w, 1, low)), 0, 0)]
    if w > 0:
        phases.append((_RAMP * w**-1.5 * norm * base, 0, w))  # k W^(-3/2) d^(-1/2) lr at x = s = k
    phases.append((Maximum(InverseSqrt(base * norm, scale=1.0), Constant(low)), 1, None))  # at x = k - 1
    return _on_clock(phases, 1)


def NoamHoldAnnealing(
    lr, *, max_steps, decay_rate=0.5, min_lr=0.0, warmup_steps=None, warmup_ratio=None, hold_steps=None,
    hold_ratio=None,
) -> Schedule:  # fmt: skip
    r"""``NoamHoldAnnealing``: the warmup, the hold, then max(lr (W / u)^r, min_lr), u = s - hold_steps,
    r = ``decay_rate``; min_lr past ``max_steps``. Needs a warmup (NeMo raises without one). Written as NeMo
    computes it, lr max(1, W^r) / max(1, u^r) with ``**`` of the clock: to the bit, for any r.

    >>> s = lrsched.nemo.NoamHoldAnnealing(1.0, max_steps=20, warmup_steps=4, hold_steps=2)
    >>> s(5), s(7), round(s(15), 12), s(22)
    (1.0, 1.0, 0.57735026919, 0.0)
    """
    base, m, low, w, hold, _ = _hold_args(lr, max_steps, min_lr, warmup_steps, warmup_ratio, hold_steps, hold_ratio)
    r = v.nonnegative("decay_rate", decay_rate)
    if w == 0:
        given = f"warmup_steps={v.show(warmup_steps)}, warmup_ratio={v.show(warmup_ratio)}, max_steps={m!r}"
        raise ValueError(f"NoamHoldAnnealing needs a warmup of > 0 steps (NeMo raises without one), got {given}")
    held = 0 if hold is None else hold - w  # NeMo's hold_steps: the count, not where it ends
    # NeMo's arithmetic: lr max(1, W^r) / max(1, u^r), u = s - held = W + x at x = s - (W + held)
    try:
        top = base * max(1, float(w) ** r)
    except OverflowError:
        top = math.inf
    if not math.isfinite(top):
        raise ValueError(f"lr={base!r}, decay_rate={r!r}: lr * max(1, W^r) at W={w} is beyond the float range")
    decay = top / Maximum(Constant(1.0), Pow.of(Clock() + float(w), r))
    main = Maximum(decay, Constant(low))
    return _build(base, w, main, w + held, m, low, hold)


#: the sched: keys NeMo's prepare_lr_scheduler reads itself and does not pass to the scheduler
_NOT_ARGS = ("name", "max_steps", "t_max_epochs", "t_accumulate_grad_batches", "t_limit_train_batches")
_NOT_ARGS += ("t_num_workers", "monitor", "reduce_on_plateau")
_TORCH = {"StepLR": "step_lr", "ExponentialLR": "exponential_lr", "CyclicLR": "cyclic_lr"}


def from_config(sched, lr, max_steps=None) -> dict[str, Schedule]:
    """The schedule NeMo's ``prepare_lr_scheduler`` builds from the ``sched:`` block of an optimizer config
    (a mapping: ``name``, the class's arguments such as ``warmup_ratio`` or ``min_lr``, and ``max_steps``), as
    ``{"lr": ...}``. ``lr`` is the optimizer's lr; ``max_steps`` is the run's number of updates where the block
    has none (NeMo computes it from the trainer: ``t_max_epochs``, accumulation, ...); the block's own wins, as in
    NeMo. An unknown name or argument, and a missing ``max_steps``, are refused by key.

    >>> sched = {"name": "CosineAnnealing", "warmup_ratio": 0.1, "min_lr": 1e-5}
    >>> s = lrsched.nemo.from_config(sched, lr=1e-3, max_steps=1000)["lr"]
    >>> s == lrsched.nemo.CosineAnnealing(1e-3, max_steps=1000, warmup_ratio=0.1, min_lr=1e-5)
    True
    """
    if not isinstance(sched, Mapping):
        raise TypeError(f"sched must be a mapping (the sched: block), got {v.show(sched)}")
    name = sched.get("name")
    mirrors = [n for n in __all__ if n != "from_config"]
    names = f"the names are {', '.join(mirrors)}"
    if name is None:
        raise ValueError(f"sched.name is missing ({names})")
    if not isinstance(name, str):
        raise TypeError(f"sched.name must be the name of a NeMo scheduler ({names}), got {v.show(name)}")
    if name in _TORCH or name == "ReduceLROnPlateau":
        other = "lrsched.torch.plateau_lr" if name == "ReduceLROnPlateau" else f"lrsched.torch.{_TORCH[name]}"
        raise ValueError(f"sched.name={name!r} is torch's own scheduler: use {other}")
    if name not in mirrors:
        hint = v.did_you_mean(name, mirrors, otherwise=names)
        raise ValueError(f"sched.name={v.show(name)} is not a NeMo scheduler{hint}")
    mirror = globals()[name]
    args = sched.get("args")
    if args is None:
        args = {k: x for k, x in sched.items() if k not in _NOT_ARGS}
    elif not isinstance(args, Mapping):
        raise TypeError(f"sched.args must be a mapping, got {v.show(args)}")
    known = set(inspect.signature(mirror).parameters) - {"lr", "max_steps"}
    for key in args:
        if not isinstance(key, str):
            raise TypeError(f"sched has a key that is not a string: {v.show(key)}")
        if key not in known:
            raise ValueError(f"sched.{key} is not an argument of {name}{v.did_you_mean(key, sorted(known))}")
    steps = sched.get("max_steps", max_steps)
    if steps is None:
        raise ValueError("sched.max_steps is missing: give it in the block or as from_config(..., max_steps=...)")
    if v.whole("sched.max_steps", steps) == -1:
        raise ValueError("sched.max_steps=-1: NeMo builds no scheduler then")
    try:
        return {"lr": mirror(lr, max_steps=steps, **args)}
    except (TypeError, ValueError) as e:
        raise type(e)(f"sched ({name}): {e}") from None
