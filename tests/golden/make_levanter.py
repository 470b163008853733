"""Write tests/data/levanter_golden.json by running Levanter's own lr schedule (``OptimizerConfig.lr_scheduler``
of levanter/optim/config.py).

Levanter needs JAX, equinox, haliax and draccus at import (and Python 3.12 to install), so this script loads only
that file from the wheel, with draccus's registries, equinox, haliax and Levanter's own other imports stubbed; the
schedule itself runs optax and jax.numpy, as in Levanter, with ``jax_enable_x64`` on (Levanter runs in float32: its
lrs differ from these by float32 rounding, about 6e-8 relative). Set-up, from the project root (optax and jax
installed):

    pip download marin-levanter==0.2.227.dev40316220070 --no-deps --python-version 3.12 --only-binary=:all: \\
        -d /tmp/levanter
    python tests/golden/make_levanter.py /tmp/levanter/marin_levanter-0.2.227.dev40316220070-py3-none-any.whl

Levanter hands the schedule to ``optax.inject_hyperparams`` (``AdamConfig.build``), which evaluates it at the
optimizer's count before each update: update t runs at count t - 1, as in lrsched.optax.
"""

from __future__ import annotations

import json
import sys
import types
import zipfile
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

OUT = Path(__file__).resolve().parent.parent / "data" / "levanter_golden.json"
SOURCE = "levanter/optim/config.py"


_CHOICES: dict = {}


class _Registry:
    def __init_subclass__(cls, **kwargs):  # PluginRegistry takes discover_packages_path=
        super().__init_subclass__()

    @classmethod
    def register_subclass(cls, name):
        def register(sub):
            _CHOICES.setdefault(cls, {})[name] = sub
            return sub

        return register

    @classmethod
    def get_choice_class(cls, name):
        return _CHOICES[cls][name]

    @classmethod
    def get_known_choices(cls):
        return dict(_CHOICES.get(cls, {}))


def _stub(name: str, **attrs) -> None:
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    sys.modules[name] = module


def load(wheel: str):
    text = zipfile.ZipFile(wheel).read(SOURCE).decode()
    _stub("draccus", ChoiceRegistry=_Registry, PluginRegistry=_Registry)
    _stub("equinox", Module=type("Module", (), {}), is_array=lambda x: False)
    _stub("haliax", is_named_array=lambda x: False)
    for name in ("levanter", "levanter.optim", "levanter.utils"):
        _stub(name)
    _stub("levanter.tracker", log_hyperparameters=lambda *a, **k: None)
    _stub("levanter.optim.clip_update_norm", ClipUpdateNormConfig=type("ClipUpdateNormConfig", (), {}))
    _stub("levanter.optim.skipstep", SkipStepConfig=type("SkipStepConfig", (), {}))
    _stub("levanter.optim.util", log_norm_passthrough=None, scan_aware_clip_by_block_rms=None)
    _stub("levanter.utils.jax_utils", leaf_key_paths=None)
    module = types.ModuleType("levanter.optim.config")
    sys.modules[module.__name__] = module
    exec(compile(text, SOURCE, "exec"), module.__dict__)
    return module


def cases():
    base = dict(learning_rate=3e-4, min_lr_ratio=0.1)
    yield dict(base), 200  # Levanter's default: warmup 0.01 of the run, then cosine to min_lr
    yield dict(base, warmup=0.1, decay=0.2, lr_schedule="linear"), 200  # WSD
    yield dict(base, warmup=0.1, decay=0.2, lr_schedule="cosine"), 200
    yield dict(base, warmup=10, decay=0.2, cycles=4, lr_schedule="linear"), 200  # WSD-S: no re-warmup
    yield dict(base, warmup=10, decay=0.2, cycle_length=60, lr_schedule="linear"), 200  # a shorter last cycle
    yield dict(base, warmup=10, decay=0.3, rewarmup=0.1, cycles=[50, 120], lr_schedule="cosine"), 200
    yield dict(base, warmup=0.1, lr_schedule=("inv_sqrt", dict(timescale=50))), 200
    yield dict(base, warmup=0, lr_schedule=("inv_sqrt", dict(timescale=50))), 200
    yield dict(base, warmup=0.1, decay=0.5, lr_schedule=("polynomial", dict(power=2.0))), 200
    yield dict(base, learning_rate=0.02, warmup=10, lr_schedule=("power", dict(batch_size=1, seq_length=2048))), 200


def main(wheel: str) -> None:
    lev = load(wheel)
    out = []
    for settings, n in cases():
        kwargs = dict(settings)
        if isinstance(kwargs.get("lr_schedule"), tuple):
            name, params = kwargs["lr_schedule"]
            kwargs["lr_schedule"] = lev.LrSchedule.get_choice_class(name)(**params)
        config = lev.AdamConfig(**kwargs)
        schedule = config.lr_scheduler(n)
        # inject_hyperparams: update t at the optimizer's count t - 1, an int array
        values = [float(schedule(jax.numpy.asarray(count))) for count in range(n)]
        out.append(dict(settings=settings, num_train_steps=n, values=values))
    data = {"source": f"{SOURCE} of marin-levanter 0.2.227 (tests/golden/make_levanter.py)", "cases": out}
    OUT.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    print(f"wrote {len(out)} cases to {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
