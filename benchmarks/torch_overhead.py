"""The per-update cost of lrsched.torch.scheduler with more knobs and a unit clock, against the lr alone.

One small real model (two Linear layers and a Dropout, Adam), its gradients set
once; per update, ``opt.step()`` and ``scheduler.step()``:

- "lr only": ``scheduler(opt, lr=s)``;
- "knobs": ``scheduler(opt, lr=s, betas=(b1, b2), unit="samples")`` with
  ``drive(dropout, "p", p)`` and a ``consume(n)`` per update.

Both run in the same process, in alternating blocks of updates, so that the
machine's drift hits both alike; the figures are medians over the blocks.

    python benchmarks/torch_overhead.py            # prints the medians and the ratio
    python benchmarks/torch_overhead.py --quick

:func:`overhead_ratio` returns the figures (``benchmarks/bench.py`` calls it).
"""

from __future__ import annotations

import argparse
import statistics
import time

import lrsched as ls

BATCH = 32


def _setup(knobs: bool):
    """A model, its Adam and a scheduler (lr only, or lr + betas + a driven dropout p + a sample clock)."""
    import torch

    import lrsched.torch as lt

    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Dropout(0.1), torch.nn.Linear(64, 10)
    )
    for p in model.parameters():
        p.grad = torch.randn_like(p) * 1e-3
    opt = torch.optim.Adam(model.parameters(), lr=1.0)
    lr = ls.warmup(ls.cosine(1e-3, 0.0, steps=10**7), steps=1000)
    if not knobs:
        return opt, lt.scheduler(opt, lr=lr)
    sched = lt.scheduler(
        opt, lr=lr, betas=(ls.linear(0.85, 0.95, steps=1000), ls.cosine(0.99, 0.999, steps=1000)), unit="samples"
    )
    sched.drive(model[2], "p", ls.linear(0.0, 0.1, steps=10**6))
    return opt, sched


def _block(opt, sched, updates: int, consume: bool) -> float:
    """Seconds per update over ``updates`` updates."""
    start = time.perf_counter()
    for _ in range(updates):
        if consume:
            sched.consume(BATCH)
        opt.step()
        sched.step()
    return (time.perf_counter() - start) / updates


def overhead_ratio(updates: int = 200, repeats: int = 21) -> dict:
    """The median per-update cost of lr only and of lr + betas + a driven dropout + a unit clock (seconds), their
    ratio, and the noise: the interquartile range of the per-block ratios, relative to their median."""
    plain, knobs = _setup(False), _setup(True)
    for opt, sched in (plain, knobs):  # warm up: first calls, allocations, Adam's state
        _block(opt, sched, 20, consume=sched.unit is not None)
    a, b = [], []
    for r in range(repeats):
        order = ((plain, a, False), (knobs, b, True)) if r % 2 == 0 else ((knobs, b, True), (plain, a, False))
        for (opt, sched), out, consume in order:
            out.append(_block(opt, sched, updates, consume))
    ratios = sorted(y / x for x, y in zip(a, b))
    q1, q3 = ratios[len(ratios) // 4], ratios[(3 * len(ratios)) // 4]
    ratio = statistics.median(b) / statistics.median(a)
    return {
        "lr_only_s": statistics.median(a),
        "knobs_s": statistics.median(b),
        "ratio": ratio,
        "block_ratio_median": statistics.median(ratios),
        "block_ratio_iqr": (q1, q3),
        "noise": (q3 - q1) / statistics.median(ratios),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter blocks")
    args = parser.parse_args()
    r = overhead_ratio(updates=50, repeats=9) if args.quick else overhead_ratio()
    print(f"lr only:                          {r['lr_only_s'] * 1e6:8.1f} us per update (median)")
    print(f"lr + betas + drive + unit clock:  {r['knobs_s'] * 1e6:8.1f} us per update (median)")
    q1, q3 = r["block_ratio_iqr"]
    print(f"ratio: {r['ratio']:.3f} (per-block ratios: median {r['block_ratio_median']:.3f}, IQR {q1:.3f}-{q3:.3f})")


if __name__ == "__main__":
    main()
