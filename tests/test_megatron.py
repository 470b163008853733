"""lrsched.megatron against megatron-core's OptimizerParamScheduler (``pip install megatron-core``), driven as
Megatron-LM's training drives it: ``step(0)`` in its constructor, ``step(increment)`` after each update."""

from __future__ import annotations

import argparse
import itertools
import logging
import warnings

import numpy as np
import pytest

import lrsched as ls
import lrsched.megatron as mg


@pytest.fixture(scope="module")
def peer():
    pytest.importorskip("torch", reason="installed by the README test command")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # without Transformer Engine or Apex, megatron warns on import
        module = pytest.importorskip("megatron.core.optimizer_param_scheduler", reason="pip install megatron-core")
    return module.OptimizerParamScheduler


class _Optimizer:
    """What the scheduler touches of a Megatron optimizer: its param groups."""

    def __init__(self):
        self.param_groups = [{}]


def drive(cls, n: int, increment: int, **kwargs) -> tuple[np.ndarray, np.ndarray]:
    """The lr and weight decay of updates 1 .. n."""
    opt = _Optimizer()
    logging.disable(logging.INFO)
    try:
        s = cls(opt, **kwargs)
        lr, wd = [], []
        for _ in range(n):
            lr.append(opt.param_groups[0]["lr"])
            wd.append(opt.param_groups[0]["weight_decay"])
            s.step(increment)
    finally:
        logging.disable(logging.NOTSET)
    return np.array(lr), np.array(wd)


STYLES = [("constant", None), ("linear", None), ("cosine", None), ("inverse-square-root", None)]
STYLES += [("WSD", x) for x in ("linear", "cosine", "exponential", "minus_sqrt")]


@pytest.mark.slow  # 4.5 s: megatron-core's scheduler over a grid (the quick loop leaves it out)
@pytest.mark.parametrize(("style", "wsd_style"), STYLES)
def test_lr_over_a_grid_of_phases_and_increments(peer, style, wsd_style):
    """Warmup 0, 1, 5, 10 (and a fractional one, as lr_warmup_fraction makes), decay lengths from just past the
    warmup, increments 1 (iterations) and 3, 4 (samples; 3 with durations that are not multiples of it)."""
    worst = 0.0
    for w, d, inc, wsd in itertools.product([0, 1, 5, 10, 2.5], [6, 10, 11, 40], [1, 3, 4], [0, 3, 8, 50]):
        if not w < d or (style != "WSD" and wsd):
            continue
        kw = dict(init_lr=0.01, max_lr=1.0, min_lr=0.1, lr_warmup_steps=w * inc, lr_decay_steps=d * inc + (inc == 3))
        kw.update(lr_decay_style=style, start_wd=0.0, end_wd=0.0, wd_incr_steps=1, wd_incr_style="constant")
        kw.update(wsd_decay_steps=wsd * inc if style == "WSD" else None, lr_wsd_decay_style=wsd_style)
        n = d + 8
        want, _ = drive(peer, n, inc, **kw)
        got = mg.optimizer_param_scheduler(**kw, increment=inc)["lr"].values(n)
        err = np.abs(got - want).max()
        assert err <= 1e-15, (kw, inc, err, np.flatnonzero(np.abs(got - want) > 1e-15)[:3])
        if inc == 1 and float(w).is_integer() and style != "inverse-square-root":
            np.testing.assert_array_equal(got, want)  # to the bit
        worst = max(worst, err)
    assert worst <= 2.3e-16  # a few ulps of the peak 1.0, from the sample clock's stretch


