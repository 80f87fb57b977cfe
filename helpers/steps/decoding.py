"""Les descriptions de détecteurs (``detecteur.json``) : les vérifier, décoder les sorties, NMS.

Un détecteur rend des sorties *brutes* ; la description dit comment en tirer des boîtes
``[x1, y1, x2, y2]`` en pixels de l'entrée du modèle, des scores et des classes. Quatre formats :

- ``grille-centres`` : celui du détecteur du kit (une case de grille par ligne) ;
- ``yolo`` : une sortie ``(1, 4+C, N)`` ou ``(1, N, 4+C)`` (Ultralytics), ``5+C`` avec
  ``objectness`` (YOLOv5) ;
- ``boites-scores`` : deux sorties ``(1, N, 4)`` et ``(1, N, C)`` (ou ``C+1`` avec le fond),
  comme ``raw_detection_boxes`` / ``raw_detection_scores`` de la TF Object Detection API ;
- ``python`` : une fonction ``decode(outputs, input_size)`` écrite par l'étudiant.

Puis, pour tous, la même règle : les scores au-dessus du seuil, la suppression des non-maxima
(NMS) classe par classe, les ``max_detections`` meilleures. Le script ``detecter.py`` de la Pi
refait exactement ces calculs (des tests de parité le vérifient).
"""

from __future__ import annotations

import ast
import difflib
import json
import sys
from pathlib import Path

import numpy as np

from helpers.base.errors import KitError
from helpers.base.units import read_json
from helpers.core.images import DEFAULT_PAD_VALUE, RESIZES, check_resize, letterbox_geometry

DETECTOR_FILE = "detecteur.json"  # beside saved_model.pb: how to decode the outputs
DETECTOR_FORMAT = "grille-centres"  # the kit's own
FORMATS = ("grille-centres", "yolo", "boites-scores", "python")
YOLO_BOX_FORMATS = ("cxcywh", "xyxy")
BOX_FORMATS = ("yxyx", "xyxy", "cxcywh")
YOLO_ACTIVATIONS = ("none", "sigmoid")
ACTIVATIONS = ("none", "sigmoid", "softmax")
DECODER_SOURCE = "decoder_source"  # the python decoder's text, copied into FILE.json
COMMON_KEYS = ("format", "score_threshold", "iou_threshold", "max_detections")
OPTIONAL_COMMON_KEYS = ("resize", "pad_value")
# key -> (kind, required, choices, default) per format
_FORMAT_KEYS = {
    "grille-centres": {
        "stride": (int, True, None, None),
        "boxes": (str, True, None, None),
        "scores": (str, True, None, None),
    },
    "yolo": {
        "output": (str, False, None, None),
        "box_format": (str, False, YOLO_BOX_FORMATS, "cxcywh"),
        "normalized": (bool, True, None, None),
        "score_activation": (str, False, YOLO_ACTIVATIONS, "none"),
        "objectness": (bool, False, None, False),
    },
    "boites-scores": {
        "boxes": (str, True, None, None),
        "scores": (str, True, None, None),
        "box_format": (str, True, BOX_FORMATS, None),
        "normalized": (bool, True, None, None),
        "score_activation": (str, False, ACTIVATIONS, "none"),
        "background": (bool, False, None, False),
    },
    "python": {
        "decoder": (str, True, None, None),
        DECODER_SOURCE: (str, False, None, None),
    },
}
_KIND_TEXT = {int: "un entier", float: "un nombre", str: "un texte", bool: "true ou false"}
_EXAMPLES = {int: "8", float: "0.3", str: '"nom"', bool: "true"}


def _is_kind(value, kind) -> bool:
    if kind is bool:
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    return isinstance(value, (int, float)) if kind is float else isinstance(value, kind)


def _key_error(where: str, key: str, problem: str, what: str) -> KitError:
    return KitError(f"{where} : la clé « {key} » {problem}. Écrivez {what}.")


