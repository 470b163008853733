"""The clock of :class:`~lrsched.torch.update_scheduler.Scheduler`: real optimizer updates, counted by step hooks.

The k-th ``optimizer.step()`` that runs uses s(k), whether
``scheduler.step()`` is called once per update, once per micro-batch, n
times per update (accelerate), or never, and an update that a GradScaler
skips does not advance t. ``last_epoch`` is the number of updates done, e,
and the next update is t = e + 1 (:func:`next_t`, the one place that converts).

Under DeepSpeed's engine the clock is the engine itself (:func:`deepspeed_update`):
DeepSpeed may call the basic optimizer's ``step()`` several times per update
(ZeRO 1 and 2: once per param group, with ``param_groups`` swapped for a
one-group list; ZeRO 3: once per sub-group), or once in
``deepspeed.initialize`` (fp16/bf16 at stage 0 initialize the optimizer's
state with a step on zero gradients). A step made by the engine's update
writes the values of update t into the groups it steps and leaves the update
pending; the update is counted once, by the next ``scheduler.step()`` (the
engine steps its client scheduler once per applied update, never on an
overflow) or, when nothing steps the scheduler, by the first step of the
engine's next update. A step inside ``deepspeed.initialize`` is not an update.

The clock cannot count an update that runs around the optimizer's step hooks
(a wrapper calling ``type(opt).step.__wrapped__``, or a library calling the
step function itself): :class:`Watch` sees the parameters change with no
``optimizer.step()`` counted and warns, as it warns of a preview loop.

This module imports torch.
"""

from __future__ import annotations

import contextlib
import sys
import warnings
import weakref

import torch

from ..binding import TimeWarning

#: scheduler.step() calls with no optimizer update and no gradient anywhere before the preview warning
PREVIEW_STEPS = 20
#: scheduler.step() calls in a row, each after the parameters changed with no optimizer.step() run, before a warning
BYPASS_STEPS = 3
#: frames looked at, above an optimizer's step, for DeepSpeed's engine (its update, or deepspeed.initialize)
DEEPSPEED_DEPTH = 64
#: the kind of an optimizer.step() that DeepSpeed makes inside deepspeed.initialize: not an update
DEEPSPEED_INIT = "deepspeed.initialize"


def next_t(updates: int) -> int:
    """The update that comes after ``updates`` updates (torch's ``last_epoch`` e): t = e + 1."""
    return updates + 1


def skipped(optimizer) -> bool:
    """Whether the ``optimizer.step()`` that just ran skipped its update: a GradScaler calls a fused optimizer's
    step with ``found_inf`` set (the optimizer then leaves the parameters), instead of not calling it."""
    found = getattr(optimizer, "found_inf", None)
    return isinstance(found, torch.Tensor) and bool(found.item())


class Clock:
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
        for other in clocks(opt):
            live = other._scheduler()
            shared = sorted(set(live.schedules) & set(scheduler.schedules)) if live is not None else []
            if shared:
                warnings.warn(
                    f"lrsched: another live scheduler already steers {', '.join(shared)} of this optimizer; both "
                    "would write it (the newer wins): close() the old one, or drop every reference to it",
                    UserWarning,
                    stacklevel=5,
                )
        self.calls = 0  # optimizer.step() calls that ran the hooks, skipped updates too (read by Watch)
        self._engine = None  # deepspeed_update() of the step running, from its pre-hook to its post-hook
        self._handles = (opt.register_step_pre_hook(self._before), opt.register_step_post_hook(self._after))
        weakref.finalize(scheduler, self.detach)  # a dropped scheduler takes its hooks with it

    def _before(self, optimizer, args, kwargs):
        self.calls += 1
        s = self._scheduler()
        if s is not None:
            self._engine = deepspeed_update(sys._getframe(1))
            s._before_update(self._engine)

    def _after(self, optimizer, args, kwargs):
        s = self._scheduler()
        if s is None:
            return
        engine, self._engine = self._engine, None
        if skipped(optimizer):
            s._on_skip()
        elif engine is None:
            s._on_update()
        elif engine != DEEPSPEED_INIT:
            s._on_engine_update(engine)

    def detach(self) -> None:
        """Stop steering: the scheduler no longer counts updates or writes values."""
        for h in self._handles:
            h.remove()


