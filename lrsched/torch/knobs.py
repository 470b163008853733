"""What a :class:`~lrsched.torch.update_scheduler.Scheduler` drives besides param-group keys, and its unit clock.

- :class:`Driven`: any attribute of any object (a dropout's ``p``, an EMA's
  ``decay``, a batch sampler's ``batch_size``) on the scheduler's clock
  (``scheduler.drive(obj, name, s)``).
- :class:`Units`: a clock in samples, tokens or any unit
  (``scheduler(..., unit="tokens")`` and ``scheduler.consume(n)``): the k-th
  real update uses s(1 + the units consumed by the real updates before it).
- :func:`schedule_free_warning`: a decaying schedule on an optimizer built to
  run without one (schedulefree's, heavyball's), said once.

This module imports torch.
"""

from __future__ import annotations

import datetime
import warnings
import weakref

import numpy as np
import torch

from .. import _validate as v
from ..binding import TimeWarning

#: the horizon, in clock units, over which a schedule that never settles is read for a decay (no total= given)
DECAY_HORIZON = 10**6
#: seconds the first consume() under torch.distributed waits for the other ranks' first consume
CONSUME_TIMEOUT = 300.0


class ScheduleFreeWarning(TimeWarning):
    """A decaying schedule drives an optimizer meant to run without one (schedule-free, or with its own warmup)."""


# ---------------------------------------------------------------- any attribute of any object


class Driven:
    """``obj.name`` set from ``schedule`` on a scheduler's clock (see ``Scheduler.drive``).

    ``after``: False, ``obj.name`` is s(k) from the end of update k - 1 to the
    end of update k (what update k's forward, backward and step see); True,
    s(k) right after the k-th real update. ``integer``: the attribute was an
    int, and gets an int (the schedule's values must then be whole numbers).
    """

    __slots__ = ("after", "dropout", "integer", "label", "name", "obj", "schedule")

    def __init__(self, obj, name: str, schedule, after: bool, label: str):
        self.obj, self.name, self.schedule, self.after, self.label = obj, name, schedule, after, label
        held = getattr(obj, name)
        self.integer = isinstance(held, int) and not isinstance(held, bool)
        self.dropout = name == "p" and isinstance(obj, torch.nn.modules.dropout._DropoutNd)

    def value(self, x: float, where: str):
        """The value to set for ``x`` (an int for an int attribute), or ValueError naming what refuses it."""
        why = None
        if self.dropout and not 0.0 <= x <= 1.0:
            why = f"{type(self.obj).__name__}'s p is a probability, in [0, 1]"
        elif self.integer:
            if not float(x).is_integer():
                why = "it was an int, and the value is not a whole number (write the schedule with whole values)"
            else:
                x = int(x)
        if why:
            raise ValueError(
                f"lrsched: {where} would set {self.label} = {x!r}, and {why}; the schedule {self.schedule!r} gives it"
            )
        return x

    def set(self, x, where: str) -> None:
        try:
            setattr(self.obj, self.name, x)
        except (ValueError, TypeError, AttributeError) as e:
            raise ValueError(
                f"lrsched: {where} would set {self.label} = {x!r}, and {type(self.obj).__name__} refused it "
                f"({type(e).__name__}: {e}); the schedule {self.schedule!r} gives it"
            ) from None


def driven_label(obj, name, label, taken) -> str:
    """The name a driven attribute is saved under: ``label``, or ``"<class>.<name>"``; refused when taken."""
    if not isinstance(name, str) or not name.isidentifier():
        raise TypeError(f"drive(): name must be an attribute name (a str), got {v.show(name)}")
    if not hasattr(obj, name):
        raise AttributeError(f"drive(): {type(obj).__name__} object has no attribute {name!r} to drive")
    label = f"{type(obj).__name__}.{name}" if label is None else label
    if not isinstance(label, str) or not label:
        raise TypeError(f"drive(): label must be a non-empty str, got {v.show(label)}")
    if label in taken:
        raise ValueError(
            f"drive(): {label!r} is driven already (the state dict saves each driven attribute by this name): "
            "give this one another label=, or drive each attribute once"
        )
    return label


