"""lrsched.iterate and lrsched.set_lr: a hand-written loop's (t, lr) pairs, and the lr written into an optimizer.

Expected values are the schedule written out in numpy; set_lr is checked on real torch optimizers (the lr each
update used, read by a step pre-hook, and the parameters against a numpy replay of SGD) and on MXNet-like and
Keras-like stand-ins.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import lrsched as ls

PEAK, WARM, DECAY = 0.1, 10, 90
S = ls.warmup(ls.cosine(PEAK, 0.0, steps=DECAY), steps=WARM)


def expected(t):
    """s(t) written out: 0.1 t / 10 up to t = 10, then 0.05 (1 + cos(pi min(t - 10, 90) / 90))."""
    t = np.asarray(t, dtype=np.float64)
    return np.where(t <= WARM, PEAK * t / WARM, 0.5 * PEAK * (1 + np.cos(np.pi * np.minimum(t - WARM, DECAY) / DECAY)))


def test_iterate_yields_t_from_1_and_the_schedules_value():
    pairs = list(ls.iterate(S, 100))
    assert [t for t, _ in pairs] == list(range(1, 101))
    np.testing.assert_allclose([lr for _, lr in pairs], expected(np.arange(1, 101)), rtol=1e-12, atol=1e-15)
    assert all(type(t) is int and type(lr) is float for t, lr in pairs)


def test_iterate_across_its_chunks_and_for_ever():
    """Values are computed 4096 at a time: the pairs run on across the chunk boundaries, and n=None never ends."""
    s = ls.linear(1.0, 0.0, 10_000)
    pairs = list(ls.iterate(s, 9000, start=10))
    assert [t for t, _ in pairs] == list(range(10, 9010))
    np.testing.assert_allclose([lr for _, lr in pairs], 1.0 - np.arange(10, 9010) / 10_000, rtol=1e-12, atol=1e-15)
    endless = list(itertools.islice(ls.iterate(s), 8200))
    assert endless[-1][0] == 8200 and endless[4095:4097] == [(4096, s(4096)), (4097, s(4097))]


def test_a_resumed_loop_continues_the_uninterrupted_one():
    whole = list(ls.iterate(S, 100))
    k = 37
    assert list(ls.iterate(S, k)) + list(ls.iterate(S, 100 - k, start=k + 1)) == whole
    assert list(ls.iterate(S, 0)) == []


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"start": 0}, ValueError, r"start must be >= 1, got 0: t is 1-indexed .*start=k \+ 1"),
        ({"start": -3}, ValueError, "start must be >= 1, got -3"),
        ({"start": np.int64(0)}, ValueError, "start must be >= 1, got 0: t is 1-indexed"),
        ({"start": True}, TypeError, "start must be"),
        ({"start": 1.5}, ValueError, "start must be a whole number, got 1.5"),
        ({"n": -1}, ValueError, "n must be >= 0, got -1"),
        ({"n": "10"}, TypeError, "n must be"),
    ],
)
def test_iterate_refuses_bad_arguments_by_name(kwargs, error, message):
    with pytest.raises(error, match=message):
        ls.iterate(S, **kwargs)


def test_iterate_needs_a_schedule():
    with pytest.raises(TypeError, match="schedule must be an lrsched schedule, got <function"):
        ls.iterate(lambda t: 0.1, 10)


# ---------------------------------------------------------------- set_lr on real torch optimizers


def test_set_lr_drives_a_real_torch_sgd_loop():
    """The README loop: ``set_lr(opt, lr)`` before each update; every param group's update t uses s(t), and the
    parameters end where a numpy replay of SGD with s(t) puts them."""
    torch = pytest.importorskip("torch", reason="installed by the README test command")
    a = torch.nn.Parameter(torch.tensor([1.0, -2.0], dtype=torch.float64))
    b = torch.nn.Parameter(torch.tensor([0.5], dtype=torch.float64))
    opt = torch.optim.SGD([{"params": [a]}, {"params": [b], "lr": 7.0}], lr=123.0)
    seen = []
    opt.register_step_pre_hook(lambda o, args, kw: seen.append([g["lr"] for g in o.param_groups]))
    n = 30
    for _, lr in ls.iterate(S, n):
        ls.set_lr(opt, lr)
        (3.0 * a.sum() - b.sum()).backward()  # gradients 3 and -1, exactly
        opt.step()
        opt.zero_grad()
    lrs = expected(np.arange(1, n + 1))
    np.testing.assert_allclose(np.array(seen), np.stack([lrs, lrs], axis=1), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(a.detach().numpy(), np.array([1.0, -2.0]) - 3.0 * lrs.sum(), rtol=1e-12)
    np.testing.assert_allclose(b.detach().numpy(), np.array([0.5]) + lrs.sum(), rtol=1e-12)


def test_set_lr_keeps_a_tensor_lr_the_same_tensor():
    """An optimizer built with a tensor lr (captured by compiled or capturable steps) keeps that tensor: it is
    filled, not replaced, and the update uses the new value."""
    torch = pytest.importorskip("torch", reason="installed by the README test command")
    p = torch.nn.Parameter(torch.ones(2, dtype=torch.float64))
    opt = torch.optim.Adam([p], lr=torch.tensor(0.01, dtype=torch.float64), foreach=False)
    held = opt.param_groups[0]["lr"]
    ls.set_lr(opt, 0.5)
    assert opt.param_groups[0]["lr"] is held and float(held) == 0.5
    p.sum().backward()
    opt.step()  # Adam's first step moves each coordinate by lr (m / sqrt(v) = 1)
    np.testing.assert_allclose(p.detach().numpy(), [0.5, 0.5], rtol=1e-7)


class MXNetLike:
    def __init__(self):
        self.learning_rate = 1.0

    def set_learning_rate(self, lr):
        self.learning_rate = lr


class KerasLike:
    learning_rate = 1.0


class HasLr:
    lr = 1.0


@pytest.mark.parametrize(("make", "read"), [(MXNetLike, "learning_rate"), (KerasLike, "learning_rate"), (HasLr, "lr")])
def test_set_lr_on_other_optimizers(make, read):
    opt = make()
    ls.set_lr(opt, 0.25)
    assert getattr(opt, read) == 0.25


@pytest.mark.parametrize(
    ("lr", "error", "message"),
    [
        (math.nan, ValueError, "lr must be finite, got nan"),
        (math.inf, ValueError, "lr must be finite"),
        (-0.1, ValueError, r"lr must be >= 0, got -0\.1"),
        ("0.1", TypeError, "lr must be a real number, got '0.1'"),
        (None, TypeError, "lr must be a real number, got None"),
    ],
)
def test_set_lr_refuses_an_lr_torch_would_refuse(lr, error, message):
    """torch's optimizers refuse a negative or non-finite lr at construction; set_lr refuses it too, before
    writing anything."""
    opt = HasLr()
    with pytest.raises(error, match=message):
        ls.set_lr(opt, lr)
    assert opt.lr == 1.0


def test_set_lr_names_an_object_it_cannot_set():
    with pytest.raises(TypeError, match="cannot set the learning rate of object: it has no param_groups"):
        ls.set_lr(object(), 0.1)


class NoGroups:
    param_groups = ()


class TextGroups:
    param_groups = "ab"


class NumberGroups:
    param_groups = (1, 2)


class ReadOnlyLr:
    lr = property(lambda self: 1.0)


def _sgd_without_groups():
    torch = pytest.importorskip("torch", reason="installed by the README test command")
    opt = torch.optim.SGD(torch.nn.Linear(2, 1).parameters(), lr=0.1)
    opt.param_groups.clear()
    return opt


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (NoGroups, ValueError, "optimizer: NoGroups.param_groups is empty: there is no param group"),
        (_sgd_without_groups, ValueError, "optimizer: SGD.param_groups is empty"),
        (TextGroups, TypeError, "optimizer: TextGroups.param_groups must be a list of dicts .*, got 'ab'"),
        (NumberGroups, TypeError, r"optimizer: NumberGroups.param_groups must be a list of dicts .*, got \(1, 2\)"),
        (ReadOnlyLr, TypeError, "cannot set the learning rate of ReadOnlyLr: its lr cannot be set"),
    ],
)
def test_set_lr_refuses_an_optimizer_with_nothing_it_can_set(make, error, message):
    """Nothing would follow the schedule: refused by name, never a silent no-op or an AttributeError."""
    with pytest.raises(error, match=message):
        ls.set_lr(make(), 0.1)


def test_iterate_shows_a_deeply_nested_list_without_its_repr():
    deep = []
    for _ in range(5000):
        deep = [deep]
    with pytest.raises(TypeError, match="schedule must be an lrsched schedule, got <a list nested too deeply to show>"):
        ls.iterate(deep, 3)
