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
  where it settles (:mod:`lrsched.analysis` asks each kind).

This module gives every kind, from that declaration alone: construction and
validation, immutability, equality and hashing by value, pickling and the repr
(Python that rebuilds the value). It depends on nothing else in lrsched but
the checks, so the engine, the analysis and serialization can build on it and
:mod:`lrsched.schedule` on them, without import cycles.
"""

from __future__ import annotations

import difflib
import inspect
from typing import TYPE_CHECKING, Any, ClassVar

from .layout import MAX_DEPTH
from .symbols import hold, substitute, symbols_in, try_bindings

#: every kind of schedule by name (filled as the classes are declared)
REGISTRY: dict[str, type[Value]] = {}
#: every recipe (a function that composes kinds) by name, filled by :mod:`lrsched.recipes`; configs name them too
RECIPES: dict = {}


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
    ``symbolic`` says that ``check`` takes such values itself.
    """

    __slots__ = ("attr", "check", "default", "keyword", "name", "nested", "symbolic")

    def __init__(self, name, check, default=REQUIRED, *, keyword=False, nested=None, attr=None, symbolic=False):
        self.name = name
        self.check = check
        self.default = default
        self.keyword = keyword
        self.nested = nested
        self.attr = attr or name
        self.symbolic = symbolic

    def __repr__(self) -> str:
        return f"Field({self.name!r})"


def _check_names(fields, kwargs, renamed) -> None:
    """Name an unknown keyword first (with the closest valid name, or its new name), before any missing one."""
    names = [f.name for f in fields]
    for key in kwargs:
        if key in renamed:
            raise TypeError(f"got an unexpected parameter {key!r}; it is now called {renamed[key]!r}")
        if key not in names:
            close = difflib.get_close_matches(key, names, n=1, cutoff=0.5)
            hint = f"; did you mean {close[0]!r}?" if close else f"; the parameters are {', '.join(names)}"
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

    __slots__ = ("_hash", "_height", "_program", "_symbols")
    __array_ufunc__ = None  # numpy defers to our reflected operators

    kind: ClassVar[str] = ""
    fields: ClassVar[tuple[Field, ...]] = ()
    #: former parameter names -> current ones: configs written with them load, keywords get a hint
    renamed: ClassVar[dict[str, str]] = {}

    # ------------------------------------------------------------ construction

    def __init__(self, *args, **kwargs):
        fields = self.fields
        npos = len(args)
        if npos > len(fields):
            raise TypeError(f"{self.kind}() takes at most {len(fields)} arguments, got {npos}")
        symbols: frozenset = frozenset()
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
                _set(self, f.attr, value)
            for c in self.children():
                symbols |= c._symbols
            if not symbols:
                self._check()
        except (TypeError, ValueError) as e:
            raise type(e)(f"{self.kind}(): {e}") from None
        _set(self, "_symbols", symbols)
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
        for f in self.fields:
            if f.nested == "one":
                out.append(getattr(self, f.attr))
            elif f.nested == "many":
                out.extend(getattr(self, f.attr))
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
