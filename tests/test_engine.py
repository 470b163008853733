"""The evaluation engine: it always returns, agrees with the exact definition at float-rounding
boundaries, reports non-finite values whatever the operand order, and runs in forked children, in
concurrent threads, without a JIT and without a writable cache.

Tests that could hang if the engine regressed run under a watchdog: a subprocess with a timeout, or
faulthandler's timer, which kills this process (with a traceback) even inside compiled code.
"""

from __future__ import annotations

import faulthandler
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lrsched as ls
from lrsched import compiled, engine
from lrsched.kernels import arrays

from . import compiled_once
from . import reference as ref
from .test_properties import schedules, times

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def watchdog():
    """Kill the test process, printing where it was, if the test runs for over two minutes."""
    faulthandler.dump_traceback_later(120, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


def run_python(code: str, timeout: float = 240, env: dict | None = None, args=()) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=full_env,
    )


# ---------------------------------------------------------------- cycles at float-rounding boundaries

SUPPRESS = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
PERIODS = [1.1, 0.55, 3.3, 7.3, 250.0, 500.0, 1000.0, 2000.0, *(30 * 1.1**k for k in range(6))]
MULTS = [1.0, 1.1, 1.2, 1.4, 0.9, 0.5, 2.0, 1.5, 1.0000001]


def boundary_times(period, mult, limit, zero_based, horizon=1e6):
    """Every t at and around the first cycle boundaries: the boundary, its float neighbours, the whole
    numbers on either side (t = u + 1 as well when cycles count u = t - 1)."""
    out = set()
    for i in range(1, min(limit or 40, 40) + 1):
        s = ref.cycle_start(i, period, mult)
        if not s < horizon:
            break
        for x in (s, math.nextafter(s, 0), math.nextafter(s, math.inf), math.floor(s), math.ceil(s)):
            for d in (-1.0, 0.0, 1.0, 2.0):
                if x + d >= 0:
                    out.add(x + d)
    return sorted(out)


@st.composite
def cycles(draw):
    period = draw(st.one_of(st.sampled_from(PERIODS), st.floats(0.3, 200.0)))
    mult = draw(st.one_of(st.sampled_from(MULTS), st.floats(0.5, 2.5)))
    zero_based = draw(st.booleans())
    limit = draw(st.integers(1, 60)) if mult < 1 else draw(st.one_of(st.none(), st.integers(1, 60)))
    decay = draw(st.sampled_from([1.0, 0.5]))
    return period, mult, limit, zero_based, decay


#: after a change to the engine or the kernels, run the full sample (300 cases; about 30 s):
#: LRSCHED_FULL_GRID=1 python -m pytest -p no:cacheprovider tests/test_engine.py -k rounding_boundaries
#: otherwise 40 cases, drawn afresh each run (hypothesis prints the seed of a failure to replay it)
BOUNDARY_CASES = 300 if os.environ.get("LRSCHED_FULL_GRID") else 40


@settings(max_examples=BOUNDARY_CASES, deadline=None, suppress_health_check=SUPPRESS, database=None)
@given(cycles())
def test_cycles_at_rounding_boundaries_match_the_exact_definition(watchdog, c):
    period, mult, limit, zero_based, decay = c
    s = ls.cycle(ls.linear(0.0, 1.0, period), period, period_mult=mult, decay=decay, limit=limit, zero_based=zero_based)
    ts = np.array(boundary_times(period, mult, limit, zero_based))
    want = ref.cycle(ts, lambda x: ref.linear(x, 0.0, 1.0, period), period, mult, decay, limit, zero_based)
    got = s(ts)
    np.testing.assert_array_equal(got, want, err_msg=repr(s))
    for t, y in zip(ts[::7], got[::7]):
        assert s(float(t)) == y
    n = int(min(ts[-1] + 3, 20_000))
    np.testing.assert_array_equal(s.values(n), s(np.arange(1.0, n + 1)))


@settings(max_examples=100, deadline=None, suppress_health_check=SUPPRESS)
@given(
    st.sampled_from(PERIODS),
    st.sampled_from(MULTS),
    st.floats(0.0, 1e300),
    st.booleans(),
    st.sampled_from([None, 3, 10**6, 10**12]),
)
def test_any_t_returns_a_value_in_range(watchdog, period, mult, t, zero_based, limit):
    if mult < 1 and limit is None:
        limit = 10**12
    s = ls.cycle(ls.linear(1.0, 0.0, 4.0), period, period_mult=mult, limit=limit, zero_based=zero_based)
    y = s(t)
    assert 0.0 <= y <= 1.0
    assert s(np.array([t]))[0] == y


