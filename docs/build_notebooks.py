"""Run every notebook in notebooks/ and save it with its outputs, so that the plots show where people browse them.

    python docs/build_notebooks.py            # the notebooks, executed in place, with their outputs
    python docs/build_notebooks.py --images   # and the README's pictures in docs/images/ rewritten from them

The test suite runs the same notebooks in memory (tests/test_notebooks.py) and writes nothing: a notebook
saves a picture for the README only when LRSCHED_DOCS_IMAGES is set, as --images sets it here.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import nbclient
import nbformat

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", action="store_true", help="also rewrite the README's pictures in docs/images/")
    args = parser.parse_args(argv)
    os.environ.pop("MPLBACKEND", None)  # the kernel's own inline backend: the figures become outputs
    os.environ.pop("LRSCHED_DOCS_IMAGES", None)
    if args.images:
        os.environ["LRSCHED_DOCS_IMAGES"] = "1"  # the kernels inherit this process's environment
    os.environ.setdefault("KERAS_BACKEND", "jax")
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        nbclient.NotebookClient(
            nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
        ).execute()
        nbformat.write(nb, path)
        print("ran", path.name)


if __name__ == "__main__":
    main()
