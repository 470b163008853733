"""The warmup-stable-decay family (issue 25, section 3): the decay shapes, end_ratio, WSD-S against Levanter's
schedule built with real optax calls, and D2Z against its paper's formula. Expected values come from the peers'
arithmetic written out here (or run), never from lrsched."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

import lrsched as ls

# ------------------------------------------------------------------ decay shapes


def shape_g(shape: str, p: np.ndarray) -> np.ndarray:
    """g(p) on [0, 1], as the papers and peers write them (Megatron's optimizer_param_scheduler for exponential)."""
    p = np.clip(p, 0.0, 1.0)
    return {
        "linear": 1.0 - p,
        "cosine": 0.5 * (np.cos(np.pi * p) + 1.0),
        "sqrt": 1.0 - np.sqrt(p),
        "exponential": 2.0 * 0.5**p - 1.0,
    }[shape]


@pytest.mark.parametrize("spelling", ["linear", "cosine", "sqrt", "1-sqrt", "minus_sqrt", "exponential"])
def test_every_spelling_of_every_shape_in_cooldown_and_wsd(spelling):
    shape = {"1-sqrt": "sqrt", "minus_sqrt": "sqrt"}.get(spelling, spelling)
    t = np.arange(0, 1301, dtype=float)
    peak, end, n, w, d = 2.0, 0.2, 1200, 100, 300
    want = np.where(
        t <= w, peak * t / w, np.where(t <= n - d, peak, end + (peak - end) * shape_g(shape, (t - n + d) / d))
    )
    s = ls.wsd(peak, n, w, d, decay=spelling, end=end)
    np.testing.assert_allclose(s(t), want, rtol=0, atol=1e-15 * peak)
    c = ls.cooldown(ls.constant(peak), at=n - d, steps=d, to=end, shape=spelling)
    np.testing.assert_allclose(c(t), np.where(t <= n - d, peak, want), rtol=0, atol=1e-15 * peak)
    assert s(n) == end and c(5000.0) == end  # reaches the end exactly and holds it (exponential too: 2 * 0.5 - 1)
    assert c.shape == shape and repr(c).count("shape=") == (shape != "linear")


def test_the_exponential_anneal_is_an_ordinary_value():
    c = ls.cooldown(ls.warmup(ls.constant(1.0), steps=10), at=80, steps=20, to=0.1, shape="exponential")
    for back in (ls.parse(repr(c)), ls.from_dict(c.to_dict()), ls.from_json(c.to_json())):
        assert back == c
    t = np.arange(0, 120, dtype=float)
    scalars = np.array([c(float(x)) for x in t])
    np.testing.assert_array_equal(c(t), scalars)  # scalars and arrays agree, bit for bit
    assert c.length() == 100
    assert c.breakpoints(200) == [10.0, 80.0, 100.0]
    p = (t - 80) / 20
    want = np.where(t <= 10, t / 10, np.where(t <= 80, 1.0, 0.1 + 0.9 * shape_g("exponential", p)))
    np.testing.assert_allclose(c(t), want, rtol=0, atol=1e-15)
    assert "continuous at every boundary" in c.describe()


def test_a_shape_misspelled_is_refused_by_name():
    with pytest.raises(ValueError, match="shape must be one of 'linear', 'cosine', 'sqrt', 'exponential'"):
        ls.cooldown(ls.constant(1.0), at=1, steps=2, shape="exp")
    with pytest.raises(ValueError, match="^decay must be one of"):
        ls.wsd(1.0, 10, 0, 5, decay="minus-sqrt")
    with pytest.raises(TypeError, match="^decay must be one of .* got 1"):
        ls.wsd_s(1.0, [10], decay=1)


# ------------------------------------------------------------------ end_ratio


def test_end_ratio_is_the_end_as_a_ratio_of_the_peak():
    t = np.arange(0, 1101, dtype=float)
    peak, r, n, w = 3e-4, 0.1, 1000, 100
    low = r * peak
    p = np.clip((t - w) / (n - w), 0, 1)
    cosine = np.where(t <= w, peak * t / w, low + (peak - low) * 0.5 * (1 + np.cos(np.pi * p)))
    np.testing.assert_allclose(ls.warmup_cosine(peak, n, w, end_ratio=r)(t), cosine, rtol=0, atol=1e-15 * peak)
    q = np.clip((t - 800) / 200, 0, 1)
    wsd = np.where(t <= w, peak * t / w, np.where(t <= 800, peak, low + (peak - low) * (1 - q)))
    np.testing.assert_allclose(ls.wsd(peak, n, w, 200, end_ratio=r)(t), wsd, rtol=0, atol=1e-15 * peak)
    flat = np.where(t <= 750, peak, low + (peak - low) * 0.5 * (1 + np.cos(np.pi * np.clip((t - 750) / 250, 0, 1))))
    np.testing.assert_allclose(ls.flat_cos(peak, n, end_ratio=r)(t), flat, rtol=0, atol=1e-15 * peak)
    x = np.where(t > 0, (t - 1) % 250 + 1, 0.0)
    sgdr = low + (peak - low) * 0.5 * (1 + np.cos(np.pi * x / 250))
    np.testing.assert_allclose(ls.sgdr(peak, 250, end_ratio=r)(t), sgdr, rtol=0, atol=1e-15 * peak)


@pytest.mark.parametrize(
    "build",
    [
        lambda: ls.warmup_cosine(1.0, 100, 10, end=0.1, end_ratio=0.1),
        lambda: ls.wsd(1.0, 100, 10, 20, end=0.0, end_ratio=0.1),
        lambda: ls.sgdr(1.0, 10, end=0.1, end_ratio=0.1),
        lambda: ls.flat_cos(1.0, 100, end=0.1, end_ratio=0.1),
        lambda: ls.wsd_s(1.0, [10, 20], end=0.1, end_ratio=0.1),
    ],
)
def test_end_and_end_ratio_together_are_refused_by_name(build):
    with pytest.raises(ValueError, match=r"^end=0\.\d+ and end_ratio=0.1 are both given: give one"):
        build()


def test_end_ratio_is_checked():
    with pytest.raises(TypeError, match="^end_ratio must be a real number"):
        ls.wsd(1.0, 100, 10, 20, end_ratio="0.1")
    with pytest.raises(ValueError, match=r"^peak=1e\+300, end_ratio=1e\+300: the end, end_ratio \* peak, is beyond"):
        ls.warmup_cosine(1e300, 100, 10, end_ratio=1e300)


# ------------------------------------------------------------------ WSD-S, against Levanter's construction


def _frac_or_steps(x, length: int) -> int:
    """Levanter's _convert_frac_or_steps: at most 1 is a fraction of ``length``, rounded down; else whole steps."""
    assert x >= 0 and (x <= 1 or x % 1 == 0)
    return int(x * length) if x <= 1 else int(x)


def levanter_lr(optax, lr, total, cycles, warmup, rewarmup, decay, min_lr_ratio, kind):
    """Levanter's OptimizerConfig.lr_scheduler (src/levanter/optim/config.py, the cycles / rewarmup / decay
    version), transcribed with the optax calls it makes: its lr at optax count 0, 1, ..."""
    points = [0, *cycles]
    if points[-1] != total:
        points.append(total)
    min_lr = lr * min_lr_ratio
    schedules, boundaries, previous_end = [], [], 0.0
    for c, (a, b) in enumerate(zip(points[:-1], points[1:])):
        length = b - a
        w = _frac_or_steps(warmup if c == 0 else rewarmup, length)
        if w:
            schedules.append(optax.linear_schedule(previous_end, lr, w))
            boundaries.append(a + w)
        d = _frac_or_steps(decay, length) if decay is not None else length - w
        stable = length - w - d
        if stable:
            schedules.append(optax.constant_schedule(lr))
            boundaries.append(a + w + stable)
        if kind == "cosine":
            main = optax.cosine_decay_schedule(lr, d, min_lr_ratio)
        else:
            main = optax.linear_schedule(lr, min_lr, d)
        previous_end = main(d)
        schedules.append(main)
        boundaries.append(b)
    return optax.join_schedules(schedules, boundaries) if len(schedules) > 1 else schedules[0]


def _levanter_cases():
    cases = [  # (lr, total, cycles, warmup, rewarmup, decay, min_lr_ratio, kind)
        (3e-4, 4000, [1000, 2500], 0.01, 0.05, 0.2, 0.1, "cosine"),  # Levanter's fractions
        (1.0, 1000, [300, 700], 100, 0, None, 0.0, "linear"),  # steps; decay None: the whole cycle after warmup
        (2e-3, 900, [200, 500, 900], 0.0, 0.1, 0.5, 0.05, "linear"),  # the last end given; no first warmup
        (0.5, 700, [], 0.1, 0.0, 0.3, 0.2, "cosine"),  # one cycle: plain WSD
    ]
    rng = random.Random(25)
    for _ in range(12):  # seeded samples of the rest: all fractions, or all whole steps (> 1, as Levanter reads)
        total = rng.randrange(60, 1500)
        cycles = sorted(rng.sample(range(20, total - 20), rng.randrange(0, 4)))
        if any(b - a < 20 for a, b in zip([0, *cycles], [*cycles, total])):
            continue
        if rng.random() < 0.5:
            warm, rewarm, decay = rng.choice([0.0, 0.02, 0.1]), rng.choice([0.0, 0.05, 0.2]), rng.choice([None, 0.3])
        else:
            warm, rewarm, decay = rng.choice([0, 3, 10]), rng.choice([0, 2, 5]), rng.choice([None, 5, 8])
        cases.append((rng.uniform(1e-4, 1.0), total, cycles, warm, rewarm, decay, rng.choice([0.0, 0.1]),
                      rng.choice(["cosine", "linear"])))  # fmt: skip
    return cases


LEVANTER_CASES = _levanter_cases()


@pytest.fixture(scope="module")
def optax64():
    jax = pytest.importorskip("jax", reason="installed by the README test command")
    optax = pytest.importorskip("optax", reason="installed by the README test command")
    before = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)  # Levanter's arithmetic in float64, to compare to the last bits
    try:
        yield jax, optax
    finally:
        jax.config.update("jax_enable_x64", before)


