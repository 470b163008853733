"""Speed and memory of lrsched against its peers, measured in the same run.

Schedule: linear warmup 0 -> 0.1 over 1,000 iterations, then cosine 0.1 -> 1e-5
over the rest; 1-indexed t; float64 output. Every figure is the median of
``--repeat`` runs; the machine is shared and noisy, so read the ratios.

    python benchmarks/bench.py            # the full table (about a minute)
    python benchmarks/bench.py --quick    # smaller sizes, fewer repeats
    git -C /work/main archive main lrsched | tar -x -C /tmp/before   # another version, exported
    python benchmarks/bench.py --first-use-only --before /tmp/before  # first use, both versions in one run

Peers: the NumPy closed form (np.where), a pure-Python loop, torch's
SequentialLR(LinearLR, CosineAnnealingLR) stepped (when torch is installed)
and optax's join_schedules under jax.jit with x64 (when jax and optax are
installed). The slow peers are timed up to 1e5 values and extrapolated
linearly beyond (marked ~).
"""

from __future__ import annotations

import argparse
import math
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's lrsched, not an installed one
import lrsched as ls
from lrsched import engine

W, PEAK, FLOOR = 1000, 0.1, 1e-5
#: this checkout: fresh processes import lrsched from here (not from wherever it is installed)
HERE = str(Path(__file__).resolve().parents[1])
SLOW_MAX = 100_000


def schedule(n: int):
    return ls.warmup(ls.cosine(PEAK, FLOOR, steps=max(n - W, 1)), steps=W)


def median_time(fn, repeat: int) -> float:
    fn()  # warm
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


# ---------------------------------------------------------------- peers


def numpy_closed_form(n: int) -> np.ndarray:
    t = np.arange(1, n + 1, dtype=np.float64)
    T = max(n - W, 1)
    warm = PEAK * np.minimum(t, W) / W
    p = np.minimum(np.maximum(t - W, 0), T) / T
    cos = FLOOR + (PEAK - FLOOR) * (1 + np.cos(np.pi * p)) / 2
    return np.where(t <= W, warm, cos)


def python_loop(n: int) -> np.ndarray:
    T = max(n - W, 1)

    def lr(t):
        if t <= W:
            return PEAK * t / W
        return FLOOR + (PEAK - FLOOR) * (1 + math.cos(math.pi * min(t - W, T) / T)) / 2

    return np.fromiter((lr(t) for t in range(1, n + 1)), dtype=np.float64, count=n)


def torch_stepper():
    try:
        import torch
    except ImportError:
        return None

    def run(n: int) -> np.ndarray:
        p = torch.nn.Parameter(torch.zeros(1))
        opt = torch.optim.SGD([p], lr=PEAK)
        warm = torch.optim.lr_scheduler.LinearLR(opt, start_factor=1e-3, end_factor=1.0, total_iters=W)
        cos = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(n - W, 1), eta_min=FLOOR)
        seq = torch.optim.lr_scheduler.SequentialLR(opt, [warm, cos], milestones=[W])
        out = np.empty(n)
        group = opt.param_groups[0]
        for k in range(n):
            out[k] = group["lr"]
            opt.step()
            seq.step()
        return out

    return run


def optax_x64():
    try:
        import jax

        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        import optax
    except ImportError:
        return None
    cache = {}

    def run(n: int):
        if n not in cache:
            sched = optax.join_schedules(
                [
                    optax.linear_schedule(0.0, PEAK, W),
                    optax.cosine_decay_schedule(PEAK, max(n - W, 1), alpha=FLOOR / PEAK),
                ],
                [W],
            )
            fn = jax.jit(jax.vmap(lambda c: sched(c + 1)))
            counts = jnp.arange(n, dtype=jnp.int64)
            fn(counts).block_until_ready()  # compile for this n
            cache[n] = (fn, counts)
        fn, counts = cache[n]
        return np.asarray(fn(counts).block_until_ready())

    return run


