"""lrsched.torch.scheduler in real training loops: the k-th optimizer update that happens uses s(k).

One test per loop pattern: gradient accumulation with ``scheduler.step()`` per
micro-batch or per update, never stepping the scheduler, a GradScaler that skips
updates, accelerate (its ``AcceleratedScheduler`` stepping n times per update,
and a whole ``Accelerator``), Lightning, the Hugging Face Trainer, a resume from
a checkpoint, a "preview" loop that steps the scheduler without training, and
reduce-on-plateau.

What each update used is read inside the update: a step pre-hook registered
*after* the scheduler is built (torch runs an optimizer's step pre-hooks in
registration order, so it runs after any hook the scheduler installs and sees
exactly what the update reads), and, for plain SGD, the parameters themselves
against a numpy replay of SGD. The expected values never come from lrsched: the
schedule is written out by hand in numpy (:func:`expected_lr`).
"""

from __future__ import annotations

import contextlib
import gc
import io
import types
import warnings

import numpy as np
import pytest

import lrsched as ls

torch = pytest.importorskip("torch", reason="installed by the README test command")
import lrsched.torch as lt  # noqa: E402

# ---------------------------------------------------------------- the schedules and their closed forms

PEAK, WARM, DECAY = 0.1, 5, 20
S = ls.warmup(ls.cosine(PEAK, 0.0, steps=DECAY), steps=WARM)
M_START, M_END, M_STEPS = 0.85, 0.95, 10
M = ls.linear(M_START, M_END, M_STEPS)
RTOL = 1e-12


def expected_lr(k):
    """s(k) written out: 0.1 k / 5 up to k = 5, then 0.05 (1 + cos(pi min(k - 5, 20) / 20))."""
    t = np.asarray(k, dtype=np.float64)
    cos = 0.5 * PEAK * (1 + np.cos(np.pi * np.minimum(t - WARM, DECAY) / DECAY))
    return np.where(t <= WARM, PEAK * t / WARM, cos)


def expected_momentum(k):
    """M(k) written out: 0.85 + 0.1 min(k, 10) / 10."""
    t = np.asarray(k, dtype=np.float64)
    return M_START + (M_END - M_START) * np.minimum(t, M_STEPS) / M_STEPS


def updates(n, start=1):
    """The update numbers start .. start + n - 1."""
    return np.arange(start, start + n)


def assert_close(got, want):
    np.testing.assert_allclose(np.asarray(got, dtype=np.float64), want, rtol=RTOL, atol=0)


# ---------------------------------------------------------------- recording what each update used


class Updates:
    """Every real update's param group 0 values, read by a step pre-hook.

    Register it after the scheduler is built: torch calls an optimizer's step
    pre-hooks in the order they were registered, so this one runs after any
    hook of the scheduler and sees what the update itself reads. A step that a
    GradScaler skips never calls ``optimizer.step()``, except on a fused
    optimizer, which the scaler calls with ``optimizer.found_inf`` set
    (torch/amp/grad_scaler.py, ``if getattr(optimizer, "_step_supports_amp_scaling", False)``) and which then
    skips the update itself: that call is not recorded either.
    """

    def __init__(self, optimizer, keys=("lr",)):
        self.seen = {k: [] for k in keys}
        self.handle = optimizer.register_step_pre_hook(self._record)

    def _record(self, optimizer, args, kwargs):
        found_inf = getattr(optimizer, "found_inf", None)
        if found_inf is not None and float(found_inf) != 0:
            return  # a fused optimizer called by a GradScaler that found an inf: it skips the update itself
        group = optimizer.param_groups[0]
        for key, values in self.seen.items():
            values.append(float(group[key]))

    def __len__(self):
        return len(self.seen["lr"])

    @property
    def lr(self):
        return np.array(self.seen["lr"])


