"""Write tests/data/torchtune_golden.json by running torchtune's own get_cosine_schedule_with_warmup
(torchtune/training/lr_schedulers.py).

``import torchtune`` checks for torchao and pulls the whole recipe stack, so this script loads only
``lr_schedulers.py`` from the wheel, with ``torchtune.training.memory`` (imported for ``get_lr``'s
``OptimizerInBackwardWrapper``) stubbed. Set-up, from the project root:

    pip download torchtune==0.6.1 --no-deps -d /tmp/torchtune
    python tests/golden/make_torchtune.py /tmp/torchtune/torchtune-0.6.1-py3-none-any.whl

torchtune's recipes step the ``LambdaLR`` after each optimizer step (full_finetune_single_device.py): the lr of
update t is read before its ``optimizer.step()``, so it is the lambda at ``last_epoch`` = t - 1.
"""

from __future__ import annotations

import json
import sys
import types
import warnings
import zipfile
from pathlib import Path

import torch

OUT = Path(__file__).resolve().parent.parent / "data" / "torchtune_golden.json"
SOURCE = "torchtune/training/lr_schedulers.py"


def load(wheel: str):
    text = zipfile.ZipFile(wheel).read(SOURCE).decode()
    for name in ("torchtune", "torchtune.training"):
        sys.modules[name] = types.ModuleType(name)
    memory = types.ModuleType("torchtune.training.memory")
    memory.OptimizerInBackwardWrapper = type("OptimizerInBackwardWrapper", (), {})
    sys.modules["torchtune.training.memory"] = memory
    module = types.ModuleType("torchtune_lr_schedulers")
    exec(compile(text, SOURCE, "exec"), module.__dict__)
    return module


def drive(make, lr: float, n: int) -> list[float]:
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    sched = make(opt)
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(n):
            out.append(float(opt.param_groups[0]["lr"]))
            opt.step()
            sched.step()
    return out


def main(wheel: str) -> None:
    tt = load(wheel)
    out = []
    for w, total, cycles in [(0, 30, 0.5), (1, 30, 0.5), (10, 50, 0.5), (5, 6, 0.5), (5, 30, 1.0), (3, 40, 2.0)]:
        kwargs = dict(num_warmup_steps=w, num_training_steps=total, num_cycles=cycles)
        values = drive(lambda opt, kw=kwargs: tt.get_cosine_schedule_with_warmup(opt, **kw), 3e-4, total + 5)
        out.append(dict(name="get_cosine_schedule_with_warmup", lr=3e-4, kwargs=kwargs, values=values))
    data = {"source": f"{SOURCE} of torchtune 0.6.1 (tests/golden/make_torchtune.py)", "cases": out}
    OUT.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    print(f"wrote {len(out)} cases to {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
