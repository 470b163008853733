"""What a value of lrsched is: fields, validation, equality, hashing, pickling, repr, and the registry.

A kind of schedule is declared once, as a subclass of :class:`lrsched.schedule.Schedule`
(itself a :class:`Value`) with

* ``kind``: its public name (the constructor's name in :mod:`lrsched`, the
  ``"type"`` of its serialized form);
* ``fields``: its parameters, in order, each a :class:`Field` with the check
  that validates and normalises it and its default;
* ``_encode``: how the engine lays it out for the numba kernel (a leaf
  opcode, or a lowering into other schedules);
* ``_breaks`` and ``_settles``: its structure, where its phases change and
  where it settles (:mod:`lrsched.structure` asks each kind).

This module gives every kind, from that declaration alone: construction and
validation, immutability, equality and hashing by value, pickling and the repr
(Python that rebuilds the value). It depends on nothing else in lrsched but
the checks and the symbols, so the engine, the analysis and serialization can
build on it and :mod:`lrsched.schedule` on them, without import cycles.

Every value knows its size at construction, from its kids: the number of
nodes with shared parts counted each time they appear, as printing,
serializing and laying it out for the kernel walk it. Past
:data:`MAX_NODES` it is refused (``s = s + s`` thirty times would be 2**31
nodes), as is nesting past :data:`lrsched.layout.MAX_DEPTH`.
"""

from __future__ import annotations

import inspect
import math
from typing import TYPE_CHECKING, Any, ClassVar

from . import _validate as v
from .layout import MAX_DEPTH
from .symbols import DURATIONS, expr_size, hold, refuse_misplaced, substitute, symbols_in, try_bindings

#: the most nodes a schedule may have, shared parts counted each time they appear (the expressions in its
#: parameters too): far beyond any real schedule (tens to hundreds of nodes). Printing, serializing and laying
#: out plain nodes take about a second at 100,000; a warmup or a cooldown also evaluates its own schedule once
#: (lrsched.engine.Encoder.value_at), so nested ones take time that grows with their depth times their size:
#: the cap keeps that bounded
MAX_NODES = 10_000

#: every kind of schedule by name (filled as the classes are declared)
REGISTRY: dict[str, type[Value]] = {}
#: every recipe (a function that composes kinds) by name, filled by :mod:`lrsched.recipes`; configs name them too
RECIPES: dict = {}
#: the functions an expression may call by name (``exp``, ``floor``, ``minimum``, ...: :mod:`lrsched.algebra`),
#: each taking schedules, numbers and (the rounding ones, minimum and maximum) durations
CALLS: dict = {}


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

    A value holding the symbols ``total`` or ``epoch`` (see :mod:`lrsched.symbols`)
    is kept as written and checked when the schedule is bound, unless
    ``symbolic`` says that ``check`` takes such values itself. ``duration``
    says whether the parameter takes a duration, so may hold symbols: True,
    ``"times"`` ((t, value) pairs whose t alone is a duration) or False; by
    default, what :data:`lrsched.symbols.DURATIONS` says of its name. A symbol
    in a field that takes no duration is refused by name (``start=total`` is
    a learning rate of 10,000 once bound, never what was meant).
    """

    __slots__ = ("attr", "check", "default", "duration", "keyword", "name", "nested", "symbolic")

    def __init__(
        self, name, check, default=REQUIRED, *, keyword=False, nested=None, attr=None, symbolic=False, duration=None
    ):
        self.name = name
        self.check = check
        self.default = default
        self.keyword = keyword
        self.nested = nested
        self.attr = attr or name
        self.symbolic = symbolic
        self.duration = DURATIONS.get(name, False) if duration is None else duration

    def __repr__(self) -> str:
        return f"Field({self.name!r})"


def _check_names(fields, kwargs, renamed) -> None:
    """Name an unknown keyword first (with the closest valid name, or its new name), before any missing one."""
    names = [f.name for f in fields]
    for key in kwargs:
        if key in renamed:
            raise TypeError(f"got an unexpected parameter {key!r}; it is now called {renamed[key]!r}")
        if key not in names:
            hint = v.did_you_mean(key, names, cutoff=0.5, otherwise=f"the parameters are {', '.join(names)}")
            raise TypeError(f"got an unexpected parameter {key!r}{hint}")


def _signature(fields) -> inspect.Signature:
    """The constructor's signature, from the fields: what help(), IDEs and inspect show."""
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    params = []
    for f in fields:
        default = inspect.Parameter.empty if f.default is REQUIRED else f.default
        if params and default is inspect.Parameter.empty and params[-1].default is not inspect.Parameter.empty:
            kind = inspect.Parameter.KEYWORD_ONLY  # a required parameter after a defaulted one
        params.append(inspect.Parameter(f.name, kind, default=default))
    return inspect.Signature(params)


class _ScheduleType(type):
    """Gives each kind ``__slots__`` for its fields and enters it in the registry."""

    def __new__(mcls, name, bases, ns):
        if "fields" in ns and "__slots__" not in ns:
            ns["__slots__"] = tuple(f.attr for f in ns["fields"])
        cls = super().__new__(mcls, name, bases, ns)
        if "fields" in ns:
            cls.__signature__ = _signature(ns["fields"])
            cls._nested = tuple((f.attr, f.nested == "many") for f in ns["fields"] if f.nested is not None)
        kind = ns.get("kind")
        if kind and not ns.get("unlisted", False):
            if kind in REGISTRY:
                raise RuntimeError(f"two kinds of schedule are named {kind!r}")
            REGISTRY[kind] = cls
        return cls


