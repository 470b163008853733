"""lrsched.torch.mirrors against real torch: every mirror against the stepped scheduler (and torch's own
closed form where it has one), and the momentum mirrors trained next to torch's OneCycleLR and CyclicLR.

Expected values come from torch itself.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import lrsched as ls

torch = pytest.importorskip("torch", reason="installed by the README test command")
import lrsched.torch as lt  # noqa: E402

S = torch.optim.lr_scheduler


def _optimizer(lr=0.1, groups=1):
    params = [{"params": [torch.nn.Parameter(torch.zeros(1))]} for _ in range(groups)]
    return torch.optim.SGD(params, lr=lr, momentum=0.9)


def stepped(make, n, lr=0.1, last_step=True):
    """The lr of each of n optimizer.step() calls in the canonical loop."""
    opt = _optimizer(lr)
    sched = make(opt)
    out = []
    for k in range(n):
        out.append(float(opt.param_groups[0]["lr"]))
        opt.step()
        if last_step or k < n - 1:
            sched.step()
    return np.array(out)


def closed_form(make, n, lr=0.1):
    """torch's own closed form (_get_closed_form_lr) at e = 0 .. n - 1."""
    sched = make(_optimizer(lr))
    out = []
    for e in range(n):
        sched.last_epoch = e
        out.append(float(sched._get_closed_form_lr()[0]))
    return np.array(out)


def drift(got, want, rtol):
    np.testing.assert_allclose(got, want, rtol=rtol, atol=0)


# ---------------------------------------------------------------- the lr mirrors, stepped and in closed form


# (torch factory, mirror, n, rtol against the stepped loop); None = bit for bit
CASES = [
    ("StepLR", lambda o: S.StepLR(o, step_size=30), lt.step_lr(0.1, 30), 400, 1e-14),
    ("StepLR size 1", lambda o: S.StepLR(o, step_size=1, gamma=0.97), lt.step_lr(0.1, 1, 0.97), 2000, 1e-12),
    ("MultiStepLR", lambda o: S.MultiStepLR(o, [30, 80]), lt.multi_step_lr(0.1, [30, 80]), 200, None),
    (
        "MultiStepLR unsorted, repeated, 0",
        lambda o: S.MultiStepLR(o, [50, 0, 20, 50, 20, 20], gamma=0.5),
        lt.multi_step_lr(0.1, [50, 0, 20, 50, 20, 20], gamma=0.5),
        120,
        None,
    ),
    ("MultiStepLR gamma 0", lambda o: S.MultiStepLR(o, [5, 9], gamma=0.0), lt.multi_step_lr(0.1, [5, 9], 0), 20, None),
    ("ConstantLR", lambda o: S.ConstantLR(o, factor=0.25, total_iters=7), lt.constant_lr(0.1, 0.25, 7), 30, None),
    ("ConstantLR default", lambda o: S.ConstantLR(o), lt.constant_lr(0.1), 30, None),
    (
        "ConstantLR total 0 (torch bug)",
        lambda o: S.ConstantLR(o, 0.5, total_iters=0),
        lt.constant_lr(0.1, 0.5, 0),
        10,
        None,
    ),
    (
        "LinearLR",
        lambda o: S.LinearLR(o, start_factor=0.01, total_iters=100),
        lt.linear_lr(0.1, 0.01, 1.0, 100),
        300,
        1e-13,
    ),
    ("LinearLR down", lambda o: S.LinearLR(o, 1.0, 0.0, total_iters=50), lt.linear_lr(0.1, 1.0, 0.0, 50), 80, 1e-12),
    ("LinearLR total 0", lambda o: S.LinearLR(o, 0.5, 1.0, total_iters=0), lt.linear_lr(0.1, 0.5, 1.0, 0), 10, None),
    ("ExponentialLR", lambda o: S.ExponentialLR(o, gamma=0.999), lt.exponential_lr(0.1, 0.999), 5000, 1e-12),
    (
        "PolynomialLR",
        lambda o: S.PolynomialLR(o, total_iters=200, power=2.0),
        lt.polynomial_lr(0.1, 200, 2.0),
        300,
        1e-12,
    ),
    ("PolynomialLR linear", lambda o: S.PolynomialLR(o, total_iters=5), lt.polynomial_lr(0.1, 5), 12, 1e-14),
    ("CosineAnnealingLR", lambda o: S.CosineAnnealingLR(o, T_max=100), lt.cosine_annealing_lr(0.1, 100), 100, 1e-12),
    (
        "CosineAnnealingLR past T_max",
        lambda o: S.CosineAnnealingLR(o, T_max=50, eta_min=1e-3),
        lt.cosine_annealing_lr(0.1, 50, 1e-3),
        400,
        1e-10,
    ),
    ("CAWR", lambda o: S.CosineAnnealingWarmRestarts(o, T_0=10), lt.cosine_annealing_warm_restarts(0.1, 10), 300, None),
    (
        "CAWR T_mult 2",
        lambda o: S.CosineAnnealingWarmRestarts(o, T_0=7, T_mult=2, eta_min=1e-4),
        lt.cosine_annealing_warm_restarts(0.1, 7, 2, 1e-4),
        2000,
        None,
    ),
    ("CyclicLR", lambda o: S.CyclicLR(o, 0.01, 0.1, step_size_up=20), lt.cyclic_lr(0.01, 0.1, 20), 300, 1e-14),
    (
        "CyclicLR triangular2 asym",
        lambda o: S.CyclicLR(o, 0.001, 0.1, step_size_up=7, step_size_down=13, mode="triangular2"),
        lt.cyclic_lr(0.001, 0.1, 7, 13, mode="triangular2"),
        400,
        1e-13,
    ),
    (
        "CyclicLR exp_range",
        lambda o: S.CyclicLR(o, 0.001, 0.1, step_size_up=10, mode="exp_range", gamma=0.995),
        lt.cyclic_lr(0.001, 0.1, 10, mode="exp_range", gamma=0.995),
        300,
        1e-13,
    ),
    (
        "CyclicLR size 1, base 0",
        lambda o: S.CyclicLR(o, 0.0, 0.1, step_size_up=1),
        lt.cyclic_lr(0.0, 0.1, 1),
        50,
        1e-13,
    ),
    (
        "CyclicLR custom scale_fn per cycle",
        lambda o: S.CyclicLR(o, 0.01, 0.1, step_size_up=5, scale_fn=lambda c: 1 / c),
        lt.cyclic_lr(0.01, 0.1, 5, scale_fn=lambda c: 1 / c),
        100,
        1e-13,
    ),
    (
        "CyclicLR custom scale_fn per iteration",
        lambda o: S.CyclicLR(o, 0.01, 0.1, step_size_up=5, scale_fn=lambda e: 0.99**e, scale_mode="iterations"),
        lt.cyclic_lr(0.01, 0.1, 5, scale_fn=lambda e: 0.99**e, scale_mode="iterations"),
        100,
        1e-13,
    ),
    (
        "MultiplicativeLR",
        lambda o: S.MultiplicativeLR(o, lambda e: 0.95 if e % 2 else 1.01),
        lt.multiplicative_lr(0.1, lambda e: 0.95 if e % 2 else 1.01),
        300,
        None,
    ),
    (
        "MultiplicativeLR number",
        lambda o: S.MultiplicativeLR(o, lambda e: 0.99),
        lt.multiplicative_lr(0.1, 0.99),
        500,
        1e-12,
    ),
]


