"""Les données : lecture d'images, normalisation, dossiers rangés par étiquette, étiquettes.

La *normalisation* met les pixels dans la plage que le réseau a vue à l'entraînement ; ce n'est
pas une quantification (elle produit des flottants).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from helpers.base.errors import KitError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
# name -> (pixel value 0 maps to, pixel value 255 maps to)
NORMALIZATIONS = {
    "symmetric": (-1.0, 1.0),
    "unit": (0.0, 1.0),
    "raw": (0.0, 255.0),
}


def check_normalization(normalization: str) -> tuple[float, float]:
    """Plage ``(min, max)`` d'une normalisation, ou une erreur claire si le nom est inconnu."""
    if normalization not in NORMALIZATIONS:
        raise KitError(
            f"Normalisation inconnue « {normalization} » : choisissez symmetric ([-1, 1]), "
            "unit ([0, 1]) ou raw ([0, 255])."
        )
    return NORMALIZATIONS[normalization]


def normalize(pixels: np.ndarray, normalization: str = "symmetric") -> np.ndarray:
    """Pixels uint8 [0, 255] -> float32 dans la plage de la normalisation choisie."""
    low, high = check_normalization(normalization)
    pixels = np.asarray(pixels, dtype=np.float32)
    return (pixels * np.float32((high - low) / 255.0) + np.float32(low)).astype(np.float32)


def is_hidden(path: Path) -> bool:
    """Vrai pour un nom qui commence par un point (« ._photo.png » de macOS, « .ipynb_checkpoints »).

    Ces fichiers et dossiers sont créés par le système ou JupyterLab, pas par vous : on les ignore.
    """
    return Path(path).name.startswith(".")


def is_image_file(path: Path) -> bool:
    """Vrai pour un fichier PNG ou JPEG non caché, quelle que soit la casse de l'extension."""
    path = Path(path)
    return not is_hidden(path) and path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES


def label_folders(folder: Path) -> list[str]:
    """Les noms triés des sous-dossiers d'un dossier, sans les dossiers cachés."""
    return sorted(p.name for p in Path(folder).iterdir() if p.is_dir() and not is_hidden(p))


RESIZES = ("stretch", "letterbox")  # how an image is brought to the model's input size
DEFAULT_PAD_VALUE = 114  # letterbox padding, in 0-255 pixels (Ultralytics' grey)


def letterbox_geometry(original_size, input_size) -> tuple[float, int, int, int, int]:
    """Le « letterbox » d'une image (hauteur, largeur) dans l'entrée (H, L) du modèle :
    ``(échelle, hauteur, largeur, haut, gauche)``. Échelle min(H/h, L/l), taille redimensionnée
    arrondie au pixel le plus proche, image centrée (``haut`` et ``gauche`` : la marge)."""
    height, width = (int(v) for v in original_size)
    input_height, input_width = (int(v) for v in input_size)
    scale = min(input_height / height, input_width / width)
    new_height = min(input_height, max(1, int(round(height * scale))))
    new_width = min(input_width, max(1, int(round(width * scale))))
    top, left = (input_height - new_height) // 2, (input_width - new_width) // 2
    return scale, new_height, new_width, top, left


def check_resize(resize: str, pad_value=DEFAULT_PAD_VALUE) -> tuple[str, int]:
    """(redimensionnement, valeur de remplissage) vérifiés : « stretch » ou « letterbox »,
    remplissage entier de 0 à 255 (en pixels, avant la normalisation)."""
    if resize not in RESIZES:
        raise KitError(
            f"Redimensionnement inconnu « {resize} » : écrivez « stretch » (l'image étirée à "
            "la taille du modèle) ou « letterbox » (proportions gardées, marges de pad_value)."
        )
    if isinstance(pad_value, bool) or not isinstance(pad_value, int) or not 0 <= pad_value <= 255:
        raise KitError(
            f"« pad_value » vaut {pad_value!r} : écrivez un entier de 0 à 255 (la valeur des "
            f"pixels de la marge, avant normalisation ; {DEFAULT_PAD_VALUE} par défaut)."
        )
    return resize, pad_value


def fit_image(image: Image.Image, size, resize: str = "stretch", pad_value: int = 114):
    """Une image PIL à la taille ``(hauteur, largeur)`` du modèle : étirée (« stretch ») ou
    centrée dans des marges de ``pad_value`` (« letterbox »), avec le filtre du kit."""
    height, width = size
    if resize == "letterbox" and image.size != (width, height):
        _, new_height, new_width, top, left = letterbox_geometry(
            (image.height, image.width), (height, width)
        )
        fill = pad_value if image.mode == "L" else (pad_value,) * len(image.getbands())
        canvas = Image.new(image.mode, (width, height), fill)
        canvas.paste(image.resize((new_width, new_height), Image.BILINEAR), (left, top))
        return canvas
    if image.size != (width, height):
        return image.resize((width, height), Image.BILINEAR)
    return image


def read_image(
    path: Path,
    size: tuple[int, int],
    channels: int = 3,
    resize: str = "stretch",
    pad_value: int = DEFAULT_PAD_VALUE,
) -> np.ndarray:
    """Lit une image, la convertit (RGB ou niveaux de gris) et la redimensionne : uint8 (H, W, C).

    ``size`` est ``(hauteur, largeur)``. Tout mode d'image est accepté (niveaux de gris, RGBA,
    palette, 16 bits). ``resize="letterbox"`` garde les proportions (voir :func:`fit_image`).
    """
    path = Path(path)
    check_resize(resize, pad_value)
    try:
        with Image.open(path) as image:
            image.load()
            if image.mode in ("I;16", "I;16B", "I;16L", "I"):
                # 16-bit grey: keep the 8 most significant bits.
                wide = np.asarray(image, dtype=np.uint32)
                image = Image.fromarray((wide >> 8).clip(0, 255).astype(np.uint8), mode="L")
            image = image.convert("RGB" if channels == 3 else "L")
            pixels = np.asarray(fit_image(image, size, resize, pad_value), dtype=np.uint8)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise KitError(
            f"Image illisible : {path.name} ({error.__class__.__name__}). "
            "Remplacez-la ou retirez-la du dossier."
        ) from error
    return pixels if channels == 3 else pixels[..., None]


