"""The Keras adapter: any lrsched schedule as a Keras 3 ``LearningRateSchedule`` (this module imports keras).

:mod:`lrsched.keras` loads this module on first use of :func:`schedule` or
:class:`KerasSchedule`, so that the pure mirrors need no Keras. Importing it
registers :class:`KerasSchedule` with Keras as ``"lrsched>Schedule"``, the
name a saved model records: ``keras.saving.load_model`` finds the class once
this module has been imported in the loading process (``import
lrsched.keras.adapter``, or any use of ``lrsched.keras.schedule``). Keras
imports no module by name but its own, and ``import lrsched`` imports no
Keras, so a process that has only done ``import lrsched`` cannot load it.

How Keras's ``step`` reads the table (step k gives s(k + 1)) is Keras's
clock, :mod:`lrsched.keras.clock`; this module adds the saving: the config and
the registration.
"""

from __future__ import annotations

from .. import _validate as v
from ..schedule import Schedule
from ..serialize import from_dict
from . import import_keras
from .clock import KerasClock

keras = import_keras()

__all__ = ["KerasSchedule", "schedule"]


@keras.saving.register_keras_serializable(package="lrsched", name="Schedule")
class KerasSchedule(KerasClock, keras.optimizers.schedules.LearningRateSchedule):
    """A lrsched schedule for Keras: step k (0 for the first update) gives s(k + 1); see :func:`schedule`.

    ``get_config`` holds the schedule's config (``to_dict``) and the horizon;
    ``from_config`` rebuilds both, so a saved model loads with its schedule.
    Its table (made on the first call, outside any trace) and how the step
    reads it are its clock's, :class:`~lrsched.keras.clock.KerasClock`.
    """

    def get_config(self):
        return {"schedule": self.schedule.to_dict(), "steps": self.steps}

    @classmethod
    def from_config(cls, config):
        """The schedule ``get_config`` describes: ``"schedule"`` (its ``to_dict()``) and ``"steps"``, checked
        as the constructor checks them (``"steps"`` may be left out or None: where the schedule settles)."""
        if not isinstance(config, dict):
            raise TypeError(f"config must be a dict, got {v.show(config)}")
        unknown = sorted(set(config) - {"schedule", "steps"}, key=str)
        if unknown:
            hint = v.did_you_mean(unknown[0], ["schedule", "steps"], otherwise="its keys are 'schedule' and 'steps'")
            raise ValueError(f"config has {v.show(unknown[0])}, not a key of a KerasSchedule's config{hint}")
        if "schedule" not in config:
            raise ValueError(f"config lacks 'schedule', the schedule's to_dict(); got {v.show(config)}")
        if not isinstance(config["schedule"], dict):
            raise TypeError(f"config['schedule'] must be a schedule's to_dict(), got {v.show(config['schedule'])}")
        return cls(from_dict(config["schedule"]), config.get("steps"))

    def __repr__(self):
        return f"lrsched.keras.schedule({self.schedule!r}, steps={self.steps})"


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
