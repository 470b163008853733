"""lrsched.torch.scheduler as DeepSpeed's client scheduler, in a real DeepSpeed engine on CPU.

``deepspeed.initialize(model=..., optimizer=opt, lr_scheduler=lrsched.torch.scheduler(opt, s), config=...)`` on
DeepSpeed's CPU accelerator, the gloo backend, one process (world size 1, ``MASTER_ADDR``/``MASTER_PORT`` set as
a launcher sets them). The engine runs in a fresh interpreter (this file as a script), so that DeepSpeed's
process group and global state never reach the pytest process; a watchdog (the subprocess timeout) kills it if
it hangs. One launch runs every case and writes what it saw as JSON; the tests read it.

The engine's stepping contract, as deepspeed/runtime/engine.py (0.19.8) states it: ``_take_model_step`` runs
only at a gradient-accumulation boundary; it calls the wrapped optimizer's ``step()``, then reads
``optimizer.overflow`` and steps the client scheduler (``lr_scheduler.step()``) only when the update was applied
(an fp16/bf16 overflow counts ``skipped_steps`` instead). DeepSpeed does not call the basic optimizer's
``step()`` once per applied update everywhere: ZeRO 1 and 2 call it once per param group (``param_groups``
swapped for a one-group list), ZeRO 3 once per sub-group, and the fp16/bf16 optimizers of stage 0 once more,
on zero gradients, inside ``deepspeed.initialize``. So under the engine lrsched's clock is the engine's update
(lrsched/torch/clock.py, ``deepspeed_update``): its steps write update t's values into the groups they step,
and the update is counted once, by the next ``scheduler.step()`` (or, when nothing steps the scheduler, by the
engine's next update).

What each update used is read inside it: a step pre-hook on the basic optimizer, registered after the
scheduler's (torch runs pre-hooks in registration order), records, for each param group whose parameters have a
gradient (the groups that call updates), the lr it holds, and the engine's ``global_steps`` then (the update
the call belongs to: ZeRO 3 steps a group once per sub-group). The expected values are the schedule written out in
numpy (:func:`expected_lr`) at the count of applied updates that DeepSpeed itself reports
(``global_steps - skipped_steps``), never lrsched's.

The shared-memory all-reduce kernel that DeepSpeed's CPU backend JIT-compiles at start (a C++ build of about a
minute on a fresh machine, useless to one process) is replaced by None, which DeepSpeed's own ``build_shm_op``
returns where the kernel is not available: the plain gloo path is used.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import lrsched as ls

pytestmark = pytest.mark.slow

ROOT = Path(ls.__file__).resolve().parent.parent  # the lrsched under test, put first on the engine's PYTHONPATH
LAUNCH_TIMEOUT = 300.0  # seconds for the whole launch (about 20 s when healthy)
START, END, STEPS = 0.1, 0.01, 12  # s = linear(START, END, STEPS): every update of these runs has its own lr
RTOL = 1e-12


def schedule():
    return ls.linear(START, END, STEPS)


def expected_lr(n: int, first: int = 1) -> np.ndarray:
    """s(t) for t = first .. first + n - 1, written out: START + (END - START) min(t, STEPS) / STEPS."""
    t = np.arange(first, first + n, dtype=np.float64)
    return START + (END - START) * np.minimum(t, STEPS) / STEPS


# ---------------------------------------------------------------- the engine's side (this file as a script)


def _engine(stage, precision="fp32", accumulation=1, groups=1, kind="scheduler", form="object", zero=None):
    """A DeepSpeed engine on a tiny model, its basic optimizer, the scheduler and the record of updates.

    ``form``: "object" (made before ``deepspeed.initialize`` and given to it), "callable" (DeepSpeed makes it),
    or "own" (made on the basic optimizer and not given to the engine: the loop steps it, or not)."""
    import deepspeed
    import torch

    import lrsched.torch as lt

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Linear(3, 1))
    params = [{"params": list(model[0].parameters())}, {"params": list(model[1].parameters())}]
    opt = torch.optim.AdamW(params if groups == 2 else model.parameters(), lr=1.0)
    make = (lambda o: lt.scheduler(o, schedule())) if kind == "scheduler" else (lambda o: lt.lambda_lr(o, schedule()))
    client = make if form == "callable" else make(opt)
    config = {
        "train_micro_batch_size_per_gpu": 2,
        "gradient_accumulation_steps": accumulation,
        "zero_optimization": {"stage": stage, **(zero or {})},
        "steps_per_print": 10**9,
    }
    if precision == "bf16":
        config["bf16"] = {"enabled": True}
    given = None if form == "own" else client
    engine, _, _, sched = deepspeed.initialize(model=model, optimizer=opt, lr_scheduler=given, config=config)
    sched = client if form == "own" else sched
    groups = list(opt.param_groups)  # ZeRO 1 and 2 step one group at a time: it is found by identity
    record = {"calls": [], "updates": [], "scheduler_steps": 0}

    def seen(optimizer, args, kwargs):  # after the scheduler's pre-hook: what this update reads
        if len(optimizer.param_groups) == len(groups):
            groups[:] = optimizer.param_groups  # (new dicts after a checkpoint's optimizer state is loaded)
        stepped = {}
        for g in optimizer.param_groups:
            if any(p.grad is not None for p in g["params"]):
                i = next((j for j, h in enumerate(groups) if h is g or h["params"] is g["params"]), -1)
                stepped[str(i)] = float(g["lr"])
        record["calls"].append(stepped)
        record["updates"].append(int(engine.global_steps))  # the engine's update this step belongs to

    opt.register_step_pre_hook(seen)
    step = sched.step

    def counted(*args, **kwargs):  # what the engine calls after each applied update
        record["scheduler_steps"] += 1
        return step(*args, **kwargs)

    sched.step = counted
    return engine, sched, record


def _train(engine, updates: int, overflow_at=(), sched=None):
    """``updates`` accumulation boundaries; the micro-batches in ``overflow_at`` get an infinite loss; ``sched``:
    stepped after every micro-batch (a loop's own scheduler, not the engine's)."""
    import torch

    dtype = next(engine.module.parameters()).dtype
    for i in range(updates * engine.gradient_accumulation_steps()):
        loss = engine(torch.randn(2, 4, dtype=dtype)).float().pow(2).mean()
        if i in overflow_at:
            loss = loss * float("inf")
        engine.backward(loss)
        engine.step()
        if sched is not None:
            sched.step()


def _result(engine, sched, record) -> dict:
    return {
        **record,
        "global_steps": int(engine.global_steps),
        "skipped_steps": int(engine.skipped_steps),
        "updates_counted": int(sched.last_epoch),
        "optimizer": type(engine.optimizer).__name__,
    }


def _case(stage, updates=6, overflow_at=(), loop_steps=False, **kw) -> dict:
    engine, sched, record = _engine(stage, **kw)
    _train(engine, updates, overflow_at, sched if loop_steps else None)
    out = _result(engine, sched, record)
    out["saved_count"] = int(sched.state_dict()["last_epoch"])
    return out


def _checkpoint(directory: str) -> dict:
    """3 updates, save, 3 more (the uninterrupted run); a new engine loads the save and makes 3 updates."""
    engine, sched, record = _engine(1, groups=2)
    _train(engine, 3)
    engine.save_checkpoint(directory, tag="at3")
    _train(engine, 3)
    whole = _result(engine, sched, record)
    engine, sched, record = _engine(1, groups=2)
    engine.load_checkpoint(directory, tag="at3")
    resumed_at = int(sched.last_epoch)
    _train(engine, 3)
    import torch

    import lrsched.torch as lt

    states = Path(directory) / "at3" / "mp_rank_00_model_states.pt"
    saved = torch.load(states, weights_only=False)["lr_scheduler"]
    count = lt.updates_done(states)  # the engine's checkpoint file, read by path (weights_only=True)
    return {
        "whole": whole,
        "resumed": _result(engine, sched, record),
        "resumed_at": resumed_at,
        "saved": saved,
        "count": count,
    }


def _foreign(directory: str) -> dict:
    """A run on DeepSpeed's own scheduler (a config's WarmupDecayLR): 4 updates, save, 4 more. The saved
    checkpoint's model states, read by ``lrsched.torch.updates_done``, give the count to resume at; a new engine
    on lrsched's mirror of that scheduler, resumed there and loading the checkpoint, makes 4 updates."""
    import deepspeed
    import torch

    import lrsched.deepspeed as ds
    import lrsched.torch as lt

    block = {"type": "WarmupDecayLR", "params": {"total_num_steps": 10, "warmup_max_lr": 0.3, "warmup_num_steps": 3}}
    block["params"]["warmup_type"] = "linear"
    config = {"train_micro_batch_size_per_gpu": 2, "zero_optimization": {"stage": 1}, "steps_per_print": 10**9}

    def engine(client=None, **extra):
        torch.manual_seed(0)
        model = torch.nn.Linear(4, 1)
        opt = torch.optim.AdamW(model.parameters(), lr=1.0)
        sched = client(opt) if client else None
        e, _, _, _ = deepspeed.initialize(model=model, optimizer=opt, lr_scheduler=sched, config={**config, **extra})
        seen = []
        opt.register_step_pre_hook(lambda o, a, k: seen.append(float(o.param_groups[0]["lr"])))
        return e, seen

    e, seen = engine(scheduler=block)
    _train(e, 4)
    e.save_checkpoint(directory, tag="at4")
    _train(e, 4)
    k = lt.updates_done(Path(directory) / "at4" / "mp_rank_00_model_states.pt")
    schedules = ds.from_config(block)
    resumed, seen2 = engine(lambda opt: lt.scheduler(opt, **schedules, last_epoch=k))
    resumed.load_checkpoint(directory, tag="at4", load_lr_scheduler_states=False)
    _train(resumed, 4)
    return {"deepspeed": seen, "count": k, "resumed": seen2}


