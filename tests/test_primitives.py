"""Each primitive against an independent NumPy formula (tests/reference.py)."""

from __future__ import annotations

import numpy as np
import pytest

import lrsched as ls
from tests import reference as ref

# integer iterations, t = 0, fractional iterations, and far past every phase
T = np.concatenate([np.arange(0, 1200, dtype=float), [0.5, 1.5, 99.25, 250.75, 1e6 + 0.5, 1e9]])

CASES = [
    (ls.constant(0.1), lambda t: ref.constant(t, 0.1)),
    (ls.linear(0.1, 0.0, 500), lambda t: ref.linear(t, 0.1, 0.0, 500)),
    (ls.linear(0.0, 2.5, 7.5), lambda t: ref.linear(t, 0.0, 2.5, 7.5)),
    (ls.cosine(0.1, 1e-5, steps=900), lambda t: ref.cosine(t, 0.1, 1e-5, 900)),
    (ls.cosine(1e-5, 0.3, steps=3), lambda t: ref.cosine(t, 1e-5, 0.3, 3)),
    (ls.cosine(0.1, 0.0, steps=700, exponent=3.0), lambda t: ref.cosine(t, 0.1, 0.0, 700, 3.0)),
    (ls.ease(0.1, 0.0, steps=800, power=0.5), lambda t: ref.ease(t, 0.1, 0.0, 800, 0.5)),
    (ls.ease(1e-3, 0.1, steps=300, power=2.0), lambda t: ref.ease(t, 1e-3, 0.1, 300, 2.0)),
    (ls.poly(0.1, 0.001, steps=800, power=2.0), lambda t: ref.poly(t, 0.1, 0.001, 800, 2.0)),
    (ls.tanh(0.1, 0.001, steps=600), lambda t: ref.tanh(t, 0.1, 0.001, 600)),
    (ls.poly(0.1, 0.0, steps=1000, power=0.5), lambda t: ref.poly(t, 0.1, 0.0, 1000, 0.5)),
    (ls.geometric(1e-6, 1.0, steps=1000), lambda t: ref.geometric(t, 1e-6, 1.0, 1000)),
    (ls.exponential(0.1, 0.99), lambda t: ref.exponential(t, 0.1, 0.99)),
    (ls.exponential(0.1, 0.5, every=100, staircase=True), lambda t: ref.exponential(t, 0.1, 0.5, 100, True)),
    (ls.exponential(0.1, 0.9, every=10, end=0.01), lambda t: ref.exponential(t, 0.1, 0.9, 10, False, 0.01)),
    (ls.exponential(1e-4, 1.01, end=0.5), lambda t: ref.exponential(t, 1e-4, 1.01, 1, False, 0.5)),
    (ls.step(0.1, every=250, factor=0.5), lambda t: ref.step(t, 0.1, 250, 0.5)),
    (ls.step(0.1, every=1, factor=0.9, minimum=0.02), lambda t: ref.step(t, 0.1, 1, 0.9, 0.02)),
    (ls.multistep(0.1, [100, 300, 300, 700], factor=0.1), lambda t: ref.multistep(t, 0.1, [100, 300, 300, 700], 0.1)),
    (
        ls.piecewise([10, 20.5, 600], [1.0, 0.5, 0.25, 0.1]),
        lambda t: ref.piecewise(t, [10, 20.5, 600], [1, 0.5, 0.25, 0.1]),
    ),
    (
        ls.interpolate([(0, 0.0), (100, 1.0), (400, 0.1), (1000, 0.0)]),
        lambda t: ref.interpolate(t, [(0, 0.0), (100, 1.0), (400, 0.1), (1000, 0.0)]),
    ),
    (
        ls.interpolate([(50, 0.2), (90.5, 1.0), (300, 0.5)], shape="cosine"),
        lambda t: ref.interpolate(t, [(50, 0.2), (90.5, 1.0), (300, 0.5)], "cosine"),
    ),
    (ls.interpolate([(5, 0.3)]), lambda t: ref.constant(t, 0.3)),
    (ls.inverse_sqrt(0.1, scale=400), lambda t: ref.inverse_sqrt(t, 0.1, 400)),
    (ls.inverse_time(0.1, rate=0.5, every=10), lambda t: ref.inverse_time(t, 0.1, 0.5, 10)),
    (ls.inverse_time(0.1, rate=0.5, every=10, staircase=True), lambda t: ref.inverse_time(t, 0.1, 0.5, 10, True)),
]


@pytest.mark.parametrize(("schedule", "expected"), CASES, ids=[repr(c[0]) for c in CASES])
def test_matches_independent_formula(schedule, expected):
    want = expected(T)
    got = schedule(T)
    scale = np.max(np.abs(want))
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15 * scale)
    # scalar evaluation agrees with the array path bit for bit
    for t in (0, 1, 2, 499, 500, 501, 1e9):
        assert schedule(t) == schedule(np.array([float(t)]))[0]


@pytest.mark.parametrize(
    "shape",
    [ls.linear, ls.cosine, ls.poly, ls.geometric, ls.ease],
    ids=["linear", "cosine", "poly", "geometric", "ease"],
)
@pytest.mark.parametrize(("start", "end", "steps"), [(0.1, 0.3, 7), (0.3, 1e-7, 1000), (0.07, 0.011, 3.5)])
def test_phase_starts_and_ends_exactly(shape, start, end, steps):
    s = shape(start, end, steps)
    assert s(0) == start
    assert s(steps) == end
    assert s(steps + 1) == end
    assert s(1e12) == end
    # the last update before the end is strictly between the two
    lo, hi = sorted((start, end))
    assert lo < s(steps - 0.5) < hi


def test_staircase_drops_after_the_boundary_iteration():
    # MXNet FactorScheduler(step=250, factor=0.5): update 250 still at base, 251 halved, 501 quartered
    s = ls.step(1.0, every=250, factor=0.5)
    assert [s(t) for t in (1, 250, 251, 500, 501)] == [1.0, 1.0, 0.5, 0.5, 0.25]
    e = ls.exponential(1.0, 0.5, every=250, staircase=True)
    assert [e(t) for t in (0, 1, 250, 251)] == [1.0, 1.0, 1.0, 0.5]
    m = ls.multistep(1.0, [250], factor=0.5)
    assert (m(250), m(251)) == (1.0, 0.5)


def test_values_is_the_range_from_one():
    s = ls.cosine(0.1, 0.0, steps=100)
    np.testing.assert_array_equal(s.values(150), s(np.arange(1, 151)))
    assert s.values(0).shape == (0,)
    assert s.values(1)[0] == s(1)


def test_output_shape_follows_input():
    s = ls.linear(1.0, 0.0, 10)
    assert s(np.arange(12.0).reshape(3, 4)).shape == (3, 4)
    zero_d = s(np.array(5.0))
    assert isinstance(zero_d, np.ndarray)
    assert zero_d.shape == ()
    assert float(zero_d) == 0.5
    assert s([1, 2, 3]).tolist() == [0.9, 0.8, 0.7]
    assert s(np.int32(5)) == 0.5
    assert isinstance(s(np.float32(5.0)), float)
    assert s(range(1, 3)).tolist() == [0.9, 0.8]
    assert s([]).shape == (0,)
