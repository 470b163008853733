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
an unbound schedule also writes. A config whose parts are shared (YAML aliases,
one dict put in several places) is sized first, each shared part counted
where it appears but looked at once: one that would build more than
:data:`lrsched.value.MAX_NODES` nodes is refused before any is built.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from . import _validate as v
from .layout import MAX_DEPTH
from .parsing import parse_expr
from .symbols import DURATIONS, Expr, refuse_misplaced
from .value import MAX_NODES, RECIPES, REGISTRY, REQUIRED
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
            _check_size(config)
            return _decode(config, "schedule", 1, {})
        raise ValueError(
            f"not an lrsched config: no {FORMAT_KEY!r} version key and no 'type' in {v.show(_key_names(config))}"
        )
    version = config[FORMAT_KEY]
    if type(version) is not int or version != VERSION:
        raise ValueError(f"unsupported lrsched config version {v.show(version)} (this is version {VERSION})")
    extra = _key_names(k for k in config if k not in (FORMAT_KEY, "schedule"))
    if extra:
        hint = v.did_you_mean(extra[0], ["schedule"], otherwise="the keys are 'lrsched' and 'schedule'")
        raise ValueError(f"unknown top-level key {v.show(extra[0])} in config{hint}")
    if "schedule" not in config:
        raise ValueError("config has no 'schedule'")
    _check_size(config["schedule"])
    return _decode(config["schedule"], "schedule", 1, {})


def _key_names(keys) -> list[str]:
    """Keys as an error message names them, sorted: strings as they are, others as shown (str() of a 5000-digit
    int key raises)."""
    return sorted(k if isinstance(k, str) else v.show(k) for k in keys)


#: how deep a config's objects and lists may nest: each level of schedules is an object, or a list and an object
_MAX_NESTING = 2 * MAX_DEPTH + 4


def _check_size(config) -> None:
    """Refuse a config that would build more than MAX_NODES nodes, before building any (see the module's doc)."""
    _size(config, {}, 0)


def _size(node, memo: dict, depth: int) -> int:
    """The objects and lists under ``node``, each shared one counted where it appears and walked once (memo by
    identity); stops as soon as the count passes MAX_NODES, so the walk itself is bounded too."""
    if not isinstance(node, Mapping) and (not isinstance(node, Sequence) or isinstance(node, (str, bytes))):
        return 0
    known = memo.get(id(node))
    if known is not None:
        return known
    if depth > _MAX_NESTING:  # decoding refuses it sooner, by its own depth rule: nothing below is built
        return 1
    items = _mapping(node, "config").values() if isinstance(node, Mapping) else _sequence(node, "config")
    size = 1
    for x in items:
        size += _size(x, memo, depth + 1)
        if size > MAX_NODES:
            raise ValueError(
                f"the config would build more than {MAX_NODES} nodes (lrsched.value.MAX_NODES), its shared parts "
                "(YAML aliases) counted each time they appear"
            )
    memo[id(node)] = size
    return size


def from_json(text) -> Schedule:
    """The schedule that :func:`to_json` text describes."""
    if not isinstance(text, (str, bytes, bytearray)):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    try:
        config = json.loads(text)
    except RecursionError:
        raise ValueError("JSON nests too deeply to be an lrsched config") from None
    except json.JSONDecodeError as e:  # still one (a ValueError): the CLI reads the text as YAML then
        raise json.JSONDecodeError(f"text is not JSON: {e.msg}", e.doc, e.pos) from None
    except UnicodeDecodeError as e:
        raise ValueError(f"text is not JSON: bytes that are not {e.encoding} ({e.reason} at byte {e.start})") from None
    except ValueError as e:  # an int of more digits than Python converts (4300)
        raise ValueError(f"text is not JSON lrsched reads: {e}") from None
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


def _read(f, value, where: str, depth: int = 0):
    """A plain field's value from a config: strings that a numeric field refuses are read as numbers
    or durations in ``total`` / ``epoch``; lists of them too (and lists of pairs; deeper lists are left to the
    field's check, which refuses them)."""
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
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)) and depth < 2:
        return [_read(f, x, f"{where}[{i}]", depth + 1) for i, x in enumerate(_sequence(value, where))]
    if isinstance(value, Mapping):
        raise TypeError(f"{where} must be a number or a list, got an object")
    return value


