"""Le dossier pour la Raspberry Pi (``python -m helpers bundle``) et son script ``classer.py``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers.base.errors import KitError, quiet_environment
from helpers.base.paths import LABELS_FILE, ROOT, TEST_DIR
from helpers.cli import main
from helpers.core.images import list_labeled_images, load_labeled_images
from helpers.core.runtime import load_interpreter, run_model
from helpers.demo.data import LABELS
from helpers.steps import export
from helpers.steps.export import build_metadata, make_bundle, remove_bundle, write_model

BUNDLE_FILES = ["README.md", "classer.py", "labels.txt", "modele.json", "modele.tflite"]


def _env() -> dict:
    return quiet_environment()


def _write(folder: Path, model_bytes: bytes, mode: str, labels=LABELS) -> Path:
    metadata = build_metadata(
        model_bytes,
        mode=mode,
        source="data/modele_demo",
        input_size=(64, 64),
        normalization="symmetric",
        labels=None if labels is None else list(labels),
    )
    return write_model(folder / "modele.tflite", model_bytes, metadata)


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _run_script(bundle: Path, *arguments: str) -> subprocess.CompletedProcess:
    """Runs the bundle's script the way the Pi does: its own folder, the venv's python."""
    return subprocess.run(
        [sys.executable, "classer.py", *arguments],
        cwd=bundle,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def written_model(tmp_path, raw_tflite_models) -> Path:
    return _write(tmp_path / "export", raw_tflite_models["int8-full"], "int8-full")


# --- the bundle ----------------------------------------------------------------------------


def test_bundle_holds_model_labels_metadata_script_and_readme(tmp_path, written_model):
    bundle = make_bundle(written_model, tmp_path / "pour_la_pi")
    assert bundle == tmp_path / "pour_la_pi"
    assert _names(bundle) == BUNDLE_FILES
    assert (bundle / "modele.tflite").read_bytes() == written_model.read_bytes()
    assert (bundle / "labels.txt").read_text(encoding="utf-8").split() == list(LABELS)
    metadata = json.loads((bundle / "modele.json").read_text(encoding="utf-8"))
    assert metadata["mode"] == "int8-full" and metadata["normalization"] == "symmetric"
    assert (bundle / "classer.py").read_bytes() == (ROOT / "helpers/pi/classer.py").read_bytes()
    assert os.access(bundle / "classer.py", os.X_OK)
    # Built beside the destination under a temporary name, then renamed: nothing else is left.
    assert _names(tmp_path) == ["export", "pour_la_pi"]


def test_bundle_readme_gives_the_pi_install_copy_and_run_steps(tmp_path, written_model):
    readme = (make_bundle(written_model, tmp_path / "pour_la_pi") / "README.md").read_text(
        encoding="utf-8"
    )
    for step in (
        "Bookworm 64 bits",
        "sudo apt install -y python3-picamera2",
        "python3 -m venv --system-site-packages ~/venv-quantif",
        "source ~/venv-quantif/bin/activate",
        "pip install ai-edge-litert numpy pillow",
        "scp -r pour_la_pi pi@raspberrypi.local:~/",
        "rsync -av pour_la_pi",
        "python3 classer.py --camera",
        "**entrée** : une image 64×64, de type `int8`",
        "anneau",
    ):
        assert step in readme, step
    assert "$" not in readme  # every placeholder of the template was filled


def test_bundle_without_metadata_builds_it_and_finds_labels_beside(tmp_path, raw_tflite_models):
    source = tmp_path / "source"
    source.mkdir()
    (source / "mon_modele.tflite").write_bytes(raw_tflite_models["int8"])
    shutil.copy(LABELS_FILE, source / "labels.txt")
    bundle = make_bundle(source / "mon_modele.tflite", tmp_path / "pi")
    metadata = json.loads((bundle / "mon_modele.json").read_text(encoding="utf-8"))
    assert metadata["mode"] == "inconnu"
    assert metadata["normalization_assumed"] is True
    assert metadata["labels"] == list(LABELS)
    assert "**Supposée**" in (bundle / "README.md").read_text(encoding="utf-8")


def test_bundle_labels_option_comes_first(tmp_path, raw_tflite_models):
    model = _write(tmp_path / "export", raw_tflite_models["int8"], "int8")
    other_labels = tmp_path / "noms.txt"
    other_labels.write_text("a\nb\nc\nd\ne\n", encoding="utf-8")
    bundle = make_bundle(model, tmp_path / "pi", labels_file=other_labels)
    assert (bundle / "labels.txt").read_text(encoding="utf-8").split() == list("abcde")
    assert json.loads((bundle / "modele.json").read_text())["labels"] == list("abcde")


def test_bundle_without_any_labels_explains_the_labels_option(tmp_path, raw_tflite_models):
    model = _write(tmp_path / "export", raw_tflite_models["int8"], "int8", labels=None)
    with pytest.raises(KitError, match="--labels FICHIER"):
        make_bundle(model, tmp_path / "pi")
    assert not (tmp_path / "pi").exists()


def test_bundle_refuses_labels_that_do_not_match_the_outputs(tmp_path, written_model):
    wrong = tmp_path / "trois.txt"
    wrong.write_text("a\nb\nc\n", encoding="utf-8")
    with pytest.raises(KitError, match="5 sorties mais il y a 3 étiquettes"):
        make_bundle(written_model, tmp_path / "pi", labels_file=wrong)
    assert not (tmp_path / "pi").exists()


def test_bundle_refuses_a_non_empty_folder_but_fills_an_empty_one(tmp_path, written_model):
    busy = tmp_path / "occupe"
    busy.mkdir()
    (busy / "mes_notes.txt").write_text("à garder", encoding="utf-8")
    with pytest.raises(KitError, match="existe déjà et n'est pas vide"):
        make_bundle(written_model, busy)
    assert _names(busy) == ["mes_notes.txt"]
    empty = tmp_path / "vide"
    empty.mkdir()
    assert _names(make_bundle(written_model, empty)) == BUNDLE_FILES


def test_bundle_refuses_metadata_of_another_model(tmp_path, written_model, raw_tflite_models):
    written_model.write_bytes(raw_tflite_models["int8"])  # the .json still describes int8-full
    with pytest.raises(KitError, match="ne décrit pas ce modèle"):
        make_bundle(written_model, tmp_path / "pi")
    assert not (tmp_path / "pi").exists()


def test_bundle_failure_while_renaming_creates_nothing(tmp_path, written_model, monkeypatch):
    def rename(source, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export.os, "rename", rename)
    with pytest.raises(KitError, match="Rien n'a été créé"):
        make_bundle(written_model, tmp_path / "nouveau" / "pi")
    assert _names(tmp_path) == ["export"]  # no bundle, no temporary folder, no parent folder


def test_remove_bundle_removes_a_bundle_and_refuses_anything_else(tmp_path, written_model):
    bundle = make_bundle(written_model, tmp_path / "pi")
    assert remove_bundle(bundle) is True
    assert not bundle.exists()
    assert remove_bundle(bundle) is False
    with pytest.raises(KitError, match="ne ressemble pas"):
        remove_bundle(tmp_path / "export")  # a model and its metadata, but no bundle
    assert _names(tmp_path / "export") == ["modele.json", "modele.tflite"]


# --- the command line ----------------------------------------------------------------------


def test_bundle_command_from_a_non_tflite_file_exits_2_and_creates_nothing(tmp_path):
    not_a_model = tmp_path / "photo.tflite"
    not_a_model.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    result = subprocess.run(
        [sys.executable, "-m", "helpers", "bundle", str(not_a_model), "--output", "pi"],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("Erreur : ")
    assert "pas un modèle TensorFlow Lite" in result.stderr
    assert "Traceback" not in result.stderr
    assert _names(tmp_path) == ["photo.tflite"]


def test_bundle_command_prints_what_to_do_next(tmp_path, written_model, capsys):
    output = tmp_path / "pi"
    assert main(["bundle", str(written_model), "--output", str(output)]) == 0
    printed = capsys.readouterr().out
    assert "Dossier prêt : pi/" in printed
    assert "scp -r pi pi@raspberrypi.local:~/" in printed
    assert _names(output) == BUNDLE_FILES


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--labels", "absent.txt"], "introuvable : absent.txt"),
        (["--output", "export"], "existe déjà et n'est pas vide"),
    ],
)
def test_bundle_command_bad_input(tmp_path, written_model, capsys, monkeypatch, arguments, message):
    monkeypatch.chdir(tmp_path)
    command = ["bundle", str(written_model), "--output", "pi", *arguments]
    if arguments[0] == "--output":
        command = ["bundle", str(written_model), *arguments]
        (tmp_path / "export" / "autre.txt").write_text("occupé", encoding="utf-8")
    assert main(command) == 2
    error = capsys.readouterr().err
    assert error.startswith("Erreur : ")
    assert message in error
    assert not (tmp_path / "pi").exists()


def test_bundle_command_missing_model_exits_2(tmp_path, capsys):
    assert main(["bundle", str(tmp_path / "absent.tflite"), "--output", str(tmp_path / "pi")]) == 2
    assert "Fichier introuvable : absent.tflite" in capsys.readouterr().err
    assert _names(tmp_path) == []


# --- the standalone script -----------------------------------------------------------------


# Its imports: tests/test_pi_scripts.py.


@pytest.fixture(scope="module")
def kit_evaluation():
    """The kit's own view of data/test: relative names, normalized images, targets."""
    items = list_labeled_images(TEST_DIR, list(LABELS))
    names = [path.relative_to(TEST_DIR).as_posix() for path, _ in items]
    images, targets = load_labeled_images(TEST_DIR, list(LABELS), (64, 64))
    return names, images, targets


