"""A framework package's names that live in modules importing the framework, loaded on first use."""

from __future__ import annotations

import importlib
import sys


def loader(package: str, names_by_module: dict[str, tuple[str, ...]]):
    """The module ``__getattr__`` of ``package``: a module's own name, or a name it holds, imports that module.

    It also gives the package a module ``__dir__`` (PEP 562) listing those
    names with the ones already defined, so that ``dir()`` and tab completion
    show them before they are loaded. Call it in the package's ``__init__``.
    """

    def __getattr__(name):
        for module, names in names_by_module.items():
            if name == module or name in names:
                loaded = importlib.import_module(f".{module}", package)
                return loaded if name == module else getattr(loaded, name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    namespace = vars(sys.modules[package])
    lazy = {name for module, names in names_by_module.items() for name in (module, *names)}

    def __dir__():
        return sorted(set(namespace) | lazy)

    namespace["__dir__"] = __dir__
    return __getattr__
