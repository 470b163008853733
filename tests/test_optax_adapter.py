"""lrsched.optax.schedule: any lrsched schedule as an optax schedule, driving real optax optimizers under jit."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

import lrsched as ls
import lrsched.optax as lo

jax = pytest.importorskip("jax", reason="installed by the README test command")
optax = pytest.importorskip("optax", reason="installed by the README test command")
jnp = jax.numpy

S = ls.warmup(ls.cosine(0.1, 1e-4, steps=90), steps=10)


def test_count_c_gives_s_of_c_plus_one_under_jit():
    lr = jax.jit(lo.schedule(S))
    for c in (0, 1, 9, 10, 57, 99, 100, 10_000):
        assert float(lr(jnp.int32(c))) == float(np.float32(S(min(c, 99) + 1)))  # float32: optax's own precision


def test_exact_in_float64_with_x64():
    code = (
        "import jax; jax.config.update('jax_enable_x64', True); import jax.numpy as jnp, lrsched as ls, "
        "lrsched.optax as lo; s = ls.warmup(ls.cosine(0.1, 1e-4, steps=90), steps=10); f = jax.jit(lo.schedule(s)); "
        "print(all(float(f(jnp.int64(c))) == s(min(c, 99) + 1) for c in range(150)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=240, env=os.environ)
    assert out.stdout.strip() == "True", out.stderr


def test_drives_inject_hyperparams_and_an_optimizer():
    lr = lo.schedule(S)
    opt = optax.inject_hyperparams(optax.sgd)(learning_rate=lr)
    params = {"w": jnp.zeros(3)}
    state = opt.init(params)
    step = jax.jit(opt.update)
    used = []
    for _ in range(30):
        updates, state = step({"w": jnp.ones(3)}, state, params)
        used.append(float(state.hyperparams["learning_rate"]))  # the lr this update used
        params = optax.apply_updates(params, updates)
    np.testing.assert_array_equal(used, np.float32(S.values(30)))
    # as any optimizer's learning_rate: plain SGD moves w by -lr(k) per unit gradient
    sgd = optax.sgd(learning_rate=lr)
    w = {"w": jnp.zeros(1)}
    st = sgd.init(w)
    for _ in range(20):
        upd, st = sgd.update({"w": jnp.ones(1)}, st, w)
        w = optax.apply_updates(w, upd)
    assert float(w["w"][0]) == pytest.approx(-S.values(20).sum(), rel=1e-6)


def test_prints_compares_pickles_and_refuses_what_never_settles():
    lr = lo.schedule(S)
    assert repr(lr) == "lrsched.optax.schedule(warmup(cosine(0.1, 0.0001, steps=90), steps=10), steps=100)"
    assert pickle.loads(pickle.dumps(lr)) == lr
    with pytest.raises(ValueError, match="never settles: give steps"):
        lo.schedule(ls.exponential(0.1, 0.99))
    assert lo.schedule(ls.exponential(0.1, 0.99), steps=50).steps == 50
    with pytest.raises(TypeError, match="must be an lrsched schedule"):
        lo.schedule(lambda c: 0.1)


def test_calling_a_schedule_inside_jit_points_to_the_adapter():
    with pytest.raises(TypeError, match=r"JAX tracer .* pass lrsched.optax.schedule\(s\)"):
        jax.jit(lambda c: S(c))(jnp.int32(0))


def test_huge_counts_hold_the_end_value_and_the_table_is_converted_once():
    s = ls.linear(1.0, 0.0, 10)  # by hand: s(t) = 1 - t / 10 until t = 10, then 0
    o = lo.schedule(s)
    for count in (2**31, 10**30, np.int64(2**40)):
        assert float(o(count)) == 0.0
    assert float(o(3)) == pytest.approx(0.6, rel=1e-7)
    for bad, error in (("5", TypeError), (5.7, ValueError), (True, TypeError), (float("nan"), ValueError)):
        with pytest.raises(error, match="count"):
            o(bad)
    big = lo.schedule(ls.linear(1.0, 0.0, 1000))
    big(1)
    table = next(iter(big._tables.values()))
    big(2)
    assert next(iter(big._tables.values())) is table  # one conversion per precision, not one per call
    with pytest.raises(TypeError, match="boundaries_and_scales must be a dict"):
        lo.piecewise_interpolate_schedule("linear", 1.0, 0.5)
