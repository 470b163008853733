"""Schedules and durations read from text, never ``eval``-ed: the one expression reader.

Two entry points share one reader, one grammar and one set of limits:

* :func:`parse` reads a schedule written as the constructor calls its repr
  prints (``"warmup(cosine(0.1, 0, steps=total - 500), steps=500)"``): it is
  ``lrsched.parse`` and the CLI's ``-e``;
* :func:`parse_expr` reads a number or a duration (``"3e-4"``,
  ``"0.05 * total"``), as configs hold them.

Understood: numbers, the symbols ``total`` and ``epoch``, ``+ - * /``,
parentheses and the duration functions ``floor``, ``ceil``, ``round``,
``minimum`` and ``maximum`` (also spelled ``min`` and ``max``); for schedules
also the clock ``t``, ``**``, ``exp``, ``log``, ``sqrt``, strings,
``True``/``False``/``None``, lists, calls of lrsched's kinds, recipes and
framework mirrors, and the methods in :data:`METHODS`. Nothing else
(attributes, subscripts, comprehensions, lambdas) is read. Text longer
than :data:`MAX_TEXT` characters or nesting deeper than :data:`MAX_DEPTH` is
refused, integers beyond 2**53 are read as floats (so arithmetic stays in the
float range, where it is checked), and a schedule given where a mirror takes
a Python callable is refused: text never reaches Python callbacks. Every
refusal is a ValueError or TypeError that says why.
"""

from __future__ import annotations

import ast
import inspect
import math

from . import _validate as v
from .layout import MAX_DEPTH as _SCHEDULE_DEPTH
from .symbols import DURATIONS, FUNCTIONS, SYMBOLS, Expr, refuse_misplaced
from .value import CALLS, RECIPES, REGISTRY, Value

__all__ = ["MAX_DEPTH", "MAX_TEXT", "METHODS", "parse", "parse_expr"]

#: the longest text read, in characters
MAX_TEXT = 100_000
#: the deepest nesting read, in levels of the expression (a call, a method, an operator: one level each); no
#: deeper than the schedules it could build (:data:`lrsched.layout.MAX_DEPTH`)
MAX_DEPTH = _SCHEDULE_DEPTH
#: the schedule methods an expression may call
METHODS = ("clip", "per_epoch", "quantize", "shift", "stretch", "warp")
#: the framework modules (``lrsched.<name>``), each holding one framework's mirrors (and its adapter, where it
#: has one): the one list of them, read by the package, the CLI and the tests; an expression may call their
#: mirrors, as ``torch.step_lr(...)``
FRAMEWORKS = ("torch", "mxnet", "optax", "transformers", "timm", "keras", "deepspeed", "megatron", "nemo")

_EXACT = 2**53  # integers up to this stay integers; larger ones are read as floats
_OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_DUNDER = {"+": "__add__", "-": "__sub__", "*": "__mul__", "/": "__truediv__"}
_PLAIN = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": lambda a, b: a / b}
#: the other spellings of functions in text
_ALIASES = {"min": "minimum", "max": "maximum"}


def parse(text: str, **bindings) -> Value:
    """The schedule an expression describes, without evaluating any Python; bound to ``bindings``.

    The names ``total`` and ``epoch`` are the symbols of :mod:`lrsched.symbols`.

    >>> parse("0.5 * warmup(cosine(0.1, 1e-05, steps=9000), steps=1000) + 0.0001")
    0.5 * warmup(cosine(0.1, 1e-05, steps=9000), steps=1000) + 0.0001
    >>> parse("torch.step_lr(0.1, 30)")
    step(0.1, every=30, factor=0.1)
    """
    value = _Reader(text, _callables()).read()
    if not isinstance(value, Value):
        raise ValueError(f"the expression gives {v.show(value)}, not a schedule")
    return value.bind(**bindings)


def parse_expr(text: str):
    """A number or a duration from text (``"3e-4"``, ``"0.05 * total"``, ``"30 * epoch"``), never ``eval``-ed.

    Numbers, the symbols, ``+ - * /``, parentheses and ``floor``, ``ceil``,
    ``round``, ``minimum``/``min`` and ``maximum``/``max`` of them are allowed;
    an unknown name is refused with the closest symbol.

    >>> parse_expr("3e-4"), parse_expr("total - 500")
    (0.0003, total - 500)
    """
    value = _Reader(text, None).read()
    return float(value) if isinstance(value, int) else value


def _makes_a_schedule(fn) -> bool:
    """Whether ``fn`` is annotated to return a schedule (a mirror, not an adapter or a plateau rule)."""
    try:
        return inspect.signature(fn).return_annotation in ("Schedule", Value) or (
            isinstance(fn, type) and issubclass(fn, Value)
        )
    except (TypeError, ValueError):
        return False


