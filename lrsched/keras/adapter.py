"""The Keras adapter: any lrsched schedule as a Keras 3 ``LearningRateSchedule`` (this module imports keras).

:mod:`lrsched.keras` loads this module on first use of :func:`schedule` or
:class:`KerasSchedule`, so that the pure mirrors need no Keras. Importing it
registers :class:`KerasSchedule` with Keras as ``"lrsched>Schedule"``, the
name a saved model records: ``keras.saving.load_model`` finds the class once
this module has been imported in the loading process (``import
lrsched.keras.adapter``, or any use of ``lrsched.keras.schedule``). Keras
imports no module by name but its own, and ``import lrsched`` imports no
Keras, so a process that has only done ``import lrsched`` cannot load it.

Index convention: Keras's ``step`` = 0 is the first update, so step k gives
s(k + 1).
"""

from __future__ import annotations

import contextlib
import importlib

from .. import _validate as v
from ..schedule import Schedule
from ..serialize import from_dict
from . import import_keras

keras = import_keras()

__all__ = ["KerasSchedule", "schedule"]


@keras.saving.register_keras_serializable(package="lrsched", name="Schedule")
class KerasSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """A lrsched schedule for Keras: step k (0 for the first update) gives s(k + 1); see :func:`schedule`.

    ``get_config`` holds the schedule's config (``to_dict``) and the horizon;
    ``from_config`` rebuilds both, so a saved model loads with its schedule.
    """

    def __init__(self, schedule: Schedule, steps: int | None = None):
        super().__init__()
        if not isinstance(schedule, Schedule):
            raise TypeError(f"schedule must be an lrsched schedule, got {v.show(schedule)}")
        self.schedule, self.steps, self._table = schedule, v.horizon(schedule, steps), None

    def __call__(self, step):
        if self._table is None:  # made outside any trace, so that a second trace or an eager call can read it
            with _outside_traces():
                self._table = keras.ops.convert_to_tensor(self.schedule.values(self.steps), dtype="float32")
        index = v.table_index("step", step, self.steps)  # step k gives s(k + 1): the table's index k
        if index is not None:
            return keras.ops.take(self._table, index)
        index = keras.ops.cast(keras.ops.clip(step, 0, self.steps - 1), "int32")  # clipped before narrowing
        return keras.ops.take(self._table, index)

    def get_config(self):
        return {"schedule": self.schedule.to_dict(), "steps": self.steps}

    @classmethod
    def from_config(cls, config):
        return cls(from_dict(config["schedule"]), int(config["steps"]))

    def __repr__(self):
        return f"lrsched.keras.schedule({self.schedule!r}, steps={self.steps})"


def _outside_traces():
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


def schedule(s: Schedule, steps: int | None = None) -> KerasSchedule:
    r"""``s`` as a Keras 3 ``LearningRateSchedule`` (any backend): step k (0 for the first update) gives s(k + 1).

    A float32 table of s(1) .. s(steps), holding s(steps) past it; ``steps``
    defaults to where ``s`` settles (``s.length()``); a schedule that never
    settles needs it. ``get_config`` holds the lrsched config, and the class is
    registered, so ``model.save("m.keras")`` and ``keras.saving.load_model``
    keep the schedule (in a fresh process, ``import lrsched.keras.adapter``
    before loading: see :mod:`lrsched.keras.adapter`).

    Example (skipped where Keras or its backend is not installed):
        >>> import pytest; keras = pytest.importorskip("keras")
        >>> lr = lrsched.keras.schedule(ls.linear(1.0, 0.0, 10))  # s(t) = 1 - t / 10, then 0
        >>> [float(lr(k)) for k in (0, 4, 99)] == [float(np.float32(x)) for x in (0.9, 0.5, 0.0)]  # t = k + 1
        True
    """
    if not isinstance(s, Schedule):
        raise TypeError(f"s must be an lrsched schedule, got {v.show(s)}")
    return KerasSchedule(s, steps)