@contextlib.contextmanager
def no_warnings():
    """Fail on any warning at all (torch's "Detected call of `lr_scheduler.step()` before `optimizer.step()`"
    and "`optimizer.step()` has been overridden" among them), whatever filters pytest runs with."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught
    assert not caught, [f"{w.category.__name__}: {w.message}" for w in caught]


C = (1.0, -2.0, 0.5)  # each micro-batch's loss is sum(c * p): its gradient is c, exactly


def sgd(momentum=0.0, fused=None):
    """One float64 parameter and an SGD whose own lr (123.0) no update may use."""
    p = torch.nn.Parameter(torch.tensor([1.0, -1.0, 0.25], dtype=torch.float64))
    return p, torch.optim.SGD([p], lr=123.0, momentum=momentum, fused=fused)


def backward(p, scaler=None):
    loss = (p * torch.tensor(C, dtype=torch.float64)).sum()
    (loss if scaler is None else scaler.scale(loss)).backward()


def replay_sgd(grad_multiples, lrs, momenta=None):
    """Where torch's SGD takes p from sgd()'s start: per update, grad = m * c; buf = mu buf + grad; p -= lr buf."""
    p, c, buf = np.array([1.0, -1.0, 0.25]), np.array(C), None
    for i, (m, lr) in enumerate(zip(grad_multiples, lrs)):
        g = m * c
        if momenta is None:
            step = g
        else:
            buf = g.copy() if buf is None else momenta[i] * buf + g
            step = buf
        p = p - lr * step
    return p


def assert_params(p, grad_multiples, lrs, momenta=None):
    np.testing.assert_allclose(p.detach().numpy(), replay_sgd(grad_multiples, lrs, momenta), rtol=RTOL, atol=1e-15)


# ---------------------------------------------------------------- 1-3: accumulation, and no scheduler.step() at all

ACCUMULATE = 4


def test_accumulation_stepping_the_scheduler_every_micro_batch():
    """scheduler.step() after each of 4 micro-batches (4 calls per update): update k still uses s(k), for lr and
    momentum both; torch's own "step() before optimizer.step()" warning (the first call comes before any update)
    must not fire."""
    n = 9
    p, opt = sgd(momentum=0.5)
    with no_warnings():
        sched = lt.scheduler(opt, lr=S, momentum=M)
        seen = Updates(opt, keys=("lr", "momentum"))
        for _ in range(n):
            for micro in range(ACCUMULATE):
                backward(p)
                if micro == ACCUMULATE - 1:
                    opt.step()
                    opt.zero_grad()
                sched.step()
    assert len(seen) == n
    assert_close(seen.lr, expected_lr(updates(n)))
    assert_close(seen.seen["momentum"], expected_momentum(updates(n)))
    assert_params(p, [ACCUMULATE] * n, expected_lr(updates(n)), expected_momentum(updates(n)))
    assert sched.last_epoch == n
    assert_close(sched.get_last_lr(), expected_lr([n + 1]))


def test_accumulation_stepping_the_scheduler_once_per_update():
    n = 9
    p, opt = sgd()
    with no_warnings():
        sched = lt.scheduler(opt, lr=S)
        seen = Updates(opt)
        for _ in range(n):
            for _ in range(ACCUMULATE):
                backward(p)
            opt.step()
            opt.zero_grad()
            sched.step()
    assert len(seen) == n
    assert_close(seen.lr, expected_lr(updates(n)))
    assert_params(p, [ACCUMULATE] * n, expected_lr(updates(n)))
    assert sched.last_epoch == n
    assert_close(sched.get_last_lr(), expected_lr([n + 1]))


def test_scheduler_step_never_called():
    n = 9
    p, opt = sgd()
    with no_warnings():
        sched = lt.scheduler(opt, lr=S)
        seen = Updates(opt)
        for _ in range(n):
            backward(p)
            opt.step()
            opt.zero_grad()
    assert len(seen) == n
    assert_close(seen.lr, expected_lr(updates(n)))
    assert_params(p, [1] * n, expected_lr(updates(n)))
    assert sched.last_epoch == n
    assert_close(sched.get_last_lr(), expected_lr([n + 1]))


# ---------------------------------------------------------------- 4: a GradScaler that skips updates


def run_with_scaler(iterations, overflow_at, micro_batches=1, step_every_micro_batch=False, fused=None):
    """The canonical AMP loop (scaler.step(opt); scaler.update(); scheduler.step()) on CPU.

    The params are float64, which never overflow; an inf put into a gradient
    on the chosen iterations makes ``GradScaler.step`` skip ``optimizer.step()``
    (torch/amp/grad_scaler.py: ``_maybe_opt_step`` calls it only when no
    ``found_inf``), as an fp16 overflow would. A fused optimizer
    (``_step_supports_amp_scaling``) is called anyway, with ``optimizer.found_inf``
    set, and skips the update in its kernel (the parameters do not move and its
    ``state["step"]`` is not advanced).
    """
    p, opt = sgd(fused=fused)
    scaler = torch.amp.GradScaler("cpu")
    sched = lt.scheduler(opt, lr=S)
    seen = Updates(opt)
    multiples = []
    for it in range(1, iterations + 1):
        for micro in range(micro_batches):
            backward(p, scaler)
            if micro == micro_batches - 1:
                if it in overflow_at:
                    p.grad[0] = float("inf")
                else:
                    multiples.append(micro_batches)
                scaler.step(opt)
                scaler.update()
                opt.zero_grad()
            if step_every_micro_batch or micro == micro_batches - 1:
                sched.step()
    return p, sched, seen, multiples


@pytest.mark.parametrize("fused", [None, True], ids=["sgd", "fused sgd"])
def test_grad_scaler_skipping_updates(fused):
    """Iterations 1, 5 and 6 overflow: 12 iterations make 9 real updates, the k-th of which uses s(k)."""
    with no_warnings():
        p, sched, seen, multiples = run_with_scaler(12, overflow_at={1, 5, 6}, fused=fused)
    n = 9
    assert len(seen) == n == len(multiples)
    assert_close(seen.lr, expected_lr(updates(n)))
    assert_params(p, multiples, expected_lr(updates(n)))
    assert sched.last_epoch == n
    assert_close(sched.get_last_lr(), expected_lr([n + 1]))


# ---------------------------------------------------------------- 5: accelerate


@pytest.fixture
def fresh_accelerate_state():
    """accelerate's process-wide singletons, empty before the test and emptied again after it."""
    state = pytest.importorskip("accelerate.state", reason="accelerate is optional: the loop it drives is tested")

    def reset():
        state.AcceleratorState._reset_state(reset_partial_state=True)
        state.GradientState._reset_state()

    reset()
    yield state
    reset()


