"""Rapport d'un .tflite (types, paramètres de quantification, verdicts), exécution quantifiée,
précision et latence avec LiteRT."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections import Counter

import numpy as np
import pytest

from helpers.base.errors import KitError
from helpers.base.paths import TEST_DIR
from helpers.core.images import normalize
from helpers.core.runtime import dequantize_values, load_interpreter, quantize_values, run_model
from helpers.steps import inspection
from helpers.steps.inspection import (
    compare_modes,
    confusion_matrix,
    evaluate_model,
    format_comparison,
    format_report,
    format_size,
    inspect_model,
    measure_latency,
    top1_agreement,
)

CONTRACT_KEYS = {
    "inputs",
    "outputs",
    "ops",
    "integer_only",
    "edgetpu_ready",
    "reasons",
    "size_bytes",
    "sha256",
}
TENSOR_KEYS = {"name", "dtype", "shape", "scale", "zero_point"}


def _int8_detail(scale=0.5, zero_point=-1, dtype=np.int8):
    return {"name": "x", "dtype": dtype, "quantization": (scale, zero_point)}


@pytest.fixture(scope="module")
def vector_model() -> bytes:
    """A model whose input is a vector, not an image."""
    import tensorflow as tf

    class Linear(tf.Module):
        def __init__(self):
            self.weights = tf.Variable(np.ones((10, 5), dtype=np.float32))

        @tf.function(input_signature=[tf.TensorSpec([1, 10], tf.float32)])
        def __call__(self, x):
            return tf.nn.softmax(x @ self.weights)

    module = Linear()
    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [module.__call__.get_concrete_function()], module
    )
    return converter.convert()


def _quantized_vector_model(function, mode: str) -> bytes:
    """A tiny (1, 4) -> (1, 4) model, a dense layer then ``function``, quantized with plain
    TensorFlow calls: "int8" (float input and output, float fallback), "int8-full" (int8 input
    and output), "float-output" (int8-full with a float32 output) or "int16x8" (int16
    activations, int8 weights, float32 input and output)."""
    import tensorflow as tf

    class Vector(tf.Module):
        def __init__(self):
            weights = np.random.default_rng(0).normal(size=(4, 4)).astype(np.float32)
            self.weights = tf.Variable(weights)

        @tf.function(input_signature=[tf.TensorSpec([1, 4], tf.float32)])
        def serve(self, x):
            return function(x @ self.weights)

    module = Vector()
    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [module.serve.get_concrete_function()], module
    )

    def representative_dataset():
        rng = np.random.default_rng(1)
        for _ in range(8):
            yield [rng.uniform(-3, 3, (1, 4)).astype(np.float32)]

    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative_dataset
    if mode == "int16x8":
        converter.target_spec.supported_ops = [
            tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8
        ]
    elif mode != "int8":
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.float32 if mode == "float-output" else tf.int8
    return converter.convert()


@pytest.fixture(scope="module")
def hard_swish_model() -> bytes:
    """int8-full, batch 1, static shapes, but with HARD_SWISH: not in Coral's list of ops."""
    import tensorflow as tf

    # x · relu6(x + 3) / 6: the converter fuses it into one HARD_SWISH op.
    return _quantized_vector_model(lambda x: x * tf.nn.relu6(x + 3.0) / 6.0, "int8-full")


@pytest.fixture(scope="module")
def int16x8_model() -> bytes:
    """int16 activations, int8 weights, float32 input and output."""
    import tensorflow as tf

    return _quantized_vector_model(tf.nn.softmax, "int16x8")


# --- the report: contract and verdicts ----------------------------------------------------


def test_report_has_the_contract_keys_and_is_json(raw_tflite_models):
    content = raw_tflite_models["int8-full"]
    report = inspect_model(content)
    assert CONTRACT_KEYS <= set(report)
    for entry in report["inputs"] + report["outputs"]:
        assert TENSOR_KEYS <= set(entry)
        assert isinstance(entry["scale"], float) and isinstance(entry["zero_point"], int)
    assert report["size_bytes"] == len(content)
    assert report["sha256"] == hashlib.sha256(content).hexdigest()
    assert json.loads(json.dumps(report)) == report