@pytest.mark.parametrize(
    "mode, preparation", [("int8-full", "flottante"), ("int8-full", "entiere"), ("int8", "entiere")]
)
def test_script_agrees_with_the_kit_image_by_image(
    tmp_path, raw_tflite_models, kit_evaluation, mode, preparation
):
    model = _write(tmp_path / "export", raw_tflite_models[mode], mode)
    bundle = make_bundle(model, tmp_path / "pi")
    result = _run_script(bundle, str(TEST_DIR), "--json", "--preparation", preparation)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]

    names, images, targets = kit_evaluation
    outputs = run_model(load_interpreter(raw_tflite_models[mode]), images)
    assert [record["image"] for record in records] == names
    script_predictions = np.array([record["index"] for record in records])
    assert np.array_equal(script_predictions, outputs.argmax(axis=1))
    assert [record["label"] for record in records] == [LABELS[i] for i in script_predictions]
    probabilities = np.array([record["probability"] for record in records])
    same = np.isclose(probabilities, outputs.max(axis=1), rtol=0, atol=1e-5)
    if mode == "int8-full" and preparation == "entiere":
        # The integer path may move a pixel's input by one step (where the float path rounds
        # its own float32 error): a borderline image's probability moves, not its label.
        assert same.mean() >= 0.9
    else:  # the float path feeds the kit's very tensors
        assert same.all()
    assert (script_predictions == targets).mean() >= 0.95
    assert all(record["latency_ms"] >= 0 for record in records)


