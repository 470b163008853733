"""The learning-rate range test on a JAX loss: :func:`find_lr` (this module imports JAX and optax).

The ramp, the record and its reading are :class:`lrsched.lr_range.RangeTest`;
this module only drives one jitted optax update through them. Nothing needs
restoring: the params are immutable arrays and the optimizer is made fresh.
"""

from __future__ import annotations

import inspect

import jax
import jax.numpy as jnp
import optax

from .. import _validate as v
from ..lr_range import MIN_SCORE, Batches, LRSuggestion, RangeTest
from .adapter import schedule

__all__ = ["find_lr"]


def find_lr(
    loss_fn,
    params,
    optimizer,
    batches,
    start: float = 1e-7,
    end: float = 10.0,
    steps: int = 100,
    method: str = "valley",
    diverge: float = 5.0,
    smooth: float = 0.05,
    skip_start: int = 0,
    skip_end: int = 0,
    min_score: float = MIN_SCORE,
) -> LRSuggestion:
    r"""The learning-rate range test on a JAX loss: raise the lr update by update, then suggest one.

    Update t (1 .. n, n = ``steps``) takes the next batch (cycling through
    ``batches``, any iterable of what ``loss_fn(params, batch)`` takes; a
    one-shot iterator is remembered as it is read), records the loss at the
    current params and updates them with the lr

    .. math:: \eta(t) = s \left(\frac{e}{s}\right)^{(t - 1) / (n - 1)}

    (``ls.range_test(start, end, steps)``, s = ``start``, e = ``end``). It stops
    once the loss is not finite or its smoothed value exceeds ``diverge`` times
    the best so far (the rule of ``lrsched.torch.find_lr``; that point is
    recorded, its update dropped), so it makes at most n updates. The result is
    ``ls.suggest_lr`` of the record (``method``: ``"valley"``, ``"steepest"`` or
    ``"minimum"``; ``smooth``: the weight of each new loss; ``skip_start`` /
    ``skip_end``: points left out at either end of the curve; ``min_score``:
    the bar of a reliable descent, below which ``lr`` is None); ``.plot()`` draws it.

    ``optimizer`` is an optax constructor that takes the lr as its parameter
    ``learning_rate`` or, lacking one, as its first argument: ``optax.sgd``,
    ``optax.adamw``, ``functools.partial(optax.sgd, momentum=0.9)``, ``lambda lr:
    optax.chain(optax.clip(1.0), optax.adam(lr))``. It is built once, under
    ``optax.inject_hyperparams`` with the ramp as its lr schedule
    (``lrsched.optax.schedule``), so that one jitted step (value and gradient
    of ``loss_fn``, optimizer update) serves every lr: nothing recompiles per lr.
    The lr is held in the params' dtype (optax's rule): the ramp must fit in it.
    ``loss_fn`` must return a real scalar; its batches should keep one shape
    (a new shape compiles the step again).

    Nothing needs restoring: ``params`` is a pytree of immutable arrays that the
    test reads and never changes (it is not donated), and the optimizer is made
    fresh, so the training that follows starts from the same params and a new
    ``optimizer(lr).init(params)``. Randomness inside ``loss_fn`` is the caller's
    (a key in the batch).

    Example (skipped where optax is not installed):
        >>> import pytest; optax = pytest.importorskip("optax")
        >>> import jax.numpy as jnp
        >>> x = np.random.default_rng(0).normal(size=(256, 4)).astype(np.float32)
        >>> batches = [(x[i : i + 32], x[i : i + 32] @ np.float32([1, -2, 0.5, 3])) for i in range(0, 256, 32)]
        >>> def loss_fn(params, batch):
        ...     inputs, targets = batch
        ...     return jnp.mean((inputs @ params["w"] + params["b"] - targets) ** 2)
        >>> params = {"w": jnp.zeros(4), "b": jnp.zeros(())}
        >>> r = lrsched.optax.find_lr(loss_fn, params, optax.sgd, batches)
        >>> r.method, len(r.lrs) < 100, r.diverged_at == len(r.lrs) - 1  # plain SGD diverges on the way to 10
        ('valley', True, True)
        >>> tx = optax.sgd(lrsched.optax.schedule(ls.one_cycle(10 * r.lr, steps=1000)))  # or a constant r.lr
    """
    _check_callables(loss_fn, optimizer)
    run = RangeTest(start, end, steps, method, diverge, smooth, skip_start, skip_end, min_score)
    _check_params(params)
    dtype = optax.tree.dtype(params, "highest")
    finfo = jnp.finfo(dtype)
    run.check_fits(jnp.dtype(dtype).name, float(finfo.max), float(finfo.tiny))
    make, static = _lr_constructor(optimizer, float(run.lr(1)))
    feed = Batches(batches)
    batch = feed.next()
    _check_loss(loss_fn, params, batch)
    tx = make(optax.inject_hyperparams(optimizer, static), schedule(run.lr, run.steps))  # lr(count) = ramp(count + 1)
    _sweep(_jitted_update(loss_fn, tx), params, tx.init(params), feed, batch, run)
    return run.suggestion()


