"""Bad input gets a clear error naming the parameter and the value."""

from __future__ import annotations

import math

import numpy as np
import pytest

import lrsched as ls
import lrsched.keras
import lrsched.optax
import lrsched.timm
import lrsched.torch
import lrsched.transformers

c = ls.constant(0.1)

BAD = [
    (lambda: ls.constant(math.nan), ValueError, r"constant\(\): value must be finite, got nan"),
    (lambda: ls.constant(math.inf), ValueError, "value must be finite, got inf"),
    (lambda: ls.constant("0.1"), TypeError, "value must be a real number, got '0.1'"),
    (lambda: ls.constant(True), TypeError, "value must be a real number, got True"),
    (lambda: ls.constant(None), TypeError, "value must be a real number, got None"),
    (lambda: ls.constant(), TypeError, "missing required parameter 'value'"),
    (lambda: ls.constant(1, 2), TypeError, "takes at most 1 arguments, got 2"),
    (lambda: ls.constant(value=1, lr=2), TypeError, "unexpected parameter 'lr'"),
    (lambda: ls.linear(1, 0, 5, start=2), TypeError, "got parameter 'start' twice"),
    (lambda: ls.linear(1, 0, 0), ValueError, r"linear\(\): steps must be > 0, got 0"),
    (lambda: ls.linear(1, 0, -3), ValueError, "steps must be > 0, got -3"),
    (lambda: ls.linear(1, 0, math.inf), ValueError, "steps must be finite, got inf"),
    (lambda: ls.cosine(0.1, 0, steps=0), ValueError, "steps must be > 0, got 0"),
    (lambda: ls.poly(0.1, 0, steps=10, power=0), ValueError, "power must be > 0, got 0"),
    (lambda: ls.poly(0.1, 0, steps=10, power=-1.0), ValueError, r"power must be > 0, got -1\.0"),
    (lambda: ls.geometric(0.0, 1.0, steps=10), ValueError, "start must be > 0, got 0.0"),
    (lambda: ls.exponential(0.1, 0.0), ValueError, "factor must be > 0, got 0.0"),
    (lambda: ls.exponential(0.1, 0.5, every=0), ValueError, "every must be > 0, got 0"),
    (lambda: ls.exponential(0.1, 0.5, staircase=1), TypeError, "staircase must be True or False, got 1"),
    (lambda: ls.exponential(0.1, 0.5, end=0.2), ValueError, "end=0.2 lies on the wrong side of start=0.1"),
    (lambda: ls.exponential(0.1, 2.0, end=0.05), ValueError, "end=0.05 lies on the wrong side"),
    (lambda: ls.step(0.1, every=0, factor=0.5), ValueError, "every must be > 0, got 0"),
    (lambda: ls.step(0.1, every=10, factor=-0.5), ValueError, "factor must be > 0, got -0.5"),
    (lambda: ls.step(0.1, every=10, factor=0.5, minimum=0.2), ValueError, "minimum=0.2 must not exceed start=0.1"),
    (lambda: ls.multistep(0.1, [30, 10], factor=0.1), ValueError, "milestones must be sorted"),
    (lambda: ls.multistep(0.1, [-1, 10], factor=0.1), ValueError, r"milestones\[0\] must be >= 0, got -1"),
    (lambda: ls.piecewise([-2], [1, 2]), ValueError, r"boundaries\[0\] must be >= 0, got -2"),
    (lambda: ls.multistep(0.1, 30, factor=0.1), TypeError, "milestones must be a list of numbers, got 30"),
    (lambda: ls.multistep(0.1, [30, "x"], factor=0.1), TypeError, r"milestones\[1\] must be a real number, got 'x'"),
    (lambda: ls.piecewise([10, 10], [1, 2, 3]), ValueError, "boundaries must be strictly increasing"),
    (lambda: ls.piecewise([10], [1, 2, 3]), ValueError, "values needs one more entry than boundaries"),
    (lambda: ls.interpolate([]), TypeError, "points must be a non-empty list"),
    (lambda: ls.interpolate([(0, 1), (0, 2)]), ValueError, "points t must be strictly increasing"),
    (lambda: ls.interpolate([(0, 1, 2)]), TypeError, r"points\[0\] must be a \(t, value\) pair"),
    (lambda: ls.interpolate([(-1, 1)]), ValueError, r"points\[0\] t must be >= 0, got -1"),
    (
        lambda: ls.interpolate([(0, 1)], shape="cubic"),
        ValueError,
        "shape must be one of 'linear', 'cosine'; got 'cubic'",
    ),
    (lambda: ls.inverse_sqrt(0.1, scale=0), ValueError, "scale must be > 0, got 0"),
    (lambda: ls.inverse_time(0.1, rate=-1), ValueError, "rate must be >= 0, got -1"),
    (lambda: ls.join([], boundaries=[]), ValueError, "schedules must not be empty"),
    (lambda: ls.join([c, c], boundaries=[0]), ValueError, r"boundaries\[0\] must be > 0, got 0"),
    (lambda: ls.join([c, c, c], boundaries=[20, 10]), ValueError, "boundaries must be strictly increasing"),
    (lambda: ls.join([c, c], boundaries=[10, 20]), ValueError, "one more schedule than boundaries"),
    (lambda: ls.join(c, boundaries=[]), TypeError, "schedules must be a list of schedules"),
    (lambda: ls.join([c, "fast"], boundaries=[5]), TypeError, r"schedules\[1\] must be a schedule or a number"),
    (lambda: ls.warmup(c, steps=-1), ValueError, "steps must be >= 0, got -1"),
    (lambda: ls.warmup(c, steps=10, shape="square"), ValueError, "shape must be one of"),
    (lambda: ls.warmup(c, steps=10, shape="exponential"), ValueError, "exponential warmup needs start > 0"),
    (lambda: ls.warmup("c", steps=10), TypeError, "schedule must be a schedule or a number, got 'c'"),
    (lambda: ls.cycle(c, period=0), ValueError, "period must be > 0, got 0"),
    (lambda: ls.cycle(c, period=10, period_mult=0.5), ValueError, "period_mult=0.5 < 1 needs a limit"),
    (lambda: ls.cycle(c, period=10, decay=0), ValueError, "decay must be > 0, got 0"),
    (lambda: ls.cycle(c, period=10, limit=0), ValueError, "limit must be >= 1, got 0"),
    (lambda: ls.cycle(c, period=10, limit=2.5), ValueError, "limit must be a whole number, got 2.5"),
    (lambda: c / 0, ValueError, r"division by constant\(0\)"),
    (lambda: c.clip(), ValueError, "needs low, high or both"),
    (lambda: c.clip(0.5, 0.1), ValueError, "low=0.5 must not exceed high=0.1"),
    (lambda: c.shift(math.nan), ValueError, "k must be finite, got nan"),
    (lambda: c.stretch(0), ValueError, "factor must be > 0, got 0"),
    (lambda: c.per_epoch(0), ValueError, "steps_per_epoch must be >= 1, got 0"),
    (lambda: c.per_epoch(2.5), ValueError, "steps_per_epoch must be a whole number, got 2.5"),
    (lambda: ls.minimum(c, "x"), TypeError, "right must be a schedule or a number, got 'x'"),  # fields renamed
    (lambda: ls.function(3), TypeError, "fn must be a Python callable, got 3"),
    (lambda: ls.function(c), TypeError, "fn must be a Python callable"),
    # parameters checked whether or not they are used, and containers of the right kind (the hostile-input probe)
    (lambda: ls.timm.CosineLRScheduler(0.1, 30, noise_type="x"), ValueError, "noise_type must be one of"),
    (lambda: ls.timm.CosineLRScheduler(0.1, 30, noise_pct=math.nan), ValueError, "noise_pct must be finite"),
    (lambda: ls.timm.CosineLRScheduler(0.1, 30, cycle_decay=1e308, cycle_limit=3), ValueError, "cycle_decay=1e"),
    (lambda: ls.timm.MultiStepLRScheduler(0.1, {}, 0.5), TypeError, "decay_t must be a list of integers"),
    (lambda: ls.torch.one_cycle_lr(1.0, total_steps=10, epochs="x"), TypeError, "epochs must be an integer"),
    (lambda: ls.torch.chained_scheduler([1, 2], 1.0), TypeError, r"schedules\[0\] must be an lrsched schedule"),
    (lambda: ls.torch.multi_step_lr(1.0, b"1", 0.5), TypeError, "milestones must be a list of integers"),
    (lambda: ls.optax.join_schedules("x", []), TypeError, "schedules must be a list of schedules"),
    (lambda: ls.keras.CosineDecay(1.0, 4, warmup_steps="x"), TypeError, "warmup_steps must be a real number"),
    (
        lambda: ls.transformers.get_cosine_with_min_lr_schedule_with_warmup_lr_rate(
            1.0, 0, 10, min_lr_rate=0.1, warmup_lr_rate="x"
        ),
        TypeError,
        "warmup_lr_rate must be a real number",
    ),
    # a mirror's or recipe's own parameter, named where it is checked, before any primitive is built from it
    # (issues 17 and 19); ^: the message is the mirror's own, not a primitive's (``step(): ...``)
    (lambda: ls.torch.step_lr(0.1, 30, gamma=None), TypeError, "^gamma must be a real number, got None$"),
    (lambda: ls.torch.step_lr(-1, 30), ValueError, "^base_lr must be >= 0, got -1$"),
    (lambda: ls.torch.exponential_lr(math.nan, 0.5), ValueError, "^base_lr must be finite, got nan$"),
    (lambda: ls.torch.multi_step_lr(1.0, [2, 4], gamma=-1), ValueError, "^gamma must be >= 0, got -1$"),
    (lambda: ls.torch.constant_lr(1.0, 1e-320), ValueError, "^factor=1e-320, base_lr=1.0: base_lr "),
    (lambda: ls.torch.one_cycle_lr(1.0, 10, div_factor=1e-320), ValueError, "^max_lr=1.0, div_factor=1e-320: "),
    (lambda: ls.torch.cyclic_momentum(step_size_up=1e308), ValueError, r"^step_size_up=1e\+308: the cycle"),
    (lambda: ls.torch.reduce_lr_on_plateau(1e-320), ValueError, "^eps=1e-08, base_lr=1e-320: eps / base_lr is"),
    (lambda: ls.torch.reduce_lr_on_plateau(0.1, factor=1), ValueError, r"^factor must be in \(0, 1\), got 1$"),
    (lambda: ls.torch.chained_scheduler([c, c, c], 1e-200), ValueError, r"^base_lr=1e-200: base_lr\*\*2 must be > 0"),
    (lambda: ls.torch.sequential_lr([c, "x"], [5]), TypeError, r"^schedules\[1\] must be a schedule or a number"),
    (
        lambda: ls.mxnet.factor_scheduler(250, 0.5, base_lr=0),
        ValueError,
        "^stop_factor_lr=1e-08 must not exceed base_lr=0 ",
    ),
    (lambda: ls.mxnet.factor_scheduler(250, -1), ValueError, "^factor must be > 0, got -1$"),
    (lambda: ls.mxnet.multi_factor_scheduler([10], 0), ValueError, "^factor must be > 0, got 0$"),
    (
        lambda: ls.transformers.get_wsd_schedule(1.0, 2, 2, num_stable_steps=2, num_cycles=1e308),
        ValueError,
        r"^num_cycles=1e\+308: a half cosine, 1 / \(2 \* num_cycles\), must be > 0, got 0.0$",
    ),
    (
        lambda: ls.transformers.get_wsd_schedule(1.0, 2, 2, num_training_steps=0, num_stable_steps=2),
        ValueError,
        "exceed num_training_steps=0",  # checked the same way when num_stable_steps wins
    ),
    (
        lambda: ls.transformers.get_polynomial_decay_schedule_with_warmup(0, 2, 10),
        ValueError,
        "^lr_end=1e-07 must be smaller than base_lr=0",
    ),
    (
        lambda: ls.transformers.get_cosine_with_min_lr_schedule_with_warmup(1e-320, 2, 10, min_lr=0.1),
        ValueError,
        "^min_lr=0.1, base_lr=1e-320: min_lr / base_lr is beyond the float range",
    ),
    (
        lambda: ls.transformers.get_polynomial_decay_schedule_with_warmup(0, 2, 10, lr_end=-1),
        ValueError,
        "^base_lr must not be 0, got 0: HF divides by it$",
    ),
    (
        lambda: ls.transformers.get_polynomial_decay_schedule_with_warmup(1e-320, 2, 10, lr_end=-1),
        ValueError,
        "^lr_end=-1, base_lr=1e-320: the final factor, lr_end / base_lr, is beyond the float range",
    ),
    (lambda: ls.transformers.get_constant_schedule(None), TypeError, "^base_lr must be a real number, got None$"),
    (lambda: ls.transformers.get_reduce_on_plateau_schedule(0.1, patience=-1), ValueError, "^patience must be >= 0"),
    (lambda: ls.timm.TanhLRScheduler(0.1, 30, lb=None), TypeError, "^lb must be a real number, got None$"),
    (lambda: ls.timm.TanhLRScheduler(0.1, 30, lb=3.0), ValueError, "^lb=3.0 must be less than ub=3.0$"),
    (lambda: ls.timm.StepLRScheduler(-1, 10), ValueError, "^base_lr must be >= 0, got -1$"),
    (lambda: ls.timm.MultiStepLRScheduler(0.1, [3, 6], 1e308), ValueError, r"^decay_rate=1e\+308, base_lr=0.1: "),
    (lambda: ls.timm.CosineLRScheduler(0.1, 30, noise_pct=1e-320), ValueError, "^noise_pct must be >= 0.0001"),
    (
        lambda: ls.timm.CosineLRScheduler(1e308, 30, warmup_t=5, warmup_lr_init=-1e308),
        ValueError,
        r"^base_lr=1e\+308, warmup_lr_init=-1e\+308: the warmup's step",
    ),
    (lambda: ls.sgdr(1.0, period=None), TypeError, "^period must be a real number, got None$"),
    (lambda: ls.sgdr(1.0, 10, period_mult=0.5), ValueError, r"^period_mult=0.5 < 1 needs a limit"),
    (lambda: ls.one_cycle(1.0, 100, div_factor=1e-320), ValueError, "^peak=1.0, div_factor=1e-320: the initial lr"),
    (lambda: ls.triangular(0.1, 1.0, 1e308), ValueError, r"^half_period=1e\+308: the cycle, 2 \* half_period"),
    (lambda: ls.flat_cos(1.0, 5e-324), ValueError, "^pct_flat=0.75, steps=5e-324: the cosine"),
    (lambda: ls.noam(1, 1e-320, factor=1e308), ValueError, r"^factor=1e\+308, d_model=1, warmup_steps=1e-320: "),
    (lambda: ls.suggest_lr(10**400, [1.0, 2.0, 3.0]), TypeError, "lrs must be a 1-D sequence of numbers"),
    (lambda: ls.suggest_lr([1e-3, 1e-2, 1e-1], [1, 2, 3], smooth=1e-320), ValueError, "smooth=1e-320 is too small"),
]


