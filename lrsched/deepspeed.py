"""DeepSpeed: mirrors of ``deepspeed.runtime.lr_schedules`` (WarmupLR, WarmupDecayLR, WarmupCosineLR, OneCycle,
LRRangeTest), pure (nothing here imports deepspeed or torch), and :func:`from_config` for a config's
``"scheduler"`` block.

The clock, as DeepSpeed's engine drives a scheduler: its constructor sets the lr of the first update (at
``last_batch_iteration`` e = -1), and the engine calls ``step()`` after each *applied* update (an fp16 overflow
skip or a gradient-accumulation micro-step does not count). Update t therefore runs at e = t - 2: updates 1 and 2
both get the warmup's start. The mirrors take DeepSpeed's own parameter names and defaults, without the
optimizer; what DeepSpeed reads from the optimizer, its lr, is the keyword ``optimizer_lr`` (refused by name where
it is needed and missing). Each mirror checks every argument before it builds anything; a bad one gets a
TypeError or ValueError naming it and its value.

Both warmup shapes are mirrored: ``warmup_type="log"`` (DeepSpeed's default) is
ln(e + 1) / ln W, written with :func:`lrsched.log` of the clock :data:`lrsched.t`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from . import _validate as v
from .algebra import Log
from .combinators import Join
from .primitives import Clock, Constant, Cosine, InverseTime, Linear, Piecewise
from .schedule import Schedule

__all__ = ["LRRangeTest", "OneCycle", "WarmupCosineLR", "WarmupDecayLR", "WarmupLR", "from_config", "onecycle_momentum"]

#: x for every x up to 2**53, exactly (an unbounded ramp: powers of two make x * 2**53 / 2**53 exact)
_RAMP = Linear(0.0, float(2**53), 2**53)


def _fraction_of(n: float) -> Schedule:
    """min(x / n, 1) at x, computed as DeepSpeed does (one division)."""
    return Linear(0.0, 1.0, 1).stretch(n)


def _warmup_steps(warmup_num_steps, warmup_type) -> int:
    """DeepSpeed's ``max(2, warmup_num_steps)``, after its own check (an integer > 0) and the shape's."""
    w = v.whole("warmup_num_steps", warmup_num_steps, 1)
    v.choice("warmup_type", warmup_type, ("log", "linear"))
    return max(2, w)


def _peak(optimizer_lr, name: str = "optimizer_lr") -> float:
    if optimizer_lr is None:
        raise ValueError(f"{name} is needed: DeepSpeed reads it from the optimizer (its lr), so give it here")
    return v.real(name, optimizer_lr)


def _warmup_gamma(w: int, warmup_type: str) -> Schedule:
    """DeepSpeed's warmup fraction over e = 0 .. W - 1, then 1: e / W, or (1 / ln W) ln(e + 1) for "log"."""
    if warmup_type == "linear":
        return _fraction_of(float(w))
    return Join([(1.0 / math.log(w)) * Log(Clock() + 1.0), Constant(1.0)], [w - 1])


def WarmupLR(
    warmup_min_lr=0.0,
    warmup_max_lr=None,
    warmup_num_steps: int = 1000,
    warmup_type: str = "log",
    *,
    optimizer_lr=None,
) -> Schedule:
    r"""DeepSpeed's ``WarmupLR``: from ``warmup_min_lr`` to ``warmup_max_lr`` over W = max(2, warmup_num_steps)
    updates, then held.

    .. math:: \eta(t) = \ell + (h - \ell) \min\!\left(\frac{\max(t - 2, 0)}{W}, 1\right)

    ℓ = ``warmup_min_lr``, h = ``warmup_max_lr`` (default: ``optimizer_lr``, the optimizer's lr, as DeepSpeed
    reads it). Clock: update t runs at DeepSpeed's e = t - 2, so updates 1 and 2 both get ℓ and h is first used
    at t = W + 2. With ``warmup_type="log"`` (the default) the fraction e / W is ln(e + 1) / ln W instead. To
    the bit, both shapes.

    >>> s = lrsched.deepspeed.WarmupLR(0.0, 1.0, warmup_num_steps=4, warmup_type="linear")
    >>> [s(t) for t in range(1, 8)]
    [0.0, 0.0, 0.25, 0.5, 0.75, 1.0, 1.0]
    """
    lo = v.real("warmup_min_lr", warmup_min_lr)
    hi = v.optional_real("warmup_max_lr", warmup_max_lr)
    given = None if optimizer_lr is None else v.real("optimizer_lr", optimizer_lr)
    w = _warmup_steps(warmup_num_steps, warmup_type)
    if hi is None:
        hi = _peak(given, "optimizer_lr (warmup_max_lr is None, so DeepSpeed uses the optimizer's lr)")
    return (_warmup_gamma(w, warmup_type) * (hi - lo) + lo).shift(2)


