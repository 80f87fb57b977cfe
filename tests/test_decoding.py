"""Les descriptions de détecteurs : chaque format décodé, chaque mauvaise entrée expliquée, et le
script de la Pi qui décode et redimensionne exactement comme helpers."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from helpers.base.errors import KitError
from helpers.core.images import fit_image, letterbox_geometry, normalize, read_image
from helpers.core.runtime import quantize_values
from helpers.pi import classer as pi_classer
from helpers.pi import detecter as pi
from helpers.steps.decoding import (
    check_description_outputs,
    check_detector_description,
    decode_candidates,
    detect,
    read_detector_description,
    to_original_boxes,
)

LABELS = ["anneau", "cercle", "croix", "losange", "triangle"]
COMMON = {"score_threshold": 0.3, "iou_threshold": 0.5, "max_detections": 100}
SIZE = (64, 96)  # (height, width): not square, so that x and y cannot be swapped unseen
# Two objects in input pixels [x1, y1, x2, y2], their class and score.
OBJECTS = [((10.0, 8.0, 40.0, 30.0), 1, 0.9), ((50.0, 20.0, 90.0, 60.0), 3, 0.8)]


def _rows(count=12):
    """N anchors: the two objects, then background anchors with low scores."""
    boxes = np.tile(np.array([[0.0, 0.0, 4.0, 4.0]], np.float32), (count, 1))
    scores = np.full((count, len(LABELS)), 0.01, np.float32)
    for row, (box, label_index, score) in enumerate(OBJECTS):
        boxes[row * 5] = box
        scores[row * 5, label_index] = score
    return boxes, scores


def _expected():
    boxes = np.array([[x1, y1, x2 - x1, y2 - y1] for (x1, y1, x2, y2), _, _ in OBJECTS])
    return boxes, np.array([s for *_, s in OBJECTS]), np.array([k for _, k, _ in OBJECTS])


def _assert_found(result):
    boxes, scores, classes = result
    expected_boxes, expected_scores, expected_classes = _expected()
    np.testing.assert_allclose(boxes, expected_boxes, atol=1e-3)
    np.testing.assert_allclose(scores, expected_scores, atol=1e-4)
    np.testing.assert_array_equal(classes, expected_classes)


def _normalize_xyxy(boxes):
    height, width = SIZE
    return boxes / np.array([width, height, width, height], np.float32)


def _cxcywh(boxes):
    return np.concatenate([(boxes[:, :2] + boxes[:, 2:]) / 2, boxes[:, 2:] - boxes[:, :2]], -1)


def _logit(p):
    return np.log(p / (1 - p))


# --- each format -----------------------------------------------------------------------------


def _yolo_case(layout, box_format, normalized, activation, objectness):
    boxes, scores = _rows()
    if normalized:
        boxes = _normalize_xyxy(boxes)
    if box_format == "cxcywh":
        boxes = _cxcywh(boxes)
    columns = [boxes]
    if objectness:  # objectness 1 for the objects: the product keeps their scores
        objectness_column = np.where(scores.max(axis=1) > 0.5, 1.0, 0.5)[:, None]
        columns.append(
            _logit(np.clip(objectness_column, 1e-6, 1 - 1e-6))
            if activation == "sigmoid"
            else objectness_column
        )
        scores = scores.copy()
    columns.append(_logit(scores) if activation == "sigmoid" else scores)
    value = np.concatenate(columns, axis=-1).astype(np.float32)
    if layout == "channels-first":
        value = value.T
    description = check_detector_description(
        {
            "format": "yolo",
            "box_format": box_format,
            "normalized": normalized,
            "score_activation": activation,
            "objectness": objectness,
            **COMMON,
        }
    )
    return {"output0": value[None]}, description


@pytest.mark.parametrize("layout", ["channels-first", "channels-last"])
@pytest.mark.parametrize("box_format", ["cxcywh", "xyxy"])
@pytest.mark.parametrize("normalized", [True, False])
@pytest.mark.parametrize("activation, objectness", [("none", False), ("sigmoid", True)])
def test_yolo_decodes_every_layout(layout, box_format, normalized, activation, objectness):
    outputs, description = _yolo_case(layout, box_format, normalized, activation, objectness)
    _assert_found(detect(outputs, SIZE, description, len(LABELS)))
    _assert_found(pi_detect(outputs, description))


def _boxes_scores_case(box_format, normalized, activation, background):
    boxes, scores = _rows()
    if normalized:
        boxes = _normalize_xyxy(boxes)
    if box_format == "yxyx":
        boxes = boxes[:, [1, 0, 3, 2]]
    elif box_format == "cxcywh":
        boxes = _cxcywh(boxes)
    if activation == "sigmoid":
        scores = _logit(scores)
    elif activation == "softmax":  # logits whose softmax gives the scores, background included
        rest = 1.0 - scores.sum(axis=1, keepdims=True)
        scores = np.log(np.concatenate([rest, scores], axis=1))
    if background and activation != "softmax":
        scores = np.concatenate([np.zeros((len(scores), 1), np.float32), scores], axis=1)
    description = check_detector_description(
        {
            "format": "boites-scores",
            "boxes": "b",
            "scores": "s",
            "box_format": box_format,
            "normalized": normalized,
            "score_activation": activation,
            "background": background or activation == "softmax",
            **COMMON,
        }
    )
    outputs = {"b": boxes[None].astype(np.float32), "s": scores[None].astype(np.float32)}
    return outputs, description


@pytest.mark.parametrize("box_format", ["yxyx", "xyxy", "cxcywh"])
@pytest.mark.parametrize("normalized", [True, False])
@pytest.mark.parametrize(
    "activation, background", [("none", False), ("sigmoid", True), ("softmax", True)]
)
def test_boxes_scores_decodes_every_variant(box_format, normalized, activation, background):
    outputs, description = _boxes_scores_case(box_format, normalized, activation, background)
    _assert_found(detect(outputs, SIZE, description, len(LABELS)))
    _assert_found(pi_detect(outputs, description))


DECODER = """import numpy as np