def test_wsd_s_is_levanters_schedule_update_for_update(optax64):
    """Levanter counts optax steps from 0: its update t uses step t - 1, and each cycle's first update sees 0
    (zero_based=True). Where every cycle re-warms (no jump) that is lrsched's own clock one update late."""
    jax, optax = optax64
    jumps = 0
    steps = jax.numpy.arange(max(case[1] for case in LEVANTER_CASES) + 20)
    for lr, total, cycles, warm, rewarm, decay, ratio, kind in LEVANTER_CASES:
        ends = [*cycles, total] if not cycles or cycles[-1] != total else list(cycles)
        want_fn = levanter_lr(optax, lr, total, cycles, warm, rewarm, decay, ratio, kind)
        n = total + 20
        # steps 0 .. n - 1 (updates 1 .. n), from one array shape for all cases (JAX compiles per shape)
        want = np.asarray(want_fn(steps), dtype=float)[:n]
        assert want.dtype == np.float64
        lengths = np.diff([0, *ends])
        fractions = all(x is None or x < 1 for x in (warm, rewarm, decay))
        kw = dict(decay_steps=decay, warmup_steps=warm, rewarmup_steps=rewarm, fractions=fractions)
        s = ls.wsd_s(lr, ends, decay=kind, end_ratio=ratio, zero_based=True, **kw)
        got = s.values(n)  # t = 1 .. n
        err = np.abs(got - want).max() / lr
        assert err <= 1e-15, (lr, total, cycles, warm, rewarm, decay, ratio, kind, err)
        native = ls.wsd_s(lr, ends, decay=kind, end_ratio=ratio, **kw).shift(1).values(n)
        rewarms = len(ends) == 1 or _frac_or_steps(rewarm, min(lengths[1:])) > 0
        if rewarms:
            np.testing.assert_allclose(native, got, rtol=0, atol=1e-15 * lr)
        else:  # the jump back to the peak: Levanter's first update of a cycle has the peak, lrsched's the end
            diff = np.flatnonzero(np.abs(native - got) > 1e-15 * lr) + 1  # the updates t where they differ
            assert set(diff) <= {e + 1 for e in ends[:-1]} and len(diff) > 0
            jumps += 1
    assert 0 < jumps < len(LEVANTER_CASES)  # both kinds of case were met