def WarmupDecayLR(
    total_num_steps: int,
    warmup_min_lr=0.0,
    warmup_max_lr=0.001,
    warmup_num_steps: int = 1000,
    warmup_type: str = "log",
) -> Schedule:
    r"""DeepSpeed's ``WarmupDecayLR``: :func:`WarmupLR`, then a linear decay to 0 at ``total_num_steps``.

    .. math:: \eta(t) = \ell + (h - \ell)\,\gamma(e), \quad e = \max(t - 2, 0), \quad
        \gamma(e) = \begin{cases} e / W & e < W \\ \max\!\left(0, \frac{N - e}{\max(1, N - W)}\right) & e \ge W
        \end{cases}

    N = ``total_num_steps``, W = max(2, ``warmup_num_steps``); with ``warmup_type="log"`` (the default) the
    warmup's e / W is ln(e + 1) / ln W. Clock as :func:`WarmupLR` (the peak at t = W + 2,
    0 from t = N + 2 on). DeepSpeed only warns when N < W; so does nothing here (the lr drops to ℓ after the
    warmup). To the bit.

    >>> s = lrsched.deepspeed.WarmupDecayLR(6, 0.0, 1.0, warmup_num_steps=2, warmup_type="linear")
    >>> [s(t) for t in range(1, 10)]
    [0.0, 0.0, 0.5, 1.0, 0.75, 0.5, 0.25, 0.0, 0.0]
    """
    n = v.whole("total_num_steps", total_num_steps, 0)
    lo, hi = v.real("warmup_min_lr", warmup_min_lr), v.real("warmup_max_lr", warmup_max_lr)
    w = _warmup_steps(warmup_num_steps, warmup_type)
    span = n - w
    # at local x = e - W + 1: (N - e) = span - (x - 1), exactly (integers), over max(1, span); 0 from span on
    decay = (Linear(float(span), 0.0, span).shift(1) / max(1, span)) if span > 0 else Constant(0.0)
    gamma = Join([_warmup_gamma(w, warmup_type), decay], [w - 1])
    return (gamma * (hi - lo) + lo).shift(2)