@pytest.mark.parametrize(("build", "error", "message"), BAD, ids=[m for _, _, m in BAD])
def test_bad_parameters(build, error, message):
    with pytest.raises(error, match=message):
        build()


def test_unsupported_operands_are_left_to_python():
    with pytest.raises(TypeError):
        c + "x"
    with pytest.raises(TypeError):
        c * None
    with pytest.raises(TypeError):
        c + True  # a bool is not a learning rate


BAD_T = [
    (-1, ValueError, "t must be finite and >= 0, got -1"),
    (-0.5, ValueError, r"got -0\.5"),
    (math.nan, ValueError, "got nan"),
    (math.inf, ValueError, "got inf"),
    (np.float64(-2.0), ValueError, "got -2.0"),
    (True, TypeError, "t must be a number or an array of numbers, got True"),
    (np.bool_(False), TypeError, "got False"),
    ("5", TypeError, "got '5'"),
    (None, TypeError, "got None"),
    (np.array([1.0, -1.0]), ValueError, r"got -1\.0 at index \(1,\)"),
    (np.array([[1.0, 2.0], [np.nan, 3.0]]), ValueError, r"got nan at index \(1, 0\)"),
    (np.array([1.0, np.inf]), ValueError, "got inf"),
    (np.array([True, False]), TypeError, "dtype bool"),
    (np.array(["1", "2"]), TypeError, "dtype <U1"),
    ([1, "2"], TypeError, "dtype <U21"),
    (np.array([1, None], dtype=object), TypeError, "dtype object"),
    (1 + 2j, TypeError, r"got \(1\+2j\)"),
]


@pytest.mark.parametrize(("t", "error", "message"), BAD_T, ids=[m for _, _, m in BAD_T])
def test_bad_iterations(t, error, message):
    s = ls.warmup(ls.cosine(0.1, 0.0, steps=100), steps=10)
    with pytest.raises(error, match=message):
        s(t)


@pytest.mark.parametrize(
    ("n", "error", "message"),
    [
        (-1, ValueError, "n must be >= 0, got -1"),
        (2.5, ValueError, "whole number"),
        ("10", TypeError, "n must be an integer"),
    ],
)
def test_bad_lengths(n, error, message):
    with pytest.raises(error, match=message):
        ls.constant(0.1).values(n)
