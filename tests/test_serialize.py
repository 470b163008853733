"""Configs: schedules to and from plain types, JSON and YAML, as written by to_dict and as people write them.

Expected values come from formulas written here in numpy (independent of the
engine), or from the same schedule built in Python.
"""

from __future__ import annotations

import re
import subprocess
import sys
import types

import numpy as np
import pytest

import lrsched as ls
from lrsched.value import MAX_NODES
from tests import reference as ref

T, E = ls.total, ls.epoch


def np_warmup_cosine(t, peak, n, w):
    """A linear ramp from 0 to ``peak`` over w updates, then a half cosine from peak to 0 over n - w."""
    t = np.asarray(t, dtype=float)
    return np.where(t <= w, peak * np.minimum(t, w) / w, ref.cosine(np.maximum(t - w, 0.0), peak, 0.0, n - w))


def assert_close(got, want, rtol=1e-12, atol=1e-15):
    np.testing.assert_allclose(np.asarray(got, dtype=float), np.asarray(want, dtype=float), rtol=rtol, atol=atol)


def assert_same(a: ls.Schedule, b: ls.Schedule, n: int):
    """Equal as values, and the same floats, bit for bit."""
    assert a == b, (a, b)
    assert repr(a) == repr(b)
    assert np.array_equal(a.values(n), b.values(n))


# ---------------------------------------------------------------- configs


def cosine_node(**kw):
    return {"type": "cosine", "start": 0.1, "end": 0.0, "steps": 100, **kw}


def test_text_that_is_not_json_is_refused_naming_the_text():
    cases = [("x", "line 1 column 1"), ("{", "line 1 column 2"), (b"\xff", "not utf-8 (invalid start byte at byte 0)")]
    cases.append((b"\xff\xfe{\x00\x00", "not utf-16-le"))  # json reads these bytes as UTF-16
    for text, where in cases:
        with pytest.raises(ValueError, match=r"^text is not JSON: .*" + re.escape(where)):
            ls.from_json(text)


def test_from_dict_reads_a_bare_node_and_any_mapping():
    want = ls.cosine(0.1, 0.0, steps=100)
    assert ls.from_dict(cosine_node()) == want
    assert ls.from_dict(types.MappingProxyType(cosine_node())) == want
    assert ls.from_dict({"lrsched": 1, "schedule": types.MappingProxyType(cosine_node())}) == want
    with pytest.raises(ValueError, match="type"):
        ls.from_dict({"start": 0.1})
    with pytest.raises(TypeError):
        ls.from_dict([cosine_node()])


@pytest.mark.parametrize(
    ("text", "value"),
    [("3e-4", 3e-4), ("1E-3", 1e-3), ("  0.25 ", 0.25), ("-1e-2", -1e-2), ("+2", 2.0), ("1/8", 0.125), ("7", 7.0)],
)
def test_number_strings_are_read_strictly_as_numbers(text, value):
    assert ls.from_dict(cosine_node(start=text)) == ls.cosine(value, 0.0, steps=100)


@pytest.mark.parametrize(
    "text",
    [
        "0.1x",
        "",
        "nan",
        "inf",
        "1e999",
        "True",
        "None",
        "[1]",
        "1j",
        "2**3",
        "x",
        "__import__('os')",
        "total()",
        "0.1 0.2",
        "1+" * 600 + "1",
        "-" * 900 + "1",
    ],
    ids=lambda x: x[:30],
)
def test_garbage_number_strings_are_refused_naming_the_field(text):
    with pytest.raises(ValueError, match=r"schedule\.start"):
        ls.from_dict(cosine_node(start=text))


def test_garbage_in_a_recipe_config_is_refused_naming_the_field():
    config = {"type": "warmup_cosine", "peak": "3e-4x", "steps": 1000, "warmup_steps": 50}
    with pytest.raises(ValueError, match="peak"):
        ls.from_dict(config)


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (True, TypeError),
        (None, TypeError),
        ([100], TypeError),
        ([[100]], TypeError),
        ({"a": 1}, TypeError),
        (b"100", TypeError),
        (float("nan"), ValueError),
        (10**400, ValueError),
    ],
    ids=repr,
)
def test_hostile_values_in_a_config_are_refused_naming_the_field(value, error):
    with pytest.raises(error, match="steps"):
        ls.from_dict(cosine_node(steps=value))


def test_duration_strings_in_configs():
    s = ls.from_dict(
        {
            "type": "warmup",
            "schedule": cosine_node(start="3e-4", steps="total - 0.05 * total"),
            "steps": "0.05 * total",
        }
    )
    assert s == ls.warmup(ls.cosine(3e-4, 0.0, steps=T - 0.05 * T), steps=0.05 * T)
    assert_same(s.bind(total=4_000), ls.warmup(ls.cosine(3e-4, 0.0, steps=4_000 - 0.05 * 4_000), steps=200), 4_100)
    m = ls.from_dict({"type": "multistep", "start": "0.1", "milestones": ["30 * epoch", "60*epoch"], "factor": "0.1"})
    assert m.bind(epoch=10) == ls.multistep(0.1, [300, 600], factor=0.1)
    with pytest.raises(ValueError, match=r"steps.*did you mean 'total'"):
        ls.from_dict(cosine_node(steps="0.05 * totl"))


