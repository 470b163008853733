"""The migration rows of docs/migration.md for composer, fvcore, fastai, torchtune, torchtitan, nanoGPT, litgpt and
Levanter: each row's lrsched expression against golden values written by the peer's own code
(tests/golden/make_<peer>.py; see each script for the peer version and how it is driven)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

import lrsched as ls

DATA = Path(__file__).parent / "data"


def _golden(peer: str) -> list[dict]:
    return json.loads((DATA / f"{peer}_golden.json").read_text())["cases"]


def _close(got, want, tol: float, label: str) -> float:
    """Assert |got - want| <= tol * peak everywhere (tol 0: to the bit); return the worst error over the peak."""
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    peak = float(np.abs(want).max()) or 1.0
    if tol == 0:
        np.testing.assert_array_equal(got, want, err_msg=label)
    else:
        np.testing.assert_allclose(got, want, rtol=0, atol=tol * peak, err_msg=label)
    return float(np.abs(got - want).max() / peak)


# ---------------------------------------------------------------------------------------------------------------
# composer: lr * the scheduler's multiplier; update t at batch t - 1 (the scheduler's own clock)


def _duration(text: str, ssr: float = 1.0):
    """A composer time string as composer's _convert_time reads it, written in lrsched: "100ba" -> 100, "2ep" ->
    2 * ls.epoch, "0.05dur" -> ls.floor(0.05 * ls.total) (composer's int()), "1dur" -> ls.total.

    With a scale_schedule_ratio r, a duration in ba or ep is int(r * d): ls.floor(d * r) ("2ep" is 2 * ls.epoch
    batches first); "dur" is a fraction of the scaled run, which the binding's total already is."""
    value, unit = re.fullmatch(r"([0-9.]+)(ba|ep|dur)", text).groups()
    value = float(value)
    if unit == "dur":
        return ls.total if value == 1 else ls.floor(value * ls.total)
    d = value if unit == "ba" else value * ls.epoch
    return d if ssr == 1.0 else ls.floor(d * ssr)


def composer_schedule(case: dict) -> ls.Schedule:
    """The lrsched expression of one composer scheduler, on composer's own clock (update t at batch t - 1)."""
    name, kw, lr = case["name"], dict(case["kwargs"]), case["lr"]
    ssr, loader = case.get("ssr", 1.0), case.get("dataloader_len", 10)

    def d(text):  # a duration scaled by ssr as composer's _convert_time scales it
        return _duration(text, ssr)

    warm = _duration(kw.get("t_warmup", "0ba"))  # composer never scales the switch out of the warmup
    t_max = d(kw.get("t_max", "1dur"))

    def with_warmup(tail):
        """composer's warmup: a ramp from 0 to the tail's start over W, then the tail from its own 0."""
        if warm == 0:
            return tail.shift(1)
        if kw.get("scale_warmup") and d(kw["t_warmup"]) != warm:  # the ramp is scaled, the switch is not
            return ls.join([ls.linear(0.0, tail(0), d(kw["t_warmup"])), tail], boundaries=[warm]).shift(1)
        return ls.warmup(tail, steps=warm).shift(1)

    if name == "StepScheduler":
        s = ls.step(lr, every=d(kw["step_size"]), factor=kw["gamma"])
    elif name == "MultiStepScheduler":
        s = ls.multistep(lr, [d(m) for m in kw["milestones"]], factor=kw["gamma"])
    elif name == "ConstantScheduler":
        s = ls.piecewise([t_max], [lr * kw["alpha"], lr])
    elif name == "LinearScheduler":
        s = lr * ls.linear(kw["alpha_i"], kw["alpha_f"], t_max).shift(1)
    elif name == "ExponentialScheduler":
        s = lr * ls.exponential(1.0, kw["gamma"], every=d(kw["decay_period"])).shift(1)
    elif name == "CosineAnnealingScheduler":
        s = lr * ls.cosine(1.0, kw["alpha_f"], steps=t_max).shift(1)
    elif name == "CosineAnnealingWarmRestartsScheduler":
        t0 = d(kw["t_0"])
        # each period is int(t_mult * the previous one): whole_periods (for a whole t_mult it changes nothing)
        cosine = ls.cosine(1.0, kw.get("alpha_f", 0.0), steps=t0)
        s = lr * ls.cycle(cosine, t0, period_mult=kw["t_mult"], zero_based=True, whole_periods=True)
    elif name == "PolynomialScheduler":
        s = lr * ls.poly(1.0, kw["alpha_f"], steps=t_max, power=kw["power"]).shift(1)
    elif name == "CosineAnnealingWithWarmupScheduler":
        s = lr * with_warmup(ls.cosine(1.0, kw.get("alpha_f", 0.0), steps=t_max - warm))
    elif name == "PolynomialWithWarmupScheduler":
        s = lr * with_warmup(ls.poly(1.0, kw["alpha_f"], steps=t_max - warm, power=kw["power"]))
    elif name == "LinearWithWarmupScheduler":
        s = lr * with_warmup(ls.linear(kw.get("alpha_i", 1.0), kw.get("alpha_f", 0.0), t_max - warm))
    elif name == "ConstantWithWarmupScheduler":
        s = lr * with_warmup(ls.constant(kw["alpha"]))
    elif name == "MultiStepWithWarmupScheduler":
        tail = ls.multistep(1.0, [d(m) for m in kw["milestones"]], factor=kw["gamma"])
        s = lr * (tail if warm == 0 else ls.join([ls.linear(0.0, 1.0, warm).shift(1), tail.shift(-warm)], [warm]))
    else:
        raise KeyError(name)
    total = int(re.match(r"\d+", case["max_duration_scaled"]).group())
    if case["max_duration_scaled"].endswith("ep"):
        total *= loader
    return s.bind(total=total, epoch=loader)


def trainer_clock(s: ls.Schedule) -> ls.Schedule:
    """composer's Trainer runs update t at batch max(t - 2, 0): updates 1 and 2 both get the first value."""
    return ls.join([ls.constant(s(1)), s], boundaries=[1])


COMPOSER = [c for c in _golden("composer") if not c["name"].startswith("_")]
#: composer's arithmetic kept to the bit; the others differ in the last bit: (b - W) / (T - W) against a phase's
#: own clock, cos(x * pi) against cos(pi * x), ai + p (af - ai) against lrsched's linear
COMPOSER_EXACT = {
    "StepScheduler",
    "MultiStepScheduler",
    "ConstantScheduler",
    "ExponentialScheduler",
    "PolynomialScheduler",
    "PolynomialWithWarmupScheduler",
    "ConstantWithWarmupScheduler",
    "MultiStepWithWarmupScheduler",
}
COMPOSER_TOL = 2.3e-16  # of the peak: one ulp


@pytest.mark.parametrize("case", COMPOSER, ids=lambda c: c["name"])
def test_composer_scheduler_clock(case):
    s = composer_schedule(case)
    tol = 0 if case["name"] in COMPOSER_EXACT else COMPOSER_TOL
    _close(s.values(case["n"]), case["values"], tol, f"{case['name']}({case['kwargs']})")
    if "trainer" in case:
        _close(trainer_clock(s).values(case["n"]), case["trainer"], COMPOSER_TOL, "Trainer clock")


def test_composer_trainer_lag():
    """Updates 1 and 2 share the first value under the Trainer (it steps the scheduler, then advances the batch)."""
    runs = [c for c in COMPOSER if "trainer" in c]
    assert len(runs) >= 4
    for case in runs:
        trainer, own = case["trainer"], case["values"]
        assert trainer[0] == trainer[1] == own[0]
        assert trainer[2:] == own[1:-1]


def test_composer_time_strings():
    """ "0.05dur" is int(0.05 * the run) batches, "2ep" two dataloader lengths: ls.floor(0.05 * ls.total) and
    2 * ls.epoch, one schedule for any run length once bound."""
    warm = ls.floor(0.05 * ls.total)
    s = ls.warmup(ls.cosine(0.5, 0.05, steps=ls.total - warm), steps=warm).shift(1)
    runs = {c["n"]: c for c in COMPOSER if c["kwargs"].get("t_warmup") == "0.05dur" and "trainer" not in c}
    assert sorted(runs) == [200, 210]
    for n, case in runs.items():  # 0.05 * 210 = 10.5: composer warms up over 10 batches
        _close(s.bind(total=n).values(n), case["values"], COMPOSER_TOL, f"0.05dur of {n}ba")
    assert s.bind(total=210)(10) < 0.5 == runs[210]["values"][10] == s.bind(total=210)(11)
    # "0.1dur" of a run of 6 epochs of 7 batches: int(0.1 * 7 * 6) = 4 batches of warmup
    tenth = next(c for c in COMPOSER if c["kwargs"].get("t_warmup") == "0.1dur")
    warm = ls.floor(0.1 * ls.total)
    s = ls.warmup(ls.cosine(0.5, 0.0, steps=ls.total - warm), steps=warm).shift(1)
    _close(s.bind(total=42).values(tenth["n"]), tenth["values"], COMPOSER_TOL, "0.1dur of 6ep x 7ba")
    assert tenth["values"][4] == 0.5 and tenth["values"][3] < 0.5
    two_ep = next(c for c in COMPOSER if c["kwargs"].get("t_warmup") == "2ep")
    s = ls.join(
        [ls.linear(0.0, 1.0, 2 * ls.epoch).shift(1), ls.linear(1.0, 0.0, ls.total - 2 * ls.epoch).shift(1)],
        [2 * ls.epoch],
    )
    _close(0.5 * s.bind(total=42, epoch=7).values(45), two_ep["values"], COMPOSER_TOL, "2ep of 6ep x 7ba")


# ---------------------------------------------------------------------------------------------------------------
# fvcore: lr * scheduler(where), where = (t - 1) / max_iter (detectron2's LRMultiplier)

FVCORE = _golden("fvcore")
EPSILON = 1e-6  # fvcore's WHERE_EPSILON


def _fv_leaf(spec, steps: float) -> ls.Schedule:
    name, kw = spec
    if name == "ConstantParamScheduler":
        return ls.constant(kw["value"])
    if name == "LinearParamScheduler":
        return ls.linear(kw["start_value"], kw["end_value"], steps)
    if name == "CosineParamScheduler":
        return ls.cosine(kw["start_value"], kw["end_value"], steps=steps)
    raise KeyError(name)


def fvcore_schedule(spec) -> ls.Schedule:
    """The lrsched expression of an fvcore scheduler (the multiplier; times lr for the lr), in ls.total: bind total
    to max_iter, the run's updates N."""
    name, kw = spec
    n = ls.total
    if name == "CompositeParamScheduler":
        # phase i holds while where + 1e-6 <= its cumulative length L_i: it ends at update floor(N L_i + 1 - N 1e-6)
        # (N L_i itself below 1e6 updates); a rescaled phase runs over N l_i updates from where = its start, a
        # fixed one on the run's own clock
        starts, phases, edges, total = [0.0], [], [], 0.0
        for length in kw["lengths"][:-1]:
            total += length
            starts.append(total)
            edges.append(ls.floor(total * n + 1 - EPSILON * n))
        for i, (sub, length, scaling) in enumerate(zip(kw["schedulers"], kw["lengths"], kw["interval_scaling"])):
            edge = edges[i - 1] if i else 0
            if scaling == "rescaled":
                phases.append(_fv_leaf(sub, length * n).shift(1 + starts[i] * n - edge))
            else:
                phases.append(_fv_leaf(sub, n).shift(1 - edge))
        return ls.join(phases, boundaries=edges)
    if name == "MultiStepParamScheduler":
        # value k from the first update whose int((where + 1e-6) * num_updates) reaches milestone k
        u = kw["num_updates"]
        return ls.piecewise([ls.ceil(m * n / u - EPSILON * n) for m in kw["milestones"]], kw["values"])
    if name == "StepParamScheduler":
        k = len(kw["values"])
        return ls.piecewise([ls.ceil(j * n / k - EPSILON * n) for j in range(1, k)], kw["values"])
    raise KeyError(name)


@pytest.mark.parametrize("case", FVCORE, ids=lambda c: f"{c['spec'][0]}-{c['max_iter']}")
def test_fvcore(case):
    # one expression for any run length, bound to this one (bind refuses a symbol the schedule does not hold)
    s = (case["lr"] * fvcore_schedule(case["spec"])).bind(total=case["max_iter"])
    ts = case.get("ts", range(1, case["max_iter"] + 1))
    # step and constant phases to the bit; linear and cosine phases within an ulp of the peak (fvcore computes
    # end * where + start * (1 - where) on the run's where, lrsched on the phase's own update count)
    _close(s(np.asarray(ts, dtype=float)), case["values"], 2.3e-16, f"{case['spec']} over {case['max_iter']}")


def test_fvcore_edge_shift():
    """Below a million updates the epsilon changes no edge; past it, an edge moves ceil(N * 1e-6) - 1 updates early."""
    moved = {}
    for case in FVCORE:
        if "ts" in case and case["spec"][0] == "CompositeParamScheduler":
            ts, v = case["ts"], case["values"]
            first = next(ts[i] for i in range(1, len(v)) if v[i] != v[i - 1])
            moved[case["max_iter"]] = case["max_iter"] // 2 + 1 - first
    assert moved == {999_999: 0, 1_000_000: 0, 1_500_000: 1, 3_000_000: 2, 10_000_000: 9}


# ---------------------------------------------------------------------------------------------------------------
# fastai: update t at pos = (t - 1) / N, N = n_epoch * n_iter (ParamScheduler before each batch)

FASTAI = _golden("fastai")


def _fa_phase(spec, steps: float) -> ls.Schedule:
    name, start, end, *power = spec
    if name == "SchedLin":
        return ls.linear(start, end, steps)
    if name == "SchedCos":
        return ls.cosine(start, end, steps=steps)
    if name == "SchedNo":
        return ls.constant(start)
    if name == "SchedExp":
        return ls.geometric(start, end, steps)
    if name == "SchedPoly":
        return ls.ease(start, end, steps, power=power[0])
    raise KeyError(name)


def combine_scheds(pcts, scheds, n: int) -> ls.Schedule:
    """fastai's combine_scheds(pcts, scheds) over n updates, update t at pos = (t - 1) / n.

    fastai keeps the cumulative pcts c_i in a float32 tensor and compares pos with them in float32: phase i starts
    at the first update whose float32 pos reaches float32 c_i (after update ceil(n c_i), or one later where float32
    rounding puts c_i just above the exact edge), and runs on its own progress (t - 1 - n c_i) / (n (c_{i+1} - c_i)).
    """
    c = np.cumsum(np.asarray([0.0, *pcts], dtype=np.float32), dtype=np.float32)
    pos = np.arange(n + 2, dtype=float) / n  # the positions of updates 1 .. n + 2
    edges = [int(np.count_nonzero(pos.astype(np.float32) < ci)) for ci in c[1:-1]]
    phases = [
        _fa_phase(spec, n * float(c[i + 1] - c[i])).shift(1 + n * float(c[i]) - (edges[i - 1] if i else 0))
        for i, spec in enumerate(scheds)
    ]
    return ls.join(phases, boundaries=edges) if edges else phases[0]


def fastai_schedule(case: dict) -> ls.Schedule:
    name, kw, n_iter = case["name"], case["kwargs"], case["n_iter"]
    if name == "combine_scheds":
        return combine_scheds(kw["pcts"], kw["scheds"], kw["n_epoch"] * n_iter)
    n = kw["n_epoch"] * n_iter if "n_epoch" in kw else None
    if name == "fit_one_cycle":
        lr, pct = kw["lr_max"], kw.get("pct_start", 0.25)
        lo, end = lr / kw.get("div", 25.0), lr / kw.get("div_final", 1e5)
        return combine_scheds([pct, 1 - pct], [("SchedCos", lo, lr), ("SchedCos", lr, end)], n)
    if name == "fit_flat_cos":
        lr, pct = kw["lr"], kw.get("pct_start", 0.75)
        return combine_scheds(
            [pct, 1 - pct], [("SchedCos", lr, lr), ("SchedCos", lr, lr / kw.get("div_final", 1e5))], n
        )
    if name == "fit_sgdr":  # cycles of cycle_len * cycle_mult ** i epochs, each a cosine from lr_max to 0
        m, k = kw["cycle_mult"], kw["n_cycles"]
        epochs = kw["cycle_len"] * (m**k - 1) // (m - 1)
        pcts = [kw["cycle_len"] * m**i / epochs for i in range(k)]
        return combine_scheds(pcts, [("SchedCos", kw["lr_max"], 0.0)] * k, epochs * n_iter)
    raise KeyError(name)


#: fastai compares pos with its phase edges and divides by the phase length in float32 (combine_scheds holds the
#: cumulative pcts in a float32 tensor): a phase's progress carries float32 rounding (pos rounded to 2 ** -25 near 1,
#: divided by a phase of 0.25 of the run), and the lr moves by the cosine's slope (up to pi / 2) times that.
#: Measured worst over these runs: 1.7e-7 of the peak.
FASTAI_TOL = 3e-7


@pytest.mark.parametrize("case", FASTAI, ids=lambda c: c["name"])
def test_fastai(case):
    want = case["values"]
    _close(fastai_schedule(case).values(len(want)), want, FASTAI_TOL, f"{case['name']}({case['kwargs']})")


def test_fastai_flat_cos_recipe():
    """lrsched's flat_cos recipe is fastai's fit_flat_cos one update later (the recipe is 1-indexed)."""
    for case in (c for c in FASTAI if c["name"] == "fit_flat_cos"):
        kw = case["kwargs"]
        n = kw["n_epoch"] * case["n_iter"]
        s = ls.flat_cos(kw["lr"], n, pct_flat=kw.get("pct_start", 0.75), end=kw["lr"] / 1e5).shift(1)
        _close(s.values(n), case["values"], FASTAI_TOL, str(kw))


# ---------------------------------------------------------------------------------------------------------------
# torchtune, torchtitan, nanoGPT, litgpt


def _curves(peer: str):
    return [(c, np.asarray(c["values"])) for c in _golden(peer)]


def test_torchtune_cosine_with_warmup():
    """torchtune's get_cosine_schedule_with_warmup (LambdaLR; update t at last_epoch t - 1) is Hugging Face's, the
    cosine rising again past num_training_steps: the transformers mirror, or for num_cycles 0.5 the plain cosine."""
    import lrsched.transformers as hf

    for case, want in _curves("torchtune"):
        kw, lr = case["kwargs"], case["lr"]
        w, n = kw["num_warmup_steps"], kw["num_training_steps"]
        mirror = hf.get_cosine_schedule_with_warmup(lr, w, n, kw["num_cycles"])
        _close(mirror.values(len(want)), want, 4.5e-16, f"mirror {kw}")
        if kw["num_cycles"] == 0.5:
            s = ls.warmup(ls.cosine(lr, 0.0, steps=n - w, periodic=True), steps=w).shift(1)
            _close(s.values(len(want)), want, 4.5e-16, f"cosine {kw}")


def torchtitan_schedule(lr: float, kw: dict) -> ls.Schedule:
    """torchtitan's warmup-stable-decay in ls.total (the training steps): its decay reaches the end at a "virtual
    last step" total + 1, so the run's last update is one step short of min_lr: lrsched's wsd over total + 1
    updates. The decay is round(total * decay_ratio) steps (Python's round, half to even), at most what the warmup
    leaves; the warmup at most the run."""
    w = ls.minimum(kw["warmup_steps"], ls.total)
    d = ls.total - w if kw["decay_ratio"] is None else ls.minimum(ls.round(kw["decay_ratio"] * ls.total), ls.total - w)
    decay = {"linear": "linear", "sqrt": "1-sqrt", "cosine": "cosine"}[kw["decay_type"]]
    return lr * ls.wsd(1.0, steps=ls.total + 1, warmup_steps=w, decay_steps=d, decay=decay, end=kw["min_lr_factor"])


def test_torchtitan_wsd_with_its_virtual_last_step():
    for case, want in _curves("torchtitan"):
        s = torchtitan_schedule(case["lr"], case["kwargs"]).bind(total=case["training_steps"])
        _close(s.values(len(want)), want, 4.5e-16, str(case["kwargs"]))
        if case["kwargs"]["min_lr_factor"] == 0.0:
            assert want[-1] > 0.0  # the decay never reaches its end within the run


def test_torchtitan_decay_ratio_rounds_half_to_even():
    """37 steps with decay_ratio 0.5: round(18.5) is 18 (Python's round), not 19. After the warmup (5) and the stable
    phase (37 + 1 - 5 - 18 = 15), update 21 is the first decayed, by 1/18 (with 19 decay steps: update 20, by 1/19)."""
    case, want = next(
        (c, w)
        for c, w in _curves("torchtitan")
        if (c["training_steps"], c["kwargs"]["decay_ratio"], c["kwargs"]["warmup_steps"]) == (37, 0.5, 5)
        and c["kwargs"]["decay_type"] == "linear"
    )
    assert ls.round(0.5 * ls.total).value({"total": 37}) == 18
    assert want[19] == case["lr"] > want[20] == pytest.approx(case["lr"] * (1 - 1 / 18), rel=1e-15)
    s = torchtitan_schedule(case["lr"], case["kwargs"]).bind(total=37)
    assert s(20) == case["lr"] > s(21)


def test_nanogpt():
    """nanoGPT's get_lr(it), update t at it = t - 1: warmup lr (it + 1) / (W + 1), so the peak is first used at
    t = W + 1, then a cosine to min_lr at it = lr_decay_iters, min_lr after."""
    for case, want in _curves("nanogpt"):
        p = case["settings"]
        w, d = p["warmup_iters"], p["lr_decay_iters"]
        s = ls.warmup(ls.cosine(p["learning_rate"], p["min_lr"], steps=d - w), steps=w + 1)
        _close(s.values(len(want)), want, 2.3e-16, str(p))


def test_litgpt_pretrain_per_micro_batch():
    """litgpt's pretrain sets the lr before every micro-batch from iter_num; update k runs at iter_num k A - 1
    (A = gradient accumulation), with the warmup and max_iters counted in micro-batches."""
    for case, want in _curves("litgpt"):
        if case["name"] != "pretrain":
            continue
        p = case["settings"]
        a, m, lr, low = p["accumulation"], p["max_iters"], p["lr"], p["min_lr"]
        w = min(m, p["lr_warmup_steps"] * a)  # micro-batches
        g = ls.warmup(ls.cosine(lr, low, steps=(m - w) / a), steps=w / a) if m > w else ls.linear(0.0, lr, w / a)
        _close(g.shift(1 / a).values(len(want)), want, 2.3e-16, str(p))


def test_litgpt_finetune():
    """litgpt's finetune: SequentialLR of LambdaLR(step / W) and CosineAnnealingLR(max_steps - W), stepped per
    update: update 1 at lr 0, the peak at t = W + 1, and the cosine rising again past max_steps (torch's)."""
    for case, want in _curves("litgpt"):
        if case["name"] != "finetune":
            continue
        p = case["settings"]
        lr, w, m = p["lr"], p["warmup_steps"], p["max_steps"]
        s = ls.join([ls.linear(0.0, lr, w).shift(1), ls.cosine(lr, 0.0, steps=m - w, periodic=True).shift(1)], [w])
        # torch's CosineAnnealingLR updates its lr recursively, step by step: it drifts from the closed form, most
        # past T_max (measured: 3.8e-15 of the peak after 10 steps past it)
        _close(s.values(len(want)), want, 1e-14, str(p))


# ---------------------------------------------------------------------------------------------------------------
# Levanter: optax schedules joined per cycle; update t at the optimizer's count t - 1 (lrsched.optax's mirrors)


def _frac_or_steps(x: float, n: int) -> int:
    return int(x * n) if x <= 1.0 else int(x)  # Levanter's _convert_frac_or_steps: 1 is the whole cycle


def _levanter_decay(spec, lr: float, low: float, ratio: float, warm: int, d: int) -> ls.Schedule:
    import lrsched.optax as lo

    name, params = (spec, {}) if isinstance(spec, str) else spec
    if name == "cosine":
        return lo.cosine_decay_schedule(lr, d, ratio)
    if name == "linear":
        return lo.linear_schedule(lr, low, d)
    if name == "polynomial":
        return lo.polynomial_schedule(lr, low, params["power"], d)
    if name == "inv_sqrt":  # max(lr min(1, 1 / sqrt(max(c + W, 1) / tau)), min_lr) at count c = t - 1
        tau = params.get("timescale", 10000)
        return ls.maximum(lr * ls.minimum(1.0, 1.0 / ls.sqrt(ls.maximum(ls.t - 1 + warm, 1) / tau)), low)
    if name == "power":  # min(lr, B a (c B L) ** b) at count c = t - 1: at c = 0, 0 ** b is inf, so lr
        b_, length, a, b = params["batch_size"], params["seq_length"], params.get("a", 4.6), params.get("b", -0.51)
        return ls.join([ls.constant(lr), ls.minimum(ls.constant(lr), b_ * a * (b_ * length * ls.t) ** b)], [1])
    raise KeyError(name)


def levanter_schedule(settings: dict, n: int) -> ls.Schedule:
    """Levanter's schedule for a run of n updates: per cycle a warmup (the first) or re-warmup from the previous
    cycle's end, a stable phase at the peak, and the decay, joined as optax joins them."""
    import lrsched.optax as lo

    lr, ratio = settings["learning_rate"], settings["min_lr_ratio"]
    low = lr * ratio
    if "cycles" in settings and isinstance(settings["cycles"], int):
        points = [int(n / settings["cycles"] * (i + 1)) for i in range(settings["cycles"] - 1)]
    elif "cycles" in settings:
        points = list(settings["cycles"])
    elif "cycle_length" in settings:
        c = _frac_or_steps(settings["cycle_length"], n)
        points = [i * c for i in range(1, n // c)]
    else:
        points = []
    points = [0, *points] + ([n] if not points or points[-1] != n else [])
    pieces, edges, previous = [], [], 0.0
    for i, (start, end) in enumerate(zip(points[:-1], points[1:])):
        cycle = end - start
        warm = min(
            _frac_or_steps(settings.get("warmup", 0.01) if i == 0 else settings.get("rewarmup", 0.0), cycle), cycle
        )
        d = (
            cycle - warm
            if settings.get("decay") is None
            else min(_frac_or_steps(settings["decay"], cycle), cycle - warm)
        )
        if warm:
            pieces.append(lo.linear_schedule(previous, lr, warm))
            edges.append(start + warm)
        if cycle - warm - d > 0:
            pieces.append(lo.constant_schedule(lr))
            edges.append(start + cycle - d)
        decay = _levanter_decay(settings.get("lr_schedule", "cosine"), lr, low, ratio, warm, d)
        previous = decay(d + 1)  # the decay's value at count d
        pieces.append(decay)
        edges.append(end)
    return lo.join_schedules(pieces, edges[:-1])


LEVANTER = _curves("levanter")


def _levanter_kind(settings: dict) -> str:
    spec = settings.get("lr_schedule", "cosine")
    return spec if isinstance(spec, str) else spec[0]


@pytest.mark.parametrize(("case", "want"), LEVANTER, ids=lambda c: str(c)[:40] if isinstance(c, dict) else "")
def test_levanter(case, want):
    s = levanter_schedule(case["settings"], case["num_train_steps"])
    # within an ulp of the peak: optax's own arithmetic as lrsched.optax mirrors it; inv_sqrt and power to the bit,
    # Levanter's own formulas written with the clock (its products, sqrt and power; the warmup as optax's)
    tol = 0 if _levanter_kind(case["settings"]) in ("inv_sqrt", "power") else 2.3e-16
    _close(s.values(len(want)), want, tol, str(case["settings"]))


def test_levanter_power_schedule():
    """Levanter's power schedule (Shen et al. 2024) as its decay: lr at the decay's first count (0 ** b is inf), then
    min(lr, B a (B L c) ** b), here below lr from update 32 on."""
    import lrsched.optax as lo

    case, want = next((c, w) for c, w in LEVANTER if _levanter_kind(c["settings"]) == "power")
    lr, warm, n = case["settings"]["learning_rate"], case["settings"]["warmup"], case["num_train_steps"]
    b_, length = 1, 2048
    assert case["settings"]["lr_schedule"] == ["power", {"batch_size": b_, "seq_length": length}]
    decay = ls.join([ls.constant(lr), ls.minimum(ls.constant(lr), b_ * 4.6 * (b_ * length * ls.t) ** -0.51)], [1])
    s = lo.join_schedules([lo.linear_schedule(0.0, lr, warm), decay], [warm])  # Levanter's warmup, then the decay
    _close(s.values(n), want, 0, "power")
    assert want[warm] == lr and want[30] == lr > want[31]


def test_fastai_one_cycle_as_one_join():
    """fit_one_cycle's two cosines meet at lr_max, so its row is one join on fastai's clock, any pct_start."""
    for case in (c for c in FASTAI if c["name"] == "fit_one_cycle"):
        kw = case["kwargs"]
        n, lr, pct = kw["n_epoch"] * case["n_iter"], kw["lr_max"], kw.get("pct_start", 0.25)
        up = ls.cosine(lr / kw.get("div", 25.0), lr, steps=pct * n)
        down = ls.cosine(lr, lr / kw.get("div_final", 1e5), steps=n - pct * n)
        s = ls.join([up, down], boundaries=[pct * n]).shift(1)
        _close(s.values(n), case["values"], FASTAI_TOL, str(kw))


def test_fastai_sgdr_as_a_cycle_but_its_float32_late_restarts():
    """fit_sgdr is a zero-based lrsched cycle, but where float32 rounds a cumulative pct up (1/15 + 2/15 is
    0.20000002), fastai restarts one update late: that update gets the cycle's end (0) instead of lr_max."""
    late = {}
    for case in (c for c in FASTAI if c["name"] == "fit_sgdr"):
        kw, want = case["kwargs"], np.asarray(case["values"])
        period = kw["cycle_len"] * case["n_iter"]
        s = ls.cycle(ls.cosine(kw["lr_max"], 0.0, steps=period), period, period_mult=kw["cycle_mult"], zero_based=True)
        off = np.abs(s.values(len(want)) - want) > FASTAI_TOL * want.max()
        late[(kw["n_cycles"], case["n_iter"])] = (np.nonzero(off)[0] + 1).tolist()
        assert np.all(want[off] < 1e-14) and np.all(s.values(len(want))[off] == kw["lr_max"])
    assert late == {(3, 20): [61], (4, 13): [40, 92], (2, 10): []}


def test_every_composer_scheduler_is_covered():
    names = {c["name"] for c in COMPOSER}
    assert names == {
        "StepScheduler",
        "MultiStepScheduler",
        "ConstantScheduler",
        "LinearScheduler",
        "ExponentialScheduler",
        "CosineAnnealingScheduler",
        "CosineAnnealingWarmRestartsScheduler",
        "PolynomialScheduler",
        "MultiStepWithWarmupScheduler",
        "ConstantWithWarmupScheduler",
        "LinearWithWarmupScheduler",
        "CosineAnnealingWithWarmupScheduler",
        "PolynomialWithWarmupScheduler",
    }  # composer.optim.scheduler.__all__ but ComposerScheduler and compile_composer_scheduler
