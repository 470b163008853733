"""The learning-rate range test on a torch model: :func:`find_lr` (this module imports torch).

The ramp and the reading of the curve are :func:`lrsched.range_test` and
:func:`lrsched.suggest_lr`; this module only drives a model through them and
puts the model and the optimizer back as they were.
"""

from __future__ import annotations

import copy

import torch

from .. import _validate as v
from ..lr_range import MIN_SCORE, Batches, LRSuggestion, RangeTest
from ..plateau import ranks_mean
from .clock import paused
from .param_groups import write

__all__ = ["find_lr"]


def find_lr(
    model,
    optimizer,
    loss_fn,
    batches,
    start: float = 1e-7,
    end: float = 10.0,
    steps: int = 100,
    method: str = "valley",
    diverge: float = 5.0,
    step_fn=None,
    smooth: float = 0.05,
    shape: str = "exponential",
    skip_start: int = 0,
    skip_end: int = 0,
    min_score: float = MIN_SCORE,
    sync: bool | None = None,
) -> LRSuggestion:
    """Run the range test on ``model`` and suggest an lr; the model and optimizer are then restored to the bit.

    Update k (1 .. ``steps``) sets every param group's lr to
    ``range_test(start, end, steps, shape)(k)``, takes the next batch
    (cycling through ``batches``, any iterable of ``(inputs, targets)``),
    records its loss and updates. It stops before updating once the loss is
    not finite or its smoothed value exceeds ``diverge`` times the best so far
    (torch-lr-finder's rule, with its 0.05 smoothing), so it makes at most
    ``steps`` updates. The result is :func:`lrsched.suggest_lr` of the record
    (``method``: ``"valley"``, ``"steepest"`` or ``"minimum"``); ``.plot()``
    draws it.

    The default update is ``loss_fn(model(inputs), targets).backward()``
    between ``optimizer.zero_grad()`` and ``optimizer.step()``;
    ``step_fn(model, batch) -> loss`` replaces the forward, loss and backward
    (autocast, custom models, batches of another shape; the update stays a
    plain ``optimizer.step()``, so an fp16 ``GradScaler`` does not fit: run
    the test in bf16 or fp32). Afterwards the model's
    parameters, gradients, buffers and train/eval modes, the optimizer's state and
    param-group values (a tensor lr: the same tensor, its value back) are
    exactly what they were, non-persistent buffers included, even if a step
    raised, and so is torch's CPU random state (dropout, and a shuffling
    ``DataLoader``, whose ``iter()`` draws from it), so that the training that
    follows is the one that would have run without the test.
    ``skip_start`` / ``skip_end`` and ``min_score`` go to :func:`lrsched.suggest_lr`.

    ``sync``: each point's loss is the mean over the ranks of
    ``torch.distributed``, so every rank reads the same curve, stops at the
    same update and gets the same suggestion. By default (None) it does so
    for a ``DistributedDataParallel`` model, whose updates every rank takes
    anyway; every rank must then call ``find_lr``.

    Example:
        >>> import torch
        >>> torch.manual_seed(0) and None
        >>> x = torch.randn(256, 4)
        >>> y = (x.sum(1) > 0).long()
        >>> model = torch.nn.Linear(4, 2)
        >>> opt = torch.optim.SGD(model.parameters(), lr=0.1)
        >>> before = [p.clone() for p in model.parameters()]
        >>> batches = [(x[i : i + 32], y[i : i + 32]) for i in range(0, 256, 32)]
        >>> r = lrsched.torch.find_lr(model, opt, torch.nn.functional.cross_entropy, batches)
        >>> r.method, len(r.lrs) <= 100, all(torch.equal(p, q) for p, q in zip(before, model.parameters()))
        ('valley', True, True)
        >>> ax = r.plot()  # the loss against the lr, the suggestion marked (needs matplotlib)
    """
    _check_callables(model, optimizer, loss_fn, step_fn)
    run = RangeTest(start, end, steps, method, diverge, smooth, skip_start, skip_end, min_score, shape)
    _check_fits(model, run, end)
    sync = isinstance(model, torch.nn.parallel.DistributedDataParallel) if sync is None else v.flag("sync", sync)
    saved = _Saved(model, optimizer)  # before iter(batches): a shuffling DataLoader draws from torch's random state
    try:
        _sweep(model, optimizer, loss_fn, step_fn, Batches(batches, "(inputs, targets)"), run, sync)
    finally:
        saved.restore()
    return run.suggestion()


