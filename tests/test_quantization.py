"""Les cinq modes de quantification, les vérifications avant TensorFlow et leurs messages."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.base.errors import KitError
from helpers.base.paths import CALIBRATION_DIR, DEMO_MODEL_DIR
from helpers.core.models import load_saved_model
from helpers.course.plots import plot_mode_sizes
from helpers.steps import quantization
from helpers.steps.calibration import representative_dataset
from helpers.steps.inspection import inspect_model
from helpers.steps.quantization import (
    MODES,
    ConversionReport,
    check_representative_dataset,
    convert,
    explain_conversion_error,
    format_mode_table,
    make_converter,
    mode_comparison,
)

DEMO_SHAPE = (None, 64, 64, 3)
EXPECTED_IO = {
    "float32": "float32",
    "dynamic": "float32",
    "float16": "float32",
    "int8": "float32",
    "int8-full": "int8",
    "int16x8": "float32",
}


def export_tiny_model(path, input_shape, layer=None, seed=0):
    """A small untrained Keras CNN exported with model.export (what a student would hand in)."""
    import keras

    keras.utils.set_random_seed(seed)
    inputs = keras.Input(input_shape, name="image")
    x = keras.layers.Conv2D(4, 3, activation="relu6")(inputs)
    if layer is not None:
        x = layer(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(3, activation="softmax")(x)
    keras.Model(inputs, outputs).export(str(path), verbose=False)
    return path


def write_images(folder, count, size=(40, 30), seed=0):
    """``count`` deterministic noise PNGs (RGB), as a student's calibration folder."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for index in range(count):
        pixels = rng.integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"image_{index:03d}.png")
    return folder


def dataset_of(*samples):
    def generate():
        yield from samples

    return generate


def interpreter_for(model_bytes):
    from ai_edge_litert.interpreter import Interpreter

    return Interpreter(model_content=model_bytes)


def tensor_dtypes(model_bytes) -> set[str]:
    return {np.dtype(t["dtype"]).name for t in interpreter_for(model_bytes).get_tensor_details()}


@pytest.fixture(scope="module")
def calibration():
    return representative_dataset(CALIBRATION_DIR, DEMO_MODEL_DIR)


@pytest.fixture(scope="module")
def kit_models(calibration):
    """{mode: (bytes, report)} converted by the kit from data/calibration."""
    model = load_saved_model(DEMO_MODEL_DIR)  # loaded once for the five modes, as notebook 02
    return {mode: convert(model, mode, calibration, value_range=(-1.0, 1.0)) for mode in MODES}


# --- the five modes ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_each_mode_reports_its_input_and_output_dtypes(kit_models, mode):
    model_bytes, report = kit_models[mode]
    assert isinstance(report, ConversionReport)
    assert report.mode == mode
    assert report.size_bytes == len(model_bytes)
    assert report.input_dtype == report.output_dtype == EXPECTED_IO[mode]
    interpreter = interpreter_for(model_bytes)
    assert np.dtype(interpreter.get_input_details()[0]["dtype"]).name == EXPECTED_IO[mode]
    assert report.seconds > 0


@pytest.mark.parametrize("mode", MODES)
def test_kit_conversion_is_byte_identical_to_plain_tensorflow(kit_models, raw_tflite_models, mode):
    assert kit_models[mode][0] == raw_tflite_models[mode]


def test_each_mode_stores_the_weights_in_its_type(kit_models):
    dtypes = {mode: tensor_dtypes(model_bytes) for mode, (model_bytes, _) in kit_models.items()}
    assert "int8" not in dtypes["float32"] and "float16" not in dtypes["float32"]
    assert "int8" in dtypes["dynamic"]  # int8 weights, float32 activations
    assert "float16" in dtypes["float16"] and "int8" not in dtypes["float16"]
    assert "int8" in dtypes["int8"] and "float32" in dtypes["int8"]  # float input/output only
    assert "float32" not in dtypes["int8-full"]
    # int16x8: int8 weights, int16 activations, float only at the input and output.
    assert "int8" in dtypes["int16x8"] and "int16" in dtypes["int16x8"]


