"""optax, transformers and Keras mirrors against golden values from the real packages
(tests/golden/make_peers.py; optax and Keras computed in float64)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import lrsched.keras as lk
import lrsched.optax as lo
import lrsched.timm as tm
import lrsched.transformers as lh

from .test_combinators import _keras_restarts  # Keras's formula written out, shared

GOLDEN = json.loads((Path(__file__).parent / "data" / "peers_golden.json").read_text())


def _optax(name, kwargs):
    kwargs = dict(kwargs)
    if "boundaries_and_scales" in kwargs:
        kwargs["boundaries_and_scales"] = {int(k): x for k, x in kwargs["boundaries_and_scales"].items()}
    if name == "join_schedules":
        kwargs["schedules"] = [_optax(n, kw) for n, kw in kwargs["schedules"]]
    return getattr(lo, name)(**kwargs)


def check(got, want, atol_scale=0.0, rtol=1e-12):
    want = np.asarray(want, dtype=float)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol_scale * np.nanmax(np.abs(want)))


@pytest.mark.parametrize("case", GOLDEN["optax"], ids=lambda c: f"{c['name']}{c['kwargs']}")
def test_optax(case):
    s = _optax(case["name"], case["kwargs"])
    got = s.values(len(case["lr"]))
    want = np.asarray(case["lr"], dtype=float)
    # optax under jit divides by T as a multiplication by 1/T, so 1 - count / T can come out a hair
    # below 0 at the end of a transition: ~1e-17 absolute, and NaN for a fractional power (its
    # pow of a negative number). lrsched holds the end value there.
    nan = np.isnan(want)
    if nan.any():
        assert case["name"] == "polynomial_schedule" and case["kwargs"]["power"] % 1
        np.testing.assert_array_equal(got[nan], case["kwargs"]["end_value"])
    check(got[~nan], want[~nan], 1e-15)


def test_every_optax_schedule_is_covered():
    assert {c["name"] for c in GOLDEN["optax"]} == set(lo.mirrors.__all__)


# HF computes 0.5 * (1 - cos) and 1 - sqrt near 0, where its own rounding is ~1e-16 absolute
ABSOLUTE = {"get_cosine_with_hard_restarts_schedule_with_warmup", "get_wsd_schedule", "get_cosine_schedule_with_warmup"}


@pytest.mark.parametrize("case", GOLDEN["transformers"], ids=lambda c: f"{c['name']}{c['kwargs']}")
def test_transformers(case):
    s = getattr(lh, case["name"])(case["base_lr"], **case["kwargs"])
    check(s.values(len(case["lr"])), case["lr"], 1e-15 if case["name"] in ABSOLUTE else 0.0)


def test_every_transformers_schedule_is_covered():
    assert {c["name"] for c in GOLDEN["transformers"]} == set(lh.__all__) - {"get_reduce_on_plateau_schedule"}


@pytest.mark.parametrize("case", GOLDEN["keras"], ids=lambda c: f"{c['name']}{c['kwargs']}")
def test_keras(case):
    s = getattr(lk, case["name"])(**case["kwargs"])
    if case["name"].startswith("CosineDecay"):
        # Keras takes the cosine in float32 even from float64 inputs (jax backend, x64 on):
        # float32 rounding, ~1e-7 of the peak; restarts land on the same steps
        check(s.values(len(case["lr"])), case["lr"], 1e-6, rtol=0)
    else:
        check(s.values(len(case["lr"])), case["lr"])


def test_every_keras_schedule_is_covered():
    assert {c["name"] for c in GOLDEN["keras"]} == set(lk.mirrors.__all__)


def test_index_conventions_differ_as_documented():
    # optax switches a piecewise value at count == boundary, Keras one step later
    o = lo.piecewise_constant_schedule(1.0, {2: 0.5})
    k = lk.PiecewiseConstantDecay([2], [1.0, 0.5])
    assert (o(3), k(3), k(4)) == (0.5, 1.0, 0.5)
    # HF's warmup spends its first update at lr = 0
    assert lh.get_constant_schedule_with_warmup(0.1, 10)(1) == 0.0


@pytest.mark.parametrize("case", GOLDEN["timm"], ids=lambda c: f"{c['name']}{c['kwargs']}")
def test_timm(case):
    import lrsched.timm as lt

    s = getattr(lt, case["name"])(case["base_lr"], **case["kwargs"])
    check(s.values(len(case["lr"])), case["lr"], 1e-15)


def test_every_timm_scheduler_is_covered():
    import lrsched.timm as lt

    assert {c["name"] for c in GOLDEN["timm"]} == set(lt.__all__)


def test_timm_noise_draws_what_torch_draws():
    torch = pytest.importorskip("torch", reason="installed by the README test command")
    from lrsched.timm import _TorchCPUGenerator

    for seed in [0, 1, 7, 42, 2**31 + 5]:
        g = torch.Generator()
        g.manual_seed(seed)
        mine = _TorchCPUGenerator(seed)
        for _ in range(5):
            assert torch.randn(1, generator=g).item() == mine.randn()
        g.manual_seed(seed)
        assert torch.rand(1, generator=g).item() == _TorchCPUGenerator(seed).rand()


def test_timm_noise_as_timm_draws_it_whatever_noise_std():
    """timm 1.x's _add_noise, written out with real torch: noise_std is never read."""
    torch = pytest.importorskip("torch", reason="installed by the README test command")

    def timm_noise(u, pct, seed):
        g = torch.Generator()
        g.manual_seed(seed + u)
        while True:
            n = torch.randn(1, generator=g).item()
            if abs(n) < pct:
                return n

    for std in (0.5, 1.0, 3.0):
        s = tm.CosineLRScheduler(1.0, t_initial=100, noise_range_t=0, noise_pct=0.67, noise_std=std, noise_seed=42)
        plain = tm.CosineLRScheduler(1.0, t_initial=100)
        for t in range(2, 40):
            want = plain(t) * (1 + timm_noise(t - 1, 0.67, 42))
            assert s(t) == pytest.approx(want, rel=1e-15), (std, t)
    assert tm.CosineLRScheduler(1.0, t_initial=100, noise_range_t=0, noise_std=0.5)(3) == pytest.approx(
        1.0579, abs=1e-4
    )  # the figure: timm gives 1.0579 at t = 3 (1.0285 was noise_std applied)


