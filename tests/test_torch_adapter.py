"""lrsched.torch.scheduler, plateau_lr and lambda_lr: the values each update uses, the checks, the run's length,
the clock (who steers the optimizer), and checkpoints.

Expected values come from torch itself or from the schedules' own formulas at
t = k (written in numpy where the schedule is symbolic); the real training
loops (accumulation, GradScaler, accelerate, Lightning, the Hugging Face
Trainer) are in tests/test_training_loops.py.
"""

from __future__ import annotations

import functools
import io
import json
import warnings

import numpy as np
import pytest

import lrsched as ls

from .test_symbols import assert_close, np_cosine, np_step, np_warmup
from .test_torch_mirrors import OPTIMIZERS, N, _model, _optimizer, _train

torch = pytest.importorskip("torch", reason="installed by the README test command")
import lrsched.torch as lt  # noqa: E402

S = torch.optim.lr_scheduler
T, E = ls.total, ls.epoch


# ---------------------------------------------------------------- scheduler: every param-group key, per real update


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
        (lambda: lt.scheduler(_adam(), betas=0.9), TypeError, r"betas must be a pair \(beta1, beta2\).*got 0.9"),
        (lambda: lt.scheduler(_sgd(), betas=(None, 0.99)), ValueError, "SGD's param group 0 has no 'betas' pair"),
        (lambda: lt.scheduler(_adam(), momentum=0.9, betas=(0.8, None)), TypeError, "momentum= and beta1= both"),
        (lambda: lt.scheduler(_adam(), betas=((0.9, 0.8), None)), TypeError, "beta1 is a tuple"),
        (lambda: lt.scheduler(_adam(), lr=0.1, relative={"eps"}), ValueError, "'eps' is not a scheduled key"),
        (lambda: lt.scheduler(_adam(), betas=(0.9, None), relative={"beta1"}), ValueError, "beta1 is a decay rate"),
        (lambda: lt.scheduler(_adam(), lr=0.1, relative="lr"), TypeError, "relative must be True, False or a set"),
        (lambda: lt.scheduler(_sgd(), lr=0.1, unit=3), TypeError, "unit must be the name of a unit"),
        (lambda: lt.scheduler(_sgd(), lr=0.1, unit="tokens", last_epoch=4), ValueError, "last_epoch=4 with unit="),
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


def test_step_takes_no_epoch():
    sched = lt.scheduler(_sgd(), lr=0.1)
    with pytest.raises(TypeError, match="counts updates and takes no argument"):
        sched.step(3)


# ---------------------------------------------------------------- values torch refuses


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


# ---------------------------------------------------------------- the run's length: total= and epoch=


def _sgd_and_param(torch, momentum=None):
    p = torch.nn.Parameter(torch.zeros(2))
    kw = {} if momentum is None else {"momentum": momentum}
    return torch.optim.SGD([p], lr=1.0, **kw), p


def _updates(torch, opt, p, n):
    """The lr each of n optimizer updates used."""
    lrs = []
    for _ in range(n):
        p.grad = torch.ones_like(p)
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
    return np.array(lrs)


def test_torch_scheduler_binds_total_and_epoch():
    torch = pytest.importorskip("torch", reason="installed by the README test command")
    import lrsched.torch as lt

    s = ls.warmup(ls.cosine(0.1, 0, steps=T - 10), steps=10)
    with pytest.raises(ValueError, match="total"):
        lt.scheduler(_sgd_and_param(torch)[0], lr=s)
    with pytest.raises(ValueError, match="epoch"):
        lt.scheduler(_sgd_and_param(torch)[0], lr=ls.step(0.1, every=3 * E, factor=0.5), total=100)
    opt, p = _sgd_and_param(torch)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sch = lt.scheduler(opt, lr=s, total=100)
        assert sch.schedules["lr"][0] == ls.warmup(ls.cosine(0.1, 0, steps=90), steps=10)
        got = _updates(torch, opt, p, 100)
    t = np.arange(1, 101, dtype=float)
    assert_close(got, np_warmup(t, lambda u: np_cosine(u, 0.1, 0.0, 90), 10))
    opt, p = _sgd_and_param(torch)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sch = lt.scheduler(opt, lr=ls.step(0.1, every=3 * E, factor=0.5), epoch=10)  # kept: it steers while it exists
        got = _updates(torch, opt, p, 70)
    assert_close(got, np_step(np.arange(1, 71), 0.1, 30, 0.5))
    opt, p = _sgd_and_param(torch, momentum=0.9)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sch = lt.scheduler(opt, lr=0.1, momentum=ls.linear(0.9, 0.8, T), total=50)
    assert sch.schedules["momentum"][0] == ls.linear(0.9, 0.8, 50)
    for bad, error in ((0, ValueError), (2.5, ValueError), (True, TypeError), ("100", TypeError)):
        with pytest.raises(error, match="total"):
            lt.scheduler(_sgd_and_param(torch)[0], lr=s, total=bad)
    with pytest.raises(ValueError, match=r"steps.*total"):
        lt.scheduler(_sgd_and_param(torch)[0], lr=s, total=5)