# ---------------------------------------------------------------- Adam's betas, and relative keys


def betas_keys(betas) -> dict:
    """``betas=(b1, b2)`` as the keys ``beta1`` and ``beta2`` (None: that one left alone)."""
    if betas is None:
        return {}
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise TypeError(f"betas must be a pair (beta1, beta2), each a schedule, a number or None, got {v.show(betas)}")
    for name, x in zip(("beta1", "beta2"), betas):
        if isinstance(x, tuple):
            raise TypeError(
                f"betas: {name} is a tuple {v.show(x)}; betas=(beta1, beta2) takes one schedule each (one per "
                "param group: a list)"
            )
    return {"beta1": betas[0], "beta2": betas[1]}


def relative_keys(relative, scheduled) -> frozenset:
    """The keys scaled by each group's own initial value: ``True`` is the lr alone, as before; a set names them."""
    if isinstance(relative, (bool, np.bool_)):
        return frozenset({"lr"}) if relative else frozenset()
    wrong = f"relative must be True, False or a set of scheduled keys, got {v.show(relative)}"
    if isinstance(relative, str) or not isinstance(relative, (set, frozenset, list, tuple)):
        raise TypeError(wrong)
    try:
        keys = frozenset(relative)
    except TypeError:  # a list holding lists
        raise TypeError(wrong) from None
    for key in sorted(keys, key=v.show):
        if key not in scheduled:
            raise ValueError(
                f"relative: {v.show(key)} is not a scheduled key (scheduled: {', '.join(sorted(scheduled))})"
            )
        if key in ("beta1", "beta2"):
            raise ValueError(f"relative: {key} is a decay rate, not a scale: schedule its values")
    return keys


# ---------------------------------------------------------------- the unit clock


class Units:
    """A clock in ``unit`` (samples, tokens...): the units of each real update, counted with ``consume(n)``.

    ``done``: the units consumed by the real updates done; update k uses
    s(1 + done) with done counted before it. ``pending``: units reported since
    the last real update, credited to the next real update. Units of an update
    the optimizer skipped (a GradScaler overflow) are dropped, as Megatron's
    ``train_step`` steps its scheduler only when ``update_successful``: a
    fused optimizer's skipped step drops them at once; a non-fused one, which
    GradScaler does not step at all, is seen at the next report, when a
    backward ran since the units were reported and the gradients were then
    cleared (``zero_grad()``, which sets them to None by default) with no real
    update in between. (With ``zero_grad(set_to_none=False)`` such units are
    credited to the next real update.)
    """

    __slots__ = (
        "__weakref__",
        "_backward",
        "_grad",
        "_hook",
        "before_last",
        "done",
        "pending",
        "reports",
        "skipped",
        "unit",
    )

    def __init__(self, unit: str):
        self.unit = unit
        self.done, self.before_last, self.pending, self.skipped, self.reports = 0, 0, 0, 0, 0
        self._grad, self._backward, self._hook = None, False, None

    def position(self) -> int:
        return 1 + self.done

    def watch(self, optimizer) -> None:
        """Note each backward into param group 0's first trainable parameter (a post-accumulate-grad hook)."""
        p = first_trainable(optimizer)
        if p is not None and self._hook is None:
            self._hook = p.register_post_accumulate_grad_hook(BackwardSeen(self))

    def close(self) -> None:
        if self._hook is not None:
            self._hook.remove()
            self._hook = None

    def consume(self, n: int, optimizer) -> None:
        p = first_trainable(optimizer)
        grad = None if p is None else p.grad
        if self.pending and self._cleared(grad):
            self.skipped += self.pending  # a backward, then the gradients cleared with no real update: skipped
            self.pending = 0
        self.pending += n
        self.reports += 1
        self._backward = False
        self._grad = weakref.ref(grad) if grad is not None else None

    def _cleared(self, grad) -> bool:
        """Whether the gradients were cleared since the last report (``grad``: the watched one now): the one seen
        then is gone or replaced, or there was none, a backward ran, and there is none now."""
        if self._grad is not None:
            return grad is None or grad is not self._grad()
        return grad is None and self._backward

    def on_update(self) -> None:
        self.before_last, self.done, self.pending = self.done, self.done + self.pending, 0
        self._grad, self._backward = None, False

    def on_skip(self) -> None:
        self.skipped, self.pending = self.skipped + self.pending, 0
        self._grad, self._backward = None, False

    def __getstate__(self):  # pickled with the scheduler: the counts, not the gradient seen or the hook
        return {"state": self.state(), "skipped": self.skipped, "reports": self.reports}

    def __setstate__(self, saved):
        self.unit, self.skipped, self.reports = saved["state"]["unit"], saved["skipped"], saved["reports"]
        self._hook = None
        self.load(saved["state"])

    def state(self) -> dict:
        return {"unit": self.unit, "done": self.done, "before_last": self.before_last, "pending": self.pending}

    def load(self, state) -> None:
        if not (isinstance(state, dict) and isinstance(state.get("unit"), str) and state["unit"] == self.unit):
            saved = state.get("unit") if isinstance(state, dict) else state
            raise ValueError(
                f"scheduler state: the checkpoint's clock counts {v.show(saved)}, and the code's counts "
                f"{self.unit!r} (unit=): resume with the unit the run was made with"
            )
        counts = {k: _count(f"units.{k}", state.get(k)) for k in ("done", "before_last", "pending")}
        if counts["before_last"] > counts["done"]:
            raise ValueError(f"scheduler state: units.before_last {counts['before_last']} > units.done")
        self.done, self.before_last, self.pending = counts["done"], counts["before_last"], counts["pending"]
        self._grad, self._backward = None, False