@pytest.mark.parametrize("wsd_style", ["linear", "cosine", "exponential", "minus_sqrt"])
def test_a_realistic_wsd_run_to_the_bit_but_minus_sqrt_within_an_ulp(peer, wsd_style):
    """A run as long as real ones (the grid above is short): the 1 - sqrt anneal takes p**0.5 where Megatron takes
    sqrt(p), which differ in the last bit now and then (at updates 18316 and 19812 here: review)."""
    kw = dict(init_lr=0.0, max_lr=3e-4, min_lr=3e-5, lr_warmup_steps=2000, lr_decay_steps=20_000)
    kw.update(lr_decay_style="WSD", start_wd=0.0, end_wd=0.0, wd_incr_steps=1, wd_incr_style="constant")
    kw.update(wsd_decay_steps=4000, lr_wsd_decay_style=wsd_style)
    want, _ = drive(peer, 20_010, 1, **kw)
    got = mg.optimizer_param_scheduler(**kw)["lr"].values(20_010)
    if wsd_style == "minus_sqrt":
        np.testing.assert_array_less(np.abs(got - want), np.spacing(3e-4) + 1e-30)  # within an ulp of the peak
    else:
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("style", ["linear", "cosine", "constant"])
def test_weight_decay_rises_as_megatrons(peer, style):
    for steps, inc in itertools.product([1, 7, 40], [1, 4]):
        end = 0.0 if style == "constant" else 0.1
        kw = dict(init_lr=0.0, max_lr=1.0, min_lr=0.0, lr_warmup_steps=0, lr_decay_steps=100, lr_decay_style="linear")
        kw.update(start_wd=0.0, end_wd=end, wd_incr_steps=steps * inc, wd_incr_style=style)
        n = steps + 6
        _, want = drive(peer, n, inc, **kw)
        got = mg.optimizer_param_scheduler(**kw, increment=inc)["weight_decay"].values(n)
        # the cosine rises as 1 - h(p), Megatron as h(1 - p): a few ulps apart, < 3e-16 of end_wd
        np.testing.assert_allclose(got, want, rtol=0, atol=3e-17)
        if style == "linear":
            np.testing.assert_array_equal(got, want)


def test_megatrons_quirks():
    s = mg.optimizer_param_scheduler(0.0, 1.0, 0.1, 4, 20, "inverse-square-root")["lr"]
    assert s(5) == 1.0 and s(21) == pytest.approx(np.sqrt(4 / 20)) and s(22) == 0.1  # the cliff after D
    s = mg.optimizer_param_scheduler(0.0, 1.0, 0.1, 0, 4, "WSD", wsd_decay_steps=4, lr_wsd_decay_style="exponential")
    assert s["lr"](5) == 0.1 and s["lr"](3) == 0.1 + 0.9 * (2 * 0.5**0.5 - 1)  # 2 * 0.5^p - 1 reaches 0 at p = 1
    s = mg.optimizer_param_scheduler(0.0, 1.0, 0.1, 2, 4, "constant")["lr"]
    assert s.values(8).tolist() == [0.0, 0.5, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]  # constant ignores D


@pytest.mark.parametrize("wsd_style", ["linear", "cosine", "exponential", "minus_sqrt"])
def test_the_wsd_recipe_and_cooldown_in_megatrons_spelling_are_megatrons_wsd(peer, wsd_style):
    """lrsched.wsd and lrsched.cooldown read Megatron's anneal names (issue 25): with Megatron's clock (iteration
    n = t - 1) they are its WSD, for every lr_wsd_decay_style, the end given as a value or as a ratio of the peak."""
    kw = dict(init_lr=0.01, max_lr=2.0, min_lr=0.2, lr_warmup_steps=10, lr_decay_steps=200, lr_decay_style="WSD")
    kw.update(start_wd=0.0, end_wd=0.0, wd_incr_steps=1, wd_incr_style="constant")
    kw.update(wsd_decay_steps=60, lr_wsd_decay_style=wsd_style)
    want, _ = drive(peer, 230, 1, **kw)
    for s in (
        ls.wsd(2.0, 200, 10, 60, decay=wsd_style, end=0.2, start=0.01),
        ls.wsd(2.0, 200, 10, 60, decay=wsd_style, end_ratio=0.1, start=0.01),
        ls.cooldown(ls.warmup(ls.constant(2.0), steps=10, start=0.01), at=140, steps=60, to=0.2, shape=wsd_style),
    ):
        np.testing.assert_allclose(s.shift(1).values(230), want, rtol=0, atol=1e-15 * 2.0)