CASES = {
    # the contract holds: DeepSpeed steps the basic optimizer once per applied update
    "stage0": lambda: _case(0, groups=2),
    "stage1_accumulation": lambda: _case(1, accumulation=3),
    "stage2_accumulation": lambda: _case(2, accumulation=2),
    "stage1_bf16_overflow": lambda: _case(1, precision="bf16", accumulation=2, overflow_at={5}),
    "stage0_bf16_callable": lambda: _case(0, precision="bf16", form="callable"),
    "stage3_two_groups_lambda_lr": lambda: _case(3, groups=2, kind="lambda_lr"),
    # where it does not: the engine's update is the clock
    "stage0_bf16_object": lambda: _case(0, precision="bf16"),
    "stage1_two_groups": lambda: _case(1, groups=2),
    "stage2_two_groups_accumulation": lambda: _case(2, groups=2, accumulation=2),
    "stage1_two_groups_lambda_lr": lambda: _case(1, groups=2, kind="lambda_lr"),
    "stage3_two_groups": lambda: _case(3, groups=2),
    "stage3_sub_groups": lambda: _case(3, zero={"sub_group_size": 8}),  # 19 parameters: 2 sub-groups
    "stage0_bf16_two_groups_overflow": lambda: _case(0, precision="bf16", groups=2, overflow_at={2}),
    "stage3_bf16_two_groups_overflow": lambda: _case(3, precision="bf16", groups=2, accumulation=2, overflow_at={5}),
    # a scheduler the engine is not given: the loop steps it after every micro-batch, or never
    "stage3_own_stepped": lambda: _case(3, groups=2, accumulation=2, form="own", loop_steps=True),
    "stage1_own_never_stepped": lambda: _case(1, groups=2, accumulation=2, form="own"),
}