def test_recipes_are_named_in_configs():
    config = {"type": "warmup_cosine", "peak": "3e-4", "steps": "total", "warmup_steps": "0.05 * total"}
    s = ls.from_dict(config)
    assert s == ls.warmup_cosine(3e-4, steps=T, warmup_steps=0.05 * T)
    assert_same(s.bind(total=10_000), ls.warmup_cosine(3e-4, steps=10_000, warmup_steps=500), 10_100)
    assert ls.from_dict({"lrsched": 1, "schedule": config}) == s
    w = ls.from_dict(
        {"type": "wsd", "peak": 1, "steps": "total", "warmup_steps": 0, "decay_steps": "0.2 * total", "decay": "1-sqrt"}
    )
    assert w.bind(total=100) == ls.wsd(1, steps=100, warmup_steps=0, decay_steps=20, decay="1-sqrt")
    with pytest.raises(ValueError, match="did you mean 'warmup_steps'"):
        ls.from_dict({"type": "warmup_cosine", "peak": 1, "steps": 100, "warmup_step": 5})
    with pytest.raises(TypeError, match="peak"):
        ls.from_dict({"type": "warmup_cosine", "peak": [1], "steps": 100, "warmup_steps": 5})


YAML_TEXT = """
trainer:
  max_steps: 10000
optim:
  lr: 3e-4            # YAML 1.1 reads this as a string
  schedule:
    type: join
    schedules:
      - type: warmup
        schedule: {type: cosine, start: 3e-4, end: 1e-5, steps: total - 0.05 * total - 0.2 * total}
        steps: 0.05 * total
      - {type: multistep, start: 1e-5, milestones: [2 * epoch, 4 * epoch], factor: 0.5}
    boundaries: [0.8 * total]
  recipe: {type: warmup_cosine, peak: 3e-4, steps: total, warmup_steps: 0.05 * total}
"""


def expected_yaml_schedule(total, epoch):
    return ls.join(
        [
            ls.warmup(ls.cosine(3e-4, 1e-5, steps=total - 0.05 * total - 0.2 * total), steps=0.05 * total),
            ls.multistep(1e-5, [2 * epoch, 4 * epoch], factor=0.5),
        ],
        boundaries=[0.8 * total],
    )


def test_yaml_config():
    yaml = pytest.importorskip("yaml", reason="installed with lrsched[config]")
    config = yaml.safe_load(YAML_TEXT)
    assert config["optim"]["lr"] == "3e-4"  # the YAML 1.1 string the loader must read as a number
    s = ls.from_dict(config["optim"]["schedule"])
    assert s == expected_yaml_schedule(T, E)
    assert_same(s.bind(total=10_000, epoch=250), expected_yaml_schedule(10_000, 250), 10_200)
    r = ls.from_dict(config["optim"]["recipe"]).bind(total=config["trainer"]["max_steps"])
    assert_same(r, ls.warmup_cosine(3e-4, steps=10_000, warmup_steps=500), 10_100)
    t = np.arange(0, 10_101, dtype=float)
    assert_close(r(t), np_warmup_cosine(t, 3e-4, 10_000, 500))


OMEGA_TEXT = """
trainer:
  max_steps: 2000
  steps_per_epoch: 50
optim:
  peak: 3e-4
  schedule:
    type: join
    schedules:
      - type: warmup
        schedule: {type: cosine, start: "${optim.peak}", end: 0, steps: 0.75 * total}
        steps: 0.05 * total
      - type: multistep
        start: 1e-6
        milestones: [10 * epoch, "${trainer.steps_per_epoch}"]
        factor: 0.1
    boundaries: [0.8 * total]
  recipe:
    type: warmup_cosine
    peak: ${..peak}
    steps: total
    warmup_steps: 0.05 * total
"""


