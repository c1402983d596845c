"""``python -m chainsim``."""

import sys

from chainsim.cli import main

sys.exit(main())
