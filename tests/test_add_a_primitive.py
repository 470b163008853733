"""Adding a primitive, exactly as the README's list says, in a temporary copy of the package.

The throwaway primitive is a square wave: ``high`` for the first half of every
``period``, ``low`` for the second. The edits below are the README's list, one
per item, and nothing else; a fresh process then checks that evaluation (the
interpreted tier: the copy has no compiled cache), repr, equality, JSON,
composition, analysis and plotting all work from them.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import lrsched
from lrsched import layout

PACKAGE = Path(lrsched.__file__).parent

# 1. layout.py: the next free leaf opcode (layout.NEXT_LEAF), and its kernel parameter names in PARAMS
_LAST = layout.NAMES[layout.NEXT_LEAF - 1]  # the leaf declared last: the new one goes after it
OPCODE = (f"{_LAST} = {layout.NEXT_LEAF - 1}\n", f"{_LAST} = {layout.NEXT_LEAF - 1}\nSQUARE = {layout.NEXT_LEAF}\n")
_LAST_PARAMS = f"    {_LAST}: {layout.PARAMS[layout.NEXT_LEAF - 1]!r},\n".replace("'", '"')
PARAMS = (_LAST_PARAMS, _LAST_PARAMS + '    SQUARE: ("high", "low", "period"),\n')

# 2. kernels/leaves.py: the formula _square, and one dispatch line in leaf()
FORMULA = """
@internal
def _square(t, out, high, low, period):
    half = period / 2.0
    for j in range(t.size):
        k = math.ceil(t[j] / half)
        out[j] = low if k > 0 and k % 2 == 0 else high


@inline
def leaf("""
DISPATCH = (
    "    elif op == L.FUNCTION:\n",
    "    elif op == L.SQUARE:\n        _square(t, out, fp[f], fp[f + 1], fp[f + 2])\n    elif op == L.FUNCTION:\n",
)

# 3. primitives.py: the class (kind, op, fields and checks, docstring formula, structure)
CLASS = '''

class Square(Leaf):
    r"""A square wave: ``high`` over the first half of every ``period``, ``low`` over the second.

    .. math:: \\eta(t) = l \\text{ if } \\lceil 2t / P \\rceil \\text{ is even and } t > 0, \\text{ else } h

    Example:
        >>> square(1.0, 0.5, period=4).values(5).tolist()
        [1.0, 1.0, 0.5, 0.5, 1.0]
    """

    kind = "square"
    op = layout.SQUARE
    fields = (Field("high", v.real), Field("low", v.real), Field("period", v.positive, keyword=True))

    def _breaks(self, stop):
        return multiples(self.period / 2, stop)

    def _settles(self):
        return None
'''

# 4. __init__.py: the public name
PUBLIC = '\nfrom .primitives import Square  # noqa: E402\n\nsquare = Square\n__all__.append("square")\n'


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, f"{path.name}: the README's edit point {old!r} moved"
    path.write_text(text.replace(old, new))


CHECK = """
import json, math, sys
import numpy as np
import lrsched as ls
assert ls.__file__.startswith(sys.argv[1]), ls.__file__

s = ls.square(1.0, 0.25, period=4)
t = np.arange(0, 13, dtype=float)
expected = [1.0 if t == 0 or math.ceil(t / 2) % 2 else 0.25 for t in t]  # the formula, written out
assert s(t).tolist() == expected, s(t)
assert [s(float(x)) for x in t] == expected                                # scalars agree
assert s.values(12).tolist() == expected[1:]

assert repr(s) == "square(1, 0.25, period=4)", repr(s)
assert eval(repr(s), vars(ls)) == s and hash(eval(repr(s), vars(ls))) == hash(s)
assert s != ls.square(1.0, 0.25, period=6)
assert ls.from_json(s.to_json()) == s
assert json.loads(s.to_json())["schedule"]["type"] == "square"
try:
    ls.square(1.0, 0.25, period=-1)
except ValueError as e:
    assert "period" in str(e) and "-1" in str(e), e
else:
    raise AssertionError("period=-1 accepted")

w = ls.warmup(ls.cycle(s, 8, limit=2), steps=4)                           # composes
assert w(4 + 3) == 0.25 and w(4 + 8 + 1) == 1.0
assert ls.from_json(w.to_json()) == w
assert s.length() is None and w.length() == 20.0
assert s.breakpoints(10) == [2.0, 4.0, 6.0, 8.0, 10.0]
text = s.describe(12)
assert "never settles" in text and "JUMP at t = 2: 1 -> 0.25" in text, text

import matplotlib
matplotlib.use("Agg")
ax = ls.plot(s, 12)
assert ax.lines[0].get_ydata().tolist() == expected[1:]
print("ok")
"""


def test_a_new_primitive_from_the_readme_list_alone(tmp_path):
    copy = tmp_path / "lrsched"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc"))
    _edit(copy / "layout.py", *OPCODE)
    _edit(copy / "layout.py", *PARAMS)
    _edit(copy / "kernels" / "leaves.py", "\n\n@inline\ndef leaf(", FORMULA)
    _edit(copy / "kernels" / "leaves.py", *DISPATCH)
    (copy / "primitives.py").write_text((copy / "primitives.py").read_text() + CLASS)
    (copy / "__init__.py").write_text((copy / "__init__.py").read_text() + PUBLIC)

    env = {**os.environ, "PYTHONPATH": str(tmp_path), "NUMBA_CACHE_DIR": str(tmp_path / "cache"), "MPLBACKEND": "Agg"}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CHECK), str(copy)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
    assert "compil" not in done.stderr  # the interpreted tier served it all: nothing waited on numba


def test_an_opcode_given_twice_stops_the_import_naming_both_kinds(tmp_path):
    """The silent trap of hand-numbered opcodes: the new kind given LINEAR's opcode would evaluate as a linear."""
    copy = tmp_path / "layout.py"
    shutil.copy(PACKAGE / "layout.py", copy)
    _edit(copy, OPCODE[0], OPCODE[1].replace(f"SQUARE = {layout.NEXT_LEAF}", f"SQUARE = {layout.LINEAR}"))
    _edit(copy, *PARAMS)
    spec = importlib.util.spec_from_file_location("layout_with_a_duplicate", copy)
    with pytest.raises(RuntimeError, match=f"opcode {layout.LINEAR} is declared twice, as LINEAR and as SQUARE"):
        spec.loader.exec_module(importlib.util.module_from_spec(spec))


def test_an_opcode_without_its_parameters_stops_the_import_naming_it(tmp_path):
    copy = tmp_path / "layout.py"
    shutil.copy(PACKAGE / "layout.py", copy)
    _edit(copy, *OPCODE)  # step 1 half done: no PARAMS line
    spec = importlib.util.spec_from_file_location("layout_without_params", copy)
    with pytest.raises(RuntimeError, match=r"PARAMS must name .* missing: \['SQUARE'\]"):
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
