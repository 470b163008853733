"""The compiled tier: the kernel source of :mod:`lrsched.kernels`, compiled by numba and cached on disk.

:func:`load` imports numba and loads the kernel's files a second time, as the
package ``lrsched._compiled_kernels``, whose ``_decorators`` module is numba's
``njit`` (:func:`_numba_decorators`); nothing is rebuilt from code objects.
The first load compiles (a few seconds, announced on stderr) and numba
caches the machine code on disk; later processes load it from there.
:func:`cached` says, without importing numba, whether that cache is there
(:mod:`lrsched.engine` then uses the compiled tier for every call).
:func:`compile_kernels` (``python -m lrsched --compile``) fills the cache
ahead of time, for container images and CI caches.

Where the cache goes: beside the package (numba's choice) or in the user's
cache directory; where neither is writable (read-only images,
HOME=/nonexistent) in a private temporary directory; failing that, the
kernel is compiled in memory, and stderr says so once.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import sys
import tempfile
import threading
import time
import types
from pathlib import Path

import numpy as np

from . import layout as L

#: the package name the compiled copy of the kernel source is loaded as
PACKAGE = "lrsched._compiled_kernels"
#: where the kernel source is
SOURCE = Path(__file__).with_name("kernels")

_LOCK = threading.Lock()
_LOADED: types.ModuleType | None = None  # the compiled interpreter module, once loaded
#: once loaded: whether numba caches the kernel on disk, and the private directory it uses (None: numba's own)
CACHE: bool | None = None
CACHE_FALLBACK: str | None = None


# ---------------------------------------------------------------- the cache, checked without numba


def _private_dir() -> str | None:
    """A temporary directory only this user can write, or None."""
    try:
        path = os.path.join(tempfile.gettempdir(), f"lrsched-numba-cache-{os.getuid()}")
        os.makedirs(path, mode=0o700, exist_ok=True)
        st = os.stat(path)
        if st.st_uid != os.getuid() or st.st_mode & 0o022 or not os.access(path, os.W_OK):
            return None
        return path
    except (OSError, AttributeError):
        return None


def _stamp_dirs() -> list[str]:
    """Where a stamp may say that the kernel is cached: beside the source, else the private directory."""
    return [str(SOURCE / "__pycache__"), os.path.join(tempfile.gettempdir(), f"lrsched-numba-cache-{os.getuid()}")]


def _stamp_prefix() -> str:
    newest = max(int(p.stat().st_mtime) for p in [*SOURCE.glob("*.py"), SOURCE.parent / "layout.py"])  # opcodes too
    return f"lrsched-compiled-{sys.version_info[0]}{sys.version_info[1]}-{newest}-"


def cached() -> bool:
    """Whether numba's on-disk cache holds the compiled kernel for this source (checked without numba).

    After each load a stamp names numba's index file; one whose index exists,
    where numba would look now (:func:`_numba_reads`), says yes. The answer is
    kept for the process (it is asked on every short range until the kernel loads).
    """
    if _ANSWER:
        return _ANSWER[0]
    prefix, found = _stamp_prefix(), False
    try:
        for d in _stamp_dirs():
            if not _ours(d):
                continue
            for name in os.listdir(d):
                if name.startswith(prefix) and name.endswith(".stamp"):
                    with open(os.path.join(d, name)) as f:
                        index = f.read().strip()
                    if index and os.path.exists(index) and _numba_reads(index):
                        found = True
    except (OSError, ValueError):
        found = False
    _ANSWER.append(found)
    return found


_ANSWER: list = []  # cached()'s answer, once asked


def _ours(d: str) -> bool:
    """A directory this user owns and nobody else may write (stamps elsewhere are not read)."""
    try:
        st = os.stat(d)
    except OSError:
        return False
    return st.st_uid == os.getuid() and not st.st_mode & 0o022


def _numba_reads(index: str) -> bool:
    """Whether numba, as configured now, would look for the kernel's cache where ``index`` is.

    ``NUMBA_CACHE_DIR`` when set; else beside the source when that is
    writable (numba uses the in-tree cache only then); else elsewhere (the
    user's cache, or lrsched's private directory).
    """
    root = os.environ.get("NUMBA_CACHE_DIR", "").strip()
    if root:
        return index.startswith(os.path.join(os.path.abspath(root), ""))
    tree = SOURCE / "__pycache__"
    writable = os.access(tree if tree.exists() else SOURCE, os.W_OK)
    return index.startswith(os.path.join(str(tree), "")) == writable


def _write_stamp(evaluate) -> None:
    """Note numba's index file of the kernel, for :func:`cached` (nothing when the kernel is not cached)."""
    try:
        index = evaluate._cache._cache_file._index_path
    except AttributeError:  # in memory, or a numba that keeps its cache elsewhere: cached() stays False
        return
    if not os.path.exists(index):
        return
    name = _stamp_prefix() + hashlib.sha1(index.encode()).hexdigest()[:16] + ".stamp"
    for d in _stamp_dirs():
        try:
            os.makedirs(d, mode=0o700, exist_ok=True)
            path = os.path.join(d, name)
            with open(path + f".{os.getpid()}", "w") as f:
                f.write(index)
            os.replace(path + f".{os.getpid()}", path)
            return
        except OSError:
            continue


