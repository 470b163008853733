"""Every knob on the scheduler's clock: Adam's betas, any attribute of any object, int knobs, relative keys.

The expected values never come from lrsched: each schedule is written out in
numpy, and what each update used is read inside it (a step pre-hook registered
after the scheduler, a forward pre-hook, the code that runs after
``optimizer.step()``), then checked against real torch (Adam, AdamW, NAdam,
Dropout, ``torch.optim.swa_utils.AveragedModel``, ``BatchSampler``) or a numpy
reimplementation of the update.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import lrsched as ls

torch = pytest.importorskip("torch", reason="installed by the README test command")
import lrsched.torch as lt  # noqa: E402
from lrsched.torch.knobs import ScheduleFreeWarning  # noqa: E402

N = 12  # updates per run
LR = ls.warmup(ls.cosine(0.01, 0.0, steps=8), steps=4)
B1 = ls.linear(0.8, 0.95, steps=10)
B2 = ls.cosine(0.9, 0.999, steps=10)  # rises: cosine from 0.9 to 0.999
P = ls.linear(0.0, 0.5, steps=10)
D = ls.linear(0.5, 0.99, steps=10)


def lr_at(k):
    t = np.asarray(k, dtype=np.float64)
    return np.where(t <= 4, 0.01 * t / 4, 0.005 * (1 + np.cos(np.pi * np.minimum(t - 4, 8) / 8)))


def linear_at(start, end, steps, k):
    return start + (end - start) * np.minimum(np.asarray(k, dtype=np.float64), steps) / steps


def b2_at(k):
    return 0.999 + (0.9 - 0.999) * (1 + np.cos(np.pi * np.minimum(np.asarray(k, dtype=np.float64), 10) / 10)) / 2


def grad_at(k):
    """Update k's gradient: fixed, different at every update."""
    return np.array([np.sin(k), np.cos(2.0 * k), 0.5 - 0.1 * k, 1.0 / k])


def run_betas(cls, scheduled, **kw):
    """N updates of ``cls`` on one float64 parameter with gradients grad_at(k); (param, betas each update used)."""
    p = torch.nn.Parameter(torch.tensor([0.5, -1.0, 2.0, 0.1], dtype=torch.float64))
    opt = cls([p], lr=123.0, **kw)
    sched = lt.scheduler(opt, lr=LR, betas=scheduled)
    seen = []
    opt.register_step_pre_hook(lambda o, a, k: seen.append(tuple(float(b) for b in o.param_groups[0]["betas"])))
    for k in range(1, N + 1):
        p.grad = torch.tensor(grad_at(k))
        opt.step()
        sched.step()
    return p.detach().numpy().copy(), seen


def numpy_adam(b1, b2, weight_decay=0.0, decoupled=False, eps=1e-8):
    """torch's Adam / AdamW (no amsgrad), written out, with the betas of each update."""
    p, m, v = np.array([0.5, -1.0, 2.0, 0.1]), np.zeros(4), np.zeros(4)
    for k in range(1, N + 1):
        g, lr, beta1, beta2 = grad_at(k), float(lr_at(k)), b1[k - 1], b2[k - 1]
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        denom = np.sqrt(v) / np.sqrt(1 - beta2**k) + eps
        p = p - lr / (1 - beta1**k) * m / denom
    return p


@pytest.mark.parametrize(
    ("cls", "kw", "decoupled"),
    [(torch.optim.Adam, {}, False), (torch.optim.AdamW, {"weight_decay": 0.1}, True)],
    ids=["Adam", "AdamW"],
)
def test_update_k_uses_betas_of_k_in_real_adam_and_adamw(cls, kw, decoupled):
    k = np.arange(1, N + 1)
    got, seen = run_betas(cls, (B1, B2), **kw)
    want_b1, want_b2 = linear_at(0.8, 0.95, 10, k), b2_at(k)
    np.testing.assert_allclose(np.array(seen), np.stack([want_b1, want_b2], axis=1), rtol=1e-15, atol=0)
    wd = kw.get("weight_decay", 0.0)
    np.testing.assert_allclose(got, numpy_adam(want_b1, want_b2, wd, decoupled), rtol=1e-10, atol=1e-14)
    constant = numpy_adam(np.full(N, 0.9), np.full(N, 0.999), wd, decoupled)
    assert np.abs(got - constant).max() > 1e-4  # the scheduled betas changed the run


