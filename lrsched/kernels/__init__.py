"""The evaluation kernel: plain Python, run as it is or compiled by numba from the same source.

A schedule reaches the kernel as a *program*, the two flat arrays that
:mod:`lrsched.layout` describes. One generic evaluator,
:func:`~lrsched.kernels.interpreter.evaluate`, walks the tree once per
*segment*: a run of sorted iterations that takes the same path through every
join, warmup and cycle. Each leaf then runs a tight loop over its segment, so
a schedule costs about what its leaves cost, and a new schedule never
compiles anything.

- :mod:`.leaves`: one formula per leaf opcode, and the dispatch on opcodes;
- :mod:`.cycles`: where cycle i starts and which cycle holds t, exactly;
- :mod:`.interpreter`: the tree walk, and the entry point ``evaluate``.

Two tiers run this one source (:mod:`lrsched.engine` picks one per call):
imported as it is, it is plain Python over NumPy arrays, which gives a value
at once; :mod:`lrsched.compiled` loads the same files again with numba's
decorators (``_decorators``), for long ranges, and for every call once
numba's on-disk cache holds them. Both give the same bits.

Progress is built in: every segment handed to a kid starts at the element
that selected it and contains it, so each step of the walk consumes at least
one element, and the searches for a cycle are bounded (a fixed number of
corrections of a closed-form guess). No ``fastmath``: IEEE semantics. An
opcode the kernel does not know raises ValueError.
"""

from .cycles import cycle_start
from .interpreter import BLOCK, NCOL, evaluate, scratch, scratch_sizes

__all__ = ["BLOCK", "NCOL", "cycle_start", "evaluate", "scratch", "scratch_sizes"]