# ---------------------------------------------------------------- lrsched


_built: dict[int, ls.Schedule] = {}


def built(n: int) -> ls.Schedule:
    """The schedule for n, built and laid out once (its cost is measured on its own below)."""
    if n not in _built:
        _built[n] = schedule(n)
        _built[n](1)
    return _built[n]


def lrsched_values(n: int) -> np.ndarray:
    return built(n).values(n)


def lrsched_serial(n: int) -> np.ndarray:
    old = engine.PARALLEL_MIN
    engine.PARALLEL_MIN = 1 << 62
    try:
        return built(n).values(n)
    finally:
        engine.PARALLEL_MIN = old


def lrsched_interpreted(n: int) -> np.ndarray:
    """The interpreted tier (what a process uses before the compiled one pays for itself)."""
    out = np.empty(n)
    engine.INTERPRETED.fill(built(n)._program, out, 1.0, True)
    return out


def fresh_process_seconds(code: str, repeat: int, cwd=None) -> float:
    import os

    env = {**os.environ, "PYTHONPATH": HERE}
    subprocess.run([sys.executable, "-c", code], check=True, cwd=cwd, env=env)  # make sure the cache is warm
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, cwd=cwd, env=env)
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def numba_floor_seconds(repeat: int) -> float:
    """A fresh process that imports numba and runs one trivial cached kernel: any numba library's floor."""
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "floor_kernel.py").write_text(
            "from numba import njit\n@njit(cache=True)\ndef f(x):\n    return x[0]\n"
        )
        return fresh_process_seconds("import numpy as np, floor_kernel; floor_kernel.f(np.ones(1))", repeat, cwd=tmp)


NUMBA_FIRST = """
import time
t0 = time.perf_counter()
import numpy as np
from numba import njit
@njit
def f(x):
    return x[0]
f(np.ones(1))
print(time.perf_counter() - t0)
"""


