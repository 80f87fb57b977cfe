"""Le détecteur de démonstration : données régénérées au pixel près, mAP mesurée par le kit."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from helpers.base.errors import quiet_environment
from helpers.base.paths import DATA_DIR
from helpers.cli import main
from helpers.core.images import read_labels
from helpers.demo import detector as demo_detector
from helpers.steps.decoding import read_detector_description
from helpers.steps.detection import load_coco_annotations

DETECTION = DATA_DIR / "detection"
ANNOTATIONS = DETECTION / "test" / "annotations.json"


def test_committed_scenes_and_boxes_come_from_the_generator():
    coco = json.loads(ANNOTATIONS.read_text(encoding="utf-8"))
    for index in range(3):
        pixels, boxes, classes = demo_detector.detection_scene("test", index)
        stored = np.asarray(Image.open(DETECTION / "test" / f"test_{index:03d}.jpg"))
        np.testing.assert_array_equal(stored, pixels)
        annotated = [a for a in coco["annotations"] if a["image_id"] == index + 1]
        np.testing.assert_allclose([a["bbox"] for a in annotated], boxes, atol=0.01)
        assert [a["category_id"] - 1 for a in annotated] == classes.tolist()
    pixels, _, _ = demo_detector.detection_scene("calibration", 0)
    stored = np.asarray(Image.open(DETECTION / "calibration" / "calibration_000.jpg"))
    np.testing.assert_array_equal(stored, pixels)


def test_committed_detection_data_is_complete_and_coco():
    labels = read_labels(DETECTION / "labels.txt")
    coco = load_coco_annotations(ANNOTATIONS, labels, DETECTION / "test")
    assert len(coco["images"]) >= 200 and len(list((DETECTION / "calibration").iterdir())) >= 100
    per_image = np.bincount([a["image_id"] for a in coco["annotations"]])[1:]
    assert per_image.min() >= 1 and per_image.max() <= 4
    assert read_labels(demo_detector.DETECTOR_DIR / "labels.txt") == labels
    description = read_detector_description(demo_detector.DETECTOR_DIR)
    assert (description["boxes"], description["scores"]) == ("boxes", "scores")


def _test_batch(count: int = 2, size: int = demo_detector.INPUT_SIZE) -> np.ndarray:
    pixels = np.stack(
        [np.asarray(Image.open(DETECTION / "test" / f"test_{i:03d}.jpg")) for i in range(count)]
    )
    if size != pixels.shape[1]:
        pixels = np.repeat(
            np.repeat(pixels, size // pixels.shape[1], 1), size // pixels.shape[2], 2
        )
    return demo_detector.normalize_symmetric(pixels)


def test_committed_detector_gives_the_outputs_of_its_weights():
    from helpers.core.models import load_saved_model

    saved = load_saved_model(demo_detector.DETECTOR_DIR)
    assert (saved.input.name, saved.input.shape) == ("image", (None, 128, 128, 3))
    batch = _test_batch()
    stored = saved.predict_outputs(batch)
    rebuilt = demo_detector.load_detector()(batch, training=False)
    for name in ("boxes", "scores"):
        np.testing.assert_allclose(stored[name], np.asarray(rebuilt[name]), atol=1e-4)


@pytest.mark.parametrize(
    "variant, size, outputs",
    [
        (demo_detector.VARIANT_CONCATENATED, 128, {"detections": (256, 9)}),
        (demo_detector.VARIANT_NORMALIZED, 128, {"detections": (256, 9)}),
        (demo_detector.VARIANT_STUDENT_SIZE, 640, {"boxes": (6400, 4), "scores": (6400, 5)}),
    ],
)
def test_committed_variants_are_what_notebook_05_loads(variant, size, outputs):
    """The notebook loads these instead of exporting them: names, shapes and values."""
    from helpers.core.models import load_saved_model

    folder = demo_detector.DETECTOR_VARIANTS_DIR / variant
    saved = load_saved_model(folder)
    assert (saved.input.name, saved.input.shape) == ("image", (None, size, size, 3))
    assert saved.output_names == sorted(outputs)
    batch = _test_batch(1, size)
    stored = saved.predict_outputs(batch)
    assert {name: value.shape[1:] for name, value in stored.items()} == outputs
    if variant == demo_detector.VARIANT_STUDENT_SIZE:
        assert read_detector_description(folder) == demo_detector.detector_description()
        rebuilt = demo_detector.load_detector(size)(batch, training=False)
    else:
        normalized = variant == demo_detector.VARIANT_NORMALIZED
        model = demo_detector.build_concatenated_detector(size, normalized_boxes=normalized)
        rebuilt = model(batch, training=False)
        boxes = stored["detections"][..., :4]
        assert boxes.min() >= 0 and boxes.max() <= (1 if normalized else size)
    for name in outputs:  # boxes in pixels: up to 128, float32 rounding of about 1e-5
        np.testing.assert_allclose(stored[name], np.asarray(rebuilt[name]), rtol=1e-5, atol=1e-4)


@pytest.fixture(scope="module")
def int8_full_detector(tmp_path_factory):
    output = tmp_path_factory.mktemp("detecteur") / "detecteur_int8-full.tflite"
    argv = [demo_detector.DETECTOR_DIR, "--images", DETECTION / "calibration"]
    argv += ["--mode", "int8-full", "--output", output]
    assert main(["quantize", *map(str, argv)]) == 0
    return output


def test_int8_full_detector_keeps_its_map(int8_full_detector, capsys):
    metadata = json.loads(int8_full_detector.with_suffix(".json").read_text(encoding="utf-8"))
    assert metadata["detector"]["stride"] == 8 and len(metadata["labels"]) == 5
    capsys.readouterr()
    argv = [int8_full_detector, "--images", DETECTION / "test", "--annotations", ANNOTATIONS]
    assert main(["evaluate", *map(str, argv), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    # The float model scores 0.908 (data/detecteur_demo.json); separate outputs keep it.
    assert result["count"] == 240 and result["map50"] >= 0.88
    assert 0.5 <= result["map50_95"] <= result["map50"]


def test_int8_full_detector_has_no_tile_and_meets_the_edgetpu_conditions(int8_full_detector):
    """The pyramid's ×2 upsampling is one RESIZE_NEAREST_NEIGHBOR, not UpSampling2D's TILE."""
    from helpers.steps.inspection import inspect_model

    report = inspect_model(int8_full_detector)
    assert "TILE" not in report["ops"] and "RESIZE_NEAREST_NEIGHBOR" in report["ops"]
    assert report["edgetpu_ready"], report["reasons"]


def test_compare_finds_both_detector_outputs_faithful(int8_full_detector, capsys):
    argv = [demo_detector.DETECTOR_DIR, int8_full_detector, "--images", DETECTION / "test"]
    assert main(["compare", *map(str, argv), "--num-samples", "20", "--json"]) == 0
    outputs = json.loads(capsys.readouterr().out)["outputs"]
    assert [o["name"] for o in outputs] == ["boxes", "scores"]
    assert all(o["ok"] for o in outputs) and outputs[1]["top1_agreement"] is None


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--annotations", "absent.json"], "introuvable"),
        ([], "--annotations"),  # a detector is not evaluated as a classifier
    ],
)
def test_evaluate_detector_bad_input(int8_full_detector, capsys, arguments, message):
    status = main(
        ["evaluate", str(int8_full_detector), "--images", str(DETECTION / "test"), *arguments]
    )
    error = capsys.readouterr().err
    assert status == 2 and error.startswith("Erreur : ") and message in error.splitlines()[0]


def test_evaluate_with_annotations_refuses_a_classifier(tmp_path, raw_tflite_models, capsys):
    model = tmp_path / "classifieur.tflite"
    model.write_bytes(raw_tflite_models["int8"])
    argv = [model, "--images", DETECTION / "test", "--annotations", ANNOTATIONS]
    assert main(["evaluate", *map(str, argv)]) == 2
    assert "pas décrit comme un détecteur" in capsys.readouterr().err


def test_detection_bundle_runs_standalone_and_finds_what_the_kit_finds(
    int8_full_detector, tmp_path, capsys
):
    import shutil
    import subprocess
    import sys

    from helpers.core.images import normalize, read_image
    from helpers.core.runtime import load_interpreter, run_signature, signature_runner
    from helpers.steps.detection import decode_detections

    bundle = tmp_path / "pour_la_pi"
    assert main(["bundle", str(int8_full_detector), "--output", str(bundle)]) == 0
    assert "detecter.py" in capsys.readouterr().out
    assert (bundle / "detecter.py").exists() and (bundle / "classer.py").exists()
    readme = (bundle / "README.md").read_text(encoding="utf-8")
    assert "python3 detecter.py" in readme and "${" not in readme
    images = tmp_path / "images"
    images.mkdir()
    for index in range(4):
        shutil.copy(DETECTION / "test" / f"test_{index:03d}.jpg", images)
    # Outside the course: no helpers on the path, only the bundle's own files. The float
    # preparation feeds the kit's very tensors (the integer one: tests/test_pi_scripts.py).
    result = subprocess.run(
        [
            sys.executable,
            "detecter.py",
            str(images),
            "--json",
            "--sortie",
            str(tmp_path / "vu"),
            "--preparation",
            "flottante",
        ],
        cwd=bundle,
        capture_output=True,
        text=True,
        env=quiet_environment({"PATH": "/usr/bin:/bin"}),
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 4 and len(list((tmp_path / "vu").glob("*.png"))) == 4
    description = json.loads(int8_full_detector.with_suffix(".json").read_text())["detector"]
    runner, details = signature_runner(load_interpreter(int8_full_detector))
    for record, path in zip(records, sorted(images.iterdir()), strict=True):
        image = normalize(read_image(path, (128, 128), 3))[None]
        outputs = run_signature(runner, details, image)
        boxes, scores, classes = decode_detections(
            outputs["boxes"][0], outputs["scores"][0], (128, 128), description
        )
        assert [d["index"] for d in record["detections"]] == classes.tolist()
        found = np.array([d["box"] for d in record["detections"]]).reshape(-1, 4)
        np.testing.assert_allclose(found, boxes, atol=0.06)


def test_detection_script_refuses_a_classifier_bundle_model(tmp_path, raw_tflite_models):
    import shutil
    import subprocess
    import sys

    from helpers.pi import detecter as pi_detector

    bundle = tmp_path / "classifieur"
    model = tmp_path / "modele.tflite"
    model.write_bytes(raw_tflite_models["int8-full"])
    assert (
        main(
            [
                "bundle",
                str(model),
                "--output",
                str(bundle),
                "--labels",
                str(DATA_DIR / "labels.txt"),
            ]
        )
        == 0
    )
    shutil.copy(pi_detector.__file__, bundle / "detecter.py")  # a detector's script, wrong model
    result = subprocess.run(
        [sys.executable, "detecter.py", str(DETECTION / "test")],
        cwd=bundle,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and result.stderr.startswith("Erreur : ")
    assert "classer.py" in result.stderr and "Traceback" not in result.stderr


def test_a_detector_json_without_labels_is_explained(int8_full_detector, tmp_path, capsys):
    import shutil

    model = tmp_path / "sans_etiquettes.tflite"
    shutil.copy(int8_full_detector, model)
    metadata = json.loads(int8_full_detector.with_suffix(".json").read_text(encoding="utf-8"))
    metadata["labels"] = None
    model.with_suffix(".json").write_text(json.dumps(metadata), encoding="utf-8")
    argv = [model, "--images", DETECTION / "test", "--annotations", ANNOTATIONS]
    assert main(["evaluate", *map(str, argv)]) == 2
    assert "pas d'étiquettes" in capsys.readouterr().err
