"""Écriture atomique d'un modèle, métadonnées, relecture et vérification (helpers.steps.export)."""

from __future__ import annotations

import errno
import hashlib
import json
import os

import numpy as np
import pytest

from helpers.base.errors import KitError
from helpers.base.paths import DEMO_MODEL_DIR, TEST_DIR
from helpers.core.images import load_labeled_images
from helpers.demo.data import LABELS
from helpers.steps import export
from helpers.steps.export import (
    build_metadata,
    remove_model,
    verify_written_model,
    write_model,
)


def _metadata(model_bytes: bytes, mode: str = "int8-full") -> dict:
    return build_metadata(
        model_bytes,
        mode=mode,
        source=DEMO_MODEL_DIR,
        input_size=(64, 64),
        normalization="symmetric",
        labels=list(LABELS),
    )


def _names(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
def full_model(raw_tflite_models) -> bytes:
    return raw_tflite_models["int8-full"]


@pytest.fixture
def other_model(raw_tflite_models) -> bytes:
    return raw_tflite_models["int8"]


@pytest.fixture(scope="module")
def sample_images() -> np.ndarray:
    images, _ = load_labeled_images(TEST_DIR, list(LABELS), (64, 64))
    return images[::40]  # 8 images across the labels


# --- metadata ------------------------------------------------------------------------------


def test_metadata_records_integer_io_quantization_labels_and_fingerprint(full_model):
    metadata = _metadata(full_model)
    assert metadata["mode"] == "int8-full"
    assert metadata["source"] == "data/modele_demo"  # relative, never the machine's path
    assert metadata["input_size"] == [64, 64]
    assert metadata["normalization"] == "symmetric"
    assert metadata["input_range"] == [-1.0, 1.0]
    (model_input,) = metadata["inputs"]
    assert model_input["dtype"] == "int8"
    assert model_input["shape"] == [1, 64, 64, 3]
    assert model_input["scale"] > 0
    (model_output,) = metadata["outputs"]
    assert model_output["dtype"] == "int8"
    assert (model_output["scale"], model_output["zero_point"]) == (1 / 256, -128)  # softmax
    assert metadata["labels"] == list(LABELS)
    assert metadata["sha256"] == hashlib.sha256(full_model).hexdigest()
    assert metadata["size_bytes"] == len(full_model)
    assert metadata["versions"]["ai_edge_litert"].startswith("2.")
    assert metadata["versions"]["tensorflow"].startswith("2.")
    assert metadata["created_with"].startswith("helpers ")


def test_metadata_of_float_io_model_has_zero_scale(other_model):
    metadata = _metadata(other_model, mode="int8")
    assert metadata["inputs"][0]["dtype"] == "float32"
    assert (metadata["inputs"][0]["scale"], metadata["inputs"][0]["zero_point"]) == (0.0, 0)


def test_metadata_is_deterministic_and_json_ready(full_model):
    first, second = _metadata(full_model), _metadata(full_model)
    assert first == second
    assert json.loads(json.dumps(first)) == first
    assert "/" not in first["source"][:1]  # not an absolute path


def test_metadata_reads_from_the_model_what_it_holds_and_keeps_extra(full_model):
    metadata = build_metadata(
        full_model,
        mode="int8-full",
        source="modele_demo",
        input_size=None,
        normalization="unit",
        extra={"note": "essai"},
    )
    assert metadata["input_size"] == [64, 64]
    assert metadata["input_range"] == [0.0, 1.0]
    assert metadata["labels"] is None
    # Read in the file itself, so the notebooks' metadata and the command line's agree.
    assert (metadata["channels"], metadata["io_type"], metadata["output_type"]) == (
        3,
        "int8",
        "int8",
    )
    assert metadata["note"] == "essai"
    assert "calibration" not in metadata


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"labels": ["a", "b"]}, "5 sorties mais il y a 2 étiquettes"),
        ({"mode": "int4"}, "Mode inconnu"),
        ({"normalization": "imagenet"}, "Normalisation inconnue"),
        ({"input_size": (64,)}, "Taille d'entrée invalide"),
        ({"extra": {"sha256": "x"}}, "déjà calculée"),
    ],
)
def test_metadata_bad_arguments_are_explained(full_model, changes, message):
    arguments = dict(
        mode="int8-full", source="modele_demo", input_size=None, normalization="symmetric"
    )
    arguments.update(changes)
    with pytest.raises(KitError, match=message):
        build_metadata(full_model, **arguments)