# ---------------------------------------------------------------- loading the compiled copy


def _cache_mode(njit, config):
    """(cache, fallback dir or None, note): how numba can cache kernels here."""

    def probe():  # pragma: no cover - compiled only to ask numba for a cache
        return 0

    try:
        njit(cache=True)(probe)
        return True, None, None
    except RuntimeError:
        pass
    path = _private_dir()
    if path is not None:
        old = config.CACHE_DIR
        try:
            config.CACHE_DIR = path
            njit(cache=True)(probe)
            return True, path, None
        except RuntimeError:
            pass
        finally:
            config.CACHE_DIR = old
    return False, None, "lrsched: no writable numba cache directory; the kernels are compiled in memory, every process"


def _numba_decorators() -> tuple[types.ModuleType, str | None]:
    """The ``_decorators`` module of the compiled package: numba's njit with lrsched's options; and a note."""
    global CACHE, CACHE_FALLBACK
    from numba import config, njit

    cache, fallback, note = _cache_mode(njit, config)
    CACHE, CACHE_FALLBACK = cache, fallback

    def jit(**options):
        def decorate(fn):
            old = config.CACHE_DIR
            try:
                if fallback:
                    config.CACHE_DIR = fallback
                return njit(cache=cache, error_model="numpy", nogil=True, **options)(fn)
            finally:
                config.CACHE_DIR = old

        return decorate

    module = types.ModuleType(f"{PACKAGE}._decorators", "numba's decorators for the kernel source")
    module.entry = jit()
    module.internal = jit(no_cpython_wrapper=True, no_cfunc_wrapper=True)
    module.inline = jit(inline="always")
    return module, note


def loaded() -> types.ModuleType | None:
    """The compiled interpreter module if this process has loaded it, else None."""
    return _LOADED


def load() -> types.ModuleType:
    """The compiled interpreter module (``evaluate``, ...): loaded, or compiled with a note on stderr, once."""
    global _LOADED
    if _LOADED is not None:
        return _LOADED
    with _LOCK:
        if _LOADED is None:
            _LOADED = _load()
    return _LOADED


def _load() -> types.ModuleType:
    stamped = cached()  # numba's cache holds the kernel of these very files (checked before numba looks)
    _ANSWER.clear()
    decorators, note = _numba_decorators()
    sys.modules[decorators.__name__] = decorators
    spec = importlib.util.spec_from_file_location(
        PACKAGE, SOURCE / "__init__.py", submodule_search_locations=[str(SOURCE)]
    )
    package = importlib.util.module_from_spec(spec)
    sys.modules[PACKAGE] = package
    spec.loader.exec_module(package)
    interpreter = importlib.import_module(f"{PACKAGE}.interpreter")
    disp = interpreter.evaluate
    args = _probe_args()
    if not hasattr(disp, "overloads"):  # NUMBA_DISABLE_JIT: numba gives the plain functions back
        return interpreter
    fresh = not _in_cache(disp, args)
    if not fresh and not stamped:
        # numba keys each function's cache on its own file: evaluate's entry would keep the code of a
        # helper in another kernel file that changed since. No stamp for these files: compile them all again.
        _flush(package)
        fresh = True
    if fresh or note:
        say = note + "; compiling the kernel (a few seconds)..." if note else (
            "lrsched: compiling the evaluation kernel once (a few seconds), then cached on disk..."
        )
        print(say, file=sys.stderr, flush=True)
    started = time.perf_counter()
    disp(*args)
    cycle_start = importlib.import_module(f"{PACKAGE}.cycles").cycle_start
    cycle_start(2.0, 1.0, 2.0)
    if fresh or note:
        print(f"lrsched: kernel ready in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    _write_stamp(disp)
    return interpreter


def _flush(package) -> None:
    """Empty numba's on-disk cache of every kernel function of the compiled package."""
    for name in ("leaves", "cycles", "interpreter"):
        module = importlib.import_module(f"{package.__name__}.{name}")
        for fn in vars(module).values():
            cache = getattr(fn, "_cache", None)
            if cache is not None and hasattr(cache, "flush"):
                cache.flush()


def _probe_args():
    """Arguments of the types every call passes: a one-constant program, a scalar call."""
    ip = np.array([1, 0, 2, 0, L.CONST, 0, 0, 0], dtype=np.int64)
    empty = np.empty(0)
    return (ip, np.zeros(1), empty, 0.0, True, 0, 1, np.empty((2, 0)), empty, np.empty(0, dtype=np.int64), 0)


def _in_cache(disp, args) -> bool:
    """Whether numba's on-disk cache already holds the kernel (True when unknown: say nothing)."""
    try:
        sig = tuple(disp.typeof_pyval(a) for a in args)
        return disp._cache.load_overload(sig, disp.targetctx) is not None
    except Exception:
        return True


def compile_kernels() -> str:
    """Compile the kernel and fill numba's on-disk cache now (for container images and CI caches).

    Returns where the cache is. ``python -m lrsched --compile`` calls it; a
    Dockerfile runs it once after installing lrsched.
    """
    module = load()
    try:
        return os.path.dirname(module.evaluate._cache._cache_file._index_path)
    except AttributeError:
        return "(not cached: numba's JIT is disabled or no cache directory is writable)"
