"""Resuming a foreign run: the updates a DeepSpeed, Megatron, NeMo, composer or Hugging Face run had made.

:func:`updates_done` reads a peer's scheduler state (or the checkpoint holding it) and returns k, the number
of optimizer updates the run had made, counted as lrsched counts them (updates that really happened). An
lrsched scheduler built with ``last_epoch=k`` continues at t = k + 1::

    k = lrsched.torch.updates_done(torch.load("scheduler.pt", weights_only=True))
    sched = lrsched.torch.scheduler(opt, s, last_epoch=k)   # the next update uses s(k + 1)

With ``s`` the peer's schedule as an lrsched value (``lrsched.deepspeed``, ``lrsched.megatron``,
``lrsched.nemo``, ``lrsched.transformers``: each mirror's value at t is the lr of the peer's t-th update), the
resumed run gets the peer's lrs. Load the optimizer's state dict as usual; the scheduler writes the lr of
update k + 1 before it runs.

Which field holds the count, format by format (the state each framework's ``state_dict()`` returns):

================ ==================================== ===================================================
format           field                                updates done (k)
================ ==================================== ===================================================
lrsched          ``last_epoch``                       ``last_epoch`` (better: ``load_state_dict`` it)
deepspeed        ``last_batch_iteration`` (e)         e + 1: the constructor leaves e = -1, the engine
                                                      steps after each applied update
megatron         ``num_steps`` (``num_iters`` before) num_steps / increment: ``step(increment)`` after
                                                      each update; Megatron-LM's training passes the
                                                      global batch size (its durations are in samples)
nemo             ``last_epoch``                       last_epoch (a torch ``_LRScheduler``; its state
                                                      also holds ``max_steps``)
composer         ``Timestamp`` ``batch``              batch: the batches trained, one optimizer update
                                                      each (the state dict of ``state.timestamp``)
transformers     ``last_epoch`` (``scheduler.pt``)    last_epoch (a torch ``LambdaLR``: the Trainer
                                                      steps it after each optimizer update)
torch            ``last_epoch``                       last_epoch (any torch ``LRScheduler``)
================ ==================================== ===================================================

A checkpoint holding the state is read too: DeepSpeed's ``mp_rank_*_model_states.pt`` (its
``lr_scheduler``), Megatron-LM's (``opt_param_scheduler``, with ``args.global_batch_size`` as the increment), a
composer checkpoint or ``State`` state dict (``state["timestamp"]``), and a Lightning checkpoint with one
scheduler (``lr_schedulers``, as NeMo saves). A path is read with ``torch.load(weights_only=True)``.

Megatron under a batch-size ramp-up (``rampup_batch_size``) adds a different increment per update: its
``num_steps`` is a count of samples, not of updates, and is refused here (resume a sample clock instead).

This module imports torch.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import torch

from .. import _validate as v

__all__ = ["FORMATS", "updates_done"]

#: the formats :func:`updates_done` reads, by the name its ``framework=`` takes
FORMATS = ("lrsched", "deepspeed", "megatron", "nemo", "composer", "transformers", "torch")


def updates_done(state, framework: str | None = None, *, increment=None) -> int:
    r"""The updates a run had made when ``state`` was saved: resume with ``scheduler(opt, s, last_epoch=k)``.

    .. math:: k = \begin{cases} e + 1 & \text{DeepSpeed, } e = \texttt{last\_batch\_iteration} \\
        n / \Delta & \text{Megatron, } n = \texttt{num\_steps},\ \Delta = \texttt{increment} \\
        b & \text{composer, } b = \texttt{timestamp["batch"]} \\
        e & \text{torch, Hugging Face, NeMo, lrsched, } e = \texttt{last\_epoch} \end{cases}

    and the resumed scheduler's next update is t = k + 1 (module docstring: each format's field).

    Args:
        state: a scheduler's state dict, a checkpoint holding one, or the path of a file ``torch.load``
            reads with ``weights_only=True`` (a Hugging Face ``scheduler.pt``).
        framework: one of :data:`FORMATS`, or None to recognise the format from the state's fields.
        increment: Megatron only, what its training adds to ``num_steps`` per update: 1 when
            ``step(1)`` is called per update, the global batch size under Megatron-LM's training (which
            counts samples). Taken from a Megatron-LM checkpoint's ``args`` when not given.

    Returns:
        k >= 0, the count of updates done.

    Raises:
        ValueError: a state no format matches (its keys are named), a field missing or out of range, a
            Megatron ``num_steps`` that is not a multiple of ``increment``.
        TypeError: a state that is not a mapping or a path, a field that is not an integer.

    Example:
        >>> import torch
        >>> k = lrsched.torch.updates_done({"last_batch_iteration": 9})  # a DeepSpeed WarmupLR after 10 updates
        >>> k
        10
        >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
        >>> s = lrsched.deepspeed.WarmupLR(0.0, 1.0, 20, "linear")
        >>> sched = lrsched.torch.scheduler(opt, s, last_epoch=k)
        >>> opt.param_groups[0]["lr"] == s(11)  # update 11 next
        True
    """
    if framework is not None:
        if not isinstance(framework, str):
            raise TypeError(f"framework must be one of {', '.join(FORMATS)} or None, got {v.show(framework)}")
        if framework not in FORMATS:
            hint = v.did_you_mean(framework, FORMATS, otherwise=f"the formats are {', '.join(FORMATS)}")
            raise ValueError(f"framework={framework!r} is not a format updates_done reads{hint}")
    if increment is not None:
        increment = _integer("increment", increment, 1)
    return _count(_read(state), framework, increment, "state")


# ---------------------------------------------------------------- reading


def _read(state):
    """A mapping as it is; a path through ``torch.load(weights_only=True)``."""
    if isinstance(state, Mapping):
        return state
    if isinstance(state, (str, os.PathLike)):
        path = Path(state)
        try:
            if path.is_dir() and (path / "scheduler.pt").is_file():  # a Hugging Face checkpoint directory
                path = path / "scheduler.pt"
            found = path.is_file()
        except (OSError, ValueError) as e:  # a name too long for the file system, say
            why = getattr(e, "strerror", None) or str(e)  # not the OSError's text: it quotes the whole name
            raise ValueError(f"state: {v.show(str(state))} is not a path that can be read ({why})") from None
        if not found:
            raise ValueError(f"state: no file at {v.show(str(state))}")
        try:
            loaded = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as e:
            raise ValueError(
                f"state: torch.load({str(path)!r}, weights_only=True) could not read it ({type(e).__name__}: "
                f"{str(e)[:300]}); load it yourself (weights_only=False only for a file you trust) and pass the dict"
            ) from None
        if not isinstance(loaded, Mapping):
            raise ValueError(f"state: {str(path)!r} holds {v.show(loaded)}, not a state dict")
        return loaded
    raise TypeError(f"state must be a state dict (a mapping) or the path of one, got {v.show(state)}")


def _integer(name: str, value, minimum: int, maximum: int = v.MAX_COUNT) -> int:
    """A whole number from minimum to maximum: ints, NumPy integers, one-element integer tensors, integral
    floats."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1 or value.dtype.is_floating_point or value.dtype.is_complex or value.dtype == torch.bool:
            raise TypeError(f"{name} must be an integer, got {v.show(value)}")
        value = int(value.item())
    return v.count(name, value, minimum, maximum=maximum)


