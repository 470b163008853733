"""lrsched.keras.schedule: any lrsched schedule as a Keras 3 LearningRateSchedule, saved and loaded with a model."""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "jax")  # Keras 3 on the JAX backend (installed by the README test command)

import numpy as np
import pytest

import lrsched as ls
import lrsched.keras as lk

keras = pytest.importorskip("keras", reason="installed by the README test command")

S = ls.warmup(ls.cosine(0.1, 1e-4, steps=90), steps=10)


def test_step_k_gives_s_of_k_plus_one():
    sched = lk.schedule(S)
    for k in (0, 1, 9, 10, 57, 99, 100, 5_000):
        assert float(sched(k)) == float(np.float32(S(min(k, 99) + 1)))


def test_drives_a_real_optimizer():
    opt = keras.optimizers.SGD(learning_rate=lk.schedule(S))
    w = keras.Variable(np.zeros(2, dtype="float32"))
    used = []
    for _ in range(25):
        used.append(float(opt.learning_rate))  # the lr of the next update
        opt.apply_gradients([(keras.ops.ones(2), w)])
    np.testing.assert_array_equal(used, np.float32(S.values(25)))
    assert float(keras.ops.convert_to_numpy(w)[0]) == pytest.approx(-float(np.float32(S.values(25)).sum()), rel=1e-5)


def test_model_save_and_load_keep_the_schedule(tmp_path):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=lk.schedule(S)), loss="mse")
    model.fit(np.ones((8, 2)), np.ones((8, 1)), epochs=1, verbose=0)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    lr = loaded.optimizer._learning_rate
    assert lr.schedule == S and lr.steps == 100
    assert float(lr(3)) == float(np.float32(S(4)))


def test_refuses_what_it_cannot_tabulate():
    with pytest.raises(ValueError, match="never settles: give steps"):
        lk.schedule(ls.exponential(0.1, 0.99))
    with pytest.raises(TypeError, match="must be an lrsched schedule"):
        lk.schedule(0.1)


def test_huge_counts_hold_the_end_value_and_bad_steps_are_named():
    s = ls.linear(1.0, 0.0, 10)  # by hand: s(t) = 1 - t / 10 until t = 10, then 0
    k = lk.schedule(s)
    for step in (np.int64(2**31), np.int64(2**32 + 5), 10**30, keras.ops.convert_to_tensor(2**30, dtype="int32")):
        assert float(k(step)) == 0.0  # past the end: the end value, never a wrapped count
    assert float(k(np.int64(3))) == np.float32(0.6)
    for bad, error in (("5", TypeError), (5.7, ValueError), (float("inf"), ValueError), (True, TypeError)):
        with pytest.raises(error, match="step"):
            k(bad)
