"""The optax adapter: any lrsched schedule as an optax schedule, under ``jax.jit`` too (this module imports JAX).

:mod:`lrsched.optax` loads this module on first use of :func:`schedule` or
:class:`OptaxSchedule`, so that the pure mirrors need no JAX.

Index convention: optax's ``count`` = 0 is the first update, so count c gives s(c + 1).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .. import _validate as v
from ..schedule import Schedule

__all__ = ["OptaxSchedule", "schedule"]


class OptaxSchedule:
    """An optax schedule (``count -> value``) that follows an lrsched schedule; see :func:`schedule`.

    Unlike an optax closure it prints, compares and pickles (as its schedule
    and horizon). Its table of values is made on the first call, once per
    precision (float64 under ``jax_enable_x64``, else float32), and kept. The
    table is made outside any trace (``jax.ensure_compile_time_eval``): when the
    first call comes inside ``jax.jit``, the kept table is still a concrete
    array, so a second trace, an eager call and another jitted function that
    use the same schedule all read the same values.
    """

    __slots__ = ("__weakref__", "_tables", "schedule", "steps")  # jax.jit keeps a weak reference

    def __init__(self, schedule: Schedule, steps: int | None = None):
        if not isinstance(schedule, Schedule):
            raise TypeError(f"schedule must be an lrsched schedule, got {v.show(schedule)}")
        self.schedule, self.steps, self._tables = schedule, v.horizon(schedule, steps), {}

    def __call__(self, count):
        x64 = bool(jax.config.jax_enable_x64)
        table = self._tables.get(x64)
        if table is None:  # the exact values over the horizon, made once (float64 under x64, else float32)
            with jax.ensure_compile_time_eval():  # a concrete array even when the first call is being traced
                table = jnp.asarray(self.schedule.values(self.steps))
            self._tables[x64] = table
        index = v.table_index("count", count, self.steps)  # count c gives s(c + 1): the table's index c
        if index is not None:
            return table[index]
        return table[jnp.clip(jnp.asarray(count), 0, self.steps - 1)]

    def __repr__(self) -> str:
        return f"lrsched.optax.schedule({self.schedule!r}, steps={self.steps})"

    def __eq__(self, other):
        if not isinstance(other, OptaxSchedule):
            return NotImplemented
        return self.schedule == other.schedule and self.steps == other.steps

    def __hash__(self):
        return hash((self.schedule, self.steps))

    def __reduce__(self):
        return (OptaxSchedule, (self.schedule, self.steps))


def schedule(s: Schedule, steps: int | None = None) -> OptaxSchedule:
    r"""``s`` as an optax schedule: optax's count c (0 for the first update) gives s(c + 1).

    It works under ``jax.jit``, in ``optax.inject_hyperparams`` and as any
    optax optimizer's ``learning_rate``: a table of s(1) .. s(steps), exact
    (float64 with ``jax_enable_x64``, else rounded to float32 as optax's own
    schedules are), holding s(steps) past the horizon. ``steps`` defaults to
    where ``s`` settles (``s.length()``); a schedule that never settles needs it.

    Example (skipped where JAX is not installed):
        >>> import pytest; jax = pytest.importorskip("jax")
        >>> lr = lrsched.optax.schedule(ls.warmup(ls.cosine(0.1, 0.0, steps=90), steps=10))
        >>> float(jax.jit(lr)(0)) == float(jax.numpy.float32(0.01))
        True
    """
    if not isinstance(s, Schedule):
        raise TypeError(f"s must be an lrsched schedule, got {v.show(s)}")
    return OptaxSchedule(s, steps)
