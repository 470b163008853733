"""``Scheduler`` (spelled :func:`lrsched.torch.scheduler`): any param-group key from a schedule, per real update.

The k-th optimizer update that really happens uses s(k): the clock
(:mod:`lrsched.torch.clock`) counts ``optimizer.step()`` with the optimizer's
own step hooks, and ``scheduler.step()`` only refreshes what torch's API
reports (``get_last_lr()``). :class:`~lrsched.torch.plateau_scheduler.PlateauLR`
builds on it.

This module imports torch.
"""

from __future__ import annotations

import warnings
import weakref

import torch

from .. import _validate as v
from ..binding import TimeWarning, bind_run, check_run_length
from ..schedule import Schedule, as_schedule
from .checkpoints import load_scheduler_state, scheduler_state
from .clock import DEEPSPEED_INIT, Clock, Watch, next_t
from .knobs import (
    Driven,
    Units,
    betas_keys,
    check_unit_length,
    driven_label,
    ranks_disagree,
    relative_keys,
    schedule_free_warning,
    units_reported,
)
from .param_groups import (
    TORCH_ARGUMENTS,
    Arguments,
    arguments,
    follow_groups,
    initial_lrs,
    initial_values,
    key_slot,
    past_max_count,
    refusal,
    stepped_groups,
    write,
)

__all__ = ["Scheduler", "scheduler"]


