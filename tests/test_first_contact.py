"""What a new user meets first: real signatures, errors that name the mistake, one spelling per kind.

The command line's first contact (suggestions, bounded reads) is in tests/test_cli.py.
"""

from __future__ import annotations

import inspect
import os
import pydoc
import subprocess
import sys

import pytest

import lrsched as ls
from lrsched.value import REQUIRED

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize("kind", sorted(ls.REGISTRY))
def test_every_constructor_shows_its_parameters_and_defaults(kind):
    cls = ls.REGISTRY[kind]
    params = inspect.signature(cls).parameters
    assert list(params) == [f.name for f in cls.fields]
    for f in cls.fields:
        want = inspect.Parameter.empty if f.default is REQUIRED else f.default
        assert params[f.name].default == want, (kind, f.name)


def test_help_shows_the_signature():
    text = pydoc.render_doc(ls.cosine, renderer=pydoc.plaintext)
    assert "Cosine(start, end, steps, periodic=False, exponent=1.0)" in text
    text = pydoc.render_doc(ls.cycle, renderer=pydoc.plaintext)
    signature = "Cycle(schedule, period, period_mult=1.0, decay=1.0, limit=None, zero_based=False, whole_periods=False)"
    assert signature in text


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: ls.cosine(0.1, 0, stepz=100), "unexpected parameter 'stepz'; did you mean 'steps'?"),
        (lambda: ls.warmup(ls.constant(1), warmup_steps=100), "unexpected parameter 'warmup_steps'; did you mean"),
        (lambda: ls.cycle(ls.constant(1), 10, periodmult=2), "did you mean 'period_mult'?"),
        (lambda: ls.linear(1, 0, 3, foo=1), "unexpected parameter 'foo'; the parameters are start, end, steps"),
    ],
)
def test_a_misspelled_keyword_is_named_with_the_closest_valid_one(call, message):
    with pytest.raises(TypeError, match=message.replace("?", r"\?").replace("(", r"\(")):
        call()


def test_one_public_spelling_per_kind():
    classes = {cls.__name__ for cls in ls.REGISTRY.values()}
    assert not classes & set(ls.__all__)
    for kind in ls.REGISTRY:
        if hasattr(ls, kind) and kind != "round":
            assert kind in ls.__all__, kind
    # lrsched.round is not star-exported, where it would hide Python's round; that rounds a schedule the same way
    assert "round" not in ls.__all__ and round(ls.t) == ls.round(ls.t) and type(round(ls.t)) is ls.Round
    assert isinstance(ls.cosine(1, 0, steps=2), ls.Cosine)  # the classes stay importable


@pytest.mark.slow  # 3.5 s: a piecewise of a million boundaries (the quick loop leaves it out)
def test_error_messages_quote_a_bounded_excerpt_and_the_index():
    with pytest.raises(ValueError, match="strictly increasing") as info:
        ls.piecewise(list(range(1_000_000, 0, -1)), [1.0] * 1_000_001)
    text = str(info.value)
    assert len(text) < 400
    assert "tuple of 1000000" in text and "boundaries[1] = 999999.0" in text
    with pytest.raises(TypeError) as info:
        ls.constant("x" * 10_000)
    assert len(str(info.value)) < 300


def test_error_messages_show_values_python_cannot_print():
    """An int of over 4300 digits (str() refuses it) and lists nested thousands deep (repr recurses), wherever an
    error message quotes a value: the message says what it was, and the error is the library's own."""
    deep: list = []
    for _ in range(5000):
        deep = [deep]
    huge = 10**5000
    big = "<an int of 16610 bits, about 10**5000>"
    cases = [
        (lambda: round(ls.t, huge), TypeError, f"ndigits={big}"),
        (lambda: round(ls.total, huge), TypeError, big),
        (lambda: ls.t([huge, 2]), TypeError, f"[{big}, 2]"),
        (lambda: ls.minimum(ls.t, (1, huge)), TypeError, f"right must be a schedule or a number, got (1, {big})"),
        (lambda: ls.t.quantize([huge]), TypeError, f"multiple must be a real number, got [{big}]"),
        (lambda: ls.minimum(ls.t, deep), TypeError, "right must be a schedule or a number, got <a list nested too"),
        (lambda: ls.warmup(deep, steps=3), TypeError, "schedule must be a schedule or a number, got <a list nested"),
        (lambda: ls.cycle(deep, 3), TypeError, "schedule must be a schedule or a number, got <a list nested"),
        (lambda: ls.join(deep, [1]), TypeError, "schedules[0] must be a schedule or a number, got <a list nested"),
        (lambda: ls.interpolate(deep), TypeError, "points[0] must be a (t, value) pair, got <a list nested"),
        (lambda: ls.from_dict({"type": huge}), ValueError, f"unknown schedule type {big}"),
        (lambda: ls.from_dict({"type": deep}), ValueError, "unknown schedule type <a list nested too deeply"),
        (lambda: ls.from_dict({"lrsched": deep, "schedule": {}}), ValueError, "version <a list nested too deeply"),
        (lambda: ls.from_dict({huge: 1}), ValueError, f"no 'type' in ['{big}']"),
        (lambda: ls.from_dict({huge: 1, "lrsched": 1, "schedule": {}}), ValueError, f"unknown top-level key '{big}'"),
        (lambda: ls.from_dict({"type": "warmup_cosine", huge: 1}), ValueError, f"unknown field {big} for 'warmup_"),
        (lambda: ls.from_json('{"type": "constant", "value": ' + "9" * 5000 + "}"), ValueError, "(4300 digits)"),
    ]
    for build, error, text in cases:
        with pytest.raises(error) as info:
            build()
        assert text in str(info.value), (text, str(info.value))


def test_t_may_be_anything_numpy_turns_into_numbers():
    torch = pytest.importorskip("torch", reason="installed by the README test command")
    import numpy as np

    s = ls.linear(1.0, 0.0, 10)
    for t in (torch.tensor(5), np.float32(5), np.int64(5), np.array(5.0)):
        y = s(t)
        assert y == 0.5, t
    assert type(s(torch.tensor(5))) is float
    np.testing.assert_array_equal(s(torch.tensor([1, 2])), [0.9, 0.8])
    with pytest.raises(TypeError, match="t must be a number"):
        s("5")
    deep: list = []
    for _ in range(5000):
        deep = [deep]
    hostile = [np.complex128(1), np.str_("1"), np.bytes_(b"1"), np.datetime64("2020"), np.timedelta64(3, "D")]
    hostile += [np.timedelta64(3), torch.tensor(1 + 1j), [[1], [2, 3]], deep]  # numpy once recursed on the first ones
    for t in hostile:
        with pytest.raises(TypeError, match="t must be a number or an array of numbers, got"):
            s(t)


def test_type_checkers_see_the_fields(tmp_path):
    pytest.importorskip("mypy", reason="installed by the README test command")
    code = tmp_path / "use.py"
    code.write_text(
        "import lrsched as ls\n"
        "c = ls.constant(0.1)\n"
        "x = c.value\n"
        "s = ls.cosine(0.1, 0.0, steps=10)\n"
        "y = s.steps + s.start\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "--follow-imports=silent", str(code)],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "has no attribute" not in proc.stdout
