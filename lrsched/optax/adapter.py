"""The optax adapter: any lrsched schedule as an optax schedule, under ``jax.jit`` too (this module imports JAX).

:mod:`lrsched.optax` loads this module on first use of :func:`schedule` or
:class:`OptaxSchedule`, so that the pure mirrors need no JAX. How optax's
``count`` reads the table (count c gives s(c + 1)) is optax's clock,
:mod:`lrsched.optax.clock`; this module adds what makes it a value: printing,
comparing, hashing and pickling.
"""

from __future__ import annotations

from .. import _validate as v
from ..schedule import Schedule
from .clock import OptaxClock

__all__ = ["OptaxSchedule", "schedule"]


class OptaxSchedule(OptaxClock):
    """An optax schedule (``count -> value``) that follows an lrsched schedule; see :func:`schedule`.

    Unlike an optax closure it prints, compares and pickles (as its schedule
    and horizon). Its table (one per precision, made on the first call, outside
    any trace) and how the count reads it are its clock's,
    :class:`~lrsched.optax.clock.OptaxClock`.
    """

    __slots__ = ()

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
