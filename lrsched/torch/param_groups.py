"""Param groups, for the torch schedulers: where a key lives, writing a value, and the values torch refuses.

Also the constructor arguments the three schedulers share, checked: the
optimizer (a wrapper's inner one), one schedule per param group, each group's
``initial_lr``, ``last_epoch`` and the run's ``total`` and ``epoch``.

This module imports torch.
"""

from __future__ import annotations

import difflib
import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch

from .. import _validate as v
from ..binding import bind_run
from ..schedule import Schedule, as_schedule

# ---------------------------------------------------------------- param-group keys


def is_number(x) -> bool:
    if isinstance(x, torch.Tensor):  # one floating value, as torch's capturable lr
        return x.numel() == 1 and x.is_floating_point()
    return v._is_real(x)


#: the keys of Adam's betas, and their index in a group's ``betas``
BETAS = {"beta1": 0, "beta2": 1}


def key_slot(optimizer, key: str, i: int) -> tuple[str, int | None]:
    """Where ``key`` lives in param group i: ``(key, None)``, or ``("betas", 0)`` for momentum in Adam-like groups.

    ``momentum`` sets a group's ``momentum`` if it has one and its ``betas[0]``
    otherwise (torch's rule in OneCycleLR and CyclicLR).
    """
    group, name = optimizer.param_groups[i], type(optimizer).__name__
    if key in BETAS:
        if not (isinstance(group.get("betas"), (tuple, list)) and len(group["betas"]) == 2):
            raise ValueError(f"betas: {name}'s param group {i} has no 'betas' pair to schedule {key} in")
        if not is_number(group["betas"][BETAS[key]]):
            raise ValueError(f"betas: {name}'s param group {i} holds {key} = {v.show(group['betas'][BETAS[key]])}")
        return ("betas", BETAS[key])
    if key == "momentum" and "momentum" not in group:
        if "betas" in group:
            return ("betas", 0)
        raise ValueError(f"momentum: {name}'s param group {i} has neither 'momentum' nor 'betas' to schedule")
    if key not in group:
        numeric = sorted(k for k, x in group.items() if is_number(x) and k != "initial_lr")
        close = difflib.get_close_matches(key, numeric, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else f"its numeric keys are {', '.join(numeric)}"
        raise ValueError(f"{key}: {name}'s param groups have no key {key!r}; {hint}")
    if not is_number(group[key]):
        hint = " (momentum= schedules betas[0])" if key == "betas" else ""
        raise ValueError(
            f"{key}: {name}'s param group {i} holds {v.show(group[key])}, not a number: "
            f"only numeric hyperparameters follow a schedule{hint}"
        )
    return (key, None)


def write(group, slot, x: float) -> None:
    key, index = slot
    held = group[key] if index is None else group[key][index]
    if isinstance(held, torch.Tensor):  # a tensor stays the same tensor (capturable and fused optimizers)
        held.fill_(x)
    elif index is None:
        group[key] = x
    else:
        group[key] = (*group[key][:index], x, *group[key][index + 1 :])


def allowed(slot, x: float) -> str | None:
    """Why an update may not use ``x`` in ``slot`` (torch's optimizers refuse it at construction), or None."""
    key = slot[0]
    if not math.isfinite(x):
        return f"{key} must be finite"
    if key == "betas":
        return None if 0 <= x < 1 else f"beta{slot[1] + 1} must be in [0, 1)"
    if key in ("lr", "momentum", "weight_decay") and x < 0:
        return f"{key} must be >= 0"
    return None


def past_max_count(what: str) -> str:
    """Why ``what`` (an update, a step, units consumed) may not happen: it would count past 2**53, the most that
    a schedule reads exactly and a state dict loads (``lrsched._validate.MAX_COUNT``)."""
    return (
        f"lrsched: {what} would count past 2**53 = {v.MAX_COUNT}, the most a scheduler counts (the largest count "
        "a schedule reads exactly, and a state dict loads)"
    )


def refusal(t: int, i: int, slot, x: float, s: Schedule, where: str | None = None) -> str | None:
    """Why update t may not use ``x`` (from ``s``) in ``slot`` of param group i, described; None when it may.

    ``where``: update t described otherwise (a unit clock's position too)."""
    why = allowed(slot, x)
    if why is None:
        return None
    what = f"beta{slot[1] + 1}" if slot[0] == "betas" else slot[0]
    where = where or f"update {t}"
    return f"lrsched: {where} would use {what} = {x!r} in param group {i}, and {why}; the schedule {s!r} gives it"


#: torch scheduler arguments that are not param-group keys: named when given to scheduler()
TORCH_ARGUMENTS = {
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


def per_group(optimizer, key: str, value, name: str | None = None, run: dict | None = None) -> list:
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
            key_slot(optimizer, key, i)
    return schedules


def inner_optimizer(optimizer) -> torch.optim.Optimizer:
    """The torch optimizer whose updates are counted: a wrapper's (accelerate's AcceleratedOptimizer) inner one."""
    while isinstance(getattr(optimizer, "optimizer", None), torch.optim.Optimizer):
        optimizer = optimizer.optimizer
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
    return optimizer


def updates_done(name: str, last_epoch) -> int:
    """Updates already done for a scheduler built with ``last_epoch`` (-1 or 0: a fresh start)."""
    if isinstance(last_epoch, (bool, np.bool_)) or not isinstance(last_epoch, (int, np.integer)):
        raise TypeError(f"{name} must be an integer >= -1, got {v.show(last_epoch)}")
    if not -1 <= last_epoch <= v.MAX_COUNT:
        raise ValueError(f"{name} must be an integer in [-1, 2**53], got {v.show(last_epoch)}")
    return max(int(last_epoch), 0)


def initial_lrs(groups, updates: int, relative: bool, first: int = 0) -> None:
    """Each group's ``initial_lr``, which relative mode scales: on a resume it must come from the optimizer's state.

    ``first``: the index of ``groups[0]`` among the optimizer's param groups (for messages).
    """
    for i, g in enumerate(groups, first):
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


def initial_values(groups, keys, updates: int, first: int = 0) -> dict:
    """{key: each group's initial value} for the keys other than lr scaled by relative mode (``initial_<key>``
    in the group, kept by the optimizer's state dict as torch keeps ``initial_lr``)."""
    bases = {}
    for key in sorted(k for k in keys if k != "lr"):
        row = bases[key] = []
        for i, g in enumerate(groups, first):
            name = f"initial_{key}"
            if name not in g:
                if updates > 0:
                    raise ValueError(
                        f"relative={{{key!r}}} with last_epoch={updates} needs param group {i}'s {name}: load the "
                        "optimizer's state dict first"
                    )
                g[name] = float(g[key])
            base = float(g[name])
            if not math.isfinite(base) or base == 0:
                raise ValueError(
                    f"relative scales each group's initial {key}, and param group {i} has {key} {base!r}: give the "
                    f"optimizer a finite, nonzero {key} (the peak the schedule scales), or leave {key} out of relative"
                )
            row.append(base)
    return bases


def run_symbols(total, epoch) -> dict:
    """The run's symbols, checked: ``total`` a count of updates, ``epoch`` updates per epoch."""
    run = {}
    if total is not None:
        run["total"] = v.count("total", total)
    if epoch is not None:
        run["epoch"] = v.positive("epoch", epoch)
    return run


# ---------------------------------------------------------------- the constructors' arguments


@dataclass(frozen=True)
class Arguments:
    """The arguments the torch schedulers share, checked (:func:`arguments`).

    ``schedules``: {key: [schedule or None, one per param group]};
    ``shared``: {key: the schedule given for every group (one value, not a
    list), or None}, which a param group added later follows; ``updates``:
    the updates already done (from ``last_epoch``); ``total``: the run's
    total, or None.
    """

    optimizer: torch.optim.Optimizer
    schedules: dict
    shared: dict
    relative: bool
    updates: int
    total: int | None
    run: dict = field(default_factory=dict)


def arguments(optimizer, given: dict, relative, last_epoch, total, epoch, name=None, every_group=False) -> Arguments:
    """The shared constructor arguments of ``Scheduler``, ``PlateauLR`` and ``LambdaLR``, checked in one place.

    ``given``: {key: what the caller gave (None: not scheduled)}; ``name``:
    the argument's name in messages (the key by default); ``every_group``:
    each param group needs a schedule (LambdaLR and PlateauLR).
    """
    opt = inner_optimizer(optimizer)
    run = run_symbols(total, epoch)
    schedules = {key: per_group(opt, key, x, name, run) for key, x in given.items() if x is not None}
    if every_group and (len(schedules) < len(given) or any(s is None for row in schedules.values() for s in row)):
        shown = ", ".join(v.show(x) for x in given.values())
        raise TypeError(f"{name or 'schedule'} must give a schedule for every param group, got {shown}")
    shared = {key: None if isinstance(given[key], (list, tuple)) else row[0] for key, row in schedules.items()}
    relative = v.flag("relative", relative)
    updates = updates_done("last_epoch", last_epoch)
    return Arguments(opt, schedules, shared, relative, updates, run.get("total"), run)


# ---------------------------------------------------------------- param groups added (or removed) under a scheduler


def same_group(group, known) -> bool:
    """Whether ``group`` is the param group ``known``: the same dict, or the one torch's
    ``Optimizer.load_state_dict`` made in its place (a new dict holding the same ``params`` list)."""
    params = group.get("params")
    return group is known or (params is not None and params is known.get("params"))


def stepped_groups(known: list, groups: list) -> dict:
    """{index in ``known``: group} for a step over some of the optimizer's param groups ``known`` (DeepSpeed's
    ZeRO 1 and 2 step the basic optimizer once per group, its ``param_groups`` swapped for a one-group list).
    A group that is none of them is refused, by name."""
    present = {}
    for j, g in enumerate(groups):
        i = next((i for i, k in enumerate(known) if same_group(g, k)), None)
        if i is None or i in present:
            raise ValueError(
                f"lrsched: DeepSpeed's engine stepped the optimizer with {len(groups)} of its {len(known)} param "
                f"groups, and group {j} of them is {'a second copy of' if i is not None else 'none of'} the groups "
                "the scheduler was made for: the optimizer's param groups were replaced under the scheduler; make "
                "the scheduler on the optimizer given to deepspeed.initialize, or pass lr_scheduler=lambda opt: "
                "lrsched.torch.scheduler(opt, ...)"
            )
        present[i] = g
    return present


def follow_groups(scheduler) -> None:
    """The optimizer's param groups changed in number under ``scheduler`` (a ``Scheduler``): schedule each group
    added with ``optimizer.add_param_group`` (:func:`adopt_group`); refuse a removal, by name."""
    groups, had = scheduler.optimizer.param_groups, len(scheduler.base_lrs)
    if len(groups) < had:
        raise ValueError(
            f"lrsched: the optimizer has {len(groups)} param groups, and {type(scheduler).__name__} was made for "
            f"{had}: param groups were removed (optimizer.param_groups.clear(), del or pop) under the scheduler; "
            "make a new optimizer and a new scheduler for it instead"
        )
    for i in range(had, len(groups)):
        adopt_group(scheduler, i)
    scheduler._next = None


def adopt_group(scheduler, i: int) -> None:
    """Param group i, added after ``scheduler`` was made: it follows the schedules given for all groups (one value,
    not a list; relative: its own lr times them), or is refused by name."""
    opt, group = scheduler.optimizer, scheduler.optimizer.param_groups[i]
    for key in scheduler.schedules:
        if scheduler._shared[key] is None:
            raise ValueError(
                f"lrsched: param group {i} was added (optimizer.add_param_group) after the scheduler was made, and "
                f"{key} was given as a list, one schedule per param group: none is for the new group. Add the "
                f"group before making the scheduler, or give one {key} schedule for all groups (relative=True: "
                "each group's own lr times it)"
            )
        key_slot(opt, key, i)  # a key the new group lacks is named
    lr = float(group["lr"])
    initial_lrs([group], 0, scheduler.relative, first=i)
    for key, row in initial_values([group], scheduler._bases, 0, first=i).items():
        scheduler._bases[key].extend(row)
    for key, row in scheduler.schedules.items():
        row.append(scheduler._shared[key])
        scheduler._slots[key].append(key_slot(opt, key, i))
    scheduler.base_lrs.append(group["initial_lr"])
    if not scheduler.relative and "lr" in scheduler.schedules and lr != float(opt.defaults.get("lr", lr)):
        warnings.warn(
            f"lrsched: param group {i}, added with lr={lr!r}, follows the lr schedule given for all groups, as "
            "the others do (relative=False); for its own lr times the schedule, make the scheduler with "
            "relative=True",
            UserWarning,
            stacklevel=7,  # the optimizer.step() after add_param_group (its step hook, through torch's wrapper)
        )
