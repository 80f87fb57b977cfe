"""Images de démonstration : petites scènes de formes, générées de façon déterministe.

Aucun jeu de données n'est téléchargé : chaque image est dessinée à partir d'une graine, avec
des couleurs, tailles, rotations, positions, fonds (dégradés, textures, rayures), du flou et
du bruit qui varient. Les mêmes graines donnent toujours les mêmes pixels.

Introduit dans le notebook 00.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from helpers.base.errors import KitError
from helpers.core.models import replace_folder

# Output order of the demo model (also written to data/labels.txt).
LABELS = ("anneau", "cercle", "croix", "losange", "triangle")
IMAGE_SIZE = 64
SEED = 2026
N_CALIBRATION = 120
N_TEST_PER_LABEL = 64

_SPLIT_IDS = {"entrainement": 0, "calibration": 1, "test": 2}
SUPERSAMPLE = 4  # drawn at 4x then reduced: smooth, anti-aliased edges


def scene_rng(split: str, index: int, seed: int = SEED) -> np.random.Generator:
    """Générateur aléatoire propre à une image : l'image ne dépend que de (graine, partie, rang)."""
    if split not in _SPLIT_IDS:
        raise KitError(f"Partie inconnue « {split} » : choisissez parmi {sorted(_SPLIT_IDS)}.")
    return np.random.default_rng([seed, _SPLIT_IDS[split], index])


def background(rng: np.random.Generator, side: int) -> np.ndarray:
    """A float RGB background in [0, 255]: gradient, textured gradient or stripes."""
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float32) / side
    angle = rng.uniform(0, 2 * np.pi)
    t = np.cos(angle) * xx + np.sin(angle) * yy
    t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
    c1, c2 = rng.uniform(0, 255, size=(2, 3)).astype(np.float32)
    kind = rng.integers(0, 3)
    if kind == 2:
        period = rng.uniform(0.15, 0.5)
        stripe = 0.5 + 0.5 * np.sin(2 * np.pi * t / period)
        c2 = c1 + rng.uniform(-70, 70, size=3).astype(np.float32)
        bg = c1 * (1 - stripe[..., None]) + c2 * stripe[..., None]
    else:
        bg = c1 * (1 - t[..., None]) + c2 * t[..., None]
    if kind == 1:
        coarse = rng.normal(0, 35, size=(6, 6, 3)).astype(np.float32)
        texture = np.stack(
            [
                np.asarray(Image.fromarray(coarse[..., c]).resize((side, side), Image.BICUBIC))
                for c in range(3)
            ],
            axis=-1,
        )
        bg = bg + texture
    return np.clip(bg, 0, 255)


def _rotated(points: np.ndarray, angle: float, center: np.ndarray) -> list[tuple[float, float]]:
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return [tuple(p) for p in points @ rotation.T + center]


def shape_mask(label: str, rng: np.random.Generator, side: int) -> Image.Image:
    """A white-on-black mask of one object of class `label`."""
    mask = Image.new("L", (side, side), 0)
    draw = ImageDraw.Draw(mask)
    radius = rng.uniform(0.22, 0.38) * side
    margin = radius * 1.05
    center = rng.uniform(margin, side - margin, size=2)
    angle = rng.uniform(0, 2 * np.pi)
    cx, cy = center
    if label in ("cercle", "anneau"):
        ry = radius * rng.uniform(0.85, 1.0)
        draw.ellipse([cx - radius, cy - ry, cx + radius, cy + ry], fill=255)
        if label == "anneau":
            hole = rng.uniform(0.45, 0.65)
            draw.ellipse(
                [cx - radius * hole, cy - ry * hole, cx + radius * hole, cy + ry * hole], fill=0
            )
    elif label == "croix":
        half_width = radius * rng.uniform(0.18, 0.28)
        for bar in (
            np.array(
                [
                    [-radius, -half_width],
                    [radius, -half_width],
                    [radius, half_width],
                    [-radius, half_width],
                ]
            ),
            np.array(
                [
                    [-half_width, -radius],
                    [half_width, -radius],
                    [half_width, radius],
                    [-half_width, radius],
                ]
            ),
        ):
            draw.polygon(_rotated(bar, angle, center), fill=255)
    elif label == "losange":
        minor = radius * rng.uniform(0.45, 0.65)
        points = np.array([[radius, 0], [0, minor], [-radius, 0], [0, -minor]])
        draw.polygon(_rotated(points, angle, center), fill=255)
    elif label == "triangle":
        corners = np.arange(3) * 2 * np.pi / 3
        radii = radius * rng.uniform(0.9, 1.1, size=3)
        points = np.stack([np.cos(corners) * radii, np.sin(corners) * radii], axis=1)
        draw.polygon(_rotated(points, angle, center), fill=255)
    else:
        raise KitError(f"Classe inconnue « {label} » : les classes sont {', '.join(LABELS)}.")
    return mask


