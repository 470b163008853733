"""Introspection: where a schedule changes phase, where it settles, and a summary.

Structure (breakpoints, length) is read from the program the engine lays out
(:mod:`lrsched.kernels` documents it), so every kind, lowered shapes such as
warmup and piecewise included, is covered by one walk over opcodes. Values
(min, max, area, jumps, monotone stretches) come from evaluating the whole
range at once, exactly as ``s.values(n)`` does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from . import _validate as v
from . import layout as K
from .engine import cycle_start, evaluate_range
from .value import Value as Schedule

_MAX_BOUNDARIES = 100_000
#: values evaluated at a time by summary(): memory stays bounded (32 MB) at any range
CHUNK = 1 << 22
#: ranges longer than this are summarised from an even sample of this many updates (and say so)
EXACT_MAX = 1 << 30
#: monotone stretches kept by summary() (the rest are counted)
_MAX_STRETCHES = 10_000


def _pow(x: float, k: float) -> float:
    """x ** k for x >= 0, inf where it overflows (Python raises; the kernel's arithmetic gives inf)."""
    try:
        return x**k
    except OverflowError:
        return math.inf


def _multiples(step: float, stop: float) -> range:
    """j = 1 .. stop / step, refused (ValueError) when there are more than the cap."""
    count = stop / step
    if not count <= _MAX_BOUNDARIES:
        raise ValueError(f"more than {_MAX_BOUNDARIES} boundaries below stop={stop!r}; ask for a shorter range")
    return range(1, int(count) + 1)


class _Unknown(Exception):
    """A ``function`` leaf: its structure cannot be known."""


def _program(schedule: Schedule):
    return schedule._program or schedule._compile()


def _node(ip, fp, node):
    """(op, parameters by name, kids); a join's boundaries are under "boundaries"."""
    rec = K.HEADER + 4 * node
    op, f, k, nk = (int(x) for x in ip[rec : rec + 4])
    p = K.read(op, fp, f)
    if op == K.JOIN:
        p["boundaries"] = [float(b) for b in fp[f : f + nk - 1]]
    return op, p, [int(ip[k + i]) for i in range(nk)]


def _clamp_time(p) -> float | None:
    """When an exponential reaches its clamp (None: never)."""
    start, factor, every, staircase = p["start"], p["factor"], p["every"], p["staircase"] != 0.0
    bound = p["low"] if factor < 1 else p["high"]
    if factor == 1 or not math.isfinite(bound) or start <= 0 or bound <= 0:
        return None
    k = math.log(bound / start) / math.log(factor)
    return every * (math.ceil(k) if staircase else k)


def _breaks(ip, fp, node, stop: float) -> set[float]:
    """Times in (0, stop] where ``node`` changes phase, in its own local time."""
    op, p, kids = _node(ip, fp, node)
    out: set[float] = set()
    if op == K.COSINE and p["periodic"]:  # turns at every multiple of n
        out.update(p["steps"] * j for j in _multiples(p["steps"], stop))
    elif op in K.PHASED:
        out.add(p["steps"])
    elif op in (K.EXPONENTIAL, K.INV_TIME):
        every, staircase = p["every"], p["staircase"] != 0.0
        if staircase:
            out.update(every * j for j in _multiples(every, stop))
        clamped = _clamp_time(p) if op == K.EXPONENTIAL else None
        if clamped is not None:
            out.add(clamped)
    elif op == K.FUNCTION:
        raise _Unknown
    elif op == K.JOIN:
        bounds = [0.0, *p["boundaries"]]
        for i, kid in enumerate(kids):
            begin = bounds[i]
            end = bounds[i + 1] if i + 1 < len(bounds) else stop
            if begin > stop:
                break
            if i:
                out.add(begin)
            last = i + 1 == len(bounds)
            out.update(begin + b for b in _breaks(ip, fp, kid, end - begin) if last or begin + b < end)
    elif op == K.CYCLE:
        period, mult, limit, zb = p["period"], p["period_mult"], int(p["limit"]), p["zero_based"] != 0.0
        inner = _breaks(ip, fp, kids[0], period)
        i, s0 = 0, 0.0
        while (limit <= 0 or i < limit) and s0 < stop:
            if i >= _MAX_BOUNDARIES:
                raise ValueError(f"more than {_MAX_BOUNDARIES} cycles below stop={stop!r}; ask for a shorter range")
            s1 = cycle_start(i + 1, period, mult)
            if i:
                out.add(s0)
            length = s1 - s0
            out.update(s0 + (1 if zb else 0) + b * length / period for b in inner)
            if not s1 > s0:  # the cycles left are shorter than float resolution: no more boundaries
                break
            i, s0 = i + 1, s1
    elif op == K.SHIFT:
        k = p["k"]
        out.update(b + k for b in _breaks(ip, fp, kids[0], stop - k) if b + k > 0)
        if k > 0:
            out.add(k)
    elif op == K.STRETCH:
        out.update(b * p["factor"] for b in _breaks(ip, fp, kids[0], stop / p["factor"]))
    elif op == K.PER_EPOCH:
        e = p["steps_per_epoch"]
        out.update(b * e for b in _breaks(ip, fp, kids[0], math.ceil(stop / e)))
    elif op == K.WARP:  # child time b is reached at t = span * (b / span) ** (1 / power)
        k, span = p["power"], p["span"]
        out.update(span * _pow(b / span, 1 / k) for b in _breaks(ip, fp, kids[0], span * _pow(stop / span, k)))
    elif op in K.SAME_TIME:
        for kid in kids:
            out |= _breaks(ip, fp, kid, stop)
    return {b for b in out if 0 < b <= stop}


def _settles(ip, fp, node) -> float | None:
    """A time after which ``node`` no longer changes (None: it never settles)."""
    op, p, kids = _node(ip, fp, node)
    if op == K.CONST:
        return 0.0
    if op == K.COSINE and p["periodic"]:
        return None
    if op in K.PHASED:
        return p["steps"]
    if op == K.EXPONENTIAL:
        return 0.0 if p["factor"] == 1 else _clamp_time(p)
    if op in (K.INV_SQRT, K.INV_TIME, K.FUNCTION):
        return 0.0 if op == K.INV_TIME and p["rate"] == 0 else None
    if op == K.JOIN:
        last = _settles(ip, fp, kids[-1])
        return None if last is None else ([0.0, *p["boundaries"]][-1]) + last
    if op == K.CYCLE:
        limit = int(p["limit"])
        inner = _settles(ip, fp, kids[0])
        if inner == 0.0:
            return 0.0 if p["decay"] == 1.0 else None
        return cycle_start(limit, p["period"], p["period_mult"]) if limit > 0 else None
    if op == K.SHIFT:
        inner = _settles(ip, fp, kids[0])
        return None if inner is None else max(inner + p["k"], 0.0)
    if op == K.STRETCH:
        inner = _settles(ip, fp, kids[0])
        return None if inner is None else inner * p["factor"]
    if op == K.PER_EPOCH:
        inner = _settles(ip, fp, kids[0])
        return None if inner is None else math.ceil(inner) * p["steps_per_epoch"]
    if op == K.WARP:
        inner = _settles(ip, fp, kids[0])
        return None if inner is None else p["span"] * _pow(inner / p["span"], 1 / p["power"])
    found = [_settles(ip, fp, kid) for kid in kids]
    return None if any(x is None for x in found) else max(found)


def length(schedule: Schedule) -> float | None:
    """The iteration after which ``schedule`` is constant, read from its structure.

    None when it never settles (an exponential without end, an unbounded cycle,
    a function). For clips, minima and maxima it is where the parts settle,
    which may be later than where the clipped value stops changing.
    """
    prog = _program(schedule)
    found = _settles(prog.ip, prog.fp, int(prog.ip[1]))
    return None if found is None else float(found)


def breakpoints(schedule: Schedule, stop: float | None = None) -> list[float]:
    """The iterations b at which the composition changes phase, up to ``stop``.

    A boundary b means: t <= b is the old phase, t > b the new one (join
    boundaries, warmup ends, cycle restarts, staircase drops, phase ends).
    ``stop`` defaults to the schedule's length; a schedule that never settles
    needs one. Unknown for ``function`` schedules (ValueError).
    """
    if stop is None:
        stop = length(schedule)
        if stop is None:
            raise ValueError(f"{schedule!r} never settles: give stop")
    stop = v.nonnegative("stop", stop)
    prog = _program(schedule)
    try:
        found = _breaks(prog.ip, prog.fp, int(prog.ip[1]), stop)
    except _Unknown:
        raise ValueError("a function(...) schedule has no known structure") from None
    return sorted(float(b) for b in found)


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
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be an lrsched schedule, got {schedule!r}")
    start = v.count("start", start, minimum=0)
    total = length(schedule) if schedule.kind != "function" else None
    if stop is None:
        if total is None:
            raise ValueError(f"{schedule!r} never settles: give stop")
        stop = max(int(math.ceil(total)) + 1, start)
    stop = v.count("stop", stop, minimum=start)
    prog = _program(schedule)
    n = stop - start + 1
    try:
        bounds = breakpoints(schedule, stop)
    except ValueError:
        bounds = []
    jumps = []
    for b in bounds:
        before = schedule(b)
        after = schedule(b + max(b, 1.0) * 1e-9)
        scale = max(abs(before), abs(after), 1e-300)
        if abs(after - before) > 1e-6 * scale:
            jumps.append(Jump(b, before, after))
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