def _sweep(model, optimizer, loss_fn, step_fn, feed: Batches, run: RangeTest, sync: bool) -> None:
    """The test's updates: update k at the ramp's lr(k), its loss recorded first; none once the curve diverges."""
    model.train()
    with paused(optimizer):  # an lrsched scheduler of this optimizer neither counts nor steers the test
        for k in range(1, run.steps + 1):
            lr = run.lr(k)
            for g in optimizer.param_groups:
                write(g, ("lr", None), lr)
            batch = feed.next()
            optimizer.zero_grad()
            loss = _loss(model, loss_fn, step_fn, batch)
            if run.record(lr, ranks_mean(loss, k, what="find_lr step") if sync else loss):  # one curve, every rank
                return  # diverged: recorded, never stepped
            optimizer.step()


def _check_callables(model, optimizer, loss_fn, step_fn) -> None:
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
    if step_fn is None and not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable (outputs, targets) -> loss, got {v.show(loss_fn)}")
    if step_fn is not None and not callable(step_fn):
        raise TypeError(f"step_fn must be callable (model, batch) -> loss, got {v.show(step_fn)}")


def _check_fits(model, run: RangeTest, end) -> None:
    """Refuse a ramp whose end overflows the lr in a floating parameter's dtype."""
    for p in model.parameters():
        if p.is_floating_point() and run.lr(run.steps) > torch.finfo(p.dtype).max:
            raise ValueError(
                f"end={v.show(end)} overflows the learning rate in the parameters' {p.dtype}: "
                f"at most {torch.finfo(p.dtype).max:.3g}"
            )


class _Saved:
    """What a range test changes, saved: the model's parameters, buffers (non-persistent too), gradients and
    train/eval modes, the optimizer's state and param-group values (a tensor lr: the same tensor), and torch's
    CPU random state; :meth:`restore` puts all of it back, to the bit."""

    def __init__(self, model, optimizer):
        self.model, self.optimizer = model, optimizer
        self.rng = torch.random.get_rng_state()
        self.model_state = copy.deepcopy(model.state_dict())
        self.buffers = [(b, b.detach().clone()) for b in model.buffers()]
        self.optimizer_state = copy.deepcopy(optimizer.state_dict())
        self.tensors = [  # tensor hyperparameters (a capturable lr): the caller's own tensors come back, values and all
            (i, key, x, x.detach().clone())
            for i, g in enumerate(optimizer.param_groups)
            for key, x in g.items()
            if isinstance(x, torch.Tensor)
        ]
        self.modes = [m.training for m in model.modules()]
        params = {id(p): p for p in model.parameters()}
        params.update((id(p), p) for g in optimizer.param_groups for p in g["params"])
        self.grads = [(p, None if p.grad is None else p.grad.clone()) for p in params.values()]

    def restore(self) -> None:
        model, optimizer = self.model, self.optimizer
        model.load_state_dict(self.model_state)
        with torch.no_grad():
            for b, value in self.buffers:
                b.copy_(value)
        optimizer.load_state_dict(self.optimizer_state)
        for i, key, x, value in self.tensors:  # load_state_dict made new groups, with new tensors
            with torch.no_grad():
                x.copy_(value)
            optimizer.param_groups[i][key] = x
        for m, mode in zip(model.modules(), self.modes):
            m.training = mode
        for p, grad in self.grads:
            p.grad = grad
        torch.random.set_rng_state(self.rng)


def _loss(model, loss_fn, step_fn, batch) -> float:
    if step_fn is not None:
        loss = step_fn(model, batch)
        if not (isinstance(loss, torch.Tensor) or v._is_real(v._scalar(loss))):
            raise TypeError(f"step_fn must return the loss, a number or a one-element tensor, got {v.show(loss)}")
    else:
        try:
            inputs, targets = batch
        except (TypeError, ValueError):
            raise TypeError(
                f"each batch must be a pair (inputs, targets), got {type(batch).__name__}; "
                "for other batches give step_fn(model, batch) -> loss"
            ) from None
        loss = loss_fn(model(inputs), targets)
        if not isinstance(loss, torch.Tensor):
            raise TypeError(f"loss_fn must return the loss as a tensor (to call backward on), got {v.show(loss)}")
        _one_number(loss)
        loss.backward()
    _one_number(loss)
    if hasattr(loss, "detach"):
        loss = loss.detach()
    return float(loss)


def _one_number(loss) -> None:
    """Refuse a loss that is not one number (checked before ``backward``, which would fail less clearly)."""
    if hasattr(loss, "numel") and loss.numel() != 1:
        raise ValueError(f"the loss must be a single number, got a tensor of shape {tuple(loss.shape)}")
