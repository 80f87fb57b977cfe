"""Fixtures partagées : le modèle de démonstration converti dans chaque mode.

Les conversions sont écrites ici avec les appels TensorFlow bruts (pas avec helpers), une fois
par session de tests : elles servent de référence indépendante aux tests des helpers.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from helpers.base.errors import quiet_environment
from helpers.base.paths import CALIBRATION_DIR, DEMO_MODEL_DIR

os.environ.update(quiet_environment({}))

RAW_MODES = ("float32", "dynamic", "float16", "int8", "int8-full", "int16x8")


def _calibration_images() -> list[np.ndarray]:
    images = []
    for path in sorted(CALIBRATION_DIR.glob("*.png")):
        pixels = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32)
        images.append((pixels * (2.0 / 255.0) - 1.0)[None].astype(np.float32))
    return images


def convert_demo_model(mode: str, io_type: str = "int8", batch_one: bool | None = None) -> bytes:
    """Converts data/modele_demo in one of the course's modes with plain TensorFlow calls.

    int8-full is traced at batch 1 by default (static shapes, as the Edge TPU compiler wants);
    ``batch_one=False`` keeps ``from_saved_model``'s free batch.
    """
    import tensorflow as tf

    if batch_one is None:
        batch_one = mode == "int8-full"
    if batch_one:
        loaded = tf.saved_model.load(str(DEMO_MODEL_DIR))
        serving = loaded.signatures["serving_default"]

        @tf.function(input_signature=[tf.TensorSpec([1, 64, 64, 3], tf.float32, name="image")])
        def serve(image):
            return serving(image=image)

        converter = tf.lite.TFLiteConverter.from_concrete_functions(
            [serve.get_concrete_function()], loaded
        )
    else:
        converter = tf.lite.TFLiteConverter.from_saved_model(str(DEMO_MODEL_DIR))
    if mode != "float32":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if mode == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if mode in ("int8", "int8-full", "int16x8"):
        images = _calibration_images()

        def representative_dataset():
            for image in images:
                yield [image]

        converter.representative_dataset = representative_dataset
    if mode == "int16x8":
        converter.target_spec.supported_ops = [
            tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8
        ]
    if mode == "int8-full":
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8 if io_type == "int8" else tf.uint8
        converter.inference_output_type = converter.inference_input_type
    return converter.convert()


@contextlib.contextmanager
def _exclusive(lock_path: Path):
    """One process at a time (the xdist workers share the cache); no lock where fcntl is
    missing (Windows): two workers may then both convert, which is only slower."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class RawModels(Mapping):
    """{mode: bytes of the .tflite} for the demo model. Each mode is converted on first use, once
    for the whole run: the file is shared by the xdist workers (the conversions are
    deterministic), and a mode no test asks for is never converted."""

    def __init__(self, folder: Path):
        self.folder = folder

    def __getitem__(self, mode: str) -> bytes:
        if mode not in RAW_MODES:
            raise KeyError(mode)
        path = self.folder / f"{mode}.tflite"
        with _exclusive(self.folder / f"{mode}.lock"):
            if not path.exists():
                content = convert_demo_model(mode)
                staged = path.with_suffix(f".{os.getpid()}.partiel")
                staged.write_bytes(content)
                try:
                    staged.replace(path)
                except PermissionError:  # Windows, without a lock: another worker reads it
                    staged.unlink()
                return content
        return path.read_bytes()

    def __iter__(self):
        return iter(RAW_MODES)

    def __len__(self) -> int:
        return len(RAW_MODES)


def _run_folder(tmp_path_factory, name: str) -> Path:
    """A folder that every xdist worker of this run shares (each worker has its own base
    folder; their parent is shared). The run's id in the name: a folder kept from an earlier
    run is never read (the demo models may have been retrained since)."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder = shared / f"{name}_{os.environ.get('PYTEST_XDIST_TESTRUNUID', 'seul')}"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def raw_tflite_models(tmp_path_factory) -> RawModels:
    """The demo model converted with plain TensorFlow calls in each mode (``RawModels``)."""
    return RawModels(_run_folder(tmp_path_factory, "modeles_bruts"))


@pytest.fixture(scope="session")
def free_batch_int8_full() -> bytes:
    """int8-full straight from ``from_saved_model``: the batch axis stays free (-1)."""
    return convert_demo_model("int8-full", batch_one=False)


@pytest.fixture(scope="session")
def uint8_int8_full() -> bytes:
    """int8-full with uint8 input and output (pixels 0..255 for tools that expect them)."""
    return convert_demo_model("int8-full", io_type="uint8")


@pytest.fixture(scope="session")
def free_size_model() -> bytes:
    """A tiny int8-full model of input (1, -1, -1, 3): any height and width, 5 outputs."""
    from tiny_models import free_size_model

    return free_size_model()


@pytest.fixture(scope="session")
def two_output_model() -> bytes:
    """A tiny int8-full model with two outputs (« boites », « scores »), input 64×64."""
    from tiny_models import two_output_model

    return two_output_model(integer=True)


class OwnDetectors:
    """The demo detector re-headed into another tool's layout (``yolo``, ``boites-scores``,
    ``yolo-pixels``: yolo with boxes in pixels, without description), as SavedModels, and their
    ``.tflite`` files (``python -m helpers quantize``): each built on first use, once per run,
    shared by the xdist workers."""

    CALIBRATION = Path(__file__).resolve().parents[1] / "data" / "detection" / "calibration"

    def __init__(self, folder: Path):
        self.folder = folder

    def saved_model(self, kind: str) -> Path:
        from helpers.demo.detector import export_reheaded_detector
        from helpers.steps.decoding import DETECTOR_FILE

        target = self.folder / kind
        with _exclusive(self.folder / f"{kind}.lock"):
            if not (target / "saved_model.pb").exists():
                pixels = kind == "yolo-pixels"
                export_reheaded_detector(
                    target, "yolo" if pixels else kind, normalized_boxes=not pixels
                )
                if pixels:  # a student's model before they write its description
                    (target / DETECTOR_FILE).unlink()
        return target

    def tflite(self, kind: str, mode: str = "int8-full", *options: str) -> Path:
        from helpers.cli import main

        model_dir = self.saved_model(kind)
        suffix = "".join(f"_{o.strip('-').replace('|', '-')}" for o in options)
        output = self.folder / f"{kind}_{mode}{suffix}.tflite"
        with _exclusive(self.folder / f"{output.stem}.lock"):
            if not output.exists():
                argv = [str(model_dir), "--images", str(self.CALIBRATION), "--mode", mode]
                assert main(["quantize", *argv, *options, "--output", str(output)]) == 0
        return output


@pytest.fixture(scope="session")
def own_detectors(tmp_path_factory) -> OwnDetectors:
    """The re-headed demo detectors (``OwnDetectors``), built in a temporary folder."""
    return OwnDetectors(_run_folder(tmp_path_factory, "detecteurs"))