@pytest.mark.parametrize(("name", "make", "mirror", "n", "rtol"), CASES, ids=[c[0] for c in CASES])
def test_mirror_matches_torch_stepped(name, make, mirror, n, rtol):
    want = stepped(make, n)
    got = mirror.values(n)
    if rtol is None:
        np.testing.assert_array_equal(got, want)
    else:
        drift(got, want, rtol)


# torch schedulers with a closed form (LinearLR with total_iters=0 has none: it divides by zero)
CLOSED = [
    c
    for c in CASES
    if c[0].split()[0] in {"StepLR", "MultiStepLR", "LinearLR", "ExponentialLR", "PolynomialLR", "CosineAnnealingLR"}
    and c[0] != "LinearLR total 0"
]


@pytest.mark.parametrize(("name", "make", "mirror", "n", "rtol"), CLOSED, ids=[c[0] for c in CLOSED])
def test_mirror_matches_torch_closed_form(name, make, mirror, n, rtol):
    want = closed_form(make, n)
    got = mirror.values(n)
    # torch's closed forms, to the bit, but for LinearLR at e >= total_iters, where lrsched
    # returns end_factor itself and torch start + (end - start): one ulp
    differ = got != want
    np.testing.assert_array_max_ulp(got[differ], want[differ], maxulp=1)
    if name.startswith("LinearLR"):
        assert np.all(np.arange(n)[differ] >= make(_optimizer()).total_iters)
    elif name.startswith("MultiStepLR"):
        pass  # mirrored from the stepped (chained) products; the closed form takes powers
    else:
        assert not differ.any()


