r"""Reduce-on-plateau as a pure rule that composes with any schedule.

The one schedule that depends on more than the iteration: after ``patience``
reports without improvement, the learning rate is multiplied by ``factor``.
Here that is a multiplier, the state's ``scale``, kept apart from the schedule:

.. math:: \eta(t) = s(t) \cdot \mathrm{scale}

so warmup + cosine + plateau is one line, and the state is plain data that a
checkpoint stores and a resumed run reloads.

>>> import lrsched as ls
>>> s = ls.warmup(ls.cosine(0.1, 1e-4, steps=900), steps=100)
>>> rule = ls.plateau(mode="min", factor=0.5, patience=2)
>>> state = rule.init()
>>> for val_loss in [1.0, 0.9, 0.95, 0.93, 0.94]:   # one report per epoch
...     state = rule.update(state, val_loss)
>>> state.scale, state.lr(s, 500) == 0.5 * s(500)
(0.5, True)

The decision is torch's ReduceLROnPlateau's, decision for decision (both
modes, both threshold modes, cooldown, eps, and its floor as ``min_scale``),
except that a worse negative metric is never an improvement (below):

* improvement: ``metric < best - threshold * |best|`` (min, rel), ``metric <
  best - threshold`` (min, abs), ``metric > best + threshold * |best|`` (max, rel)
  or ``metric > best + threshold`` (max, abs); the relative ones computed as
  torch does, ``best * (1 -+ threshold)``, with the sign of the margin following
  best's;
* otherwise a bad epoch; during cooldown bad epochs are not counted;
* after more than ``patience`` bad epochs: scale = max(scale * factor,
  min_scale), if that lowers it by more than ``eps``; then cooldown starts.

Where this differs from torch, stacked on a schedule that changes: torch's
``min_lr`` and ``eps`` apply to the *current* lr, the product of every
scheduler chained before it, while ``min_scale`` and ``eps`` here apply to the
scale, that is, relative to the schedule's own value at that t. On a constant
schedule (torch's ReduceLROnPlateau alone) the two are the same decisions.
Under a decaying schedule they part: torch stops reducing once the decayed lr
is within ``eps`` (absolute) of its reduced value or at ``min_lr``, while here
the scale keeps falling by ``factor`` until ``min_scale``; stacked on
ExponentialLR the lrs end about 10x apart near 5e-10. ``plateau(...,
absolute=True)`` decides as torch does: on the current lr, with ``min_scale``
as torch's ``min_lr`` and ``eps`` in lr units. The state is still only the
scale: the decision reads the schedule's value at the report, which
``replay``, the torch adapter and the tracker (``report(metric, t=...)``)
supply (tested against torch's ExponentialLR + ReduceLROnPlateau).

The relative threshold is measured on ``|best|``, so a worse metric is never
an improvement, whatever its sign. torch writes it ``best * (1 - threshold)``,
which for a negative best (a log-likelihood, a negative reward) counts a
slightly *worse* metric as an improvement: with patience 1, the metrics
[-10, -9.9995, -9.9995, -9.9995] never reduce there (optax fixed the same bug,
optax PR #1767), while this rule reduces after the third. The mirror
``lrsched.torch.reduce_lr_on_plateau`` keeps torch's exact rule
(``torch_threshold=True``); while best is positive the two agree to the bit.

A NaN metric is never an improvement: like torch, it counts as a bad epoch.
Infinite metrics are compared as numbers, as torch does. Strings and bools
are refused.
"""

from __future__ import annotations

import datetime
import math
import numbers
import sys
from dataclasses import asdict, dataclass, fields

import numpy as np

from . import _validate as v
from .schedule import Schedule

__all__ = ["Plateau", "PlateauState", "PlateauTracker", "SyncError", "plateau", "plateau_tracker"]


def _metric(value) -> float:
    """A reported metric as a float: a number, or one held by a 0-d array or a one-element tensor (not a bool)."""
    boolean = str(getattr(value, "dtype", "")) in ("bool", "torch.bool")  # a numpy or torch boolean
    if isinstance(value, (str, bytes, bool, np.bool_)) or boolean or not hasattr(value, "__float__"):
        raise TypeError(f"metric must be a number, got {v.show(value)}")
    try:
        return float(value)
    except OverflowError:  # an int beyond the float range
        raise ValueError(f"metric must be within the float range, got {v.show(value)}") from None
    except (TypeError, ValueError, RuntimeError) as e:  # RuntimeError: a tensor torch cannot make a float of
        raise TypeError(f"metric must be a number, got {v.show(value)}: {e}") from None


