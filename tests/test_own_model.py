"""Le parcours en ligne de commande sur un modèle d'étudiant qui n'est pas la démo : un
« détecteur » à deux sorties (boîtes et scores), entrée 96×128, images JPEG."""

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from helpers.base.errors import quiet_environment


@pytest.fixture(scope="module")
def detector(tmp_path_factory):
    import keras
    from keras import layers

    folder = tmp_path_factory.mktemp("etudiant")
    keras.utils.set_random_seed(0)
    image = keras.Input((96, 128, 3), name="image")
    features = layers.GlobalAveragePooling2D()(
        layers.Conv2D(8, 3, strides=2, activation="relu")(image)
    )
    boxes = layers.Dense(4, activation="sigmoid", name="boites")(features)
    scores = layers.Dense(3, activation="softmax", name="scores")(features)
    keras.Model(image, [boxes, scores]).export(str(folder / "detecteur"), verbose=False)
    images = folder / "images"
    images.mkdir()
    rng = np.random.default_rng(0)
    for index in range(100):
        pixels = rng.integers(0, 256, (150, 200, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(images / f"photo_{index:03d}.JPG")
    return folder


def run(*args, cwd):
    env = quiet_environment()
    command = [sys.executable, "-m", "helpers", *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, timeout=600, env=env)


def test_quantize_then_inspect_a_two_output_detector(detector):
    result = run(
        "quantize",
        "detecteur",
        "--images",
        "images",
        "--mode",
        "int8-full",
        "--output",
        "sorties/detecteur.tflite",
        cwd=detector,
    )
    assert result.returncode == 0, result.stderr
    metadata = json.loads((detector / "sorties" / "detecteur.json").read_text(encoding="utf-8"))
    assert metadata["input_size"] == [96, 128]
    assert len(metadata["outputs"]) == 2

    result = run("inspect", "sorties/detecteur.tflite", "--json", cwd=detector)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["inputs"][0]["shape"] == [1, 96, 128, 3]
    assert sorted(output["shape"][-1] for output in report["outputs"]) == [3, 4]
    assert all(output["dtype"] == "int8" for output in report["outputs"])
    assert report["integer_only"] is True and report["edgetpu_ready"] is True
