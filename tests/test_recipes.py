"""Recipes against formulas written from their papers (not from lrsched's code)."""

from __future__ import annotations

import numpy as np
import pytest

import lrsched as ls
from tests import reference as ref

T = np.arange(0, 3001, dtype=float)


def close(got, want):
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15 * np.max(np.abs(want)))


def test_warmup_cosine():
    want = ref.join(T, [lambda t: ref.linear(t, 0.0, 0.1, 300), lambda t: ref.cosine(t, 0.1, 1e-5, 2700)], [300])
    close(ls.warmup_cosine(0.1, steps=3000, warmup_steps=300, end=1e-5)(T), want)


@pytest.mark.parametrize("shape", ["cosine", "linear"])
def test_one_cycle(shape):
    peak, n, pct = 0.1, 2000, 0.3
    low, final = peak / 25, peak / 25 / 1e4
    piece = ref.cosine if shape == "cosine" else ref.linear
    want = ref.join(
        T, [lambda t: piece(t, low, peak, pct * n), lambda t: piece(t, peak, final, n - pct * n)], [pct * n]
    )
    close(ls.one_cycle(peak, n, shape=shape)(T), want)


def test_sgdr():
    want = ref.cycle(T, lambda t: ref.cosine(t, 0.1, 0.0, 100), 100, 2.0, 0.5)
    close(ls.sgdr(0.1, 100, period_mult=2, decay=0.5)(T), want)


@pytest.mark.parametrize("decay", ["linear", "cosine", "1-sqrt"])
def test_wsd(decay):
    peak, n, w, d = 0.1, 3000, 200, 600
    p = np.clip((T - (n - d)) / d, 0, 1)
    tail = {"linear": peak * (1 - p), "cosine": peak * (1 + np.cos(np.pi * p)) / 2, "1-sqrt": peak * (1 - np.sqrt(p))}[
        decay
    ]
    want = np.where(w >= T, peak * T / w, np.where(n - d >= T, peak, tail))
    close(ls.wsd(peak, n, w, d, decay=decay)(T), want)


def test_noam_is_the_papers_formula():
    d, w = 512, 4000
    t = np.arange(1, 50_001, dtype=float)
    want = d**-0.5 * np.minimum(t**-0.5, t * w**-1.5)
    np.testing.assert_allclose(ls.noam(d, w).values(50_000), want, rtol=1e-13)


def _wave(t, h):
    pos = np.where(t > 0, (t - 1) % (2 * h) + 1, 0.0)
    return np.where(pos <= h, pos / h, (2 * h - pos) / h)


def test_cyclical():
    h, lo, hi = 50, 0.01, 0.1
    tri = _wave(T, h)
    cycle = np.maximum(np.ceil(T / (2 * h)) - 1, 0)
    close(ls.triangular(lo, hi, h)(T), lo + (hi - lo) * tri)
    close(ls.triangular2(lo, hi, h)(T), lo + (hi - lo) * tri * 0.5**cycle)
    close(ls.exp_range(lo, hi, h, 0.999)(T), lo + (hi - lo) * tri * 0.999**T)


def test_flat_cos():
    want = np.where(T <= 2250, 0.1, ref.cosine(T - 2250, 0.1, 0.0, 750))
    close(ls.flat_cos(0.1, 3000)(T), want)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: ls.warmup_cosine(0.1, 100, 100), "warmup_steps=100.0 must be less than steps=100.0"),
        (lambda: ls.one_cycle(0.1, 100, pct_start=1.0), r"pct_start must be in \(0, 1\)"),
        (lambda: ls.wsd(0.1, 100, 60, 60), "exceed steps"),
        (lambda: ls.wsd(0.1, 100, 10, 10, decay="step"), "decay must be one of"),
        (lambda: ls.noam(0, 4000), "d_model must be >= 1"),
        # each argument named where it is checked, before the primitives inside are built from it
        (lambda: ls.sgdr(1.0, period=0), "^period must be > 0, got 0$"),
        (lambda: ls.sgdr(1.0, period=10, decay=-1), "^decay must be > 0, got -1$"),
        (lambda: ls.sgdr(1.0, period=10, limit=0), "^limit must be >= 1, got 0$"),
        (lambda: ls.sgdr(1.0, period=10, period_mult=0.5), "^period_mult=0.5 < 1 needs a limit"),
        (lambda: ls.one_cycle(1.0, 100, final_div_factor=1e-320), "^peak=1.0, div_factor=25.0, final_div_factor="),
        (lambda: ls.one_cycle(1.0, 5e-324), r"^pct_start=0.3, steps=5e-324: the rise, pct_start \* steps,"),
        (lambda: ls.triangular(-1e308, 1e308, 2), r"^high=1e\+308, low=-1e\+308: high - low is beyond the float"),
        (lambda: ls.exp_range(0.0, 1.0, 2, gamma=0), "^gamma must be > 0, got 0$"),
        (lambda: ls.flat_cos(1.0, 100, pct_flat=1), r"^pct_flat must be in \(0, 1\), got 1$"),
    ],
)
def test_bad_recipe_parameters(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_a_recipe_with_symbols_names_a_bad_argument_too():
    with pytest.raises(TypeError, match=r"^period_mult must be a real number, got 'x' \(for any run: period hold"):
        ls.sgdr(1.0, period=ls.total / 10, period_mult="x")
    with pytest.raises(ValueError, match=r"^period must be > 0, got -100.0 \(binding total=100: period = total - 200"):
        ls.sgdr(1.0, period=ls.total - 200).bind(total=100)


def test_wsd_and_cooldown_take_both_spellings_of_the_sqrt_decay_and_print_one():
    """issue 23: wsd(decay="1-sqrt") and cooldown(shape="sqrt") refused each other's spelling; a bound 1-sqrt
    decay printed as ease(..., power=0.5). Both read as "sqrt", and wsd prints as the cooldown it is."""
    for spelling in ("1-sqrt", "sqrt"):
        w = ls.wsd(1.0, steps=100, warmup_steps=10, decay_steps=20, decay=spelling)
        assert repr(w) == "cooldown(warmup(constant(1), steps=10), at=80, steps=20, shape='sqrt')"
        c = ls.cooldown(ls.constant(1.0), at=80, steps=20, shape=spelling)
        assert c == ls.cooldown(ls.constant(1.0), at=80, steps=20, shape="sqrt") and c.shape == "sqrt"
        t = np.arange(0, 130, dtype=float)
        want = np.where(t <= 10, t / 10, np.where(t <= 80, 1.0, 1 - np.sqrt(np.clip(t - 80, 0, 20) / 20)))
        close(w(t), want)
        assert (
            ls.from_dict(
                {
                    "type": "cooldown",
                    "schedule": {"type": "constant", "value": 1},
                    "at": 80,
                    "steps": 20,
                    "shape": spelling,
                }
            )
            == c
        )
        recipe = {"type": "wsd", "peak": 1, "steps": 100, "warmup_steps": 10, "decay_steps": 20, "decay": spelling}
        assert ls.from_dict(recipe) == w
    assert repr(ls.wsd(1.0, 100, 0, 30, end=0.1)) == "cooldown(constant(1), at=70, steps=30, to=0.1)"
    with pytest.raises(ValueError, match="shape must be one of"):
        ls.cooldown(ls.constant(1.0), at=1, steps=3, shape="2-sqrt")
