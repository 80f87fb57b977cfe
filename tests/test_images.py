"""Lecture des dossiers d'images : fichiers et dossiers cachés ignorés."""

from __future__ import annotations

import shutil

from helpers.base.paths import TEST_DIR
from helpers.core.images import is_image_file, list_labeled_images


def _labeled_folder(tmp_path, labels=("anneau", "cercle")):
    folder = tmp_path / "images"
    for label in labels:
        (folder / label).mkdir(parents=True)
        shutil.copy(next((TEST_DIR / label).glob("*.png")), folder / label / "a.png")
    return folder


def test_macos_resource_files_are_not_images(tmp_path):
    path = tmp_path / "._photo.png"
    path.write_bytes(b"\x00\x05\x16\x07 Mac OS X")  # what macOS leaves on a USB key
    assert is_image_file(path) is False
    shutil.copy(next(TEST_DIR.glob("*/*.png")), tmp_path / "photo.png")
    assert is_image_file(tmp_path / "photo.png") is True


def test_hidden_files_and_folders_are_skipped_in_labeled_folders(tmp_path):
    folder = _labeled_folder(tmp_path)
    (folder / "anneau" / "._a.png").write_bytes(b"\x00\x05\x16\x07")
    (folder / ".ipynb_checkpoints").mkdir()  # JupyterLab creates it when a file is opened
    items = list_labeled_images(folder, ["anneau", "cercle"])
    assert [(path.name, label) for path, label in items] == [("a.png", 0), ("a.png", 1)]
