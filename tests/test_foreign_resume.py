"""lrsched.torch.updates_done: a foreign run's scheduler state, read into the update count lrsched resumes at.

Each peer's scheduler is driven as its engine drives it for k updates, its real ``state_dict()`` taken (through
``torch.save`` / ``torch.load`` for Hugging Face's ``scheduler.pt``), and the count read from it; an
``lrsched.torch.scheduler`` built with ``last_epoch=`` that count, on the peer's schedule as an lrsched value
(the ``lrsched.deepspeed`` / ``lrsched.megatron`` / ``lrsched.transformers`` / ``lrsched.nemo`` mirror), must
then give the lrs the peer gives its next updates. The expected values are always the peer's own, read from
the peer as it continues.

DeepSpeed, megatron-core and transformers are installed and run here. NeMo and composer are not: their state
dicts are built from a reading of their source (said at each test), and NeMo's lrs come from
``tests/data/nemo_golden.json``, which NeMo's own scheduler code wrote (``tests/golden/make_nemo.py``).
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest

import lrsched as ls

torch = pytest.importorskip("torch", reason="installed by the README test command")
import lrsched.torch as lt  # noqa: E402
from lrsched import deepspeed as ds  # noqa: E402
from lrsched import megatron as mg  # noqa: E402
from lrsched import nemo  # noqa: E402
from lrsched import transformers as hf  # noqa: E402
from tests.test_megatron import _Optimizer as _MegatronOptimizer  # noqa: E402

NEXT = 6  # updates compared after each resume


def resumed_lrs(schedules: dict, k: int, n: int = NEXT, keys=("lr",)) -> dict[str, list[float]]:
    """What updates k + 1 .. k + n read of each key, under ``lrsched.torch.scheduler(opt, **schedules,
    last_epoch=k)``: a step pre-hook registered after the scheduler's records it inside each update."""
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.AdamW([p], lr=123.0, weight_decay=0.5)
    sched = lt.scheduler(opt, **schedules, last_epoch=k)
    seen: dict[str, list[float]] = {key: [] for key in keys}

    def record(optimizer, args, kwargs):
        g = optimizer.param_groups[0]
        for key in keys:
            seen[key].append(float(g["betas"][0] if key == "momentum" else g[key]))

    opt.register_step_pre_hook(record)
    for _ in range(n):
        p.grad = torch.ones(1)
        opt.step()
        sched.step()
    return seen


# ---------------------------------------------------------------- DeepSpeed


@pytest.fixture(scope="module")
def lr_schedules():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deepspeed's import warns about accelerators on a CPU machine
        return pytest.importorskip("deepspeed.runtime.lr_schedules", reason="pip install deepspeed")


DEEPSPEED = [
    ("WarmupLR", {"warmup_min_lr": 0.01, "warmup_max_lr": 0.5, "warmup_num_steps": 5, "warmup_type": "linear"}),
    (
        "WarmupDecayLR",
        {
            "total_num_steps": 14,
            "warmup_min_lr": 0.0,
            "warmup_max_lr": 0.5,
            "warmup_num_steps": 4,
            "warmup_type": "linear",
        },
    ),
    (
        "WarmupCosineLR",
        {
            "total_num_steps": 14,
            "warmup_min_ratio": 0.1,
            "warmup_num_steps": 4,
            "cos_min_ratio": 0.01,
            "warmup_type": "linear",
        },
    ),
    (
        "OneCycle",
        {
            "cycle_min_lr": 0.01,
            "cycle_max_lr": 0.5,
            "cycle_first_step_size": 4,
            "cycle_min_mom": 0.8,
            "cycle_max_mom": 0.9,
        },
    ),
]


