"""Le détecteur d'objets : l'exécuter sur des images, décoder ses sorties, mesurer sa mAP.

Le décodage des boîtes et la suppression des non-maxima (NMS) restent en flottant, sur le
processeur, en numpy, par choix (ils sont légers et la position des boîtes y gagne) ; la description du détecteur
(``detecteur.json``, voir :mod:`helpers.steps.decoding`) dit comment faire et est recopiée par
``quantize`` dans les métadonnées du ``.tflite`` (clé ``detector``) : le ``.tflite`` se décode
ensuite sans le kit. La mAP est celle de COCO, calculée par pycocotools à partir d'annotations
au format COCO.
"""

from __future__ import annotations

import contextlib
import io
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm  # plain text bar on stderr: tqdm.auto warns in a notebook without ipywidgets

from helpers.base.errors import KitError
from helpers.base.units import read_json
from helpers.core.images import image_size, is_image_file, normalize, read_image, read_labels
from helpers.core.runtime import open_tflite, run_signature, signature_runner
from helpers.steps.decoding import (
    DETECTOR_FORMAT,
    check_description_outputs,
    check_detector_description,
    detect,
    load_decoder,
    read_detector_description,
    to_original_boxes,
)

# COCO's threshold for mAP: keep low-score detections, the precision-recall curve needs them.
EVALUATION_SCORE_THRESHOLD = 0.05


def decode_detections(
    boxes: np.ndarray,
    scores: np.ndarray,
    input_size: tuple[int, int],
    description: dict,
    score_threshold: float | None = None,
):
    """Sorties brutes d'une image du détecteur du kit (``grille-centres``) -> ``(boîtes,
    scores, classes)``, triés par score décroissant.

    Boîtes en pixels au format COCO ``[x, y, largeur, hauteur]``, rognées à l'image ; classes
    dans l'ordre des étiquettes. NMS classe par classe, puis les ``max_detections`` meilleures.
    """
    description = {**description, "format": DETECTOR_FORMAT, "boxes": "b", "scores": "s"}
    outputs = {"b": np.asarray(boxes)[None], "s": np.asarray(scores)[None]}
    num_labels = np.asarray(scores).shape[-1]
    return detect(outputs, input_size, description, num_labels, score_threshold)


def decode_concatenated_detections(
    detections: np.ndarray,
    input_size: tuple[int, int],
    description: dict,
    score_threshold: float | None = None,
    normalized_boxes: bool = False,
):
    """Sortie concaténée d'une image, ``(cases, 4 + classes)`` : ``[x1, y1, x2, y2]`` (en
    pixels, ou dans [0, 1] avec ``normalized_boxes``) puis les scores -> ``(boîtes, scores,
    classes)`` comme :func:`decode_detections` : c'est le format ``yolo`` avec
    ``"box_format": "xyxy"``. Introduit dans le notebook 05."""
    detections = np.asarray(detections, dtype=np.float32)
    detections = detections.reshape(-1, detections.shape[-1])
    yolo = {
        **{k: description[k] for k in ("score_threshold", "iou_threshold", "max_detections")},
        "format": "yolo",
        "box_format": "xyxy",
        "normalized": bool(normalized_boxes),
        "score_activation": "none",
        "objectness": False,
    }
    num_labels = detections.shape[-1] - 4
    return detect({"detections": detections[None]}, input_size, yolo, num_labels, score_threshold)


def detector_labels(labels=None, labels_file=None, found=None, where: str = "ce détecteur"):
    """Les étiquettes d'un détecteur, obligatoires : ``labels``, sinon ``labels_file``, sinon
    ``found`` (celles de ``FILE.json``, ou le ``labels.txt`` trouvé à côté du modèle)."""
    if labels is None and labels_file is not None:
        labels = read_labels(Path(labels_file))
    labels = labels if labels is not None else found
    if not labels:
        raise KitError(
            f"{where} : pas d'étiquettes, et un détecteur en a besoin (une par classe, dans "
            "l'ordre des scores). Placez labels.txt à côté du modèle, ou donnez --labels "
            "FICHIER."
        )
    return [str(label) for label in labels]


