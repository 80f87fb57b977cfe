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


# The longest files first: xdist hands out whole files in collection order, so starting with
# these lets both workers end together instead of one finishing them alone.
LONGEST_FIRST = (
    # Notebook 02 first: it writes the models that the solved runs of 03 and 04 copy.
    "notebooks/02_quantification.ipynb",
    "tests/test_solutions.py",
    "tests/test_notebook05_papermill.py",
    "tests/test_browser.py",
)


def pytest_collection_modifyitems(items):
    def rank(item):
        path = item.nodeid.split("::")[0]
        return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: each file keeps its own order (a notebook's cells)
