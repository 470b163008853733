"""A schedule tabulated for a framework that counts its own updates: the base of the optax and Keras clocks.

optax and Keras call a schedule with their own count of the updates done,
0 for the first update (optax's ``count``, Keras's ``step``, read from
``optimizer.iterations``). Count c gives s(c + 1): that is the clock
convention, written here once (:meth:`Tabulated.index`). The schedule is a
table of s(1) .. s(steps), and a count past the end holds s(steps).

:class:`Tabulated` holds what the two clocks share: the schedule, the horizon,
the table's values and the check of a count that arrives as a Python number.
Each framework's clock (:mod:`lrsched.optax.clock`, :mod:`lrsched.keras.clock`)
converts the table to its tensors and reads it at a count that arrives as a
tensor, possibly inside a trace. Plain Python and NumPy: no framework is imported.
"""

from __future__ import annotations

import math

import numpy as np

from . import _validate as v
from .schedule import Schedule

__all__ = ["Tabulated"]


class Tabulated:
    """A schedule as a table of s(1) .. s(``steps``), read at a framework's count of updates done.

    ``steps`` defaults to where the schedule settles (``schedule.length()``);
    a schedule that never settles needs it. A subclass names its framework's
    count (:attr:`COUNT`, for error messages) and reads the table at a tensor count.
    """

    __slots__ = ("schedule", "steps")

    #: the framework's name for its count of updates, as errors name it
    COUNT = "count"

    def __init__(self, schedule: Schedule, steps: int | None = None):
        super().__init__()
        if not isinstance(schedule, Schedule):
            raise TypeError(f"schedule must be an lrsched schedule, got {v.show(schedule)}")
        self.schedule, self.steps = schedule, v.horizon(schedule, steps)

    def values(self) -> np.ndarray:
        """The table, exact: s(1) .. s(steps) in float64 (index c holds s(c + 1))."""
        return self.schedule.values(self.steps)

    def index(self, count) -> int | None:
        """The table's index of the framework's count: count c (0 for the first update) gives s(c + 1), index c.

        A number from Python is checked (a whole number, else an error naming
        :attr:`COUNT`) and clamped to 0 .. steps - 1, so a huge count holds
        s(steps). None for anything else (a tensor), which the framework's clock
        clamps to the same range in its own arithmetic.
        """
        if isinstance(count, (bool, np.bool_, str, bytes)) or count is None:
            raise TypeError(f"{self.COUNT} must be an integer, got {v.show(count)}")
        if not isinstance(count, (int, float, np.integer, np.floating)):
            return None
        if not (math.isfinite(count) and float(count).is_integer()):
            raise ValueError(f"{self.COUNT} must be a whole number, got {v.show(count)}")
        return min(max(int(count), 0), self.steps - 1)
