"""PyTorch: real torch schedulers driven by any schedule, and exact mirrors of ``torch.optim.lr_scheduler``.

- :mod:`lrsched.torch.adapter` (imports torch) names the torch schedulers,
  each defined in a module of its own: :func:`scheduler` (the class
  :class:`Scheduler`, in :mod:`~lrsched.torch.update_scheduler`) sets lr,
  momentum (or beta1), weight_decay or any numeric param-group key from
  schedules, counting the optimizer updates that really happen (the clock:
  :mod:`~lrsched.torch.clock`); :func:`plateau_lr` (:class:`PlateauLR`, in
  :mod:`~lrsched.torch.plateau_scheduler`) adds reduce-on-plateau;
  :func:`lambda_lr` (:class:`LambdaLR`, in
  :mod:`~lrsched.torch.lambda_scheduler`) is torch's own LambdaLR. What they
  share: :mod:`~lrsched.torch.param_groups` (param-group keys, values torch
  refuses, the constructor arguments) and :mod:`~lrsched.torch.checkpoints`
  (state dicts, and a checkpoint's schedules against the code's);
  :mod:`~lrsched.torch.knobs` (attributes driven on the clock, the unit
  clock in samples or tokens, and :class:`ScheduleFreeWarning`).
- :mod:`lrsched.torch.lr_range` (imports torch): :func:`find_lr`, the
  learning-rate range test on a model, which puts the model and optimizer
  back as they were.
- :mod:`lrsched.torch.foreign` (imports torch): :func:`updates_done`, the
  updates a DeepSpeed, Megatron, NeMo, composer or Hugging Face run had made
  when its scheduler state was saved, to resume it with ``last_epoch=``.
- :mod:`lrsched.torch.mirrors` (pure, no torch): each torch scheduler as a
  plain schedule, and the momentum that OneCycleLR and CyclicLR cycle.

Importing this package imports no torch: the mirrors are here at once, and
the names of the torch modules load their module on first use.
The migration table (torch class -> lrsched call) is in docs/migration.md.
"""

from __future__ import annotations

from .._lazy import loader
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

#: the modules importing torch, each with the public names it holds (a module's own name loads it too)
_TORCH_NAMES = {
    "adapter": (),  # re-exports the three schedulers below, under the name docs and users import
    "update_scheduler": ("Scheduler", "scheduler"),
    "knobs": ("ScheduleFreeWarning",),
    "plateau_scheduler": ("PlateauLR", "plateau_lr"),
    "lambda_scheduler": ("LambdaLR", "ScheduleFactor", "lambda_lr"),
    "lr_range": ("find_lr",),
    "foreign": ("updates_done",),
}

__all__ = [*mirrors.__all__, *(name for names in _TORCH_NAMES.values() for name in names)]

__getattr__ = loader(__name__, _TORCH_NAMES)