@pytest.mark.parametrize(("kind", "params"), DEEPSPEED, ids=[k for k, _ in DEEPSPEED])
@pytest.mark.parametrize("k", [0, 1, 2, 5, 11])
def test_deepspeed_scheduler_state(lr_schedules, kind, params, k):
    """Driven as the engine drives it (the constructor sets update 1's lr; ``step()`` after each update): after k
    updates its state is ``{"last_batch_iteration": k - 1}``; lrsched resumed there gives its next lrs (and
    OneCycle's momentum, Adam's beta1) to the bit."""
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.AdamW([p], lr=0.3, betas=(0.9, 0.999))
    peer = getattr(lr_schedules, kind)(opt, **params)
    for _ in range(k):
        peer.step()
    state = peer.state_dict()
    assert lt.updates_done(state) == k
    assert lt.updates_done(state, "deepspeed") == k
    keys = ("lr", "momentum") if kind == "OneCycle" else ("lr",)
    want: dict[str, list[float]] = {key: [] for key in keys}
    for _ in range(NEXT):
        g = opt.param_groups[0]
        for key in keys:
            want[key].append(float(g["betas"][0] if key == "momentum" else g["lr"]))
        peer.step()
    schedules = ds.from_config({"scheduler": {"type": kind, "params": params}}, optimizer_lr=0.3)
    got = resumed_lrs(schedules, k, keys=keys)
    for key in keys:
        np.testing.assert_array_equal(got[key], want[key], err_msg=f"{kind} {key} after {k}")


# ---------------------------------------------------------------- Megatron


@pytest.fixture(scope="module")
def megatron():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # without Transformer Engine or Apex, megatron warns on import
        module = pytest.importorskip("megatron.core.optimizer_param_scheduler", reason="pip install megatron-core")
    return module.OptimizerParamScheduler


_Optimizer = _MegatronOptimizer  # what Megatron's scheduler touches of its optimizer: the param groups


MEGATRON = [
    {"lr_decay_style": "cosine"},
    {"lr_decay_style": "WSD", "wsd_decay_steps": 3, "lr_wsd_decay_style": "linear"},
    {"lr_decay_style": "inverse-square-root"},
]


@pytest.mark.parametrize("style", MEGATRON, ids=[s["lr_decay_style"] for s in MEGATRON])
@pytest.mark.parametrize("increment", [1, 4])
@pytest.mark.parametrize("k", [0, 1, 4, 9, 15])
def test_megatron_scheduler_state(megatron, style, increment, k):
    """``step(0)`` in the constructor, ``step(increment)`` after each update (1, or the global batch size in
    samples as Megatron-LM's training passes it): num_steps = k * increment after k updates; lrsched resumed at
    num_steps / increment gives the next lrs and weight decays (within 1e-12 of the peak: the sample clock's
    stretch is a few ulps)."""
    w, d = 3, 12
    kw = dict(init_lr=0.01, max_lr=1.0, min_lr=0.1, lr_warmup_steps=w * increment, lr_decay_steps=d * increment)
    kw.update(start_wd=0.0, end_wd=0.1, wd_incr_steps=d * increment, wd_incr_style="linear")
    kw.update({"wsd_decay_steps": None, "lr_wsd_decay_style": None, **style})
    if kw["wsd_decay_steps"] is not None:
        kw["wsd_decay_steps"] *= increment
    opt = _Optimizer()
    logging.disable(logging.INFO)
    try:
        peer = megatron(opt, **kw)
        for _ in range(k):
            peer.step(increment)
        state = peer.state_dict()
        want = {"lr": [], "weight_decay": []}
        for _ in range(NEXT):
            for key in want:
                want[key].append(opt.param_groups[0][key])
            peer.step(increment)
    finally:
        logging.disable(logging.NOTSET)
    assert state["num_steps"] == k * increment
    count = lt.updates_done(state, increment=increment)
    assert count == k
    # a Megatron-LM checkpoint: its args give the increment (the global batch size)
    checkpoint = {"iteration": k, "opt_param_scheduler": state, "args": argparse.Namespace(global_batch_size=increment)}
    assert lt.updates_done(checkpoint) == k
    got = resumed_lrs(mg.optimizer_param_scheduler(**kw, increment=increment), count, keys=("lr", "weight_decay"))
    for key in want:
        np.testing.assert_allclose(got[key], want[key], rtol=0, atol=1e-12, err_msg=key)