class BackwardSeen:
    """The post-accumulate-grad hook of :class:`Units`: a backward reached the watched parameter."""

    __slots__ = ("units",)

    def __init__(self, units: Units):
        self.units = weakref.ref(units)

    def __call__(self, param) -> None:
        units = self.units()
        if units is not None:
            units._backward = True


def _count(name, x) -> int:
    try:
        return v.whole(name, x, 0)
    except (TypeError, ValueError) as e:
        raise ValueError(f"scheduler state: {e}") from None


def units_reported(n) -> int:
    """``consume(n)``'s n: a whole number >= 0 (an int, a whole float, a one-element integer tensor)."""
    if isinstance(n, torch.Tensor):
        if n.numel() != 1 or n.is_floating_point() or n.is_complex() or n.dtype == torch.bool:
            raise TypeError(f"consume(n): n must be a whole number, got a tensor of {n.numel()} {n.dtype} values")
        n = int(n.item())
    try:
        return v.count("consume(n): n", n, minimum=0)
    except (TypeError, ValueError) as e:
        raise type(e)(f"{e} (the units of this batch or micro-batch, counted over every rank)") from None


def first_trainable(optimizer):
    """Param group 0's first trainable parameter, whose gradient the unit clock watches (None: none)."""
    for p in optimizer.param_groups[0]["params"]:
        if p.requires_grad:
            return p
    return None


def ranks_disagree(n: int, unit: str) -> str | None:
    """Under torch.distributed, the first consume's n of every rank (one all-gather): a message when they differ."""
    dist = torch.distributed
    if not (dist.is_available() and dist.is_initialized()):
        return None
    device = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else "cpu"
    mine = torch.tensor([n], dtype=torch.int64, device=device)
    parts = [torch.empty_like(mine) for _ in range(dist.get_world_size())]
    work = dist.all_gather(parts, mine, async_op=True)
    try:
        work.wait(timeout=datetime.timedelta(seconds=CONSUME_TIMEOUT))
    except RuntimeError as e:
        from ..plateau import SyncError

        raise SyncError(
            f"lrsched: the first consume() on rank {dist.get_rank()} waited {CONSUME_TIMEOUT:g} s for the other "
            f"ranks' ({e}): under torch.distributed every rank calls consume(n), with the same global n"
        ) from None
    counts = [int(x.item()) for x in parts]
    if len(set(counts)) == 1:
        return None
    seen = ", ".join(f"{c} on rank {r}" for r, c in enumerate(counts))
    return (
        f"lrsched: consume(n) got n = {seen}: n is the global count of {unit} (the whole batch, summed over the "
        f"ranks), the same on every rank; with each rank's own count the ranks' clocks part, and so do their lrs. "
        f"Sum it first (torch.distributed.all_reduce), or count it from the global batch"
    )


