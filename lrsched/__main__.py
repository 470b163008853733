"""``python -m lrsched``: see :mod:`lrsched.cli`."""

import sys

from .cli import main

sys.exit(main())