def test_accelerated_scheduler_stepping_once_per_process(fresh_accelerate_state, monkeypatch):
    """accelerate steps the scheduler num_processes times per update (split_batches=False), and not at all on a
    micro-batch or a skipped update; update k still uses s(k).

    accelerate/scheduler.py, AcceleratedScheduler.step:
      ``if not self.gradient_state.sync_gradients: if ...adjust_scheduler: self.scheduler._step_count += 1; return``
      ``for opt in self.optimizers: if opt.step_was_skipped: return``
      ``num_processes = AcceleratorState().num_processes; for _ in range(num_processes): ... self.scheduler.step()``
    (the ``hasattr(self.scheduler, "total_steps")`` branch, for OneCycleLR, steps only while
    ``_step_count <= total_steps``.) num_processes is read from the ``AcceleratorState`` name in that module,
    patched here to 4 processes; the GradientState is the real one, with adjust_scheduler on so that the
    ``_step_count += 1`` line runs too.
    """
    from accelerate import scheduler as accelerate_scheduler

    processes = 4
    monkeypatch.setattr(
        accelerate_scheduler, "AcceleratorState", lambda: types.SimpleNamespace(num_processes=processes)
    )
    gradient_state = fresh_accelerate_state.GradientState()
    gradient_state.plugin_kwargs = {"num_steps": 2, "adjust_scheduler": True}

    p, opt = sgd()
    opt.step_was_skipped = False  # what AcceleratedScheduler reads from an AcceleratedOptimizer
    with no_warnings():
        sched = lt.scheduler(opt, lr=S)
        seen = Updates(opt)
        wrapped = accelerate_scheduler.AcceleratedScheduler(sched, opt, split_batches=False)
        multiples = []
        for it in range(1, 11):
            # micro-batch 1 of 2: no sync, no update; the scheduler's step is skipped (its _step_count bumped)
            gradient_state._set_sync_gradients(False)
            backward(p)
            wrapped.step()
            # micro-batch 2 of 2: the update (except on iteration 4, an overflow: step_was_skipped)
            gradient_state._set_sync_gradients(True)
            backward(p)
            opt.step_was_skipped = it == 4
            if not opt.step_was_skipped:
                opt.step()
                multiples.append(2)
            opt.zero_grad()
            wrapped.step()
    n = 9
    assert len(seen) == n
    assert_close(seen.lr, expected_lr(updates(n)))
    assert_params(p, multiples, expected_lr(updates(n)))
    assert sched.last_epoch == n
    assert_close(wrapped.get_last_lr(), expected_lr([n + 1]))


@pytest.mark.parametrize(
    ("processes", "total", "warns"),
    [(2, 12, True), (2, 6, False), (2, 13, False), (1, 12, False)],
    ids=[
        "2 processes, total of the unsharded loader",
        "2 processes, total of the prepared loader",
        "2 processes, another total",
        "1 process",
    ],
)
def test_a_run_ending_at_total_over_num_processes_under_accelerate_says_why(
    fresh_accelerate_state, monkeypatch, processes, total, warns
):
    """accelerate's AcceleratedScheduler on N processes, a run of 6 updates, total=12: the schedule was bound to
    the unsharded loader's count (2 x 6), and every rank stopped halfway through it. When the scheduler goes (here
    dropped; at exit in a script), a TimeWarning says so and how to count total; not for any other total, nor on
    one process."""
    from accelerate import scheduler as accelerate_scheduler

    monkeypatch.setattr(
        accelerate_scheduler, "AcceleratorState", lambda: types.SimpleNamespace(num_processes=processes)
    )
    p, opt = sgd()
    opt.step_was_skipped = False
    sched = lt.scheduler(opt, lr=ls.cosine(0.1, 0.0, steps=ls.total), total=total)
    wrapped = accelerate_scheduler.AcceleratedScheduler(sched, opt, split_batches=False)
    with no_warnings():
        for _ in range(6):
            backward(p)
            opt.step()
            opt.zero_grad()
            wrapped.step()
    assert sched.last_epoch == 6
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del sched, wrapped
        gc.collect()
    said = [str(w.message) for w in caught if issubclass(w.category, ls.TimeWarning)]
    assert len(caught) == len(said) == (1 if warns else 0), said
    if warns:
        assert said[0].startswith("lrsched: the run ended after 6 updates, exactly 1/2 of total=12")
        assert "accelerator.num_processes" in said[0]


