r"""Named recipes from the literature, each a short composition of primitives.

A recipe returns an ordinary schedule (its repr shows the composition), so it
can be inspected, changed, saved or composed further. Called with a duration
in the symbols ``total`` or ``epoch`` (see :mod:`lrsched.symbols`), it returns
the call itself, a :class:`Recipe`, which is composed as soon as it is bound.

Each recipe checks every argument, and what it derives from them, before it
builds anything: a bad one gets a TypeError or ValueError naming it and its
value, never a message of a primitive inside.
"""

from __future__ import annotations

import functools
import inspect
import math

from . import _validate as v
from .combinators import Cooldown, Cycle, Join, Warmup, decay_shape
from .primitives import Constant, Cosine, Exponential, InverseSqrt, Linear
from .schedule import Field, Schedule, format_value
from .symbols import DURATIONS, refuse_misplaced, substitute, symbols_in, try_bindings
from .value import RECIPES

__all__ = [
    "d2z",
    "exp_range",
    "flat_cos",
    "noam",
    "one_cycle",
    "sgdr",
    "triangular",
    "triangular2",
    "warmup_cosine",
    "wsd",
    "wsd_s",
]


class Recipe(Schedule):
    """A recipe called with durations in ``total`` or ``epoch``: the call, made when the schedule is bound.

    Its repr is the call, and its config names the recipe (``{"type": "warmup_cosine", ...}``).
    """

    kind = "recipe"
    unlisted = True  # not a kind of schedule: REGISTRY holds the kinds, RECIPES the recipes
    fields = (
        Field("name", lambda n, x: v.choice(n, x, tuple(RECIPES))),
        Field("arguments", lambda n, x: tuple((str(k), _held(y)) for k, y in x), symbolic=True),
    )

    def _bind(self, bindings: dict) -> Schedule:
        if self._symbols.isdisjoint(bindings):
            return self
        kwargs = {k: substitute(x, bindings) for k, x in self.arguments}
        try:
            return RECIPES[self.name](**kwargs)
        except (TypeError, ValueError) as e:
            given = ", ".join(f"{k}={v.show(x)}" for k, x in sorted(bindings.items()))
            written = "; ".join(f"{k} = {format_value(x)}" for k, x in self.arguments if symbols_in(x))
            raise type(e)(f"{e} (binding {given}: {written})") from None

    def __repr__(self) -> str:
        first = next(iter(inspect.signature(RECIPES[self.name]).parameters))
        parts = [format_value(x) if k == first else f"{k}={format_value(x)}" for k, x in self.arguments]
        return f"{self.name}({', '.join(parts)})"


def _held(x):
    return tuple(_held(y) for y in x) if isinstance(x, list) else x


def _deferred(fn):
    """``fn``, returning the call itself (a :class:`Recipe`) when an argument holds ``total`` or ``epoch``."""
    sig = inspect.signature(fn)

    @functools.wraps(fn)
    def recipe(*args, **kwargs):
        try:
            call = sig.bind(*args, **kwargs)
        except TypeError as e:
            names = list(sig.parameters)
            for key in kwargs:
                if key not in names:
                    hint = v.did_you_mean(key, names, cutoff=0.5, otherwise=f"the parameters are {', '.join(names)}")
                    raise TypeError(f"{fn.__name__}() got an unexpected parameter {key!r}{hint}") from None
            raise TypeError(f"{fn.__name__}(): {e}") from None
        if not symbols_in(tuple(call.arguments.values())):
            return fn(*args, **kwargs)
        for key, x in call.arguments.items():  # a symbol where no duration goes (peak=total): refused by name
            refuse_misplaced(f"{fn.__name__}(): ", key, x, DURATIONS.get(key, False))
        held = ", ".join(k for k, x in call.arguments.items() if symbols_in(x))
        try:  # that numbers may go there at all; their values are checked when bound
            try_bindings(lambda b: fn(**{k: substitute(_held(x), b) for k, x in call.arguments.items()}))
        except (TypeError, ValueError) as e:
            raise type(e)(f"{e} (for any run: {held} hold total or epoch)") from None
        return Recipe(fn.__name__, tuple(call.arguments.items()))

    return recipe