def test_beta2_alone_and_nadam_match_betas_set_by_hand():
    """betas=(None, b2) leaves beta1 as the optimizer has it; NAdam driven by the scheduler takes the same steps,
    bit for bit, as a NAdam whose betas and lr are set by hand before each update from the numpy formulas."""
    got, seen = run_betas(torch.optim.NAdam, (None, B2), betas=(0.7, 0.5))
    k = np.arange(1, N + 1)
    assert [b for b, _ in seen] == [0.7] * N
    np.testing.assert_allclose([b for _, b in seen], b2_at(k), rtol=1e-15, atol=0)
    p = torch.nn.Parameter(torch.tensor([0.5, -1.0, 2.0, 0.1], dtype=torch.float64))
    opt = torch.optim.NAdam([p], lr=1.0, betas=(0.7, 0.5))
    for i in range(1, N + 1):
        opt.param_groups[0]["betas"] = (0.7, float(b2_at(i)))
        opt.param_groups[0]["lr"] = float(lr_at(i))
        p.grad = torch.tensor(grad_at(i))
        opt.step()
    np.testing.assert_allclose(got, p.detach().numpy(), rtol=1e-13, atol=0)


def test_momentum_still_schedules_beta1_and_betas_resume():
    p = torch.nn.Parameter(torch.zeros(2))
    opt = torch.optim.Adam([p], lr=1.0)
    sched = lt.scheduler(opt, lr=LR, momentum=B1, betas=(None, B2))
    for _ in range(3):
        p.grad = torch.ones(2)
        opt.step()
    state = sched.state_dict()
    assert sorted(state["schedules"]) == ["beta2", "lr", "momentum"]
    opt2 = torch.optim.Adam([torch.nn.Parameter(torch.zeros(2))], lr=1.0)
    sched2 = lt.scheduler(opt2, lr=LR, momentum=B1, betas=(None, B2))
    sched2.load_state_dict(state)
    assert opt2.param_groups[0]["betas"] == (linear_at(0.8, 0.95, 10, 4), b2_at(4))


def test_a_beta_torch_would_refuse_is_named_by_the_update_that_would_use_it():
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.Adam([p], lr=0.1)
    sched = lt.scheduler(opt, betas=(None, ls.linear(0.99, 1.01, steps=4)))  # 1.0 at update 2
    p.grad = torch.ones(1)
    opt.step()
    with pytest.raises(ValueError, match=r"update 2 would use beta2 = 1\.0 in param group 0, and beta2 must be in"):
        opt.step()
    assert sched.last_epoch == 1


# ---------------------------------------------------------------- any attribute: a Dropout's p


def small_model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Dropout(0.3), torch.nn.Linear(8, 1))


def test_a_dropouts_p_is_p_of_k_in_the_forward_backward_and_step_of_update_k():
    model = small_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = lt.scheduler(opt, lr=LR)
    sched.drive(model[1], "p", P)
    forwards, steps = [], []
    model[1].register_forward_pre_hook(lambda m, a: forwards.append(m.p))
    opt.register_step_pre_hook(lambda o, a, k: steps.append(model[1].p))
    x = torch.randn(16, 4, generator=torch.Generator().manual_seed(1))
    for k in range(1, N + 1):
        for micro in range(2):  # gradient accumulation: both micro-batches see p(k)
            torch.manual_seed(100 * k + micro)
            out = model(x)
            torch.manual_seed(100 * k + micro)  # the same mask, drawn by torch's own dropout at p(k)
            want = model[2](torch.nn.functional.dropout(model[0](x), p=float(linear_at(0.0, 0.5, 10, k))))
            assert torch.equal(out, want)
            out.sum().backward()
        opt.step()
        opt.zero_grad()
        sched.step()
    want_p = linear_at(0.0, 0.5, 10, np.arange(1, N + 1))
    np.testing.assert_allclose(forwards, np.repeat(want_p, 2), rtol=1e-15, atol=0)
    np.testing.assert_allclose(steps, want_p, rtol=1e-15, atol=0)


def test_a_dropout_p_outside_0_1_is_named_where_it_would_be_set():
    model = small_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = lt.scheduler(opt, lr=LR)
    with pytest.raises(ValueError, match=r"update 1 would set Dropout\.p = -0\.5, and Dropout's p is a probability"):
        sched.drive(model[1], "p", -0.5)
    assert model[1].p == 0.3 and not sched.state_dict().get("driven")  # not driven, left as it was
    sched.drive(model[1], "p", ls.linear(0.6, 1.6, steps=10))  # 1.1 at update 5
    for _ in range(3):
        opt.step()
    with pytest.raises(ValueError, match=r"update 5 would set Dropout\.p = 1\.1\d*, and Dropout's p is a probability"):
        opt.step()  # the end of update 4 sets update 5's p
    assert model[1].p == pytest.approx(1.0)


