"""`python -m nn_tilde` runs the `nn-tilde` command."""

import sys

from nn_tilde.cli import main

sys.exit(main())
