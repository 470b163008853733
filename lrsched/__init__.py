"""lrsched: learning-rate schedules as plain values.

A schedule is an immutable, composable function from the 1-indexed iteration t
(t = 1 is the first update) to a learning rate:

>>> import lrsched as ls
>>> s = ls.warmup(ls.cosine(0.1, 1e-5, steps=9_000), steps=1_000)
>>> s(1), s(1_000)
(0.0001, 0.1)
>>> s.values(10_000).shape
(10000,)
>>> ls.from_json(s.to_json()) == s
True
"""

from __future__ import annotations

# the classes stay importable (isinstance); the public spelling of each kind is the lowercase one below
from .algebra import (  # noqa: F401
    Add,
    Ceil,
    Clip,
    Div,
    Exp,
    Floor,
    Function,
    Log,
    Maximum,
    Minimum,
    Mul,
    PerEpoch,
    Pow,
    Round,
    Shift,
    Sqrt,
    Stretch,
    Sub,
    Warp,
    ceil,
    exp,
    floor,
    log,
    maximum,
    minimum,
    round,
    sqrt,
)
from .binding import TimeWarning
from .combinators import Cooldown, Cycle, Extend, Join, Warmup
from .loop import iterate, set_lr
from .lr_range import LRSuggestion, range_test, suggest_lr
from .parsing import FRAMEWORKS, parse
from .plateau import Plateau, PlateauState, SyncError, plateau, plateau_tracker
from .primitives import (
    Clock,
    Constant,
    Cosine,
    Ease,
    Exponential,
    Geometric,
    Interpolate,
    InverseSqrt,
    InverseTime,
    Linear,
    Multistep,
    Piecewise,
    Poly,
    Step,
    Tanh,
)
from .recipes import (
    d2z,
    exp_range,
    flat_cos,
    noam,
    one_cycle,
    sgdr,
    triangular,
    triangular2,
    warmup_cosine,
    wsd,
    wsd_s,
)
from .schedule import REGISTRY, Schedule
from .serialize import from_dict, from_json
from .symbols import epoch, total

__version__ = "0.1.0"

# The constructors, under the names their reprs and configs use.
constant = Constant
linear = Linear
cosine = Cosine
poly = Poly
ease = Ease
tanh = Tanh
geometric = Geometric
exponential = Exponential
step = Step
multistep = Multistep
piecewise = Piecewise
interpolate = Interpolate
inverse_sqrt = InverseSqrt
inverse_time = InverseTime
join = Join
warmup = Warmup
cycle = Cycle
cooldown = Cooldown
extend = Extend
#: the clock itself: t(t) == t (see :class:`Clock`)
t = Clock()
function = Function


def compile_kernels() -> str:
    """Compile the evaluation kernel now and cache it on disk; returns where (``python -m lrsched --compile``).

    Evaluation never waits for it: until the compiled kernel is cached, values
    and short ranges run the same kernel source as plain Python. Run this once
    where a compile is cheap (a Dockerfile, a CI cache step) and every later
    process, DDP rank and worker loads the compiled kernel from disk.
    """
    from .engine import compile_kernels as _compile

    return _compile()


_SUBMODULES = (*FRAMEWORKS, "loop", "analysis", "plotting")


def plot(schedules, n, ax=None, **kwargs):
    """Plot schedules over t = 1 .. n (see :func:`lrsched.plotting.plot`; needs matplotlib)."""
    from .plotting import plot as _plot

    return _plot(schedules, n, ax, **kwargs)


def __getattr__(name):
    """The framework modules (:data:`FRAMEWORKS`: ``lrsched.torch``, ``.mxnet``, ``.optax``, ``.transformers``,
    ``.timm``, ``.keras``, ``.deepspeed``, ``.megatron``, ``.nemo``) load on first use; none imports its framework
    until it needs it."""
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'lrsched' has no attribute {name!r}")


__all__ = [
    "REGISTRY",
    "LRSuggestion",
    "Plateau",
    "PlateauState",
    "Schedule",
    "SyncError",
    "TimeWarning",
    "ceil",
    "compile_kernels",
    "constant",
    "cooldown",
    "cosine",
    "cycle",
    "d2z",
    "ease",
    "epoch",
    "exp",
    "exp_range",
    "exponential",
    "extend",
    "flat_cos",
    "floor",
    "from_dict",
    "from_json",
    "function",
    "geometric",
    "interpolate",
    "inverse_sqrt",
    "inverse_time",
    "iterate",
    "join",
    "linear",
    "log",
    "maximum",
    "minimum",
    "multistep",
    "noam",
    "one_cycle",
    "parse",
    "piecewise",
    "plateau",
    "plateau_tracker",
    "plot",
    "poly",
    "range_test",
    "set_lr",
    "sgdr",
    "sqrt",
    "step",
    "suggest_lr",
    "t",
    "tanh",
    "total",
    "triangular",
    "triangular2",
    "warmup",
    "warmup_cosine",
    "wsd",
    "wsd_s",
]