def test_metadata_refuses_bytes_that_are_not_a_model():
    with pytest.raises(KitError, match="TensorFlow Lite"):
        build_metadata(
            b"not a model at all",
            mode="int8",
            source="x",
            input_size=None,
            normalization="symmetric",
        )


# --- atomic writing ------------------------------------------------------------------------


def test_write_model_writes_model_and_metadata_and_nothing_else(tmp_path, full_model):
    metadata = _metadata(full_model)
    written = write_model(tmp_path / "modele.tflite", full_model, metadata)
    assert written == tmp_path / "modele.tflite"
    assert written.read_bytes() == full_model
    assert json.loads((tmp_path / "modele.json").read_text(encoding="utf-8")) == metadata
    assert _names(tmp_path) == ["modele.json", "modele.tflite"]  # no temporary file left
    assert oct(written.stat().st_mode & 0o777) == oct(0o644)


def test_write_model_refuses_to_overwrite_without_force(tmp_path, full_model, other_model):
    path = write_model(tmp_path / "modele.tflite", full_model, _metadata(full_model))
    json_before = (tmp_path / "modele.json").read_bytes()
    with pytest.raises(KitError) as error:
        write_model(path, other_model, _metadata(other_model, "int8"))
    message = str(error.value)
    assert "modele.tflite existe déjà" in message
    assert "--force" in message and "force=True" in message
    assert path.read_bytes() == full_model
    assert (tmp_path / "modele.json").read_bytes() == json_before


def test_write_model_refuses_when_only_the_metadata_exists(tmp_path, full_model):
    (tmp_path / "modele.json").write_text("{}", encoding="utf-8")
    with pytest.raises(KitError, match="modele.json existe déjà"):
        write_model(tmp_path / "modele.tflite", full_model, _metadata(full_model))
    assert _names(tmp_path) == ["modele.json"]


def test_write_model_with_force_replaces_both_files(tmp_path, full_model, other_model):
    path = write_model(tmp_path / "modele.tflite", full_model, _metadata(full_model))
    write_model(path, other_model, _metadata(other_model, "int8"), force=True)
    assert path.read_bytes() == other_model
    assert json.loads((tmp_path / "modele.json").read_text())["mode"] == "int8"
    assert _names(tmp_path) == ["modele.json", "modele.tflite"]


def test_write_model_without_metadata_removes_the_stale_one(tmp_path, full_model, other_model):
    path = write_model(tmp_path / "modele.tflite", full_model, _metadata(full_model))
    write_model(path, other_model, force=True)
    assert path.read_bytes() == other_model
    assert _names(tmp_path) == ["modele.tflite"]


def test_write_model_creates_a_missing_folder(tmp_path, full_model):
    path = write_model(tmp_path / "sorties" / "export" / "m.tflite", full_model)
    assert path.read_bytes() == full_model


def test_write_model_under_a_regular_file_is_refused(tmp_path, full_model):
    regular_file = tmp_path / "notes.txt"
    regular_file.write_text("pas un dossier", encoding="utf-8")
    with pytest.raises(KitError, match="notes.txt est un fichier, pas un dossier"):
        write_model(regular_file / "export" / "modele.tflite", full_model)
    assert _names(tmp_path) == ["notes.txt"]


def test_write_model_in_a_read_only_folder_is_refused(tmp_path, full_model, monkeypatch):
    # Tests run as root, for whom chmod does not block writing: simulate the refusal.
    monkeypatch.setattr(export.os, "access", lambda path, mode: False)
    with pytest.raises(KitError, match="protégé en écriture"):
        write_model(tmp_path / "modele.tflite", full_model, _metadata(full_model))
    assert _names(tmp_path) == []


def test_write_model_checks_everything_before_writing(tmp_path, full_model, other_model):
    with pytest.raises(KitError, match="n'est pas un modèle TensorFlow Lite"):
        write_model(tmp_path / "modele.tflite", b"x" * 100)
    with pytest.raises(KitError, match="doit finir par .tflite"):
        write_model(tmp_path / "modele.bin", full_model)
    with pytest.raises(KitError, match="autre modèle"):
        write_model(tmp_path / "modele.tflite", full_model, _metadata(other_model, "int8"))
    with pytest.raises(KitError, match="JSON"):
        write_model(tmp_path / "modele.tflite", full_model, {"labels": {"a", "b"}})
    assert _names(tmp_path) == []


