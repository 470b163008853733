r"""The algebra of schedules: values and time reshaped.

``a + b``, ``a - b``, ``a * b``, ``a / b``, ``a ** b``, :func:`minimum` and
:func:`maximum` combine two schedules at the same t; :func:`exp`, :func:`log`,
:func:`sqrt`, :func:`floor`, :func:`ceil`, :func:`round` and ``s.quantize``
are functions of one schedule's value (the rounding ones, minimum and maximum
also of durations in ``total`` and ``epoch``, and all of numbers); ``s.clip``,
``s.shift``, ``s.stretch``, ``s.warp`` and ``s.per_epoch`` reshape one
schedule's values or time. ``function`` wraps any Python callable (slowly).
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from . import _validate as v
from . import layout
from .primitives import Constant
from .schedule import Field, Schedule, as_schedule, format_number, format_value
from .structure import Onset, UnknownStructure, breaks_of, latest, moved, union_breaks
from .symbols import FUNCTIONS, Expr
from .value import CALLS

# ---------------------------------------------------------------- arithmetic


class _Pair(Schedule):
    """Two schedules ``left`` and ``right`` evaluated at the same t and combined by the kernel node ``op``."""

    op: ClassVar[int]
    fields = (Field("left", as_schedule, nested="one"), Field("right", as_schedule, nested="one"))

    def _encode(self, enc):
        return enc.node(self.op, {}, (self.left, self.right))

    def _breaks(self, stop):
        return union_breaks(self.children(), stop)

    def _settles(self):
        return latest(c._settles() for c in self.children())


class _Binary(_Pair):
    """``left <op> right``, written with its operator."""

    __slots__ = ()
    symbol: ClassVar[str]
    #: n with ``s <op> n`` exactly s at every t (s * 1, s / 1, s - 0, s + 0), and whether ``n <op> s`` is too
    identity: ClassVar[float]
    commutes: ClassVar[bool] = False

    @classmethod
    def of(cls, left, right) -> Schedule:
        """``left <op> right``, or the schedule itself where the other operand is the op's identity.

        Exact: x * 1, x / 1 and x - 0 are x bit for bit, x + 0 is x but for the sign of a zero (-0.0 + 0 is
        0.0). So ``s * 1 + 0`` is ``s``, and the mirrors' reprs read without no-op pieces.

        >>> from lrsched.algebra import Add, Mul
        >>> s = linear(1.0, 0.0, 10)
        >>> Add.of(Mul.of(s, 1), 0) is s, Mul.of(2, s)
        (True, 2 * linear(1, 0, 10))
        """
        if _is_number(right, cls.identity):
            return as_schedule("left", left)
        if cls.commutes and _is_number(left, cls.identity):
            return as_schedule("right", right)
        return cls(left, right)

    def __repr__(self):
        left, right = self.left, self.right
        both_const = isinstance(left, Constant) and isinstance(right, Constant)
        a = _operand(left, self._precedence, False, both_const)
        b = _operand(right, self._precedence, True, False)
        return f"{a} {self.symbol} {b}"


def _is_number(x, n: float) -> bool:
    """x is the number n, or constant(n) (not a symbol such as ``total``)."""
    if isinstance(x, Constant):
        x = x.value
    return v._is_real(x) and x == n


def _operand(s: Schedule, precedence: int, right: bool, keep_constant: bool) -> str:
    if isinstance(s, Constant) and not keep_constant:
        return format_number(s.value)
    text = repr(s)
    if s._precedence < precedence or (right and s._precedence == precedence):
        return f"({text})"
    return text


class Add(_Binary):
    r""":math:`\eta(t) = a(t) + b(t)`; written ``a + b`` (numbers read as constants)."""

    __slots__ = ()
    kind = "add"
    symbol = "+"
    op = layout.ADD
    _precedence = 10
    identity = 0.0
    commutes = True


class Sub(_Binary):
    r""":math:`\eta(t) = a(t) - b(t)`; written ``a - b`` (numbers read as constants)."""

    __slots__ = ()
    kind = "sub"
    symbol = "-"
    op = layout.SUB
    _precedence = 10
    identity = 0.0


class Mul(_Binary):
    r""":math:`\eta(t) = a(t)\, b(t)`; written ``a * b`` (numbers read as constants).

    Example:
        >>> s = 0.5 * linear(1.0, 0.0, 10) + 0.1
        >>> s
        0.5 * linear(1, 0, 10) + 0.1
        >>> s(5)
        0.35
    """

    __slots__ = ()
    kind = "mul"
    symbol = "*"
    op = layout.MUL
    _precedence = 20
    identity = 1.0
    commutes = True


class Div(_Binary):
    r""":math:`\eta(t) = a(t) / b(t)`; written ``a / b``.

    Dividing by ``constant(0)`` is refused at construction; a denominator
    that reaches zero raises ValueError (naming t) when evaluated there.
    """

    __slots__ = ()
    kind = "div"
    symbol = "/"
    op = layout.DIV
    _precedence = 20
    identity = 1.0

    def _check(self):
        if isinstance(self.right, Constant) and self.right.value == 0:
            raise ValueError(f"right={format_number(self.right.value)}: division by constant(0)")


class Minimum(_Pair):
    """The smaller of two schedules (or numbers) at every t.

    Example:
        >>> minimum(linear(0.0, 1.0, 10), 0.5)(8)
        0.5
    """

    __slots__ = ()
    kind = "minimum"
    op = layout.MIN
    renamed: ClassVar[dict[str, str]] = {"a": "left", "b": "right"}  # left and right, as in the arithmetic


class Maximum(Minimum):
    """The larger of two schedules (or numbers) at every t.

    Example:
        >>> maximum(linear(1.0, 0.0, 10), 0.25)(9)
        0.25
    """

    __slots__ = ()
    kind = "maximum"
    op = layout.MAX


class Pow(_Binary):
    r""":math:`\eta(t) = a(t)^{b(t)}`; written ``a ** b`` (numbers read as constants, on either side).

    The C library's ``pow``, as Python's ``math.pow``: ``0.5 ** (t / 100)``
    halves every 100 updates, ``linear(0, 1, 100) ** 2`` eases in. Where it
    is not a real number (a negative base to a fractional power, zero to a
    negative one) it is refused at construction when both sides are numbers,
    and otherwise raises ValueError naming t when evaluated there.

    Example:
        >>> s = 0.5 ** (t / 100)
        >>> s
        0.5 ** (t / 100)
        >>> s(100), s(200)
        (0.5, 0.25)
    """

    __slots__ = ()
    kind = "pow"
    symbol = "**"
    op = layout.POW
    _precedence = 30
    identity = 1.0

    def _check(self):
        a, b = self.left, self.right
        if isinstance(a, Constant) and isinstance(b, Constant):
            x, y = format_number(a.value), format_number(b.value)
            base = f"({x})" if a.value < 0 else x
            _refuse_undefined(f"left={x}, right={y}: {base} ** {y}", math.pow, a.value, b.value)

    def __repr__(self):  # right-associative, and binding tighter than a sign on its left
        a, b = self.left, self.right
        left = format_number(a.value) if isinstance(a, Constant) and not isinstance(b, Constant) else repr(a)
        if a._precedence <= self._precedence or left.startswith("-"):
            left = f"({left})"
        right = _operand(b, self._precedence, False, False)
        return f"{left} ** {right}"


def _refuse_undefined(text: str, fn, *args) -> None:
    from .kernels.arrays import libm_scalar

    y = libm_scalar(fn, *args)
    if not math.isfinite(y):
        raise ValueError(f"{text} is not a finite real number ({format_number(y)})")


class _Function(Schedule):
    """A function of one schedule's value at the same t, written as a call: ``exp(s)``."""

    op: ClassVar[int]
    #: the function on a number, as the kernel computes it (for a constant's check)
    number: ClassVar = None
    fields = (Field("schedule", as_schedule, nested="one"),)

    def _check(self):
        s = self.schedule
        if isinstance(s, Constant) and self.number is not None:
            x = format_number(s.value)
            _refuse_undefined(f"schedule={x}: {self.kind}({x})", self.number, s.value)

    def _encode(self, enc):
        return enc.node(self.op, {}, (self.schedule,))

    def _breaks(self, stop):
        return self.schedule._breaks(stop)

    def _settles(self):
        return self.schedule._settles()