@dataclass
class TfliteDetector:
    """Un ``.tflite`` de détecteur prêt à détecter (voir :func:`open_detector`)."""

    opened: object  # helpers.core.runtime.OpenedModel
    runner: object
    output_details: dict
    description: dict
    labels: list[str]
    decoder: object = None

    @property
    def input_size(self) -> tuple[int, int]:
        return self.opened.input_size

    def read(self, path) -> np.ndarray:
        """Les pixels d'une image à la taille du modèle, redimensionnés comme la description le
        dit (``resize``), uint8 (H, L, C)."""
        return read_image(
            path,
            self.input_size,
            self.opened.channels,
            self.description["resize"],
            self.description["pad_value"],
        )

    def detect_pixels(self, pixels: np.ndarray, score_threshold: float | None = None):
        """Pixels à la taille du modèle -> ``(boîtes COCO en pixels de l'entrée, scores,
        classes)``."""
        image = normalize(pixels, self.opened.normalization)[None]
        outputs = run_signature(self.runner, self.output_details, image)
        return detect(
            outputs,
            self.input_size,
            self.description,
            len(self.labels),
            score_threshold,
            self.decoder,
        )

    def detect_file(self, path, score_threshold: float | None = None):
        """Une image -> ``(boîtes COCO en pixels de l'image d'origine, scores, classes)``."""
        boxes, scores, classes = self.detect_pixels(self.read(path), score_threshold)
        original = image_size(path)
        return (
            to_original_boxes(boxes, original, self.input_size, self.description),
            scores,
            classes,
        )


def open_detector(
    model,
    detector=None,
    labels=None,
    labels_file=None,
    normalization: str | None = None,
    input_size: tuple[int, int] | None = None,
    num_threads: int = 1,
) -> TfliteDetector:
    """Un ``.tflite`` de détecteur et sa description, vérifiés : ``detector`` (une description
    déjà lue, ou le chemin d'un ``detecteur.json``, qui l'emporte), sinon la clé ``detector``
    de ``FILE.json`` ; étiquettes ``labels``, ``labels_file`` ou celles de ``FILE.json``.
    Introduit dans le notebook 05."""
    opened = open_tflite(model, normalization, input_size, num_threads)
    if isinstance(detector, (str, Path)):
        description = read_detector_description(None, detector)
        where = Path(detector).name
    elif detector is not None:
        description, where = (
            check_detector_description(detector, "la description"),
            "la description",
        )
    elif opened.detector is not None:
        description = check_detector_description(
            opened.detector, f"{opened.name} (clé « detector »)"
        )
        where = f"{opened.name} (clé « detector »)"
    else:
        raise KitError(
            f"Ce modèle n'est pas décrit comme un détecteur (pas de clé « detector » dans "
            f"{opened.name}) : donnez sa description avec --detector FICHIER.json (voir le "
            "README, « Votre détecteur »), ou requantifiez-le avec detecteur.json à côté du "
            "SavedModel. Pour un classifieur, retirez --annotations."
        )
    beside = None if isinstance(model, (bytes, bytearray, memoryview)) else Path(model).parent
    if labels is None and labels_file is None and opened.labels is None and beside is not None:
        labels_file = beside / "labels.txt" if (beside / "labels.txt").is_file() else None
    labels = detector_labels(labels, labels_file, opened.labels, opened.name)
    runner, output_details = signature_runner(opened.interpreter)
    shapes = {name: detail["shape"] for name, detail in output_details.items()}
    check_description_outputs(description, shapes, labels, where)
    decoder = load_decoder(description, where) if description["format"] == "python" else None
    return TfliteDetector(opened, runner, output_details, description, labels, decoder)