def WarmupCosineLR(
    total_num_steps: int,
    warmup_min_ratio=0.0,
    warmup_num_steps: int = 1000,
    cos_min_ratio=0.0001,
    warmup_type: str = "log",
    *,
    optimizer_lr=None,
) -> Schedule:
    r"""DeepSpeed's ``WarmupCosineLR``: ratios of ``optimizer_lr`` (the optimizer's lr, which DeepSpeed reads).

    .. math:: \eta(t) = \eta_0 \begin{cases} 0 & t = 1 \\ r_w + (1 - r_w)\, e / W & e < W \\
        \max\!\left(0,\ r_c + (1 - r_c) \tfrac{1 + \cos(\pi p)}{2}\right),\ p = \min\!\left(1,
        \frac{e - W + 1}{\max(1, N - W)}\right) & e \ge W \end{cases}

    e = t - 2, η₀ = ``optimizer_lr``, r_w = ``warmup_min_ratio``, r_c = ``cos_min_ratio``, N =
    ``total_num_steps``, W = max(2, ``warmup_num_steps``); with ``warmup_type="log"`` (the default) the warmup's
    e / W is ln(e + 1) / ln W. DeepSpeed's quirks, mirrored: update 1 runs at lr 0
    (its constructor's "not started" value), not r_w η₀; and the cosine starts one step in (p = 1 / (N - W) at
    e = W), so the peak η₀ is never used. To the bit.

    >>> s = lrsched.deepspeed.WarmupCosineLR(6, 0.5, warmup_num_steps=2, cos_min_ratio=0.0,
    ...                                     warmup_type="linear", optimizer_lr=1.0)
    >>> [round(s(t), 6) for t in range(1, 9)]
    [0.0, 0.5, 0.75, 0.853553, 0.5, 0.146447, 0.0, 0.0]
    """
    n = v.whole("total_num_steps", total_num_steps, 0)
    r_w, r_c = v.real("warmup_min_ratio", warmup_min_ratio), v.real("cos_min_ratio", cos_min_ratio)
    w = _warmup_steps(warmup_num_steps, warmup_type)
    lr = _peak(optimizer_lr)
    warm = _warmup_gamma(w, warmup_type) * (1.0 - r_w) + r_w
    wave = Cosine(1.0, 0.0, steps=1).stretch(float(max(1, n - w)))  # (1 + cos(pi p)) / 2, p = min(x / span, 1)
    decay = (wave * (1.0 - r_c) + r_c).clip(low=0.0)
    ratio = Join([warm, decay], [w - 1])  # e < W, then x = e - W + 1
    return lr * Join([Constant(0.0), ratio.shift(1)], [1])


def _stairs(level, first: int, last: int, origin: int) -> tuple[list[float], list[int]]:
    """Where an integer ``level(x)``, monotone over x = first .. last, changes, by bisection: Piecewise
    boundaries for a phase whose local time is x - origin, and the levels."""
    bounds, levels = [], [level(first)]
    x = first
    while x < last:
        cur = levels[-1]
        lo, hi = x, last  # level(lo) == cur; find the last x with level(x) == cur
        if level(hi) == cur:
            break
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if level(mid) == cur else (lo, mid)
        bounds.append(float(hi - origin - 1))
        levels.append(level(hi))
        x = hi
    return bounds, levels


def _cycle_sizes(first, second, c1, c2, decay):
    s1 = v.count("cycle_first_step_size", first)
    s2 = s1 if second is None else v.count("cycle_second_step_size", second, 0)
    c1 = v.whole("cycle_first_stair_count", c1)
    c2 = c1 if c2 is None else v.whole("cycle_second_stair_count", c2)
    return s1, s2, c1, c2, v.nonnegative("decay_step_size", decay)


def _triangle(lo: float, hi: float, s1: int, s2: int, c1: int, c2: int) -> tuple[list[Schedule], list[float]]:
    """The cycle's phases over bi = e + 1 = t - 1 (a join over bi, phase 0 seeing bi itself), DeepSpeed's
    arithmetic kept: x = (1 + bi / T) - 1, scale x / (S1 / T) up and (x - 1) / (S1 / T - 1) down, or the
    stair floor(bi c / S) / c; then lo + (hi - lo) scale. bi = T (scale 0) starts the next phase."""
    total = float(s1 + s2)
    ratio = s1 / total
    x = Linear(1.0, 2.0, total) - 1.0  # DeepSpeed's 1.0 + bi / T - cycle, cycle = 1 inside the cycle
    phases, bounds = [], []
    # the peak update bi = S1 is on the rising side where DeepSpeed's own float test says so, x <= S1 / T
    rising = (1.0 + s1 / total) - 1.0 <= ratio
    up_end = min(s1 if rising else s1 - 1, s1 + s2 - 1)
    if c1 > 0:
        b, lv = _stairs(lambda bi: math.floor(bi * c1 / float(s1)), 0, up_end, 0)
        phases.append(Piecewise(b, [lo + (hi - lo) * (j / c1) for j in lv]) if b else Constant(lo))
    else:
        phases.append(x / ratio * (hi - lo) + lo)
    bounds.append(float(up_end))
    if s1 + s2 - 1 > up_end:  # bi = up_end + 1 .. T - 1
        if c2 > 0:
            b, lv = _stairs(lambda bi: math.floor((total - bi) * c2 / float(s2)), up_end + 1, s1 + s2 - 1, up_end)
            levels = [lo + (hi - lo) * (j / c2) for j in lv]
            phases.append(Piecewise(b, levels) if b else Constant(levels[0]))
        else:
            phases.append(((x - 1.0) / (ratio - 1.0) * (hi - lo) + lo).shift(-up_end))
        bounds.append(float(s1 + s2 - 1))
    if s1 + s2 == 1:  # S1 = 1, S2 = 0: the cycle is bi = 0 alone, where the decay's formula gives lo too
        phases, bounds = phases[1:], bounds[1:]
    return phases, bounds