class Scheduler(torch.optim.lr_scheduler.LRScheduler):
    """A real ``torch.optim.lr_scheduler.LRScheduler`` that sets each param-group key from its schedule.

    The k-th optimizer update that really happens uses ``s(k)``, to the bit,
    for every key given: ``lr``, ``momentum``, ``weight_decay``, Adam's
    ``betas=(b1, b2)`` or any other numeric param-group key (``eps``...), and
    for any attribute of any object given to :meth:`drive`.
    The scheduler counts ``optimizer.step()`` itself, so this holds whether
    ``scheduler.step()`` is called once per update, once per micro-batch of a
    gradient accumulation, n times per update (accelerate), or never; an update
    that a GradScaler skips does not count. Each keyword is a schedule (a
    number is a constant), or a list with one per param group (None leaves
    that group alone).

    Args:
        betas: ``(b1, b2)``, each a schedule, a number or None (left alone), or
            a list with one per param group: Adam-like optimizers' betas, so
            that beta2 alone can be scheduled (``momentum=`` still sets beta1).
        relative: True: the lr is each group's ``initial_lr`` times the
            schedule. A set of scheduled keys (``{"lr", "weight_decay"}``):
            each of them is the group's own initial value times its schedule
            (per-group multipliers such as Megatron's wd_mult, or muP's).
        unit: None (the default) counts updates. A unit's name ("samples",
            "tokens", any): the schedules are written in that unit, the loop
            reports each batch's units with :meth:`consume`, and the k-th real
            update reads its schedules at 1 + the units consumed by the real
            updates before it (``total=`` is then in that unit too).
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

    A param group added later (``optimizer.add_param_group``, unfreezing a
    backbone) follows the schedules given for all groups: its own lr times
    them when ``relative``, else their values (a warning says so if it was
    added with an lr of its own); where a key's schedules were given as a
    list, one per group, it is refused by name at the next step. Removing
    param groups is refused by name.

    Under DeepSpeed's engine (``deepspeed.initialize(..., lr_scheduler=...)``,
    the object or the callable form, every ZeRO stage) the clock is the
    engine's update: DeepSpeed calls the basic optimizer's ``step()`` once per
    param group at ZeRO 1 and 2 and once per sub-group at ZeRO 3, and the
    fp16/bf16 optimizers of stage 0 step it once inside
    ``deepspeed.initialize``; each step of the engine's update k writes s(k)
    into the groups it steps, the update is counted once, by the
    ``scheduler.step()`` that the engine calls after each applied update (or
    by the loop's own ``scheduler.step()``; for a scheduler nothing steps, by
    the engine's next update and by ``state_dict()``), and the step inside
    ``deepspeed.initialize`` is not counted.

    ``state_dict()`` holds plain JSON types (``torch.load(weights_only=True)``
    reads it), and a run resumed at any k continues exactly, in either load
    order (after an added group: into an optimizer built with it). A
    checkpoint whose schedules differ from those in code: the code's are
    used, with a warning naming the first t where they differ.

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
        betas=None,
        relative=False,
        last_epoch: int = -1,
        total: int | None = None,
        epoch: float | None = None,
        unit: str | None = None,
        **other_group_keys,
    ):
        for key in other_group_keys:
            if key in TORCH_ARGUMENTS:
                raise TypeError(f"scheduler() got {key}=: it is not a param-group key; {TORCH_ARGUMENTS[key]}")
        given = {"lr": lr, "momentum": momentum, "weight_decay": weight_decay, **betas_keys(betas), **other_group_keys}
        if all(x is None for x in given.values()):
            raise ValueError(
                "scheduler() needs at least one schedule: lr=, momentum=, weight_decay=, betas= or another "
                "param-group key"
            )
        keys = relative_keys(relative, {k for k, x in given.items() if x is not None})
        self._setup(arguments(optimizer, given, "lr" in keys, last_epoch, total, epoch), keys, unit)

    def _setup(self, args: Arguments, relative_keys=None, unit=None) -> None:
        """The scheduler on ``args`` (checked by :func:`~lrsched.torch.param_groups.arguments`)."""
        optimizer = args.optimizer
        self.schedules, self.relative, self.total, self._shared = args.schedules, args.relative, args.total, args.shared
        self._slots = {
            key: [None if s is None else key_slot(optimizer, key, i) for i, s in enumerate(row)]
            for key, row in args.schedules.items()
        }
        one_key_per_slot(self._slots)
        self.unit, self._units = clock_unit(unit, args.updates)
        if self._units is not None:
            self._units.watch(optimizer)
            weakref.finalize(self, self._units.close)  # a dropped scheduler takes its backward hook with it
        self._run, self._driven = args.run, {}
        keys = relative_keys if relative_keys is not None else frozenset({"lr"} if args.relative else ())
        self._next, self._problem, self._warned, self._watch = None, None, set(), Watch()
        self._groups, self._pending = list(optimizer.param_groups), None
        initial_lrs(optimizer.param_groups, args.updates, args.relative)
        self._bases = initial_values(optimizer.param_groups, keys, args.updates)
        self.optimizer, self._clock = optimizer, None
        self._clock = Clock(self)
        super().__init__(optimizer, args.updates)  # torch's set-up: last_epoch (the count of updates), then step()
        lrs = [s for s in args.schedules.get("lr", []) if s is not None]
        if args.total is not None:
            for s in lrs:
                check_run_length(s, args.total) if self.unit is None else check_unit_length(s, args.total, self.unit)
        schedule_free_warning(optimizer, lrs, args.total, self.unit or "update")

    # ------------------------------------------------ values of the next update

    def _lr_scale(self) -> float:
        return 1.0

    def _position(self) -> int:
        """Where the next update reads its schedules: t = updates + 1, or 1 + the units of the updates done."""
        return next_t(self.last_epoch) if self._units is None else self._units.position()

    def _where(self, t: int) -> str:
        k = next_t(self.last_epoch)
        return f"update {k}" if self._units is None else f"update {k} (at {self.unit} {t})"

    def _values(self, t: int) -> list:
        """Every scheduled (group, slot, value, schedule) of the update that reads its schedules at t."""
        out = []
        for key, row in self.schedules.items():
            bases = self._bases.get(key)
            for i, (s, where) in enumerate(zip(row, self._slots[key])):
                if s is None:
                    continue
                x = s(t)
                if key == "lr":
                    base = float(self.base_lrs[i]) if self.relative else 1.0
                    x = base * x * self._lr_scale()
                elif bases is not None:
                    x = bases[i] * x
                out.append((i, where, x, s))
        return out

    def _driven_values(self, t: int) -> list:
        """Each driven attribute's (target, value, where): s(t) for the next update, or s of the last update's
        position for those set after it (none before the first update)."""
        out = []
        for d in self._driven.values():
            if not d.after:
                where = self._where(t)
                out.append((d, d.value(d.schedule(t), where), where))
            elif self.last_epoch > 0:
                at = self.last_epoch if self._units is None else 1 + self._units.before_last
                where = f"the end of update {self.last_epoch}"
                out.append((d, d.value(d.schedule(at), where), where))
        return out

    def _apply(self, present: dict | None = None) -> None:
        """Write the values of the next update into the param groups and driven attributes (computed once per
        update). ``present``: {index: group} of a step over some of the groups (ZeRO 1 and 2 under DeepSpeed's
        engine step one at a time), the only ones written; by default every group of the optimizer."""
        groups = self.optimizer.param_groups
        full = present is None
        if full:
            if len(groups) != len(self.base_lrs):
                follow_groups(self)
            self._groups = list(groups)  # found by identity in a step over some of them
            present = dict(enumerate(groups))
        t = self._position()
        if self._next is None or self._next[0] != (self.last_epoch, t):
            where = self._where(t)
            if max(t, next_t(self.last_epoch)) > v.MAX_COUNT:  # no value read past it: the update is refused
                self._next, self._problem = ((self.last_epoch, t), [], []), past_max_count(where)
            else:
                values = self._values(t)
                problem = next((p for i, slot, x, s in values if (p := refusal(t, i, slot, x, s, where))), None)
                self._next, self._problem = ((self.last_epoch, t), values, self._driven_values(t)), problem
        if self._clock is not None:  # a closed scheduler writes nothing
            for i, where, x, _ in self._next[1]:
                if i in present:
                    write(present[i], where, x)
            for d, x, where in self._next[2]:
                d.set(x, where)
        if full:
            self._last_lr = [g["lr"].clone() if isinstance(g["lr"], torch.Tensor) else g["lr"] for g in groups]

    def _refresh(self) -> None:
        """Recompute the next update's values (the scale or the checkpoint changed)."""
        self._next = None
        self._apply()

    # ------------------------------------------------ other knobs, and the unit clock

    def drive(self, obj, name: str, schedule, after: bool = False, label: str | None = None) -> None:
        """Set ``obj.<name>`` from ``schedule`` on this scheduler's clock (in its unit, if it has one).

        By default ``obj.<name>`` is s(k) from the end of update k - 1 to the
        end of update k, as the lr is: update k's forward, backward and step
        all see s(k) (a dropout's ``p``, a loss weight, a batch sampler's
        ``batch_size``). ``after=True``: s(k) right after the k-th real update
        (and left as it is before the first), for code that runs after
        ``optimizer.step()``, such as an EMA of the weights reading its
        ``decay``. An int attribute gets an int (the schedule's values must be
        whole numbers). A value the target refuses (a dropout's p outside
        [0, 1], an error from a property setter) is a ValueError naming the
        attribute, the value and the update, where it would be set. Saved and
        resumed with the scheduler under ``label`` (default
        ``"<class>.<name>"``): drive before loading a state dict.

        Raises AttributeError when ``obj`` has no attribute ``name`` (``obj``
        None too), TypeError for a ``name``, ``schedule``, ``after`` or
        ``label`` of the wrong type, and ValueError for a label driven already.
        """
        label = driven_label(obj, name, label, self._driven)
        after = v.flag("after", after)
        if not (isinstance(schedule, Schedule) or v._is_real(schedule)):
            raise TypeError(f"drive(): schedule must be an lrsched schedule or a number, got {v.show(schedule)}")
        self._driven[label] = Driven(obj, name, bind_run(label, as_schedule(label, schedule), self._run), after, label)
        try:
            self._refresh()
        except ValueError:
            del self._driven[label]
            self._refresh()
            raise

    def consume(self, n) -> None:
        """Report the n units (samples, tokens: the unit= of this scheduler) of a batch or micro-batch, as the loop
        reads it: the next real update reads its schedules at 1 + the units of the real updates before it.

        Under torch.distributed, n is the global count (the whole batch over every rank), the same on every rank;
        the first ``consume`` of each process compares the ranks' n (one all-gather) and warns when they differ.
        """
        if self._units is None:
            raise TypeError(
                "consume(n) counts the units of a unit clock, and this scheduler counts updates: make it with "
                'unit="samples" (or "tokens", any unit), its schedules written in that unit'
            )
        n, so_far = units_reported(n), self._units.done + self._units.pending
        if so_far + n > v.MAX_COUNT:
            raise ValueError(past_max_count(f"consume({n}) after {so_far} {self.unit}"))
        self._settle()  # an update DeepSpeed's engine made before these units
        if self._units.reports == 0 and "ranks" not in self._warned:
            problem = ranks_disagree(n, self.unit)
            if problem:
                self._warned.add("ranks")
                warnings.warn(problem, TimeWarning, stacklevel=2)
        self._units.consume(n, self.optimizer)

    @property
    def units(self) -> int | None:
        """The units consumed by the real updates done (None: this scheduler counts updates)."""
        return None if self._units is None else self._units.done

    # ------------------------------------------------ the clock's two events

    def _before_update(self, engine=None) -> None:
        """Before an ``optimizer.step()``; ``engine``: :func:`~lrsched.torch.clock.deepspeed_update` of it."""
        groups = self.optimizer.param_groups
        if engine is not None and engine != DEEPSPEED_INIT and self._pending not in (None, engine):
            self._settle(apply=len(groups) >= len(self.base_lrs))  # the engine's previous update, not yet counted
        if engine is not None and len(groups) < len(self.base_lrs):
            self._apply(stepped_groups(self._groups, groups))  # DeepSpeed steps some of the groups
        else:
            self._apply()
        if self._problem is not None:
            raise ValueError(self._problem)

    def _on_engine_update(self, engine) -> None:
        """A step of DeepSpeed's engine's update ``engine`` ran: the update is counted once, by :meth:`_settle`."""
        self._pending = engine

    def _settle(self, apply: bool = True) -> None:
        """Count the update DeepSpeed's engine made, if one is pending: at ``scheduler.step()`` (the engine steps
        its client scheduler once per applied update), or where the count is read before it."""
        if self._pending is not None:
            self._pending = None
            self._on_update(apply)

    def _on_update(self, apply: bool = True) -> None:
        self.last_epoch += 1
        done, what = self.last_epoch, "updates"
        if self._units is not None:
            self._units.on_update()
            done, what = self._units.done, self.unit
        if self.total is not None and done > self.total and "total" not in self._warned:
            self._warned.add("total")
            hint = ", after gradient accumulation and across processes" if self._units is None else " over every rank"
            warnings.warn(
                f"lrsched: update {self.last_epoch} is past the run's total of {self.total} {what} that the "
                f"schedules were bound to ({done} {what} done): the run is longer than planned (is total= the "
                f"number of {what} of the whole run{hint}?)",
                TimeWarning,
                stacklevel=4,
            )
        if apply:
            self._apply()

    def _on_skip(self) -> None:
        """The optimizer's step ran and skipped its update (a GradScaler's found_inf): its units are dropped."""
        if self._units is not None:
            self._units.on_skip()

    # ------------------------------------------------ torch's API

    def get_lr(self):
        """The lrs of the next update."""
        if len(self.optimizer.param_groups) != len(self.base_lrs):
            follow_groups(self)
        lrs = [g["lr"] for g in self.optimizer.param_groups]
        for i, where, x, _ in self._values(self._position()):
            if where == ("lr", None):
                lrs[i] = x
        return lrs

    def step(self, epoch=None):
        """Refresh ``get_last_lr()``, the lrs of the next update; the clock itself counts ``optimizer.step()``
        (call this as torch's loops do)."""
        if epoch is not None:
            raise TypeError(self._no_epoch(epoch))
        if self._step_count >= v.MAX_COUNT:
            raise ValueError(past_max_count(f"scheduler.step() call {self._step_count + 1}"))
        self._step_count += 1
        self._settle()
        self._watch.on_step(self)
        self._apply()

    def close(self) -> None:
        """Stop steering the optimizer: its hooks are removed, and no update is counted or value written."""
        if self._clock is not None:
            self._clock.detach()
            self._clock = None
        if self._units is not None:
            self._units.close()

    def _no_epoch(self, epoch) -> str:
        return f"{type(self).__name__}.step() counts updates and takes no argument, got {v.show(epoch)}"

    def state_dict(self):
        self._settle()
        if len(self.optimizer.param_groups) != len(self.base_lrs):
            follow_groups(self)
        return scheduler_state(self)

    def load_state_dict(self, state):
        if len(self.optimizer.param_groups) > len(self.base_lrs):
            follow_groups(self)  # a group added in code before the load, as the run added it
        self._pending = None  # the loaded count replaces the run's
        load_scheduler_state(self, state)
        self._refresh()  # the next update, from the code's schedules

    def __getstate__(self):  # torch.save(scheduler): the hooks stay with the optimizer
        state = dict(self.__dict__)
        state["_clock"] = None
        state.pop("_groups", None)  # the optimizer's own groups, found again from it
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.__dict__.setdefault("_pending", None)
        self._groups = list(self.optimizer.param_groups)
        self._clock = Clock(self)
        if self._units is not None:
            self._units.watch(self.optimizer)
            weakref.finalize(self, self._units.close)

    def __repr__(self):
        keys = ", ".join(f"{k}={_shown(row)}" for k, row in self.schedules.items())
        return f"{type(self).__name__}({keys}, last_epoch={self.last_epoch})"


