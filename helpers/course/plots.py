"""Toutes les figures du cours ; chaque fonction renvoie sa figure (``plt.show()`` l'affiche).

Les nombres et mesures viennent des modules des étapes ; ici, seulement le dessin.
"""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, NullFormatter

from helpers.base.units import BYTES_PER_KO, format_size, format_threads, french
from helpers.steps.calibration import ChannelStatistics, affine_dequantize, affine_quantize
from helpers.steps.debugging import (
    HEALTHY_RMSE_OVER_SCALE,
    SUSPECT_RMSE_OVER_SCALE,
    SUSPECT_SNR_BELOW_DB,
    short_name,
)
from helpers.steps.quantization import INTEGER_MODES

CHANNEL_COLORS = {1: ("0.3",), 3: ("tab:red", "tab:green", "tab:blue")}

BAR_LABEL_WIDTH = 11  # characters per line of a bar's name
# The labelled values of the rmse / scale axis (log): the healthy 0,29 and the 0,7 threshold.
LOG_AXIS_TICKS = (0.02, 0.05, 0.1, 0.2, 0.29, 0.5, 0.7, 1, 2, 5, 10, 20, 50)


def plot_image_grid(images, titles=None, ncols: int = 8, cell_size: float = 1.3, suptitle=None):
    """Affiche des images uint8 (H, W, 3) en grille, avec un titre sous chacune.

    Introduit dans le notebook 00.
    """
    images = list(images)
    nrows = int(np.ceil(len(images) / ncols))
    figure, axes = plt.subplots(
        nrows, ncols, figsize=(ncols * cell_size, nrows * cell_size * 1.15), squeeze=False
    )
    for index, axis in enumerate(axes.flat):
        axis.axis("off")
        if index < len(images):
            axis.imshow(images[index], interpolation="nearest")
            if titles is not None:
                axis.set_title(titles[index], fontsize=8)
    if suptitle:
        figure.suptitle(suptitle)
    figure.tight_layout()
    return figure


def plot_bars(values: dict, ylabel: str, title: str, fmt: str = "{:.1f}", color="tab:blue"):
    """Diagramme en barres annoté (une barre par clé).

    Introduit dans le notebook 00.
    """
    figure, axis = plt.subplots(figsize=(1.2 + 1.1 * len(values), 3))
    # Long names on several lines, so that neighbouring labels never overlap.
    names = [textwrap.fill(str(name), BAR_LABEL_WIDTH) for name in values]
    bars = axis.bar(names, list(values.values()), color=color)
    axis.bar_label(
        bars, labels=[fmt.format(v).replace(".", ",") for v in values.values()], fontsize=8
    )
    axis.tick_params(axis="x", labelsize=8)
    axis.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: french(v, "g")))
    axis.set_ylabel(ylabel)
    axis.set_title(title)
    axis.margins(y=0.15)
    figure.tight_layout()
    return figure


def plot_channel_histograms(
    statistics: ChannelStatistics, title: str = "Valeurs des entrées d'étalonnage"
):
    """Histogramme de chaque canal, avec son min et son max en pointillés. Renvoie la figure.

    Introduit dans le notebook 01.
    """
    channels = len(statistics.names)
    colors = CHANNEL_COLORS.get(channels, [None] * channels)
    figure, axis = plt.subplots(figsize=(7, 2.8))
    for channel, (name, color) in enumerate(zip(statistics.names, colors, strict=True)):
        share = statistics.counts[channel] / max(1, statistics.counts[channel].sum())
        axis.stairs(share * 100, statistics.bin_edges, color=color, label=name, linewidth=1.5)
        for value in (statistics.minimum[channel], statistics.maximum[channel]):
            axis.axvline(value, color=color, linestyle=":", linewidth=1)
    low, high = statistics.value_range
    # A small margin keeps the dotted min/max lines visible when they sit on the range's ends.
    axis.set_xlim(low - 0.03 * (high - low), high + 0.03 * (high - low))
    axis.set_xlabel("valeur après normalisation")
    axis.set_ylabel("% des pixels")
    axis.set_title(f"{title} ({statistics.count} images)")
    axis.legend(fontsize=8)
    figure.tight_layout()
    return figure


