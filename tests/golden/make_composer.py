"""Write tests/data/composer_golden.json by running composer's own schedulers (composer/optim/scheduler.py).

composer (the ``mosaicml`` package) imports torchvision, torchmetrics and more at ``import composer``, so this script
loads only the files the schedulers need, from the wheel: ``composer/utils/string_enum.py``,
``composer/core/time.py`` (``Time``, ``TimeUnit``, ``Timestamp``) and ``composer/optim/scheduler.py``, with
``composer.core``'s other imports stubbed. Set-up, from the project root:

    pip download mosaicml==0.32.1 --no-deps -d /tmp/composer
    python tests/golden/make_composer.py /tmp/composer/mosaicml-0.32.1-py3-none-any.whl

Two clocks are recorded:

- ``values``: the scheduler's own clock. The lr of update t is ``lr * scheduler(state)`` with ``state.timestamp`` at
  batch t - 1 (composer's documented meaning: the first batch is batch 0).
- ``trainer``: the Trainer's real clock. ``Trainer._train_loop`` (composer/trainer/trainer.py, 0.32.1 lines
  2491-2505) steps the compiled schedulers (``compile_composer_scheduler``: a torch ``LambdaLR`` bound to the state)
  *before* ``state.timestamp.to_next_batch(...)``, and the ``LambdaLR`` constructor evaluates the first lr at
  batch 0. This script drives ``compile_composer_scheduler``'s real ``LambdaLR`` in that order (epochs roll over
  with ``to_next_epoch`` as the loop does), so update t runs at batch max(t - 2, 0): updates 1 and 2 share the
  first value.

``scale_schedule_ratio`` is applied as the Trainer applies it: ``max_duration`` is multiplied by it
(``_scale_max_duration_by_ssr``: ``Time * float``, which truncates) and the scheduler is called with ``ssr``.
"""

from __future__ import annotations

import json
import sys
import types
import warnings
import zipfile
from pathlib import Path

import torch

OUT = Path(__file__).resolve().parent.parent / "data" / "composer_golden.json"
FILES = ("composer/utils/string_enum.py", "composer/core/time.py", "composer/optim/scheduler.py")


def _read(source: Path, name: str) -> str:
    if source.suffix == ".whl":
        return zipfile.ZipFile(source).read(name).decode()
    return (source / name).read_text()


def _module(name: str, text: str | None = None, **attrs) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    sys.modules[name] = module
    if text is not None:
        exec(compile(text, name.replace(".", "/") + ".py", "exec"), module.__dict__)
    return module


def load(source: str):
    """composer's scheduler module, and its time module, from a wheel or an unpacked package directory."""
    path = Path(source)
    for name in ("composer", "composer.core", "composer.optim"):
        _module(name)
    string_enum = _module("composer.utils.string_enum", _read(path, FILES[0]))
    _module("composer.utils", StringEnum=string_enum.StringEnum)
    _module("composer.core.serializable", Serializable=object)
    time = _module("composer.core.time", _read(path, FILES[1]))
    core = sys.modules["composer.core"]
    core.Time, core.TimeUnit, core.Timestamp, core.State = time.Time, time.TimeUnit, time.Timestamp, object
    scheduler = _module("composer.optim.scheduler", _read(path, FILES[2]))
    return scheduler, time


class State:
    """The attributes of composer's ``State`` that the schedulers and ``compile_composer_scheduler`` read."""

    def __init__(self, time, max_duration: str, dataloader_len: int, lr: float):
        self.timestamp = time.Timestamp()
        self.max_duration = time.Time.from_timestring(max_duration)
        self.dataloader_len = dataloader_len
        param = torch.nn.Parameter(torch.zeros(1))
        self.optimizers = [torch.optim.SGD([param], lr=lr)]