def _args(**kw):
    base = dict(lr=0.01, min_lr=0.001, lr_decay_style="linear", global_batch_size=4, train_iters=10)
    base.update(lr_warmup_fraction=0.1, lr_warmup_iters=0, lr_wsd_decay_iters=2, lr_wsd_decay_style="exponential")
    base.update(start_weight_decay=0.0, end_weight_decay=0.1, weight_decay_incr_style="linear", lr_warmup_init=0.0)
    base.update(kw)
    return base


def test_from_args_reads_megatrons_names_as_its_training_does():
    """Megatron-LM's own test of get_optimizer_param_scheduler: iterations 10 x batch 4 with a warmup fraction of
    0.1 give decay 40, warmup 4, WSD 8 samples; 100 train samples with 5 warmup samples give 100 and 5."""
    want = mg.optimizer_param_scheduler(
        0.0, 0.01, 0.001, 4.0, 40, "linear", 0.0, 0.1, 40, "linear", 8, "exponential", 4
    )
    assert mg.from_args(_args()) == mg.from_args(argparse.Namespace(**_args())) == want
    samples = _args(train_iters=None, train_samples=100, lr_warmup_fraction=None, lr_warmup_samples=5)
    samples.update(lr_wsd_decay_samples=20)
    want = mg.optimizer_param_scheduler(
        0.0, 0.01, 0.001, 5, 100, "linear", 0.0, 0.1, 100, "linear", 20, "exponential", 4
    )
    assert mg.from_args(samples) == want
    assert mg.from_args({**samples, "train_iters": 0}) == want  # Megatron's `if args.train_iters:`: 0 is not given
    constant = _args(
        weight_decay_incr_style="constant", start_weight_decay=None, end_weight_decay=None, weight_decay=0.05
    )
    assert mg.from_args(constant)["weight_decay"](1) == 0.05  # Megatron's validate_args copies weight_decay


def test_from_args_drives_like_the_real_scheduler(peer):
    args = _args(lr_decay_style="cosine", lr_warmup_fraction=None, lr_warmup_iters=3, train_iters=20)
    got = mg.from_args(args)
    want_lr, want_wd = drive(peer, 25, 4, init_lr=0.0, max_lr=0.01, min_lr=0.001, lr_warmup_steps=12,
                             lr_decay_steps=80, lr_decay_style="cosine", start_wd=0.0, end_wd=0.1, wd_incr_steps=80,
                             wd_incr_style="linear")  # fmt: skip
    np.testing.assert_array_equal(got["lr"].values(25), want_lr)
    np.testing.assert_allclose(got["weight_decay"].values(25), want_wd, rtol=1e-15)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(min_lr=-0.1), "min_lr must be >= 0, got -0.1"),
        (dict(max_lr=0.05), "max_lr=0.05 must be >= min_lr=0.1"),
        (dict(init_lr=2.0), "init_lr=2.0 must be <= max_lr=1.0"),
        (dict(lr_warmup_steps=10), "lr_warmup_steps=10 must be < lr_decay_steps=10"),
        (dict(lr_decay_steps=0), "lr_decay_steps must be > 0, got 0"),
        (dict(lr_decay_style="cos"), "lr_decay_style must be one of"),
        (dict(lr_decay_style="WSD"), "lr_decay_style='WSD' needs wsd_decay_steps"),
        (dict(lr_decay_style="WSD", wsd_decay_steps=2), "needs lr_wsd_decay_style"),
        (dict(lr_wsd_decay_style="exp"), "lr_wsd_decay_style must be one of"),
        (dict(end_wd=0.1), "wd_incr_style='constant' needs start_wd == end_wd"),
        (dict(end_wd=-1.0), "end_wd=-1.0 must be >= start_wd=0.0"),
        (dict(wd_incr_style="linear", end_wd=0.1), "wd_incr_style='linear' needs wd_incr_steps"),
        (dict(increment=0), "increment must be >= 1, got 0"),
        (dict(lr_warmup_steps="3"), "lr_warmup_steps must be a real number, got '3'"),
    ],
)
def test_bad_arguments_are_refused_by_name(kwargs, message):
    base = dict(init_lr=0.0, max_lr=1.0, min_lr=0.1, lr_warmup_steps=2, lr_decay_steps=10, lr_decay_style="linear")
    with pytest.raises((TypeError, ValueError), match=message):
        mg.optimizer_param_scheduler(**{**base, **kwargs})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (dict(train_iters=None), "args.train_iters or args.train_samples"),
        (dict(global_batch_size=None), "args.global_batch_size must be an integer, got None"),
        (dict(lr_warmup_fraction=1.5), "args.lr_warmup_fraction must be in \\[0, 1\\], got 1.5"),
        (dict(lr_decay_iters=2.5), "args.lr_decay_iters must be an integer, got 2.5"),
        (dict(lr="x"), "args.lr must be a real number, got 'x'"),
        (dict(lr_decay_style="poly"), "args.lr_decay_style must be one of"),
        # Megatron tests train_iters and train_samples by truth: an array has none
        (dict(train_iters=np.array([1, 2])), r"^args.train_iters must be an integer, got array\(\[1, 2\]\)$"),
        (dict(train_iters=None, train_samples=np.array([1, 2])), r"^args.train_samples must be an integer, got array"),
        (dict(train_iters=-5), "^args.train_iters must be >= 0, got -5$"),
    ],
)
def test_from_args_refuses_by_key(changes, message):
    with pytest.raises((TypeError, ValueError), match=message):
        mg.from_args(_args(**changes))
    args = _args()
    del args["lr"]
    with pytest.raises(ValueError, match="args.lr is missing"):
        mg.from_args(args)


