"""The learning-rate range test: the ramp, the reading of the curve, and the torch driver.

Expected values come from closed forms written here (the ramps, the moving
average, a brute-force longest descent), and from a real grid search: 13 full
trainings of a small classifier against one range test.
"""

import copy
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lrsched as ls

# ---------------------------------------------------------------- the ramp


@pytest.mark.parametrize("steps", [2, 3, 100, 1000])
def test_exponential_ramp_is_the_closed_form(steps):
    s = ls.range_test(1e-7, 10.0, steps=steps)
    t = np.arange(1, steps + 1, dtype=float)
    np.testing.assert_allclose(s.values(steps), 1e-7 * (1e8) ** ((t - 1) / (steps - 1)), rtol=1e-14)
    assert s(1) == 1e-7 and s(steps) == 10.0 and s(steps + 50) == 10.0


def test_linear_ramp_is_the_closed_form():
    s = ls.range_test(0.001, 1.0, steps=50, shape="linear")
    t = np.arange(1, 51, dtype=float)
    np.testing.assert_allclose(s.values(50), 0.001 + 0.999 * (t - 1) / 49, rtol=1e-14)
    assert s(1) == 0.001 and s(50) == 1.0


def test_the_ramp_is_an_ordinary_schedule():
    s = ls.range_test(1e-6, 1.0, steps=100)
    assert ls.from_json(s.to_json()) == s
    assert s.length() == 100
    assert "geometric(1e-06, 1, steps=99)" in repr(s)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start": 1.0, "end": 1.0}, "start=1.0 must be below end=1.0"),
        ({"start": 2.0, "end": 1.0}, "must be below end"),
        ({"start": 0.0, "end": 1.0}, "start"),
        ({"start": -1.0, "end": 1.0}, "start"),
        ({"start": 1e-3, "end": 1.0, "steps": 1}, "steps"),
        ({"start": 1e-3, "end": 1.0, "shape": "cosine"}, "shape"),
    ],
)
def test_ramp_mistakes_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ls.range_test(**kwargs)


# ---------------------------------------------------------------- reading the curve


def _ema(losses, w):
    """The bias-corrected moving average as a weighted sum: S_i = sum_j w (1-w)^(i-j) L_j / (1 - (1-w)^(i+1))."""
    losses = np.asarray(losses, dtype=float)
    out = []
    for i in range(len(losses)):
        weights = w * (1 - w) ** (i - np.arange(i + 1))
        out.append(weights @ losses[: i + 1] / (1 - (1 - w) ** (i + 1)))
    return np.array(out)


@given(st.lists(st.floats(0.01, 10.0), min_size=3, max_size=60), st.floats(0.01, 1.0))
@settings(max_examples=50, deadline=None)
def test_smoothing_is_the_bias_corrected_average(losses, w):
    lrs = np.geomspace(1e-5, 1.0, len(losses))
    r = ls.suggest_lr(lrs, losses, smooth=w, min_score=0)
    np.testing.assert_allclose(r.smoothed, _ema(losses, w), rtol=1e-9)


def _longest_descent_brute(s):
    """Length of the longest strictly decreasing subsequence and the first index where one ends (O(n^2))."""
    best = [1] * len(s)
    for i in range(len(s)):
        for j in range(i):
            if s[j] > s[i]:
                best[i] = max(best[i], best[j] + 1)
    length = max(best)
    return length, best.index(length)


@given(st.lists(st.integers(0, 20), min_size=3, max_size=80))
@settings(max_examples=200, deadline=None)
def test_valley_is_the_middle_of_the_longest_descent(values):
    losses = np.array(values, dtype=float) + 1.0
    lrs = np.geomspace(1e-6, 1.0, len(losses))
    r = ls.suggest_lr(lrs, losses, smooth=1.0, min_score=0)  # no smoothing: the losses themselves
    length, last = _longest_descent_brute(list(losses))
    assert r.index == last - (length - 1) // 2
    assert r.lr == lrs[r.index]