def test_accelerator_prepare_with_gradient_accumulation(fresh_accelerate_state):
    """A whole Accelerator(cpu=True) in one process, gradient_accumulation_steps=2, scheduler.step() after every
    micro-batch as accelerate's docs write it: 5 batches an epoch sync on batches 2, 4 and 5
    (accelerator.py, _do_sync: ``if ...sync_with_dataloader and ...end_of_dataloader: ... sync True`` else
    ``self.step % num_steps == 0``), so 2 epochs are 6 updates; AcceleratedOptimizer.step calls the optimizer only
    ``if self.gradient_state.sync_gradients``, and AcceleratedScheduler steps once per update (1 process)."""
    from accelerate import Accelerator

    torch.manual_seed(0)
    x, y = torch.randn(10, 3), torch.randn(10)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=2)
    model = torch.nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=123.0)
    with no_warnings():
        sched = lt.scheduler(opt, lr=S)
        seen = Updates(opt)  # on the torch optimizer, which the AcceleratedOptimizer calls
        accelerator = Accelerator(cpu=True, gradient_accumulation_steps=2)
        model, p_opt, p_loader, p_sched = accelerator.prepare(model, opt, loader, sched)
        for _ in range(2):
            for xb, yb in p_loader:
                with accelerator.accumulate(model):
                    loss = ((model(xb).squeeze(-1) - yb) ** 2).mean()
                    accelerator.backward(loss)
                    p_opt.step()
                    p_sched.step()
                    p_opt.zero_grad()
    n = 6
    assert len(seen) == n
    assert_close(seen.lr, expected_lr(updates(n)))
    assert sched.last_epoch == n
    assert_close(p_sched.get_last_lr(), expected_lr([n + 1]))


# ---------------------------------------------------------------- 6: Lightning


# Lightning's own warnings: its PossibleUserWarning about DataLoader workers, and its use of a torch pytree class
# that torch deprecates
@pytest.mark.filterwarnings("ignore:.*does not have many workers:UserWarning")
@pytest.mark.filterwarnings("ignore:`isinstance\\(treespec, LeafSpec\\)` is deprecated:FutureWarning")
def test_lightning_trainer_with_accumulation():
    """Trainer(max_steps=7, accumulate_grad_batches=2), 5 batches an epoch, scheduler interval "step".

    lightning/pytorch/loops/training_epoch_loop.py: ``update_lr_schedulers``:
    ``if interval == "step" and self._should_accumulate(): return``; ``_should_accumulate`` is False on every 2nd
    batch and on the epoch's last (``is_final_batch``), so an epoch is 3 updates, and Lightning steps the
    scheduler once after each (``lr_scheduler_step``: ``scheduler.step()``); max_steps counts updates
    (``global_step``), so the run stops after 7.
    """
    pl = pytest.importorskip("lightning.pytorch", reason="Lightning is optional: the loop it drives is tested")

    class Tiny(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.layer = torch.nn.Linear(3, 1)

        def training_step(self, batch, batch_idx):
            x, y = batch
            return ((self.layer(x).squeeze(-1) - y) ** 2).mean()

        def configure_optimizers(self):
            opt = torch.optim.SGD(self.parameters(), lr=123.0)
            self.sched = lt.scheduler(opt, lr=S)
            self.seen = Updates(opt)  # after the scheduler
            return {"optimizer": opt, "lr_scheduler": {"scheduler": self.sched, "interval": "step"}}

    torch.manual_seed(0)
    x, y = torch.randn(10, 3), torch.randn(10)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=2)
    module = Tiny()
    trainer = pl.Trainer(
        max_steps=7,
        accelerator="cpu",
        devices=1,
        accumulate_grad_batches=2,
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
        logger=False,
        log_every_n_steps=1,
    )
    trainer.fit(module, loader)
    n = 7
    assert trainer.global_step == n
    assert len(module.seen) == n
    assert_close(module.seen.lr, expected_lr(updates(n)))
    assert module.sched.last_epoch == n
    assert_close(module.sched.get_last_lr(), expected_lr([n + 1]))


# ---------------------------------------------------------------- 7: the Hugging Face Trainer


@pytest.fixture
def kept_random_state():
    """The Trainer seeds every generator (set_seed(args.seed)); put them back for the tests after it."""
    import random

    states = random.getstate(), np.random.get_state(), torch.random.get_rng_state()  # noqa: NPY002
    yield
    random.setstate(states[0])
    np.random.set_state(states[1])  # noqa: NPY002
    torch.random.set_rng_state(states[2])


