"""L'étudiant arrive avec son détecteur : chaque format de description va de ``quantize`` à
``detecter.py`` sur la Pi, et ``compare`` reconnaît une concaténation de boîtes en pixels."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from PIL import Image

from helpers.base.paths import DATA_DIR
from helpers.cli import main
from helpers.demo.detector import reheaded_description
from helpers.steps.detection import coco_subset, load_coco_annotations, open_detector

DETECTION = DATA_DIR / "detection"
TEST_IMAGES = DETECTION / "test"
ANNOTATIONS = TEST_IMAGES / "annotations.json"
LABELS = (DATA_DIR / "detecteur_demo" / "labels.txt").read_text(encoding="utf-8").split()
FORMATS = ("yolo", "boites-scores")
JSON_KEYS = {"name", "shape", "float_min", "float_max", "scale", "zero_point", "snr_db"}
JSON_KEYS |= {"cosine", "max_abs_error", "top1_agreement", "ok", "verdict"}

# A python decoder for the boites-scores detector: what a student writes for an unusual head.
DECODER = """import numpy as np


def decode(outputs, input_size):
    height, width = input_size
    y1, x1, y2, x2 = np.moveaxis(outputs["raw_detection_boxes"][0], -1, 0)
    boxes = np.stack([x1, y1, x2, y2], axis=-1) * np.array([width, height, width, height])
    scores = 1.0 / (1.0 + np.exp(-outputs["raw_detection_scores"][0]))
    anchors, classes = np.nonzero(scores > 0.01)
    return boxes[anchors], scores[anchors, classes], classes