def test_steepest_is_the_steepest_descent_before_the_minimum():
    lrs = np.geomspace(1e-6, 10.0, 141)  # 20 points per decade
    x = np.log10(lrs)
    losses = 2.0 - np.tanh(2 * (x + 3)) + np.where(x > -1, 10 * (x + 1) ** 2, 0.0)  # steepest at 1e-3, minimum later
    losses -= 2.5 * (1 + np.tanh(20 * (x - 0.5)))  # and a steeper fall after the minimum, never below it
    assert np.argmin(np.gradient(losses, np.log(lrs))) > np.argmin(losses)
    r = ls.suggest_lr(lrs, losses, "steepest", smooth=1.0, min_score=0)
    assert r.lr == pytest.approx(1e-3, rel=1e-9)


def test_minimum_is_a_tenth_of_the_lr_at_the_minimum():
    lrs = np.geomspace(1e-4, 1.0, 9)
    losses = [3, 2.9, 2.5, 2.0, 1.2, 1.0, 1.1, 4.0, 9.0]
    r = ls.suggest_lr(lrs, losses, "minimum", smooth=1.0, min_score=0)
    assert (r.index, r.lr) == (5, lrs[5] / 10)


def test_non_finite_losses_cut_the_curve():
    lrs = np.geomspace(1e-4, 1.0, 8)
    for bad in (math.nan, math.inf):
        losses = [3.0, 2.0, 1.0, 0.5, 0.25, bad, 0.1, 0.0]  # the 0.1 and 0.0 after it are ignored
        r = ls.suggest_lr(lrs, losses, "minimum", smooth=1.0, min_score=0)
        assert r.diverged_at == 5
        assert r.index == 4


def test_diverge_cuts_where_the_smoothed_loss_exceeds_a_multiple_of_the_best():
    lrs = np.geomspace(1e-4, 1.0, 8)
    losses = [3.0, 2.0, 1.0, 0.5, 2.4, 2.6, 0.1, 0.05]
    r = ls.suggest_lr(lrs, losses, "minimum", smooth=1.0, diverge=5.0, min_score=0)
    assert r.diverged_at == 5  # 2.6 > 5 * 0.5, 2.4 is not
    assert r.index == 3
    assert ls.suggest_lr(lrs, losses, "minimum", smooth=1.0, min_score=0).index == 7


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        (([1e-3, 1e-2, 1e-1], [1.0, 0.5]), {}, ValueError, "3 lrs, 2 losses"),
        (([1e-3, 1e-2], [1.0, 0.5]), {}, ValueError, "at least 3 points, got 2"),
        (([1e-3, 1e-2, 1e-1], [1.0, 0.5, 0.2]), {"method": "valey"}, ValueError, "method"),
        (([1e-3, 1e-3, 1e-1], [1.0, 0.5, 0.2]), {}, ValueError, r"lrs must increase: lrs\[1\]"),
        (([-1e-3, 1e-2, 1e-1], [1.0, 0.5, 0.2]), {}, ValueError, r"positive and finite: lrs\[0\]"),
        (([1e-3, 1e-2, 1e-1, 1.0], [1.0, 0.5, math.nan, 0.1]), {}, ValueError, "diverged at point 2"),
        (([1e-3, 1e-2, 1e-1], [1.0, 0.5, 0.2]), {"smooth": 0.0}, ValueError, "smooth"),
        (([1e-3, 1e-2, 1e-1], [1.0, 0.5, 0.2]), {"diverge": 1.0}, ValueError, "diverge"),
        (("abc", [1.0, 0.5, 0.2]), {}, TypeError, "lrs must be a 1-D sequence of numbers"),
        (([1e-3, 1e-2, 1e-1], [[1.0], [0.5], [0.2]]), {}, TypeError, "losses must be a 1-D"),
    ],
)
def test_reading_mistakes_are_named(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        ls.suggest_lr(*args, **kwargs)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: ls.suggest_lr([1e-3, 1e-2], [1.0, 0.5]),
            ValueError,
            "^lrs and losses hold too few points: a range test needs at least 3 points, got 2$",
        ),
        (
            lambda: ls.suggest_lr([1e-3, 1e-2, 1e-1, 1.0], [1.0, 0.5, math.nan, 0.1]),
            ValueError,
            r"^losses diverged at point 2 \(lrs\[2\] = 0.1, losses\[2\] = nan\), leaving fewer than 3 points",
        ),
        (lambda: ls.suggest_lr([1e-3, 1e-2, 1e-1], [1, 2, 3], min_score="5"), TypeError, "^min_score must be a real"),
        (
            lambda: ls.suggest_lr([1e-3, 1e-2, 1e-1], [1, 2, 3], skip_end=-1),
            ValueError,
            "^skip_end must be >= 0, got -1$",
        ),
        (
            lambda: ls.suggest_lr([1e-3, 1e-2, 1e-1], [1, 2, 3], diverge="x"),
            TypeError,
            "^diverge must be a real number",
        ),
        (lambda: ls.range_test(0, 1.0), ValueError, "^start must be > 0, got 0$"),
        (lambda: ls.range_test(1e-3, 1.0, steps=1), ValueError, "^steps must be >= 2, got 1$"),
        (lambda: ls.range_test(1e-300, 1e300), ValueError, r"^range_test: end / start = 1e\+300 / 1e-300 is beyond"),
    ],
)
def test_mistakes_are_named_where_they_are_raised(call, error, message):
    """The message names the argument at fault and its value, as raised: no wrapper adds ``suggest_lr(lrs=...): ``."""
    with pytest.raises(error, match=message):
        call()


