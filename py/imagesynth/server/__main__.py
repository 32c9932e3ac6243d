"""``python -m imagesynth.server`` is ``imagesynth serve``."""

import sys

from .cli import main

sys.exit(main())