def test_report_reads_a_file_the_same_as_bytes(raw_tflite_models, tmp_path):
    path = tmp_path / "modele.tflite"
    path.write_bytes(raw_tflite_models["int8"])
    assert inspect_model(path) == inspect_model(raw_tflite_models["int8"])
    assert inspect_model(str(path))["sha256"] == inspect_model(path)["sha256"]


@pytest.mark.parametrize("mode", ["float32", "dynamic", "float16"])
def test_float_compute_modes_are_neither_integer_only_nor_edgetpu_ready(raw_tflite_models, mode):
    report = inspect_model(raw_tflite_models[mode])
    assert report["integer_only"] is False
    assert report["edgetpu_ready"] is False
    assert report["inputs"][0]["dtype"] == "float32"
    assert report["outputs"][0]["dtype"] == "float32"
    assert any("calcul" in reason and "flottant" in reason for reason in report["reasons"])


def test_float16_mode_stores_float16_weights(raw_tflite_models):
    report = inspect_model(raw_tflite_models["float16"])
    assert report["tensor_dtypes"].get("float16", 0) > 0
    assert "DEQUANTIZE" in report["ops"]


def test_dynamic_mode_has_int8_weights_but_float_activations(raw_tflite_models):
    report = inspect_model(raw_tflite_models["dynamic"])
    assert report["tensor_dtypes"].get("int8", 0) > 0
    assert any("quantification dynamique" in reason for reason in report["reasons"])


def test_capsule_int8_model_keeps_float_input_and_output(raw_tflite_models):
    report = inspect_model(raw_tflite_models["int8"])
    assert (report["inputs"][0]["dtype"], report["outputs"][0]["dtype"]) == ("float32", "float32")
    assert {"QUANTIZE", "DEQUANTIZE"} <= set(report["ops"])
    assert report["integer_only"] is False
    assert report["edgetpu_ready"] is False
    assert any("QUANTIZE" in reason and "entrée" in reason for reason in report["reasons"])
    assert any("DEQUANTIZE" in reason and "sortie" in reason for reason in report["reasons"])


def test_int8_full_is_integer_only_with_the_model_own_parameters(raw_tflite_models):
    report = inspect_model(raw_tflite_models["int8-full"])
    assert report["integer_only"] is True
    assert set(report["tensor_dtypes"]) <= {"int8", "int32"}
    entry = report["inputs"][0]
    assert entry["dtype"] == "int8"
    assert entry["scale"] == pytest.approx(2 / 255, rel=1e-4)  # [-1, 1] over 255 steps
    assert entry["zero_point"] == -1
    assert report["outputs"][0]["dtype"] == "int8"
    assert report["outputs"][0]["scale"] == pytest.approx(1 / 256)  # softmax in [0, 1)


def test_free_batch_blocks_the_edgetpu_verdict(free_batch_int8_full):
    report = inspect_model(free_batch_int8_full)
    assert report["inputs"][0]["shape_signature"][0] == -1
    assert report["edgetpu_ready"] is False
    assert any("lot" in reason and "-1" in reason for reason in report["reasons"])


def test_uint8_int8_full_model_is_integer_only(uint8_int8_full):
    report = inspect_model(uint8_int8_full)
    assert report["inputs"][0]["dtype"] == "uint8"
    assert report["outputs"][0]["dtype"] == "uint8"
    assert report["inputs"][0]["zero_point"] == 127
    assert report["outputs"][0]["zero_point"] == 0
    assert report["integer_only"] is True


def test_fixed_batch_int8_full_model_is_edgetpu_ready(raw_tflite_models):
    # tests/conftest.py traces int8-full at batch 1, as the Edge TPU compiler wants.
    report = inspect_model(raw_tflite_models["int8-full"])
    assert report["inputs"][0]["shape_signature"] == [1, 64, 64, 3]
    assert report["integer_only"] is True
    assert report["edgetpu_ready"] is True
    assert set(report["ops"]) <= inspection.EDGETPU_OPS
    assert any("edgetpu_compiler" in reason for reason in report["reasons"])


