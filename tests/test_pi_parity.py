"""classer.py (autonome, copié sur la Pi) prépare chaque image comme helpers, octet pour octet."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from helpers.core.images import NORMALIZATIONS, normalize, read_image
from helpers.core.runtime import load_interpreter, quantize, run_model
from helpers.pi.classer import NORMALIZATIONS as PI_NORMALIZATIONS
from helpers.pi.classer import Classifier


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


@pytest.mark.parametrize("normalization", sorted(NORMALIZATIONS))
@pytest.mark.parametrize("mode", ["RGB", "L", "I;16", "RGBA", "P"])
def test_script_prepares_each_image_as_helpers(model_file, tmp_path, normalization, mode):
    path = tmp_path / f"image_{mode.replace(';', '')}.png"
    _image(mode).save(path)
    classifier = Classifier(model_file, normalization, 1)
    with Image.open(path) as image:
        image.load()
        from_script = classifier.prepare(image)
    interpreter = load_interpreter(model_file)
    detail = interpreter.get_input_details()[0]
    pixels = read_image(path, (64, 64), 3)
    from_helpers = quantize(normalize(pixels, normalization)[None], detail)
    assert from_script.dtype == from_helpers.dtype
    assert np.array_equal(from_script, from_helpers)


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
