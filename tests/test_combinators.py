"""Combinators against independent formulas, and restarts against real peers."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lrsched as ls
from lrsched import engine
from tests import compiled_once
from tests import reference as ref
from tests.test_properties import _compiled_values, whole_cycles

T = np.concatenate([np.arange(0, 3000, dtype=float), [0.5, 999.5, 1000.25, 1e7 + 0.5]])


def close(got, want, scale=None):
    scale = np.max(np.abs(want)) if scale is None else scale
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15 * scale)


def test_join_runs_each_phase_on_its_own_clock():
    s = ls.join([ls.cosine(0.1, 0.01, steps=300), ls.linear(0.01, 0.0, 200), ls.constant(0.001)], boundaries=[300, 500])
    want = ref.join(
        T,
        [
            lambda t: ref.cosine(t, 0.1, 0.01, 300),
            lambda t: ref.linear(t, 0.01, 0.0, 200),
            lambda t: ref.constant(t, 0.001),
        ],
        [300, 500],
    )
    close(s(T), want)
    # the boundary iteration belongs to the earlier phase; the next one is the new phase's t = 1
    assert s(300) == 0.01
    assert s(301) == ls.linear(0.01, 0.0, 200)(1)


def test_join_with_fractional_boundaries():
    s = ls.join([ls.constant(1.0), ls.linear(1.0, 0.0, 10)], boundaries=[2.5])
    assert s(2.5) == 1.0
    assert s(3) == pytest.approx(0.95)


def test_nested_joins_flatten():
    a, b, c, d = (ls.constant(x) for x in (1.0, 2.0, 3.0, 4.0))
    assert ls.join([ls.join([a, b], boundaries=[10]), c], boundaries=[20]) == ls.join([a, b, c], boundaries=[10, 20])
    assert ls.join([a, ls.join([b, c], boundaries=[5])], boundaries=[10]) == ls.join([a, b, c], boundaries=[10, 15])
    # an inner phase that would start after the outer phase ends is dropped
    inner = ls.join([a, b, c], boundaries=[10, 30])
    assert ls.join([inner, d], boundaries=[20]) == ls.join([a, b, d], boundaries=[10, 20])
    flat = ls.join([inner, d], boundaries=[20])
    assert [flat(t) for t in (10, 11, 20, 21)] == [1.0, 2.0, 2.0, 4.0]


@pytest.mark.parametrize("shape", ["linear", "cosine", "exponential"])
def test_warmup(shape):
    target = ls.cosine(0.1, 1e-5, steps=2000)
    s = ls.warmup(target, steps=1000, start=1e-4 if shape == "exponential" else 0.0, shape=shape)
    ramp = {
        "linear": lambda t: ref.linear(t, 0.0, 0.1, 1000),
        "cosine": lambda t: ref.cosine(t, 0.0, 0.1, 1000),
        "exponential": lambda t: ref.geometric(t, 1e-4, 0.1, 1000),
    }[shape]
    close(s(T), ref.join(T, [ramp, lambda t: ref.cosine(t, 0.1, 1e-5, 2000)], [1000]))
    assert s(1000) == 0.1  # the ramp ends exactly at the schedule's start
    assert s(1001) == target(1)
    assert s(1) > s(0)  # the first update is not wasted at lr = start


def test_warmup_issue_example():
    s = ls.warmup(ls.cosine(0.1, 1e-5, steps=9_000), steps=1_000)
    assert s(1) == pytest.approx(1e-4, rel=1e-15)
    assert s(1_000) == 0.1
    assert s(1_001) == pytest.approx(1e-5 + (0.1 - 1e-5) * (1 + math.cos(math.pi / 9000)) / 2, rel=1e-15)
    assert s(10_000) == 1e-5


CYCLES = [
    dict(period=100),
    dict(period=100, decay=0.5),
    dict(period=50, period_mult=2.0),
    dict(period=40, period_mult=1.5, decay=0.8),
    dict(period=100, period_mult=2.0, limit=3),
    dict(period=100, period_mult=0.5, limit=4),
    dict(period=30, decay=0.9, limit=5),
    dict(period=100, zero_based=True),
    dict(period=60, period_mult=2.0, decay=0.7, zero_based=True),
    dict(period=60, period_mult=1.5, limit=3, zero_based=True),
    dict(period=40, period_mult=1.5, limit=5, zero_based=True),  # the last restart at 325, the end at 527.5
    dict(period=7.5, period_mult=1.3, limit=4),
]


@pytest.mark.parametrize("kw", CYCLES, ids=[str(c) for c in CYCLES])
def test_cycle_matches_explicit_accumulation(kw):
    child = ls.cosine(1.0, 0.1, steps=kw["period"])
    s = ls.cycle(child, **kw)
    want = ref.cycle(T, lambda t: ref.cosine(t, 1.0, 0.1, kw["period"]), **kw)
    close(s(T), want, scale=1.0)


def test_cycle_periodicity_and_decay():
    s = ls.cycle(ls.linear(1.0, 0.0, 10), period=10, decay=0.5)
    for t in range(1, 11):
        assert s(t + 10) == s(t) * 0.5
        assert s(t + 20) == s(t) * 0.25
    assert s(10) == 0.0
    assert s(11) == 0.45


def test_cycle_holds_after_the_limit():
    s = ls.cycle(ls.linear(1.0, 0.0, 10), period=10, decay=0.5, limit=2)
    assert s(20) == 0.0
    assert s(1e6) == 0.0
    z = ls.cycle(ls.linear(1.0, 0.0, 10), period=10, decay=0.5, limit=2, zero_based=True)
    assert z(20) == 0.5 * ls.linear(1.0, 0.0, 10)(9)
    assert z(21) == z(20)
    assert z(1e6) == z(20)


@pytest.mark.parametrize(("T_0", "T_mult", "eta_min"), [(10, 1, 0.0), (7, 2, 1e-3), (5, 3, 0.0), (1, 2, 0.0)])
def test_cycle_reproduces_torch_cosine_annealing_warm_restarts(T_0, T_mult, eta_min):
    torch = pytest.importorskip("torch", reason="torch is installed by the README test command")
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=0.1)
    sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=T_0, T_mult=T_mult, eta_min=eta_min)
    n = 1500
    want = []
    for _ in range(n):
        want.append(opt.param_groups[0]["lr"])  # the lr of the k-th optimizer.step()
        opt.step()
        sched.step()
    s = ls.cycle(ls.cosine(0.1, eta_min, steps=T_0), T_0, period_mult=T_mult, zero_based=True)
    got = s.values(n)
    # torch's chained form drifts; compare with the amplitude as the scale (see lrsched.torch for exact mirrors)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13 * 0.1)
    # restarts land on exactly the same iterations
    np.testing.assert_array_equal(np.flatnonzero(np.diff(got) > 0), np.flatnonzero(np.diff(want) > 0))


def _timm_cosine(t0, base, lr_min, T0, mul, decay, limit):
    """timm CosineLRScheduler._get_lr (t 0-based), from its documented formula."""
    if mul != 1:
        i = math.floor(math.log(1 - t0 / T0 * (1 - mul), mul))
        t_i = mul**i * T0
        t_curr = t0 - (1 - mul**i) / (1 - mul) * T0
    else:
        i = t0 // T0
        t_i = T0
        t_curr = t0 - T0 * i
    lr_max = base * decay**i
    if i < limit:
        return lr_min + 0.5 * (lr_max - lr_min) * (1 + math.cos(math.pi * t_curr / t_i))
    return lr_min


@pytest.mark.parametrize(("mul", "decay", "limit"), [(1.0, 0.5, 3), (2.0, 0.8, 4), (1.0, 1.0, 100)])
def test_cycle_with_arithmetic_reproduces_timm(mul, decay, limit):
    base, lr_min, T0 = 0.1, 1e-3, 40
    # timm decays the amplitude above lr_min and drops to lr_min after the limit
    amp = ls.cycle(ls.cosine(base, 0.0, steps=T0), T0, period_mult=mul, decay=decay, zero_based=True)
    floor = ls.cycle(ls.cosine(0.0, lr_min, steps=T0), T0, period_mult=mul, zero_based=True)
    end = sum(T0 * mul**i for i in range(limit))
    s = ls.join([amp + floor, ls.constant(lr_min)], boundaries=[end]) if limit < 100 else amp + floor
    n = 2000
    want = [_timm_cosine(k - 1, base, lr_min, T0, mul, decay, limit) for k in range(1, n + 1)]
    np.testing.assert_allclose(s.values(n), want, rtol=1e-12, atol=1e-16)


def _keras_restarts(step, lr, first, t_mul, m_mul, alpha):
    """Keras CosineDecayRestarts.__call__ (step 0-based), from its documented formula."""
    frac = step / first
    if t_mul == 1.0:
        i = math.floor(frac)
        frac -= i
    else:
        x = 1.0 - frac * (1.0 - t_mul)
        if x <= 0:
            return math.nan  # past every cycle of a shrinking schedule: Keras's log gives NaN
        i = math.floor(math.log(x) / math.log(t_mul))
        total = (1.0 - t_mul**i) / (1.0 - t_mul)
        frac = (frac - total) / t_mul**i
    cosine = 0.5 * m_mul**i * (1.0 + math.cos(math.pi * frac))
    return lr * ((1 - alpha) * cosine + alpha)


@pytest.mark.parametrize(("t_mul", "m_mul", "alpha"), [(2.0, 1.0, 0.0), (1.0, 0.5, 0.1), (2.0, 0.9, 0.01)])
def test_cycle_with_arithmetic_reproduces_keras_restarts(t_mul, m_mul, alpha):
    lr, first = 0.1, 30
    s = lr * alpha + ls.cycle(ls.cosine(lr * (1 - alpha), 0.0, steps=first), first, t_mul, m_mul, zero_based=True)
    n = 1000
    want = np.array([_keras_restarts(k - 1, lr, first, t_mul, m_mul, alpha) for k in range(1, n + 1)])
    np.testing.assert_allclose(s.values(n), want, rtol=1e-12, atol=1e-15)


def test_arithmetic():
    a = ls.linear(1.0, 0.0, 100)
    b = ls.cosine(0.5, 0.1, steps=50)
    ta, tb = ref.linear(T, 1.0, 0.0, 100), ref.cosine(T, 0.5, 0.1, 50)
    close((a + b)(T), ta + tb)
    close((a - b)(T), ta - tb)
    close((a * b)(T), ta * tb)
    close((a / b)(T), ta / tb)
    close((2 * a + 0.5)(T), 2 * ta + 0.5)
    close((1 - a)(T), 1 - ta)
    close((1 / b)(T), 1 / tb)
    close((-a)(T), -ta)
    close(ls.minimum(a, b)(T), np.minimum(ta, tb))
    close(ls.maximum(a, 0.3)(T), np.maximum(ta, 0.3))
    close(a.clip(0.2, 0.7)(T), np.clip(ta, 0.2, 0.7))
    close(a.clip(low=0.2)(T), np.maximum(ta, 0.2))
    close(a.clip(high=0.7)(T), np.minimum(ta, 0.7))
    assert +a is a
    # numpy scalars on either side
    close((np.float64(2.0) * a)(T), 2 * ta)
    close((a * np.int64(3))(T), 3 * ta)


def test_time_reshaping():
    a = ls.linear(1.0, 0.0, 100)
    close(a.shift(10)(T), ref.linear(np.maximum(T - 10, 0), 1.0, 0.0, 100))
    close(a.shift(-10)(T), ref.linear(T + 10, 1.0, 0.0, 100))
    close(a.stretch(2.5)(T), ref.linear(T / 2.5, 1.0, 0.0, 100))
    close(a.per_epoch(7)(T), ref.linear(np.ceil(T / 7), 1.0, 0.0, 100))
    close(a.warp(2.5, 100)(T), ref.linear(100 * (T / 100) ** 2.5, 1.0, 0.0, 100))
    s = ls.multistep(0.1, [30, 60], factor=0.1).per_epoch(100)
    assert (s(3000), s(3001), s(0)) == (0.1, s(3001), 0.1)
    assert s(3001) == pytest.approx(0.01)


def test_function_escape_hatch():
    f = ls.function(math.sqrt)
    close(f(T), np.sqrt(T))
    g = ls.warmup(ls.function(lambda t: 1.0 / (1.0 + t)) * 2, steps=10)
    want = ref.join(T, [lambda t: ref.linear(t, 0.0, 2.0, 10), lambda t: 2 / (1 + t)], [10])
    close(g(T), want)
    assert g(5.0) == g(np.array([5.0]))[0]
    assert pickle.loads(pickle.dumps(f)) == f
    assert repr(f) == "function(math.sqrt)"
    with pytest.raises(TypeError, match="cannot be serialized"):
        g.to_dict()
    with pytest.raises(TypeError, match="not a number"):
        ls.function(lambda t: "fast")(1)
    with pytest.raises(ValueError, match="not finite"):
        ls.function(lambda t: math.inf).values(3)


def test_non_finite_values_raise_with_t():
    s = 1 / ls.linear(1.0, -1.0, 10)  # crosses zero at t = 5
    with pytest.raises(ValueError, match=r"not finite at t=5"):
        s.values(10)
    with pytest.raises(ValueError, match=r"not finite at t=5"):
        s(5)
    assert s(4) == pytest.approx(5.0)
    with pytest.raises(ValueError, match="not finite"):
        ls.exponential(1.0, 10.0).values(400)


def test_minimum_and_maximum_name_their_operands_like_the_arithmetic():
    """left / right, as add, sub, mul and div; configs written with the former a / b still load."""
    s = ls.minimum(ls.linear(0.0, 1.0, 10), 0.5)
    assert (s.left, s.right) == (ls.linear(0.0, 1.0, 10), ls.constant(0.5))
    node = s.to_dict()["schedule"]
    assert set(node) == set(ls.linear(0, 1, 10).__add__(0.5).to_dict()["schedule"]) == {"type", "left", "right"}
    a, b = {"type": "constant", "value": 1.0}, {"type": "linear", "start": 0, "end": 2, "steps": 4}
    old = {"type": "maximum", "a": a, "b": b}
    assert ls.from_dict(old) == ls.maximum(1.0, ls.linear(0, 2, 4))
    assert ls.from_dict(old)(4) == 2.0


def test_a_config_with_both_spellings_of_a_renamed_field_is_refused():
    a = {"type": "constant", "value": 1.0}
    with pytest.raises(ValueError, match="both 'a' and 'left'"):
        ls.from_dict({"type": "minimum", "a": a, "left": a, "b": a})


def test_former_keywords_and_division_by_zero_are_named():
    with pytest.raises(TypeError, match="unexpected parameter 'a'; it is now called 'left'"):
        ls.minimum(a=1.0, b=2.0)
    with pytest.raises(ValueError, match=r"^div\(\): right=0: division by constant\(0\)$"):
        ls.linear(1, 0, 10) / 0


# ---------------------------------------------------------------- cooldown (moved here from test_symbols.py)


def np_cooldown(t, f, at, n, to, shape):
    t = np.asarray(t, dtype=float)
    x = float(f(np.array([float(at)]))[0])
    p = np.minimum(np.maximum(t - at, 0.0), n) / n
    g = {"linear": 1.0 - p, "cosine": (1.0 + np.cos(np.pi * p)) / 2.0, "sqrt": 1.0 - np.sqrt(p)}[shape]
    return np.where(t <= at, f(t), to + (x - to) * g)


def cooldown_base(t):
    return ref.join(
        np.asarray(t, dtype=float),
        [lambda u: ref.linear(u, 0.0, 1.0, 20), lambda u: ref.cosine(u, 1.0, 0.1, 180)],
        [20],
    )


@pytest.mark.parametrize("shape", ["linear", "cosine", "sqrt", "1-sqrt"])
@pytest.mark.parametrize(("at", "n", "to"), [(60, 40, 0.0), (37.5, 25, 0.05), (10, 300, 0.0), (0, 30, 0.2)])
def test_cooldown_matches_its_formula(shape, at, n, to):
    s = ls.cooldown(ls.warmup(ls.cosine(1.0, 0.1, steps=180), steps=20), at=at, steps=n, to=to, shape=shape)
    t = np.concatenate([np.arange(0, 400, dtype=float), [at, at + 0.5, at + n, at + n + 1e6]])
    close(s(t), np_cooldown(t, cooldown_base, at, n, to, "sqrt" if shape == "1-sqrt" else shape), scale=1.0)
    assert s(at + n) == pytest.approx(to, abs=1e-15)
    assert s.length() == pytest.approx(at + n)


def test_cooldown_docstring_example_and_defaults():
    s = ls.cooldown(ls.constant(1.0), at=100, steps=10, shape="1-sqrt")
    assert s(100) == 1.0 and s(110) == 0.0 and s(200) == 0.0
    assert s(102) == pytest.approx(1 - np.sqrt(0.2), rel=1e-15)
    d = ls.cooldown(ls.constant(0.5), at=5, steps=10)  # to=0, linear
    t = np.arange(1, 20, dtype=float)
    close(d(t), np.where(t <= 5, 0.5, 0.5 * (1 - np.minimum(t - 5, 10) / 10)))
    assert ls.from_json(s.to_json()) == s
    assert ls.parse(repr(s)) == s


def test_cooldown_refusals():
    c = ls.constant(1.0)
    with pytest.raises(ValueError, match="at"):
        ls.cooldown(c, at=-1, steps=10)
    with pytest.raises(ValueError, match="steps"):
        ls.cooldown(c, at=1, steps=0)
    with pytest.raises(ValueError, match="shape"):
        ls.cooldown(c, at=1, steps=3, shape="exp")
    with pytest.raises(TypeError, match="at"):
        ls.cooldown(c, at=True, steps=3)
    with pytest.raises(TypeError, match="at"):
        ls.cooldown(c, at="5", steps=3)
    with pytest.raises(ValueError, match=r"steps.*total"):
        ls.cooldown(c, at=0.8 * ls.total, steps=ls.total - ls.total).bind(total=100)


# ---------------------------------------------------------------- extend (moved here from test_symbols.py)


def bisect_down(f, lo, hi, x, iters=200):
    """The point in [lo, hi] where a decreasing f comes down to x: f(lo) > x >= f(hi)."""
    if f(lo) <= x:
        return lo
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        if not lo < mid < hi:
            break
        if f(mid) <= x:
            hi = mid
        else:
            lo = mid
    return hi


def np_extend(t, old_f, new_f, at, peak_t, end):
    """Extend's docstring formula where new has no plateau at old(at): tau0 by bisection after the peak."""
    t = np.asarray(t, dtype=float)
    x = float(old_f(np.array([float(at)]))[0])
    tau0 = bisect_down(lambda u: float(new_f(np.array([u]))[0]), float(peak_t), float(end), x)
    clock = tau0 + (t - at) * (end - tau0) / (end - at)
    return np.where(t <= at, old_f(t), new_f(np.maximum(clock, 0.0))), tau0