def test_ready_means_necessary_conditions_with_compilation_not_verified(raw_tflite_models):
    report = inspect_model(raw_tflite_models["int8-full"])
    assert report["reasons"] == [inspection.EDGETPU_CONDITIONS_MET]
    verdict = report["reasons"][-1]
    assert verdict.startswith("Edge TPU : conditions nécessaires remplies")
    for checked in ("calcul entier en 8 bits", "formes fixes", "lot de 1", "liste de Coral"):
        assert checked in verdict
    assert "n'est pas vérifiée ici : seul edgetpu_compiler la confirme" in verdict
    assert "Linux x86-64, pas sur la Pi" in verdict
    assert "dernière version (16)" in verdict and "TensorFlow récent" in verdict
    assert "prêt" not in verdict.lower()
    text = format_report(report)
    assert "Edge TPU (conditions nécessaires) : remplies" in text
    assert "Prêt pour" not in text


def test_op_outside_coral_list_is_named_and_blocks_the_edgetpu_verdict(hard_swish_model):
    report = inspect_model(hard_swish_model)
    assert "HARD_SWISH" in report["ops"] and "HARD_SWISH" not in inspection.EDGETPU_OPS
    # Everything else passes: integer only, int8 input and output, batch 1, static shapes.
    assert report["integer_only"] is True
    assert report["edgetpu_ready"] is False
    assert report["reasons"] == [
        "Edge TPU : l'opération HARD_SWISH ne figure pas dans la liste des opérations prises en "
        "charge par l'Edge TPU (documentation Coral) : le compilateur la laisserait au "
        "processeur, avec tout ce qui suit."
    ]
    assert "Edge TPU (conditions nécessaires) : non remplies" in format_report(report)


def test_several_ops_outside_the_list_are_named_in_model_order():
    import tensorflow as tf

    # int8 with float fallback: SIN has no int8 kernel and stays float between a DEQUANTIZE
    # and a QUANTIZE, inside the model.
    report = inspect_model(_quantized_vector_model(tf.math.sin, "int8"))
    assert report["edgetpu_ready"] is False
    (reason,) = [r for r in report["reasons"] if "ne figure" in r]
    assert reason.startswith("Edge TPU : les opérations DEQUANTIZE, SIN ne figurent pas dans la")
    assert "le compilateur les laisserait au processeur, avec tout ce qui suit." in reason


def test_dequantize_of_a_float_output_is_allowed_at_the_boundary():
    import tensorflow as tf

    report = inspect_model(_quantized_vector_model(tf.nn.softmax, "float-output"))
    assert report["outputs"][0]["dtype"] == "float32"
    assert "DEQUANTIZE" in report["ops"] and "DEQUANTIZE" not in inspection.EDGETPU_OPS
    assert report["edgetpu_ready"] is True
    assert not any("ne figure" in reason for reason in report["reasons"])
    assert any("conversions aux frontières (DEQUANTIZE)" in r for r in report["reasons"])


def test_int16_activations_are_not_for_the_edgetpu(int16x8_model):
    report = inspect_model(int16x8_model)
    assert report["tensor_dtypes"].get("int16", 0) > 0
    assert (report["inputs"][0]["dtype"], report["outputs"][0]["dtype"]) == ("float32", "float32")
    assert report["float_ops"] == []  # integer inside: only the boundary conversions are float
    assert report["integer_only"] is False
    assert report["edgetpu_ready"] is False
    (int16,) = [r for r in report["reasons"] if r.startswith("Edge TPU : activations en int16")]
    assert "activations en int16 (" in int16 and "l'Edge TPU ne calcule qu'en 8 bits" in int16
    # The integer-only reasons speak of int16x8's float input and output as its design, without
    # advising int8 input and output for each of them.
    assert any("mode int16x8" in r and "comme ce mode le prévoit" in r for r in report["reasons"])
    assert not any("convertissez avec inference_input_type" in r for r in report["reasons"])
    assert not any("tout le calcul est entier" in r for r in report["reasons"])
    assert inspection.EDGETPU_CONDITIONS_MET not in report["reasons"]
    assert "Edge TPU (conditions nécessaires) : non remplies" in format_report(report)