def test_a_ramp_that_a_learning_rate_dtype_cannot_hold_is_refused_by_name():
    from lrsched.lr_range import RangeTest

    f32 = np.finfo(np.float32)
    args = ("valley", 5.0, 0.05, 0, 0, 5.0)
    RangeTest(float(f32.tiny), float(f32.max), 10, *args).check_fits("float32", float(f32.max), float(f32.tiny))
    with pytest.raises(ValueError, match=r"^end=1e\+39 overflows the learning rate's float32 \(at most 3.403e\+38\)"):
        RangeTest(1e-7, 1e39, 10, *args).check_fits("float32", float(f32.max), float(f32.tiny))
    with pytest.raises(ValueError, match=r"^start=1e-39 is below the smallest float32 learning rate \(1.175e-38;"):
        RangeTest(1e-39, 1.0, 10, *args).check_fits("float32", float(f32.max), float(f32.tiny))


def test_plot_marks_the_suggestion():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    lrs = np.geomspace(1e-5, 1.0, 11)
    r = ls.suggest_lr(lrs, [2.0, 1.99, 1.95, 1.8, 1.5, 1.1, 0.8, 0.7, 0.9, 3.0, math.nan], smooth=1.0)
    ax = r.plot()
    assert ax.get_xscale() == "log"
    (mark,) = [line for line in ax.lines if line.get_gid() == "suggestion"]
    assert mark.get_xdata()[0] == r.lr == 1e-3
    (curve,) = [line for line in ax.lines if line.get_gid() == "smoothed"]
    assert len(curve.get_xdata()) == 10  # cut where it diverged
    matplotlib.pyplot.close("all")


# ---------------------------------------------------------------- the torch driver

torch = pytest.importorskip("torch")


def _net():
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(6, 16), torch.nn.BatchNorm1d(16), torch.nn.ReLU(), torch.nn.Dropout(0.1), torch.nn.Linear(16, 3)
    )


def _batches(n=8, size=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n * size, 6, generator=g)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0).long()
    return [(x[i : i + size], y[i : i + size]) for i in range(0, n * size, size)]


def _snapshot(model, opt):
    grads = [None if p.grad is None else p.grad.clone() for p in model.parameters()]
    return copy.deepcopy(model.state_dict()), copy.deepcopy(opt.state_dict()), grads, model.training


def _same(a, b):
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