def np_wsd(t, peak, n, w, d):
    """Warmup-stable-decay written out: 0 -> peak over w, peak up to n - d, then linear to 0 over d."""
    t = np.asarray(t, dtype=float)
    return np.where(t <= w, peak * t / w, np.where(t <= n - d, peak, peak * (1 - np.minimum(t - (n - d), d) / d)))


def test_extend_matches_its_formula():
    old = ls.cosine(1.0, 0.0, steps=100)
    new = ls.warmup(ls.cosine(1.0, 0.0, steps=180), steps=20)

    def old_f(t):
        return ref.cosine(t, 1.0, 0.0, 100)

    def new_f(t):
        return ref.join(t, [lambda u: ref.linear(u, 0.0, 1.0, 20), lambda u: ref.cosine(u, 1.0, 0.0, 180)], [20])

    for at in (50, 30.5, 75):
        s = ls.extend(old, new, at=at)
        t = np.concatenate([np.arange(0, 260, dtype=float), [at, at + 1e-3]])
        want, tau0 = np_extend(t, old_f, new_f, at, peak_t=20, end=200)
        np.testing.assert_allclose(s(t), want, rtol=1e-9, atol=1e-12)
        assert s(at) == old(at)  # the past is kept exactly: no jump
        assert s(200) == pytest.approx(0.0, abs=1e-15) and s(1e6) == pytest.approx(0.0, abs=1e-15)
        assert s.length() == pytest.approx(200.0)
    _, tau0 = np_extend(np.array([0.0]), old_f, new_f, 50, peak_t=20, end=200)
    assert tau0 == pytest.approx(110.0)  # new comes down to old(50) = 0.5 at 20 + 90