def test_torch_warns_once_when_the_run_passes_its_total():
    torch = pytest.importorskip("torch", reason="installed by the README test command")
    import lrsched.torch as lt

    opt, p = _sgd_and_param(torch)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sch = lt.scheduler(  # noqa: F841
            opt, lr=ls.warmup(ls.cosine(0.1, 0, steps=T - 5), steps=5), total=20
        )  # kept: it steers while it exists
        _updates(torch, opt, p, 20)  # up to the total: no warning
    with pytest.warns(ls.TimeWarning, match=r"update 21\b.*\b20\b") as record:
        _updates(torch, opt, p, 1)
    assert len([w for w in record if issubclass(w.category, ls.TimeWarning)]) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _updates(torch, opt, p, 10)  # once only


@pytest.mark.parametrize(
    ("schedule", "match"),
    [
        (ls.cosine(0.1, 0, steps=30), "before half"),  # durations in epochs where updates were meant
        (ls.warmup(ls.cosine(0.1, 0, steps=40), steps=9), "before half"),
        (ls.cosine(0.1, 0, steps=49), "before half"),
        (ls.cosine(0.1, 0, steps=300), "after the run"),  # the run ends before the schedule does
        (ls.cosine(0.1, 0, steps=101), "after the run"),
        (ls.warmup(ls.cosine(0.1, 0, steps=T), steps=10), "after the run"),  # total bound, then 10 more
    ],
    ids=repr,
)
def test_torch_warns_at_creation_when_the_schedule_does_not_fit_the_run(schedule, match):
    torch = pytest.importorskip("torch", reason="installed by the README test command")
    import lrsched.torch as lt

    with pytest.warns(ls.TimeWarning, match=match):
        lt.scheduler(_sgd_and_param(torch)[0], lr=schedule, total=100)


@pytest.mark.parametrize(
    "schedule",
    [
        ls.warmup(ls.constant(0.1), steps=10),  # settles at its peak
        ls.multistep(0.1, [30, 80], factor=0.1),  # last change late in the run
        ls.exponential(0.1, 0.99),  # never settles
        ls.cosine(0.1, 0, steps=100),  # exactly the run
        ls.cosine(0.1, 0, steps=50),  # settles at half the run, not before
        ls.linear(0.0, 0.1, 20),  # settles early, at its peak
        ls.warmup_cosine(0.1, steps=T, warmup_steps=0.05 * T),
    ],
    ids=repr,
)
def test_torch_does_not_warn_for_schedules_that_fit(schedule):
    torch = pytest.importorskip("torch", reason="installed by the README test command")
    import lrsched.torch as lt

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lt.scheduler(_sgd_and_param(torch)[0], lr=schedule, total=100)


# ---------------------------------------------------------------- the clock: who steers, one scheduler while it exists


def _lrs_used(opt, n):
    """The lr each of n plain SGD updates used (a pre-hook registered last reads what the update uses)."""
    seen = []
    handle = opt.register_step_pre_hook(lambda o, a, k: seen.append(o.param_groups[0]["lr"]))
    p = opt.param_groups[0]["params"][0]
    for _ in range(n):
        p.grad = torch.ones_like(p)
        opt.step()
    handle.remove()
    return seen


def test_a_dropped_scheduler_stops_steering_and_torchs_own_then_works():
    p = torch.nn.Parameter(torch.zeros(2))
    opt = torch.optim.SGD([p], lr=1.0)
    s = lt.scheduler(opt, lr=ls.linear(1.0, 0.0, 10))
    del s  # no reference left: its hooks leave the optimizer with it
    step = torch.optim.lr_scheduler.StepLR(opt, 1, 0.5)
    seen = []
    for _ in range(3):
        seen += _lrs_used(opt, 1)
        step.step()
    assert seen == [0.9, 0.45, 0.225]  # StepLR halving the lr lrsched left (s(1) = 0.9)


