"""Le jeu de données représentatif : formats, structure, flux, erreurs en français, quantification affine."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
from PIL import Image

import helpers.steps.calibration as calibration
from helpers.base.errors import KitError, quiet_environment
from helpers.base.paths import CALIBRATION_DIR, DEMO_MODEL_DIR
from helpers.course import plots
from helpers.steps.calibration import (
    CalibrationWarning,
    affine_dequantize,
    affine_quantization_params,
    affine_quantize,
    capsule_random_dataset,
    channel_statistics,
    model_input_shape,
    probe_image,
    random_representative_dataset,
    representative_dataset,
    round_trip_error,
)

os.environ.update(quiet_environment({}))

SIZE = (8, 6)  # (height, width): small and not square, to catch swapped axes


def write_images(folder, count, *, suffix=".png", start=0, size=(10, 12), mode="RGB"):
    """``count`` small distinct images image_XXX<suffix> in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(start)
    image_format = "JPEG" if suffix.lower() in (".jpg", ".jpeg") else "PNG"
    for index in range(start, start + count):
        pixels = rng.integers(0, 256, size=(*size, 3), dtype=np.uint8)
        Image.fromarray(pixels).convert(mode).save(
            folder / f"image_{index:03d}{suffix}", format=image_format
        )
    return folder


def small_dataset(folder, **kwargs):
    kwargs.setdefault("input_size", SIZE)
    kwargs.setdefault("min_images", 1)
    return representative_dataset(folder, **kwargs)


# --- bad input ---------------------------------------------------------------------------------


def test_missing_folder_is_named_with_what_to_check(tmp_path):
    with pytest.raises(
        KitError, match=r"Dossier d'images introuvable : .*absent.*Vérifiez le chemin"
    ):
        small_dataset(tmp_path / "absent")


def test_a_file_instead_of_a_folder_is_refused(tmp_path):
    path = write_images(tmp_path / "images", 1) / "image_000.png"
    with pytest.raises(KitError, match="est un fichier, pas un dossier"):
        small_dataset(path)


def test_empty_folder_says_there_is_no_image(tmp_path):
    (tmp_path / "vide").mkdir()
    with pytest.raises(KitError, match=r"Aucune image PNG ou JPEG dans .*vide.*Ajoutez"):
        small_dataset(tmp_path / "vide")


def test_images_only_in_subfolders_are_pointed_out(tmp_path):
    write_images(tmp_path / "images" / "chats", 3)
    with pytest.raises(KitError, match=r"sous-dossiers \(chats\) ne sont pas parcourus"):
        small_dataset(tmp_path / "images")


def test_fewer_images_than_the_minimum_says_how_many_and_where(tmp_path):
    folder = write_images(tmp_path / "peu", 7)
    with pytest.raises(
        KitError, match=r"Seulement 7 image\(s\) lisible\(s\) dans .*peu.*au moins 100"
    ):
        representative_dataset(folder, input_size=SIZE)


def test_the_default_minimum_is_the_capsules_100_images(tmp_path):
    folder = write_images(tmp_path / "cent", 100, size=(4, 4))
    assert len(representative_dataset(folder, input_size=SIZE)) == 100


