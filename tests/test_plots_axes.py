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


def test_bar_names_are_wrapped_and_the_axis_is_french():
    from helpers.course.plots import plot_bars

    values = {"float32": 0.9, "concat. normalisée en 640×640": 0.45, "séparées": 0.88}
    figure = plot_bars(values, "mAP@0.5", "essai", fmt="{:.3f}")
    axis = figure.axes[0]
    figure.canvas.draw()
    names = [label.get_text() for label in axis.get_xticklabels()]
    assert all(len(line) <= 11 for name in names for line in name.split("\n"))
    ticks = [label.get_text() for label in axis.get_yticklabels()]
    assert any("," in tick for tick in ticks) and not any("." in tick for tick in ticks)