def _end_value(peak: float, end, end_ratio) -> float:
    """The final lr of a recipe: ``end``, or ``end_ratio * peak`` (optax's ``alpha``, Levanter's and Hugging Face's
    ``min_lr_ratio``, composer's ``alpha_f``); 0 when neither is given, refused by name when both are."""
    if end is not None and end_ratio is not None:
        raise ValueError(
            f"end={v.show(end)} and end_ratio={v.show(end_ratio)} are both given: give one (end_ratio means "
            "end = end_ratio * peak)"
        )
    if end_ratio is None:
        return 0.0 if end is None else v.real("end", end)
    ratio = v.real("end_ratio", end_ratio)
    return v.computed("the end, end_ratio * peak,", ratio * peak, peak=peak, end_ratio=end_ratio)


@_deferred
def warmup_cosine(
    peak: float,
    steps: float,
    warmup_steps: float,
    end: float | None = None,
    start: float = 0.0,
    end_ratio: float | None = None,
) -> Schedule:
    r"""Linear warmup to ``peak``, then a half cosine down to ``end``; ``steps`` in all.

    .. math:: \eta(t) = \begin{cases} s + (\hat\eta - s)\, t / W & t \le W \\
        e + (\hat\eta - e)\,\frac{1 + \cos(\pi (t - W) / (N - W))}{2} & t > W \end{cases}

    The recipe of Goyal et al. 2017 (warmup) with SGDR's cosine (Loshchilov and
    Hutter 2017), as in most transformer training. ``end`` (default 0) may be
    given as a ratio of the peak instead, ``end_ratio`` (e = ``end_ratio`` *
    peak: optax's ``alpha``, Hugging Face's and Levanter's ``min_lr_ratio``).

    >>> s = warmup_cosine(0.1, steps=100, warmup_steps=10)
    >>> s(10), s(100)
    (0.1, 0.0)
    >>> warmup_cosine(2.0, steps=100, warmup_steps=10, end_ratio=0.1)(100)
    0.2
    """
    n, w = v.positive("steps", steps), v.nonnegative("warmup_steps", warmup_steps)
    peak, start = v.real("peak", peak), v.real("start", start)
    end = _end_value(peak, end, end_ratio)
    if w >= n:
        raise ValueError(f"warmup_steps={w!r} must be less than steps={n!r}")
    return Warmup(Cosine(peak, end, steps=n - w), steps=w, start=start)


def one_cycle_levels(name: str, peak: float, div_factor: float, final_div_factor: float) -> tuple[float, float]:
    """The lrs one cycle (Smith and Topin 2017) runs between, as torch's OneCycleLR computes them: the initial lr
    ``peak / div_factor`` and the final lr ``peak / div_factor / final_div_factor``, each checked finite and
    refused naming the parameters (``name`` is the peak's: ``"peak"`` here, ``"max_lr"`` in
    :func:`lrsched.torch.one_cycle_lr`, which uses this too). ``div_factor`` and ``final_div_factor`` are > 0,
    checked by the caller."""
    low = v.computed(f"the initial lr, {name} / div_factor,", peak / div_factor, **{name: peak}, div_factor=div_factor)
    final = v.computed(
        f"the final lr, {name} / div_factor / final_div_factor,",
        low / final_div_factor,
        **{name: peak},
        div_factor=div_factor,
        final_div_factor=final_div_factor,
    )
    return low, final