def test_extend_docstring_example():
    old, new = ls.cosine(1.0, 0.0, steps=100), ls.cosine(1.0, 0.0, steps=200)
    s = ls.extend(old, new, at=50)
    t = np.arange(1, 230, dtype=float)
    want, tau0 = np_extend(
        t, lambda u: ref.cosine(u, 1.0, 0.0, 100), lambda u: ref.cosine(u, 1.0, 0.0, 200), 50, 0, 200
    )
    assert tau0 == pytest.approx(100.0)
    np.testing.assert_allclose(s(t), want, rtol=1e-9, atol=1e-12)
    assert ls.from_json(s.to_json()) == s
    assert ls.extend(old, ls.cosine(1.0, 0.0, steps=ls.total), at=50).bind(total=200) == s


@pytest.mark.parametrize("at", [300, 700, 799, 800, 250.25])
def test_extend_on_a_plateau_continues_from_at(at):
    """issue 23: WSD's own use case. The run is on the stable phase, and so is the longer plan: it stays there
    until the longer plan's decay (1600 .. 2000), not a replay of the plateau squeezed into what is left."""
    old, new = ls.wsd(0.1, 1000, 100, 200), ls.wsd(0.1, 2000, 100, 400)
    s = ls.extend(old, new, at=at)
    t = np.arange(1, 2100, dtype=float)
    want = np.where(t <= at, np_wsd(t, 0.1, 1000, 100, 200), np_wsd(t, 0.1, 2000, 100, 400))
    np.testing.assert_allclose(s(t), want, rtol=1e-13, atol=1e-16)
    assert s(1700) == pytest.approx(0.075, rel=1e-13)  # was 0.1: the decay started at 1727
    assert s.length() == 2000.0