def _decode(node, path: str, depth: int, built: dict) -> Schedule:
    """The schedule of one node; a node met again (a YAML alias) is the schedule already built from it."""
    known = built.get(id(node))
    if known is not None:
        return known[1]
    schedule = _decode_node(node, path, depth, built)
    built[id(node)] = (node, schedule)  # the node kept alive with it, so that its id is not reused
    return schedule


def _decode_node(node, path: str, depth: int, built: dict) -> Schedule:
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
        hint = v.did_you_mean(kind, [*REGISTRY, *RECIPES])
        raise ValueError(f"{path}: unknown schedule type {v.show(kind)}{hint}")
    if kind == "function":
        raise ValueError(f"{path}: a 'function' schedule cannot be loaded from a config")
    renamed = cls.renamed
    for old, new in renamed.items():  # configs written before a rename
        if old in node and new in node:
            raise ValueError(f"{path}: both {old!r} and {new!r} for {kind!r} ({old!r} is the former name of {new!r})")
    node = {renamed.get(key, key): value for key, value in node.items()}
    names = [f.name for f in cls.fields]
    for key in node:
        if key != "type" and key not in names:
            hint = v.did_you_mean(key, names, cutoff=0.5, otherwise=f"its fields are {', '.join(names)}")
            raise ValueError(f"{path}: unknown field {v.show(key)} for {kind!r}{hint}")
    kwargs = {}
    for f in cls.fields:
        where = f"{path}.{f.name}"
        if f.name not in node:
            if f.default is REQUIRED:
                raise ValueError(f"{path}: missing field {f.name!r} for {kind!r}")
            continue
        value = node[f.name]
        if f.nested == "one":
            value = _decode(value, where, depth + 1, built)
        elif f.nested == "many":
            if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
                raise TypeError(f"{where} must be a list, got {type(value).__name__}")
            value = [_decode(x, f"{where}[{i}]", depth + 1, built) for i, x in enumerate(_sequence(value, where))]
        else:
            value = _read(f, value, where)
        kwargs[f.name] = value
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as e:
        raise type(e)(f"{path}: {e}") from None


def _sequence(node, path: str) -> list:
    """A Sequence as a list; a config library's own error (OmegaConf's missing ``???`` item) as ValueError."""
    try:
        return list(node)
    except Exception as e:
        raise ValueError(f"{path}: cannot read the config: {type(e).__name__}: {e}") from None


def _mapping(node, path: str) -> dict:
    """A Mapping as a dict; a config library's own error (OmegaConf's missing ``???``) as ValueError."""
    try:
        return dict(node)
    except Exception as e:
        raise ValueError(f"{path}: cannot read the config: {type(e).__name__}: {e}") from None


def _recipe_expr(value: str, where: str):
    try:
        return parse_expr(value)
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from None


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
        if key not in params:
            hint = v.did_you_mean(key, params, cutoff=0.5, otherwise=f"its parameters are {', '.join(params)}")
            raise ValueError(f"{path}: unknown field {v.show(key)} for {node['type']!r}{hint}")
        where = f"{path}.{key}"
        if isinstance(value, str) and params[key].annotation not in ("str", str):
            value = _recipe_expr(value, where)
        elif isinstance(value, Sequence) and not isinstance(value, (str, bytes)):  # a list of numbers (cycle_ends)
            value = [_recipe_expr(x, f"{where}[{i}]") if isinstance(x, str) else x for i, x in enumerate(value)]
            for i, x in enumerate(value):
                if isinstance(x, (Mapping, Sequence)) and not isinstance(x, str):
                    raise TypeError(f"{where}[{i}] must be a number or a string, got {type(x).__name__}")
        elif isinstance(value, Mapping):
            raise TypeError(f"{where} must be a number, a string or a list, got {type(value).__name__}")
        refuse_misplaced(f"{path}: ", key, value, DURATIONS.get(key, False))
        kwargs[key] = value
    try:
        return fn(**kwargs)
    except (TypeError, ValueError) as e:
        raise type(e)(f"{path}: {e}") from None
