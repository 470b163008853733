"""How often ``suggest_lr`` gives an lr, on synthetic range-test curves (the reliability check's rates).

    python benchmarks/suggest_rates.py            # 500 curves per family, n = 100 points
    python benchmarks/suggest_rates.py --n 300 --seeds 200

Unreliable families (flat curves with several kinds of noise, rising curves) should get no lr; curves with a
real descent (a plateau, a sigmoid fall in log lr, a blow-up, with Gaussian noise r times the fall) should.
The real-curve figures in ``suggest_lr``'s docstring were recorded with ``find_lr`` on small models.
"""

from __future__ import annotations

import argparse

import numpy as np

import lrsched as ls


def flat(rng, n, kind):
    noise = {
        "gaussian": lambda: rng.normal(size=n),
        "uniform": lambda: rng.uniform(-1, 1, n),
        "quantized": lambda: np.round(rng.normal(size=n) * 2) / 2,
        "t(3)": lambda: rng.standard_t(3, n),
        "lognormal": lambda: rng.lognormal(0, 1, n),
    }[kind]()
    return 1.0 + 0.05 * noise


def rising(rng, n):
    return np.linspace(1.0, 2.0, n) + 0.05 * rng.normal(size=n)


def typical(rng, n, r):
    u = np.linspace(0, 1, n)
    clean = 2.0 - 1.5 / (1 + np.exp(-(u - 0.45) * 20)) + 8.0 * np.maximum(u - 0.85, 0) ** 2
    return clean + rng.normal(0, r * 1.5, n)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100, help="points per curve")
    ap.add_argument("--seeds", type=int, default=500, help="curves per family")
    args = ap.parse_args()
    lrs = np.geomspace(1e-7, 10, args.n)
    rng = np.random.default_rng(0)
    families = {f"flat, {k} noise": (lambda k=k: flat(rng, args.n, k)) for k in
                ("gaussian", "uniform", "quantized", "t(3)", "lognormal")}  # fmt: skip
    families["rising"] = lambda: rising(rng, args.n)
    print(f"{'family':32s} {'given an lr':>12s}")
    for name, make in families.items():
        given = sum(ls.suggest_lr(lrs, make()).lr is not None for _ in range(args.seeds))
        print(f"{name:32s} {100 * given / args.seeds:11.1f}%   (should be 0)")
    for r in (0.0, 0.1, 0.2, 0.3, 0.5):
        given = sum(ls.suggest_lr(lrs, typical(rng, args.n, r)).lr is not None for _ in range(args.seeds))
        print(f"{f'a descent, noise {r} x the fall':32s} {100 * given / args.seeds:11.1f}%   (should be 100)")


if __name__ == "__main__":
    main()
