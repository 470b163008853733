"""A framework package's names that live in modules importing the framework, loaded on first use."""

from __future__ import annotations

import importlib


def loader(package: str, names_by_module: dict[str, tuple[str, ...]]):
    """The module ``__getattr__`` of ``package``: a module's own name, or a name it holds, imports that module."""

    def __getattr__(name):
        for module, names in names_by_module.items():
            if name == module or name in names:
                loaded = importlib.import_module(f".{module}", package)
                return loaded if name == module else getattr(loaded, name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
