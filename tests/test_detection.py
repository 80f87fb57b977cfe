"""Le détecteur : décodage de la grille, NMS, annotations COCO vérifiées, mAP de pycocotools."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from helpers.base.errors import KitError
from helpers.steps.decoding import (
    DETECTOR_FORMAT,
    check_detector_description,
    non_max_suppression,
)
from helpers.steps.detection import coco_map, decode_detections, load_coco_annotations

LABELS = ["anneau", "cercle", "croix", "losange", "triangle"]
DESCRIPTION = {
    "format": DETECTOR_FORMAT,
    "stride": 8,
    "boxes": "boxes",
    "scores": "scores",
    "score_threshold": 0.3,
    "iou_threshold": 0.5,
    "max_detections": 100,
}


def _raw_outputs(objects, size=32, stride=8):
    """Raw head outputs with one confident cell per object (column, row, class, w, h cells)."""
    cells = (size // stride) ** 2
    boxes = np.zeros((cells, 4), np.float32)
    scores = np.zeros((cells, len(LABELS)), np.float32)
    for column, row, label_index, width, height, score in objects:
        cell = row * (size // stride) + column
        boxes[cell] = [0.0, 0.0, np.log(width), np.log(height)]
        scores[cell, label_index] = score
    return boxes, scores


def test_decoding_puts_the_box_on_its_cell():
    boxes, scores = _raw_outputs([(1, 2, 3, 2.0, 1.0, 0.9)])
    xywh, kept_scores, classes = decode_detections(boxes, scores, (32, 32), DESCRIPTION)
    # Cell (column 1, row 2): centre (12, 20); 2 cells wide (16 px), 1 cell high (8 px).
    np.testing.assert_allclose(xywh, [[4.0, 16.0, 16.0, 8.0]], atol=1e-5)
    assert kept_scores.tolist() == pytest.approx([0.9]) and classes.tolist() == [3]


def test_scores_under_the_threshold_give_nothing():
    boxes, scores = _raw_outputs([(0, 0, 0, 1.0, 1.0, 0.2)])
    xywh, _, _ = decode_detections(boxes, scores, (32, 32), DESCRIPTION)
    assert xywh.shape == (0, 4)


def test_boxes_are_clipped_to_the_image():
    boxes, scores = _raw_outputs([(0, 0, 1, 3.0, 3.0, 0.8)])
    xywh, _, _ = decode_detections(boxes, scores, (32, 32), DESCRIPTION)
    assert xywh[0, 0] == 0.0 and xywh[0, 1] == 0.0


def test_nms_keeps_the_best_of_overlapping_boxes_and_separate_ones():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]], np.float32)
    keep = non_max_suppression(boxes, np.array([0.6, 0.9, 0.5]), iou_threshold=0.5)
    assert keep.tolist() == [1, 2]


def test_wrong_output_sizes_are_explained():
    boxes, scores = _raw_outputs([])
    with pytest.raises(KitError, match="une case tous les 8 pixels"):
        decode_detections(boxes, scores, (64, 64), DESCRIPTION)


@pytest.mark.parametrize("key", ["stride", "scores", "iou_threshold"])
def test_description_names_the_missing_key(key):
    broken = {k: v for k, v in DESCRIPTION.items() if k != key}
    with pytest.raises(KitError, match=f"« {key} »"):
        check_detector_description(broken)
    with pytest.raises(KitError, match='« format » vaut "ssd", un format inconnu'):
        check_detector_description({"format": "ssd"})


# --- COCO annotations ------------------------------------------------------------------------


def _coco(tmp_path, **changes):
    folder = tmp_path / "images"
    folder.mkdir(exist_ok=True)
    Image.new("RGB", (32, 32)).save(folder / "scene_000.png")
    coco = {
        "images": [{"id": 1, "file_name": "scene_000.png", "width": 32, "height": 32}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 4, "bbox": [4, 16, 16, 8], "area": 128}
        ],
        "categories": [{"id": i + 1, "name": name} for i, name in enumerate(LABELS)],
    }
    coco.update(changes)
    path = tmp_path / "annotations.json"
    path.write_text(json.dumps(coco), encoding="utf-8")
    return path, folder


def test_a_perfect_detection_scores_a_map_of_one(tmp_path):
    path, folder = _coco(tmp_path)
    coco = load_coco_annotations(path, LABELS, folder)
    boxes, scores = _raw_outputs([(1, 2, 3, 2.0, 1.0, 0.9)])
    detections = [decode_detections(boxes, scores, (32, 32), DESCRIPTION)]
    result = coco_map(detections, coco, [(32, 32)])
    assert result["map50"] == pytest.approx(1.0) and result["map50_95"] == pytest.approx(1.0)
    wrong_class = [(detections[0][0], detections[0][1], np.array([0]))]
    assert coco_map(wrong_class, coco, [(32, 32)])["map50"] == pytest.approx(0.0)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"annotations": None}, "pas de liste « annotations »"),
        ({"categories": [{"id": 1, "name": "chat"}]}, "ne sont pas les étiquettes du modèle"),
        (
            {"annotations": [{"id": 1, "image_id": 1, "category_id": 4, "bbox": [20, 20, 30, 8]}]},
            "sort de l'image",
        ),
        (
            {"annotations": [{"id": 1, "image_id": 1, "category_id": 9, "bbox": [0, 0, 4, 4]}]},
            "catégorie 9 inconnue",
        ),
        (
            {"images": [{"id": 1, "file_name": "absente.png", "width": 32, "height": 32}]},
            "absente.png, absente",
        ),
    ],
)
def test_bad_annotations_are_named(tmp_path, changes, message):
    path, folder = _coco(tmp_path, **changes)
    with pytest.raises(KitError, match=message):
        load_coco_annotations(path, LABELS, folder)


def test_annotations_that_are_not_json(tmp_path):
    path = tmp_path / "annotations.json"
    path.write_text("images: []", encoding="utf-8")
    with pytest.raises(KitError, match=r"Annotations illisibles : .*\.json \(JSONDecodeError\)"):
        load_coco_annotations(path, LABELS)
    with pytest.raises(KitError, match="introuvable"):
        load_coco_annotations(tmp_path / "absent.json", LABELS)