@pytest.mark.parametrize("make_opt", ["sgd", "adamw"])
def test_model_and_optimizer_are_restored_to_the_bit_and_training_goes_on_as_without_it(make_opt):
    def build():
        model = _net()
        params = [{"params": model[0].parameters(), "lr": 0.05}, {"params": model[4].parameters(), "weight_decay": 0.1}]
        if make_opt == "sgd":
            opt = torch.optim.SGD(params, lr=0.1, momentum=0.9)
        else:
            opt = torch.optim.AdamW(params, lr=0.01)
        for x, y in _batches(3, seed=5):  # some optimizer state, and gradients left over
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
        model.eval()  # a mode to keep
        return model, opt

    model, opt = build()
    before = _snapshot(model, opt)
    torch.manual_seed(123)
    r = ls.torch.find_lr(model, opt, torch.nn.functional.cross_entropy, _batches(), end=100.0)
    after = _snapshot(model, opt)
    assert _same(before, after)
    assert r.diverged_at is not None  # it went far enough to diverge, so the state really moved
    assert torch.equal(torch.random.get_rng_state(), torch.manual_seed(123).get_state())  # no randomness used
    # what follows is the run that would have happened without the range test (dropout's random state too)
    twin, twin_opt = build()
    for m, o in ((model, opt), (twin, twin_opt)):
        torch.manual_seed(7)
        m.train()
        for x, y in _batches(4, seed=9):
            o.zero_grad()
            torch.nn.functional.cross_entropy(m(x), y).backward()
            o.step()
    assert _same(model.state_dict(), twin.state_dict())
    assert _same(opt.state_dict(), twin_opt.state_dict())


def test_at_most_steps_updates_and_none_past_divergence():
    model = _net()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    updates = []
    opt.register_step_post_hook(lambda *a: updates.append(1))
    r = ls.torch.find_lr(model, opt, torch.nn.functional.cross_entropy, _batches(), end=1e-2, steps=30)
    assert len(updates) == 30 and len(r.lrs) == 30 and r.diverged_at is None
    updates.clear()
    r = ls.torch.find_lr(model, opt, torch.nn.functional.cross_entropy, _batches(), end=1e4, steps=100)
    assert r.diverged_at is not None and len(r.lrs) == r.diverged_at + 1
    assert len(updates) == r.diverged_at  # the diverging point is recorded, never stepped
    np.testing.assert_allclose(r.lrs, ls.range_test(1e-7, 1e4, 100).values(len(r.lrs)), rtol=0)


def test_step_fn_replaces_the_update_and_one_shot_iterators_cycle():
    model = _net()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    calls = []

    def step_fn(m, batch):
        calls.append(batch["id"])
        loss = torch.nn.functional.cross_entropy(m(batch["x"]), batch["y"])
        loss.backward()
        return loss

    stream = ({"id": i, "x": x, "y": y} for i, (x, y) in enumerate(_batches(3)))  # a generator: read once
    r = ls.torch.find_lr(model, opt, None, stream, end=1e-3, steps=10, step_fn=step_fn)
    assert calls == [0, 1, 2, 0, 1, 2, 0, 1, 2, 0]
    assert len(r.losses) == 10


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"model": "net"}, TypeError, "model must be a torch.nn.Module"),
        ({"batches": []}, ValueError, "batches gave no batch"),
        ({"batches": 5}, TypeError, "batches must be an iterable"),
        ({"batches": [torch.zeros(3)]}, TypeError, "each batch must be a pair"),
        ({"start": 1.0, "end": 0.1}, ValueError, "must be below end"),
        ({"steps": 2}, ValueError, "steps"),
        ({"diverge": 0.5}, ValueError, "diverge"),
        ({"method": "fastest"}, ValueError, "method"),
        ({"loss_fn": None}, TypeError, "loss_fn must be callable"),
    ],
)
def test_driver_mistakes_are_named(kwargs, error, message):
    model = _net()
    args = {"model": model, "optimizer": torch.optim.SGD(model.parameters(), lr=0.1)}
    args.update({"loss_fn": torch.nn.functional.cross_entropy, "batches": _batches(), **kwargs})
    before = copy.deepcopy(model.state_dict())
    with pytest.raises(error, match=message):
        ls.torch.find_lr(**args)
    if isinstance(args["model"], torch.nn.Module):
        assert _same(before, model.state_dict())


def test_a_shuffling_dataloader_leaves_torchs_random_state_as_it_was():
    x, y = _batches(1, size=256)[0]
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=32, shuffle=True)
    found = []
    for _ in range(3):  # each call starts where the last one left the random state: the same draws, the same lr
        model = _net()
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        torch.manual_seed(11)
        found.append(ls.torch.find_lr(model, opt, torch.nn.functional.cross_entropy, loader, end=10.0).lr)
        assert torch.equal(torch.random.get_rng_state(), torch.manual_seed(11).get_state())
    assert found[0] == found[1] == found[2]


