"""Le détecteur de référence (la taille des vôtres, pour la latence) : la tête du détecteur de
démonstration sur MobileNetV2 α 1,0, sans téléchargement, aux mêmes entrée et sorties."""

from __future__ import annotations

import json

import numpy as np
import pytest

from helpers.demo.detector import (
    LABELS,
    STRIDE,
    build_detector,
    detector_description,
    export_reference_detector,
    reference_detector,
)


@pytest.fixture(scope="module")
def reference_320():
    return reference_detector(320)


def test_reference_detector_has_the_students_size_and_the_demo_outputs(reference_320):
    assert reference_320.count_params() >= 2_000_000  # SSD MobileNetV2 FPNLite, YOLOv8n: 2 to 3 M
    assert reference_320.count_params() > 10 * build_detector(320).count_params()
    assert reference_320.input_shape == (None, 320, 320, 3)
    cells = (320 // STRIDE) ** 2
    outputs = reference_320(np.zeros((1, 320, 320, 3), np.float32))
    assert {name: tuple(value.shape) for name, value in outputs.items()} == {
        "boxes": (1, cells, 4),
        "scores": (1, cells, len(LABELS)),
    }
    # MobileNetV2's own layers, and the demo detector's head on top of them.
    names = {layer.name for layer in reference_320.layers}
    assert {
        "block_13_expand_relu",
        "out_relu",
        "pyramide_8",
        "tete_classes",
        "tete_boites",
    } <= names


def test_reference_detector_weights_are_the_same_at_every_build(reference_320):
    again = reference_detector(320)
    for first, second in zip(reference_320.get_weights(), again.get_weights(), strict=True):
        np.testing.assert_array_equal(first, second)
    scores = reference_320(np.zeros((1, 320, 320, 3), np.float32))["scores"].numpy()
    assert ((scores >= 0) & (scores <= 1)).all()  # a sigmoid, like the demo detector's


def test_export_reference_detector_writes_a_saved_model_the_kit_reads_as_a_detector(tmp_path):
    folder = export_reference_detector(tmp_path / "reference", 32)
    assert (folder / "saved_model.pb").is_file()
    assert json.loads((folder / "detecteur.json").read_text(encoding="utf-8")) == (
        detector_description()
    )
    assert (folder / "labels.txt").read_text(encoding="utf-8").split() == list(LABELS)