def _field(state: Mapping, keys: tuple[str, ...], where: str, kind: str):
    """The first of ``keys`` in ``state``, with its name, or ValueError naming what is missing."""
    for key in keys:
        if key in state:
            return key, state[key]
    names = " or ".join(repr(k) for k in keys)
    raise ValueError(f"{where} is not a {kind} scheduler state: no {names} among its keys {_keys(state)}")


def _keys(state: Mapping) -> str:
    keys = sorted(str(k) for k in state)
    return v.show(keys if len(keys) <= 20 else [*keys[:20], "..."])


# ---------------------------------------------------------------- formats


def _wrapped(state: Mapping, framework, where: str):
    """A checkpoint around a scheduler state: (the inner state, where it is, the increment it implies)."""
    if "lr_scheduler" in state and ("ds_version" in state or "global_steps" in state):
        return state["lr_scheduler"], f"{where}['lr_scheduler']", None  # DeepSpeed's model states
    if "opt_param_scheduler" in state or ("lr_scheduler" in state and "iteration" in state):
        key = "opt_param_scheduler" if "opt_param_scheduler" in state else "lr_scheduler"
        return state[key], f"{where}[{key!r}]", _megatron_increment(state.get("args"), where)
    if "timestamp" in state and framework in (None, "composer"):
        return state["timestamp"], f"{where}['timestamp']", None  # composer's State
    if isinstance(state.get("state"), Mapping) and "timestamp" in state["state"]:
        return state["state"]["timestamp"], f"{where}['state']['timestamp']", None  # a composer checkpoint
    if "lr_schedulers" in state:  # Lightning (NeMo)
        schedulers = state["lr_schedulers"]
        if not isinstance(schedulers, (list, tuple)) or len(schedulers) != 1:
            raise ValueError(
                f"{where}['lr_schedulers'] must hold one scheduler state to resume from, got {v.show(schedulers)}:"
                " pass the one that schedules the lr"
            )
        return schedulers[0], f"{where}['lr_schedulers'][0]", None
    return None


