"""classer.py (autonome, copié sur la Pi) prépare chaque image comme helpers : octet pour octet
par le chemin flottant, à un pas près par le chemin entier ; il trouve les mêmes images."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PIL import Image

from helpers.base.paths import TEST_DIR
from helpers.core.images import NORMALIZATIONS, find_images, normalize, read_image
from helpers.core.runtime import load_interpreter, quantize_values, run_model
from helpers.pi.classer import NORMALIZATIONS as PI_NORMALIZATIONS
from helpers.pi.classer import Classifier, folder_images, image_paths


def _image(mode: str, size=(50, 70)) -> Image.Image:
    """A deterministic picture in one of the image modes a student's folder may hold."""
    rng = np.random.default_rng(len(mode))
    rgb = rng.integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)
    if mode == "I;16":
        wide = rng.integers(0, 65536, size=(size[1], size[0]), dtype=np.uint16)
        return Image.fromarray(wide)  # uint16: Pillow opens it as "I;16"
    return Image.fromarray(rgb).convert(mode)


@pytest.fixture(scope="module", params=["int8", "int8-full"])
def model_file(request, tmp_path_factory, raw_tflite_models):
    path = tmp_path_factory.mktemp("pi") / f"modele_{request.param}.tflite"
    path.write_bytes(raw_tflite_models[request.param])
    return path


def test_both_know_the_same_normalizations():
    assert PI_NORMALIZATIONS == NORMALIZATIONS


def _prepared_both_ways(classifier: Classifier, path):
    with Image.open(path) as image:
        image.load()
        return classifier.prepare(image, integer_path=False), classifier.prepare(image)


def _kit_tensor(model, path, size, channels, normalization) -> np.ndarray:
    detail = load_interpreter(model).get_input_details()[0]
    return quantize_values(normalize(read_image(path, size, channels), normalization)[None], detail)


def _within_one_step(integer: np.ndarray, reference: np.ndarray) -> bool:
    same_type = integer.dtype == reference.dtype
    return same_type and np.abs(integer.astype(np.int32) - reference.astype(np.int32)).max() <= 1


@pytest.mark.parametrize("normalization", sorted(NORMALIZATIONS))
@pytest.mark.parametrize("mode", ["RGB", "L", "I;16", "RGBA", "P"])
def test_script_prepares_each_image_as_helpers(model_file, tmp_path, normalization, mode):
    path = tmp_path / f"image_{mode.replace(';', '')}.png"
    _image(mode).save(path)
    classifier = Classifier(model_file, normalization, 1)
    floating, integer = _prepared_both_ways(classifier, path)
    from_helpers = _kit_tensor(model_file, path, (64, 64), 3, normalization)
    assert floating.dtype == from_helpers.dtype
    assert np.array_equal(floating, from_helpers)
    assert _within_one_step(integer, from_helpers)


@pytest.fixture(scope="module")
def uint8_model_file(tmp_path_factory, uint8_int8_full):
    path = tmp_path_factory.mktemp("pi") / "modele_uint8.tflite"
    path.write_bytes(uint8_int8_full)
    return path


def test_script_prepares_a_uint8_input_as_helpers(uint8_model_file, tmp_path):
    path = tmp_path / "image.png"
    _image("RGB").save(path)
    classifier = Classifier(uint8_model_file, "symmetric", 1)
    floating, integer = _prepared_both_ways(classifier, path)
    from_helpers = _kit_tensor(uint8_model_file, path, (64, 64), 3, "symmetric")
    assert floating.dtype == from_helpers.dtype == np.uint8
    assert np.array_equal(floating, from_helpers)
    # uint8 with [-1, 1] and a scale of 2/255: the integer path's input is the resized pixels.
    assert np.array_equal(integer[0], read_image(path, (64, 64), 3))
    assert _within_one_step(integer, from_helpers)


def _one_channel_model() -> bytes:
    """A tiny int8-full model on grey images (1, 16, 16, 1), 3 softmax outputs."""
    import tensorflow as tf

    rng = np.random.default_rng(0)
    kernel = tf.constant(rng.normal(size=(3, 3, 1, 4)).astype(np.float32))
    dense = tf.constant(rng.normal(size=(4, 3)).astype(np.float32))

    @tf.function(input_signature=[tf.TensorSpec([1, 16, 16, 1], tf.float32, name="image")])
    def serve(image):
        features = tf.reduce_mean(tf.nn.relu(tf.nn.conv2d(image, kernel, 1, "SAME")), [1, 2])
        return tf.nn.softmax(features @ dense)

    converter = tf.lite.TFLiteConverter.from_concrete_functions([serve.get_concrete_function()])

    def representative_dataset():
        for _ in range(8):
            yield [rng.uniform(-1, 1, (1, 16, 16, 1)).astype(np.float32)]

    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative_dataset
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return converter.convert()


@pytest.mark.parametrize("mode", ["RGB", "L", "I;16"])
def test_script_prepares_a_one_channel_input_as_helpers(tmp_path, mode):
    model = tmp_path / "gris.tflite"
    model.write_bytes(_one_channel_model())
    path = tmp_path / "image.png"
    _image(mode).save(path)
    classifier = Classifier(model, "symmetric", 1)
    assert classifier.channels == 1
    floating, integer = _prepared_both_ways(classifier, path)
    from_helpers = _kit_tensor(model, path, (16, 16), 1, "symmetric")
    assert floating.shape == from_helpers.shape == (1, 16, 16, 1)
    assert np.array_equal(floating, from_helpers)
    assert _within_one_step(integer, from_helpers)


def test_script_finds_the_images_helpers_finds_whatever_their_suffix(tmp_path):
    source = TEST_DIR / "cercle" / "cercle_000.png"
    folder = tmp_path / "images"
    (folder / "sous").mkdir(parents=True)
    for name in ("a.png", "b.PNG", "sous/c.Png"):
        shutil.copy(source, folder / name)
    with Image.open(source) as image:
        for name in ("d.jpg", "e.JPG", "f.jpeg", "g.JPEG", "sous/h.JpEg"):
            image.convert("RGB").save(folder / name, format="JPEG")
    for name in ("notes.txt", "i.gif", "j.png.bak", ".k.png"):
        (folder / name).write_bytes(b"pas une image du cours")
    expected = find_images(folder)
    assert len(expected) == 8
    assert image_paths(folder) == expected
    names = [name for name, _ in folder_images(folder)]
    assert names == [path.relative_to(folder).as_posix() for path in expected]


def test_script_scores_are_the_kit_outputs(model_file, tmp_path):
    path = tmp_path / "image.png"
    _image("RGB").save(path)
    classifier = Classifier(model_file, "symmetric", 1)
    with Image.open(path) as image:
        image.load()
        scores, _ = classifier.scores(classifier.prepare(image))
    pixels = normalize(read_image(path, (64, 64), 3))[None]
    expected = run_model(load_interpreter(model_file), pixels)[0]
    np.testing.assert_array_equal(scores, expected)
