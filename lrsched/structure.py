r"""Structure: where a schedule changes phase and where it settles, declared by each kind.

Every kind says where its own phases break (``_breaks(stop)``, in its own
time) and where it settles (``_settles()``); a combinator asks its kids with
the helpers here (:func:`breaks_of`, :func:`joined_breaks`, ...), so a
kind's structure is declared next to its formula and nothing reads the
kernel's program back. :func:`length` and :func:`breakpoints` read it at the
top, over whole iterations. The summaries built on the values (min, max,
area, jumps) are in :mod:`lrsched.analysis`.

Structure flows in continuous time. A break b is *after* b (a join: t <= b
is the old phase, t > b the new one), or an :class:`Onset` c (a staircase:
the new value from t = c on, :math:`\lfloor (t - 1) / m \rfloor` changes at
t = j m + 1). Over whole iterations, an onset c is the boundary
:math:`\lceil c \rceil - 1`, the last update with the old value; it is
rounded there only, after the shifts, stretches and cycles around it.

One call of :func:`breakpoints` finds at most :data:`MAX_BOUNDARIES`
boundaries in all (its kids' included); more are refused by name.
"""

from __future__ import annotations

import contextlib
import contextvars
import math

import numpy as np

from . import _validate as v
from .engine import cycle_start, cycle_starts, whole_start
from .symbols import unbound_message
from .value import Value as Schedule

#: the most boundaries one call of breakpoints() collects, over all its parts
MAX_BOUNDARIES = 100_000
#: the cycle walk takes this many cycle starts one by one, then in batches that double up to _BATCH
_ONE_BY_ONE = 64
_BATCH = 4096
_COUNT: contextvars.ContextVar[list | None] = contextvars.ContextVar("lrsched_boundaries", default=None)


class UnknownStructure(ValueError):
    """A ``function(...)`` schedule: where it breaks cannot be known."""


class Onset(float):
    """A break at which the new phase starts *at* t = c (t >= c), not after it: a staircase's drop.

    A float, so it compares and sorts as one; it is not equal to the plain
    float c (an after-break at the same point is another break). Arithmetic
    gives plain floats: move it with :func:`moved`.
    """

    __slots__ = ()

    def __eq__(self, other):
        return type(other) is Onset and float(self) == float(other)

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash(("onset", float(self)))

    def __repr__(self):
        return f"Onset({float(self)!r})"


def moved(b: float, x: float) -> float:
    """x, an :class:`Onset` when b is one: a break moved by a time map that keeps the order (t >= c stays)."""
    return Onset(x) if type(b) is Onset else x


def whole(b: float) -> float:
    """The boundary over whole iterations: b for an after-break, ceil(c) - 1 for an onset c (at least 0)."""
    if type(b) is Onset and math.isfinite(b):
        return max(float(math.ceil(b) - 1), 0.0)
    return float(b)


def _charge(n: int, stop: float) -> None:
    """Count n boundaries against the call's cap (one call of breakpoints(); else the helper's own)."""
    count = _COUNT.get()
    total = n + (count[0] if count is not None else 0)
    if not total <= MAX_BOUNDARIES:
        top = stop if count is None else count[1]
        raise ValueError(f"more than {MAX_BOUNDARIES} boundaries below stop={top!r}; ask for a shorter range")
    if count is not None:
        count[0] = total


@contextlib.contextmanager
def _one_call(stop: float):
    """Boundaries collected inside count against one cap (nested calls share the outer one)."""
    if _COUNT.get() is not None:
        yield
        return
    token = _COUNT.set([0, stop])
    try:
        yield
    finally:
        _COUNT.reset(token)


# ---------------------------------------------------------------- helpers for the kinds' structure


def _how_many(step: float, stop: float) -> int:
    """How many multiples of step lie in (0, stop], counted against the cap (ValueError beyond it)."""
    count = stop / step
    if not count <= MAX_BOUNDARIES:
        _charge(MAX_BOUNDARIES + 1, stop)
    _charge(int(count), stop)
    return int(count)