def distractors(rng: np.random.Generator, side: int) -> tuple[Image.Image, np.ndarray]:
    """Small dots and thin lines that are not objects (the model must learn to ignore them)."""
    mask = Image.new("L", (side, side), 0)
    draw = ImageDraw.Draw(mask)
    for _ in range(rng.integers(0, 3)):
        x, y = rng.uniform(0, side, size=2)
        r = rng.uniform(0.02, 0.05) * side
        draw.ellipse([x - r, y - r, x + r, y + r], fill=255)
    if rng.random() < 0.5:
        x0, y0, x1, y1 = rng.uniform(0, side, size=4)
        draw.line([x0, y0, x1, y1], fill=255, width=max(1, int(0.012 * side)))
    return mask, rng.uniform(0, 255, size=3).astype(np.float32)


def render_scene(label: str, rng: np.random.Generator, size: int = IMAGE_SIZE) -> np.ndarray:
    """Dessine une scène contenant un objet de la classe ``label`` : tableau uint8 (H, W, 3)."""
    side = size * SUPERSAMPLE
    canvas = background(rng, side)

    distractor_mask, distractor_color = distractors(rng, side)
    alpha = np.asarray(distractor_mask, dtype=np.float32)[..., None] / 255
    canvas = canvas * (1 - alpha) + distractor_color * alpha

    # An object colour far enough from the background for a person to see it.
    mean_bg = canvas.reshape(-1, 3).mean(axis=0)
    for _ in range(20):
        color = rng.uniform(0, 255, size=3).astype(np.float32)
        if np.linalg.norm(color - mean_bg) > 110:
            break
    shading = rng.uniform(-25, 25, size=3).astype(np.float32)
    yy = np.linspace(-1, 1, side, dtype=np.float32)[:, None, None]
    fill = np.clip(color + shading * yy, 0, 255)

    alpha = np.asarray(shape_mask(label, rng, side), dtype=np.float32)[..., None] / 255
    canvas = canvas * (1 - alpha) + fill * alpha

    return finish_scene(canvas, size, rng)


def finish_scene(canvas: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Le dessin sur-échantillonné réduit à ``size`` pixels, parfois flou, toujours bruité, en
    uint8 : comme une photo (classification et détection partagent ce rendu)."""
    image = Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8)).resize(
        (size, size), Image.LANCZOS
    )
    if rng.random() < 0.5:
        image = image.filter(ImageFilter.GaussianBlur(radius=rng.uniform(0.3, 0.9)))
    pixels = np.asarray(image, dtype=np.float32)
    pixels = pixels + rng.normal(0, rng.uniform(0, 10), size=pixels.shape)
    return np.clip(np.rint(pixels), 0, 255).astype(np.uint8)


def iter_split(split: str, count: int, seed: int = SEED) -> Iterator[tuple[int, np.ndarray]]:
    """Produit ``count`` couples (indice de classe, image uint8) d'une partie, classes en alternance."""
    for index in range(count):
        label_index = index % len(LABELS)
        yield label_index, render_scene(LABELS[label_index], scene_rng(split, index, seed))


def make_training_set(count: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """Jeu d'entraînement régénéré à la volée (jamais enregistré) : images uint8 et indices."""
    images = np.empty((count, IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
    targets = np.empty(count, dtype=np.int64)
    for i, (label_index, image) in enumerate(iter_split("entrainement", count, seed)):
        images[i] = image
        targets[i] = label_index
    return images, targets


def write_demo_data(
    data_dir: Path,
    n_calibration: int = N_CALIBRATION,
    n_test_per_label: int = N_TEST_PER_LABEL,
    seed: int = SEED,
) -> dict[str, int]:
    """Écrit ``calibration/``, ``test/<classe>/`` et ``labels.txt`` dans ``data_dir``.

    Les anciennes images de ces deux dossiers sont remplacées, chaque dossier d'un coup.
    Renvoie les effectifs écrits.
    """
    data_dir = Path(data_dir)
    counts = {"calibration": n_calibration}

    def write_calibration(staged: Path) -> None:
        staged.mkdir()
        for index, (_, image) in enumerate(iter_split("calibration", n_calibration, seed)):
            Image.fromarray(image).save(staged / f"calibration_{index:03d}.png")

    def write_test(staged: Path) -> None:
        for index, (label_index, image) in enumerate(
            iter_split("test", n_test_per_label * len(LABELS), seed)
        ):
            label = LABELS[label_index]
            (staged / label).mkdir(parents=True, exist_ok=True)
            Image.fromarray(image).save(staged / label / f"{label}_{index // len(LABELS):03d}.png")
            counts[label] = counts.get(label, 0) + 1

    # Each folder is written beside the old one, then swapped: never half an image set.
    replace_folder(data_dir / "calibration", write_calibration)
    replace_folder(data_dir / "test", write_test)
    (data_dir / "labels.txt").write_text("\n".join(LABELS) + "\n", encoding="utf-8")
    return counts
