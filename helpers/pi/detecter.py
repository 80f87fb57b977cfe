#!/usr/bin/env python3
"""Détecte des objets avec un modèle TensorFlow Lite, sur la Raspberry Pi (ou tout autre ordinateur).

Ce script est autonome : il ne dépend que de numpy, Pillow et LiteRT (``ai-edge-litert``, ou
``tflite_runtime``), plus picamera2 pour la caméra, et de ``classer.py`` posé à côté. Il lit,
dans le dossier où il se trouve, le modèle ``.tflite``, ses métadonnées (même nom, extension
``.json`` : normalisation, taille, et sous la clé ``detector`` comment décoder les sorties) et
``labels.txt``. Le décodage des boîtes et la suppression des non-maxima (NMS) se font ici, en
numpy et en flottant (par choix : ils sont légers).

Exemples :
    python3 detecter.py images/                  # chaque image PNG ou JPEG du dossier
    python3 detecter.py images/ --sortie annotees # et les images annotées dans annotees/
    python3 detecter.py --camera --nombre 10     # 10 images de la caméra
    python3 detecter.py images/ --seuil 0.5      # seulement les détections sûres
    python3 detecter.py --camera --mesurer 50    # la durée de chaque étape sur 50 images

Pour chaque image : chaque objet trouvé (étiquette, score, boîte x, y, largeur, hauteur en
pixels de l'image d'origine ; avec la caméra, du carré central gardé) et la durée de
l'inférence.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

try:  # in the bundle for the Pi, beside classer.py
    import classer as shared
except ImportError:  # in the course's repository
    from helpers.pi import classer as shared

import numpy as np
from PIL import Image, ImageDraw

Interpreter = shared.Interpreter  # LiteRT, or tflite_runtime: whichever classer.py found
COLORS = ("#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6")


FORMATS = ("grille-centres", "yolo", "boites-scores", "python")


class Detector:
    """Le modèle LiteRT d'un détecteur décrit (clé ``detector`` du .json) : préparer l'image,
    exécuter, décoder (formats grille-centres, yolo, boites-scores ou python)."""

    def __init__(self, model_path: Path, metadata: dict, normalization: str, num_threads: int):
        description = metadata.get("detector")
        if not isinstance(description, dict) or description.get("format") not in FORMATS:
            raise shared.UsageError(
                f"{model_path.with_suffix('.json').name} ne décrit pas un détecteur (clé "
                "« detector », formats " + ", ".join(FORMATS) + ") : pour un classifieur, "
                "utilisez classer.py ; pour un autre détecteur, requantifiez-le avec sa "
                "description (python -m helpers quantize --detector FICHIER.json)."
            )
        if normalization not in shared.NORMALIZATIONS:
            raise shared.UsageError(
                f"normalisation inconnue « {normalization} » : symmetric, unit ou raw."
            )
        self.description = description
        self.low, self.high = shared.NORMALIZATIONS[normalization]
        try:
            self.interpreter = Interpreter(model_path=str(model_path), num_threads=num_threads)
            self.interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as error:
            raise shared.UsageError(
                f"LiteRT ne peut pas charger {model_path.name} : {str(error).strip()[:200]}"
            ) from error
        signatures = self.interpreter.get_signature_list()
        if len(signatures) != 1:
            raise shared.UsageError(
                f"{model_path.name} a {len(signatures)} signatures : ses sorties ne se "
                "retrouvent pas par leur nom. Reconvertissez-le depuis le SavedModel avec le cours."
            )
        self.runner = self.interpreter.get_signature_runner(next(iter(signatures)))
        ((self.input_name, self.input_detail),) = self.runner.get_input_details().items()
        self.output_details = self.runner.get_output_details()
        for key in ("boxes", "scores", "output"):
            name = description.get(key)
            if name is not None and name not in self.output_details:
                raise shared.UsageError(
                    f"le modèle n'a pas de sortie « {name} » ({key}) : ses sorties sont "
                    f"{', '.join(sorted(self.output_details))}."
                )
        _, self.height, self.width, self.channels = (int(n) for n in self.input_detail["shape"])
        self.input_dtype = np.dtype(self.input_detail["dtype"])
        self.decoder = (
            load_decoder(description, model_path.parent)
            if description["format"] == "python"
            else None
        )
        self.num_labels = len(metadata.get("labels") or []) or None  # check_labels sets it too

    def check_labels(self, labels: list[str], labels_name: str) -> None:
        """Les étiquettes comptent les classes du modèle (formats à scores par classe)."""
        counts = _class_counts(self.description, self.output_details, len(labels))
        if counts is not None and len(labels) not in counts:
            raise shared.UsageError(
                f"le modèle a {min(counts)} classes mais {labels_name} contient {len(labels)} "
                "étiquettes : utilisez le fichier d'étiquettes de ce modèle."
            )
        self.num_labels = len(labels)

    def prepare(self, image: Image.Image, integer_path: bool = True) -> np.ndarray:
        """Image PIL -> tenseur d'entrée : couleurs, taille (étirée ou « letterbox »),
        normalisation, quantification."""
        image = fit_image(image, self.height, self.width, self.description, self.channels)
        return shared.input_tensor(image, self.input_detail, self.low, self.high, integer_path)

    def raw_outputs(self, tensor: np.ndarray) -> tuple[dict, float]:
        """Toutes les sorties, déquantifiées (lot gardé), et la durée de l'inférence (ms)."""
        started = time.perf_counter()
        result = self.runner(**{self.input_name: tensor})
        latency_ms = (time.perf_counter() - started) * 1000.0
        return dequantize_outputs(result, self.output_details), latency_ms

    def detect(self, outputs: dict, threshold: float | None = None):
        """Décodage et NMS par classe : (boîtes [x, y, l, h] en pixels de l'entrée du modèle,
        scores, classes), du meilleur score au moins bon."""
        size = (self.height, self.width)
        corners, scores, classes = decode_candidates(
            outputs, size, self.description, self.num_labels, self.decoder
        )
        return keep_best(corners, scores, classes, size, self.description, threshold)

    def to_original(self, boxes: np.ndarray, image_size) -> np.ndarray:
        """Boîtes en pixels de l'entrée du modèle -> en pixels de l'image d'origine
        (``image_size`` : (largeur, hauteur), comme ``Image.size``)."""
        width, height = image_size
        return to_original_boxes(
            boxes, (height, width), (self.height, self.width), self.description
        )


