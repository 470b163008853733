"""The test session: what doctests see (``from lrsched import *``), the quick loop's slow marks and the xdist
groups, one BLAS thread per process, hypothesis's profiles, and the run's own directory."""

import functools
import importlib
import os
import shutil
import tempfile
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")  # the backend the tests use (installed by the README test command)
# one BLAS/OpenMP thread per process (each xdist worker, rank and notebook kernel inherits it): two workers on two
# cores, each with its own thread pool spinning on both, ran torch's small trainings several times slower
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
import pytest
from hypothesis import settings

import lrsched

# The README's test command (and so CI) draws the same examples every run, so that a result does not depend on
# luck; HYPOTHESIS_PROFILE=explore draws new ones (run it when changing the engine or the reference).
settings.register_profile("default", derandomize=True)
settings.register_profile("explore", derandomize=False)
# the quick loop (README): every property test draws at most QUICK_EXAMPLES examples, whatever its own settings say
settings.register_profile("quick", derandomize=True)
QUICK_EXAMPLES = 10
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(autouse=True)
def _lrsched_names(doctest_namespace):
    doctest_namespace.update({name: getattr(lrsched, name) for name in lrsched.__all__})
    doctest_namespace["ls"] = lrsched
    doctest_namespace["lrsched"] = lrsched
    doctest_namespace["np"] = np


# doctests that need an optional framework skip cleanly where it is not installed
_NEEDS = {"lrsched.torch.": "torch", "lrsched.optax.adapter.": "jax"}


# the quick loop (README: `-m "not slow"`) leaves out whole files of real training runs and notebooks, and every
# test that starts another Python process; the README's full command runs them all
_SLOW_FILES = ("test_notebooks.py", "test_distributed.py", "test_training_loops.py", "test_lr_range_drivers.py",
               "test_foreign_resume.py")  # fmt: skip
_SLOW_SOURCE = ("subprocess", "sys.executable", "run_python(", "compiled_cache", "compiled_kernel")
#: files whose module-scoped fixtures launch ranks or an engine: each runs on one xdist worker, so they launch once
_ONE_WORKER = ("test_distributed.py", "test_deepspeed_engine.py", "test_foreign_resume.py")


def _slow(item) -> bool:
    if item.path.name in _SLOW_FILES:
        return True
    fn = getattr(item, "function", None)
    if fn is None:
        return False
    source = _source(fn)
    return any(s in source for s in _SLOW_SOURCE) or any(s in getattr(item, "fixturenames", ()) for s in _SLOW_SOURCE)


@functools.cache  # once per test function, not per parametrized item: inspect.getsource tokenizes its block
def _source(fn) -> str:
    import inspect

    try:
        return inspect.getsource(fn)
    except (OSError, TypeError):
        return ""


@pytest.hookimpl(tryfirst=True)  # before xdist's, which reads the xdist_group marks added here
def pytest_collection_modifyitems(config, items):
    import importlib.util

    quick = os.environ.get("HYPOTHESIS_PROFILE") == "quick"
    for item in items:
        if _slow(item):
            item.add_marker(pytest.mark.slow)
        if item.path.name in _ONE_WORKER:  # its module fixtures launch processes: once, on one worker
            item.add_marker(pytest.mark.xdist_group(item.path.stem))
        fn = getattr(item, "obj", None)
        own = getattr(fn, "_hypothesis_internal_use_settings", None)
        if quick and own is not None and own.max_examples > QUICK_EXAMPLES:
            fn._hypothesis_internal_use_settings = settings(own, max_examples=QUICK_EXAMPLES)
        if isinstance(item, pytest.DoctestItem):
            for prefix, package in _NEEDS.items():
                if item.name.startswith(prefix) and importlib.util.find_spec(package) is None:
                    item.add_marker(pytest.mark.skip(reason=f"needs {package}"))


_RUN_DIR = pytest.StashKey[str]()


def pytest_configure(config):
    """The test run's own directory (tests/compiled_once.py: the run's one compile of the kernel), made before
    xdist starts its workers, which inherit its name."""
    from tests.compiled_once import RUN_DIR

    if not hasattr(config, "workerinput"):  # not an xdist worker: a run of its own, even one a test started
        os.environ[RUN_DIR] = config.stash[_RUN_DIR] = tempfile.mkdtemp(prefix="lrsched-test-run-")


def pytest_unconfigure(config):
    from tests.compiled_once import RUN_DIR

    made = config.stash.get(_RUN_DIR, None)
    if made is not None:
        shutil.rmtree(made, ignore_errors=True)
        os.environ.pop(RUN_DIR, None)


# lrsched/<framework>/ (a package, where the framework has an adapter): every module but __init__.py and
# mirrors.py imports the framework of the same name at the top
_FRAMEWORK_OF = {n: n for n in lrsched.FRAMEWORKS if (Path(lrsched.__file__).parent / n).is_dir()}


def pytest_ignore_collect(collection_path, config):
    """A module that imports a framework is not collected for doctests where the framework cannot be imported."""
    path = Path(collection_path)
    framework = _FRAMEWORK_OF.get(path.parent.name)
    if framework is None or path.parent.parent.name != "lrsched" or path.name in ("__init__.py", "mirrors.py"):
        return None
    try:
        importlib.import_module(framework)
    except ImportError:
        return True
    return None
