"""``python -m helpers`` : la ligne de commande du cours."""

import sys

from helpers.cli import main

sys.exit(main())