def OneCycle(
    cycle_min_lr,
    cycle_max_lr,
    decay_lr_rate=0.0,
    cycle_first_step_size: int = 2000,
    cycle_second_step_size: int | None = None,
    cycle_first_stair_count: int = 0,
    cycle_second_stair_count: int | None = None,
    decay_step_size=0,
) -> Schedule:
    r"""DeepSpeed's ``OneCycle``, its lr: a triangle from ``cycle_min_lr`` up to ``cycle_max_lr`` over S1 =
    ``cycle_first_step_size`` updates and back over S2 (default S1), then an inverse-time decay.

    .. math:: \eta(t) = \begin{cases} \ell + (h - \ell)\,\mathrm{scale}(b) & b < S_1 + S_2 \\
        \ell / (1 + r\,(b - S_1 - S_2) / m) & \text{after} \end{cases}, \qquad b = t - 1

    scale rises b / S1 then falls (T - b) / S2 (T = S1 + S2); with ``cycle_*_stair_count`` c > 0 it is the
    staircase floor(c b / S) / c. r = ``decay_lr_rate``, m = ``decay_step_size`` (either 0: ℓ after the cycle).
    Clock: update t runs at e = t - 2, b = e + 1 (update 1 gets ℓ from the constructor, as the formula does).
    DeepSpeed's arithmetic is kept ((1 + b / T) - 1 for b / T): to the bit. The momentum it cycles with it is
    :func:`onecycle_momentum`.

    >>> s = lrsched.deepspeed.OneCycle(0.0, 1.0, cycle_first_step_size=2, cycle_second_step_size=2)
    >>> [s(t) for t in range(1, 8)]
    [0.0, 0.5, 1.0, 0.5, 0.0, 0.0, 0.0]
    """
    lo, hi = v.real("cycle_min_lr", cycle_min_lr), v.real("cycle_max_lr", cycle_max_lr)
    rate = v.nonnegative("decay_lr_rate", decay_lr_rate)
    s1, s2, c1, c2, m = _cycle_sizes(
        cycle_first_step_size,
        cycle_second_step_size,
        cycle_first_stair_count,
        cycle_second_stair_count,
        decay_step_size,
    )
    phases, bounds = _triangle(lo, hi, s1, s2, c1, c2)
    skip = math.isclose(m, 0) or math.isclose(rate, 0)
    phases.append(Constant(lo) if skip else InverseTime(lo, rate=rate, every=m).shift(1))
    return Join(phases, bounds).shift(1)


