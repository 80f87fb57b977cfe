"""Figures communes aux notebooks (grilles d'images, barres).

Introduit dans le notebook 00.
"""

from __future__ import annotations

import numpy as np


def show_image_grid(images, titles=None, ncols: int = 8, cell_size: float = 1.3, suptitle=None):
    """Affiche des images uint8 (H, W, 3) en grille, avec un titre sous chacune.

    Introduit dans le notebook 00.
    """
    import matplotlib.pyplot as plt

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
    plt.show()


def show_bars(values: dict, ylabel: str, title: str, fmt: str = "{:.1f}", color="tab:blue"):
    """Diagramme en barres annoté (une barre par clé).

    Introduit dans le notebook 00.
    """
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(1.2 + 1.1 * len(values), 3))
    bars = axis.bar(list(values), list(values.values()), color=color)
    axis.bar_label(bars, labels=[fmt.format(v) for v in values.values()], fontsize=8)
    axis.set_ylabel(ylabel)
    axis.set_title(title)
    axis.margins(y=0.15)
    figure.tight_layout()
    plt.show()