class _Rounding(_Function):
    """floor, ceil and round: a value that steps wherever its schedule crosses a multiple, which its structure
    does not say (breakpoints are unknown, as a function's; its length is its schedule's)."""

    def _breaks(self, stop):
        if isinstance(self.schedule, Constant):
            return set()
        raise UnknownStructure(f"{self!r}: where a rounded value steps is not known from the structure")


class Exp(_Function):
    r""":math:`\eta(t) = e^{s(t)}` (the C library's ``exp``), written ``exp(s)``.

    Example:
        >>> exp(-t / 100)(100) == math.exp(-1)
        True
    """

    __slots__ = ()
    kind = "exp"
    op = layout.EXP
    number = math.exp


class Log(_Function):
    r""":math:`\eta(t) = \ln s(t)` (the C library's ``log``), written ``log(s)``.

    The log of a constant <= 0 is refused; a schedule that reaches 0 or below
    raises ValueError naming t where it is evaluated there.

    Example:
        >>> log(t)(math.e ** 2)
        2.0
    """

    __slots__ = ()
    kind = "log"
    op = layout.LOG
    number = math.log


class Sqrt(_Function):
    r""":math:`\eta(t) = \sqrt{s(t)}` (correctly rounded), written ``sqrt(s)``.

    Example:
        >>> (0.1 * sqrt(t / 64))(256)
        0.2
    """

    __slots__ = ()
    kind = "sqrt"
    op = layout.SQRT
    number = math.sqrt