def _callables() -> dict[str, tuple[object, str]]:
    """The names an expression may call, each with what it is (``"kind"``, ``"recipe"``, ``"mirror"``): the kinds,
    the recipes, and each framework's mirrors (``lrsched.<framework>.mirrors``, or the flat module), none of
    which imports its framework."""
    import importlib

    hidden = {"add", "sub", "mul", "div", "pow", "function", "t", *METHODS}
    names: dict[str, tuple[object, str]] = {k: (cls, "kind") for k, cls in REGISTRY.items() if k not in hidden}
    names.update({name: (fn, "function") for name, fn in CALLS.items()})
    names.update({alias: names[name] for alias, name in _ALIASES.items()})
    names.update({k: (fn, "recipe") for k, fn in RECIPES.items()})
    for prefix in FRAMEWORKS:
        module = importlib.import_module(f"lrsched.{prefix}")  # the frameworks sit above this module: by name
        home = getattr(module, "mirrors", module)
        for n in home.__all__:
            if _makes_a_schedule(getattr(home, n)):
                names[f"{prefix}.{n}"] = (getattr(home, n), "mirror")
    return names


class _Reader:
    """Reads one text: with ``names`` (the callables) a schedule expression, with None a number or a duration."""

    def __init__(self, text, names):
        if not isinstance(text, str):
            what = "an expression" if names is not None else "a number or a duration as text"
            raise TypeError(f"expected {what}, got {v.show(text)}")
        if len(text) > MAX_TEXT:
            raise ValueError(f"{text[:40]!r}...: longer than {MAX_TEXT} characters")
        self.text = text
        self.names = names

    def read(self):
        try:
            tree = ast.parse(self.text.strip(), mode="eval")
        except SyntaxError as e:
            raise ValueError(f"{self._quote()} is not {self._what()}: {e.msg} (column {e.offset})") from None
        except (RecursionError, MemoryError):
            raise ValueError(f"{self._quote()} nests too deeply") from None
        except ValueError as e:  # a null byte, on Python < 3.12
            raise ValueError(f"{self._quote()} is not {self._what()}: {e}") from None
        try:
            return self.run(tree.body, 0)
        except RecursionError:
            raise ValueError(f"{self._quote()} nests too deeply") from None

    def _quote(self) -> str:
        return repr(self.text) if len(self.text) <= 60 else repr(self.text[:57]) + "..."

    def _what(self) -> str:
        return "an expression" if self.names is not None else "a number or a duration in total and epoch"

    def run(self, node, depth: int):
        if depth > MAX_DEPTH:
            raise ValueError(f"{self._quote()} nests deeper than {MAX_DEPTH} levels")
        d = depth + 1
        if isinstance(node, ast.Constant):
            return self._constant(node.value)
        if isinstance(node, ast.Name):
            return self._name(node.id)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            x = self._operand(self.run(node.operand, d))
            return -x if isinstance(node.op, ast.USub) else x
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            return self._binary(_OPERATORS[type(node.op)], self.run(node.left, d), self.run(node.right, d))
        if self.names is None and isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            return self._duration_call(node, d)
        if self.names is not None:
            if isinstance(node, (ast.List, ast.Tuple)):
                items = [self.run(x, d) for x in node.elts]
                return items if isinstance(node, ast.List) else tuple(items)
            if isinstance(node, ast.Call):
                return self._call(node, d)
        shown = v.show(ast.unparse(node)) if self.names is not None else self._quote()
        raise ValueError(f"not allowed in {self._what()}: {shown}")

    def _constant(self, x):
        if v._is_real(x):
            if isinstance(x, int) and -_EXACT <= x <= _EXACT:
                return x
            return v.real(f"a number in {self._quote()}", x)  # beyond the float range: refused
        if self.names is not None and (x is None or isinstance(x, (bool, str))):
            return x
        raise ValueError(f"{self._quote()} is not {self._what()}")

    def _name(self, name: str):
        if name in SYMBOLS:
            return Expr("sym", (name,))
        if name == "t" and self.names is not None:
            return REGISTRY["t"]()
        known = [*SYMBOLS, *(self.names or ())]
        hint = v.did_you_mean(name, known, otherwise=f"the symbols are {', '.join(SYMBOLS)}")
        what = "name" if self.names is not None else "symbol"
        raise ValueError(f"unknown {what} {name!r} in {self._quote()}{hint}")

    def _operand(self, x):
        if isinstance(x, (Expr, Value)) or v._is_real(x):
            return x
        raise ValueError(f"arithmetic needs numbers or schedules, got {v.show(x)} in {self._quote()}")

    def _binary(self, op: str, a, b):
        a, b = self._operand(a), self._operand(b)
        if op == "**":
            return self._power(a, b)
        if isinstance(a, (Value, Expr)) or isinstance(b, (Value, Expr)):  # their own operators, as in Python
            result = getattr(a, _DUNDER[op])(b)
            if result is NotImplemented:
                result = getattr(b, "__r" + _DUNDER[op][2:])(a)
            if result is NotImplemented:
                raise ValueError(f"cannot combine {v.show(a)} and {v.show(b)} with {op}")
            return result
        try:
            return self._constant(_PLAIN[op](a, b))
        except ZeroDivisionError:
            raise ValueError(f"{self._quote()} divides by zero") from None
        except OverflowError:
            raise ValueError(f"{self._quote()} goes beyond the float range") from None

    def _power(self, a, b):
        """``a ** b``: of schedules (and numbers), a schedule; of numbers, the C library's pow."""
        if self.names is None or isinstance(a, Expr) or isinstance(b, Expr):
            raise ValueError(f"not allowed in a duration: ** in {self._quote()}")
        if isinstance(a, Value) or isinstance(b, Value):
            return a**b
        try:
            y = math.pow(a, b)
        except OverflowError:
            raise ValueError(f"{self._quote()} goes beyond the float range") from None
        except ValueError:  # a negative number to a fractional power, or zero to a negative one
            raise ValueError(f"{self._quote()} is not a real number") from None
        return self._constant(y)

    def _duration_call(self, node, depth: int):
        """floor, ceil, round, minimum or maximum of durations and numbers (a duration, or a number)."""
        name = _ALIASES.get(node.func.id, node.func.id)
        if name not in FUNCTIONS:
            hint = v.did_you_mean(node.func.id, [*FUNCTIONS, *_ALIASES])
            raise ValueError(f"unknown function {node.func.id!r} in {self._quote()}{hint}")
        if node.keywords:
            raise ValueError(f"{name}() takes no keywords, in {self._quote()}")
        arity = 2 if name in ("minimum", "maximum") else 1
        if len(node.args) != arity:
            raise ValueError(
                f"{name}() takes {arity} argument{'s' * (arity > 1)}, got {len(node.args)} in {self._quote()}"
            )
        args = [self._operand(self.run(a, depth)) for a in node.args]
        if any(isinstance(a, Expr) for a in args):
            return Expr(name, tuple(args))
        try:
            return self._constant(FUNCTIONS[name](*args))
        except (OverflowError, ValueError):
            raise ValueError(f"{self._quote()} is not a finite number") from None

    def _call(self, node, depth: int):
        fn, label, what = self._function(node.func, depth)
        args = [self.run(a, depth) for a in node.args]
        if any(k.arg is None for k in node.keywords):
            raise ValueError("**keywords are not allowed")
        names = [k.arg for k in node.keywords]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:  # Python refuses it too: a dict would keep the last silently
            raise ValueError(f"{label}(): keyword argument {repeated[0]!r} repeated, in {self._quote()}")
        kwargs = {k.arg: self.run(k.value, depth) for k in node.keywords}
        if what == "recipe":
            _refuse_misplaced_symbols(fn, label, args, kwargs)
        try:
            result = fn(*args, **kwargs)
        except ArithmeticError as e:  # a mirror's own arithmetic on a number beyond its range
            raise ValueError(f"{label}(): {str(e) or type(e).__name__}") from None
        if what == "mirror" and isinstance(result, Value) and _runs_python(result):
            _refuse_callbacks(fn, label, args, kwargs)
        return result

    def _function(self, func, depth: int):
        names = self.names
        if isinstance(func, ast.Name) and func.id in names:
            fn, what = names[func.id]
            return fn, func.id, what
        if isinstance(func, ast.Attribute):
            if isinstance(func.value, ast.Name) and f"{func.value.id}.{func.attr}" in names:
                fn, what = names[f"{func.value.id}.{func.attr}"]
                return fn, f"{func.value.id}.{func.attr}", what
            if func.attr in METHODS:
                target = self.run(func.value, depth)
                if isinstance(target, Value):
                    return getattr(target, func.attr), func.attr, "method"
        name = ast.unparse(func)
        name = name if len(name) <= 80 else name[:77] + "..."
        hint = v.did_you_mean(name, [*names, *(f"s.{m}" for m in METHODS)])
        raise ValueError(f"unknown function {name!r}{hint}")