def check_detector_description(description, where: str = DETECTOR_FILE) -> dict:
    """La description d'un détecteur, vérifiée et complétée de ses valeurs par défaut.

    Clés communes ``format``, ``score_threshold``, ``iou_threshold``, ``max_detections``,
    ``resize`` (``stretch`` par défaut, ou ``letterbox`` avec ``pad_value``), puis celles du
    format. Une clé inconnue, manquante ou du mauvais type donne une erreur en français qui
    nomme la clé et ce qu'il faut écrire.
    """
    if not isinstance(description, dict):
        raise KitError(
            f"{where} doit contenir un objet JSON {{...}} avec au moins « format » "
            f"({', '.join(FORMATS)})."
        )
    kind = description.get("format")
    if kind not in FORMATS:
        raise _key_error(
            where,
            "format",
            f"vaut {json.dumps(kind, ensure_ascii=False)}, un format inconnu",
            " ou ".join(f'"format": "{name}"' for name in FORMATS),
        )
    keys = {
        "score_threshold": (float, True, None, None),
        "iou_threshold": (float, True, None, None),
        "max_detections": (int, True, None, None),
        "resize": (str, False, RESIZES, "stretch"),
        "pad_value": (int, False, None, DEFAULT_PAD_VALUE),
        **_FORMAT_KEYS[kind],
    }
    known = ("format", *keys)
    for key in description:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f"« {close[0]} »" if close else f"seulement {', '.join(known)}"
            raise _key_error(
                where, str(key), f"est inconnue pour le format {kind}", f"plutôt {hint}"
            )
    checked = {"format": kind}
    for key, (value_kind, required, choices, default) in keys.items():
        if key not in description:
            if required:
                raise _key_error(
                    where,
                    key,
                    f"manque (format {kind})",
                    f'"{key}": {_choice_text(choices) if choices else _EXAMPLES[value_kind]}',
                )
            if default is not None:
                checked[key] = default
            continue
        value = description[key]
        if not _is_kind(value, value_kind) or (choices and value not in choices):
            expected = _choice_text(choices) if choices else _KIND_TEXT[value_kind]
            raise _key_error(where, key, f"vaut {json.dumps(value, ensure_ascii=False)}", expected)
        checked[key] = value
    for key in ("score_threshold", "iou_threshold"):
        if not 0.0 <= checked[key] <= 1.0:
            raise _key_error(where, key, f"vaut {checked[key]}", "un nombre entre 0 et 1")
    if checked["max_detections"] < 1:
        raise _key_error(
            where, "max_detections", f"vaut {checked['max_detections']}", "un entier >= 1"
        )
    if kind == "grille-centres" and checked["stride"] < 1:
        raise _key_error(where, "stride", f"vaut {checked['stride']}", "un entier >= 1 (pixels)")
    try:
        check_resize(checked["resize"], checked["pad_value"])
    except KitError as error:
        raise KitError(f"{where} : {error}") from None
    if kind == "python":
        _split_decoder(checked["decoder"], where)
    return checked


def _choice_text(choices) -> str:
    return " ou ".join(f'"{choice}"' for choice in choices)


def read_detector_description(model_dir, detector_file=None) -> dict | None:
    """La description d'un détecteur : ``detector_file`` s'il est donné (il l'emporte), sinon
    ``detecteur.json`` à côté du SavedModel, sinon None (un classifieur). Un décodeur
    ``python`` est vérifié et son texte gardé (clé ``decoder_source``) pour ``FILE.json``.
    Introduit dans le notebook 05.
    """
    path = Path(detector_file) if detector_file is not None else Path(model_dir) / DETECTOR_FILE
    if detector_file is None and not path.is_file():
        return None
    if not path.is_file():
        raise KitError(
            f"Description de détecteur introuvable : {path.name}. Donnez le chemin d'un fichier "
            f"JSON (--detector FILE.json), ou placez {DETECTOR_FILE} à côté de saved_model.pb."
        )
    description = read_json(
        path,
        "Description de détecteur illisible",
        'Écrivez un objet JSON {"format": ..., ...} en UTF-8.',
    )
    description = check_detector_description(description, path.name)
    if description["format"] == "python" and DECODER_SOURCE not in description:
        file_name, _ = _split_decoder(description["decoder"], path.name)
        source_path = path.parent / file_name
        if not source_path.is_file():
            raise _key_error(
                path.name,
                "decoder",
                f"nomme {file_name}, introuvable à côté de {path.name}",
                '"decoder": "FICHIER.py:FONCTION", FICHIER.py relatif au dossier de la description',
            )
        description[DECODER_SOURCE] = source_path.read_text(encoding="utf-8")
    if description["format"] == "python":
        load_decoder(description, path.name)  # a missing function fails here, not later
    return description


