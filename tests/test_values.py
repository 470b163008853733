"""Schedules are values: immutable, equal by value, hashable, picklable, printable,
serializable. Driven by the registry, so every kind must appear in EXAMPLES."""

from __future__ import annotations

import copy
import json
import math
import pickle

import numpy as np
import pytest

import lrsched as ls
from lrsched.schedule import REGISTRY

_c = ls.cosine(0.1, 1e-5, steps=900)
EXAMPLES = {
    "constant": [ls.constant(0.1), ls.constant(-2.5)],
    "linear": [ls.linear(0.1, 0.0, 500), ls.linear(0, 1, 7.5)],
    "cosine": [_c, ls.cosine(1, 0.5, steps=3), ls.cosine(1, 0, steps=9, periodic=True, exponent=2.5)],
    "poly": [ls.poly(0.1, 0.0, steps=100), ls.poly(0.1, 0.01, steps=100, power=2.5)],
    "geometric": [ls.geometric(1e-6, 1.0, steps=100)],
    "tanh": [ls.tanh(1.0, 0.0, steps=100), ls.tanh(0.1, 0.01, steps=50, lb=-3, ub=5)],
    "ease": [ls.ease(1.0, 0.0, steps=100, power=0.5), ls.ease(0, 1, steps=7.5)],
    "exponential": [ls.exponential(0.1, 0.99), ls.exponential(0.1, 0.5, every=30, staircase=True, end=0.001)],
    "step": [ls.step(0.1, every=250, factor=0.5), ls.step(0.1, every=3, factor=0.9, minimum=0.01)],
    "multistep": [ls.multistep(0.1, [30, 60, 60], factor=0.1), ls.multistep(1.0, [], factor=0.5)],
    "piecewise": [ls.piecewise([10, 20], [1.0, 0.5, 0.1]), ls.piecewise([], [0.3])],
    "interpolate": [ls.interpolate([(0, 0.0), (10, 1.0)]), ls.interpolate([(5, 1.0), (9.5, 2.0)], shape="cosine")],
    "inverse_sqrt": [ls.inverse_sqrt(0.1, scale=4000)],
    "inverse_time": [ls.inverse_time(0.1, rate=0.5), ls.inverse_time(0.1, rate=0.5, every=10, staircase=True)],
    "join": [ls.join([ls.constant(0.1), ls.linear(0.1, 0.0, 500)], boundaries=[2000])],
    "warmup": [ls.warmup(_c, steps=100), ls.warmup(_c, steps=10, start=1e-4, shape="exponential")],
    "cycle": [ls.cycle(_c, 900), ls.cycle(_c, 900, period_mult=2, decay=0.5, limit=3, zero_based=True)],
    "add": [_c + 0.1, ls.constant(1) + ls.constant(2)],
    "sub": [1 - _c, _c - (_c - 1)],
    "mul": [0.5 * _c, _c * (_c + 1), -_c],
    "div": [_c / 2, 1 / (_c + 1)],
    "minimum": [ls.minimum(_c, 0.05)],
    "maximum": [ls.maximum(_c, ls.linear(0, 1, 10))],
    "clip": [_c.clip(0.01, 0.05), (_c + 1).clip(high=1.05), _c.clip(low=0.0)],
    "shift": [_c.shift(10), _c.shift(-2.5)],
    "stretch": [_c.stretch(2)],
    "warp": [_c.warp(2, 900), (_c + 1).warp(0.5, 100.5)],
    "per_epoch": [(0.5 * _c).per_epoch(100)],
    "function": [ls.function(math.sqrt)],
    "cooldown": [
        ls.cooldown(_c, at=300, steps=100),
        ls.cooldown(ls.constant(0.1), at=50, steps=7.5, to=1e-3, shape="sqrt"),
    ],
    "extend": [ls.extend(_c, ls.cosine(0.1, 1e-5, steps=1800), at=600)],
    "t": [ls.t],
    "pow": [ls.t**2, 0.5 ** (ls.t / 100), (_c + 1) ** _c, (-0.5) ** ls.floor(ls.t / 10)],
    "exp": [ls.exp(-ls.t / 1000), ls.exp(_c)],
    "log": [ls.log(ls.t + 1), ls.log(_c)],
    "sqrt": [ls.sqrt(ls.t), ls.sqrt(_c)],
    "floor": [ls.floor(ls.t / 7), ls.linear(64, 1024, steps=1000).quantize(64), (_c * 1000).quantize(2.5)],
    "ceil": [ls.ceil(ls.t / 7), ls.ceil(_c * 100)],
    "round": [ls.round(ls.t / 2), ls.round(_c * 100)],
}
ALL = [s for kind in sorted(EXAMPLES) for s in EXAMPLES[kind]]
SERIALIZABLE = [s for s in ALL if s.kind != "function"]
T = np.array([0, 1, 2, 5, 9.5, 10, 11, 99, 100, 101, 899, 900, 901, 2000, 2001, 5000, 1e6])


