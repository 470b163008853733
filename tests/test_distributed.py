"""lrsched under real multi-process training on CPU: 2 ranks, the gloo backend.

The ranks are 2 fresh interpreters running this file as a script (the
``__main__`` block at the end), launched as torchrun launches them: ``RANK``,
``LOCAL_RANK``, ``WORLD_SIZE``, ``LOCAL_WORLD_SIZE``, ``MASTER_ADDR=127.0.0.1``
and a free ``MASTER_PORT`` in the environment, and the lrsched this test
process imported first on ``PYTHONPATH``. Each rank runs a list of jobs and
writes what it saw to ``rank<r>.json``; a watchdog kills both ranks (by their
process ids) as soon as one fails or the launch outlives its timeout, and the
tests fail with both ranks' output.

A launch costs several seconds before any job runs (torch, torch._dynamo, which
DDP and the optimizers import, and numba, which loads lrsched's cached
kernel), so the tests share launches: one runs accelerate (first, so that it
creates the process group itself), the uninterrupted DDP run, the first half
of the interrupted one and the plateau cases; a second, new processes in a new
process group, resumes from the checkpoint. Lightning has a launch of its own.

What each update used is read inside the update, with a step pre-hook
registered after the scheduler (torch runs step pre-hooks in registration
order, so it sees what the update reads). The expected values never come from
lrsched: the schedule is written out in numpy (:func:`expected_lr`) and the
plateau decisions by hand (:data:`PLATEAU_CASES`), checked by an independent
replay of torch's rule (:func:`reference_scales`).

1. DDP: every rank's k-th update uses s(k); a run stopped after update K and
   resumed in new processes (a new process group, the checkpoint read with
   ``weights_only=True``) is bit-identical to an uninterrupted one.
2. accelerate, 2 processes: ``AcceleratedScheduler`` steps the scheduler twice per
   update; the k-th update still uses s(k).
3. a token clock: each rank reports the global count (the ranks agree, update
   k at 1 + the tokens before it); each rank's own count is named at the first
   ``consume``.
4. reduce-on-plateau with ranks whose metrics disagree: ``sync`` (the default)
   takes one decision per run, on the ranks' mean; a rank that does not report
   (validation on rank 0 only), or ranks at different reports, stop with
   ``SyncError`` naming lrsched, report and what every rank must do, after
   ``sync_timeout``, not the process group's timeout.
5. Lightning, ``Trainer(strategy="ddp", accelerator="cpu", devices=2)``: opt-in
   (``LRSCHED_TEST_LIGHTNING_DDP=1``), as its launch alone takes about 20 s.
"""

from __future__ import annotations

import contextlib
import datetime
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

import lrsched as ls

torch = pytest.importorskip("torch", reason="installed by the README test command")
import lrsched.torch as lt  # noqa: E402

if not torch.distributed.is_available() or not torch.distributed.is_gloo_available():
    pytest.skip("torch.distributed with gloo is not available", allow_module_level=True)

WORLD = 2
ROOT = Path(ls.__file__).resolve().parent.parent  # the lrsched under test, put first on the ranks' PYTHONPATH
LAUNCH_TIMEOUT = 120.0  # seconds per launch of both ranks (a few seconds each when healthy)
GLOO_TIMEOUT = 60.0  # seconds a collective waits for a peer that has died

# ---------------------------------------------------------------- the schedule and its closed form

PEAK, WARM, DECAY = 0.1, 5, 20
S = ls.warmup(ls.cosine(PEAK, 0.0, steps=DECAY), steps=WARM)
RTOL = 1e-12


def expected_lr(k):
    """s(k) written out: 0.1 k / 5 up to k = 5, then 0.05 (1 + cos(pi min(k - 5, 20) / 20))."""
    t = np.asarray(k, dtype=np.float64)
    cos = 0.5 * PEAK * (1 + np.cos(np.pi * np.minimum(t - WARM, DECAY) / DECAY))
    return np.where(t <= WARM, PEAK * t / WARM, cos)


def updates(n, start=1):
    """The update numbers start .. start + n - 1."""
    return np.arange(start, start + n)


def assert_close(got, want):
    np.testing.assert_allclose(np.asarray(got, dtype=np.float64), want, rtol=RTOL, atol=0)


# ---------------------------------------------------------------- launching 2 ranks


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# what a launcher of ours must not pass on from the environment pytest runs in
_FOREIGN = ("TORCHELASTIC_", "ACCELERATE_", "PL_", "SLURM_", "OMPI_", "PMI_", "MV2_", "NODE_RANK", "GROUP_RANK")