def _float_out(x: float):
    """JSON has no infinity: write it as a string."""
    return x if math.isfinite(x) else ("inf" if x > 0 else "-inf")


def _float_in(name: str, x) -> float:
    if isinstance(x, str) and x in ("inf", "-inf"):
        return float(x)
    return v.real(name, x)


@dataclass(frozen=True)
class PlateauState:
    """Where a plateau rule stands: plain, immutable data.

    ``scale`` multiplies the schedule; ``best`` is the best metric so far
    (+-inf before the first report); ``bad_epochs`` and ``cooldown_left`` are
    torch's counters; ``reports`` counts the metrics seen.
    """

    best: float
    bad_epochs: int = 0
    cooldown_left: int = 0
    scale: float = 1.0
    reports: int = 0

    def __post_init__(self):
        if isinstance(self.best, bool) or not isinstance(self.best, numbers.Real):
            raise ValueError(f"best must be a number or +-inf, got {v.show(self.best)}")
        try:
            best = float(self.best)
        except OverflowError:
            raise ValueError(
                f"best must be a number or +-inf, got {v.show(self.best)} (beyond the float range)"
            ) from None
        if math.isnan(best):
            raise ValueError(f"best must be a number or +-inf, got {v.show(self.best)}")
        for name in ("bad_epochs", "cooldown_left", "reports"):  # plain ints and floats: JSON, equality
            object.__setattr__(self, name, v.count(name, getattr(self, name), minimum=0))
        object.__setattr__(self, "scale", v.nonnegative("scale", self.scale))
        object.__setattr__(self, "best", best)

    def lr(self, schedule: Schedule, t) -> float:
        """The learning rate at update t: ``schedule(t) * scale``."""
        return schedule(t) * self.scale

    def to_dict(self) -> dict:
        d = asdict(self)
        d["best"] = _float_out(self.best)
        return d

    @classmethod
    def from_dict(cls, d) -> PlateauState:
        if not isinstance(d, dict):
            raise TypeError(f"a plateau state must be a dict, got {type(d).__name__}")
        names = {f.name for f in fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown plateau state field {v.show(min(unknown, key=v.show))}")
        if "best" not in d:
            raise ValueError("plateau state has no 'best'")
        return cls(**{**d, "best": _float_in("best", d["best"])})


@dataclass(frozen=True)
class Plateau:
    """A reduce-on-plateau rule (see the module docstring); build it with :func:`plateau`."""

    mode: str = "min"
    factor: float = 0.1
    patience: int = 10
    threshold: float = 1e-4
    threshold_mode: str = "rel"
    cooldown: int = 0
    min_scale: float = 0.0
    eps: float = 1e-8
    absolute: bool = False
    torch_threshold: bool = False

    def __post_init__(self):
        v.choice("mode", self.mode, ("min", "max"))
        factor = v.real("factor", self.factor)
        if not 0 < factor < 1:
            raise ValueError(f"factor must be in (0, 1), got {v.show(self.factor)}")
        v.count("patience", self.patience, minimum=0)
        v.nonnegative("threshold", self.threshold)
        v.choice("threshold_mode", self.threshold_mode, ("rel", "abs"))
        v.count("cooldown", self.cooldown, minimum=0)
        v.nonnegative("min_scale", self.min_scale)
        v.nonnegative("eps", self.eps)
        v.flag("absolute", self.absolute)
        v.flag("torch_threshold", self.torch_threshold)
        for name in ("factor", "threshold", "min_scale", "eps"):
            object.__setattr__(self, name, float(getattr(self, name)))
        for name in ("patience", "cooldown"):
            object.__setattr__(self, name, int(getattr(self, name)))
        object.__setattr__(self, "absolute", bool(self.absolute))
        object.__setattr__(self, "torch_threshold", bool(self.torch_threshold))

    def init(self) -> PlateauState:
        """The state before any report: scale 1."""
        return PlateauState(best=math.inf if self.mode == "min" else -math.inf)

    def _decide(self, best: float, bad: int, cool: int, scale: float, metric: float, base: float):
        """One report: (best, bad epochs, cooldown left, scale) after ``metric``; the one place the rule decides.

        torch's ReduceLROnPlateau decision, in torch's own arithmetic: a NaN
        metric is never an improvement (so it counts as a bad epoch).
        ``absolute``: the reduction is decided on the current lr, base * scale
        (base: the schedule's value at the report), with ``min_scale`` as
        torch's min_lr and ``eps`` in lr units. The improvement test is the
        module docstring's (torch's own with ``torch_threshold``).
        """
        t, low = self.threshold, self.mode == "min"
        if self.threshold_mode == "abs":
            better = metric < best - t if low else metric > best + t
        elif self.torch_threshold:  # torch's own expressions, whose margin flips sign with best's
            better = metric < best * (1.0 - t) if low else metric > best * (t + 1.0)
        elif abs(best) == math.inf:  # any finite metric beats the starting best
            better = metric < best if low else metric > best
        else:  # torch's expressions, with the margin's sign following best's: bit for bit torch's for best >= 0
            lower, upper = (1.0 - t, t + 1.0) if best >= 0 else (t + 1.0, 1.0 - t)
            better = metric < best * lower if low else metric > best * upper
        if better:
            best, bad = metric, 0
        else:
            bad += 1
        if cool > 0:
            cool, bad = cool - 1, 0
        if bad > self.patience:
            if self.absolute:
                lr = base * scale
                reduced = max(lr * self.factor, self.min_scale)
                if lr - reduced > self.eps:
                    scale = reduced / base
            else:
                reduced = max(scale * self.factor, self.min_scale)
                if scale - reduced > self.eps:
                    scale = reduced
            cool, bad = self.cooldown, 0
        return best, bad, cool, scale

    def _bases(self, bases, n: int) -> np.ndarray:
        if not self.absolute:
            return np.ones(n)
        if bases is None:
            raise ValueError(
                "an absolute rule decides on the current lr: give the schedule's value at each report "
                "(update(state, metric, base=s(t)), scales(metrics, bases=...))"
            )
        arr = np.atleast_1d(np.asarray(bases, dtype=np.float64))
        if arr.shape != (n,) or not np.isfinite(arr).all() or (arr < 0).any():
            raise ValueError(f"bases must be {n} finite values >= 0, got {v.show(bases)}")
        return arr

    def update(self, state: PlateauState, metric, base=None) -> PlateauState:
        """The state after one more report of ``metric`` (one per epoch, say).

        ``base``: the schedule's value at the report, which an ``absolute`` rule decides on.
        """
        if not isinstance(state, PlateauState):
            raise TypeError(f"state must be a PlateauState, got {v.show(state)}")
        best, bad, cool, scale = self._decide(
            state.best,
            state.bad_epochs,
            state.cooldown_left,
            state.scale,
            _metric(metric),
            float(self._bases(base, 1)[0]),
        )
        return PlateauState(float(best), int(bad), int(cool), float(scale), state.reports + 1)

    def scales(self, metrics, state: PlateauState | None = None, bases=None) -> np.ndarray:
        """The scale in force after 0, 1, ..., len(metrics) reports (one array).

        ``bases``: the schedule's value at each report (an ``absolute`` rule needs them).
        """
        state = self.init() if state is None else state
        arr = _metrics(metrics)
        bases = self._bases(bases, arr.size).tolist()
        out = np.empty(arr.size + 1)
        out[0] = scale = state.scale
        best, bad, cool = state.best, state.bad_epochs, state.cooldown_left
        for k, metric in enumerate(arr.tolist()):
            best, bad, cool, scale = self._decide(best, bad, cool, scale, metric, bases[k])
            out[k + 1] = scale
        return out

    def replay(self, schedule: Schedule, metrics, steps_per_epoch: int, n: int | None = None) -> np.ndarray:
        """The learning rate of every update, given one metric reported per epoch.

        Epoch k (0-based) covers updates t = k E + 1 .. (k + 1) E, E =
        ``steps_per_epoch``, and uses the scale after k reports; ``n`` (default:
        all epochs) may run past the last report, which then stays in force.

        >>> rule = plateau(factor=0.5, patience=0)
        >>> rule.replay(constant(1.0), [3.0, 4.0, 5.0], steps_per_epoch=2).tolist()
        [1.0, 1.0, 1.0, 1.0, 0.5, 0.5]
        """
        if not isinstance(schedule, Schedule):
            raise TypeError(f"schedule must be an lrsched schedule, got {v.show(schedule)}")
        spe = v.count("steps_per_epoch", steps_per_epoch)
        k = len(_metrics(metrics))
        # report k comes after epoch k, when the lr in force is the next update's: t = (k + 1) E + 1
        bases = schedule(np.arange(1, k + 1, dtype=np.float64) * spe + 1) if self.absolute else None
        scales = self.scales(metrics, bases=bases)
        n = (scales.size - 1) * spe if n is None else v.count("n", n, minimum=0)
        values = schedule.values(n)
        for k, scale in enumerate(scales.tolist()):  # epoch k's updates use scales[k]; the last stays in force
            values[k * spe : None if k == scales.size - 1 else (k + 1) * spe] *= scale
        return values

    def to_dict(self) -> dict:
        return {"type": "plateau", **asdict(self)}

    @classmethod
    def from_dict(cls, d) -> Plateau:
        if not isinstance(d, dict) or d.get("type") != "plateau":
            raise ValueError(f"not a plateau rule config: {v.show(d)}")
        names = {f.name for f in fields(cls)}
        rest = {k: x for k, x in d.items() if k != "type"}
        unknown = set(rest) - names
        if unknown:
            raise ValueError(f"unknown plateau rule field {v.show(min(unknown, key=v.show))}")
        return cls(**rest)


def _metrics(metrics) -> np.ndarray:
    if isinstance(metrics, (str, bytes)):
        raise TypeError(f"metrics must be a list of numbers, got {v.show(metrics)}")
    arr = np.asarray(metrics)
    if arr.ndim != 1 or arr.dtype.kind not in "iuf":
        raise TypeError(f"metrics must be a 1-d list of numbers, got {v.show(metrics)}")
    return np.ascontiguousarray(arr, dtype=np.float64)


def plateau(
    mode: str = "min",
    factor: float = 0.1,
    patience: int = 10,
    threshold: float = 1e-4,
    threshold_mode: str = "rel",
    cooldown: int = 0,
    min_scale: float = 0.0,
    eps: float = 1e-8,
    absolute: bool = False,
    torch_threshold: bool = False,
) -> Plateau:
    """A reduce-on-plateau rule with torch's parameters (``min_scale`` is torch's
    ``min_lr`` divided by the base lr, and ``eps`` likewise in units of scale).

    ``absolute=True`` decides as torch does stacked on another scheduler: on the
    current lr, s(t) * scale, with ``min_scale`` read as torch's ``min_lr`` and
    ``eps`` in lr units; it needs the schedule's value at each report, which
    ``replay``, the torch adapter and the tracker supply. The relative
    threshold is measured on ``|best|`` (``torch_threshold=True``: torch's
    ``best * (1 - threshold)``, wrong for negative metrics; see the module docstring).

    >>> rule = plateau(mode="max", patience=5)
    >>> rule.mode, rule.patience, rule.factor
    ('max', 5, 0.1)
    """
    return Plateau(
        mode, factor, patience, threshold, threshold_mode, cooldown, min_scale, eps, absolute, torch_threshold
    )


#: seconds a synced ``report`` waits for every rank's report before it raises :class:`SyncError` (torch's own
#: collectives wait for the process group's timeout: 30 minutes with gloo, 10 with NCCL)
SYNC_TIMEOUT = 300.0


class SyncError(RuntimeError):
    """A synced ``report`` (``sync=True``) found that the ranks do not report together (see :func:`ranks_mean`)."""


def sync_timeout_seconds(timeout) -> float | None:
    """``sync_timeout``, checked: seconds > 0, or None (wait as long as the process group does)."""
    return None if timeout is None else v.positive("sync_timeout", timeout)


def ranks_mean(metric, index: int = 0, timeout: float | None = SYNC_TIMEOUT, what: str = "report") -> float:
    """``metric`` averaged over the processes of ``torch.distributed``'s default group, when it is initialized.

    One decision per run: every rank reports its own validation loss, and a
    rule fed the mean decides the same on every rank (DDP, accelerate and
    Lightning run one process per device). Without torch, or outside a
    process group, the metric itself. A NaN on any rank makes the mean NaN:
    a bad epoch everywhere.

    One collective, an all-gather of ``[metric, index]`` (``index``: the
    report's number, which must be the same on every rank), waited for at
    most ``timeout`` seconds. :class:`SyncError` (naming ``what``) when a rank
    does not take part in time, or takes part with another index: each rank
    then stops with a message, instead of waiting for the process group's
    timeout or pairing a report with another collective.
    """
    x = _metric(metric)
    torch = sys.modules.get("torch")
    dist = getattr(torch, "distributed", None)
    if dist is None or not (dist.is_available() and dist.is_initialized()):
        return x
    device = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else "cpu"
    mine = torch.tensor([x, float(index)], dtype=torch.float64, device=device)
    parts = [torch.empty_like(mine) for _ in range(dist.get_world_size())]
    work = dist.all_gather(parts, mine, async_op=True)
    try:
        work.wait() if timeout is None else work.wait(timeout=datetime.timedelta(seconds=timeout))
    except RuntimeError as e:
        raise SyncError(_not_in_time(what, index, timeout, dist.get_rank(), e)) from None
    gathered = torch.stack(parts).cpu().tolist()
    indices = [int(i) for _, i in gathered]
    if len(set(indices)) > 1:
        at = ", ".join(f"rank {r} at {what} {i}" for r, i in enumerate(indices))
        raise SyncError(
            f"lrsched: {what} with sync=True averages the metric over the ranks, and the ranks are at different "
            f"{what}s ({at}): every rank must call {what} the same number of times, in the same order (once per "
            "epoch, each with its own metric), from the same state (a resumed run loads the same checkpoint on "
            "every rank); sync=False decides on each rank's own metric"
        )
    return sum(m for m, _ in gathered) / len(gathered)


def _not_in_time(what: str, index: int, timeout, rank: int, error: Exception) -> str:
    waited = f"waited {timeout:g} s" if timeout is not None else "waited the process group's timeout"
    return (
        f"lrsched: {what} {index} on rank {rank} {waited} for the other ranks' {what} ({error}): with sync=True "
        f"(the default) every rank must call {what}, once per epoch and in the same order, each with its own "
        f"metric, since the decision is taken on the ranks' mean. Validating on rank 0 only? Report on every "
        "rank (the others with their own metric, or rank 0's broadcast), or use sync=False on every rank; "
        "sync_timeout= sets this wait"
    )


class PlateauTracker:
    """For a hand-written loop: a schedule, a rule and the current state.

    ``sync`` (default True): under ``torch.distributed``, each report is the
    mean of the ranks' metrics (:func:`ranks_mean`), so that every rank
    takes the same decision; every rank must then call ``report`` (see
    :meth:`report`). ``sync_timeout``: the seconds a report waits for the
    other ranks' (default :data:`SYNC_TIMEOUT`; None: the process group's).

    >>> tracker = plateau_tracker(constant(0.1), plateau(factor=0.5, patience=0))
    >>> tracker.lr(1)
    0.1
    >>> tracker.report(1.0); tracker.report(2.0)
    >>> tracker.lr(2)
    0.05
    >>> tracker.state_dict()["state"]["scale"]
    0.5
    """

    def __init__(
        self,
        schedule: Schedule,
        rule: Plateau,
        state: PlateauState | None = None,
        sync: bool = True,
        sync_timeout: float | None = SYNC_TIMEOUT,
    ):
        if not isinstance(schedule, Schedule):
            raise TypeError(f"schedule must be an lrsched schedule, got {v.show(schedule)}")
        if not isinstance(rule, Plateau):
            raise TypeError(f"rule must be a plateau rule, got {v.show(rule)}")
        if state is not None and not isinstance(state, PlateauState):
            raise TypeError(f"state must be a PlateauState (or None), got {v.show(state)}")
        self.schedule, self.rule, self.sync = schedule, rule, v.flag("sync", sync)
        self.sync_timeout = sync_timeout_seconds(sync_timeout)
        self.state = rule.init() if state is None else state

    def lr(self, t) -> float:
        return self.state.lr(self.schedule, t)

    def report(self, metric, t=None) -> None:
        """One metric (averaged over the ranks when ``sync``); ``t`` (the next update) is needed by an
        ``absolute`` rule.

        With ``sync=True`` (the default) under ``torch.distributed``, every
        rank must call ``report``: the same number of times, in the same order
        (once per epoch), each with its own metric, from the same state. A
        rank that does not report within ``sync_timeout`` seconds, or ranks at
        different reports, raise :class:`SyncError` on the ranks that did,
        naming what to do. Validating on rank 0 only: report on every rank
        anyway (the others with their own metric, or with rank 0's broadcast),
        or use ``sync=False`` on every rank.
        """
        if self.rule.absolute and t is None:
            raise ValueError("an absolute rule decides on the current lr: give report(metric, t=next update)")
        if self.sync:
            metric = ranks_mean(metric, self.state.reports, self.sync_timeout)
        self.state = self.rule.update(self.state, metric, None if t is None else self.schedule(t))

    def state_dict(self) -> dict:
        return {"state": self.state.to_dict()}

    def load_state_dict(self, d: dict) -> None:
        if not isinstance(d, dict) or "state" not in d:
            raise ValueError(f"not a plateau tracker state: expected {{'state': ...}}, got {v.show(d)}")
        self.state = PlateauState.from_dict(d["state"])


def plateau_tracker(
    schedule: Schedule,
    rule: Plateau,
    state: PlateauState | None = None,
    sync: bool = True,
    sync_timeout: float | None = SYNC_TIMEOUT,
) -> PlateauTracker:
    """A :class:`PlateauTracker` (the schedule and rule are values; the tracker holds the state)."""
    return PlateauTracker(schedule, rule, state, sync, sync_timeout)