def _split_decoder(decoder: str, where: str) -> tuple[str, str]:
    file_name, _, function = decoder.rpartition(":")
    if not file_name.endswith(".py") or not function.isidentifier():
        raise _key_error(
            where,
            "decoder",
            f"vaut « {decoder} »",
            '"decoder": "FICHIER.py:FONCTION" (par exemple "decodeur.py:decode")',
        )
    return file_name, function


def load_decoder(description: dict, where: str = "la description"):
    """La fonction ``decode(outputs, input_size)`` d'une description ``python``, compilée depuis
    son texte (``decoder_source``) ; le fichier n'importe que numpy et la bibliothèque standard
    (il tourne aussi sur la Pi)."""
    file_name, function = _split_decoder(description["decoder"], where)
    source = description[DECODER_SOURCE]
    try:
        tree = ast.parse(source, filename=file_name)
    except SyntaxError as error:
        raise KitError(
            f"{file_name} (clé « decoder ») ne se lit pas en Python : ligne {error.lineno}, "
            f"{error.msg}. Corrigez le fichier."
        ) from None
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        for name in names:
            top = name.split(".")[0]
            if top != "numpy" and top not in sys.stdlib_module_names:
                raise KitError(
                    f"{file_name} (clé « decoder ») importe {name} : un décodeur n'importe que "
                    "numpy et la bibliothèque standard (il tourne aussi sur la Pi). Réécrivez "
                    "ce calcul en numpy."
                )
    namespace = {"__name__": Path(file_name).stem}
    try:
        exec(compile(tree, file_name, "exec"), namespace)  # the student's own decoder
    except Exception as error:
        raise KitError(
            f"{file_name} (clé « decoder ») échoue au chargement : {error.__class__.__name__}: "
            f"{str(error)[:200]}. Corrigez le fichier."
        ) from None
    decode = namespace.get(function)
    if not callable(decode):
        defined = sorted(k for k, v in namespace.items() if callable(v) and not k.startswith("_"))
        raise _key_error(
            where,
            "decoder",
            f"nomme la fonction {function}, absente de {file_name} (fonctions : "
            f"{', '.join(defined) or 'aucune'})",
            f'"decoder": "{file_name}:NOM_DE_LA_FONCTION"',
        )
    return decode


# ---------------------------------------------------------------------------------------------
# The description against the model's outputs


def yolo_channel_axis(shape, num_labels: int, objectness: bool = False) -> int | None:
    """L'axe (1 ou 2) de taille 4+C (5+C avec ``objectness``) d'une sortie YOLO ``(1, ., .)``,
    ou None ; s'ils ont tous deux cette taille, l'axe 1 (celui d'Ultralytics)."""
    channels = 4 + int(objectness) + num_labels
    if len(shape) != 3:
        return None
    for axis in (1, 2):
        if int(shape[axis]) == channels:
            return axis
    return None