def test_sizes_shrink_as_expected(kit_models):
    size = {mode: report.size_bytes for mode, (_, report) in kit_models.items()}
    assert size["float16"] < 0.6 * size["float32"]
    assert size["dynamic"] < 0.4 * size["float32"]
    assert size["int8-full"] < 0.4 * size["float32"]


def test_only_int8_full_computes_everything_in_integers(kit_models):
    verdicts = {
        mode: inspect_model(model_bytes)["integer_only"]
        for mode, (model_bytes, _) in kit_models.items()
    }
    assert verdicts == {mode: mode == "int8-full" for mode in MODES}
    assert inspect_model(kit_models["int8-full"][0])["float_ops"] == []
    assert "CONV_2D" in inspect_model(kit_models["float32"][0])["float_ops"]


def test_the_kit_gives_the_bytes_of_the_plain_tensorflow_calls(kit_models, raw_tflite_models):
    # Same model, same images: the same file, byte for byte, in every mode (conftest.py
    # converts with TensorFlow's own calls, independently of helpers).
    for mode in MODES:
        assert kit_models[mode][0] == raw_tflite_models[mode], mode


def test_int8_full_with_uint8_io(calibration, uint8_int8_full):
    model_bytes, report = convert(DEMO_MODEL_DIR, "int8-full", calibration, io_type="uint8")
    assert (report.input_dtype, report.output_dtype) == ("uint8", "uint8")
    assert model_bytes == uint8_int8_full  # the plain TensorFlow calls give the same bytes
    _, zero_point = interpreter_for(model_bytes).get_input_details()[0]["quantization"]
    assert zero_point in (127, 128)  # [-1, 1] mapped onto 0..255


# --- make_converter: the real TensorFlow settings ------------------------------------------


