"""Summaries of a schedule: extremes, area, jumps and monotone stretches, and a readable description.

They are computed from the values (the whole range evaluated a chunk at a
time, exactly as ``s.values(n)`` does) and from the structure each kind
declares (:mod:`lrsched.structure`: ``length`` and ``breakpoints``, which
this module re-exports).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from . import _validate as v
from .engine import evaluate_range, expecting
from .structure import UnknownStructure, breakpoints, checked, length
from .value import Value as Schedule

__all__ = ["Description", "Jump", "Summary", "UnknownStructure", "breakpoints", "describe", "length", "summary"]

#: values evaluated at a time by summary(): memory stays bounded (32 MB) at any range
CHUNK = 1 << 22
#: ranges longer than this are summarised from an even sample of this many updates (and say so)
EXACT_MAX = 1 << 30
#: monotone stretches kept by summary() (the rest are counted)
_MAX_STRETCHES = 10_000


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
    checked(schedule)
    start = v.count("start", start, minimum=0)
    total = length(schedule) if schedule.kind != "function" else None
    if stop is None:
        if total is None:
            raise ValueError(f"{schedule!r} never settles: give stop (or it settles beyond the float range)")
        if not total < v.MAX_COUNT:
            raise ValueError(f"{schedule!r} settles at t = {total!r}, past {v.MAX_COUNT} updates: give stop")
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
        with expecting(n):  # the tier is chosen for the whole range, not per chunk
            for lo in range(start, stop + 1, CHUNK):
                first = max(lo - 1, start)
                last = min(lo + CHUNK - 1, stop)
                facts.add(first, evaluate_range(schedule, prog, float(first), last - first + 1))
        area = facts.area
    else:  # an even sample: the figures say so
        ts = np.unique(np.round(np.linspace(start, stop, CHUNK)))
        values = schedule(ts)
        facts.add_sample(ts, values)
        with np.errstate(over="ignore"):  # lrs near the float maximum: their sum is inf, said as such
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
        with np.errstate(over="ignore"):  # lrs near the float maximum: their sum is inf, said as such
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


class Description(str):
    """The text :func:`describe` returns: a str whose repr is the text, so a REPL shows it as lines."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)


def describe(schedule: Schedule, stop: int | None = None) -> Description:
    """A readable summary of :func:`summary` (a :class:`Description`: a str that a REPL shows as lines).

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
    return Description("\n".join(lines))


def _num(x: float) -> str:
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.6g}"