def test_every_kind_has_examples_and_a_documented_formula():
    assert set(EXAMPLES) == set(REGISTRY)
    for kind, cls in REGISTRY.items():
        assert all(s.kind == kind for s in EXAMPLES[kind])
        doc = cls.__doc__ or ""
        assert len(doc) > 40, f"{kind} needs a docstring with its formula"
    # each kind is reachable under its name: an operator, a method or a constructor
    for kind in REGISTRY:
        if kind in ("add", "sub", "mul", "div"):
            assert hasattr(ls.Schedule, f"__{kind if kind != 'div' else 'truediv'}__")
        elif kind == "pow":
            assert hasattr(ls.Schedule, "__pow__") and hasattr(ls.Schedule, "__rpow__")
        elif kind in ("clip", "shift", "stretch", "per_epoch", "warp"):
            assert callable(getattr(ls.Schedule, kind))
        elif kind == "t":
            assert type(ls.t) is REGISTRY["t"]
        elif kind in ("exp", "log", "sqrt", "floor", "ceil", "round", "minimum", "maximum"):  # functions of
            # schedules, numbers and durations: of a schedule, the kind
            operands = (ls.t, ls.t) if kind in ("minimum", "maximum") else (ls.t,)
            assert type(getattr(ls, kind)(*operands)) is REGISTRY[kind]
        else:
            assert getattr(ls, kind) is REGISTRY[kind]


def test_a_negative_zero_keeps_its_sign_in_repr():
    s = ls.minimum(ls.t, -0.0)
    assert repr(s) == "minimum(t, constant(-0.0))"
    again = ls.parse(repr(s))
    assert again == s and math.copysign(1.0, again(1)) == math.copysign(1.0, s(1)) == -1.0
    assert repr(ls.constant(0.0)) == "constant(0)"


def test_no_field_hides_a_method():
    for kind, cls in REGISTRY.items():
        for f in cls.fields:
            assert f.attr not in dir(ls.Schedule), f"{kind}.{f.attr} would hide Schedule.{f.attr}"
    s = ls.piecewise([2], [1.0, 0.5])
    assert s.values(3).tolist() == [1.0, 1.0, 0.5]
    assert s.to_dict()["schedule"]["values"] == [1.0, 0.5]


@pytest.mark.parametrize("s", ALL, ids=repr)
def test_repr_rebuilds(s):
    namespace = {**vars(ls), "math": math}  # a function's repr names its callable's module
    again = eval(repr(s), namespace)
    assert again == s
    assert repr(again) == repr(s)
    np.testing.assert_array_equal(again(T), s(T))


@pytest.mark.parametrize("s", ALL, ids=repr)
def test_pickle_and_copy(s):
    again = pickle.loads(pickle.dumps(s))
    assert again == s
    assert hash(again) == hash(s)
    np.testing.assert_array_equal(again(T), s(T))
    assert copy.copy(s) is s
    assert copy.deepcopy(s) is s


