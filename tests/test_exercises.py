"""Les vérificateurs des exercices des notebooks 00 à 06 : « À vous » tant que la réponse manque,
« Bravo » pour la bonne réponse, et un refus (AssertionError) pour chaque erreur classique."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from helpers.core.images import normalize, read_image
from helpers.core.runtime import quantize_values
from helpers.course.exercises import (
    HARDWARE_SITUATIONS,
    check_concatenated_scale_answer,
    check_hardware_choice_answer,
    check_int8_size_answer,
    check_keep_float_answer,
    check_quantize_by_hand_answer,
    check_quantized_image_answer,
    check_sha256_answer,
    check_uint8_model_answer,
    check_unit_dataset_answer,
)

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
    from helpers.base.paths import DEMO_MODEL_DIR

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
    def body_to_write(): ...

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


# --------------------------------------------------------------------------------------------
# Notebook 02: a uint8 model, and which mode for which hardware
# --------------------------------------------------------------------------------------------


def test_uint8_placeholder_gets_instructions(raw_tflite_models):
    message = check_uint8_model_answer(None, raw_tflite_models["int8-full"])
    assert message.startswith("À vous") and "converter.convert()" in message


def test_uint8_right_answer_is_accepted(raw_tflite_models, uint8_int8_full):
    images = np.random.default_rng(0).uniform(-1, 1, (4, 64, 64, 3)).astype(np.float32)
    message = check_uint8_model_answer(
        uint8_int8_full, raw_tflite_models["int8-full"], images, np.zeros(4, int)
    )
    assert message.startswith("Bravo") and "-1 + 128 = 127" in message
    assert "exactitude" in message and "0,007843" in message


@pytest.mark.parametrize(
    ("mode", "hint"),
    [
        ("int8-full", "int8 est le type par défaut"),  # the two lines left as in int8-full
        ("int8", "flottantes"),  # no inference type at all: float input and output
    ],
)
def test_uint8_wrong_input_type_is_rejected(raw_tflite_models, mode, hint):
    with pytest.raises(AssertionError, match=rf"L'entrée.*inference_input_type.*{hint}"):
        check_uint8_model_answer(raw_tflite_models[mode], raw_tflite_models["int8-full"])


@pytest.fixture(scope="module")
def uint8_input_int8_output() -> bytes:
    """inference_input_type set to uint8, inference_output_type forgotten (int8)."""
    import tensorflow as tf

    from helpers.base.paths import CALIBRATION_DIR, DEMO_MODEL_DIR
    from helpers.steps.calibration import representative_dataset

    converter = tf.lite.TFLiteConverter.from_saved_model(str(DEMO_MODEL_DIR))
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative_dataset(CALIBRATION_DIR, DEMO_MODEL_DIR)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.uint8
    converter.inference_output_type = tf.int8
    return converter.convert()


def test_uint8_wrong_output_type_is_rejected(raw_tflite_models, uint8_input_int8_output):
    with pytest.raises(AssertionError, match="La sortie.*inference_output_type"):
        check_uint8_model_answer(uint8_input_int8_output, raw_tflite_models["int8-full"])


def test_uint8_other_calibration_is_rejected(uint8_int8_full, raw_tflite_models):
    # Measured against another model's input: the scale and zero point do not match.
    from tiny_models import free_size_model

    with pytest.raises(AssertionError, match="même jeu"):
        check_uint8_model_answer(uint8_int8_full, free_size_model())


def test_uint8_answer_must_be_the_converted_bytes(raw_tflite_models):
    class TFLiteConverterV2:  # the converter kept instead of converter.convert()
        pass

    reference = raw_tflite_models["int8-full"]
    with pytest.raises(AssertionError, match="convertisseur lui-même"):
        check_uint8_model_answer(TFLiteConverterV2(), reference)
    with pytest.raises(AssertionError, match="octets"):
        check_uint8_model_answer("modele.tflite", reference)
    with pytest.raises(AssertionError, match="lisible"):
        check_uint8_model_answer(b"pas un modele", reference)


RIGHT_CHOICE = {situation: mode for situation, (mode, _) in HARDWARE_SITUATIONS.items()}
CORAL, NO_IMAGES, GPU, CPU = HARDWARE_SITUATIONS


def test_hardware_placeholder_gets_instructions():
    assert check_hardware_choice_answer(dict.fromkeys(RIGHT_CHOICE)).startswith("À vous")
    partly = {**RIGHT_CHOICE, GPU: None}
    message = check_hardware_choice_answer(partly)
    assert message.startswith("À vous") and "3 choix déjà justes" in message


def test_hardware_right_answer_is_accepted():
    assert check_hardware_choice_answer(dict(RIGHT_CHOICE)).startswith("Bravo")


@pytest.mark.parametrize(
    ("situation", "wrong", "hint"),
    [
        (CORAL, "int8", "QUANTIZE"),  # the capsule's mode keeps float edges
        (CORAL, "float16", "n'exécute que des entiers"),
        (NO_IMAGES, "int8", "images d'étalonnage"),
        (NO_IMAGES, "int8-full", "images d'étalonnage"),
        (NO_IMAGES, "float16", "sans étalonnage"),
        (GPU, "float32", "référence"),
        (GPU, "int8", "demi-précision"),
        (CPU, "int8-full", "quantifier l'image elle-même"),
        (CPU, "float16", "ne calcule pas en float16"),
    ],
)
def test_hardware_wrong_choice_is_rejected_with_a_hint(situation, wrong, hint):
    with pytest.raises(AssertionError, match=hint):
        check_hardware_choice_answer({**RIGHT_CHOICE, situation: wrong})


def test_hardware_wrong_choice_is_caught_even_with_others_pending():
    answer = {**dict.fromkeys(RIGHT_CHOICE), CORAL: "int8"}
    with pytest.raises(AssertionError, match="Edge TPU"):
        check_hardware_choice_answer(answer)


def test_hardware_unknown_mode_and_changed_keys_are_rejected():
    with pytest.raises(AssertionError, match="pas un mode du cours"):
        check_hardware_choice_answer({**RIGHT_CHOICE, GPU: "fp16"})
    with pytest.raises(AssertionError, match="Gardez les quatre situations"):
        check_hardware_choice_answer({"GPU": "float16"})
    with pytest.raises(AssertionError, match="dictionnaire"):
        check_hardware_choice_answer(["int8-full", "dynamic", "float16", "int8"])


# --------------------------------------------------------------------------------------------
# Notebook 03: quantize by hand, and what the integer 0 means
# --------------------------------------------------------------------------------------------

INPUT_DETAIL = {"name": "image", "dtype": np.int8, "quantization": (2 / 255, -1)}
OUTPUT_DETAIL = {"name": "probabilites", "dtype": np.int8, "quantization": (1 / 256, -128)}
IMAGES = (
    np.random.default_rng(0).integers(0, 256, (3, 8, 8, 3)).astype(np.float32) * (2 / 255) - 1
).astype(np.float32)
REAL_OF_ZERO = 0.5  # (1/256) × (0 − (−128))


def right_quantize(values, scale, zero_point, dtype=np.int8):
    limits = np.iinfo(dtype)
    quantized = np.round(np.asarray(values) / scale) + zero_point
    return np.clip(quantized, limits.min, limits.max).astype(dtype)


def check(function, real_of_zero=REAL_OF_ZERO):
    return check_quantize_by_hand_answer(
        function, real_of_zero, INPUT_DETAIL, OUTPUT_DETAIL, IMAGES
    )


def test_quantize_placeholders_get_instructions():
    def to_write(values, scale, zero_point, dtype=np.int8):
        return None  # à compléter

    assert check(None, None).startswith("À vous")
    assert check(to_write, None).startswith("À vous")
    message = check(right_quantize, None)
    assert message.startswith("À vous") and "real_of_zero" in message
    message = check(to_write, REAL_OF_ZERO)
    assert message.startswith("À vous") and "quantize_by_hand" in message


def test_quantize_right_answer_is_accepted():
    message = check(right_quantize)
    assert message.startswith("Bravo") and "vaut 0,5" in message


def test_quantize_float64_rounding_of_the_pixels_is_accepted():
    # The pixels fall near halves (x / s = p − 127.5): float64 may round them one step apart.
    def in_float64(values, scale, zero_point, dtype=np.int8):
        return right_quantize(np.asarray(values, dtype=np.float64), scale, zero_point, dtype)

    def half_up(values, scale, zero_point, dtype=np.int8):
        limits = np.iinfo(dtype)
        quantized = np.floor(np.asarray(values) / scale + 0.5) + zero_point
        return np.clip(quantized, limits.min, limits.max).astype(dtype)

    assert check(in_float64).startswith("Bravo")
    assert check(half_up).startswith("Bravo")


def no_rounding(values, scale, zero_point, dtype=np.int8):
    limits = np.iinfo(dtype)
    return np.clip(np.asarray(values) / scale + zero_point, limits.min, limits.max).astype(dtype)


def no_clipping(values, scale, zero_point, dtype=np.int8):
    return (np.round(np.asarray(values) / scale) + zero_point).astype(np.int64).astype(dtype)


def zero_point_subtracted(values, scale, zero_point, dtype=np.int8):
    return right_quantize(values, scale, -zero_point, dtype)


def zero_point_forgotten(values, scale, zero_point, dtype=np.int8):
    return right_quantize(values, scale, 0, dtype)


def multiplied(values, scale, zero_point, dtype=np.int8):
    return right_quantize(np.asarray(values) * scale**2, scale, zero_point, dtype)


def int8_bounds_always(values, scale, zero_point, dtype=np.int8):
    quantized = np.clip(np.round(np.asarray(values) / scale) + zero_point, -128, 127)
    return quantized.astype(dtype)


def floor_rounding(values, scale, zero_point, dtype=np.int8):
    limits = np.iinfo(dtype)
    quantized = np.floor(np.asarray(values) / scale) + zero_point
    return np.clip(quantized, limits.min, limits.max).astype(dtype)


def no_astype(values, scale, zero_point, dtype=np.int8):
    limits = np.iinfo(dtype)
    return np.clip(np.round(np.asarray(values) / scale) + zero_point, limits.min, limits.max)


def astype_only(values, scale, zero_point, dtype=np.int8):
    return np.asarray(values).astype(dtype)  # the pitfall shown in the notebook


@pytest.mark.parametrize(
    ("function", "hint"),
    [
        (no_rounding, "l'arrondi"),
        (floor_rounding, "np.floor"),
        (no_clipping, "bornes du type"),
        (zero_point_subtracted, "s'ajoute"),
        (zero_point_forgotten, "Il manque le point zéro"),
        (multiplied, "Divisez par l'échelle"),
        (int8_bounds_always, "np.iinfo"),
        (no_astype, "astype"),
        (astype_only, "au lieu de"),
    ],
)
def test_quantize_classic_mistakes_are_rejected_with_their_hint(function, hint):
    with pytest.raises(AssertionError, match=hint):
        check(function)


def test_quantize_mistake_is_caught_even_with_real_of_zero_pending():
    with pytest.raises(AssertionError, match="arrondi"):
        check(no_rounding, None)


def test_quantize_student_exception_becomes_a_hint():
    def broken(values, scale, zero_point, dtype=np.int8):
        return np.iinfo(dtype).nope

    with pytest.raises(AssertionError, match="AttributeError"):
        check(broken)


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (-0.5, "signe"),  # scale × (0 + zero point)
        (0.0, "ne représente pas le réel 0"),
        (-128, "C'est le point zéro"),
        (128, "Il manque l'échelle"),
        ((2 / 255) * 1, "paramètres de l'entrée"),
        (0.25, "Relisez"),
    ],
)
def test_real_of_zero_mistakes_are_rejected(wrong, hint):
    with pytest.raises(AssertionError, match=hint):
        check(right_quantize, wrong)


def test_quantize_on_real_images_is_compared_to_litert():
    def off_by_one_on_big_values(values, scale, zero_point, dtype=np.int8):
        quantized = right_quantize(values, scale, zero_point, dtype)
        if np.asarray(values).size > 10:  # passes the small cases, fails on the images
            quantized = np.clip(quantized.astype(np.int64) + 1, -128, 127).astype(dtype)
        return quantized

    with pytest.raises(AssertionError, match="LiteRT"):
        check(off_by_one_on_big_values)
    assert np.array_equal(
        right_quantize(IMAGES, 2 / 255, -1), quantize_values(IMAGES, INPUT_DETAIL)
    )


# --------------------------------------------------------------------------------------------
# Notebook 04: the sha256 of a file, read by blocks
# --------------------------------------------------------------------------------------------


@pytest.fixture()
def model_file(tmp_path) -> tuple[Path, str]:
    """A 200 000-byte file (several 65 536-byte blocks, a shorter last one) and its sha256."""
    content = np.random.default_rng(0).integers(0, 256, 200_000, dtype=np.uint8).tobytes()
    path = tmp_path / "modele.tflite"
    path.write_bytes(content)
    (tmp_path / "modele.json").write_text(
        json.dumps({"sha256": hashlib.sha256(content).hexdigest()}), encoding="utf-8"
    )
    return path, hashlib.sha256(content).hexdigest()


def by_blocks(path, block_size=65536):
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(block_size), b""):
            digest.update(block)
    return digest.hexdigest()


def by_blocks_with_pathlib(path, block_size=65536):
    digest = hashlib.sha256()
    with Path(path).open("rb") as stream:
        while block := stream.read(block_size):
            digest.update(block)
    return digest.hexdigest()


def test_sha256_placeholder_gets_instructions(model_file):
    def to_write(path, block_size=65536):
        return None  # à compléter

    for placeholder in (None, ..., to_write):
        assert check_sha256_answer(placeholder, *model_file).startswith("À vous")


@pytest.mark.parametrize("function", [by_blocks, by_blocks_with_pathlib])
def test_sha256_right_answer_is_accepted(model_file, function):
    assert check_sha256_answer(function, *model_file).startswith("Bravo")


def whole_file(path, block_size=65536):
    with open(path, "rb") as stream:
        return hashlib.sha256(stream.read()).hexdigest()


def whole_file_with_pathlib(path, block_size=65536):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def fixed_blocks(path, block_size=65536):
    return by_blocks(path)  # block_size ignored


def first_block_only(path, block_size=65536):
    with open(path, "rb") as stream:
        return hashlib.sha256(stream.read(block_size)).hexdigest()


def new_hash_each_block(path, block_size=65536):
    result = hashlib.sha256(b"").hexdigest()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(block_size), b""):
            result = hashlib.sha256(block).hexdigest()
    return result


def raw_digest(path, block_size=65536):
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(block_size), b""):
            digest.update(block)
    return digest.digest()


def md5_by_blocks(path, block_size=65536):
    digest = hashlib.md5()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(block_size), b""):
            digest.update(block)
    return digest.hexdigest()


def text_mode(path, block_size=65536):
    digest = hashlib.sha256()
    with open(path, encoding="utf-8") as stream:
        for block in iter(lambda: stream.read(block_size), ""):
            digest.update(block)
    return digest.hexdigest()


def none_for_empty_file(path, block_size=65536):
    digest = None
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(block_size), b""):
            digest = digest or hashlib.sha256()
            digest.update(block)
    return digest.hexdigest() if digest else None


def stops_before_a_short_block(path, block_size=65536):
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while len(block := stream.read(block_size)) == block_size:
            digest.update(block)
    return digest.hexdigest()


@pytest.mark.parametrize(
    ("function", "hint"),
    [
        (whole_file, "d'un coup"),
        (whole_file_with_pathlib, "d'un coup"),
        (fixed_blocks, "blocs de"),
        (first_block_only, "premier bloc"),
        (new_hash_each_block, "dernier bloc"),
        (raw_digest, "hexdigest"),
        (md5_by_blocks, "algorithme"),
        (text_mode, "binaire"),
        (none_for_empty_file, "fichier vide"),
        (stops_before_a_short_block, "plus court"),
    ],
)
def test_sha256_classic_mistakes_are_rejected_with_their_hint(model_file, function, hint):
    with pytest.raises(AssertionError, match=hint):
        check_sha256_answer(function, *model_file)


def test_sha256_open_is_restored_after_the_check(model_file):
    import builtins
    import io

    before = builtins.open, io.open
    check_sha256_answer(by_blocks, *model_file)
    with pytest.raises(AssertionError):
        check_sha256_answer(text_mode, *model_file)
    assert (builtins.open, io.open) == before


# --- notebook 06: the layers to keep in float ---------------------------------------------------

# Twelve layers in four blocks; the signal is lost in block 2: the fake measure gives float32's
# accuracy back only when both layers of block 2 stay in float, like the real fragile model.
LAYERS_06 = [
    f"model/bloc{n}_{part}/Relu;model/bloc{n}_{part}/BiasAdd"
    for n in range(1, 5)
    for part in ("expansion", "depthwise", "projection")
]
FLOAT_06 = 0.9875


def accuracy_06(kept):
    """Fake measure: 98.4 % with block 2's expansion and depthwise in float, else 95 %."""
    needed = LAYERS_06[3:5]
    return 0.984 if all(name in kept for name in needed) else 0.95


