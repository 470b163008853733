"""A clock in samples or tokens: ``lrsched.torch.scheduler(opt, lr=s, unit="tokens")`` and ``consume(n)``.

The k-th real update reads its schedules at 1 + the units consumed by the real
updates before it: with one unit per update, the update clock; with a constant
batch B, s(1 + (k - 1) B) (Megatron's ``num_steps``). Units of an update a
GradScaler skips are dropped, as Megatron steps its scheduler only when
``update_successful``. The expected values are written out in numpy; what each
update used is read by a step pre-hook registered after the scheduler.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import lrsched as ls

torch = pytest.importorskip("torch", reason="installed by the README test command")
import lrsched.torch as lt  # noqa: E402

S = ls.warmup(ls.cosine(0.1, 0.0, steps=200), steps=40)  # written in units
C = (1.0, -2.0, 0.5)


def unit_lr(u):
    """S(u) written out: 0.1 u / 40 up to u = 40, then 0.05 (1 + cos(pi min(u - 40, 200) / 200))."""
    u = np.asarray(u, dtype=np.float64)
    return np.where(u <= 40, 0.1 * u / 40, 0.05 * (1 + np.cos(np.pi * np.minimum(u - 40, 200) / 200)))


def lrs_seen(opt) -> list:
    """Each real update's lr, read by a step pre-hook (registered after the scheduler); a fused optimizer's
    step that a GradScaler skips is not an update."""
    seen = []

    def record(o, args, kwargs):
        found = getattr(o, "found_inf", None)
        if found is None or float(found) == 0:
            seen.append(float(o.param_groups[0]["lr"]))

    opt.register_step_pre_hook(record)
    return seen


def run(tokens, overflow_at=(), fused=None, consume_after_backward=False):
    """A loop with a GradScaler: ``tokens[i]`` lists the micro-batches' units of iteration i + 1; an inf in the
    gradient on the iterations in ``overflow_at`` makes the scaler skip that update. (scheduler, lrs seen)."""
    p = torch.nn.Parameter(torch.tensor([1.0, -1.0, 0.25], dtype=torch.float64))
    opt = torch.optim.SGD([p], lr=123.0, fused=fused)
    scaler = torch.amp.GradScaler("cpu")
    sched = lt.scheduler(opt, lr=S, unit="tokens")
    seen = lrs_seen(opt)
    for it, micro in enumerate(tokens, 1):
        for n in micro:
            if not consume_after_backward:
                sched.consume(n)
            scaler.scale((p * torch.tensor(C, dtype=torch.float64)).sum()).backward()
            if consume_after_backward:
                sched.consume(n)
        if it in overflow_at:
            p.grad[0] = float("inf")
        scaler.step(opt)
        scaler.update()
        opt.zero_grad()
        sched.step()
    return sched, seen


def positions(tokens, overflow_at=()):
    """Where each real update reads: 1 + the units of the real updates before it (skipped ones dropped)."""
    u, out = 1, []
    for it, micro in enumerate(tokens, 1):
        if it not in overflow_at:
            out.append(u)
            u += sum(micro)
    return out, u - 1


@pytest.mark.parametrize("fused", [None, True], ids=["sgd", "fused sgd"])
@pytest.mark.parametrize("after", [False, True], ids=["consume first", "consume after backward"])
def test_one_unit_per_update_is_the_update_clock_whatever_the_scaler_skips(fused, after):
    sched, seen = run([[1]] * 12, overflow_at={1, 5, 6}, fused=fused, consume_after_backward=after)
    np.testing.assert_allclose(seen, unit_lr(np.arange(1, 10)), rtol=1e-12, atol=0)
    assert sched.last_epoch == 9 and sched.units == 9


def test_a_constant_batch_gives_s_of_1_plus_k_minus_1_times_b():
    sched, seen = run([[8]] * 10)
    np.testing.assert_allclose(seen, unit_lr(1 + 8 * np.arange(10)), rtol=1e-12, atol=0)
    assert sched.units == 80
    np.testing.assert_allclose(sched.get_last_lr(), unit_lr([81]), rtol=1e-12, atol=0)  # the next update's
    np.testing.assert_allclose(sched.get_lr(), unit_lr([81]), rtol=1e-12, atol=0)


@pytest.mark.parametrize("fused", [None, True], ids=["sgd", "fused sgd"])
@pytest.mark.parametrize("after", [False, True], ids=["consume first", "consume after backward"])
def test_accumulated_micro_batches_credit_the_next_real_update_and_a_skipped_ones_are_dropped(fused, after):
    rng = np.random.default_rng(0)
    tokens = [[int(x) for x in rng.integers(1, 9, size=3)] for _ in range(8)]
    sched, seen = run(tokens, overflow_at={3, 4}, fused=fused, consume_after_backward=after)
    where, done = positions(tokens, overflow_at={3, 4})
    np.testing.assert_allclose(seen, unit_lr(where), rtol=1e-12, atol=0)
    assert sched.units == done and sched.last_epoch == 6


def test_total_binds_in_the_unit_and_the_length_checks_speak_it():
    def opt():
        return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)

    s = ls.warmup(ls.cosine(0.1, 0.0, steps=ls.total - 64), steps=64)
    sched = lt.scheduler(opt(), lr=s, unit="tokens", total=1024)
    assert sched.schedules["lr"][0] == s.bind(total=1024)
    with pytest.warns(ls.TimeWarning, match=r"final value 0.0 at tokens 100, before half of the run \(1000 tokens\)"):
        lt.scheduler(opt(), lr=ls.cosine(0.1, 0.0, steps=100), unit="tokens", total=1000)
    with pytest.warns(ls.TimeWarning, match=r"settles at tokens 2000, after the run's last \(1000 tokens\)"):
        lt.scheduler(opt(), lr=ls.cosine(0.1, 0.0, steps=2000), unit="tokens", total=1000)
    short = lt.scheduler(opt(), lr=ls.warmup(ls.constant(0.1), steps=8), unit="tokens", total=64)
    short.consume(40)
    short.optimizer.step()
    short.consume(40)
    with pytest.warns(ls.TimeWarning, match=r"past the run's total of 64 tokens .* \(80 tokens done\)"):
        short.optimizer.step()


def test_consume_mistakes_are_named():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    with pytest.raises(TypeError, match=r"consume\(n\) counts the units of a unit clock, and this scheduler counts"):
        lt.scheduler(opt, lr=S).consume(4)
    sched = lt.scheduler(opt, lr=S, unit="samples")
    with pytest.raises(ValueError, match=r"consume\(n\): n must be >= 0, got -1"):
        sched.consume(-1)
    with pytest.raises(ValueError, match=r"consume\(n\): n must be a whole number, got 2.5"):
        sched.consume(2.5)
    with pytest.raises(TypeError, match=r"n must be a whole number, got a tensor of 1 torch.float32"):
        sched.consume(torch.tensor(2.0))
    sched.consume(torch.tensor(3))
    sched.consume(np.int64(2))
    opt.step()
    assert sched.units == 5


def _scheduler(unit):
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    return lt.scheduler(opt, lr=S, unit=unit)


def test_the_unit_count_is_in_the_state_dict_and_checked_on_load():
    sched = _scheduler("tokens")
    sched.consume(7)
    sched.optimizer.step()
    state = sched.state_dict()
    assert state["units"] == {"unit": "tokens", "done": 7, "before_last": 0, "pending": 0}
    with pytest.raises(ValueError, match=r"the checkpoint's clock counts 'tokens', and the code's counts 'samples'"):
        _scheduler("samples").load_state_dict(state)
    with pytest.raises(ValueError, match=r"the checkpoint's clock counts 'tokens', and the code's counts updates"):
        _scheduler(None).load_state_dict(state)
    with pytest.raises(ValueError, match=r"the checkpoint's clock counts updates, and the code's counts tokens"):
        _scheduler("tokens").load_state_dict(_scheduler(None).state_dict())
    with pytest.raises(ValueError, match=r"units.done must be >= 0, got -1"):
        _scheduler("tokens").load_state_dict({**state, "units": {**state["units"], "done": -1}})
    again = _scheduler("tokens")
    again.load_state_dict(state)
    assert again.units == 7 and again.optimizer.param_groups[0]["lr"] == float(unit_lr(8))
    whole = torch.load(_saved(sched), weights_only=False)  # the scheduler pickled whole
    assert whole.units == 7


def test_a_units_field_of_the_wrong_kind_is_named():
    state = _scheduler("tokens").state_dict()
    with pytest.raises(ValueError, match=r"the checkpoint's clock counts array\(\[1, 2\]\), and the code's counts"):
        _scheduler("tokens").load_state_dict({**state, "units": {**state["units"], "unit": np.array([1, 2])}})


def test_units_count_up_to_2_53_and_what_the_clock_saves_it_loads():
    """2**53 (lrsched._validate.MAX_COUNT): a consume past it is refused before it counts, and the update that
    would read its schedules past it is refused by its optimizer.step()."""
    big = 2**53
    sched = _scheduler("tokens")
    sched.consume(big)
    with pytest.raises(ValueError, match=rf"consume\(1\) after {big} tokens would count past 2\*\*53 = {big}"):
        sched.consume(1)
    sched.optimizer.step()
    assert sched.units == big and sched.last_epoch == 1
    with pytest.raises(ValueError, match=rf"update 2 \(at tokens {big + 1}\) would count past 2\*\*53"):
        sched.optimizer.step()
    assert sched.units == big and sched.last_epoch == 1
    again = _scheduler("tokens")
    again.load_state_dict(sched.state_dict())
    assert again.units == big


def _saved(obj):
    import io

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    buffer.seek(0)
    return buffer


# ---------------------------------------------------------------- a batch ramp-up killed mid-ramp, resumed anew

RAMP = ls.multistep(8, [40, 120], factor=2.0)  # batch size in samples: 8, then 16 from sample 41, 32 from 121
RUN = ls.warmup(ls.cosine(1e-2, 0.0, steps=ls.total - 64), steps=64)
SAMPLES, KILLED_AFTER, UPDATES = 400, 6, 12


class FromSample(torch.utils.data.Sampler):
    """Sample indices in order from ``start``: a resumed run's data position is the samples consumed."""

    def __init__(self, start: int, stop: int):
        self.start, self.stop = start, stop

    def __iter__(self):
        return iter(range(self.start, self.stop))

    def __len__(self):
        return self.stop - self.start