# ---------------------------------------------------------------- after=True: an EMA of the weights


class EMA:
    """An EMA of a model's weights, as users write it: ``update()`` after each ``optimizer.step()`` reads ``decay``."""

    def __init__(self, model, decay=0.9):
        self.decay = decay
        self.shadow = [p.detach().clone() for p in model.parameters()]

    @torch.no_grad()
    def update(self, model):
        for s, p in zip(self.shadow, model.parameters()):
            s.mul_(self.decay).add_(p.detach(), alpha=1 - self.decay)


class Knobs:
    """A plain object: what a loop reads (a loss weight), and a property whose setter checks its value."""

    def __init__(self):
        self.loss_weight = 1.0
        self._temperature = 1.0

    @property
    def temperature(self):
        return self._temperature

    @temperature.setter
    def temperature(self, x):
        if x <= 0:
            raise ValueError(f"temperature must be positive, got {x}")
        self._temperature = x


def test_an_ema_decay_after_update_k_is_d_of_k_and_averaged_model_agrees():
    model = small_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    sched = lt.scheduler(opt, lr=LR)
    ema, knobs = EMA(model), Knobs()
    swa = torch.optim.swa_utils.AveragedModel(
        model, avg_fn=lambda avg, new, n: knobs.decay * avg + (1 - knobs.decay) * new
    )
    knobs.decay = 0.0
    sched.drive(ema, "decay", D, after=True)
    sched.drive(knobs, "decay", D, after=True, label="swa decay")
    assert ema.decay == 0.9 and knobs.decay == 0.0  # before the first update: left as they were
    decays, weights = [], []
    x = torch.randn(16, 4, generator=torch.Generator().manual_seed(2))
    for _ in range(N):
        model(x).pow(2).mean().backward()
        opt.step()
        opt.zero_grad()
        decays.append(ema.decay)
        ema.update(model)
        swa.update_parameters(model)
        weights.append([p.detach().double().numpy().copy() for p in model.parameters()])
        sched.step()
    want = linear_at(0.5, 0.99, 10, np.arange(1, N + 1))
    np.testing.assert_allclose(decays, want, rtol=1e-15, atol=0)
    shadow = [w.copy() for w in [p.detach().double().numpy() for p in small_model().parameters()]]
    averaged = [w.copy() for w in weights[0]]  # AveragedModel copies the first update's weights
    for k in range(N):
        shadow = [want[k] * s + (1 - want[k]) * w for s, w in zip(shadow, weights[k])]
        if k:
            averaged = [want[k] * s + (1 - want[k]) * w for s, w in zip(averaged, weights[k])]
    for got, s in zip(ema.shadow, shadow):
        np.testing.assert_allclose(got.double().numpy(), s, rtol=1e-5, atol=1e-6)
    for got, s in zip(swa.module.parameters(), averaged):
        np.testing.assert_allclose(got.detach().double().numpy(), s, rtol=1e-5, atol=1e-6)
    assert np.abs(shadow[0] - weights[-1][0]).max() > 1e-4  # the average lags the weights: the decay mattered


def test_a_plain_object_before_and_after_and_a_property_that_refuses():
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=0.1)
    sched = lt.scheduler(opt, lr=LR)
    knobs = Knobs()
    sched.drive(knobs, "loss_weight", P)
    sched.drive(knobs, "temperature", ls.linear(1.0, -1.0, steps=4))  # 0.0 at update 2
    assert knobs.loss_weight == 0.05 and knobs.temperature == 0.5
    p.grad = torch.ones(1)
    with pytest.raises(
        ValueError,
        match=r"update 2 would set Knobs\.temperature = 0\.0, and Knobs refused it "
        r"\(ValueError: temperature must be positive, got 0\.0\)",
    ):
        opt.step()
    with pytest.raises(AttributeError, match="Knobs object has no attribute 'lr_scale' to drive"):
        sched.drive(knobs, "lr_scale", P)
    with pytest.raises(ValueError, match="'Knobs.loss_weight' is driven already"):
        sched.drive(knobs, "loss_weight", P)
    with pytest.raises(TypeError, match="drive\\(\\): schedule must be an lrsched schedule or a number"):
        sched.drive(knobs, "decay" if hasattr(knobs, "decay") else "_temperature", lambda t: 1.0)


