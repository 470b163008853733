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
