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


# ---------------------------------------------------------------- issue 25 section 4: what a schedule does to AdamW

WARM_COS = ls.warmup(ls.cosine(1e-2, 1e-4, steps=900), steps=100)
D2Z = ls.wsd(1e-2, steps=1000, warmup_steps=50, decay_steps=400)  # warmup, hold, linear decay to 0


def _bound(lr, wd):
    """The accuracy update_weights states: (ceil(log2 n) + 37) 2**-53 max(L_k, 1), L_k = sum_{j > k} |ln|1 - x_j||."""
    logs = np.abs(np.log(np.abs(1.0 - lr * wd)))
    after = np.append(np.cumsum(logs[::-1])[::-1][1:], 0.0)
    return (math.ceil(math.log2(max(lr.size, 2))) + 37) * 2.0**-53 * np.maximum(after, 1.0)


def _weights_by_loop(lr, wd):
    """w_k = lr_k * prod_{j > k} (1 - lr_j * wd), a running product from the end (as the optimizer's arithmetic)."""
    wd = np.broadcast_to(wd, lr.shape)
    out = np.empty(lr.size)
    kept = 1.0
    for k in range(lr.size - 1, -1, -1):
        out[k] = lr[k] * kept
        kept *= 1.0 - lr[k] * wd[k]
    return out


def test_ema_timescale_is_one_over_lr_times_weight_decay():
    for s, wd in [(WARM_COS, 0.1), (ls.exponential(1e-3, 0.999), 5e-4), (ls.constant(3e-4), 1.0)]:
        tau = s.ema_timescale(wd)
        assert isinstance(tau, ls.Schedule) and tau.kind == "div"  # an ordinary value of the algebra
        lr = s.values(1000)
        np.testing.assert_array_equal(tau.values(1000), 1.0 / (wd * lr))
        assert tau(137) == 1.0 / (wd * lr[136]) and tau(137.0) == tau(np.array([137.0]))[0]
        assert ls.from_json(tau.to_json()) == tau and ls.parse(repr(tau)) == tau
    # a weight-decay schedule: 1 / (lr(t) * wd(t))
    wd = ls.linear(0.01, 0.1, 1000)
    np.testing.assert_array_equal(
        WARM_COS.ema_timescale(wd).values(1000), 1.0 / (wd.values(1000) * WARM_COS.values(1000))
    )
    # Wang & Aitchison's timescale as a fraction of the run: tau / n
    assert (WARM_COS.ema_timescale(0.1) / 1000)(100) == pytest.approx(1.0 / (0.1 * 1e-2) / 1000, rel=1e-15)
    # a symbolic schedule stays symbolic, and binds
    sym = ls.cosine(0.1, 0.01, steps=ls.total).ema_timescale(0.5)
    assert sym.bind(total=10) == ls.cosine(0.1, 0.01, steps=10).ema_timescale(0.5)


def test_ema_timescale_refuses_bad_weight_decay_by_name_and_an_lr_of_zero_by_t():
    for bad, err in [(0, ValueError), (-0.1, ValueError), (math.inf, ValueError), (math.nan, ValueError)]:
        with pytest.raises(err, match=r"weight_decay"):
            WARM_COS.ema_timescale(bad)
    for bad in ("0.1", True, None, [0.1]):
        with pytest.raises(TypeError, match=r"weight_decay"):
            WARM_COS.ema_timescale(bad)
    tau = D2Z.ema_timescale(0.1)  # the lr reaches 0 at t = 1000: an infinite timescale is refused where it is
    assert tau(999) == 1.0 / (0.1 * D2Z(999))
    with pytest.raises(ValueError, match="1000"):
        tau(1000)


@pytest.mark.parametrize(
    "s",
    [WARM_COS, D2Z, ls.step(0.05, every=7, factor=0.5), ls.sgdr(0.3, 40, period_mult=2), ls.constant(0.0)],
    ids=["warmup-cosine", "wsd-to-zero", "step", "sgdr", "zero"],
)
@pytest.mark.parametrize("n", [0, 1, 2, 7, 1000, 3001])
def test_update_weights_equal_a_direct_loop(s, n):
    for wd in (0.1, 1.7, ls.cosine(0.5, 2.0, steps=800)):  # a number, or a weight-decay schedule
        w = s.update_weights(wd, n)
        assert w.dtype == np.float64 and w.shape == (n,)
        wds = wd.values(n) if isinstance(wd, ls.Schedule) else wd
        want = _weights_by_loop(s.values(n), wds)  # itself off by up to 2 (n - k) 2**-53
        k = np.arange(1, n + 1)
        tol = _bound(s.values(n), wds) + 2 * (n - k) * 2.0**-53
        assert np.all(np.abs(w - want) <= tol * np.abs(want) + 1e-300), (s, n, wd)  # below 1e-300: denormals


