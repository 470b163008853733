"""What a new user meets first: real signatures, errors that name the mistake, one spelling per kind."""

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
    assert "Cycle(schedule, period, period_mult=1.0, decay=1.0, limit=None, zero_based=False)" in text


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


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "lrsched", *args], capture_output=True, text=True, timeout=240, cwd=ROOT
    )


def test_cli_suggests_the_function_meant():
    proc = _cli("-e", "cosin(0.1, 0, steps=100)")
    assert proc.returncode == 2
    assert "unknown function 'cosin'; did you mean 'cosine'?" in proc.stderr
    proc = _cli("-e", "torch.step_l(0.1, 30)")
    assert "did you mean 'torch.step_lr'?" in proc.stderr


def test_cli_previews_an_expression_given_where_a_file_was_expected():
    proc = _cli("cosine(0.1, 0, steps=100)", "-n", "5")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("cosine(0.1, 0, steps=100)")
    proc = _cli("cosin(0.1, 0, steps=100)")
    assert proc.returncode == 2
    assert "is not a file, and as an expression (-e): unknown function 'cosin'" in proc.stderr


def test_one_public_spelling_per_kind():
    classes = {cls.__name__ for cls in ls.REGISTRY.values()}
    assert not classes & set(ls.__all__)
    for kind in ls.REGISTRY:
        if hasattr(ls, kind):
            assert kind in ls.__all__, kind
    assert isinstance(ls.cosine(1, 0, steps=2), ls.Cosine)  # the classes stay importable


def test_plateau_lr_step_with_a_metric_points_to_report():
    torch = pytest.importorskip("torch", reason="the torch adapter")
    import lrsched.torch

    model = torch.nn.Linear(2, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = lrsched.torch.plateau_lr(opt, ls.constant(0.1), ls.plateau(patience=0))
    opt.step()
    with pytest.raises(TypeError, match=r"report\(metric\)"):
        sched.step(0.5)
    sched.step()
    sched.report(1.0)
    assert opt.param_groups[0]["lr"] == 0.1


@pytest.mark.parametrize("path", ["", "/dev/full", "plot.pdf", "plot"])
def test_cli_writes_only_the_png_path_it_is_given(path, tmp_path):
    target = str(tmp_path / path) if path.startswith("plot") else path
    proc = _cli("-e", "linear(1, 0, 5)", "-o", target)
    assert proc.returncode == 2
    assert "-o writes a PNG file: give a path ending in .png" in proc.stderr
    assert not list(tmp_path.iterdir())


def test_cli_reads_a_bounded_amount_of_a_config():
    for device in ("/dev/zero", "/dev/urandom"):
        if os.path.exists(device):
            proc = _cli(device)
            assert proc.returncode == 2
            assert "larger than 10000000 bytes, not a schedule config" in proc.stderr


def test_error_messages_quote_a_bounded_excerpt_and_the_index():
    with pytest.raises(ValueError, match="strictly increasing") as info:
        ls.piecewise(list(range(1_000_000, 0, -1)), [1.0] * 1_000_001)
    text = str(info.value)
    assert len(text) < 400
    assert "tuple of 1000000" in text and "boundaries[1] = 999999.0" in text
    with pytest.raises(TypeError) as info:
        ls.constant("x" * 10_000)
    assert len(str(info.value)) < 300


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


def test_every_framework_module_loads_on_attribute_access_and_in_the_cli():
    code = "import lrsched; print(lrsched.optax.__name__, lrsched.transformers.__name__, lrsched.timm.__name__, "
    code += "lrsched.keras.__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["lrsched.optax", "lrsched.transformers", "lrsched.timm", "lrsched.keras"]
    for expr in (
        "optax.warmup_cosine_decay_schedule(0, 0.1, 100, 1000)",
        "keras.CosineDecay(0.1, 1000)",
        "timm.CosineLRScheduler(0.1, 100)",
        "transformers.get_linear_schedule_with_warmup(0.1, 10, 100)",
    ):
        proc = _cli("-e", expr, "-n", "20")
        assert proc.returncode == 0, (expr, proc.stderr)


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
