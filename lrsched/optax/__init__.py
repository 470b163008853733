"""optax: exact mirrors of ``optax.schedules``, and any schedule as an optax schedule.

- :mod:`lrsched.optax.adapter` (imports JAX): :func:`schedule` hands any
  lrsched schedule to optax as an :class:`OptaxSchedule`, count c (0 for the
  first update) giving s(c + 1), under ``jax.jit`` too.
- :mod:`lrsched.optax.clock` (imports JAX): optax's clock, how its ``count``
  (an int or an int32 / int64 array, traced under ``jax.jit``) reads the
  table, on the shared base :mod:`lrsched.tabulated`.
- :mod:`lrsched.optax.lr_range` (imports JAX and optax): :func:`find_lr`,
  the learning-rate range test on a JAX loss, one jitted update for the
  whole ramp.
- :mod:`lrsched.optax.mirrors` (pure, no JAX): each optax schedule as a plain
  schedule, the value at t being optax's at count t - 1.

Importing this package imports no JAX: the mirrors are here at once, and
the names of the adapter and the range test load their module on first use.
The migration table (optax schedule -> lrsched call) is in docs/migration.md.
"""

from __future__ import annotations

from .._lazy import loader
from . import mirrors
from .mirrors import (  # noqa: F401
    constant_schedule,
    cosine_decay_schedule,
    cosine_onecycle_schedule,
    exponential_decay,
    join_schedules,
    linear_onecycle_schedule,
    linear_schedule,
    piecewise_constant_schedule,
    piecewise_interpolate_schedule,
    polynomial_schedule,
    sgdr_schedule,
    warmup_constant_schedule,
    warmup_cosine_decay_schedule,
    warmup_exponential_decay_schedule,
)

#: the names that live in the modules importing JAX, by module
_JAX_NAMES = {
    "adapter": ("OptaxSchedule", "schedule"),
    "lr_range": ("find_lr",),
}

__all__ = [*mirrors.__all__, *(name for names in _JAX_NAMES.values() for name in names)]

__getattr__ = loader(__name__, _JAX_NAMES)