def onecycle_momentum(
    cycle_first_step_size: int = 2000,
    cycle_second_step_size: int | None = None,
    cycle_first_stair_count: int = 0,
    cycle_second_stair_count: int | None = None,
    decay_step_size=0,
    cycle_min_mom=0.8,
    cycle_max_mom=0.9,
    decay_mom_rate=0.0,
) -> Schedule:
    r"""The momentum DeepSpeed's ``OneCycle`` (``cycle_momentum=True``, its default) writes: Adam's beta1.

    .. math:: m(t) = \begin{cases} m_{lo} & t = 1 \\ m_{hi} - (m_{hi} - m_{lo})\,\mathrm{scale}(t - 1) &
        \text{in the cycle} \\ m_{hi} (1 + r (b - T) / m) & \text{after} \end{cases}

    scale as :func:`OneCycle`'s (the same stairs), r = ``decay_mom_rate`` (it *grows* the momentum, without
    bound, as DeepSpeed does). DeepSpeed's quirks: its constructor writes ``cycle_min_mom`` for update 1, though
    its formula gives ``cycle_max_mom`` there; and it writes ``betas = (m, 0.99)`` at every step, forcing beta2 to
    0.99 whatever the optimizer had: build the optimizer with ``betas=(..., 0.99)`` to match (lrsched schedules
    beta1 only, as ``momentum=``). DeepSpeed only cycles optimizers with ``betas`` (not SGD: it warns and skips).
    To the bit.

    >>> s = lrsched.deepspeed.onecycle_momentum(2, 2, cycle_min_mom=0.8, cycle_max_mom=0.9)
    >>> [round(s(t), 12) for t in range(1, 7)]
    [0.8, 0.85, 0.8, 0.85, 0.9, 0.9]
    """
    s1, s2, c1, c2, m = _cycle_sizes(
        cycle_first_step_size,
        cycle_second_step_size,
        cycle_first_stair_count,
        cycle_second_stair_count,
        decay_step_size,
    )
    lo, hi = v.real("cycle_min_mom", cycle_min_mom), v.real("cycle_max_mom", cycle_max_mom)
    rate = v.real("decay_mom_rate", decay_mom_rate)
    # hi - (hi - lo) scale, with the lr triangle's scale: the triangle from 0 to 1 gives scale itself
    phases, bounds = _triangle(0.0, 1.0, s1, s2, c1, c2)
    phases = [hi - p * (hi - lo) for p in phases]
    skip = math.isclose(m, 0) or math.isclose(rate, 0)
    phases.append(Constant(hi) if skip else ((_RAMP.stretch(m) * rate + 1.0) * hi).shift(1))
    return Join([Constant(lo), Join(phases, bounds)], [1])


def LRRangeTest(
    lr_range_test_min_lr=0.001,
    lr_range_test_step_size: int = 2000,
    lr_range_test_step_rate=1.0,
    lr_range_test_staircase: bool = False,
) -> Schedule:
    r"""DeepSpeed's ``LRRangeTest``: a *linear* (not exponential) sweep up from ``lr_range_test_min_lr``.

    .. math:: \eta(t) = \ell \left(1 + r\, k\right), \qquad k = \begin{cases} (t - 1) / m & \text{continuous} \\
        \lfloor (t - 1) / m \rfloor & \text{staircase} \end{cases}

    ℓ = ``lr_range_test_min_lr``, m = ``lr_range_test_step_size``, r = ``lr_range_test_step_rate``. Clock: update
    t runs at e = t - 2, and DeepSpeed's interval is (e + 1) / m; update 1 gets ℓ from the constructor, as the
    formula does. To the bit.

    >>> s = lrsched.deepspeed.LRRangeTest(0.1, lr_range_test_step_size=2, lr_range_test_staircase=True)
    >>> [s(t) for t in range(1, 7)]
    [0.1, 0.1, 0.2, 0.2, 0.30000000000000004, 0.30000000000000004]
    """
    lo = v.real("lr_range_test_min_lr", lr_range_test_min_lr)
    m = v.whole("lr_range_test_step_size", lr_range_test_step_size, 1)
    rate = v.real("lr_range_test_step_rate", lr_range_test_step_rate)
    stair = v.flag("lr_range_test_staircase", lr_range_test_staircase)
    k = (_RAMP.per_epoch(m) - 1.0) if stair else _RAMP.stretch(m).shift(1)  # floor((t - 1) / m) = ceil(t / m) - 1
    return (k * rate + 1.0) * lo


