"""Doctests read like ``from lrsched import *``: inject the public names."""

import os

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
_NEEDS = {"lrsched.torch.": "torch", "lrsched.optax.schedule": "jax"}


def pytest_collection_modifyitems(config, items):
    import importlib.util

    for item in items:
        if isinstance(item, pytest.DoctestItem):
            for prefix, package in _NEEDS.items():
                if item.name.startswith(prefix) and importlib.util.find_spec(package) is None:
                    item.add_marker(pytest.mark.skip(reason=f"needs {package}"))