def test_driven_attributes_resume_by_name_and_a_missing_one_is_said():
    model = small_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = lt.scheduler(opt, lr=LR)
    ema = EMA(model)
    sched.drive(model[1], "p", P)
    sched.drive(ema, "decay", D, after=True)
    for _ in range(5):
        opt.step()
    state = sched.state_dict()
    assert state["driven"]["Dropout.p"]["after"] is False and state["driven"]["EMA.decay"]["after"] is True
    model2, ema2 = small_model(), EMA(small_model())
    opt2 = torch.optim.SGD(model2.parameters(), lr=0.1)
    sched2 = lt.scheduler(opt2, lr=LR)
    sched2.drive(model2[1], "p", P)
    sched2.drive(ema2, "decay", D, after=True)
    sched2.load_state_dict(state)
    assert model2[1].p == model[1].p == linear_at(0.0, 0.5, 10, 6)
    assert ema2.decay == ema.decay == linear_at(0.5, 0.99, 10, 5)
    sched3 = lt.scheduler(torch.optim.SGD(small_model().parameters(), lr=0.1), lr=LR)
    with pytest.warns(UserWarning, match="the checkpoint also drives") as said:
        sched3.load_state_dict(state)
    assert [str(w.message).split(",")[0] for w in said] == [
        f"lrsched: the checkpoint also drives {label}" for label in ("Dropout.p", "EMA.decay")
    ]


def test_a_driven_entry_that_is_not_a_dict_is_refused_by_name():
    model = small_model()
    sched = lt.scheduler(torch.optim.SGD(model.parameters(), lr=0.1), lr=LR)
    sched.drive(model[1], "p", P)
    state = sched.state_dict()
    with pytest.raises(ValueError, match=r"scheduler state: driven\['Dropout.p'\] must be a dict, got 5"):
        sched.load_state_dict({**state, "driven": {"Dropout.p": 5}})
    with pytest.raises(ValueError, match=r"the checkpoint's schedule is not a valid lrsched config: got array"):
        sched.load_state_dict({**state, "driven": {"Dropout.p": {"schedule": np.array([1, 2])}}})


# ---------------------------------------------------------------- integer knobs: a batch-size ramp


def test_a_batch_size_ramp_sets_an_int_that_the_next_batch_uses():
    data = torch.utils.data.TensorDataset(torch.arange(200.0))
    sampler = torch.utils.data.BatchSampler(torch.utils.data.SequentialSampler(data), batch_size=4, drop_last=False)
    loader = torch.utils.data.DataLoader(data, batch_sampler=sampler)
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=0.1)
    sched = lt.scheduler(opt, lr=LR)
    sched.drive(sampler, "batch_size", ls.multistep(4, [3, 5], factor=2.0))
    sizes = []
    for (x,) in loader:
        sizes.append(len(x))
        assert type(sampler.batch_size) is int
        opt.step()
        if len(sizes) == 7:
            break
    k = np.arange(1, 8)
    assert sizes == list(4 * 2 ** ((k > 3).astype(int) + (k > 5).astype(int)))
    with pytest.raises(ValueError, match=r"update 8 would set half = 4\.5, and it was an int"):
        sched.drive(sampler, "batch_size", 4.5, label="half")


# ---------------------------------------------------------------- relative for keys beyond lr


def test_relative_scales_weight_decay_per_group_too_and_resumes():
    """Megatron's wd_mult, muP: each group's own lr and weight decay times the schedules."""
    a, b = torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(2))
    groups = [{"params": [a], "lr": 1e-3, "weight_decay": 0.1}, {"params": [b], "lr": 4e-3, "weight_decay": 0.02}]
    opt = torch.optim.AdamW(groups)
    W = ls.linear(1.0, 0.0, steps=10)
    sched = lt.scheduler(opt, lr=LR, weight_decay=W, relative={"lr", "weight_decay"})
    seen = []
    opt.register_step_pre_hook(lambda o, *_: seen.append([(g["lr"], g["weight_decay"]) for g in o.param_groups]))
    for _ in range(5):
        a.grad, b.grad = torch.ones(2), torch.ones(2)
        opt.step()
    k = np.arange(1, 6)
    w = linear_at(1.0, 0.0, 10, k)
    for g, (lr0, wd0) in enumerate([(1e-3, 0.1), (4e-3, 0.02)]):
        np.testing.assert_allclose([s[g][0] for s in seen], lr0 * lr_at(k), rtol=1e-15, atol=0)
        np.testing.assert_allclose([s[g][1] for s in seen], wd0 * w, rtol=1e-15, atol=0)
    state = sched.state_dict()
    assert state["bases"] == {"weight_decay": [0.1, 0.02]}
    opt2 = torch.optim.AdamW([{**g, "params": [torch.nn.Parameter(torch.zeros(2))]} for g in groups])
    opt2.load_state_dict(opt.state_dict())
    sched2 = lt.scheduler(opt2, lr=LR, weight_decay=W, relative={"lr", "weight_decay"})
    sched2.load_state_dict(state)
    assert [g["weight_decay"] for g in opt2.param_groups] == pytest.approx([0.1 * 0.4, 0.02 * 0.4], rel=1e-15)
    only_lr = lt.scheduler(torch.optim.AdamW(groups), lr=LR, weight_decay=W, relative=True)
    with pytest.raises(ValueError, match=r"relative scales \['weight_decay'\] besides the lr, and the code \[\]"):
        only_lr.load_state_dict(state)


