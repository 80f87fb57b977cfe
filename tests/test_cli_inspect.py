"""Les commandes ``inspect`` et ``evaluate`` : sorties du contrat et mauvaises entrées."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from helpers.base.errors import quiet_environment
from helpers.base.paths import ROOT, TEST_DIR

ENV = quiet_environment()


def run_cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "helpers", *map(str, args)],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )


def assert_french_usage_error(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines()[0].startswith("Erreur :"), result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr
    assert result.stdout == ""


@pytest.fixture(scope="module")
def model_files(raw_tflite_models, tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("modeles")
    paths = {}
    for mode in ("int8", "int8-full"):
        paths[mode] = folder / f"modele_{mode}.tflite"
        paths[mode].write_bytes(raw_tflite_models[mode])
    return paths


def test_inspect_json_is_one_object_with_the_contract(model_files):
    result = run_cli("inspect", model_files["int8-full"], "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert {"inputs", "outputs", "ops", "integer_only", "edgetpu_ready", "reasons"} <= set(report)
    assert report["inputs"][0]["dtype"] == "int8"
    assert report["inputs"][0]["zero_point"] == -1
    assert report["inputs"][0]["scale"] == pytest.approx(0.00784, abs=1e-5)
    assert report["integer_only"] is True
    assert report["size_bytes"] == model_files["int8-full"].stat().st_size
    assert len(report["sha256"]) == 64


def test_inspect_json_of_the_capsule_model_says_not_quantized(model_files):
    report = json.loads(run_cli("inspect", model_files["int8"], "--json").stdout)
    assert report["inputs"][0]["dtype"] == "float32"
    assert (report["inputs"][0]["scale"], report["inputs"][0]["zero_point"]) == (0.0, 0)
    assert report["integer_only"] is False and report["edgetpu_ready"] is False
    assert report["reasons"]


def test_inspect_prints_a_french_report_without_machine_paths(model_files):
    result = run_cli("inspect", model_files["int8"])
    assert result.returncode == 0, result.stderr
    assert "Entier seulement : non" in result.stdout
    assert "Edge TPU (conditions nécessaires) : non remplies" in result.stdout
    assert "non quantifié" in result.stdout
    size = f"{model_files['int8'].stat().st_size / 1000:.1f}".replace(".", ",")
    assert f"Taille : {size} ko" in result.stdout
    assert str(model_files["int8"].parent) not in result.stdout


def test_evaluate_json_gives_accuracy_and_count(model_files):
    result = run_cli("evaluate", model_files["int8-full"], "--images", TEST_DIR, "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["count"] == 320
    assert data["accuracy"] >= 0.95


def test_evaluate_prints_accuracy_in_french(model_files):
    result = run_cli("evaluate", model_files["int8"], "--images", "data/test")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Exactitude : ")
    assert "/ 320 images de data/test" in result.stdout


@pytest.mark.parametrize("command", ["inspect", "evaluate"])
def test_missing_file_is_a_usage_error(command, tmp_path):
    extra = ["--images", TEST_DIR] if command == "evaluate" else []
    assert_french_usage_error(run_cli(command, tmp_path / "absent.tflite", *extra), "introuvable")


@pytest.mark.parametrize("command", ["inspect", "evaluate"])
def test_file_that_is_not_a_model_is_a_usage_error(command, tmp_path):
    path = tmp_path / "photo.tflite"
    shutil.copy(next(TEST_DIR.glob("*/*.png")), path)
    extra = ["--images", TEST_DIR] if command == "evaluate" else []
    assert_french_usage_error(run_cli(command, path, *extra), "n'est pas un modèle TensorFlow Lite")


def test_truncated_model_is_a_usage_error(model_files, tmp_path):
    path = tmp_path / "coupe.tflite"
    path.write_bytes(model_files["int8"].read_bytes()[:5000])
    assert_french_usage_error(run_cli("inspect", path), "LiteRT ne peut pas charger")


def test_folder_instead_of_a_file_is_a_usage_error(tmp_path):
    assert_french_usage_error(run_cli("inspect", tmp_path), "dossier")


def test_image_folder_without_label_subfolders_is_a_usage_error(model_files):
    result = run_cli("evaluate", model_files["int8-full"], "--images", "data/calibration")
    assert_french_usage_error(result, "sous-dossier par étiquette")


def test_missing_image_folder_is_a_usage_error(model_files, tmp_path):
    result = run_cli("evaluate", model_files["int8-full"], "--images", tmp_path / "absent")
    assert_french_usage_error(result, "introuvable")


def test_unknown_label_folders_are_a_usage_error(model_files, tmp_path):
    model = tmp_path / "modele.tflite"
    shutil.copy(model_files["int8-full"], model)
    model.with_suffix(".json").write_text(
        json.dumps({"labels": ["anneau", "cercle", "croix", "losange", "triangle"]}),
        encoding="utf-8",
    )
    (tmp_path / "images" / "chat").mkdir(parents=True)
    result = run_cli("evaluate", model, "--images", tmp_path / "images")
    assert_french_usage_error(result, "chat")


def test_images_the_model_cannot_take_are_a_usage_error(model_files, tmp_path):
    # Two label folders for a model with five outputs: the labels cannot be matched.
    for label in ("anneau", "cercle"):
        (tmp_path / label).mkdir()
        shutil.copy(next((TEST_DIR / label).glob("*.png")), tmp_path / label / "a.png")
    result = run_cli("evaluate", model_files["int8-full"], "--images", tmp_path)
    assert_french_usage_error(result, "étiquettes")


def test_unreadable_image_is_a_usage_error(model_files, tmp_path):
    for label in ("anneau", "cercle", "croix", "losange", "triangle"):
        (tmp_path / label).mkdir()
    (tmp_path / "anneau" / "abime.png").write_bytes(b"\x89PNG pas vraiment")
    result = run_cli("evaluate", model_files["int8-full"], "--images", tmp_path)
    assert_french_usage_error(result, "abime.png")


@pytest.fixture(scope="module")
def free_size_file(tmp_path_factory, free_size_model) -> object:
    path = tmp_path_factory.mktemp("libre") / "libre.tflite"
    path.write_bytes(free_size_model)
    return path


@pytest.fixture(scope="module")
def small_test_folder(tmp_path_factory) -> object:
    folder = tmp_path_factory.mktemp("images")
    for label in ("anneau", "cercle", "croix", "losange", "triangle"):
        (folder / label).mkdir()
        shutil.copy(next((TEST_DIR / label).glob("*.png")), folder / label / "a.png")
    return folder


def test_evaluate_free_size_model_names_the_input_size_option(free_size_file, small_test_folder):
    result = run_cli("evaluate", free_size_file, "--images", small_test_folder)
    assert_french_usage_error(result, "taille libre", "--input-size HxW")


def test_evaluate_takes_input_size_and_normalization_options(free_size_file, small_test_folder):
    result = run_cli(
        "evaluate",
        free_size_file,
        "--images",
        small_test_folder,
        "--input-size",
        "16x16",
        "--normalization",
        "unit",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Exactitude : ")
    assert "/ 5 images de " in result.stdout
    assert result.stdout.rstrip().endswith("Normalisation des images : unit")


def test_evaluate_refuses_an_input_size_a_fixed_model_does_not_have(model_files):
    result = run_cli(
        "evaluate", model_files["int8-full"], "--images", TEST_DIR, "--input-size", "32x32"
    )
    assert_french_usage_error(result, "taille fixe 64×64", "--input-size")


def test_evaluate_rejects_a_malformed_input_size(model_files):
    result = run_cli(
        "evaluate", model_files["int8-full"], "--images", TEST_DIR, "--input-size", "grand"
    )
    assert_french_usage_error(result, "HAUTEURxLARGEUR")
