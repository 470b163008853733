"""Write tests/data/peers_golden.json from real optax, transformers and Keras.

They are too heavy for the test environment; run this in a venv of its own,
from the project root:

    python -m venv .venv-peers
    .venv-peers/bin/pip install torch==2.13.0 jax optax transformers keras
    KERAS_BACKEND=jax .venv-peers/bin/python tests/golden/make_peers.py

optax runs with jax_enable_x64 and Keras with floatx float64, so the values are
float64. transformers runs its schedules on a real torch optimizer: the value
recorded at t is the lr of the t-th optimizer.step(). timm's schedulers run the
same way in per-update mode (step_update after each optimizer.step()); timm's
package __init__ imports its model zoo, which needs torchvision (no CPU build
here), so timm.scheduler is imported through a bare package object: it is
timm's own scheduler code, without the models.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import optimization as hf  # noqa: E402

keras.config.set_floatx("float64")


def _import_timm_scheduler():
    import importlib.util
    import types

    spec = importlib.util.find_spec("timm")
    package = types.ModuleType("timm")
    package.__path__ = list(spec.submodule_search_locations)
    sys.modules["timm"] = package
    import timm.scheduler
    import timm.version

    return timm.scheduler, timm.version.__version__


timm_scheduler, TIMM_VERSION = _import_timm_scheduler()
OUT = Path(__file__).resolve().parent.parent / "data" / "peers_golden.json"

OPTAX = [
    ("constant_schedule", dict(value=0.1), 50),
    (
        "polynomial_schedule",
        dict(init_value=0.1, end_value=1e-4, power=2.0, transition_steps=1000, transition_begin=100),
        1300,
    ),
    ("polynomial_schedule", dict(init_value=0.1, end_value=0.0, power=0.5, transition_steps=300), 400),
    ("polynomial_schedule", dict(init_value=0.1, end_value=0.0, power=1.0, transition_steps=0), 20),
    ("linear_schedule", dict(init_value=0.0, end_value=0.1, transition_steps=500, transition_begin=50), 700),
    (
        "piecewise_constant_schedule",
        dict(init_value=0.1, boundaries_and_scales={"0": 2.0, "100": 0.5, "300": 0.1}),
        400,
    ),
    ("exponential_decay", dict(init_value=0.1, transition_steps=100, decay_rate=0.5), 1000),
    (
        "exponential_decay",
        dict(init_value=0.1, transition_steps=100, decay_rate=0.5, staircase=True, transition_begin=50),
        1000,
    ),
    ("exponential_decay", dict(init_value=0.1, transition_steps=30, decay_rate=0.9, end_value=0.01), 1000),
    ("exponential_decay", dict(init_value=0.01, transition_steps=10, decay_rate=1.5, end_value=1.0), 300),
    ("cosine_decay_schedule", dict(init_value=0.1, decay_steps=1000), 1200),
    ("cosine_decay_schedule", dict(init_value=0.1, decay_steps=777, alpha=0.01, exponent=2.0), 900),
    (
        "warmup_cosine_decay_schedule",
        dict(init_value=0.0, peak_value=0.1, warmup_steps=100, decay_steps=1000, end_value=1e-5),
        1200,
    ),
    ("warmup_constant_schedule", dict(init_value=0.0, peak_value=0.1, warmup_steps=100), 200),
    (
        "warmup_exponential_decay_schedule",
        dict(
            init_value=0.0,
            peak_value=0.1,
            warmup_steps=100,
            transition_steps=200,
            decay_rate=0.5,
            transition_begin=50,
            staircase=True,
            end_value=1e-3,
        ),
        1500,
    ),
    (
        "piecewise_interpolate_schedule",
        dict(interpolate_type="linear", init_value=1.0, boundaries_and_scales={"100": 0.1, "300": 0.01}),
        400,
    ),
    (
        "piecewise_interpolate_schedule",
        dict(
            interpolate_type="cosine",
            init_value=0.1,
            boundaries_and_scales={"0": 2.0, "50": 0.5, "51": 0.1, "400": 3.0},
        ),
        500,
    ),
    ("cosine_onecycle_schedule", dict(transition_steps=1000, peak_value=0.1), 1100),
    (
        "cosine_onecycle_schedule",
        dict(transition_steps=333, peak_value=0.1, pct_start=0.25, div_factor=10.0, final_div_factor=100.0),
        400,
    ),
    ("linear_onecycle_schedule", dict(transition_steps=1000, peak_value=0.1), 1100),
    (
        "sgdr_schedule",
        dict(
            cosine_kwargs=[
                dict(init_value=0.0, peak_value=0.1, warmup_steps=10, decay_steps=100),
                dict(init_value=0.0, peak_value=0.05, warmup_steps=5, decay_steps=200, end_value=0.001),
            ]
        ),
        350,
    ),
    (
        "join_schedules",
        dict(
            schedules=[
                ["constant_schedule", dict(value=0.1)],
                ["linear_schedule", dict(init_value=0.1, end_value=0.0, transition_steps=100)],
                ["cosine_decay_schedule", dict(init_value=0.05, decay_steps=50)],
            ],
            boundaries=[100, 250],
        ),
        400,
    ),
]

HF = [
    ("get_constant_schedule", dict(), 20),
    ("get_constant_schedule_with_warmup", dict(num_warmup_steps=100), 200),
    ("get_linear_schedule_with_warmup", dict(num_warmup_steps=100, num_training_steps=1000), 1100),
    ("get_linear_schedule_with_warmup", dict(num_warmup_steps=0, num_training_steps=500), 600),
    ("get_cosine_schedule_with_warmup", dict(num_warmup_steps=100, num_training_steps=1000), 1500),
    ("get_cosine_schedule_with_warmup", dict(num_warmup_steps=10, num_training_steps=300, num_cycles=2.0), 400),
    (
        "get_cosine_with_hard_restarts_schedule_with_warmup",
        dict(num_warmup_steps=100, num_training_steps=1000, num_cycles=3),
        1100,
    ),
    ("get_cosine_with_hard_restarts_schedule_with_warmup", dict(num_warmup_steps=0, num_training_steps=400), 450),
    (
        "get_polynomial_decay_schedule_with_warmup",
        dict(num_warmup_steps=100, num_training_steps=1000, lr_end=1e-5, power=2.0),
        1100,
    ),
    ("get_polynomial_decay_schedule_with_warmup", dict(num_warmup_steps=0, num_training_steps=300), 350),
    ("get_inverse_sqrt_schedule", dict(num_warmup_steps=100), 2000),
    ("get_inverse_sqrt_schedule", dict(num_warmup_steps=0), 500),
    ("get_inverse_sqrt_schedule", dict(num_warmup_steps=50, timescale=200), 500),
    (
        "get_cosine_with_min_lr_schedule_with_warmup",
        dict(num_warmup_steps=100, num_training_steps=1000, min_lr=1e-5),
        1200,
    ),
    (
        "get_cosine_with_min_lr_schedule_with_warmup",
        dict(num_warmup_steps=0, num_training_steps=300, min_lr_rate=0.1),
        400,
    ),
    (
        "get_cosine_with_min_lr_schedule_with_warmup_lr_rate",
        dict(num_warmup_steps=100, num_training_steps=1000, min_lr_rate=0.05),
        1100,
    ),
    (
        "get_cosine_with_min_lr_schedule_with_warmup_lr_rate",
        dict(num_warmup_steps=50, num_training_steps=500, min_lr_rate=0.05, warmup_lr_rate=0.1),
        600,
    ),
    ("get_wsd_schedule", dict(num_warmup_steps=100, num_decay_steps=200, num_training_steps=1000), 1100),
    (
        "get_wsd_schedule",
        dict(
            num_warmup_steps=100,
            num_decay_steps=200,
            num_stable_steps=300,
            warmup_type="cosine",
            decay_type="1-sqrt",
            min_lr_ratio=0.1,
        ),
        700,
    ),
    (
        "get_wsd_schedule",
        dict(
            num_warmup_steps=50, num_decay_steps=100, num_training_steps=400, warmup_type="1-sqrt", decay_type="linear"
        ),
        450,
    ),
]

KERAS = [
    ("ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=100, decay_rate=0.5), 500),
    ("ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=100, decay_rate=0.5, staircase=True), 500),
    ("PiecewiseConstantDecay", dict(boundaries=[100, 300], values=[0.1, 0.05, 0.01]), 400),
    ("PolynomialDecay", dict(initial_learning_rate=0.1, decay_steps=1000, end_learning_rate=1e-4, power=2.0), 1200),
    (
        "PolynomialDecay",
        dict(initial_learning_rate=0.1, decay_steps=100, end_learning_rate=1e-4, power=1.0, cycle=True),
        450,
    ),
    ("InverseTimeDecay", dict(initial_learning_rate=0.1, decay_steps=100, decay_rate=0.5), 500),
    ("InverseTimeDecay", dict(initial_learning_rate=0.1, decay_steps=100, decay_rate=0.5, staircase=True), 500),
    ("CosineDecay", dict(initial_learning_rate=0.1, decay_steps=1000, alpha=0.01), 1200),
    ("CosineDecay", dict(initial_learning_rate=0.0, decay_steps=900, warmup_target=0.2, warmup_steps=100), 1100),
    (
        "CosineDecayRestarts",
        dict(initial_learning_rate=0.1, first_decay_steps=100, t_mul=2.0, m_mul=0.8, alpha=0.01),
        1600,
    ),
    ("CosineDecayRestarts", dict(initial_learning_rate=0.1, first_decay_steps=50, t_mul=1.0, m_mul=0.5), 400),
    ("CosineDecayRestarts", dict(initial_learning_rate=0.1, first_decay_steps=40, t_mul=1.5), 800),
]


TIMM = [
    ("CosineLRScheduler", dict(t_initial=1000), 1100),
    ("CosineLRScheduler", dict(t_initial=300, lr_min=1e-4, warmup_t=50, warmup_lr_init=1e-5), 400),
    ("CosineLRScheduler", dict(t_initial=300, lr_min=1e-4, warmup_t=50, warmup_lr_init=1e-5, warmup_prefix=True), 400),
    ("CosineLRScheduler", dict(t_initial=100, cycle_limit=4, cycle_decay=0.5, lr_min=1e-3), 500),
    ("CosineLRScheduler", dict(t_initial=64, cycle_mul=2.0, cycle_limit=4, cycle_decay=0.8), 1100),
    ("CosineLRScheduler", dict(t_initial=200, k_decay=2.0, cycle_limit=2, lr_min=1e-4), 500),
    ("PolyLRScheduler", dict(t_initial=500), 600),
    ("PolyLRScheduler", dict(t_initial=300, k_decay=0.5, power=1.0), 400),
    ("PolyLRScheduler", dict(t_initial=200, power=2.0, lr_min=1e-4, cycle_limit=3, cycle_decay=0.7, warmup_t=20), 700),
    ("TanhLRScheduler", dict(t_initial=500), 600),
    (
        "TanhLRScheduler",
        dict(t_initial=100, lr_min=1e-3, cycle_limit=3, cycle_decay=0.5, warmup_t=10, warmup_prefix=True),
        400,
    ),
    ("StepLRScheduler", dict(decay_t=100, decay_rate=0.5), 500),
    ("StepLRScheduler", dict(decay_t=30, decay_rate=0.9, warmup_t=20, warmup_lr_init=1e-4), 300),
    ("StepLRScheduler", dict(decay_t=30, decay_rate=0.9, warmup_t=20, warmup_lr_init=1e-4, warmup_prefix=False), 300),
    ("MultiStepLRScheduler", dict(decay_t=[100, 250, 400], decay_rate=0.1), 500),
    ("MultiStepLRScheduler", dict(decay_t=[1, 30, 60], decay_rate=0.5, warmup_t=10, warmup_lr_init=1e-4), 200),
    (
        "CosineLRScheduler",
        dict(t_initial=300, noise_range_t=[50, 250], noise_pct=0.5, noise_std=1.0, noise_seed=7),
        320,
    ),
    ("StepLRScheduler", dict(decay_t=40, decay_rate=0.5, noise_range_t=30, noise_pct=0.2), 150),
    ("PolyLRScheduler", dict(t_initial=200, noise_range_t=[0, 150], noise_type="uniform", noise_pct=0.3), 220),
]


def run_timm(name, kwargs, n, base_lr=0.1):
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=base_lr)
    kw = {k: x for k, x in kwargs.items() if k != "noise_type"}
    sched = getattr(timm_scheduler, name)(opt, t_in_epochs=False, **kw)
    if "noise_type" in kwargs:  # the schedulers' constructors do not take it; the base class reads the attribute
        sched.noise_type = kwargs["noise_type"]
    out = []
    for k in range(n):
        out.append(float(opt.param_groups[0]["lr"]))
        opt.step()
        sched.step_update(num_updates=k + 1)
    return {"name": name, "base_lr": base_lr, "kwargs": kwargs, "lr": out}


def _optax_fn(name, kwargs):
    kwargs = dict(kwargs)
    if "boundaries_and_scales" in kwargs:
        kwargs["boundaries_and_scales"] = {int(k): x for k, x in kwargs["boundaries_and_scales"].items()}
    if name == "join_schedules":
        kwargs["schedules"] = [_optax_fn(n, kw) for n, kw in kwargs["schedules"]]
    return getattr(optax, name)(**kwargs)


def run_optax(name, kwargs, n):
    fn = jax.jit(jax.vmap(_optax_fn(name, kwargs)))  # as optax schedules run in training
    values = np.asarray(fn(jnp.arange(n, dtype=jnp.int64)), dtype=np.float64)
    return {"name": name, "kwargs": kwargs, "lr": values.tolist()}


def run_hf(name, kwargs, n, base_lr=0.1):
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=base_lr)
    sched = getattr(hf, name)(opt, **kwargs)
    out = []
    for _ in range(n):
        out.append(float(opt.param_groups[0]["lr"]))
        opt.step()
        sched.step()
    return {"name": name, "base_lr": base_lr, "kwargs": kwargs, "lr": out}


def run_keras(name, kwargs, n):
    # a float64 initial lr makes Keras compute in float64 (a Python float gives float32 in some schedules)
    kw = {k: np.float64(x) if k == "initial_learning_rate" else x for k, x in kwargs.items()}
    sched = getattr(keras.optimizers.schedules, name)(**kw)
    out = [float(sched(np.int64(step))) for step in range(n)]
    return {"name": name, "kwargs": kwargs, "lr": out}


def main():
    data = {
        "generator": "tests/golden/make_peers.py",
        "versions": {
            "optax": optax.__version__,
            "jax": jax.__version__,
            "transformers": transformers.__version__,
            "torch": torch.__version__,
            "keras": keras.__version__,
            "timm": TIMM_VERSION,
            "python": sys.version.split()[0],
        },
        "optax": [run_optax(*c) for c in OPTAX],
        "transformers": [run_hf(*c) for c in HF],
        "keras": [run_keras(*c) for c in KERAS],
        "timm": [run_timm(*c) for c in TIMM],
    }
    OUT.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
