"""The compiled tier for the tests: the kernel is compiled at most once per test run, by the command line.

``python -m lrsched --compile`` into an empty ``NUMBA_CACHE_DIR`` of the run's own (conftest.py names the run's
directory, in :data:`RUN_DIR`, before the xdist workers start) is under test itself: test_engine's compile-ahead
and subprocess tests read what it printed and load what it wrote. The first worker that needs it runs it, holding
a lock; the others wait and read its result, a failure included. It then seeds the package's own cache when that
holds no cache of this kernel source (a fresh clone, or a kernel just edited), so that this run's in-process
compiled tier, and the edit loop's next runs, load the kernel instead of compiling it again.
"""

from __future__ import annotations

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
    from the run's one ``python -m lrsched --compile``; an error it raised is raised again for every caller."""
    import fcntl  # POSIX, as the tests that start processes are

    run = os.environ.get(RUN_DIR)
    if not run:
        raise RuntimeError(f"{RUN_DIR} is not set: conftest.py names the test run's directory (run pytest with it)")
    result = Path(run) / "compile.json"
    with open(Path(run) / "compile.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not result.exists():
                try:
                    got = _compile_into(Path(run) / "numba-cache")
                except Exception as e:  # a timeout, say: recorded, and raised again for every caller
                    got = {"error": f"{type(e).__name__}: {e}"}
                staging = result.with_suffix(".tmp")
                staging.write_text(json.dumps(got))
                os.replace(staging, result)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    got = json.loads(result.read_text())
    if "error" in got:
        raise RuntimeError(f"the test run's python -m lrsched --compile failed: {got['error']}")
    out = subprocess.CompletedProcess(got["args"], got["returncode"], got["stdout"], got["stderr"])
    return Path(got["where"]), out, got["package_untouched"]


def _compile_into(where: Path) -> dict:
    where.mkdir()
    before = _files_beside_the_package()
    args = [sys.executable, "-m", "lrsched", "--compile"]
    out = subprocess.run(
        args,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
        env={**os.environ, "NUMBA_CACHE_DIR": str(where)},
    )
    after = _files_beside_the_package()
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


def _files_beside_the_package() -> list[str]:
    """The files under the kernel source's ``__pycache__`` (directories alone are not a cache: another worker's
    lrsched may make one while it waits for this compile)."""
    tree = compiled.SOURCE / "__pycache__"
    return sorted(str(p.relative_to(tree)) for p in tree.rglob("*") if p.is_file()) if tree.exists() else []


def _seed_package_cache(where: Path) -> None:
    """Copy the kernel's cache to where the package reads it, if that holds none (a cache may be moved)."""
    import fcntl

    target, read_only, _ = compiled.plan()
    if target is None or read_only or compiled._is_ready(target):
        return
    with open(os.path.join(target, "compile.lock"), "a") as lock:  # the lock lrsched's own loads take there
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return  # another process compiles into it now
        staging = f"{target}.seeding.{os.getpid()}"
        try:
            if compiled._is_ready(target):
                return
            shutil.copytree(where / os.path.basename(target), staging, ignore=shutil.ignore_patterns("compile.lock"))
            for name in sorted(os.listdir(staging), key=lambda n: n == "ready"):  # "ready" last: complete
                os.replace(os.path.join(staging, name), os.path.join(target, name))
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            fcntl.flock(lock, fcntl.LOCK_UN)


@functools.cache
def kernel() -> engine.CompiledKernel:
    """The compiled tier in this process: the package's cache, seeded by the run's compile when it held none."""
    if not _package_cache_ready():
        _, out, _ = run_compile()
        assert out.returncode == 0, out.stderr
    return engine.CompiledKernel(compiled.load())


def _package_cache_ready() -> bool:
    """Whether a cache the package reads holds this kernel, looked at without making any directory (plan() makes
    one, and the compile-ahead test checks that nothing appears beside the package while the command runs)."""
    roots, _ = compiled._roots()
    sub = f"lrsched-kernels-{compiled.content_key()}"
    return any(compiled._is_ready(os.path.join(root, sub)) for root in roots)
