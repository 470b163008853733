"""lrsched.keras: the adapter (any lrsched schedule as a Keras 3 LearningRateSchedule, saved and loaded with a
model), the package's layout (a module-level class, no Keras imported by the mirrors), and the mirrors' own
argument checks."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap

os.environ.setdefault("KERAS_BACKEND", "jax")  # Keras 3 on the JAX backend (installed by the README test command)

import numpy as np
import pytest

import lrsched as ls
import lrsched.keras as lk

S = ls.warmup(ls.cosine(0.1, 1e-4, steps=90), steps=10)


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras", reason="installed by the README test command")


def test_step_k_gives_s_of_k_plus_one(keras):
    sched = lk.schedule(S)
    for k in (0, 1, 9, 10, 57, 99, 100, 5_000):
        assert float(sched(k)) == float(np.float32(S(min(k, 99) + 1)))


def test_drives_a_real_optimizer(keras):
    opt = keras.optimizers.SGD(learning_rate=lk.schedule(S))
    w = keras.Variable(np.zeros(2, dtype="float32"))
    used = []
    for _ in range(25):
        used.append(float(opt.learning_rate))  # the lr of the next update
        opt.apply_gradients([(keras.ops.ones(2), w)])
    np.testing.assert_array_equal(used, np.float32(S.values(25)))
    assert float(keras.ops.convert_to_numpy(w)[0]) == pytest.approx(-float(np.float32(S.values(25)).sum()), rel=1e-5)


def test_the_table_made_inside_a_traced_train_step_serves_later_traces_and_eager_calls(keras):
    """On the JAX backend, fit traces the train step and the first call of the schedule is in that trace."""
    sched = lk.schedule(S)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=sched), loss="mse")
    x, y = np.ones((10, 3), "float32"), np.ones((10, 1), "float32")
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)  # batches of 4, 4 and 2: two traces
    assert float(sched(5)) == float(np.float32(S(6)))  # an eager call after the traces
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)  # later steps, the same schedule
    assert float(model.optimizer.learning_rate) == float(np.float32(S(7)))  # 6 updates made: the 7th lr is next
    if keras.backend.backend() == "jax":
        import jax

        assert float(jax.jit(lambda k: sched(k))(jax.numpy.int32(7))) == float(np.float32(S(8)))


def test_a_backend_that_cannot_be_imported_is_named_with_what_to_set(monkeypatch):
    """Keras 3 defaults to TensorFlow, which nothing installs: the error says to set KERAS_BACKEND."""
    monkeypatch.setitem(sys.modules, "keras", None)  # importing keras fails, as it does without its backend
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    with pytest.raises(ImportError, match=r"KERAS_BACKEND is not set, so Keras's default backend .* set KERAS_BACKEND"):
        lk.import_keras()
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")
    with pytest.raises(
        ImportError, match=r"KERAS_BACKEND='tensorflow' backend is used: .*\(jax, torch or tensorflow\)"
    ):
        lk.import_keras()


def _saved_model(keras, path):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=lk.schedule(S)), loss="mse")
    model.fit(np.ones((8, 2)), np.ones((8, 1)), epochs=1, verbose=0)
    model.save(path)
    return model


def test_model_save_and_load_keep_the_schedule(keras, tmp_path):
    path = tmp_path / "m.keras"
    _saved_model(keras, path)
    loaded = keras.saving.load_model(path)
    lr = loaded.optimizer._learning_rate
    assert lr.schedule == S and lr.steps == 100
    assert float(lr(3)) == float(np.float32(S(4)))


def test_a_fresh_process_loads_the_saved_model_once_the_adapter_is_imported(keras, tmp_path):
    """Keras finds the class by its registered name, "lrsched>Schedule": importing lrsched.keras.adapter
    registers it; the process that saved the model is not needed."""
    path = tmp_path / "m.keras"
    model = _saved_model(keras, path)
    code = textwrap.dedent(f"""
        import os
        os.environ.setdefault("KERAS_BACKEND", "jax")
        import keras
        import lrsched.keras.adapter
        m = keras.saving.load_model({str(path)!r})
        lr = m.optimizer._learning_rate
        print(type(lr).__module__, type(lr).__qualname__, lr.steps, float(lr(3)), float(lr(500)))
        print(repr(lr.schedule))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=240, env=os.environ)
    assert out.returncode == 0, out.stderr
    head, schedule = out.stdout.strip().splitlines()
    assert head.split() == [
        "lrsched.keras.adapter",
        "KerasSchedule",
        "100",
        repr(float(np.float32(S(4)))),  # step 3 is t = 4
        repr(float(np.float32(S(100)))),  # held past the horizon
    ]
    assert schedule == repr(S)
    np.testing.assert_array_equal(model.get_weights()[0], keras.saving.load_model(path).get_weights()[0])