def test_megatron_needs_its_increment_and_refuses_a_ramp_up(megatron):
    opt = _Optimizer()
    logging.disable(logging.INFO)
    try:
        peer = megatron(opt, 0.0, 1.0, 0.1, 2, 10, "linear", 0.0, 0.0, 10, "constant")
        for _ in range(3):
            peer.step(8)
    finally:
        logging.disable(logging.NOTSET)
    state = peer.state_dict()
    with pytest.raises(ValueError, match="increment is needed"):
        lt.updates_done(state)
    with pytest.raises(ValueError, match=r"num_steps'\]=24 is not a multiple of increment=5"):
        lt.updates_done(state, increment=5)
    assert lt.updates_done(state, increment=8) == 3
    ramp = {"opt_param_scheduler": state, "args": {"global_batch_size": 8, "rampup_batch_size": [2, 2, 100]}}
    with pytest.raises(ValueError, match="rampup_batch_size"):
        lt.updates_done(ramp)
    older = {"num_iters": 24, "start_lr": 1.0, "decay_style": "linear"}  # the keys of older Megatron checkpoints
    assert lt.updates_done(older, increment=8) == 3


# ---------------------------------------------------------------- Hugging Face transformers


@pytest.fixture(scope="module")
def optimization():
    return pytest.importorskip("transformers.optimization", reason="installed by the README test command")


HF = [
    ("get_linear_schedule_with_warmup", {"num_warmup_steps": 3, "num_training_steps": 14}),
    ("get_cosine_schedule_with_warmup", {"num_warmup_steps": 3, "num_training_steps": 14}),
    ("get_constant_schedule_with_warmup", {"num_warmup_steps": 4}),
]


@pytest.mark.parametrize(("name", "kw"), HF, ids=[n for n, _ in HF])
@pytest.mark.parametrize("k", [0, 1, 3, 10])
def test_hugging_face_scheduler_pt(optimization, tmp_path, name, kw, k):
    """The Trainer's loop (``optimizer.step(); scheduler.step()``) for k updates, then the Trainer's
    ``torch.save(scheduler.state_dict(), "scheduler.pt")``; the file (or its checkpoint directory) read by path
    gives k, and lrsched resumed there gives the next lrs to the bit."""
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.AdamW([p], lr=0.3)
    peer = getattr(optimization, name)(opt, **kw)
    for _ in range(k):
        p.grad = torch.ones(1)
        opt.step()
        peer.step()
    torch.save(peer.state_dict(), tmp_path / "scheduler.pt")
    want = []
    for _ in range(NEXT):
        want.append(opt.param_groups[0]["lr"])
        p.grad = torch.ones(1)
        opt.step()
        peer.step()
    assert lt.updates_done(tmp_path / "scheduler.pt") == k
    assert lt.updates_done(str(tmp_path)) == k  # the checkpoint directory
    loaded = torch.load(tmp_path / "scheduler.pt", weights_only=True)
    assert lt.updates_done(loaded, "transformers") == k
    got = resumed_lrs({"lr": getattr(hf, name)(0.3, **kw)}, k)
    np.testing.assert_array_equal(got["lr"], want)


# ---------------------------------------------------------------- NeMo (not installed: its state built from its source)


def _nemo_cases():
    """The longest golden case of each NeMo class (values written by NeMo's own code)."""
    cases = json.loads((Path(__file__).parent / "data" / "nemo_golden.json").read_text())["cases"]
    best: dict[str, dict] = {}
    for c in cases:
        if len(c["values"]) > len(best.get(c["name"], {"values": []})["values"]):
            best[c["name"]] = c
    return [best[name] for name in sorted(best)]