@_deferred
def one_cycle(
    peak: float,
    steps: float,
    pct_start: float = 0.3,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    shape: str = "cosine",
) -> Schedule:
    r"""One cycle (Smith and Topin 2017, "Super-convergence"): up from
    ``peak / div_factor`` to ``peak`` over ``pct_start`` of the steps, then down to
    ``peak / div_factor / final_div_factor``. ``shape`` is ``"cosine"`` or ``"linear"``.

    .. math:: \eta(t) = \begin{cases} g(l, \hat\eta, t / U) & t \le U \\
        g(\hat\eta, l / F, \min(t - U, N - U) / (N - U)) & t > U \end{cases}

    with :math:`\hat\eta` = ``peak``, l = peak / ``div_factor``, F =
    ``final_div_factor``, N = ``steps``, U = ``pct_start`` N, and g(a, b, p) the
    shape from a to b at progress p (cosine: b + (a - b)(1 + cos(pi p)) / 2).

    >>> s = one_cycle(1.0, steps=10)
    >>> s(3), s(10)
    (1.0, 4e-06)
    """
    peak = v.real("peak", peak)
    n = v.positive("steps", steps)
    pct = v.interval("pct_start", pct_start, 0, 1, low_open=True, high_open=True)
    div, final_div = v.positive("div_factor", div_factor), v.positive("final_div_factor", final_div_factor)
    piece = {"cosine": Cosine, "linear": Linear}[v.choice("shape", shape, ("cosine", "linear"))]
    low, final = one_cycle_levels("peak", peak, div, final_div)
    up = v.computed("the rise, pct_start * steps,", pct * n, positive=True, pct_start=pct_start, steps=steps)
    down = v.computed("the fall, steps - pct_start * steps,", n - up, positive=True, pct_start=pct_start, steps=steps)
    return Join([piece(low, peak, up), piece(peak, final, down)], [up])


@_deferred
def sgdr(
    peak: float,
    period: float,
    period_mult: float = 1.0,
    decay: float = 1.0,
    end: float | None = None,
    limit: int | None = None,
    end_ratio: float | None = None,
) -> Schedule:
    r"""SGD with warm restarts (Loshchilov and Hutter 2017): cosine from ``peak`` to
    ``end`` over cycles of ``period * period_mult**i`` updates, peaks scaled by
    ``decay**i`` (the amplitude decay users ask torch for, pytorch issue 195009).

    .. math:: \eta(t) = d^{i} \left(e + (\hat\eta - e)\,\tfrac12 (1 + \cos(\pi x / P_i))\right),
        \qquad P_i = P m^{i},\ x = t - S_i \in (0, P_i]

    with cycle i the one holding t, S_i the sum of the lengths before it,
    P = ``period``, m = ``period_mult``, d = ``decay`` (see :class:`lrsched.Cycle`).
    ``end`` (default 0) or ``end_ratio``: e = ``end_ratio`` * peak (composer's ``alpha_f``).

    >>> s = sgdr(1.0, period=10, period_mult=2, decay=0.5)
    >>> s(10), s(11) < 0.5, s(30)
    (0.0, True, 0.0)
    """
    peak = v.real("peak", peak)
    end = _end_value(peak, end, end_ratio)
    p, mult = v.positive("period", period), v.positive("period_mult", period_mult)
    d, n = v.positive("decay", decay), v.optional_count("limit", limit)
    if mult < 1 and n is None:
        raise ValueError(f"period_mult={v.show(period_mult)} < 1 needs a limit: the cycles would shrink to nothing")
    return Cycle(Cosine(peak, end, steps=p), p, period_mult=mult, decay=d, limit=n)