def _rank_env(rank: int, port: int) -> dict:
    env = {k: x for k, x in os.environ.items() if not k.startswith(_FOREIGN)}
    path = [str(ROOT), *filter(None, [env.get("PYTHONPATH")])]
    env.update(
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        WORLD_SIZE=str(WORLD),
        LOCAL_WORLD_SIZE=str(WORLD),
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
        PYTHONPATH=os.pathsep.join(path),
        OMP_NUM_THREADS="1",  # 2 ranks on a small CI machine; accelerate would otherwise set it (and warn)
    )
    return env


def _kill(procs) -> None:
    """Kill what we launched: each rank's own process group (start_new_session), by its id."""
    for p in procs:
        if p.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
    for p in procs:
        p.wait()


def launch(out: Path, jobs: list[dict], timeout: float = LAUNCH_TIMEOUT) -> list[dict]:
    """Run ``jobs`` in order on 2 new ranks (this file as a script); each rank's results, rank 0 first.

    A job is ``{"job": name, "key": where its result goes, **its arguments}``.
    The watchdog: as soon as one rank exits with an error, or at ``timeout``,
    both are killed and the test fails with their output. A port taken between
    :func:`free_port` and the rendezvous is retried with another, as is a rank that gloo's C++ aborted.
    """
    out.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, str(Path(__file__).resolve()), str(out), json.dumps(jobs)]
    logs = [out / f"rank{r}.log" for r in range(WORLD)]
    for attempt in range(3):
        port, procs, why = free_port(), [], None
        started = time.monotonic()
        try:
            for rank in range(WORLD):
                with open(logs[rank], "w") as log:
                    procs.append(
                        subprocess.Popen(
                            command,
                            env=_rank_env(rank, port),
                            cwd=out,
                            stdout=log,
                            stderr=subprocess.STDOUT,
                            start_new_session=True,
                        )
                    )
            while True:
                codes = [p.poll() for p in procs]
                if all(c == 0 for c in codes):
                    break
                if any(c not in (None, 0) for c in codes):
                    why = f"exit codes {codes}"
                elif time.monotonic() - started > timeout:
                    why = f"still running after {timeout:.0f} s (exit codes {codes})"
                if why:
                    break
                time.sleep(0.05)
        finally:
            _kill(procs)
        if why is None:
            results = [json.loads((out / f"rank{r}.json").read_text()) for r in range(WORLD)]
            for r in results:
                r["seconds"] = round(time.monotonic() - started, 1)
            return results
        text = "\n".join(f"---- rank {r} ----\n{logs[r].read_text()[-6000:]}" for r in range(WORLD))
        # a port taken meanwhile, or gloo's C++ aborting a rank at start or exit with no Python frame in it ("terminate
        # called without an active exception", seen once on a loaded machine): the launch is tried again
        flake = "address already in use" in text.lower() or "terminate called without an active exception" in text
        if flake and attempt < 2:
            continue
        pytest.fail(f"{[j['key'] for j in jobs]} on {WORLD} ranks failed: {why}\n{text}", pytrace=False)
    raise AssertionError("unreachable")


def check_ranks(results: list[dict]) -> None:
    """Each rank ran the lrsched under test, in a world of 2, as the rank it was given."""
    for rank, r in enumerate(results):
        assert Path(r["lrsched"]).resolve() == Path(ls.__file__).resolve()
        assert (r["rank"], r["world"]) == (rank, WORLD)


def job(results: list[dict], key: str) -> list[dict]:
    """Each rank's result of one job."""
    check_ranks(results)
    if key not in results[0]["jobs"]:
        pytest.skip(f"{key} did not run: {results[0].get('skipped', {}).get(key)}")
    return [r["jobs"][key] for r in results]


# ---------------------------------------------------------------- the shared launches

N, K = 12, 7  # the DDP run's updates; the interrupted run stops after update K
HAS_ACCELERATE = importlib.util.find_spec("accelerate") is not None


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    """The first launch: accelerate (when installed; first, so that it creates the process group), the
    uninterrupted DDP run, the interrupted one up to update K (rank 0 saves the checkpoint), and the plateau
    cases."""
    out = tmp_path_factory.mktemp("ranks")
    jobs = [
        *([{"job": "accelerate", "key": "accelerate"}] if HAS_ACCELERATE else []),
        {"job": "ddp", "key": "ddp whole", "first": 1, "last": N},
        {"job": "ddp", "key": "ddp run 1", "first": 1, "last": K, "save": str(out / "checkpoint.pt")},
        {"job": "plateau", "key": "plateau"},
        {"job": "plateau_sync_errors", "key": "plateau sync errors"},
        {"job": "find_lr", "key": "find_lr"},
        {"job": "units", "key": "units"},
    ]
    results = launch(out, jobs)
    for r in results:
        r["checkpoint"] = str(out / "checkpoint.pt")
        r["skipped"] = {} if HAS_ACCELERATE else {"accelerate": "accelerate is not installed"}
    return results


