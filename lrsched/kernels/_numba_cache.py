"""Where numba caches the compiled kernel and what keys it (imported by lrsched.compiled only: it imports numba).

numba's own locators put a function's cache beside its source when that is
writable, key it on that one file, and refuse a directory they cannot write.
:class:`KernelCacheLocator` serves the functions of the compiled kernel package
only: it keys every one of them on the content of all the kernel files at once
(:func:`lrsched.compiled.content_key`: a helper changed in another file is
noticed, a checkout that changes only mtimes is not), keeps them in the one
directory :mod:`lrsched.compiled` chose, and reads a directory it may not write
(a read-only image filled by ``python -m lrsched --compile``).
"""

from __future__ import annotations

import os

from numba.core import caching


class KernelCacheLocator(caching._CacheLocator):
    """numba's cache locator for the functions of ``lrsched._compiled_kernels`` (others: numba's own)."""

    #: set by :mod:`lrsched.compiled` before the kernel source is loaded
    package = "lrsched._compiled_kernels"
    directory: str | None = None
    key = ""
    read_only = False

    def __init__(self, py_func):
        self._lineno = py_func.__code__.co_firstlineno

    def ensure_cache_path(self):
        if not self.read_only:
            super().ensure_cache_path()
        elif not os.path.isdir(self.directory):
            raise OSError(f"no cache directory {self.directory}")

    def get_cache_path(self):
        return self.directory

    def get_source_stamp(self):
        return self.key

    def get_disambiguator(self):
        return str(self._lineno)

    @classmethod
    def from_function(cls, py_func, py_file):
        if cls.directory is None or not py_func.__module__.startswith(cls.package + "."):
            return None
        self = cls(py_func)
        try:
            self.ensure_cache_path()
        except OSError:
            return None
        return self


def install(directory: str | None, key: str, read_only: bool) -> None:
    """Serve the kernel's functions from ``directory`` (None: numba's own locators, for no cache at all)."""
    KernelCacheLocator.directory, KernelCacheLocator.key = directory, key
    KernelCacheLocator.read_only = read_only
    if KernelCacheLocator not in caching.CacheImpl._locator_classes:
        caching.CacheImpl._locator_classes.insert(0, KernelCacheLocator)