def test_corrupt_files_are_named_and_skipped_when_enough_remain(tmp_path):
    folder = write_images(tmp_path / "images", 5)
    (folder / "casse.png").write_bytes(b"pas une image")
    full = (folder / "image_000.png").read_bytes()
    (folder / "tronque.png").write_bytes(full[: len(full) // 2])
    with pytest.warns(
        CalibrationWarning,
        match=r"2 fichier\(s\) illisible\(s\) ignoré\(s\) : casse.png, tronque.png",
    ):
        dataset = small_dataset(folder, min_images=5)
    assert dataset.skipped == ["casse.png", "tronque.png"]
    assert len(dataset) == 5
    assert "5 images valides" in dataset.message
    assert len(list(dataset())) == 5  # the corrupt files are never read during calibration


def test_corrupt_files_are_named_in_the_error_when_too_few_remain(tmp_path):
    folder = write_images(tmp_path / "images", 2)
    (folder / "casse.jpg").write_bytes(b"\xff\xd8\xff\xe0 pas un jpeg")
    with pytest.raises(
        KitError, match=r"Seulement 2 image\(s\).*illisible\(s\) : casse.jpg.*au moins 3"
    ):
        small_dataset(folder, min_images=3)


def test_truncated_png_and_jpeg_are_detected_without_full_decoding(tmp_path):
    folder = write_images(tmp_path / "png", 1, size=(64, 64))
    write_images(tmp_path / "jpg", 1, suffix=".jpg", size=(64, 64))
    for path in (folder / "image_000.png", tmp_path / "jpg" / "image_000.jpg"):
        assert probe_image(path) is None
        content = path.read_bytes()
        path.write_bytes(content[: len(content) * 2 // 3])
        assert "tronqué" in probe_image(path)


def test_a_folder_that_is_not_a_saved_model_is_refused_first(tmp_path):
    (tmp_path / "modele").mkdir()
    with pytest.raises(KitError, match="n'est pas un SavedModel"):
        # The image folder does not exist either: the model is checked before the images.
        representative_dataset(tmp_path / "absent", tmp_path / "modele")


def test_missing_size_without_model_is_explained(tmp_path):
    folder = write_images(tmp_path / "images", 2)
    with pytest.raises(KitError, match=r"input_size=\(hauteur, largeur\)"):
        representative_dataset(folder, min_images=1)


@pytest.mark.parametrize("size", [(0, 8), (8,), "640x640", (8.5, 8)])
def test_invalid_explicit_size_is_refused(tmp_path, size):
    folder = write_images(tmp_path / "images", 2)
    with pytest.raises(KitError, match="Taille d'entrée invalide"):
        small_dataset(folder, input_size=size)


def test_unknown_normalization_lists_the_choices(tmp_path):
    folder = write_images(tmp_path / "images", 2)
    with pytest.raises(KitError, match=r"symmetric .*unit .*raw"):
        small_dataset(folder, normalization="imagenet")


def test_more_samples_than_the_cap_or_fewer_than_the_minimum_are_refused(tmp_path):
    folder = write_images(tmp_path / "images", 3)
    with pytest.raises(KitError, match=r"dépasse le plafond de 500 images"):
        small_dataset(folder, num_samples=800)
    with pytest.raises(KitError, match=r"moins que le minimum de 100.*--min-images 50"):
        representative_dataset(folder, input_size=SIZE, num_samples=50)


# --- models: size and channels read from the signature ------------------------------------------


def export_keras_model(path, build):
    import keras

    keras.utils.set_random_seed(0)
    model = build(keras)
    model.export(str(path), verbose=False)
    return path


@pytest.fixture(scope="module")
def odd_models(tmp_path_factory):
    """Small SavedModels that the loader must refuse or handle: exported once for the module."""
    root = tmp_path_factory.mktemp("modeles")

    def dynamic(keras):
        inputs = keras.Input(shape=(None, None, 3))
        x = keras.layers.Conv2D(2, 3)(inputs)
        return keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(x))

    def gray(keras):
        inputs = keras.Input(shape=(12, 10, 1))
        return keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(inputs))

    def two_inputs(keras):
        first, second = (
            keras.Input(shape=(8, 8, 3), name="image"),
            keras.Input(shape=(4,), name="meta"),
        )
        x = keras.layers.Concatenate()([keras.layers.GlobalAveragePooling2D()(first), second])
        return keras.Model([first, second], keras.layers.Dense(2)(x))

    def vector(keras):
        inputs = keras.Input(shape=(10,))
        return keras.Model(inputs, keras.layers.Dense(2)(inputs))

    def four_channels(keras):
        inputs = keras.Input(shape=(8, 8, 4))
        return keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(inputs))

    builders = {
        "dynamic": dynamic,
        "gray": gray,
        "two_inputs": two_inputs,
        "vector": vector,
        "four_channels": four_channels,
    }
    return {name: export_keras_model(root / name, build) for name, build in builders.items()}


def test_demo_model_size_is_read_from_its_signature():
    assert model_input_shape(DEMO_MODEL_DIR) == (64, 64, 3)


def test_dynamic_size_model_needs_an_explicit_size(odd_models, tmp_path):
    with pytest.raises(KitError, match=r"taille libre \(None, None, None, 3\).*--input-size"):
        model_input_shape(odd_models["dynamic"])
    folder = write_images(tmp_path / "images", 2)
    with pytest.raises(KitError, match="taille libre"):
        representative_dataset(folder, odd_models["dynamic"], min_images=1)


def test_dynamic_size_model_uses_the_explicit_size(odd_models, tmp_path):
    folder = write_images(tmp_path / "images", 2)
    dataset = representative_dataset(
        folder, odd_models["dynamic"], input_size=(16, 12), min_images=1
    )
    assert dataset.input_size == (16, 12)
    assert next(dataset())[0].shape == (1, 16, 12, 3)


def test_grayscale_model_gets_one_channel_images(odd_models, tmp_path):
    folder = write_images(tmp_path / "images", 2)
    dataset = representative_dataset(folder, odd_models["gray"], min_images=1, channels=3)
    assert (dataset.input_size, dataset.channels) == ((12, 10), 1)
    assert next(dataset())[0].shape == (1, 12, 10, 1)


def test_explicit_size_different_from_the_models_is_refused(odd_models):
    with pytest.raises(KitError, match=r"attend des images de 12×10.*pas 20×20"):
        model_input_shape(odd_models["gray"], input_size=(20, 20))


def test_model_with_two_inputs_is_refused_plainly(odd_models):
    with pytest.raises(KitError, match=r"2 entrées \(image, meta\).*une seule entrée image"):
        model_input_shape(odd_models["two_inputs"])


def test_non_image_inputs_are_refused_plainly(odd_models):
    with pytest.raises(
        KitError, match=r"forme \(None, 10\) : ce n'est pas une image.*ne sait pas l'alimenter"
    ):
        model_input_shape(odd_models["vector"])
    with pytest.raises(KitError, match=r"4 canaux.*ne sait pas l'alimenter"):
        model_input_shape(odd_models["four_channels"])


def save_model_with_input_type(folder, dtype_name):
    """A SavedModel whose "image" input has the given type (tf.Module, as tf.saved_model.save)."""
    import tensorflow as tf

    dtype = tf.as_dtype(dtype_name)

    class TypedModel(tf.Module):
        def __init__(self):
            self.weights = tf.Variable(tf.ones([3, 2], tf.float32))

        @tf.function(input_signature=[tf.TensorSpec([None, 8, 8, 3], dtype, name="image")])
        def serve(self, image):
            mean = tf.reduce_mean(tf.cast(image, tf.float32), axis=[1, 2])
            return {"sortie": tf.matmul(mean, self.weights)}

    module = TypedModel()
    tf.saved_model.save(module, str(folder), signatures={"serving_default": module.serve})
    return folder


@pytest.mark.parametrize("dtype", ["uint8", "float16", "float64"])
def test_input_that_is_not_float32_is_refused(tmp_path, dtype):
    # float16 and float64 are floats too, but the converter then fails on unsupported ops.
    model = save_model_with_input_type(tmp_path / dtype, dtype)
    with pytest.raises(
        KitError,
        match=rf"de type {dtype}, pas float32.*[Ee]xportez le modèle avec une entrée float32",
    ):
        model_input_shape(model)


# --- formats ----------------------------------------------------------------------------------


def test_png_and_jpeg_are_read_whatever_the_letter_case(tmp_path):
    folder = tmp_path / "images"
    for index, suffix in enumerate((".png", ".PNG", ".jpg", ".JPG", ".jpeg", ".JpEg")):
        write_images(folder, 1, suffix=suffix, start=index)
    dataset = small_dataset(folder)
    assert [p.suffix for p in dataset.paths] == [".png", ".PNG", ".jpg", ".JPG", ".jpeg", ".JpEg"]
    assert all(batch[0].shape == (1, *SIZE, 3) for batch in dataset())


def test_every_image_mode_is_converted(tmp_path):
    folder = tmp_path / "modes"
    write_images(folder, 1, mode="L", start=0)
    write_images(folder, 1, mode="RGBA", start=1)
    write_images(folder, 1, mode="P", start=2)
    wide = (np.arange(10 * 12, dtype=np.uint16).reshape(10, 12) * 500).astype(np.uint16)
    Image.fromarray(wide).save(folder / "image_003.png")
    modes = [Image.open(p).mode for p in sorted(folder.iterdir())]
    assert modes[:3] == ["L", "RGBA", "P"] and modes[3].startswith("I")
    for channels in (3, 1):
        batches = [batch[0] for batch in small_dataset(folder, channels=channels)()]
        assert len(batches) == 4
        assert all(b.shape == (1, *SIZE, channels) and b.dtype == np.float32 for b in batches)
    # 16-bit: the brightest pixel (59500 of 65535) stays near the top of the range.
    assert batches[3].max() > 0.7


def test_files_that_are_not_images_are_skipped_and_listed(tmp_path):
    folder = write_images(tmp_path / "images", 2)
    (folder / "notes.txt").write_text("bonjour", encoding="utf-8")
    (folder / "image.gif").write_bytes(b"GIF89a")
    (folder / "._image_000.png").write_bytes(b"metadonnees macOS")
    (folder / "sous_dossier").mkdir()
    dataset = small_dataset(folder)
    assert [p.name for p in dataset.paths] == ["image_000.png", "image_001.png"]
    assert dataset.ignored == ["image.gif", "notes.txt"]
    assert dataset.skipped == []


# --- what the converter receives ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("normalization", "low", "high"),
    [("symmetric", -1.0, 1.0), ("unit", 0.0, 1.0), ("raw", 0.0, 255.0)],
)
def test_yields_a_list_of_one_float32_batch_in_the_normalization_range(
    tmp_path, normalization, low, high
):
    folder = tmp_path / "images"
    folder.mkdir()
    # One black and one white image: the two ends of the range must be reached exactly.
    Image.new("RGB", (12, 10), (0, 0, 0)).save(folder / "a_noir.png")
    Image.new("RGB", (12, 10), (255, 255, 255)).save(folder / "b_blanc.png")
    dataset = small_dataset(folder, normalization=normalization)
    batches = list(dataset())
    assert all(isinstance(batch, list) and len(batch) == 1 for batch in batches)
    assert all(batch[0].dtype == np.float32 and batch[0].shape == (1, 8, 6, 3) for batch in batches)
    assert batches[0][0].min() == low and batches[1][0].max() == high
    assert dataset.value_range == (low, high)


