"""Write tests/data/fastai_golden.json by running fastai's own schedule code (fastai/callback/schedule.py).

fastai needs pandas, spaCy, torchvision and more at import, so this script takes from the wheel only what the
schedules run: ``fastai/callback/schedule.py``'s annealers, ``SchedPoly``, ``combine_scheds``, ``combined_cos``,
``fit_one_cycle``, ``fit_flat_cos`` and ``fit_sgdr``, and ``fastai/torch_core.py``'s ``tensor``, executed with
fastcore's ``L`` and ``store_attr`` (fastcore installs with ``--no-deps``). Set-up, from the project root:

    pip download fastai==2.8.12 --no-deps -d /tmp/fastai
    pip install --no-deps --target /tmp/fastai/lib fastcore==2.2.38
    PYTHONPATH=/tmp/fastai/lib python tests/golden/make_fastai.py /tmp/fastai/fastai-2.8.12-py3-none-any.whl

The ``fit_*`` methods run on a stand-in ``Learner`` whose ``fit`` does what fastai's training loop does to the
schedule: ``TrainEvalCallback`` (fastai/callback/core.py) sets ``pct_train = epoch / n_epoch`` before each epoch and
adds ``1 / (n_iter * n_epoch)`` after each batch, and ``ParamScheduler.before_batch`` sets the lr of that batch to
``scheds["lr"](pct_train)``. The value recorded for update t is that lr (one batch per update: no gradient
accumulation, under which fastai's batches are micro-batches).
"""

from __future__ import annotations

import ast
import functools
import json
import math
import numbers
import sys
import types
import zipfile
from pathlib import Path

import numpy as np
import torch
from fastcore.all import L, store_attr

OUT = Path(__file__).resolve().parent.parent / "data" / "fastai_golden.json"
SCHEDULE, TORCH_CORE = "fastai/callback/schedule.py", "fastai/torch_core.py"
TAKE = {
    SCHEDULE: {
        "_Annealer",
        "annealer",
        "sched_lin",
        "sched_cos",
        "sched_no",
        "sched_exp",
        "SchedLin",
        "SchedCos",
        "SchedNo",
        "SchedExp",
        "SchedPoly",
        "combine_scheds",
        "combined_cos",
        "fit_one_cycle",
        "fit_flat_cos",
        "fit_sgdr",
    },
    TORCH_CORE: {"tensor", "_array2tensor"},
}


class ParamScheduler:
    """Stands in for fastai's callback: the loop below does what its ``before_batch`` does."""

    def __init__(self, scheds):
        self.scheds = scheds

    def __add__(self, other):
        return [self, *other]


class Opt:
    def __init__(self, lr):
        self.hypers = [{"lr": lr, "mom": 0.9}]

    def set_hyper(self, k, v):
        self.hypers[0][k] = float(np.asarray(v).reshape(-1)[0])


class Learner:
    """What ``fit_one_cycle`` / ``fit_flat_cos`` / ``fit_sgdr`` read of a Learner, and a ``fit`` that runs the
    schedule as ``TrainEvalCallback`` and ``ParamScheduler`` do."""

    moms = (0.95, 0.85, 0.95)

    def __init__(self, lr: float, n_iter: int):
        self.lr, self.n_iter, self.opt, self.lrs = lr, n_iter, Opt(lr), []

    def create_opt(self):
        self.opt = Opt(self.lr)

    def fit(self, n_epoch, cbs=None, **kwargs):
        sched = next(cb for cb in cbs if isinstance(cb, ParamScheduler)).scheds["lr"]
        for epoch in range(n_epoch):
            pct_train = epoch / n_epoch  # TrainEvalCallback.before_train
            for _ in range(self.n_iter):
                self.lrs.append(float(np.asarray(sched(pct_train)).reshape(-1)[0]))  # ParamScheduler.before_batch
                pct_train += 1.0 / (self.n_iter * n_epoch)  # TrainEvalCallback.after_batch