def test_relative_weight_decay_refuses_a_zero_base():
    opt = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=1e-3, weight_decay=0.0)
    with pytest.raises(ValueError, match="relative scales each group's initial weight_decay, and param group 0 has"):
        lt.scheduler(opt, weight_decay=ls.linear(1.0, 0.0, steps=10), relative={"weight_decay"})


# ---------------------------------------------------------------- schedule-free optimizers


class ScheduleFree(torch.optim.SGD):
    """heavyball's contract, without importing it (4 s): its schedule-free optimizers derive from
    heavyball.chainable.ScheduleFree."""

    __module__ = "heavyball.chainable"


class SFAdamW(ScheduleFree):
    """heavyball.SFAdamW."""

    __module__ = "heavyball"


class PaLMSFAdamW(torch.optim.SGD):
    """A heavyball schedule-free optimizer known by its name alone (SF)."""

    __module__ = "heavyball"


class AdamW(torch.optim.SGD):
    """heavyball's AdamW, whose param groups carry ``warmup_steps`` (its own warmup when > 0)."""

    __module__ = "heavyball"


def schedule_free_warnings(optimizer, lr, **kw) -> list:
    """The ScheduleFreeWarnings of building a scheduler of ``optimizer`` on ``lr``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lt.scheduler(optimizer, lr=lr, **kw)
    return [str(w.message) for w in caught if issubclass(w.category, ScheduleFreeWarning)]


DECAYING = ls.warmup(ls.cosine(1e-3, 0.0, steps=90), steps=10)
FLAT = ls.warmup(ls.constant(1e-3), steps=10)


def test_a_decaying_schedule_on_a_schedule_free_optimizer_is_said_once():
    schedulefree = pytest.importorskip("schedulefree", reason="pip install schedulefree (a test extra)")
    p = [torch.nn.Parameter(torch.zeros(2))]
    for cls in (schedulefree.AdamWScheduleFree, schedulefree.SGDScheduleFree, schedulefree.RAdamScheduleFree):
        said = schedule_free_warnings(cls(p, lr=1.0), lr=DECAYING)
        assert len(said) == 1 and f"{cls.__name__} is schedule-free" in said[0] and "decays" in said[0]
        assert schedule_free_warnings(cls(p, lr=1.0), lr=FLAT) == []
    assert issubclass(ScheduleFreeWarning, ls.TimeWarning)


def test_heavyball_schedule_free_and_self_warming_optimizers_by_class_name():
    p = [torch.nn.Parameter(torch.zeros(2))]
    said = schedule_free_warnings(SFAdamW(p, lr=1.0), lr=DECAYING)
    assert len(said) == 1 and "SFAdamW is schedule-free" in said[0]
    said = schedule_free_warnings(PaLMSFAdamW(p, lr=1.0), lr=DECAYING)
    assert len(said) == 1 and "PaLMSFAdamW is schedule-free" in said[0]
    warming = [{"params": p, "warmup_steps": 100}]
    said = schedule_free_warnings(AdamW(warming, lr=1.0), lr=DECAYING)
    assert len(said) == 1 and "heavyball's AdamW warms up on its own (warmup_steps=100)" in said[0]
    assert schedule_free_warnings(AdamW([{"params": p, "warmup_steps": 0}], lr=1.0), lr=DECAYING) == []
    # a schedule that never settles decays within the run's total; a usual optimizer is never warned about
    exp = ls.exponential(1e-3, 0.99)
    assert len(schedule_free_warnings(SFAdamW(p, lr=1.0), lr=exp, total=100)) == 1
    assert schedule_free_warnings(torch.optim.SGD(p, lr=1.0), lr=DECAYING) == []