# ---------------------------------------------------------------- length checks in the clock's unit


def shown(x: float) -> str:
    """A position on a unit clock: 100, not 100.0."""
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def check_unit_length(schedule, total: int, unit: str) -> list[str]:
    """:func:`lrsched.binding.check_run_length`'s two checks, said in ``unit`` (the run is ``total`` of them)."""
    end, found = schedule.length(), []
    if end is None:
        return found
    if end > total:
        found.append(
            f"lrsched: {schedule!r} settles at {unit} {shown(end)}, after the run's last ({total} {unit}): the run "
            "ends before the schedule does"
        )
    elif 1 <= end < total / 2:
        top, final = peak(schedule, end), schedule(end)
        if final < top:
            found.append(
                f"lrsched: {schedule!r} reaches its final value {final!r} at {unit} {shown(end)}, before half of the "
                f"run ({total} {unit}), below its peak {top!r}: were its durations written in updates or epochs, "
                f"where {unit} were meant?"
            )
    for text in found:
        warnings.warn(text, TimeWarning, stacklevel=5)
    return found


def peak(schedule, stop: float) -> float:
    """The schedule's largest value on [1, stop]: at its breakpoints (where known) and 2049 even points."""
    grid = np.linspace(1.0, max(float(stop), 1.0), 2049)
    try:
        bounds = [b for b in schedule.breakpoints(stop) if 1 <= b <= stop]
    except ValueError:  # a function or a rounded value: no known structure, the grid alone
        bounds = []
    ts = np.unique(np.concatenate([grid, bounds]))
    return float(np.max(schedule(ts)))


# ---------------------------------------------------------------- schedule-free optimizers


def schedule_free_kind(optimizer) -> str | None:
    """Why ``optimizer`` should run without a decaying schedule, from its class alone (nothing is imported)."""
    for cls in type(optimizer).__mro__:
        module = getattr(cls, "__module__", "") or ""
        if "ScheduleFree" in cls.__name__ or module.split(".")[0] == "schedulefree":
            return f"{type(optimizer).__name__} is schedule-free: it averages its iterates in place of a decay"
    top = (type(optimizer).__module__ or "").split(".")[0]
    if top == "heavyball" and "SF" in type(optimizer).__name__:
        return f"{type(optimizer).__name__} is schedule-free: it averages its iterates in place of a decay"
    if top == "heavyball":
        steps = max((g.get("warmup_steps", 0) or 0 for g in optimizer.param_groups), default=0)
        if isinstance(steps, (int, float)) and steps > 0:
            return f"heavyball's {type(optimizer).__name__} warms up on its own (warmup_steps={steps})"
    return None


def decays(schedule, horizon: float) -> bool:
    """Whether ``schedule`` ends below its peak: at its length when it settles, else at ``horizon``."""
    end = schedule.length()
    stop = float(end) if end is not None else float(horizon)
    if stop < 1:
        return False
    top = peak(schedule, stop)
    return float(schedule(stop)) < top * (1 - 1e-12) if top > 0 else float(schedule(stop)) < top


def schedule_free_warning(optimizer, schedules, total, unit: str) -> str | None:
    """Warn once when a decaying lr schedule drives a schedule-free (or self-warming) optimizer; the message."""
    why = schedule_free_kind(optimizer)
    if why is None:
        return None
    horizon = total if total is not None else DECAY_HORIZON
    for s in schedules:
        if s is not None and decays(s, horizon):
            text = (
                f"lrsched: {why}, and the lr schedule {s!r} decays (it ends below its peak, by {unit} "
                f"{shown(s.length() or horizon)}): these optimizers are meant to run on a constant lr (a warmup "
                "then a constant is fine). Drop the decay, or use a usual optimizer for a decaying schedule"
            )
            warnings.warn(text, ScheduleFreeWarning, stacklevel=5)
            return text
    return None
