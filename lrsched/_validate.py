"""Parameter checks shared by every constructor.

Each check takes the parameter's name and value, returns the normalised value
(floats for reals, ints for counts, tuples for sequences) and raises
TypeError for a wrong type or ValueError for a value out of range, naming the
parameter and the value.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np

_REAL_TYPES = (int, float, np.integer, np.floating)


#: the longest text an error message quotes of a value
SHOW_MAX = 200


def show(value) -> str:
    """A value as an error message shows it: numpy scalars as plain numbers, long values cut short."""
    if isinstance(value, np.generic) or (isinstance(value, np.ndarray) and value.ndim == 0):
        value = value.item()
    if isinstance(value, (list, tuple, np.ndarray)) and len(value) > 20:
        kind = type(value).__name__
        head = ", ".join(show(x) for x in list(value[:8]))
        return f"<{kind} of {len(value)}: {head}, ...>"
    if isinstance(value, int) and value.bit_length() > 600:  # past 10**180; str() refuses past 4300 digits
        return f"<an int of {value.bit_length()} bits, about 10**{int(value.bit_length() * 0.30103)}>"
    try:
        text = repr(value)
    except RecursionError:  # lists inside lists, thousands deep
        return f"<a {type(value).__name__} nested too deeply to show>"
    except Exception:  # an int of over 4300 digits inside a short list, an object whose repr fails
        if not isinstance(value, (list, tuple, np.ndarray)):
            return f"<a {type(value).__name__} that cannot be shown>"
        items = ", ".join(show(x) for x in list(value))  # at most 20, each shown
        text = f"({items})" if isinstance(value, tuple) else f"[{items}]"
    return text if len(text) <= SHOW_MAX else text[: SHOW_MAX - 3] + "..."


def did_you_mean(name, options, *, cutoff: float = 0.6, otherwise: str = "") -> str:
    """The hint after an unknown name: ``"; did you mean 'x'?"`` with the closest of ``options``, else
    ``"; " + otherwise`` (or nothing). The one place every "did you mean" of the package is made.

    >>> did_you_mean("totl", ["total", "epoch"]), did_you_mean("zz", ["a", "b"], otherwise="the names are a, b")
    ("; did you mean 'total'?", '; the names are a, b')
    """
    import difflib

    if not isinstance(name, str):  # str() of a 5000-digit int or a deeply nested list raises: nothing is close
        return f"; {otherwise}" if otherwise else ""
    close = difflib.get_close_matches(name, [str(x) for x in options], n=1, cutoff=cutoff)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; {otherwise}" if otherwise else ""


def _is_real(value) -> bool:
    return isinstance(value, _REAL_TYPES) and not isinstance(value, (bool, np.bool_))


def _scalar(value):
    """A 0-d NumPy array as the number it holds (``np.array(2.0)``); anything else as it is."""
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        return value[()]
    return value


def horizon(schedule, steps, maximum: int = 1 << 27) -> int:
    """How many updates an adapter tabulates: ``steps``, or where ``schedule`` settles (it must, then)."""
    if steps is None:
        end = schedule.length()
        if end is None:
            raise ValueError(f"{schedule!r} never settles: give steps, the number of updates to tabulate")
        steps = max(int(-(-end // 1)), 1)
    return count("steps", steps, maximum=maximum)


def real(name: str, value) -> float:
    """A finite real number (bools, strings and None are refused; a 0-d array is its number)."""
    value = _scalar(value)
    if not _is_real(value):
        raise TypeError(f"{name} must be a real number, got {show(value)}")
    try:
        x = float(value)
    except OverflowError:  # an int beyond the float range
        raise ValueError(f"{name} must be finite, got {show(value)}") from None
    if not math.isfinite(x):
        raise ValueError(f"{name} must be finite, got {show(value)}")
    return x


def positive(name: str, value) -> float:
    x = real(name, value)
    if x <= 0:
        raise ValueError(f"{name} must be > 0, got {show(value)}")
    return x


def nonnegative(name: str, value) -> float:
    x = real(name, value)
    if x < 0:
        raise ValueError(f"{name} must be >= 0, got {show(value)}")
    return x


def optional_real(name: str, value) -> float | None:
    return None if value is None else real(name, value)


#: the largest count accepted: every whole number up to it is a float, so counts stay exact in the kernel
MAX_COUNT = 2**53


def count(name: str, value, minimum: int = 1, maximum: int = MAX_COUNT) -> int:
    """A whole number in [minimum, maximum]; integral floats such as 3.0 are accepted."""
    value = _scalar(value)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be an integer, got {show(value)}")
    if isinstance(value, (float, np.floating)):
        if not (math.isfinite(value) and float(value).is_integer()):
            raise ValueError(f"{name} must be a whole number, got {show(value)}")
    n = int(value)
    if n < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {show(value)}")
    if n > maximum:
        raise ValueError(f"{name} must be at most {maximum}, got {show(value)}")
    return n


def whole(name: str, value, minimum: int | None = None, maximum: int = MAX_COUNT) -> int:
    """An integer, strictly (peers' step counts: 2.5 or 3.0 are refused), >= minimum if given, <= maximum."""
    value = _scalar(value)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {show(value)}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {show(value)}")
    if value > maximum:
        raise ValueError(f"{name} must be at most {maximum}, got {show(value)}")
    if value < -maximum:
        raise ValueError(f"{name} must be at least {-maximum}, got {show(value)}")
    return int(value)


def optional_count(name: str, value, minimum: int = 1) -> int | None:
    return None if value is None else count(name, value, minimum)


def fraction(name: str, value) -> float:
    """A real number in [0, 1]."""
    x = real(name, value)
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {show(value)}")
    return x


def flag(name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {show(value)}")
    return bool(value)


def choice(name: str, value, options: Sequence[str]) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of {', '.join(map(repr, options))}; got {show(value)}")
    if value not in options:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}; got {show(value)}")
    return value


def reals(name: str, values, check=real) -> tuple[float, ...]:
    """A list or tuple of numbers, each passed through ``check``."""
    if isinstance(values, np.ndarray):
        values = values.tolist()
    if not isinstance(values, (list, tuple)):
        raise TypeError(f"{name} must be a list of numbers, got {show(values)}")
    return tuple(check(f"{name}[{i}]", v) for i, v in enumerate(values))


def items(name: str, values, what: str = "integers") -> list:
    """A list or tuple (or NumPy array) as a list: strings, bytes, mappings and sets are refused by name."""
    if isinstance(values, np.ndarray):
        values = values.tolist()
    if not isinstance(values, (list, tuple)):
        raise TypeError(f"{name} must be a list of {what}, got {show(values)}")
    return list(values)


def interval(name: str, value, low: float, high: float, *, low_open: bool = False, high_open: bool = False) -> float:
    """A real number from ``low`` to ``high``, each end included unless open (``(0, 1]``: ``low_open=True``)."""
    x = real(name, value)
    if x < low or x > high or (low_open and x == low) or (high_open and x == high):
        ends = f"{'(' if low_open else '['}{show(low)}, {show(high)}{')' if high_open else ']'}"
        raise ValueError(f"{name} must be in {ends}, got {show(value)}")
    return x


def computed(what: str, result, *, positive: bool = False, **given) -> float:
    """A number a constructor computes from its own parameters ``given`` (``what``: how, ``"peak / div_factor"``).

    Finite (and > 0 if ``positive``), or a ValueError naming those parameters
    and their values: a constructor checks what it derives before it builds a
    primitive from it, so the primitive's message, which names the
    primitive's own parameter and a value the caller never gave, never
    reaches the caller.
    """
    args = ", ".join(f"{k}={show(x)}" for k, x in given.items())
    if not math.isfinite(result):
        raise ValueError(f"{args}: {what} is beyond the float range ({show(result)})")
    if positive and not result > 0:
        raise ValueError(f"{args}: {what} must be > 0, got {show(result)}")
    return float(result)


def power(base: float, exponent: float) -> float:
    """``base ** exponent`` (base > 0, or a whole exponent), inf where Python raises OverflowError instead.

    Check the result with :func:`computed`, which names the parameters.
    """
    try:
        return float(base) ** exponent
    except (OverflowError, ZeroDivisionError):  # beyond the float range, or 0 ** negative
        return math.inf


def increasing(name: str, values: tuple[float, ...], strict: bool = True) -> tuple[float, ...]:
    for i in range(1, len(values)):
        a, b = values[i - 1], values[i]
        if b < a or (strict and b == a):
            order = "strictly increasing" if strict else "sorted in increasing order"
            where = f"{name}[{i - 1}] = {show(a)}, {name}[{i}] = {show(b)}"
            raise ValueError(f"{name} must be {order}, got {show(values)} ({where})")
    return values