def empty_cache_seconds(code: str, repeat: int, source: str | None = None, cache: str | None = None) -> float:
    """A fresh process with an empty numba cache (a new virtualenv, CI container or image): its own timing.

    ``source``: the directory lrsched is imported from (another checkout: --before); ``cache``: a filled
    NUMBA_CACHE_DIR to use instead of an empty one (a warm cache).
    """
    import os

    runs = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            env = {**os.environ, "NUMBA_CACHE_DIR": cache or tmp, "PYTHONPATH": source or HERE}
            out = subprocess.run(
                [sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env, cwd=tmp
            ).stdout
            runs.append(float(out.split()[-1]))
    return statistics.median(runs)


WHOLE_PROCESS = """
import subprocess, sys, time
t0 = time.perf_counter()
subprocess.run([sys.executable, *{args!r}], check=True, capture_output=True)
print(time.perf_counter() - t0)
"""


# ---------------------------------------------------------------- first use (issue 16's table, issue 23's goals)

#: each case runs in a fresh process; the clock starts after `import lrsched` (and after the setup line):
#: (name, setup, body, goal in seconds, cache: "empty" or "warm")
WC = "s = ls.warmup(ls.cosine(0.1, 1e-5, steps=9_000), steps=1_000)"
SGDR = "s = ls.sgdr(0.1, 1000, period_mult=1.5)"
FIRST_USE_CASES = [
    ("first value, warmup + cosine", WC, "s(1)", 0.05, "empty"),
    ("first value, warmup + cosine, warm cache", WC, "s(1)", 0.05, "warm"),
    ("first value, sgdr(0.1, 1000, period_mult=1.5)", SGDR, "s(1)", 0.05, "empty"),
    (
        "first value, timm CosineLRScheduler(cycle_mul=1.1)",
        "import lrsched.timm; s = lrsched.timm.CosineLRScheduler(0.1, t_initial=30, cycle_mul=1.1, cycle_limit=5)",
        "s(1)",
        0.05,
        "empty",
    ),
    (
        "first value, torch OneCycleLR mirror",
        "import lrsched.torch; s = lrsched.torch.one_cycle_lr(0.1, total_steps=10_000)",
        "s(1)",
        0.05,
        "empty",
    ),
    (
        "1,000 scalars + values(100_000), the 4 cases",
        "import lrsched.timm, lrsched.torch; ss = [ls.warmup(ls.cosine(0.1, 1e-5, steps=9_000), steps=1_000), "
        "ls.sgdr(0.1, 1000, period_mult=1.5), "
        "lrsched.timm.CosineLRScheduler(0.1, t_initial=30, cycle_mul=1.1, cycle_limit=5), "
        "lrsched.torch.one_cycle_lr(0.1, total_steps=10_000)]",
        "for s in ss: [s(t) for t in range(1, 1001)]; s.values(100_000)",
        4 * 0.5,
        "empty",
    ),
    (
        "plateau replay, 100 epochs x 1,000 steps",
        "import numpy as np; s = ls.warmup(ls.cosine(0.1, 1e-5, steps=99_000), steps=1_000); "
        "m = np.linspace(1, 0.5, 100) + 0.01 * np.sin(np.arange(100))",
        "ls.plateau(patience=2).replay(s, m, steps_per_epoch=1_000)",
        0.5,
        "empty",
    ),
    ("warmup + cosine values(10**6)", WC, "s.values(10**6)", 1.0, "empty"),
    ("sgdr(...).values(10**6)", SGDR, "s.values(10**6)", 1.0, "empty"),
    ("sgdr(...).values(10**7), all included", SGDR, "s.values(10**7)", 3.0, "empty"),
    (
        "extend over a 2e6-update plan (read in chunks)",
        "old = ls.cosine(0.1, 1e-5, steps=1_000_000); new = ls.warmup(ls.cosine(0.1, 1e-5, steps=2_000_000), steps=10)",
        "ls.extend(old, new, at=500_000)(600_000)",
        3.0,
        "empty",
    ),
]

#: whole processes (interpreter start and imports included): (name, command-line arguments, cache)
WHOLE_PROCESS_CASES = [
    ("CLI preview, warm cache", ["-m", "lrsched", "-e", "warmup(cosine(0.1, 1e-5, steps=9000), steps=1000)"], "warm"),
    ("floor: python -c 'import numpy'", ["-c", "import numpy"], "warm"),
    ("python -m lrsched --compile, empty cache", ["-m", "lrsched", "--compile"], "empty"),
]


def _warm_cache(source: str | None, where: str) -> str:
    """Fill ``where`` with the compiled kernel of the lrsched in ``source`` (None: this checkout)."""
    import os

    env = {**os.environ, "NUMBA_CACHE_DIR": where, "PYTHONPATH": source or HERE}
    subprocess.run(
        [sys.executable, "-m", "lrsched", "--compile"], check=True, capture_output=True, env=env, cwd=where
    )  # cwd: not a directory holding another lrsched (python -m looks there first)
    return where


TORCH_LOOP = """
import time, torch
{setup}
p = torch.nn.Parameter(torch.zeros(10)); p.grad = torch.ones(10)
opt = torch.optim.SGD([p], lr=0.1)
t0 = time.perf_counter()
sched = {make}
for _ in range(100):
    opt.step(); sched.step()
print(time.perf_counter() - t0)
"""

OPTAX_FIRST = """
import time
t0 = time.perf_counter()
import jax, optax
s = optax.warmup_cosine_decay_schedule(0.0, 0.1, 1_000, 10_000, 1e-5)
float(jax.jit(s)(1))
print(time.perf_counter() - t0)
"""


def first_use(repeat: int, before: str | None, only: str = "") -> None:
    """Issue 16's and 23's first-use table, fresh processes, medians; with --before, that checkout's figures too."""
    versions = [("after", None)] + ([("before", before)] if before else [])
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "after").mkdir()
        Path(tmp, "before").mkdir()
        warm = {name: _warm_cache(src, str(Path(tmp, name))) for name, src in versions}
        head = "".join(f"{name:>10s}" for name, _ in versions)
        print(f"\nfirst use, fresh processes (medians of {repeat}; the clock starts after the import):")
        print(f"  {'case':56s}{head}   goal")
        for name, setup, body, goal, cache in FIRST_USE_CASES:
            if only and only not in name:
                continue
            code = f"import time, lrsched as ls\n{setup}\nt0 = time.perf_counter()\n{body}\n"
            code += "print(time.perf_counter() - t0)"
            secs = [empty_cache_seconds(code, repeat, src, warm[v] if cache == "warm" else None) for v, src in versions]
            cells = "".join(f"{x:9.3f}s" for x in secs)
            print(f"  {name:56s}{cells}   <= {goal:g} s  {_ok(secs[0] <= goal)}")
        for name, args, cache in WHOLE_PROCESS_CASES:
            if only and only not in name:
                continue
            code = WHOLE_PROCESS.format(args=args)
            n = 1 if "--compile" in args else repeat
            secs = [empty_cache_seconds(code, n, src, warm[v] if cache == "warm" else None) for v, src in versions]
            print(f"  {name:56s}" + "".join(f"{x:9.3f}s" for x in secs) + "   (whole process)")
    imp = empty_cache_seconds(
        "import time\nt0 = time.perf_counter()\nimport lrsched\nprint(time.perf_counter() - t0)", repeat
    )
    print(f"  {'import lrsched':56s}{imp:9.3f}s   <= 0.3 s  {_ok(imp <= 0.3)}")
    _first_use_peers(repeat)