@pytest.mark.parametrize("s", SERIALIZABLE, ids=repr)
def test_json_round_trip(s):
    d = s.to_dict()
    assert d["lrsched"] == 1
    text = json.dumps(d)  # plain JSON types only
    assert json.loads(text) == d
    again = ls.from_dict(json.loads(text))
    assert again == s
    assert ls.from_json(s.to_json()) == s
    np.testing.assert_array_equal(again(T), s(T))


@pytest.mark.parametrize("s", ALL, ids=repr)
def test_immutable(s):
    name = s.fields[0].name if s.fields else "kind"  # t has no fields
    with pytest.raises(AttributeError, match="immutable"):
        setattr(s, name, 1.0)
    with pytest.raises(AttributeError, match="immutable"):
        delattr(s, name)
    with pytest.raises(AttributeError):
        s.extra = 1  # no __dict__: slots only


def test_equality_and_hash_by_value():
    a = ls.cosine(0.1, 0.0, steps=100)
    b = ls.cosine(0.1, 0, steps=100.0)  # ints and floats normalise
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b, ls.cosine(0.1, 0.0, steps=101)}) == 2
    assert a != ls.linear(0.1, 0.0, 100)
    assert a != "cosine"
    assert (a == 0.1) is False
    assert a.__eq__(object()) is NotImplemented
    assert ls.warmup(a, steps=10) == ls.warmup(b, steps=10)
    assert 0.5 * a == 0.5 * b


def test_repr_leaves_out_defaults_and_reads_like_the_call():
    assert repr(ls.cosine(0.1, 1e-5, steps=9000)) == "cosine(0.1, 1e-05, steps=9000)"
    assert repr(ls.poly(0.1, 0.0, steps=10)) == "poly(0.1, 0, steps=10)"
    assert repr(ls.poly(0.1, 0.0, steps=10, power=2)) == "poly(0.1, 0, steps=10, power=2)"
    assert repr(ls.exponential(0.1, 0.5, staircase=True)) == "exponential(0.1, 0.5, staircase=True)"
    assert repr(ls.join([1.0, 2.0], boundaries=[5])) == "join([constant(1), constant(2)], boundaries=[5])"
    s = 0.5 * ls.warmup(ls.cosine(0.1, 1e-5, steps=9000), steps=1000) + ls.constant(1e-4)
    assert repr(s) == "0.5 * warmup(cosine(0.1, 1e-05, steps=9000), steps=1000) + 0.0001"
    assert repr((ls.constant(1) + 2) * 3) == "(constant(1) + 2) * 3"
    assert repr(ls.constant(1) - (ls.constant(2) - 3)) == "1 - (constant(2) - 3)"
    assert repr((_c + 1).shift(5)) == "(cosine(0.1, 1e-05, steps=900) + 1).shift(k=5)"
    assert repr(_c.clip(high=0.05)) == "cosine(0.1, 1e-05, steps=900).clip(low=None, high=0.05)"
    assert repr(ls.interpolate([(0, 1.0), (10, 0.5)])) == "interpolate([(0, 1), (10, 0.5)])"


def test_schedules_compose_without_compiling():
    # building, laying out and evaluating a new composition compiles nothing: count the compiled kernels
    from lrsched import compiled, engine
    from tests import compiled_once

    compiled_once.kernel()  # the package's cache, seeded by the run's one compile where it held none
    fast = compiled.load().evaluate
    engine._use_compiled()
    before = len(getattr(fast, "signatures", ()))
    s = ls.warmup(ls.cycle(ls.cosine(0.3, 0.001, steps=777), 777, decay=0.9), steps=33) * 1.5
    s(12345), s.values(10), s.values(100_001)
    assert len(getattr(fast, "signatures", ())) == before


# ---------------------------------------------------------------- configs that must be refused


def _cfg(node):
    return {"lrsched": 1, "schedule": node}


