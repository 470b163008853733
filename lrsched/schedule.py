"""The schedule value type: evaluation, introspection, serialization and algebra over :class:`Value`.

A kind of schedule is declared once (see :mod:`lrsched.value`); this class
adds, for every kind: scalar and array evaluation (:mod:`lrsched.engine`),
introspection (:mod:`lrsched.analysis`), serialization
(:mod:`lrsched.serialize`) and arithmetic.
"""

from __future__ import annotations

import numpy as np

from . import _validate as v
from . import analysis, binding, engine, serialize, structure
from .layout import MAX_DEPTH
from .value import REGISTRY, REQUIRED, Field, Value, format_number, format_value

_set = object.__setattr__
_FLOAT_MAX = 1.7976931348623157e308

__all__ = [
    "MAX_DEPTH",
    "REGISTRY",
    "REQUIRED",
    "Field",
    "Schedule",
    "as_schedule",
    "as_schedules",
    "format_number",
    "format_value",
]


class Schedule(Value):
    """An immutable learning-rate schedule: a function of the iteration t.

    t is 1-indexed: ``s(1)`` is the learning rate of the first update, and
    ``s(0)`` the value before any update. ``s(t)`` takes a number (returns a
    float) or an array (returns a float64 array of the same shape);
    ``s.values(n)`` is ``s`` at t = 1 .. n.
    """

    __slots__ = ()

    # ------------------------------------------------------------ evaluation

    def __call__(self, t):
        """The learning rate at iteration t (a number, or an array of them)."""
        program = self._program or self._compile()
        tt = type(t)
        if tt is float or tt is int:
            if 0 <= t <= _FLOAT_MAX:  # an int beyond the float range goes on to be refused by name
                return program.at(float(t))
        return engine.evaluate(self, program, t)

    def values(self, n: int) -> np.ndarray:
        """The learning rates of the first n updates: ``s(t)`` for t = 1 .. n.

        >>> linear(1.0, 0.0, 4).values(4)
        array([0.75, 0.5 , 0.25, 0.  ])
        """
        n = v.count("n", n, minimum=0)
        return engine.evaluate_range(self, self._program or self._compile(), 1.0, n)

    # ------------------------------------------------------------ introspection

    def length(self) -> float | None:
        """The iteration after which the schedule is constant (None: never); see :mod:`lrsched.structure`.

        >>> warmup(cosine(0.1, 0.0, steps=90), steps=10).length()
        100.0
        """
        return structure.length(self)

    def breakpoints(self, stop: float | None = None) -> list[float]:
        """Where the composition changes phase, up to ``stop`` (default: its length).

        >>> join([constant(1), linear(1, 0, 10)], boundaries=[5]).breakpoints()
        [5.0, 15.0]
        """
        return structure.breakpoints(self, stop)

    def _breaks(self, stop: float) -> set[float]:
        """Where this schedule changes phase, in its own time, up to ``stop`` (each kind declares it).

        :func:`lrsched.structure.breaks_of` keeps the times in (0, stop]; a
        combinator asks its kids through it, in the time each kid sees.
        """
        raise NotImplementedError(f"{type(self).__name__} does not declare where its phases break (_breaks)")

    def _settles(self) -> float | None:
        """A time after which this schedule no longer changes; None if it never settles (each kind declares it)."""
        raise NotImplementedError(f"{type(self).__name__} does not declare where it settles (_settles)")

    def summary(self, stop: int | None = None, start: int = 1):
        """Exact facts over t = start .. stop: extremes, area, jumps, monotone stretches."""
        return analysis.summary(self, stop, start)

    def describe(self, stop: int | None = None) -> str:
        """A readable summary (see :func:`lrsched.analysis.describe`)."""
        return analysis.describe(self, stop)

    # ------------------------------------------------------------ symbols

    def bind(self, **symbols) -> Schedule:
        """This schedule with the symbols ``total`` and ``epoch`` replaced by numbers (see :mod:`lrsched.binding`).

        The result is built through the constructors, so it is checked as if
        written with the numbers, and equal to that schedule; an error names the
        parameter, its expression and the binding. Symbols not given stay; a
        symbol given that the schedule does not hold is refused (a bound
        schedule is not bound again).

        >>> from lrsched import total
        >>> s = warmup(cosine(0.1, 0.0, steps=total - 0.1 * total), steps=0.1 * total)
        >>> s
        warmup(cosine(0.1, 0, steps=total - 0.1 * total), steps=0.1 * total)
        >>> s.bind(total=1000)
        warmup(cosine(0.1, 0, steps=900), steps=100)
        """
        return binding.bind(self, symbols)

    def _bind(self, bindings: dict) -> Schedule:
        """This schedule with ``bindings`` (checked) substituted: its fields, rebuilt (a kind may override)."""
        return binding.bind_fields(self, bindings)

    def _compile(self):
        program = engine.compile_program(self)
        _set(self, "_program", program)
        return program

    def _encode(self, enc) -> int:
        raise NotImplementedError(f"{type(self).__name__} does not say how to encode itself")

    # ------------------------------------------------------------ serialization

    def to_dict(self) -> dict:
        """A versioned dict of plain JSON types; :func:`lrsched.from_dict` rebuilds it."""
        return serialize.to_dict(self)

    def to_json(self, **kwargs) -> str:
        """:meth:`to_dict` as JSON text; :func:`lrsched.from_json` rebuilds it."""
        return serialize.to_json(self, **kwargs)

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

    def __pow__(self, other, modulo=None):
        return NotImplemented if modulo is not None else _arith("pow", self, other)

    def __rpow__(self, other):
        return _arith("pow", other, self)

    def __neg__(self):
        return _arith("mul", -1.0, self)

    # math.floor, math.ceil and round of a schedule: the same as lrsched.floor, .ceil and .round
    def __floor__(self):
        return REGISTRY["floor"](self)

    def __ceil__(self):
        return REGISTRY["ceil"](self)

    def __round__(self, ndigits=None):
        if ndigits is not None:
            raise TypeError(
                f"round(s, ndigits={ndigits!r}): a schedule rounds to whole numbers (s.quantize(q) "
                "rounds down to multiples of q)"
            )
        return REGISTRY["round"](self)

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

    def quantize(self, multiple) -> Schedule:
        """``multiple * floor(s(t) / multiple)``: the value rounded down to a multiple (a :class:`~lrsched.Floor`).

        >>> linear(0, 256, steps=256).quantize(64)(127)
        64.0
        """
        return REGISTRY["floor"](self, multiple)

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
    return REGISTRY[op].of(a, b)


# ---------------------------------------------------------------- field checks


def as_schedule(name: str, value) -> Schedule:
    """A schedule, or a number (read as a constant schedule)."""
    if isinstance(value, Schedule):
        return value
    if v._is_real(value):
        return REGISTRY["constant"](v.real(name, value))
    raise TypeError(f"{name} must be a schedule or a number, got {value!r}")


def as_schedules(name: str, values) -> tuple[Schedule, ...]:
    if isinstance(values, Schedule) or not isinstance(values, (list, tuple)):
        raise TypeError(f"{name} must be a list of schedules, got {values!r}")
    return tuple(as_schedule(f"{name}[{i}]", s) for i, s in enumerate(values))