def _first_use_peers(repeat: int) -> None:
    try:
        import torch  # noqa: F401
    except ImportError:
        print("  torch not installed: the torch rows are not measured")
    else:
        ours = empty_cache_seconds(
            TORCH_LOOP.format(
                setup="import lrsched as ls, lrsched.torch; s = ls.warmup(ls.cosine(0.1, 0, steps=900), steps=100)",
                make="lrsched.torch.scheduler(opt, lr=s)",
            ),
            repeat,
        )
        theirs = empty_cache_seconds(
            TORCH_LOOP.format(setup="", make="torch.optim.lr_scheduler.LambdaLR(opt, lambda e: 1.0)"), repeat
        )
        extra = ours - theirs
        print(
            f"  {'lrsched.torch.scheduler, 100 updates, vs LambdaLR':56s}{extra:+9.3f}s   <= +0.3 s  "
            f"{_ok(extra <= 0.3)}  (torch's LambdaLR: {theirs:.3f} s)"
        )
    try:
        import optax  # noqa: F401
    except ImportError:
        print("  optax not installed: its first use is not measured")
    else:
        sec = empty_cache_seconds(OPTAX_FIRST, repeat)
        print(f"  {'peer: optax first value (jax import and jit included)':56s}{sec:9.3f}s")
    nfloor = empty_cache_seconds(NUMBA_FIRST, repeat)
    print(f"  {'floor: numba import + compile one trivial kernel':56s}{nfloor:9.3f}s")