@pytest.mark.parametrize(
    "plan",
    [
        ls.wsd(0.1, 1000, 100, 200),
        ls.wsd(0.1, 1000, 100, 200, decay="1-sqrt"),
        ls.warmup_cosine(0.1, 1000, 100),
        ls.one_cycle(0.1, 1000),
        ls.cosine(1.0, 0.0, steps=1000),
        ls.join(
            [ls.constant(0.1), ls.linear(0.1, 0.01, 300), ls.constant(0.01), ls.linear(0.01, 0.0, 100)], [200, 500, 900]
        ),
    ],
    ids=repr,
)
def test_extending_by_the_same_plan_is_the_plan_bit_for_bit(plan):
    t = np.arange(0, 1100, dtype=float)
    for at in (1, 50, 99, 100, 101, 350, 500, 850, 950, 990):
        if plan(at) == plan.values(1100)[-1]:  # a finished decay: refused (below)
            continue
        np.testing.assert_array_equal(ls.extend(plan, plan, at=at)(t), plan(t), err_msg=f"at={at}")


def test_extend_refuses_a_new_plan_that_rises_again():
    """issue 23: a restart after the continuation point would be a jump in the continued run."""
    old = ls.cosine(1.0, 0.0, steps=100)
    for new in (
        ls.cycle(ls.cosine(1.0, 0.0, steps=100), 100, limit=3),
        ls.sgdr(1.0, 50, limit=4),
        ls.join([ls.linear(1.0, 0.2, 50), ls.linear(0.8, 0.0, 50)], boundaries=[50]),
        ls.join([ls.linear(1.0, 0.2, 30), ls.constant(0.8), ls.linear(0.3, 0.0, 20)], boundaries=[30, 100]),
    ):
        with pytest.raises(ValueError, match="rises again"):
            ls.extend(old, new, at=30)
    # a rise before the point where new comes down to old(at) is no jump: 0.1 is reached only after it
    new = ls.join([ls.linear(1.0, 0.5, 50), ls.linear(0.8, 0.0, 50)], boundaries=[50])
    s = ls.extend(ls.constant(0.1), new, at=10)
    tau0 = 50 + 50 * (0.8 - 0.1) / 0.8
    t = np.arange(1, 120, dtype=float)
    want = np.where(t <= 10, 0.1, ref.linear(np.maximum(tau0 + (t - 10) * (100 - tau0) / 90 - 50, 0), 0.8, 0.0, 50))
    np.testing.assert_allclose(s(t), want, rtol=1e-9, atol=1e-12)


