"""Doctests read like ``from lrsched import *``: inject the public names."""

import importlib
import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")  # the backend the tests use (installed by the README test command)

import numpy as np
import pytest
from hypothesis import settings

import lrsched

# The README's test command (and so CI) draws the same examples every run, so that a result does not depend on
# luck; HYPOTHESIS_PROFILE=explore draws new ones (run it when changing the engine or the reference).
settings.register_profile("default", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(autouse=True)
def _lrsched_names(doctest_namespace):
    doctest_namespace.update({name: getattr(lrsched, name) for name in lrsched.__all__})
    doctest_namespace["ls"] = lrsched
    doctest_namespace["lrsched"] = lrsched
    doctest_namespace["np"] = np


# doctests that need an optional framework skip cleanly where it is not installed
_NEEDS = {"lrsched.torch.": "torch", "lrsched.optax.adapter.": "jax"}


def pytest_collection_modifyitems(config, items):
    import importlib.util

    for item in items:
        if isinstance(item, pytest.DoctestItem):
            for prefix, package in _NEEDS.items():
                if item.name.startswith(prefix) and importlib.util.find_spec(package) is None:
                    item.add_marker(pytest.mark.skip(reason=f"needs {package}"))


# lrsched/<framework>/: every module but __init__.py and mirrors.py imports its framework at the top
_FRAMEWORK_OF = {"torch": "torch", "keras": "keras", "optax": "optax"}


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