def test_cosine_annealing_mirror_matches_the_closed_form_far_past_t_max():
    make = lambda o: S.CosineAnnealingLR(o, T_max=30, eta_min=0.0)  # noqa: E731
    n = 2000
    np.testing.assert_array_equal(lt.cosine_annealing_lr(0.1, 30).values(n), closed_form(make, n))


ONE_CYCLE = [
    dict(total_steps=100),
    dict(total_steps=1000, pct_start=0.25, anneal_strategy="linear"),
    dict(epochs=7, steps_per_epoch=13, three_phase=True),
    dict(
        total_steps=50,
        pct_start=0.1,
        div_factor=10.0,
        final_div_factor=100.0,
        three_phase=True,
        anneal_strategy="linear",
    ),
    dict(total_steps=10, pct_start=0.0),
    dict(total_steps=3, pct_start=0.5),
    dict(total_steps=20_000, pct_start=0.3),
]


@pytest.mark.parametrize("kw", ONE_CYCLE, ids=str)
def test_one_cycle(kw):
    total = kw.get("total_steps") or kw["epochs"] * kw["steps_per_epoch"]
    n = total + 1  # torch still gives one lr past the end, then raises
    want = stepped(lambda o: S.OneCycleLR(o, max_lr=0.1, **kw), n, last_step=False)
    got = lt.one_cycle_lr(0.1, **kw).values(n)
    if kw.get("anneal_strategy") == "linear":
        # at a linear phase's last update torch computes (end - start) * 1 + start, which misses a
        # small end by an ulp of start; lrsched's phases end exactly on their end value
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=2 * np.spacing(0.1))
    else:
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)
    opt = _optimizer()
    sched = S.OneCycleLR(opt, max_lr=0.1, **kw)
    for _ in range(total):
        opt.step()
        sched.step()
    with pytest.raises(ValueError, match="Tried to step"):
        sched.step()
    assert lt.one_cycle_lr(0.1, **kw)(n + 5) == 0.1 / kw.get("div_factor", 25.0) / kw.get("final_div_factor", 1e4)


def test_sequential_lr():
    def make(o):
        warm = S.LinearLR(o, start_factor=0.01, total_iters=10)
        cos = S.CosineAnnealingLR(o, T_max=90)
        step = S.StepLR(o, step_size=7, gamma=0.5)
        return S.SequentialLR(o, [warm, cos, step], milestones=[10, 100])

    mirror = lt.sequential_lr(
        [lt.linear_lr(0.1, 0.01, 1.0, 10), lt.cosine_annealing_lr(0.1, 90), lt.step_lr(0.1, 7, 0.5)], [10, 100]
    )
    drift(mirror.values(200), stepped(make, 200), 1e-12)


def test_sequential_lr_repeated_and_zero_milestones_skip_schedules():
    def make(o):
        a, b = S.ConstantLR(o, factor=0.5, total_iters=100), S.ExponentialLR(o, gamma=0.9)
        c = S.StepLR(o, step_size=3, gamma=0.1)
        return S.SequentialLR(o, [a, b, c], milestones=[0, 5])

    mirror = lt.sequential_lr(
        [lt.constant_lr(0.1, 0.5, 100), lt.exponential_lr(0.1, 0.9), lt.step_lr(0.1, 3, 0.1)], [0, 5]
    )
    drift(mirror.values(30), stepped(make, 30), 1e-13)
    rep = lt.sequential_lr([ls.constant(1.0), ls.constant(2.0), ls.constant(3.0)], [4, 4])
    assert rep == ls.join([ls.constant(1.0), ls.constant(3.0)], boundaries=[4])


def test_chained_scheduler():
    def make(o):
        return S.ChainedScheduler([S.ConstantLR(o, factor=0.1, total_iters=20), S.ExponentialLR(o, gamma=0.99)])

    mirror = lt.chained_scheduler([lt.constant_lr(0.1, 0.1, 20), lt.exponential_lr(0.1, 0.99)], 0.1)
    drift(mirror.values(200), stepped(make, 200), 1e-12)


def test_torch_sequential_lr_resume_differs_but_the_mirror_cannot():
    # the stateless mirror answers by t alone: resuming is calling it with t
    mirror = lt.sequential_lr([lt.linear_lr(0.1, 0.1, 1.0, 5), lt.exponential_lr(0.1, 0.9)], [5])
    full = mirror.values(40)
    assert all(mirror(t) == full[t - 1] for t in (1, 5, 6, 40))