class _NemoState(torch.optim.lr_scheduler.LRScheduler):
    """A torch scheduler holding what a NeMo scheduler holds (nemo/core/optim/lr_scheduler.py: each class sets its
    arguments, ``max_steps``, ``warmup_steps``, ``min_lr``..., as attributes before torch's ``_LRScheduler``
    constructor), so that its ``state_dict()`` (torch's: every attribute but the optimizer) has NeMo's fields
    and torch's own, ``last_epoch`` among them. The lr it sets does not matter here."""

    def __init__(self, optimizer, **attributes):
        self.__dict__.update(attributes)
        super().__init__(optimizer)

    def get_lr(self):
        return list(self.base_lrs)


@pytest.mark.parametrize("case", _nemo_cases(), ids=lambda c: c["name"])
def test_nemo_scheduler_state(case):
    """NeMo's clock is torch's (update t at last_epoch = t - 1): a state saved after k updates has last_epoch = k,
    also inside a Lightning checkpoint (``lr_schedulers``, as NeMo's trainer saves it); lrsched's NeMo mirror
    resumed there gives NeMo's own next lrs (the golden values), within 1e-12 of the lr."""
    values = case["values"]
    for k in sorted({0, 1, len(values) // 2, len(values) - NEXT}):
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=case["lr"])
        peer = _NemoState(opt, **case["kwargs"])
        for _ in range(k):
            opt.step()
            peer.step()
        state = peer.state_dict()
        assert lt.updates_done(state) == k
        assert lt.updates_done({"global_step": k, "lr_schedulers": [state]}, "nemo") == k
        n = min(NEXT, len(values) - k)
        got = resumed_lrs({"lr": getattr(nemo, case["name"])(case["lr"], **case["kwargs"])}, k, n)
        np.testing.assert_allclose(got["lr"], values[k : k + n], rtol=0, atol=1e-12 * case["lr"], err_msg=f"k={k}")


# ---------------------------------------------------------------- composer (not installed: its state from its source)


def _timestamp(batch: int, epoch: int = 0, batch_in_epoch: int | None = None) -> dict:
    """``composer.core.time.Timestamp.state_dict()``, field for field as composer/core/time.py writes it."""
    zero = datetime.timedelta(0)
    return {
        "iteration": 0,
        "epoch": epoch,
        "batch": batch,
        "sample": 8 * batch,
        "token": 0,
        "epoch_in_iteration": epoch,
        "token_in_iteration": 0,
        "batch_in_epoch": batch if batch_in_epoch is None else batch_in_epoch,
        "sample_in_epoch": 8 * batch,
        "token_in_epoch": 0,
        "total_wct": zero,
        "iteration_wct": zero,
        "epoch_wct": zero,
        "batch_wct": zero,
    }


def test_composer_timestamp_state():
    """composer's batch count is its optimizer updates (one per batch): the Timestamp's ``batch``, read from the
    Timestamp state, from ``State.state_dict()`` (``timestamp`` beside ``schedulers``, composer's LambdaLR) and
    from a checkpoint (``{"state": ..., "rng": ...}``)."""
    ts = _timestamp(batch=37, epoch=2, batch_in_epoch=5)
    assert lt.updates_done(ts) == 37
    assert lt.updates_done(ts, "composer") == 37
    state = {"timestamp": ts, "schedulers": {"LambdaLR": {"last_epoch": 38, "base_lrs": [0.1], "lr_lambdas": [{}]}}}
    assert lt.updates_done(state) == 37
    assert lt.updates_done({"state": state, "rng": [{}]}) == 37
    assert lt.updates_done(_timestamp(batch=0)) == 0


# ---------------------------------------------------------------- lrsched's own states, and torch's


def test_lrsched_and_torch_states():
    """lrsched's own scheduler and lambda_lr states, and any torch scheduler's: last_epoch updates done."""
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=0.1)
    s = ls.linear(0.1, 0.0, 10)
    for make in (lambda: lt.scheduler(opt, s), lambda: lt.lambda_lr(opt, s)):
        sched = make()
        for _ in range(4):
            p.grad = torch.ones(1)
            opt.step()
            sched.step()
        assert lt.updates_done(sched.state_dict()) == 4
        sched.close() if hasattr(sched, "close") else None
    opt = torch.optim.SGD([p], lr=0.1)
    step = torch.optim.lr_scheduler.StepLR(opt, 3)
    for _ in range(5):
        opt.step()
        step.step()
    assert lt.updates_done(step.state_dict()) == 5
    assert lt.updates_done(step.state_dict(), "torch") == 5
    assert lt.updates_done({"last_epoch": torch.tensor(5), "base_lrs": [0.1]}) == 5


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("state", "framework", "error", "match"),
    [
        ({"last_batch_iteration": 3}, "deepspeeed", ValueError, "did you mean 'deepspeed'"),
        ({"last_batch_iteration": 3}, 3, TypeError, "framework must be one of"),
        ([1, 2], None, TypeError, "state must be a state dict"),
        ({"foo": 1, "bar": 2}, None, ValueError, r"no scheduler state updates_done recognises \(keys \['bar', 'foo'\]"),
        ({"last_epoch": 3, "base_lrs": [0.1]}, "deepspeed", ValueError, "no 'last_batch_iteration' among its keys"),
        ({"last_batch_iteration": -2}, None, ValueError, r"last_batch_iteration'\] must be >= -1, got -2"),
        ({"last_batch_iteration": 2.5}, None, ValueError, r"must be a whole number, got 2.5"),
        ({"last_batch_iteration": "3"}, None, TypeError, r"must be an integer, got '3'"),
        ({"last_batch_iteration": torch.tensor(2.0)}, None, TypeError, "must be an integer"),
        ({"last_epoch": -1, "base_lrs": [0.1]}, None, ValueError, r"last_epoch'\] must be >= 0, got -1"),
        ({"lr_schedulers": []}, None, ValueError, "must hold one scheduler state"),
        ({"lr_scheduler": None, "ds_version": "0.19.8"}, None, ValueError, r"\['lr_scheduler'\] is None"),
        ({"batch": -3, "batch_in_epoch": 0}, None, ValueError, r"batch'\] must be >= 0"),
        # e + 1 updates: the count stays within lrsched's exact counts (2**53)
        ({"last_batch_iteration": 2**53}, None, ValueError, r"must be at most 9007199254740991, got 9007199254740992"),
    ],
)
def test_refusals_name_the_field_and_the_value(state, framework, error, match):
    with pytest.raises(error, match=match):
        lt.updates_done(state, framework)


