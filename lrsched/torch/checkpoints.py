"""Checkpoints of the torch schedulers: a state dict's fields checked, and the code's schedules kept.

A resumed run follows the code: when a checkpoint's schedules differ from
those in code, the code's are used, with a warning naming the first t where
they differ (:func:`keep_code_schedule`), so that a change is never silent.
:func:`scheduler_state` and :func:`load_scheduler_state` are the state dict
of :class:`~lrsched.torch.update_scheduler.Scheduler`.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import _validate as v
from ..schedule import Schedule
from ..serialize import from_dict, to_dict


def config_or_none(schedule):
    try:
        return to_dict(schedule)
    except TypeError:  # function(...) schedules stay as constructed
        return None


def keep_code_schedule(schedule: Schedule, saved) -> Schedule:
    """The schedule in code, when a checkpoint brings ``saved`` (a config, or None) for it.

    A resumed run follows the code: a run extended from 300 to 600 updates, or
    given a new decay, continues on the new schedule. When the checkpoint's
    differs, a warning names the first t where the two give different values
    (or says that they differ only in form), so that a change is never silent.
    """
    if saved is None:
        return schedule
    if not isinstance(saved, dict):
        raise ValueError(f"the checkpoint's schedule is not a valid lrsched config: got {v.show(saved)}")
    if saved == config_or_none(schedule):
        return schedule
    try:
        theirs = from_dict(saved)
    except (TypeError, ValueError) as e:
        raise ValueError(f"the checkpoint's schedule is not a valid lrsched config: {e}") from None
    t = first_difference(schedule, theirs)
    where = f"from t = {t} on" if t is not None else "in form only (the same values up to t = 10**7)"
    warnings.warn(
        f"lrsched: the checkpoint's schedule {theirs!r} differs from the one in code {schedule!r} {where}; "
        "the one in code is used",
        UserWarning,
        stacklevel=4,
    )
    return schedule


def first_difference(a: Schedule, b: Schedule, horizon: int = 10**7) -> int | None:
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


def keep_code_schedules(code: dict, saved) -> None:
    """Compare every key's schedules in code with a checkpoint's (a warning for each that differs)."""
    if isinstance(saved, list):  # an lr-only checkpoint of an earlier version
        saved = {"lr": saved}
    saved = by_name("schedules", saved, "lists of configs")
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
                    keep_code_schedule(s, config)


def field(state, name: str, check):
    """``state[name]`` through ``check``, or ValueError naming the field of a state dict that is not ours."""
    if not isinstance(state, dict):
        raise ValueError(f"not an lrsched scheduler state: expected a dict, got {v.show(state)}")
    if name not in state:
        raise ValueError(f"not an lrsched scheduler state: no {name!r} in {v.show(sorted(state, key=v.show))}")
    try:
        return check(name, state[name])
    except (TypeError, ValueError) as e:
        raise ValueError(f"scheduler state: {e}") from None


def by_name(name: str, value, what: str) -> dict:
    """A state dict's field that maps names to entries (absent or None: empty): a dict with str keys, or
    ValueError naming the field and showing the value."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise ValueError(f"scheduler state: {name} must be a dict of {what} by name, got {v.show(value)}")
    return value


def finite_list(name, values):
    if not isinstance(values, list):
        raise TypeError(f"{name} must be a list of numbers, got {v.show(values)}")
    return [v.real(f"{name}[{i}]", x) for i, x in enumerate(values)]


# ---------------------------------------------------------------- the Scheduler's state dict


def scheduler_state(scheduler) -> dict:
    """The state dict of a :class:`~lrsched.torch.update_scheduler.Scheduler`: plain JSON types only."""
    return {
        "last_epoch": scheduler.last_epoch,
        "_step_count": scheduler._step_count,
        "base_lrs": [float(b) for b in scheduler.base_lrs],
        "_last_lr": [float(x) for x in scheduler._last_lr],
        "relative": scheduler.relative,
        "schedules": {
            key: [None if s is None else config_or_none(s) for s in row] for key, row in scheduler.schedules.items()
        },
        **knob_state(scheduler),
    }