def test_yields_the_same_values_as_the_plain_loop_of_the_course(tmp_path):
    folder = write_images(tmp_path / "images", 3, size=SIZE)
    dataset = small_dataset(folder)
    for path, batch in zip(sorted(folder.iterdir()), dataset(), strict=True):
        expected = (
            np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) * (2.0 / 255.0) - 1.0
        )
        np.testing.assert_array_equal(batch[0][0], expected)


def test_can_be_called_again_and_starts_over(tmp_path):
    folder = write_images(tmp_path / "images", 3)
    dataset = small_dataset(folder)
    first, second = list(dataset()), list(dataset())
    assert len(first) == len(second) == 3
    np.testing.assert_array_equal(first[0][0], second[0][0])


def test_order_is_sorted_by_name_whatever_the_creation_order(tmp_path):
    folder = tmp_path / "images"
    for start in (4, 0, 2, 3, 1):
        write_images(folder, 1, start=start)
    assert [p.name for p in small_dataset(folder).paths] == [f"image_{i:03d}.png" for i in range(5)]


def test_the_number_used_is_capped_and_spread_over_the_whole_folder(tmp_path):
    folder = write_images(tmp_path / "images", 20, size=(2, 2))
    dataset = small_dataset(folder, num_samples=5)
    assert [p.name for p in dataset.paths] == [f"image_{i:03d}.png" for i in (0, 5, 10, 14, 19)]
    assert len(list(dataset())) == len(dataset) == 5
    assert dataset.found == 20
    assert len(small_dataset(folder, max_samples=8)) == 8
    assert len(small_dataset(folder, max_samples=None)) == 20