# ---------------------------------------------------------------------------------------------
# Decoding, as in helpers.steps.decoding (parity tests keep them equal)


def dequantize_outputs(result: dict, output_details: dict) -> dict:
    """Chaque sortie en float32 (échelle × (q − point zéro) pour une sortie entière)."""
    outputs = {}
    for name, value in result.items():
        if np.issubdtype(value.dtype, np.integer):
            scale, zero_point = output_details[name]["quantization"]
            value = np.float32(scale) * (value.astype(np.float32) - np.float32(zero_point))
        outputs[name] = np.asarray(value, dtype=np.float32)
    return outputs


def _class_counts(description: dict, output_details: dict, num_labels: int):
    """The label counts the model's outputs allow, or None (python decoder: not known)."""
    kind = description["format"]
    if kind == "python":
        return None
    if kind == "yolo":
        name = description.get("output") or next(iter(output_details))
        extra = 5 if description.get("objectness") else 4
        return {int(n) - extra for n in output_details[name]["shape"][1:]}
    columns = int(output_details[description["scores"]]["shape"][-1])
    return {columns - 1 if description.get("background") else columns}


def letterbox_geometry(original_size, input_size):
    """(échelle, hauteur, largeur, haut, gauche) de l'image centrée dans l'entrée."""
    height, width = (int(v) for v in original_size)
    input_height, input_width = (int(v) for v in input_size)
    scale = min(input_height / height, input_width / width)
    new_height = min(input_height, max(1, int(round(height * scale))))
    new_width = min(input_width, max(1, int(round(width * scale))))
    top, left = (input_height - new_height) // 2, (input_width - new_width) // 2
    return scale, new_height, new_width, top, left


def fit_image(
    image: Image.Image, height: int, width: int, description: dict, channels: int = 3
) -> Image.Image:
    """« letterbox » : l'image centrée, proportions gardées, marges de ``pad_value`` ; sinon
    telle quelle (``input_tensor`` l'étire)."""
    if description.get("resize", "stretch") != "letterbox" or image.size == (width, height):
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        wide = np.asarray(image, dtype=np.uint32)  # 16-bit grey: the 8 most significant bits
        image = Image.fromarray((wide >> 8).clip(0, 255).astype(np.uint8), mode="L")
    image = image.convert("RGB" if channels == 3 else "L")
    _, new_height, new_width, top, left = letterbox_geometry(
        (image.height, image.width), (height, width)
    )
    pad = int(description.get("pad_value", 114))
    canvas = Image.new(image.mode, (width, height), pad if image.mode == "L" else (pad,) * 3)
    canvas.paste(image.resize((new_width, new_height), Image.BILINEAR), (left, top))
    return canvas


def to_original_boxes(boxes, original_size, input_size, description: dict) -> np.ndarray:
    """Boîtes [x, y, l, h] de l'entrée du modèle -> pixels de l'image (hauteur, largeur)."""
    boxes = np.asarray(boxes, dtype=np.float32)
    height, width = original_size
    input_height, input_width = input_size
    if description.get("resize", "stretch") == "letterbox":
        scale, _, _, top, left = letterbox_geometry(original_size, input_size)
        shifted = boxes - np.array([left, top, 0, 0], np.float32)
        return (shifted / np.float32(scale)).astype(np.float32)
    factor = np.array([width / input_width, height / input_height] * 2, np.float32)
    return (boxes * factor).astype(np.float32)