@_deferred
def wsd(
    peak: float,
    steps: float,
    warmup_steps: float,
    decay_steps: float,
    decay: str = "linear",
    end: float | None = None,
    start: float = 0.0,
    end_ratio: float | None = None,
) -> Schedule:
    r"""Warmup-stable-decay (Hu et al. 2024, MiniCPM; Hägele et al. 2024): linear
    warmup to ``peak``, hold it, then decay to ``end`` over the last
    ``decay_steps``: ``"linear"``, ``"cosine"``, ``"1-sqrt"`` (:math:`1 - \sqrt{p}`, Hugging Face's
    spelling; also ``"sqrt"``, torchtitan's and :func:`lrsched.cooldown`'s, and ``"minus_sqrt"``, Megatron's) or
    ``"exponential"`` (Megatron's :math:`2 \cdot 0.5^{p} - 1`, which reaches ``end`` at p = 1). ``end``
    (default 0) may be given as ``end_ratio`` instead: e = ``end_ratio`` * peak (Hugging Face's and
    Levanter's ``min_lr_ratio``). It is a warmup to a constant, cooled down:

    .. math:: \eta(t) = \begin{cases} s + (\hat\eta - s)\, t / W & t \le W \\
        \hat\eta & W < t \le N - D \\
        e + (\hat\eta - e)\, g\big(\min(t - N + D, D) / D\big) & t > N - D \end{cases}

    with g(p) = 1 - p, (1 + cos(pi p)) / 2, 1 - sqrt(p) or 2 * 0.5**p - 1, N = ``steps``, W =
    ``warmup_steps``, D = ``decay_steps``. Megatron's ``lr_decay_style="WSD"`` at update t is
    ``wsd(max_lr, lr_decay_steps, lr_warmup_steps, wsd_decay_steps, decay=lr_wsd_decay_style, end=min_lr,
    start=init_lr).shift(1)``, counting iterations (its n = t - 1; :mod:`lrsched.megatron` mirrors every clock).

    >>> s = wsd(1.0, steps=100, warmup_steps=10, decay_steps=20, decay="1-sqrt")
    >>> s
    cooldown(warmup(constant(1), steps=10), at=80, steps=20, shape='sqrt')
    >>> s(10), s(80), s(85), s(100)
    (1.0, 1.0, 0.5, 0.0)
    """
    n, w, d = (
        v.positive("steps", steps),
        v.nonnegative("warmup_steps", warmup_steps),
        v.positive("decay_steps", decay_steps),
    )
    peak, start = v.real("peak", peak), v.real("start", start)
    end = _end_value(peak, end, end_ratio)
    if w + d > n:
        raise ValueError(f"warmup_steps + decay_steps = {w + d!r} exceed steps={n!r}")
    shape = decay_shape("decay", decay)
    stable = Warmup(Constant(peak), steps=w, start=start) if w > 0 else Constant(peak)
    return Cooldown(stable, at=n - d, steps=d, to=end, shape=shape)


def _cycle_part(name: str, value, length: float, fractions: bool) -> float:
    """One cycle's warmup or decay length, in updates: ``value`` itself, or with ``fractions`` the fraction
    ``value`` in [0, 1] of the cycle's ``length``, rounded down to whole updates (Levanter's int(f * L))."""
    if not fractions:
        return v.nonnegative(name, value)
    return float(math.floor(v.interval(name, value, 0, 1) * length))


#: the most cycles a wsd_s takes (each is a phase of its own: laying out thousands would take seconds)
_MAX_CYCLES = 1000


