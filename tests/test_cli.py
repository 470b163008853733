"""python -m lrsched: previews, and clean refusals."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest

import lrsched as ls
from lrsched.cli import main, parse
from tests.test_values import SERIALIZABLE


@pytest.mark.parametrize("s", SERIALIZABLE, ids=repr)
def test_parse_reads_every_repr(s):
    assert parse(repr(s)) == s


def test_expression_preview(capsys):
    assert main(["-e", "warmup(cosine(0.1, 1e-5, steps=900), steps=100)"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("warmup(cosine(0.1, 1e-05, steps=900), steps=100)\n")
    assert "phase boundaries: 100, 1000" in out
    assert "t = 1 .. 1001" in out
    assert "█" in out


def test_config_file_and_stdin(tmp_path, capsys, monkeypatch):
    s = ls.sgdr(0.1, 100, period_mult=2, limit=3)
    path = tmp_path / "s.json"
    path.write_text(s.to_json())
    assert main([str(path)]) == 0
    assert repr(s) in capsys.readouterr().out
    monkeypatch.setattr(sys, "stdin", io.StringIO(s.to_json()))
    assert main(["-", "-n", "50"]) == 0
    assert "t = 1 .. 50" in capsys.readouterr().out


def test_png(tmp_path, capsys):
    pytest.importorskip("matplotlib", reason="installed by the README test command")
    out = tmp_path / "s.png"
    assert main(["-e", "one_cycle(0.1, 1000)", "-o", str(out), "--log", "--steps-per-epoch", "100"]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-e", "__import__('os').system('true')"], "unknown function"),
        (["-e", "cosine(0.1, 0, steps=10).__class__"], "not allowed"),
        (["-e", "open('/etc/passwd')"], "unknown function 'open'"),
        (["-e", "[x for x in range(3)]"], "not allowed"),
        (["-e", "lambda: 1"], "not allowed"),
        (["-e", "cosine(0.1, 0, steps=0)"], "steps must be > 0, got 0"),
        (["-e", "cosine(0.1, 0, steps=10"], "not an expression"),
        (["-e", "1 + 2"], "not a schedule"),
        (["-e", "constant(0.1).shift(" * 80 + "1" + ")" * 80], "nests"),
        (["-e", "exponential(0.1, 0.99)"], "never settles: give -n"),
        (["-e", "cosine(0.1, 0, steps=10)", "-n", "0"], "-n must be >= 1"),
        (["/nonexistent/schedule.json"], "No such file"),
    ],
)
def test_bad_input_exits_2_with_a_message(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("lrsched: error:")
    assert message in err


def test_bad_configs(tmp_path, capsys):
    cases = {
        "not JSON": "{oops",
        "unknown schedule type 'sawtooth'": '{"lrsched": 1, "schedule": {"type": "sawtooth"}}',
        "missing field 'steps'": '{"lrsched": 1, "schedule": {"type": "cosine", "start": 1, "end": 0}}',
        "nests too deeply": "[" * 100_000 + "]" * 100_000,
    }
    for message, text in cases.items():
        path = tmp_path / "bad.json"
        path.write_text(text)
        assert main([str(path)]) == 2
        assert message in capsys.readouterr().err


def test_module_entry_point_runs():
    done = subprocess.run(
        [sys.executable, "-m", "lrsched", "-e", "step(0.1, every=10, factor=0.5, minimum=0.01)"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "phase boundaries: 10, 20, 30, 40" in done.stdout
    bad = subprocess.run([sys.executable, "-m", "lrsched", "-e", "nope()"], capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and "unknown function 'nope'" in bad.stderr
