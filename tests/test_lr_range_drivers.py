"""lrsched.optax.find_lr and lrsched.keras.find_lr: the range test on JAX and Keras, against torch's on one problem."""

from __future__ import annotations

import functools
import os

os.environ.setdefault("KERAS_BACKEND", "jax")  # Keras 3 on the JAX backend (installed by the README test command)

import numpy as np
import pytest

import lrsched as ls
import lrsched.keras as lk
import lrsched.optax as lo

# ---------------------------------------------------------------- one least-squares problem for every framework

ROWS, BATCH, SCALES = 512, 64, np.float32([1.0, 2.0, 0.5, 1.0, 3.0])


def _data():
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(ROWS, 5)) * SCALES).astype(np.float32)
    y = (x @ np.float32([1.0, -2.0, 0.5, 3.0, 1.0]) + 0.1 * rng.normal(size=ROWS)).astype(np.float32)
    return x, y[:, None]


def _batches():
    x, y = _data()
    return [(x[i : i + BATCH], y[i : i + BATCH]) for i in range(0, ROWS, BATCH)]


def _sgd_edge():
    """2 / L, L the largest eigenvalue of the mean squared error's Hessian 2/m [X 1]^T [X 1] over the data and over
    each batch: plain gradient descent at a constant lr above it diverges on one of these quadratics."""
    tops = []
    for x, _ in [_data(), *_batches()]:
        a = np.c_[x, np.ones(len(x))].astype(np.float64)
        tops.append(np.linalg.eigvalsh(2 * a.T @ a / len(x)).max())
    return 2 / max(tops)


@pytest.fixture(scope="module")
def jax():
    return pytest.importorskip("jax", reason="installed by the README test command")


@pytest.fixture(scope="module")
def optax(jax):
    return pytest.importorskip("optax", reason="installed by the README test command")


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras", reason="installed by the README test command")


def _jax_loss(jax):
    def loss_fn(params, batch):
        x, y = batch
        return jax.numpy.mean((x @ params["w"] + params["b"] - y) ** 2)

    return loss_fn


def _jax_params(jax):
    return {"w": jax.numpy.zeros((5, 1)), "b": jax.numpy.zeros((1,))}


def _keras_model(keras, optimizer):
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(1, kernel_initializer="zeros")])
    model.compile(optimizer=optimizer, loss="mse")
    return model


def _find(framework, kind, **kwargs):
    """The range test of plain SGD or Adam (torch's defaults) from zero weights on the problem, in ``framework``."""
    if framework == "optax":
        jax, optax = pytest.importorskip("jax"), pytest.importorskip("optax")
        opt = optax.sgd if kind == "sgd" else optax.adam
        return lo.find_lr(_jax_loss(jax), _jax_params(jax), opt, _batches(), **kwargs)
    if framework == "keras":
        keras = pytest.importorskip("keras")
        opt = keras.optimizers.SGD(0.01) if kind == "sgd" else keras.optimizers.Adam(0.01, epsilon=1e-8)
        x, y = _data()
        return lk.find_lr(_keras_model(keras, opt), x, y, batch_size=BATCH, **kwargs)
    torch = pytest.importorskip("torch", reason="installed by the README test command")
    model = torch.nn.Linear(5, 1)
    with torch.no_grad():
        model.weight.zero_()
        model.bias.zero_()
    opt = (torch.optim.SGD if kind == "sgd" else torch.optim.Adam)(model.parameters(), lr=0.01)
    batches = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in _batches()]
    return ls.torch.find_lr(model, opt, torch.nn.functional.mse_loss, batches, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"loss_fn": lambda out, y: "x"}, "loss_fn must return the loss as a tensor .*, got 'x'"),
        ({"loss_fn": lambda out, y: 1.5}, "loss_fn must return the loss as a tensor .*, got 1.5"),
        ({"loss_fn": None, "step_fn": lambda model, batch: "x"}, "step_fn must return the loss, .*, got 'x'"),
        ({"loss_fn": None, "step_fn": lambda model, batch: "1.5"}, "step_fn must return the loss, .*, got '1.5'"),
    ],
)
def test_torch_find_lr_names_a_loss_that_is_not_one_and_restores_the_model(kwargs, message):
    torch = pytest.importorskip("torch", reason="installed by the README test command")
    model = torch.nn.Linear(5, 1)
    before = [p.detach().clone() for p in model.parameters()]
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    batches = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in _batches()]
    with pytest.raises(TypeError, match=message):
        ls.torch.find_lr(model, opt, batches=batches, steps=3, **kwargs)
    assert all(torch.equal(p, q) for p, q in zip(before, model.parameters()))


