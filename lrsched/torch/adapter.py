"""The PyTorch adapter: real ``torch.optim.lr_scheduler`` objects driven by lrsched schedules.

This module imports torch; :mod:`lrsched.torch` loads it on first use of one
of its names, so the pure mirrors need no torch.

The clock. :class:`Scheduler` counts the optimizer updates that really
happen, with the optimizer's own step hooks (:class:`_Clock`): the k-th
``optimizer.step()`` that runs uses s(k), whether ``scheduler.step()`` is
called once per update, once per micro-batch, n times per update
(accelerate), or never, and an update that a GradScaler skips (it does not
call ``optimizer.step()``) does not advance t. ``last_epoch`` is the number
of updates done, e, and the next update is t = e + 1 (:func:`_t`, the one
place that converts). ``scheduler.step()`` only refreshes what torch's API
reports (``get_last_lr()``).

:func:`lambda_lr` keeps torch's own ``LambdaLR`` contract (it counts
``scheduler.step()`` calls) for code that needs one.
"""

from __future__ import annotations

import contextlib
import difflib
import math
import warnings
import weakref

import numpy as np
import torch

from .. import _validate as v
from ..plateau import Plateau, PlateauState, ranks_mean
from ..schedule import Schedule, as_schedule
from ..serialize import from_dict, to_dict
from ..symbols import TimeWarning, bind_run, check_run_length

__all__ = ["LambdaLR", "PlateauLR", "ScheduleFactor", "Scheduler", "lambda_lr", "plateau_lr", "scheduler"]


def _t(updates: int) -> int:
    """The update that comes after ``updates`` updates (torch's ``last_epoch`` e): t = e + 1."""
    return updates + 1


#: scheduler.step() calls with no optimizer update and no gradient anywhere before the preview warning
PREVIEW_STEPS = 20


# ---------------------------------------------------------------- param-group keys


def _is_number(x) -> bool:
    if isinstance(x, torch.Tensor):  # one floating value, as torch's capturable lr
        return x.numel() == 1 and x.is_floating_point()
    return v._is_real(x)


