"""`python -m nn_tilde` runs the `nn-tilde` command."""

import sys

from .cli import main

sys.exit(main())
