"""The compiled tier for the tests: the kernel is compiled at most once per test run, by the command line.

``python -m lrsched --compile`` into an empty ``NUMBA_CACHE_DIR`` of the run's own (conftest.py names the run's
directory, in :data:`RUN_DIR`, before the xdist workers start) is under test itself: test_engine's compile-ahead
and subprocess tests read what it printed and load what it wrote. The first worker that needs it runs it, holding
a lock; the others wait and read its result. It then seeds the package's own cache when that holds no cache of
this kernel source (a fresh clone, or a kernel just edited), so that this run's in-process compiled tier, and the
edit loop's next runs, load the kernel instead of compiling it again.
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from lrsched import compiled, engine

#: the environment variable naming the test run's directory (conftest.py sets it)
RUN_DIR = "LRSCHED_TEST_RUN_DIR"
ROOT = Path(__file__).resolve().parent.parent


def run_compile() -> tuple[Path, subprocess.CompletedProcess, bool]:
    """(the cache directory it filled, what the command printed, whether nothing was written beside the package),
    from the run's one ``python -m lrsched --compile``."""
    run = Path(os.environ[RUN_DIR])
    result = run / "compile.json"
    with open(run / "compile.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not result.exists():
                result.write_text(json.dumps(_compile_into(run / "numba-cache")))
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    got = json.loads(result.read_text())
    out = subprocess.CompletedProcess(got["args"], got["returncode"], got["stdout"], got["stderr"])
    return Path(got["where"]), out, got["package_untouched"]


def _compile_into(where: Path) -> dict:
    where.mkdir()
    tree = compiled.SOURCE / "__pycache__"
    before = sorted(os.listdir(tree)) if tree.exists() else []
    args = [sys.executable, "-m", "lrsched", "--compile"]
    out = subprocess.run(
        args,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
        env={**os.environ, "NUMBA_CACHE_DIR": str(where)},
    )
    after = sorted(os.listdir(tree)) if tree.exists() else []
    if out.returncode == 0:
        _seed_package_cache(where)
    return {
        "args": args,
        "returncode": out.returncode,
        "stdout": out.stdout,
        "stderr": out.stderr,
        "where": str(where),
        "package_untouched": before == after,
    }


def _seed_package_cache(where: Path) -> None:
    """Copy the kernel's cache to where the package reads it, if that holds none (a cache may be moved)."""
    target, read_only, _ = compiled.plan()
    if target is None or read_only or compiled._is_ready(target):
        return
    with open(os.path.join(target, "compile.lock"), "a") as lock:  # the lock lrsched's own loads take there
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return  # another process compiles into it now
        try:
            if compiled._is_ready(target):
                return
            staging = f"{target}.seeding.{os.getpid()}"
            shutil.copytree(where / os.path.basename(target), staging, ignore=shutil.ignore_patterns("compile.lock"))
            for name in sorted(os.listdir(staging), key=lambda n: n == "ready"):  # "ready" last: complete
                os.replace(os.path.join(staging, name), os.path.join(target, name))
            shutil.rmtree(staging, ignore_errors=True)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@functools.cache
def compiled_kernel() -> engine.CompiledKernel:
    """The compiled tier in this process: the package's cache, seeded by the run's compile when it held none."""
    if not _package_cache_ready():
        run_compile()
    return engine.CompiledKernel(compiled.load())


def _package_cache_ready() -> bool:
    """Whether a cache the package reads holds this kernel, looked at without making any directory (plan() makes
    one, and the compile-ahead test checks that nothing appears beside the package while the command runs)."""
    roots, _ = compiled._roots()
    sub = f"lrsched-kernels-{compiled.content_key()}"
    return any(compiled._is_ready(os.path.join(root, sub)) for root in roots)