def _fail_on_fsync(monkeypatch, exception):
    def fsync(descriptor):
        raise exception

    monkeypatch.setattr(export.os, "fsync", fsync)


def test_disk_full_while_writing_keeps_the_previous_file(
    tmp_path, full_model, other_model, monkeypatch
):
    path = write_model(tmp_path / "modele.tflite", full_model, _metadata(full_model))
    json_before = (tmp_path / "modele.json").read_bytes()
    _fail_on_fsync(monkeypatch, OSError(errno.ENOSPC, "No space left on device"))
    with pytest.raises(KitError, match="Écriture de modele.tflite impossible.*intact"):
        write_model(path, other_model, _metadata(other_model, "int8"), force=True)
    assert path.read_bytes() == full_model
    assert (tmp_path / "modele.json").read_bytes() == json_before
    assert _names(tmp_path) == ["modele.json", "modele.tflite"]


def test_failed_metadata_write_leaves_a_json_that_no_longer_matches(
    tmp_path, full_model, other_model, monkeypatch
):
    path = write_model(tmp_path / "modele.tflite", full_model, _metadata(full_model))
    json_before = (tmp_path / "modele.json").read_bytes()
    real_replace = os.replace

    def replace(source, target):
        if str(target).endswith("modele.json"):
            raise OSError(errno.EIO, "Input/output error")
        return real_replace(source, target)

    monkeypatch.setattr(export.os, "replace", replace)
    with pytest.raises(KitError, match="pas ses métadonnées.*sha256.*--force"):
        write_model(path, other_model, _metadata(other_model, "int8"), force=True)
    monkeypatch.undo()
    # Each file is whole: the new model, the old metadata, whose sha256 tells them apart.
    assert path.read_bytes() == other_model
    assert (tmp_path / "modele.json").read_bytes() == json_before
    assert _names(tmp_path) == ["modele.json", "modele.tflite"]
    assert verify_written_model(path)["metadata_sha256_ok"] is False
    with pytest.raises(KitError, match="ne décrit pas ce modèle"):
        export.make_bundle(path, tmp_path / "pi")


def test_failed_first_write_leaves_no_file_at_all(tmp_path, full_model, monkeypatch):
    real_replace = os.replace

    def replace(source, target):
        if str(target).endswith(".tflite"):
            raise OSError(errno.EIO, "Input/output error")
        return real_replace(source, target)

    monkeypatch.setattr(export.os, "replace", replace)
    with pytest.raises(KitError, match="intact"):
        write_model(tmp_path / "nouveau" / "modele.tflite", full_model, _metadata(full_model))
    assert _names(tmp_path) == []  # neither file, nor the folder created for them


