"""PyTorch: real torch schedulers driven by any schedule, and exact mirrors of ``torch.optim.lr_scheduler``.

- :mod:`lrsched.torch.adapter` (imports torch): :func:`scheduler` sets lr,
  momentum (or beta1), weight_decay or any numeric param-group key from
  schedules, counting the optimizer updates that really happen;
  :func:`lambda_lr` is torch's own LambdaLR; :func:`plateau_lr` adds
  reduce-on-plateau. The classes :class:`Scheduler`, :class:`PlateauLR` and
  :class:`LambdaLR` are defined there.
- :mod:`lrsched.torch.lr_range` (imports torch): :func:`find_lr`, the
  learning-rate range test on a model, which puts the model and optimizer
  back as they were.
- :mod:`lrsched.torch.mirrors` (pure, no torch): each torch scheduler as a
  plain schedule, and the momentum that OneCycleLR and CyclicLR cycle.

Importing this package imports no torch: the mirrors are here at once, and
the names of the two torch modules load their module on first use.
The migration table (torch class -> lrsched call) is in docs/migration.md.
"""

from __future__ import annotations

import importlib

from . import mirrors
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

#: the names that live in the modules importing torch, by module
_TORCH_NAMES = {
    "adapter": ("LambdaLR", "PlateauLR", "ScheduleFactor", "Scheduler", "lambda_lr", "plateau_lr", "scheduler"),
    "lr_range": ("find_lr",),
}

__all__ = [*mirrors.__all__, *(name for names in _TORCH_NAMES.values() for name in names)]


def __getattr__(name):
    for module, names in _TORCH_NAMES.items():
        if name == module or name in names:
            loaded = importlib.import_module(f".{module}", __name__)
            return loaded if name == module else getattr(loaded, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
