"""Plots of schedules (matplotlib, an optional extra, imported when a plot is asked for)."""

from __future__ import annotations

import numpy as np

from . import _validate as v
from .engine import evaluate_range
from .schedule import Schedule

#: how many points a curve gets at most: longer ranges are drawn as min / max envelopes
MAX_POINTS = 4000
#: phase boundaries are marked when there are at most this many in the range
MAX_MARKED = 60


def envelope(values: np.ndarray, start: int = 1, max_points: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """(t, y) to draw ``values`` (at t = start, start + 1, ...) with at most ``max_points`` points.

    Long ranges are cut into buckets; each bucket contributes its minimum and
    its maximum, in the order they occur, so a one-update spike or drop is
    still drawn at its full height.

    >>> t, y = envelope(np.r_[np.zeros(5000), 1.0, np.zeros(4999)], max_points=100)
    >>> len(t) <= 100, float(y.max())
    (True, 1.0)
    """
    n = values.size
    t = np.arange(start, start + n, dtype=float)
    if n <= max_points:
        return t, values
    buckets = max(max_points // 2, 1)
    edges = np.linspace(0, n, buckets + 1).astype(np.int64)
    lo_idx = np.array([a + int(np.argmin(values[a:b])) for a, b in zip(edges[:-1], edges[1:])])
    hi_idx = np.array([a + int(np.argmax(values[a:b])) for a, b in zip(edges[:-1], edges[1:])])
    first = np.minimum(lo_idx, hi_idx)
    second = np.maximum(lo_idx, hi_idx)
    idx = np.column_stack([first, second]).ravel()
    return t[idx], values[idx]


def plot(
    schedules,
    n: int,
    ax=None,
    *,
    labels=None,
    start: int = 1,
    log: bool = False,
    steps_per_epoch: int | None = None,
    boundaries: bool = True,
    max_points: int = MAX_POINTS,
):
    """Plot one schedule or several over t = start .. n; returns the matplotlib Axes.

    ``labels`` name the curves (default: their reprs, shortened); ``log`` puts
    the learning rate on a log scale; ``steps_per_epoch`` adds an epoch axis
    on top; ``boundaries`` marks each schedule's phase boundaries with dotted
    vertical lines (when there are not too many). Ranges longer than
    ``max_points`` are drawn as min / max envelopes, so spikes and drops show.

    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = plot(warmup(cosine(0.1, 0.0, steps=900), steps=100), 1000)
    >>> len(ax.lines), ax.get_xlabel()  # the curve, and its boundaries at 100 and 1000
    (3, 'iteration t')
    """
    import matplotlib.pyplot as plt

    items = [schedules] if isinstance(schedules, Schedule) else list(schedules)
    if not items or not all(isinstance(s, Schedule) for s in items):
        raise TypeError(f"schedules must be a schedule or a list of schedules, got {schedules!r}")
    n = v.count("n", n)
    start = v.count("start", start, minimum=0)
    if n < start:
        raise ValueError(f"n={n} must be >= start={start}")
    named = labels is not None
    if labels is None:
        labels = [_short(repr(s)) for s in items]
    elif isinstance(labels, str) or len(labels) != len(items):
        raise ValueError(f"labels must be a list of {len(items)} names, got {labels!r}")
    log = v.flag("log", log)
    spe = None if steps_per_epoch is None else v.count("steps_per_epoch", steps_per_epoch)
    if ax is None:  # constrained layout: the labels stay inside the figure when it is saved
        _, ax = plt.subplots(figsize=(8, 3.5), layout="constrained")
    for s, label in zip(items, labels):
        values = evaluate_range(s, s._program or s._compile(), float(start), n - start + 1)
        t, y = envelope(values, start, max_points)
        (line,) = ax.plot(t, y, label=label)
        line.set_gid("schedule")
        if boundaries:
            _mark(ax, s, start, n, line.get_color())
    ax.set_xlabel("iteration t")
    ax.set_ylabel("learning rate")
    if log:
        ax.set_yscale("log")
    if spe is not None:
        top = ax.secondary_xaxis("top", functions=(lambda t: t / spe, lambda e: e * spe))
        top.set_xlabel("epoch")
    if len(items) > 1 or named:
        ax.legend(fontsize="small")
    ax.margins(x=0.01)
    return ax


def _mark(ax, schedule, start, n, color):
    try:
        found = [b for b in schedule.breakpoints(n) if start <= b <= n]
    except ValueError:  # a function: no structure to mark
        return
    if len(found) > MAX_MARKED:
        return
    for b in found:
        line = ax.axvline(b, color=color, linestyle=":", linewidth=0.8, alpha=0.7)
        line.set_gid("boundary")


def _short(text: str, width: int = 70) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."
