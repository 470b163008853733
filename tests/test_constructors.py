"""Every public constructor, from random and extreme arguments: it refuses them at construction with a
ValueError or TypeError naming a parameter, or it builds a schedule that evaluates (finite values, or a
ValueError naming t) and whose config round-trips. Never another exception, a hang or a wrong type."""

from __future__ import annotations

import faulthandler
import inspect
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lrsched as ls
from lrsched import recipes

MODULES = ["torch", "mxnet", "optax", "transformers", "timm", "keras"]
ADAPTERS = {"ScheduleFactor", "lambda_lr", "plateau_lr", "reduce_lr_on_plateau", "Scheduler", "scheduler"}
ADAPTERS |= {"LambdaLR", "PlateauLR", "find_lr"}  # torch classes and the range-test drivers, tested on their own
ADAPTERS |= {"get_reduce_on_plateau_schedule", "join_schedules", "sgdr_schedule", "chained_scheduler"}
ADAPTERS |= {"schedule", "OptaxSchedule"}  # framework adapters, tested on their own


def constructors():
    import importlib

    out = {kind: getattr(ls, kind) for kind in ls.REGISTRY if hasattr(ls, kind)}
    out.update({name: getattr(recipes, name) for name in recipes.__all__})
    for m in MODULES:
        module = importlib.import_module(f"lrsched.{m}")
        out.update({f"{m}.{n}": getattr(module, n) for n in module.__all__ if n not in ADAPTERS})
    return out


CONSTRUCTORS = constructors()
DEFAULT = object()
EXTREME = [0, 1, -1, 2, 3, 7, 100, 0.5, 1e-9, 1e-300, 1e300, 10**30, 10**400, math.inf, math.nan, -0.0, 2.5]
EXTREME += [np.array(2.0), np.array(3), np.int64(2**40), np.float32(0.5)]  # 0-d arrays and NumPy scalars
ODD = [True, False, None, "x", "5", "0.1", [], [1, 2], [3, 1], (2, 0.5), {"a": 1}, {10: 0.5}, [(0, 1.0), (10, 0.5)]]
SCHEDULES = [ls.constant(0.1), ls.linear(1.0, 0.0, 10)]


def argument():
    return st.one_of(st.sampled_from(EXTREME), st.sampled_from(ODD), st.sampled_from(SCHEDULES), st.just(DEFAULT))


@pytest.fixture(scope="module", autouse=True)
def watchdog():
    faulthandler.dump_traceback_later(600, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


@pytest.mark.parametrize("name", sorted(CONSTRUCTORS))
@settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_a_constructor_refuses_clearly_or_builds_a_working_schedule(name, data):
    fn = CONSTRUCTORS[name]
    params = [p for p in inspect.signature(fn).parameters.values() if p.kind is not p.VAR_KEYWORD]
    kwargs = {}
    for p in params:
        value = data.draw(argument(), label=p.name)
        if value is DEFAULT and p.default is not p.empty:
            continue
        kwargs[p.name] = 1 if value is DEFAULT else value
    try:
        s = fn(**kwargs)
    except (ValueError, TypeError) as e:
        text = str(e)
        assert any(p.name in text for p in params) or "schedule" in text, (name, kwargs, text)
        return
    assert isinstance(s, ls.Schedule), (name, s)
    try:
        values = s.values(200)
    except ValueError as e:  # a value out of the float range: reported, naming t
        reported = str(e)
    else:
        reported = None
    if reported is not None:
        assert "not finite at t=" in reported, (name, kwargs, reported)
        return
    assert np.isfinite(values).all()
    try:
        config = s.to_json()
    except TypeError:  # function(...) inside: not serializable, and it says so
        return
    again = ls.from_json(config)
    assert again == s
    np.testing.assert_array_equal(again.values(200), values)
