"""The schedule value type: evaluation, introspection, serialization and algebra over :class:`Value`.

A kind of schedule is declared once (see :mod:`lrsched.value`); this class
adds, for every kind: scalar and array evaluation (:mod:`lrsched.engine`),
introspection (:mod:`lrsched.analysis`), serialization
(:mod:`lrsched.serialize`) and arithmetic.
"""

from __future__ import annotations

import numpy as np

from . import _validate as v
from . import analysis, binding, engine, serialize, structure
from .layout import MAX_DEPTH
from .value import REGISTRY, REQUIRED, Field, Value, format_number, format_value

_set = object.__setattr__
_FLOAT_MAX = 1.7976931348623157e308

__all__ = [
    "MAX_DEPTH",
    "REGISTRY",
    "REQUIRED",
    "Field",
    "Schedule",
    "as_schedule",
    "as_schedules",
    "format_number",
    "format_value",
]


class Schedule(Value):
    """An immutable learning-rate schedule: a function of the iteration t.

    t is 1-indexed: ``s(1)`` is the learning rate of the first update, and
    ``s(0)`` the value before any update. ``s(t)`` takes a number (returns a
    float) or an array (returns a float64 array of the same shape);
    ``s.values(n)`` is ``s`` at t = 1 .. n.
    """

    __slots__ = ()

    # ------------------------------------------------------------ evaluation

    def __call__(self, t):
        """The learning rate at iteration t (a number, or an array of them)."""
        program = self._program or self._compile()
        tt = type(t)
        if tt is float or tt is int:
            if 0 <= t <= _FLOAT_MAX:  # an int beyond the float range goes on to be refused by name
                return program.at(float(t))
        return engine.evaluate(self, program, t)

    def values(self, n: int) -> np.ndarray:
        """The learning rates of the first n updates: ``s(t)`` for t = 1 .. n.

        >>> linear(1.0, 0.0, 4).values(4)
        array([0.75, 0.5 , 0.25, 0.  ])
        """
        n = v.count("n", n, minimum=0)
        return engine.evaluate_range(self, self._program or self._compile(), 1.0, n)

    # ------------------------------------------------------------ introspection

    def length(self) -> float | None:
        """The iteration after which the schedule is constant (None: never); see :mod:`lrsched.structure`.

        >>> warmup(cosine(0.1, 0.0, steps=90), steps=10).length()
        100.0
        """
        return structure.length(self)

    def breakpoints(self, stop: float | None = None) -> list[float]:
        """Where the composition changes phase, up to ``stop`` (default: its length).

        >>> join([constant(1), linear(1, 0, 10)], boundaries=[5]).breakpoints()
        [5.0, 15.0]
        """
        return structure.breakpoints(self, stop)

    def _breaks(self, stop: float) -> set[float]:
        """Where this schedule changes phase, in its own time, up to ``stop`` (each kind declares it).

        :func:`lrsched.structure.breaks_of` keeps the times in (0, stop]; a
        combinator asks its kids through it, in the time each kid sees.
        """
        raise NotImplementedError(f"{type(self).__name__} does not declare where its phases break (_breaks)")

    def _settles(self) -> float | None:
        """A time after which this schedule no longer changes; None if it never settles (each kind declares it)."""
        raise NotImplementedError(f"{type(self).__name__} does not declare where it settles (_settles)")

    def summary(self, stop: int | None = None, start: int = 1, *, annealing_decay=0.999):
        """Exact facts over t = start .. stop: extremes, area, annealing area, jumps, monotone stretches.

        See :func:`lrsched.analysis.summary` (``annealing_decay``: the lambda of the annealing area's momentum).
        """
        return analysis.summary(self, stop, start, annealing_decay=annealing_decay)

    def describe(self, stop: int | None = None, *, annealing_decay=0.999) -> str:
        """A readable summary (see :func:`lrsched.analysis.describe`)."""
        return analysis.describe(self, stop, annealing_decay=annealing_decay)

    # ------------------------------------------------------------ symbols

    def bind(self, **symbols) -> Schedule:
        """This schedule with the symbols ``total`` and ``epoch`` replaced by numbers (see :mod:`lrsched.binding`).

        The result is built through the constructors, so it is checked as if
        written with the numbers, and equal to that schedule; an error names the
        parameter, its expression and the binding. Symbols not given stay; a
        symbol given that the schedule does not hold is refused (a bound
        schedule is not bound again).

        >>> from lrsched import total
        >>> s = warmup(cosine(0.1, 0.0, steps=total - 0.1 * total), steps=0.1 * total)
        >>> s
        warmup(cosine(0.1, 0, steps=total - 0.1 * total), steps=0.1 * total)
        >>> s.bind(total=1000)
        warmup(cosine(0.1, 0, steps=900), steps=100)
        """
        return binding.bind(self, symbols)

    def _bind(self, bindings: dict) -> Schedule:
        """This schedule with ``bindings`` (checked) substituted: its fields, rebuilt (a kind may override)."""
        return binding.bind_fields(self, bindings)

    def _compile(self):
        program = engine.compile_program(self)
        _set(self, "_program", program)
        return program

    def _encode(self, enc) -> int:
        raise NotImplementedError(f"{type(self).__name__} does not say how to encode itself")

    # ------------------------------------------------------------ serialization

    def to_dict(self) -> dict:
        """A versioned dict of plain JSON types; :func:`lrsched.from_dict` rebuilds it."""
        return serialize.to_dict(self)

    def to_json(self, **kwargs) -> str:
        """:meth:`to_dict` as JSON text; :func:`lrsched.from_json` rebuilds it."""
        return serialize.to_json(self, **kwargs)

    # ------------------------------------------------------------ algebra

    def __add__(self, other):
        return _arith("add", self, other)

    def __radd__(self, other):
        return _arith("add", other, self)

    def __sub__(self, other):
        return _arith("sub", self, other)

    def __rsub__(self, other):
        return _arith("sub", other, self)

    def __mul__(self, other):
        return _arith("mul", self, other)

    def __rmul__(self, other):
        return _arith("mul", other, self)

    def __truediv__(self, other):
        return _arith("div", self, other)

    def __rtruediv__(self, other):
        return _arith("div", other, self)

    def __pow__(self, other, modulo=None):
        return NotImplemented if modulo is not None else _arith("pow", self, other)

    def __rpow__(self, other):
        return _arith("pow", other, self)

    def __neg__(self):
        return _arith("mul", -1.0, self)

    # math.floor, math.ceil and round of a schedule: the same as lrsched.floor, .ceil and .round
    def __floor__(self):
        return REGISTRY["floor"](self)

    def __ceil__(self):
        return REGISTRY["ceil"](self)

    def __round__(self, ndigits=None):
        if ndigits is not None:
            raise TypeError(
                f"round(s, ndigits={v.show(ndigits)}): a schedule rounds to whole numbers (s.quantize(q) "
                "rounds down to multiples of q)"
            )
        return REGISTRY["round"](self)

    def __pos__(self):
        return self

    def clip(self, low=None, high=None) -> Schedule:
        """``min(max(s(t), low), high)``; either bound may be None.

        >>> linear(1.0, 0.0, 10).clip(low=0.25)(10)
        0.25
        """
        return REGISTRY["clip"](self, low, high)

    def shift(self, k) -> Schedule:
        """``s(max(t - k, 0))``: start k iterations later (earlier for k < 0).

        >>> linear(1.0, 0.0, 10).shift(5)(10)
        0.5
        """
        return REGISTRY["shift"](self, k)

    def stretch(self, factor) -> Schedule:
        """``s(t / factor)``: the same curve over factor times as many iterations.

        >>> linear(1.0, 0.0, 10).stretch(2)(10)
        0.5
        """
        return REGISTRY["stretch"](self, factor)

    def warp(self, power, span) -> Schedule:
        """``s(span * (t / span) ** power)``: a power clock fixed at 0 and ``span``.

        >>> linear(0.0, 1.0, 10).warp(2, 10)(5)
        0.25
        """
        return REGISTRY["warp"](self, power, span)

    def quantize(self, multiple) -> Schedule:
        """``multiple * floor(s(t) / multiple)``: the value rounded down to a multiple (a :class:`~lrsched.Floor`).

        >>> linear(0, 256, steps=256).quantize(64)(127)
        64.0
        """
        return REGISTRY["floor"](self, multiple)

    def per_epoch(self, steps_per_epoch) -> Schedule:
        """``s(ceil(t / steps_per_epoch))``: an epoch schedule read per update.

        >>> s = step(1.0, every=1, factor=0.5).per_epoch(100)
        >>> s(100), s(101)
        (1.0, 0.5)
        """
        return REGISTRY["per_epoch"](self, steps_per_epoch)

    # ------------------------------------------------------------ what the schedule does to AdamW (issue 25)

    def ema_timescale(self, weight_decay) -> Schedule:
        r"""AdamW's timescale in updates, :math:`\tau(t) = 1 / (\eta(t)\, \lambda)`, as a schedule.

        With decoupled weight decay :math:`\lambda` (torch's ``weight_decay``),
        AdamW's step :math:`\theta_t = (1 - \eta_t \lambda)\, \theta_{t-1} - \eta_t u_t`
        makes the weights an exponential moving average of the updates
        :math:`-u_t / \lambda` with rate :math:`\eta_t \lambda`: they remember
        about the last :math:`\tau(t)` updates (Wang & Aitchison 2024, "How to set
        AdamW's weight decay as you scale model and dataset size", arXiv
        2405.13698, who keep :math:`\tau` fixed as a fraction of the run; Bergsma
        et al. 2025, "Straight to Zero: Why Linearly Decaying the Learning Rate to
        Zero Works Best for LLMs", arXiv 2502.15938, who read it as a fraction of
        the n updates of a run: ``s.ema_timescale(wd) / n``; per epoch:
        ``/ steps_per_epoch``).

        The result is ``1 / (weight_decay * s)``, an ordinary schedule (it
        serializes, and evaluates in both tiers). Where the lr is 0 the
        timescale is infinite, and evaluating it there raises ValueError naming
        t (lrsched's rule for values that are not finite).

        Args:
            weight_decay: :math:`\lambda > 0`, a number; or a schedule
                :math:`\lambda(t)` (a weight-decay schedule, as
                ``lrsched.torch.scheduler(..., weight_decay=w)`` drives it), for
                :math:`1 / (\eta(t)\, \lambda(t))`.

        >>> tau = linear(2**-10, 2**-12, 100).ema_timescale(0.125)  # the lr falls 4 times: tau grows 4 times
        >>> tau
        1 / (0.125 * linear(0.0009765625, 0.000244140625, 100))
        >>> tau(0), tau(100)
        (8192.0, 32768.0)
        """
        return analysis.ema_timescale(self, weight_decay)

    def update_weights(self, weight_decay, n) -> np.ndarray:
        r"""How much each of the first n updates still weighs in AdamW's weights after update n.

        torch's AdamW (decoupled decay) takes :math:`\theta_t = (1 - \eta_t \lambda)\,
        \theta_{t-1} - \eta_t u_t`, so after n updates
        :math:`\theta_n = \theta_0 \prod_{j=1}^{n} (1 - \eta_j \lambda) - \sum_{k=1}^{n} w_k u_k` with

        .. math::

            w_k = \eta_k \prod_{j=k+1}^{n} (1 - \eta_j \lambda), \qquad k = 1, \dots, n,

        unnormalised (:math:`w_n = \eta_n`); this returns :math:`w_1 .. w_n` as a
        float64 array. These are the coefficients of the EMA view of Wang &
        Aitchison 2024 and Bergsma et al. 2025 (:meth:`ema_timescale`); the
        latter compare decay shapes by them: a decay to zero gives the last
        updates small weights and spreads the weight over more of the run.

        Computed in logarithms, :math:`w_k = \eta_k \exp \sum_{j>k} \ln(1 - \eta_j \lambda)`,
        the suffix sums taken by a sum tree: nothing underflows on the way (a
        weight is 0 only where it is below the smallest float), and the
        relative error of :math:`w_k` is at most
        :math:`(\lceil \log_2 n \rceil + 37)\, 2^{-53} \max(L_k, 1)` with
        :math:`L_k = \sum_{j>k} |\ln|1 - \eta_j \lambda||` (the weights that
        matter have :math:`L_k` below 40; measured over 10 million updates of
        a warmup-cosine: 7e-15 at worst, against an exactly summed
        reference); a running product, the optimizer's own arithmetic, drifts
        by up to :math:`2 (n - k)\, 2^{-53}` (measured there: 1.2e-13). n up
        to :data:`lrsched.engine.MAX_VALUES`, with about 5 arrays of n floats
        of memory. A factor :math:`1 - \eta_j \lambda` below 0 flips the sign
        of the weights before it; weights beyond the float range are refused
        by name.

        Args:
            weight_decay: :math:`\lambda > 0`, a number; or a schedule
                :math:`\lambda(t)`, for the factors :math:`1 - \eta_j \lambda_j`.
            n: the number of updates (the run's length), 0 or more.

        >>> w = constant(0.5).update_weights(0.5, 4)  # each later update keeps 1 - 0.25 of it
        >>> w
        array([0.2109375, 0.28125  , 0.375    , 0.5      ])
        >>> bool(np.allclose(w, 0.5 * 0.75 ** np.arange(3, -1, -1)))
        True
        """
        return analysis.update_weights(self, weight_decay, n)


def _arith(op: str, a, b):
    a, b = v._scalar(a), v._scalar(b)  # a 0-d array is its number
    if not (isinstance(a, Schedule) or v._is_real(a)) or not (isinstance(b, Schedule) or v._is_real(b)):
        return NotImplemented
    return REGISTRY[op].of(a, b)


# ---------------------------------------------------------------- field checks


def as_schedule(name: str, value) -> Schedule:
    """A schedule, or a number (read as a constant schedule)."""
    if isinstance(value, Schedule):
        return value
    value = v._scalar(value)  # a 0-d array is its number
    if v._is_real(value):
        return REGISTRY["constant"](v.real(name, value))
    raise TypeError(f"{name} must be a schedule or a number, got {v.show(value)}")


def as_schedules(name: str, values) -> tuple[Schedule, ...]:
    if isinstance(values, Schedule) or not isinstance(values, (list, tuple)):
        raise TypeError(f"{name} must be a list of schedules, got {v.show(values)}")
    return tuple(as_schedule(f"{name}[{i}]", s) for i, s in enumerate(values))