def test_a_file_larger_than_the_edgetpu_memory_is_a_warning_not_a_refusal(
    raw_tflite_models, monkeypatch
):
    content = raw_tflite_models["int8-full"]
    assert inspection.EDGETPU_PARAMETER_MEMORY == 8_000_000  # Coral: roughly 8 MB of SRAM
    assert not any("avertissement" in r for r in inspect_model(content)["reasons"])
    # A smaller memory stands in for a file of more than 8 MB.
    monkeypatch.setattr(inspection, "EDGETPU_PARAMETER_MEMORY", len(content) - 1)
    report = inspect_model(content)
    assert report["edgetpu_ready"] is True
    (warning,) = [r for r in report["reasons"] if "avertissement" in r]
    assert warning.startswith("Edge TPU (avertissement, pas un refus) : le fichier fait ")
    assert "parameter data caching" in warning and "off-chip" in warning
    assert "plus lent" in warning
    assert report["reasons"][-1] == inspection.EDGETPU_CONDITIONS_MET
    # A float file is not what the compiler would place: no warning for it.
    monkeypatch.setattr(inspection, "EDGETPU_PARAMETER_MEMORY", 1)
    assert not any(
        "avertissement" in r for r in inspect_model(raw_tflite_models["float32"])["reasons"]
    )


def test_free_size_model_is_integer_only_but_not_edgetpu_ready(free_size_model):
    report = inspect_model(free_size_model)
    assert report["inputs"][0]["shape_signature"] == [1, -1, -1, 3]
    assert report["integer_only"] is True
    assert report["edgetpu_ready"] is False
    assert any("taille libre" in reason for reason in report["reasons"])


def test_not_quantized_tensors_report_zero_scale_and_zero_point(raw_tflite_models):
    report = inspect_model(raw_tflite_models["float32"])
    for entry in report["inputs"] + report["outputs"]:
        assert (entry["scale"], entry["zero_point"]) == (0.0, 0)
        assert entry["quantized"] is False
    assert "non quantifié" in format_report(report)


def test_ops_are_those_of_the_file_not_the_xnnpack_delegate(raw_tflite_models):
    report = inspect_model(raw_tflite_models["float32"])
    assert "DELEGATE" not in report["ops"]
    assert {"CONV_2D", "DEPTHWISE_CONV_2D", "SOFTMAX"} <= set(report["ops"])


def test_int8_weights_are_quantized_per_channel(raw_tflite_models):
    assert inspect_model(raw_tflite_models["int8-full"])["per_axis_tensors"] > 0


def test_report_in_french_shows_both_verdicts(raw_tflite_models, free_batch_int8_full):
    text = format_report(inspect_model(raw_tflite_models["int8-full"]), title="int8-full")
    assert "Entier seulement : oui" in text
    assert "Edge TPU (conditions nécessaires) : remplies" in text
    assert "point zéro -1" in text
    text = format_report(inspect_model(free_batch_int8_full), title="lot libre")
    assert "Entier seulement : oui" in text
    assert "Edge TPU (conditions nécessaires) : non remplies" in text


def test_sizes_are_in_ko_of_1000_bytes_like_the_rest_of_the_course(raw_tflite_models):
    assert format_size(160_512) == "160,5 ko"
    content = raw_tflite_models["int8-full"]
    text = format_report(inspect_model(content))
    assert f"Taille : {len(content) / 1000:.1f} ko".replace(".", ",") in text
    assert "Kio" not in text


def test_text_that_is_not_a_model_is_a_french_error(tmp_path):
    path = tmp_path / "notes.tflite"
    path.write_text("pas un modèle", encoding="utf-8")
    with pytest.raises(KitError, match="n'est pas un modèle TensorFlow Lite"):
        inspect_model(path)


def test_truncated_model_is_a_french_error(raw_tflite_models):
    with pytest.raises(KitError, match="LiteRT ne peut pas charger"):
        inspect_model(raw_tflite_models["int8"][:4000])


def test_missing_file_is_a_french_error(tmp_path):
    with pytest.raises(KitError, match="introuvable"):
        inspect_model(tmp_path / "absent.tflite")


# --- quantize / dequantize -----------------------------------------------------------------


def test_quantize_rounds_to_nearest_and_adds_the_zero_point():
    values = np.array([0.0, 0.74, 0.76, -1.0], dtype=np.float32)
    np.testing.assert_array_equal(quantize_values(values, _int8_detail()), [-1, 0, 1, -3])