def test_wsd_s_reads_levanters_fractions_per_cycle():
    # cycles of 1000 and 3000 updates: decay 0.2 is 200 then 600 updates; rewarmup 0.05 of 3000 is 150
    s = ls.wsd_s(1.0, [1000, 4000], decay_steps=0.2, warmup_steps=0.01, rewarmup_steps=0.05, fractions=True)
    first, second = s.schedules
    assert first == ls.cooldown(ls.warmup(ls.constant(1.0), steps=10), at=800, steps=200)
    assert second == ls.cooldown(ls.warmup(ls.constant(1.0), steps=150, start=0.0), at=2400, steps=600)
    assert s.boundaries == (1000.0,)
    # rounded down as Levanter's int(): 0.333 of 10 is 3
    assert ls.wsd_s(1.0, [10], decay_steps=1 / 3, fractions=True).at == 7


def test_wsd_s_cycles_rewarm_from_the_end_value():
    peak, low = 1.0, 0.1
    s = ls.wsd_s(peak, [100, 200, 300], decay_steps=40, warmup_steps=10, rewarmup_steps=20, end=low, decay="sqrt")
    t = np.arange(0, 321, dtype=float)
    want = np.empty_like(t)
    for i, x in enumerate(t):
        c = min(max(int(math.ceil(x / 100)) - 1, 0), 2)
        u = x - 100 * c  # time into cycle c, in (0, 100]
        w, a = (10, 0.0) if c == 0 else (20, low)
        if u <= w:
            want[i] = a + (peak - a) * u / w
        elif u <= 60:
            want[i] = peak
        else:
            want[i] = low + (peak - low) * (1 - math.sqrt(min((u - 60) / 40, 1.0)))
    np.testing.assert_allclose(s(t), want, rtol=0, atol=1e-15)
    assert s(100) == s(200) == s(300) == low and s.length() == 300