"""


@pytest.fixture(scope="module")
def few_annotations(tmp_path_factory):
    """The first 40 annotated test scenes: enough for a stable mAP, quick."""
    coco = coco_subset(load_coco_annotations(ANNOTATIONS, LABELS, TEST_IMAGES), 40)
    path = tmp_path_factory.mktemp("annotations") / "annotations_40.json"
    path.write_text(json.dumps(coco), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def python_description(tmp_path_factory):
    folder = tmp_path_factory.mktemp("python")
    (folder / "decodeur_ssd.py").write_text(DECODER, encoding="utf-8")
    path = folder / "detecteur.json"
    description = {"format": "python", "decoder": "decodeur_ssd.py:decode"}
    description |= {"score_threshold": 0.3, "iou_threshold": 0.5, "max_detections": 100}
    path.write_text(json.dumps(description), encoding="utf-8")
    return path


def _evaluate(capsys, model, annotations, *options):
    capsys.readouterr()
    argv = [str(model), "--images", str(TEST_IMAGES), "--annotations", str(annotations)]
    assert main(["evaluate", *argv, *options, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _pi_detections(bundle, images):
    """detecter.py, run as on the Pi (its own process, from the bundle's folder)."""
    completed = subprocess.run(
        # The course's float preparation: the kit's exact input tensors, so equal detections.
        [sys.executable, "detecter.py", str(images), "--json", "--preparation", "flottante"],
        cwd=bundle,
        capture_output=True,
        text=True,
        check=True,
    )
    return [json.loads(line) for line in completed.stdout.splitlines()]


def _kit_detections(model, images, description=None):
    detector = open_detector(model, description)
    found = []
    for path in sorted(images.iterdir()):
        boxes, scores, classes = detector.detect_file(path)
        found.append(
            [
                [int(k), round(float(s), 4), [round(float(v), 1) for v in b]]
                for b, s, k in zip(boxes, scores, classes, strict=True)
            ]
        )
    return found


def _bundle_and_run(model, tmp_path, capsys, *options, source=TEST_IMAGES):
    bundle = tmp_path / "pour_la_pi"
    assert main(["bundle", str(model), "--output", str(bundle), *options]) == 0
    assert "detecter.py" in capsys.readouterr().out
    images = tmp_path / "images"
    images.mkdir()
    for name in ("test_000.jpg", "test_001.jpg", "test_002.jpg"):
        shutil.copy(source / name, images / name)
    records = _pi_detections(bundle, images)
    from_pi = [[[d["index"], d["score"], d["box"]] for d in r["detections"]] for r in records]
    return bundle, images, from_pi


@pytest.mark.parametrize("kind", FORMATS)
def test_each_format_goes_from_quantize_to_the_pi_script(
    kind, own_detectors, few_annotations, tmp_path, capsys
):
    model = own_detectors.tflite(kind)
    metadata = json.loads(model.with_suffix(".json").read_text(encoding="utf-8"))
    assert metadata["detector"]["format"] == kind and metadata["labels"] == LABELS
    capsys.readouterr()
    argv = [own_detectors.saved_model(kind), model, "--images", TEST_IMAGES]
    assert main(["compare", *map(str, argv), "--num-samples", "10", "--json"]) == 0
    outputs = json.loads(capsys.readouterr().out)["outputs"]
    assert all(set(o) == JSON_KEYS and o["ok"] for o in outputs), outputs
    result = _evaluate(capsys, model, few_annotations)
    assert result["count"] == 40 and result["map50"] >= 0.8, result
    _, images, from_pi = _bundle_and_run(model, tmp_path, capsys)
    assert sum(map(len, from_pi)) >= 3
    assert from_pi == _kit_detections(model, images)


def test_the_float_heads_decode_like_the_kits_own_grid(own_detectors, few_annotations, capsys):
    """Same weights, other heads: the same boxes and scores, hence the same mAP (to rounding);
    YOLOv5's objectness times its class scores gives the scores back."""
    grid = own_detectors.folder / "grille_float32.tflite"
    if not grid.exists():
        argv = [str(DATA_DIR / "detecteur_demo"), "--mode", "float32", "--output", str(grid)]
        assert main(["quantize", *argv]) == 0
    reference = _evaluate(capsys, grid, few_annotations)
    for kind in (*FORMATS, "yolo-objectness"):
        result = _evaluate(capsys, own_detectors.tflite(kind, "float32"), few_annotations)
        assert result["map50"] == pytest.approx(reference["map50"], abs=0.005), kind
        assert result["map50_95"] == pytest.approx(reference["map50_95"], abs=0.005), kind
    # A softmax over a background column and the classes: other scores, the same detections
    # once the background is left out (read as a class, it would shift every label by one).
    result = _evaluate(
        capsys, own_detectors.tflite("boites-scores-fond", "float32"), few_annotations
    )
    assert result["map50"] >= reference["map50"] - 0.05, result


@pytest.fixture(scope="module")
def wide_scenes(tmp_path_factory):
    """The first 40 test scenes on a 4:3 canvas (171×128, grey on the right), the shape of a
    camera photo that a square detector reads letterboxed; their boxes do not move."""
    folder = tmp_path_factory.mktemp("paysage")
    coco = coco_subset(load_coco_annotations(ANNOTATIONS, LABELS, TEST_IMAGES), 40)
    for entry in coco["images"]:
        canvas = Image.new("RGB", (171, 128), (114, 114, 114))
        with Image.open(TEST_IMAGES / entry["file_name"]) as scene:
            canvas.paste(scene.convert("RGB"), (0, 0))
        canvas.save(folder / entry["file_name"], quality=95)
        entry["width"] = 171
    annotations = folder / "annotations.json"
    annotations.write_text(json.dumps(coco), encoding="utf-8")
    return folder, annotations


def test_letterbox_finds_the_boxes_of_wide_photos_in_their_own_pixels(
    own_detectors, wide_scenes, tmp_path, capsys
):
    images, annotations = wide_scenes
    description = {**reheaded_description("yolo"), "resize": "letterbox"}
    path = _write(tmp_path / "detecteur.json", description)
    model = tmp_path / "yolo_letterbox.tflite"
    argv = [own_detectors.saved_model("yolo"), "--mode", "float32", "--detector", path]
    assert main(["quantize", *map(str, argv), "--output", str(model)]) == 0
    capsys.readouterr()
    argv = [str(model), "--images", str(images), "--annotations", str(annotations), "--json"]
    assert main(["evaluate", *argv]) == 0
    result = json.loads(capsys.readouterr().out)
    # Objects at 3/4 of their trained size, in 16-pixel bands: still found (0.73 here, 0.93 on
    # the square scenes), and put back in the photo's pixels (without the band taken off, 0.004).
    assert result["count"] == 40 and result["map50"] >= 0.6, result
    _, copied, from_pi = _bundle_and_run(model, tmp_path, capsys, source=images)
    assert sum(map(len, from_pi)) >= 3
    assert from_pi == _kit_detections(model, copied)


def test_a_python_decoder_given_with_detector_travels_to_the_pi(
    own_detectors, python_description, few_annotations, tmp_path, capsys
):
    output = tmp_path / "ssd_python.tflite"
    argv = [str(own_detectors.saved_model("boites-scores")), "--mode", "float32"]
    argv += ["--detector", str(python_description), "--output", str(output)]
    assert main(["quantize", *argv]) == 0
    metadata = json.loads(output.with_suffix(".json").read_text(encoding="utf-8"))
    assert metadata["detector"]["decoder_source"] == DECODER  # --detector won over MODEL_DIR's
    # compare with a python description: no layout to read, each output judged on its own.
    capsys.readouterr()
    argv = [argv[0], str(output), "--images", str(TEST_IMAGES), "--num-samples", "10"]
    assert main(["compare", *argv, "--detector", str(python_description), "--json"]) == 0
    outputs = json.loads(capsys.readouterr().out)["outputs"]
    assert {o["name"] for o in outputs} == {"raw_detection_boxes", "raw_detection_scores"}
    assert all(set(o) == JSON_KEYS and o["ok"] for o in outputs), outputs
    result = _evaluate(capsys, output, few_annotations)
    described = _evaluate(capsys, own_detectors.tflite("boites-scores", "float32"), few_annotations)
    assert result["map50"] == pytest.approx(described["map50"], abs=0.005)
    bundle, images, from_pi = _bundle_and_run(output, tmp_path, capsys)
    assert (bundle / "decodeur_ssd.py").read_text(encoding="utf-8") == DECODER
    assert from_pi == _kit_detections(output, images) and sum(map(len, from_pi)) >= 3


def _write(path, description):
    path.write_text(json.dumps(description), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "change, message",
    [
        ({"output": "sortie_absente"}, "« output » nomme la sortie « sortie_absente »"),
        ({"objectness": True}, "axe de 10 canaux"),
        ({"box_format": "yxyx"}, "« box_format »"),
        ({"decoder": "x.py:f", "format": "python"}, "introuvable"),
    ],
)
def test_quantize_refuses_a_bad_description_and_writes_nothing(
    own_detectors, tmp_path, capsys, change, message
):
    model_dir = own_detectors.saved_model("yolo")
    description = json.loads((model_dir / "detecteur.json").read_text(encoding="utf-8"))
    if change.get("format") == "python":
        description = {k: description[k] for k in ("score_threshold", "iou_threshold")}
        description["max_detections"] = 10
    detector = _write(tmp_path / "d.json", {**description, **change})
    output = tmp_path / "refuse.tflite"
    argv = [str(model_dir), "--mode", "float32", "--detector", str(detector)]
    assert main(["quantize", *argv, "--output", str(output)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("Erreur : ") and message in error and "Traceback" not in error
    assert not output.exists() and not output.with_suffix(".json").exists()


def test_a_decoder_that_raises_stops_quantize_before_writing(own_detectors, tmp_path, capsys):
    (tmp_path / "casse.py").write_text("def decode(outputs, size):\n    return 1 / 0\n")
    detector = _write(
        tmp_path / "d.json",
        {
            "format": "python",
            "decoder": "casse.py:decode",
            "score_threshold": 0.3,
            "iou_threshold": 0.5,
            "max_detections": 10,
        },
    )
    output = tmp_path / "refuse.tflite"
    argv = [
        str(own_detectors.saved_model("yolo")),
        "--mode",
        "float32",
        "--detector",
        str(detector),
    ]
    assert main(["quantize", *argv, "--output", str(output)]) == 2
    assert "ZeroDivisionError" in capsys.readouterr().err and not output.exists()


def test_a_detector_without_labels_is_refused(own_detectors, tmp_path, capsys):
    model_dir = tmp_path / "sans_etiquettes"
    shutil.copytree(own_detectors.saved_model("yolo"), model_dir)
    (model_dir / "labels.txt").unlink()
    output = tmp_path / "refuse.tflite"
    assert main(["quantize", str(model_dir), "--mode", "float32", "--output", str(output)]) == 2
    error = capsys.readouterr().err
    assert "pas d'étiquettes" in error and "--labels" in error and not output.exists()


def test_compare_names_a_pixel_box_concatenation_on_channels_first(own_detectors, capsys):
    """(1, 4+C, N), boxes in pixels, no description: the axis is inferred, the mix named."""
    model_dir = own_detectors.saved_model("yolo-pixels")
    model = own_detectors.tflite("yolo-pixels")
    argv = [str(model_dir), str(model), "--images", str(TEST_IMAGES), "--num-samples", "10"]
    capsys.readouterr()
    assert main(["compare", *argv, "--json"]) == 0
    (entry,) = json.loads(capsys.readouterr().out)["outputs"]
    assert entry["shape"] == [1, 9, 256] and not entry["ok"] and set(entry) == JSON_KEYS
    assert "concaténation de boîtes en pixels" in entry["verdict"]
    assert "canaux 0 à 3 de l'axe 1" in entry["verdict"] and "normalisées" in entry["verdict"]
    # Judged on the anchors' axis instead, the scores are not seen as channels.
    assert main(["compare", *argv, "--json", "--channel-axis", "2"]) == 0
    (on_anchors,) = json.loads(capsys.readouterr().out)["outputs"]
    assert "concaténation" not in on_anchors["verdict"]
    assert main(["compare", *argv, "--channel-axis", "3"]) == 2
    assert "--channel-axis 3" in capsys.readouterr().err


def test_detector_option_wins_on_evaluate_and_bundle(own_detectors, tmp_path, capsys):
    model = own_detectors.tflite("yolo")
    described = json.loads(model.with_suffix(".json").read_text(encoding="utf-8"))["detector"]
    stricter = _write(tmp_path / "strict.json", {**described, "score_threshold": 0.6})
    bundle = tmp_path / "pi"
    assert main(["bundle", str(model), "--output", str(bundle), "--detector", str(stricter)]) == 0
    bundled = json.loads((bundle / model.with_suffix(".json").name).read_text(encoding="utf-8"))
    assert bundled["detector"]["score_threshold"] == 0.6
    wrong = _write(tmp_path / "faux.json", {**described, "output": "absente"})
    argv = [str(model), "--images", str(TEST_IMAGES), "--annotations", str(ANNOTATIONS)]
    assert main(["evaluate", *argv, "--detector", str(wrong)]) == 2
    assert "« output » nomme la sortie « absente »" in capsys.readouterr().err


def test_an_input_size_that_is_not_height_width_is_refused(own_detectors, tmp_path):
    from helpers.base.errors import KitError
    from helpers.core.runtime import open_tflite

    model = tmp_path / "modele.tflite"
    shutil.copy(own_detectors.tflite("yolo"), model)
    metadata = json.loads(own_detectors.tflite("yolo").with_suffix(".json").read_text())
    model.with_suffix(".json").write_text(json.dumps({**metadata, "input_size": "128x128"}))
    with pytest.raises(KitError, match="« input_size » vaut '128x128'"):
        open_tflite(model)
