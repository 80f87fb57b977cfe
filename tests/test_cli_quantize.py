"""``python -m helpers quantize`` : le contrat de la ligne de commande, sur la démo et sur des
modèles d'élève (taille quelconque, 1 ou 3 canaux, taille libre), et chaque mauvaise entrée."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from test_quantization import export_tiny_model, write_images

from helpers.base.errors import quiet_environment
from helpers.base.paths import CALIBRATION_DIR, DEMO_MODEL_DIR, LABELS_FILE, ROOT
from helpers.cli import main
from helpers.core.images import read_labels
from helpers.core.runtime import sha256_hex
from helpers.steps.calibration import representative_dataset
from helpers.steps.export import build_metadata

DEMO = str(DEMO_MODEL_DIR)
IMAGES = str(CALIBRATION_DIR)


def run_cli(*args):
    environment = quiet_environment()
    return subprocess.run(
        [sys.executable, "-m", "helpers", "quantize", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environment,
        timeout=600,
    )


def input_detail(path):
    from ai_edge_litert.interpreter import Interpreter

    return Interpreter(model_path=str(path)).get_input_details()[0]


def read_json(path):
    return json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))


def assert_refused(capsys, argv, output, match):
    """Exit status 2, a first stderr line « Erreur : ... », no traceback, nothing written."""
    status = main(["quantize", *map(str, argv)])
    error = capsys.readouterr().err
    assert status == 2, error
    first_line = error.splitlines()[0]
    assert first_line.startswith("Erreur : "), error
    assert match in first_line, first_line
    assert "Traceback" not in error
    assert not output.exists() and not output.with_suffix(".json").exists()
    return first_line


# --- the demo model, through a real subprocess ------------------------------------------------


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """The int8-full command run once in a real subprocess, as a student types it."""
    output = tmp_path_factory.mktemp("cli") / "premier" / "modele.tflite"
    return output, run_cli(DEMO, "--images", IMAGES, "--mode", "int8-full", "--output", output)


def test_demo_command_writes_the_model_and_its_metadata(demo_run, raw_tflite_models):
    output, result = demo_run
    assert result.returncode == 0, result.stderr
    assert "modele.tflite écrit" in result.stdout
    content = output.read_bytes()
    assert content == raw_tflite_models["int8-full"]
    metadata = read_json(output)
    assert metadata["mode"] == "int8-full" and metadata["io_type"] == "int8"
    assert metadata["source"] == "data/modele_demo"
    assert metadata["input_size"] == [64, 64] and metadata["normalization"] == "symmetric"
    assert metadata["labels"] == ["anneau", "cercle", "croix", "losange", "triangle"]
    assert metadata["sha256"] == sha256_hex(content)
    assert metadata["inputs"][0]["dtype"] == "int8" and metadata["inputs"][0]["scale"] > 0
    assert metadata["calibration"]["images"] == 120
    assert metadata["versions"]["tensorflow"]


def test_the_notebooks_calls_write_the_same_metadata_as_the_command(demo_run, raw_tflite_models):
    # What notebook 02 does for each mode: convert, then build_metadata with the dataset used.
    output, result = demo_run
    assert result.returncode == 0, result.stderr
    dataset = representative_dataset(IMAGES, DEMO)
    metadata = build_metadata(
        raw_tflite_models["int8-full"],
        mode="int8-full",
        source=DEMO,
        input_size=(64, 64),
        normalization="symmetric",
        labels=read_labels(LABELS_FILE),
        calibration=dataset,
    )
    assert metadata == read_json(output)


def test_demo_command_shows_a_progress_bar_and_no_tensorflow_noise(demo_run):
    _, result = demo_run
    assert "Étalonnage" in result.stderr and "120/120" in result.stderr
    assert "fully_quantize" not in result.stderr and "oneDNN" not in result.stderr


def test_two_runs_give_byte_identical_files(demo_run, tmp_path, capsys):
    first, result = demo_run
    second = tmp_path / "second" / "modele.tflite"
    argv = [DEMO, "--images", IMAGES, "--mode", "int8-full", "--output", second]
    assert main(["quantize", *map(str, argv)]) == 0, capsys.readouterr().err
    assert result.returncode == 0 and first.read_bytes() == second.read_bytes()
    assert first.with_suffix(".json").read_bytes() == second.with_suffix(".json").read_bytes()


def test_bad_input_in_a_subprocess_exits_2_without_traceback(tmp_path):
    output = tmp_path / "modele.tflite"
    result = run_cli(tmp_path / "absent", "--images", IMAGES, "--mode", "int8", "--output", output)
    assert result.returncode == 2
    assert result.stderr.startswith("Erreur : ")
    assert "Traceback" not in result.stderr
    assert not output.exists()


def test_model_error_after_tensorflow_import_is_still_the_first_line(tmp_path):
    model = export_tiny_model(tmp_path / "libre", (None, None, 3))
    output = tmp_path / "modele.tflite"
    result = run_cli(model, "--mode", "float32", "--output", output)
    assert result.returncode == 2
    assert result.stderr.startswith("Erreur : ") and "--input-size" in result.stderr
    assert not output.exists()


# --- students' own models -----------------------------------------------------------------


@pytest.fixture(scope="module")
def student_images(tmp_path_factory):
    # 40×30 RGB photos: the loader resizes them and converts them to grey when needed.
    return write_images(tmp_path_factory.mktemp("etalonnage") / "photos", 12)


def test_grayscale_model_of_its_own_size(tmp_path, student_images, capsys):
    model = export_tiny_model(tmp_path / "gris", (32, 48, 1))
    output = tmp_path / "sorties" / "gris_int8.tflite"
    argv = ["quantize", model, "--images", student_images, "--mode", "int8-full"]
    status = main([*map(str, argv), "--output", str(output), "--min-images", "10"])
    assert status == 0, capsys.readouterr().err
    assert list(input_detail(output)["shape"]) == [1, 32, 48, 1]
    metadata = read_json(output)
    assert metadata["input_size"] == [32, 48] and metadata["channels"] == 1
    assert metadata["labels"] is None


def test_free_size_model_with_input_size(tmp_path, student_images, capsys):
    model = export_tiny_model(tmp_path / "libre", (None, None, 3))
    (tmp_path / "labels.txt").write_text("chat\nchien\noiseau\n", encoding="utf-8")
    output = tmp_path / "libre_int8.tflite"
    argv = [model, "--images", student_images, "--mode", "int8", "--input-size", "24x40"]
    status = main(["quantize", *map(str, argv), "--output", str(output), "--min-images", "10"])
    assert status == 0, capsys.readouterr().err
    detail = input_detail(output)
    assert list(detail["shape_signature"]) == [1, 24, 40, 3]
    metadata = read_json(output)
    assert metadata["input_size"] == [24, 40]
    assert metadata["labels"] == ["chat", "chien", "oiseau"]  # labels.txt beside the model


def test_labels_of_the_wrong_count_are_left_out_with_a_note(tmp_path, capsys):
    model = export_tiny_model(tmp_path / "couleur", (16, 16, 3))
    (tmp_path / "labels.txt").write_text("a\nb\n", encoding="utf-8")
    output = tmp_path / "couleur.tflite"
    assert main(["quantize", str(model), "--mode", "float16", "--output", str(output)]) == 0
    assert "3 sorties mais il y a 2 étiquettes" in capsys.readouterr().err
    assert read_json(output)["labels"] is None


def test_float_mode_needs_no_images_and_says_it_ignores_them(tmp_path, student_images, capsys):
    model = export_tiny_model(tmp_path / "couleur", (16, 16, 3))
    output = tmp_path / "couleur_f16.tflite"
    argv = [model, "--images", student_images, "--mode", "float16", "--output", output]
    assert main(["quantize", *map(str, argv)]) == 0
    assert "--images est ignoré" in capsys.readouterr().err
    assert read_json(output)["mode"] == "float16"
    assert "calibration" not in read_json(output)


def test_force_replaces_an_existing_file(tmp_path, capsys):
    model = export_tiny_model(tmp_path / "couleur", (16, 16, 3))
    output = tmp_path / "modele.tflite"
    output.write_bytes(b"ancien")
    argv = ["quantize", str(model), "--mode", "dynamic", "--output", str(output)]
    assert main(argv) == 2
    assert output.read_bytes() == b"ancien"
    capsys.readouterr()
    assert main([*argv, "--force"]) == 0
    assert output.read_bytes()[4:8] == b"TFL3"
    assert read_json(output)["mode"] == "dynamic"


# --- bad inputs: exit status 2, « Erreur : ... », nothing written ---------------------------


@pytest.fixture
def output(tmp_path):
    return tmp_path / "sortie" / "modele.tflite"


def test_missing_model_dir(tmp_path, output, capsys):
    argv = [tmp_path / "absent", "--images", IMAGES, "--mode", "int8", "--output", output]
    assert_refused(capsys, argv, output, "saved_model.pb")


def test_folder_that_is_not_a_model(output, capsys):
    argv = [CALIBRATION_DIR, "--images", IMAGES, "--mode", "int8", "--output", output]
    assert_refused(capsys, argv, output, "n'est pas un SavedModel")


def test_missing_image_folder(tmp_path, output, capsys):
    argv = [DEMO, "--images", tmp_path / "absent", "--mode", "int8", "--output", output]
    assert_refused(capsys, argv, output, "introuvable")


def test_empty_image_folder(tmp_path, output, capsys):
    (tmp_path / "vide").mkdir()
    argv = [DEMO, "--images", tmp_path / "vide", "--mode", "int8", "--output", output]
    assert_refused(capsys, argv, output, "Aucune image")


def test_too_few_images_says_how_many(tmp_path, output, capsys):
    folder = write_images(tmp_path / "peu", 5)
    argv = [DEMO, "--images", folder, "--mode", "int8-full", "--output", output]
    line = assert_refused(capsys, argv, output, "il en faut au moins 100")
    assert "5 image" in line


def test_files_that_are_not_images(tmp_path, output, capsys):
    folder = tmp_path / "faux"
    folder.mkdir()
    for index in range(3):
        (folder / f"photo_{index}.png").write_text("pas une image", encoding="utf-8")
    argv = [DEMO, "--images", folder, "--mode", "int8", "--output", output, "--min-images", "2"]
    assert_refused(capsys, argv, output, "illisible")


def test_model_whose_input_is_not_an_image(tmp_path, output, capsys):
    import keras

    inputs = keras.Input((10,), name="mesures")
    keras.Model(inputs, keras.layers.Dense(2)(inputs)).export(str(tmp_path / "mlp"), verbose=False)
    argv = [tmp_path / "mlp", "--mode", "float32", "--output", output]
    assert_refused(capsys, argv, output, "ce n'est pas une image")


def test_free_size_model_without_input_size(tmp_path, output, capsys):
    model = export_tiny_model(tmp_path / "libre", (None, None, 3))
    argv = [model, "--mode", "dynamic", "--output", output]
    assert_refused(capsys, argv, output, "--input-size")


def test_input_size_that_contradicts_a_fixed_model(output, capsys):
    argv = [DEMO, "--images", IMAGES, "--mode", "int8", "--input-size", "32x32", "--output", output]
    assert_refused(capsys, argv, output, "64×64")


def test_existing_output_without_force_is_left_untouched(tmp_path, capsys):
    output = tmp_path / "modele.tflite"
    output.write_bytes(b"ancien")
    argv = [DEMO, "--images", IMAGES, "--mode", "int8", "--output", output]
    status = main(["quantize", *map(str, argv)])
    error = capsys.readouterr().err
    assert status == 2 and error.startswith("Erreur : ") and "--force" in error
    assert output.read_bytes() == b"ancien"
    assert not output.with_suffix(".json").exists()


def test_existing_metadata_without_force(tmp_path, capsys):
    output = tmp_path / "modele.tflite"
    output.with_suffix(".json").write_text("{}", encoding="utf-8")
    status = main(["quantize", DEMO, "--mode", "float32", "--output", str(output)])
    assert status == 2 and "modele.json existe déjà" in capsys.readouterr().err
    assert not output.exists()


def test_output_inside_a_file(tmp_path, capsys):
    (tmp_path / "fichier").write_text("x", encoding="utf-8")
    output = tmp_path / "fichier" / "modele.tflite"
    argv = [DEMO, "--mode", "float32", "--output", output]
    assert_refused(capsys, argv, output, "pas un dossier")


def test_unwritable_output_folder(tmp_path, output, capsys, monkeypatch):
    # Root may write anywhere, so the permission check itself is simulated.
    real_access = os.access
    monkeypatch.setattr(
        os,
        "access",
        lambda path, mode: False if str(path) == str(tmp_path) else real_access(path, mode),
    )
    argv = [DEMO, "--mode", "float32", "--output", output]
    assert_refused(capsys, argv, output, "protégé en écriture")


@contextlib.contextmanager
def read_only_folder(folder):
    """A folder nobody may write into, root included: chmod for a user, the immutable flag for
    root (CI runs as root, who ignores permissions but not ``chattr +i``)."""
    folder.mkdir()
    as_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if as_root:
        made = subprocess.run(["chattr", "+i", str(folder)], capture_output=True, text=True)
        if made.returncode != 0:
            if os.environ.get("CI"):
                pytest.fail(f"chattr +i impossible en intégration continue : {made.stderr}")
            pytest.skip(f"root, et chattr +i impossible ici : {made.stderr.strip()}")
    else:
        folder.chmod(0o555)
    try:
        yield folder
    finally:
        if as_root:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        else:
            folder.chmod(0o755)


def test_read_only_output_folder(tmp_path, capsys):
    with read_only_folder(tmp_path / "protege") as folder:
        output = folder / "modele.tflite"
        argv = [DEMO, "--mode", "float32", "--output", output]
        assert_refused(capsys, argv, output, "protégé en écriture")
        assert list(folder.iterdir()) == []


def test_output_without_tflite_suffix(tmp_path, capsys):
    output = tmp_path / "modele.bin"
    argv = [DEMO, "--mode", "float32", "--output", output]
    assert_refused(capsys, argv, output, ".tflite")


def test_integer_mode_without_images(output, capsys):
    assert_refused(capsys, [DEMO, "--mode", "int8", "--output", output], output, "--images")


@pytest.mark.parametrize("mode", ["float32", "dynamic", "float16", "int8", "int16x8"])
def test_io_type_given_for_another_mode_than_int8_full(output, capsys, mode):
    argv = [DEMO, "--images", IMAGES, "--mode", mode, "--io-type", "int8", "--output", output]
    assert_refused(capsys, argv, output, "int8-full")


@pytest.mark.parametrize("mode", ["float32", "int8"])
def test_output_type_given_for_another_mode_than_int8_full(output, capsys, mode):
    argv = [DEMO, "--images", IMAGES, "--mode", mode, "--output-type", "float32"]
    assert_refused(capsys, [*argv, "--output", output], output, "int8-full")


def test_fewer_samples_than_the_minimum(output, capsys):
    argv = [DEMO, "--images", IMAGES, "--mode", "int8", "--num-samples", "50", "--output", output]
    assert_refused(capsys, argv, output, "minimum de 100")


def test_int16x8_mode_writes_int16_activations_with_float_io(tmp_path, capsys, raw_tflite_models):
    output = tmp_path / "modele_int16x8.tflite"
    argv = [DEMO, "--images", IMAGES, "--mode", "int16x8", "--output", output]
    assert main(["quantize", *map(str, argv)]) == 0, capsys.readouterr().err
    assert output.read_bytes() == raw_tflite_models["int16x8"]
    assert read_json(output)["mode"] == "int16x8"
    assert "entrée float32, sortie float32" in capsys.readouterr().out


def test_uint8_io_type(tmp_path, capsys):
    output = tmp_path / "modele_uint8.tflite"
    argv = [DEMO, "--images", IMAGES, "--mode", "int8-full", "--io-type", "uint8"]
    assert main(["quantize", *map(str, argv), "--output", str(output)]) == 0
    assert np.dtype(input_detail(output)["dtype"]).name == "uint8"
    assert read_json(output)["io_type"] == "uint8"
    assert read_json(output)["output_type"] == "uint8"


def test_float32_output_type_keeps_an_integer_input(tmp_path, capsys):
    from ai_edge_litert.interpreter import Interpreter

    model = export_tiny_model(tmp_path / "tete", (16, 16, 3))
    images = write_images(tmp_path / "images", 10, size=(16, 16))
    output = tmp_path / "tete.tflite"
    argv = [model, "--images", images, "--mode", "int8-full", "--output-type", "float32"]
    argv += ["--min-images", "10", "--output", output]
    assert main(["quantize", *map(str, argv)]) == 0, capsys.readouterr().err
    interpreter = Interpreter(model_path=str(output))
    assert np.dtype(interpreter.get_input_details()[0]["dtype"]).name == "int8"
    assert np.dtype(interpreter.get_output_details()[0]["dtype"]).name == "float32"
    assert read_json(output)["output_type"] == "float32"


def test_unreadable_files_are_named_and_skipped_when_enough_remain(tmp_path, capsys):
    folder = write_images(tmp_path / "photos", 12)
    (folder / "abimee.png").write_bytes(b"\x89PNG tronque")
    model = export_tiny_model(tmp_path / "couleur", (16, 16, 3))
    output = tmp_path / "couleur_int8.tflite"
    argv = [model, "--images", folder, "--mode", "int8", "--min-images", "10", "--output", output]
    assert main(["quantize", *map(str, argv)]) == 0
    error = capsys.readouterr().err
    assert "Attention :" in error and "abimee.png" in error
    calibration = read_json(output)["calibration"]
    assert calibration["images"] == 12 and calibration["skipped"] == ["abimee.png"]