def load_coco_annotations(path, labels: list[str], image_dir=None) -> dict:
    """Un fichier d'annotations COCO, vérifié : ``images``, ``annotations``, ``categories``
    dont les noms sont les étiquettes du modèle, des boîtes dans leur image, des fichiers qui
    existent dans ``image_dir`` (``file_name`` y est relatif).
    """
    path = Path(path)
    if not path.is_file():
        raise KitError(
            f"Fichier d'annotations introuvable : {path.as_posix()}. Il faut un fichier COCO "
            "(JSON avec « images », « annotations » et « categories »)."
        )
    coco = read_json(
        path, "Annotations illisibles", "Exportez vos annotations au format COCO (JSON, UTF-8)."
    )
    missing = [
        k
        for k in ("images", "annotations", "categories")
        if not isinstance(coco.get(k) if isinstance(coco, dict) else None, list)
    ]
    if missing:
        raise KitError(
            f"{path.name} n'a pas de liste « {'», «'.join(missing)} » : ce n'est pas un fichier "
            "d'annotations COCO (il faut « images », « annotations » et « categories »)."
        )
    names = {c.get("id"): c.get("name") for c in coco["categories"] if isinstance(c, dict)}
    expected = {index + 1: label for index, label in enumerate(labels)}
    if names != expected:
        shown = ", ".join(f"{i} : {n}" for i, n in sorted(names.items(), key=lambda x: str(x)))
        wanted = ", ".join(f"{i} : {n}" for i, n in expected.items())
        raise KitError(
            f"Les catégories de {path.name} ({shown}) ne sont pas les étiquettes du modèle : "
            f"il faut {wanted} (id = rang de l'étiquette dans la sortie des scores + 1)."
        )
    sizes = {}
    for entry in coco["images"]:
        try:
            sizes[entry["id"]] = (float(entry["width"]), float(entry["height"]))
            name = str(entry["file_name"])
        except (KeyError, TypeError, ValueError):
            raise KitError(
                f"{path.name} : chaque image doit avoir « id », « file_name », « width » et "
                f"« height » ; celle-ci ne les a pas : {str(entry)[:120]}."
            ) from None
        if image_dir is not None and not is_image_file(Path(image_dir) / name):
            raise KitError(
                f"{path.name} annonce l'image {name}, absente de {Path(image_dir).as_posix()} "
                "(« file_name » est relatif au dossier d'images)."
            )
    for annotation in coco["annotations"]:
        try:
            x, y, w, h = (float(v) for v in annotation["bbox"])
            width, height = sizes[annotation["image_id"]]
            category = annotation["category_id"]
        except (KeyError, TypeError, ValueError):
            raise KitError(
                f"{path.name} : chaque annotation doit avoir « image_id » (d'une image du "
                f"fichier), « category_id » et « bbox » [x, y, largeur, hauteur] ; celle-ci ne "
                f"convient pas : {str(annotation)[:120]}."
            ) from None
        if category not in expected:
            raise KitError(
                f"{path.name} : catégorie {category!r} inconnue dans une annotation de l'image "
                f"{annotation['image_id']} (catégories : {', '.join(map(str, expected))})."
            )
        if w <= 0 or h <= 0 or x < -1 or y < -1 or x + w > width + 1 or y + h > height + 1:
            raise KitError(
                f"{path.name} : la boîte {[x, y, w, h]} de l'image {annotation['image_id']} "
                f"sort de l'image ({width:g}×{height:g}) ou est vide : les boîtes sont en "
                "pixels [x, y, largeur, hauteur], dans l'image."
            )
        annotation.setdefault("area", w * h)
        annotation.setdefault("iscrowd", 0)
    return coco


def coco_map(detections: list, coco: dict, image_sizes: list[tuple[int, int]]) -> dict:
    """mAP@0.5 et mAP@[.5:.95] de pycocotools ; ``detections`` : un triplet (boîtes, scores,
    classes) par image de ``coco``, boîtes dans l'image d'entrée du modèle (``image_sizes``,
    (hauteur, largeur)), remises à l'échelle de chaque image annotée."""
    # Imported here: pycocotools imports matplotlib, a second no other command needs.
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    results = []
    for entry, (boxes, scores, classes), (height, width) in zip(
        coco["images"], detections, image_sizes, strict=True
    ):
        factor = np.array([entry["width"] / width, entry["height"] / height] * 2)
        for box, score, label_index in zip(boxes * factor, scores, classes, strict=True):
            results.append(
                {
                    "image_id": entry["id"],
                    "category_id": int(label_index) + 1,
                    "bbox": [round(float(v), 3) for v in box],
                    "score": float(score),
                }
            )
    names = [c["name"] for c in sorted(coco["categories"], key=lambda c: c["id"])]
    if not results:
        return {"map50": 0.0, "map50_95": 0.0, "map75": 0.0, "ap50_per_label": {}}
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints its tables
        ground_truth = COCO()
        ground_truth.dataset = coco
        ground_truth.createIndex()
        evaluation = COCOeval(ground_truth, ground_truth.loadRes(results), "bbox")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    # precision: [IoU thresholds, recall points, categories, area ranges, max detections]
    precision = evaluation.eval["precision"][0, :, :, 0, -1]
    per_label = {}
    for index, name in enumerate(names):
        values = precision[:, index][precision[:, index] > -1]
        per_label[name] = float(values.mean()) if values.size else 0.0
    return {
        "map50": float(evaluation.stats[1]),
        "map50_95": float(evaluation.stats[0]),
        "map75": float(evaluation.stats[2]),
        "ap50_per_label": per_label,
    }