def main(out: str) -> None:
    import warnings

    warnings.simplefilter("ignore")  # DeepSpeed's CPU start-up and torch.distributed deprecations
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK="0", LOCAL_RANK="0", WORLD_SIZE="1")
    import deepspeed

    sys.modules["deepspeed.comm.torch"].build_shm_op = lambda: None  # see the module docstring
    deepspeed.init_distributed(dist_backend="gloo")
    import lrsched

    results = {"lrsched": lrsched.__file__, "deepspeed": deepspeed.__version__, "cases": {}}
    for name, run in CASES.items():
        try:
            results["cases"][name] = run()
        except Exception as e:  # a case that raises is a result too (named in the test that reads it)
            results["cases"][name] = {"error": f"{type(e).__name__}: {e}"}
    results["cases"]["checkpoint"] = _checkpoint(str(Path(out).parent / "checkpoint"))
    try:
        results["cases"]["foreign"] = _foreign(str(Path(out).parent / "foreign"))
    except Exception as e:
        results["cases"]["foreign"] = {"error": f"{type(e).__name__}: {e}"}
    Path(out).write_text(json.dumps(results))


# ---------------------------------------------------------------- the tests (reading one launch)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    if importlib.util.find_spec("torch") is None:
        pytest.skip("torch: installed by the README test command")
    if importlib.util.find_spec("deepspeed") is None:
        pytest.skip("pip install --no-deps deepspeed (README)")
    out = tmp_path_factory.mktemp("deepspeed_engine") / "results.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    env["OMP_NUM_THREADS"] = "1"
    try:
        proc = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), str(out)],
            capture_output=True,
            text=True,
            timeout=LAUNCH_TIMEOUT,
            env=env,
            cwd=out.parent,
        )
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"the DeepSpeed engine run outlived {LAUNCH_TIMEOUT:.0f} s:\n{e.stdout}\n{e.stderr}", pytrace=False)
    if proc.returncode != 0 or not out.exists():
        pytest.fail(f"the DeepSpeed engine run failed ({proc.returncode}):\n{proc.stderr[-6000:]}", pytrace=False)
    results = json.loads(out.read_text())
    assert Path(results["lrsched"]).resolve() == Path(ls.__file__).resolve()
    return results["cases"]


