"""Write tests/data/fvcore_golden.json by running fvcore's own fvcore/common/param_scheduler.py.

fvcore's schedulers are one file with no dependency beyond the standard library; fvcore itself is an sdist that
builds at install (3 to 7 s here) and pulls iopath, yacs, tabulate, ..., so the tests use these golden values instead.
Set-up, from the project root:

    pip download fvcore==0.1.5.post20221221 --no-deps -d /tmp/fvcore
    python tests/golden/make_fvcore.py /tmp/fvcore/fvcore-0.1.5.post20221221.tar.gz

The clock is detectron2's ``LRMultiplier`` (detectron2/solver/lr_scheduler.py), a torch ``LRScheduler`` whose
``get_lr`` is ``base_lr * multiplier(last_epoch / max_iter)``, stepped once per update: update t runs at
``where = (t - 1) / max_iter``. Each value here is ``lr * scheduler((t - 1) / max_iter)``, that product.

Runs past a million updates are recorded around their phase edges only (``ts``, the updates, and their values):
there fvcore's ``WHERE_EPSILON`` of 1e-6 (``where + 1e-6`` is compared with each edge) moves an edge by whole
updates.
"""

from __future__ import annotations

import json
import sys
import tarfile
import types
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "data" / "fvcore_golden.json"
SOURCE = "fvcore/common/param_scheduler.py"


def load(source: str):
    path = Path(source)
    if path.name.endswith(".tar.gz"):
        with tarfile.open(path) as tar:
            member = next(m for m in tar.getmembers() if m.name.endswith(SOURCE))
            text = tar.extractfile(member).read().decode()
    else:
        text = (path / SOURCE).read_text()
    module = types.ModuleType("fvcore_param_scheduler")
    exec(compile(text, SOURCE, "exec"), module.__dict__)
    return module


def build(fv, spec):
    """A scheduler from a JSON spec: [name, kwargs], composites nesting their schedulers."""
    name, kwargs = spec
    if name == "CompositeParamScheduler":
        kwargs = dict(kwargs, schedulers=[build(fv, s) for s in kwargs["schedulers"]])
    return getattr(fv, name)(**{k: (list(v) if isinstance(v, list) else v) for k, v in kwargs.items()})


def cases():
    lin, cos, const = "LinearParamScheduler", "CosineParamScheduler", "ConstantParamScheduler"
    comp = "CompositeParamScheduler"
    for n in (100, 37, 1000):
        for scaling in (["rescaled", "rescaled"], ["rescaled", "fixed"]):
            yield dict(
                spec=[
                    comp,
                    dict(
                        schedulers=[
                            [lin, dict(start_value=0.001, end_value=1.0)],
                            [cos, dict(start_value=1.0, end_value=0.0)],
                        ],
                        lengths=[0.1, 0.9],
                        interval_scaling=scaling,
                    ),
                ],
                max_iter=n,
            )
        yield dict(
            spec=[
                comp,
                dict(
                    schedulers=[
                        [const, dict(value=1.0)],
                        [cos, dict(start_value=1.0, end_value=0.01)],
                        [lin, dict(start_value=0.01, end_value=0.0)],
                    ],
                    lengths=[0.25, 0.5, 0.25],
                    interval_scaling=["rescaled", "rescaled", "rescaled"],
                ),
            ],
            max_iter=n,
        )
    # detectron2's WarmupParamScheduler(CosineParamScheduler(1, 0), 0.001, 0.01): a rescaled linear warmup to
    # the cosine's value at the warmup's end, then the cosine on the run's own clock ("fixed")
    for n in (90, 1000):
        end = 0.5 * (1 + __import__("math").cos(__import__("math").pi * 0.01))
        yield dict(
            spec=[
                comp,
                dict(
                    schedulers=[
                        [lin, dict(start_value=0.001, end_value=end)],
                        [cos, dict(start_value=1.0, end_value=0.0)],
                    ],
                    lengths=[0.01, 0.99],
                    interval_scaling=["rescaled", "fixed"],
                ),
            ],
            max_iter=n,
        )
    for n, milestones in [(90, [30, 60]), (900, [30, 60])]:
        yield dict(
            spec=["MultiStepParamScheduler", dict(values=[1.0, 0.1, 0.01], milestones=milestones, num_updates=90)],
            max_iter=n,
        )
    for n in (100, 90, 7):
        yield dict(spec=["StepParamScheduler", dict(num_updates=n, values=[1.0, 0.5, 0.25])], max_iter=n)
    yield dict(spec=["StepParamScheduler", dict(num_updates=3, values=[1.0, 0.5, 0.25])], max_iter=100)
    # past 1e6 updates, where + 1e-6 moves the edges ceil(N * 1e-6) - 1 updates earlier
    for n in (999_999, 1_000_000, 1_500_000, 3_000_000, 10_000_000):
        yield dict(
            spec=[
                comp,
                dict(
                    schedulers=[[const, dict(value=1.0)], [const, dict(value=0.1)], [const, dict(value=0.01)]],
                    lengths=[0.5, 0.25, 0.25],
                    interval_scaling=["rescaled", "rescaled", "rescaled"],
                ),
            ],
            max_iter=n,
            edges=[n // 2, 3 * n // 4],
        )
        yield dict(
            spec=["MultiStepParamScheduler", dict(values=[1.0, 0.1, 0.01], milestones=[30, 60], num_updates=90)],
            max_iter=n,
            edges=[n * 30 // 90, n * 60 // 90],
        )


def main(source: str) -> None:
    fv = load(source)
    lr = 0.5
    out = []
    for case in cases():
        sched, n = build(fv, case["spec"]), case["max_iter"]
        if "edges" in case:
            ts = sorted({t for e in case["edges"] for t in range(max(1, e - 15), e + 6)})
        else:
            ts = list(range(1, n + 1))
        values = [lr * sched((t - 1) / n) for t in ts]
        row = dict(case, lr=lr, values=values)
        if "edges" in case:
            row["ts"] = ts
        out.append(row)
    data = {"source": f"{SOURCE} of fvcore 0.1.5.post20221221 (tests/golden/make_fvcore.py)", "cases": out}
    OUT.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    print(f"wrote {len(out)} cases to {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
