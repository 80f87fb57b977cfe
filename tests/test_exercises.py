"""Les vérificateurs des exercices des notebooks 00 à 04 : « À vous » tant que la réponse manque,
« Bravo » pour la bonne réponse, et un refus (AssertionError) pour chaque erreur classique."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from helpers.exercises import (
    check_int8_size_answer,
    check_unit_dataset_answer,
)
from helpers.images import normalize, read_image

# --------------------------------------------------------------------------------------------
# Notebook 00: the int8 size of the kernels
# --------------------------------------------------------------------------------------------

# Two kernels (1000 + 200 values) and two vectors (50 + 30 values), like loaded.variables.
VARIABLES = [
    np.zeros((10, 10, 10), np.float32),
    np.zeros((40, 5), np.float32),
    np.zeros(50, np.float32),
    np.zeros(30, np.float32),
    np.zeros(2, np.int64),  # a random generator's state: not a weight
]
KERNEL_VALUES, ALL_VALUES = 1200, 1280


def test_int8_size_placeholder_gets_instructions():
    for placeholder in (None, ...):
        assert check_int8_size_answer(placeholder, VARIABLES).startswith("À vous")


@pytest.mark.parametrize("answer", [1.2, 1, KERNEL_VALUES / 1000, np.float64(1.2)])
def test_int8_size_right_answer_is_accepted(answer):
    message = check_int8_size_answer(answer, VARIABLES)
    assert message.startswith("Bravo") and "1,2 ko" in message and "4,8 ko" in message


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (KERNEL_VALUES * 4 / 1000, "float32"),  # the float32 size
        (ALL_VALUES / 1000, "noyaux"),  # the vectors counted too
        (KERNEL_VALUES / 1024, "1000 octets"),  # KiB instead of ko
        (KERNEL_VALUES, "octets"),  # bytes, not ko
        (KERNEL_VALUES / 4 / 1000, "divisée par 4"),  # the count divided by 4
        (KERNEL_VALUES * 8 / 1000, "bits"),  # bits, not bytes
        (7.0, "pas tout à fait"),
    ],
)
def test_int8_size_classic_mistakes_are_rejected_with_their_hint(wrong, hint):
    with pytest.raises(AssertionError, match=hint):
        check_int8_size_answer(wrong, VARIABLES)


@pytest.mark.parametrize("wrong", ["1,2 ko", True, float("nan")])
def test_int8_size_answer_must_be_a_number(wrong):
    with pytest.raises(AssertionError, match="nombre"):
        check_int8_size_answer(wrong, VARIABLES)


def test_int8_size_on_the_demo_model():
    tf = pytest.importorskip("tensorflow")
    from helpers.paths import DEMO_MODEL_DIR

    loaded = tf.saved_model.load(str(DEMO_MODEL_DIR))
    message = check_int8_size_answer(104.2, loaded.variables)
    assert "104 176 valeurs" in message and "104,2 ko" in message
    with pytest.raises(AssertionError, match="noyaux"):
        check_int8_size_answer(109.8, loaded.variables)  # parameter_count / 1000


# --------------------------------------------------------------------------------------------
# Notebook 01: a representative dataset in [0, 1]
# --------------------------------------------------------------------------------------------

SHAPE = (32, 32, 3)
COUNT = 30


@pytest.fixture(scope="module")
def image_files(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("etalonnage")
    rng = np.random.default_rng(0)
    paths = []
    for index in range(COUNT + 5):
        path = folder / f"image_{index:03d}.png"
        Image.fromarray(rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)).save(path)
        paths.append(path)
    return paths


def make_dataset(paths, transform=lambda pixels: [pixels[np.newaxis]], count=COUNT, order=None):
    height, width, channels = SHAPE

    def unit_dataset():
        chosen = paths[:count] if order is None else [paths[i] for i in order]
        for path in chosen:
            with Image.open(path) as image:
                image = image.convert("RGB").resize((width, height), Image.BILINEAR)
            pixels = np.asarray(image, dtype=np.float32) / 255.0
            yield transform(pixels)

    return unit_dataset


def test_unit_dataset_placeholders_get_instructions(image_files):
    def body_to_write():
        ...

    for placeholder in (None, ..., body_to_write):
        message = check_unit_dataset_answer(placeholder, image_files, SHAPE, count=COUNT)
        assert message.startswith("À vous") and "yield" in message


def test_unit_dataset_right_answer_is_accepted(image_files):
    message = check_unit_dataset_answer(make_dataset(image_files), image_files, SHAPE, count=COUNT)
    assert message.startswith("Bravo") and "(1, 32, 32, 3)" in message


def test_unit_dataset_kit_images_are_the_reference(image_files):
    def kit_dataset():
        for path in image_files[:COUNT]:
            yield [normalize(read_image(path, SHAPE[:2]), "unit")[np.newaxis]]

    assert check_unit_dataset_answer(kit_dataset, image_files, SHAPE, count=COUNT).startswith(
        "Bravo"
    )


@pytest.mark.parametrize(
    ("transform", "hint"),
    [
        (lambda p: [p[np.newaxis].astype(np.float64)], "float64"),  # np.asarray(image) / 255.0
        (lambda p: [(p * 255).astype(np.uint8)[np.newaxis]], "uint8"),
        (lambda p: p[np.newaxis], "tableau seul"),  # yield image instead of yield [image]
        (lambda p: (p[np.newaxis],), "tuple"),
        (lambda p: [p[np.newaxis], p[np.newaxis]], "une seule entrée"),
        (lambda p: [p], "axe du lot"),  # the batch axis forgotten
        (lambda p: [p.transpose(2, 0, 1)[np.newaxis]], "forme"),  # channels first
        (lambda p: [p[np.newaxis] * 255], "255"),  # not normalized
        (lambda p: [p[np.newaxis] * 2 - 1], "symmetric"),  # [-1, 1] instead of [0, 1]
        (lambda p: [p[::-1][np.newaxis].copy()], "ordre"),  # not the same pixels
    ],
)
def test_unit_dataset_format_mistakes_are_rejected(image_files, transform, hint):
    with pytest.raises(AssertionError, match=hint):
        check_unit_dataset_answer(
            make_dataset(image_files, transform), image_files, SHAPE, count=COUNT
        )


def test_unit_dataset_wrong_order_or_count_is_rejected(image_files):
    reverse = list(range(COUNT))[::-1]
    with pytest.raises(AssertionError, match="calibration_files"):
        check_unit_dataset_answer(
            make_dataset(image_files, order=reverse), image_files, SHAPE, count=COUNT
        )
    with pytest.raises(AssertionError, match="il en faut 30"):
        check_unit_dataset_answer(
            make_dataset(image_files, count=COUNT - 1), image_files, SHAPE, count=COUNT
        )
    with pytest.raises(AssertionError, match="Plus de 30"):
        check_unit_dataset_answer(
            make_dataset(image_files, count=COUNT + 5), image_files, SHAPE, count=COUNT
        )


def test_unit_dataset_that_loads_everything_first_is_rejected(image_files):
    streaming = make_dataset(image_files)

    def capsule_dataset():  # the capsule's loader: every image in a list, then yield
        images = list(streaming())
        yield from images

    def a_list():
        return list(streaming())

    with pytest.raises(AssertionError, match="capsule"):
        check_unit_dataset_answer(capsule_dataset, image_files, SHAPE, count=COUNT)
    with pytest.raises(AssertionError, match="générateur"):
        check_unit_dataset_answer(a_list, image_files, SHAPE, count=COUNT)