def test_quantize_clips_to_the_dtype_range():
    values = np.array([1000.0, -1000.0], dtype=np.float32)
    np.testing.assert_array_equal(quantize_values(values, _int8_detail()), [127, -128])
    uint8 = _int8_detail(scale=0.5, zero_point=0, dtype=np.uint8)
    np.testing.assert_array_equal(quantize_values(np.array([-3.0, 500.0]), uint8), [0, 255])
    assert quantize_values(np.array([1.0]), uint8).dtype == np.uint8


def test_dequantize_inverts_quantize_within_half_a_step():
    detail = _int8_detail(scale=0.1, zero_point=3)
    values = np.linspace(-5, 5, 101).astype(np.float32)
    back = dequantize_values(quantize_values(values, detail), detail)
    assert back.dtype == np.float32
    assert np.max(np.abs(back - values)) <= 0.05 + 1e-6


def test_float_tensors_pass_through_unchanged():
    detail = {"name": "x", "dtype": np.float32, "quantization": (0.0, 0)}
    values = np.array([0.25, -3.5], dtype=np.float32)
    np.testing.assert_array_equal(quantize_values(values, detail), values)
    np.testing.assert_array_equal(dequantize_values(values, detail), values)


def test_zero_scale_means_not_quantized_and_cannot_be_converted():
    detail = _int8_detail(scale=0.0, zero_point=0)
    with pytest.raises(KitError, match="échelle 0"):
        quantize_values(np.array([0.5]), detail)
    with pytest.raises(KitError, match="non quantifié"):
        dequantize_values(np.array([5], dtype=np.int8), detail)


def test_per_axis_parameters_apply_channel_by_channel():
    detail = {
        "name": "w",
        "dtype": np.int8,
        "quantization": (0.0, 0),  # what LiteRT reports for per-axis tensors
        "quantization_parameters": {
            "scales": np.array([0.5, 0.25], dtype=np.float32),
            "zero_points": np.array([0, 0], dtype=np.int32),
            "quantized_dimension": 1,
        },
    }
    values = np.array([[1.0, 1.0], [-1.0, -1.0]], dtype=np.float32)
    np.testing.assert_array_equal(quantize_values(values, detail), [[2, 4], [-2, -4]])
    np.testing.assert_allclose(dequantize_values(quantize_values(values, detail), detail), values)


@pytest.mark.filterwarnings("ignore:.*preserve_all_tensors")
def test_quantize_matches_the_model_own_quantize_op(raw_tflite_models):
    """Our input quantization gives the integers the capsule's int8 model computes itself."""
    from ai_edge_litert.interpreter import Interpreter

    full = inspect_model(raw_tflite_models["int8-full"])["inputs"][0]
    detail = {
        "name": "image",
        "dtype": np.int8,
        "quantization": (full["scale"], full["zero_point"]),
    }
    pixels = np.arange(256, dtype=np.uint8).reshape(16, 16, 1).repeat(4, 0).repeat(4, 1)
    image = normalize(np.repeat(pixels, 3, axis=2))[None]
    interpreter = Interpreter(
        model_content=raw_tflite_models["int8"], experimental_preserve_all_tensors=True
    )
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], image)
    interpreter.invoke()
    quantize_op = next(op for op in interpreter._get_ops_details() if op["op_name"] == "QUANTIZE")
    inside = interpreter.get_tensor(int(quantize_op["outputs"][0]))
    np.testing.assert_array_equal(quantize_values(image, detail), inside)


def test_run_model_gives_probabilities_for_an_integer_model(raw_tflite_models):
    interpreter = load_interpreter(raw_tflite_models["int8-full"])
    images = np.zeros((2, 64, 64, 3), dtype=np.float32)
    probabilities = run_model(interpreter, images)
    assert probabilities.shape == (2, 5) and probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=0.03)


def test_run_model_refuses_raw_pixels(raw_tflite_models):
    interpreter = load_interpreter(raw_tflite_models["int8-full"])
    with pytest.raises(KitError, match="normalis"):
        run_model(interpreter, np.zeros((1, 64, 64, 3), dtype=np.uint8))


def test_run_model_refuses_the_wrong_image_size(raw_tflite_models):
    interpreter = load_interpreter(raw_tflite_models["int8"])
    with pytest.raises(KitError, match="redimensionnez"):
        run_model(interpreter, np.zeros((1, 32, 32, 3), dtype=np.float32))


# --- evaluation, agreement, confusion, latency ---------------------------------------------