def deepspeed_update(frame):
    """Which DeepSpeed engine's update runs the optimizer step whose hook called from ``frame``.

    ``(id(engine), engine.global_steps)``, the same for every ``step()`` call
    of one update (ZeRO steps the basic optimizer once per param group or
    sub-group), inside ``DeepSpeedEngine._take_model_step``;
    :data:`DEEPSPEED_INIT` inside ``DeepSpeedEngine.__init__`` (the fp16/bf16
    optimizers of stage 0 step once with zero gradients to make their state:
    not an update); None anywhere else, and whenever DeepSpeed's engine module
    was never imported (then at no cost). The frames are matched by the
    identity of DeepSpeed's own code objects, at most :data:`DEEPSPEED_DEPTH`
    of them; DeepSpeed is never imported here.
    """
    module = sys.modules.get("deepspeed.runtime.engine")
    if module is None:
        return None
    codes = _deepspeed_codes(module)
    if codes is None:
        return None
    update, init = codes
    for _ in range(DEEPSPEED_DEPTH):
        if frame is None:
            return None
        if frame.f_code is update:
            engine = frame.f_locals.get("self")
            return (id(engine), int(getattr(engine, "global_steps", 0)))
        if frame.f_code is init:
            return DEEPSPEED_INIT
        frame = frame.f_back
    return None


_unknown_deepspeed: set = set()  # DeepSpeed engine modules without the methods looked for, warned of once


def _deepspeed_codes(module):
    """The code objects of ``DeepSpeedEngine._take_model_step`` and ``__init__`` in DeepSpeed's engine module, or
    None (with a warning, once) for a DeepSpeed whose engine has no such methods."""
    engine_class = getattr(module, "DeepSpeedEngine", None)
    update = getattr(getattr(engine_class, "_take_model_step", None), "__code__", None)
    init = getattr(getattr(engine_class, "__init__", None), "__code__", None)
    if update is not None and init is not None:
        return update, init
    if id(module) not in _unknown_deepspeed:
        _unknown_deepspeed.add(id(module))
        warnings.warn(
            "lrsched: this DeepSpeed's engine has no DeepSpeedEngine._take_model_step, which lrsched's clock "
            "recognizes DeepSpeed's updates by (DeepSpeed 0.19 has it): each call of the basic optimizer's step() "
            "is counted as an update, which is wrong where DeepSpeed steps it more than once per update (ZeRO 3, "
            "or ZeRO 1 and 2 with several param groups) or inside deepspeed.initialize (fp16/bf16 at stage 0). "
            "Use lrsched.torch.lambda_lr, which counts the engine's scheduler.step() calls",
            UserWarning,
            stacklevel=4,
        )
    return None


def clocks(optimizer) -> list:
    """The live clocks of lrsched schedulers on ``optimizer``."""
    found = []
    for hook in optimizer._optimizer_step_pre_hooks.values():
        clock = getattr(hook, "__self__", None)
        if isinstance(clock, Clock) and clock._scheduler() is not None:
            found.append(clock)
    return found


@contextlib.contextmanager
def paused(optimizer):
    """No lrsched scheduler counts ``optimizer``'s updates or writes its values inside (a range test's updates)."""
    held = []
    for table in (optimizer._optimizer_step_pre_hooks, optimizer._optimizer_step_post_hooks):
        hooks = {k: h for k, h in table.items() if isinstance(getattr(h, "__self__", None), Clock)}
        for k in hooks:
            del table[k]
        held.append((table, hooks))
    try:
        yield
    finally:
        for table, hooks in held:
            table.update(hooks)