BAD_CONFIGS = [
    ([1, 2], TypeError, "config must be a dict"),
    ({"schedule": {"type": "constant", "value": 1}}, ValueError, "no 'lrsched' version"),
    ({"lrsched": 2, "schedule": {"type": "constant", "value": 1}}, ValueError, "unsupported lrsched config version 2"),
    ({"lrsched": True, "schedule": {"type": "constant", "value": 1}}, ValueError, "unsupported"),
    ({"lrsched": 1}, ValueError, "no 'schedule'"),
    ({"lrsched": 1, "schedule": {"type": "constant", "value": 1}, "x": 1}, ValueError, "unknown top-level key 'x'"),
    (_cfg({"type": "sawtooth"}), ValueError, "unknown schedule type 'sawtooth'"),
    (_cfg({"value": 1}), ValueError, "unknown schedule type None"),
    (_cfg({"type": ["constant"]}), ValueError, "unknown schedule type"),
    (_cfg([]), TypeError, "schedule must be an object"),
    (_cfg({"type": "constant"}), ValueError, "missing field 'value'"),
    (_cfg({"type": "constant", "value": 1, "extra": 2}), ValueError, "unknown field 'extra'"),
    (_cfg({"type": "constant", "value": "0.1x"}), ValueError, "value: '0.1x' is not a number or a duration"),
    (_cfg({"type": "constant", "value": "nan"}), ValueError, "value: unknown symbol 'nan'"),
    (_cfg({"type": "linear", "start": 1, "end": 0, "steps": "totl"}), ValueError, "did you mean 'total'"),
    (_cfg({"type": "constant", "value": True}), TypeError, "value must be a real number"),
    (_cfg({"type": "constant", "value": None}), TypeError, "value must be a real number"),
    (_cfg({"type": "linear", "start": 1, "end": 0, "steps": 0}), ValueError, "steps must be > 0, got 0"),
    (_cfg({"type": "linear", "start": 1, "end": 0, "steps": -5}), ValueError, "steps must be > 0, got -5"),
    (
        _cfg({"type": "join", "schedules": {"type": "constant"}, "boundaries": []}),
        TypeError,
        "schedules must be a list",
    ),
    (
        _cfg({"type": "join", "schedules": [{"type": "constant", "value": 1}], "boundaries": [5]}),
        ValueError,
        "one more schedule than boundaries",
    ),
    (
        _cfg({"type": "warmup", "schedule": {"type": "nope"}, "steps": 5}),
        ValueError,
        r"schedule\.schedule: unknown schedule type 'nope'",
    ),
    (_cfg({"type": "function", "fn": "os.system"}), ValueError, "cannot be loaded"),
    (_cfg({"type": "piecewise", "boundaries": [20, 10], "values": [1, 2, 3]}), ValueError, "strictly increasing"),
]


@pytest.mark.parametrize(("config", "error", "message"), BAD_CONFIGS, ids=[m for _, _, m in BAD_CONFIGS])
def test_bad_configs_are_refused_clearly(config, error, message):
    with pytest.raises(error, match=message):
        ls.from_dict(config)


def test_deep_configs_are_refused():
    node = {"type": "constant", "value": 0.1}
    for _ in range(200):
        node = {"type": "shift", "schedule": node, "k": 1}
    with pytest.raises(ValueError, match="nest deeper than 64"):
        ls.from_dict(_cfg(node))
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(ValueError, match="nests too deeply"):
        ls.from_json(deep)
    with pytest.raises(ValueError, match="value must be finite, got nan"):
        ls.from_json('{"lrsched": 1, "schedule": {"type": "constant", "value": NaN}}')
    with pytest.raises(ValueError, match="Expecting"):
        ls.from_json("{not json")
    with pytest.raises(TypeError, match="text must be a str"):
        ls.from_json(None)


def test_deep_construction_is_refused():
    s = ls.constant(0.1)
    for _ in range(63):
        s = s.shift(1)
    with pytest.raises(ValueError, match="nest deeper than 64"):
        s.shift(1)