def test_the_last_exact_count_is_read():
    assert lt.updates_done({"last_batch_iteration": 2**53 - 1}) == 2**53
    assert lt.updates_done({"last_batch_iteration": torch.tensor([41])}) == 42  # a one-element tensor


def test_refusals_of_paths_and_increments(tmp_path):
    with pytest.raises(ValueError, match="no file at"):
        lt.updates_done(tmp_path / "missing.pt")
    with pytest.raises(ValueError, match=r"state: 'xxx.*\.\.\. is not a path that can be read \(File name too long\)$"):
        lt.updates_done("x" * 5000)  # a name too long for the file system
    (tmp_path / "args.pt").write_bytes(pickle.dumps({"args": argparse.Namespace(lr=1.0)}))
    with pytest.raises(ValueError, match=r"weights_only=True\) could not read it"):
        lt.updates_done(tmp_path / "args.pt")
    torch.save([1, 2], tmp_path / "list.pt")
    with pytest.raises(ValueError, match="not a state dict"):
        lt.updates_done(tmp_path / "list.pt")
    with pytest.raises(ValueError, match="increment must be >= 1, got 0"):
        lt.updates_done({"num_steps": 8, "max_lr": 1.0}, increment=0)
    with pytest.raises(TypeError, match="increment must be an integer"):
        lt.updates_done({"num_steps": 8, "max_lr": 1.0}, increment="8")