@pytest.fixture(scope="module")
def resumed(ranks, tmp_path_factory):
    """The second launch: new processes, a new process group, the checkpoint of "ddp run 1" loaded."""
    out = tmp_path_factory.mktemp("resumed")
    checkpoint = ranks[0]["checkpoint"]
    return launch(out, [{"job": "ddp", "key": "ddp run 2", "first": K + 1, "last": N, "load": checkpoint}])


def test_find_lr_under_ddp_reads_one_curve_on_every_rank(ranks):
    runs = job(ranks, "find_lr")
    assert all(r["restored"] for r in runs)
    assert runs[0]["losses"] == runs[1]["losses"] and runs[0]["lr"] == runs[1]["lr"]  # one curve, one suggestion
    # the first point is the mean of the two ranks' own first losses (the ranks see different batches)
    own = [r["own_first_loss"] for r in runs]
    assert own[0] != own[1]
    assert runs[0]["losses"][0] == pytest.approx((own[0] + own[1]) / 2, rel=1e-12)


# ---------------------------------------------------------------- a token clock: n is the global count

S_TOKENS = ls.warmup(ls.cosine(PEAK, 0.0, steps=200), steps=40)  # written in tokens
UNIT_UPDATES = 10


def tokens(rank: int, k: int) -> int:
    """Rank ``rank``'s tokens in update k's batch: different on each rank, as counts of unpadded tokens are."""
    return 3 + (k * (rank + 2)) % 5


def expected_token_lr(u):
    """S_TOKENS(u) written out: 0.1 u / 40 up to u = 40, then 0.05 (1 + cos(pi min(u - 40, 200) / 200))."""
    u = np.asarray(u, dtype=np.float64)
    return np.where(u <= 40, PEAK * u / 40, 0.5 * PEAK * (1 + np.cos(np.pi * np.minimum(u - 40, 200) / 200)))


def test_a_token_clock_on_two_ranks_agrees_and_a_per_rank_count_is_said(ranks):
    runs = job(ranks, "units")
    per_update = [sum(tokens(r, k) for r in range(WORLD)) for k in range(1, UNIT_UPDATES + 1)]
    where = 1 + np.concatenate([[0], np.cumsum(per_update)[:-1]])
    for r in runs:
        assert_close(r["lrs"], expected_token_lr(where))
        assert r["units"] == sum(per_update)
        assert r["warned"] == []  # every rank reported the same global n
        assert len(r["own_warned"]) == 1
        own = ", ".join(f"{tokens(q, 1)} on rank {q}" for q in range(WORLD))
        assert f"consume(n) got n = {own}: n is the global count of tokens" in r["own_warned"][0]
    assert runs[0]["lrs"] == runs[1]["lrs"] and runs[0]["params"] == runs[1]["params"]


# ---------------------------------------------------------------- 1: DDP, and a resume in new processes


def test_ddp_every_ranks_kth_update_uses_s_k(ranks):
    whole = job(ranks, "ddp whole")
    for r in whole:
        assert len(r["lrs"]) == N
        assert_close(r["lrs"], expected_lr(updates(N)))
        assert r["last_epoch"] == N
        assert_close(r["last_lr"], expected_lr([N + 1]))
    rank0, rank1 = whole
    assert rank0["lrs"] == rank1["lrs"]  # bit for bit
    assert rank0["params"] == rank1["params"]  # DDP kept the replicas equal
    assert rank0["start_params"] != rank0["params"]  # and they trained


def test_ddp_stopped_and_resumed_in_new_processes_is_bit_identical(ranks, resumed):
    """Run 1 trains to update K, rank 0 saves the model's, the optimizer's and the scheduler's state dicts
    (torch.save), and its processes exit; run 2 (new processes, a new process group) rebuilds, loads them
    (torch.load(weights_only=True)) and trains to N. The updates' lrs, concatenated, and the final parameters
    are the uninterrupted run's to the bit."""
    whole, first, second = job(ranks, "ddp whole"), job(ranks, "ddp run 1"), job(resumed, "ddp run 2")
    assert ranks[0]["pids"] != resumed[0]["pids"]
    for rank in range(WORLD):
        assert len(first[rank]["lrs"]) == K
        assert len(second[rank]["lrs"]) == N - K
        assert second[rank]["loaded_last_epoch"] == K
        assert first[rank]["lrs"] + second[rank]["lrs"] == whole[rank]["lrs"]  # bit for bit
        assert_close(second[rank]["lrs"], expected_lr(updates(N - K, start=K + 1)))
        assert second[rank]["params"] == whole[rank]["params"]  # bit for bit
        assert second[rank]["last_epoch"] == N
        assert second[rank]["last_lr"] == whole[rank]["last_lr"]
    assert first[0]["params"] == first[1]["params"]
    assert first[0]["params"] != whole[0]["params"]  # the resume had updates left to do


