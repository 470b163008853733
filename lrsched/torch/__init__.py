"""PyTorch: real torch schedulers driven by any schedule, and exact mirrors of ``torch.optim.lr_scheduler``.

- :mod:`lrsched.torch.adapter` (needs torch when called): :func:`scheduler`
  sets lr, momentum (or beta1), weight_decay or any numeric param-group key
  from schedules; :func:`lambda_lr` is torch's own LambdaLR; :func:`plateau_lr`
  adds reduce-on-plateau. Index convention: torch's ``last_epoch`` e = t - 1,
  converted in one place (``adapter._t``).
- :mod:`lrsched.torch.lr_range`: :func:`find_lr`, the learning-rate range
  test on a model, which puts the model and optimizer back as they were.
- :mod:`lrsched.torch.mirrors` (pure, no torch): each torch scheduler as a
  plain schedule, and the momentum that OneCycleLR and CyclicLR cycle.

The migration table (torch class -> lrsched call) is in docs/migration.md.
"""

from __future__ import annotations

from . import adapter, lr_range, mirrors
from .adapter import ScheduleFactor, lambda_lr, plateau_lr, scheduler  # noqa: F401
from .lr_range import find_lr  # noqa: F401
from .mirrors import (  # noqa: F401
    chained_scheduler,
    constant_lr,
    cosine_annealing_lr,
    cosine_annealing_warm_restarts,
    cyclic_lr,
    cyclic_momentum,
    exponential_lr,
    linear_lr,
    multi_step_lr,
    multiplicative_lr,
    one_cycle_lr,
    one_cycle_momentum,
    polynomial_lr,
    reduce_lr_on_plateau,
    sequential_lr,
    step_lr,
)

__all__ = adapter.__all__ + lr_range.__all__ + mirrors.__all__

_CLASSES = {
    "Scheduler": adapter._scheduler_class,
    "PlateauLR": adapter._plateau_class,
    "LambdaLR": adapter._lambda_class,
}


def __getattr__(name):
    if name in _CLASSES:  # the torch subclasses, for pickle and isinstance checks (this imports torch)
        return _CLASSES[name]()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