#: each scheduler type: its mirror, and the parameters DeepSpeed's constructor takes (after the optimizer)
_TYPES = {
    "WarmupLR": (WarmupLR, ("warmup_min_lr", "warmup_max_lr", "warmup_num_steps", "warmup_type")),
    "WarmupDecayLR": (
        WarmupDecayLR,
        ("total_num_steps", "warmup_min_lr", "warmup_max_lr", "warmup_num_steps", "warmup_type"),
    ),
    "WarmupCosineLR": (
        WarmupCosineLR,
        ("total_num_steps", "warmup_min_ratio", "warmup_num_steps", "cos_min_ratio", "warmup_type"),
    ),
    "OneCycle": (
        OneCycle,
        (
            "cycle_min_lr",
            "cycle_max_lr",
            "decay_lr_rate",
            "cycle_first_step_size",
            "cycle_second_step_size",
            "cycle_first_stair_count",
            "cycle_second_stair_count",
            "decay_step_size",
            "cycle_momentum",
            "cycle_min_mom",
            "cycle_max_mom",
            "decay_mom_rate",
        ),
    ),
    "LRRangeTest": (
        LRRangeTest,
        ("lr_range_test_min_lr", "lr_range_test_step_size", "lr_range_test_step_rate", "lr_range_test_staircase"),
    ),
}
_REQUIRED = {"WarmupDecayLR": ("total_num_steps",), "WarmupCosineLR": ("total_num_steps",)}
_REQUIRED["OneCycle"] = ("cycle_min_lr", "cycle_max_lr")
_MOMENTUM = ("cycle_first_step_size", "cycle_second_step_size", "cycle_first_stair_count", "cycle_second_stair_count")
_MOMENTUM += ("decay_step_size", "cycle_min_mom", "cycle_max_mom", "decay_mom_rate")


def _read(config) -> dict:
    """A DeepSpeed config (or its scheduler block) as a dict: a mapping, JSON text, or the path of a JSON file."""
    what = "config"
    if isinstance(config, Path) or (isinstance(config, str) and not config.lstrip().startswith("{")):
        path = Path(config)
        try:
            # json reads the encoding (UTF-8, -16 or -32) from the bytes
            data = path.read_bytes() if path.is_file() else None
        except (OSError, ValueError) as e:  # a name too long for the file system, a file we may not read
            why = getattr(e, "strerror", None) or str(e)  # not the OSError's text: it quotes the whole name
            raise ValueError(f"config={v.show(str(config))} is not a path that can be read ({why})") from None
        if data is None:
            raise ValueError(f"config={v.show(str(config))} is neither JSON text nor the path of a file")
        what, config = f"config file {v.show(str(config))}", data
    if isinstance(config, (str, bytes)):
        try:
            config = json.loads(config)
        except json.JSONDecodeError as e:
            raise ValueError(f"{what} is not valid JSON: {e}") from None
        except UnicodeDecodeError as e:
            raise ValueError(
                f"{what} is not JSON: bytes that are not {e.encoding} ({e.reason} at byte {e.start})"
            ) from None
        except ValueError:  # Python's limit on the digits of an int (4300 by default)
            raise ValueError(
                f"{what} holds an integer of more digits than Python reads (sys.set_int_max_str_digits)"
            ) from None
        except RecursionError:
            raise ValueError(f"{what} nests too deeply to be a DeepSpeed config") from None
    if not isinstance(config, dict):
        raise TypeError(f"config must be a dict, JSON text or a path, got {v.show(config)}")
    return config


def _keys(block: dict, where: str) -> dict:
    """``block``, its keys checked: strings, as a JSON object's are."""
    for key in block:
        if not isinstance(key, str):
            raise TypeError(f"{where} has a key that is not a string: {v.show(key)}")
    return block


def _block(config: dict) -> tuple[str, dict, str]:
    """(type, params, where): the scheduler block of a whole config, or the block itself."""
    where = "scheduler"
    _keys(config, "config")
    if "scheduler" in config:
        config = config["scheduler"]
        if not isinstance(config, dict):
            raise TypeError(f"scheduler must be a dict with 'type' and 'params', got {v.show(config)}")
        _keys(config, where)
    elif "type" not in config:
        raise ValueError(f"config has no 'scheduler' block (and is not one: no 'type'); its keys: {sorted(config)}")
    unknown = sorted(set(config) - {"type", "params"})
    if unknown:
        raise ValueError(f"{where}.{unknown[0]} is not a key of DeepSpeed's scheduler block (type, params)")
    kind = config.get("type")
    types = f"the types are {', '.join(_TYPES)}"
    if kind is None:
        raise ValueError(f"{where}.type is missing ({types})")
    if not isinstance(kind, str):
        raise TypeError(f"{where}.type must be the name of a DeepSpeed scheduler ({types}), got {v.show(kind)}")
    if kind not in _TYPES:
        hint = v.did_you_mean(kind, _TYPES, otherwise=types)
        raise ValueError(f"{where}.type={v.show(kind)} is not a DeepSpeed scheduler{hint}")
    params = config.get("params", {})
    if not isinstance(params, dict):
        raise TypeError(f"{where}.params must be a dict, got {v.show(params)}")
    return kind, _keys(params, f"{where}.params"), f"{where}.params"