def test_extend_refuses_a_finished_decay_naming_what_to_do():
    """issue 23: a cosine to 0, extended by 50% at its end, would hold lr 0 for 5,000 updates."""
    old, new = ls.cosine(1.0, 0.0, steps=10_000), ls.cosine(1.0, 0.0, steps=15_000)
    for at in (10_000, 12_000):
        with pytest.raises(ValueError, match=r"final value.*re-warm up.*cooldown"):
            ls.extend(old, new, at=at)


def test_extend_refuses_a_level_that_new_reaches_only_as_it_ends():
    """old(at) above new's final value, but so close to it that new gets there only at its last float: the
    continuation would run new at pace 0 (it raised ZeroDivisionError at the first value, length or plot)."""
    pairs = [(ls.constant(1e-18), ls.linear(1.0, 0.0, 200)), (ls.linear(0.1, 0, 100), ls.linear(1e300, 0, 200))]
    for old, new in pairs:
        with pytest.raises(ValueError, match=r"is reached by new only at its end \(t = 200"):
            ls.extend(old, new, at=50)
    s = ls.extend(ls.constant(1e-3), ls.linear(1.0, 0.0, 200), at=50)  # near the end, not at it: runs on
    assert s(51) == pytest.approx(1.0 - (199.8 + 0.2 / 150) / 200, rel=1e-9) and s.length() == 200


def test_extend_reads_plans_up_to_its_cap_and_refuses_longer_ones_at_once():
    from lrsched import combinators

    cap = combinators._EXTEND_MAX
    with pytest.raises(ValueError, match=r"at most 4194304 updates.*stretch"):
        ls.extend(ls.constant(0.5), ls.cosine(1.0, 0.0, steps=2**31), at=10)
    s = ls.extend(ls.constant(0.5), ls.cosine(1.0, 0.0, steps=cap), at=10)
    assert s(11) == pytest.approx(0.5, rel=1e-5) and s(cap) == 0.0


def test_extend_refusals():
    old = ls.cosine(1.0, 0.0, steps=100)
    new = ls.cosine(1.0, 0.0, steps=200)
    with pytest.raises(ValueError, match="never settles"):
        ls.extend(old, ls.exponential(1.0, 0.99), at=50)
    with pytest.raises(ValueError, match="never settles"):
        ls.extend(old, ls.sgdr(1.0, 50), at=30)
    with pytest.raises(ValueError, match="settles"):
        ls.extend(old, ls.cosine(1.0, 0.0, steps=40), at=50)
    with pytest.raises(ValueError, match="settles"):
        ls.extend(old, ls.cosine(1.0, 0.0, steps=50), at=50)
    with pytest.raises(ValueError, match="above"):
        ls.extend(ls.constant(2.0), new, at=50)
    with pytest.raises(ValueError, match="below"):
        ls.extend(ls.constant(-1.0), new, at=50)
    with pytest.raises(ValueError, match="jump"):
        ls.extend(old, ls.multistep(1.0, [100, 150], factor=0.1), at=50)
    with pytest.raises(ValueError, match="at"):
        ls.extend(old, new, at=0)
    with pytest.raises(ValueError, match="total"):
        ls.extend(old, ls.cosine(1.0, 0.0, steps=ls.total), at=50).bind(total=40)


# ---------------------------------------------------------------- issue 23: no no-op pieces in what prints


def test_exact_identities_are_dropped_by_the_arithmetic():
    """s * 1, 1 * s, s / 1, s - 0, s + 0 and 0 + s are s: the same values bit for bit (x + 0 but for -0.0)."""
    from lrsched.algebra import Add, Div, Mul, Sub

    s = ls.cosine(0.1, 0.0, steps=30)
    for built in (Mul.of(s, 1), Mul.of(1.0, s), Mul.of(ls.constant(1.0), s), Div.of(s, 1), Sub.of(s, 0), Add.of(s, 0)):
        assert built is s
    assert Add.of(0, Mul.of(1, s)) is s
    t = np.arange(0, 40, dtype=float)
    for keep in (Mul.of(s, 2), Sub.of(0, s), Div.of(1, s + 1), Add.of(s, 1e-300)):  # not identities: kept
        assert isinstance(keep, (Mul, Sub, Div, Add))
    np.testing.assert_array_equal(Sub.of(0, s)(t), -s(t))
    assert ls.REGISTRY["mul"].of == Mul.of  # what the operators reach through the registry