@settings(max_examples=60, deadline=None, suppress_health_check=SUPPRESS)
@given(cycles(), st.lists(st.one_of(st.integers(0, 300), st.integers(0, 10**18)), min_size=1, max_size=30))
def test_cycle_starts_of_many_cycles_at_once_are_the_kernels(c, indices):
    period, mult = c[0], c[1]
    i = np.array(sorted(indices), dtype=float)
    want = [engine.cycle_start(float(k), period, mult) for k in i]
    np.testing.assert_array_equal(engine.cycle_starts(i, period, mult), want)
    np.testing.assert_array_equal(engine.cycle_starts(i[::-1], period, mult), want[::-1])


def test_the_first_restart_of_sgdr_for_every_round_period(watchdog):
    # S(1) is the period itself: 1000 * (1.2 - 1) / (1.2 - 1) once rounded below 1000
    for period in (250, 500, 1000, 2000, *range(1, 300)):
        for mult in (1.1, 1.2, 1.4, 0.9):
            s = ls.sgdr(0.1, period, period_mult=mult, limit=None if mult > 1 else 5)
            assert s(period) == 0.0
            assert s(period + 1) > 0.0


# ---------------------------------------------------------------- the cases that used to hang

HANG_CASES = r"""
import json, math, time
import numpy as np
import lrsched as ls, lrsched.keras, lrsched.timm, lrsched.torch

results = {}

def case(name, fn):
    start = time.perf_counter()
    value = fn()
    results[name] = [time.perf_counter() - start, np.asarray(value, dtype=float).tolist()]

case("sgdr", lambda: [ls.sgdr(0.1, 1000, period_mult=1.2)(t) for t in (999, 1000, 1001)])
case("timm", lambda: lrsched.timm.CosineLRScheduler(0.1, t_initial=30, cycle_mul=1.1, cycle_limit=5)(64))
case("keras", lambda: lrsched.keras.CosineDecayRestarts(0.1, 30, t_mul=1.1)(64))
case("linear_1_1", lambda: ls.cycle(ls.linear(1.0, 0.0, 1.1), 1.1, zero_based=True)(1024))
case("linear_1_1_values", lambda: ls.cycle(ls.linear(1.0, 0.0, 1.1), 1.1, zero_based=True).values(2000))
case("limit_1e12", lambda: ls.cycle(ls.linear(1, 0, 4), 4, period_mult=0.5, limit=10**12).values(10))
case("limit_1e8", lambda: ls.cycle(ls.linear(1, 0, 4), 4, period_mult=0.5, limit=10**8)(100))
case("period_1e-300", lambda: ls.cycle(ls.linear(1, 0, 4), 1e-300).values(10))
case("period_1e-300_scalar", lambda: ls.cycle(ls.linear(1, 0, 4), period=1e-300)(1))
case("shift_-1e20", lambda: ls.triangular(0.1, 1, 2).shift(-1e20).values(10))
case("t_1e20", lambda: ls.cycle(ls.linear(1, 0, 4), period=4)(1e20))
case("warm_restarts_1e300", lambda: lrsched.torch.cosine_annealing_warm_restarts(0.1, T_0=10)(1e300))
case("cyclic_1e300", lambda: lrsched.torch.cyclic_lr(0.1, 1.0)(1e300))
# the peers' own cycle arithmetic: each restart is searched within a step or two of the exact sum
case("timm_layout", lambda: lrsched.timm.CosineLRScheduler(0.1, t_initial=1, cycle_mul=1.001, cycle_limit=4096)(5))
case("timm_tiny_cycles", lambda: lrsched.timm.CosineLRScheduler(0.1, t_initial=1, cycle_mul=0.5, cycle_limit=60)(3))
case("keras_layout", lambda: lrsched.keras.CosineDecayRestarts(0.1, 1, t_mul=1.0001)(5))
case("keras_shrinking", lambda: lrsched.keras.CosineDecayRestarts(0.1, 1e-3, t_mul=0.5)(5))
case("extend_scan", lambda: ls.extend(ls.constant(0.5), ls.cosine(1.0, 0.0, steps=3_000_000), at=10)(11))
# the analysis walks the same cycles: its loops are capped or stop below float resolution
def structure(s, stop):
    try:
        found = s.breakpoints(stop)
    except ValueError as e:  # more boundaries than the cap: refused by name
        assert "boundaries" in str(e) or "cycles" in str(e), e
        found = []
    s.summary(max(min(int(stop), 10_000), 1))
    return [len(found), s.length() or -1.0]

case("walk_period_1e-300", lambda: structure(ls.cycle(ls.linear(1, 0, 4), 1e-300), 1e6))
case("walk_mult_near_1", lambda: structure(ls.cycle(ls.linear(1, 0, 4), 4, period_mult=1 + 1e-15), 1e9))
case("walk_shrinking", lambda: structure(ls.cycle(ls.linear(1, 0, 4), 4, period_mult=0.5, limit=10**12), 1e6))
case("walk_warp", lambda: structure(ls.cosine(1, 0, steps=3, periodic=True).warp(1e-3, 10), 1e5))
case("walk_jumps", lambda: structure(ls.step(1.0, every=1e-9, factor=0.999999), 1e-4))
case("suggest_1e5", lambda: ls.suggest_lr(np.geomspace(1e-6, 1.0, 100_000), np.linspace(2.0, 1.0, 100_000)).lr)
print(json.dumps(results))
"""