def test_hugging_face_trainer_with_accumulation(tmp_path, fresh_accelerate_state, kept_random_state):
    """Trainer(optimizers=(opt, sched)), gradient_accumulation_steps=2, 5 batches an epoch, max_steps=7.

    transformers/trainer.py, the inner loop: ``do_sync_step = (step + 1) % gradient_accumulation_steps == 0 or
    (step + 1) == steps_in_epoch``; ``if do_sync_step: ... self.optimizer.step() ... if not
    self.accelerator.optimizer_step_was_skipped: ... self.lr_scheduler.step()`` (the scheduler given is not
    prepared by accelerate): one scheduler.step() per update, 3 updates an epoch.

    Its log (``logging_steps=1``) reads ``get_last_lr()`` after ``scheduler.step()``: the lr logged with update k
    is s(k + 1), the next update's, as with torch's own schedulers (next test).
    """
    pytest.importorskip("accelerate", reason="the Hugging Face Trainer needs accelerate")
    transformers = pytest.importorskip("transformers", reason="transformers is optional: the loop it drives is tested")

    class Pairs(torch.utils.data.Dataset):
        def __init__(self):
            g = torch.Generator().manual_seed(0)
            self.x, self.y = torch.randn(10, 3, generator=g), torch.randn(10, generator=g)

        def __len__(self):
            return len(self.x)

        def __getitem__(self, i):
            return {"x": self.x[i], "y": self.y[i]}

    class Tiny(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = torch.nn.Linear(3, 1)

        def forward(self, x, y):
            return {"loss": ((self.layer(x).squeeze(-1) - y) ** 2).mean()}

    model = Tiny()
    opt = torch.optim.SGD(model.parameters(), lr=123.0)
    sched = lt.scheduler(opt, lr=S)
    seen = Updates(opt)  # after the scheduler
    args = transformers.TrainingArguments(
        output_dir=str(tmp_path),
        max_steps=7,
        per_device_train_batch_size=2,
        gradient_accumulation_steps=2,
        report_to=[],
        use_cpu=True,
        save_strategy="no",
        logging_strategy="steps",
        logging_steps=1,
        disable_tqdm=True,
        dataloader_pin_memory=False,
    )
    trainer = transformers.Trainer(model=model, args=args, train_dataset=Pairs(), optimizers=(opt, sched))
    trainer.train()
    n = 7
    assert trainer.state.global_step == n
    assert len(seen) == n
    assert_close(seen.lr, expected_lr(updates(n)))
    assert sched.last_epoch == n
    assert_close(sched.get_last_lr(), expected_lr([n + 1]))
    logged = {h["step"]: h["learning_rate"] for h in trainer.state.log_history if "learning_rate" in h}
    assert sorted(logged) == list(updates(n))
    assert_close([logged[k] for k in updates(n)], expected_lr(updates(n, start=2)))  # update k logs s(k + 1)


def test_get_last_lr_after_scheduler_step_is_the_next_updates_lr_as_in_torch():
    """torch's own schedulers: after optimizer.step(); scheduler.step(), get_last_lr() is the lr the next update
    will use (torch's LambdaLR, read by a step pre-hook); ours is the same: after update k, s(k + 1)."""
    factor = lambda e: (e + 1) / 10  # noqa: E731
    for make in (lambda o: torch.optim.lr_scheduler.LambdaLR(o, factor), lambda o: lt.scheduler(o, lr=S)):
        p, opt = sgd()
        with no_warnings():
            sched = make(opt)
            seen, reported = Updates(opt), []
            for _ in range(6):
                backward(p)
                opt.step()
                opt.zero_grad()
                sched.step()
                reported.append(sched.get_last_lr()[0])
        assert reported[:-1] == list(seen.lr[1:])  # what the next update used, to the bit
    assert_close(reported, expected_lr(updates(6, start=2)))


# ---------------------------------------------------------------- 8: resume


def train(p, opt, sched, steps_per_update):
    """One update per entry, each followed by that many scheduler.step() calls."""
    for calls in steps_per_update:
        backward(p)
        opt.step()
        opt.zero_grad()
        for _ in range(calls):
            sched.step()


def rebuild(checkpoint, order):
    """A fresh parameter, optimizer and scheduler from a checkpoint, loaded in the given order."""
    p = torch.nn.Parameter(checkpoint["param"].clone())
    opt = torch.optim.SGD([p], lr=123.0, momentum=0.5)
    if order == "built after the optimizer's load":
        opt.load_state_dict(checkpoint["optimizer"])
        sched = lt.scheduler(opt, lr=S, momentum=M)
        sched.load_state_dict(checkpoint["scheduler"])
    else:
        sched = lt.scheduler(opt, lr=S, momentum=M)
        if order == "built before, optimizer loaded first":
            opt.load_state_dict(checkpoint["optimizer"])
            sched.load_state_dict(checkpoint["scheduler"])
        else:  # built before, scheduler loaded first
            sched.load_state_dict(checkpoint["scheduler"])
            opt.load_state_dict(checkpoint["optimizer"])
    return p, opt, sched


ORDERS = [
    "built after the optimizer's load",
    "built before, optimizer loaded first",
    "built before, scheduler loaded first",
]


@pytest.mark.parametrize("last_calls", [0, 4], ids=["no step after update 7", "4 steps after update 7"])
@pytest.mark.parametrize("order", ORDERS)
def test_resume_continues_bit_for_bit(order, last_calls):
    """7 updates with uneven scheduler.step() calls (0 to 4 after each), a checkpoint read back with
    weights_only=True, then 5 more updates (uneven again): every update uses the uninterrupted run's lr and
    momentum to the bit, and the parameters end where that run's do."""
    before, after = [1, 0, 3, 2, 0, 1, last_calls], [2, 0, 1, 3, 1]
    n = len(before) + len(after)

    p, opt = sgd(momentum=0.5)
    with no_warnings():
        sched = lt.scheduler(opt, lr=S, momentum=M)
        whole = Updates(opt, keys=("lr", "momentum"))
        train(p, opt, sched, [1] * n)
    assert_close(whole.lr, expected_lr(updates(n)))
    assert_close(whole.seen["momentum"], expected_momentum(updates(n)))
    assert_params(p, [1] * n, expected_lr(updates(n)), expected_momentum(updates(n)))

    p1, opt1 = sgd(momentum=0.5)
    with no_warnings():
        sched1 = lt.scheduler(opt1, lr=S, momentum=M)
        first = Updates(opt1, keys=("lr", "momentum"))
        train(p1, opt1, sched1, before)
        buffer = io.BytesIO()
        torch.save({"param": p1.detach(), "optimizer": opt1.state_dict(), "scheduler": sched1.state_dict()}, buffer)
        buffer.seek(0)
        checkpoint = torch.load(buffer, weights_only=True)

        p2, opt2, sched2 = rebuild(checkpoint, order)
        assert sched2.last_epoch == len(before)
        assert sched2.get_last_lr() == [whole.seen["lr"][len(before)]]
        second = Updates(opt2, keys=("lr", "momentum"))
        train(p2, opt2, sched2, after)

    for key in ("lr", "momentum"):
        assert first.seen[key] + second.seen[key] == whole.seen[key], key  # bit for bit
    assert torch.equal(p2, p)
    assert sched2.last_epoch == n


# ---------------------------------------------------------------- 9: preview loops, and the warning


def test_preview_loop_keeps_the_first_lr_and_warns_once():
    """Stepping the scheduler with no update (to "look at" the schedule) moves nothing, and says once to use
    s.values(n) or a plot."""
    p, opt = sgd()
    sched = lt.scheduler(opt, lr=S)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(100):
            sched.step()
        for _ in range(50):  # once means once
            sched.step()
    assert issubclass(ls.TimeWarning, UserWarning)
    others = [f"{w.category.__name__}: {w.message}" for w in caught if not issubclass(w.category, ls.TimeWarning)]
    assert not others
    time_warnings = [str(w.message) for w in caught if issubclass(w.category, ls.TimeWarning)]
    assert len(time_warnings) == 1, time_warnings
    assert "values(" in time_warnings[0]
    assert "plot" in time_warnings[0]
    assert sched.last_epoch == 0
    assert_close(sched.get_last_lr(), expected_lr([1]))
    assert_close([opt.param_groups[0]["lr"]], expected_lr([1]))

    with no_warnings():
        seen = Updates(opt)
        backward(p)
        opt.step()
    assert_close(seen.lr, expected_lr([1]))


@pytest.mark.parametrize(
    ("micro_batches", "skipped"),
    [(1, 3), (ACCUMULATE, 3), (8, 3), (ACCUMULATE, 6)],
    ids=[
        "3 skipped, step per update",
        "3 skipped, step per micro-batch of 4",
        "3 skipped, step per micro-batch of 8",
        "6 skipped, step per micro-batch of 4",
    ],
)
def test_grad_scaler_skipping_its_first_updates_does_not_warn(micro_batches, skipped):
    """An fp16 GradScaler typically skips its first few updates (its initial scale, 2**16, overflows and is
    halved each time): a few skipped updates, with scheduler.step() after each micro-batch (so micro_batches *
    skipped calls before the first update, up to 24 here), are training, not a preview: backward ran."""
    with no_warnings():
        p, sched, seen, multiples = run_with_scaler(
            skipped + 5,
            overflow_at=set(range(1, skipped + 1)),
            micro_batches=micro_batches,
            step_every_micro_batch=True,
        )
    n = 5
    assert len(seen) == n == len(multiples)
    assert_close(seen.lr, expected_lr(updates(n)))
    assert_params(p, multiples, expected_lr(updates(n)))
    assert sched.last_epoch == n


def test_updates_that_bypass_the_step_hooks_are_named_once():
    """A wrapper calling the optimizer's step function around its hooks (``type(opt).step.__wrapped__``): the
    clock counts none of those updates, so every one uses s(1) (the parameters, replayed in numpy, say so);
    from the third scheduler.step() after such an update, a TimeWarning names the cause, once."""
    p, opt = sgd()
    sched = lt.scheduler(opt, lr=S)
    unhooked = type(opt).step.__wrapped__
    n, warned_at = 8, []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for k in range(1, n + 1):
            backward(p)
            unhooked(opt)
            opt.zero_grad()
            sched.step()
            warned_at += [k] * len(caught)
            caught.clear()
    assert warned_at == [3], warned_at
    assert sched.last_epoch == 0
    assert_params(p, [1] * n, expected_lr([1] * n))  # every update used s(1), and the parameters moved


def test_parameters_changed_around_real_updates_do_not_warn():
    """No false alarm: a weight clip after every real update (WGAN), scheduler.step() after every micro-batch,
    and a checkpoint's weights copied in once with no update in between."""
    p, opt = sgd()
    with no_warnings():
        sched = lt.scheduler(opt, lr=S)
        seen = Updates(opt)
        for k in range(1, 7):
            for micro in range(ACCUMULATE):
                backward(p)
                if micro == ACCUMULATE - 1:
                    opt.step()
                    opt.zero_grad()
                    with torch.no_grad():
                        p.clamp_(-10.0, 10.0)
                sched.step()
            if k == 3:
                with torch.no_grad():
                    p.copy_(p.detach().clone())
                sched.step()
    assert_close(seen.lr, expected_lr(updates(6)))


# ---------------------------------------------------------------- 10: param groups added or removed under a scheduler


def two_groups(head_lr=0.1, backbone_lr=0.01):
    """A head (float64, in the optimizer from the start) and a frozen backbone's parameter (added later)."""
    head = torch.nn.Parameter(torch.tensor([1.0, -1.0, 0.25], dtype=torch.float64))
    backbone = torch.nn.Parameter(torch.tensor([0.5, 2.0, -3.0], dtype=torch.float64))
    return head, backbone, {"params": [backbone], "lr": backbone_lr}


def train_two(head, backbone, opt, sched, ks, unfreeze_after=None, seen=None):
    """Updates ks, each followed by scheduler.step(); the backbone's group is added after update unfreeze_after."""
    for k in ks:
        c = torch.tensor(C, dtype=torch.float64)
        ((head * c).sum() + (backbone * c).sum() * (len(opt.param_groups) > 1)).backward()
        opt.step()
        opt.zero_grad()
        sched.step()
        if k == unfreeze_after:
            opt.add_param_group(unfreeze_after_group(backbone))


def unfreeze_after_group(backbone):
    return {"params": [backbone], "lr": 0.01}


def flat(rows) -> list:
    return [x for row in rows for x in row]


def lrs_of_both_groups(opt):
    seen = []
    opt.register_step_pre_hook(lambda o, a, kw: seen.append([float(g["lr"]) for g in o.param_groups]))
    return seen


@pytest.mark.parametrize("order", ["optimizer loaded first", "scheduler loaded first"])
def test_a_group_added_mid_run_follows_its_own_lr_times_the_schedule_and_resumes(order, tmp_path):
    """relative=True, the head's lr 0.1; after update 3 a backbone group is added with lr 0.01 (unfreezing): from
    update 4 on it uses 0.01 * s(k), the head 0.1 * s(k). A checkpoint after update 6 (read back with
    weights_only=True) resumes into an optimizer rebuilt with both groups, in either load order, and updates 7..10
    use what the uninterrupted run's do; the parameters end where that run's do, to the bit."""
    head, backbone, _ = two_groups()
    opt = torch.optim.SGD([head], lr=0.1)
    with no_warnings():
        sched = lt.scheduler(opt, lr=S, relative=True)
        seen = lrs_of_both_groups(opt)
        train_two(head, backbone, opt, sched, range(1, 7), unfreeze_after=3)
    want = [[0.1 * x] for x in expected_lr(updates(3))] + [[0.1 * x, 0.01 * x] for x in expected_lr(updates(3, 4))]
    assert_close(flat(seen), flat(want))
    assert [len(x) for x in seen] == [1, 1, 1, 2, 2, 2]
    path = tmp_path / "checkpoint.pt"
    torch.save(
        {"head": head, "backbone": backbone, "optimizer": opt.state_dict(), "scheduler": sched.state_dict()}, path
    )
    with no_warnings():
        train_two(head, backbone, opt, sched, range(7, 11))
    checkpoint = torch.load(path, weights_only=True)
    head2 = torch.nn.Parameter(checkpoint["head"].detach().clone())
    backbone2 = torch.nn.Parameter(checkpoint["backbone"].detach().clone())
    opt2 = torch.optim.SGD([{"params": [head2]}, {"params": [backbone2], "lr": 0.01}], lr=0.1)
    with no_warnings():
        sched2 = lt.scheduler(opt2, lr=S, relative=True)
        loads = [(opt2.load_state_dict, "optimizer"), (sched2.load_state_dict, "scheduler")]
        for load, key in loads if order == "optimizer loaded first" else loads[::-1]:
            load(checkpoint[key])
        seen2 = lrs_of_both_groups(opt2)
        train_two(head2, backbone2, opt2, sched2, range(7, 11))
    assert seen2 == seen[6:]  # bit for bit
    assert_close(flat(seen2), flat([0.1 * x, 0.01 * x] for x in expected_lr(updates(4, 7))))
    assert torch.equal(head2, head) and torch.equal(backbone2, backbone)
    assert sched2.last_epoch == sched.last_epoch == 10


def test_a_group_added_to_an_absolute_scheduler_follows_the_schedule_and_says_so():
    """relative=False: the lr is s(k) in every group, the added one too; it was added with an lr of its own, which
    the schedule overrides: a warning says so and points to relative=True."""
    head, backbone, group = two_groups()
    opt = torch.optim.SGD([head], lr=0.1)
    sched = lt.scheduler(opt, lr=S)
    seen = lrs_of_both_groups(opt)
    train_two(head, backbone, opt, sched, range(1, 3))
    opt.add_param_group(group)
    with pytest.warns(UserWarning, match=r"param group 1, added with lr=0\.01.*relative=True"):
        train_two(head, backbone, opt, sched, range(3, 5))
    assert_close(flat(seen), [*expected_lr(updates(2)), *np.repeat(expected_lr(updates(2, 3)), 2)])


def test_groups_removed_or_added_where_no_schedule_fits_are_named():
    """param_groups.clear() under a scheduler is a ValueError naming it (not an IndexError from the hook); a group
    added where the lr was given per group has no schedule: named, with the two ways out."""
    head, _, group = two_groups()
    opt = torch.optim.SGD([head], lr=0.1)
    sched = lt.scheduler(opt, lr=S)
    opt.param_groups.clear()
    for call in (opt.step, sched.step):
        with pytest.raises(
            ValueError, match=r"0 param groups, and Scheduler was made for 1: param groups were removed"
        ):
            call()
    opt = torch.optim.SGD([head], lr=0.1)
    sched = lt.scheduler(opt, lr=[S])
    opt.add_param_group(group)
    with pytest.raises(ValueError, match=r"param group 1 was added .* lr was given as a list.*relative=True"):
        opt.step()
    opt = torch.optim.SGD([head], lr=0.1)
    sched = lt.lambda_lr(opt, S)
    opt.add_param_group(group)
    for call in (opt.step, sched.step):
        with pytest.raises(ValueError, match=r"lambda_lr was made for 1 param groups and the optimizer has 2"):
            call()


# ---------------------------------------------------------------- 11: reduce-on-plateau


def test_plateau_lr_under_accumulation_stepping_every_micro_batch():
    """plateau_lr on the same clock: update k uses s(k) * scale, the scale changing from the update after a report
    (factor 0.5, patience 0: reports 1.0, 2.0 halve it after update 4; 3.0 halves it again after update 7)."""
    n = 10
    p, opt = sgd()
    reports = {3: 1.0, 4: 2.0, 7: 3.0}
    with no_warnings():
        sched = lt.plateau_lr(opt, S, ls.plateau(factor=0.5, patience=0))
        seen = Updates(opt)
        for k in range(1, n + 1):
            for micro in range(ACCUMULATE):
                backward(p)
                if micro == ACCUMULATE - 1:
                    opt.step()
                    opt.zero_grad()
                sched.step()
            if k in reports:
                sched.report(reports[k])
    scale = np.array([1.0] * 4 + [0.5] * 3 + [0.25] * 3)
    want = expected_lr(updates(n)) * scale
    assert len(seen) == n
    assert_close(seen.lr, want)
    assert_params(p, [ACCUMULATE] * n, want)
    assert sched.last_epoch == n
    assert_close(sched.get_last_lr(), expected_lr([n + 1]) * 0.25)


# ---------------------------------------------------------------- last_epoch is not a param-group key


def test_last_epoch_is_the_schedulers_argument():
    """scheduler(opt, lr=s, last_epoch=5) is a scheduler as it stands after 5 updates (lambda_lr's documented
    meaning): last_epoch 5, and the next update uses s(6); no param-group key 'last_epoch' is looked for."""
    p, opt = sgd()
    with no_warnings():
        sched = lt.scheduler(opt, lr=S, last_epoch=5)
        seen = Updates(opt)
        assert "last_epoch" not in opt.param_groups[0]
        assert sched.last_epoch == 5
        for _ in range(3):
            backward(p)
            opt.step()
            opt.zero_grad()
            sched.step()
    assert_close(seen.lr, expected_lr(updates(3, start=6)))
    assert sched.last_epoch == 8
