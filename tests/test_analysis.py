"""Introspection: structure read from the layout, facts computed from the values."""

from __future__ import annotations

import math

import numpy as np
import pytest

import lrsched as ls

C = ls.cosine(0.1, 0.0, steps=90)

STRUCTURE = [
    (ls.constant(1.0), 0.0, []),
    (ls.linear(1, 0, 10), 10.0, [10.0]),
    (ls.warmup(C, steps=10), 100.0, [10.0, 100.0]),
    (ls.join([C, ls.constant(0.1), ls.linear(0.1, 0, 5)], boundaries=[50, 60]), 65.0, [50.0, 60.0, 65.0]),
    (ls.piecewise([10, 20], [3, 2, 1]), 20.0, [10.0, 20.0]),
    (ls.multistep(1.0, [30, 60], factor=0.1).per_epoch(10), 600.0, [300.0, 600.0]),
    (ls.interpolate([(5, 0.0), (15, 1.0), (25, 0.5)]), 25.0, [5.0, 15.0, 25.0]),
    (ls.cycle(C, 90, limit=3), 270.0, [90.0, 180.0, 270.0]),
    (ls.cycle(C, 90, period_mult=2, limit=3), 630.0, [90.0, 270.0, 630.0]),
    (ls.step(1.0, every=10, factor=0.5, minimum=0.1), 40.0, [10.0, 20.0, 30.0, 40.0]),
    (ls.exponential(1.0, 0.5, end=0.125), 3.0, [3.0]),
    (C.shift(20), 110.0, [20.0, 110.0]),
    (C.stretch(2), 180.0, [180.0]),
    (ls.minimum(C, ls.linear(0, 1, 200)), 200.0, [90.0, 200.0]),
]


@pytest.mark.parametrize(
    ("s", "length", "bounds"), STRUCTURE, ids=lambda x: repr(x) if isinstance(x, ls.Schedule) else ""
)
def test_length_and_breakpoints(s, length, bounds):
    assert s.length() == length
    assert s.breakpoints() == bounds
    # after its length (t > length) the schedule no longer changes
    after = s(np.arange(length + 1, length + 300))
    assert np.all(after == after[0])


def test_breakpoints_of_schedules_that_never_settle():
    s = ls.sgdr(0.1, 100, period_mult=2)
    assert s.length() is None
    assert s.breakpoints(1000) == [100.0, 300.0, 700.0]
    with pytest.raises(ValueError, match="never settles: give stop"):
        s.breakpoints()
    assert ls.exponential(0.1, 0.99).length() is None
    assert ls.inverse_sqrt(0.1, scale=10).length() is None
    assert ls.cosine(1, 0, steps=10, periodic=True).breakpoints(35) == [10.0, 20.0, 30.0]
    with pytest.raises(ValueError, match="no known structure"):
        ls.function(math.sqrt).breakpoints(10)


def test_summary_is_exact_over_whole_iterations():
    s = ls.warmup(ls.cosine(0.1, 1e-5, steps=900), steps=100)
    summ = s.summary()
    v = s(np.arange(1, 1002))
    assert (summ.start, summ.stop) == (1, 1001)
    assert summ.max == v.max() and summ.argmax == 1 + int(v.argmax()) == 100
    assert summ.min == v.min() and summ.argmin == 1000
    assert summ.area == pytest.approx(v.sum(), rel=1e-14)
    assert summ.jumps == []
    assert [m[2] for m in summ.monotone] == ["increasing", "decreasing", "constant"]
    part = s.summary(500, start=200)
    assert part.first == s(200) and part.last == s(500)


def test_jumps_are_found_at_boundaries():
    s = ls.join([ls.linear(0, 0.1, 100), ls.cosine(0.05, 0, steps=900)], boundaries=[100])
    (jump,) = s.summary().jumps
    assert (jump.t, jump.before) == (100.0, 0.1)
    assert jump.after == pytest.approx(0.05, rel=1e-6)
    assert "JUMP at t = 100" in s.describe()


def test_describe_reads_well():
    text = ls.warmup(C, steps=10).describe()
    assert text.splitlines()[0] == "warmup(cosine(0.1, 0, steps=90), steps=10)"
    assert "settles after t = 100" in text
    assert "phase boundaries: 10, 100" in text
    assert "continuous at every boundary" in text
    assert "never settles" in ls.exponential(0.1, 0.99).describe(100)
    with pytest.raises(ValueError, match="never settles: give stop"):
        ls.exponential(0.1, 0.99).describe()
