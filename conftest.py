"""Doctests read like ``from lrsched import *``: inject the public names."""

import numpy as np
import pytest

import lrsched


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