def decode(outputs, input_size):
    height, width = input_size
    boxes = outputs["detection_boxes"][0] * np.array([width, height, width, height])
    return boxes, outputs["detection_scores"][0], outputs["detection_classes"][0]
"""


def _python_case(tmp_path, source=DECODER, function="decode"):
    (tmp_path / "mon_decodeur.py").write_text(source, encoding="utf-8")
    description_path = tmp_path / "detecteur.json"
    description_path.write_text(
        json.dumps({"format": "python", "decoder": f"mon_decodeur.py:{function}", **COMMON}),
        encoding="utf-8",
    )
    boxes = _normalize_xyxy(np.array([box for box, _, _ in OBJECTS], np.float32))
    outputs = {
        "detection_boxes": boxes[None],
        "detection_scores": np.array([[s for *_, s in OBJECTS]], np.float32),
        "detection_classes": np.array([[k for _, k, _ in OBJECTS]], np.float32),
    }
    return outputs, description_path


def test_python_decoder_runs_from_its_file_and_from_the_copied_source(tmp_path):
    outputs, path = _python_case(tmp_path)
    description = read_detector_description(None, path)
    assert description["decoder_source"] == DECODER  # what quantize copies into FILE.json
    _assert_found(detect(outputs, SIZE, description, len(LABELS)))
    (tmp_path / "mon_decodeur.py").unlink()  # the Pi falls back on the copied text
    _assert_found(pi_detect(outputs, description, tmp_path))


def test_grid_format_is_the_kits_and_matches_the_pi():
    rng = np.random.default_rng(3)
    description = check_detector_description(
        {"format": "grille-centres", "stride": 8, "boxes": "boxes", "scores": "scores", **COMMON}
    )
    cells = (SIZE[0] // 8) * (SIZE[1] // 8)
    outputs = {
        "boxes": rng.normal(0, 0.5, (1, cells, 4)).astype(np.float32),
        "scores": rng.uniform(0, 1, (1, cells, 5)).astype(np.float32),
    }
    ours = detect(outputs, SIZE, description, len(LABELS))
    theirs = pi_detect(outputs, description)
    assert len(ours[0]) > 3
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(a, b)


def pi_detect(outputs, description, folder=None):
    """The Pi script's decoding of the same outputs."""
    decoder = pi.load_decoder(description, folder) if description["format"] == "python" else None
    corners, scores, classes = pi.decode_candidates(
        outputs, SIZE, description, len(LABELS), decoder
    )
    return pi.keep_best(corners, scores, classes, SIZE, description)


def test_candidates_of_helpers_and_pi_are_equal_on_random_outputs():
    """Parity on values that are not hand-made (every class of every anchor above 0.05)."""
    rng = np.random.default_rng(0)
    for layout in ("channels-first", "channels-last"):
        outputs, description = _yolo_case(layout, "cxcywh", True, "sigmoid", True)
        outputs = {"output0": rng.normal(0, 1, outputs["output0"].shape).astype(np.float32)}
        ours = detect(outputs, SIZE, description, len(LABELS), 0.05)
        corners, scores, classes = pi.decode_candidates(outputs, SIZE, description, 5)
        theirs = pi.keep_best(corners, scores, classes, SIZE, description, 0.05)
        assert len(ours[0]) > 5
        for a, b in zip(ours, theirs, strict=True):
            np.testing.assert_array_equal(a, b)