def plot_input_ranges(
    ranges: dict[str, tuple[float, float]],
    expected: tuple[float, float],
    title: str = "Plage vue par le convertisseur",
):
    """Une barre [min, max] par jeu d'étalonnage, devant la plage que le modèle attend.

    Introduit dans le notebook 01.
    """
    figure, axis = plt.subplots(figsize=(7, 0.6 + 0.55 * len(ranges)))
    axis.axvspan(*expected, color="0.9")
    for row, (low, high) in enumerate(ranges.values()):
        inside = expected[0] - 1e-6 <= low and high <= expected[1] + 1e-6
        covers = low <= expected[0] + 0.05 and high >= expected[1] - 0.05
        color = "tab:green" if inside and covers else "tab:orange"
        axis.barh(row, high - low, left=low, height=0.5, color=color)
        axis.text(
            high + 0.03 * (expected[1] - expected[0]),
            row,
            f"[{french(low)} ; {french(high)}]",
            va="center",
            fontsize=8,
        )
    axis.set_yticks(range(len(ranges)), list(ranges))
    axis.invert_yaxis()
    span = expected[1] - expected[0]
    axis.set_xlim(expected[0] - 0.1 * span, expected[1] + 0.45 * span)
    axis.set_xlabel(
        f"valeur d'entrée (en gris : la plage attendue [{expected[0]:g}, {expected[1]:g}])"
    )
    axis.set_title(title)
    figure.tight_layout()
    return figure


def plot_round_trip(
    params: dict[str, tuple[float, int]], value_range: tuple[float, float], dtype: str = "int8"
):
    """x et déquantifier(quantifier(x)) sur la plage des entrées, pour chaque (échelle, point zéro).

    Une courbe qui quitte la diagonale montre les valeurs écrêtées. Introduit dans le notebook 01.
    """
    low, high = value_range
    values = np.linspace(low, high, 2001)
    figure, axis = plt.subplots(figsize=(5, 3.2))
    axis.plot(values, values, color="0.75", linewidth=3, label="sans perte (x)")
    for name, (scale, zero_point) in params.items():
        restored = affine_dequantize(
            affine_quantize(values, scale, zero_point, dtype), scale, zero_point
        )
        axis.plot(values, restored, linewidth=1.5, label=name)
    axis.set_xlabel("x (entrée normalisée)")
    axis.set_ylabel("valeur reconstruite")
    axis.set_title(f"Aller-retour {dtype} → flottant")
    axis.legend(fontsize=8)
    figure.tight_layout()
    return figure


def plot_accuracy_comparison(
    accuracies: dict[str, float],
    reference: float | None = None,
    title: str = "Exactitude sur data/test selon l'étalonnage",
):
    """Une barre par modèle (exactitude en %), et l'exactitude du modèle flottant en pointillés.

    Introduit dans le notebook 01.
    """
    figure, axis = plt.subplots(figsize=(1.6 + 1.6 * len(accuracies), 3))
    values = [100 * v for v in accuracies.values()]
    colors = [
        "tab:green" if reference is None or v >= 100 * reference - 1 else "tab:orange"
        for v in values
    ]
    bars = axis.bar(list(accuracies), values, color=colors)
    axis.bar_label(
        bars,
        labels=[f"{french(v)} %" for v in values],
        label_type="center",
        color="white",
        fontsize=9,
    )
    if reference is not None:
        axis.axhline(
            100 * reference, color="0.3", linestyle="--", linewidth=1, label="modèle flottant"
        )
        axis.legend(fontsize=8, loc="lower right")
    axis.set_ylim(0, 109)
    axis.set_ylabel("exactitude (%)")
    axis.set_title(title)
    axis.tick_params(axis="x", labelsize=8)
    figure.tight_layout()
    return figure