def multiples(step: float, stop: float) -> set[float]:
    """{step * j : j = 1 .. stop / step}, refused (ValueError) beyond the cap."""
    return {step * j for j in range(1, _how_many(step, stop) + 1)}


def drop(j: int, every: float) -> Onset:
    """Where a staircase floor((t - 1) / m) reaches j: the onset j m + 1, as the kernel's arithmetic decides.

    Near a whole t the rounding of j m decides which update drops first: that t is tried with the
    kernel's own floor((t - 1) / m), so the boundary is the kernel's to the update.
    """
    c = every * j + 1.0
    if not math.isfinite(c):
        return Onset(c)
    w = round(c)
    if abs(c - w) <= 1e-9 * max(1.0, abs(c)):
        return Onset(float(w)) if math.floor((w - 1.0) / every) >= j else Onset(math.nextafter(float(w), math.inf))
    return Onset(c)


def drops(every: float, stop: float) -> set[float]:
    """The drops of a staircase of step ``every`` up to ``stop`` (see :func:`drop`), capped as multiples."""
    return {drop(j, every) for j in range(1, _how_many(every, stop) + 1)}


def breaks_of(schedule: Schedule, stop: float) -> set[float]:
    """The times in (0, stop] where ``schedule`` changes phase, in its own time."""
    if not stop > 0:
        return set()
    return {b for b in schedule._breaks(stop) if 0 < b <= stop}


def union_breaks(schedules, stop: float) -> set[float]:
    """Breaks of schedules that all see the same t (arithmetic, clip, minimum, maximum)."""
    out: set[float] = set()
    for s in schedules:
        out |= breaks_of(s, stop)
    return out


def _later(x: float) -> tuple[float, int]:
    return (float(x), 0 if type(x) is Onset else 1)  # settled from c on is before settled after c


def latest(found) -> float | None:
    """Where schedules seen at the same t have all settled (None if one never does)."""
    found = list(found)
    return None if any(x is None for x in found) else max(found, key=_later)


def joined_breaks(boundaries, phases, stop: float) -> set[float]:
    """Breaks of phases run one after another (phase i sees t - b_i); a phase given as None has none inside.

    Phase i covers (b_i, b_{i+1}]: its own after-breaks before its end, and its onsets up to its end.
    """
    begins = [0.0, *boundaries]
    out: set[float] = set()
    for i, phase in enumerate(phases):
        begin = begins[i]
        if begin > stop:
            break
        if i:
            out.add(begin)
        last = i + 1 == len(begins)
        end = stop if last else begins[i + 1]
        if phase is not None:
            for b in breaks_of(phase, end - begin):
                t = moved(b, begin + b)
                if last or t < end or (type(t) is Onset and t <= end):
                    out.add(t)
    return out


def joined_settles(boundaries, last: Schedule | None) -> float | None:
    """Where phases run one after another settle: the last boundary plus where the last phase settles."""
    inner = 0.0 if last is None else last._settles()
    if inner is None:
        return None
    return moved(inner, (boundaries[-1] if boundaries else 0.0) + inner)