def test_timm_noise_pct_that_would_spin_is_refused():
    with pytest.raises(ValueError, match="noise_pct must be >= 0.0001"):
        tm.CosineLRScheduler(1.0, t_initial=10, noise_range_t=0, noise_pct=1e-9)
    assert tm.CosineLRScheduler(1.0, t_initial=10, noise_range_t=0, noise_pct=1e-9, noise_type="uniform")(3) > 0


@pytest.mark.parametrize("mirror", [tm.CosineLRScheduler, tm.PolyLRScheduler, tm.TanhLRScheduler])
def test_timm_noise_arguments_are_checked_the_same_way_with_the_noise_off(mirror):
    # every parameter is checked, used or not: noise_pct is held to normal noise's minimum whenever
    # noise_type is "normal", whether noise_range_t turns the noise on or not
    for noise_range_t in (None, 0):
        with pytest.raises(ValueError, match="noise_pct must be >= 0.0001 for normal noise, got 1e-320"):
            mirror(1.0, 10, noise_range_t=noise_range_t, noise_pct=1e-320)
        with pytest.raises(TypeError, match="noise_seed must be an integer, got 'x'"):
            mirror(1.0, 10, noise_range_t=noise_range_t, noise_seed="x")
        with pytest.raises(ValueError, match="noise_std must be > 0, got 0"):
            mirror(1.0, 10, noise_range_t=noise_range_t, noise_std=0)
        mirror(1.0, 10, noise_range_t=noise_range_t, noise_pct=1e-320, noise_type="uniform")  # no redraw loop
    off = mirror(1.0, 10, noise_pct=0.5, noise_std=2.0, noise_seed=7)
    assert off == mirror(1.0, 10)  # with the noise off, the noise arguments change nothing
    with pytest.raises(TypeError, match="warmup_lr_init must be a real number, got 'x'"):
        mirror(1.0, 10, warmup_lr_init="x")  # checked without a warmup too