def check_converted_detector(model_bytes, description: dict, labels, input_size=None) -> dict:
    """Vérifie, avant d'écrire le ``.tflite``, que sa description le décode : sorties, nombre
    d'étiquettes, et un essai sur une image grise (un décodeur ``python`` qui échoue ou rend de
    mauvaises formes est signalé ici). Renvoie la description complétée."""
    model_detector = open_detector(model_bytes, description, labels, input_size=input_size)
    height, width = model_detector.input_size
    gray = np.full((height, width, model_detector.opened.channels), 128, np.uint8)
    model_detector.detect_pixels(gray)
    return model_detector.description


def evaluate_detector(
    model,
    image_dir,
    annotations,
    normalization: str | None = None,
    input_size: tuple[int, int] | None = None,
    progress: bool = False,
    detector=None,
    labels=None,
    num_images: int | None = None,
) -> dict:
    """mAP d'un détecteur ``.tflite`` sur des images annotées (COCO) : décodage et NMS de sa
    description (``detector``, sinon la clé ``detector`` de ``FILE.json``), boîtes ramenées à
    l'image d'origine. ``num_images`` : les premières images seulement. Renvoie ``{"map50",
    "map50_95", "count"}``. Introduit dans le notebook 05."""
    model_detector = open_detector(model, detector, labels, None, normalization, input_size)
    coco = load_coco_annotations(annotations, model_detector.labels, image_dir)
    if num_images is not None:
        coco = coco_subset(coco, num_images)
    entries = coco["images"]
    detections, sizes = [], []
    for entry in tqdm(entries, desc="Détection", disable=not progress, file=sys.stderr):
        path = Path(image_dir) / entry["file_name"]
        detections.append(model_detector.detect_file(path, EVALUATION_SCORE_THRESHOLD))
        sizes.append(image_size(path))
    scores = coco_map(detections, coco, sizes)
    return {"map50": scores["map50"], "map50_95": scores["map50_95"], "count": len(entries)}


def coco_subset(coco: dict, num_images: int) -> dict:
    """Les ``num_images`` premières images d'annotations COCO, et leurs seules annotations."""
    entries = coco["images"][:num_images]
    kept = {entry["id"] for entry in entries}
    annotations = [a for a in coco["annotations"] if a["image_id"] in kept]
    return {**coco, "images": entries, "annotations": annotations}


def evaluate_concatenated_detector(
    model,
    image_dir,
    annotations,
    labels: list[str],
    description: dict,
    normalized_boxes: bool = False,
    normalization: str = "symmetric",
) -> dict:
    """mAP d'un ``.tflite`` à une seule sortie concaténée (boîtes ``[x1, y1, x2, y2]`` puis
    scores) : :func:`evaluate_detector` avec le format ``yolo`` (``"box_format": "xyxy"``) ;
    ``description`` donne les seuils. Renvoie ``{"map50", "map50_95", "count"}``. Introduit
    dans le notebook 05."""
    yolo = {
        **{k: description[k] for k in ("score_threshold", "iou_threshold", "max_detections")},
        "format": "yolo",
        "box_format": "xyxy",
        "normalized": bool(normalized_boxes),
    }
    return evaluate_detector(
        model, image_dir, annotations, normalization, detector=yolo, labels=labels
    )
