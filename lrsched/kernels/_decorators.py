"""The kernel source's decorators, as this package uses them: none.

Run as it is, the source in :mod:`lrsched.kernels` is plain Python over NumPy
arrays (the interpreted tier: no compiler, no numba import). The compiled
tier, :mod:`lrsched.compiled`, loads the same files a second time as another
package, whose ``_decorators`` are numba's:

- ``entry``: a kernel called from Python (compiled with its Python wrapper);
- ``internal``: a function only kernels call;
- ``inline``: a small helper inlined where it is called.
"""


def entry(fn):
    return fn


def internal(fn):
    return fn


def inline(fn):
    return fn
