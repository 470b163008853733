r"""The primitive schedules: each declared once, with its formula.

Every primitive is phase-local: over a phase of n = ``steps`` iterations the
progress is :math:`p = \min(t, n) / n`, so the phase reaches its end value
exactly at its last iteration t = n and holds it afterwards. Staircase shapes
drop *after* the boundary iteration: with ``every=250`` the 250th update
still has the old value and the 251st the new one (MXNet's convention).

Each class names its kernel opcode (the formula itself is one function in
:mod:`lrsched.kernels`), or lays itself out as kernel nodes (piecewise shapes
are joins of constants; interpolation a join of linear or cosine pieces).
"""

from __future__ import annotations

import bisect
import math
from typing import ClassVar

from . import _validate as v
from . import layout
from .schedule import Field, Schedule
from .structure import drop, drops, multiples


class Leaf(Schedule):
    """A primitive evaluated by one kernel formula (``op``) over its parameters."""

    __slots__ = ()
    op: ClassVar[int]

    def _kernel_values(self) -> dict:
        """The kernel parameters by name (``lrsched.layout.PARAMS[op]``): the fields of the same names."""
        return {name: getattr(self, name) for name in layout.PARAMS[self.op]}

    def _encode(self, enc) -> int:
        return enc.leaf(self.op, self._kernel_values())


class Phased(Leaf):
    """A leaf over one phase of ``steps`` iterations: it breaks and settles at t = steps."""

    __slots__ = ()

    def _breaks(self, stop):
        return {self.steps}

    def _settles(self):
        return self.steps


def _encode_piecewise(enc, boundaries, values) -> int:
    """values[i] after i boundaries: a join of constants."""
    if not boundaries:
        return enc.encode(Constant(values[0]))
    return enc.node(layout.JOIN, list(boundaries), [Constant(x) for x in values])


def _steps(name, value):
    return v.positive(name, value)


class Constant(Leaf):
    r"""A constant learning rate.

    .. math:: \eta(t) = v

    Args:
        value: the learning rate v.

    Example:
        >>> constant(0.1)(1)
        0.1
    """

    kind = "constant"
    op = layout.CONST
    fields = (Field("value", v.real),)

    def _breaks(self, stop):
        return set()

    def _settles(self):
        return 0.0


class Clock(Leaf):
    r""":math:`\eta(t) = t`: the clock itself, written ``t`` (``lrsched.t``).

    With numbers, ``**`` and the functions it writes any formula of t:
    ``0.5 ** (t / 1000)``, ``0.1 * minimum(1, t / 500)``, ``1 - (1 + t / 1e4) ** -0.7``.
    It is the time its place gives it: inside a join's later phase, a shift or
    a cycle it counts from that phase's start, like every other kind.

    Example:
        >>> t(3), (t ** 2)(3), repr(t / 2)
        (3.0, 9.0, 't / 2')
    """

    kind = "t"
    op = layout.CLOCK
    fields = ()

    def _breaks(self, stop):
        return set()

    def _settles(self):
        return None

    def __repr__(self):
        return "t"


class Linear(Phased):
    r"""Linear interpolation from ``start`` to ``end`` over ``steps`` iterations.

    .. math:: \eta(t) = s + \frac{(e - s)\, x}{n}, \qquad x = \min(t, n)

    where s = ``start``, e = ``end``, n = ``steps``; ``end`` is held for t >= n
    (exactly: the value at t >= n is ``end`` itself).

    Example:
        >>> s = linear(0.0, 1.0, steps=4)
        >>> s(0), s(1), s(4), s(10)
        (0.0, 0.25, 1.0, 1.0)
    """

    kind = "linear"
    op = layout.LINEAR
    fields = (Field("start", v.real), Field("end", v.real), Field("steps", _steps))


