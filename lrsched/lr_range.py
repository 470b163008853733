r"""The learning-rate range test (L. Smith 2015/2017): find a good lr in one short run.

Raise the lr from tiny to huge over about a hundred updates, recording the
loss at each (:func:`range_test` is that ramp, an ordinary schedule), stop
when the loss diverges, and read the lr off the smoothed loss curve
(:func:`suggest_lr`). Both are pure; the drivers ``lrsched.torch.find_lr``,
``lrsched.optax.find_lr`` and ``lrsched.keras.find_lr`` run the test on a
model, through :class:`RangeTest`, and leave the model as it was.

Smoothing: losses :math:`L_0, L_1, \dots` are averaged with weight w
(``smooth``) on each new loss, bias-corrected as in Adam, so that the first
points are not pulled towards 0:

.. math:: a_i = (1 - w)\,a_{i-1} + w\,L_i,\quad a_{-1} = 0, \qquad S_i = a_i / (1 - (1 - w)^{i + 1})

The curve ends before the first point where the loss is not finite, or
where :math:`S_i - B_i > (d - 1)\,|B_i|`, :math:`B_i = \min_{j < i} S_j`, for
``diverge`` = d (if given): for positive losses that is torch-lr-finder's
:math:`S_i > d\,B_i`, and a falling negative loss (a log-likelihood) never
counts as diverging.
"""

from __future__ import annotations

import bisect
import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from . import _validate as v
from .primitives import Geometric, Linear
from .schedule import Schedule

__all__ = ["LRSuggestion", "range_test", "suggest_lr"]

METHODS = ("valley", "steepest", "minimum")
#: the score below which a curve gives no lr (see :func:`suggest_lr`), and the smoothing weight it reads with
MIN_SCORE = 5.0
SCORE_SMOOTH = 0.05


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
    if not math.isfinite(b / a):
        raise ValueError(
            f"range_test: end / start = {v.show(end)} / {v.show(start)} is beyond the float range: "
            "the ramp's values would not be finite; narrow the range"
        )
    ramp = Geometric(a, b, steps=n - 1) if shape == "exponential" else Linear(a, b, n - 1)
    return ramp.shift(1)


def smoothing_weight(smooth) -> float:
    """``smooth`` checked: the weight w of each new loss in the moving average, in (0, 1] (1: no smoothing)."""
    w = v.real("smooth", smooth)
    if not 0 < w <= 1:
        raise ValueError(f"smooth must be in (0, 1] (the weight of each new loss), got {v.show(smooth)}")
    if 1 - w == 1:
        raise ValueError(f"smooth={v.show(smooth)} is too small to move the average (1 - smooth rounds to 1)")
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
        smoothed, diverged = self.extend([loss])
        return smoothed[0], diverged is not None

    def extend(self, losses) -> tuple[list[float], int | None]:
        """The smoothed losses with ``losses`` (Python floats) added, and the position among them of the first
        where the curve diverges (None: nowhere). One loop, for a whole record or one point."""
        w, keep, limit = self.w, 1.0 - self.w, self.diverge
        average, count, best = self.average, self.count, self.best
        out, first = [], None
        for i, loss in enumerate(losses):
            count += 1
            average = keep * average + w * loss  # Python floats: inf and NaN pass, without warnings
            s = average / (1 - keep**count)
            out.append(s)
            if not math.isfinite(s) or (limit is not None and s - best > (limit - 1) * abs(best)):
                if first is None:
                    first = i
            elif s < best:
                best = s
        self.average, self.count, self.best = average, count, best
        return out, first


def smoothed(losses, smooth: float = 0.05) -> np.ndarray:
    """The bias-corrected moving average of ``losses`` (see the module's docstring); NaN and inf pass through."""
    return np.array(Curve(smooth).extend(np.asarray(losses, dtype=np.float64).tolist())[0], dtype=np.float64)


