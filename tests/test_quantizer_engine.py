"""Le second moteur : LiteRT Quantizer (``quantize --engine litert-quantizer``)."""

from __future__ import annotations

import pytest
from test_cli_quantize import assert_refused, read_json

from helpers.base.errors import KitError
from helpers.base.paths import CALIBRATION_DIR, DEMO_MODEL_DIR, TEST_DIR
from helpers.cli import main
from helpers.steps.calibration import representative_dataset
from helpers.steps.inspection import evaluate_model, inspect_model
from helpers.steps.quantizer_engine import (
    check_engine,
    quantize_with_litert_quantizer,
    validate_snr,
)

DEMO = str(DEMO_MODEL_DIR)
IMAGES = str(CALIBRATION_DIR)


@pytest.fixture(scope="module")
def dataset():
    return representative_dataset(CALIBRATION_DIR, DEMO_MODEL_DIR)


@pytest.fixture(scope="module")
def int8_full(dataset):
    return quantize_with_litert_quantizer(DEMO_MODEL_DIR, "int8-full", dataset)


def test_int8_full_is_integer_only_and_as_accurate(int8_full, raw_tflite_models):
    quantized, float_bytes = int8_full
    report = inspect_model(quantized)
    assert report["inputs"][0]["dtype"] == report["outputs"][0]["dtype"] == "int8"
    assert report["integer_only"] and report["float_ops"] == []
    assert report["inputs"][0]["shape"][0] == 1  # traced for one image, like the converter's
    assert len(quantized) < 0.45 * len(float_bytes)
    ours = evaluate_model(quantized, TEST_DIR)["accuracy"]
    converter = evaluate_model(raw_tflite_models["int8-full"], TEST_DIR)["accuracy"]
    assert abs(ours - converter) <= 0.01, (ours, converter)


def test_validate_gives_each_tensor_an_snr_in_decibels(int8_full, dataset):
    quantized, float_bytes = int8_full
    snr = validate_snr(float_bytes, quantized, dataset, samples=4)
    assert len(snr) >= 17  # the input, every layer's output, the output
    values = list(snr.values())
    assert values == sorted(values)  # worst first
    # A healthy 8-bit tensor: tens of dB, not the raw power ratio (thousands).
    assert all(10 < value < 120 for value in values), values


def test_dynamic_keeps_float_activations(tmp_path, capsys):
    output = tmp_path / "dynamique.tflite"
    argv = [DEMO, "--mode", "dynamic", "--engine", "litert-quantizer", "--output", str(output)]
    assert main(["quantize", *argv]) == 0, capsys.readouterr().err
    report = inspect_model(output)
    assert report["inputs"][0]["dtype"] == "float32"
    assert "int8" in report["tensor_dtypes"]
    assert read_json(output)["engine"] == "litert-quantizer"


def test_no_quantize_rule_keeps_a_layer_in_float(tmp_path, capsys):
    output = tmp_path / "selectif.tflite"
    argv = [DEMO, "--images", IMAGES, "--num-samples", "30", "--min-images", "30"]
    argv += ["--mode", "int8-full", "--engine", "litert-quantizer"]
    argv += ["--keep-float", "bloc7_pointwise", "--output", str(output)]
    assert main(["quantize", *argv]) == 0, capsys.readouterr().err
    report = inspect_model(output)
    assert "CONV_2D" in report["float_ops"]
    assert not report["integer_only"]
    assert read_json(output)["keep_float"]["patterns"] == ["bloc7_pointwise"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--mode", "int8"], "LiteRT Quantizer ne produit pas le mode int8"),
        (["--mode", "float16"], "ne produit pas le mode float16"),
        (["--mode", "int16x8"], "ne produit pas le mode int16x8"),
        (["--mode", "int8-full", "--io-type", "uint8"], "uint8"),
        (["--mode", "int8-full", "--output-type", "float32"], "float32"),
        (["--mode", "int8-full", "--keep-float", "bloc9"], "bloc9"),
    ],
)
def test_what_the_engine_cannot_make_is_refused(tmp_path, capsys, extra, message):
    output = tmp_path / "modele.tflite"
    argv = [DEMO, "--images", IMAGES, "--engine", "litert-quantizer", *extra]
    assert_refused(capsys, [*argv, "--output", output], output, message)


def test_unknown_engine():
    with pytest.raises(KitError, match="Moteur inconnu"):
        check_engine("tflite", "int8-full")
