"""The learning-rate range test on a compiled Keras 3 model: :func:`find_lr` (this module imports keras).

The ramp, the record and its reading are :class:`lrsched.lr_range.RangeTest`;
this module only drives a model through them and puts every variable the
training step touches back as it was.
"""

from __future__ import annotations

import numpy as np

from .. import _validate as v
from ..lr_range import MIN_SCORE, LRSuggestion, RangeTest
from . import import_keras

keras = import_keras()

__all__ = ["find_lr"]


def find_lr(
    model,
    x,
    y=None,
    batch_size: int = 32,
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
    r"""The learning-rate range test on a compiled Keras 3 model; the model and its optimizer are then restored exactly.

    Update t (1 .. n, n = ``steps``) sets the optimizer's learning rate to

    .. math:: \eta(t) = s \left(\frac{e}{s}\right)^{(t - 1) / (n - 1)}

    (``ls.range_test(start, end, steps)``, s = ``start``, e = ``end``), trains on
    the next batch with ``model.train_on_batch`` and records that batch's loss
    (the loss before the update, as ``fit`` reports it, regularization included).
    The batches are ``x`` and ``y`` (arrays, or the lists and dicts of arrays
    ``fit`` takes) cut in order into ``batch_size`` rows, cycled; a remainder
    that fills no whole batch is left out, so that one compiled step serves
    every lr (shuffle x and y first if they are sorted). It stops once the loss
    is not finite or its smoothed value exceeds ``diverge`` times the best so
    far (the rule of ``lrsched.torch.find_lr``), so it makes at most n
    updates. The result is ``ls.suggest_lr`` of the record (``method``:
    ``"valley"``, ``"steepest"`` or ``"minimum"``; ``smooth``: the weight of
    each new loss; ``skip_start`` / ``skip_end``: points left out at either end
    of the curve; ``min_score``: the bar of a reliable descent, below which
    ``lr`` is None); ``.plot()`` draws it.

    The optimizer needs a float learning rate (a Keras variable, which the test
    sets): compile with a schedule only after the test. Afterwards every
    variable the training step touches is what it was, even if a step raised:
    the weights (trainable and not: batch-norm statistics), the dropout
    layers' seed states, the optimizer's variables (iterations, moments, the
    learning rate) and the compiled metrics. A model or an optimizer not yet
    built is built first (the optimizer's slots as its first ``fit`` would make
    them), so that ``fit`` then runs as it would have without the test.

    Example (skipped where Keras or its backend is not installed):
        >>> import pytest; keras = pytest.importorskip("keras")
        >>> x = np.random.default_rng(0).normal(size=(256, 4)).astype("float32")
        >>> y = x @ np.float32([[1], [-2], [0.5], [3]])
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
        >>> model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01), loss="mse")
        >>> before = model.get_weights()
        >>> r = lrsched.keras.find_lr(model, x, y)
        >>> r.method, len(r.lrs) < 100, all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
        ('valley', True, True)
        >>> float(model.optimizer.learning_rate) == float(np.float32(0.01))  # its lr and state back, too
        True
    """
    lr = _lr_variable(model)
    run = RangeTest(start, end, steps, method, diverge, smooth, skip_start, skip_end, min_score)
    size = v.count("batch_size", batch_size)
    finfo = np.finfo(lr.dtype)
    run.check_fits(np.dtype(lr.dtype).name, float(finfo.max), float(finfo.tiny))
    batch, count = _batches(x, y, size)
    _build(model, batch(0))
    saved = _variables(model)
    try:
        for t in range(1, run.steps + 1):
            lr.assign(run.lr(t))
            logs = model.train_on_batch(*batch((t - 1) % count), return_dict=True)
            if run.record(run.lr(t), float(logs["loss"])):  # diverged: recorded (its update is undone with the rest)
                break
    finally:
        _restore(model, saved)
    return run.suggestion()


def _lr_variable(model):
    """The compiled optimizer's learning rate, the variable the test sets; a model it cannot drive is refused."""
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model, got {v.show(model)}")
    opt = getattr(model, "optimizer", None)
    if not getattr(model, "compiled", False) or opt is None:
        raise ValueError("model must be compiled with an optimizer and a loss: model.compile(optimizer, loss)")
    lr = opt.learning_rate
    if not isinstance(lr, keras.Variable):
        given = getattr(opt, "_learning_rate", lr)  # the schedule or callable itself, not its current value
        raise TypeError(
            f"model.optimizer's learning rate must be a float for the range test to set, got {v.show(given)}: "
            "compile with learning_rate=<float> for the test, and with the schedule after it"
        )
    return lr


def _batches(x, y, size: int):
    """``batch(i)``, the i-th whole batch of ``size`` rows as ``(x, y)``, and how many whole batches there are
    (at least 1: fewer rows than ``size`` make one short batch)."""
    rows = _rows("x", x)
    if y is not None and _rows("y", y) != rows:
        raise ValueError(f"x and y differ in length: {rows} rows of x, {_rows('y', y)} of y")

    def batch(i):
        lo, hi = i * size, min((i + 1) * size, rows)
        cut = lambda a: a[lo:hi]  # noqa: E731
        return keras.tree.map_structure(cut, x), None if y is None else keras.tree.map_structure(cut, y)

    return batch, max(rows // size, 1)


def _rows(name, data) -> int:
    """The number of rows of ``data`` (an array, or a list or dict of arrays of one length)."""
    leaves = keras.tree.flatten(data)
    if not leaves or not all(hasattr(a, "shape") and len(a.shape) >= 1 for a in leaves):
        raise TypeError(f"{name} must be an array (or a list or dict of arrays, as fit takes), got {v.show(data)}")
    rows = {int(a.shape[0]) for a in leaves}
    if len(rows) > 1:
        raise ValueError(f"the arrays of {name} differ in length: {sorted(rows)} rows")
    (n,) = rows
    if n == 0:
        raise ValueError(f"{name} has no rows")
    return n


def _build(model, first_batch) -> None:
    """Create every variable the training step touches, untrained, as ``train_on_batch`` does first."""
    if hasattr(model, "_symbolic_build"):
        model._symbolic_build(data_batch=(*first_batch, None))
    elif not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)


def _variables(model) -> dict[int, tuple]:
    """Every variable a training step touches (the model's, the optimizer's, the metrics'), with a copy of its
    value, by id: what :func:`_restore` puts back."""
    sync = getattr(model, "jax_state_sync", None)  # JAX: the variables hold the latest values (as for a callback)
    if sync is not None:
        sync()
    state: dict[int, tuple] = {}
    for var in [*model.variables, *model.optimizer.variables, *model.metrics_variables]:
        state.setdefault(id(var), (var, np.array(keras.ops.convert_to_numpy(var), copy=True)))
    return state


def _restore(model, state: dict[int, tuple]) -> None:
    """Every variable of ``state`` back to its saved value (after the test, or a step that raised)."""
    if getattr(model, "_jax_state", None) is not None:
        model._jax_state = None  # JAX: drop the train step's state, stale if a step raised (as fit does at its end)
    for var, value in state.values():
        var.assign(value)