def load(wheel: str) -> dict:
    """fastai's functions named in TAKE, from the wheel, in one namespace (decorators @patch/@delegates dropped)."""
    ns = dict(
        torch=torch,
        math=math,
        np=np,
        functools=functools,
        numbers=numbers,
        sys=sys,
        L=L,
        store_attr=store_attr,
        Tensor=torch.Tensor,
        ndarray=np.ndarray,
        array=np.array,
        as_tensor=torch.as_tensor,
        pd=types.SimpleNamespace(Series=type("Series", (), {}), DataFrame=type("DataFrame", (), {})),
        ParamScheduler=ParamScheduler,
        Learner=Learner,
    )
    with zipfile.ZipFile(wheel) as z:
        for name, wanted in TAKE.items():
            tree = ast.parse(z.read(name).decode())
            nodes = [n for n in tree.body if getattr(n, "name", None) in wanted]
            for n in nodes:
                n.decorator_list = [d for d in n.decorator_list if getattr(d, "id", None) not in ("patch", "docs")]
                n.decorator_list = [d for d in n.decorator_list if not isinstance(d, ast.Call)]
                for arg in n.args.args if isinstance(n, ast.FunctionDef) else []:
                    arg.annotation = None
            assert {n.name for n in nodes} == wanted, wanted - {n.name for n in nodes}
            exec(compile(ast.Module(body=nodes, type_ignores=[]), name, "exec"), ns)
    return ns


def cases():
    for n_epoch, n_iter in [(1, 100), (3, 17), (5, 40), (2, 7)]:
        yield "fit_one_cycle", dict(n_epoch=n_epoch, lr_max=0.01), n_iter
        yield "fit_one_cycle", dict(n_epoch=n_epoch, lr_max=0.01, div=10.0, div_final=1e4, pct_start=0.3), n_iter
        yield "fit_flat_cos", dict(n_epoch=n_epoch, lr=0.01), n_iter
        yield "fit_flat_cos", dict(n_epoch=n_epoch, lr=0.01, pct_start=0.5), n_iter
    for n_cycles, cycle_len, mult, n_iter in [(3, 1, 2, 20), (4, 1, 2, 13), (2, 2, 3, 10), (3, 1, 1, 25)]:
        if mult == 1:
            continue  # fastai's n_epoch formula divides by cycle_mult - 1
        yield "fit_sgdr", dict(n_cycles=n_cycles, cycle_len=cycle_len, lr_max=0.01, cycle_mult=mult), n_iter
    combos = [
        ([0.3, 0.7], [("SchedLin", 0.001, 0.01), ("SchedExp", 0.01, 1e-5)]),
        ([0.25, 0.5, 0.25], [("SchedNo", 0.01, 0.01), ("SchedCos", 0.01, 0.001), ("SchedLin", 0.001, 0.0)]),
        ([0.5, 0.5], [("SchedLin", 0.01, 0.0), ("SchedLin", 0.01, 0.0)]),
        ([0.2, 0.8], [("SchedPoly", 0.0, 0.01, 2.0), ("SchedPoly", 0.01, 0.0, 0.5)]),
        ([1.0], [("SchedPoly", 0.01, 0.0, 3.0)]),
    ]
    for pcts, scheds in combos:
        for n_epoch, n_iter in [(1, 100), (2, 33), (1, 7)]:
            yield "combine_scheds", dict(pcts=pcts, scheds=scheds, n_epoch=n_epoch), n_iter


def main(wheel: str) -> None:
    fa = load(wheel)
    out = []
    for name, kwargs, n_iter in cases():
        learn = Learner(0.01, n_iter)
        if name == "combine_scheds":
            scheds = [fa[s[0]](*s[1:]) for s in kwargs["scheds"]]
            learn.fit(kwargs["n_epoch"], [ParamScheduler({"lr": fa["combine_scheds"](kwargs["pcts"], scheds)})])
        else:
            fa[name](learn, **kwargs)
        out.append(dict(name=name, kwargs=kwargs, n_iter=n_iter, values=learn.lrs))
    data = {"source": "fastai/callback/schedule.py of fastai 2.8.12 (tests/golden/make_fastai.py)", "cases": out}
    OUT.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    print(f"wrote {len(out)} cases to {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