class Floor(_Rounding):
    r""":math:`\eta(t) = q\,\lfloor s(t) / q \rfloor`: ``floor(s)`` (q = 1), or ``s.quantize(q)``, the value
    rounded down to a multiple of q = ``multiple``.

    Computed as written, in floats: floor(s(t) / q) * q, so a q that is not a
    float exactly (0.1) gives the multiples of that float.

    Example:
        >>> b = linear(64, 1024, steps=1000).quantize(64)  # a batch-size ramp in multiples of 64
        >>> b
        linear(64, 1024, 1000).quantize(64)
        >>> b(1), b(67), b(1000)
        (64.0, 128.0, 1024.0)
    """

    __slots__ = ("multiple",)
    kind = "floor"
    op = layout.FLOOR
    number = math.floor
    fields = (*_Function.fields, Field("multiple", v.positive, 1.0))

    def _check(self):
        s = self.schedule
        with np.errstate(all="ignore"):
            bad = isinstance(s, Constant) and not np.isfinite(np.floor(s.value / self.multiple) * self.multiple)
        if bad:
            raise ValueError(
                f"schedule={format_number(s.value)}, multiple={format_number(self.multiple)}: floor(value / multiple) "
                "* multiple leaves the float range"
            )

    def _encode(self, enc):
        return enc.node(self.op, {"multiple": self.multiple}, (self.schedule,))

    def __repr__(self):
        if self.multiple == 1:
            return f"floor({self.schedule!r})"
        text = repr(self.schedule)
        if self.schedule._precedence < 100:
            text = f"({text})"
        return f"{text}.quantize({format_number(self.multiple)})"


class Ceil(_Rounding):
    r""":math:`\eta(t) = \lceil s(t) \rceil`, written ``ceil(s)``.

    Example:
        >>> ceil(linear(0, 10, 4))(1)
        3.0
    """

    __slots__ = ()
    kind = "ceil"
    op = layout.CEIL
    number = math.ceil