def test_omegaconf_config_with_interpolation():
    omegaconf = pytest.importorskip("omegaconf", reason="installed with lrsched[config]")
    cfg = omegaconf.OmegaConf.create(OMEGA_TEXT)
    assert isinstance(cfg.optim.schedule.schedules[1].milestones, omegaconf.ListConfig)
    s = ls.from_dict(cfg.optim.schedule)
    want = ls.join(
        [
            ls.warmup(ls.cosine(3e-4, 0.0, steps=0.75 * T), steps=0.05 * T),
            ls.multistep(1e-6, [10 * E, 50], factor=0.1),
        ],
        boundaries=[0.8 * T],
    )
    assert s == want
    bound = s.bind(total=cfg.trainer.max_steps, epoch=cfg.trainer.steps_per_epoch / 25)
    numbers = ls.join(
        [
            ls.warmup(ls.cosine(3e-4, 0.0, steps=0.75 * 2000), steps=0.05 * 2000),
            ls.multistep(1e-6, [10 * 2.0, 50], factor=0.1),
        ],
        boundaries=[0.8 * 2000],
    )
    assert_same(bound, numbers, 2_100)
    r = ls.from_dict(cfg.optim.recipe)  # ${..peak}: a relative interpolation, resolved by OmegaConf
    assert_same(r.bind(total=cfg.trainer.max_steps), ls.warmup_cosine(3e-4, steps=2000, warmup_steps=100), 2_100)
    wrapped = omegaconf.OmegaConf.create({"lrsched": 1, "schedule": {"type": "constant", "value": "1e-3"}})
    assert ls.from_dict(wrapped) == ls.constant(1e-3)


def test_omegaconf_missing_value_is_a_clean_error():
    omegaconf = pytest.importorskip("omegaconf", reason="installed with lrsched[config]")
    cfg = omegaconf.OmegaConf.create("type: cosine\nstart: ???\nend: 0\nsteps: 10\n")
    with pytest.raises((TypeError, ValueError), match="start"):  # was: omegaconf.errors.MissingMandatoryValue
        ls.from_dict(cfg)
    listed = omegaconf.OmegaConf.create({"type": "multistep", "start": 1, "milestones": [10, "???"], "factor": 0.1})
    with pytest.raises(ValueError, match=r"cannot read the config: MissingMandatoryValue: Missing value at index 1"):
        ls.from_dict(listed)  # an item of a list: was omegaconf.errors.MissingMandatoryValue too


# ---------------------------------------------------------------- shared parts (YAML aliases) and size


def doubling_yaml(levels: int) -> str:
    """A YAML config in which node i adds node i - 1 to itself, through an alias: 2**(levels + 1) - 1 nodes."""
    lines = ["n0: &n0 {type: constant, value: 1}"]
    lines += [f"n{i}: &n{i} {{type: add, left: *n{i - 1}, right: *n{i - 1}}}" for i in range(1, levels + 1)]
    return "\n".join([*lines, f"s: *n{levels}"])


def test_shared_parts_within_the_cap_build_the_schedule_they_describe():
    yaml = pytest.importorskip("yaml", reason="installed with lrsched[config]")
    s = ls.from_dict(yaml.safe_load(doubling_yaml(10))["s"])
    want = ls.constant(1)
    for _ in range(10):
        want = want + want
    assert s == want
    assert s(1) == 2.0**10  # 1 added to itself, doubled ten times


def test_a_config_that_would_build_too_many_nodes_is_refused_before_it_is_built():
    yaml = pytest.importorskip("yaml", reason="installed with lrsched[config]")
    with pytest.raises(ValueError, match=rf"more than {MAX_NODES} nodes \(lrsched.value.MAX_NODES\)"):
        ls.from_dict(yaml.safe_load(doubling_yaml(16))["s"])  # 131071 nodes
    node = {"type": "constant", "value": 1}  # the same sharing written in Python: one dict in two places
    for _ in range(40):
        node = {"type": "add", "left": node, "right": node}
    with pytest.raises(ValueError, match="MAX_NODES"):
        ls.from_dict({"lrsched": 1, "schedule": node})


def test_a_schedule_past_the_cap_is_refused_as_it_is_built():
    s, doublings = ls.constant(1.0), 0
    while 2 ** (doublings + 2) - 1 <= MAX_NODES:  # s + s has 2 ** (doublings + 2) - 1 nodes
        s, doublings = s + s, doublings + 1
    assert s._size == 2 ** (doublings + 1) - 1
    with pytest.raises(
        ValueError, match=rf"add\(\): the schedule would have {2 ** (doublings + 2) - 1} nodes.*MAX_NODES"
    ):
        s + s
    assert s(1) == 2.0**doublings


