"""Le débogueur de quantification (``debug``) et la quantification sélective (``--keep-float``)."""

from __future__ import annotations

import contextlib
import io
import json

import pytest
from test_cli_quantize import assert_refused, read_json

from helpers.base.errors import KitError
from helpers.base.paths import CALIBRATION_DIR, DEMO_MODEL_DIR, FRAGILE_MODEL_DIR
from helpers.cli import main
from helpers.steps.calibration import representative_dataset
from helpers.steps.debugging import (
    HEALTHY_RMSE_OVER_SCALE,
    SUSPECT_RMSE_OVER_SCALE,
    format_debug_table,
    is_suspect,
    match_tensors,
    short_name,
)
from helpers.steps.inspection import inspect_model
from helpers.steps.pipeline import diagnose_model

DEMO = str(DEMO_MODEL_DIR)
IMAGES = str(CALIBRATION_DIR)
# 30 calibration images are enough to test the commands, and four times cheaper than 120.
FEW = ["--num-samples", "30", "--min-images", "30"]
NAMES = [
    "model/re_lu_3/Relu6;model/bloc2_depthwise/depthwise;model/batchnorm/sub",
    "model/re_lu_4/Relu6;model/bloc2_pointwise/convolution",
    "model/probabilites/MatMul;model/probabilites/BiasAdd",
]


@pytest.fixture(scope="module")
def demo_debug():
    """The debug command's JSON on the demo model, as a script reads it (run once: the
    diagnosis converts the model three times)."""
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        status = main(["debug", DEMO, "--images", IMAGES, *FEW, "--json"])
    assert status == 0
    return json.loads(output.getvalue())


