"""Introspection: where a schedule changes phase, where it settles, and a summary.

Structure (breakpoints, length) belongs to each kind: every schedule says
where its own phases break (``_breaks(stop)``, in its own time) and where it
settles (``_settles()``), and a combinator asks its kids with the helpers
below (:func:`breaks_of`, :func:`joined_breaks`, ...). So a kind's structure
is declared next to its formula, and nothing here reads the kernel's
program back. Values (min, max, area, jumps, monotone stretches) come from
evaluating the whole range at once, exactly as ``s.values(n)`` does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from . import _validate as v
from .engine import cycle_start, evaluate_range
from .symbols import unbound_message
from .value import Value as Schedule

_MAX_BOUNDARIES = 100_000
#: values evaluated at a time by summary(): memory stays bounded (32 MB) at any range
CHUNK = 1 << 22
#: ranges longer than this are summarised from an even sample of this many updates (and say so)
EXACT_MAX = 1 << 30
#: monotone stretches kept by summary() (the rest are counted)
_MAX_STRETCHES = 10_000


class UnknownStructure(ValueError):
    """A ``function(...)`` schedule: where it breaks cannot be known."""


# ---------------------------------------------------------------- helpers for the kinds' structure


def power(x: float, k: float) -> float:
    """x ** k for x >= 0, inf where it overflows (Python raises; the kernel's arithmetic gives inf)."""
    try:
        return x**k
    except OverflowError:
        return math.inf


def multiples(step: float, stop: float) -> set[float]:
    """{step * j : j = 1 .. stop / step}, refused (ValueError) when there are more than the cap."""
    count = stop / step
    if not count <= _MAX_BOUNDARIES:
        raise ValueError(f"more than {_MAX_BOUNDARIES} boundaries below stop={stop!r}; ask for a shorter range")
    return {step * j for j in range(1, int(count) + 1)}


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


def latest(found) -> float | None:
    """Where schedules seen at the same t have all settled (None if one never does)."""
    found = list(found)
    return None if any(x is None for x in found) else max(found)


def joined_breaks(boundaries, phases, stop: float) -> set[float]:
    """Breaks of phases run one after another (phase i sees t - b_i); a phase given as None has none inside."""
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
            out.update(begin + b for b in breaks_of(phase, end - begin) if last or begin + b < end)
    return out


def joined_settles(boundaries, last: Schedule | None) -> float | None:
    """Where phases run one after another settle: the last boundary plus where the last phase settles."""
    inner = 0.0 if last is None else last._settles()
    return None if inner is None else (boundaries[-1] if boundaries else 0.0) + inner


def cycle_breaks(schedule: Schedule, period, mult, limit, zero_based, stop: float) -> set[float]:
    """Restarts and each cycle's own breaks (the kid's, scaled to the cycle's length) up to ``stop``."""
    inner = breaks_of(schedule, period)
    if zero_based:  # the first update of a cycle sees 0, and none sees P: that is the next cycle's start
        inner = {b for b in inner if b < period}
    out: set[float] = set()
    i, s0 = 0, 0.0
    while (limit is None or i < limit) and s0 < stop:
        if i >= _MAX_BOUNDARIES:
            raise ValueError(f"more than {_MAX_BOUNDARIES} cycles below stop={stop!r}; ask for a shorter range")
        s1 = cycle_start(i + 1, period, mult)
        if i:
            out.add(s0)
        out.update(s0 + (1 if zero_based else 0) + b * (s1 - s0) / period for b in inner)
        if not s1 > s0:  # the cycles left are shorter than float resolution: no more boundaries
            break
        i, s0 = i + 1, s1
    return out


# ---------------------------------------------------------------- public


def _checked(schedule) -> Schedule:
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be an lrsched schedule, got {v.show(schedule)}")
    if schedule._symbols:
        raise ValueError(unbound_message(schedule, schedule._symbols))
    return schedule


def length(schedule: Schedule) -> float | None:
    """The iteration after which ``schedule`` is constant, read from its structure.

    Over whole iterations: s(t) is the same for every whole t > L (a
    staircase that settles at L still has its old value at t = L + 0.5, as
    updates never see). None when it never settles (an exponential without end, an unbounded cycle,
    a function). For clips, minima and maxima it is where the parts settle,
    which may be later than where the clipped value stops changing.
    """
    found = _checked(schedule)._settles()
    return None if found is None else float(found)


def breakpoints(schedule: Schedule, stop: float | None = None) -> list[float]:
    """The iterations b at which the composition changes phase, up to ``stop``.

    A boundary b means: t <= b is the old phase, t > b the new one (join
    boundaries, warmup ends, cycle restarts, staircase drops, phase ends).
    ``stop`` defaults to the schedule's length; a schedule that never settles
    needs one. Unknown for ``function`` schedules (ValueError).
    """
    _checked(schedule)
    if stop is None:
        stop = length(schedule)
        if stop is None:
            raise ValueError(f"{schedule!r} never settles: give stop")
    stop = v.nonnegative("stop", stop)
    return sorted(float(b) for b in breaks_of(schedule, stop))


@dataclass(frozen=True)
class Jump:
    """A discontinuity at boundary ``t``: the value goes from ``before`` to ``after``."""

    t: float
    before: float
    after: float


@dataclass(frozen=True)
class Summary:
    """What :func:`summary` finds over t = start .. stop (whole iterations)."""

    start: int
    stop: int
    length: float | None
    boundaries: list[float]
    first: float
    last: float
    min: float
    argmin: int
    max: float
    argmax: int
    area: float
    jumps: list[Jump] = field(default_factory=list)
    monotone: list[tuple[int, int, str]] = field(default_factory=list)
    #: monotone stretches in all (only the first few thousand are kept in ``monotone``)
    stretches: int = 0
    #: 0 when every update was evaluated (exact figures); else how many evenly spaced updates were
    sampled: int = 0


def summary(schedule: Schedule, stop: int | None = None, start: int = 1) -> Summary:
    """Exact facts over the updates t = start .. stop (stop: the length, by default).

    ``area`` is the sum of the learning rates (what an update budget spends);
    ``jumps`` the boundaries where the curve is not continuous (a warmup that
    does not end where the next phase starts, say: timm issue 1242);
    ``monotone`` the stretches (first t, last t, "increasing" | "decreasing" |
    "constant") over whole iterations.
    """
    _checked(schedule)
    start = v.count("start", start, minimum=0)
    total = length(schedule) if schedule.kind != "function" else None
    if stop is None:
        if total is None:
            raise ValueError(f"{schedule!r} never settles: give stop")
        stop = max(int(math.ceil(total)) + 1, start)
    stop = v.count("stop", stop, minimum=start)
    prog = schedule._program or schedule._compile()
    n = stop - start + 1
    try:
        bounds = breakpoints(schedule, stop)
    except ValueError:
        bounds = []
    jumps = _jumps(schedule, bounds)
    facts = _Facts()
    if n <= EXACT_MAX:  # every update, a chunk at a time (overlapping by one value, for the stretches)
        for lo in range(start, stop + 1, CHUNK):
            first = max(lo - 1, start)
            facts.add(first, evaluate_range(schedule, prog, float(first), min(lo + CHUNK - 1, stop) - first + 1))
        area = facts.area
    else:  # an even sample: the figures say so
        ts = np.unique(np.round(np.linspace(start, stop, CHUNK)))
        values = schedule(ts)
        facts.add_sample(ts, values)
        area = float(np.mean(values)) * n
    return Summary(
        start=start,
        stop=stop,
        length=total,
        boundaries=bounds,
        first=facts.first,
        last=facts.last,
        min=facts.min,
        argmin=facts.argmin,
        max=facts.max,
        argmax=facts.argmax,
        area=area,
        jumps=jumps,
        monotone=facts.stretches[:_MAX_STRETCHES],
        stretches=facts.count,
        sampled=0 if n <= EXACT_MAX else CHUNK,
    )


def _gaps(schedule: Schedule, at: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(found, value at ``at``, the limit toward at + h): found where they differ by a gap that stays as h shrinks."""
    x, near, nearer = schedule(at), schedule(at + h), schedule(at + h * 1e-4)
    gap = np.abs(nearer - x)
    scale = np.maximum(np.maximum(np.abs(x), np.abs(nearer)), 1e-300)
    return (gap > 1e-6 * scale) & (gap > 0.5 * np.abs(near - x)), x, nearer


def _jumps(schedule: Schedule, bounds: list[float]) -> list[Jump]:
    """The boundaries where the curve is not continuous, all evaluated at once.

    Two places for each boundary b: the limit from the right at b (a phase
    that starts at another value), and the limit from the left at b + 1 (a
    staircase: t = b keeps the old value and the drop comes before t = b + 1,
    looked at only when the next boundary is not before b + 1). Each compares
    the gap to a point h away with the gap to a point h / 10**4 away: a jump
    keeps its gap as h shrinks, a continuous phase's gap shrinks with it (even
    a square root's, by 100 times), so a steep start is not taken for a jump;
    a start flatter than t**0.075 still is. h is at most a quarter of an
    update and of the distance to the next boundary.
    """
    if not bounds:
        return []
    b = np.array(bounds, dtype=np.float64)
    following = np.append(b[1:], np.inf)
    h = np.minimum(np.minimum(0.25, 1e-6 * np.maximum(b, 1.0)), (following - b) / 4)
    right, before, after = _gaps(schedule, b, h)
    left, last, _ = _gaps(schedule, b + 1, -h)  # last: the value at b + 1, the first after the drop
    left &= ~right & (b + 1 <= following)
    return [
        Jump(float(b[i]), float(before[i]), float(after[i] if right[i] else last[i]))
        for i in np.flatnonzero(right | left)
    ]


class _Facts:
    """Extremes, area and monotone stretches, accumulated over consecutive chunks of values."""

    def __init__(self):
        self.first = self.last = self.min = self.max = math.nan
        self.argmin = self.argmax = 0
        self.area = 0.0
        self.stretches: list[tuple[int, int, str]] = []  # the first _MAX_STRETCHES
        self.count = 0  # all of them
        self._tail: tuple[int, int, str] | None = None  # the last one, while it may still grow

    def add(self, t0: int, values: np.ndarray) -> None:
        """values at t0, t0 + 1, ...; after the first chunk, values[0] repeats the previous chunk's last."""
        skip = 1 if self._tail else 0
        self._extremes(values[skip:], np.arange(t0 + skip, t0 + values.size))
        self.area += float(values[skip:].sum())
        self._merge(_monotone(values, t0))

    def add_sample(self, ts: np.ndarray, values: np.ndarray) -> None:
        """values at the sorted whole ts (a sample): stretches between sampled points."""
        self._extremes(values, ts)
        self._merge(
            (int(ts[a - int(ts[0])]), int(ts[b - int(ts[0])]), kind) for a, b, kind in _monotone(values, int(ts[0]))
        )

    def _extremes(self, values: np.ndarray, ts: np.ndarray) -> None:
        if self._tail is None:
            self.first = float(values[0])
        self.last = float(values[-1])
        i, j = int(values.argmin()), int(values.argmax())
        if not self.min <= values[i]:
            self.min, self.argmin = float(values[i]), int(ts[i])
        if not self.max >= values[j]:
            self.max, self.argmax = float(values[j]), int(ts[j])

    def _merge(self, found) -> None:
        for a, b, kind in found:
            tail = self._tail
            if tail is not None and tail[2] == kind and tail[1] == a:
                self._tail = (tail[0], b, kind)
            else:
                self._tail = (a, b, kind)
                self.count += 1
            if self.count <= _MAX_STRETCHES:
                if len(self.stretches) == self.count:
                    self.stretches[-1] = self._tail
                else:
                    self.stretches.append(self._tail)


def _monotone(values: np.ndarray, start: int) -> list[tuple[int, int, str]]:
    if values.size < 2:
        return [(start, start, "constant")]
    d = np.sign(np.diff(values))
    cuts = np.flatnonzero(d[1:] != d[:-1]) + 1
    names = {1.0: "increasing", -1.0: "decreasing", 0.0: "constant"}
    out = []
    lo = 0
    for hi in [*cuts.tolist(), d.size]:
        out.append((start + lo, start + hi, names[float(d[lo])]))
        lo = hi
    return out


def describe(schedule: Schedule, stop: int | None = None) -> str:
    """A readable summary of :func:`summary`.

    >>> print(describe(warmup(cosine(0.1, 0.0, steps=90), steps=10)))  # doctest: +ELLIPSIS
    warmup(cosine(0.1, 0, steps=90), steps=10)
      length: settles after t = 100
      phase boundaries: 10, 100
      t = 1 .. 101: first 0.01, last 0, max 0.1 at t = 10, min 0 at t = 100
      area (sum of lrs): 5...
      continuous at every boundary
      increasing t = 1 .. 10, decreasing t = 10 .. 100, constant t = 100 .. 101
    """
    s = summary(schedule, stop)
    text = repr(schedule)
    lines = [text if len(text) <= 200 else text[:200] + "..."]
    lines.append("  length: " + ("never settles" if s.length is None else f"settles after t = {_num(s.length)}"))
    if s.boundaries:
        shown = ", ".join(_num(b) for b in s.boundaries[:12])
        more = f", ... ({len(s.boundaries)} in all)" if len(s.boundaries) > 12 else ""
        lines.append(f"  phase boundaries: {shown}{more}")
    lines.append(
        f"  t = {s.start} .. {s.stop}: first {_num(s.first)}, last {_num(s.last)}, "
        f"max {_num(s.max)} at t = {s.argmax}, min {_num(s.min)} at t = {s.argmin}"
    )
    lines.append(f"  area (sum of lrs): {_num(s.area)}")
    if s.sampled:
        lines.append(f"  (min, max, area and stretches from {s.sampled} evenly spaced updates: sampled, not exact)")
    if s.jumps:
        for j in s.jumps[:10]:
            lines.append(f"  JUMP at t = {_num(j.t)}: {_num(j.before)} -> {_num(j.after)}")
    elif s.boundaries:
        lines.append("  continuous at every boundary")
    stretches = ", ".join(f"{kind} t = {a} .. {b}" for a, b, kind in s.monotone[:8])
    more = f", ... ({s.stretches} stretches)" if s.stretches > 8 else ""
    lines.append(f"  {stretches}{more}")
    return "\n".join(lines)


def _num(x: float) -> str:
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.6g}"
