"""Write tests/data/mxnet_golden.json from real MXNet (run it in its own venv).

MXNet 1.9.1 imports only with numpy < 1.24, so it cannot share the test
environment. Set-up, from the project root:

    python -m venv .venv-mxnet
    .venv-mxnet/bin/pip install numpy==1.23.5 mxnet==1.9.1 numba==0.58.1
    .venv-mxnet/bin/pip install --no-deps -e .
    .venv-mxnet/bin/python tests/golden/make_mxnet.py

It records (1) every case of MXNet's own schedulers called in order from
num_update = 1, (2) their stateful quirks, and (3) lrsched's MXNet adapter
inside a real mx.optimizer.SGD update loop: the learning rate the optimizer
actually applied at each update, read back from the weight (a fresh float64
weight of 0 with gradient 1 becomes -lr).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import mxnet as mx
import numpy as np

import lrsched as ls
import lrsched.mxnet

OUT = Path(__file__).resolve().parent.parent / "data" / "mxnet_golden.json"

SCHEDULERS = [
    ("FactorScheduler", dict(step=250, factor=0.5, base_lr=0.1), 1200),
    ("FactorScheduler", dict(step=1, factor=0.9, stop_factor_lr=1e-3, base_lr=0.1), 200),
    ("FactorScheduler", dict(step=100, factor=0.7, base_lr=0.1, warmup_steps=50, warmup_begin_lr=0.001), 800),
    (
        "FactorScheduler",
        dict(step=30, factor=0.5, base_lr=0.1, warmup_steps=45, warmup_begin_lr=0.01, warmup_mode="constant"),
        300,
    ),
    ("FactorScheduler", dict(step=10, factor=1, base_lr=0.3), 50),
    ("FactorScheduler", dict(step=7, factor=0.8, base_lr=0.2, warmup_steps=1), 60),
    ("FactorScheduler", dict(step=3, factor=0.999, base_lr=0.1, stop_factor_lr=1e-9), 6000),
    ("MultiFactorScheduler", dict(step=[100, 300, 600], factor=0.1, base_lr=0.1), 800),
    ("MultiFactorScheduler", dict(step=[1, 2, 3], factor=0.5, base_lr=1.0, warmup_steps=2, warmup_begin_lr=0.1), 10),
    ("MultiFactorScheduler", dict(step=[50], factor=0.3, base_lr=0.05, warmup_steps=80), 200),
    ("PolyScheduler", dict(max_update=1000, base_lr=0.1, pwr=2), 1200),
    (
        "PolyScheduler",
        dict(max_update=500, base_lr=0.1, pwr=1, final_lr=1e-4, warmup_steps=100, warmup_begin_lr=1e-5),
        700,
    ),
    ("PolyScheduler", dict(max_update=50, base_lr=0.01, pwr=0.5, final_lr=0.001, warmup_steps=1), 80),
    (
        "PolyScheduler",
        dict(max_update=300, base_lr=0.01, pwr=3, warmup_steps=20, warmup_mode="constant", warmup_begin_lr=0.002),
        400,
    ),
    ("CosineScheduler", dict(max_update=1000, base_lr=0.1), 1200),
    ("CosineScheduler", dict(max_update=2000, base_lr=0.1, final_lr=1e-5, warmup_steps=200, warmup_begin_lr=0), 2500),
    ("CosineScheduler", dict(max_update=7, base_lr=1.0, final_lr=0.1, warmup_steps=2), 12),
    ("CosineScheduler", dict(max_update=100_000, base_lr=0.1, final_lr=0, warmup_steps=1000), 101_000),
]

# lrsched schedules driven through lrsched.mxnet.scheduler inside mx.optimizer.SGD
ADAPTER = [
    ls.warmup(ls.cosine(0.1, 1e-5, steps=900), steps=100),
    ls.step(0.1, every=250, factor=0.5),
    ls.cycle(ls.cosine(0.05, 0.0, steps=100), 100, period_mult=2, decay=0.5),
]


def sample(n: int) -> list[int]:
    """Every t for short runs; for long ones every 97th plus the edges."""
    if n <= 12_000:
        return list(range(1, n + 1))
    picked = set(range(1, 200)) | set(range(1, n + 1, 97)) | set(range(n - 200, n + 1))
    return sorted(picked)


def run_scheduler(name, kwargs, n):
    sched = getattr(mx.lr_scheduler, name)(**kwargs)
    keep = set(sample(n))
    t_out, lr_out = [], []
    for t in range(1, n + 1):  # in order, as an optimizer calls it
        lr = sched(t)
        if t in keep:
            t_out.append(t)
            lr_out.append(float(lr))
    return {"class": name, "kwargs": kwargs, "t": t_out, "lr": lr_out}


def applied_lrs(opt, n):
    """The lr the optimizer applies at each of n updates of weight 0."""
    out = []
    grad = mx.nd.ones((1,), dtype="float64")
    for _ in range(n):
        weight = mx.nd.zeros((1,), dtype="float64")
        state = opt.create_state(0, weight)
        opt.update(0, weight, grad, state)
        out.append(-float(weight.asnumpy()[0]))
    return out


def main():
    quirks = {}
    f = mx.lr_scheduler.FactorScheduler(step=250, factor=0.5, base_lr=1.0)
    quirks["factor_600_then_1"] = [float(f(600)), float(f(1))]
    p = mx.lr_scheduler.PolyScheduler(max_update=1000, base_lr=0.1, pwr=2)
    quirks["poly_fresh_at_1500"] = float(p(1500))

    adapter = []
    for s in ADAPTER:
        n = 1000
        absolute = applied_lrs(mx.optimizer.SGD(momentum=0.0, wd=0.0, lr_scheduler=lrsched.mxnet.scheduler(s)), n)
        relative = applied_lrs(
            mx.optimizer.SGD(
                momentum=0.0, wd=0.0, learning_rate=2.0, lr_scheduler=lrsched.mxnet.scheduler(s, relative=True)
            ),
            n,
        )
        resumed = applied_lrs(
            mx.optimizer.SGD(momentum=0.0, wd=0.0, begin_num_update=500, lr_scheduler=lrsched.mxnet.scheduler(s)), 200
        )
        adapter.append(
            {"schedule": s.to_dict(), "absolute": absolute, "relative_lr_2": relative, "resumed_after_500": resumed}
        )

    own = mx.lr_scheduler.FactorScheduler(step=250, factor=0.5, base_lr=0.1)
    quirks["factor_in_sgd_applied"] = applied_lrs(mx.optimizer.SGD(momentum=0.0, wd=0.0, lr_scheduler=own), 600)

    data = {
        "generator": "tests/golden/make_mxnet.py",
        "mxnet": mx.__version__,
        "numpy": np.__version__,
        "python": sys.version.split()[0],
        "schedulers": [run_scheduler(*case) for case in SCHEDULERS],
        "quirks": quirks,
        "adapter": adapter,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