def test_a_clip_of_a_clip_is_one_clip():
    s = ls.linear(1.0, -1.0, 10)
    assert repr(s.clip(low=0).clip(low=0)) == "linear(1, -1, 10).clip(low=0, high=None)"
    assert s.clip(low=0).clip(low=0) == s.clip(low=0)
    both = s.clip(low=-0.5).clip(low=0, high=0.8).clip(high=0.5)
    assert both == s.clip(low=0, high=0.5) and repr(both) == "linear(1, -1, 10).clip(low=0, high=0.5)"
    t = np.arange(0, 12, dtype=float)
    np.testing.assert_array_equal(both(t), np.clip(ref.linear(t, 1.0, -1.0, 10), 0, 0.5))
    apart = s.clip(low=0, high=0.25).clip(low=0.5)  # ranges that do not meet: both kept, the outer wins
    np.testing.assert_array_equal(apart(t), np.full(t.size, 0.5))
    assert isinstance(apart.schedule, type(apart))


def test_extend_past_the_new_plateau_continues_from_its_end():
    """The run is still on its plateau at 790, where the new plan already decays (its plateau ends at 600):
    tau0 is clamped to 600, and the new decay runs at the pace that ends it at 1200."""
    old, new = ls.wsd(0.1, 1000, 100, 200), ls.wsd(0.1, 1200, 100, 600)
    s = ls.extend(old, new, at=790)
    t = np.arange(1, 1300, dtype=float)
    clock = 600 + (t - 790) * (1200 - 600) / (1200 - 790)
    want = np.where(t <= 790, np_wsd(t, 0.1, 1000, 100, 200), np_wsd(np.maximum(clock, 0), 0.1, 1200, 100, 600))
    np.testing.assert_allclose(s(t), want, rtol=1e-12, atol=1e-16)


# ---------------------------------------------------------------- cycles with whole periods (issue 25)


def _composer_warm_restarts(batch, t_0, t_mult, alpha_f):
    """composer's CosineAnnealingWarmRestartsScheduler multiplier at a batch, transcribed from its arithmetic
    (composer/optim/scheduler.py): each interval is int(t_mult * the previous), frac = (time - start) / len."""
    length = end = t_0
    while end <= batch:
        if length == 0:
            raise ValueError("Interval between restarts for cosine annealing/warm restarts scheduler has decayed to 0.")
        length = int(t_mult * length)
        end += length
    frac = (batch - (end - length)) / length
    x = min(max(frac, 0.0), 1.0)
    return alpha_f + (1.0 - alpha_f) * (1 + math.cos(x * math.pi)) / 2


def _whole_lengths(period, mult, count):
    lengths = [int(period)]
    while len(lengths) < count:
        lengths.append(math.floor(mult * lengths[-1]))
    return lengths


_whole_cycle = ref.whole_cycle  # the definition, walked (tests/reference.py)


WHOLE_CASES = [  # (t_0, t_mult): 1.05 with t_0 = 7 stalls at once (floor(7.35) = 7)
    (7, 1.0),
    (7, 1.5),
    (7, 2.0),
    (10, 1.1),
    (7, 1.1),
    (7, 1.05),
    (3, 1.7),
    (13, 1.25),
]


@pytest.mark.parametrize(("t_0", "t_mult"), WHOLE_CASES)
def test_whole_periods_give_composers_warm_restarts(t_0, t_mult):
    alpha_f, n = 0.05, 4000
    s = ls.cycle(ls.cosine(1.0, alpha_f, steps=t_0), t_0, period_mult=t_mult, zero_based=True, whole_periods=True)
    want = np.array([_composer_warm_restarts(t - 1, t_0, t_mult, alpha_f) for t in range(1, n + 1)])
    got = s.values(n)
    # composer takes cos(pi (u - S_i) / L_i), lrsched cos(pi ((u - S_i) P / L_i) / P): a few ulps of the
    # argument; measured at most 4.5e-16 of the peak over 20,000 updates (70-100% of the values bit for bit)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(np.flatnonzero(np.diff(got) > 0), np.flatnonzero(np.diff(want) > 0))
    assert s(18) == pytest.approx(_composer_warm_restarts(17, t_0, t_mult, alpha_f), abs=1e-15)


def test_whole_periods_fix_the_issue_example():
    plain = ls.cycle(ls.cosine(1.0, 0.0, steps=7), 7, period_mult=1.5, zero_based=True)
    whole = ls.cycle(ls.cosine(1.0, 0.0, steps=7), 7, period_mult=1.5, zero_based=True, whole_periods=True)
    assert abs(plain(18) - _composer_warm_restarts(17, 7, 1.5, 0.0)) > 0.9  # the issue's 0.994 of the peak
    assert whole(18) == 1.0  # batch 17 starts composer's third interval (7 + 10): the peak
    assert whole.breakpoints(60) == [7.0, 17.0, 32.0, 54.0]  # the lengths 7, 10, 15, 22


@pytest.mark.parametrize("zero_based", [False, True])
@pytest.mark.parametrize(
    "kw",
    [
        dict(period=7, period_mult=1.5),
        dict(period=10, period_mult=1.1, decay=0.8),
        dict(period=7, period_mult=1.5, limit=5),
        dict(period=12, period_mult=0.7, limit=4, decay=0.9),  # 12, 8, 5, 3
        dict(period=7, period_mult=1.05, limit=3),
        dict(period=5, period_mult=2.5, decay=0.5, limit=6),
    ],
    ids=str,
)
def test_whole_periods_match_their_definition(kw, zero_based):
    P = kw["period"]
    s = ls.cycle(ls.cosine(1.0, 0.1, steps=P), zero_based=zero_based, whole_periods=True, **kw)
    want = _whole_cycle(T, lambda t: ref.cosine(t, 1.0, 0.1, P), zero_based=zero_based, **kw)
    ts = T[T < 1e7]  # 1e7 + 0.5: far past the walk of the definition for growing cycles
    close(s(ts), want[: ts.size], scale=1.0)


