"""Les vérificateurs des exercices des notebooks 00 à 04 : « À vous » tant que la réponse manque,
« Bravo » pour la bonne réponse, et un refus (AssertionError) pour chaque erreur classique."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.exercises import (
    check_int8_size_answer,
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
    from helpers.paths import DEMO_MODEL_DIR

    loaded = tf.saved_model.load(str(DEMO_MODEL_DIR))
    message = check_int8_size_answer(104.2, loaded.variables)
    assert "104 176 valeurs" in message and "104,2 ko" in message
    with pytest.raises(AssertionError, match="noyaux"):
        check_int8_size_answer(109.8, loaded.variables)  # parameter_count / 1000