def test_a_corrupt_file_in_the_capped_selection_is_replaced(tmp_path):
    folder = write_images(tmp_path / "images", 10, size=(2, 2))
    (folder / "image_000.png").write_bytes(b"abime")
    with pytest.warns(CalibrationWarning, match="image_000.png"):
        dataset = small_dataset(folder, num_samples=3)
    assert len(dataset) == 3 and "image_000.png" not in [p.name for p in dataset.paths]


def test_images_are_read_one_at_a_time_while_consumed(tmp_path, monkeypatch):
    folder = write_images(tmp_path / "images", 6)
    reads = []
    original = calibration.read_image
    monkeypatch.setattr(
        calibration, "read_image", lambda *args, **kw: reads.append(1) or original(*args, **kw)
    )
    dataset = small_dataset(folder)
    assert reads == []  # building the dataset decodes nothing
    batches = dataset()
    for consumed in range(1, 7):
        next(batches)
        assert len(reads) == consumed  # never ahead of the converter: no list of every image
    with pytest.raises(StopIteration):
        next(batches)


def test_progress_bar_is_written_to_stderr(tmp_path, capsys):
    folder = write_images(tmp_path / "images", 3)
    list(small_dataset(folder, progress=True)())
    captured = capsys.readouterr()
    assert "Étalonnage" in captured.err and "3/3" in captured.err
    assert captured.out == ""


