"""Schedules to and from plain JSON types, following each kind's declared fields.

The format is versioned and nested::

    {"lrsched": 1,
     "schedule": {"type": "warmup", "schedule": {"type": "cosine", ...}, "steps": 1000.0, ...}}

Every field is written, defaults included, so a config means the same
schedule whatever later versions choose as defaults. Loading builds
schedules only through their constructors (so every value is validated) and
never executes code: an unknown type, an unknown or missing field, a wrong
type, a value out of range or nesting deeper than
:data:`lrsched.schedule.MAX_DEPTH` raises ValueError or TypeError naming the
place in the config.

Configs as people write them load too: a bare node (``{"type": "cosine", ...}``,
no version wrapper), any Mapping (an OmegaConf ``DictConfig``), numbers that
YAML 1.1 leaves as strings (``"3e-4"``), and durations in the symbols
``total`` and ``epoch`` (``"0.05 * total"``, see :mod:`lrsched.symbols`), which
an unbound schedule also writes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from .layout import MAX_DEPTH
from .symbols import Expr, parse_expr
from .value import RECIPES, REGISTRY, REQUIRED
from .value import Value as Schedule

FORMAT_KEY = "lrsched"
VERSION = 1


def to_dict(schedule: Schedule) -> dict:
    """A versioned dict of plain JSON types.

    >>> import lrsched as ls
    >>> ls.constant(0.1).to_dict()
    {'lrsched': 1, 'schedule': {'type': 'constant', 'value': 0.1}}
    """
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be a Schedule, got {schedule!r}")
    return {FORMAT_KEY: VERSION, "schedule": _encode(schedule)}


def to_json(schedule: Schedule, **kwargs) -> str:
    """:func:`to_dict` as JSON text (keyword arguments go to :func:`json.dumps`)."""
    return json.dumps(to_dict(schedule), allow_nan=False, **kwargs)


def from_dict(config) -> Schedule:
    """The schedule a :func:`to_dict` config describes.

    >>> import lrsched as ls
    >>> ls.from_dict({"lrsched": 1, "schedule": {"type": "constant", "value": 0.1}})
    constant(0.1)
    """
    if not isinstance(config, Mapping):
        raise TypeError(f"config must be a dict, got {type(config).__name__}")
    config = _mapping(config, "config")
    if FORMAT_KEY not in config:
        if "type" in config:  # a bare node, as YAML and Hydra configs hold one
            return _decode(config, "schedule", 1)
        raise ValueError(
            f"not an lrsched config: no {FORMAT_KEY!r} version key and no 'type' in {sorted(map(str, config))!r}"
        )
    version = config[FORMAT_KEY]
    if type(version) is not int or version != VERSION:
        raise ValueError(f"unsupported lrsched config version {version!r} (this is version {VERSION})")
    extra = set(config) - {FORMAT_KEY, "schedule"}
    if extra:
        raise ValueError(f"unknown top-level key {sorted(extra)[0]!r} in config")
    if "schedule" not in config:
        raise ValueError("config has no 'schedule'")
    return _decode(config["schedule"], "schedule", 1)


def from_json(text) -> Schedule:
    """The schedule that :func:`to_json` text describes."""
    if not isinstance(text, (str, bytes, bytearray)):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    try:
        config = json.loads(text)
    except RecursionError:
        raise ValueError("JSON nests too deeply to be an lrsched config") from None
    return from_dict(config)


def _encode(s: Schedule) -> dict:
    if s.kind == "function":
        raise TypeError(
            f"{s!r} wraps a Python callable and cannot be serialized; "
            "build the schedule from lrsched's primitives to save it"
        )
    if s.kind == "recipe":  # a recipe call waiting for its symbols: written as the call
        return {"type": s.name, **{k: _plain(x) for k, x in s.arguments}}
    out: dict = {"type": s.kind}
    for f in s.fields:
        value = getattr(s, f.attr)
        if f.nested == "one":
            out[f.name] = _encode(value)
        elif f.nested == "many":
            out[f.name] = [_encode(x) for x in value]
        else:
            out[f.name] = _plain(value)
    return out


def _plain(value):
    if isinstance(value, tuple):
        return [_plain(x) for x in value]
    if isinstance(value, Expr):
        return str(value)
    return value


def _read(f, value, where: str):
    """A plain field's value from a config: strings that a numeric field refuses are read as numbers
    or durations in ``total`` / ``epoch``; lists of them too."""
    if isinstance(value, str):
        try:
            f.check(f.name, value)
        except TypeError:  # a numeric field: "3e-4", "0.05 * total"
            try:
                return parse_expr(value)
            except ValueError as e:
                raise ValueError(f"{where}: {e}") from None
        except ValueError:  # a string field given a wrong string: its constructor says so
            pass
        return value
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return [_read(f, x, f"{where}[{i}]") for i, x in enumerate(value)]
    if isinstance(value, Mapping):
        raise TypeError(f"{where} must be a number or a list, got an object")
    return value


def _decode(node, path: str, depth: int) -> Schedule:
    if depth > MAX_DEPTH:
        raise ValueError(f"{path}: schedules nest deeper than {MAX_DEPTH} levels")
    if not isinstance(node, Mapping):
        raise TypeError(f"{path} must be an object with a 'type', got {type(node).__name__}")
    node = _mapping(node, path)
    kind = node.get("type")
    if isinstance(kind, str) and kind in RECIPES:
        return _decode_recipe(RECIPES[kind], node, path)
    cls = REGISTRY.get(kind) if isinstance(kind, str) and kind != "recipe" else None
    if cls is None:
        import difflib

        close = difflib.get_close_matches(str(kind), [*REGISTRY, *RECIPES], n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"{path}: unknown schedule type {kind!r}{hint}")
    if kind == "function":
        raise ValueError(f"{path}: a 'function' schedule cannot be loaded from a config")
    renamed = cls.renamed
    for old, new in renamed.items():  # configs written before a rename
        if old in node and new in node:
            raise ValueError(f"{path}: both {old!r} and {new!r} for {kind!r} ({old!r} is the former name of {new!r})")
    node = {renamed.get(key, key): value for key, value in node.items()}
    names = {f.name for f in cls.fields}
    for key in node:
        if key != "type" and key not in names:
            raise ValueError(f"{path}: unknown field {key!r} for {kind!r}")
    kwargs = {}
    for f in cls.fields:
        where = f"{path}.{f.name}"
        if f.name not in node:
            if f.default is REQUIRED:
                raise ValueError(f"{path}: missing field {f.name!r} for {kind!r}")
            continue
        value = node[f.name]
        if f.nested == "one":
            value = _decode(value, where, depth + 1)
        elif f.nested == "many":
            if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
                raise TypeError(f"{where} must be a list, got {type(value).__name__}")
            value = [_decode(x, f"{where}[{i}]", depth + 1) for i, x in enumerate(value)]
        else:
            value = _read(f, value, where)
        kwargs[f.name] = value
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as e:
        raise type(e)(f"{path}: {e}") from None


def _mapping(node, path: str) -> dict:
    """A Mapping as a dict; a config library's own error (OmegaConf's missing ``???``) as ValueError."""
    try:
        return dict(node)
    except Exception as e:
        raise ValueError(f"{path}: cannot read the config: {type(e).__name__}: {e}") from None


def _decode_recipe(fn, node: dict, path: str):
    """A recipe named in a config (``{"type": "warmup_cosine", "peak": 3e-4, "steps": "total", ...}``).

    A parameter annotated ``str`` (a shape) takes a string; any other reads a
    string as a number or a duration, strictly.
    """
    import inspect

    params = inspect.signature(fn).parameters
    kwargs = {}
    for key, value in node.items():
        if key == "type":
            continue
        where = f"{path}.{key}"
        if key not in params:
            import difflib

            close = difflib.get_close_matches(str(key), list(params), n=1, cutoff=0.5)
            hint = f"; did you mean {close[0]!r}?" if close else f"; its parameters are {', '.join(params)}"
            raise ValueError(f"{path}: unknown field {key!r} for {node['type']!r}{hint}")
        if isinstance(value, str) and params[key].annotation not in ("str", str):
            try:
                value = parse_expr(value)
            except ValueError as e:
                raise ValueError(f"{where}: {e}") from None
        elif isinstance(value, (Mapping, Sequence)) and not isinstance(value, str):
            raise TypeError(f"{where} must be a number or a string, got {type(value).__name__}")
        kwargs[key] = value
    try:
        return fn(**kwargs)
    except (TypeError, ValueError) as e:
        raise type(e)(f"{path}: {e}") from None