def _sweep(update, params, state, feed: Batches, batch, run: RangeTest) -> None:
    """The test's updates, the first on ``batch``: update t at the ramp's lr(t), its loss recorded; none once the
    curve diverges (the caller's ``params`` are never changed: each update makes new arrays)."""
    for t in range(1, run.steps + 1):
        if t > 1:
            batch = feed.next()
        loss, new_params, new_state = update(params, state, batch)
        if run.record(run.lr(t), float(loss)):  # diverged: recorded, its update dropped
            return
        params, state = new_params, new_state


def _check_callables(loss_fn, optimizer) -> None:
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable (params, batch) -> scalar loss, got {v.show(loss_fn)}")
    if isinstance(optimizer, optax.GradientTransformation) or not callable(optimizer):
        raise TypeError(
            "optimizer must be an optax constructor taking the learning rate (optax.adam, not optax.adam(1e-3); "
            f"or functools.partial(optax.sgd, momentum=0.9)), got {v.show(optimizer)}"
        )


def _check_params(params) -> None:
    """``params`` must hold float arrays only, at least one (they are differentiated)."""
    if not jax.tree_util.tree_leaves(params):
        raise ValueError(f"params must hold at least one array to train, got {v.show(params)}")
    for path, leaf in jax.tree_util.tree_leaves_with_path(params):
        if not jnp.issubdtype(jnp.result_type(leaf), jnp.inexact):
            where = jax.tree_util.keystr(path) or ""
            raise TypeError(f"params{where} must be a float array (it is differentiated), got {v.show(leaf)}")


def _check_loss(loss_fn, params, batch) -> None:
    """``loss_fn(params, batch)`` must be a real scalar: traced, not run (no update happens before the test)."""
    out = jax.eval_shape(loss_fn, params, batch)
    if not (isinstance(out, jax.ShapeDtypeStruct) and out.shape == () and jnp.issubdtype(out.dtype, jnp.floating)):
        got = f"an array of shape {out.shape} and dtype {out.dtype}" if hasattr(out, "shape") else v.show(out)
        raise ValueError(f"loss_fn must return a real scalar loss (shape ()), got {got}")


def _jitted_update(loss_fn, tx):
    """One jitted step: the loss at the params, and the params and state after ``tx``'s update."""

    @jax.jit
    def update(params, state, batch):
        loss, grads = jax.value_and_grad(loss_fn)(params, batch)
        updates, state = tx.update(grads, state, params)
        return loss, optax.apply_updates(params, updates), state

    return update


def _lr_constructor(optimizer, lr: float):
    """How to hand ``optimizer`` its lr, and which of its other parameters are bound to callables.

    ``make(factory, lr)`` calls ``factory(learning_rate=lr)`` or ``factory(lr)``;
    ``static`` names the parameters bound to callables (a partial's
    ``mask=fn``), which ``optax.inject_hyperparams`` must not take for schedules.
    ``optimizer`` is tried once with ``lr``: it must give a GradientTransformation.
    """
    try:
        params = inspect.signature(optimizer).parameters
    except (TypeError, ValueError):  # no signature to read: positionally (inject_hyperparams will need one)
        params = {}
    positional = [n for n, p in params.items() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if "learning_rate" in params:
        name, make = "learning_rate", lambda factory, lr: factory(learning_rate=lr)
    elif positional or not params or any(p.kind == p.VAR_POSITIONAL for p in params.values()):
        name, make = (positional or [None])[0], lambda factory, lr: factory(lr)
    else:
        raise TypeError(
            f"optimizer must take the learning rate as its first argument or as learning_rate, "
            f"got {v.show(optimizer)} with parameters ({', '.join(params)})"
        )
    static = tuple(n for n, p in params.items() if n != name and p.default is not p.empty and callable(p.default))
    try:
        probe = make(optimizer, lr)
    except TypeError as e:
        raise TypeError(f"optimizer must take the learning rate as its first argument or as learning_rate: {e}") from e
    if not isinstance(probe, optax.GradientTransformation):
        raise TypeError(f"optimizer(learning_rate) must return an optax GradientTransformation, got {v.show(probe)}")
    return make, static
