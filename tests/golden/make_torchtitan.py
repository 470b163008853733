"""Write tests/data/torchtitan_golden.json by running torchtitan's own lr scheduler
(torchtitan/components/optimizer/lr_scheduler.py: ``LRSchedulersContainer.Config.build``).

torchtitan's package imports its whole config and distributed stack, so this script loads only that file from
the wheel, with its imports of ``torchtitan.config`` (``Configurable``), ``torchtitan.tools.logging`` and
``.optimizer`` stubbed. Set-up, from the project root:

    pip download torchtitan==0.3.0 --no-deps -d /tmp/torchtitan
    python tests/golden/make_torchtitan.py /tmp/torchtitan/torchtitan-0.3.0-py3-none-any.whl

torchtitan's trainer calls ``lr_schedulers.step()`` after each ``optimizers.step()``: the lr of update t is the
``LambdaLR``'s at ``last_epoch`` = t - 1. Runs are recorded for t = 1 .. training_steps (the run's end).
"""

from __future__ import annotations

import itertools
import json
import logging
import sys
import types
import zipfile
from pathlib import Path

import torch

OUT = Path(__file__).resolve().parent.parent / "data" / "torchtitan_golden.json"
SOURCE = "torchtitan/components/optimizer/lr_scheduler.py"


def load(wheel: str):
    text = zipfile.ZipFile(wheel).read(SOURCE).decode()
    for name in ("torchtitan", "torchtitan.components", "torchtitan.components.optimizer", "torchtitan.tools"):
        sys.modules[name] = types.ModuleType(name)
    config = types.ModuleType("torchtitan.config")
    config.Configurable = type("Configurable", (), {"Config": type("Config", (), {})})
    sys.modules["torchtitan.config"] = config
    log = types.ModuleType("torchtitan.tools.logging")
    log.logger = logging.getLogger("torchtitan")
    sys.modules["torchtitan.tools.logging"] = log
    opt = types.ModuleType("torchtitan.components.optimizer.optimizer")
    opt.OptimizersContainer = list
    sys.modules["torchtitan.components.optimizer.optimizer"] = opt
    module = types.ModuleType("torchtitan.components.optimizer.lr_scheduler")
    module.__package__ = "torchtitan.components.optimizer"
    sys.modules[module.__name__] = module  # its dataclasses look their module up
    exec(compile(text, SOURCE, "exec"), module.__dict__)
    return module


def main(wheel: str) -> None:
    tt = load(wheel)
    out = []
    grid = itertools.product([1, 5, 0], [20, 37], [None, 0.2, 0.5, 1.0], ["linear", "sqrt", "cosine"], [0.0, 0.1])
    for w, total, ratio, kind, low in grid:
        if w == 0 and (total, kind, low) != (20, "linear", 0.0):
            continue
        kwargs = dict(warmup_steps=w, decay_ratio=ratio, decay_type=kind, min_lr_factor=low)
        opt = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=8e-4)
        container = tt.LRSchedulersContainer.Config(**kwargs).build(optimizers=[opt], training_steps=total)
        values = []
        for _ in range(total):
            values.append(float(opt.param_groups[0]["lr"]))
            opt.step()
            container.step()
        out.append(dict(lr=8e-4, training_steps=total, kwargs=kwargs, values=values))
    data = {"source": f"{SOURCE} of torchtitan 0.3.0 (tests/golden/make_torchtitan.py)", "cases": out}
    OUT.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    print(f"wrote {len(out)} cases to {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