def check_description_outputs(description: dict, output_shapes: dict, labels, where: str) -> dict:
    """Vérifie la description contre les sorties du modèle (``{nom: forme}``, lot compris) et
    les étiquettes ; renvoie ``{rôle: nom de sortie}`` (``boxes``, ``scores`` ou ``output``)."""
    num_labels = len(labels)
    names = ", ".join(sorted(output_shapes))
    kind = description["format"]

    def output(key, name):
        if name not in output_shapes:
            raise _key_error(
                where,
                key,
                f"nomme la sortie « {name} », que le modèle n'a pas",
                f"l'une de {names}",
            )
        return [int(v) for v in output_shapes[name]]

    if kind == "python":
        return {}
    if kind == "yolo":
        name = description.get("output")
        if name is None:
            if len(output_shapes) != 1:
                raise _key_error(
                    where,
                    "output",
                    f"manque (le modèle a {len(output_shapes)} sorties)",
                    f'"output": l\'une de {names}',
                )
            (name,) = output_shapes
        shape = output("output", name)
        objectness = description["objectness"]
        if yolo_channel_axis(shape, num_labels, objectness) is None:
            expected = 4 + int(objectness) + num_labels
            if yolo_channel_axis(shape, num_labels, not objectness):
                hint = f'"objectness": {str(not objectness).lower()}'
            else:
                hint = "le fichier d'étiquettes de ce modèle (une ligne par classe)"
            raise KitError(
                f"{where} : la sortie « {name} » a la forme {tuple(shape)} ; avec "
                f"{num_labels} étiquettes, le format yolo attend un axe de {expected} canaux "
                f"(4 coordonnées{' + objectness' if objectness else ''} + {num_labels} "
                f"scores). Vérifiez les étiquettes, ou écrivez {hint}."
            )
        return {"output": name}
    boxes, scores = output("boxes", description["boxes"]), output("scores", description["scores"])
    if len(boxes) != 3 or boxes[0] != 1 or boxes[2] != 4:
        raise _key_error(
            where,
            "boxes",
            f"nomme « {description['boxes']} », de forme {tuple(boxes)} et non (1, N, 4)",
            "le nom de la sortie des boîtes",
        )
    background = kind == "boites-scores" and description["background"]
    expected = num_labels + int(background)
    if len(scores) != 3 or scores[1] != boxes[1] or scores[2] != expected:
        hint = "le nom de la sortie des scores, et un fichier d'étiquettes d'une ligne par classe"
        if kind == "boites-scores" and len(scores) == 3 and scores[2] == num_labels + 1:
            hint = '"background": true (la colonne 0 est le fond)'
        elif background and len(scores) == 3 and scores[2] == num_labels:
            hint = '"background": false (pas de colonne de fond)'
        raise _key_error(
            where,
            "scores",
            f"nomme « {description['scores']} », de forme {tuple(scores)} "
            f"alors qu'il faut (1, {boxes[1]}, {expected}) pour {num_labels} étiquettes"
            f"{' plus le fond' if background else ''}",
            hint,
        )
    return {"boxes": description["boxes"], "scores": description["scores"]}


# ---------------------------------------------------------------------------------------------
# Decoding


def decode_grid_boxes(raw_boxes: np.ndarray, cells: np.ndarray, grid_width: int, stride: int):
    """Régression brute d'une case -> boîte ``[x1, y1, x2, y2]`` en pixels.

    Centre = (colonne + 0,5 + dx, ligne + 0,5 + dy) × écart de la grille (``stride``, en pixels) ;
    largeur = exp(tw) × écart, hauteur = exp(th) × écart. Les cases sont numérotées ligne par ligne.
    """
    raw_boxes = np.asarray(raw_boxes, dtype=np.float32)
    rows, cols = np.divmod(np.asarray(cells), grid_width)
    cx = (cols + 0.5 + raw_boxes[:, 0]) * stride
    cy = (rows + 0.5 + raw_boxes[:, 1]) * stride
    # exp of a large value would overflow: a box 2e4 cells wide means nothing anyway.
    half_w = np.exp(np.clip(raw_boxes[:, 2], -10, 10)) * (stride / 2)
    half_h = np.exp(np.clip(raw_boxes[:, 3], -10, 10)) * (stride / 2)
    return np.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], axis=-1)


def to_xyxy(boxes: np.ndarray, box_format: str) -> np.ndarray:
    """Boîtes ``(N, 4)`` au format ``xyxy``, ``yxyx`` ou ``cxcywh`` -> ``[x1, y1, x2, y2]``."""
    boxes = np.asarray(boxes, dtype=np.float32)
    if box_format == "yxyx":
        return boxes[:, [1, 0, 3, 2]]
    if box_format == "cxcywh":
        center, half = boxes[:, :2], boxes[:, 2:] / 2
        return np.concatenate([center - half, center + half], axis=-1)
    return boxes