def test_former_hangs_are_refused_in_bounded_time():
    """Each was exponential or unbounded: a YAML alias bomb, ``s = s + s`` thirty times, an expression doubled
    forty times, and a parsed Python callback shifted by -1e15 (in the library and in the CLI)."""
    pytest.importorskip("yaml", reason="installed with lrsched[config]")
    code = f"""
import yaml, lrsched as ls
from lrsched.cli import main
def refused(fn, words):
    try:
        fn()
    except ValueError as e:
        assert words in str(e), e
        return
    raise AssertionError("not refused")
doc = {doubling_yaml(26)!r}
refused(lambda: ls.from_dict(yaml.safe_load(doc)["s"]), "MAX_NODES")
def doubled():
    s = ls.constant(1)
    for _ in range(30):
        s = s + s
refused(doubled, "MAX_NODES")
def expression():
    e = ls.total
    for _ in range(40):
        e = e + e
refused(expression, "MAX_EXPR_NODES")
text = "torch.multiplicative_lr(1.0, constant(1)).shift(-1e15)"
refused(lambda: ls.parse(text)(1), "lr_lambda")
assert main(["-e", text]) == 2
print("done")
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("done")
    assert "lr_lambda=constant(1) is a schedule where a Python callable goes" in proc.stderr


# ---------------------------------------------------------------- mistakes named, with the closest valid name


def test_a_typo_anywhere_in_a_config_gets_the_closest_name():
    nested = {"type": "warmup", "schedule": {"type": "constant", "valeu": 1}, "steps": 5}
    with pytest.raises(
        ValueError, match=r"schedule\.schedule: unknown field 'valeu' for 'constant'; did you mean 'value'"
    ):
        ls.from_dict(nested)
    listed = {"type": "join", "schedules": [{"type": "constant", "value": 1}, {"typ": "x"}], "boundaries": [5]}
    with pytest.raises(ValueError, match=r"schedule\.schedules\[1\]"):
        ls.from_dict(listed)
    kind = {"type": "warmup", "schedule": {"type": "cosin", "start": 1, "end": 0, "steps": 5}, "steps": 5}
    with pytest.raises(ValueError, match=r"schedule\.schedule: unknown schedule type 'cosin'; did you mean 'cosine'"):
        ls.from_dict(kind)
    with pytest.raises(ValueError, match="unknown top-level key 'schedul' in config; did you mean 'schedule'"):
        ls.from_dict({"lrsched": 1, "schedul": {"type": "constant", "value": 1}})
    with pytest.raises(ValueError, match="unknown field 'zzz' for 'constant'; its fields are value"):
        ls.from_dict({"type": "constant", "value": 1, "zzz": 2})


@pytest.mark.parametrize(
    ("config", "name"),
    [
        ({"type": "constant", "value": "total"}, "value"),
        ({"type": "cosine", "start": "0.001 * total", "end": 0, "steps": "total"}, "start"),
        ({"type": "warmup", "schedule": {"type": "constant", "value": 1}, "steps": 10, "start": "epoch"}, "start"),
        ({"type": "exponential", "start": 1, "factor": "total"}, "factor"),
        ({"type": "interpolate", "points": [[0, 1], [10, "total"]]}, "points"),
        ({"type": "warmup_cosine", "peak": "total", "steps": "total", "warmup_steps": 10}, "peak"),
    ],
    ids=lambda x: x if isinstance(x, str) else x["type"],
)
def test_a_symbol_where_no_duration_goes_is_refused_naming_the_field(config, name):
    with pytest.raises(TypeError, match=rf"{name}=.*: {name}(\[1\]\[1\])? does not take a duration"):
        ls.from_dict(config)


def test_a_symbol_where_a_duration_goes_is_read():
    s = ls.from_dict({"type": "interpolate", "points": [[0, 1], ["total", 0]]})
    assert s.bind(total=10) == ls.interpolate([(0, 1), (10, 0)])
    c = ls.from_dict(
        {"type": "cycle", "schedule": {"type": "linear", "start": 1, "end": 0, "steps": "epoch"}, "period": "epoch"}
    )
    assert c.bind(epoch=4)(6) == 0.5  # t = 6 is t = 2 of the second cycle: 1 - 2/4


def test_nesting_in_a_plain_field_is_refused_without_a_recursion_error():
    deep: list = [1.0]
    for _ in range(10_000):
        deep = [deep]
    with pytest.raises(TypeError, match="boundaries"):
        ls.from_dict({"type": "piecewise", "boundaries": deep, "values": [1, 2]})
    wide = {"type": "constant", "value": 1}
    for _ in range(5_000):
        wide = {"type": "shift", "schedule": wide, "k": 1}
    with pytest.raises(ValueError, match="nest deeper than 64"):
        ls.from_dict(wide)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0x" + "f" * 300, "finite"),  # an int beyond the float range: was OverflowError in arithmetic
        ("0x" + "f" * 300 + " / 1", "finite"),
        ("99999999999999999999 * 99999999999999999999 * 1e300", "finite"),
        ("1 / 0", "divides by zero"),
        ("1+" * 70 + "1", "nests deeper than 64"),
        ("total" + " + total" * 20_000, "longer than 100000"),
    ],
    ids=lambda x: x[:30],
)
def test_numbers_beyond_range_and_deep_text_are_refused_naming_the_field(text, message):
    with pytest.raises(ValueError, match=rf"schedule\.value.*{message}|{message}"):
        ls.from_dict({"type": "constant", "value": text})
