"""``python -m dither_lab``: the command-line interface."""

import sys

from dither_lab.cli import main

sys.exit(main())
