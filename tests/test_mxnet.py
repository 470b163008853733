"""MXNet parity against golden values written by real MXNet 1.9.1
(tests/golden/make_mxnet.py; MXNet needs numpy < 1.24, so it runs in its own venv)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import lrsched as ls
import lrsched.mxnet as lm

GOLDEN = json.loads((Path(__file__).parent / "data" / "mxnet_golden.json").read_text())

MIRRORS = {
    "FactorScheduler": lm.factor_scheduler,
    "MultiFactorScheduler": lm.multi_factor_scheduler,
    "PolyScheduler": lm.poly_scheduler,
    "CosineScheduler": lm.cosine_scheduler,
}


@pytest.mark.parametrize("case", GOLDEN["schedulers"], ids=lambda c: f"{c['class']}{c['kwargs']}")
def test_mirror_matches_mxnet_called_in_order(case):
    s = MIRRORS[case["class"]](**case["kwargs"])
    t = np.array(case["t"], dtype=float)
    want = np.array(case["lr"])
    got = s(t)
    # MXNet's FactorScheduler and MultiFactorScheduler multiply step by step; the mirrors
    # take the power: a few ulps per decay. Poly and Cosine agree to the bit, except at
    # the decay's first update (t = warmup_steps), where MXNet computes final + (base - final)
    # and lrsched gives base itself: at most one ulp apart.
    if case["class"] in ("PolyScheduler", "CosineScheduler"):
        differ = got != want
        assert set(t[differ]) <= {case["kwargs"].get("warmup_steps", 0)}
        np.testing.assert_array_max_ulp(got[differ], want[differ], maxulp=1)
    else:
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)
    # and the mirror is stateless: any order, any t
    rng = np.random.default_rng(0)
    order = rng.permutation(t.size)
    np.testing.assert_array_equal(s(t[order]), got[order])


def test_every_mxnet_scheduler_is_covered():
    assert {c["class"] for c in GOLDEN["schedulers"]} == set(MIRRORS)


def test_mxnet_quirks_are_not_reproduced_by_the_stateless_adapter():
    # MXNet: FactorScheduler called at 600 then at 1 answers 0.25 both times
    assert GOLDEN["quirks"]["factor_600_then_1"] == [0.25, 0.25]
    s = lm.scheduler(lm.factor_scheduler(step=250, factor=0.5, base_lr=1.0))
    assert (s(600), s(1)) == (0.25, 1.0)
    # MXNet: a fresh PolyScheduler asked at 1500 > max_update answers base_lr
    assert GOLDEN["quirks"]["poly_fresh_at_1500"] == 0.1
    assert lm.poly_scheduler(max_update=1000, base_lr=0.1, pwr=2)(1500) == 0.0


def test_own_factor_scheduler_in_sgd_applies_its_values():
    # the protocol the adapter relies on: the k-th update applies scheduler(num_update = k), as float32
    want = lm.factor_scheduler(step=250, factor=0.5, base_lr=0.1).values(600)
    np.testing.assert_allclose(GOLDEN["quirks"]["factor_in_sgd_applied"], np.float32(want), rtol=0, atol=0)


@pytest.mark.parametrize("case", GOLDEN["adapter"], ids=lambda c: c["schedule"]["schedule"]["type"])
def test_adapter_inside_real_mxnet_sgd(case):
    s = ls.from_dict(case["schedule"])
    n = len(case["absolute"])
    # MXNet's sgd_update takes lr as a float32 attribute: the applied lr is float32(schedule(k))
    np.testing.assert_array_equal(case["absolute"], np.float32(s.values(n)).astype(float))
    np.testing.assert_array_equal(case["relative_lr_2"], np.float32(2.0 * s.values(n)).astype(float))
    # begin_num_update=500 (a resumed run) continues with t = 501, 502, ...
    resumed = s(np.arange(501, 501 + len(case["resumed_after_500"])))
    np.testing.assert_array_equal(case["resumed_after_500"], np.float32(resumed).astype(float))


def test_adapter_protocol():
    s = ls.cosine(0.1, 0.0, steps=100)
    a = lm.scheduler(s)
    assert a(1) == s(1)
    assert a(np.int64(50)) == s(50)
    r = lm.scheduler(s, relative=True)
    with pytest.raises(RuntimeError, match="relative=True needs base_lr"):
        r(1)
    r.base_lr = 2.0  # what MXNet's optimizer does with its learning_rate
    assert r(10) == 2.0 * s(10)
    with pytest.raises(TypeError, match="lrsched schedule"):
        lm.scheduler(lambda t: 0.1)
    with pytest.raises(ValueError, match="t must be finite and >= 0"):
        a(-1)
    assert "relative=True" in repr(r)


def _deep() -> list:
    """A list nested 5000 deep: its repr raises RecursionError."""
    deep: list = []
    for _ in range(5000):
        deep = [deep]
    return deep


def test_adapter_checks_base_lr_where_it_is_given_and_where_mxnet_sets_it():
    # MXNet's own schedulers refuse a base_lr below warmup_begin_lr (0 by default): so does the adapter
    s = ls.linear(0.1, 0.0, 10)
    for bad, error, message in [
        (-1, ValueError, "^base_lr must be >= 0, got -1$"),
        (float("nan"), ValueError, "^base_lr must be finite, got nan$"),
        (math.inf, ValueError, "^base_lr must be finite, got inf$"),
        ("0.1", TypeError, "^base_lr must be a real number, got '0.1'$"),
        (np.array([1.0, 2.0]), TypeError, r"^base_lr must be a real number, got array\(\[1., 2.\]\)$"),
    ]:
        with pytest.raises(error, match=message):
            lm.scheduler(s, relative=True, base_lr=bad)
        r = lm.scheduler(s, relative=True)
        r.base_lr = bad  # as MXNet's optimizer sets it, from its learning_rate
        with pytest.raises(error, match=message):
            r(3)
    r = lm.scheduler(s, relative=True, base_lr=0)
    assert r(3) == 0.0
    r.base_lr = np.float32(2.0)
    assert r(3) == pytest.approx(2.0 * 0.1 * (1 - 3 / 10), rel=1e-15)  # linear(0.1, 0.0, 10) at t: 0.1 (1 - t / 10)
    huge = lm.scheduler(ls.constant(10.0), relative=True, base_lr=1e308)
    with pytest.raises(ValueError, match=r"^base_lr=1e\+308 times the schedule's 10.0 at num_update=1 is beyond"):
        huge(1)


def test_adapter_names_a_value_python_cannot_print():
    with pytest.raises(TypeError, match="^schedule must be an lrsched schedule, got <a list nested too deeply"):
        lm.scheduler(_deep())
    r = lm.scheduler(ls.constant(0.1), relative=True)
    r.base_lr = _deep()
    with pytest.raises(TypeError, match="^base_lr must be a real number, got <a list nested too deeply"):
        r(1)
    assert repr(r).endswith("base_lr=<a list nested too deeply to show>)")


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (lambda: lm.factor_scheduler(step=0), ValueError, "step must be >= 1, got 0"),
        (lambda: lm.factor_scheduler(step=10, factor=1.5), ValueError, "factor must be no more than 1"),
        (lambda: lm.factor_scheduler(step=10, warmup_steps=-1), ValueError, "warmup_steps must be >= 0"),
        (
            lambda: lm.factor_scheduler(step=10, warmup_steps=5, warmup_begin_lr=1.0),
            ValueError,
            "must not exceed base_lr",
        ),
        (
            lambda: lm.factor_scheduler(step=10, warmup_steps=5, warmup_mode="cosine"),
            ValueError,
            "warmup_mode must be one of",
        ),
        (lambda: lm.multi_factor_scheduler([20, 10]), ValueError, "step must be strictly increasing"),
        (lambda: lm.multi_factor_scheduler(10), TypeError, "step must be a non-empty list"),
        (lambda: lm.poly_scheduler(max_update=0), ValueError, "max_update must be >= 1"),
        (lambda: lm.poly_scheduler(max_update=10, warmup_steps=10), ValueError, "must exceed warmup_steps"),
        (lambda: lm.cosine_scheduler(max_update=2.5), TypeError, "max_update must be an integer, got 2.5"),
        # each argument named where it is checked, before the step or multistep inside is built from it
        (lambda: lm.factor_scheduler(step=10, factor=0), ValueError, "^factor must be > 0, got 0$"),
        (lambda: lm.factor_scheduler(step=10, base_lr=None), TypeError, "^base_lr must be a real number, got None$"),
        (
            lambda: lm.factor_scheduler(step=10, stop_factor_lr=0.5, base_lr=0.1),
            ValueError,
            r"^stop_factor_lr=0.5 must not exceed base_lr=0.1 \(MXNet would raise the lr to it",
        ),
        (
            lambda: lm.factor_scheduler(step=10, base_lr=-1),
            ValueError,
            "^stop_factor_lr=1e-08 must not exceed base_lr=-1 ",
        ),
        (lambda: lm.multi_factor_scheduler([10], factor=-0.5), ValueError, r"^factor must be > 0, got -0.5$"),
        (lambda: lm.poly_scheduler(max_update=10, pwr=0), ValueError, "^pwr must be > 0, got 0$"),
        (lambda: lm.cosine_scheduler(max_update=10, final_lr="x"), TypeError, "^final_lr must be a real number"),
    ],
)
def test_bad_mxnet_parameters(build, error, message):
    with pytest.raises(error, match=message):
        build()