def test_former_hangs_return_correct_values():
    """Under a watchdog: the subprocess is killed (and the test fails) if any case does not return in 300 s."""
    proc = run_python(HANG_CASES, timeout=300)
    assert proc.returncode == 0, proc.stderr
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    got = {k: v[1] for k, v in res.items()}
    assert got["sgdr"][1] == 0.0 and got["sgdr"][2] > 0.099  # the end of cycle 0, then the restart
    assert got["timm"] == 0.1  # timm restarts at its epoch 63 (t = 64)
    assert got["keras"] == 0.1  # restarts where the exact sum of lengths says (Keras's float32 says 0.0)
    kid = lambda x: ref.linear(x, 1.0, 0.0, 1.1)  # noqa: E731
    ts = np.arange(1.0, 2001.0)
    want = ref.cycle(ts, kid, 1.1, zero_based=True)
    assert got["linear_1_1"] == want[1023]
    np.testing.assert_array_equal(got["linear_1_1_values"], want)
    assert got["limit_1e12"] == [0.75, 0.5, 0.25, 0.0, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0]
    assert got["limit_1e8"] == 0.0
    assert got["period_1e-300"] == [1.0] * 10
    assert all(math.isfinite(got[k]) for k in ("timm_layout", "timm_tiny_cycles", "keras_layout", "keras_shrinking"))
    assert 0.0 < got["extend_scan"] <= 0.5
    assert got["period_1e-300_scalar"] == 1.0
    assert got["shift_-1e20"] == [0.1] * 10  # t + 1e20 is a multiple of the period 4: the end of a cycle
    assert got["t_1e20"] == 0.0  # 1e20 = 4 * 2.5e19 exactly: the last update of a cycle
    assert 0.0 <= got["warm_restarts_1e300"] <= 0.1
    assert 0.1 <= got["cyclic_1e300"] <= 1.0
    assert got["walk_period_1e-300"][1] == -1.0 and got["walk_mult_near_1"][1] == -1.0  # they never settle
    assert got["walk_shrinking"][1] == 8.0  # 4 + 2 + 1 + ...: the cycles end below float resolution at 8
    assert got["walk_warp"][0] > 0 and got["walk_jumps"][0] >= 0
    assert 1e-6 <= got["suggest_1e5"] <= 1.0


# ---------------------------------------------------------------- non-finite values, whatever the order

NAN_AT_10 = ls.constant(0.0) / ls.linear(1.0, 0.0, 10)  # 0/0 at t = 10
INF_AT_10 = ls.constant(1.0) / ls.linear(1.0, 0.0, 10)  # 1/0 at t = 10


@pytest.mark.parametrize(
    "build",
    [
        lambda bad: ls.minimum(1.0, bad),
        lambda bad: ls.minimum(bad, 1.0),
        lambda bad: ls.maximum(1.0, bad),
        lambda bad: ls.maximum(bad, 1.0),
        lambda bad: bad.clip(0.0, 1.0),
        lambda bad: bad.clip(high=1.0),
        lambda bad: 1.0 / (1.0 + bad),
        lambda bad: ls.constant(2.0) / (1.0 / (1.0 + bad)),
        lambda bad: 0.0 * bad,
        lambda bad: bad - bad,
    ],
)
@pytest.mark.parametrize("bad", [NAN_AT_10, INF_AT_10], ids=["nan", "inf"])
def test_a_non_finite_value_anywhere_is_reported_whatever_the_order(build, bad):
    s = build(bad)
    assert math.isfinite(s(9))
    with pytest.raises(ValueError, match=r"not finite at t=10"):
        s(10)
    with pytest.raises(ValueError, match=r"not finite at t=10"):
        s.values(12)
    with pytest.raises(ValueError, match=r"not finite at t=10"):
        s(np.array([9.0, 10.0, 1.0]))