def _slot(optimizer, key: str, i: int) -> tuple[str, int | None]:
    """Where ``key`` lives in param group i: ``(key, None)``, or ``("betas", 0)`` for momentum in Adam-like groups.

    ``momentum`` sets a group's ``momentum`` if it has one and its ``betas[0]``
    otherwise (torch's rule in OneCycleLR and CyclicLR).
    """
    group, name = optimizer.param_groups[i], type(optimizer).__name__
    if key == "momentum" and "momentum" not in group:
        if "betas" in group:
            return ("betas", 0)
        raise ValueError(f"momentum: {name}'s param group {i} has neither 'momentum' nor 'betas' to schedule")
    if key not in group:
        numeric = sorted(k for k, x in group.items() if _is_number(x) and k != "initial_lr")
        close = difflib.get_close_matches(key, numeric, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else f"its numeric keys are {', '.join(numeric)}"
        raise ValueError(f"{key}: {name}'s param groups have no key {key!r}; {hint}")
    if not _is_number(group[key]):
        hint = " (momentum= schedules betas[0])" if key == "betas" else ""
        raise ValueError(
            f"{key}: {name}'s param group {i} holds {v.show(group[key])}, not a number: "
            f"only numeric hyperparameters follow a schedule{hint}"
        )
    return (key, None)


def _write(group, slot, x: float) -> None:
    key, index = slot
    held = group[key] if index is None else group[key][index]
    if isinstance(held, torch.Tensor):  # a tensor stays the same tensor (capturable and fused optimizers)
        held.fill_(x)
    elif index is None:
        group[key] = x
    else:
        group[key] = (*group[key][:index], x, *group[key][index + 1 :])


def _allowed(slot, x: float) -> str | None:
    """Why an update may not use ``x`` in ``slot`` (torch's optimizers refuse it at construction), or None."""
    key = slot[0]
    if not math.isfinite(x):
        return f"{key} must be finite"
    if slot == ("betas", 0):
        return None if 0 <= x < 1 else "beta1 must be in [0, 1)"
    if key in ("lr", "momentum", "weight_decay") and x < 0:
        return f"{key} must be >= 0"
    return None


def _problem(t: int, i: int, slot, x: float, s: Schedule) -> str | None:
    """Why update t may not use ``x`` (from ``s``) in ``slot`` of param group i, described; None when it may."""
    why = _allowed(slot, x)
    if why is None:
        return None
    what = "beta1" if slot == ("betas", 0) else slot[0]
    return f"lrsched: update {t} would use {what} = {x!r} in param group {i}, and {why}; the schedule {s!r} gives it"


#: torch scheduler arguments that are not param-group keys: named when given to scheduler()
_TORCH_ARGUMENTS = {
    "verbose": "lrsched schedulers print nothing; remove it",
    "epoch": "epoch= is the number of updates per epoch, a keyword of its own",
    "T_max": "T_max belongs in the schedule: cosine(peak, end, steps=T_max)",
    "step_size": "step_size belongs in the schedule: step(lr, every=step_size, factor=gamma)",
    "gamma": "gamma belongs in the schedule (step, exponential, ...)",
    "milestones": "milestones belong in the schedule: multistep(lr, milestones, factor=gamma)",
    "eta_min": "eta_min belongs in the schedule: cosine(peak, eta_min, steps=...)",
    "total_steps": "the run's length is total=",
    "num_training_steps": "the run's length is total=",
}


def _per_group(optimizer, key: str, value, name: str | None = None, run: dict | None = None) -> list:
    """``value`` for ``key`` as one schedule (or None: left alone) per param group, checked against the groups.

    A number is a constant schedule; a list or tuple gives one entry per group.
    ``name`` is the argument's name in messages (``key`` by default); ``run``
    binds the symbols ``total`` and ``epoch`` of schedules written with them.
    """
    groups, name = optimizer.param_groups, name or key
    if isinstance(value, (list, tuple)):
        if len(value) != len(groups):
            raise ValueError(f"{name} is a list of {len(value)} schedules for {len(groups)} param groups")
        entries = [(f"{name}[{i}]", x) for i, x in enumerate(value)]
    else:
        entries = [(name, value)] * len(groups)
    for label, x in entries:
        if not (x is None or isinstance(x, Schedule) or v._is_real(x)):
            hint = " (a Python function of t: lrsched.function(fn))" if callable(x) else ""
            raise TypeError(
                f"{label} must be an lrsched schedule or a number (or a list, one per param group), "
                f"got {v.show(x)}{hint}"
            )
    schedules = [None if x is None else bind_run(label, as_schedule(label, x), run or {}) for label, x in entries]
    if all(s is None for s in schedules):
        raise ValueError(f"{name} gives no schedule for any param group")
    for i, s in enumerate(schedules):
        if s is not None:
            _slot(optimizer, key, i)
    return schedules


def _optimizer(optimizer) -> torch.optim.Optimizer:
    """The torch optimizer whose updates are counted: a wrapper's (accelerate's AcceleratedOptimizer) inner one."""
    while isinstance(getattr(optimizer, "optimizer", None), torch.optim.Optimizer):
        optimizer = optimizer.optimizer
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
    return optimizer


def _start(name: str, last_epoch) -> int:
    """Updates already done for a scheduler built with ``last_epoch`` (-1 or 0: a fresh start)."""
    if isinstance(last_epoch, (bool, np.bool_)) or not isinstance(last_epoch, (int, np.integer)):
        raise TypeError(f"{name} must be an integer >= -1, got {v.show(last_epoch)}")
    if not -1 <= last_epoch <= v.MAX_COUNT:
        raise ValueError(f"{name} must be an integer in [-1, 2**53], got {v.show(last_epoch)}")
    return max(int(last_epoch), 0)


def _initial_lrs(groups, updates: int, relative: bool) -> None:
    """Each group's ``initial_lr``, which relative mode scales: on a resume it must come from the optimizer's state."""
    for i, g in enumerate(groups):
        if "initial_lr" not in g:
            if relative and updates > 0:
                raise ValueError(
                    f"relative=True with last_epoch={updates} needs param group {i}'s initial_lr: "
                    "load the optimizer's state dict first"
                )
            g["initial_lr"] = g["lr"].clone() if isinstance(g["lr"], torch.Tensor) else g["lr"]
        if relative:
            base = float(g["initial_lr"])
            if not math.isfinite(base) or base == 0:
                raise ValueError(
                    f"relative=True scales each group's initial lr, and param group {i} has initial lr {base!r}: "
                    "give the optimizer a finite, nonzero peak lr, or use relative=False"
                )


# ---------------------------------------------------------------- checkpoints


def _config_or_none(schedule):
    try:
        return to_dict(schedule)
    except TypeError:  # function(...) schedules stay as constructed
        return None


def _keep_code_schedule(schedule: Schedule, saved) -> Schedule:
    """The schedule in code, when a checkpoint brings ``saved`` (a config, or None) for it.

    A resumed run follows the code: a run extended from 300 to 600 updates, or
    given a new decay, continues on the new schedule. When the checkpoint's
    differs, a warning names the first t where the two give different values
    (or says that they differ only in form), so that a change is never silent.
    """
    if saved is None or saved == _config_or_none(schedule):
        return schedule
    try:
        theirs = from_dict(saved)
    except (TypeError, ValueError) as e:
        raise ValueError(f"the checkpoint's schedule is not a valid lrsched config: {e}") from None
    t = _first_difference(schedule, theirs)
    where = f"from t = {t} on" if t is not None else "in form only (the same values up to t = 10**7)"
    warnings.warn(
        f"lrsched: the checkpoint's schedule {theirs!r} differs from the one in code {schedule!r} {where}; "
        "the one in code is used",
        UserWarning,
        stacklevel=4,
    )
    return schedule


def _first_difference(a: Schedule, b: Schedule, horizon: int = 10**7) -> int | None:
    """The first update t (1-indexed) where ``a`` and ``b`` give different values, up to ``horizon``."""
    if a._symbols or b._symbols:
        return 1
    ends = [x.length() for x in (a, b)]
    stop = horizon if None in ends else min(int(max(ends)) + 2, horizon)
    chunk = 1 << 20
    for lo in range(1, stop + 1, chunk):
        n = min(chunk, stop - lo + 1)
        t = np.arange(lo, lo + n, dtype=np.float64)
        differ = np.flatnonzero(a(t) != b(t))
        if differ.size:
            return lo + int(differ[0])
    return None


def _keep_code_schedules(code: dict, saved) -> None:
    """Compare every key's schedules in code with a checkpoint's (a warning for each that differs)."""
    if isinstance(saved, list):  # an lr-only checkpoint of an earlier version
        saved = {"lr": saved}
    if not isinstance(saved, dict):
        raise ValueError(f"schedules: expected a dict of lists of configs, got {v.show(saved)}")
    for key in sorted(set(code) | set(saved)):
        if key not in code:
            warnings.warn(
                f"lrsched: the checkpoint also schedules {key}, the code does not: it stays as the optimizer has it",
                UserWarning,
                stacklevel=3,
            )
        elif key not in saved:
            warnings.warn(
                f"lrsched: the checkpoint does not schedule {key}; the schedule in code is used",
                UserWarning,
                stacklevel=3,
            )
        else:
            configs = saved[key]
            if not isinstance(configs, list) or len(configs) != len(code[key]):
                raise ValueError(
                    f"schedules[{key!r}]: expected a list of {len(code[key])} configs, one per param group, "
                    f"got {v.show(configs)}"
                )
            for s, config in zip(code[key], configs):
                if s is not None:
                    _keep_code_schedule(s, config)


def _field(state, name: str, check):
    """``state[name]`` through ``check``, or ValueError naming the field of a state dict that is not ours."""
    if not isinstance(state, dict):
        raise ValueError(f"not an lrsched scheduler state: expected a dict, got {v.show(state)}")
    if name not in state:
        raise ValueError(f"not an lrsched scheduler state: no {name!r} in {sorted(state)!r}")
    try:
        return check(name, state[name])
    except (TypeError, ValueError) as e:
        raise ValueError(f"scheduler state: {e}") from None


def _finite_list(name, values):
    if not isinstance(values, list):
        raise TypeError(f"{name} must be a list of numbers, got {v.show(values)}")
    return [v.real(f"{name}[{i}]", x) for i, x in enumerate(values)]


# ---------------------------------------------------------------- the clock


def _skipped(optimizer) -> bool:
    """Whether the ``optimizer.step()`` that just ran skipped its update: a GradScaler calls a fused optimizer's
    step with ``found_inf`` set (the optimizer then leaves the parameters), instead of not calling it."""
    found = getattr(optimizer, "found_inf", None)
    return isinstance(found, torch.Tensor) and bool(found.item())


class _Clock:
    """The optimizer's step hooks of one scheduler: the one place where real updates are counted.

    Before each ``optimizer.step()`` that runs, the scheduler writes the values
    of update t = updates + 1 (again: a loaded optimizer state or other code may
    have changed them) and refuses values torch would refuse; after it, the
    scheduler counts the update and sets the next one's values. The hooks hold
    the scheduler weakly: a scheduler steers while it exists, as any object
    acts while it is kept, and its hooks leave the optimizer when it is
    dropped or closed (:meth:`Scheduler.close`).
    """

    def __init__(self, scheduler):
        self._scheduler = weakref.ref(scheduler)
        opt = scheduler.optimizer
        for other in _clocks(opt):
            live = other._scheduler()
            shared = sorted(set(live.schedules) & set(scheduler.schedules)) if live is not None else []
            if shared:
                warnings.warn(
                    f"lrsched: another live scheduler already steers {', '.join(shared)} of this optimizer; both "
                    "would write it (the newer wins): close() the old one, or drop every reference to it",
                    UserWarning,
                    stacklevel=5,
                )
        self._handles = (opt.register_step_pre_hook(self._before), opt.register_step_post_hook(self._after))
        weakref.finalize(scheduler, self.detach)  # a dropped scheduler takes its hooks with it

    def _before(self, optimizer, args, kwargs):
        s = self._scheduler()
        if s is not None:
            s._before_update()

    def _after(self, optimizer, args, kwargs):
        s = self._scheduler()
        if s is not None and not _skipped(optimizer):
            s._on_update()

    def detach(self) -> None:
        """Stop steering: the scheduler no longer counts updates or writes values."""
        for h in self._handles:
            h.remove()


def _clocks(optimizer) -> list:
    """The live clocks of lrsched schedulers on ``optimizer``."""
    found = []
    for hook in optimizer._optimizer_step_pre_hooks.values():
        clock = getattr(hook, "__self__", None)
        if isinstance(clock, _Clock) and clock._scheduler() is not None:
            found.append(clock)
    return found


@contextlib.contextmanager
def paused(optimizer):
    """No lrsched scheduler counts ``optimizer``'s updates or writes its values inside (a range test's updates)."""
    held = []
    for table in (optimizer._optimizer_step_pre_hooks, optimizer._optimizer_step_post_hooks):
        hooks = {k: h for k, h in table.items() if isinstance(getattr(h, "__self__", None), _Clock)}
        for k in hooks:
            del table[k]
        held.append((table, hooks))
    try:
        yield
    finally:
        for table, hooks in held:
            table.update(hooks)


# ---------------------------------------------------------------- the core scheduler


def _run(total, epoch) -> dict:
    """The run's symbols, checked: ``total`` a count of updates, ``epoch`` updates per epoch."""
    run = {}
    if total is not None:
        run["total"] = v.count("total", total)
    if epoch is not None:
        run["epoch"] = v.positive("epoch", epoch)
    return run


class Scheduler(torch.optim.lr_scheduler.LRScheduler):
    """A real ``torch.optim.lr_scheduler.LRScheduler`` that sets each param-group key from its schedule.

    The k-th optimizer update that really happens uses ``s(k)``, to the bit,
    for every key given: ``lr``, ``momentum``, ``weight_decay`` or any other
    numeric param-group key (``eps``, Adam's ``betas`` as ``momentum``...).
    The scheduler counts ``optimizer.step()`` itself, so this holds whether
    ``scheduler.step()`` is called once per update, once per micro-batch of a
    gradient accumulation, n times per update (accelerate), or never; an update
    that a GradScaler skips does not count. Each keyword is a schedule (a
    number is a constant), or a list with one per param group (None leaves
    that group alone).

    Args:
        relative: the lr is each group's ``initial_lr`` times the schedule.
        last_epoch: the scheduler as it stands after this many updates (-1 or 0: fresh).
        total: the run's number of updates: binds the symbol ``lrsched.total`` in
            the schedules, and checks their length against the run (warnings of
            category :class:`lrsched.TimeWarning`).
        epoch: the number of updates per epoch: binds ``lrsched.epoch``.

    ``momentum`` sets a group's ``momentum`` if it has one, else its
    ``betas[0]`` (Adam, AdamW, ...), as torch's OneCycleLR and CyclicLR do.
    A key the groups do not have, or hold something other than a number
    (``nesterov``), is refused when the scheduler is built. A value that an
    update would use and torch's optimizers refuse (not finite, a negative lr,
    momentum or weight_decay, beta1 outside [0, 1)) is refused with ValueError
    by that ``optimizer.step()``.

    ``state_dict()`` holds plain JSON types (``torch.load(weights_only=True)``
    reads it), and a run resumed at any k continues exactly, in either load
    order. A checkpoint whose schedules differ from those in code: the code's
    are used, with a warning naming the first t where they differ.

    Example:
        >>> import torch
        >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0, momentum=0.9)
        >>> sched = lrsched.torch.scheduler(opt, lr=cosine(0.1, 0.0, steps=4), momentum=linear(0.85, 0.95, 4))
        >>> seen = []
        >>> for _ in range(3):
        ...     g = opt.param_groups[0]
        ...     seen.append((round(g["lr"], 12), round(g["momentum"], 12)))
        ...     opt.step()
        ...     sched.step()
        >>> seen
        [(0.085355339059, 0.875), (0.05, 0.9), (0.014644660941, 0.925)]
    """

    def __init__(
        self,
        optimizer,
        lr=None,
        *,
        momentum=None,
        weight_decay=None,
        relative: bool = False,
        last_epoch: int = -1,
        total: int | None = None,
        epoch: float | None = None,
        **other_group_keys,
    ):
        for key in other_group_keys:
            if key in _TORCH_ARGUMENTS:
                raise TypeError(f"scheduler() got {key}=: it is not a param-group key; {_TORCH_ARGUMENTS[key]}")
        opt = _optimizer(optimizer)
        run = _run(total, epoch)
        given = {"lr": lr, "momentum": momentum, "weight_decay": weight_decay, **other_group_keys}
        schedules = {key: _per_group(opt, key, x, run=run) for key, x in given.items() if x is not None}
        if not schedules:
            raise ValueError(
                "scheduler() needs at least one schedule: lr=, momentum=, weight_decay= or another param-group key"
            )
        self._setup(opt, schedules, v.flag("relative", relative), _start("last_epoch", last_epoch), run.get("total"))

    def _setup(self, optimizer, schedules: dict, relative: bool, updates: int, total) -> None:
        """``schedules``: {key: [schedule or None per param group]}, checked; ``updates``: how many are done."""
        self.schedules, self.relative, self.total = schedules, relative, total
        self._slots = {
            key: [None if s is None else _slot(optimizer, key, i) for i, s in enumerate(per_group)]
            for key, per_group in schedules.items()
        }
        self._next, self._problem = None, None
        self._idle_steps, self._warned, self._saw_gradient = 0, set(), False
        _initial_lrs(optimizer.param_groups, updates, relative)
        self.optimizer, self._clock = optimizer, None
        self._clock = _Clock(self)
        super().__init__(optimizer, updates)  # torch's set-up: last_epoch (the one count of updates), then our step()
        if total is not None:
            for s in schedules.get("lr", []):
                if s is not None:
                    check_run_length(s, total)

    # ------------------------------------------------ values of the next update

    def _lr_scale(self) -> float:
        return 1.0

    def _values(self, t: int) -> list:
        """Every scheduled (group, slot, value, schedule) of update t."""
        out = []
        for key, per_group in self.schedules.items():
            for i, (s, slot) in enumerate(zip(per_group, self._slots[key])):
                if s is None:
                    continue
                x = s(t)
                if key == "lr":
                    base = float(self.base_lrs[i]) if self.relative else 1.0
                    x = base * x * self._lr_scale()
                out.append((i, slot, x, s))
        return out

    def _apply(self) -> None:
        """Write the values of the next update into the param groups (computed once per update)."""
        t = _t(self.last_epoch)
        if self._next is None or self._next[0] != t:
            values = self._values(t)
            problem = next((p for i, slot, x, s in values if (p := _problem(t, i, slot, x, s))), None)
            self._next, self._problem = (t, values), problem
        groups = self.optimizer.param_groups
        if self._clock is not None:  # a closed scheduler writes nothing
            for i, slot, x, _ in self._next[1]:
                _write(groups[i], slot, x)
        self._last_lr = [g["lr"].clone() if isinstance(g["lr"], torch.Tensor) else g["lr"] for g in groups]

    def _refresh(self) -> None:
        """Recompute the next update's values (the scale or the checkpoint changed)."""
        self._next = None
        self._apply()

    # ------------------------------------------------ the clock's two events

    def _before_update(self) -> None:
        self._apply()
        if self._problem is not None:
            raise ValueError(self._problem)

    def _on_update(self) -> None:
        self.last_epoch += 1
        if self.total is not None and self.last_epoch > self.total and "total" not in self._warned:
            self._warned.add("total")
            warnings.warn(
                f"lrsched: update {self.last_epoch} is past the run's total of {self.total} updates that the "
                "schedules were bound to: the run is longer than planned (is total= the number of optimizer "
                "updates, after gradient accumulation and across processes?)",
                TimeWarning,
                stacklevel=4,
            )
        self._apply()

    # ------------------------------------------------ torch's API

    def get_lr(self):
        """The lrs of the next update."""
        t, groups = _t(self.last_epoch), self.optimizer.param_groups
        lrs = [g["lr"] for g in groups]
        for i, slot, x, _ in self._values(t):
            if slot == ("lr", None):
                lrs[i] = x
        return lrs

    def step(self, epoch=None):
        """Refresh ``get_last_lr()``; the clock itself counts ``optimizer.step()`` (call this as torch's loops do)."""
        if epoch is not None:
            raise TypeError(self._no_epoch(epoch))
        self._step_count += 1
        if self.last_epoch == 0 and self._step_count > 1 and "preview" not in self._warned:
            self._idle_steps += 1
            self._saw_gradient = self._saw_gradient or self._any_gradient()  # a skipped update, not a preview
            if self._idle_steps >= PREVIEW_STEPS and not self._saw_gradient:
                self._warned.add("preview")
                warnings.warn(
                    f"lrsched: scheduler.step() was called {self._idle_steps} times and the optimizer has made "
                    "no update: the schedule follows optimizer updates, so the lr stays at s(1). To preview a "
                    "schedule, use s.values(n) or lrsched.plot(s, n)",
                    TimeWarning,
                    stacklevel=2,
                )
        self._apply()

    def close(self) -> None:
        """Stop steering the optimizer: its hooks are removed, and no update is counted or value written."""
        if self._clock is not None:
            self._clock.detach()
            self._clock = None

    def _any_gradient(self) -> bool:
        return any(p.grad is not None for g in self.optimizer.param_groups for p in g["params"])

    def _no_epoch(self, epoch) -> str:
        return f"{type(self).__name__}.step() counts updates and takes no argument, got {epoch!r}"

    def state_dict(self):
        return {
            "last_epoch": self.last_epoch,
            "_step_count": self._step_count,
            "base_lrs": [float(b) for b in self.base_lrs],
            "_last_lr": [float(x) for x in self._last_lr],
            "relative": self.relative,
            "schedules": {
                key: [None if s is None else _config_or_none(s) for s in per_group]
                for key, per_group in self.schedules.items()
            },
        }

    def load_state_dict(self, state):
        updates = _field(state, "last_epoch", lambda n, x: v.whole(n, x, 0))
        step_count = _field(state, "_step_count", lambda n, x: v.whole(n, x, 0))
        base_lrs = _field(state, "base_lrs", _finite_list)
        if len(base_lrs) != len(self.optimizer.param_groups):
            raise ValueError(
                f"scheduler state: base_lrs has {len(base_lrs)} entries for "
                f"{len(self.optimizer.param_groups)} param groups"
            )
        if _field(state, "relative", v.flag) != self.relative:
            raise ValueError(f"scheduler state: relative={state['relative']!r}, and the code has {self.relative!r}")
        _keep_code_schedules(self.schedules, _field(state, "schedules", lambda n, x: x))
        self.last_epoch, self._step_count, self.base_lrs = updates, step_count, base_lrs
        self._refresh()  # the next update, from the code's schedules

    def __getstate__(self):  # torch.save(scheduler): the hooks stay with the optimizer
        state = dict(self.__dict__)
        state["_clock"] = None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._clock = _Clock(self)

    def __repr__(self):
        keys = ", ".join(f"{k}={_shown(per_group)}" for k, per_group in self.schedules.items())
        return f"{type(self).__name__}({keys}, last_epoch={self.last_epoch})"


def _shown(per_group) -> str:
    return repr(per_group[0]) if all(s is per_group[0] for s in per_group) else repr(per_group)


# ---------------------------------------------------------------- plateau


class PlateauLR(Scheduler):
    """A torch scheduler that follows ``schedule`` times a reduce-on-plateau ``rule``.

    Call ``report(metric)`` once per epoch (say, with the validation loss); the
    k-th optimizer update that really happens uses ``schedule(k) * scale``
    (``initial_lr * schedule(k) * scale`` when ``relative``), the scale
    changing from the update after a report. It is a :func:`scheduler` for
    the lr, with the same clock, checks and ``total=`` / ``epoch=``;
    ``step()`` may be called as torch's loops do. ``state_dict()`` holds
    plain data only (``torch.load(weights_only=True)`` reads it) and
    ``load_state_dict`` resumes exactly.

    ``sync`` (default True): under ``torch.distributed`` (DDP, accelerate,
    Lightning), ``report`` decides on the mean of the ranks' metrics, all-reduced
    over the default group, so every rank takes the same decision (every rank
    must call ``report``); False decides on each rank's own metric.

    Example:
        >>> import torch
        >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
        >>> s = warmup(cosine(0.1, 0.001, steps=90), steps=10)
        >>> sched = lrsched.torch.plateau_lr(opt, s, plateau(factor=0.5, patience=0))
        >>> for epoch, val_loss in enumerate([1.0, 2.0]):
        ...     for _ in range(5):
        ...         opt.step()
        ...         sched.step()
        ...     sched.report(val_loss)
        >>> opt.param_groups[0]["lr"] == 0.5 * s(11)
        True
    """

    def __init__(
        self, optimizer, schedule, rule: Plateau, relative=False, last_epoch=-1, total=None, epoch=None, sync=True
    ):
        opt = _optimizer(optimizer)
        self.sync = v.flag("sync", sync)
        if not isinstance(rule, Plateau):
            raise TypeError(f"rule must be an lrsched plateau rule, got {v.show(rule)}")
        run = _run(total, epoch)
        schedules = _per_group(opt, "lr", schedule, "schedule", run)
        if any(s is None for s in schedules):
            raise TypeError("schedule must give a schedule for every param group")
        relative = v.flag("relative", relative)
        if rule.absolute and (relative or any(s != schedules[0] for s in schedules)):
            raise ValueError(
                "an absolute plateau rule decides on one current lr: give one schedule for every param group "
                "and relative=False"
            )
        self.rule, self.plateau = rule, rule.init()
        self._setup(opt, {"lr": schedules}, relative, _start("last_epoch", last_epoch), run.get("total"))

    def _lr_scale(self) -> float:
        return self.plateau.scale

    def _no_epoch(self, epoch) -> str:
        return (
            f"PlateauLR.step() counts updates and takes no argument, got {epoch!r}: report the metric "
            "with scheduler.report(metric) (torch's ReduceLROnPlateau.step(metric) is report here)"
        )

    def report(self, metric) -> None:
        """One metric (once per epoch; the ranks' mean when ``sync``): may lower the scale from the next update on."""
        base = self.schedules["lr"][0](_t(self.last_epoch)) if self.rule.absolute else None
        self.plateau = self.rule.update(self.plateau, ranks_mean(metric) if self.sync else metric, base)
        self._refresh()

    def state_dict(self):
        return {**super().state_dict(), "plateau": self.plateau.to_dict(), "rule": self.rule.to_dict()}

    def load_state_dict(self, state):
        try:
            plateau = PlateauState.from_dict(_field(state, "plateau", lambda n, x: x))
            saved = _field(state, "rule", lambda n, x: x)
            rule = Plateau.from_dict({"torch_threshold": self.rule.torch_threshold, **saved})  # older: no such key
        except (TypeError, ValueError) as e:
            raise ValueError(f"scheduler state: {e}") from None
        if rule != self.rule:  # as for schedules: the code's rule is used, and a change is never silent
            warnings.warn(
                f"lrsched: the checkpoint's plateau rule {rule!r} differs from the one in code {self.rule!r}; "
                "the one in code is used (the checkpoint's state, its scale and counters, is kept)",
                UserWarning,
                stacklevel=2,
            )
        self.plateau = plateau
        super().load_state_dict(state)


# ---------------------------------------------------------------- torch's own LambdaLR


class ScheduleFactor:
    """The ``lr_lambda`` of :func:`lambda_lr`: ``schedule(t)`` at t = last_epoch + 1.

    torch's LambdaLR saves a callable object's ``__dict__`` in its
    ``state_dict``; this one keeps only the schedule's config there (plain JSON
    types, so ``torch.load(..., weights_only=True)`` reads it) and the live
    schedule in a slot. :meth:`LambdaLR.load_state_dict` compares a loaded
    config with the schedule in code (:meth:`restore`).
    """

    __slots__ = ("__dict__", "_schedule")

    def __init__(self, schedule: Schedule):
        self.config = _config_or_none(schedule)  # None for a function(...) schedule: kept as given
        self._schedule = schedule

    @property
    def schedule(self) -> Schedule:
        return self._schedule

    def restore(self) -> None:
        """After torch loaded a checkpoint's config into ``__dict__``: keep the code's schedule, warn if they differ."""
        saved, self.config = self.__dict__.get("config"), _config_or_none(self._schedule)
        _keep_code_schedule(self._schedule, saved)

    def __call__(self, epoch: int) -> float:
        return self._schedule(_t(epoch))

    def __repr__(self) -> str:
        return f"ScheduleFactor({self._schedule!r})"


class _Guard:
    """A step pre-hook refusing an ``optimizer.step()`` whose lr the LambdaLR found unusable (it says why)."""

    def __init__(self, scheduler):
        self._scheduler = weakref.ref(scheduler)
        self._handle = scheduler.optimizer.register_step_pre_hook(self._before)

    def _before(self, optimizer, args, kwargs):
        s = self._scheduler()
        if s is not None and s._problem is not None:
            raise ValueError(s._problem)


class LambdaLR(torch.optim.lr_scheduler.LambdaLR):
    """A real ``torch.optim.lr_scheduler.LambdaLR`` that follows ``schedule``.

    It keeps torch's LambdaLR contract: it counts ``scheduler.step()`` calls,
    not optimizer updates, so call it once per update (no accumulation, no
    skipped updates); :func:`scheduler` counts the updates themselves. In the
    canonical loop (``optimizer.step(); scheduler.step()``) the k-th
    ``optimizer.step()`` uses ``schedule(k)`` exactly, whatever lr the
    optimizer was created with, or ``initial_lr * schedule(k)`` when
    ``relative``. A list gives one schedule per param group. ``state_dict`` /
    ``load_state_dict`` and ``torch.save`` / ``torch.load`` work, and a run
    resumed at any k continues with the learning rates of an uninterrupted
    run. A non-finite or negative lr is refused by ``optimizer.step()``.

    In absolute mode the scheduler's ``base_lrs`` are 1.0 (so torch's
    ``base_lr * factor`` is the schedule's value to the bit); the groups'
    ``initial_lr`` is left alone (set to the group's lr where missing).

    ``last_epoch=k`` builds the scheduler as it stands after k updates: the
    next ``optimizer.step()`` uses ``schedule(k + 1)`` and ``last_epoch`` is k,
    as in an uninterrupted run (torch's own ``LambdaLR(last_epoch=k)`` would
    jump to its factor at k + 1, one update ahead). -1 and 0 both mean a fresh
    start. With ``relative=True`` each group needs its ``initial_lr`` (load the
    optimizer's state first).

    Example:
        >>> import torch
        >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=123.0)
        >>> sched = lambda_lr(opt, warmup(constant(0.1), steps=10))
        >>> lrs = []
        >>> for _ in range(3):
        ...     lrs.append(opt.param_groups[0]["lr"])
        ...     opt.step()
        ...     sched.step()
        >>> [round(x, 12) for x in lrs]
        [0.01, 0.02, 0.03]
    """

    def __init__(self, optimizer, schedule, relative=False, last_epoch=-1, total=None, epoch=None):
        opt = _optimizer(optimizer)
        run = _run(total, epoch)
        schedules = _per_group(opt, "lr", schedule, "schedule", run)
        if any(s is None for s in schedules):
            raise TypeError("schedule must give a schedule for every param group")
        relative = v.flag("relative", relative)
        updates = _start("last_epoch", last_epoch)
        _initial_lrs(opt.param_groups, updates, relative)
        if total is not None:
            for s in schedules:
                check_run_length(s, run["total"])
        self._problem = None
        super().__init__(opt, [ScheduleFactor(s) for s in schedules], last_epoch=updates - 1 if updates else -1)
        self._guard = _Guard(self)
        if not relative:  # torch's constructor applied base_lr * factor with the optimizer's own lrs
            self.base_lrs = [1.0] * len(opt.param_groups)
        self._set()

    def step(self, epoch=None):
        if epoch is not None:
            raise TypeError(f"LambdaLR.step() counts updates and takes no argument, got {epoch!r}")
        super().step()
        self._check()

    def _check(self):
        t, groups, problem = _t(self.last_epoch), self.optimizer.param_groups, None
        for i, (g, f) in enumerate(zip(groups, self.lr_lambdas)):
            problem = problem or _problem(t, i, ("lr", None), float(g["lr"]), f.schedule)
        self._problem = problem

    def _set(self):
        """The groups' lrs now, outside ``step``: base_lr * factor for the next update."""
        for g, b, f in zip(self.optimizer.param_groups, self.base_lrs, self.lr_lambdas):
            _write(g, ("lr", None), b * f(self.last_epoch))
        self._last_lr = [float(g["lr"]) for g in self.optimizer.param_groups]
        self._check()

    def load_state_dict(self, state_dict):
        last = _field(state_dict, "last_epoch", lambda n, x: v.whole(n, x, -1))
        _field(state_dict, "base_lrs", _finite_list)
        lambdas = _field(state_dict, "lr_lambdas", lambda n, x: x)
        if not isinstance(lambdas, list) or len(lambdas) != len(self.lr_lambdas):
            raise ValueError(f"scheduler state: lr_lambdas must be a list of {len(self.lr_lambdas)} entries")
        super().load_state_dict({**state_dict, "last_epoch": last})
        for f in self.lr_lambdas:
            f.restore()
        self._set()  # the schedule in code (checked against the checkpoint's, warned if it differs)

    def state_dict(self):
        state = super().state_dict()
        for key in ("_guard", "_problem"):
            state.pop(key, None)
        return state

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_guard", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._guard = _Guard(self)


#: the public spellings: each class is its own constructor
scheduler, plateau_lr, lambda_lr = Scheduler, PlateauLR, LambdaLR
