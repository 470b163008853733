"""``PlateauLR`` (spelled :func:`lrsched.torch.plateau_lr`): a schedule times a reduce-on-plateau rule.

A :class:`~lrsched.torch.update_scheduler.Scheduler` for the lr, on the same
clock, whose lr is scaled by the rule's state; ``report(metric)`` feeds the rule.

This module imports torch.
"""

from __future__ import annotations

import warnings

import torch  # noqa: F401  (a torch scheduler: its base class imports torch too)

from .. import _validate as v
from ..plateau import SYNC_TIMEOUT, Plateau, PlateauState, ranks_mean, sync_timeout_seconds
from .checkpoints import field
from .clock import next_t
from .param_groups import arguments
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
    Lightning), ``report`` decides on the mean of the ranks' metrics, gathered
    over the default group, so every rank takes the same decision (every rank
    must call ``report``: see :meth:`report`); False decides on each rank's
    own metric. ``sync_timeout``: the seconds a report waits for the other
    ranks' (default 300; None: as long as the process group's timeout).

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
        self,
        optimizer,
        schedule,
        rule: Plateau,
        relative=False,
        last_epoch=-1,
        total=None,
        epoch=None,
        sync=True,
        sync_timeout=SYNC_TIMEOUT,
    ):
        args = arguments(optimizer, {"lr": schedule}, relative, last_epoch, total, epoch, "schedule", every_group=True)
        self.sync, self.sync_timeout = v.flag("sync", sync), sync_timeout_seconds(sync_timeout)
        if not isinstance(rule, Plateau):
            raise TypeError(f"rule must be an lrsched plateau rule, got {v.show(rule)}")
        schedules = args.schedules["lr"]
        if rule.absolute and (args.relative or any(s != schedules[0] for s in schedules)):
            raise ValueError(
                "an absolute plateau rule decides on one current lr: give one schedule for every param group "
                "and relative=False"
            )
        self.rule, self.plateau = rule, rule.init()
        self._setup(args)

    def _lr_scale(self) -> float:
        return self.plateau.scale

    def _no_epoch(self, epoch) -> str:
        return (
            f"PlateauLR.step() counts updates and takes no argument, got {v.show(epoch)}: report the metric "
            "with scheduler.report(metric) (torch's ReduceLROnPlateau.step(metric) is report here)"
        )

    def report(self, metric) -> None:
        """One metric (once per epoch; the ranks' mean when ``sync``): may lower the scale from the next update on.

        With ``sync=True`` (the default) under ``torch.distributed``, every
        rank must call ``report``: the same number of times, in the same order
        (once per epoch), each with its own metric, from the same state (a
        resumed run loads one checkpoint on every rank). A rank that does not
        report within ``sync_timeout`` seconds, or ranks at different reports,
        raise :class:`lrsched.plateau.SyncError` on the ranks that did, naming
        what to do. Validating on rank 0 only: report on every rank anyway (the
        others with their own metric, or with rank 0's broadcast), or use
        ``sync=False`` on every rank.
        """
        if self.sync:
            metric = ranks_mean(metric, self.plateau.reports, self.sync_timeout)
        base = self.schedules["lr"][0](next_t(self.last_epoch)) if self.rule.absolute else None
        self.plateau = self.rule.update(self.plateau, metric, base)
        self._refresh()

    def state_dict(self):
        return {**super().state_dict(), "plateau": self.plateau.to_dict(), "rule": self.rule.to_dict()}

    def load_state_dict(self, state):
        try:
            plateau = PlateauState.from_dict(field(state, "plateau", lambda n, x: x))
            saved = field(state, "rule", lambda n, x: x)
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