class Round(_Rounding):
    r""":math:`\eta(t) = s(t)` rounded to the nearest whole number, ties to even (as Python's ``round`` and
    NumPy's ``rint``), written ``round(s)``.

    Example:
        >>> round(t / 2)(1), round(t / 2)(3)
        (0.0, 2.0)
    """

    __slots__ = ()
    kind = "round"
    op = layout.ROUND
    number = round


# ---------------------------------------------------------------- the functions, on schedules, durations or numbers


def _apply(cls: type[_Function], x, name: str = "x"):
    """``cls`` of a schedule; of a duration (floor, ceil, round), that duration expression; of a number, the
    number (a whole number from floor, ceil and round)."""
    if isinstance(x, Schedule):
        return cls(x)
    if isinstance(x, Expr):
        if cls.kind not in FUNCTIONS:
            raise TypeError(f"{cls.kind}({x!r}): a duration goes only into floor, ceil, round, minimum and maximum")
        return Expr(cls.kind, (x,))
    x = v._scalar(x)  # a 0-d array is its number
    if not v._is_real(x):
        raise TypeError(f"{cls.kind}() takes a schedule, a number or a duration, got {name}={v.show(x)}")
    x = v.real(name, x)
    from .kernels.arrays import libm_scalar

    try:
        y = libm_scalar(cls.number, x)
    except (OverflowError, ValueError):  # floor of inf
        y = math.nan
    if not math.isfinite(y):
        raise ValueError(f"{cls.kind}({name}={format_number(x)}) is not a finite real number")
    return y


def exp(x):
    """:math:`e^x` of a schedule (an :class:`Exp` schedule) or a number (a float)."""
    return _apply(Exp, x)


def log(x):
    """The natural logarithm of a schedule (a :class:`Log` schedule) or of a number > 0 (a float)."""
    return _apply(Log, x)


def sqrt(x):
    """The square root of a schedule (a :class:`Sqrt` schedule) or of a number >= 0 (a float)."""
    return _apply(Sqrt, x)


def floor(x):
    """Rounded down: of a schedule, a :class:`Floor` schedule; of a duration (``floor(0.01 * total)``), the
    duration that is ``math.floor`` of it once bound; of a number, an int. (Python's ``math.floor`` of a duration
    gives the same.)"""
    return _apply(Floor, x)


def ceil(x):
    """Rounded up: of a schedule, a :class:`Ceil` schedule; of a duration, its ``math.ceil`` once bound; of a
    number, an int."""
    return _apply(Ceil, x)


def round(x):  # lrsched.round, as the kind is called (Python's round of a schedule gives the same)
    """Rounded to the nearest whole number, ties to even: of a schedule, a :class:`Round` schedule; of a
    duration, Python's ``round`` of it once bound; of a number, an int."""
    return _apply(Round, x)


def _pair(cls: type[_Pair], args: tuple, kwargs: dict):
    """``cls`` of two schedules or numbers; of durations (and numbers), the duration expression."""
    given = dict(zip(("left", "right"), args)) | kwargs
    if len(args) <= 2 and set(given) == {"left", "right"}:
        left, right = given["left"], given["right"]
        if not isinstance(left, Schedule) and not isinstance(right, Schedule):
            if isinstance(left, Expr) or isinstance(right, Expr):  # a number beside a duration, checked and kept
                left, right = (_beside_a_duration(n, x) for n, x in zip(("left", "right"), (left, right)))
                return Expr(cls.kind, (left, right))
    return cls(*args, **kwargs)


def _beside_a_duration(name: str, x):
    """An int as it is, any other number as a float64: numpy compares an int with a float32 in float32
    (16777217 == float32(16777216) there)."""
    if isinstance(x, Expr):
        return x
    y = v.real(name, x)
    x = v._scalar(x)
    return int(x) if isinstance(x, (int, np.integer)) else y