# ---------------------------------------------------------------- processes, threads, modes


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_children_evaluate_long_ranges():
    code = r"""
    import os, sys, numpy as np, multiprocessing as mp
    import lrsched as ls

    s = ls.warmup(ls.cosine(0.1, 1e-5, steps=90_000), steps=10_000)
    want = s.values(200_000)  # the parent evaluates a long range (threads) before forking

    def child(k):
        return bool(np.array_equal(s.values(200_000), want)) and s(k) == want[k - 1]

    pid = os.fork()
    if pid == 0:
        os._exit(0 if child(7) else 3)
    _, status = os.waitpid(pid, 0)
    with mp.get_context("fork").Pool(2) as pool:
        pooled = pool.map(child, [1, 2, 3, 4])
    print(os.waitstatus_to_exitcode(status), all(pooled))
    """
    proc = run_python(code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["0", "True"], proc.stdout + proc.stderr


def test_threads_evaluate_long_ranges_at_once(watchdog):
    import threading

    s = ls.sgdr(0.1, 1000, period_mult=1.5) * ls.exponential(1.0, 0.99999)
    want = s.values(300_000)
    results = [None] * 4

    def work(k):
        results[k] = s.values(300_000)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for r in results:
        np.testing.assert_array_equal(r, want)


def test_without_jit_the_compiled_tier_runs_as_python_and_gives_the_same_bits(compiled_cache):
    schedules = [
        "ls.warmup(ls.cosine(0.1, 1e-5, steps=900), steps=100)",
        "ls.sgdr(0.1, 30, period_mult=1.1, decay=0.5) + ls.constant(1e-4)",
        "ls.cycle(ls.linear(1.0, 0.0, 1.1), 1.1, zero_based=True).clip(0.1, 0.9)",
        "ls.minimum(ls.exponential(1.0, 0.9, every=3, staircase=True), ls.poly(1, 0, steps=50, power=2))",
    ]
    code = f"""
    import json, numpy as np, lrsched as ls
    from lrsched import engine
    ss = [{", ".join(schedules)}]
    times = np.array([7.5, 3.0, 1e9 + 0.25, 1e300, 0.0, 31.0])

    def run():
        return [[type(s(7)).__name__, s(7).hex(), [v.hex() for v in [*s.values(300), *s(times)]]] for s in ss]

    interpreted = run()
    engine._use_compiled()
    print(json.dumps([interpreted, run(), engine.SCALAR.name]))
    """
    env = {"NUMBA_CACHE_DIR": str(compiled_cache[0])}
    jit = run_python(code, env=env)
    nojit = run_python(code, env={**env, "NUMBA_DISABLE_JIT": "1"})
    assert jit.returncode == 0 and nojit.returncode == 0, jit.stderr + nojit.stderr
    a, b = json.loads(jit.stdout.splitlines()[-1]), json.loads(nojit.stdout.splitlines()[-1])
    assert a[2] == b[2] == "compiled" and "compil" not in jit.stderr
    assert [x[0] for x in b[1]] == ["float"] * len(schedules)
    assert a[0] == a[1] == b[0] == b[1]


# ---------------------------------------------------------------- the two tiers


@pytest.fixture(scope="module")
def compiled_kernel():
    """The compiled tier in this process (its cache: the package's, seeded by the run's one compile)."""
    return compiled_once.kernel()


@pytest.fixture(scope="session")
def compiled_cache():
    """One cache for every subprocess test: ``python -m lrsched --compile`` into an empty NUMBA_CACHE_DIR, run
    once per test run (tests/compiled_once.py); (that directory, what the command printed, whether nothing was
    written beside the package)."""
    where, out, package_untouched = compiled_once.run_compile()
    assert out.returncode == 0, out.stderr
    return where, out, package_untouched


wide_times = st.one_of(times, st.floats(0.0, 1e300), st.integers(0, 10**6).map(lambda x: x + 0.5))


@settings(max_examples=150, deadline=None, suppress_health_check=SUPPRESS)
@given(schedules, st.lists(wide_times, min_size=1, max_size=20), st.sampled_from([1.0, 0.5, 1e6 + 0.25]))
def test_both_tiers_give_the_same_bits(compiled_kernel, s, ts, t0):
    """Interpreted (the kernel source per value, NumPy arrays for more) and compiled: every kind, ranges from
    whole and fractional starts, unsorted and huge times, function leaves; non-finite values too."""
    program = engine.compile_program(s)
    got = []
    for kernel in (engine.INTERPRETED, compiled_kernel):
        ranged, arr = np.empty(3000), np.array(ts)
        kernel.fill(program, ranged, t0, True)
        kernel.fill(program, arr, 0.0, False)
        one = [kernel.at(program.ip, program.fp, float(t)) for t in ts] if not program.functions else []
        got.append((ranged, arr, np.array(one)))
    for a, b in zip(*got):
        np.testing.assert_array_equal(a, b, err_msg=repr(s))
    if not program.functions:  # the arrays tier on one value at a time too (the interpreted scalar runs the source;
        # a scalar call returns NaN for any value that is not finite, which the engine then reports naming t)
        one = np.array([arrays.evaluate(program.ip, program.fp, np.array([t]))[0] for t in ts])
        np.testing.assert_array_equal(np.where(np.isfinite(one), one, np.nan), got[1][2], err_msg=repr(s))


def test_every_leaf_kind_has_an_array_formula():
    """A leaf without one still evaluates (its kernel formula, per value), but a million values would crawl."""
    from lrsched import layout

    declared = {op for op in layout.PARAMS if op < layout.JOIN} - {layout.CONST, layout.FUNCTION}
    assert set(arrays._LEAVES) == declared


def test_a_leaf_without_an_array_formula_runs_its_kernel_formula(monkeypatch):
    s = ls.cycle(ls.tanh(1.0, 0.1, steps=50, lb=-4, ub=2), 60, period_mult=1.5) * ls.poly(1, 0.5, steps=900, power=2)
    want = s.values(1000)
    monkeypatch.delitem(arrays._LEAVES, ls.tanh(1, 0, steps=1).op)
    monkeypatch.delitem(arrays._LEAVES, ls.poly(1, 0, steps=1).op)
    np.testing.assert_array_equal(s.values(1000), want)
    p = ls.cosine(0, 3e-4, steps=126, periodic=True)
    monkeypatch.delitem(arrays._LEAVES, p.op)
    with pytest.raises(ValueError, match=r"not finite at t=1\.7976931348623157e\+308"):
        p(np.array([1.0, 2.0, 3.0, 4.0, 5.0, 1.7976931348623157e308]))


def test_a_math_error_is_reported_by_t_in_both_tiers(compiled_kernel, monkeypatch):
    # cos(pi * t / 126) of a t near the float range: Python's math raises, the C library gives NaN
    s = ls.cosine(0, 3e-4, steps=126, periodic=True)
    t = 1.7976931348623157e308
    said = set()
    for kernel in (engine.INTERPRETED, compiled_kernel):
        monkeypatch.setattr(engine, "SCALAR", kernel)
        monkeypatch.setattr(engine, "_COMPILED", [kernel] if kernel is compiled_kernel else [])
        for call in (lambda: s(t), lambda: s(np.array([1.0, t])), lambda: s(np.array([1.0, 2.0, 3.0, 4.0, 5.0, t]))):
            said_nan = r"not finite at t=1\.7976931348623157e\+308 \(value nan: it overflows"
            with pytest.raises(ValueError, match=said_nan) as e:
                call()
            said.add(str(e.value))
    assert len(said) == 1, said


def test_an_unknown_opcode_fails_loudly_in_both_tiers(compiled_kernel):
    program = engine.compile_program(ls.constant(1.0))
    ip = program.ip.copy()
    ip[4] = 19  # no leaf has this opcode
    bad = engine.Program(ip, program.fp, (), ls.constant(1.0))
    for run in (
        lambda: engine.INTERPRETED.at(ip, program.fp, 1.0),
        lambda: engine.INTERPRETED.fill(bad, np.empty(100), 1.0, True),
        lambda: compiled_kernel.call(bad, np.empty(0), 1.0, True),
    ):
        with pytest.raises(ValueError, match="opcode"):
            run()


FIRST_USE = """
import json, sys
import numpy as np
import lrsched as ls
from lrsched import engine
out = {}
s = ls.warmup(ls.cosine(0.1, 1e-5, steps=999_000), steps=1_000)
out["first"] = s(1)
out["v"] = s.values(10**6)[::9973].tolist()
out["sgdr"] = ls.sgdr(0.1, 1000, period_mult=1.5).values(10**6)[::9973].tolist()
out["tiny"] = ls.cycle(ls.linear(1.0, 0.0, 1.1), 1.1, zero_based=True).values(10**6)[::9973].tolist()
out["scalars"] = [s(t) for t in (1, 500, 1000, 1001, 654321.5, 10**6)]
m = np.linspace(1, 0.5, 100) + 0.01 * np.sin(np.arange(100))
out["plateau"] = float(ls.plateau(patience=2).replay(s, m, steps_per_epoch=1_000)[-1])
with engine.expecting(10**7):  # a chunked caller of ten million values: on an empty cache, still interpreted
    s.values(1000)
try:
    ls.cosine(0, 3e-4, steps=126, periodic=True)(1.7976931348623157e308)
except ValueError as e:
    out["named"] = str(e)
out["numba"] = "numba" in sys.modules
out["tier"] = engine.SCALAR.name
print(json.dumps(out))
"""


def test_first_use_compiles_nothing_and_gives_the_exact_values(tmp_path, compiled_kernel):
    """An empty cache: a million values of three schedules, scalars and a plateau replay, without numba."""
    proc = run_python(FIRST_USE, env={"NUMBA_CACHE_DIR": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.splitlines()[-1])
    assert (out["numba"], out["tier"], proc.stderr) == (False, "interpreted", "")
    assert "is not finite at t=1.7976931348623157e+308 (value nan: it overflows or is undefined there)" in out["named"]
    assert list(tmp_path.iterdir()) == []  # nothing written in the cache
    ts = np.arange(1.0, 10**6 + 1)[::9973]
    cases = [
        ("v", ls.warmup(ls.cosine(0.1, 1e-5, steps=999_000), steps=1_000)),
        ("sgdr", ls.sgdr(0.1, 1000, period_mult=1.5)),
        ("tiny", ls.cycle(ls.linear(1.0, 0.0, 1.1), 1.1, zero_based=True)),
    ]
    for key, s in cases:
        np.testing.assert_allclose(out[key], ref.evaluate(s, ts), rtol=1e-12, atol=1e-18, err_msg=key)
        program = engine.compile_program(s)
        want = np.empty(10**6)
        compiled_kernel.fill(program, want, 1.0, True)
        np.testing.assert_array_equal(out[key], want[::9973], err_msg=key)  # the compiled tier's bits
    s = cases[0][1]
    want = ref.evaluate(s, np.array([1.0, 500.0, 1000.0, 1001.0, 654321.5, 1e6]))
    np.testing.assert_allclose(out["scalars"], want, rtol=1e-12, atol=1e-18)
    assert out["first"] == out["v"][0] and 0 < out["plateau"] < 0.1


def test_compile_ahead_fills_the_cache_from_the_command_line(compiled_cache):
    where, out, package_untouched = compiled_cache
    assert str(where) in out.stdout
    assert package_untouched  # nothing written beside the package when NUMBA_CACHE_DIR names another place
    assert out.stderr.count("compiling the evaluation kernel") == 1, out.stderr
    assert re.search(r"kernel compiled in \d+\.\d s", out.stderr), out.stderr
    (key_dir,) = where.iterdir()
    assert key_dir.name == f"lrsched-kernels-{compiled.content_key()}"
    assert (key_dir / "ready").exists() and list(key_dir.glob("*.nbi"))


WARM = """
import json, os, sys
import numpy as np
import lrsched as ls
from lrsched import compiled, engine
if len(sys.argv) > 1:  # a read-only image: nothing may be written
    compiled._writable = lambda path: False
out = {"cached": compiled.cached()}
s = ls.warmup(ls.cosine(0.1, 1e-5, steps=9_000), steps=1_000)
out["first"] = s(5)
short = s.values(1000)
out["numba_before"] = "numba" in sys.modules
with engine.expecting(engine.LOAD_MIN_VALUES):  # a chunked caller of millions of values: the cache is loaded
    again = s.values(1000)
out["numba_after"] = "numba" in sys.modules
out["tier"] = engine.SCALAR.name
out["same"] = bool(np.array_equal(short, again)) and s(5) == out["first"]
out["signatures"] = len(engine._COMPILED[0].evaluate.signatures)
out["where"], out["read_only"] = compiled.CACHE_DIR, compiled.READ_ONLY
print(json.dumps(out))
"""


def test_a_warm_cache_loads_when_the_work_pays_and_a_read_only_one_is_read(compiled_cache, tmp_path):
    where, _, _ = compiled_cache
    (key_dir,) = where.iterdir()
    before = {p.name: p.stat().st_mtime_ns for p in key_dir.iterdir()}
    moved = tmp_path / "restored"  # a CI cache restored at another path
    shutil.copytree(where, moved)
    for args, root in (([], where), (["read-only"], where), (["read-only"], moved)):
        proc = run_python(WARM, env={"NUMBA_CACHE_DIR": str(root)}, args=args)
        assert proc.returncode == 0, proc.stderr
        out = json.loads(proc.stdout.splitlines()[-1])
        assert out["cached"] and out["first"] == ls.warmup(ls.cosine(0.1, 1e-5, steps=9_000), steps=1_000)(5)
        assert (out["numba_before"], out["numba_after"], out["tier"], out["same"]) == (False, True, "compiled", True)
        assert (out["signatures"], out["where"], out["read_only"]) == (1, str(root / key_dir.name), bool(args))
        assert "compil" not in proc.stderr, proc.stderr  # loaded, not compiled
    assert {p.name: p.stat().st_mtime_ns for p in key_dir.iterdir()} == before


def test_one_process_compiles_while_the_others_stay_interpreted(tmp_path):
    fcntl = pytest.importorskip("fcntl")
    key_dir = tmp_path / f"lrsched-kernels-{compiled.content_key()}"
    key_dir.mkdir()
    code = (
        "import sys, lrsched as ls\nfrom lrsched import compiled, engine\n"
        "print(engine._use_compiled(wait=False), compiled.cached(), ls.constant(0.5).values(3)[0], "
        "'numba' in sys.modules)"
    )
    with open(key_dir / "compile.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process is compiling into this cache
        proc = run_python(code, env={"NUMBA_CACHE_DIR": str(tmp_path)})
    assert proc.stdout.split() == ["None", "False", "0.5", "False"], proc.stdout + proc.stderr


def test_where_the_cache_goes(tmp_path, monkeypatch):
    key = f"lrsched-kernels-{compiled.content_key()}"
    # NUMBA_CACHE_DIR names a file: nothing is cached (nowhere else is written), and the note names it
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "file"))
    directory, _, note = compiled.plan()
    assert directory is None and f"NUMBA_CACHE_DIR={tmp_path / 'file'}" in note and "nothing is cached" in note
    # a read-only directory holding a complete cache is read; one holding none is not used
    ro = tmp_path / "ro" / key
    ro.mkdir(parents=True)
    (ro / "evaluate.nbi").write_text("")
    (ro / "ready").write_text(str(ro / "evaluate.nbi"))
    monkeypatch.setattr(compiled, "_writable", lambda path: False)
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "ro"))
    assert compiled.plan() == (str(ro), True, None)
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "empty"))
    assert compiled.plan()[0] is None
    # unnamed: beside the package, else the user's cache, else a private temporary directory
    monkeypatch.delenv("NUMBA_CACHE_DIR")
    monkeypatch.setattr(compiled, "SOURCE", tmp_path / "site" / "lrsched" / "kernels")  # no cache beside it yet
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(compiled, "_writable", lambda path: not path.startswith(str(compiled.SOURCE)))
    assert compiled.plan()[0] == str(tmp_path / "xdg" / "lrsched" / key)
    monkeypatch.setattr(compiled, "_writable", lambda path: path.startswith(tempfile.gettempdir()))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    assert compiled.plan()[0] == os.path.join(compiled._private_dir(), key)
    assert oct(os.stat(compiled._private_dir()).st_mode & 0o777) == "0o700"


