"""lrsched.torch.scheduler: every param-group key from a schedule, checked against real torch runs.

Expected values come from torch itself (OneCycleLR and CyclicLR, which cycle
the momentum by default) or from the schedules' own formulas at t = k.
"""

import io
import json
import math
import warnings

import numpy as np
import pytest

import lrsched as ls

torch = pytest.importorskip("torch")
lt = ls.torch

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


ONE_CYCLE = [{}, {"three_phase": True}, {"anneal_strategy": "linear"}, {"pct_start": 0.5, "three_phase": True}]


@pytest.mark.parametrize("kw", ONE_CYCLE, ids=str)
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


def _sgd(groups=1, **kw):
    params = [{"params": [torch.nn.Parameter(torch.zeros(2))]} for _ in range(groups)]
    return torch.optim.SGD(params, lr=1.0, **{"momentum": 0.5, **kw})


def test_the_kth_update_uses_s_of_k_for_every_key_to_the_bit():
    lr, mom, wd = ls.cosine(0.1, 0.001, steps=30), ls.linear(0.8, 0.95, 20), ls.step(1e-3, every=7, factor=0.5)
    opt = _sgd(groups=2, dampening=0.0)
    sched = lt.scheduler(opt, lr=[lr, 0.05], momentum=mom, weight_decay=wd, dampening=[None, ls.linear(0, 0.1, 5)])
    assert isinstance(sched, torch.optim.lr_scheduler.LRScheduler)
    for k in range(1, 41):
        g0, g1 = opt.param_groups
        assert (g0["lr"], g0["momentum"], g0["weight_decay"]) == (lr(k), mom(k), wd(k))
        assert (g1["lr"], g1["momentum"], g1["weight_decay"]) == (0.05, mom(k), wd(k))
        assert g0["dampening"] == 0.0 and g1["dampening"] == ls.linear(0, 0.1, 5)(k)
        assert sched.get_last_lr() == [lr(k), 0.05]
        opt.step()
        sched.step()


def test_momentum_is_beta1_for_adam_and_beta2_stays():
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.AdamW([p], lr=0.1, betas=(0.9, 0.97))
    mom = ls.linear(0.95, 0.85, 10)
    sched = lt.scheduler(opt, momentum=mom)
    for k in range(1, 5):
        assert opt.param_groups[0]["betas"] == (mom(k), 0.97)
        assert opt.param_groups[0]["lr"] == 0.1  # lr not given: left alone
        opt.step()
        sched.step()


def _adagrad():
    return torch.optim.Adagrad([torch.nn.Parameter(torch.zeros(1))])


def _adam():
    return torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))])


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (lambda: lt.scheduler(_adagrad(), momentum=0.9), ValueError, "neither 'momentum' nor 'betas'"),
        (lambda: lt.scheduler(_sgd(), wieght_decay=0.1), ValueError, "no key 'wieght_decay'; did you mean"),
        (lambda: lt.scheduler(_sgd(), nesterov=ls.constant(1.0)), ValueError, "nesterov: SGD's param group 0 holds"),
        (lambda: lt.scheduler(_adam(), betas=0.9), ValueError, r"momentum= schedules betas\[0\]"),
        (lambda: lt.scheduler(_sgd()), ValueError, "at least one schedule"),
        (lambda: lt.scheduler(_sgd(groups=2), lr=[ls.constant(0.1)]), ValueError, "list of 1 schedules for 2"),
        (lambda: lt.scheduler(_sgd(), lr=lambda e: 0.1), TypeError, r"lr must be an lrsched schedule.*function"),
        (lambda: lt.scheduler(_sgd(), lr=[None]), ValueError, "no schedule for any param group"),
        (lambda: lt.scheduler("sgd", lr=0.1), TypeError, "optimizer must be a torch.optim.Optimizer, got str"),
    ],
)
def test_mistakes_are_named(build, error, message):
    with pytest.raises(error, match=message):
        build()


def test_a_negative_value_is_refused_when_an_update_would_use_it():
    opt = _sgd()
    sched = lt.scheduler(opt, lr=ls.linear(0.1, -0.1, 10))  # below 0 from t = 6
    for _ in range(5):
        opt.step()
        sched.step()
    with pytest.raises(ValueError, match=r"update 6 would use lr = -0\.02.* lr must be >= 0"):
        opt.step()
    opt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))])
    sched = lt.scheduler(opt, momentum=1.0)  # the scheduler guards while it lives
    with pytest.raises(ValueError, match=r"beta1 = 1\.0 .*beta1 must be in \[0, 1\)"):
        opt.step()


