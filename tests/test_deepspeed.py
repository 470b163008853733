"""lrsched.deepspeed against the real DeepSpeed schedulers (``pip install deepspeed``), each driven as DeepSpeed's
engine drives it: built before the first update (which runs at the lr its constructor sets), ``step()`` after
every applied update. Every mirror agrees to the bit over whole runs and a grid of parameters."""

from __future__ import annotations

import itertools
import json
import math
import warnings

import numpy as np
import pytest

import lrsched as ls
import lrsched.deepspeed as ds


@pytest.fixture(scope="module")
def peer():
    pytest.importorskip("torch", reason="installed by the README test command")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deepspeed's import warns about accelerators on a CPU machine
        lr_schedules = pytest.importorskip("deepspeed.runtime.lr_schedules", reason="pip install deepspeed")
    return lr_schedules


def drive(cls, n: int, *args, key: str = "lr", **kwargs) -> np.ndarray:
    """What updates 1 .. n use (the lr, or Adam's beta1) when DeepSpeed's engine steps ``cls(optimizer, *args,
    **kwargs)``."""
    import torch

    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.Adam([p], lr=0.1, betas=(0.9, 0.999))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = cls(opt, *args, **kwargs)
        out = []
        for _ in range(n):
            group = opt.param_groups[0]
            out.append(group["lr"] if key == "lr" else group["betas"][0])
            s.step()
    return np.array(out, dtype=float)


@pytest.mark.parametrize("shape", ["linear", "log"])
def test_warmup_lr_and_warmup_decay_lr_to_the_bit_over_a_grid(peer, shape):
    for w, lo, hi in itertools.product([1, 2, 3, 10, 33], [0.0, 0.01], [0.2, 1.0]):
        n = 2 * w + 6
        want = drive(peer.WarmupLR, n, lo, hi, w, shape)
        np.testing.assert_array_equal(ds.WarmupLR(lo, hi, w, shape).values(n), want, err_msg=f"W={w}")
        for total in {0, 1, w, w + 1, 2 * w, 3 * w + 5}:
            n = max(total, w) + 6
            want = drive(peer.WarmupDecayLR, n, total, lo, hi, w, shape)
            got = ds.WarmupDecayLR(total, lo, hi, w, shape).values(n)
            np.testing.assert_array_equal(got, want, err_msg=f"W={w}, N={total}")
    # the optimizer's lr is the default peak (0.1 in drive)
    np.testing.assert_array_equal(
        ds.WarmupLR(0.0, None, 5, "linear", optimizer_lr=0.1).values(12),
        drive(peer.WarmupLR, 12, 0.0, None, 5, "linear"),
    )


@pytest.mark.parametrize("shape", ["linear", "log"])
def test_warmup_cosine_lr_to_the_bit_over_a_grid(peer, shape):
    for w, total, r_w, r_c in itertools.product([1, 2, 10], [0, 2, 10, 11, 57], [0.0, 0.3], [0.0, 1e-4, 0.5]):
        n = max(total, w) + 6
        want = drive(peer.WarmupCosineLR, n, total, r_w, w, r_c, shape)
        got = ds.WarmupCosineLR(total, r_w, w, r_c, shape, optimizer_lr=0.1).values(n)
        np.testing.assert_array_equal(got, want, err_msg=f"W={w}, N={total}")
    s = ds.WarmupCosineLR(1000, 0.0, 100, 0.0, "linear", optimizer_lr=1.0)
    assert s(1) == 0.0 and s.values(2000).max() < 1.0  # update 1 at 0, and the peak is never used


