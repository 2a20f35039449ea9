"""``python -m shared``: the ``convergeai`` command line."""

import sys

from shared.cli import main

sys.exit(main())
