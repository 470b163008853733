"""Introspection: structure declared by each kind, facts computed from the values."""

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


# ---------------------------------------------------------------- bounded work at any size


def test_summary_in_chunks_equals_one_pass(monkeypatch):
    from lrsched import analysis

    s = ls.sgdr(0.1, 30, period_mult=1.1, decay=0.9) + ls.linear(0.0, 0.01, 500)
    whole = s.summary(3000)
    monkeypatch.setattr(analysis, "CHUNK", 7)  # the same facts, accumulated 7 values at a time
    chunked = s.summary(3000)
    values = s.values(3000)
    assert chunked.monotone == whole.monotone and chunked.stretches == whole.stretches == len(whole.monotone)
    assert (chunked.min, chunked.argmin, chunked.max, chunked.argmax) == (
        values.min(),
        1 + int(values.argmin()),
        values.max(),
        1 + int(values.argmax()),
    )
    assert chunked.area == pytest.approx(math.fsum(values), rel=1e-12)
    assert chunked.sampled == whole.sampled == 0


def test_a_huge_range_is_summarised_from_a_labelled_sample(monkeypatch):
    from lrsched import analysis

    monkeypatch.setattr(analysis, "EXACT_MAX", 1000)
    s = ls.cosine(1.0, 0.0, steps=10**12)
    summ = s.summary()
    assert summ.sampled == analysis.CHUNK
    assert (summ.first, summ.max, summ.argmax) == (s(1), s(1), 1)
    assert summ.min == 0.0 and summ.monotone[0][2] == "decreasing"
    assert summ.area == pytest.approx(0.5 * 10**12, rel=1e-3)
    assert "sampled, not exact" in s.describe()


@pytest.mark.parametrize(
    "s",
    [
        ls.step(1.0, every=1, factor=0.999),
        ls.step(1.0, every=1e-9, factor=0.5),
        ls.step(1, every=1e-310, factor=0.5),
        ls.cosine(0.1, 0.0, steps=1, periodic=True),
    ],
    ids=["every-1", "every-1e-9", "every-1e-310", "periodic-1"],
)
def test_describe_never_enumerates_without_bound(s):
    text = s.describe(1_000_000)
    assert "t = 1 .. 1000000" in text
    with pytest.raises(ValueError, match="more than 100000 boundaries"):
        s.breakpoints(1_000_000)


