"""Réglages de pytest pour tout le dépôt (tests unitaires et notebooks via nbval)."""

import os

# Silence TensorFlow's C++ logs in the test process and in nbval's kernels.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def pytest_collectstart(collector):
    # Stored notebooks are compared output by output (strict nbval), except stderr:
    # TensorFlow writes unpredictable log lines there. Mind the tuple comma.
    if collector.fspath and collector.fspath.ext == ".ipynb":
        collector.skip_compare += ("stderr",)
