r"""Durations written before the run's length is known: the symbols ``total`` and ``epoch``.

``total`` is the run's number of optimizer updates and ``epoch`` the number of
updates per epoch. Either goes wherever a number goes in a schedule's
parameters, alone or in arithmetic with numbers::

    s = warmup(cosine(3e-4, 0.0, steps=total - 0.05 * total), steps=0.05 * total)
    s.bind(total=10_000)  # an ordinary schedule, equal to the one written with numbers

A schedule that holds a symbol is *unbound*: its repr shows the symbols, it
round-trips through ``to_dict`` / JSON (as expression strings, ``"0.05 * total"``),
and evaluating it raises ValueError naming the symbol. ``s.bind(total=...,
epoch=...)`` substitutes and builds the schedule through its constructors, so
every check applies to the bound values; an error names the parameter, its
expression and the binding. ``lrsched.torch.scheduler(..., total=N, epoch=M)``
binds, and checks the schedule's length against the run (:func:`check_run_length`).
An expression is evaluated exactly as written, so binding gives the same
floats as writing the numbers in the same expression.
"""

from __future__ import annotations

import difflib
import math
import warnings

from . import _validate as v

__all__ = ["SYMBOLS", "Expr", "TimeWarning", "epoch", "total"]


class TimeWarning(UserWarning):
    """A schedule's length or clock does not match the run (see :func:`check_run_length`); filter it by category."""


#: the symbols and what each stands for
SYMBOLS = {"total": "the run's number of optimizer updates", "epoch": "the number of updates per epoch"}

_OPS = {"+": (1, lambda a, b: a + b), "-": (1, lambda a, b: a - b), "*": (2, lambda a, b: a * b),
        "/": (2, lambda a, b: a / b)}  # fmt: skip


def _operand(x, name="operand"):
    if isinstance(x, Expr):
        return x
    if v._is_real(x):
        return v.real(name, x)
    return None


class Expr:
    """A duration in the symbols ``total`` and ``epoch``: a symbol, or ``+ - * /`` of expressions and numbers.

    Immutable and hashable, equal by structure; ``repr`` is the Python
    expression. It is not a number: comparing it or converting it with
    ``float()`` raises TypeError (bind the schedule first).
    """

    __slots__ = ("_args", "_op", "symbols")

    def __init__(self, op: str, args: tuple):
        object.__setattr__(self, "_op", op)  # "sym" (args: name,), "neg" (a,) or a binary operator (a, b)
        object.__setattr__(self, "_args", args)
        found = frozenset([args[0]]) if op == "sym" else frozenset()
        for a in args:
            if isinstance(a, Expr):
                found |= a.symbols
        object.__setattr__(self, "symbols", found)

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
        self._refuse("a comparison")

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
        a, b = args
        if isinstance(a, Expr) or isinstance(b, Expr):
            return Expr(self._op, (a, b))
        try:
            return _OPS[self._op][1](a, b)
        except ZeroDivisionError:
            raise ValueError(f"{self!r} divides by zero with {_shown(bindings)}") from None

    def _text(self, outer: int = 0, right: bool = False) -> str:
        if self._op == "sym":
            return self._args[0]
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
    text = str(int(x)) if x.is_integer() and abs(x) < 1e16 else repr(x)  # as lrsched.value.format_number
    return f"({text})" if x < 0 and outer >= 1 else text


def _shown(bindings: dict) -> str:
    return ", ".join(f"{k}={v.show(x)}" for k, x in sorted(bindings.items()))


total = Expr("sym", ("total",))
epoch = Expr("sym", ("epoch",))


# ---------------------------------------------------------------- values holding symbols


def symbols_in(value) -> frozenset:
    """The symbols in a parameter's value (an expression, or a list or tuple holding some)."""
    if isinstance(value, Expr):
        return value.symbols
    if isinstance(value, (list, tuple)):
        found: frozenset = frozenset()
        for x in value:
            found |= symbols_in(x)
        return found
    return frozenset()


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


def check_bindings(bindings: dict) -> dict:
    """The bindings of :meth:`Schedule.bind`, checked: known symbols, ``total`` a count, ``epoch`` > 0."""
    out = {}
    for name, x in bindings.items():
        if name not in SYMBOLS:
            close = difflib.get_close_matches(name, list(SYMBOLS), n=1, cutoff=0.5)
            hint = f"did you mean {close[0]!r}?" if close else f"the symbols are {', '.join(SYMBOLS)}"
            raise ValueError(f"unknown symbol {name!r}: {hint}")
        if x is None:
            continue
        out[name] = v.count(name, x) if name == "total" else v.positive(name, x)
    return out