def ramp_run(first: int, last: int, load: str | None = None, save: str | None = None) -> dict:
    """Updates first .. last of a run whose batch size follows RAMP and whose lr follows RUN, both on the sample
    clock (the README's example, with a model, AdamW and a checkpoint)."""
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    data = torch.utils.data.TensorDataset(torch.randn(SAMPLES, 4, generator=g), torch.randn(SAMPLES, 1, generator=g))
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Dropout(0.1), torch.nn.Linear(8, 1))
    opt = torch.optim.AdamW(model.parameters(), lr=1.0)
    sched = lt.scheduler(opt, lr=RUN, unit="samples", total=SAMPLES)
    checkpoint = torch.load(load, weights_only=True) if load else None
    start = 0
    if checkpoint:
        model.load_state_dict(checkpoint["model"])
        opt.load_state_dict(checkpoint["optimizer"])
        sched.load_state_dict(checkpoint["scheduler"])
        start = sched.units
    sampler = torch.utils.data.BatchSampler(FromSample(start, SAMPLES), batch_size=8, drop_last=False)
    sched.drive(sampler, "batch_size", RAMP)
    seen, sizes = lrs_seen(opt), []
    loader = iter(torch.utils.data.DataLoader(data, batch_sampler=sampler))  # draws a seed from torch's generator
    if checkpoint:
        torch.set_rng_state(checkpoint["rng"])  # the dropout masks go on as in the uninterrupted run
    for _ in range(first, last + 1):
        x, y = next(loader)
        sched.consume(len(x))
        sizes.append(len(x))
        torch.nn.functional.mse_loss(model(x), y).backward()
        opt.step()
        opt.zero_grad()
        sched.step()
    if save:
        state = {"model": model.state_dict(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict()}
        torch.save({**state, "rng": torch.get_rng_state()}, save)
    params = [x for p in model.parameters() for x in p.detach().flatten().tolist()]
    return {"lrs": seen, "sizes": sizes, "units": sched.units, "start": start, "params": params}


def run_lr(u):
    """RUN bound to total=400 samples, written out: 0.01 u / 64 up to 64, then 0.005 (1 + cos(pi (u - 64) / 336))."""
    u = np.asarray(u, dtype=np.float64)
    return np.where(u <= 64, 1e-2 * u / 64, 0.005 * (1 + np.cos(np.pi * np.minimum(u - 64, 336) / 336)))


def test_a_batch_ramp_killed_mid_ramp_and_resumed_in_a_new_process_is_bit_identical(tmp_path):
    whole = ramp_run(1, UPDATES)
    u, where, sizes = 1, [], []
    for _ in range(UPDATES):
        where.append(u)
        sizes.append(8 * 2 ** (int(u > 40) + int(u > 120)))
        u += sizes[-1]
    assert whole["sizes"] == sizes and whole["units"] == u - 1
    np.testing.assert_allclose(whole["lrs"], run_lr(where), rtol=1e-12, atol=0)
    first = ramp_run(1, KILLED_AFTER, save=str(tmp_path / "ckpt.pt"))
    assert sizes[0] < sizes[KILLED_AFTER] < sizes[-1]  # killed mid-ramp
    code = (
        "import json, sys; from tests.test_unit_clock import ramp_run; "
        f"print(json.dumps(ramp_run({KILLED_AFTER + 1}, {UPDATES}, load=sys.argv[1])))"
    )
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "ckpt.pt")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    resumed = json.loads(out.stdout.strip().splitlines()[-1])
    assert resumed["start"] == first["units"] == sum(sizes[:KILLED_AFTER])  # the data position, from the clock
    assert first["lrs"] + resumed["lrs"] == whole["lrs"]  # bit for bit
    assert first["sizes"] + resumed["sizes"] == whole["sizes"]
    assert resumed["units"] == whole["units"] and resumed["params"] == whole["params"]


class Holder:
    """A plain object whose ``after`` is read right after each update and ``before`` inside it."""

    before = after = -1.0


def test_driven_attributes_follow_the_unit_clock_before_and_after_each_update():
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=1.0)
    sched = lt.scheduler(opt, lr=S, unit="samples")
    h = Holder()
    sched.drive(h, "before", S)
    sched.drive(h, "after", S, after=True)
    inside, after = [], []
    opt.register_step_pre_hook(lambda o, a, k: inside.append(h.before))
    for n in (5, 7, 11):
        sched.consume(n)
        opt.step()
        after.append(h.after)
    where = [1, 6, 13]  # 1 + the samples of the updates before each
    np.testing.assert_allclose(inside, unit_lr(where), rtol=1e-12, atol=0)
    np.testing.assert_allclose(after, unit_lr(where), rtol=1e-12, atol=0)
    assert h.before == float(unit_lr(24))


def test_a_unit_scheduler_steps_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched, seen = run([[2, 3]] * 4)
    assert len(seen) == 4 and sched.units == 20