class Cosine(Phased):
    r"""Half-cosine annealing from ``start`` to ``end`` over ``steps`` iterations.

    .. math:: \eta(t) = e + (s - e)\, h^{k}, \qquad h = \frac{1 + \cos(\pi x / n)}{2}, \quad x = \min(t, n)

    where s = ``start``, e = ``end``, n = ``steps`` and k = ``exponent`` (1 by
    default; optax's cosine_decay_schedule has it); ``end`` is held for t >= n.
    With ``periodic=True``, x = t: the cosine carries on past n, back up to
    ``start`` at 2n and round again (torch's CosineAnnealingLR past T_max).
    The cosine is the C library's, applied to (pi x) / n as the closed forms of
    torch, MXNet, timm and optax do, so mirrors of those agree to the last bit
    even near the end of a phase, where one ulp of cos is many ulps of lr.

    Example:
        >>> s = cosine(1.0, 0.0, steps=4)
        >>> s(0), s(2), s(4), s(5)
        (1.0, 0.5, 0.0, 0.0)
        >>> cosine(1.0, 0.0, steps=4, periodic=True)(8)
        1.0
        >>> cosine(1.0, 0.0, steps=4, exponent=2.0)(2)
        0.25
    """

    kind = "cosine"
    op = layout.COSINE
    fields = (
        Field("start", v.real),
        Field("end", v.real),
        Field("steps", _steps, keyword=True),
        Field("periodic", v.flag, False),
        Field("exponent", v.positive, 1.0),
    )

    def _breaks(self, stop):
        return multiples(self.steps, stop) if self.periodic else {self.steps}  # periodic: turns at every n

    def _settles(self):
        return None if self.periodic else self.steps


class Ease(Phased):
    r"""From ``start`` to ``end`` along a power of the progress.

    .. math:: \eta(t) = s + (e - s)\, p^{k}, \qquad p = \min(t, n) / n

    where s = ``start``, e = ``end``, n = ``steps``, k = ``power`` > 0. k < 1
    moves fast first (``ease(1, 0, n, 0.5)`` is the "1-sqrt" decay of
    warmup-stable-decay schedules), k > 1 slowly first; k = 1 is ``linear``.
    ``poly`` is the mirror image: it moves fast last for k < 1.

    Example:
        >>> s = ease(1.0, 0.0, steps=4, power=0.5)
        >>> s(1), s(4)
        (0.5, 0.0)
    """

    kind = "ease"
    op = layout.EASE
    fields = (
        Field("start", v.real),
        Field("end", v.real),
        Field("steps", _steps, keyword=True),
        Field("power", v.positive, 1.0),
    )


class Poly(Phased):
    r"""Polynomial decay from ``start`` to ``end`` over ``steps`` iterations.

    .. math:: \eta(t) = e + (s - e)\,(1 - p)^{k}, \qquad p = \min(t, n) / n

    where s = ``start``, e = ``end``, n = ``steps``, k = ``power`` > 0.

    Example:
        >>> s = poly(1.0, 0.0, steps=4, power=2.0)
        >>> s(2), s(4)
        (0.25, 0.0)
    """

    kind = "poly"
    op = layout.POLY
    fields = (
        Field("start", v.real),
        Field("end", v.real),
        Field("steps", _steps, keyword=True),
        Field("power", v.positive, 1.0),
    )


class Tanh(Phased):
    r"""Tanh decay (Hsueh et al. 2019; timm's TanhLRScheduler) from ``start`` to ``end``.

    .. math:: \eta(t) = e + (s - e)\, \tfrac{1}{2}\left(1 - \tanh(l (1 - p) + u p)\right), \qquad p = \min(t, n) / n

    with l = ``lb`` < u = ``ub`` bounding the stretch of tanh used; the curve
    starts and ends within :math:`\tfrac{1}{2}(1 \mp \tanh)` of s and e (not on them).

    Example:
        >>> s = tanh(1.0, 0.0, steps=10, lb=-3.0, ub=3.0)
        >>> round(s(5), 12)
        0.5
    """

    kind = "tanh"
    op = layout.TANH
    fields = (
        Field("start", v.real),
        Field("end", v.real),
        Field("steps", _steps, keyword=True),
        Field("lb", v.real, -7.0),
        Field("ub", v.real, 3.0),
    )

    def _check(self):
        if not self.lb < self.ub:
            raise ValueError(f"lb={self.lb!r} must be less than ub={self.ub!r}")