def unbound_message(schedule, missing) -> str:
    names = sorted(missing)
    how = ", ".join(f"{n}=..." for n in names)
    what = "; ".join(f"{n} is {SYMBOLS[n]}" for n in names)
    return (
        f"{schedule!r} uses the unbound symbol{'s' if len(names) > 1 else ''} {', '.join(names)} ({what}): "
        f"bind it first with s.bind({how}), or give lrsched.torch.scheduler(..., {how})"
    )


def bind_run(name: str, schedule, run: dict):
    """``schedule`` bound to an adapter's run (``{"total": N, "epoch": M}``); an unbound symbol left is refused."""
    if not schedule._symbols:
        return schedule
    bound = schedule.bind(**{k: x for k, x in run.items() if k in schedule._symbols})
    if bound._symbols:
        names = sorted(bound._symbols)
        raise ValueError(
            f"{name}: {schedule!r} uses {', '.join(names)} ({'; '.join(SYMBOLS[n] for n in names)}): "
            f"give {', '.join(f'{n}=' for n in names)} to the scheduler"
        )
    return bound


# ---------------------------------------------------------------- length checks


def check_run_length(schedule, total: int) -> list[str]:
    """Warn (:class:`TimeWarning`) when ``schedule`` does not fit a run of ``total`` updates; the messages.

    Two mismatches are caught, both for a schedule that settles (``length()``
    is not None):

    * it reaches a final value below its peak before half of the run: its
      durations were probably written in epochs, or from another dataloader's
      length, where updates were meant;
    * it has not reached its final value by the end of the run.

    Not caught: a schedule that never settles (an exponential, a cycle without
    limit), one that settles at its peak (a warmup followed by a constant), and
    one whose last change falls anywhere in the second half of the run (a
    multistep with a late milestone).
    """
    end = schedule.length()
    found = []
    if end is None:
        return found
    if end > total:
        found.append(
            f"lrsched: {schedule!r} settles at t = {v.show(end)}, after the run's last update ({total}): "
            "the run ends before the schedule does"
        )
    elif end < total / 2 and end >= 1:
        facts = schedule.summary(max(int(math.ceil(end)), 1))
        final = schedule(end)
        if final < facts.max:
            found.append(
                f"lrsched: {schedule!r} reaches its final value {final!r} at t = {v.show(end)}, before half of "
                f"the run ({total} updates), below its peak {facts.max!r}: were its durations written in epochs, "
                "or taken from another dataloader, where updates were meant?"
            )
    for text in found:
        warnings.warn(text, TimeWarning, stacklevel=4)
    return found


# ---------------------------------------------------------------- reading durations from text

#: the longest duration text read from a config
_MAX_TEXT = 1000


def parse_expr(text: str):
    """A number or a duration from text (``"3e-4"``, ``"0.05 * total"``, ``"30 * epoch"``), never ``eval``-ed.

    Numbers, the symbols, ``+ - * /`` and parentheses are allowed; an unknown
    name is refused with the closest symbol.

    >>> parse_expr("3e-4"), parse_expr("total - 500")
    (0.0003, total - 500)
    """
    import ast

    if not isinstance(text, str):
        raise TypeError(f"expected a number or a duration as text, got {v.show(text)}")
    if len(text) > _MAX_TEXT:
        raise ValueError(f"{text[:40]!r}...: longer than {_MAX_TEXT} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, RecursionError, MemoryError):
        raise ValueError(f"{text!r} is not a number or a duration in total and epoch") from None
    return _read_node(tree.body, text, 0)


def _read_node(node, text: str, depth: int):
    import ast

    if depth > 100:
        raise ValueError(f"{text[:40]!r}: nests too deeply")
    if isinstance(node, ast.Constant) and v._is_real(node.value):
        return v.real(repr(text), node.value)
    if isinstance(node, ast.Name):
        if node.id in SYMBOLS:
            return Expr("sym", (node.id,))
        close = difflib.get_close_matches(node.id, list(SYMBOLS), n=1, cutoff=0.5)
        hint = f"did you mean {close[0]!r}?" if close else f"the symbols are {', '.join(SYMBOLS)}"
        raise ValueError(f"unknown symbol {node.id!r} in {text!r}: {hint}")
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        x = _read_node(node.operand, text, depth + 1)
        return -x if isinstance(node.op, ast.USub) else x
    ops = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
    if isinstance(node, ast.BinOp) and type(node.op) in ops:
        a, b = _read_node(node.left, text, depth + 1), _read_node(node.right, text, depth + 1)
        op = ops[type(node.op)]
        if isinstance(a, Expr) or isinstance(b, Expr):
            return Expr(op, (a, b))
        try:
            return v.real(repr(text), _OPS[op][1](a, b))
        except ZeroDivisionError:
            raise ValueError(f"{text!r} divides by zero") from None
    raise ValueError(f"{text!r} is not a number or a duration in total and epoch")
