#!/usr/bin/env python3
"""Détecte des objets avec un modèle TensorFlow Lite, sur la Raspberry Pi (ou tout autre ordinateur).

Ce script est autonome : il ne dépend que de numpy, Pillow et LiteRT (``ai-edge-litert``, ou
``tflite_runtime``), plus picamera2 pour la caméra, et de ``classer.py`` posé à côté. Il lit,
dans le dossier où il se trouve, le modèle ``.tflite``, ses métadonnées (même nom, extension
``.json`` : normalisation, taille, et sous la clé ``detector`` comment décoder les sorties) et
``labels.txt``. Le décodage des boîtes et la suppression des non-maxima (NMS) se font ici, en
numpy : ils n'ont pas de version entière.

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


class Detector:
    """Le modèle LiteRT d'un détecteur du cours : préparer l'image, exécuter, décoder."""

    def __init__(self, model_path: Path, metadata: dict, normalization: str, num_threads: int):
        description = metadata.get("detector")
        if not isinstance(description, dict) or description.get("format") != "grille-centres":
            raise shared.UsageError(
                f"{model_path.with_suffix('.json').name} ne décrit pas un détecteur du cours "
                "(clé « detector ») : pour un classifieur, utilisez classer.py ; pour un autre "
                "détecteur, décodez ses sorties avec son propre après-traitement."
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
        for key in ("boxes", "scores"):
            if description[key] not in self.output_details:
                raise shared.UsageError(
                    f"le modèle n'a pas de sortie « {description[key]} » : ses sorties sont "
                    f"{', '.join(sorted(self.output_details))}."
                )
        _, self.height, self.width, self.channels = (int(n) for n in self.input_detail["shape"])
        self.input_dtype = np.dtype(self.input_detail["dtype"])

    def prepare(self, image: Image.Image, integer_path: bool = True) -> np.ndarray:
        """Image PIL -> tenseur d'entrée : couleurs, taille, normalisation, quantification."""
        return shared.input_tensor(image, self.input_detail, self.low, self.high, integer_path)

    def raw_outputs(self, tensor: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        """Sorties ``boxes`` et ``scores`` déquantifiées, et la durée de l'inférence (ms)."""
        started = time.perf_counter()
        result = self.runner(**{self.input_name: tensor})
        latency_ms = (time.perf_counter() - started) * 1000.0
        outputs = []
        for key in ("boxes", "scores"):
            name = self.description[key]
            value = result[name]
            if np.issubdtype(value.dtype, np.integer):
                scale, zero_point = self.output_details[name]["quantization"]
                value = float(scale) * (value.astype(np.float32) - int(zero_point))
            outputs.append(np.asarray(value, dtype=np.float32)[0])
        return outputs[0], outputs[1], latency_ms

    def detect(self, boxes: np.ndarray, scores: np.ndarray, threshold: float | None = None):
        """Décodage de la grille et NMS par classe : (boîtes [x, y, l, h] en pixels de
        l'entrée du modèle, scores, classes), du meilleur score au moins bon."""
        stride = int(self.description["stride"])
        threshold = float(self.description["score_threshold"] if threshold is None else threshold)
        cells, classes = np.nonzero(scores > threshold)
        if cells.size == 0:
            return np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64)
        rows, cols = np.divmod(cells, self.width // stride)
        raw = boxes[cells]
        cx, cy = (cols + 0.5 + raw[:, 0]) * stride, (rows + 0.5 + raw[:, 1]) * stride
        half_w = np.exp(np.clip(raw[:, 2], -10, 10)) * (stride / 2)
        half_h = np.exp(np.clip(raw[:, 3], -10, 10)) * (stride / 2)
        corners = np.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], axis=-1)
        corners = np.clip(corners, 0, [self.width, self.height, self.width, self.height])
        candidate = scores[cells, classes]
        kept = []
        for label_index in np.unique(classes):
            members = np.flatnonzero(classes == label_index)
            order = members[np.argsort(-candidate[members], kind="stable")]
            while order.size:
                best, order = order[0], order[1:]
                kept.append(best)
                overlap = _iou(corners[best], corners[order])
                order = order[overlap <= float(self.description["iou_threshold"])]
        kept = np.asarray(kept, dtype=np.int64)
        kept = kept[np.argsort(-candidate[kept], kind="stable")]
        kept = kept[: int(self.description["max_detections"])]
        xyxy = corners[kept]
        xywh = np.concatenate([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]], axis=-1)
        return xywh.astype(np.float32), candidate[kept], classes[kept].astype(np.int64)


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
    raw_boxes, raw_scores, _ = raw
    boxes, scores, found = detector.detect(raw_boxes, raw_scores, threshold)
    width, height = image_size
    boxes = boxes * np.array([width / detector.width, height / detector.height] * 2)
    return boxes, scores, found


def run(args) -> int:
    if args.seuil is not None and not 0.0 <= args.seuil <= 1.0:
        raise shared.UsageError("--seuil est un score entre 0 et 1.")
    if args.mesurer is not None and args.sortie:
        raise shared.UsageError(
            "--mesurer ne dessine pas les images : retirez --sortie (ou --mesurer)."
        )
    opening = shared.open_run(args)
    detector = Detector(opening.model_path, opening.metadata, opening.normalization, args.fils)
    classes = int(detector.output_details[detector.description["scores"]]["shape"][-1])
    shared.check_label_count(classes, opening, "classes")
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
        latency_ms = raw[2]
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
