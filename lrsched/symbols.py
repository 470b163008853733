r"""Durations written before the run's length is known: the symbols ``total`` and ``epoch``, and their expressions.

``total`` is the run's number of optimizer updates and ``epoch`` the number of
updates per epoch. Either goes wherever a duration goes in a schedule's
parameters (a length, a boundary, a period, a milestone, ``at``, ``every``:
see :data:`DURATIONS`), alone or in arithmetic with numbers::

    s = warmup(cosine(3e-4, 0.0, steps=total - 0.05 * total), steps=0.05 * total)
    s.bind(total=10_000)  # an ordinary schedule, equal to the one written with numbers

A symbol where no duration goes (a learning rate, a factor, a flag) is refused
at once, naming the parameter. A schedule that holds a symbol is *unbound*:
its repr shows the symbols, it round-trips through ``to_dict`` / JSON (as
expression strings, ``"0.05 * total"``), and evaluating it raises ValueError
naming the symbol. Binding (``s.bind(total=..., epoch=...)``, the adapters'
``total=``) and the run-length checks live in :mod:`lrsched.binding`; reading
expressions from text in :mod:`lrsched.parsing`. An expression is evaluated
exactly as written, so binding gives the same floats as writing the numbers in
the same expression.
"""

from __future__ import annotations

import math

import numpy as np

from . import _validate as v

__all__ = ["DURATIONS", "FUNCTIONS", "MAX_EXPR_DEPTH", "MAX_EXPR_NODES", "SYMBOLS", "Expr", "epoch", "total"]

#: the symbols and what each stands for
SYMBOLS = {"total": "the run's number of optimizer updates", "epoch": "the number of updates per epoch"}

#: the parameters that take a duration (so may hold ``total`` and ``epoch``), by name, for the kinds and the
#: recipes: True for a number or a list of them, ``"times"`` for (t, value) pairs whose t alone is a duration.
#: A kind's :class:`lrsched.value.Field` may say otherwise with ``duration=``.
DURATIONS: dict[str, bool | str] = dict.fromkeys(
    ("steps", "warmup_steps", "decay_steps", "every", "boundaries", "milestones", "period", "half_period", "at", "k",
     "span", "steps_per_epoch", "scale", "limit", "cycle_ends", "rewarmup_steps"),
    True,
) | {"points": "times"}  # fmt: skip

#: the deepest and the largest expression accepted (sharing counted each time it appears): far beyond a duration
#: anyone writes, small enough that printing, comparing and binding one stays instant
MAX_EXPR_DEPTH = 100
MAX_EXPR_NODES = 10_000

_OPS = {"+": (1, lambda a, b: a + b), "-": (1, lambda a, b: a - b), "*": (2, lambda a, b: a * b),
        "/": (2, lambda a, b: a / b)}  # fmt: skip
#: the functions an expression may hold, by their printed name: as Python computes them on the bound numbers
#: (floor, ceil and round give whole numbers: round is Python's, half to even)
FUNCTIONS = {"floor": math.floor, "ceil": math.ceil, "round": round, "minimum": min, "maximum": max}


def _operand(x, name="operand"):
    if isinstance(x, Expr):
        return x
    x = v._scalar(x)  # a 0-d array is its number
    if v._is_real(x):
        return v.real(name, x)
    if isinstance(x, np.ndarray):  # not one number: numpy would make an array of durations
        raise TypeError(f"a duration combines with numbers, not with an array: got {v.show(x)}")
    return None