def plot_mode_sizes(rows: dict[str, dict], parameter_count: int, title: str | None = None):
    """Taille du fichier par mode, rapport à float32, et la limite d'un octet par poids.

    Introduit dans le notebook 02.
    """
    modes = list(rows)
    sizes = [rows[mode]["size_bytes"] / BYTES_PER_KO for mode in modes]
    colors = [
        "tab:blue" if mode in INTEGER_MODES else "tab:orange" if mode != "float32" else "0.55"
        for mode in modes
    ]
    figure, axis = plt.subplots(figsize=(6.4, 3.4))
    bars = axis.bar(modes, sizes, color=colors)
    axis.bar_label(
        bars,
        labels=[
            f"{format_size(rows[m]['size_bytes'], digits=0)}\n× {french(rows[m]['ratio_to_float32'])}"
            for m in modes
        ],
        fontsize=8,
    )
    for bytes_per_weight, style in ((4, ":"), (1, "--")):
        axis.axhline(
            bytes_per_weight * parameter_count / BYTES_PER_KO,
            color="0.3",
            linestyle=style,
            linewidth=1,
            label=f"{bytes_per_weight} octet{'s' if bytes_per_weight > 1 else ''} par poids",
        )
    handles, _ = axis.get_legend_handles_labels()
    handles += [
        Patch(color="tab:orange", label="calcul flottant"),
        Patch(color="tab:blue", label="calcul entier"),
    ]
    axis.legend(handles=handles, fontsize=8, loc="upper right")
    axis.set_ylabel("taille du fichier (ko)")
    axis.set_ylim(0, max(max(sizes), 4 * parameter_count / BYTES_PER_KO) * 1.25)
    axis.set_title(title or "Taille du .tflite selon le mode (× = rapport à float32)", fontsize=10)
    figure.tight_layout()
    return figure


def plot_confusion_matrix(matrix: np.ndarray, labels: list[str], title: str = ""):
    """Affiche une matrice de confusion annotée. Introduit dans le notebook 03."""
    figure, axis = plt.subplots(figsize=(3.6, 3.2))
    axis.imshow(matrix, cmap="Blues")
    for (row, column), value in np.ndenumerate(matrix):
        color = "white" if value > matrix.max() / 2 else "black"
        axis.text(column, row, str(value), ha="center", va="center", color=color, fontsize=8)
    axis.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize=8)
    axis.set_yticks(range(len(labels)), labels, fontsize=8)
    axis.set_xlabel("prédiction")
    axis.set_ylabel("vraie étiquette")
    axis.set_title(title, fontsize=10)
    figure.tight_layout()
    return figure


def plot_mode_summary(results: dict):
    """Trois panneaux par mode : taille du fichier, exactitude, accord avec le modèle flottant.

    ``results`` vient de ``compare_modes``. Introduit dans le notebook 03.
    """
    modes = list(results)
    panels = (
        ("size_bytes", "taille (ko)", 1 / BYTES_PER_KO, "{:.0f}"),
        ("accuracy", "exactitude (%)", 100, "{:.2f}"),
        ("agreement", "accord top-1 (%)", 100, "{:.1f}"),
    )
    figure, axes = plt.subplots(1, 3, figsize=(10, 2.8))
    colors = ["tab:gray" if mode == "float32" else "tab:blue" for mode in modes]
    for axis, (key, label, factor, fmt) in zip(axes, panels, strict=True):
        values = [results[mode][key] * factor for mode in modes]
        bars = axis.bar(modes, values, color=colors)
        axis.bar_label(bars, labels=[fmt.format(v).replace(".", ",") for v in values], fontsize=7)
        axis.set_title(label, fontsize=10)
        axis.tick_params(axis="x", labelrotation=45, labelsize=8)
        axis.margins(y=0.18)
        if key != "size_bytes":
            low = min(values)
            axis.set_ylim(max(0.0, low - 5), 101)
    figure.tight_layout()
    return figure


