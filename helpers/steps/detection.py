"""Le détecteur d'objets : décoder ses sorties, supprimer les doublons, mesurer sa mAP.

Le modèle rend des sorties *brutes* par case d'une grille (``boxes`` et ``scores``) ; le
décodage des boîtes et la suppression des non-maxima (NMS) n'ont pas de noyau entier et restent
en flottant, sur le processeur, en numpy. Leur description est écrite à côté du SavedModel dans
``detecteur.json`` et recopiée par ``quantize`` dans les métadonnées du ``.tflite`` (clé
``detector``) : le ``.tflite`` se décode ensuite sans le kit. La mAP est celle de COCO,
calculée par pycocotools à partir d'annotations au format COCO.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm  # plain text bar on stderr: tqdm.auto warns in a notebook without ipywidgets

from helpers.base.errors import KitError
from helpers.core.images import check_normalization, is_image_file, normalize, read_image
from helpers.core.runtime import (
    check_image_input,
    load_interpreter,
    metadata_input_size,
    read_metadata,
    read_model_bytes,
    run_signature,
    signature_runner,
)
from helpers.core.runtime import input_size as runtime_input_size

DETECTOR_FILE = "detecteur.json"  # beside saved_model.pb: how to decode the outputs
DETECTOR_FORMAT = "grille-centres"
# COCO's threshold for mAP: keep low-score detections, the precision-recall curve needs them.
EVALUATION_SCORE_THRESHOLD = 0.05


def check_detector_description(description, where: str = DETECTOR_FILE) -> dict:
    """La description d'un détecteur du kit, vérifiée : format, pas de la grille, sorties,
    seuils (une erreur en français dit la clé qui manque)."""
    if not isinstance(description, dict) or description.get("format") != DETECTOR_FORMAT:
        raise KitError(
            f"{where} ne décrit pas un détecteur du kit (il faut « format » : "
            f"« {DETECTOR_FORMAT} ») : le décodage des sorties de ce modèle n'est pas connu. "
            "Décodez ses sorties avec l'après-traitement de votre propre détecteur."
        )
    for key, kind in (
        ("stride", int),
        ("boxes", str),
        ("scores", str),
        ("score_threshold", float),
        ("iou_threshold", float),
        ("max_detections", int),
    ):
        value = description.get(key)
        if not isinstance(value, (int, float) if kind is float else kind) or isinstance(
            value, bool
        ):
            kind_text = {int: "un entier", float: "un nombre", str: "un texte"}[kind]
            raise KitError(f"{where} : la clé « {key} » manque ou n'est pas {kind_text}.")
    return description


def read_detector_description(model_dir) -> dict | None:
    """La description ``detecteur.json`` d'un SavedModel, ou None pour un autre modèle.

    Introduit dans le notebook 05.
    """
    path = Path(model_dir) / DETECTOR_FILE
    if not path.is_file():
        return None
    try:
        description = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise KitError(f"{path.name} est illisible ({error.__class__.__name__}).") from error
    return check_detector_description(description, path.name)


def decode_boxes(raw_boxes: np.ndarray, cells: np.ndarray, grid_width: int, stride: int):
    """Régression brute d'une case -> boîte ``[x1, y1, x2, y2]`` en pixels.

    Centre = (colonne + 0,5 + dx, ligne + 0,5 + dy) × pas ; largeur = exp(tw) × pas,
    hauteur = exp(th) × pas. Les cases sont numérotées ligne par ligne.
    """
    raw_boxes = np.asarray(raw_boxes, dtype=np.float32)
    rows, cols = np.divmod(np.asarray(cells), grid_width)
    cx = (cols + 0.5 + raw_boxes[:, 0]) * stride
    cy = (rows + 0.5 + raw_boxes[:, 1]) * stride
    # exp of a large value would overflow: a box 2e4 cells wide means nothing anyway.
    half_w = np.exp(np.clip(raw_boxes[:, 2], -10, 10)) * (stride / 2)
    half_h = np.exp(np.clip(raw_boxes[:, 3], -10, 10)) * (stride / 2)
    return np.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], axis=-1)


def box_iou(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    """IoU (intersection sur union) d'une boîte ``[x1, y1, x2, y2]`` avec chacune de ``others``."""
    width = np.clip(np.minimum(box[2], others[:, 2]) - np.maximum(box[0], others[:, 0]), 0, None)
    height = np.clip(np.minimum(box[3], others[:, 3]) - np.maximum(box[1], others[:, 1]), 0, None)
    inter = width * height
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-9)


