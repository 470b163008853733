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
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lrsched as ls
from lrsched import kernels

from . import reference as ref
from .test_properties import schedules, times

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def watchdog():
    """Kill the test process, printing where it was, if the test runs for over two minutes."""
    faulthandler.dump_traceback_later(120, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


def run_python(code: str, timeout: float = 240, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
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


@settings(max_examples=300, deadline=None, suppress_health_check=SUPPRESS)
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


def test_without_jit_scalars_are_python_floats_and_values_are_bit_identical():
    schedules = [
        "ls.warmup(ls.cosine(0.1, 1e-5, steps=900), steps=100)",
        "ls.sgdr(0.1, 30, period_mult=1.1, decay=0.5) + ls.constant(1e-4)",
        "ls.cycle(ls.linear(1.0, 0.0, 1.1), 1.1, zero_based=True).clip(0.1, 0.9)",
        "ls.minimum(ls.exponential(1.0, 0.9, every=3, staircase=True), ls.poly(1, 0, steps=50, power=2))",
    ]
    code = f"""
    import json, lrsched as ls
    out = []
    for s in [{", ".join(schedules)}]:
        y = s(7)
        out.append([type(y).__name__, y.hex(), [v.hex() for v in s.values(300).tolist()]])
    print(json.dumps(out))
    """
    jit = run_python(code)
    nojit = run_python(code, env={"NUMBA_DISABLE_JIT": "1"})
    assert jit.returncode == 0 and nojit.returncode == 0, jit.stderr + nojit.stderr
    a, b = json.loads(jit.stdout.splitlines()[-1]), json.loads(nojit.stdout.splitlines()[-1])
    assert [x[0] for x in b] == ["float"] * len(schedules)
    assert a == b


NO_CACHE = r"""
import os, sys, tempfile
os.environ.pop("NUMBA_CACHE_DIR", None)
import numba.core.caching as caching
keep = {keep}
for cls in caching.CacheImpl._locator_classes:
    if cls.__name__ not in keep:
        cls.from_function = classmethod(lambda cls, py_func, py_file: None)
tempfile.tempdir = sys.argv[1] if len(sys.argv) > 1 else {tmp!r}
import lrsched as ls
from lrsched import compiled, engine
s = ls.warmup(ls.cosine(0.1, 0.0, steps=90), steps=10)
engine.compile_kernels()
print(compiled.CACHE, compiled.CACHE_FALLBACK, s(5), s.values(100)[-1])
"""


@pytest.mark.slow
def test_imports_and_evaluates_without_a_writable_cache(tmp_path):
    # numba finds no place beside the package or in $HOME: cache in a private temporary directory
    proc = run_python(NO_CACHE.format(keep={"UserProvidedCacheLocator"}, tmp=str(tmp_path)))
    assert proc.returncode == 0, proc.stderr
    cache, where, y5, last = proc.stdout.split()
    assert (cache, float(y5), float(last)) == ("True", 0.05, 0.0)
    assert where.startswith(str(tmp_path))
    assert oct(os.stat(where).st_mode & 0o777) == "0o700"
    # nowhere at all: compiled in memory, and said once on stderr
    proc = run_python(NO_CACHE.format(keep=set(), tmp=str(tmp_path / "missing" / "dir")))
    assert proc.returncode == 0, proc.stderr
    cache, where, y5, last = proc.stdout.split()
    assert (cache, where, float(y5), float(last)) == ("False", "None", 0.05, 0.0)
    assert proc.stderr.count("compiled in memory") == 1, proc.stderr


# ---------------------------------------------------------------- the two tiers


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schedules, st.lists(times, min_size=1, max_size=20))
def test_both_tiers_give_the_same_bits(s, ts):
    """The kernel source run as Python and compiled by numba: scalars and ranges, every kind."""
    from lrsched import compiled, engine

    program = engine.compile_program(s)
    ip, fp = program.ip, program.fp
    fast = compiled.load().evaluate
    side = np.empty((2, 3000 * max(len(program.functions), 1)))
    if program.functions:
        return  # functions run through the engine's two passes, tested with both tiers by the property tests
    got = []
    for kernel in (engine._interpreted, fast):
        out = np.empty(3000)
        kernel(ip, fp, out, 1.0, True, 0, 1, side, *kernels.scratch(int(ip[2]), 3000), 0)
        at = []
        for t in ts:
            w = kernels.scratch(int(ip[2]), 1)
            at.append(kernel(ip, fp, np.empty(0), float(t), True, 0, 1, side, *w, 0))
        got.append((out, at))
    np.testing.assert_array_equal(got[0][0], got[1][0])
    np.testing.assert_array_equal(np.array(got[0][1]), np.array(got[1][1]))


FIRST_USE = """
import sys
import lrsched as ls
from lrsched import engine
schedules = [
    ls.warmup(ls.cosine(0.1, 1e-5, steps=9_000), steps=1_000),
    ls.sgdr(0.1, 1000, period_mult=1.5),
    ls.triangular(0.1, 1.0, 50) * ls.exponential(1.0, 0.999),
]
for s in schedules:
    s(1)
    [s(t) for t in range(1, 1001)]
    s.values(engine.INTERPRETED_MAX)
print("numba" in sys.modules)
schedules[0].values(engine.INTERPRETED_MAX + 1)
print("numba" in sys.modules, len(engine._COMPILED[0].signatures))
"""


def test_values_and_short_ranges_compile_nothing_and_a_long_range_compiles_once(tmp_path):
    env = {"NUMBA_CACHE_DIR": str(tmp_path)}  # an empty cache
    out = run_python(FIRST_USE, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "True", "1"], out.stdout + out.stderr
    assert out.stderr.count("compiling the evaluation kernel") == 1, out.stderr
    # the next process finds the kernel in numba's cache: every call runs compiled, nothing is compiled again
    warm = run_python(
        "import lrsched as ls, sys\nfrom lrsched import engine\n"
        "print(ls.constant(0.5)(3), bool(engine._COMPILED), 'numba' in sys.modules)",
        env=env,
    )
    assert warm.stdout.split() == ["0.5", "True", "True"], warm.stdout + warm.stderr
    assert "compiling" not in warm.stderr, warm.stderr


def test_compile_ahead_fills_the_cache_from_the_command_line(tmp_path):
    env = {"NUMBA_CACHE_DIR": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-m", "lrsched", "--compile"], capture_output=True, text=True, env={**os.environ, **env}
    )
    assert out.returncode == 0, out.stderr
    assert str(tmp_path) in out.stdout
    warm = run_python("import lrsched as ls\nfrom lrsched import compiled\nprint(compiled.cached())", env=env)
    assert warm.stdout.split() == ["True"], warm.stdout + warm.stderr
    # a cache numba would not read now (another NUMBA_CACHE_DIR) is not taken for one: the first value compiles nothing
    other = run_python(
        "import sys, lrsched as ls\nfrom lrsched import compiled\n"
        "print(compiled.cached(), ls.constant(0.5)(1), 'numba' in sys.modules)",
        env={"NUMBA_CACHE_DIR": str(tmp_path / "elsewhere")},
    )
    assert other.stdout.split() == ["False", "0.5", "False"], other.stdout + other.stderr


def test_an_unknown_opcode_fails_loudly_in_both_tiers():
    from lrsched import compiled, engine

    program = engine.compile_program(ls.constant(1.0))
    ip = program.ip.copy()
    ip[4] = 19  # no leaf has this opcode
    for kernel in (engine._interpreted, compiled.load().evaluate):
        with pytest.raises(ValueError, match="opcode"):
            kernel(ip, program.fp, np.empty(0), 1.0, True, 0, 1, np.empty((2, 0)), np.empty(0), np.empty(0, np.int64), 0)


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
def test_finite_values_at_the_ends_of_the_float_range_are_computed_not_refused(s, t, expected):
    """end - start overflows there (end / start for geometric); the value itself is in range, so it is given."""
    from lrsched import compiled, engine

    program = engine.compile_program(s)
    ip, fp = program.ip, program.fp
    side = np.empty((2, 1))
    for kernel in (engine._interpreted, compiled.load().evaluate):
        w = kernels.scratch(int(ip[2]), 1)
        got = kernel(ip, fp, np.empty(0), t, True, 0, 1, side, *w, 0)
        assert got == pytest.approx(expected, rel=1e-12, abs=0), (kernel, got)
    assert s(t) == pytest.approx(expected, rel=1e-12, abs=0)
    assert s(np.array([t]))[0] == s(t)
    # where nothing overflows, the formula as written (the peers' order of operations) is kept to the bit
    assert ls.linear(1.0, -1.0, 10)(3.0) == 1.0 + (-1.0 - 1.0) * 3.0 / 10
