"""La figure des détections : une ligne par modèle, une colonne par image, des boîtes dessinées."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from helpers.course.plots import plot_detections  # noqa: E402

LABELS = ["anneau", "cercle", "croix", "losange", "triangle"]


def _detections(count):
    boxes = np.tile(np.array([[4.0, 6.0, 10.0, 12.0]], np.float32), (count, 1))
    return boxes, np.full(count, 0.8, np.float32), np.arange(count) % len(LABELS)


def test_one_axis_per_model_and_image_with_its_boxes():
    images = np.zeros((3, 32, 32, 3), np.uint8)
    rows = {"flottant": [_detections(2)] * 3, "int8": [_detections(0)] * 3}
    truth = [(np.array([[1.0, 1.0, 5.0, 5.0]]), [0])] * 3
    figure = plot_detections(images, rows, LABELS, truth)
    try:
        axes = figure.get_axes()
        assert len(axes) == 6
        # Row 1: two detections + one true box; row 2: only the true box.
        assert len(axes[0].patches) == 3 and len(axes[3].patches) == 1
        assert axes[0].get_title() == "2 détection(s)"
        assert "anneau 0,80" in [text.get_text() for text in axes[0].texts]
    finally:
        plt.close(figure)