def plot_latencies(latencies: dict, thread_counts: list[int]):
    """Barres groupées : latence médiane (ms) par mode, pour chaque nombre de fils.

    ``latencies[mode][threads]`` est le résultat de ``measure_latency``.
    Introduit dans le notebook 03.
    """
    modes = list(latencies)
    width = 0.8 / len(thread_counts)
    figure, axis = plt.subplots(figsize=(6, 2.8))
    for rank, threads in enumerate(thread_counts):
        values = [latencies[mode][threads]["median_ms"] for mode in modes]
        positions = np.arange(len(modes)) + (rank - (len(thread_counts) - 1) / 2) * width
        bars = axis.bar(positions, values, width, label=format_threads(threads))
        axis.bar_label(bars, labels=[french(v) for v in values], fontsize=7)
    axis.set_xticks(range(len(modes)), modes)
    axis.set_ylabel("latence médiane (ms)")
    axis.set_title("Latence d'une inférence avec LiteRT (cette machine)", fontsize=10)
    axis.legend(fontsize=8)
    axis.margins(y=0.18)
    figure.tight_layout()
    return figure


def plot_layer_errors(result: dict, title: str = "Erreur de quantification par couche"):
    """Une barre par couche : rmse / échelle (résultat de ``diagnose_model``), avec le niveau d'une
    couche saine (1/√12 ≈ 0,29) et le seuil des suspectes (0,7).
    Introduit dans le notebook 06.
    """
    layers = result["layers"]
    values = [layer["rmse_over_scale"] for layer in layers]
    colors = ["tab:red" if layer["suspect"] else "tab:blue" for layer in layers]
    figure, axis = plt.subplots(figsize=(9, 3.2))
    axis.bar(range(1, len(layers) + 1), values, color=colors)
    axis.axhline(HEALTHY_RMSE_OVER_SCALE, color="0.3", linestyle=":", linewidth=1)
    axis.axhline(SUSPECT_RMSE_OVER_SCALE, color="tab:red", linestyle="--", linewidth=1)
    axis.text(0.6, HEALTHY_RMSE_OVER_SCALE, " couche saine (1/√12)", va="bottom", fontsize=7)
    axis.text(
        0.6,
        SUSPECT_RMSE_OVER_SCALE,
        " seuil des suspectes",
        va="bottom",
        fontsize=7,
        color="tab:red",
    )
    for number, (layer, value) in enumerate(zip(layers, values, strict=True), start=1):
        if layer["suspect"]:
            axis.annotate(
                _layer_label(layer["tensor"]),
                (number, value),
                textcoords="offset points",
                xytext=(0, 3),
                ha="center",
                fontsize=7,
            )
    axis.set_yscale("log")
    # Labelled ticks at readable values, the thresholds among them; unlabelled minor ticks
    # (matplotlib would write them « 2×10⁰ »).
    axis.yaxis.set_major_locator(FixedLocator(LOG_AXIS_TICKS))
    axis.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: french(v, "g")))
    axis.yaxis.set_minor_formatter(NullFormatter())
    axis.set_xlabel("couche (dans l'ordre du modèle)")
    axis.set_ylabel("rmse / échelle")
    axis.set_title(title, fontsize=10)
    figure.tight_layout()
    return figure


def _layer_label(tensor: str) -> str:
    """The layer's own name in a tensor name (``bloc1_expansion_1``), for an annotation."""
    parts = short_name(tensor).split("/")
    return parts[-2] if len(parts) > 1 else parts[-1]