def test_keep_float_placeholder_gives_instructions():
    assert check_keep_float_answer(None, LAYERS_06, FLOAT_06, accuracy_06).startswith("À vous")


def test_keep_float_right_answer():
    for answer in (["bloc2_"], ("bloc2_expansion", "bloc2_depthwise"), ["bloc2_e", "bloc2_d"]):
        message = check_keep_float_answer(answer, LAYERS_06, FLOAT_06, accuracy_06)
        assert message.startswith("Bravo") and "98,40 %" in message


LOST_AT_06 = LAYERS_06[3]  # block 2's expansion, where the fake signal is lost


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("bloc2_", "liste"),  # a string, not a list
        (["bloc2_expansion"], "bon endroit, mais pas assez"),  # not enough: accuracy not back
        (["bloc1_"], "ne sont pas les couches où le signal se perd"),  # the wrong block
        ([".*"], "couches sur 12"),  # everything in float
        (["bloc[12]_"], "Visez au plus 3"),
        (["bloc9"], "ne correspond à aucun"),
        (["bloc2_("], "expression régulière"),
    ],
)
def test_keep_float_wrong_answers_are_rejected(answer, message):
    with pytest.raises(AssertionError, match=message):
        check_keep_float_answer(answer, LAYERS_06, FLOAT_06, accuracy_06, LOST_AT_06)