# ---------------------------------------------------------------- 2: accelerate

ACC_SAMPLES, ACC_BATCH, ACC_EPOCHS = 16, 2, 2
ACC_UPDATES = ACC_SAMPLES // (ACC_BATCH * WORLD) * ACC_EPOCHS  # batches are sharded: 4 per rank per epoch


def test_accelerate_two_processes(ranks):
    """Accelerator(cpu=True) under torchrun's variables is a MULTI_CPU run of 2 processes (accelerate/state.py,
    ``_prepare_backend``: ``cpu and (LOCAL_RANK != -1 or WORLD_SIZE > 1)`` -> MULTI_CPU, gloo; it creates the
    process group). prepare() wraps our scheduler in an AcceleratedScheduler, which calls its step()
    num_processes = 2 times per update (split_batches=False): 2 * updates calls, and the k-th update of every
    rank still uses s(k)."""
    pytest.importorskip("accelerate", reason="accelerate is optional: the loop it drives is tested")
    results = job(ranks, "accelerate")
    for r in results:
        assert r["created_the_process_group"]
        assert r["num_processes"] == WORLD
        assert r["distributed_type"] == "MULTI_CPU"
        assert r["prepared"] == {"model": "DistributedDataParallel", "scheduler": "AcceleratedScheduler"}
        assert len(r["lrs"]) == ACC_UPDATES == r["batches"]
        assert r["scheduler_step_calls"] == WORLD * ACC_UPDATES
        assert_close(r["lrs"], expected_lr(updates(ACC_UPDATES)))
        assert r["last_epoch"] == ACC_UPDATES
        assert_close(r["last_lr"], expected_lr([ACC_UPDATES + 1]))
    assert results[0]["lrs"] == results[1]["lrs"]
    assert results[0]["params"] == results[1]["params"]


# ---------------------------------------------------------------- 3: one plateau decision per run

EPOCH = 3  # updates between reports
RULE = {"patience": 1, "factor": 0.5}  # ls.plateau(**RULE); threshold 1e-4, relative, mode min: torch's defaults

# each case: the two ranks' reports, and the scale in force after 0, 1, ..., 6 reports, worked out by hand for
# rank 0 alone, rank 1 alone, and the ranks' mean (patience 1: a reduction at the second bad report in a row)
PLATEAU_CASES = {
    # the mean, [1.0, 0.945, 0.895, 0.845, 0.795, 0.745], improves at every report: no reduction; rank 0 alone
    # improves once (0.99), then 4 bad reports: halved at reports 4 and 6
    "rank 0 stalls": {
        "metrics": ([1.0, 0.99, 0.99, 0.99, 0.99, 0.99], [1.0, 0.9, 0.8, 0.7, 0.6, 0.5]),
        "rank 0": [1, 1, 1, 1, 0.5, 0.5, 0.25],
        "rank 1": [1, 1, 1, 1, 1, 1, 1],
        "mean": [1, 1, 1, 1, 1, 1, 1],
    },
    # three different answers: the mean, [1.0, 0.945, 1.0, 0.95, 0.795, 0.745], is bad at reports 3 and 4 only
    "all three differ": {
        "metrics": ([1.0, 0.99, 1.2, 1.2, 0.99, 0.99], [1.0, 0.9, 0.8, 0.7, 0.6, 0.5]),
        "rank 0": [1, 1, 1, 1, 0.5, 0.5, 0.25],
        "rank 1": [1, 1, 1, 1, 1, 1, 1],
        "mean": [1, 1, 1, 1, 0.5, 0.5, 0.5],
    },
}


def reference_scales(metrics, patience=RULE["patience"], factor=RULE["factor"], threshold=1e-4):
    """torch's ReduceLROnPlateau (mode min, rel threshold, no cooldown) on positive metrics, as the scales after
    0, 1, ... reports: an independent check of the hand-written tables."""
    best, bad, scale, out = float("inf"), 0, 1.0, [1.0]
    for m in metrics:
        if m < best * (1 - threshold):
            best, bad = m, 0
        else:
            bad += 1
        if bad > patience:
            scale, bad = scale * factor, 0
        out.append(scale)
    return out


def test_plateau_tables_are_the_rule_fed_by_hand():
    for case in PLATEAU_CASES.values():
        a, b = case["metrics"]
        assert reference_scales(a) == case["rank 0"]
        assert reference_scales(b) == case["rank 1"]
        assert reference_scales([(x + y) / 2 for x, y in zip(a, b)]) == case["mean"]