class Geometric(Phased):
    r"""Geometric (log-linear) interpolation from ``start`` to ``end`` over ``steps``.

    .. math:: \eta(t) = s \left(\frac{e}{s}\right)^{p}, \qquad p = \min(t, n) / n

    s = ``start`` and e = ``end`` must both be > 0. This is the exponential
    warmup shape and the learning-rate range test's sweep.

    Example:
        >>> s = geometric(1e-4, 1.0, steps=4)
        >>> round(s(2), 12), s(4)
        (0.01, 1.0)
    """

    kind = "geometric"
    op = layout.GEOMETRIC
    fields = (Field("start", v.positive), Field("end", v.positive), Field("steps", _steps, keyword=True))


class _Decay(Leaf):
    """Exponential and step decay: staircase drops after every ``every``, and where the clamp is reached."""

    __slots__ = ()

    def _clamped_at(self) -> float | None:
        """When the value reaches its clamp (None: never); a staircase's is the onset of its last drop.

        Continuous: s f^(t/m) reaches the bound b at t = m k, k = log(b / s) / log(f). Staircase: the
        exponent floor((t - 1) / m) reaches ceil(k) from t = m ceil(k) + 1 on.
        """
        p = self._kernel_values()
        start, factor = p["start"], p["factor"]
        bound = p["low"] if factor < 1 else p["high"]
        if factor == 1 or not math.isfinite(bound) or start <= 0 or bound <= 0:
            return None
        k = (math.log(bound) - math.log(start)) / math.log(factor)  # no overflow: b / s may leave the range
        if not p["staircase"]:
            return p["every"] * k
        return drop(math.ceil(k), p["every"]) if math.isfinite(k) else math.inf

    def _breaks(self, stop):
        p = self._kernel_values()
        out = drops(p["every"], stop) if p["staircase"] else set()
        clamped = self._clamped_at()
        return out if clamped is None else out | {clamped}

    def _settles(self):
        return 0.0 if self.factor == 1 else self._clamped_at()


class Exponential(_Decay):
    r"""Exponential decay (or growth) by ``factor`` every ``every`` iterations.

    .. math::
        \eta(t) = \operatorname{clamp}(s\, f^{k}), \qquad
        k = \begin{cases} t / m & \text{continuous} \\
                          \max(\lfloor (t - 1) / m \rfloor, 0) & \text{staircase} \end{cases}

    where s = ``start``, f = ``factor`` > 0, m = ``every`` > 0. When ``end`` is
    given the value never passes it: it is a floor for f < 1 and a ceiling
    for f > 1. With ``staircase`` the drop comes after iteration m, 2m, ...

    Example:
        >>> s = exponential(1.0, 0.5, every=2, staircase=True)
        >>> s(1), s(2), s(3)
        (1.0, 1.0, 0.5)
        >>> exponential(1.0, 0.5)(3), exponential(1.0, 0.5, end=0.2)(3)
        (0.125, 0.2)
    """

    kind = "exponential"
    op = layout.EXPONENTIAL
    fields = (
        Field("start", v.real),
        Field("factor", v.positive),
        Field("every", v.positive, 1.0),
        Field("staircase", v.flag, False),
        Field("end", v.optional_real, None),
    )

    def _check(self):
        end, f = self.end, self.factor
        if end is not None and ((f < 1 and end > self.start) or (f > 1 and end < self.start)):
            way = "decays" if f < 1 else "grows"
            raise ValueError(f"end={end!r} lies on the wrong side of start={self.start!r} for a factor that {way}")

    def _kernel_values(self):
        lo, hi = -math.inf, math.inf
        if self.end is not None:
            if self.factor < 1:
                lo = self.end
            else:
                hi = self.end
        return dict(start=self.start, factor=self.factor, every=self.every, staircase=self.staircase, low=lo, high=hi)