def non_max_suppression(boxes_xyxy: np.ndarray, scores: np.ndarray, iou_threshold: float = 0.5):
    """Indices des boîtes gardées, du meilleur score au moins bon : une boîte qui recouvre
    (IoU > ``iou_threshold``) une boîte déjà gardée est écartée."""
    order = np.argsort(-np.asarray(scores), kind="stable")
    boxes_xyxy = np.asarray(boxes_xyxy, dtype=np.float32)
    keep = []
    while order.size:
        best = order[0]
        keep.append(best)
        overlaps = box_iou(boxes_xyxy[best], boxes_xyxy[order[1:]])
        order = order[1:][overlaps <= iou_threshold]
    return np.asarray(keep, dtype=np.int64)


def decode_detections(
    boxes: np.ndarray,
    scores: np.ndarray,
    input_size: tuple[int, int],
    description: dict,
    score_threshold: float | None = None,
):
    """Sorties brutes d'une image -> ``(boîtes, scores, classes)``, triés par score décroissant.

    Boîtes en pixels au format COCO ``[x, y, largeur, hauteur]``, rognées à l'image ; classes
    dans l'ordre des étiquettes. NMS classe par classe, puis les ``max_detections`` meilleures.
    Introduit dans le notebook 05.
    """
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    scores = np.asarray(scores, dtype=np.float32)
    scores = scores.reshape(-1, scores.shape[-1])
    height, width = input_size
    stride = description["stride"]
    cells_expected = (height // stride) * (width // stride)
    if boxes.shape[0] != cells_expected or scores.shape[0] != cells_expected:
        raise KitError(
            f"Sorties inattendues pour une image {height}×{width} (grille au pas de {stride}) : "
            f"{boxes.shape[0]} boîtes et {scores.shape[0]} scores au lieu de {cells_expected}."
        )
    threshold = description["score_threshold"] if score_threshold is None else score_threshold
    cells, classes = np.nonzero(scores > threshold)
    corners = decode_boxes(boxes[cells], cells, width // stride, stride)
    return _keep_best(corners, scores[cells, classes], classes, (height, width), description)


def _keep_best(corners, candidate_scores, classes, input_size, description):
    """Candidates [x1, y1, x2, y2] -> (COCO boxes, scores, classes): NMS class by class."""
    if classes.size == 0:
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64)
    height, width = input_size
    corners = np.clip(corners, 0, [width, height, width, height])
    kept = []
    for label_index in np.unique(classes):
        members = np.flatnonzero(classes == label_index)
        keep = non_max_suppression(
            corners[members], candidate_scores[members], description["iou_threshold"]
        )
        kept.append(members[keep])
    keep = np.concatenate(kept)
    keep = keep[np.argsort(-candidate_scores[keep], kind="stable")][: description["max_detections"]]
    xyxy = corners[keep]
    xywh = np.concatenate([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]], axis=-1)
    return xywh.astype(np.float32), candidate_scores[keep], classes[keep].astype(np.int64)


def decode_concatenated_detections(
    detections: np.ndarray,
    input_size: tuple[int, int],
    description: dict,
    score_threshold: float | None = None,
    normalized_boxes: bool = False,
):
    """Sortie concaténée d'une image, ``(cases, 4 + classes)`` : ``[x1, y1, x2, y2]`` (en
    pixels, ou dans [0, 1] avec ``normalized_boxes``) puis les scores -> ``(boîtes, scores,
    classes)`` comme :func:`decode_detections` (seuil, NMS classe par classe). Introduit dans le
    notebook 05."""
    detections = np.asarray(detections, dtype=np.float32)
    detections = detections.reshape(-1, detections.shape[-1])
    height, width = input_size
    corners, scores = detections[:, :4], detections[:, 4:]
    if normalized_boxes:
        corners = corners * np.array([width, height, width, height], np.float32)
    threshold = description["score_threshold"] if score_threshold is None else score_threshold
    cells, classes = np.nonzero(scores > threshold)
    return _keep_best(corners[cells], scores[cells, classes], classes, input_size, description)


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
    try:
        coco = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise KitError(
            f"{path.name} n'est pas un fichier JSON lisible ({error.__class__.__name__}) : "
            "exportez vos annotations au format COCO."
        ) from error
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