def test_a_one_indexed_whole_cycle_ends_on_the_period_itself():
    for m in (1.5, 1.1, 1.3333, 0.9):
        s = ls.cycle(ls.linear(1.0, 0.0, 7), 7, period_mult=m, whole_periods=True, limit=None if m > 1 else 4)
        lengths = _whole_lengths(7, m, 4 if m < 1 else 40)
        ends = np.cumsum(lengths).astype(float)
        assert (s(ends) == 0.0).all()  # the kid's clock at exactly P: linear's end value, bit for bit
        assert (s(ends[:-1] + 1.0) == 1.0 - (7.0 / np.array(lengths[1:])) / 7.0).all()


@pytest.mark.parametrize(("T_0", "T_mult"), [(7, 2), (5, 3), (10, 1)])
def test_whole_periods_change_nothing_for_torchs_integer_t_mult(T_0, T_mult):
    torch = pytest.importorskip("torch", reason="torch is installed by the README test command")
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=0.1)
    sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=T_0, T_mult=T_mult, eta_min=1e-3)
    n = 1500
    want = []
    for _ in range(n):
        want.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    kw = dict(period_mult=T_mult, zero_based=True)
    whole = ls.cycle(ls.cosine(0.1, 1e-3, steps=T_0), T_0, whole_periods=True, **kw)
    plain = ls.cycle(ls.cosine(0.1, 1e-3, steps=T_0), T_0, **kw)
    ts = np.array([*range(0, n + 1), 1e15 + 0.5, 2.0**60, 1e300])
    np.testing.assert_array_equal(whole(ts), plain(ts))  # bit for bit, past 2**53 too
    np.testing.assert_allclose(whole.values(n), want, rtol=1e-12, atol=1e-14)


def test_whole_periods_refusals_name_the_parameter_and_value():
    c = ls.constant(1.0)
    with pytest.raises(ValueError, match=r"whole period .* got period=7\.5"):
        ls.cycle(c, 7.5, period_mult=1.5, whole_periods=True)
    with pytest.raises(ValueError, match=r"period_mult=0\.7 < 1 needs a limit"):
        ls.cycle(c, 12, period_mult=0.7, whole_periods=True)
    with pytest.raises(ValueError, match=r"cycle 4 would last floor\(0\.7 \* 1\) = 0 .* limit of at most 4"):
        ls.cycle(c, 7, period_mult=0.7, limit=5, whole_periods=True)
    assert ls.cycle(ls.linear(1.0, 0.0, 7), 7, period_mult=0.7, limit=4, whole_periods=True).length() == 14.0  # 7+4+2+1
    with pytest.raises(ValueError, match=r"period=200000, period_mult=1\.00001 takes more than 65536 cycles"):
        ls.cycle(c, 200_000, period_mult=1.00001, whole_periods=True)
    with pytest.raises(TypeError, match=r"whole_periods must be True or False, got 'yes'"):
        ls.cycle(c, 7, whole_periods="yes")
    with pytest.raises(ValueError, match=r"got period=7\.5 \(binding total=75: period = total / 10\)"):
        ls.cycle(c, ls.total / 10, period_mult=1.5, whole_periods=True).bind(total=75)


def test_whole_periods_round_trip_and_print_only_when_set():
    s = ls.cycle(ls.cosine(1.0, 0.1, steps=7), 7, period_mult=1.5, decay=0.9, zero_based=True, whole_periods=True)
    assert repr(s) == (
        "cycle(cosine(1, 0.1, steps=7), 7, period_mult=1.5, decay=0.9, zero_based=True, whole_periods=True)"
    )
    assert "whole_periods" not in repr(ls.cycle(ls.constant(1.0), 7, period_mult=1.5))
    assert s.to_dict()["schedule"]["whole_periods"] is True
    for again in (
        ls.from_dict(s.to_dict()),
        ls.from_json(s.to_json()),
        ls.parse(repr(s)),
        pickle.loads(pickle.dumps(s)),
    ):
        assert again == s and hash(again) == hash(s)
        np.testing.assert_array_equal(again(T), s(T))
    assert s != ls.cycle(ls.cosine(1.0, 0.1, steps=7), 7, period_mult=1.5, decay=0.9, zero_based=True)


def test_whole_periods_with_symbols_tabulate_when_bound():
    u = ls.cycle(ls.cosine(1.0, 0.1, steps=ls.total / 10), ls.total / 10, period_mult=1.5, whole_periods=True)
    assert repr(u) == "cycle(cosine(1, 0.1, steps=total / 10), total / 10, period_mult=1.5, whole_periods=True)"
    assert ls.from_json(u.to_json()) == u
    with pytest.raises(ValueError, match="total"):
        u(1)
    b = u.bind(total=70)
    assert b == ls.cycle(ls.cosine(1.0, 0.1, steps=7), 7, period_mult=1.5, whole_periods=True)
    assert b.breakpoints(60) == [7.0, 17.0, 32.0, 54.0]
    assert ls.parse("cycle(cosine(1, 0, steps=total / 10), total / 10, period_mult=1.5, whole_periods=True)", total=70)(
        18
    ) == ls.cycle(ls.cosine(1.0, 0.0, steps=7), 7, period_mult=1.5, whole_periods=True)(18)


@pytest.mark.parametrize("zero_based", [False, True])
def test_whole_periods_structure(zero_based):
    kid = ls.step(1.0, every=3, factor=0.5)  # breaks of its own at 3 and 6 of each 7-long clock
    s = ls.cycle(kid, 7, period_mult=1.5, zero_based=zero_based, whole_periods=True)
    starts = np.cumsum(_whole_lengths(7, 1.5, 12)).tolist()
    bounds = s.breakpoints(starts[-1])
    assert set(starts[:-1]) <= set(bounds)  # every restart
    assert s.length() is None
    # the values change exactly at the boundaries (no more, no fewer), over whole updates
    n = int(starts[-1])
    v = s.values(n + 1)
    changes = (np.flatnonzero(np.diff(v) != 0) + 1).tolist()  # t where v(t + 1) != v(t)
    assert [b for b in bounds if b < n] == [float(c) for c in changes if c < n]
    lim = ls.cycle(kid, 7, period_mult=1.5, zero_based=zero_based, whole_periods=True, limit=4)
    assert lim.length() == 54.0  # 7 + 10 + 15 + 22
    v = lim.values(200)
    assert (v[53:] == v[53]).all()  # t > 54: the last update's value, held
    assert v[52] != v[53] or zero_based  # 1-indexed: t = 54 is the end of the last cycle
    assert f"phase boundaries: {', '.join(map('{:g}'.format, lim.breakpoints()))}" in lim.describe()