def test_close_stops_steering_and_two_live_schedulers_of_one_key_are_named():
    p = torch.nn.Parameter(torch.zeros(2))
    opt = torch.optim.SGD([p], lr=1.0, momentum=0.9)
    a = lt.scheduler(opt, lr=ls.constant(0.5), momentum=ls.constant(0.8))
    with pytest.warns(UserWarning, match="another live scheduler already steers lr"):
        b = lt.scheduler(opt, lr=ls.constant(0.25))
    assert _lrs_used(opt, 2) == [0.25, 0.25]  # the newer writes last
    b.close()
    assert _lrs_used(opt, 1) == [0.5]  # a still steers, momentum included
    assert opt.param_groups[0]["momentum"] == 0.8
    a.close()
    opt.param_groups[0]["lr"] = 0.125
    assert _lrs_used(opt, 1) == [0.125]
    assert a.last_epoch == 3  # closed: nothing counted after


def test_the_range_test_neither_counts_nor_follows_a_scheduler_of_the_same_optimizer():
    model = torch.nn.Linear(4, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    sched = lt.scheduler(opt, lr=ls.constant(0.01))
    used = []
    opt.register_step_pre_hook(lambda o, a, k: used.append(o.param_groups[0]["lr"]))
    x, y = torch.randn(64, 4), torch.randint(0, 2, (64,))
    r = lt.find_lr(model, opt, torch.nn.functional.cross_entropy, [(x, y)], start=1e-5, end=1.0, steps=20)
    np.testing.assert_array_equal(used[: len(r.lrs)], r.lrs[: len(used)])  # the ramp, not the schedule's 0.01
    assert sched.last_epoch == 0 and opt.param_groups[0]["lr"] == 0.01


# ---------------------------------------------------------------- checkpoints, pickles, the schedule in code


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


@pytest.mark.parametrize("make", ["lambda_lr", "plateau_lr"])
def test_resuming_an_extended_run_follows_the_code_and_says_so(make, tmp_path):
    """Trained 120 of 300 updates, then the run is extended to 600: the checkpoint must not bring 300 back."""
    short = ls.warmup(ls.cosine(0.1, 0.0, steps=270), steps=30)
    longer = ls.warmup(ls.cosine(0.1, 0.0, steps=570), steps=30)

    def build(opt, s):
        return lt.lambda_lr(opt, s) if make == "lambda_lr" else lt.plateau_lr(opt, s, ls.plateau())

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = build(opt, short)
    for _ in range(120):
        opt.step()
        sched.step()
    torch.save({"opt": opt.state_dict(), "sched": sched.state_dict()}, tmp_path / "ckpt.pt")

    ckpt = torch.load(tmp_path / "ckpt.pt", weights_only=True)
    opt2 = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched2 = build(opt2, longer)
    opt2.load_state_dict(ckpt["opt"])
    want_t = next(t for t in range(1, 601) if short(t) != longer(t))
    message = rf"differs from the one in code .* from t = {want_t} on; the one in code is used"
    with pytest.warns(UserWarning, match=message):
        sched2.load_state_dict(ckpt["sched"])
    lrs = []
    for _ in range(5):
        lrs.append(opt2.param_groups[0]["lr"])
        opt2.step()
        sched2.step()
    assert lrs == [longer(t) for t in range(121, 126)]
    saved = sched2.state_dict()  # and a new checkpoint holds the schedule in code
    configs = [x["config"] for x in saved["lr_lambdas"]] if "lr_lambdas" in saved else saved["schedules"]["lr"]
    assert configs == [longer.to_dict()]


def test_the_same_schedule_resumes_without_a_warning(tmp_path):
    import warnings

    s = ls.warmup(ls.cosine(0.1, 0.0, steps=270), steps=30)
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = lt.lambda_lr(opt, s)
    state = sched.state_dict()
    sched2 = lt.lambda_lr(torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0), s)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched2.load_state_dict(state)
        sched2.optimizer.step()
        sched2.step()


# ---------------------------------------------------------------- hostile checkpoints, and counts up to 2**53

DEEP = functools.reduce(lambda inner, _: [inner], range(5000), [])  # a list nested 5000 deep: its repr recurses
LIN = ls.linear(0.1, 0.0, 10)


@pytest.mark.parametrize(
    ("name", "value", "shown"),
    [
        ("bases", 5, "5"),
        ("bases", np.array([1.0, 2.0]), r"array\(\[1\., 2\.\]\)"),
        ("bases", torch.tensor([1.0, 2.0]), r"tensor\(\[1\., 2\.\]\)"),
        ("bases", DEEP, "<a list nested too deeply to show>"),
        ("schedules", {1: [None]}, r"\{1: \[None\]\}"),
        ("driven", {"a": {}, 1: {}}, r"\{'a': \{\}, 1: \{\}\}"),
        ("driven", np.array([1, 2]), r"array\(\[1, 2\]\)"),
        ("units", 10**5000, "<an int of 16610 bits, about 10\\*\\*5000>"),
        ("units", np.array([1, 2]), r"array\(\[1, 2\]\)"),
        ("units", torch.tensor([1, 2]), r"tensor\(\[1, 2\]\)"),
    ],
    ids=lambda x: x if isinstance(x, str) and len(x) < 12 else type(x).__name__,
)
def test_a_hostile_checkpoint_field_is_refused_naming_it_and_showing_it(name, value, shown):
    saved = lt.scheduler(_sgd(), lr=LIN).state_dict()
    sched = lt.scheduler(_sgd(), lr=LIN)
    with pytest.raises(ValueError, match=rf"^scheduler state: {name} must be a dict .*, got {shown}$"):
        sched.load_state_dict({**saved, name: value})
    sched.load_state_dict(saved)  # the scheduler is as it was