def test_keep_float_without_the_loss_gives_the_general_hint():
    with pytest.raises(AssertionError, match="ne sont pas les couches"):
        check_keep_float_answer(["bloc2_expansion"], LAYERS_06, FLOAT_06, accuracy_06)


def test_keep_float_limit_is_at_least_one_layer():
    names = LAYERS_06[3:5]
    assert check_keep_float_answer(["bloc2_e"], names, FLOAT_06, lambda kept: FLOAT_06).startswith(
        "Bravo"
    )


# --------------------------------------------------------------------------------------------
# Notebook 05: one int8 scale for pixels and scores
# --------------------------------------------------------------------------------------------

RIGHT_SCALE = 640 / 255


def test_concatenated_placeholders_get_instructions():
    message = check_concatenated_scale_answer(None, None)
    assert message.startswith("À vous") and "None" in message
    assert check_concatenated_scale_answer(..., 0.0).startswith("À vous")
    message = check_concatenated_scale_answer(RIGHT_SCALE, 0.0, zero_point=None)
    assert message.startswith("À vous") and "zero_point_640" in message


def test_concatenated_right_answer_is_accepted():
    assert check_concatenated_scale_answer(RIGHT_SCALE, 0.0).startswith("Bravo")
    message = check_concatenated_scale_answer(RIGHT_SCALE, 0.0, zero_point=-128)
    assert message.startswith("Bravo") and "point zéro -128" in message