ONE_CYCLE = [
    {},
    {"cycle_second_step_size": 5},
    {"cycle_second_step_size": 0},
    {"cycle_first_step_size": 1, "cycle_second_step_size": 0},
    {"cycle_first_step_size": 1},
    {"cycle_first_stair_count": 3},
    {"cycle_first_stair_count": 4, "cycle_second_stair_count": 2, "cycle_second_step_size": 7},
    {"cycle_first_stair_count": 0, "cycle_second_stair_count": 3},
    {"cycle_first_stair_count": 25, "cycle_second_step_size": 3},
    {"decay_step_size": 3, "decay_lr_rate": 0.5, "decay_mom_rate": 0.1},
    {"decay_step_size": 4, "decay_lr_rate": 1e-3, "cycle_first_stair_count": 2, "cycle_second_step_size": 6},
    # asymmetric cycles where DeepSpeed's float test puts the peak update bi = S1 on the falling side (review)
    {"cycle_second_step_size": 7},
    {"cycle_first_step_size": 3, "cycle_second_step_size": 200},
    {"cycle_first_step_size": 50, "cycle_second_step_size": 7},
    {"cycle_first_step_size": 1000, "cycle_second_step_size": 200, "decay_step_size": 5, "decay_mom_rate": 0.1},
    {"cycle_first_step_size": 3, "cycle_second_step_size": 7, "cycle_second_stair_count": 3},
    {"cycle_first_step_size": 5, "cycle_second_step_size": 1},  # the peak falls, and it is the falling side's only
]


@pytest.mark.parametrize("kwargs", ONE_CYCLE, ids=str)
def test_one_cycle_lr_and_momentum_to_the_bit(peer, kwargs):
    args = {"cycle_first_step_size": 10, **kwargs}
    n = 3 * (args["cycle_first_step_size"] + args.get("cycle_second_step_size", args["cycle_first_step_size"])) + 8
    lr_args = {k: x for k, x in args.items() if k != "decay_mom_rate"}
    mom_args = {k: x for k, x in args.items() if k != "decay_lr_rate"}
    want = drive(peer.OneCycle, n, 0.01, 0.1, **args)
    np.testing.assert_array_equal(ds.OneCycle(0.01, 0.1, **lr_args).values(n), want)
    want = drive(peer.OneCycle, n, 0.01, 0.1, cycle_min_mom=0.85, cycle_max_mom=0.95, **args, key="beta1")
    got = ds.onecycle_momentum(cycle_min_mom=0.85, cycle_max_mom=0.95, **mom_args).values(n)
    np.testing.assert_array_equal(got, want)


def test_one_cycle_forces_beta2_and_starts_momentum_at_its_minimum(peer):
    import torch

    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.Adam([p], lr=0.1, betas=(0.9, 0.999))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = peer.OneCycle(opt, 0.01, 0.1, cycle_first_step_size=4)
        s.step()
    assert opt.param_groups[0]["betas"][1] == 0.99  # what onecycle_momentum's docstring says to set
    m = ds.onecycle_momentum(4)
    # update 1: the constructor's minimum, where DeepSpeed's formula (and the cycle's end, t = 9) gives the maximum
    assert (m(1), m(2), m(9)) == (0.8, 0.875, 0.9)


@pytest.mark.parametrize(
    ("step", "rate", "staircase"), [(1, 1e-5, True), (1, 1e-5, False), (10, 1e-3, True), (19, 0.01, False)]
)
def test_lr_range_test_to_the_bit(peer, step, rate, staircase):
    n = 4 * step + 10
    want = drive(peer.LRRangeTest, n, 1e-3, step, rate, staircase)
    np.testing.assert_array_equal(ds.LRRangeTest(1e-3, step, rate, staircase).values(n), want)


def test_agrees_with_deepspeeds_own_expectations():
    """DeepSpeed's tests (tests/unit/runtime/test_lr_schedulers.py) read the lr of update t as get_lr() before
    its step, or after the step of update t - 1: the same clock, checked here without deepspeed."""
    s = ds.WarmupLR(0.1, 0.2, 15, "linear")
    assert s(2) == 0.1 and s(15 + 2) == 0.2 and set(s.values(60)[16:]) == {0.2}
    s = ds.WarmupDecayLR(30, 0.1, 0.2, 15, "linear")
    assert s(17) == 0.2 and np.all(np.diff(s.values(32)[16:]) < 0)
    s = ds.OneCycle(1e-5, 1e-2, 1e-3, cycle_first_step_size=10, decay_step_size=10)
    lrs = s.values(60)
    assert lrs[0] == 1e-5 and lrs[10] == 1e-2
    assert np.all(np.diff(lrs[:11]) > 0) and np.all(np.diff(lrs[10:21]) < 0) and np.all(np.diff(lrs[20:]) < 0)
    lrs = ds.LRRangeTest(1e-2, 19, 1e-2, True).values(57)
    assert lrs[0] == 1e-2 and all(len(set(lrs[i : i + 19])) == 1 for i in range(0, 57, 19))


