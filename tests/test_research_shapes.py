"""Issue 25's shapes, each written with public lrsched functions only (no ``function``, no number computed
outside lrsched) and checked against its peer's code or its paper's formula, transcribed here as NumPy/Python.

The clock t, ``**``, exp/log/sqrt and the rounding functions are kinds of their own: these expressions are
ordinary values (they print, parse back, serialize and evaluate in both tiers)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import lrsched as ls

T = np.arange(1, 3001, dtype=float)


def same_everywhere(s, want, ts=T):
    """s gives ``want`` at ``ts`` to the bit, from arrays, ranges and scalars, and so does its round trip."""
    np.testing.assert_array_equal(s(ts), want)
    assert [s(float(x)) for x in ts[:50]] == list(want[:50])
    for again in (ls.parse(repr(s)), ls.from_json(s.to_json())):
        assert again == s
        np.testing.assert_array_equal(again(ts), want)


def test_the_power_scheduler_of_shen_et_al_2024():
    """lr(n) = min(lr_max, B a n^c) at n tokens seen (Shen et al. 2024, "Power Scheduler", eq. 3: a = 4.6,
    c = -0.51), with n = t B L after update t."""
    lr_max, a, c, batch, seq = 0.02, 4.6, -0.51, 1, 2048
    s = ls.minimum(lr_max, batch * a * (ls.t * (batch * seq)) ** c)
    want = np.array([min(lr_max, batch * a * (t * (batch * seq)) ** c) for t in T])
    same_everywhere(s, want)
    assert s(1) == lr_max and s(3000) < lr_max  # capped early, a power law later


def test_timms_model_ema_v3_warmup_of_the_ema_decay():
    """timm's ModelEmaV3.get_decay(step) with use_warmup, as train.py calls it after update t (step = t):
    0 at the first update, then 1 - (1 + (t - 1) / gamma) ** -power clamped to [min_decay, decay]."""
    gamma, power, decay, min_decay = 1.0, 3 / 4, 0.9998, 0.0

    def get_decay(step):  # timm/utils/model_ema.py, ModelEmaV3.get_decay, update_after_step = 0
        step = max(0, step - 0 - 1)
        if step <= 0:
            return 0.0
        d = 1 - (1 + step / gamma) ** -power
        return max(min(d, decay), min_decay)

    s = ls.join([ls.constant(0.0), (1 - (1 + ls.t / gamma) ** -power).clip(min_decay, decay)], boundaries=[1])
    same_everywhere(s, np.array([get_decay(int(t)) for t in T]))
    t_max = 1 + math.ceil((1 - decay) ** (-1 / power) - 1)  # from then on at decay
    assert s(t_max + 1) == decay and "increasing t = 1 .. 5000" in s.describe(5000)


def test_ademamix_beta3_warms_up_linearly_in_half_life():
    """AdEMAMix's beta3 (Pagliardini et al. 2024, linear_hl_warmup_scheduler): the half-life f(beta) =
    ln 0.5 / ln(beta + 1e-8) - 1 moves linearly from f(beta_start) to f(beta_end) over T steps, and beta =
    0.5 ** (1 / (f + 1)); step = t (the optimizer counts from 1)."""
    beta_start, beta_end, warm = 0.9, 0.9999, 2000

    def f(beta, eps=1e-8):
        return math.log(0.5) / math.log(beta + eps) - 1

    def reference(step):
        if step < warm:
            a = step / float(warm)
            return math.pow(0.5, 1 / ((1.0 - a) * f(beta_start) + a * f(beta_end) + 1))
        return beta_end

    a = ls.t / float(warm)
    half_life = (1.0 - a) * f(beta_start) + a * f(beta_end)
    s = ls.join([0.5 ** (1 / (half_life + 1)), ls.constant(beta_end)], boundaries=[warm - 1])
    same_everywhere(s, np.array([reference(int(t)) for t in T]))


def test_square_root_batch_size_scaling_of_a_quantized_batch_ramp():
    """lr * sqrt(B(t) / B0) with B(t) a ramp in multiples of 256 (s.quantize(256): floor(x / 256) * 256)."""
    lr, b0 = 3e-4, 256
    batch = ls.linear(256, 4096, steps=1000).quantize(256)
    s = lr * ls.sqrt(batch / b0)
    x = np.minimum(T, 1000)
    ramp = np.where(T >= 1000, 4096.0, 256 + (4096 - 256) * x / 1000)
    b = np.floor(ramp / 256) * 256
    assert set(batch(T)) == set(b) and len(set(b)) == 16
    same_everywhere(s, lr * np.sqrt(b / b0))


def test_half_life_and_exponential_forms():
    """0.5 ** (t / h) halves every h updates; exp(-t / tau) and log warmups are plain values."""
    s = 0.1 * 0.5 ** (ls.t / 100)
    same_everywhere(s, np.array([0.1 * math.pow(0.5, t / 100) for t in T]))
    assert s(100) == 0.05 and s(300) == 0.1 / 8
    e = ls.exp(-ls.t / 500)
    same_everywhere(e, np.array([math.exp(-t / 500) for t in T]))
    lg = ls.log(ls.t + 1) / math.log(1001)
    same_everywhere(lg, np.array([math.log(t + 1) / math.log(1001) for t in T]))


def test_a_duration_rounds_as_each_peer_rounds_it():
    """floor (int(): NeMo, Levanter, composer), ceil (Hugging Face, litgpt) and round (torchtitan, half to
    even) of a duration in total, bound later."""
    s = ls.cosine(1.0, 0.0, steps=ls.total)
    total = 10050
    for fn, peer in ((ls.floor, int), (ls.ceil, math.ceil), (ls.round, round)):
        unbound = ls.warmup(s, steps=fn(0.01 * ls.total))
        bound = unbound.bind(total=total)
        assert bound == ls.warmup(ls.cosine(1.0, 0.0, steps=total), steps=peer(0.01 * total))
        assert ls.parse(repr(unbound)) == unbound and ls.from_json(unbound.to_json()) == unbound
    assert ls.warmup(s, steps=ls.floor(0.01 * ls.total)).bind(total=total).steps == 100  # not 100.5
    assert ls.round(0.5 * ls.total).value({"total": 37}) == 18  # half to even, as Python's round
    # Python's own math.floor, math.ceil and round of a duration give the same expressions
    assert math.floor(0.01 * ls.total) == ls.floor(0.01 * ls.total) and round(ls.total / 3) == ls.round(ls.total / 3)
    assert ls.minimum(0.1 * ls.total, 500).value({"total": 10050}) == 500
    assert ls.maximum(ls.floor(0.1 * ls.total), 2000).value({"total": 10050}) == 2000


def test_a_narrow_numpy_float_beside_a_duration_is_compared_as_a_float64():
    """numpy compares an int with a float32 in float32: 16777217 == float32(16777216) there. The number beside a
    duration is read as a float64 when the expression is made, as every other operand of a duration is."""
    assert type(ls.minimum(ls.total, 100).value({"total": 200})) is int  # an int stays one
    for narrow, total, want in ((np.float32(16777216), 16777217, 16777216), (np.float16(2048), 2049, 2048)):
        assert ls.minimum(ls.total, narrow).value({"total": total}) == want
        assert ls.maximum(narrow, ls.total).value({"total": total - 2}) == want
        s = ls.linear(1, 0, ls.minimum(ls.total, narrow))
        assert s.bind(total=total).steps == ls.from_json(s.to_json()).bind(total=total).steps == want


@pytest.mark.slow  # 2.3 s, importing transformers (the quick loop leaves it out)
def test_hugging_faces_warmup_ratio_is_the_ceiling():
    transformers = pytest.importorskip("transformers", reason="installed by the README test command")
    args = transformers.TrainingArguments(output_dir="unused", warmup_steps=0.01, report_to=[])
    for total in (10050, 999, 1, 123457):
        assert args.get_warmup_steps(total) == ls.ceil(0.01 * ls.total).value({"total": total})


def test_durations_round_in_configs_and_text():
    config = {"lrsched": 1, "schedule": {"type": "warmup", "schedule": {"type": "constant", "value": 1.0}}}
    config["schedule"]["steps"] = "floor(0.01 * total)"
    s = ls.from_dict(config)
    assert s.bind(total=10050).steps == 100 and s.to_dict()["schedule"]["steps"] == "floor(0.01 * total)"
    assert ls.parse("warmup(constant(1), steps=min(0.05 * total, 500))", total=20000).steps == 500
    with pytest.raises(ValueError, match=r"not allowed in a duration: \*\*"):
        ls.parse("warmup(constant(1), steps=total ** 0.5)")


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: ls.log(ls.constant(0.0)), ValueError, r"schedule=0: log\(0\) is not a finite real number"),
        (lambda: ls.sqrt(-1.0), ValueError, r"sqrt\(x=-1\) is not a finite real number"),
        (lambda: ls.constant(-8.0) ** ls.constant(1 / 3), ValueError, r"left=-8, right=0\.333.*\(-8\) \*\*"),
        (lambda: 0.0 ** ls.constant(-1.0), ValueError, r"0 \*\* -1 is not a finite real number"),
        (lambda: ls.exp(ls.total), TypeError, "a duration goes only into floor, ceil, round, minimum and maximum"),
        (lambda: ls.floor("3"), TypeError, "floor\\(\\) takes a schedule, a number or a duration, got x='3'"),
        (lambda: ls.t.quantize(0), ValueError, "multiple must be > 0, got 0"),
        (lambda: round(ls.t, 2), TypeError, "a schedule rounds to whole numbers"),
        (lambda: round(ls.total, 2), TypeError, "a duration rounds to a whole number only"),
        (lambda: min(ls.total, 5), TypeError, "lrsched.minimum and lrsched.maximum take durations"),
    ],
)
def test_outside_a_domain_is_refused_by_name(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_outside_a_domain_at_evaluation_names_t():
    for s, t in ((ls.log(ls.t - 5), 3.0), ((ls.t - 10) ** 0.5, 4.0), (ls.sqrt(ls.t - 2), 1.0)):
        with pytest.raises(ValueError, match=f"not finite at t={t}"):
            s(t)
        with pytest.raises(ValueError, match="not finite at t="):
            s.values(20)


def test_the_functions_of_numbers_are_numbers():
    assert ls.floor(100.5) == 100 and type(ls.floor(100.5)) is int
    assert ls.ceil(100.2) == 101 and ls.round(2.5) == 2 and ls.round(3.5) == 4
    assert ls.exp(0) == 1.0 and ls.log(math.e) == 1.0 and ls.sqrt(16) == 4.0
    assert ls.t(7.5) == 7.5 and ls.t.length() is None and ls.t.breakpoints(100) == []
    # a 0-d array is its number here too, as in every constructor
    assert ls.exp(np.array(2.0)) == math.exp(2.0) and ls.floor(np.array(2.5)) == 2 and ls.sqrt(np.array(4)) == 2.0
    assert ls.minimum(ls.t, np.array(2.0)) == ls.minimum(ls.t, 2.0)


def test_a_rounded_schedule_plots_and_describes():
    s = ls.floor(ls.linear(0.0, 10.0, 100)) / 10
    text = s.describe()
    assert "first 0, last 1" in text and "settles after t = 100" in text and "boundar" not in text
    with pytest.raises(ls.analysis.UnknownStructure, match="where a rounded value steps is not known"):
        s.breakpoints()
    matplotlib = pytest.importorskip("matplotlib", reason="installed by the README test command")
    matplotlib.use("Agg")
    fig = ls.plot([s, ls.exp(-ls.t / 50)], 100).figure
    assert len(fig.axes[0].lines) >= 2  # the two curves (and any boundary marks)