def test_interruption_while_writing_leaves_no_partial_file(tmp_path, full_model, monkeypatch):
    _fail_on_fsync(monkeypatch, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        write_model(tmp_path / "modele.tflite", full_model, _metadata(full_model))
    assert _names(tmp_path) == []


def test_remove_model_removes_model_and_metadata_only(tmp_path, full_model):
    path = write_model(tmp_path / "modele.tflite", full_model, _metadata(full_model))
    (tmp_path / "autre.txt").write_text("garder", encoding="utf-8")
    assert remove_model(path) == ["modele.tflite", "modele.json"]
    assert remove_model(path) == []
    assert _names(tmp_path) == ["autre.txt"]
    with pytest.raises(KitError, match="rien n'a été supprimé"):
        remove_model(tmp_path / "autre.txt")


# --- reading back and verifying ------------------------------------------------------------


def test_verify_written_model_confirms_bytes_fingerprint_and_outputs(
    tmp_path, full_model, sample_images
):
    path = write_model(tmp_path / "modele.tflite", full_model, _metadata(full_model))
    report = verify_written_model(path, full_model, sample_images)
    assert report["ok"] is True
    assert report["metadata_sha256_ok"] and report["metadata_size_ok"]
    assert report["memory_bytes_ok"] and report["outputs_ok"]
    assert report["max_abs_difference"] == 0.0
    assert report["num_images"] == len(sample_images)
    assert report["sha256"] == hashlib.sha256(full_model).hexdigest()


def test_verify_written_model_detects_a_corrupted_file(tmp_path, full_model):
    path = write_model(tmp_path / "modele.tflite", full_model, _metadata(full_model))
    corrupted = bytearray(full_model)
    corrupted[len(corrupted) // 2] ^= 0xFF  # one byte in the weights
    path.write_bytes(bytes(corrupted))
    report = verify_written_model(path, full_model)
    assert report["metadata_sha256_ok"] is False
    assert report["metadata_size_ok"] is True
    assert report["memory_bytes_ok"] is False
    assert report["ok"] is False


def test_verify_written_model_without_metadata_checks_what_it_can(tmp_path, full_model):
    path = write_model(tmp_path / "modele.tflite", full_model)
    report = verify_written_model(path)
    assert report["metadata_sha256_ok"] is None and report["outputs_ok"] is None
    assert report["ok"] is True


def test_verify_written_model_needs_the_model_in_memory_to_compare_outputs(
    tmp_path, full_model, sample_images
):
    path = write_model(tmp_path / "modele.tflite", full_model)
    with pytest.raises(KitError, match="model_bytes"):
        verify_written_model(path, images=sample_images)
    with pytest.raises(KitError, match="float32"):
        verify_written_model(path, full_model, images=(sample_images * 127).astype(np.int8))


def test_show_verification_prints_each_check_in_french(tmp_path, full_model, capsys):
    path = write_model(tmp_path / "modele.tflite", full_model, _metadata(full_model))
    export.show_verification(verify_written_model(path, full_model))
    printed = capsys.readouterr().out
    assert "✓ empreinte sha256 identique" in printed
    assert "fichier vérifié" in printed


def test_metadata_describes_tensors_like_inspect(full_model):
    from helpers.steps.inspection import inspect_model

    metadata = build_metadata(
        full_model,
        mode="int8-full",
        source="data/modele_demo",
        input_size=None,
        normalization="symmetric",
    )
    report = inspect_model(full_model)
    assert metadata["inputs"] == report["inputs"]
    assert metadata["outputs"] == report["outputs"]
    assert metadata["inputs"][0]["shape_signature"][1:] == [64, 64, 3]


def test_metadata_records_the_course_versions(full_model):
    metadata = build_metadata(
        full_model,
        mode="int8-full",
        source="data/modele_demo",
        input_size=None,
        normalization="symmetric",
    )
    # The versions pinned in requirements.txt, read from the installed packages.
    assert metadata["versions"]["ai_edge_litert"] == "2.3.0"
    assert metadata["versions"]["tensorflow"].startswith("2.21.")


def test_verify_written_model_compares_outputs_of_a_free_size_model(tmp_path, free_size_model):
    content = free_size_model
    path = write_model(tmp_path / "libre.tflite", content)
    images = np.random.default_rng(0).uniform(-1, 1, (3, 16, 16, 3)).astype(np.float32)
    report = verify_written_model(path, content, images)
    assert report["outputs_ok"] is True and report["num_images"] == 3


def test_metadata_of_a_free_size_model_needs_the_size(free_size_model):
    arguments = dict(mode="int8-full", source="libre", normalization="symmetric")
    with pytest.raises(KitError, match=r"taille libre.*--input-size HxW"):
        build_metadata(free_size_model, input_size=None, **arguments)
    metadata = build_metadata(free_size_model, input_size=(16, 16), **arguments)
    assert metadata["input_size"] == [16, 16]
    assert metadata["inputs"][0]["shape_signature"] == [1, -1, -1, 3]


def test_metadata_refuses_a_size_the_fixed_model_does_not_have(full_model):
    with pytest.raises(KitError, match="taille fixe 64×64"):
        build_metadata(
            full_model, mode="int8-full", source="x", input_size=(32, 32), normalization="unit"
        )


def test_verify_written_model_compares_every_output(tmp_path, monkeypatch, two_output_model):
    content = two_output_model
    path = write_model(tmp_path / "detecteur.tflite", content)
    images = np.zeros((2, 64, 64, 3), dtype=np.float32)
    report = verify_written_model(path, content, images)
    assert report["outputs_ok"] is True and report["max_abs_difference"] == 0.0

    # A difference in the second output only must be seen.
    real = export.run_model_outputs
    calls = []

    def second_output_differs(interpreter, batch):
        outputs = real(interpreter, batch)
        calls.append(1)
        if len(calls) == 2:
            outputs[1] = outputs[1] + 0.5
        return outputs

    monkeypatch.setattr(export, "run_model_outputs", second_output_differs)
    report = verify_written_model(path, content, images)
    assert report["outputs_ok"] is False and report["max_abs_difference"] == pytest.approx(0.5)