def test_wsd_s_round_trips_and_binds():
    s = ls.wsd_s(0.1, [500, 1200], decay_steps=0.25, warmup_steps=0.02, rewarmup_steps=0.1, decay="exponential",
                 end_ratio=0.05, fractions=True, zero_based=True)  # fmt: skip
    for back in (ls.parse(repr(s)), ls.from_dict(s.to_dict()), ls.from_json(s.to_json())):
        assert back == s
    np.testing.assert_array_equal(s(np.arange(1300.0)), [s(float(t)) for t in range(1300)])
    r = ls.wsd_s(0.1, [500, 1200], decay_steps=0.2 * ls.total, warmup_steps=10)
    assert (
        isinstance(r, ls.Schedule)
        and repr(r) == "wsd_s(0.1, cycle_ends=[500, 1200], decay_steps=0.2 * total, warmup_steps=10)"
    )
    assert ls.parse(repr(r)) == r
    assert r.bind(total=1000) == ls.wsd_s(0.1, [500, 1200], decay_steps=200, warmup_steps=10)


def test_wsd_s_in_configs_and_with_symbolic_cycle_ends():
    cfg = {"type": "wsd_s", "peak": 0.1, "cycle_ends": [500, "total"], "decay_steps": 0.3, "fractions": True}
    assert ls.from_dict(cfg).bind(total=1200) == ls.wsd_s(0.1, [500, 1200], decay_steps=0.3, fractions=True)
    r = ls.wsd_s(0.1, [0.5 * ls.total, ls.total], decay_steps=0.2 * ls.total, rewarmup_steps=0.01 * ls.total)
    assert ls.from_dict(r.to_dict()) == r and ls.parse(repr(r)) == r
    assert r.bind(total=1000) == ls.wsd_s(0.1, [500, 1000], decay_steps=200, rewarmup_steps=10)


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (lambda: ls.wsd_s(1.0, []), ValueError, "^cycle_ends must not be empty"),
        (lambda: ls.wsd_s(1.0, 100), TypeError, "^cycle_ends must be a list of numbers, got 100"),
        (lambda: ls.wsd_s(1.0, [100, 50]), ValueError, "^cycle_ends must be strictly increasing"),
        (lambda: ls.wsd_s(1.0, [0, 50]), ValueError, r"^cycle_ends\[0\] must be > 0"),
        (lambda: ls.wsd_s(1.0, [100], decay_steps=0), ValueError, "^decay_steps must be > 0, got 0"),
        (
            lambda: ls.wsd_s(1.0, [100], decay_steps=1.5, fractions=True),
            ValueError,
            r"^decay_steps must be in \[0, 1\]",
        ),
        (lambda: ls.wsd_s(1.0, [100], warmup_steps=-1), ValueError, "^warmup_steps must be >= 0, got -1"),
        (lambda: ls.wsd_s(1.0, [100], rewarmup_steps=math.nan), ValueError, "^rewarmup_steps must be"),
        (lambda: ls.wsd_s(1.0, [100], fractions=1), TypeError, "^fractions must be True or False, got 1"),
        (
            lambda: ls.wsd_s(1.0, [100, 130], decay_steps=20, warmup_steps=10, rewarmup_steps=15),
            ValueError,
            r"^cycle 1 \(t = 100 \.\. 130, 30 updates\): rewarmup_steps=15 \(15 updates\) and decay_steps=20 \(20\)",
        ),
        (
            lambda: ls.wsd_s(1.0, [100, 105], decay_steps=0.1, fractions=True),
            ValueError,
            r"^cycle 1 \(t = 100 \.\. 105, 5 updates\) has no decay: decay_steps=0.1 gives it 0 updates",
        ),
        (
            lambda: ls.wsd_s(1.0, [100], warmup_steps=100),
            ValueError,
            "^cycle 0 .* has no decay: warmup_steps=100 takes",
        ),
    ],
)
def test_wsd_s_refuses_by_name(build, error, message):
    with pytest.raises(error, match=message):
        build()


# ------------------------------------------------------------------ D2Z


def test_d2z_is_the_papers_linear_decay_to_zero():
    """Bergsma et al. 2025: lr = peak * t / W in the warmup, then peak * (N - t) / (N - W) down to 0 at N."""
    peak, n, w = 6e-4, 5000, 250
    t = np.arange(0, 5201, dtype=float)
    want = np.where(t <= w, peak * t / w, peak * (n - np.minimum(t, n)) / (n - w))
    np.testing.assert_allclose(ls.d2z(peak, n, w)(t), want, rtol=0, atol=1e-15 * peak)
    np.testing.assert_allclose(ls.d2z(peak, n)(t), peak * (n - np.minimum(t, n)) / n, rtol=0, atol=1e-15 * peak)
    assert ls.d2z(peak, n, w)(n) == 0.0 and ls.d2z(peak, n, w).length() == n
    r = ls.d2z(peak, ls.total, warmup_steps=0.05 * ls.total)
    assert ls.parse(repr(r)) == r and ls.from_dict(r.to_dict()) == r and r.bind(total=n) == ls.d2z(peak, n, w)
    with pytest.raises(ValueError, match="^warmup_steps=100.0 must be less than steps=100.0"):
        ls.d2z(1.0, 100, 100)