# --- letterbox ------------------------------------------------------------------------------


def test_letterbox_geometry_centres_the_scaled_image():
    scale, height, width, top, left = letterbox_geometry((480, 640), (320, 320))
    assert (scale, height, width, top, left) == (0.5, 240, 320, 40, 0)
    _, height, width, top, left = letterbox_geometry((100, 33), (64, 64))
    assert (height, width) == (64, 21) and (top, left) == (0, 21)  # 33 × 0,64 = 21,12 -> 21


def test_letterbox_pads_with_pad_value_and_boxes_map_back():
    image = Image.new("RGB", (80, 40), (250, 10, 10))
    fitted = np.asarray(fit_image(image, (64, 64), "letterbox", 7))
    assert fitted.shape == (64, 64, 3)
    assert (fitted[:16] == 7).all() and (fitted[48:] == 7).all()  # 16 rows of margin each side
    assert (fitted[16:48, :, 0] > 200).all()
    description = {"resize": "letterbox"}
    # A box on the whole picture in the input: the margin taken off, then the scale.
    boxes = to_original_boxes(np.array([[0, 16, 64, 32]]), (40, 80), (64, 64), description)
    np.testing.assert_allclose(boxes, [[0, 0, 80, 40]])
    ours = to_original_boxes(np.array([[3.0, 20.0, 10.0, 5.0]]), (40, 80), (64, 64), description)
    theirs = pi.to_original_boxes(
        np.array([[3.0, 20.0, 10.0, 5.0]]), (40, 80), (64, 64), description
    )
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("resize", ["stretch", "letterbox"])
@pytest.mark.parametrize("mode", ["RGB", "L", "RGBA", "P", "I;16"])
@pytest.mark.parametrize("dtype", ["float32", "int8", "uint8"])
@pytest.mark.parametrize("channels", [3, 1])
def test_pi_input_tensor_is_byte_equal_to_helpers(tmp_path, resize, mode, dtype, channels):
    rng = np.random.default_rng(len(mode))
    if mode == "I;16":
        image = Image.fromarray(rng.integers(0, 65536, (37, 90), dtype=np.uint16))
    else:
        image = Image.fromarray(rng.integers(0, 256, (37, 90, 3), dtype=np.uint8)).convert(mode)
    path = tmp_path / "image.png"
    image.save(path)
    scale, zero_point = (
        (0.0, 0) if dtype == "float32" else (2 / 255, -1 if dtype == "int8" else 127)
    )
    detail = {"name": "image", "shape": np.array([1, 64, 48, channels]), "dtype": np.dtype(dtype)}
    detail["quantization"] = (scale, zero_point)
    description = {"resize": resize, "pad_value": 114}
    with Image.open(path) as opened:
        opened.load()
        fitted = pi.fit_image(opened, 64, 48, description, channels)
        # The course's float preparation: the kit's exact tensors (integer_path=False).
        from_pi = pi_classer.input_tensor(fitted, detail, -1.0, 1.0, False)
    pixels = read_image(path, (64, 48), channels, resize, 114)
    from_helpers = quantize_values(normalize(pixels, "symmetric")[None], detail)
    assert from_pi.dtype == from_helpers.dtype
    assert np.array_equal(from_pi, from_helpers)


# --- bad input --------------------------------------------------------------------------------

YOLO = {"format": "yolo", "normalized": True, **COMMON}


@pytest.mark.parametrize(
    "description, key, hint",
    [
        ({"format": "ssd", **COMMON}, "format", '"format": "yolo"'),
        ({**YOLO, "box_fromat": "xyxy"}, "box_fromat", "« box_format »"),
        ({k: v for k, v in YOLO.items() if k != "normalized"}, "normalized", '"normalized": true'),
        ({k: v for k, v in YOLO.items() if k != "iou_threshold"}, "iou_threshold", "0.3"),
        ({**YOLO, "normalized": "oui"}, "normalized", "true ou false"),
        ({**YOLO, "box_format": "yxyx"}, "box_format", '"cxcywh" ou "xyxy"'),
        ({**YOLO, "score_activation": "softmax"}, "score_activation", '"none" ou "sigmoid"'),
        (
            {
                **YOLO,
                "format": "boites-scores",
                "boxes": "b",
                "scores": "s",
                "box_format": "yxyx",
                "score_activation": "relu",
            },
            "score_activation",
            '"softmax"',
        ),
        (
            {**YOLO, "format": "boites-scores", "boxes": "b", "scores": "s"},
            "box_format",
            '"yxyx"',
        ),
        ({**YOLO, "resize": "crop"}, "resize", "letterbox"),
        ({**YOLO, "resize": "letterbox", "pad_value": 300}, "pad_value", "0 à 255"),
        ({**YOLO, "score_threshold": 3}, "score_threshold", "entre 0 et 1"),
        ({"format": "python", "decoder": "decodeur", **COMMON}, "decoder", "FICHIER.py:FONCTION"),
    ],
)
def test_bad_descriptions_name_the_key_and_what_to_write(description, key, hint):
    with pytest.raises(KitError) as caught:
        check_detector_description(description, "detecteur.json")
    message = str(caught.value)
    assert f"« {key} »" in message and hint in message and message.startswith("detecteur.json")