class Expr:
    """A duration in the symbols ``total`` and ``epoch``: a symbol, ``+ - * /`` of expressions and numbers, or one
    of :data:`FUNCTIONS` of them (``floor(0.01 * total)``, ``minimum(0.1 * total, 1000)``).

    Immutable and hashable, equal by structure; ``repr`` is the Python
    expression. It is not a number: comparing it or converting it with
    ``float()`` raises TypeError (bind the schedule first). One deeper than
    :data:`MAX_EXPR_DEPTH` levels or larger than :data:`MAX_EXPR_NODES` nodes
    is refused (ValueError). NumPy's functions refuse it, as they refuse a
    schedule: round it with lrsched's ``floor``, ``ceil`` and ``round`` (or
    ``math.floor``, ``math.ceil`` and ``round``).
    """

    __slots__ = ("_args", "_height", "_op", "_size", "symbols")
    __array_ufunc__ = None  # numpy defers to our reflected operators (an array times a duration is refused)

    def __init__(self, op: str, args: tuple):
        object.__setattr__(self, "_op", op)  # "sym" (name,), "neg" (a,), a binary operator (a, b), or a function
        object.__setattr__(self, "_args", args)
        found = frozenset([args[0]]) if op == "sym" else frozenset()
        size, height = 1, 1
        for a in args:
            if isinstance(a, Expr):
                found |= a.symbols
                size += a._size
                height = max(height, a._height + 1)
        if height > MAX_EXPR_DEPTH:
            raise ValueError(f"the expression nests deeper than {MAX_EXPR_DEPTH} levels (MAX_EXPR_DEPTH)")
        if size > MAX_EXPR_NODES:
            raise ValueError(
                f"the expression has {size} terms, its shared parts counted each time they appear: "
                f"more than {MAX_EXPR_NODES} (MAX_EXPR_NODES)"
            )
        object.__setattr__(self, "symbols", found)
        object.__setattr__(self, "_size", size)
        object.__setattr__(self, "_height", height)

    def __setattr__(self, name, value):
        raise AttributeError("expressions are immutable")

    # ------------------------------------------------ arithmetic

    def _binary(self, op, other, reflected=False):
        other = _operand(other)
        if other is None:
            return NotImplemented
        return Expr(op, (other, self) if reflected else (self, other))

    def __add__(self, other):
        return self._binary("+", other)

    def __radd__(self, other):
        return self._binary("+", other, True)

    def __sub__(self, other):
        return self._binary("-", other)

    def __rsub__(self, other):
        return self._binary("-", other, True)

    def __mul__(self, other):
        return self._binary("*", other)

    def __rmul__(self, other):
        return self._binary("*", other, True)

    def __truediv__(self, other):
        return self._binary("/", other)

    def __rtruediv__(self, other):
        return self._binary("/", other, True)

    def __neg__(self):
        return Expr("neg", (self,))

    # math.floor, math.ceil and round of a duration: the same, once bound (lrsched.floor, .ceil, .round too)
    def __floor__(self):
        return Expr("floor", (self,))

    def __ceil__(self):
        return Expr("ceil", (self,))

    def __round__(self, ndigits=None):
        if ndigits is not None:
            raise TypeError(f"round({self!r}, {v.show(ndigits)}): a duration rounds to a whole number only")
        return Expr("round", (self,))

    def __pos__(self):
        return self

    # ------------------------------------------------ not a number until bound

    def _refuse(self, what):
        raise TypeError(
            f"{self!r} is not known until the run's length is bound: {what} needs a number "
            f"(bind the schedule first: s.bind({', '.join(f'{n}=...' for n in sorted(self.symbols))}))"
        )

    def __float__(self):
        self._refuse("float()")

    def __int__(self):
        self._refuse("int()")

    def __index__(self):
        self._refuse("an integer")

    def __bool__(self):
        self._refuse("a truth value")

    def __lt__(self, other):
        self._refuse("a comparison (lrsched.minimum and lrsched.maximum take durations)")

    __le__ = __gt__ = __ge__ = __lt__

    def __eq__(self, other):
        if not isinstance(other, Expr):
            return NotImplemented
        return self._op == other._op and self._args == other._args

    def __hash__(self):
        return hash((self._op, self._args))

    def __reduce__(self):
        return (Expr, (self._op, self._args))

    # ------------------------------------------------ reading

    def value(self, bindings: dict):
        """The number this expression gives with ``bindings``, evaluated as written; or an Expr if a symbol is
        left unbound."""
        if self._op == "sym":
            name = self._args[0]
            return bindings.get(name, self)
        args = [a.value(bindings) if isinstance(a, Expr) else a for a in self._args]
        if self._op == "neg":
            return -args[0]
        if self._op in FUNCTIONS:
            if any(isinstance(a, Expr) for a in args):
                return Expr(self._op, tuple(args))
            try:
                return FUNCTIONS[self._op](*args)
            except (OverflowError, ValueError):  # floor of inf or nan
                raise ValueError(f"{self!r} is not a finite number with {_shown(bindings)}") from None
        a, b = args
        if isinstance(a, Expr) or isinstance(b, Expr):
            return Expr(self._op, (a, b))
        try:
            return _OPS[self._op][1](a, b)
        except ZeroDivisionError:
            raise ValueError(f"{self!r} divides by zero with {_shown(bindings)}") from None
        except OverflowError:  # an int binding times a float: the float arithmetic gives inf instead
            raise ValueError(f"{self!r} is beyond the float range with {_shown(bindings)}") from None

    def _text(self, outer: int = 0, right: bool = False) -> str:
        if self._op == "sym":
            return self._args[0]
        if self._op in FUNCTIONS:
            return f"{self._op}({', '.join(x._text() if isinstance(x, Expr) else _number(x, 0) for x in self._args)})"
        if self._op == "neg":
            inner = self._args[0]
            text = "-" + (inner._text(3) if isinstance(inner, Expr) else _number(inner, 3))
            return f"({text})" if outer >= 2 else text
        prec = _OPS[self._op][0]
        a, b = (x._text(prec, i == 1) if isinstance(x, Expr) else _number(x, prec) for i, x in enumerate(self._args))
        text = f"{a} {self._op} {b}"
        return f"({text})" if prec < outer or (prec == outer and right) else text

    def __repr__(self) -> str:
        return self._text()

    def __str__(self) -> str:
        return self._text()