def _scales_used(case: dict, rank: int, sync: bool) -> list:
    return case["mean"] if sync else case[f"rank {rank}"]


@pytest.mark.parametrize("sync", [True, False], ids=["sync by default", "sync=False"])
@pytest.mark.parametrize("name", list(PLATEAU_CASES))
def test_plateau_lr_one_decision_per_run(ranks, name, sync):
    """plateau_lr(opt, s, plateau(patience=1, factor=0.5)), a report after every 3 updates: update k uses
    s(k) * the scale after (k - 1) // 3 reports, the 19th the one after the 6th report. Synced (the default),
    both ranks take the decisions of the ranks' mean; with sync=False, each its own."""
    case, label = PLATEAU_CASES[name], f"{name}/plateau_lr/{'sync' if sync else 'local'}"
    n = len(case["metrics"][0]) * EPOCH + 1
    results = [r[label] for r in job(ranks, "plateau")]
    for rank, got in enumerate(results):
        scales = np.repeat(_scales_used(case, rank, sync), EPOCH)[:n]
        assert len(got["lrs"]) == n
        assert_close(got["lrs"], expected_lr(updates(n)) * scales)
        assert got["scale"] == _scales_used(case, rank, sync)[-1]
        assert_close(got["last_lr"], expected_lr([n + 1]) * got["scale"])
    rank0, rank1 = results
    if sync:
        assert rank0["lrs"] == rank1["lrs"]  # one decision per run, to the bit
        assert rank0["last_lr"] == rank1["last_lr"]
    elif name == "rank 0 stalls":
        assert rank0["scale"] == 0.25 and rank1["scale"] == 1.0  # rank 0 reduced, rank 1 did not
        assert rank0["last_lr"] != rank1["last_lr"]


@pytest.mark.parametrize("sync", [True, False], ids=["sync by default", "sync=False"])
@pytest.mark.parametrize("name", list(PLATEAU_CASES))
def test_plateau_tracker_one_decision_per_run(ranks, name, sync):
    """ls.plateau_tracker(s, rule): its scale after each report, and its lr at the next update."""
    case, label = PLATEAU_CASES[name], f"{name}/tracker/{'sync' if sync else 'local'}"
    reports = len(case["metrics"][0])
    results = [r[label] for r in job(ranks, "plateau")]
    for rank, got in enumerate(results):
        want = _scales_used(case, rank, sync)
        assert got["scales"] == want[1:]
        assert_close(got["lr"], expected_lr(reports * EPOCH + 1) * want[-1])
    rank0, rank1 = results
    if sync:
        assert rank0 == rank1
    elif name == "rank 0 stalls":
        assert rank0["scales"][-1] == 0.25 and rank1["scales"][-1] == 1.0
        assert rank0["lr"] != rank1["lr"]


SYNC_TIMEOUT = 1.0  # seconds rank 0's lone report waits (the process group's own timeout: GLOO_TIMEOUT)


def test_a_report_on_rank_0_only_stops_with_a_named_error_after_sync_timeout(ranks):
    """Validation on rank 0 only: rank 0's plateau_lr(..., sync_timeout=1).report(metric) raises SyncError naming
    lrsched, report and what every rank must do, after its sync_timeout, while the process group's timeout is 60 s
    (the launch's watchdog, 120 s, fails the test if it hangs instead). Rank 1 then makes the report it owed, which
    completes the collective, so that the launch's later jobs pair up: its report is the ranks' mean."""
    rank0, rank1 = job(ranks, "plateau sync errors")
    message = rank0["alone"]
    assert message.startswith("SyncError: lrsched: report 0 on rank 0 waited 1 s for the other ranks' report")
    assert "every rank must call report" in message and "sync=False" in message and "sync_timeout=" in message
    assert rank0["alone scale"] == 1.0  # nothing decided
    assert rank1["alone"] == "reported late"
    assert rank1["late mean"] == pytest.approx((0.5 + 2.5) / 2, rel=1e-15)


def test_ranks_at_different_reports_both_stop_with_a_named_error(ranks):
    """Rank 1 made one report more than rank 0 (an extra one, unsynced): their next synced reports pair up with
    different indices, and each rank raises SyncError naming both (before: rank 0's report was averaged with
    whatever rank 1 reduced next)."""
    for r in job(ranks, "plateau sync errors"):
        message = r["uneven"]
        assert message.startswith("SyncError: lrsched: report with sync=True averages the metric over the ranks")
        assert "rank 0 at report 1, rank 1 at report 2" in message
        assert "every rank must call report the same number of times" in message
        assert r["uneven reports"] == (1 if r["rank"] == 0 else 2)  # the state is left as it was


