"""`python -m ilsref ...`: see ilsref.launcher."""

import sys

from ilsref.launcher import main

sys.exit(main())
