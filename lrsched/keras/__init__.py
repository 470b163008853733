"""Keras 3: exact mirrors of ``keras.optimizers.schedules``, and any schedule as a Keras ``LearningRateSchedule``.

- :mod:`lrsched.keras.adapter` (imports keras): :func:`schedule` hands any
  lrsched schedule to a Keras optimizer as a :class:`KerasSchedule`, step k
  (0 for the first update) giving s(k + 1); importing the module registers
  the class for saving, as ``"lrsched>Schedule"`` (``keras.saving.load_model``
  needs ``import lrsched.keras.adapter`` first in a fresh process).
- :mod:`lrsched.keras.clock` (imports keras): Keras's clock, how the
  optimizer's ``step`` (its ``iterations``, traced in a compiled train step)
  reads the table, on the shared base :mod:`lrsched.tabulated`.
- :mod:`lrsched.keras.lr_range` (imports keras): :func:`find_lr`, the
  learning-rate range test on a compiled model, which puts every variable
  the training step touches back as it was.
- :mod:`lrsched.keras.mirrors` (pure, no Keras): each Keras schedule as a
  plain schedule, the value at t being Keras's at step t - 1.

Importing this package imports no Keras: the mirrors are here at once, and
the names of the adapter and the range test load their module on first use.
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


def import_keras():
    """``import keras``, with an error that says what to set or install when Keras's backend cannot be imported.

    Keras 3 imports its backend when it is imported: TensorFlow unless ``KERAS_BACKEND`` names another
    ("jax", "torch" or "numpy"), and nothing installs TensorFlow for you.
    """
    import os

    try:
        import keras
    except ImportError as error:
        backend = os.environ.get("KERAS_BACKEND")
        said = f"KERAS_BACKEND={backend!r}" if backend else "KERAS_BACKEND is not set, so Keras's default"
        raise ImportError(
            f"lrsched.keras needs Keras 3 and its backend, and importing keras failed ({error}). {said} "
            "backend is used: set KERAS_BACKEND to a backend that is installed (jax, torch or tensorflow) "
            "before keras is first imported, or install it (pip install keras jax)"
        ) from error
    return keras