def load_decoder(description: dict, folder: Path):
    """La fonction du décodeur ``python`` : le fichier à côté du script (écrit par bundle),
    sinon le texte gardé dans le .json."""
    file_name, _, function = description["decoder"].rpartition(":")
    path = folder / file_name
    source = (
        path.read_text(encoding="utf-8") if path.is_file() else description.get("decoder_source")
    )
    if source is None:
        raise shared.UsageError(f"décodeur {file_name} introuvable à côté du modèle.")
    namespace = {"__name__": Path(file_name).stem}
    try:
        exec(compile(source, file_name, "exec"), namespace)  # the student's own decoder
    except Exception as error:
        raise shared.UsageError(f"le décodeur {file_name} échoue au chargement : {error}") from None
    if not callable(namespace.get(function)):
        raise shared.UsageError(f"le décodeur {file_name} n'a pas de fonction {function}.")
    return namespace[function]


def _to_xyxy(boxes: np.ndarray, box_format: str) -> np.ndarray:
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


def decode_candidates(outputs: dict, input_size, description: dict, num_labels, decoder=None):
    """Sorties (lot de 1) -> (boîtes [x1, y1, x2, y2] en pixels de l'entrée, scores (K, C) ou
    (K,), classes ou None), avant seuil et NMS."""
    height, width = input_size
    kind = description["format"]
    if kind == "python":
        try:
            boxes, scores, classes = decoder(outputs, (int(height), int(width)))
        except Exception as error:
            raise shared.UsageError(f"le décodeur a échoué : {error}") from None
        boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
        return boxes, np.asarray(scores, np.float32), np.asarray(classes, np.int64)
    if kind == "grille-centres":
        raw = outputs[description["boxes"]].reshape(-1, 4)
        scores = outputs[description["scores"]]
        scores = scores.reshape(-1, scores.shape[-1])
        stride = int(description["stride"])
        cells = np.arange(raw.shape[0])
        rows, cols = np.divmod(cells, width // stride)
        cx, cy = (cols + 0.5 + raw[:, 0]) * stride, (rows + 0.5 + raw[:, 1]) * stride
        half_w = np.exp(np.clip(raw[:, 2], -10, 10)) * (stride / 2)
        half_h = np.exp(np.clip(raw[:, 3], -10, 10)) * (stride / 2)
        corners = np.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], axis=-1)
        return corners, scores, None
    activation = description.get("score_activation", "none")
    if kind == "yolo":
        value = outputs[description.get("output") or next(iter(outputs))][0]
        objectness = bool(description.get("objectness", False))
        if value.shape[0] == 4 + int(objectness) + num_labels:
            value = value.T  # (4+C, N) -> (N, 4+C), the first axis wins when both fit
        boxes = _to_xyxy(value[:, :4], description.get("box_format", "cxcywh"))
        scores = _activate(value[:, 4 + int(objectness) :], activation)
        if objectness:
            scores = scores * _activate(value[:, 4:5], activation)
    else:
        boxes = _to_xyxy(outputs[description["boxes"]][0], description["box_format"])
        scores = _activate(outputs[description["scores"]][0], activation)
        if description.get("background"):
            scores = scores[:, 1:]
    if description["normalized"]:
        boxes = boxes * np.array([width, height, width, height], np.float32)
    return boxes, scores, None


def keep_best(corners, scores, classes, input_size, description: dict, threshold=None):
    """Seuil, boîtes rognées à l'entrée, NMS classe par classe, les meilleures :
    (boîtes [x, y, l, h], scores, classes), du meilleur score au moins bon."""
    threshold = float(description["score_threshold"] if threshold is None else threshold)
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
        order = members[np.argsort(-scores[members], kind="stable")]
        while order.size:
            best, order = order[0], order[1:]
            kept.append(best)
            overlap = _iou(corners[best], corners[order])
            order = order[overlap <= float(description["iou_threshold"])]
    kept = np.asarray(kept, dtype=np.int64)
    kept = kept[np.argsort(-scores[kept], kind="stable")][: int(description["max_detections"])]
    xyxy = corners[kept]
    xywh = np.concatenate([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]], axis=-1)
    return xywh.astype(np.float32), scores[kept].astype(np.float32), classes[kept].astype(np.int64)


def _iou(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    width = np.clip(np.minimum(box[2], others[:, 2]) - np.maximum(box[0], others[:, 0]), 0, None)
    height = np.clip(np.minimum(box[3], others[:, 3]) - np.maximum(box[1], others[:, 1]), 0, None)
    inter = width * height
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-9)