@pytest.fixture(scope="module")
def found():
    """Every framework's range test, each kind of optimizer, computed once."""
    return {}


def _found(found, framework, kind):
    if (framework, kind) not in found:
        found[framework, kind] = _find(framework, kind)
    return found[framework, kind]


@pytest.mark.parametrize("framework", ["optax", "keras"])
@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_the_suggestion_agrees_with_torchs_on_the_same_problem(found, framework, kind):
    r, ref = _found(found, framework, kind), _found(found, "torch", kind)
    assert r.method == ref.method == "valley"
    assert 1 / 2 <= r.lr / ref.lr <= 2, (r, ref)  # the same ramp and rule: in fact the same point or next to it
    assert abs(r.index - ref.index) <= 3
    n = len(r.lrs)
    np.testing.assert_array_equal(r.lrs, ls.range_test(1e-7, 10.0, 100).values(n))
    m = min(n, len(ref.losses), 40)  # tiny lrs: the same losses up to float32 arithmetic
    np.testing.assert_allclose(r.losses[:m], ref.losses[:m], rtol=1e-4)


@pytest.mark.parametrize("framework", ["torch", "optax", "keras"])
def test_sgds_suggestion_is_stable_on_least_squares_and_the_ramp_diverges_past_the_edge(found, framework):
    r = _found(found, framework, "sgd")
    edge = _sgd_edge()  # 2 / L: no constant lr above it is stable
    assert edge / 100 < r.lr < edge, (r, edge)
    # lr 10 is ~100x past the edge: the test stops early, at the first diverging point, and not before the edge
    assert r.diverged_at == len(r.losses) - 1 < 99
    assert r.lrs[r.diverged_at] > edge


# ---------------------------------------------------------------- optax


def test_optax_one_jitted_step_applies_the_ramp_exactly(jax, optax):
    seen, traced = [], []

    def sgd_spy(learning_rate):  # an optax constructor taking the lr first, reporting the lr each update used
        inner = optax.sgd(learning_rate)

        def update(grads, state, params=None):
            jax.debug.callback(lambda lr: seen.append(np.asarray(lr)), learning_rate, ordered=True)
            return inner.update(grads, state, params)

        return optax.GradientTransformation(inner.init, update)

    def loss_fn(params, batch):
        traced.append(1)  # runs when traced, not when the compiled step runs
        return _jax_loss(jax)(params, batch)

    params = _jax_params(jax)
    r = lo.find_lr(loss_fn, params, sgd_spy, _batches(), end=1e-2, steps=30)
    assert len(traced) <= 2  # one eval_shape (the loss's shape) and one jit: 30 lrs, no recompiling
    assert len(r.losses) == 30 and r.diverged_at is None
    ramp = ls.range_test(1e-7, 1e-2, 30).values(30)
    np.testing.assert_array_equal(np.array(seen, dtype=np.float32), np.float32(ramp))  # optax's float32 lr
    np.testing.assert_array_equal(r.lrs, ramp)
    # the caller's params are untouched and alive (never donated)
    np.testing.assert_array_equal(np.asarray(params["w"]), np.zeros((5, 1)))
    assert r.losses[0] == pytest.approx(float(np.mean(_batches()[0][1] ** 2)), rel=1e-6)


