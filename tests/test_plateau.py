"""Reduce-on-plateau: torch's decisions report for report, pure state, replay, resume."""

from __future__ import annotations

import functools
import itertools
import json
import math
import pickle

import numpy as np
import pytest

import lrsched as ls

torch = pytest.importorskip("torch", reason="installed by the README test command")
import lrsched.torch as lt  # noqa: E402


def torch_plateau_lrs(metrics, base_lr=1.0, **kw):
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=base_lr)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **kw)
    out = []
    for m in metrics:
        opt.step()
        sched.step(m)
        out.append(opt.param_groups[0]["lr"])
    return np.array(out)


def _sequences():
    rng = np.random.default_rng(42)
    yield "random walk", np.cumsum(rng.normal(0, 1, 300)) + 100
    yield "noisy decay", np.exp(-np.arange(300) / 80) + rng.normal(0, 0.01, 300)
    yield "constant", np.full(100, 3.0)
    yield "increasing", np.arange(100.0)
    yield "decreasing", -np.arange(100.0)
    # exactly on the relative threshold: best * (1 - 1e-4) is not an improvement
    yield "on the threshold", np.array([1.0, 1.0 * (1 - 1e-4), 0.99989999, 0.5, 0.5 * (1 - 1e-4)] * 20)
    yield "nan and inf", np.array([1.0, math.nan, 0.5, math.inf, math.nan, -math.inf, 0.2, math.nan] * 12)
    yield "zeros and negatives", np.array([0.0, -0.0, -1.0, -1.0, 0.0, -2.0, -2.0001, -2.0] * 15)
    yield "ties", np.repeat(rng.integers(0, 5, 60).astype(float), 3)


SEQUENCES = list(_sequences())
SETTINGS = [
    dict(mode=mode, threshold_mode=tm, patience=p, cooldown=c, factor=f, threshold=th)
    for mode, tm, p, c, f, th in itertools.product(["min", "max"], ["rel", "abs"], [0, 3], [0, 2], [0.5], [1e-4, 0.0])
]


@pytest.mark.slow  # 8.4 s: torch's ReduceLROnPlateau over every sequence (the quick loop leaves it out)
@pytest.mark.parametrize(("label", "metrics"), SEQUENCES, ids=[s[0] for s in SEQUENCES])
def test_decisions_match_torch(label, metrics):
    for kw in SETTINGS:
        for min_lr, eps in [(0.0, 1e-8), (0.05, 1e-8), (0.0, 0.2)]:
            want = torch_plateau_lrs(metrics, 1.0, min_lr=min_lr, eps=eps, **kw)
            rule = ls.plateau(min_scale=min_lr, eps=eps, torch_threshold=True, **kw)
            state, got = rule.init(), []
            for m in metrics:
                state = rule.update(state, m)
                got.append(state.scale)
            # with base lr 1 the scale is torch's lr, computed the same way: to the bit
            np.testing.assert_array_equal(got, want, err_msg=f"{label} {kw} min_lr={min_lr} eps={eps}")
            np.testing.assert_array_equal(rule.scales(metrics)[1:], want)


@pytest.mark.parametrize(("label", "metrics"), SEQUENCES, ids=[s[0] for s in SEQUENCES])
def test_the_sign_correct_rule_is_torchs_wherever_best_stays_positive(label, metrics):
    for kw in SETTINGS:
        want = torch_plateau_lrs(metrics, 1.0, **kw)
        got = ls.plateau(**kw).scales(metrics)[1:]
        rel = kw["threshold_mode"] == "rel" and kw["threshold"] > 0
        best = np.minimum.accumulate(metrics) if kw["mode"] == "min" else np.maximum.accumulate(metrics)
        if rel and (np.nan_to_num(best, nan=1.0) < 0).any():
            continue  # torch's relative test flips with the sign of best: there the two rules part
        np.testing.assert_array_equal(got, want, err_msg=f"{label} {kw}")


def test_the_sign_correct_rule_is_torchs_to_the_bit_at_the_threshold_while_best_is_positive():
    rng = np.random.default_rng(3)
    for _ in range(2000):
        best, t = rng.uniform(0.01, 10), rng.choice([1e-4, 0.01, 0.3])
        at = best * (1 - t)  # metrics right at torch's threshold and one ulp either side
        for m in (np.nextafter(at, -np.inf), at, np.nextafter(at, np.inf)):
            metrics = [best, m]
            want = torch_plateau_lrs(metrics, 1.0, patience=0, threshold=t)
            assert ls.plateau(patience=0, threshold=t).scales(metrics)[1:].tolist() == want.tolist()