@dataclass(frozen=True, eq=False)
class LRSuggestion:
    """The outcome of a range test: the suggested ``lr`` and the curve it was read from.

    ``index`` is the point the method chose (for ``"minimum"``, the minimum:
    the suggestion is a tenth of its lr); ``lrs``, ``losses`` and
    ``smoothed`` are the points read (after ``skip_start`` / ``skip_end``);
    ``diverged_at`` is the index of the first point cut off as diverged
    (None if none was). ``score`` is how far the smoothed loss falls, in
    units of its own noise; when it is below the bar (the curve has no
    reliable descent), ``lr`` and ``index`` are None and ``reason`` says why.
    """

    lr: float | None
    index: int | None
    method: str
    lrs: np.ndarray = field(repr=False)
    losses: np.ndarray = field(repr=False)
    smoothed: np.ndarray = field(repr=False)
    diverged_at: int | None = None
    score: float = math.inf
    reason: str | None = None

    def __repr__(self) -> str:
        cut = "" if self.diverged_at is None else f", diverged_at={self.diverged_at}"
        if self.lr is None:
            return f"LRSuggestion(lr=None, method={self.method!r}, reason={self.reason!r})"
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
        if self.lr is not None:
            ax.axvline(self.lr, color="C3", ls="--", lw=1, gid="suggestion", label=f"{self.method}: {self.lr:.3g}")
        else:
            ax.set_title(f"no suggestion: {self.reason}", fontsize="small")
        shown = np.concatenate([self.smoothed[:end], self.losses[:end]])
        lo, hi = shown.min(), self.smoothed[:end].max()
        ax.set_xscale("log")
        ax.set_ylim(lo - 0.05 * (hi - lo), hi + 0.1 * (hi - lo) + 1e-12)
        ax.set_xlabel("learning rate")
        ax.set_ylabel("loss")
        ax.legend(fontsize="small")
        return ax


