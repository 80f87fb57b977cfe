"""Le détecteur d'objets de démonstration : des scènes à plusieurs formes et un petit détecteur.

Les données
    Le générateur déterministe de ``demo_data`` (fonds, formes des cinq classes, taches et traits
    parasites, flou, bruit, dessin suréchantillonné 4 fois) compose ici des scènes de une à quatre
    formes, de tailles, positions et recouvrements variés, avec leurs boîtes englobantes.
    ``data/detection/calibration/`` (images sans annotation) et ``data/detection/test/`` (images et
    ``annotations.json`` au format COCO) sont écrits sur le disque ; les images d'entraînement sont
    régénérées à la volée à partir d'une graine, jamais enregistrées.

Pourquoi 128×128 pixels pour l'entraînement
    Sur 2 cœurs de processeur, l'entraînement doit tenir en un quart d'heure : à 128×128, une
    image coûte 25 fois moins de calculs qu'à 640×640, et 50 époques de 2 000 scènes (chacune
    retournée ou tournée au hasard à chaque époque) durent une dizaine de minutes. Les formes
    restent bien lisibles (de 14 à 67 pixels de côté, 33 en médiane), la grille de sortie (un
    pas de 8 pixels, 16×16 cases) sépare les objets d'une même scène, et les images de
    ``data/detection`` restent petites (JPEG d'environ 5 ko). Le réseau est entièrement
    convolutif : les mêmes poids s'exportent en 640×640 (la taille des étudiants) pour mesurer
    la taille et la latence (grille de 80×80 cases).

Le modèle
    Un petit détecteur en une passe (famille MobileNet : convolutions séparables en profondeur,
    normalisation par lot, ReLU6 ; une pyramide de caractéristiques légère ; une tête par case
    de la grille à la manière de CenterNet) avec DEUX sorties séparées. Dans la pyramide, les
    agrandissements ×2 sont un redimensionnement au plus proche voisin (une opération
    ``RESIZE_NEAREST_NEIGHBOR``, de la liste de l'Edge TPU) et non ``UpSampling2D`` de Keras,
    qui donne les mêmes valeurs mais écrit des ``TILE``, absents de cette liste. Les sorties :

    - ``boxes`` (lot, cases, 4) : la régression brute de chaque case, ``(dx, dy, tw, th)`` en
      unités de case : centre = (colonne + 0,5 + dx, ligne + 0,5 + dy) × pas, largeur =
      exp(tw) × pas, hauteur = exp(th) × pas ;
    - ``scores`` (lot, cases, 5) : la probabilité (sigmoïde) de chaque classe au centre d'un
      objet.

    Le décodage des boîtes et la suppression des non-maxima (NMS) sont en dehors du modèle, en
    numpy (:func:`helpers.steps.detection.decode_detections`). Les cases sont rangées ligne par ligne (ligne, puis
    colonne), les classes dans l'ordre de ``data/detection/labels.txt``.

Reconstruit par :func:`train_demo_detector` (la future cible ``make demo-detector``).
"""

from __future__ import annotations

import io
import json
import math
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from helpers.base.errors import KitError
from helpers.base.paths import (
    DATA_DIR,
    DEMO_DETECTOR_VARIANTS_DIR,
    DETECTION_DIR,
)
from helpers.base.paths import DEMO_DETECTOR_DIR as DETECTOR_DIR
from helpers.base.paths import DEMO_DETECTOR_RECORD as DETECTOR_RECORD
from helpers.base.paths import DEMO_DETECTOR_WEIGHTS as DETECTOR_WEIGHTS
from helpers.base.units import json_text
from helpers.core.models import export_frozen, replace_folder
from helpers.demo import data as demo_data
from helpers.demo.model import write_record
from helpers.steps.decoding import DETECTOR_FILE, DETECTOR_FORMAT, check_detector_description
from helpers.steps.detection import coco_map, decode_detections

LABELS = demo_data.LABELS  # output order of the detector's scores
INPUT_SIZE = 128  # training size (see the module docstring)
STUDENT_SIZE = 640
STRIDE = 8  # pixels per grid cell
SEED = demo_data.SEED
MAX_OBJECTS = 4
N_CALIBRATION = 120
N_TEST = 240
JPEG_QUALITY = 90
# Objects span about 15 to 70 pixels at 128x128 (distractor dots: at most 13 pixels wide).
_PATCH_FRACTION = (0.34, 0.78)  # side of the square patch an object is drawn in / image side
_MIN_VISIBLE = 0.7  # an occluded object keeps at least 70 % of its pixels
_MAX_BOX_IOU = 0.4  # two objects never overlap more than this (NMS at 0.5 keeps both)
_SPLIT_IDS = {"entrainement": 0, "calibration": 1, "test": 2}
_STREAM = 7  # separates these random streams from those of demo_data (classification)

# The SavedModels notebook 05 loads instead of exporting them (see export_detector_variants).
DETECTOR_VARIANTS_DIR = DEMO_DETECTOR_VARIANTS_DIR
VARIANT_CONCATENATED = "concatene"  # one output, boxes in pixels, 128x128
VARIANT_NORMALIZED = "concatene_normalise"  # one output, boxes in [0, 1], 128x128
VARIANT_STUDENT_SIZE = f"detecteur_{STUDENT_SIZE}"  # boxes and scores, 640x640
ANNOTATIONS_FILE = "annotations.json"
CATEGORY_ID_OFFSET = 1  # COCO category_id = class index + 1 (ids 1..5)


# ---------------------------------------------------------------------------------------------
# Data: scenes with several objects and their boxes
# ---------------------------------------------------------------------------------------------


def scene_rng(split: str, index: int, seed: int = SEED) -> np.random.Generator:
    """Générateur aléatoire d'une scène : elle ne dépend que de (graine, partie, rang)."""
    if split not in _SPLIT_IDS:
        raise KitError(f"Partie inconnue « {split} » : choisissez parmi {sorted(_SPLIT_IDS)}.")
    return np.random.default_rng([seed, _STREAM, _SPLIT_IDS[split], index])


