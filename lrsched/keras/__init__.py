"""Keras 3: exact mirrors of ``keras.optimizers.schedules``, and any schedule as a Keras ``LearningRateSchedule``.

- :mod:`lrsched.keras.adapter` (imports keras): :func:`schedule` hands any
  lrsched schedule to a Keras optimizer as a :class:`KerasSchedule`, step k
  (0 for the first update) giving s(k + 1); importing the module registers
  the class for saving, as ``"lrsched>Schedule"`` (``keras.saving.load_model``
  needs ``import lrsched.keras.adapter`` first in a fresh process).
- :mod:`lrsched.keras.lr_range` (imports keras): :func:`find_lr`, the
  learning-rate range test on a compiled model, which puts every variable
  the training step touches back as it was.
- :mod:`lrsched.keras.mirrors` (pure, no Keras): each Keras schedule as a
  plain schedule, the value at t being Keras's at step t - 1.

Importing this package imports no Keras: the mirrors are here at once, and
the names of the two Keras modules load their module on first use.
The migration table (Keras class -> lrsched call) is in docs/migration.md.
"""

from __future__ import annotations

from .._lazy import loader
from . import mirrors
from .mirrors import (  # noqa: F401
    CosineDecay,
    CosineDecayRestarts,
    ExponentialDecay,
    InverseTimeDecay,
    PiecewiseConstantDecay,
    PolynomialDecay,
)

#: the names that live in the modules importing keras, by module
_KERAS_NAMES = {
    "adapter": ("KerasSchedule", "schedule"),
    "lr_range": ("find_lr",),
}

#: ``KerasSchedule`` is reached as ``lrsched.keras.KerasSchedule`` too, but not listed: what ``__all__`` lists,
#: tools enumerate (mirrors and the two entry points), and the class is made by :func:`schedule`
__all__ = [*mirrors.__all__, "schedule", "find_lr"]

__getattr__ = loader(__name__, _KERAS_NAMES)