def test_a_value_computed_after_the_last_update_is_not_refused():
    # torch's linear OneCycleLR computes one value past its end, and there it is negative
    n = 10
    lr = lt.one_cycle_lr(1.0, total_steps=n, anneal_strategy="linear")
    assert lr(n + 1) < 0
    opt = _sgd()
    theirs = torch.optim.lr_scheduler.OneCycleLR(_sgd(), 1.0, total_steps=n, anneal_strategy="linear")
    sched = lt.scheduler(opt, lr=lr)
    for _ in range(n):
        opt.step()
        sched.step()
        theirs.optimizer.step()
        theirs.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(theirs.get_last_lr()[0], abs=1e-15)
    assert opt.param_groups[0]["lr"] < 0
    with pytest.raises(ValueError, match=f"update {n + 1} would use lr"):
        opt.step()  # an update past the end would use it


def test_lambda_lr_refuses_a_negative_lr_too():
    opt = _sgd()
    sched = lt.lambda_lr(opt, ls.linear(0.1, -0.1, 2))  # t = 1: 0, t = 2: -0.1
    opt.step()
    sched.step()
    with pytest.raises(ValueError, match="update 2 would use lr = -0.1"):
        opt.step()


def _make(opt):
    return lt.scheduler(
        opt,
        lr=lt.one_cycle_lr(0.5, total_steps=N),
        momentum=lt.one_cycle_momentum(total_steps=N),
        weight_decay=ls.linear(1e-4, 1e-3, N),
    )


@pytest.mark.parametrize("order", ["scheduler_first", "optimizer_first"])
@pytest.mark.parametrize("k", [1, 7, 12, 25, N - 1])
def test_resume_at_any_k_continues_exactly_in_both_load_orders(k, order):
    make_opt = OPTIMIZERS["sgd"]
    whole, m_whole, *_ = _train(make_opt, _make)
    first, model, opt, sched = _train(make_opt, _make, n=k)
    buf = io.BytesIO()
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict()}, buf)
    json.dumps(sched.state_dict())  # plain JSON types
    buf.seek(0)
    ck = torch.load(buf, weights_only=True)

    model2 = _model()
    model2.load_state_dict(ck["model"])
    opt2 = make_opt(model2.parameters())
    if order == "scheduler_first":  # the usual order: build everything, then load
        sched2 = _make(opt2)
        opt2.load_state_dict(ck["opt"])
    else:  # load the optimizer, then build the scheduler
        opt2.load_state_dict(ck["opt"])
        sched2 = _make(opt2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the same schedules: no warning
        sched2.load_state_dict(ck["sched"])
    rest, m_rest, *_ = _train(make_opt, None, n=N, model=model2, opt=opt2, sched=sched2, start=k)
    np.testing.assert_array_equal(np.vstack([first, rest]), whole)
    for p, q in zip(m_whole.parameters(), m_rest.parameters()):
        assert torch.equal(p, q)


def test_a_checkpoint_that_scheduled_fewer_keys_resumes_on_the_code_and_says_so():
    opt = _sgd()
    old = lt.scheduler(opt, lr=ls.constant(0.1))
    state = old.state_dict()
    new = lt.scheduler(_sgd(), lr=ls.constant(0.1), momentum=ls.linear(0.9, 0.8, 10))
    with pytest.warns(UserWarning, match="does not schedule momentum; the schedule in code is used"):
        new.load_state_dict(state)
    assert new.optimizer.param_groups[0]["momentum"] == ls.linear(0.9, 0.8, 10)(1)


def test_whole_scheduler_pickles_and_keeps_refusing():
    opt = _sgd()
    sched = lt.scheduler(opt, lr=ls.linear(0.1, -0.1, 4), momentum=0.9)  # t = 3: -0.05
    opt.step()
    sched.step()
    buf = io.BytesIO()
    torch.save(sched, buf)
    buf.seek(0)
    again = torch.load(buf, weights_only=False)
    assert isinstance(again, lt.Scheduler)
    assert repr(again) == "Scheduler(lr=linear(0.1, -0.1, 4), momentum=constant(0.9), last_epoch=1)"
    again.optimizer.step()
    again.step()
    with pytest.raises(ValueError, match="update 3 would use lr = -0.05"):
        again.optimizer.step()


def test_step_takes_no_epoch():
    sched = lt.scheduler(_sgd(), lr=0.1)
    with pytest.raises(TypeError, match="counts updates and takes no argument"):
        sched.step(3)


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
