"""Le générateur d'images de démonstration : déterministe, bons effectifs, bons formats."""

import numpy as np
import pytest
from PIL import Image

from helpers.base.errors import KitError
from helpers.base.paths import CALIBRATION_DIR, DATA_DIR, LABELS_FILE, TEST_DIR
from helpers.core.images import read_labels
from helpers.demo import data as demo_data


def test_same_seed_gives_same_pixels():
    first = demo_data.render_scene("croix", demo_data.scene_rng("test", 7))
    second = demo_data.render_scene("croix", demo_data.scene_rng("test", 7))
    assert first.dtype == np.uint8 and first.shape == (64, 64, 3)
    np.testing.assert_array_equal(first, second)


def test_other_index_or_split_gives_other_pixels():
    base = demo_data.render_scene("cercle", demo_data.scene_rng("test", 1))
    assert not np.array_equal(
        base, demo_data.render_scene("cercle", demo_data.scene_rng("test", 2))
    )
    assert not np.array_equal(
        base, demo_data.render_scene("cercle", demo_data.scene_rng("calibration", 1))
    )


def test_unknown_label_or_split_is_a_french_error():
    with pytest.raises(KitError, match="Classe inconnue"):
        demo_data.render_scene("licorne", demo_data.scene_rng("test", 0))
    with pytest.raises(KitError, match="Partie inconnue"):
        demo_data.scene_rng("validation", 0)


def test_write_demo_data_counts_and_formats(tmp_path):
    counts = demo_data.write_demo_data(tmp_path, n_calibration=7, n_test_per_label=2)
    assert counts == {"calibration": 7, **{label: 2 for label in demo_data.LABELS}}
    calibration = sorted((tmp_path / "calibration").glob("*.png"))
    assert len(calibration) == 7
    for label in demo_data.LABELS:
        assert len(list((tmp_path / "test" / label).glob("*.png"))) == 2
    with Image.open(calibration[0]) as image:
        assert (image.format, image.mode, image.size) == ("PNG", "RGB", (64, 64))
    assert read_labels(tmp_path / "labels.txt") == list(demo_data.LABELS)


def test_rewriting_replaces_old_images(tmp_path):
    demo_data.write_demo_data(tmp_path, n_calibration=5, n_test_per_label=1)
    demo_data.write_demo_data(tmp_path, n_calibration=3, n_test_per_label=1)
    assert len(list((tmp_path / "calibration").glob("*.png"))) == 3


def test_a_rewrite_that_fails_leaves_the_old_test_images_whole(tmp_path, monkeypatch):
    demo_data.write_demo_data(tmp_path, n_calibration=2, n_test_per_label=1)
    before = sorted(p.relative_to(tmp_path) for p in (tmp_path / "test").rglob("*.png"))
    real_render = demo_data.render_scene
    calls = []

    def render_then_fail(label, rng, *args):
        calls.append(label)
        if len(calls) > 4:  # the calibration images, then two test images, then the failure
            raise OSError(28, "No space left on device")
        return real_render(label, rng, *args)

    monkeypatch.setattr(demo_data, "render_scene", render_then_fail)
    with pytest.raises(OSError):
        demo_data.write_demo_data(tmp_path, n_calibration=2, n_test_per_label=1)
    after = sorted(p.relative_to(tmp_path) for p in (tmp_path / "test").rglob("*.png"))
    assert after == before and len(after) == len(demo_data.LABELS)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["calibration", "labels.txt", "test"]


def test_committed_images_come_from_the_generator():
    # The first images of each part, regenerated, must equal the committed PNG pixels.
    for index, (_, pixels) in enumerate(demo_data.iter_split("calibration", 3)):
        stored = np.asarray(Image.open(CALIBRATION_DIR / f"calibration_{index:03d}.png"))
        np.testing.assert_array_equal(stored, pixels)
    for index, (label_index, pixels) in enumerate(demo_data.iter_split("test", 10)):
        label = demo_data.LABELS[label_index]
        stored = np.asarray(Image.open(TEST_DIR / label / f"{label}_{index // 5:03d}.png"))
        np.testing.assert_array_equal(stored, pixels)


def test_committed_data_counts_and_size():
    assert len(list(CALIBRATION_DIR.glob("*.png"))) >= 100
    test_images = list(TEST_DIR.glob("*/*.png"))
    assert len(test_images) >= 300
    assert read_labels(LABELS_FILE) == sorted(p.name for p in TEST_DIR.iterdir())
    total = sum(p.stat().st_size for p in DATA_DIR.rglob("*") if p.is_file())
    assert total <= 20 * 1000 * 1000, f"data/ pèse {total / 1e6:.1f} Mo"  # a clone stays quick


def test_training_set_is_balanced_and_uint8():
    images, targets = demo_data.make_training_set(10)
    assert images.dtype == np.uint8 and images.shape == (10, 64, 64, 3)
    assert np.bincount(targets).tolist() == [2, 2, 2, 2, 2]


def test_missing_or_empty_labels_file_is_a_french_error(tmp_path):
    with pytest.raises(KitError, match="introuvable"):
        read_labels(tmp_path / "absent.txt")
    (tmp_path / "vide.txt").write_text("\n\n", encoding="utf-8")
    with pytest.raises(KitError, match="vide"):
        read_labels(tmp_path / "vide.txt")


def test_labels_file_in_latin1_asks_for_utf8(tmp_path):
    path = tmp_path / "etiquettes.txt"
    path.write_bytes("chat\nlévrier\n".encode("latin-1"))
    with pytest.raises(KitError, match="enregistrez le fichier en UTF-8"):
        read_labels(path)