def test_a_worse_negative_metric_is_never_an_improvement():
    metrics = [-10.0, -9.9995, -9.9995, -9.9995]  # a log-likelihood that got slightly worse and stays there
    # by hand: -9.9995 is worse than -10 in mode min, so reports 2 and 3 are bad epochs; patience 1 reduces at 3
    assert ls.plateau(patience=1).scales(metrics).tolist() == [1.0, 1.0, 1.0, 0.1, 0.1]
    # torch's own rule, best * (1 - threshold) = -9.999, takes -9.9995 for an improvement: it never reduces
    assert torch_plateau_lrs(metrics, 1.0, patience=1).tolist() == [1.0, 1.0, 1.0, 1.0]
    rule = lt.reduce_lr_on_plateau(1.0, patience=1)  # the mirror keeps torch's rule
    assert rule.torch_threshold and rule.scales(metrics)[1:].tolist() == [1.0, 1.0, 1.0, 1.0]
    # the same in mode max, on a reward: -5.0002 is worse than -5 and must not count as progress
    rewards = [-5.0, -5.0002, -5.0002, -5.0002]
    assert ls.plateau(mode="max", patience=1).scales(rewards).tolist() == [1.0, 1.0, 1.0, 0.1, 0.1]


@pytest.mark.parametrize("base_lr", [0.1, 3.0])
def test_torch_parameters_translate_for_any_base_lr(base_lr):
    metrics = SEQUENCES[0][1]
    kw = dict(mode="min", patience=2, cooldown=1, factor=0.3)
    want = torch_plateau_lrs(metrics, base_lr, min_lr=1e-3, eps=1e-6, **kw)
    rule = lt.reduce_lr_on_plateau(base_lr, min_lr=1e-3, eps=1e-6, **kw)
    got = base_lr * rule.scales(metrics)[1:]
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=0)
    # the same epochs see a reduction
    np.testing.assert_array_equal(np.diff(got) < 0, np.diff(want) < 0)


def test_torch_counts_nan_as_a_bad_epoch_and_so_do_we():
    rule = ls.plateau(patience=1, factor=0.5)
    state = rule.init()
    for m in [1.0, math.nan, math.nan]:
        state = rule.update(state, m)
    assert state.scale == 0.5
    assert state.best == 1.0
    assert torch_plateau_lrs([1.0, math.nan, math.nan], 1.0, patience=1, factor=0.5)[-1] == 0.5


def test_state_is_plain_immutable_data():
    rule = ls.plateau(mode="max", patience=1)
    state = rule.update(rule.init(), 2.0)
    assert state == ls.PlateauState(best=2.0, bad_epochs=0, cooldown_left=0, scale=1.0, reports=1)
    assert hash(state) == hash(ls.PlateauState(2.0, 0, 0, 1.0, 1))
    with pytest.raises(AttributeError):
        state.scale = 0.5
    assert pickle.loads(pickle.dumps(state)) == state
    for s in (rule.init(), state, ls.plateau().init()):  # +-inf best before the first report
        text = json.dumps(s.to_dict(), allow_nan=False)
        assert ls.PlateauState.from_dict(json.loads(text)) == s
    assert ls.Plateau.from_dict(json.loads(json.dumps(rule.to_dict()))) == rule
    assert pickle.loads(pickle.dumps(rule)) == rule
    assert rule.update(state, 1.0) != state  # update returns a new state
    assert state.reports == 1


def test_composes_with_any_schedule_and_replays_in_one_call():
    s = ls.warmup(ls.cosine(0.1, 1e-4, steps=900), steps=100)
    rule = ls.plateau(factor=0.5, patience=1)
    metrics = [1.0, 0.8, 0.9, 0.95, 0.7, 0.75, 0.8, 0.85, 0.9, 0.9]
    spe = 100
    lrs = rule.replay(s, metrics, steps_per_epoch=spe)
    assert lrs.shape == (1000,)
    state = rule.init()
    want = np.empty(1000)
    for k, m in enumerate(metrics):  # the loop a user writes, update by update
        for t in range(k * spe + 1, (k + 1) * spe + 1):
            want[t - 1] = state.lr(s, t)
        state = rule.update(state, m)
    np.testing.assert_array_equal(lrs, want)
    longer = rule.replay(s, metrics, steps_per_epoch=spe, n=1200)
    np.testing.assert_array_equal(longer[1000:], s(np.arange(1001, 1201)) * state.scale)


