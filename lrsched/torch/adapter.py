"""The PyTorch adapter: real ``torch.optim.lr_scheduler`` objects driven by lrsched schedules.

Index convention: torch's ``last_epoch`` e = 0 prepares the first
``optimizer.step()``; lrsched's t = 1 is that same update, so t = e + 1.
:func:`_t` is the one place that converts it.

One core, :class:`Scheduler`, sets any numeric param-group key (lr,
momentum or Adam's beta1, weight_decay, ...) from one schedule per key and
group; :class:`PlateauLR` adds a reduce-on-plateau scale to its lr.
:func:`lambda_lr` keeps torch's own ``LambdaLR`` for code that expects one.
All three check their schedules with :func:`_per_group`. torch is imported
when a scheduler is built, not when this module is.
"""

from __future__ import annotations

import difflib
import warnings
import weakref

import numpy as np

from .. import _validate as v
from ..plateau import Plateau, PlateauState
from ..schedule import Schedule, as_schedule
from ..serialize import from_dict, to_dict

__all__ = ["ScheduleFactor", "lambda_lr", "plateau_lr", "scheduler"]


def _t(last_epoch: int) -> int:
    """The update that torch's ``last_epoch`` e prepares: t = e + 1."""
    return last_epoch + 1


# ---------------------------------------------------------------- param-group keys


def _is_number(x) -> bool:
    if hasattr(x, "is_floating_point"):  # a torch tensor: one floating value, as torch's capturable lr
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
    if hasattr(held, "fill_"):  # a tensor stays the same tensor (torch's capturable and fused optimizers)
        held.fill_(x)
    elif index is None:
        group[key] = x
    else:
        group[key] = (*group[key][:index], x, *group[key][index + 1 :])


def _allowed(slot, x: float) -> str | None:
    """Why an update may not use ``x`` in ``slot`` (torch's optimizers refuse it at construction), or None."""
    key = slot[0]
    if slot == ("betas", 0):
        return None if 0 <= x < 1 else "beta1 must be in [0, 1)"
    if key in ("lr", "momentum", "weight_decay") and x < 0:
        return f"{key} must be >= 0"
    return None