def test_staircases_far_past_int64_keep_dropping():
    # floor((t - 1) / every) beyond 2**63 stays a float: no int64 overflow back to the start value
    np.testing.assert_array_equal(ls.step(1, every=1e-310, factor=0.5).values(3), [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(ls.step(1.0, every=1e-20, factor=0.5).values(3), [1.0, 0.0, 0.0])
    assert ls.cycle(ls.linear(1, 0, 4), 4, decay=0.5)(1e20) == 0.0  # decay**2.5e19, not a wrapped cycle index


def test_multistep_with_many_milestones_lays_out_in_linear_time():
    import faulthandler

    s = ls.multistep(1.0, list(range(1, 20_001)), factor=0.9999)
    faulthandler.dump_traceback_later(120, exit=True)  # a watchdog: quadratic layout took minutes
    try:
        s._compile()
    finally:
        faulthandler.cancel_dump_traceback_later()
    assert s(20_001) == pytest.approx(0.9999**20_000, rel=1e-12)


def test_values_refuses_an_impossible_size_before_allocating():
    with pytest.raises(ValueError, match="at most 1073741824"):
        ls.constant(1.0).values(10**13)


def test_every_kind_declares_its_structure():
    """A kind that forgot ``_breaks`` or ``_settles`` would get Schedule's, which refuses by name."""
    from lrsched.schedule import Schedule

    for kind, cls in ls.REGISTRY.items():
        assert cls._breaks is not Schedule._breaks, kind
        assert cls._settles is not Schedule._settles, kind


def test_a_steep_continuous_start_is_not_a_jump():
    """A 1 - sqrt decay leaves its start steeply but continuously (issue 17's false "JUMP at t = 8000")."""
    s = ls.wsd(1.0, steps=10000, warmup_steps=500, decay_steps=2000, decay="1-sqrt")
    assert s.summary().jumps == []
    assert "JUMP" not in s.describe() and "continuous at every boundary" in s.describe()
    # a real jump into the same steep start is still found, with the limit from the right
    jumpy = ls.join([ls.constant(1.0), ls.ease(0.5, 0.0, steps=2000, power=0.5)], boundaries=[100])
    (jump,) = jumpy.summary(300).jumps
    assert (jump.t, jump.before) == (100.0, 1.0)
    assert jump.after == pytest.approx(0.5, rel=1e-3)
    # a kink (continuous, slope changes) is not a jump either
    assert ls.join([ls.linear(0, 1, 100), ls.linear(1, 0, 10)], boundaries=[100]).summary().jumps == []


def test_unbound_schedules_name_the_symbol():
    s = ls.cosine(0.1, 0, steps=ls.total)
    for call in (s.length, s.breakpoints, s.describe):
        with pytest.raises(ValueError, match="total"):
            call()


def test_structure_and_jumps_at_the_edges_of_whole_iterations():
    # a staircase keeps the old value at t = b and drops before b + 1: a jump at b
    assert [(j.t, j.before, j.after) for j in ls.step(1.0, every=10, factor=0.5).summary(30).jumps] == [
        (10.0, 1.0, 0.5),
        (20.0, 0.5, 0.25),
        (30.0, 0.25, 0.125),
    ]
    # boundaries one update apart, far out: each jump is found (h stays below the distance between them)
    s = ls.piecewise([3e6, 3e6 + 1, 3e6 + 2], [1.0, 0.9, 0.5, 0.1])
    assert [(j.t, j.before, j.after) for j in s.summary().jumps] == [
        (3e6, 1.0, 0.9),
        (3e6 + 1, 0.9, 0.5),
        (3e6 + 2, 0.5, 0.1),
    ]
    # per_epoch: epoch ceil(t / E) passes a boundary at 2.5 after t = 2 E
    s = ls.piecewise([2.5], [1.0, 0.1]).per_epoch(7)
    assert s.breakpoints() == [14.0] and s.length() == 14.0 and (s(14), s(15)) == (1.0, 0.1)
    assert [j.t for j in s.summary(30).jumps] == [14.0]
    # a zero-based cycle never reaches its kid's end: no break there, none past its length; the hold after
    # the last cycle is one (u = t - 1 >= 12: shifted by a fraction, an update sees the last cycle change there)
    z = ls.cycle(ls.linear(1, 0, 4), 4, zero_based=True, limit=3)
    assert (z.length(), z.breakpoints(20)) == (12.0, [4.0, 8.0, 12.0])
    assert np.all(z(np.arange(13.0, 30.0)) == z(12))
    # a shift that moves a warped kid's window below 0 has no breaks there (was a complex number)
    assert ls.cosine(1, 0, steps=64).warp(0.5, 100).shift(50).breakpoints(20) == []
    # a cooldown at 0 never uses its schedule, so a function(...) there does not hide the structure
    assert ls.cooldown(ls.function(math.sqrt), at=0, steps=10).breakpoints() == [10.0]


# ---------------------------------------------------------------- issue 23: whole iterations, one cap, huge times


def _quarter(r, lo, hi):
    return float(round(r.uniform(lo, hi) * 4) / 4)  # exact in binary: the sample's arithmetic is exact


def _staircase(r):
    k = r.randint(5)
    if k == 0:
        return ls.step(1.0, every=_quarter(r, 0.5, 30), factor=0.5, minimum=float(r.choice([0.0, 0.01, 0.1])))
    if k == 1:
        return ls.exponential(1.0, 0.7, every=_quarter(r, 0.5, 30), staircase=True, end=0.05)
    if k == 2:
        bs = sorted({_quarter(r, 0, 200) for _ in range(r.randint(1, 4))})
        return ls.piecewise(bs, [1.0 / (i + 1) for i in range(len(bs) + 1)])
    if k == 3:
        return ls.multistep(1.0, sorted(_quarter(r, 0, 200) for _ in range(r.randint(1, 4))), factor=0.5)
    return ls.inverse_time(1.0, rate=0.5, every=_quarter(r, 0.5, 30), staircase=True)


def _piecewise_constant(r, depth):
    """A random composition whose value changes only at its boundaries (staircases, shifted, cycled, ...)."""
    if depth == 0 or r.rand() < 0.3:
        return _staircase(r)
    k, kid = r.randint(6), _piecewise_constant(r, depth - 1)
    if k == 0:
        return kid.shift(_quarter(r, -20, 40))
    if k == 1:
        return kid.stretch(_quarter(r, 0.25, 3))
    if k == 2:
        return kid.per_epoch(int(r.randint(1, 5)))
    if k == 3:
        zero = bool(r.rand() < 0.7)
        return ls.cycle(
            kid, _quarter(r, 2, 80), period_mult=float(r.choice([1.0, 1.5])), limit=r.randint(1, 6), zero_based=zero
        )
    if k == 4:
        return ls.join([kid, _piecewise_constant(r, depth - 1)], boundaries=[_quarter(r, 1, 150)])
    return kid * 0.5 + _piecewise_constant(r, depth - 1)


def test_length_and_breakpoints_agree_with_brute_force_evaluation():
    """issue 23: every update t where s(t) != s(t + 1) is a boundary (floor(b) = t), and none is after the length.
    A seeded sample of fractional staircases and zero-based cycles under fractional shifts and stretches."""
    n = 400
    for seed in range(300):
        s = _piecewise_constant(np.random.RandomState(seed), 3)
        v = s(np.arange(0, n + 1, dtype=float))
        changes = set(np.flatnonzero(v[1:-1] != v[2:]) + 1)  # t = 1 .. n - 1
        bounds = {math.floor(b) for b in s.breakpoints(n)}
        assert changes <= bounds, (seed, s, sorted(changes - bounds))
        end = s.length()
        assert end is None or not changes or max(changes) <= end, (seed, s, end)


def test_a_staircase_with_a_fractional_step_drops_where_its_formula_says():
    """issue 23: step(1, every=10.5, factor=0.5, minimum=0.01) changes value at 75 (floor((t - 1) / 10.5)): its
    last drop is after update 74 (the length was 73.5); every 2-decimal step lands on the kernel's update."""
    s = ls.step(1.0, every=10.5, factor=0.5, minimum=0.01)
    t = np.arange(1, 200, dtype=float)
    drops = [float(x) for x in t[:-1][np.diff(np.maximum(0.5 ** np.floor((t - 1) / 10.5), 0.01)) != 0]]
    assert drops == [11, 21, 32, 42, 53, 63, 74]
    assert s.breakpoints() == drops and s.length() == 74.0
    for every in (0.1, 0.3, 0.7, 1.34, 4.65, 9.15, 24.26, 28.02):  # j * every rounds onto or off a whole t
        s = ls.inverse_time(1.0, rate=0.5, every=every, staircase=True)
        v = s(t)
        assert s.breakpoints(198) == [float(x) for x in t[:-1][v[:-1] != v[1:]]], every


def test_zero_based_cycles_hold_from_the_update_their_last_cycle_ends():
    # u = t - 1 in [0, 4.5), [4.5, 9), [9, 13.5); held from u = 13.5: the kid's drop at 2 is seen at u >= S_i + 2
    s = ls.cycle(ls.piecewise([2], [1.0, 0.5]), 4.5, limit=3, zero_based=True)
    u = np.arange(0, 40, dtype=float)
    i = np.minimum(np.floor(u / 4.5), 2)
    x = np.where(u < 13.5, u - 4.5 * i, 13 - 9)  # held: the last whole u below 13.5 is 13, 4 into cycle 2
    want = np.where(x > 2, 0.5, 1.0)
    assert np.array_equal(s(u + 1), want)
    changes = [float(t) for t in (u + 1)[:-1][want[:-1] != want[1:]]]
    assert set(changes) <= {math.floor(b) for b in s.breakpoints(30)}
    assert s.length() >= max(changes)
    stretched = s.stretch(1.5)
    v = stretched(np.arange(1, 60, dtype=float))
    assert max(np.flatnonzero(v[:-1] != v[1:]) + 1) <= stretched.length()


def test_the_boundary_cap_is_per_call():
    """issue 23: 169 cycles of a 16,900-drop staircase were each under the cap, and together 4 GiB."""
    s = ls.cycle(ls.step(1e-5, every=0.01, factor=0.1), 169)
    with pytest.raises(ValueError, match=r"more than 100000 boundaries below stop=1000000.0"):
        s.breakpoints(1e6)
    assert s.breakpoints(169 * 3) == [float(t) for t in range(1, 169 * 3 + 1)]  # 16,800 drops a cycle: every t
    assert "phase boundaries" not in ls.step(1.0, every=0.001, factor=0.999).describe(200_000)  # too many: none


@pytest.mark.parametrize(
    "s",
    [
        ls.cooldown(ls.constant(1.0), at=1.7e308, steps=1e308),
        ls.join([ls.constant(1.0), ls.linear(1, 0, 1e308)], boundaries=[1.7e308]),
        ls.step(1e308, every=1e300, factor=0.5, minimum=1e-300),
        ls.step(1.0, every=1e308, factor=0.5, minimum=0.1).per_epoch(2**53),
        ls.linear(1, 0, 1e308).warp(2, 1e308),
        ls.cycle(ls.linear(1, 0, 1e300), 1e308, limit=3, zero_based=True),
    ],
    ids=repr,
)
def test_huge_times_give_numbers_or_errors_by_name(s):
    """issue 23: lengths and boundaries past the float range are None or refused by name, never OverflowError."""
    end = s.length()
    assert end is None or math.isfinite(end)
    for call in (lambda: s.breakpoints(1e308), s.breakpoints, s.describe, lambda: s.describe(100)):
        try:
            call()
        except ValueError as e:
            message = str(e)
        else:
            message = "give stop"
        assert "give stop" in message or "boundaries" in message, message
    assert ls.cooldown(ls.constant(1.0), at=1.7e308, steps=1e308).length() is None


def test_describe_reads_as_lines_at_the_prompt_and_is_a_str():
    text = ls.warmup(C, steps=10).describe()
    assert isinstance(text, str) and text.splitlines()[0] == "warmup(cosine(0.1, 0, steps=90), steps=10)"
    assert repr(text) == str(text) and "\\n" not in repr(text)
    assert text + "!" == str(text) + "!" and type(text + "!") is str