def test_int8_full_accuracy_on_the_test_images_is_within_a_point_of_float(raw_tflite_models):
    result = evaluate_model(raw_tflite_models["int8-full"], TEST_DIR)
    reference = evaluate_model(raw_tflite_models["float32"], TEST_DIR)
    assert result["count"] == 320
    assert result["labels"] == ["anneau", "cercle", "croix", "losange", "triangle"]
    assert result["accuracy"] >= 0.95
    assert abs(result["accuracy"] - reference["accuracy"]) <= 0.01
    assert top1_agreement(result["predictions"], reference["predictions"]) >= 0.98


def _small_labeled_folder(tmp_path, labels, per_label=2):
    folder = tmp_path / "images"
    for label in labels:
        (folder / label).mkdir(parents=True)
        for path in sorted((TEST_DIR / label).glob("*.png"))[:per_label]:
            shutil.copy(path, folder / label / path.name)
    return folder


def test_metadata_beside_the_file_gives_labels_and_normalization(raw_tflite_models, tmp_path):
    labels = ["anneau", "cercle", "croix", "losange", "triangle"]
    folder = _small_labeled_folder(tmp_path, labels[:2])
    model = tmp_path / "modele.tflite"
    model.write_bytes(raw_tflite_models["int8-full"])
    model.with_suffix(".json").write_text(
        json.dumps({"labels": labels, "normalization": "unit"}), encoding="utf-8"
    )
    result = evaluate_model(model, folder)
    assert result["labels"] == labels
    assert result["normalization"] == "unit"
    assert result["count"] == 4
    assert set(result["targets"]) == {0, 1}


def test_labels_must_match_the_model_outputs(raw_tflite_models, tmp_path):
    folder = _small_labeled_folder(tmp_path, ["anneau", "cercle"])
    with pytest.raises(KitError, match="5 sorties mais il y a 2 étiquettes"):
        evaluate_model(raw_tflite_models["int8-full"], folder)


def test_folder_without_label_subfolders_is_a_french_error(raw_tflite_models, tmp_path):
    (tmp_path / "a.png").write_bytes(b"")
    with pytest.raises(KitError, match="sous-dossier par étiquette"):
        evaluate_model(raw_tflite_models["int8-full"], tmp_path)


def test_model_without_image_input_is_a_french_error(vector_model, tmp_path):
    folder = _small_labeled_folder(tmp_path, ["anneau", "cercle", "croix", "losange", "triangle"])
    with pytest.raises(KitError, match="pas une image"):
        evaluate_model(vector_model, folder)


def test_free_size_model_needs_a_size(free_size_model, tmp_path):
    folder = _small_labeled_folder(tmp_path, ["anneau", "cercle"])
    with pytest.raises(KitError, match="taille libre"):
        evaluate_model(free_size_model, folder)


def test_free_size_model_uses_the_size_from_its_metadata(free_size_model, tmp_path):
    labels = ["anneau", "cercle", "croix", "losange", "triangle"]  # the tiny model's 5 outputs
    folder = _small_labeled_folder(tmp_path, labels, per_label=1)
    model = tmp_path / "libre.tflite"
    model.write_bytes(free_size_model)
    model.with_suffix(".json").write_text(json.dumps({"input_size": [32, 32]}), encoding="utf-8")
    assert evaluate_model(model, folder)["count"] == 5


def test_top1_agreement_and_confusion_matrix():
    assert top1_agreement([0, 1, 2, 2], [0, 1, 1, 2]) == 0.75
    matrix = confusion_matrix([0, 0, 1, 2], [0, 1, 1, 2], 3)
    np.testing.assert_array_equal(matrix, [[1, 1, 0], [0, 1, 0], [0, 0, 1]])
    with pytest.raises(KitError, match="mêmes images"):
        top1_agreement([0, 1], [0])


def test_latency_is_a_median_over_the_requested_runs(raw_tflite_models):
    latency = measure_latency(raw_tflite_models["int8-full"], num_threads=1, runs=7, warmup=2)
    assert latency["runs"] == 7 and latency["num_threads"] == 1
    assert 0 < latency["min_ms"] <= latency["median_ms"] <= latency["p90_ms"]


def test_latency_refuses_zero_runs(raw_tflite_models):
    with pytest.raises(KitError, match="runs"):
        measure_latency(raw_tflite_models["int8"], runs=0)