@pytest.mark.parametrize(
    "description, shapes, key",
    [
        ({**YOLO, "output": "absente"}, {"output0": [1, 9, 100]}, "« output » nomme la sortie"),
        (YOLO, {"a": [1, 9, 100], "b": [1, 100, 4]}, "« output » manque"),
        (YOLO, {"output0": [1, 12, 100]}, "axe de 9 canaux"),
        (
            {**YOLO, "format": "boites-scores", "boxes": "b", "scores": "s", "box_format": "xyxy"},
            {"b": [1, 100, 4], "s": [1, 100, 6]},
            '"background": true',
        ),
        (
            {**YOLO, "format": "boites-scores", "boxes": "b", "scores": "s", "box_format": "xyxy"},
            {"b": [1, 100, 4], "t": [1, 100, 5]},
            "« scores » nomme la sortie « s »",
        ),
    ],
)
def test_descriptions_are_checked_against_the_model(description, shapes, key):
    description = check_detector_description(description)
    with pytest.raises(KitError, match=key):
        check_description_outputs(description, shapes, LABELS, "detecteur.json")


def test_yolo_channels_found_from_the_labels():
    description = check_detector_description(YOLO)
    assert check_description_outputs(description, {"o": [1, 9, 50]}, LABELS, "d") == {"output": "o"}
    with_objectness = check_detector_description({**YOLO, "objectness": True})
    with pytest.raises(KitError, match='"objectness": false'):
        check_description_outputs(with_objectness, {"o": [1, 50, 9]}, LABELS, "d")


@pytest.mark.parametrize(
    "source, function, message",
    [
        (DECODER, "decoder", "nomme la fonction decoder, absente de mon_decodeur.py"),
        ("import torch\n\ndef decode(o, s):\n    pass\n", "decode", "importe torch"),
        ("def decode(o, s)\n    pass\n", "decode", "ne se lit pas en Python"),
    ],
)
def test_bad_decoder_files_are_explained(tmp_path, source, function, message):
    _, path = _python_case(tmp_path, source, function)
    with pytest.raises(KitError, match=message):
        read_detector_description(None, path)


def test_a_missing_decoder_file_is_explained(tmp_path):
    _, path = _python_case(tmp_path)
    (tmp_path / "mon_decodeur.py").unlink()
    with pytest.raises(KitError, match="« decoder » nomme mon_decodeur.py, introuvable"):
        read_detector_description(None, path)


@pytest.mark.parametrize(
    "body, message",
    [
        ("    raise ValueError('pas prêt')", "a échoué : ValueError: pas prêt"),
        ("    return np.zeros((3, 5)), np.zeros(3), np.zeros(3)", r"\(3, 5\), \(3,\), \(3,\)"),
        ("    return np.zeros((3, 4)), np.zeros(2), np.zeros(3)", "doit renvoyer"),
    ],
)
def test_decoders_that_raise_or_return_wrong_shapes_are_explained(tmp_path, body, message):
    outputs, path = _python_case(tmp_path, f"import numpy as np\n\ndef decode(o, s):\n{body}\n")
    description = read_detector_description(None, path)
    with pytest.raises(KitError, match=message):
        decode_candidates(outputs, SIZE, description, len(LABELS))


def test_a_detector_file_that_does_not_exist_is_explained(tmp_path):
    with pytest.raises(KitError, match="introuvable : absent.json"):
        read_detector_description(tmp_path, tmp_path / "absent.json")
    (tmp_path / "casse.json").write_text("{format", encoding="utf-8")
    with pytest.raises(
        KitError, match=r"Description de détecteur illisible : casse.json \(JSONDecodeError\)"
    ):
        read_detector_description(tmp_path, tmp_path / "casse.json")
