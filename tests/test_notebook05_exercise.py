"""Le vérificateur de l'exercice du notebook 05 : il guide, il refuse les mauvaises réponses."""

from __future__ import annotations

import pytest

from helpers.steps.detection import check_concatenated_scale_answer

RIGHT_SCALE = 640 / 255


def test_placeholder_gets_instructions_not_an_exception():
    message = check_concatenated_scale_answer(None, None)
    assert message.startswith("À vous")
    assert "None" in message


def test_ellipsis_counts_as_a_placeholder():
    assert check_concatenated_scale_answer(..., 0.0).startswith("À vous")


def test_right_answer_is_accepted():
    assert check_concatenated_scale_answer(RIGHT_SCALE, 0.0).startswith("Bravo")


@pytest.mark.parametrize("wrong_scale", [640 / 256, 640 / 127, 1 / 256, 2.0])
def test_wrong_scale_is_rejected_with_a_hint(wrong_scale):
    with pytest.raises(AssertionError, match="Échelle"):
        check_concatenated_scale_answer(wrong_scale, 0.0)


def test_off_by_one_step_count_gets_the_specific_hint():
    with pytest.raises(AssertionError, match="255"):
        check_concatenated_scale_answer(640 / 256, 0.0)


@pytest.mark.parametrize("wrong_score", [0.9, RIGHT_SCALE, -RIGHT_SCALE])
def test_score_that_survives_is_rejected(wrong_score):
    with pytest.raises(AssertionError, match="déquantifi"):
        check_concatenated_scale_answer(RIGHT_SCALE, wrong_score)


def test_small_image_keeps_some_scores():
    # At 128×128 the step is about 0.5: a score of 0.9 is 1.8 steps, it comes back as 2 steps.
    scale = 128 / 255
    assert check_concatenated_scale_answer(scale, 2 * scale, input_size=128).startswith("Bravo")
    with pytest.raises(AssertionError):
        check_concatenated_scale_answer(scale, 0.0, input_size=128)
