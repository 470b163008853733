"""The compiled tier: the kernel source of :mod:`lrsched.kernels`, compiled by numba and cached on disk.

:func:`load` imports numba and loads the kernel's files a second time, as the
package ``lrsched._compiled_kernels``, whose ``_decorators`` module is numba's
``njit`` (:func:`_numba_decorators`); nothing is rebuilt from code objects.
The first load compiles (announced on stderr, with the time it took) and
numba caches the machine code on disk; later processes load it from there.
:func:`cached` says, without importing numba, whether that cache is there
(:mod:`lrsched.engine` then loads it once the work pays for it).
:func:`compile_kernels` (``python -m lrsched --compile``) fills the cache
ahead of time, for container images and CI caches.

Where the cache goes (:func:`plan`): one directory per content of the kernel
source (:func:`content_key`: the kernel files, ``layout.py``, Python and numba
versions; not their mtimes), named ``lrsched-kernels-<key>``, under

- ``NUMBA_CACHE_DIR`` when it is set: read there even when it is read-only
  (an image filled at build time); where it holds no cache and cannot be
  written (a file, a read-only directory), nothing is cached, and stderr says
  so once: lrsched writes nowhere the user did not name;
- else beside the kernel source (``lrsched/kernels/__pycache__``) when it is
  writable, else the user's cache directory, else a private temporary
  directory; failing all, the kernel is compiled in memory, and stderr says so.

A file ``ready`` in that directory, written after a load, says that the cache
is complete. A lock file beside it lets one process compile while the others
wait (:func:`compile_kernels`) or stay interpreted (``load(wait=False)``).
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
#: the files the compiled package is made of (and layout.py, whose opcodes are frozen into it)
KERNEL_FILES = ("__init__.py", "_decorators.py", "cycles.py", "interpreter.py", "leaves.py")
#: what a compile takes, measured on the reference machine (2 cores): said before compiling
COMPILE_SECONDS = "5-15 s, more on a loaded machine"

LOCK = threading.Lock()
_LOADED: types.ModuleType | None = None  # the compiled interpreter module, once loaded
#: once loaded: the directory numba caches the kernel in (None: in memory), and whether it is read-only
CACHE_DIR: str | None = None
READ_ONLY = False


# ---------------------------------------------------------------- the cache, found without numba


def content_key() -> str:
    """A hash of what the compiled kernel is made of: the kernel files' content, Python's and numba's versions."""
    if _KEY:
        return _KEY[0]
    h = hashlib.sha256(f"{sys.version_info[:2]} numba {_numba_version()}".encode())
    for path in [*(SOURCE / name for name in KERNEL_FILES), SOURCE.parent / "layout.py"]:
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    _KEY.append(h.hexdigest()[:20])
    return _KEY[0]


_KEY: list = []


def _numba_version() -> str:
    """numba's version from its installed metadata's name (no import of numba)."""
    try:
        spec = importlib.util.find_spec("numba")
        site = Path(spec.origin).parent.parent
        names = [p.name for p in site.glob("numba-*.dist-info")]
        return names[0][len("numba-") : -len(".dist-info")] if len(names) == 1 else "unknown"
    except (AttributeError, ImportError, OSError, TypeError, ValueError):
        return "unknown"


def _writable(path: str) -> bool:
    """Whether this process may create files in ``path`` (created if missing and its parent allows)."""
    try:
        os.makedirs(path, exist_ok=True)
    except OSError:
        return False
    return os.path.isdir(path) and os.access(path, os.W_OK | os.X_OK)


def _private_dir() -> str:
    return os.path.join(tempfile.gettempdir(), f"lrsched-numba-cache-{os.getuid()}")


def _ours(path: str) -> bool:
    """A private directory this user owns and nobody else may write (a shared temp dir is not trusted)."""
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        st = os.stat(path)
    except (OSError, AttributeError):
        return False
    return st.st_uid == os.getuid() and not st.st_mode & 0o022 and os.access(path, os.W_OK)


def _roots() -> tuple[list[str], bool]:
    """(candidate cache roots in order, whether the user named one: NUMBA_CACHE_DIR)."""
    named = os.environ.get("NUMBA_CACHE_DIR", "").strip()
    if named:
        return [os.path.abspath(named)], True
    user = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return [str(SOURCE / "__pycache__"), os.path.join(user, "lrsched"), _private_dir()], False


def _is_ready(directory: str) -> bool:
    """Whether ``directory`` holds a complete cache: ``ready`` names numba's index of the entry point, there."""
    try:
        with open(os.path.join(directory, "ready")) as f:
            index = f.read().strip()
        return bool(index) and os.path.exists(os.path.join(directory, os.path.basename(index)))
    except OSError:
        return False


def plan() -> tuple[str | None, bool, str | None]:
    """(directory, read_only, note): where the kernel of this source is cached (None: nowhere), and what to say.

    A directory that holds the complete cache is read (written or not); else the first writable one.
    """
    roots, named = _roots()
    sub = f"lrsched-kernels-{content_key()}"
    for root in roots:
        if _is_ready(os.path.join(root, sub)):
            return os.path.join(root, sub), not _writable(os.path.join(root, sub)), None
    for root in roots:
        if root == _private_dir() and not _ours(root):
            continue
        if _writable(os.path.join(root, sub)):
            return os.path.join(root, sub), False, None
    if named:
        why = f"NUMBA_CACHE_DIR={roots[0]} holds no cache of this kernel and cannot be written"
    else:
        why = "no writable cache directory (beside the package, the user's cache, a private temporary one)"
    return None, False, f"lrsched: nothing is cached: {why}"


