"""``python -m nengo_lmu.apps.cli``: the ``nengo-lmu`` command."""

import sys

from nengo_lmu.apps.cli import main

if __name__ == "__main__":  # not when a tool (pytest's doctests) imports it
    sys.exit(main())
