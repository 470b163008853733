"""The kernel layout: every node kind's opcode and the names of its kernel parameters, declared once.

A schedule reaches the kernel (:mod:`lrsched.kernels`) as a *program*: two flat
arrays made by :mod:`lrsched.engine`.

``ip`` (int64)
    ``ip[0]`` number of nodes, ``ip[1]`` root node, ``ip[2]`` rows of scratch
    (tree height + 2), ``ip[3]`` number of ``function`` leaves; then one record
    of four integers per node, ``(op, float offset, kid offset, kid count)``,
    then the kid lists.
``fp`` (float64)
    every node's kernel parameters, at the node's float offset, in the order
    :data:`PARAMS` gives (flags as 0.0 / 1.0; a join's are its boundaries; a
    whole-period cycle's table of cycle starts follows its parameters).

:data:`PARAMS` is the one place that names them. Each kind's ``_encode``
passes its values by name (a leaf's ``Leaf._kernel_values`` in
:mod:`lrsched.primitives`, to ``Encoder.leaf``; a node's to ``Encoder.node``),
:func:`pack` lays them out in that order, and each leaf
formula in :mod:`lrsched.kernels.leaves` takes them as arguments of the same
names in the same order (tests/test_layout.py checks this);
:mod:`lrsched.kernels.arrays` reads them in the same order. This module is
plain Python: building schedules never imports numba.

The numbers are frozen into the compiled kernel, whose on-disk cache is keyed
on the content of the kernel files and of this one
(:func:`lrsched.compiled.content_key`): a changed opcode recompiles it.
"""

from __future__ import annotations

# Leaves: formulas over the phase-local iteration t.
CONST = 0
LINEAR = 1
COSINE = 2
POLY = 3
GEOMETRIC = 4
EXPONENTIAL = 5
INV_SQRT = 6
INV_TIME = 7
FUNCTION = 8
EASE = 9
TANH = 10
CLOCK = 11
# Nodes that route time to their kids.
JOIN = 20
CYCLE = 21
SHIFT = 22
STRETCH = 23
PER_EPOCH = 24
CLIP = 25
WARP = 26
# Binary arithmetic on two kids evaluated at the same t.
ADD = 30
SUB = 31
MUL = 32
DIV = 33
MIN = 34
MAX = 35
POW = 36
# Functions of one kid's value at the node's own t.
EXP = 40
LOG = 41
SQRT = 42
FLOOR = 43
CEIL = 44
ROUND = 45


def check_opcodes(declared: dict[str, int]) -> dict[int, str]:
    """Every opcode's name, from the constants above; two kinds declared with one opcode are refused, by name.

    >>> check_opcodes({"LINEAR": 1, "REX": 1})
    Traceback (most recent call last):
    ...
    RuntimeError: lrsched.layout: opcode 1 is declared twice, as LINEAR and as REX: give REX a free one
    """
    names: dict[int, str] = {}
    for name, op in declared.items():
        if op in names:
            raise RuntimeError(
                f"lrsched.layout: opcode {op} is declared twice, as {names[op]} and as {name}: give {name} a free one"
            )
        names[op] = name
    return names


#: every opcode's name (checked at import: a duplicated opcode stops it, naming both kinds)
NAMES: dict[int, str] = check_opcodes({k: x for k, x in dict(globals()).items() if k.isupper() and type(x) is int})
#: the next free leaf opcode (leaves are below 20): what a new primitive takes
NEXT_LEAF = max(op for op in NAMES if op < 20) + 1

#: the kernel parameters of each opcode, in layout order
PARAMS: dict[int, tuple[str, ...]] = {
    CONST: ("value",),
    LINEAR: ("start", "end", "steps"),
    COSINE: ("start", "end", "steps", "periodic", "exponent"),
    POLY: ("start", "end", "steps", "power"),
    GEOMETRIC: ("start", "end", "steps"),
    EXPONENTIAL: ("start", "factor", "every", "staircase", "low", "high"),
    INV_SQRT: ("start", "scale"),
    INV_TIME: ("start", "rate", "every", "staircase"),
    FUNCTION: ("index",),
    EASE: ("start", "end", "steps", "power"),
    TANH: ("start", "end", "steps", "lb", "ub"),
    CLOCK: (),
    JOIN: (),  # variable: the boundaries, one fewer than the kids
    CYCLE: ("period", "period_mult", "decay", "limit", "zero_based", "whole", "tail_period", "tail_mult"),
    SHIFT: ("k",),
    STRETCH: ("factor",),
    PER_EPOCH: ("steps_per_epoch",),
    CLIP: ("low", "high"),
    WARP: ("power", "span"),
    ADD: (),
    SUB: (),
    MUL: (),
    DIV: (),
    MIN: (),
    MAX: (),
    POW: (),
    EXP: (),
    LOG: (),
    SQRT: (),
    FLOOR: ("multiple",),
    CEIL: (),
    ROUND: (),
}
if set(PARAMS) != set(NAMES):  # a kind declared without its parameters, or parameters of no kind
    raise RuntimeError(
        "lrsched.layout: PARAMS must name the parameters of every opcode and no other; missing: "
        f"{sorted(NAMES[op] for op in set(NAMES) - set(PARAMS))}, unknown: {sorted(set(PARAMS) - set(NAMES))}"
    )

HEADER = 4

#: deepest nesting of schedules accepted (the kernel keeps one scratch row per level)
MAX_DEPTH = 64


def pack(op: int, values: dict) -> list[float]:
    """``values`` (name -> number) in the layout order of ``op``; every declared name, nothing else."""
    names = PARAMS[op]
    if set(values) != set(names):
        raise RuntimeError(f"opcode {op} lays out {names}, got {sorted(values)}")
    return [float(values[name]) for name in names]