def run(scheduler_mod, time, case: dict) -> dict:
    cls = getattr(scheduler_mod, case["name"])
    lr, n, ssr, loader = case["lr"], case["n"], case.get("ssr", 1.0), case.get("dataloader_len", 10)
    sched = cls(**case["kwargs"])
    state = State(time, case["max_duration"], loader, lr)
    if ssr != 1.0:  # as Trainer.__init__ / fit: _scale_max_duration_by_ssr
        state.max_duration = state.max_duration * ssr
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # composer warns about a zero warmup
        values = []
        for b in range(n):  # the scheduler's clock: update t at batch t - 1
            state.timestamp = time.Timestamp(
                epoch=b // loader, batch=b, batch_in_epoch=b % loader, sample=b, sample_in_epoch=b % loader
            )
            values.append(lr * sched(state, ssr))
        trainer = []
        if case.get("trainer"):
            state.timestamp = time.Timestamp()
            compiled = scheduler_mod.compile_composer_scheduler(sched, state, ssr)
            opt = state.optimizers[0]
            for _ in range(n):
                trainer.append(float(opt.param_groups[0]["lr"]))  # what this update's optimizer.step() uses
                opt.step()
                compiled.step()  # trainer.py: schedulers step before the timestamp advances
                state.timestamp = state.timestamp.to_next_batch(samples=1, tokens=0)
                if int(state.timestamp.batch_in_epoch) == loader:
                    state.timestamp = state.timestamp.to_next_epoch()
    out = dict(case, values=values, max_duration_scaled=str(state.max_duration))
    if trainer:
        out["trainer"] = trainer
    return out


