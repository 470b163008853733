"""Megatron-core: a mirror of ``megatron.core.optimizer_param_scheduler.OptimizerParamScheduler`` (its lr, every
``lr_decay_style``, and its weight decay, every ``wd_incr_style``), pure (nothing here imports megatron or torch),
and :func:`from_args` for Megatron-LM's own arguments.

The clock: the constructor calls ``step(0)`` and training calls ``step(increment)`` after each successful update,
so update t runs at ``num_steps`` n = (t - 1) * increment. ``increment`` is 1 where the durations count updates,
and the global batch size where they count samples (as Megatron-LM's training loop does, with a constant batch
size; a batch-size ramp-up is not mirrored). Phase edges are found in whole updates with Megatron's own
comparisons, so they fall on the same update; inside a phase the values are Megatron's arithmetic: to the bit with
increment 1 and a whole warmup (the inverse square root, and WSD's minus_sqrt anneal, within an ulp of the peak:
lrsched takes p ** 0.5 where Megatron takes sqrt(p)), within a few ulps of the peak otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from . import _validate as v
from .algebra import Maximum
from .combinators import Join, decay_curve
from .primitives import Constant, Cosine, InverseSqrt, Linear
from .schedule import Schedule

__all__ = ["from_args", "optimizer_param_scheduler"]

_DECAY = ("constant", "linear", "cosine", "inverse-square-root", "WSD")
_WSD = ("linear", "cosine", "exponential", "minus_sqrt")
_WD = ("constant", "linear", "cosine")


def _last_update(last_n: float, inc: int) -> int:
    """How many updates run at n = 0, inc, 2 inc, ... with n <= last_n (Megatron's own float comparison)."""
    if last_n < 0:
        return 0
    k = int(last_n // inc)
    while (k + 1) * inc <= last_n:
        k += 1
    while k * inc > last_n:
        k -= 1
    return k + 1


def _on_clock(phases, inc: int) -> Schedule:
    """``phases``: (P, origin, last_n), P read at x = n - origin while n <= last_n (None: to the end, the last
    phase), on the clock n = (t - 1) inc; phases holding no update are dropped. Where x < 0 (the inverse square
    root without warmup, at n = 0) P reads x = 0, which is Megatron's max(n, 1) there."""
    out, bounds, prev = [], [], 0
    for p, origin, last_n in phases:
        end = math.inf if last_n is None else _last_update(last_n, inc)
        if end <= prev:
            continue
        c = origin - (prev - 1) * inc  # the phase's own t' reads x = t' inc - c
        if inc != 1:
            p, c = p.stretch(1.0 / inc), c / inc
        out.append(p.shift(c) if c else p)
        bounds.append(float(end))
        prev = end
        if last_n is None:
            break
    return Join(out, bounds[:-1]) if len(out) > 1 else out[0]


def _decay_tail(style, max_lr, min_lr, w, d, wsd_steps, wsd_style):
    """The phases after the warmup (n > W), as (P, origin, last_n)."""
    delta = max_lr - min_lr
    if style == "constant":
        return [(Constant(max_lr), 0.0, None)]
    floor = (Constant(min_lr), 0.0, None)
    if style == "inverse-square-root":
        # max sqrt(max(W, 1)) / sqrt(max(n, 1)): at x = n - W' with W' = max(W, 1), max / sqrt(1 + x / W')
        wp = max(w, 1.0)
        return [(Maximum(InverseSqrt(max_lr, scale=wp), Constant(min_lr)), wp, d), floor]
    if style in ("linear", "cosine"):
        shape = Linear(1.0, 0.0, 1) if style == "linear" else Cosine(1.0, 0.0, steps=1)
        return [(shape.stretch(d - w) * delta + min_lr, w, d), floor]
    start = d - wsd_steps  # WSD: max to the anneal's start, then the anneal over wsd_steps
    # the coefficient from 1 to 0 over a unit of progress, the shape lrsched.cooldown spells the same way
    # (minus_sqrt is its "sqrt", exponential Megatron's 2 * 0.5^p - 1), scaled as Megatron does: min + c * delta
    shape = decay_curve(wsd_style, 1.0, 0.0, 1.0)
    anneal = shape.stretch(wsd_steps) * delta + min_lr if wsd_steps > 0 else Constant(max_lr)
    return [(Constant(max_lr), 0.0, start), (anneal, start, d), floor]


def _lr(init_lr, max_lr, min_lr, w, d, style, wsd_steps, wsd_style, inc) -> Schedule:
    warm = [(Linear(init_lr, max_lr, w), 0.0, w)] if w > 0 else []
    return _on_clock(warm + _decay_tail(style, max_lr, min_lr, w, d, wsd_steps, wsd_style), inc)


def _wd(start_wd, end_wd, steps, style, inc) -> Schedule:
    if style == "constant":
        return Constant(end_wd)
    if style == "linear":
        shape = Linear(0.0, 1.0, 1)
    else:  # 0.5 (cos(pi (1 - p)) + 1): the rising half cosine
        shape = Cosine(0.0, 1.0, steps=1)
    rise = shape.stretch(steps) * (end_wd - start_wd) + start_wd
    return _on_clock([(rise, 0.0, steps), (Constant(end_wd), 0.0, None)], inc)


def _real_steps(name: str, value, positive: bool = False) -> float:
    """A step count Megatron takes as a number (a warmup of ``lr_warmup_fraction * lr_decay_steps`` need not be
    whole): finite, >= 0 (> 0 if ``positive``)."""
    x = v.positive(name, value) if positive else v.nonnegative(name, value)
    return float(x)


def optimizer_param_scheduler(
    init_lr,
    max_lr,
    min_lr,
    lr_warmup_steps,
    lr_decay_steps,
    lr_decay_style: str,
    start_wd=0.0,
    end_wd=0.0,
    wd_incr_steps=None,
    wd_incr_style: str = "constant",
    wsd_decay_steps=None,
    lr_wsd_decay_style: str | None = None,
    increment: int = 1,
) -> dict[str, Schedule]:
    r"""Megatron-core's ``OptimizerParamScheduler``: ``{"lr": ..., "weight_decay": ...}``, for
    ``lrsched.torch.scheduler(optimizer, **optimizer_param_scheduler(...))``.

    .. math:: \eta(n) = \begin{cases} \eta_i + (\eta_{max} - \eta_i)\, n / W & 0 < W,\ n \le W \\
        \eta_{max} & \text{constant} \\ \eta_{min} & n > D \\
        \max\!\left(\eta_{min}, \eta_{max} \sqrt{\max(W, 1) / \max(n, 1)}\right) & \text{inverse-square-root} \\
        \eta_{min} + (\eta_{max} - \eta_{min})\, c(p), \quad p = \frac{n - W}{D - W} & \text{linear, cosine, WSD}
        \end{cases}, \qquad n = (t - 1) \cdot \mathrm{increment}

    η_i = ``init_lr``, W = ``lr_warmup_steps``, D = ``lr_decay_steps`` (absolute: it includes the warmup).
    c(p) = 1 - p (linear) or (1 + cos(π p)) / 2 (cosine). WSD holds η_max until D - ``wsd_decay_steps``, then
    anneals over them with ``lr_wsd_decay_style``: linear, cosine, exponential (2 · 0.5^q - 1, which reaches 0 at
    q = 1) or minus_sqrt (1 - sqrt(q)). The weight decay rises from ``start_wd`` to ``end_wd`` over
    ``wd_incr_steps`` (linear, or the rising half cosine), then holds ``end_wd``; ``constant`` needs them equal
    (Megatron asserts it). Multiply by a group's ``wd_mult`` for groups that have one.

    Clock: update t runs at n = (t - 1) · ``increment`` (``step(0)`` in the constructor, ``step(increment)``
    after each update): the peak is first used at t = W / increment + 1.

    >>> s = lrsched.megatron.optimizer_param_scheduler(0.0, 1.0, 0.1, 2, 6, "linear")
    >>> [round(s["lr"](t), 12) for t in range(1, 9)]
    [0.0, 0.5, 1.0, 0.775, 0.55, 0.325, 0.1, 0.1]
    """
    init, peak, low = v.real("init_lr", init_lr), v.real("max_lr", max_lr), v.real("min_lr", min_lr)
    w = _real_steps("lr_warmup_steps", lr_warmup_steps)
    d = _real_steps("lr_decay_steps", lr_decay_steps, positive=True)
    style = v.choice("lr_decay_style", lr_decay_style, _DECAY)
    s_wd, e_wd = v.real("start_wd", start_wd), v.real("end_wd", end_wd)
    wd_style = v.choice("wd_incr_style", wd_incr_style, _WD)
    inc = v.whole("increment", increment, 1)
    if low < 0:
        raise ValueError(f"min_lr must be >= 0, got {v.show(min_lr)}")
    if peak < low:
        raise ValueError(f"max_lr={v.show(max_lr)} must be >= min_lr={v.show(min_lr)}")
    if init > peak:
        raise ValueError(f"init_lr={v.show(init_lr)} must be <= max_lr={v.show(max_lr)}")
    if not w < d:
        raise ValueError(f"lr_warmup_steps={v.show(lr_warmup_steps)} must be < lr_decay_steps={v.show(lr_decay_steps)}")
    wsd = None if wsd_decay_steps is None else _real_steps("wsd_decay_steps", wsd_decay_steps)
    wsd_style = None if lr_wsd_decay_style is None else v.choice("lr_wsd_decay_style", lr_wsd_decay_style, _WSD)
    if style == "WSD" and (wsd is None or wsd_style is None):
        missing = "wsd_decay_steps" if wsd is None else "lr_wsd_decay_style"
        raise ValueError(f"lr_decay_style='WSD' needs {missing}")
    if s_wd < 0:
        raise ValueError(f"start_wd must be >= 0, got {v.show(start_wd)}")
    if e_wd < s_wd:
        raise ValueError(f"end_wd={v.show(end_wd)} must be >= start_wd={v.show(start_wd)}")
    if wd_style == "constant":
        if s_wd != e_wd:
            raise ValueError(f"wd_incr_style='constant' needs start_wd == end_wd, got {s_wd!r} and {e_wd!r}")
        if wd_incr_steps is not None:
            _real_steps("wd_incr_steps", wd_incr_steps)
        steps = 1.0
    else:
        if wd_incr_steps is None:
            raise ValueError(f"wd_incr_style={wd_style!r} needs wd_incr_steps")
        steps = _real_steps("wd_incr_steps", wd_incr_steps, positive=True)
    return {
        "lr": _lr(init, peak, low, w, d, style, wsd, wsd_style, inc),
        "weight_decay": _wd(s_wd, e_wd, steps, wd_style, inc),
    }


#: Megatron-LM's argument defaults (megatron/training/arguments.py) for the arguments read here
_DEFAULTS = {
    "min_lr": 0.0,
    "lr_decay_style": "linear",
    "lr_wsd_decay_style": "exponential",
    "lr_warmup_fraction": None,
    "lr_warmup_iters": 0,
    "lr_warmup_samples": 0,
    "lr_warmup_init": 0.0,
    "lr_decay_iters": None,
    "lr_decay_samples": None,
    "lr_wsd_decay_iters": None,
    "lr_wsd_decay_samples": None,
    "train_iters": None,
    "train_samples": None,
    "weight_decay": 0.01,
    "start_weight_decay": None,
    "end_weight_decay": None,
    "weight_decay_incr_style": "constant",
}


def _get(args, key):
    """``args.key`` (a Namespace) or ``args[key]`` (a mapping), else Megatron's default; refused by key if
    it has none."""
    if isinstance(args, Mapping):
        if key in args:
            return args[key]
    elif hasattr(args, key):
        return getattr(args, key)
    if key in _DEFAULTS:
        return _DEFAULTS[key]
    raise ValueError(f"args.{key} is missing: Megatron's scheduler needs it")


def _given(a, key: str) -> int:
    """A count Megatron-LM tests by truth (``if args.train_iters:``): an integer >= 0, 0 where it is None."""
    value = a(key)
    return 0 if value is None else v.whole(f"args.{key}", value, 0)


def _durations(a, gbs: int) -> tuple:
    """(lr_warmup_steps, lr_decay_steps, wd_incr_steps, wsd_decay_steps) in samples, as Megatron-LM's
    ``get_optimizer_param_scheduler`` computes them (iterations times the global batch size)."""
    # Megatron tests them by truth: None or 0 is not given (train_samples only read without train_iters)
    iters = _given(a, "train_iters")
    samples = 0 if iters else _given(a, "train_samples")
    fraction = a("lr_warmup_fraction")
    if iters:
        decay_iters = a("lr_decay_iters")
        decay = v.whole("args.lr_decay_iters", iters if decay_iters is None else decay_iters, 1) * gbs
        wd_steps = iters * gbs
        wsd_iters = a("lr_wsd_decay_iters")
        wsd = None if wsd_iters is None else v.whole("args.lr_wsd_decay_iters", wsd_iters, 0) * gbs
        warm = None if fraction is not None else v.whole("args.lr_warmup_iters", a("lr_warmup_iters"), 0) * gbs
    elif samples:
        decay_samples = a("lr_decay_samples")
        decay = v.whole("args.lr_decay_samples", samples if decay_samples is None else decay_samples, 1)
        wd_steps = samples
        wsd_samples = a("lr_wsd_decay_samples")
        wsd = None if wsd_samples is None else v.whole("args.lr_wsd_decay_samples", wsd_samples, 0)
        warm = None if fraction is not None else v.whole("args.lr_warmup_samples", a("lr_warmup_samples"), 0)
    else:
        raise ValueError("args.train_iters or args.train_samples must be a positive number (both are missing or 0)")
    if warm is None:
        warm = v.fraction("args.lr_warmup_fraction", fraction) * decay
    return warm, decay, wd_steps, wsd


def from_args(args) -> dict[str, Schedule]:
    """The lr and weight-decay schedules Megatron-LM's training builds from its arguments (a Namespace or a
    mapping, with Megatron's own names: lr, min_lr, lr_warmup_iters / _samples / _fraction, lr_decay_iters /
    _samples, lr_decay_style, lr_wsd_decay_style, lr_wsd_decay_iters / _samples, start_weight_decay,
    end_weight_decay (or weight_decay, for the constant style), weight_decay_incr_style, lr_warmup_init,
    train_iters / train_samples, global_batch_size), on its clock: durations in samples, ``increment`` = the
    global batch size (constant: a batch-size ramp-up is not mirrored). A missing or bad argument is refused
    by its key.

    >>> args = dict(lr=1.0, min_lr=0.0, train_iters=4, lr_warmup_iters=1, global_batch_size=8)
    >>> s = lrsched.megatron.from_args(args)["lr"]
    >>> [s(t) for t in range(1, 7)]
    [0.0, 1.0, 0.6666666666666667, 0.33333333333333337, 0.0, 0.0]
    """

    def a(key):
        return _get(args, key)

    gbs = v.whole("args.global_batch_size", a("global_batch_size"), 1)
    warm, decay, wd_steps, wsd = _durations(a, gbs)
    for key in ("lr", "min_lr", "lr_warmup_init"):
        v.real(f"args.{key}", a(key))
    v.choice("args.lr_decay_style", a("lr_decay_style"), _DECAY)
    style = v.choice("args.weight_decay_incr_style", a("weight_decay_incr_style"), _WD)
    start, end = a("start_weight_decay"), a("end_weight_decay")
    if style == "constant":
        start = a("weight_decay") if start is None else start
        end = a("weight_decay") if end is None else end
    try:
        return optimizer_param_scheduler(
            init_lr=a("lr_warmup_init"),
            max_lr=a("lr"),
            min_lr=a("min_lr"),
            lr_warmup_steps=warm,
            lr_decay_steps=decay,
            lr_decay_style=a("lr_decay_style"),
            start_wd=start,
            end_wd=end,
            wd_incr_steps=wd_steps,
            wd_incr_style=style,
            wsd_decay_steps=wsd,
            lr_wsd_decay_style=a("lr_wsd_decay_style"),
            increment=gbs,
        )
    except (TypeError, ValueError) as e:
        names = "max_lr is args.lr, init_lr args.lr_warmup_init, start_wd / end_wd args.start_ / end_weight_decay"
        raise type(e)(f"Megatron args: {e} ({names})") from None
