"""Write tests/data/litgpt_golden.json by running litgpt's own lr code: ``get_lr`` of litgpt/pretrain.py and
``get_lr_scheduler`` of litgpt/finetune/lora.py (full.py's is the same).

litgpt imports Lightning, jsonargparse and its model zoo at import, so this script takes the two functions out of
the wheel's files (their syntax trees; nothing else in those files runs). Set-up, from the project root:

    pip download litgpt==0.5.13 --no-deps -d /tmp/litgpt
    python tests/golden/make_litgpt.py /tmp/litgpt/litgpt-0.5.13-py3-none-any.whl

The clocks, as litgpt's loops run them:

- pretrain (pretrain.py ``fit``): before every *micro-batch*, ``lr = get_lr(lr, iter_num, warmup_iters,
  max_iters, min_lr)`` is set, then ``iter_num += 1``; the optimizer steps when ``iter_num`` is a multiple of the
  gradient accumulation A. Update k runs with the lr set at ``iter_num`` = kA - 1. ``warmup_iters`` and
  ``max_iters`` count micro-batches (``TrainArgs.warmup_iters``: ``lr_warmup_steps * A``, at most ``max_iters``).
- finetune (lora.py ``fit``): a torch ``SequentialLR`` of ``LambdaLR(step / warmup_steps)`` and
  ``CosineAnnealingLR(T_max=max_steps - warmup_steps)``, stepped after each optimizer step: update t runs at
  ``last_epoch`` = t - 1.
"""

from __future__ import annotations

import ast
import json
import math
import sys
import warnings
import zipfile
from pathlib import Path

import torch

OUT = Path(__file__).resolve().parent.parent / "data" / "litgpt_golden.json"


def take(wheel: str, path: str, name: str, ns: dict):
    tree = ast.parse(zipfile.ZipFile(wheel).read(path).decode())
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)
    exec(compile(ast.Module(body=[fn], type_ignores=[]), path, "exec"), ns)
    return ns[name]


def main(wheel: str) -> None:
    get_lr = take(wheel, "litgpt/pretrain.py", "get_lr", {"math": math})
    get_lr_scheduler = take(wheel, "litgpt/finetune/lora.py", "get_lr_scheduler", {"torch": torch})
    out = []
    for lr, warmup_steps, accumulation, max_iters, min_lr in [
        (4e-4, 10, 1, 100, 4e-5),
        (4e-4, 10, 4, 400, 4e-5),
        (4e-4, 3, 8, 100, 0.0),
        (1e-3, 0, 2, 60, 1e-4),
        (1e-3, 200, 4, 100, 1e-4),  # the warmup capped at max_iters
    ]:
        warmup_iters = min(max_iters, warmup_steps * accumulation)  # TrainArgs.warmup_iters
        values, iter_num = [], 0
        while iter_num < max_iters:
            current = get_lr(lr, iter_num, warmup_iters, max_iters, min_lr)
            iter_num += 1
            if iter_num % accumulation == 0:  # not is_accumulating: optimizer.step()
                values.append(current)
        settings = dict(
            lr=lr, lr_warmup_steps=warmup_steps, accumulation=accumulation, max_iters=max_iters, min_lr=min_lr
        )
        out.append(dict(name="pretrain", settings=settings, values=values))
    for lr, warmup, max_steps, n in [(3e-4, 10, 100, 100), (3e-4, 1, 20, 30), (1e-3, 5, 6, 10)]:
        opt = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=lr)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sched = get_lr_scheduler(opt, warmup_steps=warmup, max_steps=max_steps)
            values = []
            for _ in range(n):
                values.append(float(opt.param_groups[0]["lr"]))
                opt.step()
                sched.step()
        settings = dict(lr=lr, warmup_steps=warmup, max_steps=max_steps)
        out.append(dict(name="finetune", settings=settings, values=values))
    data = {"source": "litgpt 0.5.13 pretrain.py and finetune/lora.py (tests/golden/make_litgpt.py)", "cases": out}
    OUT.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    print(f"wrote {len(out)} cases to {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