def test_mirror_parameter_checks():
    with pytest.raises(TypeError, match="step_size must be an integer, got 2.5"):
        lt.step_lr(0.1, 2.5)
    with pytest.raises(ValueError, match=r"milestones\[0\] must be >= 0, got -1"):
        lt.multi_step_lr(0.1, [-1])
    with pytest.raises(ValueError, match="gamma must be >= 0, got -0.5"):
        lt.multi_step_lr(0.1, [3], gamma=-0.5)  # torch takes it; a negative learning rate is refused
    with pytest.raises(ValueError, match=r"factor must be in \(0, 1\]"):
        lt.constant_lr(0.1, 0.0)
    with pytest.raises(ValueError, match=r"start_factor must be in \(0, 1\]"):
        lt.linear_lr(0.1, 0.0)
    with pytest.raises(ValueError, match="T_max must be >= 1, got 0"):
        lt.cosine_annealing_lr(0.1, 0)
    with pytest.raises(ValueError, match="T_mult must be >= 1, got 0"):
        lt.cosine_annealing_warm_restarts(0.1, 10, 0)
    with pytest.raises(ValueError, match="mode must be one of"):
        lt.cyclic_lr(0.1, 1.0, mode="sine")
    with pytest.raises(ValueError, match="needs total_steps, or epochs and steps_per_epoch"):
        lt.one_cycle_lr(0.1)
    with pytest.raises(ValueError, match="no length; torch divides by zero"):
        lt.one_cycle_lr(0.1, total_steps=10, pct_start=0.1)
    with pytest.raises(ValueError, match="milestones must be sorted"):
        lt.sequential_lr([ls.constant(1), ls.constant(2), ls.constant(3)], [10, 5])
    with pytest.raises(ValueError, match="one milestone fewer than schedules"):
        lt.sequential_lr([ls.constant(1), ls.constant(2)], [])
    with pytest.raises(ValueError, match="base_lr must be > 0"):
        lt.chained_scheduler([ls.constant(1)], 0.0)


def test_mirrors_are_plain_schedules():
    s = lt.cosine_annealing_warm_restarts(0.1, 10, 2)
    assert ls.from_json(s.to_json()) == s
    assert eval(repr(lt.step_lr(0.1, 30)), vars(ls)) == lt.step_lr(0.1, 30)
    assert math.isclose(lt.one_cycle_lr(0.1, total_steps=100)(31), 0.1, rel_tol=1e-3)


def test_warm_restarts_at_fractional_epochs_match_torch_step_epoch():
    """torch's own test: T_0 = 10, epochs 0, 0.1, ..., 29.9 through step(epoch); the mirror at t = epoch + 1."""
    import warnings

    for t_mult in (1, 2):
        p = torch.nn.Parameter(torch.zeros(1))
        opt = torch.optim.SGD([p], lr=0.05)
        sched = S.CosineAnnealingWarmRestarts(opt, T_0=10, T_mult=t_mult, eta_min=0.001)
        epochs = np.round(np.arange(0, 300) * 0.1, 10)
        want = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch deprecates step(epoch)
            for e in epochs:
                sched.step(float(e))
                want.append(opt.param_groups[0]["lr"])
        mirror = lt.cosine_annealing_warm_restarts(0.05, T_0=10, T_mult=t_mult, eta_min=0.001)
        np.testing.assert_allclose(mirror(epochs + 1.0), want, rtol=1e-12, atol=1e-17)


def test_warm_restarts_with_t_mult_3_within_a_few_ulps_of_the_peak():
    # T_mult 3 rescales each cycle's clock inexactly (1 and 2 are bit for bit, in CASES)
    want = stepped(lambda o: S.CosineAnnealingWarmRestarts(o, T_0=1, T_mult=3), 3000)
    got = lt.cosine_annealing_warm_restarts(0.1, 1, 3).values(3000)
    np.testing.assert_allclose(got, want, rtol=0, atol=3e-16 * 0.1)


# ---------------------------------------------------------------- the momentum mirrors, and migrated runs


N = 40  # updates in the parity runs
OPTIMIZERS = {
    "sgd": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=1e-4),
    "adam": lambda p: torch.optim.Adam(p, lr=0.1),
    "adamw": lambda p: torch.optim.AdamW(p, lr=0.1),
}


def _data():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(256, 8, generator=g)
    return x, (x[:, 0] + x[:, 1] > 0).long()


def _model():
    torch.manual_seed(1)
    return torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Tanh(), torch.nn.Linear(16, 2))


def _momentum(group):
    return group["momentum"] if "momentum" in group else group["betas"][0]