def test_whole_periods_past_2_53_continue_with_the_float_lengths():
    s = ls.cycle(ls.cosine(1.0, 0.0, steps=7), 7, period_mult=1.5, whole_periods=True, decay=0.999)
    starts, lt, mt = ls.engine.whole_cycles(7.0, 1.5, None)
    assert starts[-1] >= 2**53 > starts[-2] and mt == 1.5 and lt == math.floor(1.5 * (starts[-1] - starts[-2]))
    ts = np.array([2.0**53 - 1, 2.0**53, 2.0**53 + 2, 1e17, 1e20, 1e30, 1e300])
    np.testing.assert_array_equal(s(ts), [s(t) for t in ts])
    assert np.isfinite(s(ts)).all()
    bounds = s.breakpoints(1e20)
    assert bounds == sorted(set(bounds)) and set(starts) <= set(bounds)
    assert bounds[len(starts)] == starts[-1] + lt  # the tail's first restart: S_K + L_K
    lim = ls.cycle(ls.cosine(1.0, 0.0, steps=7), 7, period_mult=1.5, whole_periods=True, limit=100, zero_based=True)
    end = lim.length()
    assert end > 2**53 and lim(end + 1) == lim(end + 1e6) == lim(np.array([end + 1.0]))[0]


def test_a_stalled_tail_is_a_plain_cycle_of_the_last_length(monkeypatch):
    """Lengths that stall after growing (7, 10, then 10 forever: floor(m L) = L, which floats allow only at
    the edge of their range): the table then a plain cycle, in every tier, against the walked definition."""
    from lrsched import combinators

    monkeypatch.setattr(combinators, "whole_cycles", lambda p, m, limit: ((7.0, 17.0), 10.0, 1.0))
    for zb in (False, True):
        for limit in (None, 5):
            s = ls.cycle(
                ls.linear(1.0, 0.0, 7), 7, period_mult=1.3, decay=0.9, limit=limit, zero_based=zb, whole_periods=True
            )

            def kid(t):
                return ref.linear(t, 1.0, 0.0, 7)

            ts = np.arange(0.0, 120.0, 0.5)
            walked = [0, 7, 17, *range(27, 200, 10)]
            out = np.empty(ts.size)
            for j, x in enumerate(ts):  # the definition, over these lengths
                u = max(x - 1.0, 0.0) if zb else x
                i = max(k for k in range(len(walked) - 1) if (u >= walked[k] if zb else u > walked[k]) or k == 0)
                if limit is not None and i >= limit:
                    i = limit - 1
                    u = walked[limit] - 1.0 if zb else float(walked[limit])
                length = walked[i + 1] - walked[i]
                local = u - walked[i]
                clock = 7.0 if not zb and local >= length else local * (7.0 / length)
                out[j] = 0.9**i * kid(np.array([clock]))[0]
            close(s(ts), out, scale=1.0)
            np.testing.assert_array_equal(s(ts), [s(t) for t in ts])
            values = s.values(300)
            got = np.empty(300)
            compiled_once.kernel().fill(s._program or s._compile(), got, 1.0, True)
            np.testing.assert_array_equal(got, values)
            np.testing.assert_array_equal(values, s(np.arange(1.0, 301.0)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    whole_cycles, st.lists(st.one_of(st.integers(0, 3000).map(float), st.floats(0.0, 5000.0)), min_size=1, max_size=30)
)
def test_whole_periods_give_the_same_bits_in_every_tier(s, ts):
    arr = np.array(ts)
    vec = s(arr)
    assert [s(t) for t in ts] == vec.tolist()
    order = np.argsort(arr, kind="stable")
    np.testing.assert_array_equal(s(arr[order]), vec[order])
    n = 3000
    want = s(np.arange(1.0, n + 1))
    np.testing.assert_array_equal(s.values(n), want)
    old = engine.PARALLEL_MIN
    try:
        for threshold in (old, 1):  # the compiled tier serial, then threaded
            engine.PARALLEL_MIN = threshold
            np.testing.assert_array_equal(_compiled_values(s, n), want)
    finally:
        engine.PARALLEL_MIN = old
    if s.kind == "cycle":  # against the walked definition, the kid from the recursive reference
        kw = {f: getattr(s, f) for f in ("period", "period_mult", "decay", "limit", "zero_based")}
        walked = _whole_cycle(arr, lambda x: ref.evaluate(s.schedule, x), **kw)
        np.testing.assert_allclose(vec, walked, rtol=1e-9, atol=1e-15, err_msg=repr(s))
    end = s.length()
    if end is not None:
        after = s(np.array([end + 1.0, end + 2.5, end + 1e6]))
        assert (after == after[0]).all()


def test_whole_periods_plot_their_values_and_restarts():
    matplotlib = pytest.importorskip("matplotlib", reason="installed by the README test command")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = ls.cycle(ls.cosine(1.0, 0.05, steps=7), 7, period_mult=1.5, zero_based=True, whole_periods=True)
    try:
        ax = ls.plot(s, 100)
        (line,) = [x for x in ax.lines if x.get_gid() == "schedule"]
        want = [_composer_warm_restarts(t - 1, 7, 1.5, 0.05) for t in range(1, 101)]
        np.testing.assert_allclose(line.get_ydata(), want, rtol=0, atol=1e-15)
        marked = sorted(x.get_xdata()[0] for x in ax.lines if x.get_gid() == "boundary")
        assert marked == [7.0, 17.0, 32.0, 54.0, 87.0]  # the restarts of 7, 10, 15, 22, 33 updates
    finally:
        plt.close("all")