def test_the_sample_clock_under_a_batch_ramp_up_is_megatrons(peer):
    """issue 27: Megatron-LM's --rampup-batch-size grows the global batch, and its scheduler steps by each batch
    (num_steps counts samples). The sample-unit schedules (increment 1) on lrsched.torch's unit clock, each update
    consuming its batch, give megatron-core's lr and weight decay, update for update, through and past the ramp."""
    torch = pytest.importorskip("torch", reason="installed by the README test command")
    import lrsched.torch as lt

    kw = dict(init_lr=1e-5, max_lr=1e-3, min_lr=1e-4, lr_warmup_steps=640, lr_decay_steps=12_000)
    kw.update(lr_decay_style="cosine", start_wd=0.01, end_wd=0.1, wd_incr_steps=12_000, wd_incr_style="cosine")
    batches = [16 * (1 + min(k // 20, 7)) for k in range(160)]  # 16, 32, ... 128, 20 updates each, then 128
    opt = _Optimizer()
    logging.disable(logging.INFO)
    try:
        megatron = peer(opt, **kw)
        want = []
        for b in batches:
            want.append((opt.param_groups[0]["lr"], opt.param_groups[0]["weight_decay"]))
            megatron.step(b)  # after the update, by that update's samples
    finally:
        logging.disable(logging.NOTSET)
    p = torch.nn.Parameter(torch.zeros(1))
    sgd = torch.optim.SGD([p], lr=1.0, weight_decay=0.0)
    scheduler = lt.scheduler(sgd, unit="samples", **mg.optimizer_param_scheduler(**kw))
    got = []
    for b in batches:
        scheduler.consume(b)
        got.append((sgd.param_groups[0]["lr"], sgd.param_groups[0]["weight_decay"]))  # what this update uses
        p.grad = torch.ones(1)
        sgd.step()
        scheduler.step()
    assert sum(batches) > kw["lr_warmup_steps"] and scheduler.units == sum(batches)
    got, want = np.array(got), np.array(want)
    np.testing.assert_allclose(got[:, 0], want[:, 0], rtol=0, atol=2.3e-16 * kw["max_lr"])  # a few ulps of the peak
    np.testing.assert_allclose(got[:, 1], want[:, 1], rtol=0, atol=3e-16 * kw["end_wd"])  # cosine wd: h(1 - p)