@_deferred
def wsd_s(
    peak: float,
    cycle_ends,
    decay_steps: float | None = None,
    warmup_steps: float = 0.0,
    rewarmup_steps: float = 0.0,
    decay: str = "linear",
    end: float | None = None,
    end_ratio: float | None = None,
    start: float = 0.0,
    fractions: bool = False,
    zero_based: bool = False,
) -> Schedule:
    r"""WSD-S, as Levanter's optimizer config has it: cycles of warmup-stable-decay (Hu et al. 2024, MiniCPM),
    each re-warming from the previous one's end value (Wen et al. 2024, "Understanding Warmup-Stable-Decay
    Learning Rates: A River Valley Loss Landscape Perspective").

    Cycle i runs from :math:`E_{i-1}` to :math:`E_i` (``cycle_ends``, :math:`E_{-1} = 0`; the last is the end
    of the run), :math:`L_i = E_i - E_{i-1}` updates; at :math:`x = t - E_{i-1} \in (0, L_i]`:

    .. math:: \eta(t) = \begin{cases} a_i + (\hat\eta - a_i)\, x / W_i & x \le W_i \\
        \hat\eta & W_i < x \le L_i - D_i \\
        e + (\hat\eta - e)\, g\big((x - L_i + D_i) / D_i\big) & x > L_i - D_i \end{cases}

    with :math:`a_0` = ``start``, :math:`a_i = e` after (the end value of the cycle before), :math:`W_0` =
    ``warmup_steps``, :math:`W_i` = ``rewarmup_steps`` after, :math:`D_i` = ``decay_steps`` (None: the whole
    cycle after its warmup, :math:`L_i - W_i`), e = ``end`` (default 0) or ``end_ratio`` * peak, and g the
    ``decay`` shape of :func:`wsd` (``"linear"``, ``"cosine"``, ``"1-sqrt"``, ``"exponential"``). After the
    last cycle ``end`` is held. With ``fractions=True`` the three lengths are fractions of each cycle in
    [0, 1], rounded down to whole updates: :math:`W_i = \lfloor w L_i \rfloor`, as Levanter reads its
    ``warmup``, ``rewarmup`` and ``decay`` when they are at most 1.

    ``zero_based=True`` counts each cycle from 0 instead, as Levanter (and optax, and
    :class:`lrsched.Cycle` with ``zero_based``) does: with :math:`x = t - E_{i-1} - 1 \in [0, L_i)` in the
    formula above, so the first update of a cycle gets the start of its warmup, :math:`a_i` (the peak
    where it has none), and its last update gets its decay one step short of e. Levanter's run, update for update
    (its optax count is t - 1), is ``wsd_s(peak, cycle_ends, decay_steps=decay, warmup_steps=warmup,
    rewarmup_steps=rewarmup, decay=lr_schedule, end_ratio=min_lr_ratio, fractions=True, zero_based=True)`` for
    Levanter's ``OptimizerConfig(learning_rate=peak, cycles=cycle_ends[:-1], warmup=..., rewarmup=...,
    decay=..., min_lr_ratio=..., lr_schedule="linear" or "cosine")`` over ``cycle_ends[-1]`` steps, fractions
    as Levanter reads values up to 1 (whole steps: ``fractions=False``; Levanter's ``decay`` is the length,
    ``decay`` here the shape, as in :func:`wsd`). Where every cycle re-warms
    (``rewarmup_steps`` > 0) that is the default clock one update late, ``wsd_s(...).shift(1)``; without a
    re-warmup the lr jumps back to the peak, and there the two clocks differ by that update.

    >>> s = wsd_s(1.0, cycle_ends=[10, 20], decay_steps=4, warmup_steps=2, rewarmup_steps=2, end_ratio=0.1)
    >>> [round(s(t), 3) for t in (1, 2, 6, 8, 10, 11, 12, 16, 20, 30)]
    [0.5, 1.0, 1.0, 0.55, 0.1, 0.55, 1.0, 1.0, 0.1, 0.1]
    """
    peak, start = v.real("peak", peak), v.real("start", start)
    ends = v.reals("cycle_ends", cycle_ends, v.positive)
    if not ends:
        raise ValueError("cycle_ends must not be empty: give the end of every cycle, the last one the run's end")
    if len(ends) > _MAX_CYCLES:  # each cycle is a phase of its own (a cooldown from its own value)
        raise ValueError(f"cycle_ends has {len(ends)} cycles; wsd_s takes at most {_MAX_CYCLES}")
    v.increasing("cycle_ends", ends)
    fractions = v.flag("fractions", fractions)
    shape = decay_shape("decay", decay)
    end = _end_value(peak, end, end_ratio)
    # checked once before the cycles, so that a bad value is refused by name even where no cycle reads it
    _cycle_part("warmup_steps", warmup_steps, 0.0, fractions)
    _cycle_part("rewarmup_steps", rewarmup_steps, 0.0, fractions)
    if decay_steps is not None and not fractions:
        v.positive("decay_steps", decay_steps)
    elif decay_steps is not None:
        _cycle_part("decay_steps", decay_steps, 0.0, True)
    cycles: list[Schedule] = []
    begin, prev = 0.0, start
    for i, stop in enumerate(ends):
        length = v.computed(f"cycle {i}'s length", stop - begin, positive=True, cycle_ends=list(ends))
        name, x = ("warmup_steps", warmup_steps) if i == 0 else ("rewarmup_steps", rewarmup_steps)
        w = _cycle_part(name, x, length, fractions)
        d = length - w if decay_steps is None else _cycle_part("decay_steps", decay_steps, length, fractions)
        where = f"cycle {i} (t = {format_value(begin)} .. {format_value(stop)}, {format_value(length)} updates)"
        if not d > 0 and decay_steps is None:
            raise ValueError(f"{where} has no decay: {name}={v.show(x)} takes all of it (decay_steps=None: the rest)")
        if not d > 0:
            raise ValueError(
                f"{where} has no decay: decay_steps={v.show(decay_steps)} gives it {format_value(d)} updates"
            )
        if w + d > length:
            raise ValueError(
                f"{where}: {name}={v.show(x)} ({format_value(w)} updates) and decay_steps={v.show(decay_steps)} "
                f"({format_value(d)}) exceed it"
            )
        held = Warmup(Constant(peak), steps=w, start=prev) if w > 0 else Constant(peak)
        cycles.append(Cooldown(held, at=length - d, steps=d, to=end, shape=shape))
        begin, prev = stop, end
    if v.flag("zero_based", zero_based):  # each cycle at x = t' - 1: its own first update sees x = 0
        cycles = [c.shift(1) for c in cycles]
    return Join(cycles, list(ends[:-1])) if len(cycles) > 1 else cycles[0]