def cases():
    lr = 0.5

    def case(name, kwargs, n, max_duration=None, **extra):
        return dict(name=name, kwargs=kwargs, lr=lr, n=n, max_duration=max_duration or f"{n}ba", **extra)

    for size, gamma in [("3ba", 0.5), ("10ba", 0.1), ("1ba", 0.9)]:
        yield case("StepScheduler", dict(step_size=size, gamma=gamma), 40)
    yield case("StepScheduler", dict(step_size="2ep", gamma=0.5), 40, dataloader_len=7)
    for milestones, gamma in [(["5ba", "12ba"], 0.1), (["1ba", "3ba", "3ba"], 0.5), (["1ep", "3ep"], 0.1)]:
        yield case("MultiStepScheduler", dict(milestones=milestones, gamma=gamma), 30, dataloader_len=6)
    yield case("ConstantScheduler", dict(alpha=0.3, t_max="7ba"), 20)
    yield case("ConstantScheduler", dict(alpha=0.3), 20)
    for ai, af, t_max in [(1.0, 0.0, "20ba"), (0.2, 1.0, "9ba"), (1.0, 0.1, "1dur")]:
        yield case("LinearScheduler", dict(alpha_i=ai, alpha_f=af, t_max=t_max), 25, max_duration="25ba")
    for gamma, period in [(0.9, "1ba"), (0.5, "4ba"), (0.8, "1ep")]:
        yield case("ExponentialScheduler", dict(gamma=gamma, decay_period=period), 30, dataloader_len=5)
    for t_max, af in [("20ba", 0.0), ("13ba", 0.05), ("1dur", 0.1)]:
        yield case("CosineAnnealingScheduler", dict(t_max=t_max, alpha_f=af), 25, max_duration="25ba")
    for t0, mult, af in [("5ba", 1.0, 0.0), ("5ba", 2.0, 0.1), ("1ba", 1.0, 0.0), ("3ba", 3.0, 0.0)]:
        yield case("CosineAnnealingWarmRestartsScheduler", dict(t_0=t0, t_mult=mult, alpha_f=af), 60)
    for t0, mult in [("7ba", 1.5), ("4ba", 1.3), ("10ba", 1.1)]:  # int(t_mult * previous): needs whole periods
        yield case(
            "CosineAnnealingWarmRestartsScheduler", dict(t_0=t0, t_mult=mult, alpha_f=0.0), 60, whole_periods=True
        )
    for power, t_max, af in [(2.0, "20ba", 0.0), (0.5, "20ba", 0.1), (1.0, "1dur", 0.0)]:
        yield case("PolynomialScheduler", dict(power=power, t_max=t_max, alpha_f=af), 25, max_duration="25ba")
    for w in ["0ba", "1ba", "5ba"]:
        for af in (0.0, 0.1):
            yield case(
                "CosineAnnealingWithWarmupScheduler",
                dict(t_warmup=w, t_max="20ba", alpha_f=af),
                24,
                max_duration="20ba",
            )
            yield case(
                "PolynomialWithWarmupScheduler",
                dict(t_warmup=w, power=2.0, t_max="20ba", alpha_f=af),
                24,
                max_duration="20ba",
            )
        for ai, af in [(1.0, 0.0), (0.5, 0.1)]:
            yield case(
                "LinearWithWarmupScheduler",
                dict(t_warmup=w, alpha_i=ai, alpha_f=af, t_max="20ba"),
                24,
                max_duration="20ba",
            )
        for alpha in (1.0, 0.5):
            yield case(
                "ConstantWithWarmupScheduler", dict(t_warmup=w, alpha=alpha, t_max="20ba"), 24, max_duration="20ba"
            )
        yield case("MultiStepWithWarmupScheduler", dict(t_warmup=w, milestones=["8ba", "15ba"], gamma=0.1), 24)
    yield case("MultiStepWithWarmupScheduler", dict(t_warmup="5ba", milestones=["3ba", "10ba"], gamma=0.5), 24)
    yield case(
        "CosineAnnealingWithWarmupScheduler", dict(t_warmup="1ba", t_max="2ba"), 6, max_duration="2ba"
    )  # decay of 1
    # scale_schedule_ratio: durations in ba / ep are int(ssr * d); "dur" follows the scaled max_duration; the
    # warmup is not scaled unless scale_warmup=True
    yield case("CosineAnnealingWithWarmupScheduler", dict(t_warmup="4ba"), 24, max_duration="20ba", ssr=0.5)
    yield case(
        "CosineAnnealingWithWarmupScheduler",
        dict(t_warmup="4ba", t_max="20ba", scale_warmup=True),
        24,
        max_duration="20ba",
        ssr=0.5,
    )
    yield case("LinearWithWarmupScheduler", dict(t_warmup="3ba", t_max="1dur"), 30, max_duration="20ba", ssr=1.5)
    yield case("StepScheduler", dict(step_size="7ba", gamma=0.5), 30, ssr=0.3)  # int(2.1) = 2
    yield case("StepScheduler", dict(step_size="7ba", gamma=0.5), 30, ssr=0.5)  # int(3.5) = 3
    # time strings: "0.05dur" is int(0.05 * max_duration), "2ep" is 2 * dataloader_len batches
    yield case("CosineAnnealingWithWarmupScheduler", dict(t_warmup="0.05dur", alpha_f=0.1), 200)
    yield case("CosineAnnealingWithWarmupScheduler", dict(t_warmup="0.05dur", alpha_f=0.1), 210)  # 10.5 -> 10
    yield case(
        "LinearWithWarmupScheduler", dict(t_warmup="2ep", t_max="1dur"), 45, max_duration="6ep", dataloader_len=7
    )
    yield case("CosineAnnealingWithWarmupScheduler", dict(t_warmup="0.1dur"), 45, max_duration="6ep", dataloader_len=7)
    # the Trainer's clock
    yield case("LinearWithWarmupScheduler", dict(t_warmup="10ba"), 30, trainer=True, dataloader_len=8)
    yield case("CosineAnnealingWithWarmupScheduler", dict(t_warmup="0.05dur", alpha_f=0.1), 200, trainer=True)
    yield case("StepScheduler", dict(step_size="3ba", gamma=0.5), 20, trainer=True, dataloader_len=4)
    yield case("CosineAnnealingWarmRestartsScheduler", dict(t_0="5ba", t_mult=2.0), 40, trainer=True, dataloader_len=6)
    yield case(
        "CosineAnnealingWithWarmupScheduler", dict(t_warmup="4ba"), 24, max_duration="20ba", ssr=0.5, trainer=True
    )


def main(source: str) -> None:
    scheduler_mod, time = load(source)
    data = {
        "source": "composer/optim/scheduler.py and core/time.py of mosaicml 0.32.1 (tests/golden/make_composer.py)",
        "torch": torch.__version__,
        "cases": [run(scheduler_mod, time, c) for c in cases()],
    }
    OUT.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    print(f"wrote {len(data['cases'])} cases to {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
