"""`python -m workbench ...` is the `racetwin` command."""

import sys

from workbench.service.cli import main

sys.exit(main())