@_deferred
def d2z(peak: float, steps: float, warmup_steps: float = 0.0) -> Schedule:
    r"""D2Z, linear decay to zero (Bergsma et al. 2025, "Straight to Zero: Why Linearly Decaying the Learning
    Rate to Zero Works Best for LLMs"): a linear warmup to ``peak``, then a straight line to 0 at ``steps``.

    .. math:: \eta(t) = \begin{cases} \hat\eta\, t / W & t \le W \\
        \hat\eta\, \frac{N - \min(t, N)}{N - W} & t > W \end{cases}

    with N = ``steps``, W = ``warmup_steps``.

    >>> s = d2z(1.0, steps=100, warmup_steps=20)
    >>> s(10), s(20), s(60), s(100), s(200)
    (0.5, 1.0, 0.5, 0.0, 0.0)
    """
    peak = v.real("peak", peak)
    n, w = v.positive("steps", steps), v.nonnegative("warmup_steps", warmup_steps)
    if w >= n:
        raise ValueError(f"warmup_steps={w!r} must be less than steps={n!r}")
    line = Linear(peak, 0.0, n - w)
    return Warmup(line, steps=w) if w > 0 else line


@_deferred
def noam(d_model: int, warmup_steps: float, factor: float = 1.0) -> Schedule:
    r"""The Transformer's schedule (Vaswani et al. 2017):

    .. math:: \eta(t) = f\, d^{-1/2} \min(t^{-1/2},\ t\, W^{-3/2})

    a linear warmup to :math:`f\,(d W)^{-1/2}` at t = W, then inverse square
    root decay (``inverse_sqrt(peak, scale=W)`` after the warmup is exactly
    :math:`t^{-1/2}` scaled).

    >>> s = noam(512, warmup_steps=4000)
    >>> round(s(4000), 10) == round(512 ** -0.5 * 4000 ** -0.5, 10), round(s(16000) / s(4000), 12)
    (True, 0.5)
    """
    d = v.count("d_model", d_model)
    w = v.positive("warmup_steps", warmup_steps)
    f = v.positive("factor", factor)
    peak = v.computed(
        "the peak, factor * (d_model * warmup_steps)**-0.5,",
        f * (d * w) ** -0.5,
        positive=True,
        factor=factor,
        d_model=d_model,
        warmup_steps=warmup_steps,
    )
    return Warmup(InverseSqrt(peak, scale=w), steps=w)


def _triangle(half: float) -> Schedule:
    return Join([Linear(0.0, 1.0, half), Linear(1.0, 0.0, half)], [half])


