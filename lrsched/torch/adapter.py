"""The PyTorch adapter: real ``torch.optim.lr_scheduler`` objects driven by lrsched schedules.

This module imports torch; :mod:`lrsched.torch` loads it on first use of one
of its names, so the pure mirrors need no torch. It is the one place that
names the adapter's public spellings; each lives in a module of its own:

- :mod:`lrsched.torch.update_scheduler`: :class:`Scheduler` (spelled
  :func:`scheduler`), which sets lr, momentum (or beta1), weight_decay or any
  numeric param-group key from schedules, counting the optimizer updates that
  really happen.
- :mod:`lrsched.torch.plateau_scheduler`: :class:`PlateauLR` (:func:`plateau_lr`),
  a schedule times a reduce-on-plateau rule, on the same clock.
- :mod:`lrsched.torch.lambda_scheduler`: :class:`LambdaLR` (:func:`lambda_lr`),
  torch's own ``LambdaLR``, and its ``lr_lambda`` :class:`ScheduleFactor`.

and the parts they share:

- :mod:`lrsched.torch.clock`: the clock. The optimizer's own step hooks
  (``Clock``) count the updates that really happen: the k-th
  ``optimizer.step()`` that runs uses s(k), whether ``scheduler.step()`` is
  called once per update, once per micro-batch, n times per update
  (accelerate), or never, and an update that a GradScaler skips (it does not
  call ``optimizer.step()``) does not advance t. ``last_epoch`` is the number
  of updates done, e, and the next update is t = e + 1 (``next_t``, the one place
  that converts). ``scheduler.step()`` only refreshes what torch's API
  reports (``get_last_lr()``). ``paused`` lets a range test run its own
  updates.
- :mod:`lrsched.torch.param_groups`: where a key lives in a param group,
  writing a value, the values torch refuses, and the constructor arguments
  the schedulers share.
- :mod:`lrsched.torch.knobs`: what the scheduler drives besides param-group
  keys (``drive``: any attribute of any object), the unit clock
  (``unit=``, ``consume(n)``), and the warning of a decaying schedule on a
  schedule-free optimizer.
- :mod:`lrsched.torch.checkpoints`: a state dict's fields checked, and a
  checkpoint's schedules compared with the code's (the code's are used, and
  a change is never silent).

:func:`lambda_lr` keeps torch's own ``LambdaLR`` contract (it counts
``scheduler.step()`` calls) for code that needs one.
"""

from __future__ import annotations

from .lambda_scheduler import LambdaLR, ScheduleFactor, lambda_lr
from .plateau_scheduler import PlateauLR, plateau_lr
from .update_scheduler import Scheduler, scheduler

__all__ = ["LambdaLR", "PlateauLR", "ScheduleFactor", "Scheduler", "lambda_lr", "plateau_lr", "scheduler"]