def test_no_progress_bar_by_default(tmp_path, capsys):
    folder = write_images(tmp_path / "images", 3)
    list(small_dataset(folder)())
    assert capsys.readouterr().err == ""


def test_converter_gives_the_same_model_as_the_plain_loop():
    import tensorflow as tf

    from conftest import convert_demo_model

    dataset = representative_dataset(CALIBRATION_DIR, DEMO_MODEL_DIR)
    converter = tf.lite.TFLiteConverter.from_saved_model(str(DEMO_MODEL_DIR))
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = dataset
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = converter.inference_output_type = tf.int8
    kit_model = converter.convert()
    assert kit_model == convert_demo_model("int8-full", batch_one=False)

    # The numpy demonstration finds the input parameters that TFLite chose.
    from helpers.core.runtime import load_interpreter, quantization_params

    scale, zero_point = quantization_params(load_interpreter(kit_model).get_input_details()[0])
    statistics = channel_statistics(dataset)
    expected_scale, expected_zero_point = affine_quantization_params(*statistics.overall_range)
    assert zero_point == expected_zero_point
    assert scale == pytest.approx(expected_scale, rel=1e-6)


# --- random data, ranges, affine quantization --------------------------------------------------


def test_random_data_is_drawn_in_the_models_range_and_repeats():
    dataset = random_representative_dataset((16, 16, 3), "symmetric", count=20, seed=3)
    batches = [batch[0] for batch in dataset()]
    assert len(batches) == len(dataset) == 20
    values = np.concatenate([b.ravel() for b in batches])
    assert values.dtype == np.float32 and batches[0].shape == (1, 16, 16, 3)
    assert values.min() < -0.99 and values.max() > 0.99 and np.all(np.abs(values) <= 1)
    np.testing.assert_array_equal(next(dataset())[0], batches[0])


def test_capsule_random_data_stays_in_zero_one_whatever_the_model():
    dataset = capsule_random_dataset((1, 16, 16, 3), count=10)
    values = np.concatenate([batch[0].ravel() for batch in dataset()])
    assert values.min() >= 0 and values.max() < 1 and values.min() < 0.01
    np.testing.assert_array_equal(
        next(dataset())[0], np.random.RandomState(0).rand(1, 16, 16, 3).astype(np.float32)
    )


def test_invalid_random_shape_is_refused():
    with pytest.raises(KitError, match="Forme invalide"):
        random_representative_dataset((None, 64, 3))