def _cyclical(low, high, half_period) -> tuple[float, float, float]:
    """The arguments of Smith's cyclical rates, checked: (low, amplitude high - low, half period)."""
    low, high, h = v.real("low", low), v.real("high", high), v.positive("half_period", half_period)
    amplitude = v.computed("high - low", high - low, high=high, low=low)
    v.computed("the cycle, 2 * half_period,", 2 * h, half_period=half_period)
    return low, amplitude, h


@_deferred
def triangular(low: float, high: float, half_period: float) -> Schedule:
    r"""Cyclical learning rates (Smith 2017): up from ``low`` to ``high`` over
    ``half_period`` updates and back, for ever.

    .. math:: \eta(t) = l + (h - l)\,\max(0, 1 - |x / H - 1|), \qquad x = t \bmod 2H

    with l = ``low``, h = ``high``, H = ``half_period`` (x = 2H at the end of a cycle).

    >>> s = triangular(0.1, 1.0, half_period=2)
    >>> [round(s(t), 12) for t in range(1, 6)]
    [0.55, 1.0, 0.55, 0.1, 0.55]
    """
    low, amplitude, h = _cyclical(low, high, half_period)
    return low + amplitude * Cycle(_triangle(h), 2 * h)


@_deferred
def triangular2(low: float, high: float, half_period: float) -> Schedule:
    r"""Like :func:`triangular`, the amplitude halved every cycle (Smith 2017).

    .. math:: \eta(t) = l + (h - l)\,2^{-i} \max(0, 1 - |x / H - 1|)

    in cycle i (0-based) of length 2H, x the time into it, as in :func:`triangular`.

    >>> s = triangular2(0.0, 1.0, half_period=2)
    >>> s(2), s(6)
    (1.0, 0.5)
    """
    low, amplitude, h = _cyclical(low, high, half_period)
    return low + amplitude * Cycle(_triangle(h), 2 * h, decay=0.5)


@_deferred
def exp_range(low: float, high: float, half_period: float, gamma: float) -> Schedule:
    r"""Like :func:`triangular`, the amplitude scaled by :math:`\gamma^{t}` (Smith 2017).

    >>> s = exp_range(0.0, 1.0, half_period=2, gamma=0.5)
    >>> s(2)
    0.25
    """
    low, amplitude, h = _cyclical(low, high, half_period)
    g = v.positive("gamma", gamma)
    return low + amplitude * (Cycle(_triangle(h), 2 * h) * Exponential(1.0, g))


@_deferred
def flat_cos(
    peak: float, steps: float, pct_flat: float = 0.75, end: float | None = None, end_ratio: float | None = None
) -> Schedule:
    r"""Flat, then cosine annealing (fastai's ``fit_flat_cos``): ``peak`` for
    ``pct_flat`` of the steps, then a half cosine to ``end``.

    .. math:: \eta(t) = \begin{cases} \hat\eta & t \le F \\
        e + (\hat\eta - e)\,\tfrac12 \left(1 + \cos\frac{\pi \min(t - F, N - F)}{N - F}\right) & t > F \end{cases}

    with N = ``steps``, F = ``pct_flat`` N, e = ``end`` (default 0), or ``end_ratio`` * peak.

    >>> s = flat_cos(1.0, steps=100)
    >>> s(75), s(100)
    (1.0, 0.0)
    """
    peak = v.real("peak", peak)
    n = v.positive("steps", steps)
    pct = v.interval("pct_flat", pct_flat, 0, 1, low_open=True, high_open=True)
    end = _end_value(peak, end, end_ratio)
    flat = v.computed("the flat part, pct_flat * steps,", n * pct, positive=True, pct_flat=pct_flat, steps=steps)
    fall = v.computed(
        "the cosine, steps * (1 - pct_flat),", n * (1 - pct), positive=True, pct_flat=pct_flat, steps=steps
    )
    return Join([Constant(peak), Cosine(peak, end, steps=fall)], [flat])


RECIPES.update({name: globals()[name] for name in __all__})