def draw(image: Image.Image, boxes, scores, classes, labels: list[str]) -> Image.Image:
    """L'image d'origine avec ses boîtes et étiquettes (boîtes en pixels de cette image)."""
    annotated = image.convert("RGB")
    pen = ImageDraw.Draw(annotated)
    for (x, y, w, h), score, label_index in zip(boxes, scores, classes, strict=True):
        color = COLORS[int(label_index) % len(COLORS)]
        pen.rectangle([x, y, x + w, y + h], outline=color, width=2)
        pen.text((x + 2, y + 1), f"{labels[label_index]} {score:.2f}", fill=color)
    return annotated


def build_parser():
    parser = shared.script_parser(
        Path(__file__).name,
        "Détecte des objets (dossier d'images ou caméra) avec le modèle .tflite du dossier.",
    )
    parser.add_argument("--sortie", help="dossier où écrire les images annotées")
    parser.add_argument("--seuil", type=float, help="score minimal (défaut : celui du .json)")
    return parser


def detections(detector: Detector, raw, image_size, threshold):
    """Décodage et NMS (:meth:`Detector.detect`), boîtes ramenées aux pixels de l'image donnée
    (le modèle l'a vue redimensionnée) : (boîtes [x, y, l, h], scores, classes)."""
    outputs, _ = raw
    boxes, scores, found = detector.detect(outputs, threshold)
    return detector.to_original(boxes, image_size), scores, found


def run(args) -> int:
    if args.seuil is not None and not 0.0 <= args.seuil <= 1.0:
        raise shared.UsageError("--seuil est un score entre 0 et 1.")
    if args.mesurer is not None and args.sortie:
        raise shared.UsageError(
            "--mesurer ne dessine pas les images : retirez --sortie (ou --mesurer)."
        )
    opening = shared.open_run(args)
    detector = Detector(opening.model_path, opening.metadata, opening.normalization, args.fils)
    detector.check_labels(opening.labels, opening.labels_path.name)
    labels = opening.labels
    output_dir = Path(args.sortie) if args.sortie else None
    if output_dir is not None:
        if output_dir.exists() and not output_dir.is_dir():
            raise shared.UsageError(
                f"{output_dir} existe et n'est pas un dossier : choisissez un autre nom."
            )
    images = shared.image_source(args, Path(__file__).name)
    if output_dir is not None:
        output_dir.mkdir(parents=True, exist_ok=True)
    plan = shared.chosen_plan(args, detector)
    integer = plan is not None
    if not args.json:
        shared.print_header(opening, detector, args, plan)
    if args.mesurer is not None:
        # The images go through the same calls as below, each one timed (see measure_images).
        steps = [
            ("preparation", "préparation", lambda image, _: detector.prepare(image, integer)),
            ("inference", "inférence", lambda tensor, _: detector.raw_outputs(tensor)),
            (
                "decoding",
                "décodage + NMS",
                lambda raw, image: detections(detector, raw, image.size, args.seuil),
            ),
        ]
        compare = None if plan is None else (lambda image: detector.prepare(image, False))
        header = shared.measure_header(args, plan)
        return shared.measure_images(images, steps, compare, args.json, header)
    latencies = []
    for frame, (name, image) in enumerate(images):
        raw = detector.raw_outputs(detector.prepare(image, integer))
        boxes, scores, found = detections(detector, raw, image.size, args.seuil)
        latency_ms = raw[-1]
        latencies.append(latency_ms)
        if args.json:
            record = {
                "image": name,
                **({} if args.dossier else {"frame": frame}),
                "detections": [
                    {
                        "label": labels[k],
                        "index": int(k),
                        "score": round(float(s), 4),
                        "box": [round(float(v), 1) for v in b],
                    }
                    for b, s, k in zip(boxes, scores, found, strict=True)
                ],
                "latency_ms": round(latency_ms, 3),
            }
            print(json.dumps(record, ensure_ascii=False), flush=True)
        else:
            print(
                f"{name} : {len(scores)} objet(s) en {shared.french_number(latency_ms, 2)} ms",
                flush=True,
            )
            for box, score, label_index in zip(boxes, scores, found, strict=True):
                x, y, w, h = (shared.french_number(float(v), 0) for v in box)
                print(
                    f"  {labels[label_index]} {shared.french_number(100 * float(score))} % "
                    f"(x {x}, y {y}, largeur {w}, hauteur {h})"
                )
        if output_dir is not None:
            target = output_dir / (Path(name).stem + ".png")
            draw(image, boxes, scores, found, labels).save(target)
    if latencies and not args.json:
        print(
            f"{len(latencies)} image(s) ; inférence : médiane "
            f"{shared.french_number(float(np.median(latencies)), 2)} ms."
            + (f" Images annotées dans {output_dir}/." if output_dir is not None else "")
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    return shared.script_main(build_parser(), run, argv)


if __name__ == "__main__":
    sys.exit(main())