def peak_extra_memory(n: int) -> tuple[float, float]:
    """(peak RSS growth while evaluating n values, size of the output), in MB, in a fresh process."""
    code = f"""
import resource, lrsched as ls
s = ls.warmup(ls.cosine(0.1, 1e-5, steps={n} - 1000), steps=1000)
s.values(10_000)  # kernels loaded, threads started
import numpy as np
probe = np.ones({n}); del probe  # the allocator's own high-water mark for one output array
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
v = s.values({n})
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(peak - base)
"""
    import os

    env = {**os.environ, "PYTHONPATH": HERE}
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env).stdout
    grown_kb = float(out.strip())
    # the probe array was freed before `base`, so growth beyond it is what evaluation adds
    return grown_kb / 1024, n * 8 / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="sizes up to 1e6 and 3 repeats")
    ap.add_argument("--repeat", type=int, default=None)
    ap.add_argument("--before", help="another lrsched checkout (its parent directory) to time first use against")
    ap.add_argument("--first-use-only", action="store_true", help="only the first-use table")
    ap.add_argument("--only", default="", help="with --first-use-only: the cases whose name holds this text")
    args = ap.parse_args()
    sizes = [1_000, 100_000, 1_000_000] if args.quick else [1_000, 100_000, 10_000_000]
    repeat = args.repeat or (3 if args.quick else 7)

    import numba

    print(
        f"lrsched {ls.__version__}, numpy {np.__version__}, numba {numba.__version__}, threads {engine.num_threads()}"
    )
    print(f"medians of {repeat} runs; ~ = extrapolated linearly from {SLOW_MAX:,} values\n")
    if args.first_use_only:
        first_use(repeat, args.before, args.only)
        return
    ls.compile_kernels()  # the steady state: the compiled tier (first use is measured on its own, below)

    # correctness first: every method computes the same curve
    n_check = 20_000
    ref = numpy_closed_form(n_check)
    np.testing.assert_allclose(lrsched_values(n_check), ref, rtol=1e-12, atol=1e-18)

    methods = {
        "lrsched values(n)": lrsched_values,
        "lrsched, one thread": lrsched_serial,
        "lrsched interpreted (NumPy arrays)": lrsched_interpreted,
        "NumPy closed form (np.where)": numpy_closed_form,
        "Python loop (np.fromiter)": python_loop,
    }
    slow = {"Python loop (np.fromiter)"}
    t = torch_stepper()
    if t is not None:
        methods["torch SequentialLR stepped"] = t
        slow.add("torch SequentialLR stepped")  # same work; its curve differs by torch's index convention
    o = optax_x64()
    if o is not None:
        methods["optax join_schedules, jit, x64"] = o
        np.testing.assert_allclose(o(n_check), ref, rtol=1e-12, atol=1e-18)

    table: dict[str, dict[int, float]] = {}
    for name, fn in methods.items():
        table[name] = {}
        for n in sizes:
            if name in slow and n > SLOW_MAX:
                table[name][n] = table[name][SLOW_MAX] * n / SLOW_MAX
            else:
                table[name][n] = median_time(lambda fn=fn, n=n: fn(n), repeat if n < 10**6 or name not in slow else 1)

    head = f"{'method':34s}" + "".join(f"{f'n={n:.0e}':>14s}" for n in sizes) + f"{'ns/value':>11s}{'vs lrsched':>12s}"
    print(head)
    print("-" * len(head))
    big = sizes[-1]
    ours = table["lrsched values(n)"][big]
    for name, row in table.items():
        cells = ""
        for n in sizes:
            sec = row[n]
            mark = "~" if name in slow and n > SLOW_MAX else " "
            cells += f"{mark}{_fmt_time(sec):>13s}"
        print(f"{name:34s}{cells}{row[big] / big * 1e9:11.2f}{row[big] / ours:11.1f}x")

    print()
    numpy_ratio = table["NumPy closed form (np.where)"][big] / ours
    print(
        f"target: >= 2x faster than the NumPy closed form at n={big:.0e}: {numpy_ratio:.2f}x  {_ok(numpy_ratio >= 2)}"
    )
    if "optax join_schedules, jit, x64" in table:
        r = table["optax join_schedules, jit, x64"][big] / ours
        print(f"target: at least as fast as optax-x64 at n={big:.0e}: {r:.2f}x  {_ok(r >= 1)}")
    else:
        print("target: optax-x64 not measured (pip install jax optax to include it)")

    # a new composition: build it and lay it out, until its first evaluation starts
    rng = np.random.default_rng(0)

    def new_composition():
        a, b, w = rng.uniform(0.01, 0.2), rng.uniform(1e-6, 1e-4), int(rng.integers(10, 2000))
        s = ls.warmup(ls.cycle(ls.cosine(a, b, steps=5000), 5000, decay=0.9), steps=w) * 0.5 + 1e-6
        s._compile()

    per = statistics.median(timeit.repeat(new_composition, number=200, repeat=repeat)) / 200
    print(f"target: new composition ready to evaluate in < 100 us: {per * 1e6:.1f} us  {_ok(per < 100e-6)}")

    six = ls.join([ls.warmup(ls.cosine(0.1, 1e-5, steps=9000), steps=1000), ls.constant(1e-5)], boundaries=[20_000]) * 2
    six(5000.0)
    per = statistics.median(timeit.repeat(lambda: six(5000.0), number=20_000, repeat=repeat)) / 20_000
    closure = _closure()
    floor = statistics.median(timeit.repeat(lambda: closure(5000.0), number=20_000, repeat=repeat)) / 20_000
    print(
        f"target: scalar call of a 6-node schedule within 5x a plain Python closure of the same curve: "
        f"{per * 1e9:.0f} ns, {per / floor:.1f}x  {_ok(per <= 5 * floor)}  (the closure: {floor * 1e9:.0f} ns)"
    )

    code = "import lrsched as ls; ls.warmup(ls.cosine(0.1, 1e-5, steps=99_000), steps=1_000).values(100_000)"
    fresh = fresh_process_seconds(code, max(3, repeat // 2))
    floor = numba_floor_seconds(max(3, repeat // 2))
    print(
        f"target: fresh process, import + first 1e5 values within 0.25 s of numba's own floor: {fresh:.3f} s, "
        f"+{fresh - floor:.3f} s  {_ok(fresh - floor <= 0.25)}  (the floor, import + one cached kernel: {floor:.3f} s)"
    )

    first_use(3 if args.quick else 5, args.before)

    _torch_knobs(args.quick)

    n_mem = sizes[-1]
    extra, out_mb = peak_extra_memory(n_mem)
    print(
        f"target: peak extra memory for n={n_mem:.0e} <= output + O(segments): "
        f"{extra:.1f} MB growth beyond one {out_mb:.1f} MB output  {_ok(extra <= 1.0)}"
    )


def _torch_knobs(quick: bool) -> None:
    """Per-update cost of two more knobs and a unit clock on lrsched.torch.scheduler (torch_overhead.py)."""
    try:
        import torch  # noqa: F401
    except ImportError:
        print("target: torch knobs not measured (pip install torch to include it)")
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from torch_overhead import overhead_ratio

    r = overhead_ratio(updates=100 if quick else 200, repeats=11 if quick else 21)
    print(
        f"target: an update with betas, a driven dropout and a unit clock within 1.5x of the lr alone: "
        f"{r['ratio']:.2f}x  {_ok(r['ratio'] <= 1.5)}  (lr only {r['lr_only_s'] * 1e6:.0f} us, with the knobs "
        f"{r['knobs_s'] * 1e6:.0f} us per update; noise +-{r['noise']:.0%})"
    )


def _closure():
    def lr(t):
        if t <= 20_000:
            if t <= W:
                return 2 * (PEAK * t / W)
            return 2 * (FLOOR + (PEAK - FLOOR) * (1 + math.cos(math.pi * min(t - W, 9000) / 9000)) / 2)
        return 2 * FLOOR

    return lr


def _fmt_time(sec: float) -> str:
    if sec < 1e-3:
        return f"{sec * 1e6:.1f} us"
    if sec < 1:
        return f"{sec * 1e3:.2f} ms"
    return f"{sec:.2f} s"


def _ok(flag: bool) -> str:
    return "ok" if flag else "MISSED"


if __name__ == "__main__":
    main()
