"""Properties over random schedule trees (hypothesis)."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lrsched as ls
from lrsched import engine
from lrsched.structure import UnknownStructure

from . import compiled_once
from . import reference as ref

lr = st.floats(1e-6, 1.0)
steps = st.one_of(st.integers(1, 400), st.floats(0.5, 400.0))
# iterations: integers near typical boundaries and arbitrary fractional ones
times = st.one_of(st.integers(0, 3000).map(float), st.floats(0.0, 5000.0))

leaves = st.one_of(
    st.builds(ls.constant, lr),
    st.builds(ls.linear, lr, lr, steps),
    st.builds(ls.cosine, lr, lr, steps=steps),
    st.builds(ls.poly, lr, lr, steps=steps, power=st.floats(0.1, 4.0)),
    st.builds(ls.geometric, lr, lr, steps=steps),
    st.builds(ls.exponential, lr, st.floats(0.5, 0.999), every=steps, staircase=st.booleans()),
    st.builds(ls.step, lr, every=steps, factor=st.floats(0.1, 0.99)),
    st.builds(
        lambda start, ms, f: ls.multistep(start, sorted(ms), factor=f),
        lr,
        st.lists(st.integers(1, 2000), max_size=4),
        st.floats(0.1, 0.9),
    ),
    st.builds(ls.inverse_sqrt, lr, scale=steps),
    st.builds(ls.inverse_time, lr, rate=st.floats(0.0, 2.0), every=steps, staircase=st.booleans()),
    st.builds(ls.ease, lr, lr, steps=steps, power=st.floats(0.2, 4.0)),
    st.builds(ls.tanh, lr, lr, steps=steps, lb=st.floats(-8.0, -1.0), ub=st.floats(0.0, 5.0)),
    st.builds(ls.cosine, lr, lr, steps=steps, periodic=st.just(True), exponent=st.floats(0.5, 3.0)),
    st.builds(
        lambda bs, vs: ls.piecewise(sorted(bs), vs[: len(bs) + 1]),
        st.lists(st.integers(0, 2000), max_size=4, unique=True),
        st.lists(lr, min_size=5, max_size=5),
    ),
    st.builds(lambda v: ls.function(lambda t: v / (1.0 + t)), lr),
    st.builds(lambda n: ls.t / n, steps),  # the clock, and whole numbers of it (exact: the same bits anywhere)
    st.builds(lambda k, q: ls.floor(ls.t / k) * q, st.integers(1, 500), lr),
    st.builds(lambda k, q: ls.ceil(ls.t / k) * q, st.integers(1, 500), lr),
    st.builds(lambda k, q: ls.round(ls.t / k) * q, st.integers(1, 500), lr),
    st.builds(lambda k, q: (ls.t * 0.001).quantize(q), st.integers(1, 500), st.sampled_from([0.25, 0.1, 3.0])),
    st.builds(
        lambda pts, shape: ls.interpolate(pts, shape=shape),
        st.lists(st.tuples(st.integers(0, 2000), lr), min_size=1, max_size=5, unique_by=lambda p: p[0]).map(sorted),
        st.sampled_from(["linear", "cosine"]),
    ),
)


def _warmup(s, w, shape):
    if shape == "exponential" and s(0) > 0:  # a geometric ramp needs a positive target
        return ls.warmup(s, steps=w, shape=shape, start=1e-7)
    return ls.warmup(s, steps=w, shape="cosine" if shape == "cosine" else "linear")


def _cycle(s, p, m, d, lim, zb, whole):
    """A cycle; with whole periods, a whole period (the reference walks their lengths, ``ref.whole_cycle``)."""
    p = float(math.ceil(p)) if whole else p
    return ls.cycle(s, p, period_mult=m, decay=d, limit=lim, zero_based=zb, whole_periods=whole)


def _whole_cycle(s, p, m, d, lim, zb):
    if m < 1:  # shrinking lengths need a limit before they reach 0: p >= 5 lasts 3 cycles at m = 0.8
        lim = min(lim or 3, 3)
    return ls.cycle(s, p, period_mult=m, decay=d, limit=lim, zero_based=zb, whole_periods=True)


def _extend(children):
    bounds = st.lists(st.integers(1, 3000), min_size=1, max_size=3, unique=True).map(sorted)
    return st.one_of(
        st.builds(
            lambda b, kids: ls.join(kids[: len(b) + 1], boundaries=b[: len(kids) - 1]),
            bounds,
            st.lists(children, min_size=1, max_size=4),
        ),
        st.builds(_warmup, children, steps, st.sampled_from(["linear", "cosine", "exponential"])),
        st.builds(
            _cycle,
            children,
            steps,
            st.sampled_from([1.0, 1.0, 2.0, 1.5]),
            st.floats(0.3, 1.0),
            st.one_of(st.none(), st.integers(1, 5)),
            st.booleans(),
            st.booleans(),
        ),
        st.builds(lambda a, b: a + b, children, children),
        st.builds(lambda a, b: a - b, children, children),
        st.builds(lambda a, b: a * b, children, children),
        st.builds(lambda a, x: a * x, children, st.floats(0.1, 3.0)),
        st.builds(ls.minimum, children, children),
        st.builds(ls.maximum, children, children),
        st.builds(lambda a, lo: a.clip(lo, lo + 0.1), children, st.floats(0.0, 0.5)),
        st.builds(lambda a, k: a.shift(k), children, st.integers(-50, 500)),
        st.builds(lambda a, f: a.stretch(f), children, st.floats(0.25, 4.0)),
        st.builds(lambda a, e: a.per_epoch(e), children, st.integers(1, 50)),
        st.builds(lambda a, k, span: a.warp(k, span), children, st.floats(0.3, 3.0), st.integers(1, 3000)),
        st.builds(lambda a, b: a / (b + 1.0), children, children),
        st.builds(lambda a, p: (a * a + 1e-3) ** p, children, st.floats(0.5, 3.0)),
        st.builds(lambda a: 0.5 ** (a * 3.0), children),
        st.builds(lambda a: ls.exp(-a), children),
        st.builds(lambda a: ls.log(a * a + 1.0), children),
        st.builds(lambda a: ls.sqrt(a * a), children),
        st.builds(
            lambda a, at, n, to, shape: ls.cooldown(a, at=at, steps=n, to=to, shape=shape),
            children,
            st.integers(0, 2000),
            steps,
            lr,
            st.sampled_from(["linear", "cosine", "sqrt"]),
        ),
    )


def _continued(old_steps, new_steps, at, peaks):
    """An extend of one decaying plan by a longer one (its only valid inputs: see ``ls.extend``)."""
    old = ls.cosine(peaks[0], 1e-6, steps=old_steps)
    new = ls.warmup(ls.cosine(peaks[1], 1e-6, steps=old_steps + new_steps), steps=10)
    return ls.extend(old, new, at=min(at, old_steps - 1))  # at old_steps old's decay is over: refused


peak = st.floats(1e-5, 1.0)  # above the end, 1e-6: a decay
continued = st.builds(
    _continued, st.integers(20, 600), st.integers(1, 600), st.integers(1, 600), st.tuples(peak, peak).map(sorted)
)
schedules = st.one_of(st.recursive(leaves, _extend, max_leaves=8), continued)
#: cycles with whole periods of a non-integer ratio (tabulated starts), around any schedule and inside one;
#: tests/test_combinators.py checks them against their walked definition and across the tiers
whole_cycles = st.builds(
    _whole_cycle,
    schedules,
    st.integers(5, 400),
    st.sampled_from([1.5, 1.1, 1.3333, 2.5, 0.8]),
    st.floats(0.3, 1.0),
    st.one_of(st.none(), st.integers(1, 8)),
    st.booleans(),
)
whole_cycles = st.one_of(
    whole_cycles,
    st.builds(lambda c, w: ls.warmup(c, steps=w), whole_cycles, st.integers(1, 300)),
    st.builds(lambda c, s: c + s, whole_cycles, schedules),
)
serializable = schedules.filter(lambda s: "function(" not in repr(s))
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(schedules, st.lists(times, min_size=1, max_size=40))
def test_scalar_equals_vector_bit_for_bit(s, ts):
    arr = np.array(ts)
    vec = s(arr)
    for t, y in zip(ts, vec):
        assert s(t) == y, (s, t)
    # unsorted input gives the same values as sorted input
    order = np.argsort(arr, kind="stable")
    np.testing.assert_array_equal(s(arr[order]), vec[order])


@SETTINGS
@given(schedules)
def test_ranges_match_arrays_and_parallel_matches_serial(s):
    n = 5000
    want = s(np.arange(1, n + 1, dtype=float))
    got = s.values(n)
    np.testing.assert_array_equal(got, want)
    old = engine.PARALLEL_MIN
    try:
        for threshold in (old, 1):  # the compiled tier serial, then threaded on the same short range
            engine.PARALLEL_MIN = threshold
            np.testing.assert_array_equal(_compiled_values(s, n), want)
    finally:
        engine.PARALLEL_MIN = old


def _compiled_values(s, n):
    """s at t = 1 .. n on the compiled tier (whichever tier this process is on), threaded where PARALLEL_MIN says."""
    out = np.empty(n)
    compiled_once.kernel().fill(s._program or s._compile(), out, 1.0, True)
    return out


def _kinds(s):
    yield s.kind
    for c in s.children():
        yield from _kinds(c)


@pytest.mark.slow  # 600 draws: the quick loop leaves it out
def test_the_strategies_and_the_reference_cover_every_kind():
    drawn = set()

    @settings(max_examples=600, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(schedules)
    def collect(s):
        drawn.update(_kinds(s))

    collect()
    assert set(ls.REGISTRY) <= ref.KINDS
    assert set(ls.REGISTRY) <= drawn, set(ls.REGISTRY) - drawn


@SETTINGS
@given(schedules, st.lists(times, min_size=1, max_size=30))
def test_matches_the_recursive_reference(s, ts):
    arr = np.array(ts)
    want = ref.evaluate(s, arr)
    np.testing.assert_allclose(s(arr), want, rtol=1e-9, atol=1e-15, err_msg=repr(s))
    for t, y in zip(ts[:5], want[:5]):
        assert s(t) == pytest.approx(y, rel=1e-9, abs=1e-15)
    n = 3000
    want = ref.evaluate(s, np.arange(1.0, n + 1))
    np.testing.assert_allclose(s.values(n), want, rtol=1e-9, atol=1e-15, err_msg=repr(s))
    old = engine.PARALLEL_MIN
    try:
        for threshold in (old, 1):  # the compiled tier, serial, then threaded on the same range
            engine.PARALLEL_MIN = threshold
            np.testing.assert_allclose(_compiled_values(s, n), want, rtol=1e-9, atol=1e-15, err_msg=repr(s))
    finally:
        engine.PARALLEL_MIN = old


@SETTINGS
@given(serializable)
def test_round_trips(s):
    ts = np.array([0.0, 1.0, 2.5, 100.0, 1001.0, 4321.0])
    for again in (eval(repr(s), vars(ls)), pickle.loads(pickle.dumps(s)), ls.from_json(s.to_json())):
        assert again == s
        assert hash(again) == hash(s)
        np.testing.assert_array_equal(again(ts), s(ts))


@SETTINGS
@given(schedules, schedules, st.integers(1, 2000), st.lists(st.integers(0, 4000), min_size=1, max_size=30))
def test_join_boundary(a, b, boundary, ts):
    s = ls.join([a, b], boundaries=[boundary])
    for t in ts:
        assert s(t) == (a(t) if t <= boundary else b(t - boundary))


@SETTINGS
@given(schedules, st.integers(1, 300), st.lists(st.integers(1, 300), min_size=1, max_size=20), st.booleans())
def test_cycle_periodicity(child, period, ts, zero_based):
    s = ls.cycle(child, period, zero_based=zero_based)
    for t in ts:
        t = (t - 1) % period + 1
        assert s(t + period) == s(t)
        assert s(t + 7 * period) == s(t)
    d = ls.cycle(child, period, decay=0.5, zero_based=zero_based)
    for t in ts:
        assert d(t + period) == pytest.approx(0.5 * d(t), rel=1e-15, abs=0)


@settings(max_examples=50, deadline=None)
@given(schedules)
def test_values_are_finite_and_match_at_zero(s):
    v = s.values(3000)
    assert np.isfinite(v).all()
    assert s(0) == s(np.zeros(1))[0]


@SETTINGS
@given(serializable, st.lists(st.floats(0.0, 5000.0), min_size=1, max_size=10))
def test_structure_agrees_with_the_values(s, offsets):
    """Every kind declares where it settles and breaks: past its length the values no longer change
    (whole iterations: a staircase that settles at L still holds its old value at L + 0.5), and the
    breakpoints are sorted, distinct and within (0, stop]."""
    end = s.length()
    if end is not None:
        after = s(np.array([end + 1.0, *(end + 1.0 + x for x in offsets)]))
        assert np.all(after == after[0]), (s, end)
    stop = end if end is not None else 3000.0
    try:
        bounds = s.breakpoints(stop)
    except UnknownStructure:  # a rounded value steps where its schedule crosses a multiple: not declared
        assert set(_kinds(s)) & {"floor", "ceil", "round"}, s
        return
    assert bounds == sorted(set(bounds)) and all(0 < b <= stop for b in bounds)