# ---------------------------------------------------------------- 4: Lightning

PL_SAMPLES, PL_BATCH, PL_ACCUMULATE, PL_STEPS = 20, 2, 2, 7


@pytest.mark.skipif(
    os.environ.get("LRSCHED_TEST_LIGHTNING_DDP") != "1",
    reason="Lightning DDP on 2 ranks: about 20 s (importing Lightning takes ~10 s per rank); "
    "LRSCHED_TEST_LIGHTNING_DDP=1 runs it",
)
def test_lightning_ddp_two_devices(tmp_path):
    """Trainer(strategy="ddp", accelerator="cpu", devices=2, accumulate_grad_batches=2, max_steps=7), the
    scheduler at interval "step". The ranks are launched as torchrun launches them, so Lightning starts no
    interpreter (lightning/fabric/plugins/environments/lightning.py: ``creates_processes_externally`` is
    ``"LOCAL_RANK" in os.environ``) and creates the process group itself. Its DistributedSampler gives each
    rank 10 samples, 5 batches: an epoch is 3 updates (batches 2, 4 and the last), and every rank's k-th
    update uses s(k)."""
    pytest.importorskip("lightning.pytorch", reason="Lightning is optional: the loop it drives is tested")
    results = job(launch(tmp_path, [{"job": "lightning", "key": "lightning"}]), "lightning")
    for r in results:
        assert r["created_the_process_group"]
        assert r["trainer_world_size"] == WORLD
        assert r["strategy"] == "DDPStrategy"
        assert r["global_step"] == PL_STEPS
        assert len(r["lrs"]) == PL_STEPS
        assert_close(r["lrs"], expected_lr(updates(PL_STEPS)))
        assert r["last_epoch"] == PL_STEPS
        assert_close(r["last_lr"], expected_lr([PL_STEPS + 1]))
    assert results[0]["lrs"] == results[1]["lrs"]
    assert results[0]["params"] == results[1]["params"]


# ================================================================ the ranks (this file run as a script)


def _record(optimizer) -> list:
    """Each real update's param group 0 lr, read by a step pre-hook: register it after the scheduler."""
    seen = []
    optimizer.register_step_pre_hook(lambda opt, args, kwargs: seen.append(float(opt.param_groups[0]["lr"])))
    return seen


def _params(module) -> list:
    return [x for p in module.parameters() for x in p.detach().flatten().tolist()]


def _group() -> int:
    """This rank, in the default process group (created here, with gloo, unless a job before created it)."""
    if not torch.distributed.is_initialized():
        torch.distributed.init_process_group("gloo", timeout=datetime.timedelta(seconds=GLOO_TIMEOUT))
    return torch.distributed.get_rank()


def _batch(rank: int, k: int):
    """Rank ``rank``'s batch for update k: the same in every run, different on each rank."""
    g = torch.Generator().manual_seed(1000 * rank + k)
    return torch.randn(4, 3, generator=g, dtype=torch.float64), torch.randn(4, generator=g, dtype=torch.float64)


