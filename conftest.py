"""Réglages de pytest pour tout le dépôt (tests unitaires et notebooks via nbval)."""

import os

from helpers.base.errors import quiet_environment

# Silence TensorFlow's C++ logs in the test process and in nbval's kernels.
os.environ.update(quiet_environment({}))


def pytest_collectstart(collector):
    # Stored notebooks are compared output by output (strict nbval), except stderr:
    # TensorFlow writes unpredictable log lines there. Mind the tuple comma.
    if collector.fspath and collector.fspath.ext == ".ipynb":
        collector.skip_compare += ("stderr",)


# The longest files first: xdist hands out whole files in collection order (without
# --no-loadscope-reorder it would sort them by their number of tests instead), so starting with
# these lets both workers end together instead of one finishing them alone.
LONGEST_FIRST = (
    # Notebook 02 first: it writes the models that notebooks 03 and 04, and their solved runs,
    # read instead of converting them again.
    "notebooks/02_quantification.ipynb",
    "tests/test_solutions.py",
    "tests/test_cli_quantize.py",
    "tests/test_quantization.py",
    "tests/test_debugging.py",
    "tests/test_notebook05_papermill.py",
    "tests/test_browser.py",
)


def pytest_collection_modifyitems(items):
    def rank(item):
        path = item.nodeid.split("::")[0]
        return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: each file keeps its own order (a notebook's cells)