@pytest.mark.parametrize(
    "make",
    [
        lambda optax: optax.adamw,
        lambda optax: functools.partial(optax.sgd, momentum=0.9),
        lambda optax: lambda lr: optax.chain(optax.clip_by_global_norm(1.0), optax.adam(lr)),
        lambda optax: functools.partial(optax.adamw, weight_decay=0.1, mask=lambda p: {"w": True, "b": False}),
    ],
    ids=["adamw", "partial", "lambda", "callable_kwarg"],  # mask=fn: an argument, not a schedule to inject
)
def test_optax_takes_constructors(jax, optax, make):
    r = lo.find_lr(_jax_loss(jax), _jax_params(jax), make(optax), _batches(), method="minimum")
    assert r.method == "minimum" and 3 <= len(r.lrs) <= 100
    assert r.lr is not None and 1e-7 <= r.lr * 10 <= 10, r


def test_optax_one_shot_iterators_cycle(jax, optax):
    stream = iter(_batches()[:3])  # read once, remembered
    r = lo.find_lr(_jax_loss(jax), _jax_params(jax), optax.sgd, stream, end=1e-6, steps=9)
    assert len(r.losses) == 9
    losses = np.array(r.losses).reshape(3, 3)  # lrs <= 1e-6 barely move the params: the three batches' losses, again
    np.testing.assert_allclose(losses, losses[[0, 0, 0]], rtol=1e-4)


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"loss_fn": None}, TypeError, "loss_fn must be callable"),
        ({"loss_fn": "per_example"}, ValueError, r"loss_fn must return a real scalar loss .* shape \(64, 1\)"),
        ({"optimizer": "instance"}, TypeError, "optimizer must be an optax constructor"),
        ({"optimizer": "keyword_only"}, TypeError, "optimizer must take the learning rate"),
        ({"params": {}}, ValueError, "params must hold at least one array"),
        ({"params": "ints"}, TypeError, r"params\['w'\] must be a float array"),
        ({"batches": 5}, TypeError, "batches must be an iterable"),
        ({"batches": []}, ValueError, "batches gave no batch"),
        ({"start": 1.0, "end": 0.1}, ValueError, "start=1.0 must be below end=0.1"),
        ({"start": 0.0}, ValueError, "start must be > 0"),
        ({"start": 1e300, "end": 1e308}, ValueError, r"end=1e\+308 overflows the learning rate's float32"),
        ({"start": 1e-40}, ValueError, "start=1e-40 is below the smallest float32 learning rate"),
        ({"steps": 2}, ValueError, "steps must be >= 3"),
        ({"steps": 1.5}, ValueError, "steps must be a whole number"),
        ({"skip_end": "2"}, TypeError, "skip_end must be an integer"),
        ({"diverge": 0.5}, ValueError, "diverge must be above 1"),
        ({"method": "fastest"}, ValueError, "method must be one of"),
        ({"smooth": 0.0}, ValueError, "smooth must be in"),
    ],
)
def test_optax_mistakes_are_named_before_any_update(jax, optax, change, error, message):
    calls = []

    def loss_fn(params, batch):
        calls.append(1)
        return _jax_loss(jax)(params, batch)

    args = {"loss_fn": loss_fn, "params": _jax_params(jax), "optimizer": optax.sgd, "batches": _batches()}
    if change.get("loss_fn") == "per_example":
        change = {"loss_fn": lambda p, b: calls.append(1) or (b[0] @ p["w"] + p["b"] - b[1]) ** 2}
    if change.get("optimizer") == "instance":
        change = {"optimizer": optax.sgd(0.1)}
    if change.get("optimizer") == "keyword_only":
        change = {"optimizer": lambda *, lr: optax.sgd(lr)}
    if change.get("params") == "ints":
        change = {"params": {"w": np.zeros((5, 1), dtype=np.int32), "b": np.zeros(1, np.float32)}}
    args.update(change)
    with pytest.raises(error, match=message):
        lo.find_lr(**args)
    assert len(calls) <= 1  # at most traced for its shape: no update ran


def test_optax_loss_that_diverges_at_once_asks_for_a_lower_start(jax, optax):
    with pytest.raises(ValueError, match="lower start=1.0"):
        lo.find_lr(_jax_loss(jax), _jax_params(jax), optax.sgd, _batches(), start=1.0, end=1e6, steps=10)


