"""Étalonnage : le jeu de données représentatif qui alimente le convertisseur TensorFlow Lite.

Pour quantifier les activations en entiers, le convertisseur exécute le modèle flottant sur des
exemples et note la plage (min, max) de chaque tenseur. Il appelle pour cela une fonction sans
argument qui produit, pour chaque exemple, une liste d'entrées ``[tableau float32 (1, H, W, C)]``.

Ce module construit cette fonction à partir d'un dossier d'images, en lisant une image à la fois
(la mémoire ne grandit pas avec le nombre d'images), et montre les plages et la quantification
affine avec numpy.

Introduit dans le notebook 01.
"""

from __future__ import annotations

import math
import sys
import tracemalloc
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError
from tqdm import tqdm

from helpers.base.errors import KitError
from helpers.base.units import french
from helpers.core.images import (
    DEFAULT_PAD_VALUE,
    check_normalization,
    check_resize,
    is_image_file,
    normalize,
    read_image,
)
from helpers.core.inputs import check_size
from helpers.core.models import check_saved_model_dir, load_saved_model

DEFAULT_MIN_IMAGES = 100  # the capsule's minimum
DEFAULT_MAX_SAMPLES = 500  # TensorFlow recommends about 100 to 500 calibration samples
CHANNEL_NAMES = {1: ("gris",), 3: ("rouge", "vert", "bleu")}
INTEGER_RANGES = {"int8": (-128, 127), "uint8": (0, 255)}


class CalibrationWarning(UserWarning):
    """Avertissement de l'étalonnage (fichiers illisibles ignorés, par exemple)."""


# --------------------------------------------------------------------------------------------
# Reading the model's input
# --------------------------------------------------------------------------------------------


def model_input_shape(model_dir, input_size=None) -> tuple[int, int, int]:
    """(hauteur, largeur, canaux) de l'entrée d'un SavedModel, lus dans sa signature.

    ``input_size`` (hauteur, largeur) n'est demandé que si le modèle accepte une taille libre.
    Erreur claire pour un dossier qui n'est pas un SavedModel, un modèle à plusieurs entrées ou
    une entrée qui n'est pas une image float32. Introduit dans le notebook 01.
    """
    check_saved_model_dir(model_dir)  # cheap check before importing TensorFlow
    return load_saved_model(model_dir).input.image_shape(input_size)


# --------------------------------------------------------------------------------------------
# The representative dataset
# --------------------------------------------------------------------------------------------