def test_non_persistent_buffers_and_a_tensor_lr_come_back():
    model = _net()
    model.register_buffer("seen", torch.zeros(1), persistent=False)

    def count(module, args, out):
        with torch.no_grad():
            module.seen.add_(1.0)

    hook = model.register_forward_hook(count)
    opt = torch.optim.SGD(model.parameters(), lr=torch.tensor(0.01), momentum=0.9)
    lr = opt.param_groups[0]["lr"]  # the group's own tensor
    ls.torch.find_lr(model, opt, torch.nn.functional.cross_entropy, _batches(), end=1.0, steps=20)
    hook.remove()
    assert model.seen.item() == 0.0  # counted 20 forwards during the test, then put back
    assert opt.param_groups[0]["lr"] is lr and lr.item() == torch.tensor(0.01).item()


def test_a_loss_of_the_wrong_shape_is_named_before_backward():
    model = _net()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    per_sample = lambda out, y: torch.nn.functional.cross_entropy(out, y, reduction="none")  # noqa: E731
    with pytest.raises(ValueError, match=r"single number, got a tensor of shape \(32,\)"):
        ls.torch.find_lr(model, opt, per_sample, _batches())


def test_skips_read_the_points_between_as_if_sliced():
    lrs = np.geomspace(1e-5, 1.0, 11)
    losses = [2.0, 1.99, 1.95, 1.8, 1.5, 1.1, 0.8, 0.7, 0.9, 3.0, 4.0]
    full = ls.suggest_lr(lrs, losses, "minimum", smooth=1.0, min_score=0)
    assert full.index == 7
    for a, b in [(0, 5), (2, 0), (3, 4), (8, 0)]:
        r = ls.suggest_lr(lrs, losses, "minimum", smooth=1.0, min_score=0, skip_start=a, skip_end=b)
        kept = losses[a : len(losses) - b]
        m = int(np.argmin(kept))
        assert r.index == m and r.lr == lrs[a + m] / 10 and len(r.lrs) == len(kept)
    with pytest.raises(ValueError, match="fewer than 3"):
        ls.suggest_lr(lrs, losses, skip_start=5, skip_end=4)
    with pytest.raises(ValueError, match="skip_start"):
        ls.suggest_lr(lrs, losses, skip_start=-1)


# ---------------------------------------------------------------- curves without a reliable descent


def _typical(rng, n=100, r=0.1):
    """A plateau, a sigmoid descent in log lr, then a blow-up, with Gaussian noise r times the fall."""
    u = np.linspace(0, 1, n)
    clean = 2.0 - 1.5 / (1 + np.exp(-(u - 0.45) * 20)) + 8.0 * np.maximum(u - 0.85, 0) ** 2
    return np.geomspace(1e-7, 10, n), clean + rng.normal(0, r * 1.5, n)


def test_flat_and_rising_curves_give_no_lr_and_say_why():
    rng = np.random.default_rng(0)
    lrs = np.geomspace(1e-7, 10, 100)
    given = 0
    for _ in range(200):  # flat + Gaussian noise: the measured rate is 0 in 500
        given += ls.suggest_lr(lrs, 1.0 + 0.05 * rng.normal(size=100)).lr is not None
    assert given == 0
    r = ls.suggest_lr(lrs, np.linspace(1.0, 2.0, 100))
    assert r.lr is None and r.index is None and r.score == 0 and "never falls" in r.reason
    r = ls.suggest_lr(lrs, 1.0 + 0.05 * np.random.default_rng(1).normal(size=100))
    assert r.lr is None and "times its noise" in r.reason and "lr=None" in repr(r)
    r.plot()  # still draws the curve, titled with the reason
    assert ls.suggest_lr(lrs, np.linspace(1.0, 2.0, 100), min_score=0).lr is not None  # the check switched off


def test_curves_with_a_descent_get_an_lr():
    rng = np.random.default_rng(2)
    refused = sum(ls.suggest_lr(*_typical(rng)).lr is None for _ in range(100))
    assert refused == 0  # measured: at most 0.6% at this noise
    lrs = np.geomspace(1e-7, 10, 100)
    assert ls.suggest_lr(lrs, np.linspace(2.0, 1.0, 100)).score > 1e12  # a noise-free descent (rounding only)