def test_a_state_dict_with_keys_of_several_types_is_named():
    with pytest.raises(ValueError, match=r"not an lrsched scheduler state: no 'last_epoch' in \['a', 1\]"):
        lt.scheduler(_sgd(), lr=LIN).load_state_dict({1: 2, "a": 3})


@pytest.mark.parametrize("make", [lt.lambda_lr, lambda opt, s: lt.plateau_lr(opt, s, ls.plateau())])
def test_lambda_and_plateau_lr_need_a_schedule(make):
    with pytest.raises(TypeError, match=r"^schedule must give a schedule for every param group, got None$"):
        make(_sgd(), None)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("base_lrs", [], "base_lrs has 0 entries for 1 param groups"),
        ("base_lrs", [1.0, 1.0], "base_lrs has 2 entries for 1 param groups"),
        ("_step_count", "x", "_step_count must be an integer, got 'x'"),
        ("_step_count", None, "_step_count must be an integer, got None"),
        ("_step_count", [], r"_step_count must be an integer, got \[\]"),
        ("lr_lambdas", [DEEP], r"lr_lambdas\[0\] must be a dict \(or None\), got <a list nested too deeply to show>"),
        ("lr_lambdas", [5], r"lr_lambdas\[0\] must be a dict \(or None\), got 5"),
    ],
)
def test_lambda_lr_checks_each_field_of_a_checkpoint_at_load(name, value, message):
    opt = _sgd()
    saved = lt.lambda_lr(_sgd(), LIN).state_dict()
    sched = lt.lambda_lr(opt, LIN)
    with pytest.raises(ValueError, match=rf"^scheduler state: {message}$"):
        sched.load_state_dict({**saved, name: value})
    opt.step()
    sched.step()  # the scheduler is as it was
    assert sched.last_epoch == 1 and opt.param_groups[0]["lr"] == LIN(2)


def test_the_update_past_2_53_is_refused_and_what_a_scheduler_saves_it_loads():
    """2**53 (lrsched._validate.MAX_COUNT) is the largest count a schedule reads exactly and a state dict loads:
    update 2**53 runs, the next one is refused by its optimizer.step(), before anything changes."""
    big = 2**53
    opt = _sgd(momentum=0.0)
    sched = lt.scheduler(opt, lr=LIN, last_epoch=big - 1)
    opt.param_groups[0]["params"][0].grad = torch.ones(2)
    opt.step()  # update 2**53
    assert sched.last_epoch == big
    before = opt.param_groups[0]["params"][0].detach().clone()
    with pytest.raises(ValueError, match=rf"update {big + 1} would count past 2\*\*53 = {big}"):
        opt.step()
    assert sched.last_epoch == big and torch.equal(opt.param_groups[0]["params"][0], before)
    fresh = lt.scheduler(_sgd(), lr=LIN)
    fresh.load_state_dict(sched.state_dict())
    assert fresh.last_epoch == big

    fresh.load_state_dict({**sched.state_dict(), "_step_count": big})  # scheduler.step() calls count to 2**53 too
    with pytest.raises(ValueError, match=rf"scheduler.step\(\) call {big + 1} would count past 2\*\*53"):
        fresh.step()
    lt.scheduler(_sgd(), lr=LIN).load_state_dict(fresh.state_dict())


def test_lambda_lr_counts_steps_up_to_2_53_and_what_it_saves_it_loads():
    big = 2**53
    opt = _sgd()
    sched = lt.lambda_lr(opt, LIN, last_epoch=big - 1)
    opt.step()
    sched.step()
    assert sched.last_epoch == big
    with pytest.raises(ValueError, match=rf"update {big + 1} would count past 2\*\*53"):
        opt.step()
    with pytest.raises(ValueError, match=r"scheduler.step\(\) call .* would count past 2\*\*53"):
        sched.step()
    assert sched.last_epoch == big
    fresh = lt.lambda_lr(_sgd(), LIN)
    fresh.load_state_dict(sched.state_dict())
    assert fresh.last_epoch == big


