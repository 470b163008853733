"""python -m lrsched: previews, and clean refusals."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest

import lrsched as ls
from lrsched.cli import main, parse
from tests.test_values import SERIALIZABLE

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


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


README_YAML = """# schedule.yaml
type: warmup_cosine
peak: 3e-4            # YAML 1.1 reads this as a string; lrsched reads it as the number
steps: total
warmup_steps: 0.05 * total
"""


def test_yaml_config_file(tmp_path, capsys):
    """The README's config section is YAML: the CLI reads it (with PyYAML) and binds --total."""
    pytest.importorskip("yaml", reason="installed with lrsched[config]")
    path = tmp_path / "schedule.yaml"
    path.write_text(README_YAML)
    assert main([str(path), "--total", "1000"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("warmup(cosine(0.0003, 0, steps=950), steps=50)\n")  # 1000 - 0.05 * 1000, 0.05 * 1000
    path.write_text("type: constant\nvalue: [1, {oops")
    assert main([str(path)]) == 2
    err = capsys.readouterr().err
    assert "not JSON (" in err and "and not YAML:" in err and "Traceback" not in err
    assert "text is not JSON" not in err  # the file is named, once
    path.write_text("- 1\n- 2\n")
    assert main([str(path)]) == 2
    assert "as YAML it is a list, not a config" in capsys.readouterr().err


def test_yaml_without_pyyaml_says_to_install_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "yaml", None)  # import yaml raises ImportError
    path = tmp_path / "schedule.yaml"
    path.write_text(README_YAML)
    assert main([str(path), "--total", "1000"]) == 2
    assert "for a YAML config install PyYAML (pip install pyyaml" in capsys.readouterr().err


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
        # what argparse refuses is said on one line too, not after the usage
        (["-e", "constant(1)", "-n", "x"], "argument -n: invalid int value: 'x' (python -m lrsched --help)"),
        (["-e", "constant(1)", "--total", "1.5"], "argument --total: invalid int value: '1.5'"),
        ([], "one of the arguments config -e/--expr --compile is required"),
        (["-e", "constant(value=1, value=2)"], "constant(): keyword argument 'value' repeated"),
    ],
)
def test_bad_input_exits_2_with_a_message(argv, message, capsys):
    try:
        status = main(argv)
    except SystemExit as e:  # what argparse refuses exits
        status = e.code
    assert status == 2
    err = capsys.readouterr().err
    assert err.startswith("lrsched: error:") and err.count("\n") == 1, err
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


# ---------------------------------------------------------------- a new user's mistakes, bounded input, frameworks


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


# ---------------------------------------------------------------- the run's length: --total and --steps-per-epoch


def test_cli_binds_total(capsys):
    assert main(["-e", "cosine(0.1, 0, steps=total)", "--total", "100"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("cosine(0.1, 0, steps=100)\n")
    assert main(["-e", "step(0.1, every=3 * epoch, factor=0.5)", "--steps-per-epoch", "10", "-n", "50"]) == 0
    assert capsys.readouterr().out.startswith("step(0.1, every=30, factor=0.5)\n")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-e", "cosine(0.1, 0, steps=total)"], "total"),
        (["-e", "cosine(0.1, 0, steps=total)", "--total", "0"], "total"),
        (["-e", "cosine(0.1, 0, steps=total - 500)", "--total", "100"], "total"),
        (["-e", "cosine(0.1, 0, steps=totl)", "--total", "100"], "totl"),
        (["-e", "step(0.1, every=3 * epoch, factor=0.5)", "--total", "100"], "epoch"),
        (["-e", "step(1, every=total / epoch, factor=0.5)", "--total", "100"], "epoch"),
    ],
    ids=lambda x: " ".join(x) if isinstance(x, list) else x,
)
def test_cli_refuses_unbound_with_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("lrsched: error:") and message in err


def test_cli_as_a_program():
    import subprocess
    import sys

    ok = subprocess.run(
        [sys.executable, "-m", "lrsched", "-e", "cosine(0.1, 0, steps=total)", "--total", "100"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("cosine(0.1, 0, steps=100)\n")
    bad = subprocess.run(
        [sys.executable, "-m", "lrsched", "-e", "cosine(0.1, 0, steps=total)"], capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert bad.returncode == 2
    assert "total" in bad.stderr and "Traceback" not in bad.stderr
    read, write = os.pipe()
    os.close(read)  # the reader has gone before the first line (as `| head -0`): every write is a broken pipe
    try:
        cut = subprocess.run(
            [sys.executable, "-m", "lrsched", "-e", "cosine(0.1, 0, steps=100)"],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(write)
    assert cut.returncode == 141, cut.stderr  # as a program killed by SIGPIPE, and quiet
    assert cut.stderr == ""


# ---------------------------------------------------------------- previews that must finish in bounded time and memory


@pytest.mark.parametrize(
    "expr",
    [
        "cycle(linear(1, 0, 4), 4, period_mult=0.5, limit=1000000000000)",
        "cycle(linear(1, 0, 4), 1e-300)",
        "triangular(0.1, 1, 2).shift(-1e20)",
        "sgdr(0.1, 1000, period_mult=1.2)",
    ],
)
def test_cli_previews_of_former_hangs_finish(expr):
    proc = subprocess.run(
        [sys.executable, "-m", "lrsched", "-e", expr, "-n", "10"],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    assert "t = 1 .. 10" in proc.stdout or "1 .. 10" in proc.stdout, proc.stdout


def test_cli_previews_a_trillion_steps_in_bounded_time_and_memory(tmp_path):
    import os
    import subprocess
    import sys

    # the peak of this process's own memory: VmHWM (ru_maxrss would count the parent's, the xdist worker's, whose
    # memory a forked child starts from), on the interpreted tier: an empty cache of its own (a warm cache's numba
    # adds ~120 MB)
    if not os.path.exists("/proc/self/status"):
        pytest.skip("reads the peak memory from /proc (Linux)")
    code = (
        "import sys; from lrsched.cli import main; rc = main(['-e', 'cosine(0.1, 0, steps=1e12)']); "
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]; "
        "print(hwm, file=sys.stderr); sys.exit(rc)"
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=240, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "sampled, not exact" in proc.stdout
    assert int(proc.stderr.strip().splitlines()[-1]) < 500_000  # KB: under 500 MB (about 180 MB here)