def _timm_cosine(u, base, t_initial, cycle_mul, cycle_limit, lr_min=0.0):
    """timm's CosineLRScheduler._get_lr(u), written out in float64 with timm's own arithmetic (math.log)."""
    if cycle_mul != 1:
        x = 1 - u / t_initial * (1 - cycle_mul)
        if x <= 0:
            return lr_min  # timm's log fails here; past every cycle, so lr_min as after the limit
        i = math.floor(math.log(x, cycle_mul))
        t_i = cycle_mul**i * t_initial
        t_curr = u - (1 - cycle_mul**i) / (1 - cycle_mul) * t_initial
    else:
        i = u // t_initial
        t_i = t_initial
        t_curr = u - (t_initial * i)
    if i < cycle_limit:
        return lr_min + 0.5 * (base - lr_min) * (1 + math.cos(math.pi * t_curr / t_i))
    return lr_min


@pytest.mark.slow
def test_timm_cycles_end_and_restart_where_timms_arithmetic_says_over_the_whole_grid():
    """t_initial 1..60, cycle_mul in {0.9, 1.1, 1.2, 1.5, 2}, cycle_limit 1..6: every epoch to the limit and past."""
    import lrsched.timm as lt

    wrong = []
    for t0 in range(1, 61):
        for mul in (0.9, 1.1, 1.2, 1.5, 2.0):
            for limit in range(1, 7):
                s = lt.CosineLRScheduler(0.1, t_initial=t0, cycle_mul=mul, cycle_limit=limit, lr_min=1e-4)
                n = int(t0 * sum(mul**i for i in range(limit))) + 5
                got = s.values(n)
                want = np.array([_timm_cosine(u, 0.1, t0, mul, limit, 1e-4) for u in range(n)])
                bad = np.flatnonzero(~np.isclose(got, want, rtol=1e-12, atol=1e-15))
                if bad.size:
                    wrong.append((t0, mul, limit, int(bad[0]) + 1, got[bad[0]], want[bad[0]]))
    assert not wrong, f"{len(wrong)} configs differ, e.g. {wrong[:3]}"


def test_timm_keeps_the_last_update_of_its_last_cycle():
    import lrsched.timm as lt

    s = lt.CosineLRScheduler(0.1, t_initial=30, cycle_mul=1.1, cycle_limit=5)
    assert s(184) == pytest.approx(_timm_cosine(183, 0.1, 30, 1.1, 5), rel=1e-12)  # the last cycle ends at 183.153
    assert s(184) > 0 and s(185) == 0.0
    s = lt.CosineLRScheduler(0.1, t_initial=10, cycle_mul=0.9, cycle_limit=3)
    assert s(20) == _timm_cosine(19, 0.1, 10, 0.9, 3) == 0.0  # timm's log puts epoch 19 at the end of cycle 1


@pytest.mark.slow
def test_keras_restarts_where_its_own_arithmetic_says_over_a_grid():
    """first_decay_steps 10..60, t_mul in {0.9, 1.1, 1.2, 1.5, 2}: every step over 12 first cycles (or to the end)."""
    wrong = []
    for first in range(10, 61):
        for t_mul in (0.9, 1.1, 1.2, 1.5, 2.0):
            s = lk.CosineDecayRestarts(0.1, first, t_mul=t_mul, m_mul=0.8, alpha=0.01)
            n = first * 12 if t_mul >= 1 else int(first / (1 - t_mul)) - 1
            got = s.values(n)
            want = np.array([_keras_restarts(k, 0.1, first, t_mul, 0.8, 0.01) for k in range(n)])
            bad = np.flatnonzero(~(np.isnan(want) | np.isclose(got, want, rtol=1e-12, atol=1e-15)))
            if bad.size:
                wrong.append((first, t_mul, int(bad[0]) + 1, got[bad[0]], want[bad[0]]))
    assert not wrong, f"{len(wrong)} configs differ, e.g. {wrong[:3]}"
    # the example: Keras's log puts step 19 of (10, t_mul=0.9) at the end of cycle 1, not at a restart
    assert lk.CosineDecayRestarts(0.1, 10, t_mul=0.9, alpha=0.01)(20) == pytest.approx(0.001, rel=1e-12)