def test_agrees_with_lightnings_own_lr_finder_curves():
    # Lightning issue 21141's curve: the steepest descent of the raw losses, as Lightning before 2.5.3 found it
    np.random.seed(42)
    x = np.linspace(-50, 50, 100)
    clean = (-(x**2) - 30 * x + 4000) / 1000
    lrs = 1e-8 * (1e8) ** (np.arange(1, 101) / 100)
    for losses in (clean, clean + np.random.uniform(-0.1, 0.1, 100)):
        r = ls.suggest_lr(lrs, losses, "steepest", smooth=1.0, skip_start=10, skip_end=1)
        assert r.lr == lrs[98]  # 0.83176...
    # Lightning's test_gradient_correctness: sin over [0, 2 pi], skip 2 and 2: the valley is at pi (within 1e-2)
    lrs = np.linspace(0, 2 * np.pi, 1000)
    r = ls.suggest_lr(lrs, np.sin(lrs), "valley", smooth=1.0, skip_start=2, skip_end=2)
    assert abs(r.lr - np.pi) < 1e-2


# ---------------------------------------------------------------- against a grid search


def _task():
    """Six overlapping Gaussian classes in 20 dimensions: train and validation sets, batches of 64."""
    centers = torch.randn(6, 20, generator=torch.Generator().manual_seed(42)) * 0.7

    def draw(n, seed):
        g = torch.Generator().manual_seed(seed)
        y = torch.randint(0, 6, (n,), generator=g)
        return centers[y] + torch.randn(n, 20, generator=g), y

    (x, y), valid = draw(4096, 0), draw(2048, 1)
    return [(x[i : i + 64], y[i : i + 64]) for i in range(0, 4096, 64)], valid


def _mlp(seed):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(20, 64), torch.nn.ReLU(), torch.nn.Linear(64, 6))


def _validation_loss(lr, seed, batches, valid, updates=320):
    model = _mlp(seed)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    for k in range(updates):
        x, y = batches[k % len(batches)]
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    with torch.no_grad():
        loss = torch.nn.functional.cross_entropy(model(valid[0]), valid[1]).item()
    return loss if math.isfinite(loss) else math.inf


@pytest.mark.slow  # 14 short trainings
@pytest.mark.parametrize("seed", [0, 1])
def test_the_suggestion_is_near_the_best_lr_of_a_13_point_grid_search(seed):
    torch.set_num_threads(1)
    batches, valid = _task()
    grid = 10.0 ** np.arange(-4.0, 2.01, 0.5)  # 13 candidates: 13 full trainings of 320 updates
    scores = [_validation_loss(lr, seed, batches, valid) for lr in grid]
    best = grid[int(np.argmin(scores))]
    model = _mlp(seed)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    r = ls.torch.find_lr(model, opt, torch.nn.functional.cross_entropy, batches)  # one run, <= 100 updates
    assert len(r.lrs) <= 100
    assert best / 4 <= r.lr <= best * 4, (r, best, scores)
    # and training at the suggestion is about as good as the grid's best
    assert _validation_loss(r.lr, seed, batches, valid) <= 1.1 * min(scores)


def test_a_falling_negative_loss_never_diverges_and_a_rising_one_does():
    lrs = np.geomspace(1e-5, 1.0, 20)
    nll = -1.0 - np.linspace(0, 1, 20)  # a log-likelihood loss falling from -1 to -2: no divergence
    r = ls.suggest_lr(lrs, nll, "minimum", smooth=1.0, diverge=5.0, min_score=0)
    assert r.diverged_at is None
    # rising from -2 back up past -2 + 4 * |-2| = 6 is 5x the best's distance: cut there (by hand: at the value 7)
    rising = np.array([-1.0, -2.0, 0.0, 3.0, 7.0, 9.0])
    r = ls.suggest_lr(lrs[:6], rising, "minimum", smooth=1.0, diverge=5.0, min_score=0)
    assert r.diverged_at == 4


def test_an_end_past_the_parameters_float_range_is_refused_before_any_update():
    model = _net()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    updates = []
    opt.register_step_post_hook(lambda *a: updates.append(1))
    with pytest.raises(ValueError, match=r"end=1e\+308 overflows the learning rate in the parameters' torch.float32"):
        ls.torch.find_lr(model, opt, torch.nn.functional.cross_entropy, _batches(), start=1e300, end=1e308)
    assert updates == []
