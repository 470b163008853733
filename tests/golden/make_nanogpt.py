"""Write tests/data/nanogpt_golden.json by running nanoGPT's own ``get_lr`` (karpathy/nanoGPT train.py).

nanoGPT is a script, not a package: this reads ``get_lr`` out of a checkout's train.py (it is run, not copied:
the function is taken from the file's syntax tree, and the rest of train.py, which starts a training run at import,
is not executed) with its module-level settings ``learning_rate``, ``warmup_iters``, ``lr_decay_iters`` and
``min_lr`` set per case. Set-up, from the project root, with a nanoGPT checkout (master, commit e2221318 here):

    python tests/golden/make_nanogpt.py /path/to/nanoGPT/train.py

nanoGPT's loop sets ``lr = get_lr(iter_num)`` before the update's micro-steps and increments ``iter_num`` after
``scaler.step(optimizer)``, from 0: update t runs at ``iter_num`` = t - 1, whatever the gradient accumulation.
"""

from __future__ import annotations

import ast
import json
import math
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "data" / "nanogpt_golden.json"


def load(train_py: str):
    tree = ast.parse(Path(train_py).read_text())
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "get_lr")
    ns = {"math": math}
    exec(compile(ast.Module(body=[fn], type_ignores=[]), train_py, "exec"), ns)
    return ns


def main(train_py: str) -> None:
    ns = load(train_py)
    out = []
    for lr, w, d, low, n in [
        (6e-4, 20, 600, 6e-5, 620),
        (1e-3, 100, 5000, 1e-4, 200),
        (6e-4, 0, 50, 6e-5, 60),
        (6e-4, 1, 10, 0.0, 15),
        (1e-3, 10, 11, 1e-4, 20),
    ]:
        settings = dict(learning_rate=lr, warmup_iters=w, lr_decay_iters=d, min_lr=low)
        ns.update(settings)
        out.append(dict(settings=settings, values=[ns["get_lr"](it) for it in range(n)]))
    data = {"source": "get_lr of karpathy/nanoGPT train.py (tests/golden/make_nanogpt.py)", "cases": out}
    OUT.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    print(f"wrote {len(out)} cases to {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
