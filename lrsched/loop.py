"""Hand-written training loops: what they need beyond ``s(t)``.

A complete loop, for any framework (here with a stand-in optimizer that has
torch's ``param_groups``):

>>> import lrsched as ls
>>> class SGD:                                   # any optimizer-like object
...     def __init__(self):
...         self.param_groups = [{"lr": 0.0}]
...     def step(self):
...         pass
>>> opt = SGD()
>>> s = ls.warmup(ls.cosine(0.1, 0.0, steps=90), steps=10)
>>> seen = []
>>> for t, lr in ls.iterate(s, 100):             # t = 1, 2, ..., 100
...     ls.set_lr(opt, lr)                       # before the t-th update
...     opt.step()
...     seen.append(opt.param_groups[0]["lr"])
>>> seen[0], seen[9], seen[-1]
(0.01, 0.1, 0.0)

To resume after update k, start the iterator where the run stopped:
``ls.iterate(s, n - k, start=k + 1)``. The schedule has no state to save.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator, MutableMapping

from . import _validate as v
from .schedule import Schedule

_CHUNK = 4096


def iterate(schedule: Schedule, n: int | None = None, start: int = 1) -> Iterator[tuple[int, float]]:
    """Yield ``(t, schedule(t))`` for t = start, start + 1, ... (n pairs, or for ever).

    t is 1-indexed, as everywhere in lrsched: the first update is t = 1, and
    ``start`` (at least 1) is the first update of this loop (after update k:
    ``start=k + 1``). Values are computed a few thousand at a time by the
    vectorised engine, so a long loop pays about what ``s.values(n)`` costs.

    >>> list(iterate(linear(1.0, 0.0, 4), 2, start=3))
    [(3, 0.25), (4, 0.0)]
    """
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be an lrsched schedule, got {v.show(schedule)}")
    if isinstance(start, numbers.Integral) and not isinstance(start, bool) and start == 0:
        raise ValueError(
            "start must be >= 1, got 0: t is 1-indexed (the first update is t = 1; after update k, start=k + 1)"
        )
    start = v.count("start", start, minimum=1)
    n = None if n is None else v.count("n", n, minimum=0)
    return _pairs(schedule, n, start)


def _pairs(schedule, n, start):
    from .engine import evaluate_range, expecting

    program = schedule._program or schedule._compile()
    t = start
    end = None if n is None else start + n
    while end is None or t < end:
        m = _CHUNK if end is None else min(_CHUNK, end - t)
        with expecting(0 if end is None else end - t):  # the tier chosen for the rest of the loop, not per chunk
            values = evaluate_range(schedule, program, float(t), m).tolist()
        for j, lr in enumerate(values):
            yield t + j, lr
        t += m


def set_lr(optimizer, lr: float) -> None:
    """Set the learning rate of every param group of an optimizer-like object.

    Understands ``param_groups`` (torch and look-alikes: a non-empty list of
    dicts; a tensor lr stays the same tensor), ``set_learning_rate`` (MXNet)
    and a plain ``lr`` or ``learning_rate`` attribute that can be set. ``lr``
    must be finite and >= 0, as torch's optimizers require. An optimizer with
    no param group, or whose lr attribute cannot be set, is refused (TypeError
    or ValueError): nothing would follow the schedule.
    """
    lr = v.nonnegative("lr", lr)
    groups = getattr(optimizer, "param_groups", None)
    if groups is not None:
        for g in _param_groups(optimizer, groups):
            current = g.get("lr")
            if hasattr(current, "fill_"):  # a tensor lr (torch capturable optimizers)
                current.fill_(lr)
            else:
                g["lr"] = lr
        return
    if hasattr(optimizer, "set_learning_rate"):
        optimizer.set_learning_rate(lr)
        return
    for name in ("lr", "learning_rate"):
        if hasattr(optimizer, name):
            try:
                setattr(optimizer, name, lr)
            except AttributeError as e:  # a read-only property
                raise TypeError(
                    f"cannot set the learning rate of {type(optimizer).__name__}: its {name} cannot be set ({e})"
                ) from None
            return
    raise TypeError(
        f"cannot set the learning rate of {type(optimizer).__name__}: it has no param_groups, "
        "set_learning_rate, lr or learning_rate"
    )


def _param_groups(optimizer, groups) -> list:
    """An optimizer's ``param_groups``, checked: a non-empty list (or tuple) of dicts."""
    what = f"{type(optimizer).__name__}.param_groups"
    if not isinstance(groups, (list, tuple)) or not all(isinstance(g, MutableMapping) for g in groups):
        raise TypeError(f"optimizer: {what} must be a list of dicts (param groups), got {v.show(groups)}")
    if not groups:
        raise ValueError(f"optimizer: {what} is empty: there is no param group to set the learning rate of")
    return groups