@pytest.mark.parametrize("wrong_scale", [640 / 256, 640 / 127, 1 / 256, 2.0])
def test_concatenated_wrong_scale_is_rejected_with_a_hint(wrong_scale):
    with pytest.raises(AssertionError, match="Échelle"):
        check_concatenated_scale_answer(wrong_scale, 0.0, zero_point=-128)


def test_concatenated_off_by_one_step_count_gets_the_specific_hint():
    with pytest.raises(AssertionError, match="255"):
        check_concatenated_scale_answer(640 / 256, 0.0)


@pytest.mark.parametrize("wrong_zero_point", [0, 127, -127, 128])
def test_concatenated_wrong_zero_point_is_rejected(wrong_zero_point):
    # The dequantized score is 0 whatever the zero point (it cancels out): only this catches it.
    with pytest.raises(AssertionError, match="Point zéro"):
        check_concatenated_scale_answer(RIGHT_SCALE, 0.0, zero_point=wrong_zero_point)


def test_concatenated_symmetric_zero_point_gets_its_hint():
    with pytest.raises(AssertionError, match="symétrique"):
        check_concatenated_scale_answer(RIGHT_SCALE, 0.0, zero_point=0)


@pytest.mark.parametrize("wrong_score", [0.9, RIGHT_SCALE, -RIGHT_SCALE])
def test_concatenated_score_that_survives_is_rejected(wrong_score):
    with pytest.raises(AssertionError, match="déquantifi"):
        check_concatenated_scale_answer(RIGHT_SCALE, wrong_score, zero_point=-128)