def minimum(*args, **kwargs):
    """The smaller of two schedules or numbers at every t (a :class:`Minimum` schedule), or of two durations
    (``minimum(0.1 * total, 1000)``, the smaller once bound).

    >>> minimum(linear(0.0, 1.0, 10), 0.5)(8)
    0.5
    """
    return _pair(Minimum, args, kwargs)


def maximum(*args, **kwargs):
    """The larger of two schedules or numbers at every t (a :class:`Maximum` schedule), or of two durations.

    >>> maximum(linear(1.0, 0.0, 10), 0.25)(9)
    0.25
    """
    return _pair(Maximum, args, kwargs)


minimum.__signature__ = Minimum.__signature__
maximum.__signature__ = Maximum.__signature__
CALLS.update({f.__name__: f for f in (exp, log, sqrt, floor, ceil, round, minimum, maximum)})


# ---------------------------------------------------------------- reshaping


class _Method(Schedule):
    """A combinator written as a method call on its schedule: ``s.name(args)``."""

    __slots__ = ()

    def __repr__(self):
        s = self.schedule
        text = repr(s)
        if s._precedence < 100:
            text = f"({text})"
        args = ", ".join(f"{f.name}={format_value(getattr(self, f.attr))}" for f in self.fields[1:])
        return f"{text}.{self.kind}({args})"


class Clip(_Method):
    r""":math:`\eta(t) = \min(\max(s(t), \mathrm{low}), \mathrm{high})`; written ``s.clip(low, high)``.

    A clip of a clip whose ranges overlap is one clip, to their intersection (exactly the same values):

    >>> linear(1.0, -1.0, 10).clip(low=0).clip(low=0, high=0.5)
    linear(1, -1, 10).clip(low=0, high=0.5)
    >>> linear(1.0, -1.0, 10).clip(low=0).clip(low=0)
    linear(1, -1, 10).clip(low=0, high=None)
    """

    kind = "clip"
    fields = (
        Field("schedule", as_schedule, nested="one"),
        Field("low", v.optional_real, None),
        Field("high", v.optional_real, None),
    )

    def _check(self):
        if self.low is None and self.high is None:
            raise ValueError("needs low, high or both")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"low={self.low!r} must not exceed high={self.high!r}")
        inner = self.schedule
        if isinstance(inner, Clip):  # clamping to [l1, h1] then [l2, h2] is clamping to their intersection
            low = max((x for x in (inner.low, self.low) if x is not None), default=None)
            high = min((x for x in (inner.high, self.high) if x is not None), default=None)
            if low is None or high is None or low <= high:
                self._set("schedule", inner.schedule)
                self._set("low", low)
                self._set("high", high)

    def _encode(self, enc):
        lo = -math.inf if self.low is None else self.low
        hi = math.inf if self.high is None else self.high
        return enc.node(layout.CLIP, {"low": lo, "high": hi}, (self.schedule,))

    def _breaks(self, stop):
        return self.schedule._breaks(stop)

    def _settles(self):
        return self.schedule._settles()


class Shift(_Method):
    r""":math:`\eta(t) = s(\max(t - k, 0))`; written ``s.shift(k)``."""

    kind = "shift"
    fields = (Field("schedule", as_schedule, nested="one"), Field("k", v.real))

    def _encode(self, enc):
        return enc.node(layout.SHIFT, {"k": self.k}, (self.schedule,))

    def _breaks(self, stop):
        k = self.k
        return {moved(b, b + k) for b in breaks_of(self.schedule, stop - k)} | ({k} if k > 0 else set())

    def _settles(self):
        inner = self.schedule._settles()
        return None if inner is None else moved(inner, max(inner + self.k, 0.0))


class Stretch(_Method):
    r""":math:`\eta(t) = s(t / f)`, f > 0; written ``s.stretch(f)``."""

    kind = "stretch"
    fields = (Field("schedule", as_schedule, nested="one"), Field("factor", v.positive))

    def _encode(self, enc):
        return enc.node(layout.STRETCH, {"factor": self.factor}, (self.schedule,))

    def _breaks(self, stop):
        return {moved(b, b * self.factor) for b in breaks_of(self.schedule, stop / self.factor)}

    def _settles(self):
        inner = self.schedule._settles()
        return None if inner is None else moved(inner, inner * self.factor)


