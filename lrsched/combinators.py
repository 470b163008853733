r"""Combinators in time: schedules run one after another or again.

``join`` runs schedules one after another, ``warmup`` ramps into one,
``cooldown`` decays from any point of one, ``extend`` continues a run on a
longer plan, and ``cycle`` restarts one. The algebra that reshapes values and
time (``+ - * / **``, ``exp``, ``log``, ``sqrt``, ``floor``, ``ceil``, ``round``,
``quantize``, ``minimum``, ``maximum``, ``clip``, ``shift``, ``stretch``,
``warp``, ``per_epoch``) and ``function`` are in :mod:`lrsched.algebra`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from . import _validate as v
from . import layout
from .algebra import Shift, Stretch
from .engine import WHOLE_END, cycle_start, expecting, whole_cycles, whole_start
from .primitives import Cosine, Ease, Exponential, Geometric, Linear
from .schedule import Field, Schedule, as_schedule, as_schedules
from .structure import Onset, cycle_breaks, joined_breaks, joined_settles

# ---------------------------------------------------------------- sequencing


class Join(Schedule):
    r"""Run ``schedules`` one after another, switching after each boundary.

    .. math:: \eta(t) = s_i(t - b_i) \quad \text{for } b_i < t \le b_{i+1},
        \qquad b_0 = 0,\ b_{k} = \infty

    Every phase sees its own first iteration as t = 1. ``boundaries`` are > 0
    and strictly increasing; there is one schedule more than boundaries. A
    join inside a join is flattened into one (its phases that would start
    after the outer phase ends are dropped).

    Example:
        >>> s = join([constant(1.0), linear(1.0, 0.0, 10)], boundaries=[100])
        >>> s(100), s(101), s(110)
        (1.0, 0.9, 0.0)
    """

    kind = "join"
    fields = (
        Field("schedules", as_schedules, nested="many"),
        Field("boundaries", lambda n, x: v.reals(n, x, v.positive), keyword=True),
    )

    def _check(self):
        scheds, bounds = self.schedules, self.boundaries
        if not scheds:
            raise ValueError("schedules must not be empty")
        v.increasing("boundaries", bounds)
        if len(scheds) != len(bounds) + 1:
            raise ValueError(
                f"needs one more schedule than boundaries: got {len(scheds)} schedules and {len(bounds)} boundaries"
            )
        if not any(isinstance(s, Join) for s in scheds):
            return
        flat_s: list[Schedule] = []
        flat_b: list[float] = []
        for i, s in enumerate(scheds):
            begin = bounds[i - 1] if i else 0.0
            end = bounds[i] if i < len(bounds) else math.inf
            if isinstance(s, Join):
                flat_s.append(s.schedules[0])
                for b, inner in zip(s.boundaries, s.schedules[1:]):
                    if begin + b >= end:
                        break
                    flat_b.append(begin + b)
                    flat_s.append(inner)
            else:
                flat_s.append(s)
            if i < len(bounds):
                flat_b.append(end)
        try:
            v.increasing("boundaries", tuple(flat_b))
        except ValueError as e:
            raise ValueError(f"the boundaries of the joins inside round onto each other when flattened: {e}") from None
        self._set("schedules", tuple(flat_s))
        self._set("boundaries", tuple(flat_b))

    def _encode(self, enc):
        return enc.node(layout.JOIN, list(self.boundaries), self.schedules)

    def _breaks(self, stop):
        return joined_breaks(self.boundaries, self.schedules, stop)

    def _settles(self):
        return joined_settles(self.boundaries, self.schedules[-1])


_WARMUP_SHAPES = {"linear": Linear, "cosine": Cosine, "exponential": Geometric}


class Warmup(Schedule):
    r"""Ramp from ``start`` to ``schedule(0)`` over ``steps``, then run ``schedule``.

    .. math:: \eta(t) = \begin{cases} \mathrm{ramp}(t) & t \le w \\ s(t - w) & t > w \end{cases}

    where w = ``steps`` and the ramp goes from ``start`` at t = 0 to s(0) at
    t = w: ``linear``, ``cosine`` or ``exponential`` (geometric; needs start > 0).
    The first update already gets a step of the ramp, not ``start`` itself.
    ``steps=0`` means no warmup: the schedule itself (configs switch it off so).

    Example:
        >>> s = warmup(constant(1.0), steps=4)
        >>> s(1), s(4), s(5)
        (0.25, 1.0, 1.0)
    """

    kind = "warmup"
    fields = (
        Field("schedule", as_schedule, nested="one"),
        Field("steps", v.nonnegative, keyword=True),
        Field("start", v.real, 0.0),
        Field("shape", lambda n, x: v.choice(n, x, tuple(_WARMUP_SHAPES)), "linear"),
    )

    def _check(self):
        if self.shape == "exponential" and self.steps > 0:
            target = self.schedule(0)
            if self.start <= 0 or target <= 0:
                raise ValueError(
                    f"an exponential warmup needs start > 0 and schedule(0) > 0, got start={self.start!r} "
                    f"and schedule(0)={target!r}"
                )

    def _encode(self, enc):
        kid = enc.encode(self.schedule)
        if self.steps == 0:
            return kid
        ramp = _WARMUP_SHAPES[self.shape](self.start, enc.value_at(0.0, self.schedule), self.steps)
        return enc.node(layout.JOIN, [self.steps], (ramp, kid))

    def _breaks(self, stop):  # the ramp has no break of its own before its end
        return joined_breaks([self.steps], (None, self.schedule), stop) if self.steps else self.schedule._breaks(stop)

    def _settles(self):
        return joined_settles([self.steps], self.schedule)


def _two_halvings(x: float, to: float, n: float) -> Schedule:
    """Megatron's "exponential" WSD anneal from x to ``to`` over n: to + (x - to) (2 * 0.5**(t / n) - 1), then ``to``.

    2 * 0.5**p - 1 falls from 1 at p = 0 to 0 at p = 1 (exactly: 2 * 0.5 - 1), faster first; the clamp of the
    exponential at 1 holds 0 from p = 1 on. It is not an exponential decay (it reaches its end)."""
    g = Exponential(2.0, 0.5, every=n, end=1.0) - 1.0
    return g * (x - to) + to


_COOLDOWN_SHAPES = {
    "linear": lambda x, to, n: Linear(x, to, n),
    "cosine": lambda x, to, n: Cosine(x, to, steps=n),
    "sqrt": lambda x, to, n: Ease(x, to, steps=n, power=0.5),
    "exponential": _two_halvings,
}
#: other spellings of a shape, read as the one printed: wsd's decay="1-sqrt" (Hugging Face's) and Megatron's
#: "minus_sqrt" are the cooldown's "sqrt"
SHAPE_ALIASES = {"1-sqrt": "sqrt", "minus_sqrt": "sqrt"}


def decay_shape(name: str, value) -> str:
    """A cooldown or WSD decay shape: "linear", "cosine", "sqrt" ("1-sqrt" and "minus_sqrt" are read as "sqrt")
    or "exponential"; refused naming ``name`` otherwise."""
    if isinstance(value, str) and value in SHAPE_ALIASES:
        return SHAPE_ALIASES[value]
    return v.choice(name, value, (*_COOLDOWN_SHAPES, *SHAPE_ALIASES))


def decay_curve(shape: str, start: float, end: float, steps: float) -> Schedule:
    r"""From ``start`` to ``end`` over ``steps`` updates along a decay shape g, then ``end``.

    .. math:: \eta(t) = e + (s - e)\, g\big(\min(t, n) / n\big)

    with g(p) = 1 - p (``"linear"``), (1 + cos(pi p)) / 2 (``"cosine"``), 1 - sqrt(p) (``"sqrt"``) or
    2 * 0.5**p - 1 (``"exponential"``, Megatron's WSD anneal): the tail of :func:`lrsched.cooldown`,
    of :func:`lrsched.wsd` and of each cycle of :func:`lrsched.wsd_s`.

    >>> decay_curve("exponential", 1.0, 0.0, 10)
    exponential(2, 0.5, every=10, end=1) - 1
    >>> [decay_curve("exponential", 3.0, 1.0, 2)(t) for t in (0, 1, 2, 5)]
    [3.0, 1.8284271247461903, 1.0, 1.0]
    """
    return _COOLDOWN_SHAPES[decay_shape("shape", shape)](start, end, steps)


class Cooldown(Schedule):
    r"""``schedule`` up to update ``at``, then from its value there down to ``to`` over ``steps`` updates.

    .. math:: \eta(t) = \begin{cases} s(t) & t \le a \\
        c + (s(a) - c)\, g\big(\min(t - a, n) / n\big) & t > a \end{cases}

    where a = ``at``, n = ``steps``, c = ``to``, and g(p) is 1 - p
    (``"linear"``), (1 + cos(pi p)) / 2 (``"cosine"``), 1 - sqrt(p)
    (``"sqrt"``, also spelled ``"1-sqrt"`` and ``"minus_sqrt"``: the cooldown of Hägele et al. 2024) or
    2 * 0.5**p - 1 (``"exponential"``: Megatron's WSD anneal, which reaches c at p = 1; not an
    exponential decay, unlike :func:`lrsched.warmup`'s geometric ``"exponential"`` ramp: for a geometric
    decay, ``geometric``). It is the decay branch of
    warmup-stable-decay taken from any checkpoint: a run saved at update a
    continues on ``cooldown(s, at=a, steps=n)`` without a jump.

    Example:
        >>> s = cooldown(constant(1.0), at=100, steps=10, shape="sqrt")
        >>> s(100), s(102), s(110), s(200)
        (1.0, 0.5527864045000421, 0.0, 0.0)
    """

    kind = "cooldown"
    fields = (
        Field("schedule", as_schedule, nested="one"),
        Field("at", v.nonnegative, keyword=True),
        Field("steps", v.positive, keyword=True),
        Field("to", v.real, 0.0),
        Field("shape", decay_shape, "linear"),
    )

    def _encode(self, enc):
        kid = enc.encode(self.schedule)
        tail = decay_curve(self.shape, enc.value_at(self.at, self.schedule), self.to, self.steps)
        if self.at == 0:
            return enc.encode(tail)
        return enc.node(layout.JOIN, [self.at], (kid, tail))

    def _breaks(self, stop):  # the tail is one phase of ``steps``; at 0 the schedule is never used
        kid = self.schedule if self.at > 0 else None
        return joined_breaks([self.at, self.at + self.steps], (kid, None, None), stop)

    def _settles(self):
        return self.at + self.steps


#: extend reads the new plan in chunks of this many updates, and plans of at most _EXTEND_MAX updates
_CHUNK = 1 << 20
_EXTEND_MAX = 1 << 22


class _Scan:
    """One pass over new(0), new(1), ..., new(last + 1), a chunk at a time: what Extend needs of the values.

    ``peak``/``top``: the largest value over t = 0 .. last and the first whole t where it is; ``rise``: the
    last whole t whose next value is higher (-1: none); ``lows``/``highs``: per chunk (its first t), the
    smallest value and how many values are >= x; ``final``: new(last + 1), the value after the plan settles.
    """

    def __init__(self, new: Schedule, last: int, x: float):
        self.new, self.x, self.stop = new, x, last + 2
        self.peak, self.top, self.rise = -math.inf, 0, -1
        self.lows: list[tuple[int, float, int]] = []
        prev = None
        with expecting(last + 2):  # the tier is chosen for the whole plan, not per chunk
            for lo in range(0, last + 2, _CHUNK):
                ys = self.values(lo, min(lo + _CHUNK, last + 2))
                head = ys if lo + ys.size <= last + 1 else ys[:-1]  # the peak is over 0 .. last
                i = int(np.argmax(head)) if head.size else 0
                if head.size and head[i] > self.peak:
                    self.peak, self.top = float(head[i]), lo + i
                both = ys if prev is None else np.concatenate(([prev], ys))
                up = both[1:] > both[:-1]
                if up.any():  # a rise beyond rounding (a restart, a warmup), not one ulp of a flat stretch
                    up &= both[1:] - both[:-1] > 1e-12 * np.maximum(np.abs(both[1:]), np.abs(both[:-1]))
                    found = np.flatnonzero(up)
                    if found.size:
                        self.rise = lo + int(found[-1]) - (0 if prev is None else 1)
                self.lows.append((lo, float(ys.min()), int(np.count_nonzero(ys >= x))))
                prev = ys[-1]
        self.final = float(prev)

    def values(self, lo: int, hi: int) -> np.ndarray:
        """new over lo .. hi - 1, read no further than the scan (past it new holds ``final``, below x)."""
        return self.new(np.arange(lo, min(hi, self.stop), dtype=np.float64))

    def first_at_most(self, start: int) -> int:
        """The first whole t >= start where new <= x (it exists: new ends at final <= x)."""
        for lo, low, _ in self.lows:
            if lo + _CHUNK > start and low <= self.x:
                first = max(lo, start)
                below = np.flatnonzero(self.values(first, lo + _CHUNK) <= self.x)
                if below.size:
                    return first + int(below[0])
        raise RuntimeError("new does not come down to old(at)")  # pragma: no cover - final <= x is checked

    def plateau_end(self, k: int) -> int:
        """The last whole t of the stretch from k on where new == x (new does not rise after k: values >= x)."""
        lo = k - k % _CHUNK
        count = int(np.count_nonzero(self.values(k, lo + _CHUNK) >= self.x))
        return k - 1 + count + sum(n for start, _, n in self.lows if start > lo)


class Extend(Schedule):
    r"""A run trained on ``old`` up to update ``at`` that continues on the longer plan ``new``, without a jump.

    .. math:: \eta(t) = \begin{cases} o(t) & t \le a \\
        n\big(\tau_0 + (t - a)\,\frac{L - \tau_0}{L - a}\big) & t > a \end{cases}

    where o = ``old``, n = ``new``, a = ``at``, L = ``new.length()`` (where
    the new plan settles: its end) and :math:`\tau_0` the point of n that
    continues the run. Let P be the first whole t in [0, L] where n is
    largest (t = 0 counts: a constant lr continued on a fresh cosine starts
    at its top) and :math:`[\tau_a, \tau_b]` the first stretch at or after P
    where n comes down to o(a) (:math:`\tau_a` where it gets there;
    :math:`\tau_b` the last whole t it holds o(a), a plateau; or
    :math:`\tau_b = \tau_a`). Then :math:`\tau_0` is a clamped into it:
    :math:`\tau_0 = \min(\max(a, \tau_a), \tau_b)`, and :math:`\tau_0 = a`
    wherever n(a) = o(a) on that stretch or before P (still warming up on
    the same ramp). So the past is kept exactly; at a the value is o(a) (no
    jump); a run on a plateau (WSD's stable phase) stays on it until the new
    plan's own decay, and extending by the same plan is the plan itself (the
    rate is 1: bit for bit at whole a); elsewhere the new plan's decay, from
    the point where it has the run's lr, runs at the pace that makes it end
    at L with n's final value.

    Refused, each by name: a ``new`` that never settles, settles by ``at``,
    or settles after 2**22 updates (extend reads every update of the plan:
    write longer plans in coarser units and ``stretch`` the result); an
    o(a) above n's peak or below its final value, or equal to its final
    value (the run has finished its decay: the continuation would hold it
    flat; re-warm up, or branch a ``cooldown`` from an earlier update); a
    ``new`` that jumps over o(a) (a step decay: no point of it equals o(a));
    and a ``new`` that rises again after :math:`\tau_0` (restarts: the
    continuation would jump), all over whole t.

    Example:
        >>> old = cosine(1.0, 0.0, steps=100)
        >>> new = cosine(1.0, 0.0, steps=200)
        >>> s = extend(old, new, at=50)
        >>> s(50) == old(50), round(s(51), 6), s(200)  # s(51) = new(100 + 2/3): new is 0.5 at 100
        (True, 0.494764, 0.0)
        >>> plan = wsd(0.1, steps=1000, warmup_steps=100, decay_steps=200)
        >>> extend(plan, plan, at=500)(850) == plan(850)  # on the plateau: continue from at
        True
    """

    kind = "extend"
    __slots__ = ("_plan", "at", "new", "old")  # the fields, and the continuation found once by _check
    fields = (
        Field("old", as_schedule, nested="one"),
        Field("new", as_schedule, nested="one"),
        Field("at", v.positive, keyword=True),
    )

    def _check(self):
        self._set("_plan", self._continuation())

    def _continuation(self) -> tuple[float, float, float]:
        """(tau_0, L, o(a)), or ValueError saying why no continuation exists (one pass over new)."""
        new, a = self.new, self.at
        end = new.length()
        if end is None:
            raise ValueError(f"new never settles ({new!r}): extend needs the new plan's end")
        if end <= a:
            raise ValueError(f"new settles at t = {end!r}, not after at={a!r}: nothing is left to continue")
        if end > _EXTEND_MAX:
            raise ValueError(
                f"new settles at t = {end!r}; extend reads plans of at most {_EXTEND_MAX} updates "
                "(write both plans in coarser units, e.g. per 10 updates, and .stretch(10) the result)"
            )
        x = self.old(a)
        scan = _Scan(new, int(math.ceil(end)), x)
        if x > scan.peak:
            raise ValueError(f"old(at) = {x!r} is above new's peak {scan.peak!r}: no point of new continues it")
        if x < scan.final:
            raise ValueError(f"old(at) = {x!r} is below new's final value {scan.final!r}: no point of new continues it")
        if x == scan.final:
            raise ValueError(
                f"old(at) = {x!r} is already new's final value: at={a!r} is at or after the end of old's decay, "
                f"and the continuation would hold that lr flat up to t = {end!r}; to train on, re-warm up "
                "(join old with a warmup) or branch a cooldown from an earlier update (cooldown(..., at=...))"
            )
        if a < scan.top and new(a) == x:  # still on new's own ramp: carry on along it
            tau0, k = a, scan.top
        else:
            tau0, k = self._point(scan, x)
        if scan.rise >= k:
            t = scan.rise + 1
            raise ValueError(
                f"new rises again after the point that continues the run (t = {tau0!r}): last at t = {t}, "
                f"new({t}) = {new(t)!r} > new({t - 1}) = {new(t - 1)!r} (a restart); the continuation would jump there"
            )
        if not tau0 < end:  # new gets to old(at) only as it ends: its pace would be 0
            raise ValueError(
                f"old(at) = {x!r} is reached by new only at its end (t = {end!r}): nothing of new is left to continue"
                " it; give an at where old is higher"
            )
        return tau0, float(end), x

    def _point(self, scan: _Scan, x: float) -> tuple[float, int]:
        """(tau_0, k): a clamped into the first stretch after the peak where new holds x; k its first whole t."""
        new, a = self.new, self.at
        k = scan.first_at_most(scan.top)
        tau_a = float(k)
        if k > scan.top:  # new(k - 1) > x >= new(k): where it gets to x, by bisection
            lo_t = float(k - 1)
            while True:
                mid = 0.5 * (lo_t + tau_a)
                if not lo_t < mid < tau_a:
                    break
                if new(mid) <= x:
                    tau_a = mid
                else:
                    lo_t = mid
            y = new(tau_a)
            if abs(y - x) > 1e-9 * max(abs(x), abs(scan.peak)):
                raise ValueError(
                    f"new jumps over old(at) = {x!r} near t = {tau_a!r} (from {new(lo_t)!r} to {y!r}): "
                    "no point of new continues it without a jump"
                )
        tau_b = float(scan.plateau_end(k)) if new(k) == x else tau_a
        if tau_a <= a < max(tau_b + 1.0, float(k)) and new(a) == x:
            return a, k  # the run is where new has its lr: carry on from there
        return min(max(a, tau_a), tau_b), k

    def _tail(self) -> Schedule:
        """What runs after ``at``: new(tau0 + rate * u) at u = t - at."""
        tau0, end, _ = self._plan
        rate = (end - tau0) / (end - self.at)
        if rate == 1.0:  # the same pace: new(u + tau0), exactly new(t) where tau0 = at
            return Shift(self.new, -tau0)
        return Shift(Stretch(self.new, 1.0 / rate), -tau0 / rate)

    def _encode(self, enc):
        return enc.node(layout.JOIN, [self.at], (self.old, self._tail()))

    def _breaks(self, stop):
        return joined_breaks([self.at], (self.old, self._tail()), stop)

    def _settles(self):
        return joined_settles([self.at], self._tail())


class Cycle(Schedule):
    r"""Restart ``schedule`` in cycles that may grow and decay.

    Cycle i (0-based) covers L_i = P m^i iterations, from S_i to S_{i+1}:

    .. math::
        S_i = \sum_{j < i} L_j, \qquad
        \eta(t) = d^{\,i}\; s\!\left((t - S_i)\,\frac{P}{L_i}\right)
        \quad \text{for } S_i < t \le S_{i+1}

    where P = ``period``, m = ``period_mult``, d = ``decay``: the schedule sees
    a clock that runs to P over every cycle, and reaches its end value at the
    cycle's last update. After ``limit`` cycles the value of the last update is
    held (the end of the last cycle; zero-based: the last whole u below
    :math:`S_{limit}`). ``period_mult`` < 1 needs a ``limit`` (the cycles would
    otherwise end in finite time); ``limit`` is at most 2**53.

    ``whole_periods=True`` rounds every length down to whole updates, as
    composer's ``CosineAnnealingWarmRestartsScheduler`` does (``int(t_mult *
    previous)``): :math:`L_0 = P`, :math:`L_{i+1} = \lfloor m L_i \rfloor` (the
    float product, rounded down), and :math:`S_i` and the time into each cycle
    are exact whole-number arithmetic. P must be a whole number; a cycle whose
    length would be 0 (m < 1) within the ``limit`` is refused, and so are
    lengths that need more than ``lrsched.engine.MAX_WHOLE_CYCLES`` (65,536)
    cycles to reach 2**53 updates (m very close to 1). Once the lengths stall
    (:math:`\lfloor m L \rfloor = L`, e.g. P = 7, m = 1.05) they stay so; past
    2**53 updates, where every float is whole, the lengths are the float
    products :math:`L_K m^j` of the first cycle starting there. For an integer m
    (or m = 1) every length is already whole: it changes nothing.

    Boundaries are exact, not accumulated: for m = 1 they are the exact
    multiples i P and the time into a cycle is the exact remainder, at any t
    (``cycle(s, 4)(1e20)`` is the end of a cycle, as 1e20 = 4 * 2.5e19). For
    m != 1, :math:`S_i` is the exact sum of the float lengths rounded once to
    the nearest float, so :math:`S_1` is P and a boundary that is a whole
    number in exact arithmetic is that number (P = 30, m = 1.1: 30, 63, 99.3).
    Finding the cycle of any t takes bounded work: a closed form, then a few
    checks against these boundaries (whole periods: a binary search of the
    tabulated starts).

    ``zero_based=True`` counts from 0 instead, the way torch, timm and Keras
    restart: with u = t - 1, cycle i covers :math:`S_i \le u < S_{i+1}` and the
    schedule sees :math:`(u - S_i) P / L_i`, so the first update of each cycle
    gets s(0) (the peak) and the end value is never reached. For whole-number
    cycle lengths the cycles cover the same updates either way. SGDR as torch's CosineAnnealingWarmRestarts(T_0, T_mult)
    computes it is ``cycle(cosine(lr, eta_min, steps=T_0), T_0,
    period_mult=T_mult, zero_based=True)``; as composer's
    CosineAnnealingWarmRestartsScheduler(t_0, t_mult, alpha_f) computes it
    (its batch b is update t = b + 1), ``cycle(cosine(1, alpha_f, steps=t_0),
    t_0, period_mult=t_mult, zero_based=True, whole_periods=True)``.

    Example:
        >>> s = cycle(linear(1.0, 0.0, 4), period=4, decay=0.5)
        >>> s(4), s(5), s(8)
        (0.0, 0.375, 0.0)
        >>> w = cycle(linear(1.0, 0.0, 7), 7, period_mult=1.5, whole_periods=True)  # 7, 10, 15, 22, ...
        >>> w.breakpoints(60), w(17), w(18)
        ([7.0, 17.0, 32.0, 54.0], 0.0, 0.9333333333333333)
    """

    kind = "cycle"
    fields = (
        Field("schedule", as_schedule, nested="one"),
        Field("period", v.positive),
        Field("period_mult", v.positive, 1.0),
        Field("decay", v.positive, 1.0),
        Field("limit", v.optional_count, None),
        Field("zero_based", v.flag, False),
        Field("whole_periods", v.flag, False),
    )

    def _check(self):
        if self.period_mult < 1 and self.limit is None:
            raise ValueError(f"period_mult={self.period_mult!r} < 1 needs a limit")
        if self.limit is not None and self.limit > 2**53:
            raise ValueError(f"limit must be at most 2**53, got {self.limit!r}")
        if self.whole_periods:
            if self.period != math.floor(self.period) or self.period >= WHOLE_END:
                raise ValueError(
                    f"whole_periods=True needs a whole period below 2**53 (the first cycle's length in updates), "
                    f"got period={self.period!r}"
                )
            self._whole()  # refuses lengths of 0, or too many cycles to tabulate, by name

    def _whole(self) -> tuple[np.ndarray, float, float]:
        """The whole-period table (:func:`lrsched.engine.whole_cycles`): (S_1 .. S_K, tail length, tail ratio)."""
        return whole_cycles(float(self.period), float(self.period_mult), self.limit)

    def _encode(self, enc):
        starts: Sequence[float] = ()
        period, mult = self.period, self.period_mult
        tail = (period, mult)
        if self.whole_periods:
            starts, *tail = self._whole()
            if not len(starts):  # nothing to tabulate: a plain cycle (an integer m, or lengths stalled from the first)
                period, mult = tail
        values = dict(
            period=period,
            period_mult=mult,
            decay=self.decay,
            limit=self.limit or 0,
            zero_based=self.zero_based,
            whole=len(starts),
            tail_period=tail[0],
            tail_mult=tail[1],
        )
        node = enc.node(layout.CYCLE, values, (self.schedule,))
        enc.fp.extend(
            map(float, starts)
        )  # the table follows the node's parameters, the last ones laid out (lrsched.layout)
        return node

    def _breaks(self, stop):
        period, mult, whole = self.period, self.period_mult, None
        if self.whole_periods:
            whole = self._whole()
            if not len(whole[0]):  # a plain cycle
                period, mult, whole = whole[1], whole[2], None
        return cycle_breaks(self.schedule, period, mult, self.limit, self.zero_based, stop, whole)

    def _settles(self):
        if self.schedule._settles() == 0.0 and self.decay == 1.0:  # the same constant in every cycle
            return 0.0
        if self.limit is None:
            return None
        if self.whole_periods:
            end = whole_start(self.limit, self._whole())
        else:
            end = cycle_start(self.limit, self.period, self.period_mult)
        return Onset(end + 1.0) if self.zero_based else end  # zero-based: u = t - 1 held from S_limit on