def test_messages_show_an_epoch_given_to_step_without_its_repr():
    for sched in (lt.scheduler(_sgd(), lr=LIN), lt.lambda_lr(_sgd(), LIN), lt.plateau_lr(_sgd(), LIN, ls.plateau())):
        with pytest.raises(TypeError, match="takes no argument, got <an int of 16610 bits"):
            sched.step(10**5000)
        with pytest.raises(TypeError, match="takes no argument, got <a list nested too deeply to show>"):
            sched.step(DEEP)


def test_a_relative_set_of_hostile_keys_is_named():
    with pytest.raises(ValueError, match="relative: <an int of 16610 bits, about 10\\*\\*5000> is not a scheduled"):
        lt.scheduler(_sgd(), lr=LIN, relative={10**5000})
    with pytest.raises(TypeError, match=r"relative must be True, False or a set of scheduled keys, got \[\[\]\]"):
        lt.scheduler(_sgd(), lr=LIN, relative=[[]])


# ---------------------------------------------------------------- plateau_lr


def test_plateau_lr_step_with_a_metric_points_to_report():
    torch = pytest.importorskip("torch", reason="the torch adapter")
    import lrsched.torch

    model = torch.nn.Linear(2, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = lrsched.torch.plateau_lr(opt, ls.constant(0.1), ls.plateau(patience=0))
    opt.step()
    with pytest.raises(TypeError, match=r"report\(metric\)"):
        sched.step(0.5)
    sched.step()
    sched.report(1.0)
    assert opt.param_groups[0]["lr"] == 0.1


def test_a_resumed_plateau_keeps_the_rule_in_code_and_says_when_the_checkpoints_differs():
    p = torch.nn.Parameter(torch.zeros(2))
    opt = torch.optim.SGD([p], lr=1.0)
    saved = lt.plateau_lr(opt, ls.constant(0.1), ls.plateau(patience=10)).state_dict()
    opt2 = torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=1.0)
    code = lt.plateau_lr(opt2, ls.constant(0.1), ls.plateau(patience=0, factor=0.5))
    with pytest.warns(UserWarning, match="plateau rule .* differs from the one in code"):
        code.load_state_dict(saved)
    assert code.rule.patience == 0
    code.report(1.0)
    code.report(2.0)  # a bad epoch with patience 0: the code's rule reduces
    assert opt2.param_groups[0]["lr"] == 0.05


# ---------------------------------------------------------------- lambda_lr: torch's own LambdaLR contract


SCHED = ls.warmup(ls.cosine(0.1, 1e-5, steps=900), steps=100)


def adapter_lrs(lr, schedule=SCHED, n=1000, relative=False, groups=1):
    opt = _optimizer(lr, groups)
    sched = lt.lambda_lr(opt, schedule, relative=relative)
    out = []
    for _ in range(n):
        out.append([float(g["lr"]) for g in opt.param_groups])
        opt.step()
        sched.step()
    return np.array(out)


@pytest.mark.parametrize("lr", [0.1, 0.0, 7.5, 1e-9])
def test_lambda_lr_absolute_is_the_schedule_whatever_the_optimizer_lr(lr):
    # warnings are errors in this suite: the canonical loop raises none
    got = adapter_lrs(lr)[:, 0]
    np.testing.assert_array_equal(got, SCHED.values(1000))


def test_lambda_lr_relative():
    got = adapter_lrs(2.0, ls.cosine(1.0, 0.0, steps=100), 150, relative=True)[:, 0]
    np.testing.assert_array_equal(got, 2.0 * ls.cosine(1.0, 0.0, steps=100).values(150))
    with pytest.raises(ValueError, match="initial lr 0"):
        lt.lambda_lr(_optimizer(0.0), SCHED, relative=True)


def test_lambda_lr_one_schedule_per_group():
    a, b = ls.constant(0.3), ls.linear(0.1, 0.0, 10)
    got = adapter_lrs(1.0, [a, b], 12, groups=2)
    np.testing.assert_array_equal(got[:, 0], a.values(12))
    np.testing.assert_array_equal(got[:, 1], b.values(12))
    with pytest.raises(ValueError, match="list of 1 schedules for 2 param groups"):
        lt.lambda_lr(_optimizer(groups=2), [a])
    with pytest.raises(TypeError, match="lrsched schedule"):
        lt.lambda_lr(_optimizer(), lambda e: 0.1)
    with pytest.raises(TypeError, match="torch.optim.Optimizer"):
        lt.lambda_lr(object(), a)