def test_a_healthy_model_has_rounding_error_only(demo_debug):
    layers = demo_debug["layers"]
    # The demo: 15 convolutions, the pooling, the dense layer and the softmax.
    assert len(layers) == 18
    assert {layer["op"] for layer in layers} >= {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"}
    ratios = [layer["rmse_over_scale"] for layer in layers]
    # Rounding alone gives 1/sqrt(12) ≈ 0.29; every layer of the demo stays near it.
    assert all(0.1 < ratio < SUSPECT_RMSE_OVER_SCALE for ratio in ratios), ratios
    middle = sorted(ratios)[len(ratios) // 2]
    assert abs(middle - HEALTHY_RMSE_OVER_SCALE) < 0.08
    assert demo_debug["suspects"] == []
    # The signal never falls below 25 dB (int8 at its finest gives 40 to 48 dB).
    assert min(layer["snr_db"] for layer in layers if layer["snr_db"] is not None) > 25


def test_each_layer_has_the_json_contract(demo_debug):
    keys = {"tensor", "op", "scale", "zero_point", "rmse", "rmse_over_scale", "suspect"}
    keys |= {"snr_db", "snr_loss_db"}
    for layer in demo_debug["layers"]:
        assert set(layer) == keys
        assert layer["scale"] > 0 and layer["rmse"] >= 0
        assert layer["rmse_over_scale"] == pytest.approx(layer["rmse"] / layer["scale"])


def test_the_table_marks_suspects_and_says_what_to_do(demo_debug):
    table = format_debug_table(demo_debug)
    assert "Aucune couche suspecte (critères : rmse/échelle > 0,70" in table
    assert "perte (dB)" in table
    flagged = dict(demo_debug, suspects=[demo_debug["layers"][4]["tensor"]])
    flagged["layers"] = [dict(layer) for layer in demo_debug["layers"]]
    flagged["layers"][4]["suspect"] = True
    table = format_debug_table(flagged)
    assert table.count("← suspecte") == 1
    assert "--keep-float" in table


@pytest.mark.parametrize(
    ("ratio", "snr", "loss", "suspect"),
    [
        (0.29, 40.0, 1.0, False),  # healthy
        (0.93, 17.0, -6.0, True),  # its own error is above 0.7
        (0.22, 23.4, 16.6, True),  # loses 16.6 dB and leaves 23.4: the signal goes here
        (0.34, 33.4, 6.9, False),  # loses 6.9 dB but keeps 33.4 dB: int8 rounding
        (0.22, 12.0, 3.0, False),  # low, but lost before this layer
        (0.29, None, None, False),  # no float twin to compare with
        (0.3, 29.9, 6.0, True),  # the two limits: 6 dB lost, below 30 dB
        (0.3, 30.0, 8.0, False),  # 30 dB left is not below 30
        (0.71, 40.0, 0.0, True),  # just above 0.7
    ],
)
def test_the_suspect_rule(ratio, snr, loss, suspect):
    layer = {"rmse_over_scale": ratio, "snr_db": snr, "snr_loss_db": loss}
    assert is_suspect(layer) is suspect


def test_the_fragile_model_loses_its_signal_in_block_1():
    # The debugger alone flags only the last dense layer; the SNR shows where the signal goes.
    dataset = representative_dataset(
        CALIBRATION_DIR, FRAGILE_MODEL_DIR, num_samples=30, min_images=30
    )
    result = diagnose_model(FRAGILE_MODEL_DIR, dataset)
    by_rmse = [
        layer["tensor"]
        for layer in result["layers"]
        if layer["rmse_over_scale"] > SUSPECT_RMSE_OVER_SCALE
    ]
    by_snr = [name for name in result["suspects"] if name not in by_rmse]
    assert len(by_rmse) == 1 and "probabilites" in by_rmse[0], by_rmse
    assert len(by_snr) == 1 and "bloc1_expansion" in by_snr[0]
    worst = max(result["layers"], key=lambda layer: layer["snr_loss_db"] or 0)
    assert worst["tensor"] == by_snr[0] and worst["snr_loss_db"] > 10


def test_short_name_shows_the_layer_with_weights():
    assert short_name(NAMES[1]) == "model/bloc2_pointwise/convolution"
    assert short_name(NAMES[2]) == "model/probabilites/MatMul"
    assert short_name("a" * 100).startswith("…") and len(short_name("a" * 100)) == 58


def test_patterns_select_tensors_by_regular_expression():
    assert match_tensors(["bloc2_pointwise"], NAMES) == [NAMES[1]]
    assert match_tensors(["bloc2_.*wise", "probabilites"], NAMES) == NAMES
    assert match_tensors(["bloc2", "depthwise"], NAMES) == NAMES[:2]  # each name once


def test_a_pattern_that_matches_nothing_names_the_closest_tensors():
    with pytest.raises(KitError, match="Les plus proches : bloc2_pointwise"):
        match_tensors(["bloc2_pointwize"], NAMES)
    with pytest.raises(KitError, match="expression régulière valide"):
        match_tensors(["bloc2_(pointwise"], NAMES)


# --- the command line -----------------------------------------------------------------------


def test_debug_command_json(demo_debug):
    assert set(demo_debug) == {"layers", "suspects"}
    assert len(demo_debug["layers"]) == 18 and demo_debug["suspects"] == []
    assert all("snr_db" in layer and "snr_loss_db" in layer for layer in demo_debug["layers"])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["debug", "pas_de_modele", "--images", IMAGES], "pas_de_modele"),
        (["debug", DEMO, "--images", "pas_d_images"], "pas_d_images"),
    ],
)
def test_debug_bad_input(capsys, argv, message):
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert error.startswith("Erreur : ") and message in error.splitlines()[0]
    assert "Traceback" not in error


def test_keep_float_keeps_the_layer_in_float(tmp_path, capsys):
    output = tmp_path / "selectif.tflite"
    argv = [DEMO, "--images", IMAGES, *FEW, "--mode", "int8", "--keep-float", "bloc7_pointwise"]
    assert main(["quantize", *argv, "--output", str(output)]) == 0, capsys.readouterr().err
    assert "Gardés en flottant (1)" in capsys.readouterr().out
    report = inspect_model(output)
    # One convolution computed in float, between a DEQUANTIZE and a QUANTIZE: the graph is split.
    assert "CONV_2D" in report["float_ops"]
    assert report["op_counts"]["QUANTIZE"] == 2 and report["op_counts"]["DEQUANTIZE"] == 2
    assert not report["integer_only"] and not report["edgetpu_ready"]
    metadata = read_json(output)
    assert metadata["mode"] == "int8"
    assert metadata["keep_float"]["patterns"] == ["bloc7_pointwise"]
    assert "bloc7_pointwise" in metadata["keep_float"]["tensors"][0]


