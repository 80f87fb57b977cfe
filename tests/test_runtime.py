"""Exécution d'un .tflite avec LiteRT : liste des opérations, entrées de taille libre, sorties."""

from __future__ import annotations

import numpy as np
import pytest

import helpers.core.runtime as runtime
from helpers.base.errors import KitError
from helpers.core.runtime import (
    check_image_input,
    list_ops,
    load_interpreter,
    run_model,
    run_model_outputs,
)


def test_list_ops_gives_the_file_ops_in_order_without_the_delegate(raw_tflite_models):
    ops = list_ops(raw_tflite_models["int8-full"])
    assert all(isinstance(name, str) for name in ops)
    assert "DELEGATE" not in ops
    assert {"CONV_2D", "DEPTHWISE_CONV_2D", "SOFTMAX"} <= set(ops)
    assert ops.count("CONV_2D") > 1  # one name per op, repetitions included


def test_list_ops_reads_a_file_the_same_as_bytes(raw_tflite_models, tmp_path):
    path = tmp_path / "modele.tflite"
    path.write_bytes(raw_tflite_models["int8"])
    assert list_ops(path) == list_ops(raw_tflite_models["int8"])
    assert list_ops(path)[0] == "QUANTIZE"  # the capsule's int8 model starts with a conversion


def test_litert_without_the_ops_list_names_the_version_to_install(raw_tflite_models, monkeypatch):
    class WithoutOpsList:
        pass

    monkeypatch.setattr(runtime, "load_interpreter", lambda *a, **k: WithoutOpsList())
    with pytest.raises(KitError, match=r"ai-edge-litert==2\.3\.0"):
        list_ops(raw_tflite_models["int8"])


# --- free input size (-1) ------------------------------------------------------------------


def _images(size, count=3, channels=3):
    rng = np.random.default_rng(0)
    return rng.uniform(-1, 1, (count, size, size, channels)).astype(np.float32)


def test_run_model_feeds_a_free_size_model_at_the_images_size(free_size_model):
    images = _images(16)
    outputs = run_model(load_interpreter(free_size_model), images)
    assert outputs.shape == (3, 5)
    np.testing.assert_allclose(outputs.sum(axis=1), 1.0, atol=0.03)
    # The same as resizing the input by hand first, as evaluate_model does.
    interpreter = load_interpreter(free_size_model)
    check_image_input(interpreter, (16, 16))
    np.testing.assert_array_equal(run_model(interpreter, images), outputs)
    # And the same interpreter takes another size afterwards.
    assert run_model(interpreter, _images(24, count=1)).shape == (1, 5)


def test_run_model_on_a_free_size_model_still_checks_the_channels(free_size_model):
    with pytest.raises(KitError, match="taille libre.*redimensionnez"):
        run_model(load_interpreter(free_size_model), _images(16, channels=1))


def test_run_model_message_for_a_fixed_size_is_unchanged(raw_tflite_models):
    with pytest.raises(KitError) as error:
        run_model(load_interpreter(raw_tflite_models["int8"]), _images(32))
    assert str(error.value) == (
        "Les images ont la forme (32, 32, 3) mais le modèle attend (64, 64, 3) (hauteur, "
        "largeur, canaux) : redimensionnez-les."
    )


# --- several outputs -----------------------------------------------------------------------


def test_run_model_refuses_a_model_with_several_outputs(two_output_model):
    with pytest.raises(KitError, match="2 sorties .*classifieur à une sortie.*une à une"):
        run_model(load_interpreter(two_output_model), _images(64))


def test_run_model_outputs_gives_every_output_in_the_details_order(two_output_model):
    interpreter = load_interpreter(two_output_model)
    outputs = run_model_outputs(interpreter, _images(64))
    shapes = [tuple(int(n) for n in d["shape"]) for d in interpreter.get_output_details()]
    assert [o.shape[1:] for o in outputs] == [shape[1:] for shape in shapes]
    assert sorted(o.shape for o in outputs) == [(3, 4), (3, 5)]
    assert all(o.dtype == np.float32 for o in outputs)


def test_run_model_of_a_classifier_is_its_only_output(raw_tflite_models):
    images = _images(64)
    single = run_model(load_interpreter(raw_tflite_models["int8-full"]), images)
    (every,) = run_model_outputs(load_interpreter(raw_tflite_models["int8-full"]), images)
    np.testing.assert_array_equal(single, every)


def test_check_image_input_refuses_a_size_the_fixed_model_does_not_have(raw_tflite_models):
    interpreter = load_interpreter(raw_tflite_models["int8-full"])
    assert check_image_input(interpreter, (64, 64)) == (64, 64, 3)
    with pytest.raises(KitError, match="taille fixe 64×64"):
        check_image_input(interpreter, (32, 32))


def test_free_size_message_names_the_input_size_option(free_size_model):
    with pytest.raises(KitError, match=r"--input-size HxW.*input_size=\(hauteur, largeur\)"):
        check_image_input(load_interpreter(free_size_model))


# --- models LiteRT cannot run --------------------------------------------------------------


def test_flex_ops_are_named_with_how_to_reconvert():
    from tiny_models import flex_model

    with pytest.raises(KitError) as error:
        load_interpreter(flex_model())
    message = str(error.value)
    assert "« Flex » ou personnalisées : FlexCumprod)" in message
    assert "reconvertissez-le sans SELECT_TF_OPS" in message


def test_custom_ops_are_named_with_how_to_reconvert():
    from tiny_models import custom_op_model

    with pytest.raises(KitError, match=r"personnalisées : Igamma\).*allow_custom_ops"):
        load_interpreter(custom_op_model())


def test_several_inputs_point_to_the_signature_runner():
    from tiny_models import two_input_model

    with pytest.raises(KitError, match=r"2 entrées.*interpreter\.get_signature_runner\(\)"):
        check_image_input(load_interpreter(two_input_model()))