def _box_of(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """Tight box (x1, y1, x2, y2), end excluded, of the nonzero pixels of a mask."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def _iou_xyxy(a, b) -> float:
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def render_detection_scene(
    rng: np.random.Generator, size: int = INPUT_SIZE
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dessine une scène de une à quatre formes : (image uint8 (H, W, 3), boîtes, classes).

    Les boîtes sont en pixels, au format COCO ``[x, y, largeur, hauteur]`` (float32, une ligne
    par objet) : la boîte serrée des pixels visibles de l'objet (une forme en partie cachée
    garde au moins 70 % de ses pixels). Les classes sont des indices dans :data:`LABELS`.
    """
    scale = demo_data.SUPERSAMPLE
    side = size * scale
    canvas = demo_data.background(rng, side)

    distractor_mask, distractor_color = demo_data.distractors(rng, side)
    alpha = np.asarray(distractor_mask, dtype=np.float32)[..., None] / 255
    canvas = canvas * (1 - alpha) + distractor_color * alpha

    wanted = int(rng.integers(1, MAX_OBJECTS + 1))
    owner = np.full((side, side), -1, dtype=np.int8)  # which object each pixel shows
    pixel_counts: list[int] = []  # full pixel count of each placed object
    labels: list[int] = []
    colors: list[np.ndarray] = []
    low, high = np.log(_PATCH_FRACTION[0]), np.log(_PATCH_FRACTION[1])
    for _ in range(wanted):
        label_index = int(rng.integers(0, len(LABELS)))
        for _attempt in range(25):
            patch = int(np.exp(rng.uniform(low, high)) * side)
            x0, y0 = (int(v) for v in rng.integers(0, side - patch + 1, size=2))
            shape = np.asarray(demo_data.shape_mask(LABELS[label_index], rng, patch)) > 127
            region = owner[y0 : y0 + patch, x0 : x0 + patch]
            new_owner = owner.copy()
            new_owner[y0 : y0 + patch, x0 : x0 + patch] = np.where(shape, len(labels), region)
            # Every earlier object stays mostly visible, and boxes overlap moderately.
            visible = np.bincount(new_owner[new_owner >= 0].ravel(), minlength=len(labels) + 1)
            if any(visible[k] < _MIN_VISIBLE * pixel_counts[k] for k in range(len(labels))):
                continue
            new_box = _box_of(new_owner == len(labels))
            if new_box is None:
                continue
            if any(
                _iou_xyxy(new_box, _box_of(new_owner == k)) > _MAX_BOX_IOU
                for k in range(len(labels))
            ):
                continue
            break
        else:
            continue  # no room left for this object: the scene has fewer objects
        # A colour far from the background under the object and from the objects it touches.
        local_bg = canvas[y0 : y0 + patch, x0 : x0 + patch][shape].mean(axis=0)
        touched = set(np.unique(region[shape]).tolist()) - {-1}
        for _ in range(30):
            color = rng.uniform(0, 255, size=3).astype(np.float32)
            if np.linalg.norm(color - local_bg) > 110 and all(
                np.linalg.norm(color - colors[k]) > 90 for k in touched
            ):
                break
        shading = rng.uniform(-25, 25, size=3).astype(np.float32)
        yy = np.linspace(-1, 1, patch, dtype=np.float32)[:, None, None]
        fill = np.clip(color + shading * yy, 0, 255)
        owner = new_owner
        pixel_counts.append(int(shape.sum()))
        labels.append(label_index)
        colors.append(color)
        alpha = shape[..., None].astype(np.float32)
        sub = canvas[y0 : y0 + patch, x0 : x0 + patch]
        canvas[y0 : y0 + patch, x0 : x0 + patch] = sub * (1 - alpha) + fill * alpha

    boxes = []
    for k in range(len(labels)):
        x1, y1, x2, y2 = _box_of(owner == k)
        boxes.append([x1 / scale, y1 / scale, (x2 - x1) / scale, (y2 - y1) / scale])

    pixels = demo_data.finish_scene(canvas, size, rng)
    return (
        pixels,
        np.asarray(boxes, dtype=np.float32).reshape(-1, 4),
        np.asarray(labels, dtype=np.int64),
    )


def _as_saved(pixels: np.ndarray) -> np.ndarray:
    """The pixels as read back from the JPEG file (training sees what the test files hold)."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=JPEG_QUALITY)
    buffer.seek(0)
    with Image.open(buffer) as image:
        return np.asarray(image.convert("RGB"), dtype=np.uint8)


def detection_scene(split: str, index: int, seed: int = SEED):
    """La scène ``index`` d'une partie, telle qu'enregistrée en JPEG : (image, boîtes, classes)."""
    pixels, boxes, classes = render_detection_scene(scene_rng(split, index, seed))
    return _as_saved(pixels), boxes, classes


def make_detection_training_set(
    count: int, seed: int = SEED, verbose: int = 0
) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """Scènes d'entraînement régénérées à la volée (jamais enregistrées).

    Renvoie les images uint8 (N, H, W, 3), telles qu'elles seraient relues d'un JPEG, puis la
    liste des boîtes et celle des classes de chaque image. ``verbose`` : 0 silencieux, 1 une
    barre de progression, 2 une ligne toutes les 500 scènes.
    """
    images = np.empty((count, INPUT_SIZE, INPUT_SIZE, 3), dtype=np.uint8)
    all_boxes, all_classes = [], []
    progress = None
    if verbose == 1:
        from tqdm.auto import tqdm

        progress = tqdm(total=count, desc="Scènes d'entraînement", leave=False)
    for index in range(count):
        images[index], boxes, classes = detection_scene("entrainement", index, seed)
        all_boxes.append(boxes)
        all_classes.append(classes)
        if progress is not None:
            progress.update(1)
        elif verbose == 2 and (index + 1) % 500 == 0:
            print(f"  {index + 1}/{count} scènes", flush=True)
    if progress is not None:
        progress.close()
    return images, all_boxes, all_classes


def write_detection_data(
    folder: Path = DETECTION_DIR,
    n_calibration: int = N_CALIBRATION,
    n_test: int = N_TEST,
    seed: int = SEED,
) -> dict[str, int]:
    """Écrit ``calibration/``, ``test/`` (avec ``annotations.json``, format COCO) et ``labels.txt``.

    Les images sont des JPEG (qualité 90) de 128×128 pixels. Dans ``annotations.json``,
    ``category_id`` vaut l'indice de la classe + 1 (1 à 5, dans l'ordre de ``labels.txt`` et des
    sorties du détecteur) et ``bbox`` est ``[x, y, largeur, hauteur]`` en pixels. Le dossier est
    d'abord préparé à côté puis échangé : un échec ne laisse jamais de dossier à moitié écrit.
    Renvoie les effectifs écrits.
    """
    annotations: list[dict] = []

    def write(staged: Path) -> None:
        calibration_dir, test_dir = staged / "calibration", staged / "test"
        calibration_dir.mkdir(parents=True)
        test_dir.mkdir()
        for index in range(n_calibration):
            pixels, _, _ = render_detection_scene(scene_rng("calibration", index, seed))
            Image.fromarray(pixels).save(
                calibration_dir / f"calibration_{index:03d}.jpg", quality=JPEG_QUALITY
            )
        images = []
        for index in range(n_test):
            pixels, boxes, classes = render_detection_scene(scene_rng("test", index, seed))
            file_name = f"test_{index:03d}.jpg"
            Image.fromarray(pixels).save(test_dir / file_name, quality=JPEG_QUALITY)
            image_id = index + 1
            images.append(
                {"id": image_id, "file_name": file_name, "width": INPUT_SIZE, "height": INPUT_SIZE}
            )
            for box, label_index in zip(boxes.tolist(), classes.tolist(), strict=True):
                box = [round(value, 2) for value in box]
                annotations.append(
                    {
                        "id": len(annotations) + 1,
                        "image_id": image_id,
                        "category_id": int(label_index) + CATEGORY_ID_OFFSET,
                        "bbox": box,
                        "area": round(box[2] * box[3], 2),
                        "iscrowd": 0,
                    }
                )
        coco = {
            "info": {
                "description": "Scènes de formes de démonstration (détection), générées par "
                "helpers/demo/detector.py",
                "category_id": "indice de la classe + 1, dans l'ordre de labels.txt",
                "bbox": "[x, y, largeur, hauteur] en pixels",
            },
            "images": images,
            "annotations": annotations,
            "categories": [
                {"id": index + CATEGORY_ID_OFFSET, "name": name}
                for index, name in enumerate(LABELS)
            ],
        }
        (test_dir / ANNOTATIONS_FILE).write_text(json_text(coco, indent=1) + "\n", encoding="utf-8")
        (staged / "labels.txt").write_text("\n".join(LABELS) + "\n", encoding="utf-8")

    replace_folder(folder, write)
    return {"calibration": n_calibration, "test": n_test, "objets_test": len(annotations)}


def load_detection_test(folder: Path = DETECTION_DIR / "test") -> tuple[np.ndarray, dict]:
    """Charge le jeu de test de détection : images uint8 (N, H, W, 3) et annotations COCO.

    Les images sont dans l'ordre de la liste ``images`` du fichier d'annotations.
    """
    folder = Path(folder)
    annotations_path = folder / ANNOTATIONS_FILE
    if not annotations_path.is_file():
        raise KitError(
            f"Annotations introuvables : {folder.name}/{ANNOTATIONS_FILE}. Régénérez les données "
            "de détection avec train_demo_detector() (ou git checkout data/)."
        )
    coco = json.loads(annotations_path.read_text(encoding="utf-8"))
    pixels = []
    for entry in coco["images"]:
        path = folder / entry["file_name"]
        try:
            with Image.open(path) as image:
                pixels.append(np.asarray(image.convert("RGB"), dtype=np.uint8))
        except OSError as error:
            raise KitError(
                f"Image de test illisible : {entry['file_name']} ({error.__class__.__name__})."
            ) from error
    return np.stack(pixels), coco


def normalize_symmetric(pixels: np.ndarray) -> np.ndarray:
    """Pixels uint8 [0, 255] -> float32 dans [-1, 1] (pixel × 2 / 255 − 1).

    C'est l'entrée du détecteur (normalisation symétrique, comme dans la capsule).
    """
    return (
        np.asarray(pixels, dtype=np.float32) * np.float32(2.0 / 255.0) - np.float32(1.0)
    ).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# Training targets (CenterNet-style) and their dihedral augmentation
# ---------------------------------------------------------------------------------------------


def encode_targets(
    boxes: np.ndarray, classes: np.ndarray, input_size: int = INPUT_SIZE, stride: int = STRIDE
) -> tuple[np.ndarray, np.ndarray]:
    """Cibles d'entraînement d'une image : (carte de chaleur (G, G, 5), régression (G, G, 5)).

    La carte de chaleur vaut 1 dans la case qui contient le centre d'un objet et décroît en
    gaussienne autour (écart-type lié à la taille de l'objet). La régression donne, pour les
    cases proches d'un centre, ``(dx, dy, tw, th)`` puis le poids de la case (0 ailleurs).
    """
    grid = input_size // stride
    heat = np.zeros((grid, grid, len(LABELS)), dtype=np.float32)
    regression = np.zeros((grid, grid, 5), dtype=np.float32)
    rows, cols = np.mgrid[0:grid, 0:grid].astype(np.float32)
    for (x, y, w, h), label_index in zip(np.asarray(boxes, np.float32), classes, strict=True):
        cx, cy = (x + w / 2) / stride, (y + h / 2) / stride
        peak_col = min(int(cx), grid - 1)
        peak_row = min(int(cy), grid - 1)
        sigma = max(0.5, math.sqrt(w * h) / stride / 6)
        gauss = np.exp(-((cols - peak_col) ** 2 + (rows - peak_row) ** 2) / (2 * sigma**2))
        heat[..., label_index] = np.maximum(heat[..., label_index], gauss)
        # Cells near the centre regress this object, unless a closer object owns them.
        take = (gauss >= 0.3) & (gauss > regression[..., 4])
        target = np.stack(
            [
                cx - (cols + 0.5),
                cy - (rows + 0.5),
                np.full_like(cols, math.log(max(w, 1.0) / stride)),
                np.full_like(cols, math.log(max(h, 1.0) / stride)),
                gauss,
            ],
            axis=-1,
        )
        regression[take] = target[take]
    return heat, regression


def _dihedral(images, heat, regression, codes):
    """Applies one of the 8 flips / quarter turns to each sample, images and targets alike.

    Bit 0: left-right flip, bit 1: up-down flip, bit 2: transpose (swap x and y). Grid cells
    follow the pixels; dx, dy change sign with flips and swap with (tw, th) on transposition.
    """
    images, heat, regression = images.copy(), heat.copy(), regression.copy()
    for k, code in enumerate(codes):
        if code & 4:
            images[k] = images[k].transpose(1, 0, 2)
            heat[k] = heat[k].transpose(1, 0, 2)
            regression[k] = regression[k].transpose(1, 0, 2)[..., [1, 0, 3, 2, 4]]
        if code & 1:
            images[k] = images[k][:, ::-1]
            heat[k] = heat[k][:, ::-1]
            regression[k] = regression[k][:, ::-1]
            regression[k][..., 0] *= -1
        if code & 2:
            images[k] = images[k][::-1]
            heat[k] = heat[k][::-1]
            regression[k] = regression[k][::-1]
            regression[k][..., 1] *= -1
    return images, heat, regression


# ---------------------------------------------------------------------------------------------
# The detector
# ---------------------------------------------------------------------------------------------

# (filters, stride) of the backbone's depthwise-separable blocks, after a first 3x3 convolution.
BACKBONE = ((32, 2), (32, 1), (64, 2), (64, 1), (96, 2), (96, 1), (128, 2), (128, 1))
_FEATURE_BLOCKS = {4: "c3", 6: "c4", 8: "c5"}  # block number -> feature (stride 8, 16, 32)
TRAINING = {
    "seed": SEED,
    "train_images": 2000,
    "epochs": 50,
    "batch_size": 32,
    "learning_rate": 0.003,
    "batch_norm_momentum": 0.9,
    "box_loss_weight": 1.0,
}


def build_detector(
    input_size: int = INPUT_SIZE, with_logits: bool = False, backbone=None, name="detecteur_demo"
):
    """Construit le détecteur (Keras, API fonctionnelle) pour des images ``input_size``².

    Entrée ``image`` (lot, H, W, 3) dans [-1, 1] ; sorties ``boxes`` (lot, cases, 4) et
    ``scores`` (lot, cases, 5), cases = (input_size / 8)². Les noms des couches ne dépendent pas
    de la taille : les mêmes poids se chargent dans toutes les tailles (multiples de 32).
    ``with_logits`` ajoute la sortie ``logits`` (avant la sigmoïde), pour l'entraînement.
    ``backbone`` (entrée Keras -> ``{"c3", "c4", "c5"}``, caractéristiques aux pas 8, 16 et 32)
    remplace le petit tronc du détecteur de démonstration (voir :func:`reference_detector`).
    """
    import keras
    from keras import layers, ops

    if input_size % 32 or input_size < 32:
        raise KitError(
            f"Taille d'entrée {input_size} impossible : le détecteur demande un multiple de 32 "
            "(128, 160, 320, 640…)."
        )
    momentum = TRAINING["batch_norm_momentum"]

    def conv_bn(x, filters, name, kernel=1, strides=1):
        x = layers.Conv2D(
            filters, kernel, strides=strides, padding="same", use_bias=False, name=name
        )(x)
        x = layers.BatchNormalization(momentum=momentum, name=f"{name}_bn")(x)
        return layers.ReLU(6.0, name=f"{name}_relu6")(x)

    def separable(x, filters, name, strides=1):
        x = layers.DepthwiseConv2D(
            3, strides=strides, padding="same", use_bias=False, name=f"{name}_depthwise"
        )(x)
        x = layers.BatchNormalization(momentum=momentum, name=f"{name}_depthwise_bn")(x)
        x = layers.ReLU(6.0, name=f"{name}_depthwise_relu6")(x)
        return conv_bn(x, filters, f"{name}_pointwise")

    class NearestUpsampling(layers.Layer):
        """×2 nearest-neighbour upsampling as ONE resize op (RESIZE_NEAREST_NEIGHBOR in LiteRT).

        Keras's UpSampling2D gives the same values but repeats rows, then columns (tf.repeat:
        EXPAND_DIMS, TILE, RESHAPE), and TILE is not on Coral's Edge TPU op list. No weights:
        the stored weights load unchanged.
        """

        def call(self, x):
            height, width = x.shape[1], x.shape[2]
            return ops.image.resize(x, (2 * height, 2 * width), interpolation="nearest")

        def compute_output_shape(self, shape):
            return (shape[0], 2 * shape[1], 2 * shape[2], shape[3])

    inputs = keras.Input(shape=(input_size, input_size, 3), name="image")
    if backbone is not None:
        features = backbone(inputs)
    else:
        x = conv_bn(inputs, 16, "conv_entree", kernel=3, strides=2)
        features = {}
        for index, (filters, strides) in enumerate(BACKBONE, start=1):
            x = separable(x, filters, f"bloc{index}", strides)
            if index in _FEATURE_BLOCKS:
                features[_FEATURE_BLOCKS[index]] = x
    # A light feature pyramid: the coarse, wide-context features go back to stride 8.
    x = NearestUpsampling(name="montee_16")(features["c5"])
    x = layers.Concatenate(name="fusion_16")([x, features["c4"]])
    x = conv_bn(x, 96, "pyramide_16")
    x = separable(x, 96, "pyramide_16_sep")
    x = NearestUpsampling(name="montee_8")(x)
    x = layers.Concatenate(name="fusion_8")([x, features["c3"]])
    x = conv_bn(x, 64, "pyramide_8")
    # Two heads, as in CenterNet: one for the class scores, one for the boxes.
    # CenterNet's prior: every cell starts with a 10 % probability of being an object centre.
    logits = layers.Conv2D(
        len(LABELS),
        1,
        bias_initializer=keras.initializers.Constant(-math.log((1 - 0.1) / 0.1)),
        name="tete_classes",
    )(separable(x, 64, "tete_classes_sep"))
    raw_boxes = layers.Conv2D(4, 1, name="tete_boites")(separable(x, 64, "tete_boites_sep"))
    cells = (input_size // STRIDE) ** 2
    boxes = layers.Reshape((cells, 4), name="boxes")(raw_boxes)
    logits = layers.Reshape((cells, len(LABELS)), name="logits")(logits)
    scores = layers.Activation("sigmoid", name="scores")(logits)
    outputs = {"boxes": boxes, "scores": scores}
    if with_logits:
        outputs["logits"] = logits
    return keras.Model(inputs, outputs, name=name)


def load_detector(input_size: int = INPUT_SIZE, weights: Path = DETECTOR_WEIGHTS):
    """Le détecteur entraîné, construit pour ``input_size``² et chargé avec les poids du dépôt."""
    weights = Path(weights)
    if not weights.is_file():
        raise KitError(
            f"Poids du détecteur introuvables : {weights.name}. Réentraînez-le avec "
            "train_demo_detector() (ou git checkout data/)."
        )
    model = build_detector(input_size)
    model.load_weights(str(weights))
    return model


def detector_description() -> dict:
    """Comment décoder les sorties du détecteur : le contenu de ``detecteur.json``.

    Ce fichier, écrit à côté de ``saved_model.pb``, est lu par ``helpers.steps.detection`` (et
    recopié par ``quantize`` dans les métadonnées du ``.tflite``).
    """
    return check_detector_description(
        {
            "format": DETECTOR_FORMAT,
            "stride": STRIDE,
            "boxes": "boxes",
            "scores": "scores",
            "score_threshold": 0.3,
            "iou_threshold": 0.5,
            "max_detections": 100,
        }
    )


def write_detector_files(folder: Path, description: dict | None = None) -> None:
    """Écrit ``detecteur.json`` (le décodage des sorties : ``description``, celle du détecteur
    du kit par défaut) et ``labels.txt`` dans un SavedModel."""
    folder = Path(folder)
    write_record(folder / DETECTOR_FILE, description or detector_description())
    (folder / "labels.txt").write_text("\n".join(LABELS) + "\n", encoding="utf-8")


def _export(model, folder: Path, describe: bool = True) -> Path:
    """A frozen SavedModel (:func:`helpers.core.models.export_frozen`); ``describe``: also write
    detecteur.json and labels.txt (the two-output detector only)."""
    return export_frozen(model, folder, write_files=write_detector_files if describe else None)


def export_detector(folder: Path, input_size: int = STUDENT_SIZE, weights: Path = DETECTOR_WEIGHTS):
    """Exporte les mêmes poids en SavedModel de taille ``input_size``² (640×640 par défaut).

    Pour mesurer la taille et la latence à la taille des étudiants : entrée ``image``
    (lot, 640, 640, 3) dans [-1, 1], sorties ``boxes`` (lot, 6400, 4) et ``scores``
    (lot, 6400, 5) ; ``detecteur.json`` et ``labels.txt`` sont écrits à côté de
    ``saved_model.pb``. Les poids y sont figés en constantes du graphe : même signature et
    mêmes sorties qu'avec ``model.export``, mais des conversions deux à trois fois plus
    rapides. Le dossier est remplacé s'il existe. Renvoie son chemin.
    Introduit dans le notebook 05.
    """
    return _export(load_detector(input_size, weights), folder)


# The students' size: MobileNetV2 (alpha 1.0), as in SSD MobileNetV2 FPNLite; its layers at
# strides 8, 16 and 32 (the inputs of its stride-2 blocks, and its last 1280-channel layer).
REFERENCE_FEATURES = {"c3": "block_6_expand_relu", "c4": "block_13_expand_relu", "c5": "out_relu"}
REFERENCE_SEED = 0


def reference_detector(input_size: int = 320):
    """Un détecteur de la taille de ceux des étudiants, pour mesurer la latence, rien d'autre.

    La tête du détecteur de démonstration (:func:`build_detector`) sur
    ``tf.keras.applications.MobileNetV2(alpha=1.0, weights=None)`` : environ 2,5 millions de
    paramètres, comme SSD MobileNetV2 FPNLite ou YOLOv8n (2 à 3 millions). Poids aléatoires
    (rien n'est téléchargé ; la graine de Keras est fixée, les mêmes poids à chaque appel) et
    jamais entraînés : la latence ne dépend que des
    opérations et des formes, pas des valeurs des poids ; ses détections, elles, ne veulent rien
    dire (ne mesurez pas sa mAP). Mêmes entrée et sorties que le détecteur de démonstration.
    """
    import keras

    keras.utils.set_random_seed(REFERENCE_SEED)

    def mobilenet_v2(inputs):
        base = keras.applications.MobileNetV2(
            input_tensor=inputs, alpha=1.0, include_top=False, weights=None
        )
        return {key: base.get_layer(layer).output for key, layer in REFERENCE_FEATURES.items()}

    return build_detector(input_size, backbone=mobilenet_v2, name="detecteur_reference")


def export_reference_detector(folder: Path, input_size: int = 320) -> Path:
    """Exporte :func:`reference_detector` en SavedModel figé (avec ``detecteur.json`` et
    ``labels.txt``, comme :func:`export_detector`). Le dossier est remplacé s'il existe.
    Renvoie son chemin."""
    return _export(reference_detector(input_size), folder)


def _corner_boxes(detector, input_size: int, normalized_boxes: bool, name: str):
    """The detector's raw regression decoded in the graph: [x1, y1, x2, y2] in pixels (or
    divided by ``input_size`` with ``normalized_boxes``), clipped to the image."""
    from keras import layers, ops

    grid = input_size // STRIDE
    rows, cols = np.mgrid[0:grid, 0:grid].astype(np.float32)
    centers = np.stack([cols.ravel() + 0.5, rows.ravel() + 0.5], axis=-1)[None]  # (1, cells, 2)

    class DecodeBoxes(layers.Layer):
        """Régression brute (dx, dy, tw, th) -> [x1, y1, x2, y2] en pixels."""

        def call(self, raw):
            center = (ops.convert_to_tensor(centers) + raw[..., :2]) * STRIDE
            half = ops.exp(raw[..., 2:]) * (STRIDE / 2)
            corners = ops.concatenate([center - half, center + half], axis=-1)
            corners = ops.clip(corners, 0.0, float(input_size))
            return corners / float(input_size) if normalized_boxes else corners

    return DecodeBoxes(name=name)(detector.get_layer("boxes").output)


def build_concatenated_detector(
    input_size: int = STUDENT_SIZE, weights: Path = DETECTOR_WEIGHTS, normalized_boxes: bool = False
):
    """La variante « sortie concaténée » des mêmes poids (pour montrer le piège de l'int8).

    Une seule sortie ``detections`` (lot, cases, 9) : les boîtes décodées
    ``[x1, y1, x2, y2]`` en PIXELS (de 0 à ``input_size``), puis les 5 scores (de 0 à 1). En
    quantification entière complète, cette sortie n'a qu'une échelle : celle des pixels
    (environ 640 / 255 = 2,5 en 640×640), et tous les scores tombent à 0.
    ``normalized_boxes=True`` divise les boîtes par ``input_size`` avant la concaténation
    (coordonnées dans [0, 1], comme les scores) : l'un des remèdes.
    """
    import keras
    from keras import layers

    detector = load_detector(input_size, weights)
    boxes = _corner_boxes(detector, input_size, normalized_boxes, "boites_pixels")
    scores = detector.get_layer("scores").output
    detections = layers.Concatenate(axis=-1, name="detections")([boxes, scores])
    # A dict output: the SavedModel's signature names it "detections" (not "output_0").
    return keras.Model(
        detector.inputs[0], {"detections": detections}, name="detecteur_demo_concatene"
    )


# Each head with the format its description names (the last two: YOLOv5's objectness, a
# softmax with a background column).
REHEADED_FORMATS = {
    "yolo": "yolo",
    "boites-scores": "boites-scores",
    "yolo-objectness": "yolo",
    "boites-scores-fond": "boites-scores",
}


def reheaded_description(kind: str, normalized_boxes: bool = True) -> dict:
    """La description (``detecteur.json``) du détecteur réécrit au format ``kind``."""
    common = {"score_threshold": 0.3, "iou_threshold": 0.5, "max_detections": 100}
    if REHEADED_FORMATS[kind] == "yolo":
        described = {"format": "yolo", "output": "output0", "box_format": "cxcywh"}
        if kind == "yolo-objectness":
            described["objectness"] = True
    else:
        described = {
            "format": "boites-scores",
            "boxes": "raw_detection_boxes",
            "scores": "raw_detection_scores",
            "box_format": "yxyx",
            "score_activation": "sigmoid",
        }
        if kind == "boites-scores-fond":
            described |= {"score_activation": "softmax", "background": True}
    return check_detector_description(
        {**described, "normalized": normalized_boxes, **common}, REHEADED_FORMATS[kind]
    )


def build_reheaded_detector(
    kind: str,
    input_size: int = INPUT_SIZE,
    weights: Path = DETECTOR_WEIGHTS,
    normalized_boxes: bool = True,
):
    """Les mêmes poids, avec la tête d'un autre outil d'export (pour essayer les formats) :

    - ``yolo`` : une sortie ``output0`` (lot, 4 + 5, cases), boîtes ``cxcywh`` puis les scores,
      canaux sur l'axe 1 comme l'export d'Ultralytics ;
    - ``boites-scores`` : ``raw_detection_boxes`` (lot, cases, 4) en ``yxyx`` et
      ``raw_detection_scores`` (lot, cases, 5), les logits avant la sigmoïde, comme la TF
      Object Detection API ;
    - ``yolo-objectness`` : ``output0`` (lot, cases, 4 + 1 + 5), canaux en dernier comme
      YOLOv5 : l'objectness est le meilleur score de la case, et chaque score de classe en est
      divisé (leur produit, que le décodage refait, est le score du kit) ;
    - ``boites-scores-fond`` : comme ``boites-scores``, les scores (lot, cases, 1 + 5) à passer
      dans un softmax, la colonne 0 étant le fond (un logit nul).

    Boîtes divisées par ``input_size`` (dans [0, 1]) avec ``normalized_boxes``, sinon en pixels.
    """
    import keras
    from keras import layers, ops

    if kind not in REHEADED_FORMATS:
        raise KitError(f"Format « {kind} » inconnu : {', '.join(REHEADED_FORMATS)}.")
    detector = load_detector(input_size, weights)
    corners = _corner_boxes(detector, input_size, normalized_boxes, "boites_decodees")
    if REHEADED_FORMATS[kind] == "yolo":

        class CenterSize(layers.Layer):
            """[x1, y1, x2, y2] -> [cx, cy, w, h]."""

            def call(self, xyxy):
                return ops.concatenate(
                    [(xyxy[..., :2] + xyxy[..., 2:]) / 2, xyxy[..., 2:] - xyxy[..., :2]], axis=-1
                )

        class Objectness(layers.Layer):
            """scores -> [objectness, scores / objectness]: their product gives the scores back."""

            def call(self, scores):
                best = ops.max(scores, axis=-1, keepdims=True)
                return ops.concatenate([best, scores / ops.maximum(best, 1e-6)], axis=-1)

        boxes = CenterSize(name="centres_tailles")(corners)
        scores = detector.get_layer("scores").output
        if kind == "yolo-objectness":
            joined = layers.Concatenate(axis=-1, name="output0")(
                [boxes, Objectness(name="objectness")(scores)]
            )
        else:
            joined = layers.Permute((2, 1), name="output0")(
                layers.Concatenate(axis=-1, name="tete")([boxes, scores])
            )
        return keras.Model(detector.inputs[0], {"output0": joined}, name="detecteur_yolo")

    class SwapXY(layers.Layer):
        """[x1, y1, x2, y2] -> [y1, x1, y2, x2]."""

        def call(self, xyxy):
            return ops.stack([xyxy[..., 1], xyxy[..., 0], xyxy[..., 3], xyxy[..., 2]], axis=-1)

    class Background(layers.Layer):
        """logits -> [0, logits]: a background column in front of the classes."""

        def call(self, logits):
            return ops.concatenate([ops.zeros_like(logits[..., :1]), logits], axis=-1)

    logits = detector.get_layer("logits").output
    if kind == "boites-scores-fond":
        logits = Background(name="fond")(logits)
    outputs = {
        "raw_detection_boxes": SwapXY(name="raw_detection_boxes")(corners),
        "raw_detection_scores": layers.Identity(name="raw_detection_scores")(logits),
    }
    return keras.Model(detector.inputs[0], outputs, name="detecteur_boites_scores")


def export_reheaded_detector(
    folder: Path,
    kind: str,
    input_size: int = INPUT_SIZE,
    weights: Path = DETECTOR_WEIGHTS,
    normalized_boxes: bool = True,
) -> Path:
    """Exporte :func:`build_reheaded_detector` en SavedModel (poids figés), avec son
    ``detecteur.json`` et ``labels.txt``. Renvoie le chemin du dossier."""
    model = build_reheaded_detector(kind, input_size, weights, normalized_boxes)
    description = reheaded_description(kind, normalized_boxes)
    return export_frozen(
        model, folder, write_files=lambda staged: write_detector_files(staged, description)
    )


def export_concatenated_detector(
    folder: Path,
    input_size: int = STUDENT_SIZE,
    weights: Path = DETECTOR_WEIGHTS,
    normalized_boxes: bool = False,
) -> Path:
    """Exporte la variante concaténée (:func:`build_concatenated_detector`) en SavedModel.

    Poids figés en constantes, comme :func:`export_detector`. Sans ``detecteur.json`` : sa
    sortie unique n'est pas au format de la grille du kit. ``normalized_boxes=True`` : boîtes
    divisées par ``input_size`` (dans [0, 1]).
    Introduit dans le notebook 05.
    """
    model = build_concatenated_detector(input_size, weights, normalized_boxes)
    return _export(model, folder, describe=False)


def export_detector_variants(data_dir: Path = DATA_DIR) -> dict[str, Path]:
    """Exporte une fois pour toutes les trois SavedModels que charge le notebook 05.

    Mêmes poids (``detecteur_demo.weights.h5`` de ``data_dir``), dans
    ``detecteur_demo_variantes/`` :

    - ``concatene`` : :func:`export_concatenated_detector` en 128×128, une sortie
      ``detections`` (lot, 256, 9), boîtes en pixels ;
    - ``concatene_normalise`` : la même, boîtes divisées par 128 (dans [0, 1]) ;
    - ``detecteur_640`` : :func:`export_detector` en 640×640, sorties ``boxes`` (lot, 6400, 4)
      et ``scores`` (lot, 6400, 5), avec ``detecteur.json`` et ``labels.txt``.

    Les exporter pendant le notebook lui coûtait plus de dix secondes sur 2 cœurs ; ils sont
    refaits à la fin de :func:`train_demo_detector`, avec les poids. Renvoie leurs chemins,
    par nom de dossier.
    """
    data_dir = Path(data_dir)
    weights = data_dir / DETECTOR_WEIGHTS.name
    folder = data_dir / DETECTOR_VARIANTS_DIR.name
    return {
        VARIANT_CONCATENATED: export_concatenated_detector(
            folder / VARIANT_CONCATENATED, INPUT_SIZE, weights
        ),
        VARIANT_NORMALIZED: export_concatenated_detector(
            folder / VARIANT_NORMALIZED, INPUT_SIZE, weights, normalized_boxes=True
        ),
        VARIANT_STUDENT_SIZE: export_detector(folder / VARIANT_STUDENT_SIZE, STUDENT_SIZE, weights),
    }


def detect_images(
    predict,
    images: np.ndarray,
    input_size: int = INPUT_SIZE,
    batch_size: int = 32,
    score_threshold: float = 0.05,
    iou_threshold: float = 0.5,
    max_detections: int = 100,
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Détections de chaque image : ``predict`` reçoit un lot normalisé dans [-1, 1] (float32)
    et renvoie ``(boxes, scores)`` (tableaux numpy du lot) ; le décodage est celui de
    :func:`helpers.steps.detection.decode_detections`. Le seuil bas (0,05) est celui d'une mesure de mAP.
    """
    results = []
    for start in range(0, len(images), batch_size):
        batch = normalize_symmetric(images[start : start + batch_size])
        raw_boxes, raw_scores = predict(batch)
        description = {
            **detector_description(),
            "iou_threshold": iou_threshold,
            "max_detections": max_detections,
        }
        for boxes, scores in zip(np.asarray(raw_boxes), np.asarray(raw_scores), strict=True):
            results.append(
                decode_detections(
                    boxes, scores, (input_size, input_size), description, score_threshold
                )
            )
    return results


def keras_predictor(model):
    """Fonction ``predict`` (pour :func:`detect_images`) d'un modèle Keras du détecteur."""

    def predict(batch):
        outputs = model(batch, training=False)
        return np.asarray(outputs["boxes"]), np.asarray(outputs["scores"])

    return predict


def evaluate_detections(detections, coco: dict) -> dict:
    """Précision moyenne COCO (pycocotools, voir :func:`helpers.steps.detection.coco_map`) des
    détections, une entrée par image de ``coco`` : ``map_50_95``, ``map_50``, ``map_75`` et
    ``ap_50_par_classe``, arrondis pour l'historique d'entraînement."""
    sizes = [(int(e["height"]), int(e["width"])) for e in coco["images"]]
    scores = coco_map(detections, coco, sizes)
    return {
        "map_50_95": round(scores["map50_95"], 4),
        "map_50": round(scores["map50"], 4),
        "map_75": round(scores["map75"], 4),
        "ap_50_par_classe": {k: round(v, 4) for k, v in scores["ap50_per_label"].items()},
    }


# ---------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------


def _losses(heat, regression, logits, raw_boxes):
    """CenterNet's focal loss on the heat map and a weighted L1 loss on the box regression."""
    import tensorflow as tf

    positive = tf.cast(heat >= 1.0 - 1e-6, tf.float32)
    log_p = -tf.nn.softplus(-logits)  # log(sigmoid(z))
    log_not_p = -tf.nn.softplus(logits)  # log(1 - sigmoid(z))
    p = tf.sigmoid(logits)
    positive_loss = -positive * tf.square(1.0 - p) * log_p
    negative_loss = -(1.0 - positive) * tf.pow(1.0 - heat, 4.0) * tf.square(p) * log_not_p
    count = tf.maximum(tf.reduce_sum(positive), 1.0)
    score_loss = (tf.reduce_sum(positive_loss) + tf.reduce_sum(negative_loss)) / count
    weight = regression[..., 4:5]
    box_loss = tf.reduce_sum(weight * tf.abs(raw_boxes - regression[..., :4])) / tf.maximum(
        tf.reduce_sum(weight), 1.0
    )
    return score_loss, box_loss


def _package_version(name: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def train_demo_detector(data_dir: Path = DATA_DIR, verbose: int = 1) -> dict:
    """Régénère ``data/detection/`` et réentraîne le détecteur de démonstration (déterministe).

    Écrit ``detection/`` (calibration, test et annotations COCO, labels.txt),
    ``detecteur_demo/`` (SavedModel 128×128 aux poids figés en constantes, voir
    :func:`export_detector`, avec ``detecteur.json`` et ``labels.txt``),
    ``detecteur_demo.weights.h5`` (les poids, pour reconstruire le détecteur à toute taille),
    ``detecteur_demo_variantes/`` (les SavedModels du notebook 05, voir
    :func:`export_detector_variants`) et ``detecteur_demo.json`` (comment il a été entraîné,
    ses mAP). ``verbose`` : 0 silencieux, 1 une barre de progression par époque, 2 une ligne
    par époque.
    """
    import keras
    import tensorflow as tf

    data_dir = Path(data_dir)
    started = time.perf_counter()
    keras.utils.set_random_seed(TRAINING["seed"])
    tf.config.experimental.enable_op_determinism()

    def say(message):
        if verbose:
            print(message, flush=True)

    say("Génération des images de détection (calibration, test et annotations COCO)…")
    counts = write_detection_data(data_dir / "detection", seed=TRAINING["seed"])
    say(f"Génération de {TRAINING['train_images']} scènes d'entraînement (en mémoire)…")
    images, all_boxes, all_classes = make_detection_training_set(
        TRAINING["train_images"], TRAINING["seed"], verbose
    )
    targets = [encode_targets(b, c) for b, c in zip(all_boxes, all_classes, strict=True)]
    heat = np.stack([t[0] for t in targets]).reshape(len(images), -1, len(LABELS))
    regression = np.stack([t[1] for t in targets]).reshape(len(images), -1, 5)
    grid = INPUT_SIZE // STRIDE
    generation_s = time.perf_counter() - started

    model = build_detector(INPUT_SIZE, with_logits=True)
    batch_size, epochs = TRAINING["batch_size"], TRAINING["epochs"]
    steps_per_epoch = len(images) // batch_size
    schedule = keras.optimizers.schedules.CosineDecay(
        TRAINING["learning_rate"], epochs * steps_per_epoch
    )
    optimizer = keras.optimizers.Adam(schedule)

    @tf.function(reduce_retracing=True)
    def train_step(x, heat_batch, regression_batch):
        with tf.GradientTape() as tape:
            outputs = model(x, training=True)
            score_loss, box_loss = _losses(
                heat_batch, regression_batch, outputs["logits"], outputs["boxes"]
            )
            loss = score_loss + TRAINING["box_loss_weight"] * box_loss
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
        return score_loss, box_loss

    say(
        f"Entraînement : {epochs} époques de {steps_per_epoch} lots de {batch_size} images "
        f"{INPUT_SIZE}×{INPUT_SIZE} (retournements et quarts de tour tirés à chaque époque)…"
    )
    rng = np.random.default_rng([TRAINING["seed"], _STREAM, 99])
    history = {"perte_scores": [], "perte_boites": [], "duree_s": []}
    for epoch in range(1, epochs + 1):
        epoch_started = time.perf_counter()
        order = rng.permutation(len(images))
        codes = rng.integers(0, 8, size=len(images))
        totals = np.zeros(2)
        progress = None
        if verbose == 1:
            from tqdm.auto import tqdm

            progress = tqdm(total=steps_per_epoch, desc=f"Époque {epoch}/{epochs}", leave=False)
        for step in range(steps_per_epoch):
            index = order[step * batch_size : (step + 1) * batch_size]
            x, h, r = _dihedral(
                images[index],
                heat[index].reshape(-1, grid, grid, len(LABELS)),
                regression[index].reshape(-1, grid, grid, 5),
                codes[index],
            )
            losses = train_step(
                tf.constant(normalize_symmetric(x)),
                tf.constant(h.reshape(len(index), -1, len(LABELS))),
                tf.constant(r.reshape(len(index), -1, 5)),
            )
            totals += [float(losses[0]), float(losses[1])]
            if progress is not None:
                progress.update(1)
        if progress is not None:
            progress.close()
        duration = time.perf_counter() - epoch_started
        history["perte_scores"].append(round(totals[0] / steps_per_epoch, 4))
        history["perte_boites"].append(round(totals[1] / steps_per_epoch, 4))
        history["duree_s"].append(round(duration, 1))
        say(
            f"Époque {epoch}/{epochs} : perte des scores {history['perte_scores'][-1]:.4f}, "
            f"perte des boîtes {history['perte_boites'][-1]:.4f} ({duration:.0f} s)"
        )
    training_s = time.perf_counter() - started - generation_s

    say("Mesure de la précision moyenne (mAP) sur data/detection/test…")
    detector = build_detector(INPUT_SIZE)
    detector.set_weights(model.get_weights())
    test_images, coco = load_detection_test(data_dir / "detection" / "test")
    metrics = evaluate_detections(detect_images(keras_predictor(detector), test_images), coco)

    weights_path = data_dir / DETECTOR_WEIGHTS.name
    with tempfile.TemporaryDirectory(dir=data_dir) as scratch:
        staged = Path(scratch) / weights_path.name
        detector.save_weights(str(staged))
        staged.replace(weights_path)
    _export(detector, data_dir / DETECTOR_DIR.name)
    say(
        "Export des variantes du notebook 05 (concaténées en 128×128, sorties séparées en 640×640)…"
    )
    export_detector_variants(data_dir)

    record = {
        "architecture": "détecteur en une passe de type MobileNet (convolutions séparables, "
        "BatchNorm, ReLU6), petite pyramide de caractéristiques, tête par case à la CenterNet",
        "blocs": [list(block) for block in BACKBONE],
        "parametres": int(detector.count_params()),
        "entree": {
            "forme": [None, INPUT_SIZE, INPUT_SIZE, 3],
            "normalisation": "symmetric",
            "plage": [-1.0, 1.0],
        },
        "sorties": {
            "boxes": {
                "forme": [None, grid * grid, 4],
                "contenu": "régression brute (dx, dy, tw, th) de chaque case, en unités de case",
            },
            "scores": {
                "forme": [None, grid * grid, len(LABELS)],
                "contenu": "probabilité (sigmoïde) de chaque classe au centre d'un objet",
            },
            "pas_de_la_grille": STRIDE,
            "ordre_des_cases": "ligne par ligne",
            "decodage": "helpers.steps.detection.decode_detections (numpy, NMS par classe)",
        },
        "etiquettes": list(LABELS),
        "entrainement": {
            **TRAINING,
            "augmentation": "retournements et quarts de tour (8 variantes, tirées à chaque époque)",
            "perte": "focale de CenterNet (scores) + L1 pondérée (boîtes)",
            "historique": history,
        },
        "images": counts,
        "annotations": {
            "fichier": "detection/test/annotations.json (format COCO)",
            "category_id": "indice de la classe + 1 (1 à 5, ordre de detection/labels.txt)",
            "bbox": "[x, y, largeur, hauteur] en pixels",
        },
        "map_flottant_test": metrics,
        "mesure_map": {
            "outil": "pycocotools",
            "version": _package_version("pycocotools"),
            "seuil_de_score": 0.05,
            "seuil_nms": 0.5,
            "detections_max": 100,
        },
        "duree_generation_s": round(generation_s, 1),
        "duree_entrainement_s": round(training_s, 1),
        "duree_totale_s": round(time.perf_counter() - started, 1),
        "versions": {
            "python": platform.python_version(),
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "numpy": np.__version__,
        },
    }
    write_record(data_dir / DETECTOR_RECORD.name, record)
    say(
        f"mAP@0.5 flottante sur data/detection/test : {metrics['map_50']:.3f} "
        f"(mAP@[.5:.95] : {metrics['map_50_95']:.3f})"
    )
    return record


if __name__ == "__main__":
    import sys

    train_demo_detector(verbose=1 if sys.stderr.isatty() else 2)