def test_script_prints_label_probability_and_latency_in_french(tmp_path, written_model):
    images = tmp_path / "images"
    images.mkdir()
    for label in ("cercle", "croix"):
        shutil.copy(TEST_DIR / label / f"{label}_000.png", images / f"{label}.PNG")
    (images / "notes.txt").write_text("pas une image", encoding="utf-8")
    bundle = make_bundle(written_model, tmp_path / "pi")
    result = _run_script(bundle, str(images), "--fils", "2")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(
        "Modèle modele.tflite : entrée 64×64 int8, normalisation « symmetric »"
    )
    assert "2 fils" in lines[0]
    assert lines[1].startswith("cercle.PNG : cercle (") and lines[1].endswith(" ms")
    assert " %) en " in lines[1]
    assert lines[2].startswith("croix.PNG : croix (")
    assert lines[3].startswith("2 image(s) ; inférence : médiane ")


def test_script_without_folder_or_camera_says_what_to_do(tmp_path, written_model):
    bundle = make_bundle(written_model, tmp_path / "pi")
    result = _run_script(bundle)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1].startswith("Erreur : donnez un dossier d'images")


def test_script_refuses_labels_that_do_not_match_the_model(tmp_path, written_model):
    bundle = make_bundle(written_model, tmp_path / "pi")
    (bundle / "labels.txt").write_text("a\nb\n", encoding="utf-8")
    result = _run_script(bundle, str(TEST_DIR))
    assert result.returncode == 2
    assert "5 sorties mais labels.txt contient 2 étiquettes" in result.stderr