def _train(make_opt, make_sched, n=N, model=None, opt=None, sched=None, start=0):
    """A real training loop; per update k: (lr, momentum, weight_decay, loss) that update used."""
    x, y = _data()
    if model is None:
        model = _model()
        opt = make_opt(model.parameters())
        sched = make_sched(opt)
    rows = []
    for k in range(start, n):
        i = (k * 32) % 256
        loss = torch.nn.functional.cross_entropy(model(x[i : i + 32]), y[i : i + 32])
        g = opt.param_groups[0]
        rows.append((float(g["lr"]), float(_momentum(g)), float(g["weight_decay"]), loss.item()))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    return np.array(rows), model, opt, sched


ONE_CYCLE_KW = [{}, {"three_phase": True}, {"anneal_strategy": "linear"}, {"pct_start": 0.5, "three_phase": True}]


@pytest.mark.parametrize("kw", ONE_CYCLE_KW, ids=str)
@pytest.mark.parametrize("opt_name", sorted(OPTIMIZERS))
def test_one_cycle_migration_trains_as_torch_does(opt_name, kw):
    make_opt = OPTIMIZERS[opt_name]
    theirs, m1, *_ = _train(make_opt, lambda o: torch.optim.lr_scheduler.OneCycleLR(o, 0.5, total_steps=N, **kw))
    lr = lt.one_cycle_lr(0.5, total_steps=N, **kw)
    momentum = lt.one_cycle_momentum(total_steps=N, **kw)
    ours, m2, *_ = _train(make_opt, lambda o: lt.scheduler(o, lr=lr, momentum=momentum))
    np.testing.assert_allclose(ours[:, :2], theirs[:, :2], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(ours[:, 3], theirs[:, 3])  # the same losses, update for update
    for p, q in zip(m1.parameters(), m2.parameters()):
        assert torch.equal(p, q)


CYCLIC = [
    {"mode": "triangular"},
    {"mode": "triangular2", "step_size_down": 5},
    {"mode": "exp_range", "gamma": 0.97},
    {"scale_fn": lambda c: 1 / c, "scale_mode": "cycle"},
    {"scale_fn": lambda e: 0.99**e, "scale_mode": "iterations", "step_size_down": 3},
]


@pytest.mark.parametrize("kw", CYCLIC, ids=lambda kw: kw.get("mode", kw.get("scale_mode")))
@pytest.mark.parametrize("opt_name", sorted(OPTIMIZERS))
def test_cyclic_migration_trains_as_torch_does(opt_name, kw):
    make_opt = OPTIMIZERS[opt_name]
    theirs, m1, *_ = _train(make_opt, lambda o: torch.optim.lr_scheduler.CyclicLR(o, 0.01, 0.5, step_size_up=7, **kw))
    lr = lt.cyclic_lr(0.01, 0.5, step_size_up=7, **kw)
    momentum = lt.cyclic_momentum(step_size_up=7, **kw)
    ours, m2, *_ = _train(make_opt, lambda o: lt.scheduler(o, lr=lr, momentum=momentum))
    np.testing.assert_allclose(ours[:, :2], theirs[:, :2], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(ours[:, 3], theirs[:, 3])
    for p, q in zip(m1.parameters(), m2.parameters()):
        assert torch.equal(p, q)


def test_momentum_mirrors_follow_torch_far_past_a_cycle():
    # torch's own values, stepped 600 times on a bare optimizer (momentum only, no training)
    for kw in [{}, {"mode": "triangular2"}, {"mode": "exp_range", "gamma": 0.999}]:
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)
        sched = torch.optim.lr_scheduler.CyclicLR(opt, 0.01, 0.1, step_size_up=13, step_size_down=4, **kw)
        want = []
        for _ in range(600):
            want.append(opt.param_groups[0]["momentum"])
            opt.step()
            sched.step()
        got = lt.cyclic_momentum(step_size_up=13, step_size_down=4, **kw).values(600)
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def test_momentum_mirror_checks():
    with pytest.raises(ValueError, match="base_momentum"):
        lt.one_cycle_momentum(total_steps=10, base_momentum=-0.1)
    with pytest.raises(ValueError, match="total_steps, or epochs and steps_per_epoch"):
        lt.one_cycle_momentum()
    with pytest.raises(ValueError, match="step_size_up"):
        lt.cyclic_momentum(step_size_up=0)
    assert lt.one_cycle_momentum(epochs=2, steps_per_epoch=5) == lt.one_cycle_momentum(total_steps=10)
    m = lt.one_cycle_momentum(total_steps=100)
    assert (m(1), m(30), m(100), m(10**6)) == (0.95, 0.85, pytest.approx(0.95, abs=1e-12), 0.95)
    assert math.isclose(m(30), 0.85)
