"""``PlateauLR`` (spelled :func:`lrsched.torch.plateau_lr`): a schedule times a reduce-on-plateau rule.

A :class:`~lrsched.torch.update_scheduler.Scheduler` for the lr, on the same
clock, whose lr is scaled by the rule's state; ``report(metric)`` feeds the rule.

This module imports torch.
"""

from __future__ import annotations

import warnings

import torch  # noqa: F401  (a torch scheduler: its base class imports torch too)

from .. import _validate as v
from ..plateau import Plateau, PlateauState, ranks_mean
from .checkpoints import _field
from .clock import _t
from .param_groups import _optimizer, _per_group, _run, _start
from .update_scheduler import Scheduler

__all__ = ["PlateauLR", "plateau_lr"]


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


#: the public spelling: the class is its own constructor
plateau_lr = PlateauLR