class Step(_Decay):
    r"""Multiply by ``factor`` after every ``every`` iterations, never below ``minimum``.

    .. math:: \eta(t) = \max\!\left(s\, f^{\lfloor (t - 1) / m \rfloor},\; \eta_{\min}\right) \quad (t \ge 1)

    where s = ``start``, m = ``every``, f = ``factor`` (MXNet FactorScheduler,
    torch StepLR in 1-indexed form). ``s(0) = s``.

    Example:
        >>> s = step(1.0, every=250, factor=0.5)
        >>> s(250), s(251), s(501)
        (1.0, 0.5, 0.25)
    """

    kind = "step"
    op = layout.EXPONENTIAL
    fields = (
        Field("start", v.real),
        Field("every", v.positive, keyword=True),
        Field("factor", v.positive, keyword=True),
        Field("minimum", v.real, 0.0),
    )

    def _check(self):
        if self.minimum > self.start:
            raise ValueError(f"minimum={self.minimum!r} must not exceed start={self.start!r}")

    def _kernel_values(self):
        return dict(
            start=self.start, factor=self.factor, every=self.every, staircase=True, low=self.minimum, high=math.inf
        )


class Piecewise(Schedule):
    r"""Piecewise constant: ``values[i]`` after ``i`` boundaries have passed.

    .. math:: \eta(t) = v_{\#\{j : t > b_j\}}

    ``boundaries`` b are >= 0 and strictly increasing; ``values`` has one more
    entry. The value changes after the boundary iteration: t = b_j still has
    the old value (a boundary at 0 changes it from the first update on).

    The values are kept as ``s.levels`` (``s.values(n)`` evaluates, as for
    every schedule).

    Example:
        >>> s = piecewise([10, 20], [1.0, 0.5, 0.25])
        >>> s(10), s(11), s(21)
        (1.0, 0.5, 0.25)
        >>> s.levels, s.values(3).tolist()
        ((1.0, 0.5, 0.25), [1.0, 1.0, 1.0])
    """

    kind = "piecewise"
    fields = (
        Field("boundaries", lambda n, x: v.reals(n, x, v.nonnegative)),
        Field("values", v.reals, attr="levels"),  # ``values(n)`` stays the method
    )

    def _check(self):
        v.increasing("boundaries", self.boundaries)
        if len(self.levels) != len(self.boundaries) + 1:
            raise ValueError(
                f"values needs one more entry than boundaries: got {len(self.levels)} values "
                f"and {len(self.boundaries)} boundaries"
            )

    def _encode(self, enc):
        return _encode_piecewise(enc, self.boundaries, self.levels)

    def _breaks(self, stop):
        return set(self.boundaries)

    def _settles(self):
        return self.boundaries[-1] if self.boundaries else 0.0


class Multistep(Schedule):
    r"""Multiply by ``factor`` once after each milestone.

    .. math:: \eta(t) = s\, f^{\#\{m \in M : t > m\}}

    ``milestones`` M are >= 0 and sorted; a repeated milestone counts each
    time (as in torch's MultiStepLR).

    Example:
        >>> s = multistep(1.0, [10, 20], factor=0.1)
        >>> s(10), s(11), round(s(21), 15)
        (1.0, 0.1, 0.01)
    """

    kind = "multistep"
    fields = (
        Field("start", v.real),
        Field("milestones", lambda n, x: v.reals(n, x, v.nonnegative)),
        Field("factor", v.positive, keyword=True),
    )

    def _check(self):
        v.increasing("milestones", self.milestones, strict=False)
        last = self.start * v.power(self.factor, len(self.milestones))
        if not math.isfinite(last):
            raise ValueError(
                f"factor={self.factor!r} over {len(self.milestones)} milestones leaves the float range "
                f"(start * factor**{len(self.milestones)})"
            )

    def _encode(self, enc):
        bounds = sorted(set(self.milestones))
        passed = [bisect.bisect_right(self.milestones, b) for b in bounds]  # milestones <= b (sorted): linear time
        return _encode_piecewise(enc, bounds, [self.start] + [self.start * self.factor**k for k in passed])

    def _breaks(self, stop):
        return set(self.milestones)

    def _settles(self):
        return max(self.milestones, default=0.0)