def test_the_log_warmup_is_deepspeeds_default_and_its_formula(peer):
    """The default warmup_type is "log": lo + (hi - lo) ln(e + 1) / ln W at e = t - 2, written with ls.log of the
    clock; the real WarmupLR built with its defaults agrees to the bit."""
    w, lo, hi = 1000, 1e-5, 3e-4
    e = np.maximum(np.arange(1, 1201) - 2, 0)
    formula = np.array([lo + (hi - lo) * (1.0 / math.log(w) * math.log(x + 1)) if x < w else hi for x in e])
    s = ds.WarmupLR(lo, hi)
    np.testing.assert_array_equal(s.values(1200), formula)
    np.testing.assert_array_equal(s.values(1200), drive(peer.WarmupLR, 1200, lo, hi))
    public = ls.join([(1.0 / math.log(w)) * ls.log(ls.t + 1), ls.constant(1.0)], boundaries=[w - 1])
    np.testing.assert_array_equal(((public * (hi - lo)) + lo).shift(2).values(1200), formula)
    for make in (
        lambda **kw: ds.WarmupLR(0.0, 1.0, 10, **kw),
        lambda **kw: ds.WarmupDecayLR(100, 0.0, 1.0, 10, **kw),
        lambda **kw: ds.WarmupCosineLR(100, 0.0, 10, optimizer_lr=1.0, **kw),
    ):
        assert ls.parse(repr(make())) == make()  # an ordinary value: it prints and reads back
        with pytest.raises(ValueError, match="warmup_type must be one of 'log', 'linear'; got 'cos'"):
            make(warmup_type="cos")  # DeepSpeed would fall back to log with a warning


def test_bad_arguments_are_refused_by_name():
    with pytest.raises(ValueError, match="optimizer_lr is needed"):
        ds.WarmupCosineLR(100, warmup_num_steps=10, warmup_type="linear")
    with pytest.raises(ValueError, match="optimizer_lr .*warmup_max_lr is None"):
        ds.WarmupLR(warmup_type="linear")
    with pytest.raises(ValueError, match="warmup_num_steps must be >= 1, got 0"):
        ds.WarmupLR(0.0, 1.0, 0, "linear")
    with pytest.raises(TypeError, match="total_num_steps must be an integer, got 2.5"):
        ds.WarmupDecayLR(2.5, warmup_type="linear")
    with pytest.raises(ValueError, match="cycle_first_step_size must be >= 1, got 0"):
        ds.OneCycle(0.1, 1.0, cycle_first_step_size=0)
    with pytest.raises(ValueError, match="decay_lr_rate must be >= 0, got -1"):
        ds.OneCycle(0.1, 1.0, decay_lr_rate=-1)
    with pytest.raises(ValueError, match="lr_range_test_step_size must be >= 1, got 0"):
        ds.LRRangeTest(lr_range_test_step_size=0)


CONFIG = {
    "train_batch_size": 8,
    "optimizer": {"type": "AdamW", "params": {"lr": "auto"}},
    "scheduler": {
        "type": "WarmupDecayLR",
        "params": {
            "warmup_min_lr": "auto",
            "warmup_max_lr": "auto",
            "warmup_num_steps": "auto",
            "total_num_steps": "auto",
            "warmup_type": "linear",
        },
    },
}