class Watch:
    """What the ``scheduler.step()`` calls of one scheduler show about the loop, each said once.

    - A preview loop: ``scheduler.step()`` called :data:`PREVIEW_STEPS` times
      with no update and no gradient anywhere: the lr stays at s(1).
    - Updates that bypass the step hooks: :data:`BYPASS_STEPS` calls in a row,
      each after the parameters changed (a parameter's in-place version
      counter moved) while no ``optimizer.step()`` ran the hooks: the clock
      counts none of them, so the lr stays where it is.

    - A total counted on the unsharded loader under accelerate: when
      accelerate's ``AcceleratedScheduler`` steps the scheduler N > 1 times per
      update (N processes, ``split_batches=False``), a run that ends (the
      scheduler dropped, or the interpreter exiting) after exactly total / N
      updates had its ``total=`` counted on the loader before ``prepare``
      sharded it: said then. Only that exact case, the symptom itself: from
      the numbers alone, a total of E unsharded epochs and one of N E sharded
      epochs look the same while the run goes on.

    Cheap: per call, one in-place version counter read per param group (its
    first trainable parameter) and a few comparisons; the caller is looked at
    once, at the first ``scheduler.step()`` after construction.
    """

    def __init__(self):
        self.warned: set[str] = set()
        self._idle, self._saw_gradient = 0, False
        self._calls, self._version, self._bypassed = -1, None, 0
        self._processes, self._updates = None, 0

    def on_step(self, scheduler) -> None:
        """After the scheduler counted ``scheduler.step()`` (its ``_step_count``)."""
        if "preview" not in self.warned and scheduler.last_epoch == 0 and scheduler._step_count > 1:
            self._preview(scheduler.optimizer)
        clock = scheduler._clock
        if "bypass" not in self.warned and clock is not None:
            self._bypass(scheduler.optimizer, clock.calls, scheduler.last_epoch)
        if self._processes is None and scheduler._step_count > 1:  # the first call after torch's constructor's
            self._processes = accelerate_processes(sys._getframe(2))  # who called scheduler.step()
            if self._processes > 1 and scheduler.total is not None and getattr(scheduler, "unit", None) is None:
                weakref.finalize(scheduler, self._ended, scheduler.total)
        self._updates = scheduler.last_epoch

    def _ended(self, total: int) -> None:
        n, done = self._processes, self._updates
        if done > 0 and done * n == total:
            warnings.warn(
                f"lrsched: the run ended after {done} updates, exactly 1/{n} of total={total}: accelerate's "
                f"AcceleratedScheduler ran on {n} processes, each doing 1/{n} of the batches, and the schedules "
                f"were bound to {total} updates, so every rank stopped at update {done} of them (a total counted "
                "with len(loader) before accelerator.prepare sharded the loader?). Count total= from the prepared "
                "loader, or divide by accelerator.num_processes",
                TimeWarning,
                stacklevel=2,
            )

    def _preview(self, optimizer) -> None:
        self._idle += 1
        self._saw_gradient = self._saw_gradient or any_gradient(optimizer)  # a skipped update, not a preview
        if self._idle >= PREVIEW_STEPS and not self._saw_gradient:
            self.warned.add("preview")
            warnings.warn(
                f"lrsched: scheduler.step() was called {self._idle} times and the optimizer has made "
                "no update: the schedule follows optimizer updates, so the lr stays at s(1). To preview a "
                "schedule, use s.values(n) or lrsched.plot(s, n)",
                TimeWarning,
                stacklevel=4,
            )

    def _bypass(self, optimizer, calls: int, updates: int) -> None:
        version = parameters_version(optimizer)
        if calls != self._calls:
            self._bypassed = 0
        elif version != self._version:
            self._bypassed += 1
            if self._bypassed >= BYPASS_STEPS:
                self.warned.add("bypass")
                warnings.warn(
                    f"lrsched: the parameters changed before {self._bypassed} scheduler.step() calls in a row "
                    "with no optimizer.step() run through the optimizer's step hooks, which are lrsched's clock: "
                    f"these updates were not counted, and the lr stays at s({next_t(updates)}). Something calls "
                    "the optimizer's step function around its hooks (type(opt).step.__wrapped__, or a library "
                    "that does): call optimizer.step() itself, or use lrsched.torch.lambda_lr, which counts "
                    "scheduler.step() calls",
                    TimeWarning,
                    stacklevel=4,
                )
        self._calls, self._version = calls, version


def accelerate_processes(frame) -> int:
    """N when ``frame`` is accelerate's ``AcceleratedScheduler.step`` stepping the scheduler N times per update
    (``split_batches=False``, ``step_with_optimizer=True``), else 1. accelerate is never imported here."""
    module = sys.modules.get("accelerate.scheduler")
    wrapper = getattr(module, "AcceleratedScheduler", None)
    if wrapper is None or frame is None or frame.f_code is not wrapper.step.__code__:
        return 1
    outer = frame.f_locals.get("self")
    if getattr(outer, "split_batches", True) or not getattr(outer, "step_with_optimizer", False):
        return 1
    return int(module.AcceleratorState().num_processes)


def parameters_version(optimizer) -> int:
    """The sum of the in-place version counters of each param group's first trainable parameter."""
    total = 0
    for g in optimizer.param_groups:
        for p in g["params"]:
            if p.requires_grad:
                total += p._version
                break
    return total


def any_gradient(optimizer) -> bool:
    return any(p.grad is not None for g in optimizer.param_groups for p in g["params"])