def test_tracker_for_raw_loops():
    tracker = ls.plateau_tracker(ls.constant(0.1), ls.plateau(factor=0.1, patience=0))
    tracker.report(1.0)
    tracker.report(1.0)
    assert tracker.lr(5) == pytest.approx(0.01)
    saved = json.loads(json.dumps(tracker.state_dict()))
    other = ls.plateau_tracker(ls.constant(0.1), ls.plateau(factor=0.1, patience=0))
    other.load_state_dict(saved)
    assert other.state == tracker.state


DEEP = functools.reduce(lambda inner, _: [inner], range(5000), [])  # a list nested 5000 deep: its repr recurses

BAD = [
    (lambda: ls.plateau(mode="avg"), ValueError, "mode must be one of 'min', 'max'; got 'avg'"),
    (lambda: ls.plateau(factor=1.0), ValueError, r"factor must be in \(0, 1\), got 1.0"),
    (lambda: ls.plateau(factor=0), ValueError, r"factor must be in \(0, 1\), got 0"),
    (lambda: ls.plateau(patience=-1), ValueError, "patience must be >= 0, got -1"),
    (lambda: ls.plateau(patience=2.5), ValueError, "patience must be a whole number, got 2.5"),
    (lambda: ls.plateau(threshold_mode="pct"), ValueError, "threshold_mode must be one of"),
    (lambda: ls.plateau(cooldown=-2), ValueError, "cooldown must be >= 0, got -2"),
    (lambda: ls.plateau(eps=math.nan), ValueError, "eps must be finite"),
    (lambda: ls.plateau().update(ls.plateau().init(), "0.5"), TypeError, "metric must be a number, got '0.5'"),
    (lambda: ls.plateau().update(ls.plateau().init(), None), TypeError, "metric must be a number, got None"),
    (lambda: ls.plateau().update(ls.plateau().init(), True), TypeError, "metric must be a number, got True"),
    (lambda: ls.plateau().update("state", 1.0), TypeError, "state must be a PlateauState"),
    (lambda: ls.plateau().scales(["a", "b"]), TypeError, "metrics must be a 1-d list of numbers"),
    (lambda: ls.plateau().replay(ls.constant(1), [1.0], steps_per_epoch=0), ValueError, "steps_per_epoch must be >= 1"),
    (lambda: ls.PlateauState.from_dict({"best": "x"}), TypeError, "best must be a real number"),
    (lambda: ls.PlateauState.from_dict({"best": 1.0, "mood": 2}), ValueError, "unknown plateau state field 'mood'"),
    (lambda: ls.PlateauState(best=math.nan), ValueError, "best must be a number or"),
    (lambda: ls.plateau_tracker(ls.constant(1), ls.plateau(), sync_timeout=0), ValueError, "sync_timeout must be > 0"),
    (lambda: ls.plateau_tracker(ls.constant(1), ls.plateau(), sync_timeout=math.nan), ValueError, "sync_timeout must"),
    (lambda: ls.plateau_tracker(ls.constant(1), ls.plateau(), sync_timeout="5"), TypeError, "sync_timeout must"),
    (lambda: _plateau_lr(sync_timeout=-1.0), ValueError, r"sync_timeout must be > 0, got -1\.0"),
    (lambda: _plateau_lr(sync=False).report(10**400), ValueError, "metric must be within the float range, got <an int"),
    (lambda: _plateau_lr(sync=False).report(torch.tensor(True)), TypeError, r"metric must be a number, got tensor\("),
    (lambda: _plateau_lr(sync=False).report(np.array(True)), TypeError, "metric must be a number, got True"),
    (lambda: ls.plateau().update(ls.plateau().init(), 10**400), ValueError, "metric must be within the float range"),
    (lambda: ls.plateau().update(DEEP, 1.0), TypeError, "state must be a PlateauState, got <a list nested too deeply"),
    (lambda: ls.plateau().replay(DEEP, [1.0], 2), TypeError, "schedule must be an lrsched schedule, got <a list"),
    (lambda: ls.Plateau.from_dict(DEEP), ValueError, "not a plateau rule config: <a list nested too deeply to show>"),
    (lambda: ls.Plateau.from_dict({"type": "plateau", 1: 2, "a": 3}), ValueError, "unknown plateau rule field 'a'"),
    (lambda: ls.PlateauState.from_dict({"best": np.array([1.0, 2.0])}), TypeError, "best must be a real number, got"),
]


