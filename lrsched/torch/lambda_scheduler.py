"""``LambdaLR`` (spelled :func:`lrsched.torch.lambda_lr`): torch's own LambdaLR, following a schedule.

It keeps torch's LambdaLR contract (it counts ``scheduler.step()`` calls, not
optimizer updates) for code that needs one; its ``lr_lambda`` is a
:class:`ScheduleFactor`, and a step pre-hook (:class:`_Guard`) refuses an
update whose lr torch would refuse.

This module imports torch.
"""

from __future__ import annotations

import sys
import weakref

import torch

from .. import _validate as v
from ..binding import check_run_length
from ..schedule import Schedule
from .checkpoints import config_or_none, field, finite_list, keep_code_schedule
from .clock import deepspeed_update, next_t
from .param_groups import arguments, initial_lrs, past_max_count, refusal, stepped_groups, write

__all__ = ["LambdaLR", "ScheduleFactor", "lambda_lr"]


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
        self.config = config_or_none(schedule)  # None for a function(...) schedule: kept as given
        self._schedule = schedule

    @property
    def schedule(self) -> Schedule:
        return self._schedule

    def restore(self) -> None:
        """After torch loaded a checkpoint's config into ``__dict__``: keep the code's schedule, warn if they differ."""
        saved, self.config = self.__dict__.get("config"), config_or_none(self._schedule)
        keep_code_schedule(self._schedule, saved)

    def __call__(self, epoch: int) -> float:
        return self._schedule(next_t(epoch))

    def __repr__(self) -> str:
        return f"ScheduleFactor({self._schedule!r})"


class _Guard:
    """A step pre-hook refusing an ``optimizer.step()`` whose lr the LambdaLR found unusable (it says why).

    A step of DeepSpeed's engine over some of the groups (ZeRO 1 and 2 step the basic optimizer once per param
    group, ``param_groups`` swapped for a one-group list) is not a removal: its groups are found by identity.
    """

    def __init__(self, scheduler):
        self._scheduler = weakref.ref(scheduler)
        self._handle = scheduler.optimizer.register_step_pre_hook(self._before)

    def _before(self, optimizer, args, kwargs):
        s = self._scheduler()
        if s is not None:
            groups = optimizer.param_groups
            if len(groups) < len(s.lr_lambdas) and deepspeed_update(sys._getframe(1)) is not None:
                stepped_groups(s._groups, groups)  # each of them is one of the scheduler's
            else:
                s._same_groups()
            if s._problem is not None:
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
        args = arguments(optimizer, {"lr": schedule}, relative, last_epoch, total, epoch, "schedule", every_group=True)
        opt, schedules, relative, updates = args.optimizer, args.schedules["lr"], args.relative, args.updates
        initial_lrs(opt.param_groups, updates, relative)
        if args.total is not None:
            for s in schedules:
                check_run_length(s, args.total)
        self._problem, self._groups = None, list(opt.param_groups)
        super().__init__(opt, [ScheduleFactor(s) for s in schedules], last_epoch=updates - 1 if updates else -1)
        self._guard = _Guard(self)
        if not relative:  # torch's constructor applied base_lr * factor with the optimizer's own lrs
            self.base_lrs = [1.0] * len(opt.param_groups)
        self._set()

    def step(self, epoch=None):
        if epoch is not None:
            raise TypeError(f"LambdaLR.step() counts updates and takes no argument, got {v.show(epoch)}")
        if max(self.last_epoch, self._step_count) >= v.MAX_COUNT:
            raise ValueError(past_max_count(f"scheduler.step() call {self._step_count + 1}"))
        self._same_groups()
        super().step()
        self._check()

    def _same_groups(self) -> None:
        """torch's LambdaLR schedules the param groups it was made with: a group added or removed is refused."""
        n, had = len(self.optimizer.param_groups), len(self.lr_lambdas)
        if n != had:
            change = "added (optimizer.add_param_group)" if n > had else "removed"
            raise ValueError(
                f"lrsched: lambda_lr was made for {had} param groups and the optimizer has {n}: a group was {change} "
                "under it. lambda_lr keeps torch's LambdaLR, which schedules only the groups it was made with; "
                "lrsched.torch.scheduler schedules a group added later"
            )
        self._groups = list(self.optimizer.param_groups)  # found by identity in a step over some of them

    def _check(self):
        t, groups, problem = next_t(self.last_epoch), self.optimizer.param_groups, None
        if t > v.MAX_COUNT:
            problem = past_max_count(f"update {t}")
        for i, (g, f) in enumerate(zip(groups, self.lr_lambdas)):
            problem = problem or refusal(t, i, ("lr", None), float(g["lr"]), f.schedule)
        self._problem = problem

    def _set(self):
        """The groups' lrs now, outside ``step``: base_lr * factor for the next update."""
        for g, b, f in zip(self.optimizer.param_groups, self.base_lrs, self.lr_lambdas):
            write(g, ("lr", None), b * f(self.last_epoch))
        self._last_lr = [float(g["lr"]) for g in self.optimizer.param_groups]
        self._check()

    def load_state_dict(self, state_dict):
        """Load a state dict of this scheduler (torch's LambdaLR fields, each checked first, by name): the
        count of steps, one base lr and one ``lr_lambdas`` entry (a dict, or None) per param group."""
        last = field(state_dict, "last_epoch", lambda n, x: v.whole(n, x, -1))
        n = len(self.lr_lambdas)
        base_lrs = field(state_dict, "base_lrs", finite_list)
        if len(base_lrs) != n:
            raise ValueError(f"scheduler state: base_lrs has {len(base_lrs)} entries for {n} param groups")
        checked = {"last_epoch": last, "base_lrs": base_lrs}
        if "_step_count" in state_dict:  # torch's own field; foreign checkpoints may lack it
            checked["_step_count"] = field(state_dict, "_step_count", lambda n, x: v.whole(n, x, 0))
        lambdas = field(state_dict, "lr_lambdas", lambda n, x: x)
        if not isinstance(lambdas, list) or len(lambdas) != n:
            raise ValueError(f"scheduler state: lr_lambdas must be a list of {n} entries, got {v.show(lambdas)}")
        for i, entry in enumerate(lambdas):
            if not (entry is None or (isinstance(entry, dict) and all(isinstance(k, str) for k in entry))):
                raise ValueError(f"scheduler state: lr_lambdas[{i}] must be a dict (or None), got {v.show(entry)}")
        super().load_state_dict({**state_dict, **checked})
        for f in self.lr_lambdas:
            f.restore()
        self._set()  # the schedule in code (checked against the checkpoint's, warned if it differs)

    def state_dict(self):
        state = super().state_dict()
        for key in ("_guard", "refusal", "_groups"):
            state.pop(key, None)
        return state

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_guard", None)
        state.pop("_groups", None)  # the optimizer's own groups, found again from it
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._groups = list(self.optimizer.param_groups)
        self._guard = _Guard(self)


#: the public spelling: the class is its own constructor
lambda_lr = LambdaLR