@pytest.mark.parametrize("k", [0, 1, 7, 100, 101, 999])
@pytest.mark.parametrize(
    "schedule", [SCHED, lt.sequential_lr([lt.linear_lr(0.1, 0.1, 1.0, 50), lt.cosine_annealing_lr(0.1, 500)], [50])]
)
def test_resume_from_a_checkpoint_continues_exactly(k, schedule):
    n = 1200
    full = adapter_lrs(0.1, schedule, n)[:, 0]

    model = torch.nn.Linear(1, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = lt.lambda_lr(opt, schedule)
    for _ in range(k):
        opt.step()
        sched.step()
    buf = io.BytesIO()
    torch.save({"opt": opt.state_dict(), "sched": sched.state_dict()}, buf)
    buf.seek(0)
    ckpt = torch.load(buf, weights_only=True)  # plain data only: no pickled classes

    model2 = torch.nn.Linear(1, 1)
    opt2 = torch.optim.SGD(model2.parameters(), lr=0.5)  # a different lr: the checkpoint wins
    sched2 = lt.lambda_lr(opt2, schedule)  # the same schedule in code (a different one: the code's wins, warned)
    opt2.load_state_dict(ckpt["opt"])
    sched2.load_state_dict(ckpt["sched"])
    resumed = []
    for _ in range(n - k):
        resumed.append(float(opt2.param_groups[0]["lr"]))
        opt2.step()
        sched2.step()
    np.testing.assert_array_equal(resumed, full[k:])


def test_whole_scheduler_pickles_with_torch_save():
    opt = _optimizer()
    sched = lt.lambda_lr(opt, SCHED)
    for _ in range(5):
        opt.step()
        sched.step()
    buf = io.BytesIO()
    torch.save(sched, buf)
    buf.seek(0)
    again = torch.load(buf, weights_only=False)
    assert isinstance(again, S.LambdaLR)
    assert again.lr_lambdas[0].schedule == SCHED
    assert again.last_epoch == 5


@pytest.mark.parametrize("k", [0, 1, 7, 30])
def test_lambda_lr_built_after_k_updates_continues_the_uninterrupted_run(k):
    s = ls.warmup(ls.cosine(0.1, 0.0, steps=90), steps=10)

    def lrs(opt, sched, n):
        out = []
        for _ in range(n):
            out.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        return out

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    full = lrs(opt, lt.lambda_lr(opt, s), 50)
    fresh = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)  # no initial_lr: a fresh optimizer
    sched = lt.lambda_lr(fresh, s, last_epoch=k)
    assert sched.last_epoch == k
    assert lrs(fresh, sched, 50 - k) == full[k:]


def test_relative_resume_needs_the_initial_lr():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    with pytest.raises(ValueError, match="needs param group 0's initial_lr"):
        lt.lambda_lr(opt, ls.constant(0.5), relative=True, last_epoch=3)


def test_torch_plateau_lr_resumes_exactly():
    s = ls.warmup(ls.cosine(0.1, 1e-4, steps=380), steps=20)
    rule = ls.plateau(factor=0.5, patience=1, cooldown=1)
    metrics = [1.0, 0.9, 0.95, 0.96, 0.97, 0.5, 0.6, 0.7, 0.8, 0.9]
    spe = 40

    def run(opt, sched, epochs):
        lrs = []
        for k in epochs:
            for _ in range(spe):
                lrs.append(opt.param_groups[0]["lr"])
                opt.step()
                sched.step()
            sched.report(metrics[k])
        return lrs

    def fresh(lr=0.1):
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
        return opt, lt.plateau_lr(opt, s, rule)

    opt, sched = fresh()
    full = run(opt, sched, range(10))
    np.testing.assert_array_equal(full, rule.replay(s, metrics, spe))
    for stop in (0, 1, 4, 7):
        opt, sched = fresh()
        head = run(opt, sched, range(stop))
        buf = io.BytesIO()
        torch.save({"opt": opt.state_dict(), "sched": sched.state_dict()}, buf)
        buf.seek(0)
        ckpt = torch.load(buf, weights_only=True)
        opt2, sched2 = fresh(lr=5.0)
        opt2.load_state_dict(ckpt["opt"])
        sched2.load_state_dict(ckpt["sched"])
        tail = run(opt2, sched2, range(stop, 10))
        np.testing.assert_array_equal(head + tail, full)
    assert isinstance(sched, lt.PlateauLR)
    assert isinstance(sched, torch.optim.lr_scheduler.LRScheduler)


# ---------------------------------------------------------------- under DeepSpeed's engine: its update is the clock