def clock_unit(unit, updates: int):
    """``unit=``: None (the update clock), or a unit's name and its :class:`~lrsched.torch.knobs.Units`."""
    if unit is None:
        return None, None
    if not isinstance(unit, str) or not unit.strip():
        raise TypeError(f'unit must be the name of a unit ("samples", "tokens"...) or None, got {v.show(unit)}')
    if updates > 0:
        raise ValueError(
            f"last_epoch={updates} with unit={unit!r}: a unit clock resumes from its state dict, which holds the "
            "units consumed; build the scheduler fresh and load it"
        )
    return unit, Units(unit)


def one_key_per_slot(slots: dict) -> None:
    """Two keywords that would write the same value (momentum= and betas[0] of an Adam) are refused by name."""
    seen = {}
    for key, row in slots.items():
        for i, slot in enumerate(row):
            if slot is not None and (i, slot) in seen:
                other = seen[(i, slot)]
                raise TypeError(
                    f"{other}= and {key}= both schedule {slot[0]}{'' if slot[1] is None else f'[{slot[1]}]'}"
                    f" of param group {i}: give one of them"
                )
            seen[(i, slot)] = key


def _shown(row) -> str:
    return repr(row[0]) if all(s is row[0] for s in row) else repr(row)


#: the public spelling: the class is its own constructor
scheduler = Scheduler