def test_make_converter_sets_what_each_mode_needs(calibration):
    import tensorflow as tf

    settings = {}
    for mode in MODES:
        converter = make_converter(DEMO_MODEL_DIR, mode, calibration)
        settings[mode] = converter
    assert not settings["float32"].optimizations
    assert settings["dynamic"].optimizations == [tf.lite.Optimize.DEFAULT]
    assert settings["dynamic"].representative_dataset is None
    assert settings["float16"].target_spec.supported_types == [tf.float16]
    assert settings["int8"].representative_dataset is not None
    assert settings["int8"].inference_input_type == tf.float32
    full = settings["int8-full"]
    assert full.target_spec.supported_ops == {tf.lite.OpsSet.TFLITE_BUILTINS_INT8} or list(
        full.target_spec.supported_ops
    ) == [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    assert full.inference_input_type == full.inference_output_type == tf.int8
    uint8 = make_converter(DEMO_MODEL_DIR, "int8-full", calibration, io_type="uint8")
    assert uint8.inference_input_type == tf.uint8
    int16 = settings["int16x8"]
    assert int16.representative_dataset is not None
    assert list(int16.target_spec.supported_ops) == [
        tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8
    ]
    assert int16.inference_input_type == int16.inference_output_type == tf.float32


@pytest.mark.parametrize("mode", ["int8", "int8-full", "int16x8"])
def test_integer_mode_without_representative_dataset_is_refused(mode):
    with pytest.raises(KitError, match="jeu de données représentatif"):
        make_converter(DEMO_MODEL_DIR, mode)
    with pytest.raises(KitError, match="dynamic ou float16"):
        convert(DEMO_MODEL_DIR, mode)


def test_uint8_io_is_only_for_int8_full(calibration):
    with pytest.raises(KitError, match="int8-full"):
        convert(DEMO_MODEL_DIR, "int8", calibration, io_type="uint8")


def test_unknown_mode_lists_the_modes():
    with pytest.raises(KitError, match="float32, dynamic, float16, int8, int8-full"):
        convert(DEMO_MODEL_DIR, "int4")


def test_folder_that_is_not_a_model_is_refused_before_tensorflow(tmp_path):
    with pytest.raises(KitError, match="saved_model.pb"):
        convert(tmp_path, "float32")


def test_a_loaded_model_and_its_folder_give_the_same_file(calibration, kit_models):
    # convert() takes the folder or the model already loaded (notebook 02 loads it once).
    from_folder, _ = convert(DEMO_MODEL_DIR, "float32")
    assert from_folder == kit_models["float32"][0]
    converter = make_converter(load_saved_model(DEMO_MODEL_DIR), "dynamic")
    assert converter.convert() == kit_models["dynamic"][0]


# --- the representative dataset, checked before TensorFlow ----------------------------------

GOOD = np.zeros((1, 64, 64, 3), dtype=np.float32)


def test_good_dataset_gives_no_warning():
    ramp = np.linspace(-1, 1, GOOD.size, dtype=np.float32).reshape(GOOD.shape)
    assert check_representative_dataset(dataset_of([ramp]), DEMO_SHAPE, (-1.0, 1.0)) == []


def test_float64_dataset_is_explained():
    # x / 255.0 on uint8 pixels gives float64: TensorFlow's message is "Cannot set tensor".
    pixels = np.full((1, 64, 64, 3), 200, dtype=np.uint8)
    with pytest.raises(KitError, match=r"float64.*astype\(np\.float32\)"):
        check_representative_dataset(dataset_of([pixels / 255.0]), DEMO_SHAPE)


def test_missing_batch_axis_is_explained():
    with pytest.raises(KitError, match=r"sans l'axe du lot.*np\.newaxis"):
        check_representative_dataset(dataset_of([GOOD[0]]), DEMO_SHAPE)


def test_bare_array_instead_of_a_list_is_explained():
    with pytest.raises(KitError, match=r"yield \[image\]"):
        check_representative_dataset(dataset_of(GOOD), DEMO_SHAPE)


def test_wrong_shape_gives_the_expected_one():
    small = np.zeros((1, 32, 32, 3), dtype=np.float32)
    with pytest.raises(KitError, match=r"\(1, 32, 32, 3\).*\(\?, 64, 64, 3\)"):
        check_representative_dataset(dataset_of([small]), DEMO_SHAPE)


def test_wrong_channel_count_is_refused():
    gray = np.zeros((1, 64, 64, 1), dtype=np.float32)
    with pytest.raises(KitError, match="canaux"):
        check_representative_dataset(dataset_of([gray]), DEMO_SHAPE)


def test_raw_pixels_are_refused():
    with pytest.raises(KitError, match="uint8"):
        check_representative_dataset(dataset_of([GOOD.astype(np.uint8)]), DEMO_SHAPE)


def test_calling_the_generator_instead_of_passing_it_is_explained():
    with pytest.raises(KitError, match="sans parenthèses"):
        check_representative_dataset(dataset_of([GOOD])(), DEMO_SHAPE)


def test_empty_dataset_is_refused():
    with pytest.raises(KitError, match="aucun échantillon"):
        check_representative_dataset(dataset_of(), DEMO_SHAPE)


def test_dict_samples_keyed_by_input_name_are_accepted():
    assert check_representative_dataset(dataset_of({"image": GOOD}), DEMO_SHAPE) == []


def test_unnormalized_pixels_give_a_warning():
    pixels = np.full((1, 64, 64, 3), 255.0, dtype=np.float32)
    warnings = check_representative_dataset(dataset_of([pixels]), DEMO_SHAPE, (-1.0, 1.0))
    assert len(warnings) == 1 and "0..255" in warnings[0]


def test_capsule_random_data_in_zero_one_gives_a_warning():
    rng = np.random.RandomState(0)
    samples = [[rng.rand(1, 64, 64, 3).astype(np.float32)] for _ in range(3)]
    warnings = check_representative_dataset(dataset_of(*samples), DEMO_SHAPE, (-1.0, 1.0))
    assert len(warnings) == 1 and "np.random.rand" in warnings[0]


def test_convert_checks_the_dataset_before_tensorflow():
    with pytest.raises(KitError, match="float64"):
        convert(DEMO_MODEL_DIR, "int8", dataset_of([GOOD.astype(np.float64)]))


def test_convert_returns_range_warnings(sine_model):
    dataset = tiny_dataset((1, 16, 16, 3), low=0.0, high=255.0)
    _, report = convert(sine_model, "int8", dataset, value_range=(-1.0, 1.0))
    assert len(report.warnings) == 1 and "0..255" in report.warnings[0]


def test_check_pulls_samples_without_a_progress_bar(capsys):
    dataset = representative_dataset(CALIBRATION_DIR, DEMO_MODEL_DIR, progress=True)
    check_representative_dataset(dataset, DEMO_SHAPE)
    assert "Étalonnage" not in capsys.readouterr().err
    assert dataset.progress is True


# --- ops that cannot be quantized, student models -------------------------------------------


@pytest.fixture(scope="module")
def sine_model(tmp_path_factory):
    import keras

    path = tmp_path_factory.mktemp("modeles") / "sinus"
    return export_tiny_model(path, (16, 16, 3), layer=keras.layers.Lambda(keras.ops.sin))


def tiny_dataset(shape, count=8, low=-1.0, high=1.0):
    rng = np.random.default_rng(0)
    samples = [[rng.uniform(low, high, size=shape).astype(np.float32)] for _ in range(count)]
    return dataset_of(*samples)


def test_int8_full_names_the_op_without_integer_kernel(sine_model):
    with pytest.raises(KitError, match=r"SIN.*int8-full.*mode int8 garde un repli en flottant"):
        convert(sine_model, "int8-full", tiny_dataset((1, 16, 16, 3)))


def test_int8_keeps_a_float_fallback_for_that_op(sine_model):
    model_bytes, report = convert(sine_model, "int8", tiny_dataset((1, 16, 16, 3)))
    assert report.input_dtype == "float32"
    report = inspect_model(model_bytes)
    assert "SIN" in report["float_ops"] and report["op_counts"]["DEQUANTIZE"] >= 1


def test_op_missing_from_tensorflow_lite_is_named(tmp_path):
    import keras

    path = export_tiny_model(tmp_path / "erf", (8, 8, 1), layer=keras.layers.Lambda(keras.ops.erf))
    with pytest.raises(KitError, match=r"Erf n'existe pas dans TensorFlow Lite"):
        convert(path, "float32")


@pytest.mark.parametrize(
    ("mode", "factory"),
    [("float32", "from_saved_model"), ("int8-full", "from_concrete_functions")],
)
def test_a_failure_while_preparing_the_converter_is_explained(monkeypatch, mode, factory):
    # Loading the SavedModel or tracing its signature happens before convert(): a failure
    # there must give the same French message, not a traceback.
    import tensorflow as tf

    def fail(*args, **kwargs):
        raise ValueError("Could not trace the signature\nsecond line")

    monkeypatch.setattr(tf.lite.TFLiteConverter, factory, fail)
    dataset = dataset_of([GOOD])
    with pytest.raises(KitError, match=rf"conversion en mode {mode} a échoué : Could not trace"):
        convert(DEMO_MODEL_DIR, mode, dataset if mode == "int8-full" else None)


def test_unknown_converter_error_keeps_its_first_line():
    explained = explain_conversion_error(ValueError("quelque chose\nde long"), "int8")
    assert "quelque chose" in str(explained) and "de long" not in str(explained)


def test_float16_input_is_refused_before_the_converter(tmp_path):
    # The converter would blame the model's ops (« MatMul n'existe pas dans TensorFlow Lite »).
    from test_calibration import save_model_with_input_type

    model = save_model_with_input_type(tmp_path / "demi", "float16")
    with pytest.raises(KitError, match="entrée float32") as caught:
        convert(model, "float32")
    assert "n'existe pas" not in str(caught.value)


def test_grayscale_model_of_any_size(tmp_path):
    path = export_tiny_model(tmp_path / "gris", (32, 48, 1))
    model_bytes, report = convert(path, "int8-full", tiny_dataset((1, 32, 48, 1)))
    shape = interpreter_for(model_bytes).get_input_details()[0]["shape"]
    assert list(shape) == [1, 32, 48, 1]
    assert report.input_dtype == "int8"


def test_free_size_model_is_converted_at_the_given_size(tmp_path):
    path = export_tiny_model(tmp_path / "libre", (None, None, 3))
    with pytest.raises(KitError, match="taille"):
        convert(path, "int8", tiny_dataset((1, 24, 40, 3)))
    model_bytes, _ = convert(path, "int8", tiny_dataset((1, 24, 40, 3)), input_size=(24, 40))
    detail = interpreter_for(model_bytes).get_input_details()[0]
    assert list(detail["shape_signature"]) == [1, 24, 40, 3]
    again, _ = convert(path, "int8", tiny_dataset((1, 24, 40, 3)), input_size=(24, 40))
    assert again == model_bytes


# --- the comparison shown in notebook 02 ------------------------------------------------------


def test_mode_comparison_relates_sizes_to_float32_and_to_one_byte_per_weight(kit_models):
    reports = {mode: report for mode, (_, report) in kit_models.items()}
    rows = mode_comparison(reports, 109_813, {mode: 0.99 for mode in reports})
    assert rows["float32"]["ratio_to_float32"] == 1.0
    assert rows["int8"]["bytes_per_weight"] == pytest.approx(reports["int8"].size_bytes / 109_813)
    assert 0.3 < rows["dynamic"]["ratio_to_float32"] < 0.4
    table = format_mode_table(rows)
    assert len(table.splitlines()) == 2 + len(MODES)
    assert "int8-full" in table and "99,00 %" in table and "ko" in table


def test_mode_table_gives_sizes_in_ko_of_1000_bytes():
    reports = {
        "float32": ConversionReport("float32", 437_400, "float32", "float32", 1.0),
        "int8-full": ConversionReport("int8-full", 159_700, "int8", "int8", 1.0),
    }
    lines = format_mode_table(mode_comparison(reports, 109_813)).splitlines()
    assert lines[2] == "float32      437,4 ko       1,00          3,98  float32  float32           "
    assert lines[3].startswith("int8-full    159,7 ko       0,37")


@pytest.mark.parametrize("parameter_count", [0, -5])
def test_invalid_weight_count_says_where_to_read_it(parameter_count):
    reports = {"float32": ConversionReport("float32", 1000, "float32", "float32", 0.1)}
    with pytest.raises(KitError, match=r"load_saved_model\(.*\)\.parameter_count"):
        mode_comparison(reports, parameter_count)


def test_size_chart_has_one_bar_per_mode(kit_models):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    reports = {mode: report for mode, (_, report) in kit_models.items()}
    figure = plot_mode_sizes(mode_comparison(reports, 109_813), 109_813)
    axis = figure.axes[0]
    assert [tick.get_text() for tick in axis.get_xticklabels()] == list(MODES)
    assert len(axis.patches) == len(MODES)
    plt.close(figure)


def test_course_models_reads_the_files_and_converts_what_is_missing(raw_tflite_models, tmp_path):
    from helpers.base.paths import CALIBRATION_DIR

    for mode in ("dynamic", "float16", "int8", "int8-full"):
        (tmp_path / f"modele_{mode}.tflite").write_bytes(raw_tflite_models[mode])
    (tmp_path / "modele_float32.tflite").write_text("abîmé", encoding="utf-8")
    models = quantization.course_models(DEMO_MODEL_DIR, CALIBRATION_DIR, tmp_path)
    assert list(models) == ["float32", "dynamic", "float16", "int8", "int8-full"]
    assert models["int8-full"] == raw_tflite_models["int8-full"]
    assert models["float32"] == raw_tflite_models["float32"]  # conversion is deterministic