def test_channel_statistics_give_each_channels_range_and_histogram(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    Image.new("RGB", (6, 8), (0, 128, 255)).save(folder / "a.png")
    Image.new("RGB", (6, 8), (255, 128, 0)).save(folder / "b.png")
    statistics = channel_statistics(small_dataset(folder), bins=4)
    assert statistics.names == ("rouge", "vert", "bleu") and statistics.count == 2
    np.testing.assert_allclose(statistics.minimum, [-1, 128 / 127.5 - 1, -1], atol=1e-6)
    np.testing.assert_allclose(statistics.maximum, [1, 128 / 127.5 - 1, 1], atol=1e-6)
    assert statistics.counts.sum(axis=1).tolist() == [96, 96, 96]
    assert statistics.counts[1].tolist() == [0, 0, 96, 0]
    assert statistics.overall_range == (-1.0, 1.0)


@pytest.mark.parametrize(
    ("low", "high", "dtype", "scale", "zero_point"),
    [
        (-1.0, 1.0, "int8", 2 / 255, -1),
        (0.0, 1.0, "int8", 1 / 255, -128),
        (0.0, 1.0, "uint8", 1 / 255, 0),
        (0.5, 2.0, "int8", 2 / 255, -128),  # the range is widened to contain 0
        (-3.0, -1.0, "int8", 3 / 255, 127),
    ],
)
def test_affine_parameters_follow_tflites_rule(low, high, dtype, scale, zero_point):
    found_scale, found_zero_point = affine_quantization_params(low, high, dtype)
    assert found_scale == pytest.approx(scale) and found_zero_point == zero_point


def test_round_trip_error_is_at_most_half_a_step_inside_the_range():
    scale, zero_point = affine_quantization_params(-1.0, 1.0)
    values = np.linspace(-1, 1, 1001)
    assert round_trip_error(values, scale, zero_point) <= scale / 2 + 1e-6
    assert affine_quantize([0.0], scale, zero_point).tolist() == [zero_point]
    assert affine_dequantize(affine_quantize([0.0], scale, zero_point), scale, zero_point)[0] == 0.0


def test_values_outside_the_calibrated_range_are_clipped():
    scale, zero_point = affine_quantization_params(0.0, 1.0)  # the capsule's [0, 1) calibration
    quantized = affine_quantize([-1.0, -0.5, 0.0, 1.0], scale, zero_point)
    assert quantized.dtype == np.int8 and quantized.tolist() == [-128, -128, -128, 127]
    assert round_trip_error([-1.0, -0.5], scale, zero_point) == pytest.approx(1.0)


def test_unknown_integer_type_is_refused():
    with pytest.raises(KitError, match="int8 ou uint8"):
        affine_quantization_params(-1, 1, "int16")


def test_plots_return_figures(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    statistics = channel_statistics(small_dataset(write_images(tmp_path / "images", 2)))
    figures = [
        plots.plot_channel_histograms(statistics),
        plots.plot_input_ranges({"réelles": (-1, 1), "capsule": (0, 1)}, (-1, 1)),
        plots.plot_round_trip({"réelles": (2 / 255, -1)}, (-1, 1)),
        plots.plot_accuracy_comparison({"a": 0.99, "b": 0.81}, reference=0.99),
    ]
    assert all(len(figure.axes) >= 1 for figure in figures)


def test_a_clean_folder_gives_no_warning(tmp_path):
    # Building a dataset from a clean folder must not warn: notebooks show stderr to students.
    folder = write_images(tmp_path / "images", 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        small_dataset(folder)


def test_peak_memory_grows_with_an_eager_list_but_not_with_the_stream(tmp_path):
    folder = write_images(tmp_path / "images", 30, size=(32, 32))
    dataset = small_dataset(folder, input_size=(32, 32))

    def eager():
        batches = list(dataset())
        yield from batches

    eager_count, eager_peak = calibration.peak_memory_while_consuming(eager)
    stream_count, stream_peak = calibration.peak_memory_while_consuming(dataset)
    one_image = 32 * 32 * 3 * 4
    assert eager_count == stream_count == 30
    assert eager_peak >= 30 * one_image
    assert stream_peak < 10 * one_image


@pytest.mark.parametrize(
    ("value", "expected"),
    [(-0.5, -1), (0.5, 1), (2.5, 3), (-2.5, -3), (0.49999999999999994, 0), (-1.2, -1), (3.0, 3)],
)
def test_zero_point_rounding_sends_halves_away_from_zero_unlike_numpy(value, expected):
    assert calibration.round_half_away_from_zero(value) == expected


def test_symmetric_range_zero_point_is_minus_one_where_numpy_round_would_give_zero():
    # q_min - min / s = -128 + 127.5 = -0.5 exactly: np.round gives 0, TFLite gives -1.
    assert np.round(-128 - (-1.0) / (2 / 255)) == 0
    assert affine_quantization_params(-1.0, 1.0, "int8")[1] == -1