class _Engine:
    """DeepSpeed's engine as lrsched's clock sees it: ``deepspeed_update`` matches the code objects of
    ``sys.modules["deepspeed.runtime.engine"].DeepSpeedEngine``, which the tests set to this class (the real
    engine runs in tests/test_deepspeed_engine.py). ``_take_model_step`` calls the basic optimizer's step as
    DeepSpeed does: once, once per param group with ``param_groups`` swapped for a one-group list (ZeRO 1 and
    2), or twice over all the groups (ZeRO 3's sub-groups); then it steps its client scheduler, if any."""

    def __init__(self, opt, scheduler=None, initial_step=False):
        self.optimizer, self.lr_scheduler, self.global_steps = opt, scheduler, 0
        if initial_step:  # FP16_UnfusedOptimizer.initialize_optimizer_states: one step on zero gradients
            _gradients(opt, 0.0)
            opt.step()

    def _take_model_step(self, mode):
        opt = self.optimizer
        if mode == "per_group":
            groups = opt.param_groups
            for g in groups:
                opt.param_groups = [g]
                opt.step()
            opt.param_groups = groups
        else:
            for _ in range(2 if mode == "sub_groups" else 1):
                opt.step()
        if self.lr_scheduler is not None:
            self.lr_scheduler.step()
        self.global_steps += 1


def _gradients(opt, x):
    for g in opt.param_groups:
        for p in g["params"]:
            p.grad = torch.full_like(p, x)


@pytest.fixture
def deepspeed_engine(monkeypatch):
    import sys
    import types

    module = types.ModuleType("deepspeed.runtime.engine")
    module.DeepSpeedEngine = _Engine
    monkeypatch.setitem(sys.modules, "deepspeed.runtime.engine", module)
    return _Engine


def _seen_by_group(opt):
    """[{group index: lr}] of each optimizer.step() call, for the groups it steps (found by identity)."""
    groups, calls = list(opt.param_groups), []
    opt.register_step_pre_hook(
        lambda o, a, k: calls.append({next(i for i, h in enumerate(groups) if h is g): g["lr"] for g in o.param_groups})
    )
    return calls


@pytest.mark.parametrize("mode", ["once", "per_group", "sub_groups"])
@pytest.mark.parametrize("client", [True, False])
def test_under_deepspeeds_engine_each_update_is_counted_once(deepspeed_engine, mode, client):
    """However many step() calls DeepSpeed's engine makes per update, each reads s(k) in the groups it steps, and
    the update is counted once: by the engine's scheduler.step() (its client scheduler), or, for a scheduler the
    engine does not step, by the engine's next update and by state_dict()."""
    s = ls.linear(0.1, 0.01, 8)
    opt = _sgd(groups=2)
    sched = lt.scheduler(opt, s)
    engine = deepspeed_engine(opt, sched if client else None)
    calls = _seen_by_group(opt)
    for k in range(1, 6):
        _gradients(opt, 1.0)
        engine._take_model_step(mode)
        expected = float(np.float64(0.1) + (0.01 - 0.1) * k / 8)
        per_update = 1 if mode == "once" else 2
        update = calls[-per_update:]
        assert [set(c) for c in update] == ([{0}, {1}] if mode == "per_group" else [{0, 1}] * per_update)
        for lr in (lr for c in update for lr in c.values()):
            assert lr == pytest.approx(expected, rel=1e-15, abs=0)
        assert sched.last_epoch == (k if client else k - 1)  # a scheduler nothing steps: counted by the next
    assert sum(len(c) for c in calls) == 5 * 2 * (2 if mode == "sub_groups" else 1)
    assert sched.state_dict()["last_epoch"] == 5
    assert sched.last_epoch == 5


def test_the_step_inside_deepspeed_initialize_is_not_an_update(deepspeed_engine):
    """FP16_Optimizer / FP16_UnfusedOptimizer step the basic optimizer once with zero gradients in their
    constructor, inside deepspeed.initialize (DeepSpeedEngine.__init__): it reads s(1) and is not counted, so the
    first real update uses s(1) too."""
    s = ls.linear(0.1, 0.01, 8)
    opt = _sgd()
    sched = lt.scheduler(opt, s)
    calls = _seen_by_group(opt)
    engine = deepspeed_engine(opt, sched, initial_step=True)
    assert sched.last_epoch == 0 and calls == [{0: s(1)}]
    _gradients(opt, 1.0)
    engine._take_model_step("once")
    assert calls[1] == {0: s(1)} and sched.last_epoch == 1
    engine._take_model_step("once")
    assert calls[2] == {0: s(2)} and sched.last_epoch == 2


def test_one_group_steps_after_the_optimizer_state_was_loaded(deepspeed_engine):
    """torch's Optimizer.load_state_dict puts new dicts in place of the groups (holding the same params lists):
    a ZeRO 1 step over one of them, before anything refreshed the scheduler, still finds it and reads s(k)."""
    s = ls.linear(0.1, 0.01, 8)
    opt = _sgd(groups=2)
    sched = lt.scheduler(opt, s)
    engine = deepspeed_engine(opt, sched)
    _gradients(opt, 1.0)
    engine._take_model_step("per_group")
    state = opt.state_dict()
    opt.load_state_dict(state)  # new group dicts, as a checkpoint load makes them
    calls = _seen_by_group(opt)
    engine._take_model_step("per_group")
    assert calls == [{0: s(2)}, {1: s(2)}] and sched.last_epoch == 2


