"""A schedule tabulated for a framework that counts its own updates: the base of the optax and Keras clocks.

optax and Keras call a schedule with their own count of the updates done,
0 for the first update (optax's ``count``, Keras's ``step``, read from
``optimizer.iterations``). Count c gives s(c + 1): that is the clock
convention, written here once (:meth:`Tabulated.index`). The schedule is a
table of s(1) .. s(steps), and a count past the end holds s(steps).

:class:`Tabulated` holds what the two clocks share: the schedule, the horizon,
the table's values and the check of a count (:meth:`Tabulated.index`, the one
rule over the count: a known value checked by value, a traced one by dtype).
Each framework's clock (:mod:`lrsched.optax.clock`, :mod:`lrsched.keras.clock`)
says which of its tensors are traced, converts the table to its tensors and
reads it at a traced count. Plain Python and NumPy: no framework is imported.
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
    count (:attr:`COUNT`, for error messages), says which counts are traced
    (:meth:`traced_dtype`) and reads the table at a traced count.
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

    def traced_dtype(self, count) -> str | None:
        """The dtype name (``"int32"``) of a count that is traced, whose value is not known; None for any other.

        Plain Python and NumPy trace nothing: a framework's clock overrides this for its traced tensors.
        """
        return None

    def index(self, count) -> int | None:
        """The table's index of the framework's count: count c (0 for the first update) gives s(c + 1), index c.

        The rule over the count, one for every framework (errors name it :attr:`COUNT`):

        - A count whose value is known, a Python or NumPy number or a concrete
          0-d array or tensor (NumPy's, JAX's, torch's, ...), is checked by that
          value: a whole, finite number (3.0 is 3) within the float range, not a
          bool. It is clamped to 0 .. steps - 1, so a huge count holds s(steps).
        - A traced count (inside ``jax.jit`` or a compiled train step, see
          :meth:`traced_dtype`) has no value to check: it must be 0-d with an
          integer dtype. None then: the clock clamps it in its own arithmetic.
        - Anything else (a str, a list, a dict, a complex number, an array of
          more than one number) is refused, and never handed to the framework.

        A TypeError for a count of the wrong kind or dtype, a ValueError for a
        wrong value (2.5, nan, inf, 10**400), naming :attr:`COUNT` and the value.
        """
        name, dtype = self.COUNT, self.traced_dtype(count)
        if dtype is not None or hasattr(type(count), "__array__"):  # an array or tensor, traced or concrete
            if getattr(count, "ndim", None) != 0:
                raise TypeError(f"{name} must be a single number (a 0-d array), got {v.show(count)}")
            if dtype is not None:
                if not dtype.startswith(("int", "uint")):
                    raise TypeError(f"{name} must be an integer, got a traced {name} of dtype {dtype}")
                return None
            count = _held(name, count)
        if isinstance(count, (bool, np.bool_)) or not isinstance(count, (int, float, np.integer, np.floating)):
            raise TypeError(f"{name} must be an integer, got {v.show(count)}")
        try:
            whole = math.isfinite(count) and float(count).is_integer()
        except OverflowError:  # an int beyond the float range
            raise ValueError(f"{name} must be within the float range, got {v.show(count)}") from None
        if not whole:
            raise ValueError(f"{name} must be a whole number, got {v.show(count)}")
        return min(max(int(count), 0), self.steps - 1)


def _held(name: str, array):
    """The Python number a concrete 0-d array or tensor holds (``.item()``), or a TypeError naming ``name``."""
    try:
        item = array.item() if callable(getattr(array, "item", None)) else np.asarray(array).item()
    except Exception as error:  # a tensor its framework cannot read here
        raise TypeError(f"{name} must be a number, got {v.show(array)}, which cannot be read: {error}") from None
    return item