def lrs_by_group(case: dict) -> dict[str, list[float]]:
    """The lr of each param group's updates, in order (a group's update: the step calls of one engine update
    while it has gradients; ZeRO 3 steps a group once per sub-group, each of them at the same lr)."""
    out: dict[str, list[float]] = {}
    seen: dict[tuple[int, str], float] = {}
    for update, call in zip(case["updates"], case["calls"], strict=True):
        for i, lr in call.items():
            if (update, i) in seen:
                assert lr == seen[(update, i)], f"update {update}: param group {i}'s sub-groups stepped at 2 lrs"
                continue
            seen[(update, i)] = lr
            out.setdefault(i, []).append(lr)
    return out


def applied(case: dict) -> int:
    """The updates DeepSpeed applied, as it counts them."""
    assert "error" not in case, case["error"]
    return case["global_steps"] - case["skipped_steps"]


def assert_each_update_uses_s(case: dict, groups: int = 1, client: bool = True) -> None:
    n = applied(case)
    by_group = lrs_by_group(case)
    assert sorted(by_group) == [str(i) for i in range(groups)], by_group
    for i, lrs in by_group.items():
        np.testing.assert_allclose(lrs, expected_lr(n), rtol=RTOL, atol=0, err_msg=f"param group {i}")
    if client:
        assert case["scheduler_steps"] == n  # the engine stepped the client scheduler once per applied update
    assert case["saved_count"] == n  # the state dict a checkpoint takes holds DeepSpeed's count


def test_stage0_each_update_uses_s_of_its_count(runs):
    """ZeRO off, fp32: the engine steps the basic optimizer itself; two param groups."""
    case = runs["stage0"]
    assert case["optimizer"] == "AdamW" and applied(case) == 6
    assert_each_update_uses_s(case, groups=2)
    assert case["updates_counted"] == 6