def test_from_config_fills_auto_and_reads_dicts_text_and_files(tmp_path):
    auto = {"warmup_min_lr": 0.0, "warmup_max_lr": 3e-4, "warmup_num_steps": 10, "total_num_steps": 100}
    want = {"lr": ds.WarmupDecayLR(100, 0.0, 3e-4, 10, "linear")}
    assert ds.from_config(CONFIG, **auto) == want
    assert ds.from_config(json.dumps(CONFIG), **auto) == want
    assert ds.from_config(CONFIG["scheduler"], **auto) == want
    path = tmp_path / "ds_config.json"
    path.write_text(json.dumps(CONFIG))
    assert ds.from_config(path, **auto) == ds.from_config(str(path), **auto) == want
    one = {"type": "OneCycle", "params": {"cycle_min_lr": 0.01, "cycle_max_lr": 0.1, "cycle_first_step_size": 5}}
    out = ds.from_config(one)
    assert out == {"lr": ds.OneCycle(0.01, 0.1, cycle_first_step_size=5), "momentum": ds.onecycle_momentum(5)}
    one["params"]["cycle_momentum"] = False
    assert set(ds.from_config(one)) == {"lr"}
    cos = {"type": "WarmupCosineLR", "params": {"total_num_steps": 50, "warmup_num_steps": 5, "warmup_type": "linear"}}
    assert ds.from_config(cos, optimizer_lr=0.1)["lr"] == ds.WarmupCosineLR(
        50, 0.0, 5, warmup_type="linear", optimizer_lr=0.1
    )


def test_from_config_drives_a_torch_optimizer_as_deepspeed_does(peer):
    import torch

    import lrsched.torch

    cfg = {"type": "OneCycle", "params": {"cycle_min_lr": 0.01, "cycle_max_lr": 0.1, "cycle_first_step_size": 4}}
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.Adam([p], lr=0.1, betas=(0.9, 0.99))
    sched = lrsched.torch.scheduler(opt, **ds.from_config(cfg))
    got = []
    for _ in range(12):
        got.append((opt.param_groups[0]["lr"], opt.param_groups[0]["betas"][0]))
        p.grad = torch.ones(1)
        opt.step()
        sched.step()
    sched.close()
    want_lr = drive(peer.OneCycle, 12, **cfg["params"])
    want_mom = drive(peer.OneCycle, 12, **cfg["params"], key="beta1")
    np.testing.assert_array_equal(np.array(got), np.stack([want_lr, want_mom], axis=1))


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"scheduler": {"type": "WarmupCosine", "params": {}}},
            "scheduler.type='WarmupCosine' .*did you mean 'WarmupCosineLR'",
        ),
        (
            {"scheduler": {"type": "WarmupDecayLR", "params": {"warmup_type": "linear"}}},
            "scheduler.params.total_num_steps is missing",
        ),
        (
            {"type": "WarmupLR", "params": {"warmup_steps": 10}},
            "scheduler.params.warmup_steps is not a parameter of WarmupLR; did you mean 'warmup_num_steps'",
        ),
        (
            {"type": "WarmupLR", "params": {"warmup_num_steps": "auto", "warmup_type": "linear"}},
            "scheduler.params.warmup_num_steps is 'auto'",
        ),
        (
            {"type": "WarmupLR", "params": {"warmup_num_steps": "10", "warmup_type": "linear"}},
            "scheduler.params of WarmupLR: warmup_num_steps must be an integer, got '10'",
        ),
        ({"type": "OneCycle", "params": {"cycle_min_lr": 0.1}}, "scheduler.params.cycle_max_lr is missing"),
        (
            {"type": "OneCycle", "params": {"cycle_min_lr": 0.1, "cycle_max_lr": 1, "cycle_momentum": 1}},
            "cycle_momentum must be True or False",
        ),
        ({"type": "WarmupLR", "params": {}, "extra": 1}, "scheduler.extra is not a key"),
        ({"optimizer": {}}, "no 'scheduler' block"),
        ("{not json", "not valid JSON"),
        ("/no/such/file.json", "neither JSON text nor the path"),
    ],
)
def test_from_config_refuses_by_key(config, message):
    with pytest.raises((ValueError, TypeError), match=message):
        ds.from_config(config)


def _deep() -> list:
    """A list nested 5000 deep: its repr raises RecursionError."""
    deep: list = []
    for _ in range(5000):
        deep = [deep]
    return deep