# ---------------------------------------------------------------- keras


def _state(model):
    """Every variable a training step touches, as numpy copies, in a fixed order."""
    variables = [*model.variables, *model.optimizer.variables, *model.metrics_variables]
    return [(v.path, np.array(v.numpy(), copy=True)) for v in variables]


def _same(a, b, paths=True):
    """The same values, dtypes and (``paths``: of the same variables) in the same order."""
    return len(a) == len(b) and all(
        (p == q or not paths) and x.dtype == y.dtype and np.array_equal(x, y) for (p, x), (q, y) in zip(a, b)
    )


def _net(keras):
    """Batch norm (non-trainable statistics), dropout (a seed state), Adam (moments), a metric: every kind of state."""
    keras.utils.set_random_seed(3)
    model = keras.Sequential(
        [
            keras.Input((5,)),
            keras.layers.Dense(8),
            keras.layers.BatchNormalization(),
            keras.layers.ReLU(),
            keras.layers.Dropout(0.2, seed=1),
            keras.layers.Dense(1),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.003), loss="mse", metrics=["mae"])
    return model


def _train(model, x, y):
    """An epoch in order, batch by batch: fit's updates, with the step the range test compiled (fit compiles anew)."""
    for i in range(0, len(x), BATCH):
        model.train_on_batch(x[i : i + BATCH], y[i : i + BATCH])


def test_keras_restores_weights_optimizer_and_metrics_exactly_and_training_goes_on_as_without_it(keras):
    x, y = _data()
    model, twin = _net(keras), _net(keras)  # the same weights; the twin never sees a range test
    weights = _state(model)[: len(model.variables)]
    # a fresh optimizer (and metric) is built first, as fit builds it: untrained moments, no update counted
    r = lk.find_lr(model, x, y, batch_size=BATCH, end=1e3)
    assert r.diverged_at is not None  # it went far enough to diverge, so the state really moved
    built = _state(model)
    assert _same(weights, built[: len(model.variables)])
    assert int(model.optimizer.iterations.numpy()) == 0
    assert all(not np.any(value) for path, value in built if "momentum" in path or "velocity" in path)
    for m in (model, twin):  # moments, iterations and metric totals to keep
        _train(m, x[:192], y[:192])
    assert _same(_state(model), _state(twin), paths=False)  # two models: the same values, under other names
    # a trained model: every variable back to the bit, the learning rate too
    before = _state(model)
    r = lk.find_lr(model, x, y, batch_size=BATCH, end=1e3)
    assert r.diverged_at is not None
    assert _same(before, _state(model))
    assert float(model.optimizer.learning_rate.numpy()) == np.float32(0.003)
    # the training that follows is the one that would have run without the test (dropout's draws too)
    for m in (model, twin):
        _train(m, x, y)
    assert _same(_state(model), _state(twin), paths=False)


