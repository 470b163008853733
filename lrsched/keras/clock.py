"""Keras's clock: the ``step`` a Keras optimizer passes its schedule, read from the table (this module imports keras).

A Keras 3 optimizer calls its schedule with ``step``, its ``iterations``
variable (the updates done, 0 for the first), an int tensor of the backend,
traced inside a compiled train step (``jax.jit``, ``tf.function``); a user's
call may pass a Python or NumPy number or a tensor. Step k gives s(k + 1)
(:class:`lrsched.tabulated.Tabulated`, where the convention and the rule over
the step are written: a step whose value is known is checked by value, a
traced one must have an integer dtype). The table is a float32 tensor of the
backend, made once, outside any trace.
"""

from __future__ import annotations

import contextlib
import importlib

from ..schedule import Schedule
from ..tabulated import Tabulated
from . import import_keras

keras = import_keras()

__all__ = ["KerasClock"]


class KerasClock(Tabulated):
    """A schedule read at a Keras optimizer's ``step``: step k gives s(k + 1), s(steps) past the end.

    The float32 table is made on the first call and kept, outside any trace
    (:func:`outside_traces`), so that a second trace or an eager call can read it.
    """

    COUNT = "step"

    def __init__(self, schedule: Schedule, steps: int | None = None):
        super().__init__(schedule, steps)
        self._table = None

    def table(self):
        """s(1) .. s(steps) as a concrete float32 tensor of the backend, made on first use and kept."""
        if self._table is None:
            with outside_traces():
                self._table = keras.ops.convert_to_tensor(self.values(), dtype="float32")
        return self._table

    def traced_dtype(self, step) -> str | None:
        """The dtype of a step traced by the backend (``jax.jit``, ``tf.function``), None for a step whose value
        is known (torch and NumPy do not trace)."""
        backend = keras.backend.backend()
        if backend == "jax":
            traced = isinstance(step, importlib.import_module("jax").core.Tracer)
        elif backend == "tensorflow":
            tf = importlib.import_module("tensorflow")
            traced = tf.is_tensor(step) and not tf.executing_eagerly()
        else:
            traced = False
        return keras.backend.standardize_dtype(step.dtype) if traced else None

    def __call__(self, step):
        table = self.table()
        if isinstance(step, keras.Variable):  # the optimizer's iterations: its value, traced in a train step
            step = step.value
        index = self.index(step)  # a known step checked and clamped; a traced one checked by dtype
        if index is not None:
            return keras.ops.take(table, index)
        index = keras.ops.cast(keras.ops.clip(step, 0, self.steps - 1), "int32")  # clamped before narrowing
        return keras.ops.take(table, index)


def outside_traces():
    """A context in which the backend makes concrete tensors, even inside a traced train step.

    The table is made on the first call, which Keras may make inside ``jax.jit`` or a ``tf.function``; a tensor
    made there belongs to that trace, and keeping it breaks every later call. JAX evaluates eagerly under
    ``ensure_compile_time_eval``, TensorFlow under ``init_scope``; torch and NumPy do not trace.
    """
    backend = keras.backend.backend()
    if backend == "jax":
        return importlib.import_module("jax").ensure_compile_time_eval()
    if backend == "tensorflow":
        return importlib.import_module("tensorflow").init_scope()
    return contextlib.nullcontext()
