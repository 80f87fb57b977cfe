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