def evaluate_detector(
    model,
    image_dir,
    annotations,
    normalization: str | None = None,
    input_size: tuple[int, int] | None = None,
    progress: bool = False,
) -> dict:
    """mAP d'un détecteur ``.tflite`` du kit sur des images annotées (COCO) : décodage et NMS
    décrits dans ``FILE.json`` (clé ``detector``). Renvoie ``{"map50", "map50_95", "count"}``.
    Introduit dans le notebook 05."""
    content = read_model_bytes(model)
    in_memory = isinstance(model, (bytes, bytearray, memoryview))
    metadata = {} if in_memory else (read_metadata(model) or {})
    if "detector" not in metadata:
        raise KitError(
            "Ce modèle n'est pas décrit comme un détecteur du kit (pas de clé « detector » dans "
            "son .json) : pour un classifieur, retirez --annotations ; pour votre propre "
            "détecteur, comparez ses sorties au modèle flottant avec « python -m helpers "
            "compare » et décodez-les avec son propre après-traitement."
        )
    description = check_detector_description(metadata["detector"], "FILE.json")
    labels = metadata.get("labels") or []
    if not labels:
        raise KitError(
            "Le .json de ce détecteur n'a pas d'étiquettes : requantifiez-le avec un labels.txt "
            "dans le dossier du SavedModel ou à côté (une étiquette par ligne, dans l'ordre des "
            "scores)."
        )
    normalization = normalization or metadata.get("normalization") or "symmetric"
    check_normalization(normalization)
    coco = load_coco_annotations(annotations, labels, image_dir)
    interpreter = load_interpreter(content)
    if input_size is None and runtime_input_size(interpreter) is None:
        input_size = metadata_input_size(metadata)
    height, width, channels = check_image_input(interpreter, input_size)
    runner, output_details = signature_runner(interpreter)
    for key in ("boxes", "scores"):
        if description[key] not in output_details:
            raise KitError(
                f"Le modèle n'a pas de sortie « {description[key]} » ({key}) : ses sorties sont "
                f"{', '.join(sorted(output_details))}."
            )
    detections = []
    entries = coco["images"]
    for entry in tqdm(entries, desc="Détection", disable=not progress, file=sys.stderr):
        pixels = read_image(Path(image_dir) / entry["file_name"], (height, width), channels)
        outputs = run_signature(runner, output_details, normalize(pixels, normalization)[None])
        detections.append(
            decode_detections(
                outputs[description["boxes"]][0],
                outputs[description["scores"]][0],
                (height, width),
                description,
                score_threshold=EVALUATION_SCORE_THRESHOLD,
            )
        )
    scores = coco_map(detections, coco, [(height, width)] * len(entries))
    return {"map50": scores["map50"], "map50_95": scores["map50_95"], "count": len(entries)}


def evaluate_concatenated_detector(
    model,
    image_dir,
    annotations,
    labels: list[str],
    description: dict,
    normalized_boxes: bool = False,
    normalization: str = "symmetric",
) -> dict:
    """mAP d'un ``.tflite`` à une seule sortie concaténée (boîtes puis scores, voir
    :func:`decode_concatenated_detections`) ; ``description`` donne les seuils. Renvoie
    ``{"map50", "map50_95", "count"}``. Introduit dans le notebook 05."""
    check_normalization(normalization)
    description = check_detector_description(description, "description")
    coco = load_coco_annotations(annotations, labels, image_dir)
    interpreter = load_interpreter(read_model_bytes(model))
    height, width, channels = check_image_input(interpreter)
    runner, output_details = signature_runner(interpreter)
    if len(output_details) != 1:
        raise KitError(
            f"Ce modèle a {len(output_details)} sorties ({', '.join(sorted(output_details))}) : "
            "evaluate_concatenated_detector attend une seule sortie concaténée ; pour des "
            "sorties séparées, utilisez evaluate_detector."
        )
    (name,) = output_details
    detections = []
    for entry in coco["images"]:
        pixels = read_image(Path(image_dir) / entry["file_name"], (height, width), channels)
        outputs = run_signature(runner, output_details, normalize(pixels, normalization)[None])
        detections.append(
            decode_concatenated_detections(
                outputs[name][0],
                (height, width),
                description,
                score_threshold=EVALUATION_SCORE_THRESHOLD,
                normalized_boxes=normalized_boxes,
            )
        )
    scores = coco_map(detections, coco, [(height, width)] * len(coco["images"]))
    return {"map50": scores["map50"], "map50_95": scores["map50_95"], "count": len(coco["images"])}