def probe_image(path: Path) -> str | None:
    """Vérifie vite qu'un fichier image se décode ; renvoie la raison de l'échec, ou None.

    PNG : sommes de contrôle de tous les blocs, sans décompresser. JPEG : décodage réduit au
    1/8 (mise à l'échelle DCT), qui lit tout le fichier.
    """
    try:
        with Image.open(path) as image:
            if image.format == "JPEG":
                image.draft(image.mode, (max(1, image.width // 8), max(1, image.height // 8)))
                image.load()
            else:
                image.verify()
    except UnidentifiedImageError:
        return "pas une image reconnue"
    except Image.DecompressionBombError:
        return "image démesurée"
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        return f"fichier abîmé ou tronqué ({error.__class__.__name__})"
    return None


def _spread_order(count: int, limit: int) -> list[int]:
    """Indices to try: ``limit`` evenly spaced over the sorted list first, then the others.

    Taking the first ``limit`` files would favour whatever sorts first (often one class or one
    recording session); evenly spaced picks cover the whole folder and stay deterministic.
    """
    if limit >= count:
        return list(range(count))
    chosen = np.unique(np.round(np.linspace(0, count - 1, limit)).astype(int)).tolist()
    chosen_set = set(chosen)
    return chosen + [i for i in range(count) if i not in chosen_set]


def _names(items: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" et {len(items) - limit} autres" if len(items) > limit else "")


class RepresentativeDataset:
    """Le jeu de données représentatif : appelable, il produit ``[float32 (1, H, W, C)]`` par image.

    Les images sont lues une à une pendant que le convertisseur les consomme : la mémoire ne
    grandit pas avec leur nombre. Chaque appel recommence depuis la première image.
    """

    def __init__(
        self,
        paths: Sequence[Path],
        input_size: tuple[int, int],
        channels: int = 3,
        normalization: str = "symmetric",
        *,
        source: Path | None = None,
        found: int | None = None,
        skipped: Sequence[str] = (),
        ignored: Sequence[str] = (),
        progress: bool = False,
        resize: str = "stretch",
        pad_value: int = DEFAULT_PAD_VALUE,
    ):
        check_normalization(normalization)
        self.resize, self.pad_value = check_resize(resize, pad_value)
        if channels not in (1, 3):
            raise KitError(f"Nombre de canaux invalide : {channels}. Choisissez 1 ou 3.")
        self.paths: list[Path] = sorted(Path(p) for p in paths)
        self.input_size: tuple[int, int] = check_size(input_size)
        self.channels: int = int(channels)
        self.normalization: str = normalization
        self.source = Path(source) if source is not None else None
        self.found: int = len(self.paths) if found is None else int(found)
        self.skipped: list[str] = list(skipped)
        self.ignored: list[str] = list(ignored)
        self.progress = progress
        self.message: str | None = None
        if self.skipped:
            self.message = (
                f"{len(self.skipped)} fichier(s) illisible(s) ignoré(s) : {_names(self.skipped)}. "
                f"L'étalonnage utilise les {len(self.paths)} images valides ; remplacez ou "
                "retirez ces fichiers pour ne plus voir ce message."
            )

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """Forme de chaque tableau produit : (1, hauteur, largeur, canaux)."""
        return (1, *self.input_size, self.channels)

    @property
    def value_range(self) -> tuple[float, float]:
        """Plage des valeurs produites, fixée par la normalisation."""
        return check_normalization(self.normalization)

    def __len__(self) -> int:
        return len(self.paths)

    def __call__(self) -> Iterator[list[np.ndarray]]:
        paths: Iterable[Path] = self.paths
        if self.progress:
            # A plain text bar on stderr, also in a notebook.
            paths = tqdm(
                paths, total=len(self.paths), desc="Étalonnage", unit="image", file=sys.stderr
            )
        for path in paths:
            pixels = read_image(path, self.input_size, self.channels, self.resize, self.pad_value)
            # The converter wants a list (one array per model input), float32, with a batch axis.
            yield [normalize(pixels, self.normalization)[np.newaxis]]

    def describe(self) -> str:
        """Résumé en une phrase (nombre d'images, forme, plage), pour l'afficher."""
        low, high = self.value_range
        where = f" de {self.source.as_posix()}" if self.source is not None else ""
        height, width = self.input_size
        used = (
            f"{len(self)} images utilisées sur {self.found}"
            if self.found != len(self)
            else f"{len(self)} images"
        )
        return (
            f"{used}{where} → tableaux float32 de forme {self.shape} "
            f"({height}×{width}, {self.channels} {'canaux' if self.channels > 1 else 'canal'}), "
            f"normalisation « {self.normalization} », valeurs dans [{french(low, 'g')}, "
            f"{french(high, 'g')}]"
        )

    def __repr__(self) -> str:
        return f"<RepresentativeDataset : {self.describe()}>"


def list_calibration_images(image_dir) -> tuple[list[Path], list[str]]:
    """Les images PNG/JPEG d'un dossier (triées par nom) et les noms des autres fichiers ignorés.

    Erreur claire si le dossier n'existe pas.
    """
    folder = Path(image_dir)
    if not folder.exists():
        raise KitError(
            f"Dossier d'images introuvable : {folder.as_posix()}. Vérifiez le chemin (il est "
            "relatif au dossier où vous lancez Python ou le notebook)."
        )
    if not folder.is_dir():
        raise KitError(
            f"{folder.as_posix()} est un fichier, pas un dossier : indiquez le dossier qui "
            "contient les images d'étalonnage."
        )
    images, ignored = [], []
    # Sorted by name: the same order on every machine, hence the same .tflite file.
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        if path.name.startswith("."):
            continue  # hidden files, such as macOS "._photo.png" companions
        if is_image_file(path):
            images.append(path)
        elif path.is_file():  # subfolders are neither used nor listed
            ignored.append(path.name)
    return images, ignored


def representative_dataset(
    image_dir,
    model_dir=None,
    *,
    input_size=None,
    channels: int = 3,
    normalization: str = "symmetric",
    min_images: int = DEFAULT_MIN_IMAGES,
    num_samples: int | None = None,
    max_samples: int | None = DEFAULT_MAX_SAMPLES,
    progress: bool = False,
    resize: str = "stretch",
    pad_value: int = DEFAULT_PAD_VALUE,
) -> RepresentativeDataset:
    """Construit le jeu de données représentatif d'un dossier d'images pour un modèle.

    Avec ``model_dir``, la taille et les canaux sont lus dans le SavedModel ; sinon
    ``input_size`` est obligatoire. Au moins ``min_images`` images valides ; au plus
    ``num_samples`` (ou ``max_samples``), réparties sur tout le dossier. Les fichiers illisibles
    sont nommés et ignorés s'il reste assez d'images. ``resize`` : « stretch » (l'image étirée)
    ou « letterbox » (proportions gardées, marges de ``pad_value``), comme le détecteur en
    service. Introduit dans le notebook 01.
    """
    check_normalization(normalization)
    check_resize(resize, pad_value)
    for value, name in (
        (min_images, "min_images"),
        (num_samples, "num_samples"),
        (max_samples, "max_samples"),
    ):
        if value is not None and (not isinstance(value, (int, np.integer)) or value < 1):
            raise KitError(f"{name} doit être un entier positif (reçu : {value!r}).")
    if num_samples is not None and max_samples is not None and num_samples > max_samples:
        raise KitError(
            f"num_samples = {num_samples} dépasse le plafond de {max_samples} images : TensorFlow "
            "recommande 100 à 500 images d'étalonnage, au-delà le résultat ne s'améliore guère "
            "et la conversion s'allonge. Demandez-en moins (ou relevez max_samples)."
        )
    limit = num_samples if num_samples is not None else max_samples
    if limit is not None and limit < min_images:
        raise KitError(
            f"Vous demandez {limit} images d'étalonnage, moins que le minimum de {min_images} : "
            f"augmentez num_samples, ou baissez min_images (--min-images {limit}) en connaissance "
            "de cause (trop peu d'images donne des plages mal estimées)."
        )
    if model_dir is None:
        if input_size is None:
            raise KitError(
                "Indiquez le modèle (model_dir) pour lire sa taille d'entrée, ou donnez "
                "input_size=(hauteur, largeur)."
            )
        size = check_size(input_size)
        if channels not in (1, 3):
            raise KitError(f"Nombre de canaux invalide : {channels}. Choisissez 1 ou 3.")
    else:
        check_saved_model_dir(model_dir)  # fail fast, before scanning the images

    folder = Path(image_dir)
    candidates, ignored = list_calibration_images(folder)
    where = folder.as_posix()
    if not candidates:
        subfolders = sorted(
            p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")
        )
        hint = (
            f" Ses sous-dossiers ({_names(subfolders)}) ne sont pas parcourus : indiquez le "
            "dossier qui contient directement les images, ou rassemblez-les dans un seul dossier."
            if subfolders
            else " Ajoutez-y des images représentatives de ce que verra le modèle."
        )
        others = (
            f" ({len(ignored)} autre(s) fichier(s) ignoré(s) : {_names(ignored)})"
            if ignored
            else ""
        )
        raise KitError(f"Aucune image PNG ou JPEG dans {where}{others}.{hint}")

    valid, skipped = [], []
    for index in _spread_order(len(candidates), limit or len(candidates)):
        if limit is not None and len(valid) == limit:
            break
        reason = probe_image(candidates[index])
        if reason is None:
            valid.append(candidates[index])
        else:
            skipped.append(candidates[index].name)
    skipped.sort()
    if len(valid) < min_images:
        unreadable = (
            f" ({len(skipped)} fichier(s) illisible(s) : {_names(skipped)})" if skipped else ""
        )
        raise KitError(
            f"Seulement {len(valid)} image(s) lisible(s) dans {where}{unreadable}, il en faut au "
            f"moins {min_images} pour l'étalonnage. Ajoutez des images représentatives de ce que "
            "verra le modèle (TensorFlow recommande 100 à 500), ou baissez min_images "
            "(--min-images) en connaissance de cause."
        )

    if model_dir is not None:
        height, width, channels = model_input_shape(model_dir, input_size)
        size = (height, width)
    found = (
        len(candidates) - len(skipped)
        if limit is None or limit >= len(candidates)
        else len(candidates)
    )
    dataset = RepresentativeDataset(
        valid,
        size,
        channels,
        normalization,
        source=folder,
        found=found,
        skipped=skipped,
        ignored=ignored,
        progress=progress,
        resize=resize,
        pad_value=pad_value,
    )
    if dataset.message:
        warnings.warn(dataset.message, CalibrationWarning, stacklevel=2)
    return dataset


def peak_memory_while_consuming(dataset: Callable[[], Iterable]) -> tuple[int, int]:
    """Parcourt un jeu comme le convertisseur ; renvoie (nombre d'éléments, pic de mémoire en octets).

    Le pic est celui des allocations Python et numpy suivies par ``tracemalloc`` pendant le
    parcours (les tampons internes de Pillow n'y figurent pas). Introduit dans le notebook 01.
    """
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    before, _ = tracemalloc.get_traced_memory()
    try:
        count = sum(1 for _ in dataset())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return count, peak - before


# --------------------------------------------------------------------------------------------
# Random calibration data (smoke tests only)
# --------------------------------------------------------------------------------------------


def _batch_shape(shape) -> tuple[int, int, int, int]:
    shape = tuple(shape)
    if len(shape) == 4 and shape[0] in (1, None):
        shape = shape[1:]
    if len(shape) != 3 or any(d is None or int(d) < 1 for d in shape):
        raise KitError(
            f"Forme invalide : {shape!r}. Donnez (hauteur, largeur, canaux), par exemple "
            "(640, 640, 3), ou le résultat de model_input_shape(...)."
        )
    return (1, *(int(d) for d in shape))


class RandomDataset:
    """Données aléatoires uniformes dans [low, high) : appelable comme un jeu représentatif.

    Déterministe : chaque appel rejoue la même suite (graine fixe).
    """

    def __init__(self, shape, low: float, high: float, count: int = 100, seed: int = 0):
        self.shape = _batch_shape(shape)
        self.value_range = (float(low), float(high))
        self.count = int(count)
        self.seed = int(seed)

    def __len__(self) -> int:
        return self.count

    def __call__(self) -> Iterator[list[np.ndarray]]:
        low, high = self.value_range
        rng = np.random.default_rng(self.seed)
        for _ in range(self.count):
            yield [rng.uniform(low, high, size=self.shape).astype(np.float32)]


class CapsuleRandomDataset(RandomDataset):
    """L'appel de la capsule, ``np.random.rand`` (dans [0, 1)), tiré d'un générateur à graine."""

    def __init__(self, shape, count: int = 100, seed: int = 0):
        super().__init__(shape, 0.0, 1.0, count=count, seed=seed)

    def __call__(self) -> Iterator[list[np.ndarray]]:
        state = np.random.RandomState(self.seed)  # the legacy generator behind np.random.rand
        for _ in range(self.count):
            yield [state.rand(*self.shape).astype(np.float32)]


def random_representative_dataset(
    shape, normalization: str = "symmetric", count: int = 100, seed: int = 0
) -> RandomDataset:
    """Données aléatoires *dans la vraie plage d'entrée du modèle* (test rapide seulement).

    Utile pour vérifier qu'une conversion passe quand on n'a pas encore d'images ; les vraies
    images restent la règle pour l'étalonnage. Introduit dans le notebook 01.
    """
    low, high = check_normalization(normalization)
    return RandomDataset(shape, low, high, count=count, seed=seed)


def capsule_random_dataset(shape, count: int = 100, seed: int = 0) -> CapsuleRandomDataset:
    """Le piège de la capsule : ``np.random.rand`` dans [0, 1), quelle que soit la plage du modèle.

    Sert à mesurer ce que coûte un étalonnage hors plage. Introduit dans le notebook 01.
    """
    return CapsuleRandomDataset(shape, count=count, seed=seed)


# --------------------------------------------------------------------------------------------
# Looking at the ranges
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelStatistics:
    """Min, max, moyenne et histogramme de chaque canal des entrées d'étalonnage."""

    names: tuple[str, ...]
    minimum: np.ndarray  # (C,)
    maximum: np.ndarray  # (C,)
    mean: np.ndarray  # (C,)
    bin_edges: np.ndarray  # (bins + 1,)
    counts: np.ndarray  # (C, bins), values outside value_range are not counted
    count: int  # number of arrays (images) seen
    value_range: tuple[float, float]

    @property
    def overall_range(self) -> tuple[float, float]:
        """(min, max) sur tous les canaux : la plage que verra le convertisseur pour l'entrée."""
        return float(self.minimum.min()), float(self.maximum.max())


def channel_statistics(
    dataset: Callable[[], Iterable], bins: int = 64, value_range=None
) -> ChannelStatistics:
    """Parcourt un jeu représentatif (une image à la fois) et résume chaque canal.

    ``value_range`` fixe les bornes des histogrammes ; par défaut la plage du jeu
    (``dataset.value_range``). Introduit dans le notebook 01.
    """
    if value_range is None:
        value_range = getattr(dataset, "value_range", None)
    if value_range is None:
        raise KitError(
            "Indiquez value_range=(min, max) pour les histogrammes de ce jeu de données."
        )
    low, high = float(value_range[0]), float(value_range[1])
    edges = np.linspace(low, high, bins + 1)
    minimum = maximum = total = counts = None
    count = pixels = 0
    for item in dataset():
        array = np.asarray(item[0], dtype=np.float64)
        flat = array.reshape(-1, array.shape[-1])
        if counts is None:
            channels = flat.shape[1]
            minimum = np.full(channels, np.inf)
            maximum = np.full(channels, -np.inf)
            total = np.zeros(channels)
            counts = np.zeros((channels, bins), dtype=np.int64)
        minimum = np.minimum(minimum, flat.min(axis=0))
        maximum = np.maximum(maximum, flat.max(axis=0))
        total += flat.sum(axis=0)
        for channel in range(flat.shape[1]):
            counts[channel] += np.histogram(flat[:, channel], bins=edges)[0]
        count += 1
        pixels += flat.shape[0]
    if counts is None:
        raise KitError("Le jeu de données n'a produit aucune image : rien à mesurer.")
    channels = counts.shape[0]
    names = CHANNEL_NAMES.get(channels, tuple(f"canal {i}" for i in range(channels)))
    return ChannelStatistics(
        names, minimum, maximum, total / pixels, edges, counts, count, (low, high)
    )


# --------------------------------------------------------------------------------------------
# Affine quantization, with numpy
# --------------------------------------------------------------------------------------------


def _integer_range(dtype: str) -> tuple[int, int]:
    if str(dtype) not in INTEGER_RANGES:
        raise KitError(f"Type entier inconnu « {dtype} » : choisissez int8 ou uint8.")
    return INTEGER_RANGES[str(dtype)]


def affine_quantization_params(
    minimum: float, maximum: float, dtype: str = "int8"
) -> tuple[float, int]:
    """(échelle, point zéro) qui envoient [min, max] sur les entiers du type, comme TFLite.

    La plage est d'abord étendue pour contenir 0 (le réel 0 doit tomber sur un entier exact,
    pour le remplissage des convolutions) ; puis échelle = (max - min) / (qmax - qmin) et le
    point zéro est l'entier sur lequel tombe le réel 0. Introduit dans le notebook 01.
    """
    qmin, qmax = _integer_range(dtype)
    minimum, maximum = min(float(minimum), 0.0), max(float(maximum), 0.0)
    if maximum == minimum:
        return 1.0, 0
    scale = (maximum - minimum) / (qmax - qmin)
    # As TFLite does: take the zero point computed from the bound with the smaller rounding
    # error, then round it as the converter's C++ code does.
    from_min, from_max = qmin - minimum / scale, qmax - maximum / scale
    from_min_error = abs(qmin) + abs(minimum / scale)
    from_max_error = abs(qmax) + abs(maximum / scale)
    zero_point = round_half_away_from_zero(
        from_min if from_min_error < from_max_error else from_max
    )
    return float(scale), int(np.clip(zero_point, qmin, qmax))


def round_half_away_from_zero(value: float) -> int:
    """Arrondi d'un nombre à l'entier le plus proche, les demis s'éloignant de zéro : -0,5 -> -1.

    C'est l'arrondi du convertisseur TensorFlow Lite pour le point zéro (``std::round`` en C++).
    ``np.round`` arrondit les demis au pair le plus proche (-0,5 -> 0) : il donnerait un autre
    point zéro. Introduit dans le notebook 01.
    """
    value = float(value)
    whole = math.trunc(value)
    # value - whole is exact in floating point, unlike floor(abs(value) + 0.5).
    if abs(value - whole) >= 0.5:
        whole += 1 if value > 0 else -1
    return int(whole)


def affine_quantize(values, scale: float, zero_point: int, dtype: str = "int8") -> np.ndarray:
    """q = round(x / échelle) + point zéro, borné aux entiers du type. Introduit dans le notebook 01."""
    qmin, qmax = _integer_range(dtype)
    quantized = np.round(np.asarray(values, dtype=np.float64) / scale) + zero_point
    return np.clip(quantized, qmin, qmax).astype(dtype)


def affine_dequantize(quantized, scale: float, zero_point: int) -> np.ndarray:
    """x ≈ échelle × (q - point zéro), en float32. Introduit dans le notebook 01."""
    return (scale * (np.asarray(quantized, dtype=np.float64) - zero_point)).astype(np.float32)


def round_trip_error(values, scale: float, zero_point: int, dtype: str = "int8") -> float:
    """Plus grand écart |x - déquantifier(quantifier(x))| sur des valeurs. Introduit dans le notebook 01."""
    values = np.asarray(values, dtype=np.float64)
    restored = affine_dequantize(
        affine_quantize(values, scale, zero_point, dtype), scale, zero_point
    )
    return float(np.max(np.abs(values - restored)))