def test_the_cache_is_keyed_on_content_not_mtimes(tmp_path, monkeypatch):
    src = tmp_path / "kernels"
    shutil.copytree(compiled.SOURCE, src, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(compiled.SOURCE.parent / "layout.py", tmp_path / "layout.py")
    monkeypatch.setattr(compiled, "SOURCE", src)

    def key():
        monkeypatch.setattr(compiled, "_KEY", [])
        return compiled.content_key()

    first = key()
    for path in [*src.glob("*.py"), tmp_path / "layout.py"]:
        os.utime(path, (1, 1))  # a checkout that changes nothing but mtimes
    assert key() == first
    (src / "cycles.py").write_text((src / "cycles.py").read_text() + "\n# a helper in another file changed\n")
    assert key() != first


def test_a_cache_directory_that_cannot_be_written_caches_nothing_and_says_so(tmp_path):
    """Without numba's JIT (nothing compiles: cheap): the note, once, and no cache named or written."""
    (tmp_path / "file").write_text("")
    code = (
        "import lrsched as ls\nfrom lrsched import compiled, engine\nprint(ls.compile_kernels())\n"
        "print(compiled.CACHE_DIR, engine.SCALAR.name, "
        "ls.warmup(ls.cosine(0.1, 0.0, steps=90), steps=10).values(100)[[4, -1]].tolist())"
    )
    proc = run_python(code, env={"NUMBA_CACHE_DIR": str(tmp_path / "file"), "NUMBA_DISABLE_JIT": "1"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "None compiled [0.05, 0.0]"
    assert proc.stderr.count(f"nothing is cached: NUMBA_CACHE_DIR={tmp_path / 'file'}") == 1, proc.stderr
    assert "cached in" not in proc.stderr + proc.stdout and (tmp_path / "file").read_text() == ""


@pytest.mark.parametrize("mult", [1e308, 5e307])
def test_a_cycle_whose_second_period_overflows_gives_one_answer_for_scalars_and_arrays(mult):
    # by hand: cycle 0 is t in (0, 10], linear(1, 0, 10) at t; cycle 1 (10 * mult, past the float range) starts
    # after t = 10 and its clock stays at 0 there, so the kid's first value, 1.0
    s = ls.cycle(ls.linear(1, 0, 10), 10, period_mult=mult)
    ts = [1.0, 2.0, 10.0, 11.0, 12.0]
    want = [0.9, 0.8, 0.0, 1.0, 1.0]
    assert [s(t) for t in ts] == want
    assert s(np.array(ts)).tolist() == want


EDGES = [  # (schedule, t, the same point from a formula that stays in range)
    (ls.linear(1e308, 0, 10), 2.0, 1e308 * 0.8),  # (end - start) * x overflows
    (ls.linear(1e308, -1e308, 1e10), 5e9, 0.0),  # end - start overflows
    (ls.linear(1e308, -1e308, 10), 3.0, 1e308 * 0.4),
    (ls.cosine(1e308, -1e308, steps=10), 3.0, 1e308 * math.cos(0.3 * math.pi)),
    (ls.poly(1e308, -1e308, steps=10, power=1.0), 3.0, 1e308 * 0.4),
    (ls.ease(1e308, -1e308, steps=10, power=1.0), 3.0, 1e308 * 0.4),
    (ls.tanh(1e308, -1e308, steps=10, lb=-3, ub=3), 5.0, 0.0),
    (ls.geometric(1e-300, 1e300, steps=10), 3.0, 1e-120),
    (ls.geometric(1e-300, 1e300, steps=10), 7.0, 1e120),
]


@pytest.mark.parametrize(("s", "t", "expected"), EDGES, ids=[repr(e[0]) for e in EDGES])
def test_finite_values_at_the_ends_of_the_float_range_are_computed_not_refused(compiled_kernel, s, t, expected):
    """end - start overflows there (end / start for geometric); the value itself is in range, so it is given."""
    program = engine.compile_program(s)
    for kernel in (engine.INTERPRETED, compiled_kernel):
        got = kernel.at(program.ip, program.fp, t)
        assert got == pytest.approx(expected, rel=1e-12, abs=0), (kernel.name, got)
    got = arrays.evaluate(program.ip, program.fp, np.array([t]))[0]
    assert got == pytest.approx(expected, rel=1e-12, abs=0), ("arrays", got)
    assert s(t) == pytest.approx(expected, rel=1e-12, abs=0)
    assert s(np.array([t]))[0] == s(t)
    # where nothing overflows, the formula as written (the peers' order of operations) is kept to the bit
    assert ls.linear(1.0, -1.0, 10)(3.0) == 1.0 + (-1.0 - 1.0) * 3.0 / 10


def test_without_jit_the_work_never_switches_to_the_python_run_compiled_tier(monkeypatch):
    """Under NUMBA_DISABLE_JIT the compiled tier is the kernel source run as Python, value by value: slower than the
    interpreted tier's arrays, so no amount of work loads it (it ran the no-JIT test pass 20x slower)."""
    monkeypatch.setenv("NUMBA_DISABLE_JIT", "1")
    assert engine._maybe_switch(engine.COMPILE_MIN_VALUES) is None
    assert engine._maybe_switch(engine.LOAD_MIN_VALUES) is None
    monkeypatch.setenv("NUMBA_DISABLE_JIT", "0")
    assert not engine._jit_disabled()