#: hostile configs, each refused by name: (config, error, message)
HOSTILE = {
    "list-type": ({"type": ["WarmupLR"]}, TypeError, r"^scheduler.type must be the name of a DeepSpeed scheduler \("),
    "dict-type": ({"type": {"a": 1}}, TypeError, r"^scheduler.type must be the name .*, got \{'a': 1\}$"),
    "array-type": (
        {"type": np.array([1, 2])},
        TypeError,
        r"^scheduler.type must be the name .*, got array\(\[1, 2\]\)$",
    ),
    "deep-type": ({"type": _deep()}, TypeError, "^scheduler.type must be the name .*, got <a list nested too deeply"),
    "no-type": ({"scheduler": {"params": {}}}, ValueError, r"^scheduler.type is missing \(the types are WarmupLR, "),
    "int-key": (
        {"type": "WarmupLR", "params": {1: 2}},
        TypeError,
        "^scheduler.params has a key that is not a string: 1$",
    ),
    "huge-int-key": (
        {10**5000: 1},
        TypeError,
        "^config has a key that is not a string: <an int of 16610 bits, about 10",
    ),
    "array-param": (
        {"type": "WarmupLR", "params": {"warmup_num_steps": np.array([1, 2])}},
        TypeError,
        r"^scheduler.params of WarmupLR: warmup_num_steps must be an integer, got array\(\[1, 2\]\)$",
    ),
    "array-last-batch-iteration": (
        {"type": "WarmupLR", "params": {"last_batch_iteration": np.array([1, 2])}},
        TypeError,
        r"^scheduler.params.last_batch_iteration must be a real number, got array\(\[1, 2\]\)$",
    ),
    "last-batch-iteration-0": (
        {"type": "WarmupLR", "params": {"last_batch_iteration": 0}},
        ValueError,
        r"^scheduler.params.last_batch_iteration=0: only -1 \(a fresh start\) is mirrored$",
    ),
    "not-utf-8": (
        b'{"type": "\xff"}',
        ValueError,
        r"^config is not JSON: bytes that are not utf-8 \(invalid start byte at",
    ),
    "deep-json": (
        '{"type": ' + "[" * 50_000 + "]" * 50_000 + "}",
        ValueError,
        "^config nests too deeply to be a DeepSpeed",
    ),
    "long-int-json": (
        '{"type": "WarmupLR", "params": {"warmup_num_steps": ' + "1" * 5000 + "}}",
        ValueError,
        r"^config holds an integer of more digits than Python reads \(sys.set_int_max_str_digits\)$",
    ),
    "long-path": (
        "x" * 5000,
        ValueError,
        r"^config='xxx.*\.\.\. is not a path that can be read \(File name too long\)$",
    ),
}


@pytest.mark.parametrize("case", HOSTILE)
def test_from_config_refuses_hostile_input_by_name(case):
    config, error, message = HOSTILE[case]
    with pytest.raises(error, match=message):
        ds.from_config(config)


def test_from_config_reads_a_file_as_json_does_and_names_it(tmp_path):
    path = tmp_path / "ds_config.json"
    path.write_bytes(b'{"type": "\xff"}')
    with pytest.raises(ValueError, match=r"^config file '.*ds_config.json' is not JSON: bytes that are not utf-8 "):
        ds.from_config(path)
    path.write_text('{"type": ' + "[" * 50_000 + "]" * 50_000 + "}")
    with pytest.raises(ValueError, match=r"^config file '.*ds_config.json' nests too deeply to be a DeepSpeed"):
        ds.from_config(str(path))
    # json reads UTF-16 (and -32) from the bytes, whatever the locale's encoding
    path.write_bytes(json.dumps(CONFIG).encode("utf-16"))
    auto = {"warmup_min_lr": 0.0, "warmup_max_lr": 3e-4, "warmup_num_steps": 10, "total_num_steps": 100}
    assert ds.from_config(path, **auto) == {"lr": ds.WarmupDecayLR(100, 0.0, 3e-4, 10, "linear")}
    # a whole -1 is DeepSpeed's fresh start, as an int or a float
    one = {"type": "LRRangeTest", "params": {"last_batch_iteration": -1.0}}
    assert ds.from_config(one) == {"lr": ds.LRRangeTest()}