def test_keras_records_each_batchs_loss_at_the_ramps_lr(keras):
    x, y = _data()
    x, y = x[:100], y[:100]  # 3 batches of 32; the remainder of 4 rows is left out
    model = _keras_model(keras, keras.optimizers.SGD(0.01))
    r = lk.find_lr(model, x, y, end=1e-6, steps=9)
    np.testing.assert_array_equal(r.lrs, ls.range_test(1e-7, 1e-6, 9).values(9))
    expected = [float(np.mean(y[i : i + 32] ** 2)) for i in (0, 32, 64)] * 3  # zero weights, lrs too small to move
    np.testing.assert_allclose(r.losses, expected, rtol=1e-4)
    assert r.losses[0] == pytest.approx(expected[0], rel=1e-6)


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"model": "net"}, TypeError, "model must be a keras.Model"),
        ({"model": "uncompiled"}, ValueError, "model must be compiled"),
        ({"model": "scheduled"}, TypeError, "learning rate must be a float"),
        ({"x": "abc"}, TypeError, "x must be an array"),
        ({"x": [np.zeros((8, 5)), np.zeros((9, 5))]}, ValueError, "the arrays of x differ in length"),
        ({"x": np.zeros((0, 5), np.float32), "y": np.zeros((0, 1), np.float32)}, ValueError, "x has no rows"),
        ({"y": np.zeros((7, 1))}, ValueError, "x and y differ in length: 512 rows of x, 7 of y"),
        ({"batch_size": 0}, ValueError, "batch_size must be >= 1"),
        ({"start": 1.0, "end": 0.1}, ValueError, "start=1.0 must be below end=0.1"),
        ({"start": 1e300, "end": 1e308}, ValueError, r"end=1e\+308 overflows the learning rate's float32"),
        ({"start": 1e-40}, ValueError, "start=1e-40 is below the smallest float32 learning rate"),
        ({"steps": 2}, ValueError, "steps must be >= 3"),
        ({"skip_start": -1}, ValueError, "skip_start must be >= 0"),
        ({"diverge": 1.0}, ValueError, "diverge must be above 1"),
        ({"method": "fastest"}, ValueError, "method must be one of"),
        ({"smooth": 2.0}, ValueError, "smooth must be in"),
    ],
)
def test_keras_mistakes_are_named_before_any_update(keras, change, error, message):
    x, y = _data()
    model = _net(keras)
    before = _state(model)  # nothing built yet: any variable made, or changed, shows
    args = {"model": model, "x": x, "y": y}
    if change.get("model") == "uncompiled":
        change = {"model": keras.Sequential([keras.Input((5,)), keras.layers.Dense(1)])}
    if change.get("model") == "scheduled":
        change = {"model": _keras_model(keras, keras.optimizers.SGD(lk.schedule(ls.constant(0.1), steps=1)))}
    args.update(change)
    with pytest.raises(error, match=message):
        lk.find_lr(**args)
    assert _same(before, _state(model))


def test_keras_loss_that_diverges_at_once_asks_for_a_lower_start_and_restores(keras):
    x, y = _data()
    model = _keras_model(keras, keras.optimizers.SGD(0.01))
    before = _state(model)
    with pytest.raises(ValueError, match="lower start=1.0"):
        lk.find_lr(model, x, y, start=1.0, end=1e6, steps=10)
    assert _same(before, _state(model))


# ---------------------------------------------------------------- what suggest_lr takes, passed on


def test_the_drivers_pass_skip_start_and_skip_end_to_suggest_lr(jax, optax):
    import inspect

    for fn in (ls.suggest_lr, lo.find_lr, lk.find_lr):
        assert {"method", "smooth", "diverge", "skip_start", "skip_end"} <= set(inspect.signature(fn).parameters), fn
    run = functools.partial(lo.find_lr, _jax_loss(jax), _jax_params(jax), optax.sgd, _batches(), method="minimum")
    whole, r = run(), run(skip_start=10, skip_end=3)  # the same updates: the same record
    again = ls.suggest_lr(whole.lrs, whole.losses, "minimum", diverge=5.0, skip_start=10, skip_end=3)
    assert (r.lr, r.index, r.diverged_at) == (again.lr, again.index, again.diverged_at)
    np.testing.assert_array_equal(r.lrs, whole.lrs[10:-3])


# ---------------------------------------------------------------- the caller's own errors, passed on as raised


def test_an_error_of_the_callers_loss_passes_through_unchanged(jax, optax, keras):
    """find_lr names its own arguments where it checks them; an error raised by the caller's code is not its to
    rewrite (no ``find_lr(loss_fn=..., ...): `` put in front of it)."""

    def loss_fn(params, batch):
        raise ValueError("the caller's own message")

    with pytest.raises(ValueError, match="^the caller.s own message") as raised:
        lo.find_lr(loss_fn, _jax_params(jax), optax.sgd, _batches())
    assert str(raised.value) == "the caller's own message"  # JAX may add a note on its traceback, no more

    def loss(y_true, y_pred):
        raise ValueError("the caller's own message")

    x, y = _data()
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss=loss)
    with pytest.raises(ValueError, match="^the caller.s own message") as raised:
        lk.find_lr(model, x, y, batch_size=BATCH)
    assert str(raised.value) == "the caller's own message"
