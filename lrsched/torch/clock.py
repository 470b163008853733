"""The clock of :class:`~lrsched.torch.update_scheduler.Scheduler`: real optimizer updates, counted by step hooks.

The k-th ``optimizer.step()`` that runs uses s(k), whether
``scheduler.step()`` is called once per update, once per micro-batch, n
times per update (accelerate), or never, and an update that a GradScaler
skips does not advance t. ``last_epoch`` is the number of updates done, e,
and the next update is t = e + 1 (:func:`_t`, the one place that converts).

This module imports torch.
"""

from __future__ import annotations

import contextlib
import warnings
import weakref

import torch


def _t(updates: int) -> int:
    """The update that comes after ``updates`` updates (torch's ``last_epoch`` e): t = e + 1."""
    return updates + 1


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