def _fill(kind: str, params: dict, where: str, auto: dict) -> dict:
    """The params with every "auto" value filled from ``auto`` (refused by name where it is not there)."""
    names = _TYPES[kind][1]
    out = {}
    for key, value in params.items():
        if key == "last_batch_iteration":
            if v.real(f"{where}.last_batch_iteration", value) != -1:
                raise ValueError(f"{where}.last_batch_iteration={v.show(value)}: only -1 (a fresh start) is mirrored")
            continue
        if key not in names:
            raise ValueError(f"{where}.{key} is not a parameter of {kind}{v.did_you_mean(key, names)}")
        if isinstance(value, str) and value == "auto":
            if key not in auto:
                raise ValueError(f"{where}.{key} is 'auto': give its value as from_config(..., {key}=...)")
            value = auto[key]
        out[key] = value
    for key in _REQUIRED.get(kind, ()):
        if key not in out:
            raise ValueError(f"{where}.{key} is missing: {kind} needs it")
    return out


def from_config(config, optimizer_lr=None, **auto) -> dict[str, Schedule]:
    """The schedules a DeepSpeed config's ``"scheduler"`` block makes, by param-group key, for
    ``lrsched.torch.scheduler(optimizer, **from_config(config, optimizer_lr=...))``.

    ``config`` is a whole DeepSpeed config or its scheduler block (``{"type": ..., "params": {...}}``): a dict,
    JSON text or the path of a JSON file. ``optimizer_lr`` is the optimizer's lr (WarmupCosineLR's ratios
    multiply it; WarmupLR's peak defaults to it). The Hugging Face Trainer's ``"auto"`` values are filled from
    the keyword arguments named as the params (``total_num_steps=``, ``warmup_num_steps=``, ...). Returns
    ``{"lr": ...}``, and for OneCycle with ``cycle_momentum`` (its default) also ``"momentum"`` (Adam's beta1;
    DeepSpeed forces beta2 to 0.99, see :func:`onecycle_momentum`). An unknown type or parameter, a missing one
    and a bad value are refused, naming the key.

    >>> cfg = {"scheduler": {"type": "WarmupDecayLR", "params": {"total_num_steps": "auto", "warmup_max_lr": 1.0,
    ...        "warmup_num_steps": 2, "warmup_type": "linear"}}}
    >>> s = lrsched.deepspeed.from_config(cfg, total_num_steps=6)["lr"]
    >>> [s(t) for t in range(1, 9)]
    [0.0, 0.0, 0.5, 1.0, 0.75, 0.5, 0.25, 0.0]
    """
    kind, params, where = _block(_read(config))
    args = _fill(kind, params, where, auto)
    mirror = _TYPES[kind][0]
    try:
        if kind == "OneCycle":
            cycle_momentum = v.flag("cycle_momentum", args.pop("cycle_momentum", True))
            out = {
                "lr": mirror(
                    **{k: x for k, x in args.items() if k not in ("cycle_min_mom", "cycle_max_mom", "decay_mom_rate")}
                )
            }
            if cycle_momentum:
                out["momentum"] = onecycle_momentum(**{k: x for k, x in args.items() if k in _MOMENTUM})
            return out
        if kind in ("WarmupLR", "WarmupCosineLR"):
            args["optimizer_lr"] = optimizer_lr
        return {"lr": mirror(**args)}
    except (TypeError, ValueError) as e:
        raise type(e)(f"{where} of {kind}: {e}") from None