def plot_layer_snr(result: dict, title: str = "SNR de chaque couche, int8 face au float32"):
    """Le SNR (dB) de la sortie de chaque couche dans l'ordre du modèle (résultat de
    ``diagnose_model`` ou ``add_snr``) : les suspectes en rouge, avec ce qu'elles perdent, et
    le niveau de 30 dB sous lequel une perte compte.
    Introduit dans le notebook 06.
    """
    layers = [
        (number, layer)
        for number, layer in enumerate(result["layers"], start=1)
        if layer.get("snr_db") is not None
    ]
    figure, axis = plt.subplots(figsize=(9, 3.2))
    axis.plot(
        [number for number, _ in layers],
        [layer["snr_db"] for _, layer in layers],
        marker="o",
        markersize=3,
        color="tab:blue",
        linewidth=1,
    )
    axis.axhline(SUSPECT_SNR_BELOW_DB, color="0.3", linestyle=":", linewidth=1)
    axis.text(
        0.6,
        SUSPECT_SNR_BELOW_DB,
        f" {french(SUSPECT_SNR_BELOW_DB, '.0f')} dB",
        va="bottom",
        fontsize=7,
    )
    for number, layer in layers:
        if layer["suspect"]:
            axis.plot([number], [layer["snr_db"]], "o", color="tab:red", markersize=6)
            loss = layer.get("snr_loss_db")
            text = _layer_label(layer["tensor"])
            if loss is not None and loss > 0:
                text += f" (−{french(loss, '.1f')} dB)"
            axis.annotate(
                text,
                (number, layer["snr_db"]),
                textcoords="offset points",
                xytext=(5, -10),
                fontsize=7,
                color="tab:red",
            )
    # A negative SNR (more noise than signal) is the worst case: keep it on the figure.
    lowest = min((layer["snr_db"] for _, layer in layers), default=0)
    axis.set_ylim(bottom=min(0, lowest - 3))
    axis.set_xlabel("couche (dans l'ordre du modèle)")
    axis.set_ylabel("SNR (dB)")
    axis.set_title(title, fontsize=10)
    figure.tight_layout()
    return figure


DETECTION_COLORS = ("tab:red", "tab:blue", "tab:green", "tab:orange", "tab:purple", "tab:brown")


def _draw_boxes(axis, boxes, classes, labels, scores=None, linestyle="-"):
    from matplotlib.patches import Rectangle

    for rank, (box, label_index) in enumerate(zip(boxes, classes, strict=True)):
        x, y, width, height = (float(v) for v in box)
        color = DETECTION_COLORS[int(label_index) % len(DETECTION_COLORS)]
        axis.add_patch(
            Rectangle((x, y), width, height, fill=False, color=color, lw=1.5, ls=linestyle)
        )
        if scores is not None:
            text = f"{labels[int(label_index)]} {french(float(scores[rank]))}"
            axis.text(
                x,
                y - 1,
                text,
                color="white",
                fontsize=6,
                va="bottom",
                bbox={"facecolor": color, "pad": 1, "lw": 0, "alpha": 0.8},
            )


def plot_detections(images, rows: dict, labels: list[str], ground_truth=None, cell_size=2.2):
    """Les boîtes détectées sur les mêmes images : une ligne par modèle, une colonne par image.

    ``rows[nom]`` : une liste de triplets ``(boîtes [x, y, l, h] en pixels, scores, classes)``
    (ceux de ``decode_detections``), un par image ; ``ground_truth`` : une liste de couples
    ``(boîtes, classes)`` dessinés en pointillés blancs. Introduit dans le notebook 05.
    """
    images = list(images)
    figure, axes = plt.subplots(
        len(rows),
        len(images),
        figsize=(len(images) * cell_size, len(rows) * cell_size * 1.05),
        squeeze=False,
    )
    for row, (name, detections) in enumerate(rows.items()):
        for column, (image, (boxes, scores, classes)) in enumerate(
            zip(images, detections, strict=True)
        ):
            axis = axes[row, column]
            axis.imshow(image, interpolation="nearest")
            axis.set_xticks([])
            axis.set_yticks([])
            if ground_truth is not None:
                true_boxes, _ = ground_truth[column]
                for x, y, width, height in np.asarray(true_boxes, dtype=float):
                    axis.add_patch(
                        plt.Rectangle(
                            (x, y), width, height, fill=False, color="white", lw=1, ls=":"
                        )
                    )
            _draw_boxes(axis, boxes, classes, labels, scores)
            if column == 0:
                axis.set_ylabel(name, fontsize=9)
            axis.set_title(f"{len(boxes)} détection(s)", fontsize=7)
    figure.tight_layout()
    return figure