def suggest_lr(
    lrs,
    losses,
    method: str = "valley",
    smooth: float = 0.05,
    diverge: float | None = None,
    skip_start: int = 0,
    skip_end: int = 0,
    min_score: float = MIN_SCORE,
) -> LRSuggestion:
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
    so far (when given): the curve is cut there. ``skip_start`` and
    ``skip_end`` leave out that many points at either end first, as if both
    lists were sliced (Lightning's ``skip_begin`` / ``skip_end``); at least 3
    must remain.

    A curve with no reliable descent gives no lr: ``lr`` is None and
    ``reason`` says why. The score (``score``) is the fall of the smoothed
    loss S (weight 0.05, whatever ``smooth`` is) from the start of its
    descent i to its minimum m, in units of the noise it would have from
    independent losses alone:

    .. math:: z = \max_{i \le m} \frac{S_i - S_m}{\sigma \sqrt{v_i + v_m}}, \qquad
              v_k = \frac{w^2 (1 - q^{k+1}) / (1 - q)}{(1 - (1 - w)^{k+1})^2},\ q = (1 - w)^2

    with :math:`\sigma` the losses' noise, read robustly from their second
    differences up to where S climbs back above :math:`S_i` (1.4826 times
    their median absolute deviation, over :math:`\sqrt 6`). No lr when
    z < ``min_score`` (5; 0 always suggests). How often that refuses and
    suggests, on synthetic and on recorded curves: :func:`descent_score`.
    Give the raw per-batch losses, not a curve another tool already smoothed.

    Example:
        >>> lrs = np.geomspace(1e-5, 1.0, 11)
        >>> losses = [2.0, 1.99, 1.95, 1.8, 1.5, 1.1, 0.8, 0.7, 0.9, 3.0, float("nan")]
        >>> r = suggest_lr(lrs, losses, smooth=1.0)
        >>> r  # the longest descent: 8 points, ending at point 7 (lr 10**-1.5)
        LRSuggestion(lr=0.001, method='valley', index=4 of 11 points, diverged_at=10)
        >>> round(suggest_lr(lrs, losses, "minimum", smooth=1.0).lr, 12)  # the minimum's lr / 10
        0.00316227766
    """
    x, y = _record(lrs, losses, skip_start, skip_end)
    bar = v.nonnegative("min_score", min_score)
    method = v.choice("method", method, METHODS)
    values, cut = Curve(smooth, None if diverge is None else _diverge(diverge)).extend(y.tolist())
    s = np.array(values, dtype=np.float64)
    end = len(s) if cut is None else cut
    if end < 3:
        raise ValueError(
            f"losses diverged at point {cut} (lrs[{cut}] = {x[cut]:.3g}, losses[{cut}] = {v.show(y[cut])}), "
            "leaving fewer than 3 points: start the ramp lower"
        )
    score = descent_score(y[:end])
    if score < bar:
        return LRSuggestion(None, None, method, x, y, s, cut, score, _no_descent(score, bar))
    index, lr = _pick(method, x[:end], s[:end])
    return LRSuggestion(lr, index, method, x, y, s, cut, score)


def _record(lrs, losses, skip_start, skip_end) -> tuple[np.ndarray, np.ndarray]:
    """The points :func:`suggest_lr` reads, checked: ``lrs`` positive and increasing, as long as ``losses``, with
    ``skip_start`` / ``skip_end`` points left out, at least 3."""
    x, y = _floats("lrs", lrs), _floats("losses", losses)
    if len(x) != len(y):
        raise ValueError(f"lrs and losses differ in length: {len(x)} lrs, {len(y)} losses")
    first = v.count("skip_start", skip_start, minimum=0)
    stop = len(x) - v.count("skip_end", skip_end, minimum=0)
    if (first or skip_end) and stop - first < 3:
        raise ValueError(
            f"skip_start={skip_start} and skip_end={skip_end} leave {max(stop - first, 0)} of the {len(x)} points, "
            "fewer than 3"
        )
    x, y = x[first:stop], y[first:stop]
    if len(x) < 3:
        raise ValueError(f"lrs and losses hold too few points: a range test needs at least 3 points, got {len(x)}")
    if not np.all(np.isfinite(x) & (x > 0)):
        bad = int(np.flatnonzero(~(np.isfinite(x) & (x > 0)))[0])
        raise ValueError(f"lrs must be positive and finite: lrs[{bad}] = {x[bad]!r}")
    if np.any(np.diff(x) <= 0):
        bad = int(np.flatnonzero(np.diff(x) <= 0)[0]) + 1
        raise ValueError(f"lrs must increase: lrs[{bad}] = {x[bad]!r} follows {x[bad - 1]!r}")
    return x, y


def _diverge(diverge) -> float:
    """``diverge`` checked: a multiple of the best smoothed loss, above 1."""
    d = v.real("diverge", diverge)
    if d <= 1:
        raise ValueError(f"diverge must be above 1 (a multiple of the best smoothed loss), got {v.show(diverge)}")
    return d


def _no_descent(score: float, bar: float) -> str:
    """Why a curve whose score is below the bar gives no lr (``LRSuggestion.reason``)."""
    if score == 0:
        return "the smoothed loss never falls below its first value (the curve only rises or is flat)"
    return (
        f"the fall of the smoothed loss is {score:.3g} times its noise, below min_score={bar:g}: "
        "no reliable descent (a flat or noisy curve; widen the ramp, or check the loss)"
    )


def _pick(method: str, lrs: np.ndarray, curve: np.ndarray) -> tuple[int, float]:
    """The index ``method`` chooses on the smoothed ``curve`` (cut where it diverged), and the lr it suggests."""
    m = int(np.argmin(curve))
    if method == "minimum":
        return m, float(lrs[m]) / 10
    if method == "steepest":
        index = int(np.argmin(np.gradient(curve, np.log(lrs))[: m + 1]))
    else:
        length, last = _longest_descent(curve)
        index = last - (length - 1) // 2
    return index, float(lrs[index])


def descent_score(losses) -> float:
    """z of :func:`suggest_lr`: the fall of the smoothed losses to their minimum, in units of their noise.

    0 when there is no fall (or one below float rounding: a constant curve); inf for a fall without noise.

    With the bar at 5: on synthetic curves of 100 points
    (``benchmarks/suggest_rates.py``) flat curves with Gaussian, uniform or
    quantized noise and rising curves never get an lr, flat curves with
    heavy-tailed noise 2.5-7% of the time, and curves with a real descent
    always do up to noise of 0.3 times the fall. On curves recorded with
    ``find_lr`` on small models (logistic and linear regression, small MLPs;
    352 with a descent, 221 without: a ramp ending too early, a solved
    problem, random labels, a ramp starting too high) it refused 1.7% and
    still suggested for 6.3%. Correlated noise and random walks look like
    descents to any one-curve test.
    """
    y = np.asarray(losses, dtype=np.float64)
    n, w = len(y), SCORE_SMOOTH
    s = np.array(Curve(w).extend(y.tolist())[0])
    k = np.arange(n)
    q = (1 - w) ** 2
    var = w * w * (1 - q ** (k + 1)) / (1 - q) / (1 - (1 - w) ** (k + 1)) ** 2  # of S_k, per unit loss variance
    m = int(np.argmin(s))
    i = int(np.argmax((s[: m + 1] - s[m]) / np.sqrt(var[: m + 1] + var[m])))
    fall = s[i] - s[m]
    if not fall > 1e-12 * np.max(np.abs(y)):
        return 0.0
    back = np.flatnonzero(s[m:] > s[i])
    e = max(n if back.size == 0 else m + int(back[0]), min(n, 10))
    noise = _noise(y[:e])
    return math.inf if noise == 0 else float(fall / (noise * math.sqrt(var[i] + var[m])))


def _noise(y: np.ndarray) -> float:
    """The losses' noise (a standard deviation), robustly from their differences: second ones (first, if few)."""
    d, k = (np.diff(y, 2), 6.0) if len(y) >= 5 else (np.diff(y), 2.0)
    spread = 1.482602218505602 * float(np.median(np.abs(d - np.median(d))))
    sd = float(np.std(d))
    if spread < sd / 100:  # a degenerate median (quantized losses, most differences equal): the std instead
        spread = sd
    return spread / math.sqrt(k)


class RangeTest:
    """One run of the range test as every driver makes it (``lrsched.torch``, ``.optax``, ``.keras`` ``find_lr``).

    It checks the arguments the drivers share, holds the ramp (update t uses
    ``lr(t)``) and the record, and reads it: the driver hands each loss to
    :meth:`record` (True: the curve diverged there, stop before updating) and
    returns :meth:`suggestion`.
    """

    def __init__(
        self, start, end, steps, method, diverge, smooth, skip_start, skip_end, min_score, shape="exponential"
    ):
        self.steps = v.count("steps", steps, minimum=3)
        self.lr = range_test(start, end, self.steps, shape)
        self.method = v.choice("method", method, METHODS)
        self.curve = Curve(smooth, _diverge(diverge))  # checks smooth; the rule suggest_lr applies to the record
        self.reading = {
            "skip_start": v.count("skip_start", skip_start, minimum=0),
            "skip_end": v.count("skip_end", skip_end, minimum=0),
            "min_score": v.nonnegative("min_score", min_score),
        }
        self.start, self.end = start, end  # as given, for the messages
        self.lrs: list[float] = []
        self.losses: list[float] = []

    def check_fits(self, dtype: str, largest: float, smallest: float) -> None:
        """Refuse a ramp whose ends a learning rate held in ``dtype`` (its largest and smallest normal numbers)
        cannot hold: inf, or 0, before any update."""
        if float(self.end) > largest:
            raise ValueError(
                f"end={v.show(self.end)} overflows the learning rate's {dtype} (at most {largest:.4g}): lower end"
            )
        if float(self.start) < smallest:  # a subnormal: XLA on CPU flushes it to 0
            raise ValueError(
                f"start={v.show(self.start)} is below the smallest {dtype} learning rate "
                f"({smallest:.4g}; smaller ones flush to 0): raise start"
            )

    def record(self, lr: float, loss: float) -> bool:
        """One point of the curve; whether the curve diverges there."""
        self.lrs.append(lr)
        self.losses.append(loss)
        return self.curve.add(loss)[1]

    def suggestion(self) -> LRSuggestion:
        if len(self.lrs) < 3:
            raise ValueError(
                f"the loss diverged after {len(self.lrs)} updates, before the range test had 3 points: "
                f"lower start={v.show(self.start)}"
            )
        return suggest_lr(self.lrs, self.losses, self.method, self.curve.w, self.curve.diverge, **self.reading)


class Batches:
    """Cycle through an iterable of batches; a one-shot iterator is remembered as it is read, to cycle too."""

    def __init__(self, batches, what: str = "batches"):
        try:
            self.it = iter(batches)
        except TypeError:
            raise TypeError(f"batches must be an iterable of {what}, got {v.show(batches)}") from None
        self.source = None if self.it is batches else batches
        self.seen: list | None = [] if self.source is None else None
        self.replay = None

    def next(self):
        if self.replay is not None:
            return next(self.replay)
        for _ in range(2):
            try:
                batch = next(self.it)
            except StopIteration:
                if self.source is not None:
                    self.it = iter(self.source)  # a list, a DataLoader, a dataset: iterate again
                    continue
                if not self.seen:
                    break
                self.replay = itertools.cycle(self.seen)
                return next(self.replay)
            if self.seen is not None:
                self.seen.append(batch)
            return batch
        raise ValueError("batches gave no batch")


def _floats(name: str, values) -> np.ndarray:
    try:
        a = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
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
    for i, x in enumerate((-s).tolist()):
        k = bisect.bisect_left(tails, x)  # strictly: an equal value does not extend a run
        if k == len(tails):
            tails.append(x)
            end = i  # the first index reaching this length
        else:
            tails[k] = x
    return len(tails), end