def _activate(scores: np.ndarray, activation: str) -> np.ndarray:
    if activation == "sigmoid":
        return (1.0 / (1.0 + np.exp(-np.clip(scores, -80, 80)))).astype(np.float32)
    if activation == "softmax":
        shifted = np.exp(scores - scores.max(axis=-1, keepdims=True))
        return (shifted / shifted.sum(axis=-1, keepdims=True)).astype(np.float32)
    return scores


def decode_candidates(outputs: dict, input_size, description: dict, num_labels: int, decoder=None):
    """Sorties d'une image (``{nom: tableau}``, lot de 1 gardé, déquantifiées) -> ``(boîtes
    (K, 4) [x1, y1, x2, y2] en pixels de l'entrée, scores (K, C) ou (K,), classes)`` avant
    seuil et NMS ; ``classes`` vaut None quand chaque ligne a un score par classe."""
    height, width = input_size
    kind = description["format"]
    outputs = {name: np.asarray(value, dtype=np.float32) for name, value in outputs.items()}
    if kind == "python":
        return _python_candidates(outputs, input_size, description, num_labels, decoder)
    if kind == "grille-centres":
        boxes = outputs[description["boxes"]].reshape(-1, 4)
        scores = outputs[description["scores"]]
        scores = scores.reshape(-1, scores.shape[-1])
        stride = description["stride"]
        cells = (height // stride) * (width // stride)
        if boxes.shape[0] != cells or scores.shape[0] != cells:
            raise KitError(
                f"Sorties inattendues pour une image {height}×{width} (une case tous les "
                f"{stride} pixels) : {boxes.shape[0]} boîtes et {scores.shape[0]} scores au lieu de "
                f"{cells}."
            )
        corners = decode_grid_boxes(boxes, np.arange(cells), width // stride, stride)
        return corners, scores, None
    if kind == "yolo":
        name = description.get("output") or next(iter(outputs))
        value = outputs[name][0]
        objectness = description["objectness"]
        if yolo_channel_axis((1, *value.shape), num_labels, objectness) == 1:
            value = value.T  # (4+C, N) -> (N, 4+C)
        boxes = to_xyxy(value[:, :4], description["box_format"])
        scores = _activate(value[:, 4 + int(objectness) :], description["score_activation"])
        if objectness:
            scores = scores * _activate(value[:, 4:5], description["score_activation"])
    else:
        boxes = to_xyxy(outputs[description["boxes"]][0], description["box_format"])
        scores = _activate(outputs[description["scores"]][0], description["score_activation"])
        if description["background"]:
            scores = scores[:, 1:]
    if description["normalized"]:
        boxes = boxes * np.array([width, height, width, height], np.float32)
    return boxes, scores, None


def _python_candidates(outputs, input_size, description, num_labels, decoder):
    decoder = decoder or load_decoder(description)
    file_name = description["decoder"]
    try:
        result = decoder(outputs, (int(input_size[0]), int(input_size[1])))
    except Exception as error:
        raise KitError(
            f"Le décodeur {file_name} a échoué : {error.__class__.__name__}: {str(error)[:200]}. "
            "Corrigez-le (il reçoit {nom de sortie: tableau float32, lot compris} et "
            "(hauteur, largeur))."
        ) from None
    try:
        boxes, scores, classes = (np.asarray(part) for part in result)
        boxes = boxes.astype(np.float32).reshape(boxes.shape)
        valid = (
            boxes.ndim == 2
            and boxes.shape[1] == 4
            and scores.shape == (boxes.shape[0],)
            and classes.shape == (boxes.shape[0],)
        )
    except (TypeError, ValueError):
        valid = False
    if not valid:
        raise KitError(
            f"Le décodeur {file_name} doit renvoyer (boîtes (K, 4) [x1, y1, x2, y2] en pixels "
            "de l'entrée, scores (K,) dans [0, 1], classes (K,) à partir de 0) ; il a renvoyé "
            f"{_shapes_text(result)}."
        )
    classes = classes.astype(np.int64)
    if classes.size and (classes.min() < 0 or classes.max() >= num_labels):
        raise KitError(
            f"Le décodeur {file_name} rend des classes de {classes.min()} à {classes.max()} : "
            f"il faut des indices de 0 à {num_labels - 1} (un par étiquette, à partir de 0)."
        )
    return boxes, scores.astype(np.float32), classes


def _shapes_text(result) -> str:
    try:
        return "(" + ", ".join(str(np.shape(part)) for part in result) + ")"
    except TypeError:
        return type(result).__name__


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


def keep_best(corners, scores, classes, input_size, description, score_threshold=None):
    """Candidats -> ``(boîtes COCO [x, y, largeur, hauteur] en pixels de l'entrée, scores,
    classes)`` : scores au-dessus du seuil (toutes les classes de chaque ligne quand ``scores``
    est (K, C)), boîtes rognées à l'entrée, NMS classe par classe, les ``max_detections``
    meilleures, du meilleur score au moins bon."""
    threshold = description["score_threshold"] if score_threshold is None else score_threshold
    corners = np.asarray(corners, dtype=np.float32)
    if classes is None:
        rows, classes = np.nonzero(scores > threshold)
        corners, scores = corners[rows], scores[rows, classes]
    else:
        above = scores > threshold
        corners, scores, classes = corners[above], scores[above], classes[above]
    if classes.size == 0:
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64)
    height, width = input_size
    corners = np.clip(corners, 0, [width, height, width, height])
    kept = []
    for label_index in np.unique(classes):
        members = np.flatnonzero(classes == label_index)
        keep = non_max_suppression(corners[members], scores[members], description["iou_threshold"])
        kept.append(members[keep])
    keep = np.concatenate(kept)
    keep = keep[np.argsort(-scores[keep], kind="stable")][: description["max_detections"]]
    xyxy = corners[keep]
    xywh = np.concatenate([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]], axis=-1)
    return xywh.astype(np.float32), scores[keep].astype(np.float32), classes[keep].astype(np.int64)