def test_compare_modes_measures_accuracy_agreement_and_size(raw_tflite_models):
    from helpers.core.images import load_labeled_images

    images, targets = load_labeled_images(
        TEST_DIR, ["anneau", "cercle", "croix", "losange", "triangle"], (64, 64)
    )
    models = {mode: raw_tflite_models[mode] for mode in ("float32", "int8-full")}
    reference = np.argmax(run_model(load_interpreter(models["float32"]), images[::16]), axis=1)
    results = compare_modes(models, images[::16], targets[::16], reference)
    assert results["float32"]["agreement"] == 1.0
    assert results["int8-full"]["size_bytes"] == len(raw_tflite_models["int8-full"])
    assert 0.9 <= results["int8-full"]["accuracy"] <= 1.0
    table = format_comparison(results)
    assert "int8-full" in table
    assert f"{len(raw_tflite_models['int8-full']) / 1000:.1f} ko".replace(".", ",") in table


def test_litert_without_the_ops_list_is_a_french_error_naming_the_version(
    raw_tflite_models, monkeypatch
):
    from ai_edge_litert.interpreter import Interpreter

    monkeypatch.delattr(Interpreter, "_get_ops_details")
    with pytest.raises(KitError, match=r"ai-edge-litert==2\.3\.0"):
        inspect_model(raw_tflite_models["int8"])


def test_hidden_folders_and_files_are_not_labels_nor_images(raw_tflite_models, tmp_path):
    labels = ["anneau", "cercle", "croix", "losange", "triangle"]
    folder = _small_labeled_folder(tmp_path, labels, per_label=1)
    (folder / ".ipynb_checkpoints").mkdir()
    (folder / "anneau" / "._anneau.png").write_bytes(b"\x00\x05\x16\x07 Mac OS X")
    result = evaluate_model(raw_tflite_models["int8-full"], folder)
    assert result["labels"] == labels
    assert result["count"] == 5


def test_metadata_that_is_not_a_json_object_is_refused_like_bundle(raw_tflite_models, tmp_path):
    folder = _small_labeled_folder(tmp_path, ["anneau"])
    model = tmp_path / "modele.tflite"
    model.write_bytes(raw_tflite_models["int8-full"])
    model.with_suffix(".json").write_text("[]", encoding="utf-8")
    with pytest.raises(KitError, match="objet JSON"):
        evaluate_model(model, folder)


def test_compare_modes_runs_a_free_size_model_at_the_images_size(free_size_model):
    images = np.random.default_rng(0).uniform(-1, 1, (4, 16, 16, 3)).astype(np.float32)
    results = compare_modes({"int8-full": free_size_model}, images, [0, 1, 0, 1], [0, 1, 0, 1])
    assert results["int8-full"]["probabilities"].shape == (4, 5)


def test_evaluate_and_compare_refuse_a_model_with_several_outputs(two_output_model, tmp_path):
    labels = ["anneau", "cercle", "croix", "losange", "triangle"]
    folder = _small_labeled_folder(tmp_path, labels, per_label=1)
    with pytest.raises(KitError, match="2 sorties .*classifieur à une sortie"):
        evaluate_model(two_output_model, folder)
    images = np.zeros((2, 64, 64, 3), dtype=np.float32)
    with pytest.raises(KitError, match="2 sorties"):
        compare_modes({"float32": two_output_model}, images, [0, 1], [0, 1])


def test_tensor_dtypes_count_the_model_tensors_not_the_working_buffers(raw_tflite_models):
    from ai_edge_litert.interpreter import Interpreter

    content = raw_tflite_models["int8"]
    # Before allocate_tensors, LiteRT lists only the tensors stored in the file.
    stored = Interpreter(model_content=content).get_tensor_details()
    expected = Counter(np.dtype(t["dtype"]).name for t in stored)
    assert inspect_model(content)["tensor_dtypes"] == dict(expected)


def test_numbers_a_person_reads_have_a_decimal_comma():
    from helpers.base.units import format_ms, format_percent, french

    assert format_percent(0.990625) == "99,06 %" and format_ms(0.1449) == "0,14 ms"
    assert french(0.0078431, ".6g") == "0,0078431" and french(12.0, ".1f") == "12,0"
