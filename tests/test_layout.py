"""lrsched/layout.py: every opcode declared once and unique, each with its kernel parameters, each leaf's formula
taking them by name and in order, and what a new primitive takes."""

from __future__ import annotations

import inspect

import pytest

from lrsched import layout


def test_each_leaf_formula_takes_the_declared_parameters_in_order():
    """Every leaf opcode the layout declares (below JOIN) has a formula ``_<name>`` in kernels/leaves.py
    taking its PARAMS, by name and in order (CONST is written inline in the dispatch)."""
    from lrsched.kernels import leaves as k

    ops = {name: op for op, name in layout.NAMES.items() if op < layout.JOIN}
    assert set(ops.values()) == {op for op in layout.PARAMS if op < layout.JOIN}
    for name, op in ops.items():
        if op == layout.CONST:
            continue
        fn = getattr(k, "_" + name.lower(), None)
        assert fn is not None, f"kernels/leaves.py has no formula _{name.lower()} for layout.{name}"
        names = list(inspect.signature(fn).parameters)[2:]  # after (t, out)
        assert tuple(names[: len(layout.PARAMS[op])]) == layout.PARAMS[op], (name, names)
        assert f"op == L.{name}:" in inspect.getsource(k.leaf), f"leaf() does not dispatch layout.{name}"


def test_a_duplicated_opcode_or_a_missing_parameter_list_stops_the_import_by_name():
    with pytest.raises(RuntimeError, match="opcode 1 is declared twice, as LINEAR and as REX: give REX a free one"):
        layout.check_opcodes({"LINEAR": 1, "REX": 1})
    assert set(layout.PARAMS) == set(layout.NAMES)  # every opcode has its parameters, and no other
    assert len(set(layout.NAMES.values())) == len(layout.NAMES)


def test_the_next_leaf_is_free_and_below_the_nodes():
    assert layout.NEXT_LEAF not in layout.NAMES and layout.NEXT_LEAF < layout.JOIN
    assert all(op < layout.NEXT_LEAF for op in layout.NAMES if op < layout.JOIN)


def test_pack_lays_out_every_declared_name_and_nothing_else():
    assert layout.pack(layout.LINEAR, {"end": 0.0, "steps": 10, "start": 1.0}) == [1.0, 0.0, 10.0]
    assert layout.pack(layout.FLOOR, {"multiple": 64}) == [64.0]
    with pytest.raises(RuntimeError, match="lays out"):
        layout.pack(layout.LINEAR, {"start": 1.0, "end": 0.0})
