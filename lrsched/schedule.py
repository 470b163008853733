"""The schedule value type and the registry of every kind of schedule.

A kind of schedule is declared once, as a subclass of :class:`Schedule` with

* ``kind``: its public name (the constructor's name in :mod:`lrsched`, the
  ``"type"`` of its serialized form);
* ``fields``: its parameters, in order, each a :class:`Field` with the check
  that validates and normalises it and its default;
* ``_encode``: how the engine lays it out for the numba kernel (a leaf
  opcode, or a lowering into other schedules).

Everything else follows from that declaration here, once for all kinds:
construction and validation, immutability, equality and hashing by value,
pickling, the repr (Python that rebuilds the schedule), serialization
(:mod:`lrsched.serialize`), scalar and array evaluation (:mod:`lrsched.engine`)
and arithmetic.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from . import _validate as v

#: every kind of schedule by name (filled as the classes are declared)
REGISTRY: dict[str, type[Schedule]] = {}

#: deepest nesting of schedules accepted (the kernel keeps one scratch row per level)
MAX_DEPTH = 64


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()

_set = object.__setattr__


class Field:
    """One parameter of a kind of schedule.

    ``check(name, value)`` validates and normalises a value; ``nested`` says
    whether the field holds a schedule (``"one"``) or a list of schedules
    (``"many"``), which serialization walks into; ``keyword`` asks the repr
    to spell the parameter's name. ``attr`` stores the value under another
    attribute name where the parameter's own would hide a method
    (piecewise's ``values``, next to ``Schedule.values(n)``).
    """

    __slots__ = ("attr", "check", "default", "keyword", "name", "nested")

    def __init__(self, name, check, default=REQUIRED, *, keyword=False, nested=None, attr=None):
        self.name = name
        self.check = check
        self.default = default
        self.keyword = keyword
        self.nested = nested
        self.attr = attr or name

    def __repr__(self) -> str:
        return f"Field({self.name!r})"


class _ScheduleType(type):
    """Gives each kind ``__slots__`` for its fields and enters it in the registry."""

    def __new__(mcls, name, bases, ns):
        if "fields" in ns and "__slots__" not in ns:
            ns["__slots__"] = tuple(f.attr for f in ns["fields"])
        cls = super().__new__(mcls, name, bases, ns)
        kind = ns.get("kind")
        if kind:
            if kind in REGISTRY:
                raise RuntimeError(f"two kinds of schedule are named {kind!r}")
            REGISTRY[kind] = cls
        return cls


class Schedule(metaclass=_ScheduleType):
    """An immutable learning-rate schedule: a function of the iteration t.

    t is 1-indexed: ``s(1)`` is the learning rate of the first update, and
    ``s(0)`` the value before any update. ``s(t)`` takes a number (returns a
    float) or an array (returns a float64 array of the same shape);
    ``s.values(n)`` is ``s`` at t = 1 .. n.
    """

    __slots__ = ("_hash", "_height", "_program")
    __array_ufunc__ = None  # numpy defers to our reflected operators

    kind: ClassVar[str] = ""
    fields: ClassVar[tuple[Field, ...]] = ()

    # ------------------------------------------------------------ construction

    def __init__(self, *args, **kwargs):
        fields = self.fields
        npos = len(args)
        if npos > len(fields):
            raise TypeError(f"{self.kind}() takes at most {len(fields)} arguments, got {npos}")
        used = 0
        try:
            for i, f in enumerate(fields):
                name = f.name
                if i < npos:
                    if name in kwargs:
                        raise TypeError(f"got parameter {name!r} twice")
                    value = f.check(name, args[i])
                elif name in kwargs:
                    used += 1
                    value = f.check(name, kwargs[name])
                elif f.default is REQUIRED:
                    raise TypeError(f"missing required parameter {name!r}")
                else:
                    value = f.default
                _set(self, f.attr, value)
            if used != len(kwargs):
                unknown = sorted(set(kwargs) - {f.name for f in fields})
                raise TypeError(f"got an unexpected parameter {unknown[0]!r}")
            self._check()
        except (TypeError, ValueError) as e:
            raise type(e)(f"{self.kind}(): {e}") from None
        height = 1
        for c in self.children():
            if c._height >= height:
                height = c._height + 1
        if height > MAX_DEPTH:
            raise ValueError(f"{self.kind}(): schedules nest deeper than {MAX_DEPTH} levels")
        _set(self, "_height", height)
        _set(self, "_program", None)
        _set(self, "_hash", None)

    def _check(self) -> None:
        """Checks across fields, after each field's own check (kinds override)."""

    def _set(self, name: str, value) -> None:
        """Normalise a field during ``_check`` (the only mutation there is)."""
        _set(self, name, value)

    def __setattr__(self, name, value):
        raise AttributeError(f"schedules are immutable: cannot set {name!r}")

    def __delattr__(self, name):
        raise AttributeError(f"schedules are immutable: cannot delete {name!r}")

    # ------------------------------------------------------------ value semantics

    def params(self) -> tuple:
        """The field values, in declaration order."""
        return tuple(getattr(self, f.attr) for f in self.fields)

    def children(self) -> tuple[Schedule, ...]:
        """The schedules this one is built from."""
        out: list[Schedule] = []
        for f in self.fields:
            if f.nested == "one":
                out.append(getattr(self, f.attr))
            elif f.nested == "many":
                out.extend(getattr(self, f.attr))
        return tuple(out)

    def __eq__(self, other):
        if not isinstance(other, Schedule):
            return NotImplemented
        return type(self) is type(other) and self.params() == other.params()

    def __hash__(self):
        h = self._hash
        if h is None:
            h = hash((self.kind, self.params()))
            _set(self, "_hash", h)
        return h

    def __reduce__(self):
        return (type(self), self.params())

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    # ------------------------------------------------------------ repr

    def __repr__(self) -> str:
        parts = []
        positional = True
        for f in self.fields:
            value = getattr(self, f.attr)
            if f.default is not REQUIRED and _same(value, f.default):
                positional = False
                continue
            if f.keyword or f.default is not REQUIRED or not positional:
                positional = False
                parts.append(f"{f.name}={format_value(value)}")
            else:
                parts.append(format_value(value))
        return f"{self.kind}({', '.join(parts)})"

    # precedence for the repr of arithmetic; 100 = a call, binds tightest
    _precedence: ClassVar[int] = 100

    # ------------------------------------------------------------ evaluation

    def __call__(self, t):
        """The learning rate at iteration t (a number, or an array of them)."""
        program = self._program or self._compile()
        tt = type(t)
        if tt is float or tt is int:
            if 0 <= t < math.inf:
                return program.at(float(t))
        from .engine import evaluate

        return evaluate(self, program, t)

    def values(self, n: int) -> np.ndarray:
        """The learning rates of the first n updates: ``s(t)`` for t = 1 .. n.

        >>> linear(1.0, 0.0, 4).values(4)
        array([0.75, 0.5 , 0.25, 0.  ])
        """
        from .engine import evaluate_range

        n = v.count("n", n, minimum=0)
        return evaluate_range(self, self._program or self._compile(), 1.0, n)

    # ------------------------------------------------------------ introspection

    def length(self) -> float | None:
        """The iteration after which the schedule is constant (None: never); see :mod:`lrsched.analysis`.

        >>> warmup(cosine(0.1, 0.0, steps=90), steps=10).length()
        100.0
        """
        from .analysis import length

        return length(self)

    def breakpoints(self, stop: float | None = None) -> list[float]:
        """Where the composition changes phase, up to ``stop`` (default: its length).

        >>> join([constant(1), linear(1, 0, 10)], boundaries=[5]).breakpoints()
        [5.0, 15.0]
        """
        from .analysis import breakpoints

        return breakpoints(self, stop)

    def summary(self, stop: int | None = None, start: int = 1):
        """Exact facts over t = start .. stop: extremes, area, jumps, monotone stretches."""
        from .analysis import summary

        return summary(self, stop, start)

    def describe(self, stop: int | None = None) -> str:
        """A readable summary (see :func:`lrsched.analysis.describe`)."""
        from .analysis import describe

        return describe(self, stop)

    def _compile(self):
        from .engine import compile_program

        program = compile_program(self)
        _set(self, "_program", program)
        return program

    def _encode(self, enc) -> int:
        raise NotImplementedError(f"{type(self).__name__} does not say how to encode itself")

    # ------------------------------------------------------------ serialization

    def to_dict(self) -> dict:
        """A versioned dict of plain JSON types; :func:`lrsched.from_dict` rebuilds it."""
        from .serialize import to_dict

        return to_dict(self)

    def to_json(self, **kwargs) -> str:
        """:meth:`to_dict` as JSON text; :func:`lrsched.from_json` rebuilds it."""
        from .serialize import to_json

        return to_json(self, **kwargs)

    # ------------------------------------------------------------ algebra

    def __add__(self, other):
        return _arith("add", self, other)

    def __radd__(self, other):
        return _arith("add", other, self)

    def __sub__(self, other):
        return _arith("sub", self, other)

    def __rsub__(self, other):
        return _arith("sub", other, self)

    def __mul__(self, other):
        return _arith("mul", self, other)

    def __rmul__(self, other):
        return _arith("mul", other, self)

    def __truediv__(self, other):
        return _arith("div", self, other)

    def __rtruediv__(self, other):
        return _arith("div", other, self)

    def __neg__(self):
        return _arith("mul", -1.0, self)

    def __pos__(self):
        return self

    def clip(self, low=None, high=None) -> Schedule:
        """``min(max(s(t), low), high)``; either bound may be None.

        >>> linear(1.0, 0.0, 10).clip(low=0.25)(10)
        0.25
        """
        return REGISTRY["clip"](self, low, high)

    def shift(self, k) -> Schedule:
        """``s(max(t - k, 0))``: start k iterations later (earlier for k < 0).

        >>> linear(1.0, 0.0, 10).shift(5)(10)
        0.5
        """
        return REGISTRY["shift"](self, k)

    def stretch(self, factor) -> Schedule:
        """``s(t / factor)``: the same curve over factor times as many iterations.

        >>> linear(1.0, 0.0, 10).stretch(2)(10)
        0.5
        """
        return REGISTRY["stretch"](self, factor)

    def warp(self, power, span) -> Schedule:
        """``s(span * (t / span) ** power)``: a power clock fixed at 0 and ``span``.

        >>> linear(0.0, 1.0, 10).warp(2, 10)(5)
        0.25
        """
        return REGISTRY["warp"](self, power, span)

    def per_epoch(self, steps_per_epoch) -> Schedule:
        """``s(ceil(t / steps_per_epoch))``: an epoch schedule read per update.

        >>> s = step(1.0, every=1, factor=0.5).per_epoch(100)
        >>> s(100), s(101)
        (1.0, 0.5)
        """
        return REGISTRY["per_epoch"](self, steps_per_epoch)


def _arith(op: str, a, b):
    if not (isinstance(a, Schedule) or v._is_real(a)) or not (isinstance(b, Schedule) or v._is_real(b)):
        return NotImplemented
    return REGISTRY[op](a, b)


# ---------------------------------------------------------------- field checks


def as_schedule(name: str, value) -> Schedule:
    """A schedule, or a number (read as a constant schedule)."""
    if isinstance(value, Schedule):
        return value
    if v._is_real(value):
        return REGISTRY["constant"](value)
    raise TypeError(f"{name} must be a schedule or a number, got {value!r}")


def as_schedules(name: str, values) -> tuple[Schedule, ...]:
    if isinstance(values, Schedule) or not isinstance(values, (list, tuple)):
        raise TypeError(f"{name} must be a list of schedules, got {values!r}")
    return tuple(as_schedule(f"{name}[{i}]", s) for i, s in enumerate(values))


# ---------------------------------------------------------------- repr helpers


def format_number(x: float) -> str:
    """Shortest text that reads back as x; whole numbers without '.0'."""
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e16:
        return str(int(x))
    return repr(x)


def format_value(value) -> str:
    if isinstance(value, (bool, str)) or value is None:
        return repr(value)
    if isinstance(value, (int, float)):
        return format_number(value)
    if isinstance(value, tuple):  # a list field: its items, pairs as (t, v)
        items = (
            "(" + ", ".join(format_value(y) for y in x) + ")" if isinstance(x, tuple) else format_value(x)
            for x in value
        )
        return f"[{', '.join(items)}]"
    return repr(value)


def _same(a, b) -> bool:
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:  # pragma: no cover - exotic defaults
        return False