def _ddp_job(first: int, last: int, save: str | None = None, load: str | None = None) -> dict:
    """Updates first .. last of a DDP run: SGD with momentum, scheduler.step() after each update; ``save``:
    rank 0 writes the checkpoint after update ``last``; ``load``: the run resumes from one."""
    from torch.nn.parallel import DistributedDataParallel

    rank = _group()
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1).double()
    checkpoint = torch.load(load, weights_only=True) if load else None
    if checkpoint:
        model.load_state_dict(checkpoint["model"])
    ddp = DistributedDataParallel(model)
    start_params = _params(model)
    opt = torch.optim.SGD(ddp.parameters(), lr=123.0, momentum=0.9)
    sched = lt.scheduler(opt, lr=S)
    loaded_last_epoch = None
    if checkpoint:
        opt.load_state_dict(checkpoint["optimizer"])
        sched.load_state_dict(checkpoint["scheduler"])
        loaded_last_epoch = sched.last_epoch
    seen = _record(opt)
    for k in range(first, last + 1):
        x, y = _batch(rank, k)
        loss = ((ddp(x).squeeze(-1) - y) ** 2).mean()
        loss.backward()
        opt.step()
        opt.zero_grad()
        sched.step()
    if save and rank == 0:
        state = {"model": model.state_dict(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict()}
        torch.save(state, save)
    torch.distributed.barrier()  # the checkpoint is written before any rank goes on
    return {
        "lrs": seen,
        "params": _params(model),
        "start_params": start_params,
        "last_epoch": sched.last_epoch,
        "last_lr": [float(x) for x in sched.get_last_lr()],
        "loaded_last_epoch": loaded_last_epoch,
    }


def _accelerate_job() -> dict:
    from accelerate import Accelerator

    created = not torch.distributed.is_initialized()
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(ACC_SAMPLES, 3, generator=g), torch.randn(ACC_SAMPLES, generator=g)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=ACC_BATCH)
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=123.0)
    sched = lt.scheduler(opt, lr=S)
    seen = _record(opt)  # on the torch optimizer, which the AcceleratedOptimizer calls
    calls = []
    step = sched.step

    def counted_step(*args, **kwargs):
        calls.append(1)
        return step(*args, **kwargs)

    sched.step = counted_step  # what AcceleratedScheduler calls: self.scheduler.step()
    accelerator = Accelerator(cpu=True)
    p_model, p_opt, p_loader, p_sched = accelerator.prepare(model, opt, loader, sched)
    batches = 0
    for _ in range(ACC_EPOCHS):
        for xb, yb in p_loader:
            loss = ((p_model(xb).squeeze(-1) - yb) ** 2).mean()
            accelerator.backward(loss)
            p_opt.step()
            p_sched.step()
            p_opt.zero_grad()
            batches += 1
    accelerator.wait_for_everyone()  # no end_training(): it would destroy the process group the next jobs use
    return {
        "created_the_process_group": created and torch.distributed.is_initialized(),
        "num_processes": accelerator.num_processes,
        "distributed_type": accelerator.distributed_type.name,
        "prepared": {"model": type(p_model).__name__, "scheduler": type(p_sched).__name__},
        "lrs": seen,
        "batches": batches,
        "scheduler_step_calls": len(calls),
        "params": _params(model),
        "last_epoch": sched.last_epoch,
        "last_lr": [float(x) for x in p_sched.get_last_lr()],
    }


def _plateau_job() -> dict:
    """Every case, each a plateau_lr and a tracker, synced (the default) and not; every rank runs them in the same
    order, so the all-reduces of report() pair up."""
    rank, result = _group(), {}
    for name, case in PLATEAU_CASES.items():
        mine = case["metrics"][rank]
        for sync in (True, False):
            kwargs = {} if sync else {"sync": False}
            label = "sync" if sync else "local"
            p = torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))
            opt = torch.optim.SGD([p], lr=123.0)
            sched = lt.plateau_lr(opt, S, ls.plateau(**RULE), **kwargs)
            seen = _record(opt)
            for metric in mine:
                for _ in range(EPOCH):
                    p.sum().backward()
                    opt.step()
                    opt.zero_grad()
                    sched.step()
                sched.report(metric)
            p.sum().backward()
            opt.step()  # the first update after the last report
            opt.zero_grad()
            sched.step()
            result[f"{name}/plateau_lr/{label}"] = {
                "lrs": seen,
                "scale": sched.plateau.scale,
                "last_lr": [float(x) for x in sched.get_last_lr()],
            }
            tracker = ls.plateau_tracker(S, ls.plateau(**RULE), **kwargs)
            scales = []
            for metric in mine:
                tracker.report(metric)
                scales.append(tracker.state.scale)
            result[f"{name}/tracker/{label}"] = {"scales": scales, "lr": tracker.lr(len(mine) * EPOCH + 1)}
    return result


def _plateau_sync_errors_job() -> dict:
    """Rank 0 reports alone (rank 1 reports after rank 0 has raised, told by a file in the launch's directory);
    then two trackers whose report counts differ by one report synced together."""
    from lrsched.plateau import ranks_mean

    rank = _group()
    result = {"rank": rank}
    p = torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))
    sched = lt.plateau_lr(torch.optim.SGD([p], lr=123.0), S, ls.plateau(**RULE), sync_timeout=SYNC_TIMEOUT)
    told = Path("rank 0 raised")
    if rank == 0:
        result["alone"] = _raised(sched.report, 0.5)
        result["alone scale"] = sched.plateau.scale
        told.write_text("")
    else:
        deadline = time.monotonic() + LAUNCH_TIMEOUT
        while not told.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        result["alone"] = "reported late"
        result["late mean"] = ranks_mean(2.5, index=0)  # report 0, late: completes rank 0's collective
    tracker = ls.plateau_tracker(S, ls.plateau(**RULE))
    tracker.report(1.0)
    if rank == 1:  # one report more, on rank 1 only (unsynced)
        tracker.sync = False
        tracker.report(1.0)
        tracker.sync = True
    result["uneven"] = _raised(tracker.report, 0.9)
    result["uneven reports"] = tracker.state.reports
    return result


def _raised(report, metric) -> str:
    try:
        report(metric)
    except Exception as e:  # the test reads which error, and its message
        return f"{type(e).__name__}: {e}"
    return "no error"