def test_config_round_trips_through_from_config(keras):
    from lrsched.keras.adapter import KerasSchedule

    k = lk.schedule(S, steps=40)
    again = KerasSchedule.from_config(k.get_config())
    assert (again.schedule, again.steps) == (S, 40)
    assert keras.optimizers.schedules.deserialize(keras.optimizers.schedules.serialize(k)).schedule == S


def test_the_keras_class_is_a_module_level_class_registered_for_saving(keras):
    from lrsched.keras import adapter
    from lrsched.keras.adapter import KerasSchedule

    assert KerasSchedule.__qualname__ == "KerasSchedule" and KerasSchedule.__module__ == "lrsched.keras.adapter"
    assert vars(adapter)["KerasSchedule"] is KerasSchedule is lk.KerasSchedule
    assert type(lk.schedule(S)) is KerasSchedule
    assert issubclass(KerasSchedule, keras.optimizers.schedules.LearningRateSchedule)
    assert keras.saving.get_registered_name(KerasSchedule) == "lrsched>Schedule"
    assert keras.saving.get_registered_object("lrsched>Schedule") is KerasSchedule


def test_importing_the_package_and_using_the_mirrors_imports_no_keras():
    code = (
        "import sys, lrsched, lrsched.keras as lk; lk.CosineDecay(0.1, 100)(5); "
        "print(sorted(m for m in ('keras', 'jax', 'tensorflow', 'torch') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_refuses_what_it_cannot_tabulate(keras):
    with pytest.raises(ValueError, match="never settles: give steps"):
        lk.schedule(ls.exponential(0.1, 0.99))
    with pytest.raises(TypeError, match="^s must be an lrsched schedule, got 0.1$"):
        lk.schedule(0.1)
    with pytest.raises(TypeError, match="^schedule must be an lrsched schedule, got 0.1$"):
        lk.KerasSchedule(0.1, 10)
    with pytest.raises(ValueError, match="^steps must be >= 1, got 0$"):
        lk.schedule(S, steps=0)


def test_huge_counts_hold_the_end_value_and_bad_steps_are_named(keras):
    s = ls.linear(1.0, 0.0, 10)  # by hand: s(t) = 1 - t / 10 until t = 10, then 0
    k = lk.schedule(s)
    for step in (np.int64(2**31), np.int64(2**32 + 5), 10**30, keras.ops.convert_to_tensor(2**30, dtype="int32")):
        assert float(k(step)) == 0.0  # past the end: the end value, never a wrapped count
    assert float(k(np.int64(3))) == np.float32(0.6)
    for bad, error in (("5", TypeError), (5.7, ValueError), (float("inf"), ValueError), (True, TypeError)):
        with pytest.raises(error, match="step"):
            k(bad)


def test_a_step_whose_value_is_known_is_checked_by_that_value_whatever_holds_it(keras):
    """A concrete 0-d array or tensor is its number, as a Python step is: 2.5 in an array gave s(3), nan s(1),
    inf s(steps); a complex number or an object reached the backend's own errors, 10**400 an OverflowError."""
    s = ls.linear(0.1, 0.0, 10)  # s(6) = 0.1 * (1 - 6 / 10)
    k = lk.schedule(s)
    tensor = keras.ops.convert_to_tensor
    for five in (5, 5.0, np.int64(5), np.array(5.0), tensor(5.0, dtype="float32"), tensor(5, dtype="int32")):
        assert float(k(five)) == float(np.float32(s(6))) == float(np.float32(0.1 * (1 - 6 / 10)))
    for bad in (np.array(2.5), tensor(2.5), tensor(float("nan")), tensor(np.inf), np.float32(-np.inf)):
        with pytest.raises(ValueError, match=r"^step must be a whole number, got (2\.5|nan|inf|-inf)$"):
            k(bad)
    with pytest.raises(ValueError, match=r"^step must be within the float range, got <an int of 1329 bits"):
        k(10**400)
    for bad in (np.array(True), tensor(True), 1 + 2j, {}, object(), [3]):
        with pytest.raises(TypeError, match=r"^step must be an integer, got "):
            k(bad)
    for bad in (np.array([1, 2]), tensor([1, 2])):
        with pytest.raises(TypeError, match=r"^step must be a single number \(a 0-d array\), got "):
            k(bad)


def test_a_traced_step_must_have_an_integer_dtype_and_fit_still_trains(keras):
    """In a compiled train step the step has no value to check, only its dtype: a float step was truncated
    (5.5 gave s(6)). Keras's own int ``iterations``, traced by fit, still reads the table."""
    if keras.backend.backend() != "jax":
        pytest.skip("traces with jax.jit")
    import jax

    s = ls.linear(0.1, 0.0, 10)
    k = lk.schedule(s)
    jitted = jax.jit(lambda step: k(step))
    assert float(jitted(jax.numpy.int32(5))) == float(np.float32(s(6)))
    for bad, dtype in ((jax.numpy.float32(5.5), "float32"), (jax.numpy.array(True), "bool")):
        with pytest.raises(TypeError, match=f"^step must be an integer, got a traced step of dtype {dtype}\n"):
            jitted(bad)  # (jax adds a note about its traceback on the next line)
    # fit: w' = w - lr * dL/dw, with L = mean(|y - x w|) = 100 - w while x w < y = 100, so dL/dw = -1: w = sum of lrs
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros")])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=k), loss="mae")
    model.fit(np.ones((12, 1), "float32"), np.full((12, 1), 100.0, "float32"), batch_size=4, epochs=1, verbose=0)
    lrs = [0.1 * (1 - t / 10) for t in (1, 2, 3)]  # s(1), s(2), s(3)
    assert float(model.get_weights()[0][0, 0]) == pytest.approx(sum(lrs), rel=1e-6)
    assert float(model.optimizer.learning_rate) == float(np.float32(s(4)))  # 3 updates made: the 4th lr is next


def test_from_config_checks_its_fields_as_the_constructor_does(keras):
    """steps 1.5 was truncated to 1 (the horizon of s(1)), "10" and True passed int(), {} gave a KeyError."""
    from lrsched.keras.adapter import KerasSchedule

    d = S.to_dict()
    assert KerasSchedule.from_config({"schedule": d, "steps": 40.0}).steps == 40
    assert KerasSchedule.from_config({"schedule": d, "steps": None}).steps == 100  # as the constructor: S settles
    bad = [
        ({"schedule": d, "steps": 1.5}, ValueError, "^steps must be a whole number, got 1.5$"),
        ({"schedule": d, "steps": "10"}, TypeError, "^steps must be an integer, got '10'$"),
        ({"schedule": d, "steps": True}, TypeError, "^steps must be an integer, got True$"),
        ({"schedule": d, "steps": math.nan}, ValueError, "^steps must be a whole number, got nan$"),
        ({}, ValueError, r"^config lacks 'schedule', the schedule's to_dict\(\); got \{\}$"),
        ({"schedule": 5, "steps": 10}, TypeError, r"^config\['schedule'\] must be a schedule's to_dict\(\), got 5$"),
        ({"schedule": d, "step": 10}, ValueError, "^config has 'step', not a key of a KerasSchedule's config; did you"),
        ([("schedule", d)], TypeError, "^config must be a dict, got "),
    ]
    for config, error, message in bad:
        with pytest.raises(error, match=message):
            KerasSchedule.from_config(config)


# ---------------------------------------------------------------- the mirrors' own argument checks

# Each mirror checks its arguments under its own names before it builds a primitive from them: the message names
# the mirror's parameter and the value (^...$: nothing else, no primitive's ``exponential(): start ...``).
MISTAKES = [
    ("ExponentialDecay", ("x", 2, 0.5), {}, TypeError, "^initial_learning_rate must be a real number, got 'x'$"),
    ("ExponentialDecay", (1.0, 0, 0.5), {}, ValueError, r"^decay_steps must be > 0 \(Keras raises\), got 0$"),
    ("ExponentialDecay", (1.0, 2, -1), {}, ValueError, "^decay_rate must be > 0, got -1$"),
    ("ExponentialDecay", (1.0, 2, 0.5), {"staircase": 1}, TypeError, "^staircase must be True or False, got 1$"),
    ("PiecewiseConstantDecay", ([2, 1], [1.0, 0.5, 0.25]), {}, ValueError, "^boundaries must be strictly increasing"),
    ("PiecewiseConstantDecay", ([-2], [1.0, 0.5]), {}, ValueError, r"^boundaries must be >= -1, got \[-2.0\]$"),
    ("PiecewiseConstantDecay", ([2], [1.0, "x"]), {}, TypeError, r"^values\[1\] must be a real number, got 'x'$"),
    (
        "PiecewiseConstantDecay",
        ([2**53 + 2, 2**53 + 4], [1.0, 0.5, 0.25]),
        {},
        ValueError,
        r"^boundaries\[0\]=9007199254740994.0, boundaries\[1\]=9007199254740996.0: too close",
    ),
    ("PolynomialDecay", (None, 4), {}, TypeError, "^initial_learning_rate must be a real number, got None$"),
    ("PolynomialDecay", (1.0, 4, math.inf), {}, ValueError, "^end_learning_rate must be finite, got inf$"),
    ("PolynomialDecay", (1.0, 4), {"power": -1}, ValueError, "^power must be >= 0, got -1$"),
    ("PolynomialDecay", (1.0, 4), {"cycle": "yes"}, TypeError, "^cycle must be True or False, got 'yes'$"),
    (
        "PolynomialDecay",
        (1e308, 4, -1e308),
        {"power": 0},
        ValueError,
        r"^initial_learning_rate=1e\+308, end_learning_rate=-1e\+308: initial_learning_rate - end_learning_rate is",
    ),
    ("InverseTimeDecay", ([1.0], 2, 0.5), {}, TypeError, r"^initial_learning_rate must be a real number, got \[1.0\]$"),
    ("InverseTimeDecay", (1.0, 2, -0.5), {}, ValueError, r"^decay_rate must be >= 0, got -0.5$"),
    ("CosineDecay", (1.0, -4), {}, ValueError, r"^decay_steps must be > 0 \(Keras raises\), got -4$"),
    ("CosineDecay", (1.0, 4), {"alpha": "0"}, TypeError, "^alpha must be a real number, got '0'$"),
    ("CosineDecay", (1.0, 4), {"warmup_target": "x"}, TypeError, "^warmup_target must be a real number, got 'x'$"),
    ("CosineDecay", (1.0, 4), {"warmup_steps": -1}, ValueError, "^warmup_steps must be >= 0, got -1$"),
    ("CosineDecayRestarts", ("x", 10), {}, TypeError, "^initial_learning_rate must be a real number, got 'x'$"),
    ("CosineDecayRestarts", (1.0, 0), {}, ValueError, r"^first_decay_steps must be > 0 \(Keras raises\), got 0$"),
    ("CosineDecayRestarts", (1.0, 10), {"t_mul": 0}, ValueError, "^t_mul must be > 0, got 0$"),
    ("CosineDecayRestarts", (1.0, 10), {"m_mul": -1.0}, ValueError, r"^m_mul must be > 0, got -1.0$"),
    ("CosineDecayRestarts", (1.0, 10), {"alpha": math.nan}, ValueError, "^alpha must be finite, got nan$"),
]


@pytest.mark.parametrize(("mirror", "args", "kwargs", "error", "message"), MISTAKES, ids=[m[4][1:40] for m in MISTAKES])
def test_a_mirrors_mistake_names_its_own_parameter_and_the_value(mirror, args, kwargs, error, message):
    with pytest.raises(error, match=message):
        getattr(lk, mirror)(*args, **kwargs)


def test_every_mirror_has_its_mistakes_named():
    assert {m[0] for m in MISTAKES} == set(lk.mirrors.__all__)


def test_huge_alpha_of_restarts_is_reported_where_it_overflows():
    """A floor init * alpha beyond the float range: the mirror builds (no primitive's message), and evaluating
    it reports the value that is not finite, naming t, as for any schedule."""
    s = lk.CosineDecayRestarts(1e300, 10, t_mul=2.0, alpha=1e10)
    with pytest.raises(ValueError, match="not finite at t="):
        s.values(5)