def _refuse_misplaced_symbols(fn, label: str, args, kwargs) -> None:
    """A recipe's arguments: a symbol where no duration goes is refused by name (see :data:`DURATIONS`)."""
    try:
        call = inspect.signature(fn).bind(*args, **kwargs)
    except TypeError:
        return  # the call itself says what is wrong
    for name, value in call.arguments.items():
        refuse_misplaced(f"{label}(): ", name, value, DURATIONS.get(name, False))


def _runs_python(schedule: Value) -> bool:
    """Whether ``schedule`` holds a ``function`` leaf (each shared node looked at once)."""
    seen, stack = set(), [schedule]
    while stack:
        s = stack.pop()
        if id(s) in seen:
            continue
        seen.add(id(s))
        if s.kind == "function":
            return True
        stack.extend(s.children())
    return False


def _refuse_callbacks(fn, label: str, args, kwargs) -> None:
    """A mirror turned a schedule into a Python callback (``torch.multiplicative_lr(1.0, constant(1))``): refused,
    naming the parameter, since text must not reach Python code run at every update."""
    try:
        given = inspect.signature(fn).bind(*args, **kwargs).arguments
    except TypeError:
        given = {}
    names = [f"{k}={v.show(x)}" for k, x in given.items() if isinstance(x, Value)] or ["a schedule"]
    raise ValueError(
        f"{label}(): {', '.join(names)} is a schedule where a Python callable goes: in an expression, a "
        "callable is not read (it would run Python at every update); give a number, or call it from Python"
    )