def _per_group(optimizer, key: str, value, name: str | None = None) -> list:
    """``value`` for ``key`` as one schedule (or None: left alone) per param group, checked against the groups.

    A number is a constant schedule; a list or tuple gives one entry per group.
    ``name`` is the argument's name in messages (``key`` by default).
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
    schedules = [None if x is None else as_schedule(label, x) for label, x in entries]
    if all(s is None for s in schedules):
        raise ValueError(f"{name} gives no schedule for any param group")
    for i, s in enumerate(schedules):
        if s is not None:
            _slot(optimizer, key, i)
    return schedules


def _problem(t: int, i: int, slot, x: float, s: Schedule) -> str | None:
    """Why update t may not use ``x`` (from ``s``) in ``slot`` of param group i, described; None when it may."""
    why = _allowed(slot, x)
    if why is None:
        return None
    what = "beta1" if slot == ("betas", 0) else slot[0]
    return f"lrsched: update {t} would use {what} = {x!r} in param group {i}, and {why}; the schedule {s!r} gives it"


def _guard(optimizer, scheduler) -> None:
    """Refuse an ``optimizer.step()`` whose values the scheduler found unusable (it says why)."""
    ref = weakref.ref(scheduler)

    def refuse_unusable_values(opt, args, kwargs):
        s = ref()
        problem = None if s is None else s.__dict__.get("_problem")
        if problem is not None:
            raise ValueError(problem)

    scheduler.__dict__["_guard"] = optimizer.register_step_pre_hook(refuse_unusable_values)


class _Guarded:
    """A scheduler whose optimizer refuses the values it found unusable; pickled without the optimizer's hook."""

    def __getstate__(self):  # torch.save(scheduler)
        state = dict(self.__dict__)
        state.pop("_guard", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        _guard(self.optimizer, self)


def _torch_last_epoch(groups, last_epoch, relative: bool) -> int:
    """torch's ``last_epoch`` argument for a scheduler built after ``last_epoch`` updates (-1 or 0: fresh).

    torch counts its constructor as one step, so it starts one behind; on a
    resume it wants each group's ``initial_lr``, which absolute mode never
    reads (set to the group's lr where missing) and relative mode needs.
    """
    if isinstance(last_epoch, bool) or not isinstance(last_epoch, int) or last_epoch < -1:
        raise ValueError(f"last_epoch must be an integer >= -1, got {last_epoch!r}")
    if last_epoch > 0:
        for i, g in enumerate(groups):
            if "initial_lr" not in g:
                if relative:
                    raise ValueError(
                        f"relative=True with last_epoch={last_epoch} needs param group {i}'s initial_lr: "
                        "load the optimizer's state dict first"
                    )
                g["initial_lr"] = g["lr"]
    return max(last_epoch, 0) - 1


def _check_optimizer(optimizer) -> None:
    import torch

    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")


def _check_relative(groups) -> None:
    for i, g in enumerate(groups):
        if float(g.get("initial_lr", g["lr"])) == 0:
            raise ValueError(
                f"relative=True scales each group's initial lr, and param group {i} has initial lr 0: "
                "every lr would be 0; give the optimizer the peak lr, or use relative=False"
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
    theirs = from_dict(saved)
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
            for s, config in zip(code[key], saved[key]):
                if s is not None:
                    _keep_code_schedule(s, config)


# ---------------------------------------------------------------- the core scheduler


def scheduler(optimizer, lr=None, *, momentum=None, weight_decay=None, **other_group_keys):
    """A real ``torch.optim.lr_scheduler.LRScheduler`` that sets each param-group key from its schedule.

    The k-th ``optimizer.step()`` uses ``s(k)``, to the bit, for every key
    given: ``lr``, ``momentum``, ``weight_decay`` or any other numeric
    param-group key (``eps``, Adam's ``betas`` as ``momentum``...), in the
    canonical loop (``optimizer.step(); scheduler.step()``). Each keyword is a
    schedule (a number is a constant), or a list with one per param group
    (None leaves that group alone).

    ``momentum`` sets a group's ``momentum`` if it has one, else its
    ``betas[0]`` (Adam, AdamW, ...), as torch's OneCycleLR and CyclicLR do.
    A key the groups do not have, or hold something other than a number
    (``nesterov``), is refused when the scheduler is built. A value that an
    update would use and torch's optimizers refuse at construction (a
    negative lr, momentum or weight_decay, beta1 outside [0, 1)) is refused
    with ValueError by that ``optimizer.step()``; a value computed after the
    last update is never refused.

    ``state_dict()`` holds plain JSON types (``torch.load(weights_only=True)``
    reads it), and a run resumed at any k continues exactly, whether the
    scheduler is built before or after ``optimizer.load_state_dict``. A
    checkpoint whose schedules differ from those in code: the code's are used,
    with a warning naming the first t where they differ.

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
    _check_optimizer(optimizer)
    given = {"lr": lr, "momentum": momentum, "weight_decay": weight_decay, **other_group_keys}
    schedules = {key: _per_group(optimizer, key, x) for key, x in given.items() if x is not None}
    if not schedules:
        raise ValueError(
            "scheduler() needs at least one schedule: lr=, momentum=, weight_decay= or another param-group key"
        )
    return _scheduler_class()(optimizer, schedules)


_CLASSES: dict = {}  # the torch subclasses, made when torch is first needed


def _made(make):
    """The class ``make`` builds, built once (it subclasses a torch class, so torch is imported only then)."""
    if make.__name__ not in _CLASSES:
        cls = make()
        cls.__module__, cls.__qualname__ = "lrsched.torch", cls.__name__  # picklable as lrsched.torch.<name>
        _CLASSES[make.__name__] = cls
    return _CLASSES[make.__name__]


def _scheduler_class():
    return _made(_make_scheduler)


def _make_scheduler():
    import torch

    class Scheduler(_Guarded, torch.optim.lr_scheduler.LRScheduler):
        """Each scheduled param-group key at t = last_epoch + 1 (see :func:`scheduler`)."""

        def __init__(self, optimizer, schedules: dict, relative: bool = False, last_epoch: int = -1):
            # schedules: {key: [schedule or None per param group]}, checked by _per_group
            self.schedules, self.relative, self._problem = schedules, relative, None
            self._slots = {
                key: [None if s is None else _slot(optimizer, key, i) for i, s in enumerate(per_group)]
                for key, per_group in schedules.items()
            }
            _guard(optimizer, self)
            super().__init__(optimizer, _torch_last_epoch(optimizer.param_groups, last_epoch, relative))

        def _lr_scale(self) -> float:
            return 1.0

        def _value(self, key: str, i: int, s: Schedule, t: int) -> float:
            if key != "lr":
                return s(t)
            base = float(self.base_lrs[i]) if self.relative else 1.0
            return base * s(t) * self._lr_scale()

        def get_lr(self):
            t, groups = _t(self.last_epoch), self.optimizer.param_groups
            lrs = self.schedules.get("lr", [None] * len(groups))
            return [g["lr"] if s is None else self._value("lr", i, s, t) for i, (g, s) in enumerate(zip(groups, lrs))]

        def step(self, epoch=None):
            """One update done (call after ``optimizer.step()``): set every key for the next."""
            if epoch is not None:
                raise TypeError(self._no_epoch(epoch))
            super().step()  # the lrs, through get_lr
            self._set(with_lr=False)

        def _no_epoch(self, epoch) -> str:
            return f"{type(self).__name__}.step() counts updates and takes no argument, got {epoch!r}"

        def _set(self, with_lr: bool = True) -> None:
            """Every scheduled key of every group at t = last_epoch + 1, now (the lrs too, unless torch just set
            them); then note the first value an update may not use."""
            t, groups, problem = _t(self.last_epoch), self.optimizer.param_groups, None
            for key, per_group in self.schedules.items():
                for i, (g, s, slot) in enumerate(zip(groups, per_group, self._slots[key])):
                    if s is None:
                        continue
                    if key == "lr" and not with_lr:
                        x = float(g["lr"])
                    else:
                        x = self._value(key, i, s, t)
                        _write(g, slot, x)
                    problem = problem or _problem(t, i, slot, x, s)
            if with_lr:
                self._last_lr = [g["lr"].clone() if isinstance(g["lr"], torch.Tensor) else g["lr"] for g in groups]
            self._problem = problem

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
            self.last_epoch = int(state["last_epoch"])
            self._step_count = int(state["_step_count"])
            self.base_lrs = [float(b) for b in state["base_lrs"]]
            _keep_code_schedules(self.schedules, state["schedules"])
            self._set()  # the next update, from the code's schedules

        def __repr__(self):
            keys = ", ".join(f"{k}={_shown(per_group)}" for k, per_group in self.schedules.items())
            return f"{type(self).__name__}({keys}, last_epoch={self.last_epoch})"

    return Scheduler


def _shown(per_group) -> str:
    return repr(per_group[0]) if all(s is per_group[0] for s in per_group) else repr(per_group)


# ---------------------------------------------------------------- plateau


def plateau_lr(optimizer, schedule, rule: Plateau, relative: bool = False, last_epoch: int = -1):
    """A torch scheduler that follows ``schedule`` times a reduce-on-plateau ``rule``.

    Call ``step()`` after every ``optimizer.step()`` and ``report(metric)`` once
    per epoch (say, with the validation loss); the k-th update uses
    ``schedule(k) * scale`` (``initial_lr * schedule(k) * scale`` when
    ``relative``), the scale changing from the update after a report.
    ``state_dict()`` holds plain data only (``torch.load(weights_only=True)``
    reads it) and ``load_state_dict`` resumes exactly. It is a
    :func:`scheduler` for the lr, with the same checks.

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
    return _plateau_class()(optimizer, schedule, rule, relative, last_epoch)


def _plateau_class():
    return _made(_make_plateau)


def _make_plateau():
    class PlateauLR(_scheduler_class()):
        """schedule(last_epoch + 1) * plateau scale, per param group (see :func:`plateau_lr`)."""

        def __init__(self, optimizer, schedule, rule, relative=False, last_epoch=-1):
            _check_optimizer(optimizer)
            if not isinstance(rule, Plateau):
                raise TypeError(f"rule must be an lrsched plateau rule, got {rule!r}")
            schedules = _per_group(optimizer, "lr", schedule, "schedule")
            if any(s is None for s in schedules):
                raise TypeError("schedule must give a schedule for every param group")
            relative = v.flag("relative", relative)
            if rule.absolute and (relative or any(s != schedules[0] for s in schedules)):
                raise ValueError(
                    "an absolute plateau rule decides on one current lr: give one schedule for every param group "
                    "and relative=False"
                )
            if relative:
                _check_relative(optimizer.param_groups)
            self.rule, self.plateau = rule, rule.init()
            super().__init__(optimizer, {"lr": schedules}, relative, last_epoch)

        def _lr_scale(self) -> float:
            return self.plateau.scale

        def _no_epoch(self, epoch) -> str:
            return (
                f"PlateauLR.step() counts updates and takes no argument, got {epoch!r}: report the metric "
                "with scheduler.report(metric) (torch's ReduceLROnPlateau.step(metric) is report here)"
            )

        def report(self, metric) -> None:
            """One metric (once per epoch): may lower the scale from the next update on."""
            base = self.schedules["lr"][0](_t(self.last_epoch)) if self.rule.absolute else None
            self.plateau = self.rule.update(self.plateau, metric, base)
            self._set()

        def state_dict(self):
            return {**super().state_dict(), "plateau": self.plateau.to_dict(), "rule": self.rule.to_dict()}

        def load_state_dict(self, state):
            self.plateau = PlateauState.from_dict(state["plateau"])
            self.rule = Plateau.from_dict(state["rule"])
            super().load_state_dict(state)

    return PlateauLR


# ---------------------------------------------------------------- torch's own LambdaLR


class ScheduleFactor:
    """The ``lr_lambda`` of :func:`lambda_lr`: ``schedule(t)`` at t = last_epoch + 1.

    torch's LambdaLR saves a callable object's ``__dict__`` in its
    ``state_dict``; this one keeps only the schedule's config there (plain JSON
    types, so ``torch.load(..., weights_only=True)`` reads it), and the live
    schedule in a slot. When ``load_state_dict`` brings a config that differs
    from the schedule in code, the one in code is kept, with a warning that
    names the first t where they differ (see :func:`_keep_code_schedule`).
    """

    __slots__ = ("__dict__", "_live")

    def __init__(self, schedule: Schedule):
        self.config = _config_or_none(schedule)  # None for a function(...) schedule: kept as given
        self._live = (self.config, schedule)

    @property
    def schedule(self) -> Schedule:
        config, schedule = self._live
        current = self.__dict__.get("config")
        if current is not config:  # load_state_dict brought the checkpoint's config
            _keep_code_schedule(schedule, current)
            self.__dict__["config"] = config
        return schedule

    def __call__(self, epoch: int) -> float:
        return self.schedule(_t(epoch))

    def __repr__(self) -> str:
        return f"ScheduleFactor({self.schedule!r})"


def lambda_lr(optimizer, schedule, relative: bool = False, last_epoch: int = -1):
    """A real ``torch.optim.lr_scheduler.LambdaLR`` that follows ``schedule``.

    In the canonical loop (``optimizer.step(); scheduler.step()``) the k-th
    ``optimizer.step()`` uses ``schedule(k)`` exactly, whatever lr the optimizer
    was created with, or ``initial_lr * schedule(k)`` when ``relative``. A list
    gives one schedule per param group. ``state_dict`` / ``load_state_dict`` and
    ``torch.save`` / ``torch.load`` work, and a run resumed at any k continues
    with the learning rates of an uninterrupted run. For momentum and other
    keys, use :func:`scheduler`; a negative lr is refused as there.

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
    _check_optimizer(optimizer)
    groups = optimizer.param_groups
    schedules = _per_group(optimizer, "lr", schedule, "schedule")
    if any(s is None for s in schedules):
        raise TypeError("schedule must give a schedule for every param group")
    relative = v.flag("relative", relative)
    if relative:
        _check_relative(groups)
    factors = [ScheduleFactor(s) for s in schedules]
    start = _torch_last_epoch(groups, last_epoch, relative)
    return _lambda_class()(optimizer, factors, start, relative)


def _lambda_class():
    return _made(_make_lambda)


def _make_lambda():
    """torch's LambdaLR, absolute or relative, refusing a negative lr, resuming on the schedules in code."""
    import torch

    class LambdaLR(_Guarded, torch.optim.lr_scheduler.LambdaLR):
        """A torch ``LambdaLR`` over lrsched schedules (see :func:`lambda_lr`)."""

        def __init__(self, optimizer, factors, last_epoch=-1, relative=False):
            self._problem = None
            _guard(optimizer, self)
            super().__init__(optimizer, factors, last_epoch=last_epoch)
            if not relative:  # torch's constructor applied base_lr * factor with the optimizer's own lrs
                self.base_lrs = [1.0] * len(optimizer.param_groups)
                self._set()

        def step(self, epoch=None):
            super().step(epoch)
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
            super().load_state_dict(state_dict)
            self._set()  # the schedule in code (checked against the checkpoint's, warned if it differs)

        def state_dict(self):
            state = super().state_dict()
            state.pop("_guard", None)
            state.pop("_problem", None)
            return state

    return LambdaLR
