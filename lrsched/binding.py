"""Binding the symbols ``total`` and ``epoch`` to a run, and checking a schedule's length against the run.

:meth:`lrsched.Schedule.bind` and the adapters' ``total=`` / ``epoch=`` come
here: the bindings are checked (known symbols, ``total`` a count, ``epoch``
> 0), a schedule made by binding is not bound again to other numbers (that
would silently keep the first ones), and the schedule is rebuilt through its
constructors, so every check applies to the bound
values; an error names the parameter, its expression and the binding.
:func:`check_run_length` warns (:class:`TimeWarning`) when a schedule does
not fit the run it is given to.
"""

from __future__ import annotations

import math
import warnings

from . import _validate as v
from .symbols import SYMBOLS, substitute, symbols_in
from .value import format_value

__all__ = ["TimeWarning", "bind", "bind_run", "check_bindings", "check_run_length"]


class TimeWarning(UserWarning):
    """A schedule's length or clock does not match the run (see :func:`check_run_length`); filter it by category."""


def check_bindings(bindings: dict) -> dict:
    """The bindings of :meth:`Schedule.bind`, checked: known symbols, ``total`` a count, ``epoch`` > 0."""
    out = {}
    for name, x in bindings.items():
        if name not in SYMBOLS:
            hint = v.did_you_mean(name, SYMBOLS, cutoff=0.5, otherwise=f"the symbols are {', '.join(SYMBOLS)}")
            raise ValueError(f"unknown symbol {name!r}{hint}")
        if x is None:
            continue
        out[name] = v.count(name, x) if name == "total" else v.positive(name, x)
    return out


def bind(schedule, symbols: dict):
    """``schedule`` with the symbols given replaced by numbers (see :meth:`lrsched.Schedule.bind`).

    Symbols the schedule does not hold are left alone (a script may bind every
    config's schedule to its run, whether it was written with symbols or with
    numbers). A schedule made by binding remembers its bindings: binding it
    again to other numbers is refused by name, as it would silently keep the
    first ones; the same numbers again give the same schedule.
    """
    bindings = check_bindings(symbols)
    earlier = schedule._bound or {}
    clash = sorted(n for n, x in bindings.items() if n in earlier and earlier[n] != x)
    if clash:
        given = ", ".join(f"{n}={v.show(bindings[n])}" for n in clash)
        first = ", ".join(f"{n}={v.show(earlier[n])}" for n in clash)
        raise ValueError(
            f"bind({given}): {v.show(schedule)} is bound already, with {first}; it is not bound again "
            "(its numbers would stay): bind the unbound schedule instead"
        )
    todo = {n: x for n, x in bindings.items() if n in schedule._symbols}
    if not todo:
        return schedule
    result = schedule._bind(todo)
    if result is not schedule and not _within(result, schedule):
        object.__setattr__(result, "_bound", {**earlier, **todo})
    return result


def _within(node, schedule) -> bool:
    """Whether ``node`` is one of ``schedule``'s own nodes (returned as it was: never marked as bound)."""
    seen, stack = set(), [schedule]
    while stack:
        s = stack.pop()
        if s is node:
            return True
        if id(s) not in seen:
            seen.add(id(s))
            stack.extend(s.children())
    return False


def bind_fields(schedule, bindings: dict):
    """A kind's ``_bind``: its fields with the symbols replaced, built again through its constructor."""
    if schedule._symbols.isdisjoint(bindings):
        return schedule
    kwargs, written = {}, []
    for f in schedule.fields:
        x = getattr(schedule, f.attr)
        if f.nested == "one":
            x = x._bind(bindings)
        elif f.nested == "many":
            x = [c._bind(bindings) for c in x]
        elif symbols_in(x):
            written.append((f.name, x))
            x = substitute(x, bindings)
        kwargs[f.name] = x
    try:
        return type(schedule)(**kwargs)
    except (TypeError, ValueError) as e:
        given = ", ".join(f"{k}={v.show(x)}" for k, x in sorted(bindings.items()))
        where = "; ".join(f"{name} = {format_value(x)}" for name, x in written)
        raise type(e)(f"{e} (binding {given}{': ' + where if where else ''})") from None


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