def cycle_breaks(schedule: Schedule, period, mult, limit, zero_based, stop: float, whole=None) -> set[float]:
    """Restarts and each cycle's own breaks (the kid's, scaled to the cycle's length) up to ``stop``.

    One-based, cycle i covers (S_i, S_{i+1}] and restarts after S_i; zero-based, u = t - 1 covers
    [S_i, S_{i+1}), so the restart is the onset S_i + 1 (the first update that sees s(0)). ``whole``:
    the table of a cycle with whole periods (:func:`lrsched.engine.whole_cycles`), whose starts these are.
    """
    inner = breaks_of(schedule, period)
    if zero_based:  # the first update of a cycle sees 0, and none sees P: that is the next cycle's start
        inner = {b for b in inner if b < period}
    one = 1.0 if zero_based else 0.0
    out: set[float] = set()
    i, s0 = 0, 0.0
    starts = np.empty(0)  # cycle_start(i + 1 ..), a batch at a time: a walk over many cycles is array work
    while (limit is None or i < limit) and s0 < stop:
        _charge(len(inner) + (1 if i else 0), stop)
        if whole is not None and i < len(whole[0]):
            s1 = whole_start(i + 1, whole)  # tabulated
        elif whole is not None:  # the tail, a plain cycle from S_K, its starts in batches
            k = len(whole[0])
            if not starts.size:
                size = min(_BATCH, max(i - k, 1))
                starts = whole[0][-1] + cycle_starts(
                    np.arange(i + 1 - k, i + 1 - k + size, dtype=np.float64), *whole[1:]
                )
            s1, starts = float(starts[0]), starts[1:]
        elif i < _ONE_BY_ONE:  # a few cycles: one start at a time (an array call costs ~0.5 ms)
            s1 = cycle_start(i + 1, period, mult)
        else:  # a walk over many cycles: batches of starts, doubling
            if not starts.size:
                size = min(_BATCH, i)
                starts = cycle_starts(np.arange(i + 1, i + 1 + size, dtype=np.float64), period, mult)
            s1, starts = float(starts[0]), starts[1:]
        if i:
            out.add(Onset(s0 + 1.0) if zero_based else s0)
        scale = (s1 - s0) / period
        out.update(moved(b, s0 + one + b * scale) for b in inner)
        if not s1 > s0:  # the cycles left are shorter than float resolution: no more boundaries
            break
        i, s0 = i + 1, s1
    if zero_based and i == limit and s0 < stop:  # held from u = S_limit on: t >= S_limit + 1
        out.add(Onset(s0 + 1.0))
    return out


# ---------------------------------------------------------------- public


def checked(schedule) -> Schedule:
    """``schedule``, refused by name when it is not a schedule or holds unbound symbols."""
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be an lrsched schedule, got {v.show(schedule)}")
    if schedule._symbols:
        raise ValueError(unbound_message(schedule, schedule._symbols))
    return schedule


def length(schedule: Schedule) -> float | None:
    """The iteration after which ``schedule`` is constant, read from its structure.

    Over whole iterations: s(t) is the same for every whole t > L (a
    staircase that settles at L still has its old value at t = L + 0.5, as
    updates never see). None when it never settles (an exponential without
    end, an unbounded cycle, a function) or settles beyond the float range
    (a cooldown at 1e308 of 1e308 steps). For clips, minima and maxima it is
    where the parts settle, which may be later than where the clipped value
    stops changing.
    """
    found = checked(schedule)._settles()
    if found is None or not math.isfinite(found):
        return None
    return whole(found)


def breakpoints(schedule: Schedule, stop: float | None = None) -> list[float]:
    """The iterations b at which the composition changes phase, up to ``stop``.

    A boundary b means: t <= b is the old phase, t > b the new one, over
    whole iterations (join boundaries, warmup ends, cycle restarts, phase
    ends; a staircase drop is the last update before it). ``stop`` defaults
    to the schedule's length; a schedule that never settles needs one.
    Unknown for ``function`` schedules (ValueError); more than
    :data:`MAX_BOUNDARIES` in all are refused (ValueError).
    """
    checked(schedule)
    if stop is None:
        stop = length(schedule)
        if stop is None:
            raise ValueError(f"{schedule!r} never settles: give stop (or it settles beyond the float range)")
    stop = v.nonnegative("stop", stop)
    with _one_call(stop):
        found = breaks_of(schedule, stop + 1.0)  # an onset in (stop, stop + 1] is a boundary at or below stop
    return sorted({w for w in map(whole, found) if 0 < w <= stop})