def _number(x: float, outer: int) -> str:
    x = float(x)
    whole = x.is_integer() and abs(x) < 1e16 and (x or math.copysign(1.0, x) > 0)  # -0.0 keeps its sign
    text = str(int(x)) if whole else repr(x)  # as lrsched.value.format_number
    return f"({text})" if x < 0 and outer >= 1 else text


def _shown(bindings: dict) -> str:
    return ", ".join(f"{k}={v.show(x)}" for k, x in sorted(bindings.items()))


total = Expr("sym", ("total",))
epoch = Expr("sym", ("epoch",))


# ---------------------------------------------------------------- values holding symbols

#: how deep into lists a parameter's value is searched for symbols (a list of pairs is two levels); anything
#: deeper is not a duration, and the parameter's own check refuses it
_LIST_DEPTH = 3


def symbols_in(value, _depth: int = 0) -> frozenset:
    """The symbols in a parameter's value (an expression, or a list or tuple holding some)."""
    if isinstance(value, Expr):
        return value.symbols
    if isinstance(value, (list, tuple)) and _depth < _LIST_DEPTH:
        found: frozenset = frozenset()
        for x in value:
            found |= symbols_in(x, _depth + 1)
        return found
    return frozenset()


def expr_size(value, _depth: int = 0) -> int:
    """The nodes of the expressions in a parameter's value (0 for plain numbers)."""
    if isinstance(value, Expr):
        return value._size
    if isinstance(value, (list, tuple)) and _depth < _LIST_DEPTH:
        return sum(expr_size(x, _depth + 1) for x in value)
    return 0


def misplaced(name: str, value, duration) -> str | None:
    """Where in ``value`` a symbol stands that parameter ``name`` cannot take, or None.

    ``duration`` is the parameter's declaration (see :data:`DURATIONS`): True
    takes symbols anywhere, ``"times"`` in the first item of each pair only,
    False nowhere.
    """
    if duration is True or not symbols_in(value):
        return None
    if duration == "times" and isinstance(value, (list, tuple)):
        for i, pair in enumerate(value):
            if isinstance(pair, (list, tuple)):
                for j, x in enumerate(pair[1:], 1):
                    if symbols_in(x):
                        return f"{name}[{i}][{j}]"
            elif symbols_in(pair):
                return f"{name}[{i}]"
        return None
    return name


def refuse_misplaced(where: str, name: str, value, duration) -> None:
    """TypeError if ``value`` holds a symbol where parameter ``name`` takes no duration (``where``: the caller)."""
    at = misplaced(name, value, duration)
    if at is not None:
        raise TypeError(
            f"{where}{name}={_written(value)}: {at} does not take a duration (total and epoch go only where a "
            "number of updates goes: lengths, boundaries, periods, milestones, at, every)"
        )


def _written(value) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_written(x) for x in value) + "]"
    return str(value) if isinstance(value, Expr) else v.show(value)


def hold(name: str, value):
    """A parameter's value that holds symbols, kept for binding: lists become tuples, plain items must be numbers."""
    if isinstance(value, Expr):
        return value
    if isinstance(value, (list, tuple)):
        return tuple(hold(f"{name}[{i}]", x) for i, x in enumerate(value))
    return v.real(name, value)


#: trial bindings: a value holding symbols must pass its parameter's check with at least one of them, so that a
#: symbol where no number goes (a flag, a shape) is refused at once; its value is checked when bound
TRIALS = ({"total": 1_000_000, "epoch": 1_000}, {"total": 7, "epoch": 3})


def try_bindings(check):
    """Run ``check(bindings)`` with each trial binding; if every one fails, raise the first failure."""
    first = None
    for bindings in TRIALS:
        try:
            check(bindings)
            return
        except (TypeError, ValueError) as e:
            first = first or e
    raise first


def substitute(value, bindings: dict):
    """``value`` with the bound symbols replaced by their numbers."""
    if isinstance(value, Expr):
        return value.value(bindings)
    if isinstance(value, tuple):
        return [substitute(x, bindings) for x in value]
    return value


def unbound_message(schedule, missing) -> str:
    """Why an unbound schedule cannot be evaluated, and how to bind it (the same words for every adapter)."""
    names = sorted(missing)
    how = ", ".join(f"{n}=..." for n in names)
    what = "; ".join(f"{n} is {SYMBOLS[n]}" for n in names)
    return (
        f"{schedule!r} uses the unbound symbol{'s' if len(names) > 1 else ''} {', '.join(names)} ({what}): "
        f"bind it first with s.bind({how})"
    )