class Value(metaclass=_ScheduleType):
    """An immutable value declared by its fields (see :class:`lrsched.schedule.Schedule`).

    A schedule is a function of the iteration t.

    t is 1-indexed: ``s(1)`` is the learning rate of the first update, and
    ``s(0)`` the value before any update. ``s(t)`` takes a number (returns a
    float) or an array (returns a float64 array of the same shape);
    ``s.values(n)`` is ``s`` at t = 1 .. n.
    """

    __slots__ = ("_bound", "_hash", "_height", "_program", "_size", "_symbols")
    __array_ufunc__ = None  # numpy defers to our reflected operators

    kind: ClassVar[str] = ""
    fields: ClassVar[tuple[Field, ...]] = ()
    _nested: ClassVar[tuple[tuple[str, bool], ...]] = ()  # (attr, holds a list) of each field holding schedules
    #: former parameter names -> current ones: configs written with them load, keywords get a hint
    renamed: ClassVar[dict[str, str]] = {}

    # ------------------------------------------------------------ construction

    def __init__(self, *args, **kwargs):
        fields = self.fields
        npos = len(args)
        if npos > len(fields):
            raise TypeError(f"{self.kind}() takes at most {len(fields)} arguments, got {npos}")
        symbols: frozenset = frozenset()
        size = 1
        try:
            if kwargs:
                _check_names(fields, kwargs, self.renamed)
            for i, f in enumerate(fields):
                name = f.name
                if i < npos:
                    if name in kwargs:
                        raise TypeError(f"got parameter {name!r} twice")
                    raw = args[i]
                elif name in kwargs:
                    raw = kwargs[name]
                elif f.default is REQUIRED:
                    raise TypeError(f"missing required parameter {name!r}")
                else:
                    _set(self, f.attr, f.default)
                    continue
                found = symbols_in(raw) if f.nested is None else frozenset()
                if found and not f.symbolic:
                    refuse_misplaced("", name, raw, f.duration)
                    value = hold(name, raw)  # checked when bound; now, that a number may go there at all
                    try:
                        try_bindings(lambda b, f=f, value=value: f.check(f.name, substitute(value, b)))
                    except TypeError:
                        raise TypeError(f"{name}={format_value(value)}: {name} does not take a duration") from None
                    except ValueError as e:
                        raise ValueError(f"{name}={format_value(value)}: for any run, {e}") from None
                else:
                    value = f.check(name, raw)
                symbols |= found
                if found:
                    size += expr_size(value)
                _set(self, f.attr, value)
            kids = self.children()
            for c in kids:
                symbols |= c._symbols
                size += c._size
            if size > MAX_NODES:
                raise ValueError(
                    f"the schedule would have {size} nodes, its shared parts counted each time they appear: "
                    f"more than {MAX_NODES} (lrsched.value.MAX_NODES)"
                )
            if not symbols:
                self._check()
        except (TypeError, ValueError) as e:
            raise type(e)(f"{self.kind}(): {e}") from None
        _set(self, "_symbols", symbols)
        _set(self, "_size", size)
        height = 1
        for c in kids:
            if c._height >= height:
                height = c._height + 1
        if height > MAX_DEPTH:
            raise ValueError(f"{self.kind}(): schedules nest deeper than {MAX_DEPTH} levels")
        _set(self, "_height", height)
        _set(self, "_program", None)
        _set(self, "_hash", None)
        _set(self, "_bound", None)  # the bindings that made it, set by lrsched.binding.bind (not part of its value)

    def _check(self) -> None:
        """Checks across fields, after each field's own check (kinds override)."""

    def _set(self, name: str, value) -> None:
        """Normalise a field during ``_check`` (the only mutation there is)."""
        _set(self, name, value)

    if TYPE_CHECKING:  # the fields are made from each kind's declaration: type checkers see them as attributes

        def __getattr__(self, name: str) -> Any: ...

    def __setattr__(self, name, value):
        raise AttributeError(f"schedules are immutable: cannot set {name!r}")

    def __delattr__(self, name):
        raise AttributeError(f"schedules are immutable: cannot delete {name!r}")

    # ------------------------------------------------------------ value semantics

    def params(self) -> tuple:
        """The field values, in declaration order."""
        return tuple(getattr(self, f.attr) for f in self.fields)

    def children(self) -> tuple[Value, ...]:
        """The schedules this one is built from."""
        out: list[Value] = []
        for attr, many in self._nested:  # the fields that hold schedules (the metaclass lists them)
            if many:
                out.extend(getattr(self, attr))
            else:
                out.append(getattr(self, attr))
        return tuple(out)

    def __eq__(self, other):
        if not isinstance(other, Value):
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


# ---------------------------------------------------------------- repr helpers


def format_number(x: float) -> str:
    """Shortest text that reads back as x; whole numbers without '.0'."""
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e16 and (x or math.copysign(1.0, x) > 0):
        return str(int(x))  # -0.0 keeps its sign
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