def test_bundle_command_without_metadata_warns_about_the_assumed_normalization(
    tmp_path, raw_tflite_models, capsys
):
    model = tmp_path / "seul.tflite"
    model.write_bytes(raw_tflite_models["int8"])
    assert (
        main(["bundle", str(model), "--output", str(tmp_path / "pi"), "--labels", str(LABELS_FILE)])
        == 0
    )
    captured = capsys.readouterr()
    assert captured.err.startswith("Attention : seul.json est absent ; normalisation supposée")
    assert "Dossier prêt : pi/" in captured.out


def test_script_classifies_camera_frames_when_picamera2_is_present(
    tmp_path, written_model, monkeypatch, capsys
):
    import fake_picamera2

    from helpers.pi import classer as pi_classifier

    frame = np.zeros((480, 640, 3), dtype=np.uint8)
    frame[:, :320, 0] = 255  # left half red, right half blue
    frame[:, 320:, 2] = 255
    camera_class = fake_picamera2.install(monkeypatch, pi_classifier, frame)
    # No folder given: the camera is used because picamera2 imports.
    arguments = ["--modele", str(written_model), "--etiquettes", str(LABELS_FILE)]
    status = pi_classifier.main([*arguments, "--nombre", "3", "--json"])
    assert status == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [record["image"] for record in records] == ["camera_0000", "camera_0001", "camera_0002"]
    assert [record["frame"] for record in records] == [0, 1, 2]
    assert all(record["label"] in LABELS for record in records)
    (camera,) = camera_class.instances
    assert camera.configuration["main"] == {"size": (640, 480), "format": "BGR888"}
    assert camera.captures == 3 and camera.closed and not camera.started


def test_script_center_crop_keeps_the_middle_square():
    from PIL import Image

    from helpers.pi.classer import center_crop

    image = Image.new("RGB", (640, 480))
    image.paste((255, 0, 0), (80, 0, 560, 480))  # the central 480×480 square is red
    cropped = center_crop(image)
    assert cropped.size == (480, 480)
    assert np.asarray(cropped)[..., 0].min() == 255


def test_script_skips_hidden_files_and_folders(tmp_path, capsys):
    from helpers.pi.classer import folder_images

    images = tmp_path / "images"
    (images / ".ipynb_checkpoints").mkdir(parents=True)
    shutil.copy(TEST_DIR / "cercle" / "cercle_000.png", images / "cercle.png")
    shutil.copy(TEST_DIR / "cercle" / "cercle_000.png", images / ".ipynb_checkpoints" / "c.png")
    (images / "._cercle.png").write_bytes(b"\x00\x05\x16\x07 Mac OS X")
    assert [name for name, _ in folder_images(images)] == ["cercle.png"]
    assert "illisible" not in capsys.readouterr().err


@pytest.mark.parametrize("content", ["[1, 2]", '"modele"', "3"])
def test_bundle_metadata_that_is_not_a_json_object_is_a_usage_error(
    tmp_path, written_model, capsys, content
):
    written_model.with_suffix(".json").write_text(content, encoding="utf-8")
    assert main(["bundle", str(written_model), "--output", str(tmp_path / "pi")]) == 2
    error = capsys.readouterr().err
    assert error.startswith("Erreur : Métadonnées illisibles : modele.json")
    assert "objet JSON" in error
    assert not (tmp_path / "pi").exists()


def test_bundle_labels_in_latin1_is_a_usage_error(tmp_path, written_model, capsys):
    labels = tmp_path / "etiquettes.txt"
    labels.write_bytes("\n".join(["é", "b", "c", "d", "e"]).encode("latin-1"))
    arguments = ["bundle", str(written_model), "--output", str(tmp_path / "pi")]
    assert main([*arguments, "--labels", str(labels)]) == 2
    assert "enregistrez le fichier en UTF-8" in capsys.readouterr().err