def _plateau_lr(**kwargs):
    return lt.plateau_lr(
        torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0), ls.constant(1), ls.plateau(), **kwargs
    )


@pytest.mark.parametrize(("build", "error", "message"), BAD, ids=[m for _, _, m in BAD])
def test_bad_input(build, error, message):
    with pytest.raises(error, match=message):
        build()


def test_a_synced_report_outside_a_process_group_is_the_rank_s_own_metric():
    """sync=True (the default) with torch.distributed not initialized: no collective, the metric itself; the
    wait can be unbounded (sync_timeout=None)."""
    assert not torch.distributed.is_initialized()
    from lrsched.plateau import ranks_mean

    assert ranks_mean(0.25, index=7, timeout=None) == 0.25
    tracker = ls.plateau_tracker(ls.constant(1.0), ls.plateau(factor=0.5, patience=0), sync_timeout=None)
    tracker.report(1.0)
    tracker.report(2.0)
    assert tracker.state.scale == 0.5 and tracker.sync_timeout is None


def test_metric_accepts_numpy_and_torch_scalars():
    rule = ls.plateau()
    state = rule.update(rule.init(), np.float32(0.5))
    state = rule.update(state, torch.tensor(0.25))
    assert state.best == 0.25


def test_absolute_rule_matches_torch_plateau_stacked_on_exponential_lr():
    """torch: ExponentialLR then ReduceLROnPlateau each epoch, min_lr and eps on the current (decayed) lr."""
    torch = pytest.importorskip("torch", reason="installed by the README test command")
    spe, epochs = 4, 40
    metrics = [1.0] + [1.0 + 0.01 * k for k in range(1, epochs)]  # no improvement after the first epoch
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=0.1)
    exp = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.8)
    plat = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1, min_lr=1e-4, eps=1e-6)
    want = []
    for m in metrics:
        for _ in range(spe):
            want.append(opt.param_groups[0]["lr"])
            opt.step()
        exp.step()
        plat.step(m)
    s = ls.exponential(0.1, 0.8, every=spe, staircase=True)
    rule = ls.plateau(factor=0.5, patience=1, min_scale=1e-4, eps=1e-6, absolute=True)
    got = rule.replay(s, metrics, steps_per_epoch=spe)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    import lrsched.torch

    opt2 = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    adapter = lrsched.torch.plateau_lr(opt2, s, rule)  # the torch adapter decides the same way
    seen = []
    for m in metrics:
        for _ in range(spe):
            seen.append(opt2.param_groups[0]["lr"])
            opt2.step()
            adapter.step()
        adapter.report(m)
    np.testing.assert_allclose(seen, want, rtol=1e-12)
    relative = ls.plateau(factor=0.5, patience=1, min_scale=1e-4, eps=1e-6).replay(s, metrics, steps_per_epoch=spe)
    assert not np.allclose(relative, want, rtol=1e-3)  # the relative rule keeps reducing: the documented difference


def test_absolute_rule_needs_the_schedule_value():
    rule = ls.plateau(absolute=True)
    with pytest.raises(ValueError, match="decides on the current lr"):
        rule.update(rule.init(), 1.0)
    tracker = ls.plateau_tracker(ls.constant(0.1), rule)
    with pytest.raises(ValueError, match="give report"):
        tracker.report(1.0)
    tracker.report(1.0, t=5)
    assert type(rule).from_dict(rule.to_dict()) == rule


def test_a_plateau_state_holds_plain_numbers_and_round_trips():
    state = ls.PlateauState(best=10**30, bad_epochs=np.array(2.0), cooldown_left=np.int64(1), scale=np.float32(0.5))
    assert json.loads(json.dumps(state.to_dict())) == state.to_dict()
    assert ls.PlateauState.from_dict(state.to_dict()) == state
    assert type(state.bad_epochs) is int and type(state.best) is float