def image_size(path: Path) -> tuple[int, int]:
    """(hauteur, largeur) d'une image, sans la décoder."""
    try:
        with Image.open(path) as image:
            return image.height, image.width
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise KitError(
            f"Image illisible : {Path(path).name} ({error.__class__.__name__}). "
            "Remplacez-la ou retirez-la du dossier."
        ) from error


def list_labeled_images(folder: Path, labels: list[str]) -> list[tuple[Path, int]]:
    """Images d'un dossier organisé en sous-dossiers par étiquette : [(chemin, indice), ...].

    Ordre stable (étiquettes puis noms triés). Introduit dans le notebook 00.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise KitError(f"Dossier d'images introuvable : {folder.name}.")
    subfolders = label_folders(folder)
    if not subfolders:
        raise KitError(
            f"Le dossier {folder.name} n'a aucun sous-dossier : il faut un sous-dossier par "
            f"étiquette ({', '.join(labels)}), chacun contenant ses images."
        )
    unknown = [name for name in subfolders if name not in labels]
    if unknown:
        raise KitError(
            f"Sous-dossiers inconnus dans {folder.name} : {', '.join(unknown)}. "
            f"Les étiquettes du modèle sont : {', '.join(labels)}."
        )
    items = []
    for name in subfolders:
        for path in sorted((folder / name).iterdir()):
            if is_image_file(path):
                items.append((path, labels.index(name)))
    if not items:
        raise KitError(f"Aucune image PNG ou JPEG dans les sous-dossiers de {folder.name}.")
    return items


def load_labeled_images(
    folder: Path,
    labels: list[str],
    size: tuple[int, int],
    normalization: str = "symmetric",
    channels: int = 3,
) -> tuple[np.ndarray, np.ndarray]:
    """Charge un petit jeu étiqueté (comme ``data/test``) : images normalisées et indices.

    ``channels`` : 3 (RGB) ou 1 (niveaux de gris), comme l'entrée du modèle.
    Introduit dans le notebook 00.
    """
    items = list_labeled_images(folder, labels)
    images = np.stack([read_image(path, size, channels) for path, _ in items])
    targets = np.array([label_index for _, label_index in items], dtype=np.int64)
    return normalize(images, normalization), targets


def read_labels(path: Path) -> list[str]:
    """Lit un fichier d'étiquettes (une par ligne, dans l'ordre des sorties du modèle).

    Introduit dans le notebook 00.
    """
    path = Path(path)
    if not path.is_file():
        raise KitError(
            f"Fichier d'étiquettes introuvable : {path.name}. Il doit contenir une étiquette "
            "par ligne, dans l'ordre des sorties du modèle."
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise KitError(
            f"Le fichier d'étiquettes {path.name} n'est pas en UTF-8 (octet "
            f"{error.object[error.start]:#04x} à la position {error.start}, Latin-1 ou "
            "Windows-1252 ?) : enregistrez le fichier en UTF-8 (dans l'éditeur : « Enregistrer "
            "sous », codage UTF-8)."
        ) from error
    labels = [line.strip() for line in text.splitlines()]
    labels = [label for label in labels if label]
    if not labels:
        raise KitError(f"Le fichier d'étiquettes {path.name} est vide.")
    return labels


def find_labels_file(model_path) -> Path | None:
    """Le fichier d'étiquettes d'un modèle : ``labels.txt`` dans son dossier, sinon à côté.

    Pour le modèle de démonstration, c'est ``data/labels.txt``, à côté de ``data/modele_demo``.
    """
    model_path = Path(model_path)
    for candidate in (model_path / "labels.txt", model_path.parent / "labels.txt"):
        if candidate.is_file():
            return candidate
    return None


def check_labels(labels, num_outputs: int | None) -> list[str]:
    """Les étiquettes en texte, une par sortie du modèle (``num_outputs``, None : non vérifié)."""
    labels = [str(label) for label in labels]
    if num_outputs is not None and len(labels) != num_outputs:
        raise KitError(
            f"Le modèle a {num_outputs} sorties mais il y a {len(labels)} étiquettes "
            f"({', '.join(labels[:6])}{', ...' if len(labels) > 6 else ''}) : utilisez le "
            "fichier d'étiquettes de ce modèle (une par ligne, dans l'ordre des sorties)."
        )
    return labels


def find_images(folder, num_samples: int | None = None) -> list[Path]:
    """Les images PNG/JPEG d'un dossier et de ses sous-dossiers (triées), ``num_samples`` au
    plus, réparties sur tout le dossier."""
    folder = Path(folder)
    if not folder.is_dir():
        raise KitError(
            f"Dossier d'images introuvable : {folder.as_posix()}. Vérifiez le chemin (relatif au "
            "dossier où vous lancez la commande)."
        )
    paths = sorted(
        p
        for p in folder.rglob("*")
        if is_image_file(p)
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )
    if not paths:
        raise KitError(f"Aucune image PNG ou JPEG dans {folder.as_posix()} ni ses sous-dossiers.")
    if num_samples is not None and num_samples < len(paths):
        chosen = np.unique(np.round(np.linspace(0, len(paths) - 1, num_samples)).astype(int))
        paths = [paths[i] for i in chosen]
    return paths
