"""Summaries of a schedule: extremes, area and annealing area, jumps and monotone stretches, a readable
description, and what a schedule does to AdamW (``ema_timescale``, ``update_weights``).

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

__all__ = [
    "Description",
    "Jump",
    "Summary",
    "UnknownStructure",
    "breakpoints",
    "describe",
    "ema_timescale",
    "length",
    "summary",
    "update_weights",
]

#: values evaluated at a time by summary(): memory stays bounded (32 MB) at any range
CHUNK = 1 << 22
#: ranges longer than this are summarised from an even sample of this many updates (and say so)
EXACT_MAX = 1 << 30
#: update_weights() sums its logarithms this many at a time, then the row totals by doubling
_ROW = 32
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
    #: the annealing area S2 of Tissue et al. 2024 over t = start .. stop (see :func:`summary`)
    annealing_area: float = 0.0
    #: the decay factor lambda of its momentum
    annealing_decay: float = 0.999


def summary(schedule: Schedule, stop: int | None = None, start: int = 1, *, annealing_decay=0.999) -> Summary:
    r"""Exact facts over the updates t = start .. stop (stop: the length, by default).

    ``area`` is the sum of the learning rates (what an update budget spends:
    the forward area :math:`S_1 = \sum_t \eta_t` of Tissue et al. 2024);
    ``jumps`` the boundaries where the curve is not continuous (a warmup that
    does not end where the next phase starts, say: timm issue 1242);
    ``monotone`` the stretches (first t, last t, "increasing" | "decreasing" |
    "constant") over whole iterations.

    ``annealing_area`` is the LR annealing area of Tissue et al. 2024
    ("Scaling Law with Learning Rate Annealing", arXiv 2408.11029), the
    :math:`S_2` of their loss law :math:`L = L_0 + A S_1^{-\alpha} - C S_2`:

    .. math::

        S_2 = \sum_{t=a}^{b} m_t, \qquad
        m_t = \lambda\, m_{t-1} + (\eta_{t-1} - \eta_t), \qquad m_a = 0,

    over t = a .. b (``start`` .. ``stop``), with :math:`\lambda` =
    ``annealing_decay`` (0.999 by default, the value the authors fit
    with). Choices, as lrsched makes them: the first update of the range
    has no predecessor (:math:`\eta_{a-1} = \eta_a`, so :math:`m_a = 0`);
    and every rise before the first fall counts as held at its top, so a
    warmup adds nothing (the authors' fitting code counts warmup updates
    at the peak lr), while later rises (re-warmups, cycle restarts) count
    negatively, as the recurrence says. It is computed in closed form,
    :math:`S_2 = \sum_t (\eta_{t-1} - \eta_t) (1 - \lambda^{b - t + 1}) / (1 - \lambda)`:
    the drops more than :math:`80 \ln 2 / (-\ln \lambda)` updates before
    the end (55,000 at 0.999) weigh :math:`1 / (1 - \lambda)` to the last
    bit, so their sum telescopes, and only the drops near the end are
    weighed one by one. A range past :data:`EXACT_MAX` is summarised from a
    sample (and says so); the annealing area adds to it the last
    ``min(that many, CHUNK)`` updates and both sides of every boundary, so
    it stays exact but for a first top that falls between two sampled
    updates away from any boundary (and, for a lambda so close to 1 that
    more than CHUNK updates are near the end, the drops before those,
    weighed as if made at the next sampled update).
    """
    checked(schedule)
    start = v.count("start", start, minimum=0)
    decay = v.interval("annealing_decay", annealing_decay, 0.0, 1.0, high_open=True)
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
    annealing = _Annealing(stop, decay)
    if n <= EXACT_MAX:  # every update, a chunk at a time (overlapping by one value, for the stretches)
        with expecting(n):  # the tier is chosen for the whole range, not per chunk
            for lo in range(start, stop + 1, CHUNK):
                first = max(lo - 1, start)
                last = min(lo + CHUNK - 1, stop)
                values = evaluate_range(schedule, prog, float(first), last - first + 1)
                facts.add(first, values)
                annealing.add(values, t0=first)
        area = facts.area
    else:  # an even sample: the figures say so
        ts = np.unique(np.round(np.linspace(start, stop, CHUNK)))
        values = schedule(ts)
        facts.add_sample(ts, values)
        with np.errstate(over="ignore"):  # lrs near the float maximum: their sum is inf, said as such
            area = float(np.mean(values)) * n
        # the annealing area also takes every update near the end, and both sides of each boundary
        more = np.unique(annealing.sample_points(start, bounds))
        at = np.searchsorted(ts, more)
        new = (at == ts.size) | (ts[np.minimum(at, ts.size - 1)] != more)
        more, at = more[new], at[new]
        values = np.insert(values, at, schedule(more))  # the sample's own arrays go: memory stays bounded
        ts = np.insert(ts, at, more)
        annealing.add(values, ts=ts)
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
        annealing_area=annealing.area(),
        annealing_decay=decay,
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


class _Annealing:
    """The annealing area S2 (:func:`summary`), accumulated over consecutive chunks of values.

    Each chunk starts where the previous one ended (its first value repeats
    the previous chunk's last), at whole updates t0, t0 + 1, ... or at the
    sorted times ``ts`` (a sample: the drop between two sampled updates is
    weighed as if made at the later one, which is exact where the weight is
    saturated, that is, everywhere but the last updates, which a sample
    takes one by one).
    """

    def __init__(self, stop: int, decay: float):
        self.stop, self.decay = stop, decay
        self.log = math.log(decay) if decay > 0 else -math.inf
        # a drop at t weighs (1 - decay ** (stop - t + 1)) / (1 - decay): exactly 1 / (1 - decay) in floats when
        # decay ** (stop - t + 1) < 2 ** -80, that is, for t < self.saturated (its sum telescopes there)
        near = 80 * math.log(2) / -self.log if decay > 0 else 0.0
        self.saturated = stop + 1 - near
        self.near = near
        self.falling = False  # the first fall has been seen: from there, every difference counts
        self.bulk = 0.0  # the saturated drops, telescoped
        self.tail = 0.0  # the drops near the end, each with its weight

    def sample_points(self, start: int, bounds: list[float]) -> np.ndarray:
        """Whole updates a sample adds: the last ones (whose weights differ), each boundary and the update after."""
        last = np.arange(max(start, self.stop - min(math.ceil(self.near), CHUNK) + 1), self.stop + 1, dtype=np.float64)
        b = np.floor(np.asarray(bounds, dtype=np.float64))
        b = np.concatenate([b, b + 1.0])
        return np.concatenate([last, b[(b >= start) & (b <= self.stop)]])

    def add(self, values: np.ndarray, t0: int | None = None, ts: np.ndarray | None = None) -> None:
        if values.size < 2:
            return
        i = 0
        if not self.falling:  # a rise before the first fall (a warmup) is held at its top: it adds nothing
            down = values[1:] < values[:-1]
            if not down.any():
                return
            i = int(np.argmax(down))
            self.falling = True
        x = values[i:]
        # the differences x[j - 1] - x[j], j >= 1, made at update t[j]: j < k are saturated, j >= k near the end
        if ts is None:
            k = min(max(math.ceil(self.saturated - (t0 + i)), 1), x.size)
        else:
            k = min(max(int(np.searchsorted(ts[i:], self.saturated)), 1), x.size)
        if k > 1:
            self.bulk += float(x[0] - x[k - 1])
        if k < x.size:
            t = (np.arange(k, x.size, dtype=np.float64) + (t0 + i)) if ts is None else ts[i + k :]
            d = x[k - 1 : -1] - x[k:]
            w = -np.expm1((self.stop - t + 1.0) * self.log) if self.decay > 0 else 1.0
            self.tail += float(np.sum(d * w))

    def area(self) -> float:
        with np.errstate(over="ignore"):
            return (self.bulk + self.tail) / (1.0 - self.decay)


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


def describe(schedule: Schedule, stop: int | None = None, *, annealing_decay=0.999) -> Description:
    """A readable summary of :func:`summary` (a :class:`Description`: a str that a REPL shows as lines).

    Next to the area (the forward area S1 of Tissue et al. 2024) it gives
    their annealing area S2 with momentum ``annealing_decay`` (see
    :func:`summary`).

    >>> print(describe(warmup(cosine(0.1, 0.0, steps=90), steps=10)))  # doctest: +ELLIPSIS
    warmup(cosine(0.1, 0, steps=90), steps=10)
      length: settles after t = 100
      phase boundaries: 10, 100
      t = 1 .. 101: first 0.01, last 0, max 0.1 at t = 10, min 0 at t = 100
      area (sum of lrs): 5...
      annealing area (Tissue et al. 2024, lambda = 0.999): 4.52743
      continuous at every boundary
      increasing t = 1 .. 10, decreasing t = 10 .. 100, constant t = 100 .. 101
    """
    s = summary(schedule, stop, annealing_decay=annealing_decay)
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
    lines.append(f"  annealing area (Tissue et al. 2024, lambda = {s.annealing_decay!r}): {_num(s.annealing_area)}")
    if s.sampled:
        lines.append(
            f"  (min, max, area and stretches from {s.sampled} evenly spaced updates: sampled, not exact;"
            " the annealing area takes the last updates and the boundaries one by one)"
        )
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


# ---------------------------------------------------------------- AdamW's weight decay seen through the schedule


def ema_timescale(schedule: Schedule, weight_decay) -> Schedule:
    r"""The timescale of AdamW's weights as an EMA of its updates, :math:`\tau_t = 1 / (\eta_t \lambda)`, as a schedule.

    See :meth:`lrsched.Schedule.ema_timescale`.

    >>> ema_timescale(constant(2**-10), 0.125)(1)  # 1 / (2**-10 * 2**-3)
    8192.0
    """
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be an lrsched schedule, got {v.show(schedule)}")
    return 1.0 / (_weight_decay(weight_decay) * schedule)


def _weight_decay(value):
    """A weight decay: a number > 0, or a schedule of them (evaluated where it is used)."""
    if isinstance(value, Schedule):
        return value
    if not v._is_real(v._scalar(value)):
        raise TypeError(f"weight_decay must be a number > 0 or a schedule, got {v.show(value)}")
    return v.positive("weight_decay", value)


def update_weights(schedule: Schedule, weight_decay, n) -> np.ndarray:
    r"""How much each update still weighs after n updates of AdamW: see :meth:`lrsched.Schedule.update_weights`.

    With :math:`x_j = \eta_j \lambda`, the weight of update k is
    :math:`\eta_k e^{L_k}` (times the sign of the product), where
    :math:`L_k = \sum_{j>k} \ln|1 - x_j|` (``log1p``). The suffix sums are
    running sums over rows of 32 and a sum tree (doubling) over the row
    totals, so each :math:`L_k` is off by at most
    :math:`(\lceil \log_2 n \rceil + 35)\, u \sum_{j>k} |\ln|1 - x_j||`,
    :math:`u = 2^{-53}` (``log1p``'s rounding included; :math:`x_j` is the
    float product, as the optimizer computes it), and :math:`w_k` by that
    plus :math:`2u` relative; a running product, the
    optimizer's own arithmetic, drifts by up to :math:`2 (n - k) u`. The
    product never underflows on the way: a weight is 0 only where it is
    below the smallest float (and loses digits below 2.2e-308, as any float
    does there).

    >>> update_weights(linear(0.5, 0.25, 2), 1.0, 2)  # w_1 = 0.375 * (1 - 0.25), w_2 = 0.25
    array([0.28125, 0.25   ])
    """
    lam = _weight_decay(weight_decay)
    lr = schedule.values(n)
    n = lr.size
    if n == 0:
        return lr
    if isinstance(lam, Schedule):
        lam = lam.values(n)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        x = lr * lam
        flips = x > 1.0  # a factor 1 - x below 0
        logs = np.log1p(-x, out=x)  # ln(1 - x): -inf where x = 1 (the factor 0), nan where x > 1, fixed next
        if flips.any():
            logs[flips] = np.log(lr[flips] * (lam[flips] if isinstance(lam, np.ndarray) else lam) - 1.0)
        # the suffix sums L_k = sum_{j > k} logs_j, as prefix sums of the reversed logs: a running sum within rows
        # of _ROW, then the row totals summed by doubling (a sum tree): each sum has at most _ROW + log2(n) roundings
        rows = -(-n // _ROW)
        buf = np.zeros(rows * _ROW)
        buf[:n] = logs[::-1]
        grid = buf.reshape(rows, _ROW)
        np.cumsum(grid, axis=1, out=grid)
        totals = grid[:, -1].copy()
        step = 1
        while step < rows:
            totals[step:] = totals[step:] + totals[:-step]  # the right side is evaluated first: old values
            step *= 2
        grid[1:] += totals[:-1, None]  # buf[i] = sum of the reversed logs 0 .. i = logs[n - 1 - i] + ... + logs[n - 1]
        weights = np.empty(n)
        weights[-1] = 0.0
        weights[:-1] = buf[n - 2 :: -1] if n > 1 else buf[:0]
        np.exp(weights, out=weights)
        weights *= lr
        if flips.any():  # each factor below 0 after update k flips the sign of its weight
            after = np.cumsum(flips[::-1])[::-1] - flips
            weights[after % 2 == 1] *= -1.0
    bad = np.flatnonzero(~np.isfinite(weights))
    if bad.size:
        k = int(bad[-1]) + 1
        raise ValueError(
            f"weight_decay={v.show(weight_decay)}, n={n}: the weight of update t = {k} is beyond the float range "
            "(the factors 1 - lr * weight_decay after it multiply to more than 1.8e308: a negative lr, or lr * "
            "weight_decay above 2)"
        )
    return weights
