"""optax's clock: the ``count`` optax passes a schedule, read from the table (this module imports JAX).

optax calls a schedule with ``count``, the updates done so far (0 at the first):
a Python int, or an int32 / int64 array (int64 under ``jax_enable_x64``),
traced when the optimizer's update runs under ``jax.jit``. Count c gives
s(c + 1) (:class:`lrsched.tabulated.Tabulated`, where the convention and the
rule over the count are written: a count whose value is known is checked by
value, a traced one must have an integer dtype). The table is a JAX array, one
per precision, made outside any trace.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ..schedule import Schedule
from ..tabulated import Tabulated

__all__ = ["OptaxClock"]


class OptaxClock(Tabulated):
    """A schedule read at optax's ``count``: count c gives s(c + 1), s(steps) past the end.

    The table is made on the first call, once per precision (float64 under
    ``jax_enable_x64``, else float32, optax's own schedules' precision), and
    kept. It is made outside any trace (``jax.ensure_compile_time_eval``): when
    the first call comes inside ``jax.jit``, the kept table is still a concrete
    array, so a second trace, an eager call and another jitted function that
    use the same schedule all read the same values.
    """

    __slots__ = ("__weakref__", "_tables")  # jax.jit keeps a weak reference

    COUNT = "count"

    def __init__(self, schedule: Schedule, steps: int | None = None):
        super().__init__(schedule, steps)
        self._tables = {}

    def table(self) -> jax.Array:
        """s(1) .. s(steps) as a concrete JAX array in the current precision, made on first use and kept."""
        x64 = bool(jax.config.jax_enable_x64)
        table = self._tables.get(x64)
        if table is None:
            with jax.ensure_compile_time_eval():  # a concrete array even when the first call is being traced
                table = jnp.asarray(self.values())
            self._tables[x64] = table
        return table

    def traced_dtype(self, count) -> str | None:
        """The dtype of a count traced by JAX (under ``jax.jit``), None for a count whose value is known."""
        return count.dtype.name if isinstance(count, jax.core.Tracer) else None

    def __call__(self, count):
        table = self.table()
        index = self.index(count)  # a known count checked and clamped; a traced one checked by dtype
        if index is not None:
            return table[index]
        return table[jnp.clip(count, 0, self.steps - 1)]  # a traced integer count, clamped alike