def test_concatenated_small_image_keeps_some_scores():
    # At 128×128 the step is about 0.5: a score of 0.9 is 1.8 steps, it comes back as 2 steps.
    scale = 128 / 255
    assert check_concatenated_scale_answer(scale, 2 * scale, input_size=128).startswith("Bravo")
    with pytest.raises(AssertionError):
        check_concatenated_scale_answer(scale, 0.0, input_size=128)


# --------------------------------------------------------------------------------------------
# The capsule: one image quantized for an int8-full model
# --------------------------------------------------------------------------------------------

# Values off the exact halves of the pixels, plus black and white (-1 and 1, where the bounds of
# int8 matter) and 0.
CAPSULE_IMAGE = np.concatenate(
    [np.random.default_rng(1).uniform(-0.99, 0.99, 40), [-1.0, 1.0, 0.0]]
).astype(np.float32)
CAPSULE_IMAGE = CAPSULE_IMAGE.reshape(1, 1, -1, 1)
CAPSULE_SCALE, CAPSULE_ZERO_POINT = INPUT_DETAIL["quantization"]


def test_quantized_image_placeholder_gets_instructions():
    message = check_quantized_image_answer(None, CAPSULE_IMAGE, INPUT_DETAIL)
    assert message.startswith("À vous") and "None" in message