def test_a_deepspeed_step_over_a_group_the_scheduler_does_not_know_is_refused(deepspeed_engine):
    opt = _sgd(groups=2)
    sched = lt.scheduler(opt, ls.linear(0.1, 0.01, 8))
    engine = deepspeed_engine(opt, sched)
    # one group, as ZeRO 1 steps it, and not one of the scheduler's
    opt.param_groups = [{**opt.param_groups[1], "params": [torch.nn.Parameter(torch.ones(2))]}]
    with pytest.raises(ValueError, match=r"group 0 of them is none of the groups .*lr_scheduler=lambda opt"):
        engine._take_model_step("once")


def test_a_step_over_some_groups_outside_deepspeed_is_still_a_removal():
    """Outside DeepSpeed's engine a one-group param_groups list under a two-group scheduler is groups removed,
    refused as before, by scheduler and by lambda_lr."""
    for make in (lambda o: lt.scheduler(o, 0.1), lambda o: lt.lambda_lr(o, 0.1)):
        opt = _sgd(groups=2)
        sched = make(opt)  # kept: a dropped scheduler takes its hooks with it
        opt.param_groups = opt.param_groups[:1]
        with pytest.raises(ValueError, match="removed"):
            opt.step()
        del sched


def test_lambda_lr_under_deepspeeds_engine_steps_one_group_at_a_time(deepspeed_engine):
    """ZeRO 1 and 2's one-group steps are not groups removed for lambda_lr either: each reads s(k)."""
    s = ls.linear(0.1, 0.01, 8)
    opt = _sgd(groups=2)
    engine = deepspeed_engine(opt, lt.lambda_lr(opt, s))
    calls = _seen_by_group(opt)
    for _ in range(3):
        _gradients(opt, 1.0)
        engine._take_model_step("per_group")
    assert calls == [{0: s(1)}, {1: s(1)}, {0: s(2)}, {1: s(2)}, {0: s(3)}, {1: s(3)}]


def test_a_deepspeed_engine_without_the_methods_looked_for_is_said_once(monkeypatch):
    """A DeepSpeed whose engine has no ``_take_model_step``: its updates cannot be recognized, which a warning
    says (once), and each step() is counted, as without DeepSpeed."""
    import sys
    import types

    module = types.ModuleType("deepspeed.runtime.engine")
    module.DeepSpeedEngine = type("DeepSpeedEngine", (), {})
    monkeypatch.setitem(sys.modules, "deepspeed.runtime.engine", module)
    opt = _sgd()
    sched = lt.scheduler(opt, ls.linear(0.1, 0.01, 8))
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        for _ in range(2):
            opt.step()
    said = [str(w.message) for w in seen if "DeepSpeedEngine" in str(w.message)]
    assert len(said) == 1 and "no DeepSpeedEngine._take_model_step" in said[0] and "lambda_lr" in said[0]
    assert sched.last_epoch == 2


def test_no_deepspeed_engine_module_means_no_deepspeed_update(monkeypatch):
    import sys

    from lrsched.torch.clock import deepspeed_update

    monkeypatch.delitem(sys.modules, "deepspeed.runtime.engine", raising=False)
    assert deepspeed_update(sys._getframe()) is None


# ---------------------------------------------------------------- the lazily loaded names, listed


def test_dir_lists_the_lazily_loaded_names_without_loading_them():
    """dir() (tab completion) of lrsched.torch, lrsched.optax and lrsched.keras lists the names whose module
    imports the framework, and listing them imports no framework (a fresh interpreter)."""
    import subprocess
    import sys

    code = (
        "import sys, json, lrsched.torch as t, lrsched.optax as o, lrsched.keras as k\n"
        "print(json.dumps({'dirs': [dir(m) for m in (t, o, k)], "
        "'loaded': [m for m in ('torch', 'jax', 'optax', 'keras') if m in sys.modules]}))"
    )
    out = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    torch_dir, optax_dir, keras_dir = (set(d) for d in out["dirs"])
    assert {"scheduler", "Scheduler", "plateau_lr", "lambda_lr", "find_lr", "adapter", "one_cycle_lr"} <= torch_dir
    assert {"schedule", "find_lr", "OptaxSchedule", "warmup_cosine_decay_schedule"} <= optax_dir
    assert {"schedule", "find_lr", "KerasSchedule", "CosineDecay"} <= keras_dir
    assert out["loaded"] == []
    assert set(lt.__all__) <= set(dir(lt))