def _points(name, points):
    if not isinstance(points, (list, tuple)) or not points:
        raise TypeError(f"{name} must be a non-empty list of (t, value) pairs, got {v.show(points)}")
    out = []
    for i, p in enumerate(points):
        if not isinstance(p, (list, tuple)) or len(p) != 2:
            raise TypeError(f"{name}[{i}] must be a (t, value) pair, got {v.show(p)}")
        out.append((v.nonnegative(f"{name}[{i}] t", p[0]), v.real(f"{name}[{i}] value", p[1])))
    v.increasing(f"{name} t", tuple(t for t, _ in out))
    return tuple(out)


class Interpolate(Schedule):
    r"""Through the points (t_i, v_i), linear or cosine between them, flat outside.

    .. math::
        \eta(t) = \begin{cases} v_0 & t \le t_0 \\
          \mathrm{shape}(v_i \to v_{i+1})\ \text{at}\ t - t_i\ \text{over}\ t_{i+1} - t_i
            & t_i < t \le t_{i+1} \\
          v_{last} & t > t_{last} \end{cases}

    Example:
        >>> s = interpolate([(0, 0.0), (10, 1.0), (30, 0.0)])
        >>> s(5), s(10), s(20), s(40)
        (0.5, 1.0, 0.5, 0.0)
    """

    kind = "interpolate"
    fields = (Field("points", _points), Field("shape", lambda n, x: v.choice(n, x, ("linear", "cosine")), "linear"))

    def _encode(self, enc):
        pts = self.points
        piece = Linear if self.shape == "linear" else Cosine
        phases: list[Schedule] = []
        bounds: list[float] = []
        if pts[0][0] > 0:
            phases.append(Constant(pts[0][1]))
            bounds.append(pts[0][0])
        for (t0, v0), (t1, v1) in zip(pts, pts[1:]):
            phases.append(piece(v0, v1, t1 - t0))
            bounds.append(t1)
        phases.append(Constant(pts[-1][1]))
        if len(phases) == 1:
            return enc.encode(phases[0])
        return enc.node(layout.JOIN, bounds, phases)

    def _bounds(self) -> list[float]:
        """Where the phases change: the first point (when after 0) and every later point."""
        ts = [t for t, _ in self.points]
        return ts if ts[0] > 0 else ts[1:]

    def _breaks(self, stop):
        return set(self._bounds())

    def _settles(self):
        bounds = self._bounds()
        return bounds[-1] if bounds else 0.0


class InverseSqrt(Leaf):
    r"""Inverse square-root decay.

    .. math:: \eta(t) = \frac{s}{\sqrt{1 + t / c}}

    where s = ``start`` and c = ``scale`` > 0 (Hugging Face's inverse_sqrt
    schedule uses the warmup length as the scale).

    Example:
        >>> inverse_sqrt(1.0, scale=3)(9)
        0.5
    """

    kind = "inverse_sqrt"
    op = layout.INV_SQRT
    fields = (Field("start", v.real), Field("scale", v.positive, keyword=True))

    def _breaks(self, stop):
        return set()

    def _settles(self):
        return None


class InverseTime(Leaf):
    r"""Inverse-time decay (Keras InverseTimeDecay in 1-indexed form).

    .. math:: \eta(t) = \frac{s}{1 + r k}, \qquad
        k = \begin{cases} t / m & \text{continuous} \\
                          \max(\lfloor (t - 1) / m \rfloor, 0) & \text{staircase} \end{cases}

    where s = ``start``, r = ``rate`` >= 0, m = ``every`` > 0.

    Example:
        >>> inverse_time(1.0, rate=1.0)(3)
        0.25
    """

    kind = "inverse_time"
    op = layout.INV_TIME
    fields = (
        Field("start", v.real),
        Field("rate", v.nonnegative, keyword=True),
        Field("every", v.positive, 1.0),
        Field("staircase", v.flag, False),
    )

    def _breaks(self, stop):
        return drops(self.every, stop) if self.staircase else set()

    def _settles(self):
        return 0.0 if self.rate == 0 else None
