r"""The learning-rate range test (L. Smith 2015/2017): find a good lr in one short run.

Raise the lr from tiny to huge over about a hundred updates, recording the
loss at each (:func:`range_test` is that ramp, an ordinary schedule), stop
when the loss diverges, and read the lr off the smoothed loss curve
(:func:`suggest_lr`). Both are pure; ``lrsched.torch.find_lr`` runs the test
on a torch model and puts the model and optimizer back as they were.

Smoothing: losses :math:`L_0, L_1, \dots` are averaged with weight w
(``smooth``) on each new loss, bias-corrected as in Adam, so that the first
points are not pulled towards 0:

.. math:: a_i = (1 - w)\,a_{i-1} + w\,L_i,\quad a_{-1} = 0, \qquad S_i = a_i / (1 - (1 - w)^{i + 1})

The curve ends before the first point where the loss is not finite, or
where :math:`S_i > d \min_{j \le i} S_j` for ``diverge`` = d (if given).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from . import _validate as v
from .primitives import Geometric, Linear
from .schedule import Schedule

__all__ = ["LRSuggestion", "range_test", "suggest_lr"]

METHODS = ("valley", "steepest", "minimum")


def range_test(start: float, end: float, steps: int = 100, shape: str = "exponential") -> Schedule:
    r"""The range test's ramp: ``start`` at t = 1 up to ``end`` at t = ``steps``, held after.

    .. math:: \eta(t) = s \left(\frac{e}{s}\right)^{p} \ \text{(exponential)}, \qquad
              \eta(t) = s + (e - s)\,p \ \text{(linear)}, \qquad p = \frac{\min(t, n) - 1}{n - 1}

    as torch-lr-finder's ramps (its exponential is the default, as here). An
    ordinary schedule: plot it, save it, or drive any loop with it.

    Example:
        >>> s = range_test(1e-4, 1.0, steps=5)
        >>> [round(s(t), 12) for t in range(1, 6)]
        [0.0001, 0.001, 0.01, 0.1, 1.0]
    """
    a, b = v.positive("start", start), v.positive("end", end)
    if a >= b:
        raise ValueError(f"range_test sweeps up: start={v.show(start)} must be below end={v.show(end)}")
    n = v.count("steps", steps, minimum=2)
    shape = v.choice("shape", shape, ("exponential", "linear"))
    ramp = Geometric(a, b, steps=n - 1) if shape == "exponential" else Linear(a, b, n - 1)
    return ramp.shift(1)


def smoothing_weight(smooth) -> float:
    """``smooth`` checked: the weight w of each new loss in the moving average, in (0, 1] (1: no smoothing)."""
    w = v.real("smooth", smooth)
    if not 0 < w <= 1:
        raise ValueError(f"smooth must be in (0, 1] (the weight of each new loss), got {v.show(smooth)}")
    return w


class Curve:
    """A range test's loss curve, point by point: the smoothed loss, and whether it has diverged.

    The one place the moving average and the divergence rule (see the
    module's docstring) are computed: :func:`suggest_lr` reads a whole record
    with it, ``lrsched.torch.find_lr`` watches a run with it.
    """

    def __init__(self, smooth: float = 0.05, diverge: float | None = None):
        self.w, self.diverge = smoothing_weight(smooth), diverge
        self.average, self.count, self.best = 0.0, 0, math.inf

    def add(self, loss: float) -> tuple[float, bool]:
        """The smoothed loss with ``loss`` added, and whether the curve diverges there."""
        w = self.w
        self.count += 1
        self.average = (1 - w) * self.average + w * loss  # Python floats: inf and NaN pass, without warnings
        s = self.average / (1 - (1 - w) ** self.count)
        diverged = not math.isfinite(s) or (self.diverge is not None and s > self.diverge * self.best)
        if not diverged:
            self.best = min(self.best, s)
        return s, diverged


def smoothed(losses, smooth: float = 0.05) -> np.ndarray:
    """The bias-corrected moving average of ``losses`` (see the module's docstring); NaN and inf pass through."""
    curve = Curve(smooth)
    return np.array([curve.add(x)[0] for x in np.asarray(losses, dtype=np.float64).tolist()], dtype=np.float64)


@dataclass(frozen=True, eq=False)
class LRSuggestion:
    """The outcome of a range test: the suggested ``lr`` and the curve it was read from.

    ``index`` is the point the method chose (for ``"minimum"``, the minimum:
    the suggestion is a tenth of its lr); ``lrs``, ``losses`` and
    ``smoothed`` are the whole record; ``diverged_at`` is the index of the
    first point cut off as diverged (None if none was).
    """

    lr: float
    index: int
    method: str
    lrs: np.ndarray = field(repr=False)
    losses: np.ndarray = field(repr=False)
    smoothed: np.ndarray = field(repr=False)
    diverged_at: int | None = None

    def __repr__(self) -> str:
        cut = "" if self.diverged_at is None else f", diverged_at={self.diverged_at}"
        return (
            f"LRSuggestion(lr={self.lr:.4g}, method={self.method!r}, index={self.index} of {len(self.lrs)} points{cut})"
        )

    def plot(self, ax=None):
        """The loss against the lr (log scale), raw and smoothed, with the suggestion marked (needs matplotlib)."""
        if ax is None:
            import matplotlib.pyplot as plt

            _, ax = plt.subplots()
        end = len(self.lrs) if self.diverged_at is None else self.diverged_at
        ax.plot(self.lrs, self.losses, color="0.75", lw=1, label="loss", gid="loss")
        ax.plot(self.lrs[:end], self.smoothed[:end], lw=2, label="smoothed", gid="smoothed")
        ax.axvline(self.lr, color="C3", ls="--", lw=1, gid="suggestion", label=f"{self.method}: {self.lr:.3g}")
        shown = np.concatenate([self.smoothed[:end], self.losses[:end]])
        lo, hi = shown.min(), self.smoothed[:end].max()
        ax.set_xscale("log")
        ax.set_ylim(lo - 0.05 * (hi - lo), hi + 0.1 * (hi - lo) + 1e-12)
        ax.set_xlabel("learning rate")
        ax.set_ylabel("loss")
        ax.legend(fontsize="small")
        return ax


def suggest_lr(lrs, losses, method: str = "valley", smooth: float = 0.05, diverge: float | None = None) -> LRSuggestion:
    r"""The lr a range test suggests, read from its losses (smoothed, cut where they diverge).

    With S the smoothed losses up to the cut (see the module's docstring) and
    m the index of their minimum:

    - ``"valley"`` (fastai's default since 2021): with L the length of the
      longest strictly decreasing subsequence of S and b the first index
      where one ends, the valley is the L points up to b; the suggestion is
      the lr at its middle, index :math:`b - \lfloor (L - 1) / 2 \rfloor`.
    - ``"steepest"``: the point of steepest descent before the minimum, the
      most negative :math:`dS / d\log \eta` over indices 0 .. m (central
      differences, as ``np.gradient``).
    - ``"minimum"``: a tenth of the lr at the minimum, :math:`\eta_m / 10`.

    The moving average lags the losses by about (1 - w) / w points, as in
    fastai and torch-lr-finder, whose methods are read from such a curve.
    ``"steepest"`` feels that lag most and suggests the highest lr of the
    three (in ``notebooks/lr_range_test.ipynb``: 20x the grid's best, against
    0.6x for valley and 7x for minimum); valley suits a constant lr, minimum
    the peak of a schedule that anneals.

    ``lrs`` must be positive and increasing; a loss that is NaN or inf marks
    divergence, and so does a smoothed loss above ``diverge`` times the best
    so far (when given): the curve is cut there.

    Example:
        >>> lrs = np.geomspace(1e-5, 1.0, 11)
        >>> losses = [2.0, 1.99, 1.95, 1.8, 1.5, 1.1, 0.8, 0.7, 0.9, 3.0, float("nan")]
        >>> r = suggest_lr(lrs, losses, smooth=1.0)
        >>> r  # the longest descent: 8 points, ending at point 7 (lr 10**-1.5)
        LRSuggestion(lr=0.001, method='valley', index=4 of 11 points, diverged_at=10)
        >>> round(suggest_lr(lrs, losses, "minimum", smooth=1.0).lr, 12)  # the minimum's lr / 10
        0.00316227766
    """
    x, y = _floats("lrs", lrs), _floats("losses", losses)
    if len(x) != len(y):
        raise ValueError(f"lrs and losses differ in length: {len(x)} lrs, {len(y)} losses")
    if len(x) < 3:
        raise ValueError(f"a range test needs at least 3 points, got {len(x)}")
    if not np.all(np.isfinite(x) & (x > 0)):
        bad = int(np.flatnonzero(~(np.isfinite(x) & (x > 0)))[0])
        raise ValueError(f"lrs must be positive and finite: lrs[{bad}] = {x[bad]!r}")
    if np.any(np.diff(x) <= 0):
        bad = int(np.flatnonzero(np.diff(x) <= 0)[0]) + 1
        raise ValueError(f"lrs must increase: lrs[{bad}] = {x[bad]!r} follows {x[bad - 1]!r}")
    method = v.choice("method", method, METHODS)
    if diverge is not None:
        diverge = v.real("diverge", diverge)
        if diverge <= 1:
            raise ValueError(f"diverge must be above 1 (a multiple of the best smoothed loss), got {v.show(diverge)}")
    curve = Curve(smooth, diverge)
    points = [curve.add(loss) for loss in y.tolist()]
    s = np.array([p[0] for p in points], dtype=np.float64)
    cut = next((i for i, p in enumerate(points) if p[1]), None)
    end = len(s) if cut is None else cut
    if end < 3:
        raise ValueError(
            f"the loss diverged at point {cut} (lr {x[cut]:.3g}), leaving fewer than 3 points: start the ramp lower"
        )
    curve, logs = s[:end], np.log(x[:end])
    m = int(np.argmin(curve))
    if method == "minimum":
        index, lr = m, float(x[m]) / 10
    elif method == "steepest":
        slope = np.gradient(curve, logs)[: m + 1]
        index = int(np.argmin(slope))
        lr = float(x[index])
    else:
        length, last = _longest_descent(curve)
        index = last - (length - 1) // 2
        lr = float(x[index])
    return LRSuggestion(lr, index, method, x, y, s, cut)


def _floats(name: str, values) -> np.ndarray:
    try:
        a = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        a = None
    if a is None or a.ndim != 1:
        raise TypeError(f"{name} must be a 1-D sequence of numbers, got {v.show(values)}")
    return a


def _longest_descent(s: np.ndarray) -> tuple[int, int]:
    """Length L of the longest strictly decreasing subsequence of ``s``, and the first index where one ends.

    Patience sorting, O(n log n): ``tails[k]`` is minus the smallest last value
    of a decreasing subsequence of length k + 1 seen so far.
    """
    tails: list[float] = []
    end = 0
    for i, x in enumerate(s):
        k = int(np.searchsorted(tails, -x, side="left"))  # strictly: an equal value does not extend a run
        if k == len(tails):
            tails.append(-x)
            end = i  # the first index reaching this length
        else:
            tails[k] = -x
    return len(tails), end


v.name_arguments(globals(), ["range_test", "suggest_lr"])