def _megatron_increment(args, where: str):
    """The increment Megatron-LM's training used: the global batch size (None where the args are absent)."""
    if args is None:
        return None
    if getattr(args, "rampup_batch_size", None) if not isinstance(args, Mapping) else args.get("rampup_batch_size"):
        raise ValueError(
            f"{where}['args'].rampup_batch_size is set: under a batch-size ramp-up Megatron's num_steps counts "
            "samples added in varying increments, not updates; resume a sample clock instead"
        )
    gbs = args.get("global_batch_size") if isinstance(args, Mapping) else getattr(args, "global_batch_size", None)
    return None if gbs is None else _integer(f"{where}['args'].global_batch_size", gbs, 1)


def _detect(state: Mapping) -> str | None:
    if "last_epoch" in state and "schedules" in state:
        return "lrsched"
    if "last_batch_iteration" in state:
        return "deepspeed"
    if ("num_steps" in state or "num_iters" in state) and any(
        k in state for k in ("max_lr", "start_lr", "lr_decay_style", "decay_style")
    ):
        return "megatron"
    if "batch" in state and "batch_in_epoch" in state:
        return "composer"
    if "last_epoch" in state and "max_steps" in state:
        return "nemo"
    if "last_epoch" in state and "lr_lambdas" in state:
        return "transformers"
    if "last_epoch" in state and "base_lrs" in state:
        return "torch"
    return None


#: how many wrappers (a checkpoint holding a scheduler state, a list of schedulers) are looked inside
_MAX_WRAPPERS = 8


def _count(state, framework, increment, where: str, implied=None, depth: int = 0) -> int:
    if not isinstance(state, Mapping):
        raise ValueError(f"{where} must be a scheduler state dict, got {v.show(state)}")
    if depth > _MAX_WRAPPERS:
        raise ValueError(f"{where}: more than {_MAX_WRAPPERS} wrappers deep (or holding itself): not a scheduler state")
    inner = _wrapped(state, framework, where) if _detect(state) is None else None
    if inner is not None:
        inner_state, inner_where, implied_increment = inner
        if inner_state is None:
            raise ValueError(f"{inner_where} is None: the checkpoint holds no scheduler state")
        return _count(inner_state, framework, increment, inner_where, implied_increment, depth + 1)
    kind = framework or _detect(state)
    if kind is None:
        raise ValueError(
            f"{where} is no scheduler state updates_done recognises (keys {_keys(state)}); name its "
            f"framework= ({', '.join(FORMATS)})"
        )
    if kind == "deepspeed":
        key, e = _field(state, ("last_batch_iteration",), where, "DeepSpeed")
        return _integer(f"{where}[{key!r}]", e, -1, v.MAX_COUNT - 1) + 1  # e + 1 updates: at most MAX_COUNT
    if kind == "megatron":
        key, n = _field(state, ("num_steps", "num_iters"), where, "Megatron OptimizerParamScheduler")
        n = _integer(f"{where}[{key!r}]", n, 0)
        step = increment if increment is not None else implied
        if step is None:
            raise ValueError(
                f"increment is needed for a Megatron state: num_steps={n} is the sum of the increments of the "
                "updates done; give increment= (1 when step(1) is called per update, the global batch size under "
                "Megatron-LM's training)"
            )
        if n % step:
            raise ValueError(
                f"{where}[{key!r}]={n} is not a multiple of increment={step}: the run did not add {step} per "
                "update (a batch-size ramp-up, or another increment)"
            )
        return n // step
    if kind == "composer":
        key, b = _field(state, ("batch",), where, "composer Timestamp")
        return _integer(f"{where}[{key!r}]", b, 0)
    names = {"lrsched": "lrsched", "nemo": "NeMo", "transformers": "Hugging Face (torch LambdaLR)", "torch": "torch"}
    key, e = _field(state, ("last_epoch",), where, names[kind])
    return _integer(f"{where}[{key!r}]", e, 0)