def detect(
    outputs: dict,
    input_size,
    description: dict,
    num_labels: int,
    score_threshold: float | None = None,
    decoder=None,
):
    """Sorties d'une image (``{nom: tableau}``, lot de 1) -> ``(boîtes COCO en pixels de
    l'entrée, scores, classes)``, décodées selon la description puis filtrées (seuil, NMS par
    classe). Introduit dans le notebook 05."""
    corners, scores, classes = decode_candidates(
        outputs, input_size, description, num_labels, decoder
    )
    return keep_best(corners, scores, classes, input_size, description, score_threshold)


def to_original_boxes(boxes_xywh, original_size, input_size, description: dict) -> np.ndarray:
    """Boîtes COCO en pixels de l'entrée du modèle -> en pixels de l'image d'origine
    (hauteur, largeur) : l'étirement inversé, ou la marge puis l'échelle du letterbox ôtées."""
    boxes = np.asarray(boxes_xywh, dtype=np.float32)
    height, width = original_size
    input_height, input_width = input_size
    if description.get("resize", "stretch") == "letterbox":
        scale, _, _, top, left = letterbox_geometry(original_size, input_size)
        shifted = boxes - np.array([left, top, 0, 0], np.float32)
        return (shifted / np.float32(scale)).astype(np.float32)
    factor = np.array([width / input_width, height / input_height] * 2, np.float32)
    return (boxes * factor).astype(np.float32)


def to_input_boxes(boxes_xywh, original_size, input_size, description: dict) -> np.ndarray:
    """L'inverse de :func:`to_original_boxes` : boîtes COCO de l'image d'origine -> en pixels de
    l'entrée du modèle (pour dessiner les vraies boîtes sur l'image que voit le modèle)."""
    boxes = np.asarray(boxes_xywh, dtype=np.float32).reshape(-1, 4)
    height, width = original_size
    input_height, input_width = input_size
    if description.get("resize", "stretch") == "letterbox":
        scale, _, _, top, left = letterbox_geometry(original_size, input_size)
        return (boxes * np.float32(scale) + np.array([left, top, 0, 0], np.float32)).astype(
            np.float32
        )
    factor = np.array([input_width / width, input_height / height] * 2, np.float32)
    return (boxes * factor).astype(np.float32)
