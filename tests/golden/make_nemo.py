"""Write tests/data/nemo_golden.json by running NeMo's own nemo/core/optim/lr_scheduler.py.

NeMo (nemo-toolkit) is too heavy to install for the tests, but its schedulers are one file that needs only torch:
this script loads that file from the wheel with NeMo's framework imports (nemo.core.config, nemo.utils, ...)
replaced by stubs, and omegaconf stubbed too where it is not installed. Set-up, from the project root:

    pip download nemo-toolkit==3.0.0 --no-deps -d /tmp/nemo
    python tests/golden/make_nemo.py /tmp/nemo/nemo_toolkit-3.0.0-py3-none-any.whl

Each scheduler is driven as torch drives it: built on an SGD optimizer (its constructor sets the first update's
lr, at last_epoch 0), then ``optimizer.step(); scheduler.step()`` per update; the lr of update t is read before
its step, so it is NeMo's value at last_epoch = t - 1.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import sys
import types
import warnings
import zipfile
from pathlib import Path

import torch

OUT = Path(__file__).resolve().parent.parent / "data" / "nemo_golden.json"
SOURCE = "nemo/core/optim/lr_scheduler.py"


def _stub(name: str, **attrs) -> None:
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    sys.modules[name] = module


def load(wheel: str):
    """NeMo's lr_scheduler module, from ``wheel`` (or an extracted lr_scheduler.py), with its imports stubbed."""
    path = Path(wheel)
    text = zipfile.ZipFile(path).read(SOURCE).decode() if path.suffix == ".whl" else path.read_text()
    for name in ("nemo", "nemo.core", "nemo.core.classes", "nemo.core.config", "nemo.utils"):
        _stub(name)
    _stub("nemo.core.classes.common", safe_instantiate=None)
    _stub(
        "nemo.core.config.schedulers",
        SchedulerParams=object,
        get_scheduler_config=None,
        register_scheduler_params=lambda **kw: None,
    )
    _stub("nemo.utils", logging=types.SimpleNamespace(info=print, warning=print))
    _stub("nemo.utils.model_utils", maybe_update_config_version=lambda cfg: cfg)
    if importlib.util.find_spec("omegaconf") is None:
        _stub("omegaconf", DictConfig=dict, OmegaConf=None)
    module = types.ModuleType("nemo_lr_scheduler")
    exec(compile(text, SOURCE, "exec"), module.__dict__)
    return module


def drive(cls, lr: float, n: int, kwargs: dict) -> list[float]:
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=lr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = cls(opt, **kwargs)
        out = []
        for _ in range(n):
            out.append(float(opt.param_groups[0]["lr"]))
            opt.step()
            sched.step()
    return out


def cases():
    """(name, kwargs, updates): warmup 0, 1 and longer, decays as long as the warmup, one past it and longer."""
    for w, m, low in itertools.product([0, 1, 5], [5, 6, 20], [0.0, 0.01]):
        yield "WarmupPolicy", dict(warmup_steps=w, max_steps=m, min_lr=low), m + 4
        for name in ("WarmupAnnealing", "SquareAnnealing", "SquareRootAnnealing", "InverseSquareRootAnnealing"):
            yield name, dict(warmup_steps=w, max_steps=m, min_lr=low), m + 4
        for power, cycle in [(1.0, False), (2.0, True), (0.5, False)]:
            yield (
                "PolynomialDecayAnnealing",
                dict(warmup_steps=w, max_steps=m, min_lr=low, power=power, cycle=cycle),
                m + 4,
            )
        yield "CosineAnnealing", dict(warmup_steps=w, max_steps=m, min_lr=low), m + 4
    yield "WarmupPolicy", dict(warmup_ratio=0.25, max_steps=10), 14
    yield "WarmupPolicy", dict(warmup_steps=3), 8
    yield "CosineAnnealing", dict(warmup_ratio=0.1, max_steps=37, min_lr=1e-3), 41
    for w, c, m in itertools.product([0, 1, 5], [1, 2, 10], [12, 40]):
        yield "CosineAnnealing", dict(warmup_steps=w, constant_steps=c, max_steps=m, min_lr=0.01), m + 4
    yield "CosineAnnealing", dict(warmup_ratio=0.1, constant_ratio=0.2, max_steps=50, min_lr=1e-4), 54
    hold_names = ("WarmupHoldPolicy", "WarmupHoldAnnealLinear", "WarmupHoldAnnealOneMinusSquareRoot")
    for w, hold, m in itertools.product([0, 1, 4], [None, 0, 3], [6, 30]):
        kw = dict(warmup_steps=w, max_steps=m, min_lr=0.01)
        if hold is not None:
            kw["hold_steps"] = hold
        for name in hold_names:
            yield name, kw, m + 4
        yield "PolynomialHoldDecayAnnealing", dict(kw, power=2.0), m + 4
        if hold is not None:
            yield "PolynomialHoldDecayAnnealing", dict(kw, power=0.5, cycle=True), m + 4
        if w:
            for rate in (0.5, 1.0, 0.3, 2.0, 0.0):
                yield "NoamHoldAnnealing", dict(kw, decay_rate=rate), m + 4
    for name in hold_names:
        yield name, dict(warmup_ratio=0.1, hold_ratio=0.2, max_steps=40, min_lr=0.0), 44
    for w, low in itertools.product([0, 1, 10], [0.0, 1e-3]):
        yield "NoamAnnealing", dict(d_model=16, warmup_steps=w, min_lr=low), 40
    yield "NoamAnnealing", dict(d_model=512, warmup_ratio=0.1, max_steps=100), 60
    for c, m in itertools.product([1, 4], [4, 30]):
        yield "T5InverseSquareRootAnnealing", dict(constant_steps=c, max_steps=m, min_lr=1e-4), m + 4


def main(wheel: str) -> None:
    nemo = load(wheel)
    out = []
    for name, kwargs, n in cases():
        out.append({"name": name, "lr": 0.5, "kwargs": kwargs, "values": drive(getattr(nemo, name), 0.5, n, kwargs)})
    data = {
        "generator": "tests/golden/make_nemo.py",
        "nemo_toolkit": Path(wheel).name,
        "torch": torch.__version__,
        "cases": out,
    }
    OUT.write_text(json.dumps(data, indent=None, separators=(",", ":")) + "\n")
    print(f"wrote {len(out)} cases to {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