class Warp(_Method):
    r""":math:`\eta(t) = s(T\,(t / T)^{k})`; written ``s.warp(power, span)``.

    A power clock that keeps t = 0 and t = T fixed: k > 1 lingers at the start
    and hurries at the end (the k-decay of Zhang and Li 2020, timm's
    ``k_decay``), k < 1 the reverse.
    """

    kind = "warp"
    fields = (Field("schedule", as_schedule, nested="one"), Field("power", v.positive), Field("span", v.positive))

    def _encode(self, enc):
        return enc.node(layout.WARP, {"power": self.power, "span": self.span}, (self.schedule,))

    def _breaks(self, stop):  # the kid's time b is reached at t = span (b / span) ** (1 / power)
        k, span = self.power, self.span
        inner = breaks_of(self.schedule, span * v.power(stop / span, k))
        return {moved(b, span * v.power(b / span, 1 / k)) for b in inner}

    def _settles(self):
        inner = self.schedule._settles()
        return None if inner is None else moved(inner, self.span * v.power(inner / self.span, 1 / self.power))


class PerEpoch(_Method):
    r""":math:`\eta(t) = s(\lceil t / E \rceil)`; written ``s.per_epoch(E)``.

    An epoch schedule (epoch 1, 2, ...) read once per update, E =
    ``steps_per_epoch`` updates per epoch.
    """

    kind = "per_epoch"
    fields = (Field("schedule", as_schedule, nested="one"), Field("steps_per_epoch", v.count))

    def _encode(self, enc):
        return enc.node(layout.PER_EPOCH, {"steps_per_epoch": self.steps_per_epoch}, (self.schedule,))

    def _breaks(self, stop):
        e = self.steps_per_epoch
        if not stop / e < 2.0**53:  # no whole epoch up there tells two updates apart: the kid's breaks as they are
            return {b * e for b in breaks_of(self.schedule, stop / e)}
        return {_epoch_end(b) * e for b in breaks_of(self.schedule, math.floor(stop / e) + 1)}

    def _settles(self):
        inner = self.schedule._settles()
        if inner is None or not math.isfinite(inner):
            return inner
        return _epoch_end(inner) * self.steps_per_epoch


def _epoch_end(b: float) -> float:
    """The last epoch e of the old phase: e <= b for a break after b, e < c for an onset c.

    Epoch ceil(t / E) <= e exactly while t <= e E, so the update boundary is e E.
    """
    return float(math.ceil(b) - 1 if type(b) is Onset else math.floor(b))


# ---------------------------------------------------------------- escape hatch


def _callable(name, fn):
    if not callable(fn) or isinstance(fn, Schedule):
        raise TypeError(f"{name} must be a Python callable, got {fn!r}")
    return fn


class Function(Schedule):
    r""":math:`\eta(t) = f(t)` for any Python callable f from a float to a number.

    The escape hatch: it composes with everything, but it is evaluated by
    calling Python once per value (slow), and it cannot be serialized
    (``to_dict`` raises TypeError); it pickles when f does.

    Example:
        >>> s = function(lambda t: 1.0 / (1.0 + t))
        >>> s(1), s.values(3).tolist()
        (0.5, [0.5, 0.3333333333333333, 0.25])
    """

    kind = "function"
    fields = (Field("fn", _callable),)

    def _encode(self, enc):
        return enc.function(self.fn)

    def _breaks(self, stop):
        raise UnknownStructure("a function(...) schedule has no known structure")

    def _settles(self):
        return None

    def __repr__(self):
        fn = self.fn
        name = getattr(fn, "__qualname__", None)
        module = getattr(fn, "__module__", None)
        if name and module and "<" not in name:
            return f"function({module}.{name})"
        return f"function({fn!r})"