def test_quantized_image_right_answer_is_accepted():
    right = np.clip(np.round(CAPSULE_IMAGE / CAPSULE_SCALE) + CAPSULE_ZERO_POINT, -128, 127).astype(
        np.int8
    )
    message = check_quantized_image_answer(right, CAPSULE_IMAGE, INPUT_DETAIL)
    assert message.startswith("Bravo") and "de -128 à" in message
    kit = quantize_values(CAPSULE_IMAGE, INPUT_DETAIL)  # the kit's quantization is the reference
    assert check_quantized_image_answer(kit, CAPSULE_IMAGE, INPUT_DETAIL).startswith("Bravo")


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (lambda x: x.astype(np.int8), "astype seul"),
        (lambda x: np.clip(np.trunc(x / CAPSULE_SCALE) + CAPSULE_ZERO_POINT, -128, 127), "arrondi"),
        (lambda x: np.clip(np.round(x / CAPSULE_SCALE), -128, 127), "point zéro"),
        (
            lambda x: np.clip(np.round(x / CAPSULE_SCALE) - CAPSULE_ZERO_POINT, -128, 127),
            "s'ajoute",
        ),
        (lambda x: np.clip(np.round(x * CAPSULE_SCALE) + CAPSULE_ZERO_POINT, -128, 127), "Divisez"),
    ],
)
def test_quantized_image_classic_mistakes_are_rejected_with_their_hint(wrong, hint):
    answer = np.asarray(wrong(CAPSULE_IMAGE)).astype(np.int64).astype(np.int8)
    with pytest.raises(AssertionError, match=hint):
        check_quantized_image_answer(answer, CAPSULE_IMAGE, INPUT_DETAIL)


def test_quantized_image_missing_rounding_is_caught_on_pixels_at_exact_halves():
    # Normalized pixels are on exact halves of the step 2/255: truncation must still fail.
    pixels = IMAGES[:1]
    truncated = np.clip(np.trunc(pixels / CAPSULE_SCALE) + CAPSULE_ZERO_POINT, -128, 127)
    with pytest.raises(AssertionError, match="arrondi"):
        check_quantized_image_answer(truncated.astype(np.int8), pixels, INPUT_DETAIL)
    right = quantize_values(pixels, INPUT_DETAIL)
    assert check_quantized_image_answer(right, pixels, INPUT_DETAIL).startswith("Bravo")


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (CAPSULE_IMAGE.tolist(), "tableau numpy"),
        (np.zeros(CAPSULE_IMAGE.shape[1:], np.int8), "Forme"),  # the batch axis dropped
        (np.zeros(CAPSULE_IMAGE.shape, np.float32), "Type float32"),
        (np.zeros(CAPSULE_IMAGE.shape, np.uint8), "Type uint8"),
    ],
)
def test_quantized_image_must_be_an_int8_array_of_the_image_shape(answer, hint):
    with pytest.raises(AssertionError, match=hint):
        check_quantized_image_answer(answer, CAPSULE_IMAGE, INPUT_DETAIL)