def test_script_reports_bad_metadata_and_latin1_labels_in_french(tmp_path):
    from helpers.pi.classer import UsageError, read_labels, read_metadata

    model = tmp_path / "modele.tflite"
    model.with_suffix(".json").write_text("[]", encoding="utf-8")
    with pytest.raises(UsageError, match="objet JSON"):
        read_metadata(model)
    labels = tmp_path / "labels.txt"
    labels.write_bytes("lévrier\n".encode("latin-1"))
    with pytest.raises(UsageError, match="enregistrez le fichier en UTF-8"):
        read_labels(labels)


def test_bundle_of_a_free_size_model_without_metadata_asks_for_a_fixed_size(
    tmp_path, free_size_model, capsys
):
    model = tmp_path / "libre.tflite"
    model.write_bytes(free_size_model)
    arguments = ["--output", str(tmp_path / "pi"), "--labels", str(LABELS_FILE)]
    assert main(["bundle", str(model), *arguments]) == 2
    error = capsys.readouterr().err
    assert error.startswith("Erreur : ") and "taille libre" in error and "--input-size" in error
    assert not (tmp_path / "pi").exists()


def test_bundle_refuses_metadata_without_a_usable_input_size(tmp_path, written_model):
    path = written_model.with_suffix(".json")
    metadata = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**metadata, "input_size": "64x64"}), encoding="utf-8")
    with pytest.raises(KitError, match="input_size"):
        make_bundle(written_model, tmp_path / "pi")


def test_script_feeds_a_free_size_model_at_the_size_of_its_metadata(
    tmp_path, free_size_model, capsys
):
    from helpers.pi import classer as pi_classifier

    metadata = build_metadata(
        free_size_model,
        mode="int8-full",
        source="libre",
        input_size=(16, 24),
        normalization="symmetric",
        labels=list(LABELS),
    )
    model = write_model(tmp_path / "export" / "libre.tflite", free_size_model, metadata)
    bundle = make_bundle(model, tmp_path / "pi")
    images = tmp_path / "images"
    images.mkdir()
    shutil.copy(TEST_DIR / "cercle" / "cercle_000.png", images / "cercle.png")
    script_model = bundle / "libre.tflite"
    assert pi_classifier.main([str(images), "--modele", str(script_model), "--fils", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Modèle libre.tflite : entrée 16×24 int8")
    assert lines[1].startswith("cercle.png : ")
    # Without the size in the metadata, the script stops with what to do.
    (bundle / "libre.json").write_text(json.dumps({"normalization": "symmetric"}), "utf-8")
    assert pi_classifier.main([str(images), "--modele", str(script_model)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("Erreur : l'entrée du modèle a une taille libre")
    assert "--input-size HxW" in error


def test_script_refuses_a_model_with_several_outputs(tmp_path, two_output_model):
    from helpers.pi.classer import Classifier, UsageError

    model = tmp_path / "detecteur.tflite"
    model.write_bytes(two_output_model)
    with pytest.raises(UsageError, match="2 sorties : ce script suppose un classifieur"):
        Classifier(model, "symmetric", 1)


def test_script_unknown_normalization_points_to_the_metadata_key_and_the_option(tmp_path):
    from helpers.pi.classer import Classifier, UsageError

    with pytest.raises(UsageError) as error:
        Classifier(tmp_path / "modele.tflite", "imagenet", 1)
    assert "« normalization » de modele.json" in str(error.value)
    assert "--normalisation" in str(error.value)


@pytest.mark.parametrize(
    "builder, message",
    [
        ("two_input_model", "2 entrées : ce script n'alimente qu'une seule entrée image"),
        ("flex_model", "« Flex » ou personnalisées) : reconvertissez-le sans SELECT_TF_OPS"),
    ],
)
def test_script_explains_models_it_cannot_feed(tmp_path, builder, message):
    import tiny_models

    from helpers.pi.classer import Classifier, UsageError

    model = tmp_path / "modele.tflite"
    model.write_bytes(getattr(tiny_models, builder)())
    with pytest.raises(UsageError) as error:
        Classifier(model, "symmetric", 1)
    assert message in str(error.value)