@pytest.mark.parametrize(("name", "accumulation"), [("stage1_accumulation", 3), ("stage2_accumulation", 2)])
def test_zero_with_gradient_accumulation_counts_boundaries_only(runs, name, accumulation):
    """ZeRO stage 1 and 2 (DeepSpeedZeroOptimizer), 3 and 2 micro-batches per update: 18 and 12 micro-batches
    make 6 updates, each at s of its count, and the engine steps the scheduler at the 6 boundaries only."""
    case = runs[name]
    assert case["optimizer"] == "DeepSpeedZeroOptimizer" and applied(case) == 6
    assert len(case["calls"]) == 6
    assert_each_update_uses_s(case)


def test_bf16_overflow_skip_neither_steps_the_scheduler_nor_counts(runs):
    """ZeRO 1 with bf16 checks gradients for overflow: an infinite loss on micro-batch 6 (the second of update 3)
    makes DeepSpeed skip that update and not step the scheduler; the basic optimizer's step is not called either,
    so the 5 updates applied of 6 boundaries use s(1) .. s(5)."""
    case = runs["stage1_bf16_overflow"]
    assert case["global_steps"] == 6 and case["skipped_steps"] == 1
    assert_each_update_uses_s(case)
    assert case["updates_counted"] == 5


def test_checkpoint_through_the_engine_resumes_where_it_stopped(runs):
    """``engine.save_checkpoint`` stores the client scheduler's state dict (3 updates done); a new engine and
    scheduler that ``load_checkpoint`` it make updates 4, 5, 6 at the lrs of the uninterrupted run (ZeRO 1, two
    param groups: stepped one at a time, in the optimizer's reloaded groups)."""
    case = runs["checkpoint"]
    assert case["saved"]["last_epoch"] == 3
    assert case["resumed_at"] == 3
    assert case["count"] == 3  # lrsched.torch.updates_done reads it from the checkpoint file too
    whole, resumed = lrs_by_group(case["whole"]), lrs_by_group(case["resumed"])
    assert sorted(whole) == sorted(resumed) == ["0", "1"]
    for i in whole:
        np.testing.assert_allclose(whole[i], expected_lr(6), rtol=RTOL, atol=0)
        assert resumed[i] == whole[i][3:]  # bit for bit
    assert case["resumed"]["scheduler_steps"] == 3


def test_a_deepspeed_scheduler_checkpoint_resumed_on_lrsched(runs):
    """A run on DeepSpeed's own WarmupDecayLR (from the config), checkpointed after 4 updates: updates_done reads
    4 from the checkpoint file (``lr_scheduler``'s last_batch_iteration 3), and a new engine on lrsched's mirror
    of the same config block, resumed there, gives updates 5 .. 8 DeepSpeed's lrs, to the bit."""
    case = runs["foreign"]
    assert "error" not in case, case["error"]
    assert case["count"] == 4
    assert len(case["deepspeed"]) == 8 and len(case["resumed"]) == 4
    assert case["resumed"] == case["deepspeed"][4:]


def test_the_callable_form_with_a_wrapped_optimizer(runs):
    """``lr_scheduler=lambda opt: lrsched.torch.scheduler(opt, s)``: DeepSpeed builds the scheduler on the basic
    optimizer after its wrapper (here FP16_UnfusedOptimizer, bf16 at stage 0) exists."""
    case = runs["stage0_bf16_callable"]
    assert case["optimizer"] == "FP16_UnfusedOptimizer"
    assert_each_update_uses_s(case)


def test_stage3_with_lambda_lr(runs):
    """ZeRO 3 steps the basic optimizer once per sub-group (one per param group here); lambda_lr counts the
    engine's scheduler.step() calls, one per applied update, so each group's update uses s of its count."""
    case = runs["stage3_two_groups_lambda_lr"]
    assert case["optimizer"] == "DeepSpeedZeroOptimizer_Stage3"
    assert len(case["calls"]) == 12  # two step() calls per update
    assert_each_update_uses_s(case, groups=2)


