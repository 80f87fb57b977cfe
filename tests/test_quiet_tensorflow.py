"""Le silence de TensorFlow : ses journaux techniques en anglais disparaissent, le reste passe."""

from __future__ import annotations

import subprocess
import sys

import pytest

from helpers.base.errors import is_tensorflow_log, quiet_environment

SCRIPT = """
import os, sys
sys.ps1 = ">>> "  # interactive, as in Jupyter: there tf.get_logger() sets the level to INFO
from helpers.base.errors import silence_tensorflow
silence_tensorflow()
import numpy as np
import tensorflow as tf
model = tf.keras.Sequential([tf.keras.Input((8, 8, 3)), tf.keras.layers.Conv2D(4, 3)])
converter = tf.lite.TFLiteConverter.from_keras_model(model)
converter.optimizations = [tf.lite.Optimize.DEFAULT]
converter.representative_dataset = lambda: ([np.zeros((1, 8, 8, 3), np.float32)] for _ in range(3))
converter.convert()
tf.get_logger().info("Assets written to: /tmp/dossier")  # what saving a model logs
os.write(2, "Erreur : une ligne du cours, en français\\n".encode())
print("converti", flush=True)
"""


@pytest.mark.parametrize(
    "line",
    [
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
        "I0000 00:00:1796182305.758018   15290 port.cc:153] oneDNN custom operations are on.",
        "W0000 00:00:1796291866.984031   22747 tf_tfl_flatbuffer_helpers.cc:364] Ignored output_format.",
        "fully_quantize: 0, inference_type: 6, input_inference_type: INT8, output_inference_type: INT8",
    ],
)
def test_tensorflow_logs_are_recognized(line):
    assert is_tensorflow_log(line)


@pytest.mark.parametrize(
    "line",
    [
        "Erreur : le dossier n'existe pas",
        "E0000 00:00:1796291866.984031   22747 op_kernel.cc:1] a real error",  # errors stay
        "étalonnage : 100%|██████████| 100/100",
    ],
)
def test_other_lines_pass(line):
    assert not is_tensorflow_log(line)


def test_silence_tensorflow_hides_the_import_and_converter_logs_and_nothing_else():
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        timeout=300,
        env=quiet_environment(),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("converti") and "Assets written" not in result.stdout
    assert "Erreur : une ligne du cours, en français" in result.stderr
    for english in ("absl::InitializeLog", "oneDNN", "fully_quantize", "Assets written"):
        assert english not in result.stderr