def test_keep_float_matching_nothing_writes_nothing(tmp_path, capsys):
    output = tmp_path / "selectif.tflite"
    argv = [DEMO, "--images", IMAGES, "--mode", "int8", "--keep-float", "bloc9_pointwise"]
    first_line = assert_refused(capsys, [*argv, "--output", output], output, "bloc9_pointwise")
    assert "Les plus proches" in first_line


def test_keep_float_in_int8_full_keeps_integer_io(tmp_path, capsys):
    output = tmp_path / "selectif_entier.tflite"
    argv = [
        DEMO,
        "--images",
        IMAGES,
        *FEW,
        "--mode",
        "int8-full",
        "--keep-float",
        "bloc7_pointwise",
    ]
    assert main(["quantize", *argv, "--output", str(output)]) == 0, capsys.readouterr().err
    report = inspect_model(output)
    assert report["inputs"][0]["dtype"] == report["outputs"][0]["dtype"] == "int8"
    assert report["inputs"][0]["shape"][0] == 1  # traced for one image, as int8-full
    # Integer I/O, but a float convolution inside: not integer only, not for the Edge TPU.
    assert "CONV_2D" in report["float_ops"]
    assert not report["integer_only"] and not report["edgetpu_ready"]


@pytest.mark.parametrize("mode", ["int16x8", "dynamic", "float16"])
def test_keep_float_only_from_int8_modes(tmp_path, capsys, mode):
    output = tmp_path / "selectif.tflite"
    argv = [DEMO, "--images", IMAGES, "--mode", mode, "--keep-float", "bloc7"]
    assert_refused(capsys, [*argv, "--output", output], output, "--mode int8")


def test_keep_float_with_uint8_io_is_refused(tmp_path, capsys):
    output = tmp_path / "selectif.tflite"
    argv = [DEMO, "--images", IMAGES, "--mode", "int8-full", "--io-type", "uint8"]
    argv += ["--keep-float", "bloc7"]
    assert_refused(capsys, [*argv, "--output", output], output, "--io-type")


def test_the_plot_shows_one_bar_per_layer_and_both_levels(demo_debug):
    import matplotlib

    matplotlib.use("Agg")
    from helpers.course.plots import plot_layer_errors

    flagged = {"layers": [dict(layer) for layer in demo_debug["layers"]]}
    flagged["layers"][2]["suspect"] = True
    figure = plot_layer_errors(flagged)
    axis = figure.axes[0]
    assert len(axis.patches) == len(demo_debug["layers"])
    red = [
        bar
        for bar in axis.patches
        if bar.get_facecolor()[:3] == matplotlib.colors.to_rgb("tab:red")
    ]
    assert len(red) == 1
    levels = sorted(line.get_ydata()[0] for line in axis.get_lines())
    assert levels == pytest.approx([HEALTHY_RMSE_OVER_SCALE, SUSPECT_RMSE_OVER_SCALE])


def test_the_snr_plot_marks_the_suspects_in_red(demo_debug):
    import matplotlib

    matplotlib.use("Agg")
    from helpers.course.plots import plot_layer_snr

    flagged = {"layers": [dict(layer) for layer in demo_debug["layers"]]}
    flagged["layers"][2].update(suspect=True, snr_loss_db=12.5)
    figure = plot_layer_snr(flagged)
    axis = figure.axes[0]
    curve, level, marker = axis.get_lines()
    measured = [layer for layer in demo_debug["layers"] if layer["snr_db"] is not None]
    assert len(curve.get_xdata()) == len(measured) == 18  # every layer, the softmax included
    assert level.get_ydata()[0] == 30
    assert marker.get_xdata()[0] == 3
    assert [text.get_text() for text in axis.texts if "dB)" in text.get_text()] == [
        "bloc1_pointwise_1 (−12,5 dB)"
    ]