def knob_state(scheduler) -> dict:
    """The state of what a scheduler drives besides the lr (present only when used, so that older checkpoints
    and those of schedulers without them read the same): relative keys' bases, the unit clock, driven attributes."""
    state = {}
    if scheduler._bases:
        state["bases"] = {key: [float(b) for b in row] for key, row in scheduler._bases.items()}
    if scheduler._units is not None:
        state["units"] = scheduler._units.state()
    if scheduler._driven:
        state["driven"] = {
            label: {"after": d.after, "schedule": config_or_none(d.schedule)} for label, d in scheduler._driven.items()
        }
    return state


def load_knob_state(scheduler, state: dict) -> None:
    """Check the checkpoint's relative keys, unit clock and driven attributes against the code's, and load them."""
    bases = by_name("bases", state.get("bases"), "lists of numbers")
    code, saved = sorted(scheduler._bases), sorted(bases)
    if code != saved:
        raise ValueError(
            f"scheduler state: relative scales {v.show(saved) if saved else 'no key'} besides the lr, and the code "
            f"{code}"
        )
    for key in code:
        row = finite_list(f"bases[{key!r}]", bases[key])
        if len(row) != len(scheduler._bases[key]):
            raise ValueError(f"scheduler state: bases[{key!r}] has {len(row)} entries for {len(scheduler._bases[key])}")
        scheduler._bases[key] = row
    units = state.get("units")
    if not (units is None or isinstance(units, dict)):
        raise ValueError(f"scheduler state: units must be a dict (the unit clock's counts), got {v.show(units)}")
    if (units is None) != (scheduler._units is None):
        theirs = "updates" if units is None else v.show(units.get("unit"))
        raise ValueError(
            f"scheduler state: the checkpoint's clock counts {theirs}, and the code's counts "
            f"{scheduler.unit or 'updates'} (unit=): resume with the clock the run was made with"
        )
    if units is not None:
        scheduler._units.load(units)
    driven = by_name("driven", state.get("driven"), "dicts")
    for label in sorted(set(driven) | set(scheduler._driven)):
        if label not in scheduler._driven:
            warnings.warn(
                f"lrsched: the checkpoint also drives {label}, the code does not (drive it before loading): it stays "
                "as it is",
                UserWarning,
                stacklevel=4,
            )
        elif label not in driven:
            warnings.warn(
                f"lrsched: the checkpoint does not drive {label}; the code's schedule is used", UserWarning, 4
            )
        elif not isinstance(driven[label], dict):
            raise ValueError(f"scheduler state: driven[{label!r}] must be a dict, got {v.show(driven[label])}")
        else:
            keep_code_schedule(scheduler._driven[label].schedule, driven[label].get("schedule"))


def load_scheduler_state(scheduler, state) -> None:
    """Check ``state`` field by field against the scheduler (its optimizer's param groups, ``relative``, the
    schedules in code, which are kept), then set the count of updates done and the base lrs."""
    updates = field(state, "last_epoch", lambda n, x: v.whole(n, x, 0))
    step_count = field(state, "_step_count", lambda n, x: v.whole(n, x, 0))
    base_lrs = field(state, "base_lrs", finite_list)
    groups = len(scheduler.optimizer.param_groups)
    if len(base_lrs) != groups:
        raise ValueError(
            f"scheduler state: base_lrs has {len(base_lrs)} entries for {groups} param groups: give the optimizer "
            "the checkpoint's param groups (those added with add_param_group during the run too) before loading"
        )
    if field(state, "relative", v.flag) != scheduler.relative:
        raise ValueError(f"scheduler state: relative={state['relative']!r}, and the code has {scheduler.relative!r}")
    keep_code_schedules(scheduler.schedules, field(state, "schedules", lambda n, x: x))
    load_knob_state(scheduler, state)
    scheduler.last_epoch, scheduler._step_count, scheduler.base_lrs = updates, step_count, base_lrs
