"""Les axes des figures se lisent à la française, sans notation scientifique."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

from helpers.course.plots import plot_layer_errors  # noqa: E402


def test_log_axis_of_layer_errors_has_french_labels_only():
    layers = [
        {"tensor": f"m/bloc{i}_x_1/BiasAdd", "suspect": value > 0.7, "rmse_over_scale": value}
        for i, value in enumerate([0.3, 0.25, 1.19, 0.27])
    ]
    figure = plot_layer_errors({"layers": layers})
    axis = figure.axes[0]
    figure.canvas.draw()
    low, high = axis.get_ylim()
    shown = [t.get_text() for t in axis.get_yticklabels() if low <= t.get_position()[1] <= high]
    assert "0,29" in shown and "0,7" in shown
    minor = [t.get_text() for t in axis.get_yticklabels(minor=True)]
    assert not any("10" in label for label in shown + minor)  # no « 2×10⁰ »