def test_activation_peak_reads_an_intermediate_tensor():
    from helpers.core.models import load_saved_model
    from helpers.steps.debugging import activation_peak
    from helpers.steps.quantization import convert

    model = load_saved_model(DEMO_MODEL_DIR)
    float_bytes, _ = convert(model, "float32", input_size=model.input.size)
    dataset = representative_dataset(CALIBRATION_DIR, DEMO_MODEL_DIR, num_samples=10, min_images=10)
    name, peaks = activation_peak(float_bytes, dataset, "bloc1_pointwise")
    assert "bloc1_pointwise" in name
    # One peak per channel of a ReLU6 output: at most 6, not all equal (not a constant).
    assert peaks.shape == (len(peaks),) and len(peaks) > 8
    assert 0 <= peaks.min() < peaks.max() <= 6
    with pytest.raises(KitError, match="ne correspond à aucun"):
        activation_peak(float_bytes, dataset, "bloc9")


# --- the fragile model's training command -----------------------------------------------------


def test_demo_fragile_refuses_a_folder_without_the_shared_images(tmp_path, capsys):
    from helpers.demo.fragile import train_fragile_model

    (tmp_path / "calibration").mkdir()
    with pytest.raises(KitError, match="calibration, test absent"):
        train_fragile_model(tmp_path, verbose=0)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["calibration"]  # nothing written


def test_the_fragile_architecture_keeps_its_batch_norm_after_the_relu():
    from helpers.demo.fragile import build_fragile_model

    model = build_fragile_model()
    names = [layer.__class__.__name__ for layer in model.layers]
    # Each expansion: a convolution with its ReLU inside, then a BatchNormalization.
    first = names.index("Conv2D", names.index("Conv2D") + 1)
    assert model.layers[first].activation.__name__ == "relu"
    assert names[first + 1] == "BatchNormalization"
    assert model.count_params() == 65901  # the count written in data/modele_fragile.json


def test_layer_snr_needs_models_converted_alike(tmp_path):
    import keras

    from helpers.steps.calibration import random_representative_dataset
    from helpers.steps.quantization import convert
    from helpers.steps.quantizer_engine import layer_snr

    # A student's model as model.export(...) writes it (the demo model's frozen function names
    # its output the same whatever the conversion).
    inputs = keras.Input((16, 16, 3), name="image")
    features = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(4, 3)(inputs))
    keras.Model(inputs, keras.layers.Dense(2)(features)).export(str(tmp_path), verbose=False)
    dataset = random_representative_dataset((16, 16, 3), count=10)
    float_bytes, _ = convert(tmp_path, "float32")
    quantized_bytes, _ = convert(tmp_path, "int8-full", dataset)
    # float32 from from_saved_model, int8-full traced for one image: other output names.
    with pytest.raises(KitError, match="mêmes noms de tenseurs"):
        layer_snr(float_bytes, quantized_bytes, dataset)


def test_layer_snr_follows_the_signal_through_a_float_section():
    from helpers.core.models import load_saved_model
    from helpers.steps.quantization import convert
    from helpers.steps.quantizer_engine import layer_snr
    from helpers.steps.selective import quantize_keeping_float

    model = load_saved_model(DEMO_MODEL_DIR)
    dataset = representative_dataset(CALIBRATION_DIR, DEMO_MODEL_DIR, num_samples=30, min_images=30)
    selective, _ = quantize_keeping_float(model, dataset, ["bloc3_"], mode="int8")
    float_bytes, _ = convert(model, "float32")
    snr = layer_snr(float_bytes, selective, dataset)
    losses = [loss for _, loss in snr.values()]
    # Only the first layer's input (the quantized image) has no float twin; the layers that read
    # the DEQUANTIZE into the float section and the QUANTIZE out of it are measured through them.
    assert len(losses) == 19 and losses[0] is None  # and the output, after its DEQUANTIZE
    assert all(loss is not None for loss in losses[1:])
