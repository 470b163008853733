"""lrsched.optax: the adapter (any lrsched schedule as an optax schedule, driving real optax optimizers under jit),
the package's layout (no JAX imported by the mirrors), and the mirrors' own argument checks."""

from __future__ import annotations

import math
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

import lrsched as ls
import lrsched.optax as lo

S = ls.warmup(ls.cosine(0.1, 1e-4, steps=90), steps=10)


@pytest.fixture(scope="module")
def jax():
    return pytest.importorskip("jax", reason="installed by the README test command")


@pytest.fixture(scope="module")
def optax(jax):
    return pytest.importorskip("optax", reason="installed by the README test command")


def test_count_c_gives_s_of_c_plus_one_under_jit(jax):
    lr = jax.jit(lo.schedule(S))
    for c in (0, 1, 9, 10, 57, 99, 100, 10_000):
        assert float(lr(jax.numpy.int32(c))) == float(np.float32(S(min(c, 99) + 1)))  # float32: optax's own precision


def test_exact_in_float64_with_x64(jax):
    code = (
        "import jax; jax.config.update('jax_enable_x64', True); import jax.numpy as jnp, lrsched as ls, "
        "lrsched.optax as lo; s = ls.warmup(ls.cosine(0.1, 1e-4, steps=90), steps=10); f = jax.jit(lo.schedule(s)); "
        "print(all(float(f(jnp.int64(c))) == s(min(c, 99) + 1) for c in range(150)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=240, env=os.environ)
    assert out.stdout.strip() == "True", out.stderr


def test_drives_inject_hyperparams_and_an_optimizer(jax, optax):
    jnp = jax.numpy
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


@pytest.mark.parametrize("x64", [False, True])
def test_the_readme_line_in_a_jitted_step_traced_twice_then_eager_then_in_another_jit(jax, optax, x64):
    """The table is made by the first call, inside the first trace: it must not be that trace's tracer."""
    jnp = jax.numpy
    before = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", x64)
    try:
        s = ls.warmup(ls.cosine(0.1, 1e-5, steps=900), steps=100)
        sched = lo.schedule(s)
        opt = optax.sgd(learning_rate=sched)  # the README's line, with plain SGD so the update reads the lr
        want = (lambda t: s(t)) if x64 else (lambda t: float(np.float32(s(t))))

        @jax.jit
        def step(params, state, x):
            grads = jax.grad(lambda p: jnp.sum(x @ p["w"]))(params)  # d/dw = column sums of x
            updates, state = opt.update(grads, state, params)
            return optax.apply_updates(params, updates), state

        params = {"w": jnp.zeros(3)}
        state = opt.init(params)
        moved = []
        for rows in (4, 4, 2):  # a full batch traced, reused, then a smaller last batch traced again
            new, state = step(params, state, jnp.ones((rows, 3)))
            moved.append(float(params["w"][0] - new["w"][0]) / rows)  # the lr of that update
            params = new
        np.testing.assert_allclose(moved, [want(1), want(2), want(3)], rtol=1e-6 if not x64 else 1e-15)
        assert float(sched(5)) == want(6)  # an eager call that logs the lr
        other = jax.jit(lambda c: sched(c) * 2)  # another jitted function using the same schedule
        assert float(other(jnp.int32(7))) == 2 * want(8)
        assert not isinstance(next(iter(sched._tables.values())), jax.core.Tracer)
    finally:
        jax.config.update("jax_enable_x64", before)


def test_prints_compares_pickles_and_refuses_what_never_settles(jax):
    lr = lo.schedule(S)
    assert repr(lr) == "lrsched.optax.schedule(warmup(cosine(0.1, 0.0001, steps=90), steps=10), steps=100)"
    assert pickle.loads(pickle.dumps(lr)) == lr
    with pytest.raises(ValueError, match="never settles: give steps"):
        lo.schedule(ls.exponential(0.1, 0.99))
    assert lo.schedule(ls.exponential(0.1, 0.99), steps=50).steps == 50
    with pytest.raises(TypeError, match="^s must be an lrsched schedule, got <function"):
        lo.schedule(lambda c: 0.1)
    with pytest.raises(TypeError, match="^schedule must be an lrsched schedule, got 0.1$"):
        lo.OptaxSchedule(0.1, 10)


def test_calling_a_schedule_inside_jit_points_to_the_adapter(jax):
    with pytest.raises(TypeError, match=r"JAX tracer .* pass lrsched.optax.schedule\(s\)"):
        jax.jit(lambda c: S(c))(jax.numpy.int32(0))


def test_huge_counts_hold_the_end_value_and_the_table_is_converted_once(jax):
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


def _nested(depth):
    deep = []
    for _ in range(depth):
        deep = [deep]
    return deep


def test_a_count_whose_value_is_known_is_checked_by_that_value_whatever_holds_it(jax):
    """A concrete 0-d array or tensor is its number, as a Python count is: 2.5 or nan in an array was read by jax
    (truncated, clamped), a bool array was count 1, and a list, a dict or a complex number reached jax's own errors
    (a list nested deep broke JAX for the whole process)."""
    jnp = jax.numpy
    s = ls.linear(0.1, 0.0, 10)  # s(6) = 0.1 * (1 - 6 / 10)
    o = lo.schedule(s)
    for five in (5, 5.0, np.int64(5), np.array(5.0), jnp.float32(5.0), jnp.array(5, dtype=jnp.uint8)):
        assert float(o(five)) == float(np.float32(s(6))) == float(np.float32(0.1 * (1 - 6 / 10)))
    for bad in (2.5, np.array(2.5), jnp.float32(5.5), jnp.array(float("nan")), jnp.array(np.inf), -np.inf):
        with pytest.raises(ValueError, match=r"^count must be a whole number, got (2\.5|5\.5|nan|inf|-inf)$"):
            o(bad)
    with pytest.raises(ValueError, match=r"^count must be within the float range, got <an int of 1329 bits"):
        o(10**400)
    assert float(o(10**300)) == 0.0  # a huge count that a float holds: s(steps)
    for bad in (True, np.bool_(True), np.array(True), jnp.array(True), 1 + 2j, np.complex64(3), {}, object(), [3]):
        with pytest.raises(TypeError, match=r"^count must be an integer, got "):
            o(bad)
    with pytest.raises(TypeError, match=r"^count must be an integer, got <a list nested too deeply to show>$"):
        o(_nested(5000))
    for bad in (np.array([1, 2]), jnp.arange(3), np.zeros((1, 1))):
        with pytest.raises(TypeError, match=r"^count must be a single number \(a 0-d array\), got "):
            o(bad)
    assert float(jnp.ones(3).sum()) == 3.0  # JAX still works


def test_a_traced_count_must_have_an_integer_dtype_under_jit(jax):
    """Under jax.jit the count has no value to check, only its dtype: a float count was truncated (5.5 gave s(6))."""
    jnp = jax.numpy
    s = ls.linear(0.1, 0.0, 10)
    lr = jax.jit(lo.schedule(s))
    for c, dtype in ((0, jnp.int32), (5, jnp.int32), (7, jnp.uint8), (2**31 - 1, jnp.int32)):
        assert float(lr(jnp.asarray(c, dtype=dtype))) == float(np.float32(s(min(c, 9) + 1)))
    for bad, dtype in ((jnp.float32(5.5), "float32"), (jnp.float32(5.0), "float32"), (jnp.array(True), "bool")):
        with pytest.raises(TypeError, match=f"^count must be an integer, got a traced count of dtype {dtype}\n"):
            lr(bad)  # (jax adds a note about its traceback on the next line)
    with pytest.raises(TypeError, match=r"^count must be a single number \(a 0-d array\), got "):
        lr(jnp.arange(3))


# ---------------------------------------------------------------- the layout: JAX only where it is needed


def test_the_adapter_class_is_a_module_level_class_loaded_on_first_use(jax):
    from lrsched.optax import adapter
    from lrsched.optax.adapter import OptaxSchedule

    assert OptaxSchedule.__qualname__ == "OptaxSchedule" and OptaxSchedule.__module__ == "lrsched.optax.adapter"
    assert lo.OptaxSchedule is OptaxSchedule and lo.schedule is adapter.schedule
    assert type(lo.schedule(S)) is OptaxSchedule
    from lrsched.optax import lr_range

    assert lo.find_lr is lr_range.find_lr
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        lo.nothing  # noqa: B018


def test_importing_the_package_and_using_the_mirrors_imports_no_jax():
    code = (
        "import sys, lrsched, lrsched.optax as lo; lo.warmup_cosine_decay_schedule(0, 0.1, 10, 100)(5); "
        "print(sorted(m for m in ('jax', 'optax', 'keras', 'torch') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# ---------------------------------------------------------------- the mirrors' own argument checks

# Each mirror checks its arguments under its own names before it builds anything from them, another mirror
# included: the message names the mirror's parameter and the value (^...$: nothing else; before, e.g.
# warmup_exponential_decay_schedule's peak_value was reported as exponential_decay's init_value).
KW = {"init_value": 0.0, "peak_value": 1.0, "warmup_steps": 2, "decay_steps": 10}
MISTAKES = [
    ("constant_schedule", ("x",), {}, TypeError, "^value must be a real number, got 'x'$"),
    ("polynomial_schedule", (1.0, 0.0, -1, 10), {}, ValueError, "^power must be >= 0, got -1$"),
    ("polynomial_schedule", (1.0, 0.0, 1, 2.5), {}, TypeError, "^transition_steps must be an integer, got 2.5$"),
    (
        "polynomial_schedule",
        (1e308, -1e308, 0, 10),
        {},
        ValueError,
        r"^init_value=1e\+308, end_value=-1e\+308: init_value - end_value is beyond the float range$",
    ),
    ("linear_schedule", (1.0, None, 10), {}, TypeError, "^end_value must be a real number, got None$"),
    ("linear_schedule", (1.0, 0.0, 10, "2"), {}, TypeError, "^transition_begin must be an integer, got '2'$"),
    (
        "piecewise_constant_schedule",
        (1.0, {"a": 0.5}),
        {},
        TypeError,
        r"^each boundary \(key\) of boundaries_and_scales must be an integer, got 'a'$",
    ),
    (
        "piecewise_constant_schedule",
        (1.0, {"a": 0.5, 2: 0.5}),  # refused by name, not by sorting str and int
        {},
        TypeError,
        r"^each boundary \(key\) of boundaries_and_scales must be an integer, got 'a'$",
    ),
    ("piecewise_constant_schedule", (1.0, {4: -0.5}), {}, ValueError, r"^boundaries_and_scales\[4\] must be >= 0, got"),
    (
        "piecewise_constant_schedule",
        (1e300, {2: 1e10}),
        {},
        ValueError,
        r"^init_value=1e\+300, boundaries_and_scales=\{2: 10000000000.0\}: the value from boundary 2 on, "
        r"1e\+300 \* 10000000000.0, is beyond the float range$",
    ),
    ("exponential_decay", (1.0, 10, -0.5), {}, ValueError, r"^decay_rate must be >= 0, got -0.5$"),
    ("exponential_decay", (1.0, 10, 0.5), {"end_value": "0"}, TypeError, "^end_value must be a real number, got '0'$"),
    (
        "exponential_decay",
        (1.0, 10, 0.5),
        {"staircase": None},
        TypeError,
        "^staircase must be True or False, got None$",
    ),
    ("cosine_decay_schedule", (1.0, 0), {}, ValueError, r"^decay_steps must be > 0 \(optax raises\), got 0$"),
    ("cosine_decay_schedule", (1.0, 10), {"exponent": 0}, ValueError, "^exponent must be > 0, got 0$"),
    ("cosine_decay_schedule", ("1", 10), {}, TypeError, "^init_value must be a real number, got '1'$"),
    ("join_schedules", ([ls.constant(1.0), 0.5], [2]), {}, TypeError, r"^schedules\[1\] must be an lrsched schedule"),
    (
        "join_schedules",
        ([ls.constant(1.0)] * 3, [4, 2]),
        {},
        ValueError,
        r"^boundaries must be sorted and >= 0, got \[",
    ),
    ("warmup_constant_schedule", (0.0, "x", 10), {}, TypeError, "^peak_value must be a real number, got 'x'$"),
    ("warmup_constant_schedule", (0.0, 1.0, 2.0), {}, TypeError, r"^warmup_steps must be an integer, got 2.0$"),
    ("warmup_cosine_decay_schedule", ("x", 1.0, 0, 10), {}, TypeError, "^init_value must be a real number, got 'x'$"),
    (
        "warmup_cosine_decay_schedule",
        (0.0, 0.0, 2, 10),
        {"end_value": "x"},  # checked whether or not it is used (peak_value 0 makes alpha 0)
        TypeError,
        "^end_value must be a real number, got 'x'$",
    ),
    (
        "warmup_cosine_decay_schedule",
        (0.0, 1.0, 10, 10),
        {},
        ValueError,  # before: "decay_steps must be > 0 (optax raises), got 0", a value the caller never gave
        r"^decay_steps=10, warmup_steps=10: decay_steps must exceed warmup_steps",
    ),
    (
        "warmup_cosine_decay_schedule",
        (0.0, 1e-300, 2, 10),
        {"end_value": 1e300},
        ValueError,
        r"^end_value=1e\+300, peak_value=1e-300: end_value / peak_value \(the cosine's alpha\) is beyond",
    ),
    (
        "warmup_exponential_decay_schedule",
        (0.0, "peak", 2, 10, 0.5),
        {},
        TypeError,
        "^peak_value must be a real number, got 'peak'$",  # before: named init_value, exponential_decay's
    ),
    ("warmup_exponential_decay_schedule", (0.0, 1.0, 2, 10, -1), {}, ValueError, "^decay_rate must be >= 0, got -1$"),
    ("warmup_exponential_decay_schedule", (0.0, 1.0, 2.5, 10, 0.5), {}, TypeError, "^warmup_steps must be an integer"),
    ("warmup_exponential_decay_schedule", (0.0, 1.0, -(10**400), 10, 0.5), {}, ValueError, "^warmup_steps must be at"),
    ("warmup_cosine_decay_schedule", (0.0, 1.0, -(10**400), 10), {}, ValueError, "^warmup_steps must be at least"),
    ("sgdr_schedule", (5,), {}, TypeError, "^cosine_kwargs must be a list of dicts, got 5$"),
    ("sgdr_schedule", ([],), {}, ValueError, "^cosine_kwargs must not be empty$"),
    ("sgdr_schedule", ([KW, "x"],), {}, TypeError, r"^cosine_kwargs\[1\] must be a dict of warmup_cosine_decay_sched"),
    (
        "sgdr_schedule",
        ([KW, {**KW, "peak_value": "x"}],),
        {},
        TypeError,
        r"^cosine_kwargs\[1\]\['peak_value'\] must be a real number, got 'x'$",
    ),
    ("sgdr_schedule", ([{**KW, "peak": 1.0}],), {}, TypeError, r"^cosine_kwargs\[0\] has 'peak', not an argument of"),
    ("sgdr_schedule", ([{"init_value": 0.0}],), {}, TypeError, r"^cosine_kwargs\[0\] lacks 'peak_value', which"),
    (
        "sgdr_schedule",
        ([{**KW, "warmup_steps": -4, "decay_steps": -1}, KW],),  # the first cycle would end before it starts
        {},
        ValueError,
        r"^cosine_kwargs\[0\]\['decay_steps'\] must be >= 0 \(where cycle 1 starts, after cycle 0\), got -1$",
    ),
    (
        "piecewise_interpolate_schedule",
        ("quadratic", 1.0),
        {},
        ValueError,
        "^interpolate_type must be one of 'linear', 'cosine'; got 'quadratic'$",
    ),
    ("piecewise_interpolate_schedule", ("linear", 1.0, {2: "x"}), {}, TypeError, r"^boundaries_and_scales\[2\] must"),
    ("piecewise_interpolate_schedule", ("linear", None), {}, TypeError, "^init_value must be a real number, got None$"),
    (
        "piecewise_interpolate_schedule",
        ("cosine", 1e300, {2: 10.0, 4: 1e10}),
        {},
        ValueError,
        r"^init_value=1e\+300, boundaries_and_scales=\{2: 10.0, 4: 10000000000.0\}: the value from boundary 4 on, "
        r"1e\+301 \* 10000000000.0, is beyond",
    ),
    ("cosine_onecycle_schedule", (0, 1.0), {}, ValueError, r"^transition_steps must be > 0 \(optax raises\), got 0$"),
    (
        "cosine_onecycle_schedule",
        (10, 1.0),
        {"pct_start": 1.5},
        ValueError,
        r"^pct_start must be in \[0, 1\], got 1.5$",
    ),
    (
        "cosine_onecycle_schedule",
        (10, 1e300),
        {"div_factor": 1e-10},  # before: "init_value must be finite, got inf", piecewise_interpolate_schedule's
        ValueError,
        r"^peak_value=1e\+300, div_factor=1e-10: peak_value / div_factor \(the initial value\) is beyond the float",
    ),
    (
        "cosine_onecycle_schedule",
        (10, 1.0),
        {"div_factor": 1e-200, "final_div_factor": 1e-200},  # before: a ZeroDivisionError
        ValueError,
        r"^peak_value=1.0, div_factor=1e-200, final_div_factor=1e-200: 1 / \(div_factor \* final_div_factor\) is",
    ),
    ("linear_onecycle_schedule", (10, 1.0), {"pct_final": -0.1}, ValueError, r"^pct_final must be in \[0, 1\]"),
    ("linear_onecycle_schedule", (10, "1"), {}, TypeError, "^peak_value must be a real number, got '1'$"),
    (
        "linear_onecycle_schedule",
        (10, 1.0),
        {"final_div_factor": 1e-310},
        ValueError,
        r"^final_div_factor=1e-310: 1 / \(final_div_factor\) is beyond the float range$",
    ),
]


@pytest.mark.parametrize(("mirror", "args", "kwargs", "error", "message"), MISTAKES, ids=[m[4][1:40] for m in MISTAKES])
def test_a_mirrors_mistake_names_its_own_parameter_and_the_value(mirror, args, kwargs, error, message):
    with pytest.raises(error, match=message):
        getattr(lo, mirror)(*args, **kwargs)


def test_every_mirror_has_its_mistakes_named():
    assert {m[0] for m in MISTAKES} == set(lo.mirrors.__all__)


def test_sgdr_cycles_are_warmup_cosine_decays_one_after_another():
    """optax.sgdr_schedule: cycle i is warmup_cosine_decay_schedule(**kw_i) from the sum of the earlier decay_steps."""
    kws = [KW, {"init_value": 0.5, "peak_value": 2.0, "warmup_steps": 0, "decay_steps": 5, "exponent": 2.0}]
    s = lo.sgdr_schedule(iter(kws))  # any iterable, as optax takes
    first, second = lo.warmup_cosine_decay_schedule(**kws[0]), lo.warmup_cosine_decay_schedule(**kws[1])
    np.testing.assert_array_equal(s.values(20), np.r_[first.values(10), second.values(10)])
    # the second: no warmup, then peak * (0.5 (1 + cos(pi c / 5)))**2 at its own count c = t - 11
    c = np.arange(5)
    np.testing.assert_allclose(s.values(15)[10:], 2.0 * (0.5 * (1 + np.cos(np.pi * c / 5))) ** 2, rtol=1e-14)
    assert math.isclose(s(16), 0.0, abs_tol=1e-15)


def test_a_negative_warmup_runs_the_decay_from_that_many_counts_in_as_optax_does(optax):
    """optax joins [linear_schedule(init, peak, w), decay] at count w: for w < 0 that is decay(count - w) from the
    first update (the mirrors ran decay(count) before)."""
    # by hand: warmup_steps -4, decay_steps 6: a cosine over 6 + 4 = 10 counts, read at count c + 4
    c = np.arange(30)
    by_hand = 0.5 * (1 + np.cos(np.pi * np.minimum(c + 4, 10) / 10))
    np.testing.assert_allclose(lo.warmup_cosine_decay_schedule(0.0, 1.0, -4, 6).values(30), by_hand, atol=1e-15)
    cases = [
        ("warmup_cosine_decay_schedule", {"init_value": 0.0, "peak_value": 1.0, "warmup_steps": -4, "decay_steps": 6}),
        (
            "warmup_exponential_decay_schedule",
            {"init_value": 0.0, "peak_value": 1.0, "warmup_steps": -2, "transition_steps": 2, "decay_rate": 0.5},
        ),
        ("sgdr_schedule", {"cosine_kwargs": [{**KW, "warmup_steps": -2, "decay_steps": 5}, KW]}),
        ("sgdr_schedule", {"cosine_kwargs": [KW, {**KW, "warmup_steps": -3, "decay_steps": -1}]}),  # the last: any
    ]
    for name, kwargs in cases:
        peer = getattr(optax, name)(**kwargs)
        want = np.array([float(peer(k)) for k in range(30)])  # optax's float32
        np.testing.assert_allclose(getattr(lo, name)(**kwargs).values(30), want, rtol=2e-7, atol=1e-7, err_msg=name)
