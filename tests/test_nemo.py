"""lrsched.nemo against golden values from NeMo's own lr_scheduler.py (tests/golden/make_nemo.py runs it, driven
as torch drives a scheduler), and lrsched.nemo.from_config."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import lrsched.nemo as nm

GOLDEN = json.loads((Path(__file__).parent / "data" / "nemo_golden.json").read_text())

#: NeMo's arithmetic kept to the bit; the others take a square root or a power another way (1 / sqrt(1 + x / c)
#: for (s / c) ** -0.5, (1 - x / D) ** 0.5 for ((D - x) / D) ** 0.5)
EXACT = {
    "CosineAnnealing",
    "NoamHoldAnnealing",
    "PolynomialDecayAnnealing",
    "PolynomialHoldDecayAnnealing",
    "SquareAnnealing",
    "T5InverseSquareRootAnnealing",
    "WarmupAnnealing",
    "WarmupHoldAnnealLinear",
    "WarmupHoldAnnealOneMinusSquareRoot",
    "WarmupHoldPolicy",
    "WarmupPolicy",
}


def test_every_case_agrees_with_nemo():
    worst = {}
    for case in GOLDEN["cases"]:
        want = np.asarray(case["values"])
        got = getattr(nm, case["name"])(case["lr"], **case["kwargs"]).values(len(want))
        label = f"{case['name']}({case['kwargs']})"
        if case["name"] in EXACT:
            np.testing.assert_array_equal(got, want, err_msg=label)
        else:
            np.testing.assert_allclose(got, want, rtol=0, atol=3e-16 * want.max(), err_msg=label)
        worst[case["name"]] = max(worst.get(case["name"], 0.0), float(np.abs(got - want).max() / want.max()))
    assert max(worst.values()) <= 2.3e-16, worst  # a few ulps of the peak at most


def test_every_nemo_scheduler_is_covered():
    assert {c["name"] for c in GOLDEN["cases"]} == set(nm.__all__) - {"from_config"}


def test_nemos_quirks():
    s = nm.WarmupPolicy(1.0, warmup_steps=9, max_steps=100)
    assert s(10) == 1.0 and s(9) == 0.9  # lr (s + 1) / (W + 1): the peak at t = W + 1
    s = nm.CosineAnnealing(1.0, max_steps=100, warmup_steps=10, constant_steps=20)
    assert s(1) == 0.0 and s(11) == 1.0 and s(82) == 0.0  # the Megatron-style path: s / W, min_lr from M - C on
    s = nm.SquareRootAnnealing(1.0, max_steps=100, warmup_steps=50)
    assert s(51) == 1.0 and s(52) == pytest.approx((49 / 100) ** 0.5)  # decays from s = 0: a drop after warmup
    s = nm.NoamAnnealing(1.0, d_model=64, warmup_steps=10)
    assert s(1) == s(2) and s(3) > s(2)  # step = max(1, t - 1)
    s = nm.PolynomialHoldDecayAnnealing(1.0, max_steps=20, warmup_steps=5)
    assert s(16) == 0.0 and s(7) == pytest.approx(1 - 6 / 15)  # no hold: x = s, D = M - W, min_lr at s = 15


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: nm.WarmupAnnealing(1.0, max_steps=None), "max_steps is needed"),
        (
            lambda: nm.WarmupAnnealing(1.0, max_steps=10, warmup_steps=2, warmup_ratio=0.1),
            "give warmup_steps or warmup_ratio, not both",
        ),
        (lambda: nm.WarmupPolicy(1.0, warmup_ratio=0.1), "warmup_ratio=0.1 needs max_steps"),
        (lambda: nm.WarmupAnnealing(1.0, max_steps=10, warmup_steps=2.5), "warmup_steps must be an integer, got 2.5"),
        (lambda: nm.WarmupAnnealing("x", max_steps=10), "lr must be a real number, got 'x'"),
        (lambda: nm.CosineAnnealing(1e-5, max_steps=10, min_lr=1e-4), "lr must be >= min_lr"),
        (lambda: nm.CosineAnnealing(1.0, max_steps=10, min_lr=1.0, constant_steps=2), "lr must exceed min_lr"),
        (lambda: nm.NoamAnnealing(1.0, d_model=0), "d_model must be > 0, got 0"),
        (lambda: nm.NoamHoldAnnealing(1.0, max_steps=10), "needs a warmup of > 0 steps"),
        (lambda: nm.NoamHoldAnnealing(1.0, max_steps=10, warmup_steps=2, decay_rate=-1), "decay_rate must be >= 0"),
        (lambda: nm.T5InverseSquareRootAnnealing(1.0, max_steps=10), "constant_steps must be > 0, got None"),
        (lambda: nm.PolynomialDecayAnnealing(1.0, max_steps=10, power=0), "power must be > 0, got 0"),
        (lambda: nm.PolynomialDecayAnnealing(1.0, max_steps=10, cycle=1), "cycle must be True or False, got 1"),
        (
            lambda: nm.PolynomialHoldDecayAnnealing(1.0, max_steps=10, warmup_steps=2, cycle=True),
            "cycle=True with a warmup and no hold",
        ),
    ],
)
def test_bad_arguments_are_refused_by_name(make, message):
    with pytest.raises((TypeError, ValueError), match=message):
        make()


def test_from_config_reads_a_sched_block():
    sched = {"name": "CosineAnnealing", "warmup_ratio": 0.1, "min_lr": 1e-5, "t_max_epochs": 3, "monitor": "val"}
    want = nm.CosineAnnealing(1e-3, max_steps=500, warmup_ratio=0.1, min_lr=1e-5)
    assert nm.from_config(sched, lr=1e-3, max_steps=500) == {"lr": want}
    assert nm.from_config({**sched, "max_steps": 500}, lr=1e-3, max_steps=9) == {"lr": want}  # the block's wins
    legacy = {"name": "WarmupAnnealing", "max_steps": 100, "args": {"warmup_steps": 10}}
    assert nm.from_config(legacy, lr=0.1)["lr"] == nm.WarmupAnnealing(0.1, max_steps=100, warmup_steps=10)
    # NeMo 2's default: constant_steps taken as given, NoamAnnealing reads max_steps too
    noam = nm.from_config({"name": "NoamAnnealing", "d_model": 512, "warmup_steps": 4000}, lr=1.0, max_steps=10**5)
    assert noam["lr"] == nm.NoamAnnealing(1.0, d_model=512, warmup_steps=4000, max_steps=10**5)


@pytest.mark.parametrize(
    ("sched", "message"),
    [
        ({"name": "CosineAnealing"}, "sched.name='CosineAnealing' .*did you mean 'CosineAnnealing'"),
        ({"name": "StepLR"}, "torch's own scheduler: use lrsched.torch.step_lr"),
        (
            {"name": "CosineAnnealing", "warmup_step": 3},
            "sched.warmup_step is not an argument of CosineAnnealing; did you mean 'warmup_steps'",
        ),
        ({"name": "CosineAnnealing", "max_steps": -1}, "max_steps=-1: NeMo builds no scheduler"),
        ({"name": "WarmupAnnealing"}, "sched.max_steps is missing"),
        (
            {"name": "WarmupAnnealing", "max_steps": 10, "warmup_ratio": "x"},
            "sched \\(WarmupAnnealing\\): warmup_ratio must be a real number",
        ),
        ([1, 2], "sched must be a mapping"),
    ],
)
def test_from_config_refuses_by_key(sched, message):
    with pytest.raises((TypeError, ValueError), match=message):
        nm.from_config(sched, lr=0.1)


def test_from_config_reads_an_omegaconf_block():
    omegaconf = pytest.importorskip("omegaconf", reason="installed by the README test command (config extra)")
    block = omegaconf.OmegaConf.create({"name": "WarmupHoldPolicy", "warmup_steps": 2, "hold_steps": 3, "max_steps": 9})
    assert nm.from_config(block, lr=0.1)["lr"] == nm.WarmupHoldPolicy(0.1, warmup_steps=2, hold_steps=3, max_steps=9)


def test_from_config_refuses_hostile_input_by_name():
    deep: list = []
    for _ in range(5000):
        deep = [deep]
    names = r"\(the names are CosineAnnealing, "
    cases = [
        (
            {"name": ["CosineAnnealing"]},
            TypeError,
            rf"^sched.name must be the name of a NeMo scheduler {names}.*\['Cos",
        ),
        ({"name": {"CosineAnnealing": 1}}, TypeError, "^sched.name must be the name of a NeMo scheduler .*got {'Cos"),
        ({"name": np.array([1, 2])}, TypeError, r"^sched.name must be the name .*, got array\(\[1, 2\]\)$"),
        ({"name": deep}, TypeError, "^sched.name must be the name .*, got <a list nested too deeply to show>$"),
        ({}, ValueError, f"^sched.name is missing {names}"),
        (
            {"name": "CosineAnnealing", 10**5000: 1},
            TypeError,
            "^sched has a key that is not a string: <an int of 16610",
        ),
        (
            {"name": "CosineAnnealing", "max_steps": np.array([1, 2])},
            TypeError,
            r"^sched.max_steps must be an integer, got array\(\[1, 2\]\)$",
        ),
        ({"name": "CosineAnnealing", "max_steps": np.int64(-1)}, ValueError, "max_steps=-1: NeMo builds no scheduler"),
    ]
    for sched, error, message in cases:
        with pytest.raises(error, match=message):
            nm.from_config(sched, lr=0.1)
    with pytest.raises(TypeError, match=r"^sched.max_steps must be an integer, got array\(\[1, 2\]\)$"):
        nm.from_config({"name": "CosineAnnealing"}, lr=0.1, max_steps=np.array([1, 2]))