def test_update_weights_over_many_updates_match_the_closed_form():
    # a constant lr: w_k = lr * (1 - lr * wd) ** (n - k), written with log1p so that it is itself exact to ~1e-16
    n, lr, wd = 400_000, 1e-3, 0.05
    w = ls.constant(lr).update_weights(wd, n)
    k = np.arange(1, n + 1)
    bound = _bound(np.full(n, lr), wd)  # L_1 = 20: 1.3e-13; measured 1.8e-14
    assert np.all(np.abs(w / (lr * np.exp((n - k) * np.log1p(-lr * wd))) - 1) <= bound)
    # a hold then a step down: two powers
    s = ls.piecewise([n // 2], [2e-3, 5e-4])
    w = s.update_weights(0.05, n)
    h = n // 2
    late = 5e-4 * np.exp((n - k) * np.log1p(-5e-4 * 0.05))
    early = 2e-3 * np.exp((h - k) * np.log1p(-2e-3 * 0.05) + (n - h) * np.log1p(-5e-4 * 0.05))
    assert np.all(np.abs(w / np.where(k <= h, early, late) - 1) <= _bound(s.values(n), 0.05))


def test_update_weights_never_underflow_on_the_way():
    """A factor 2 for 1500 updates (lr = -1, wd = 1), then 0.5 for 1500: the running product from the end
    underflows to 0 at 2**-1075 and stays there; the weights of the first updates are -2**-k, normal floats."""
    s = ls.piecewise([1500], [-1.0, 0.5])
    w = s.update_weights(1.0, 3000)
    k = np.arange(1, 3001.0)
    want = np.where(k <= 1500, -(2.0**-k), 0.5 * 0.5 ** (3000 - k))
    bound = _bound(s.values(3000), 1.0)  # the sums pass 1040 on the way: 6e-13 measured, 2.6e-11 stated
    assert np.all(np.abs(w[:1000] / want[:1000] - 1) <= bound[:1000])
    assert np.all(np.abs(w[2000:] / want[2000:] - 1) <= bound[2000:])  # before 2000, 0.5 ** (3000 - k) is tiny
    assert np.all(np.abs(w[1100:1500]) < 1e-300)
    assert _weights_by_loop(s.values(3000), 1.0)[0] == 0.0  # where the running product lost it


def test_update_weights_with_a_factor_zero_or_below_zero():
    # lr * wd = 1: the factor is 0, and every earlier update weighs 0
    np.testing.assert_array_equal(ls.constant(0.5).update_weights(2.0, 4), [0.0, 0.0, 0.0, 0.5])
    # lr * wd > 1: each factor below 0 flips the sign of the weights before it
    s = ls.linear(2.9, 0.3, 21)
    lr = s.values(20)
    want = [lr[k] * np.prod(1.0 - lr[k + 1 :]) for k in range(20)]
    np.testing.assert_allclose(s.update_weights(1.0, 20), want, rtol=1e-13, atol=0)


def test_update_weights_refuse_bad_input_by_name():
    for bad in (0, -1e-3, math.inf, math.nan):
        with pytest.raises(ValueError, match="weight_decay"):
            WARM_COS.update_weights(bad, 10)
    for bad in ("0.1", None, True):
        with pytest.raises(TypeError, match="weight_decay"):
            WARM_COS.update_weights(bad, 10)
    for bad, err in [(-1, ValueError), (2.5, ValueError), (10**13, ValueError), ("10", TypeError), (None, TypeError)]:
        with pytest.raises(err, match=r"\bn\b"):
            WARM_COS.update_weights(0.1, bad)
    with pytest.raises(ValueError, match="beyond the float range"):  # a negative lr: the weights grow past 1e308
        ls.constant(-1.0).update_weights(1.0, 2000)
    with pytest.raises(ValueError, match="total"):
        ls.cosine(0.1, 0, steps=ls.total).update_weights(0.1, 10)


@pytest.mark.slow  # 2.3 s of real AdamW updates (the quick loop leaves it out)
def test_update_weights_are_what_torch_adamw_gives_each_update():
    """REAL torch.optim.AdamW, float64: parameter k is pushed once, at update k, by exactly 1.

    With betas (0, 0) Adam's direction is g / (|g| + eps): the gradient e_k (one-hot) gives exactly 1 on
    coordinate k (1 + 1e-30 rounds to 1) and exactly 0 elsewhere. So coordinate k is 0 until update k,
    -lr_k after it, and then only decays: its final value is -w_k.
    """
    torch = pytest.importorskip("torch", reason="installed by the README test command")
    n = 400
    for s, wd in [(WARM_COS, 0.5), (D2Z, 3.0), (ls.sgdr(0.2, 30, period_mult=2), ls.linear(0.1, 2.0, 300))]:
        p = torch.zeros(n, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.AdamW([p], lr=0.1, betas=(0.0, 0.0), eps=1e-30, weight_decay=0.1)
        wds = wd.values(n) if isinstance(wd, ls.Schedule) else np.full(n, wd)
        for k, lr in enumerate(s.values(n)):
            opt.param_groups[0]["lr"] = float(lr)
            opt.param_groups[0]["weight_decay"] = float(wds[k])
            p.grad = torch.zeros(n, dtype=torch.float64)
            p.grad[k] = 1.0
            opt.step()
        final = -p.detach().numpy()
        np.testing.assert_allclose(s.update_weights(wd, n), final, rtol=1e-12, atol=0)


# ---------------------------------------------------------------- the annealing area of Tissue et al. 2024


def _annealing_by_loop(values, decay):
    """S2 = sum_t m_t, m_t = decay * m_{t-1} + (eta_{t-1} - eta_t), m = 0 at the first update; the rises before
    the first fall count as held at their top (nothing), every later difference counts, rises negatively."""
    falls = np.flatnonzero(values[1:] < values[:-1])
    first = int(falls[0]) + 1 if falls.size else values.size
    m = total = 0.0
    for i in range(1, values.size):
        m = decay * m + (values[i - 1] - values[i] if i >= first else 0.0)
        total += m
    return total


ANNEALED = [
    WARM_COS,
    D2Z,
    ls.step(0.05, every=70, factor=0.5),
    ls.sgdr(0.3, 400, period_mult=2),  # restarts: rises after the first fall count negatively
    ls.constant(0.1),
    ls.linear(0.0, 1.0, 3000),  # only rises: nothing
    ls.cycle(ls.linear(1.0, 0.0, 500), 500, limit=4) + ls.linear(0.0, 0.5, 2000),
]


@pytest.mark.parametrize("s", ANNEALED, ids=lambda s: repr(s)[:40])
def test_annealing_area_equals_the_momentum_recurrence(s):
    for decay in (0.999, 0.9, 0.0, 0.99999):
        summ = s.summary(3000, annealing_decay=decay)
        want = _annealing_by_loop(s.values(3000), decay)
        assert summ.annealing_area == pytest.approx(want, rel=1e-11, abs=1e-13), decay
        assert summ.annealing_decay == decay
    part = s.summary(2500, start=700)  # from another start: m = 0 at t = 700, the range's own first fall
    assert part.annealing_area == pytest.approx(
        _annealing_by_loop(s(np.arange(700, 2501.0)), 0.999), rel=1e-11, abs=1e-13
    )


def test_annealing_area_is_the_same_a_chunk_at_a_time(monkeypatch):
    from lrsched import analysis

    s = ls.sgdr(0.1, 30, period_mult=1.1, decay=0.9) + ls.linear(0.0, 0.01, 500)
    whole = s.summary(3000)
    monkeypatch.setattr(analysis, "CHUNK", 7)  # the first fall, the end's weights and the telescoped sums across chunks
    chunked = s.summary(3000)
    want = _annealing_by_loop(s.values(3000), 0.999)
    assert chunked.annealing_area == pytest.approx(want, rel=1e-11) and whole.annealing_area == pytest.approx(
        want, rel=1e-11
    )


@pytest.mark.parametrize(
    "s",
    [
        ls.warmup(ls.cosine(1.0, 0.01, steps=999_000), steps=1000),
        ls.wsd(1.0, steps=1_000_000, warmup_steps=20_000, decay_steps=100_000, decay="1-sqrt"),
        ls.step(1.0, every=150_000, factor=0.5),
    ],
    ids=["warmup-cosine", "wsd", "step"],
)
def test_annealing_area_of_a_sampled_range(monkeypatch, s):
    """Past EXACT_MAX the range is sampled; the annealing area still takes the last updates (where the weights
    differ) and both sides of each boundary one by one, and telescopes the rest: against the closed form
    S2 = sum_t (eta_{t-1} - eta_t) (1 - lambda ** (n - t + 1)) / (1 - lambda) over every update."""
    from lrsched import analysis

    monkeypatch.setattr(analysis, "EXACT_MAX", 1000)
    monkeypatch.setattr(analysis, "CHUNK", 50_000)
    n = 1_000_000
    summ = s.summary(n)
    assert summ.sampled == 50_000
    v = s.values(n)
    d = v[:-1] - v[1:]  # made at t = 2 .. n
    first = int(np.flatnonzero(d > 0)[0])
    d[:first] = 0.0
    t = np.arange(2, n + 1.0)
    want = math.fsum(d * -np.expm1((n - t + 1) * math.log(0.999))) / (1 - 0.999)
    assert summ.annealing_area == pytest.approx(want, rel=1e-9)
    assert "annealing area (Tissue et al. 2024, lambda = 0.999)" in s.describe(n)


def test_describe_gives_the_annealing_area_after_the_area():
    lines = ls.warmup(C, steps=10).describe().splitlines()
    i = next(i for i, line in enumerate(lines) if line.startswith("  area (sum of lrs): "))
    want = _annealing_by_loop(ls.warmup(C, steps=10).values(101), 0.999)
    assert lines[i + 1] == f"  annealing area (Tissue et al. 2024, lambda = 0.999): {want:.6g}"
    assert "lambda = 0.99)" in ls.warmup(C, steps=10).describe(annealing_decay=0.99)
    for bad, err in [(1.0, ValueError), (-0.1, ValueError), (math.nan, ValueError), ("0.9", TypeError)]:
        with pytest.raises(err, match="annealing_decay"):
            ls.warmup(C, steps=10).describe(annealing_decay=bad)
