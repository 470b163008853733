"""Every public constructor, from random and extreme arguments: it refuses them at construction with a
ValueError or TypeError naming a parameter, or it builds a schedule that evaluates (finite values, or a
ValueError naming t) and whose config round-trips. Never another exception, a hang or a wrong type.

And every mirror, one parameter at a time: a bad value is refused naming that parameter and the value, never
with the message of a primitive inside (``cosine(): steps ...``) or of another parameter."""

from __future__ import annotations

import faulthandler
import importlib
import inspect
import itertools
import math
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lrsched as ls
from lrsched import recipes

#: the peers' modules; each keeps its mirrors in ``mirrors`` (a package, whose adapters, which import the
#: framework, live beside it) or is a flat module of mirrors
MODULES = [m for m in ls.FRAMEWORKS if m != "megatron"]  # megatron's constructors return dicts of schedules


def _returns(fn) -> str:
    """The name of the type ``fn`` is annotated to return (``"Schedule"``), or ``""``."""
    ann = inspect.signature(fn).return_annotation
    if ann is inspect.Signature.empty:
        return ""
    return ann if isinstance(ann, str) else getattr(ann, "__name__", "")


def mirrors(name: str) -> dict:
    """The mirror constructors of ``lrsched.<name>``, by public name: the functions its ``__all__`` lists that
    are defined in its mirrors module (``lrsched.<name>.mirrors``, or the flat module itself) and return a
    schedule or a plateau rule. No list of names to skip: adapters are defined elsewhere (in modules that
    import their framework, and are tested on their own), or return something else (``mxnet.scheduler``);
    nothing of the adapters' modules is imported to find this out."""
    module = importlib.import_module(f"lrsched.{name}")
    home = getattr(module, "mirrors", module)
    out = {}
    for n in module.__all__:
        fn = vars(home).get(n)
        if inspect.isfunction(fn) and fn.__module__ == home.__name__ and _returns(fn) in ("Schedule", "Plateau"):
            out[n] = fn
    return out


def constructors():
    out = {kind: cls for kind, cls in ls.REGISTRY.items() if hasattr(ls, kind)}  # the kinds' own classes
    out.update({name: getattr(recipes, name) for name in recipes.__all__})
    for m in MODULES:
        out.update({f"{m}.{n}": fn for n, fn in mirrors(m).items() if _returns(fn) == "Schedule"})
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


# ---------------------------------------------------------------- every mirror, one parameter at a time

#: the modules whose mirrors name every parameter at fault (issues 17 and 19), and the recipes
NAMED = ["torch", "mxnet", "transformers", "timm", "nemo", "deepspeed"]
#: what a required parameter is tried with, in turn, to find arguments a constructor accepts
TRIED = [10, 20, 0.5, [10], [ls.constant(1.0), ls.constant(0.5)]]
#: values that no parameter accepts: each must be refused naming the parameter and showing the value
REFUSED = [math.nan, "x"]
#: hostile values (those of the hostile-input probe): refused naming the parameter, or accepted
HOSTILE = [None, True, b"1", [], [1, 2], {}, {"a": 1}, object(), -1, 0, -0.0, 1e-320, 1e308, -1e308, 10**30]
HOSTILE += [10**400, -(10**400), math.inf, -math.inf, np.array(2.0), np.array([1.0, 2.0]), np.int64(2**62)]


def _named_constructors():
    out = {name: getattr(recipes, name) for name in recipes.__all__}
    for m in NAMED:
        out.update({f"{m}.{n}": fn for n, fn in mirrors(m).items()})
    return out


NAMED_CONSTRUCTORS = _named_constructors()


def accepted_arguments(fn) -> dict:
    """Keyword arguments ``fn`` builds from: its defaults, the required parameters tried with ``TRIED`` in
    turn, then the parameters whose default is None too (one_cycle_lr needs total_steps)."""
    params = [p for p in inspect.signature(fn).parameters.values() if p.kind is not p.VAR_KEYWORD]
    required = [p.name for p in params if p.default is p.empty]
    optional = [p.name for p in params if p.default is None]
    for tried in (required, required + optional):
        choices = [TRIED if name in required else [None, *TRIED] for name in tried]
        for values in itertools.product(*choices):
            kwargs = dict(zip(tried, values))
            try:
                fn(**kwargs)
            except (TypeError, ValueError):
                continue
            return kwargs
    raise AssertionError(f"{fn.__name__}: no arguments from {TRIED} build it")


def _names(name: str, text: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", text) is not None


def test_every_mirror_of_the_named_modules_is_found():
    # the enumeration finds what the modules export, adapters left out by where they are defined
    assert {"torch.step_lr", "torch.reduce_lr_on_plateau", "mxnet.factor_scheduler", "timm.CosineLRScheduler"} <= set(
        NAMED_CONSTRUCTORS
    )
    assert "transformers.get_wsd_schedule" in NAMED_CONSTRUCTORS and "wsd" in NAMED_CONSTRUCTORS
    assert "mxnet.scheduler" not in NAMED_CONSTRUCTORS  # the MXNet adapter
    assert not any(n.endswith((".Scheduler", ".find_lr", ".lambda_lr", ".plateau_lr")) for n in NAMED_CONSTRUCTORS)
    assert len(NAMED_CONSTRUCTORS) == len(recipes.__all__) + sum(len(mirrors(m)) for m in NAMED)


@pytest.mark.parametrize("name", sorted(NAMED_CONSTRUCTORS))
def test_a_bad_value_is_refused_naming_its_parameter(name):
    fn = NAMED_CONSTRUCTORS[name]
    base = accepted_arguments(fn)
    params = [p.name for p in inspect.signature(fn).parameters.values() if p.kind is not p.VAR_KEYWORD]
    assert params, name
    for param in params:
        for bad in REFUSED + HOSTILE:
            kwargs = {**base, param: bad}
            try:
                fn(**kwargs)
            except (TypeError, ValueError) as e:
                text = str(e)
                assert _names(param, text), (name, param, bad, text)
                # the constructor's own message: never one of a primitive built inside (``cosine(): steps ...``)
                assert not re.search(r"\w\(\): ", text), (name, param, bad, text)
                if any(bad is x for x in REFUSED):
                    assert ls._validate.show(bad) in text, (name, param, bad, text)
            else:
                assert not any(bad is x for x in REFUSED), f"{name}({param}={bad!r}) is accepted"
