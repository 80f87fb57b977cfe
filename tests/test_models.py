"""Chargement du modèle de démonstration, vérification de l'environnement, ligne de commande."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from helpers.base.environment import check_environment, environment_checks
from helpers.base.errors import KitError
from helpers.base.paths import DEMO_MODEL_DIR, DEMO_MODEL_RECORD, ROOT, TEST_DIR
from helpers.cli import LEGACY_COMMANDS, build_parser, main
from helpers.core.images import load_labeled_images
from helpers.core.models import load_saved_model
from helpers.demo import data as demo_data


@pytest.fixture(scope="module")
def demo_model():
    return load_saved_model(DEMO_MODEL_DIR)


def test_demo_model_input_is_read_from_the_signature(demo_model):
    assert demo_model.input.shape == (None, 64, 64, 3)
    assert demo_model.input.dtype == "float32"
    assert demo_model.input.size == (64, 64)


def test_demo_model_outputs_probabilities(demo_model):
    images = np.zeros((3, 64, 64, 3), dtype=np.float32)
    probabilities = demo_model.predict(images)
    assert probabilities.shape == (3, len(demo_data.LABELS))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_demo_model_float_accuracy_matches_its_record(demo_model):
    record = json.loads(DEMO_MODEL_RECORD.read_text(encoding="utf-8"))
    images, targets = load_labeled_images(TEST_DIR, list(demo_data.LABELS), (64, 64))
    accuracy = float(np.mean(np.argmax(demo_model.predict(images), axis=1) == targets))
    assert accuracy >= 0.95
    assert abs(accuracy - record["precision_flottante_test"]) < 0.005


def test_demo_model_serves_frozen_weights_and_keeps_its_variables_to_read():
    import tensorflow as tf

    loaded = tf.saved_model.load(str(DEMO_MODEL_DIR))
    # The serving function reads no variable (the converter has nothing to freeze)...
    assert loaded.signatures["serving_default"].captured_inputs == []
    # ...and the variables notebook 00 reads are those model.export lists, by the same names.
    names = [variable.name for variable in loaded.trainable_variables]
    assert names[0] == "conv_entree/kernel:0" and len(names) == 47
    floats = [variable for variable in loaded.variables if variable.dtype.is_floating]
    count = sum(int(np.prod(variable.shape)) for variable in floats)
    assert count == json.loads(DEMO_MODEL_RECORD.read_text(encoding="utf-8"))["parametres"]


def test_export_frozen_keeps_the_variables_model_export_would_list(tmp_path):
    import keras
    import tensorflow as tf

    from helpers.core.models import export_frozen

    inputs = keras.Input((8, 8, 3), name="image")
    features = keras.layers.BatchNormalization()(keras.layers.Conv2D(2, 3, name="conv")(inputs))
    features = keras.layers.Dropout(0.2)(keras.layers.GlobalAveragePooling2D()(features))
    model = keras.Model(inputs, features)
    model.export(str(tmp_path / "export"), verbose=False)
    export_frozen(model, tmp_path / "fige", keep_variables=True)
    exported, frozen = (tf.saved_model.load(str(tmp_path / name)) for name in ("export", "fige"))
    for attribute in ("variables", "trainable_variables", "non_trainable_variables"):
        names = [variable.name for variable in getattr(frozen, attribute)]
        assert names == [variable.name for variable in getattr(exported, attribute)], attribute
    image = tf.random.uniform((2, 8, 8, 3), -1, 1, seed=0)
    np.testing.assert_allclose(
        frozen.signatures["serving_default"](image=image)["output_0"],
        exported.signatures["serving_default"](image=image)["output_0"],
        atol=1e-5,
    )
    assert frozen.signatures["serving_default"].captured_inputs == []


def test_missing_demo_model_names_the_rebuild_command(tmp_path, monkeypatch):
    import helpers.core.models as models

    monkeypatch.setattr(models, "DEMO_MODEL_DIR", tmp_path / "modele_demo")
    with pytest.raises(KitError, match="make demo-model"):
        load_saved_model(tmp_path / "modele_demo")


def test_broken_saved_model_is_a_french_error(tmp_path):
    broken = tmp_path / "mon_modele"
    shutil.copytree(DEMO_MODEL_DIR, broken)
    (broken / "saved_model.pb").write_bytes(b"ceci n'est pas un modele")
    with pytest.raises(KitError, match="n'est pas un SavedModel"):
        load_saved_model(broken)


def test_folder_without_saved_model_is_a_french_error(tmp_path):
    with pytest.raises(KitError, match="saved_model.pb"):
        load_saved_model(tmp_path)


def test_environment_check_passes_here():
    assert all(check.ok for check in check_environment())


def test_unsupported_python_is_reported_with_the_fix():
    checks = environment_checks(python_version=(3, 9))
    assert not checks[0].ok
    with pytest.raises(KitError, match=r"Python 3\.10, 3\.11 ou 3\.12"):
        check_environment(python_version=(3, 13))


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "helpers", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )


def test_cli_check_succeeds():
    result = run_cli("check")
    assert result.returncode == 0, result.stderr
    assert "Environnement prêt" in result.stdout


def test_old_french_command_names_still_work_but_are_no_longer_shown(capsys):
    assert main(["verifier"]) == 0
    assert "Environnement prêt" in capsys.readouterr().out
    shown = build_parser().format_help()
    for old, new in LEGACY_COMMANDS.items():
        assert new in shown and old not in shown


def test_cli_unknown_command_is_a_french_error():
    result = run_cli("quantifier-tout")
    assert result.returncode == 2
    assert result.stderr.startswith("Erreur :")
    assert "Traceback" not in result.stderr


def test_labeled_images_can_be_read_as_grayscale():
    images, targets = load_labeled_images(TEST_DIR, list(demo_data.LABELS), (16, 24), "unit", 1)
    assert images.shape == (len(targets), 16, 24, 1)
    assert images.dtype == np.float32 and 0.0 <= images.min() and images.max() <= 1.0


def test_predict_refuses_a_model_with_several_outputs(tmp_path):
    from tiny_models import two_output_saved_model

    two_output_saved_model(tmp_path / "detecteur")
    model = load_saved_model(tmp_path / "detecteur")
    assert model.input.size == (64, 64)
    with pytest.raises(KitError, match=r"2 sorties \(boites, scores\).*une à une"):
        model.predict(np.zeros((1, 64, 64, 3), dtype=np.float32))


def test_several_inputs_say_how_to_feed_them():
    import tensorflow as tf

    from helpers.core.models import input_spec

    class TwoInputs:
        structured_input_signature = (
            (),
            {
                "image": tf.TensorSpec([1, 8, 8, 3], tf.float32),
                "masque": tf.TensorSpec([1, 8, 8, 1], tf.float32),
            },
        )

    with pytest.raises(KitError, match=r"2 entrées \(image, masque\).*get_signature_runner"):
        input_spec(TwoInputs())


def test_missing_model_folder_is_reported_as_missing(tmp_path):
    with pytest.raises(KitError, match="Dossier du modèle introuvable"):
        load_saved_model(tmp_path / "mon_modele")
