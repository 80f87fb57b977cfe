"""``python -m helpers compare`` : chaque sortie d'un .tflite face au SavedModel flottant."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_quantization import write_images

from helpers.base.paths import DEMO_MODEL_DIR, TEST_DIR
from helpers.cli import main
from helpers.steps.inspection import compare_with_float
from helpers.steps.quantization import convert


def export_concatenated_head(path, size=32):
    """A tiny detector head: boxes in pixels of a 640×640 image (0..640) and scores (0..1), in
    ONE output, as many exported detectors have."""
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((size, size, 3), name="image")
    x = keras.layers.Conv2D(8, 3, strides=2, activation="relu6")(inputs)
    x = keras.layers.Conv2D(8, 3, strides=2, activation="relu6")(x)
    boxes = keras.layers.Conv2D(4, 1, activation="sigmoid")(x) * 640.0
    scores = keras.layers.Conv2D(5, 1, activation="sigmoid")(x)
    outputs = keras.layers.Reshape((-1, 9))(keras.layers.Concatenate()([boxes, scores]))
    keras.Model(inputs, outputs).export(str(path), verbose=False)
    return path


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory, raw_tflite_models):
    folder = tmp_path_factory.mktemp("compare")
    for mode in ("int8-full", "float16"):
        (folder / f"{mode}.tflite").write_bytes(raw_tflite_models[mode])
    return folder


def test_int8_full_classifier_is_faithful(demo_files):
    result = compare_with_float(DEMO_MODEL_DIR, demo_files / "int8-full.tflite", TEST_DIR)
    assert result["count"] == 100
    (output,) = result["outputs"]
    assert output["ok"] is True and output["scale"] > 0
    assert output["snr_db"] > 25 and output["cosine"] > 0.99
    assert output["top1_agreement"] >= 0.97
    assert 0.99 <= output["float_max"] <= 1.0 and output["float_min"] >= 0.0


def test_a_loaded_model_gives_the_same_comparison(demo_files):
    from helpers.core.models import load_saved_model

    tflite = demo_files / "int8-full.tflite"
    by_folder = compare_with_float(DEMO_MODEL_DIR, tflite, TEST_DIR, num_samples=10)
    by_model = compare_with_float(
        load_saved_model(DEMO_MODEL_DIR), tflite, TEST_DIR, num_samples=10
    )
    assert by_model == by_folder


def test_float16_is_closer_to_the_float_model_than_int8(demo_files):
    int8 = compare_with_float(
        DEMO_MODEL_DIR, demo_files / "int8-full.tflite", TEST_DIR, num_samples=20
    )
    half = compare_with_float(
        DEMO_MODEL_DIR, demo_files / "float16.tflite", TEST_DIR, num_samples=20
    )
    assert half["outputs"][0]["snr_db"] > int8["outputs"][0]["snr_db"] + 20
    assert half["outputs"][0]["scale"] == 0.0 and half["count"] == 20


@pytest.fixture(scope="module")
def concatenated(tmp_path_factory):
    folder = tmp_path_factory.mktemp("concat")
    model_dir = export_concatenated_head(folder / "tete")
    images = write_images(folder / "images", 12, size=(32, 32))
    rng = np.random.default_rng(0)
    samples = [[rng.uniform(-1, 1, (1, 32, 32, 3)).astype(np.float32)] for _ in range(16)]
    content, _ = convert(model_dir, "int8-full", lambda: iter(samples))
    (folder / "tete.tflite").write_bytes(content)
    return model_dir, folder / "tete.tflite", images


def test_scores_concatenated_with_pixel_boxes_are_destroyed(concatenated):
    model_dir, tflite, images = concatenated
    (output,) = compare_with_float(model_dir, tflite, images)["outputs"]
    # One int8 scale for 0..640 pixels leaves the 0..1 scores less than a step: all near zero.
    assert output["scale"] > 1.0
    assert output["ok"] is False and output["verdict"].startswith("Détruite")
    assert output["crushed_channels"] == [4, 5, 6, 7, 8]
    assert output["top1_agreement"] is None  # (cells, 9) is not a class vector


def test_compare_json_contract(concatenated, capsys):
    model_dir, tflite, images = concatenated
    status = main(["compare", str(model_dir), str(tflite), "--images", str(images), "--json"])
    assert status == 0
    result = json.loads(capsys.readouterr().out)
    keys = {"name", "shape", "float_min", "float_max", "scale", "zero_point", "snr_db"}
    keys |= {"cosine", "max_abs_error", "top1_agreement", "ok", "verdict"}
    assert result["count"] == 12 and set(result["outputs"][0]) == keys
    assert result["outputs"][0]["ok"] is False


@pytest.mark.parametrize(
    "case, message",
    [
        ("other_model", "pas le même modèle"),
        ("missing_images", "Dossier d'images introuvable"),
        ("empty_images", "Aucune image PNG ou JPEG"),
        ("not_tflite", "n'est pas un modèle TensorFlow Lite"),
    ],
)
def test_compare_bad_input_exits_2_without_traceback(
    concatenated, demo_files, tmp_path, capsys, case, message
):
    model_dir, tflite, images = concatenated
    arguments = {
        "other_model": [DEMO_MODEL_DIR, tflite, "--images", images],
        "missing_images": [model_dir, tflite, "--images", tmp_path / "absent"],
        "empty_images": [model_dir, tflite, "--images", tmp_path],
        "not_tflite": [model_dir, model_dir / "saved_model.pb", "--images", images],
    }[case]
    assert main(["compare", *map(str, arguments)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("Erreur : ") and message in error.splitlines()[0]
    assert "Traceback" not in error


def test_several_outputs_are_matched_by_name(tmp_path, two_output_model):
    from tiny_models import two_output_saved_model

    two_output_saved_model(tmp_path / "deux")
    images = write_images(tmp_path / "images", 3, size=(64, 64))
    result = compare_with_float(tmp_path / "deux", two_output_model, images)
    assert [o["name"] for o in result["outputs"]] == ["boites", "scores"]


def test_float_output_does_not_save_a_concatenated_head(concatenated):
    # --output-type float32 only adds a DEQUANTIZE after the int8 concatenation, whose one
    # scale has already rounded the scores away: measured, not assumed.
    from helpers.steps.inspection import inspect_model

    model_dir, _, images = concatenated
    rng = np.random.default_rng(0)
    samples = [[rng.uniform(-1, 1, (1, 32, 32, 3)).astype(np.float32)] for _ in range(16)]
    content, report = convert(model_dir, "int8-full", lambda: iter(samples), output_type="float32")
    assert (report.input_dtype, report.output_dtype) == ("int8", "float32")
    summary = inspect_model(content)
    assert summary["integer_only"] is False and summary["edgetpu_ready"] is True
    assert summary["float_ops"] == [] and summary["op_counts"]["DEQUANTIZE"] == 1
    assert any("conversions aux frontières (DEQUANTIZE)" in r for r in summary["reasons"])
    (output,) = compare_with_float(model_dir, content, images)["outputs"]
    assert output["scale"] == 0.0 and output["ok"] is False
    assert output["crushed_channels"] == [4, 5, 6, 7, 8]
    assert "tenseur entier qui la précède" in output["verdict"]