def cached() -> bool:
    """Whether a cache of this kernel source is there to be read (checked without numba, once a process)."""
    if not _ANSWER:
        roots, _ = _roots()
        sub = f"lrsched-kernels-{content_key()}"
        _ANSWER.append(any(_is_ready(os.path.join(root, sub)) for root in roots))
    return _ANSWER[0]


_ANSWER: list = []  # cached()'s answer, once asked


# ---------------------------------------------------------------- loading the compiled copy


def _numba_decorators(cache: bool) -> types.ModuleType:
    """The ``_decorators`` module of the compiled package: numba's njit with lrsched's options."""
    from numba import njit

    def jit(**options):
        return njit(cache=cache, error_model="numpy", nogil=True, **options)

    module = types.ModuleType(f"{PACKAGE}._decorators", "numba's decorators for the kernel source")
    module.entry = jit()
    module.internal = jit(no_cpython_wrapper=True, no_cfunc_wrapper=True)
    module.inline = jit(inline="always")
    return module


def load(wait: bool = True) -> types.ModuleType | None:
    """The compiled interpreter module (``evaluate``, ...): loaded, or compiled with a note on stderr, once.

    With ``wait=False``, None (at once) while another process compiles it into the same cache.
    """
    global _LOADED
    if _LOADED is not None:
        return _LOADED
    with LOCK:
        if _LOADED is None:
            _LOADED = _load_coordinated(wait)
    return _LOADED


def _load_coordinated(wait: bool) -> types.ModuleType | None:
    directory, read_only, note = plan()
    if directory is None or read_only or _is_ready(directory):
        return _load(directory, read_only, note)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no coordination
        return _load(directory, read_only, note)
    with open(os.path.join(directory, "compile.lock"), "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            return None  # another process is compiling: stay interpreted for now
        try:
            return _load(directory, read_only, note)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _exec_package(cache: bool) -> types.ModuleType:
    for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
        del sys.modules[name]
    decorators = _numba_decorators(cache)
    sys.modules[decorators.__name__] = decorators
    spec = importlib.util.spec_from_file_location(
        PACKAGE, SOURCE / "__init__.py", submodule_search_locations=[str(SOURCE)]
    )
    package = importlib.util.module_from_spec(spec)
    sys.modules[PACKAGE] = package
    spec.loader.exec_module(package)
    return importlib.import_module(f"{PACKAGE}.interpreter")


def _load(directory: str | None, read_only: bool, note: str | None) -> types.ModuleType:
    global CACHE_DIR, READ_ONLY
    from .kernels._numba_cache import install

    if note:
        print(note, file=sys.stderr, flush=True)
    install(directory, content_key(), read_only)
    interpreter = _exec_package(cache=directory is not None)
    disp, args = interpreter.evaluate, _probe_args()
    if not hasattr(disp, "overloads"):  # NUMBA_DISABLE_JIT: numba gives the plain functions back
        return interpreter
    fresh = directory is None or not _in_cache(disp, args)
    if fresh and read_only:  # a read-only cache of another build: compile in memory
        print(f"lrsched: the read-only cache in {directory} does not hold this kernel", file=sys.stderr, flush=True)
        directory, read_only = None, False
        install(None, content_key(), False)
        interpreter = _exec_package(cache=False)
        disp = interpreter.evaluate
    if fresh:
        where = f"then cached in {directory}" if directory else "in memory: every process compiles it again"
        print(f"lrsched: compiling the evaluation kernel ({COMPILE_SECONDS}), {where}...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    disp(*args)
    importlib.import_module(f"{PACKAGE}.cycles").cycle_start(2.0, 1.0, 2.0)
    if fresh:
        print(f"lrsched: kernel compiled in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    CACHE_DIR, READ_ONLY = directory, read_only
    if directory and not read_only and not _is_ready(directory):
        _write_ready(directory, disp)
    return interpreter


def _write_ready(directory: str, disp) -> None:
    """Mark the cache complete: ``ready`` names numba's index file of the entry point (relative: the directory
    may be moved, a CI cache restored elsewhere)."""
    try:
        index = disp._cache._cache_file._index_path
    except AttributeError:  # pragma: no cover - a numba that keeps its cache elsewhere: never marked ready
        return
    if not os.path.exists(index):
        return
    try:
        tmp = os.path.join(directory, f"ready.{os.getpid()}")
        with open(tmp, "w") as f:
            f.write(os.path.basename(index))
        os.replace(tmp, os.path.join(directory, "ready"))
    except OSError:
        pass


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
    """Compile the kernel and fill the on-disk cache now (for container images and CI caches); returns where.

    ``python -m lrsched --compile`` calls it; a Dockerfile runs it once after
    installing lrsched. Another process compiling into the same cache is waited for.
    """
    module = load(wait=True)
    if not hasattr(module.evaluate, "overloads"):
        return "(not cached: numba's JIT is disabled)"
    return CACHE_DIR or "(not cached: no writable cache directory; compiled in memory)"