def _lightning_job() -> dict:
    import lightning.pytorch as pl

    created = not torch.distributed.is_initialized()

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
            self.seen = _record(opt)  # after the scheduler
            return {"optimizer": opt, "lr_scheduler": {"scheduler": self.sched, "interval": "step"}}

    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(PL_SAMPLES, 3, generator=g), torch.randn(PL_SAMPLES, generator=g)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=PL_BATCH)
    torch.manual_seed(0)
    module = Tiny()
    trainer = pl.Trainer(
        strategy="ddp",
        accelerator="cpu",
        devices=WORLD,
        max_steps=PL_STEPS,
        accumulate_grad_batches=PL_ACCUMULATE,
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
        logger=False,
        log_every_n_steps=1,
    )
    trainer.fit(module, loader)
    return {
        "created_the_process_group": created and torch.distributed.is_initialized(),
        "trainer_world_size": trainer.world_size,
        "strategy": type(trainer.strategy).__name__,
        "global_step": trainer.global_step,
        "lrs": module.seen,
        "params": _params(module),
        "last_epoch": module.sched.last_epoch,
        "last_lr": [float(x) for x in module.sched.get_last_lr()],
    }


def _find_lr_job() -> dict:
    """The range test on a DDP model whose ranks see different batches: with the ranks' mean (the default for a
    DDP model), one curve and one suggestion; each rank's model and optimizer restored."""
    from torch.nn.parallel import DistributedDataParallel

    rank = _group()
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1).double()
    ddp = DistributedDataParallel(model)
    opt = torch.optim.SGD(ddp.parameters(), lr=0.01)
    before = _params(model)
    batches = [_batch(rank, k) for k in range(1, 9)]
    mse = lambda out, y: ((out.squeeze(-1) - y) ** 2).mean()  # noqa: E731
    r = lt.find_lr(ddp, opt, mse, batches, start=1e-4, end=10.0, steps=40, min_score=0)
    return {
        "lr": r.lr,
        "losses": [float(x) for x in r.losses],
        "own_first_loss": float(mse(model(batches[0][0]), batches[0][1])),
        "restored": _params(model) == before and opt.param_groups[0]["lr"] == 0.01,
    }


def _units_job() -> dict:
    """A DDP run on a token clock: each rank counts its own batch's tokens, the loop sums them over the ranks
    (all_reduce) and reports the global count; then a scheduler fed each rank's own count, which its first
    consume names."""
    from torch.nn.parallel import DistributedDataParallel

    rank = _group()
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1).double()
    ddp = DistributedDataParallel(model)
    opt = torch.optim.SGD(ddp.parameters(), lr=123.0)
    sched = lt.scheduler(opt, lr=S_TOKENS, unit="tokens")
    seen = _record(opt)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for k in range(1, UNIT_UPDATES + 1):
            n = torch.tensor([tokens(rank, k)])
            torch.distributed.all_reduce(n)
            sched.consume(int(n.item()))
            x, y = _batch(rank, k)
            ((ddp(x).squeeze(-1) - y) ** 2).mean().backward()
            opt.step()
            opt.zero_grad()
            sched.step()
    said = [str(w.message) for w in caught if issubclass(w.category, ls.TimeWarning)]
    own = lt.scheduler(torch.optim.SGD(model.parameters(), lr=1.0), lr=S_TOKENS, unit="tokens")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        own.consume(tokens(rank, 1))  # each rank's own count: the ranks disagree
    own_said = [str(w.message) for w in caught if issubclass(w.category, ls.TimeWarning)]
    return {"lrs": seen, "units": sched.units, "warned": said, "own_warned": own_said, "params": _params(model)}


JOBS = {
    "ddp": _ddp_job,
    "accelerate": _accelerate_job,
    "plateau": _plateau_job,
    "plateau_sync_errors": _plateau_sync_errors_job,
    "find_lr": _find_lr_job,
    "lightning": _lightning_job,
    "units": _units_job,
}


def _rank_main(out: Path, jobs: list[dict]) -> None:
    results = {}
    for spec in jobs:
        args = {k: x for k, x in spec.items() if k not in ("job", "key")}
        results[spec["key"]] = JOBS[spec["job"]](**args)
    dist = torch.distributed
    rank = dist.get_rank()
    pids = [None] * dist.get_world_size()
    dist.all_gather_object(pids, os.getpid())
    summary = {"lrsched": ls.__file__, "rank": rank, "world": dist.get_world_size(), "pids": pids, "jobs": results}
    dist.barrier()
    dist.destroy_process_group()
    (out / f"rank{rank}.json").write_text(json.dumps(summary))


if __name__ == "__main__":
    _rank_main(Path(sys.argv[1]), json.loads(sys.argv[2]))