def test_stage0_bf16_with_a_scheduler_made_before_initialize(runs):
    """FP16_Optimizer / FP16_UnfusedOptimizer (fp16 or bf16 at ZeRO stage 0) call the basic optimizer's step()
    once with zero gradients in their constructor (initialize_optimizer_states): a step inside
    deepspeed.initialize, not an update DeepSpeed counts, so lrsched does not count it either."""
    case = runs["stage0_bf16_object"]
    assert case["optimizer"] == "FP16_UnfusedOptimizer"
    assert case["updates_counted"] == applied(case) == 6, "an update counted more or less than DeepSpeed applied"
    assert_each_update_uses_s(case)


@pytest.mark.parametrize("name", ["stage1_two_groups", "stage2_two_groups_accumulation", "stage1_two_groups_lambda_lr"])
def test_zero1_and_2_with_two_param_groups(runs, name):
    """ZeRO 1 and 2 step the basic optimizer once per param group, with ``optimizer.param_groups`` swapped for a
    one-group list (DeepSpeedZeroOptimizer._optimizer_step): not a removal; each step's group is found by
    identity and gets update k's lr, and the update is counted once (scheduler) or stepped once (lambda_lr)."""
    case = runs[name]
    assert case["optimizer"] == "DeepSpeedZeroOptimizer"
    assert len(case["calls"]) == 2 * applied(case)  # one step() call per group per update
    assert all(len(call) == 1 for call in case["calls"])  # each over one group
    assert_each_update_uses_s(case, groups=2)


def test_stage3_with_two_param_groups(runs):
    """ZeRO 3 steps the basic optimizer once per sub-group (here one per param group): both calls of update k
    use s(k), and the update is counted once (not once per call: group 0 at s(2k - 1), group 1 at s(2k))."""
    case = runs["stage3_two_groups"]
    assert case["optimizer"] == "DeepSpeedZeroOptimizer_Stage3"
    assert len(case["calls"]) == 12
    assert_each_update_uses_s(case, groups=2)
    assert case["updates_counted"] == 6


def test_stage3_with_sub_groups_of_one_param_group(runs):
    """One param group split into sub-groups (``sub_group_size`` 8 of 19 parameters, as a large model is with the
    default 1e9): several step() calls per update, all at s(k), one update counted."""
    case = runs["stage3_sub_groups"]
    assert len(case["calls"]) == 2 * applied(case)  # sub-groups of 12 and 3 + 3 + 1 parameters
    assert_each_update_uses_s(case)
    assert case["updates_counted"] == 6


@pytest.mark.parametrize(
    ("name", "optimizer"),
    [
        ("stage0_bf16_two_groups_overflow", "FP16_UnfusedOptimizer"),
        ("stage3_bf16_two_groups_overflow", "DeepSpeedZeroOptimizer_Stage3"),
    ],
)
def test_an_overflow_with_two_param_groups(runs, name, optimizer):
    """bf16 with two param groups, an infinite loss at update 3: DeepSpeed skips it (no step() of the basic
    optimizer, no scheduler.step()), and the 5 updates applied of 6 use s(1) .. s(5) in both groups; at stage 0
    after deepspeed.initialize's own step, at stage 3 over sub-groups."""
    case = runs[name]
    assert case["optimizer"] == optimizer
    assert case["global_steps"] == 6 and case["skipped_steps"] == 1
    assert_each_update_uses_s(case, groups=2)
    assert case["updates_counted"] == 5


@pytest.mark.parametrize("name", ["stage3_own_stepped", "stage1_own_never_stepped"])
def test_a_scheduler_the_engine_is_not_given(runs, name):
    """A scheduler made on the basic optimizer and kept by the loop (not ``lr_scheduler=``): stepped after every
    micro-batch (2 per update) it counts each update once; never stepped, the engine's next update counts the one
    before, and ``state_dict()`` the last one."""
    case = runs[name]
    assert applied(case) == 6
    assert case["scheduler_steps"] == (12 if name == "stage3_own_stepped" else 0)
    assert_each_update_uses_s(case, groups=2, client=False)


if __name__ == "__main__":
    main(sys.argv[1])
