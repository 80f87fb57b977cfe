"""Les deux scripts de la Pi : leurs imports, leurs options communes, le chemin d'entrée entier,
``--mesurer`` et la caméra de ``detecter.py``."""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import types
from pathlib import Path

import fake_picamera2
import numpy as np
import pytest
from PIL import Image

from helpers.base.paths import LABELS_FILE, ROOT, TEST_DIR
from helpers.demo.detector import DETECTION_DIR, DETECTOR_DIR
from helpers.demo.detector import LABELS as DETECTOR_LABELS
from helpers.pi import classer, detecter
from helpers.steps.detection import read_detector_description
from helpers.steps.export import build_metadata, write_model

PI_DIR = ROOT / "helpers" / "pi"


def _module_names(node: ast.AST) -> set[str]:
    if isinstance(node, ast.Import):
        return {alias.name.split(".")[0] for alias in node.names}
    return {(node.module or "").split(".")[0]}


def _module_level(statements) -> list[ast.AST]:
    """Imports run when the file is imported: at top level or in top-level try blocks (the
    friendly ImportError, the tflite_runtime fallback), however nested."""
    found = []
    for statement in statements:
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            found.append(statement)
        elif isinstance(statement, ast.Try):
            found += _module_level(statement.body)
            for handler in statement.handlers:
                found += _module_level(handler.body)
    return found


@pytest.mark.parametrize(
    "script, at_import, lazily",
    [
        ("classer.py", {"numpy", "PIL", "ai_edge_litert", "tflite_runtime"}, {"picamera2"}),
        # detecter.py takes numpy, Pillow, LiteRT and the camera through classer.py.
        ("detecter.py", {"numpy", "PIL", "classer", "helpers"}, set()),
    ],
)
def test_scripts_import_only_numpy_pillow_litert_picamera2_and_the_standard_library(
    script, at_import, lazily
):
    tree = ast.parse((PI_DIR / script).read_text(encoding="utf-8"))
    imports = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
    module_level = _module_level(tree.body)
    standard = set(sys.stdlib_module_names)
    assert set().union(*map(_module_names, module_level)) - standard == at_import
    inside = [n for n in imports if n not in module_level]
    assert set().union(set(), *map(_module_names, inside)) - standard == lazily
    # The one helpers import is the repository's fallback for classer.py, nothing else.
    from_helpers = [n for n in module_level if "helpers" in _module_names(n)]
    assert all(
        n.module == "helpers.pi" and [a.name for a in n.names] == ["classer"] for n in from_helpers
    )


def test_bundle_scripts_load_nothing_else_when_imported(tmp_path):
    """What ``import detecter`` really loads, in a bundle folder (not only what the file says)."""
    for name in ("classer.py", "detecter.py"):
        shutil.copy(PI_DIR / name, tmp_path / name)
    code = (
        "import sys; before = set(sys.modules); import detecter; "
        "print(sorted({m.split('.')[0] for m in set(sys.modules) - before}"
        " - set(sys.stdlib_module_names)))"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.replace("'", '"')) == [
        "PIL",
        "ai_edge_litert",
        "classer",
        "detecter",
        "numpy",
    ]


def _fresh_classer(monkeypatch, litert: bool, tflite_runtime):
    """classer.py imported anew, with ai_edge_litert blocked (``litert=False``) and
    ``tflite_runtime`` standing in for it (or absent: None)."""
    if not litert:
        monkeypatch.setitem(sys.modules, "ai_edge_litert", None)  # import raises ImportError
        monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)
    if tflite_runtime is None:
        monkeypatch.setitem(sys.modules, "tflite_runtime", None)
        monkeypatch.setitem(sys.modules, "tflite_runtime.interpreter", None)
    else:
        monkeypatch.setitem(sys.modules, "tflite_runtime", types.ModuleType("tflite_runtime"))
        monkeypatch.setitem(sys.modules, "tflite_runtime.interpreter", tflite_runtime)
    spec = importlib.util.spec_from_file_location("classer_neuf", PI_DIR / "classer.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_classer_falls_back_on_tflite_runtime(monkeypatch, raw_tflite_models, tmp_path):
    from ai_edge_litert.interpreter import Interpreter

    class OldInterpreter(Interpreter):
        """tflite_runtime's Interpreter: the same class under the runtime's former name."""

    fake = types.SimpleNamespace(Interpreter=OldInterpreter)
    module = _fresh_classer(monkeypatch, litert=False, tflite_runtime=fake)
    assert module.Interpreter is OldInterpreter
    model = tmp_path / "modele.tflite"
    model.write_bytes(raw_tflite_models["int8-full"])
    classifier = module.Classifier(model, "symmetric", 1)
    assert isinstance(classifier.interpreter, OldInterpreter)


def test_classer_without_any_runtime_says_what_to_install(monkeypatch, capsys):
    with pytest.raises(SystemExit) as stop:
        _fresh_classer(monkeypatch, litert=False, tflite_runtime=None)
    assert stop.value.code == 2
    error = capsys.readouterr().err
    assert error.startswith("Erreur : le module « ai_edge_litert » est absent")
    assert "pip install ai-edge-litert numpy pillow" in error


# --- the shared options ------------------------------------------------------------------


def _options(parser) -> dict[str, str]:
    """{option string: help} of a parser, hidden ones with help None."""
    found = {}
    for action in parser._actions:
        for option in action.option_strings or [action.dest]:
            found[option] = None if action.help == "==SUPPRESS==" else action.help
    return found


def test_both_scripts_share_their_options_in_french():
    common = _options(classer.build_parser())
    detector = _options(detecter.build_parser())
    assert set(detector) - set(common) == {"--sortie", "--seuil"}
    assert {option: detector[option] for option in common} == common
    for option in ("--fils", "--mesurer", "--preparation", "--camera", "--nombre", "--json"):
        assert common[option], option
    assert common["--threads"] is None  # the former name still works, not shown in --help
    help_text = classer.build_parser().format_help()
    assert "--fils" in help_text and "--threads" not in help_text


@pytest.mark.parametrize("option", ["--fils", "--threads"])
def test_fils_and_its_former_name_threads_set_the_threads(option):
    assert classer.build_parser().parse_args([option, "2"]).fils == 2
    assert detecter.build_parser().parse_args([option, "3"]).fils == 3
    assert classer.build_parser().parse_args([]).fils == classer.DEFAULT_THREADS


# --- the integer input path --------------------------------------------------------------


def _detail(dtype, scale, zero_point, channels=3, scales=None):
    return {
        "shape": np.array([1, 16, 16, channels]),
        "dtype": dtype,
        "quantization": (scale, zero_point),
        "quantization_parameters": {
            "scales": np.array(scales if scales is not None else [scale], np.float32),
            "zero_points": np.array([zero_point]),
        },
    }


ALL_PIXELS = np.arange(256, dtype=np.uint8).reshape(16, 16, 1).repeat(3, axis=-1)


@pytest.mark.parametrize(
    "dtype, scale, zero_point, normalization, kind",
    [
        (np.uint8, 0.007843137718737125, 127, "symmetric", "addition"),  # the pixel is the input
        (np.int8, 0.007843137718737125, -1, "symmetric", "addition"),  # a subtraction
        (np.int8, 0.003921568859368563, -128, "unit", "addition"),
        (np.int8, 1.0, -128, "raw", "addition"),
        (np.int8, 0.0081, 3, "symmetric", "multiplication-décalage"),  # a calibrated range
        (np.uint8, 0.0123, 130, "symmetric", "multiplication-décalage"),
        (np.int8, 0.0021, -100, "unit", "multiplication-décalage"),  # saturates above 0.57
        (np.int8, 2.5, 0, "raw", "multiplication-décalage"),
    ],
)
def test_integer_path_is_within_one_step_of_the_float_path(
    dtype, scale, zero_point, normalization, kind
):
    low, high = classer.NORMALIZATIONS[normalization]
    detail = _detail(dtype, scale, zero_point)
    plan = classer.integer_input_plan(detail, low, high)
    assert plan[0] == kind
    integer = classer.integer_input(ALL_PIXELS, plan, np.dtype(dtype))[None]
    reference = classer.float_input(ALL_PIXELS, detail, low, high)
    assert integer.dtype == reference.dtype == np.dtype(dtype)
    difference = np.abs(integer.astype(np.int32) - reference.astype(np.int32))
    assert difference.max() <= 1
    assert (difference == 0).mean() >= 0.9  # one step apart only near a half


def test_integer_path_uint8_symmetric_gives_the_pixels_and_int8_subtracts_128():
    pixels = ALL_PIXELS
    low, high = classer.NORMALIZATIONS["symmetric"]
    as_uint8 = classer.integer_input_plan(_detail(np.uint8, 2 / 255, 127), low, high)
    assert as_uint8 == ("addition", 0)
    assert classer.integer_input(pixels, as_uint8, np.dtype(np.uint8)) is pixels
    as_int8 = classer.integer_input_plan(_detail(np.int8, 2 / 255, -1), low, high)
    assert as_int8 == ("addition", -128)
    expected = (pixels.astype(np.int16) - 128).astype(np.int8)
    assert np.array_equal(classer.integer_input(pixels, as_int8, np.dtype(np.int8)), expected)
    assert classer.describe_input_plan(as_int8) == "préparation entière (q = p − 128)"


def test_integer_path_gives_way_to_the_float_path_when_it_cannot_apply():
    low, high = classer.NORMALIZATIONS["symmetric"]
    assert classer.integer_input_plan(_detail(np.float32, 0.0, 0), low, high) is None
    per_channel = _detail(np.int8, 0.01, 0, scales=[0.01, 0.02, 0.03])
    assert classer.integer_input_plan(per_channel, low, high) is None
    tiny_scale = _detail(np.int8, 1e-7, 0)  # M = 2/255 / 1e-7 × 2^16 does not fit 32 bits
    assert classer.integer_input_plan(tiny_scale, low, high) is None
    assert classer.describe_input_plan(None) == "préparation flottante"


@pytest.mark.parametrize("io_type", ["int8", "uint8"])
def test_integer_path_on_the_demo_model_is_within_one_step_and_keeps_the_predictions(
    tmp_path, raw_tflite_models, uint8_int8_full, io_type
):
    """The real models' input scale and zero point: the addition, and the same labels."""
    content = raw_tflite_models["int8-full"] if io_type == "int8" else uint8_int8_full
    model = tmp_path / "modele.tflite"
    model.write_bytes(content)
    classifier = classer.Classifier(model, "symmetric", 1)
    plan = classer.integer_input_plan(classifier.input_detail, -1.0, 1.0)
    assert plan == ("addition", 0 if io_type == "uint8" else -128)
    same_label = []
    for path in sorted(TEST_DIR.rglob("*.png"))[::8]:
        with Image.open(path) as image:
            image.load()
            integer, floating = classifier.prepare(image), classifier.prepare(image, False)
        assert integer.dtype == floating.dtype == np.dtype(io_type)
        assert np.abs(integer.astype(np.int32) - floating.astype(np.int32)).max() <= 1
        same_label.append(
            np.argmax(classifier.scores(integer)[0]) == np.argmax(classifier.scores(floating)[0])
        )
    assert np.mean(same_label) >= 0.95


# --- --mesurer ---------------------------------------------------------------------------


@pytest.fixture
def int8_full_model(tmp_path, raw_tflite_models) -> Path:
    model = tmp_path / "modele.tflite"
    model.write_bytes(raw_tflite_models["int8-full"])
    return model


def _classer_arguments(images: Path, model: Path, *more: str) -> list[str]:
    return [str(images), "--modele", str(model), "--etiquettes", str(LABELS_FILE), *more]


@pytest.fixture
def two_images(tmp_path) -> Path:
    folder = tmp_path / "deux"
    folder.mkdir()
    for label in ("cercle", "croix"):
        shutil.copy(TEST_DIR / label / f"{label}_000.png", folder / f"{label}.png")
    return folder


def _preparations(monkeypatch) -> list[bool]:
    """The ``integer_path`` of every Classifier.prepare call, in order."""
    calls = []
    original = classer.Classifier.prepare

    def spy(self, image, integer_path=True):
        calls.append(integer_path)
        return original(self, image, integer_path)

    monkeypatch.setattr(classer.Classifier, "prepare", spy)
    return calls


def test_classer_mesurer_cycles_the_folder_and_prints_one_json_object(
    int8_full_model, two_images, capsys, monkeypatch
):
    calls = _preparations(monkeypatch)
    arguments = _classer_arguments(
        two_images, int8_full_model, "--fils", "1", "--mesurer", "7", "--json"
    )
    assert classer.main(arguments) == 0
    (line,) = capsys.readouterr().out.splitlines()
    summary = json.loads(line)
    assert summary["images"] == 7 and summary["warmup"] == 5
    assert summary["input_path"] == "integer" and summary["source"] == "folder"
    stages = {"preparation", "inference", "probabilities", "total", "float_preparation"}
    assert set(summary["median_ms"]) == set(summary["p90_ms"]) == stages
    assert all(summary["median_ms"][k] <= summary["p90_ms"][k] for k in stages)
    assert summary["median_ms"]["total"] >= summary["median_ms"]["inference"] > 0
    assert summary["images_per_second"] == pytest.approx(
        1000 / summary["median_ms"]["total"], rel=0.01
    )
    # 12 runs (5 + 7) on 2 images: the folder read six times; each run prepares the integer way,
    # then the float way for the comparison.
    assert calls == [True, False] * 12


def test_classer_mesurer_prints_stages_in_french(int8_full_model, two_images, capsys):
    arguments = _classer_arguments(two_images, int8_full_model, "--fils", "1", "--mesurer", "3")
    assert classer.main(arguments) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("1 fil, préparation entière (q = p − 128).")
    assert lines[1] == (
        "Mesure sur 3 image(s), après 5 d'échauffement non comptées (durées en ms) :"
    )
    rows = {line.split("  ")[1].strip(): line for line in lines[3:-1]}
    assert list(rows) == [
        "préparation",
        "inférence",
        "probabilités",
        "total",
        "préparation flottante, pour comparer",
    ]
    assert all("," in row and "." not in row.split("  ", 2)[2] for row in rows.values())
    assert lines[-1].startswith("Débit : ") and lines[-1].endswith(
        " images par seconde (d'après la médiane du total)."
    )


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["IMAGES", "--mesurer", "0"], "--mesurer 0 : donnez le nombre d'images"),
        (["IMAGES", "--mesurer", "-3"], "--mesurer -3 : donnez le nombre d'images"),
        (["--camera", "--mesurer", "5"], "picamera2 est introuvable"),
        (["VIDE", "--mesurer", "5"], "aucune image PNG ou JPEG dans"),
        (["--camera", "--mesurer", "5", "--nombre", "3"], "retirez --nombre"),
    ],
)
@pytest.mark.parametrize("script", [classer, detecter])
def test_mesurer_bad_input_is_a_french_error_with_exit_2(
    tmp_path, int8_full_model, two_images, capsys, monkeypatch, script, arguments, message
):
    monkeypatch.setitem(sys.modules, "picamera2", None)  # no camera on this machine
    (tmp_path / "vide").mkdir()
    (tmp_path / "vide" / "notes.txt").write_text("pas une image", encoding="utf-8")
    replace = {"IMAGES": str(two_images), "VIDE": str(tmp_path / "vide")}
    arguments = [replace.get(a, a) for a in arguments]
    model = _detector_bundle_model(tmp_path) if script is detecter else int8_full_model
    labels = model.parent / "labels.txt" if script is detecter else LABELS_FILE
    status = script.main([*arguments, "--modele", str(model), "--etiquettes", str(labels)])
    captured = capsys.readouterr()
    assert status == 2
    assert captured.err.startswith("Erreur : ") and message in captured.err
    assert captured.out == ""  # the error comes before anything is printed


# --- detecter.py: --mesurer and the camera -------------------------------------------------


_DETECTOR_MODELS: dict = {}


def _detector_bundle_model(tmp_path: Path) -> Path:
    """The demo detector (128×128) in int8-full, with its metadata and labels, in tmp_path."""
    if "int8-full" not in _DETECTOR_MODELS:
        from helpers.core.models import load_saved_model
        from helpers.steps.calibration import representative_dataset
        from helpers.steps.quantization import convert

        dataset = representative_dataset(
            DETECTION_DIR / "calibration", input_size=(128, 128), num_samples=20, min_images=10
        )
        content, _ = convert(load_saved_model(DETECTOR_DIR), "int8-full", dataset)
        _DETECTOR_MODELS["int8-full"] = content
    content = _DETECTOR_MODELS["int8-full"]
    metadata = build_metadata(
        content,
        mode="int8-full",
        source="data/detecteur_demo",
        input_size=(128, 128),
        normalization="symmetric",
        labels=list(DETECTOR_LABELS),
        extra={"detector": read_detector_description(DETECTOR_DIR)},
    )
    model = write_model(tmp_path / "detecteur" / "detecteur.tflite", content, metadata)
    (model.parent / "labels.txt").write_text("\n".join(DETECTOR_LABELS) + "\n", encoding="utf-8")
    return model


def test_detecter_mesurer_times_preparation_inference_and_decoding(tmp_path, capsys):
    model = _detector_bundle_model(tmp_path)
    images = tmp_path / "scenes"
    images.mkdir()
    for path in sorted((DETECTION_DIR / "test").glob("*.jpg"))[:3]:
        shutil.copy(path, images / path.name)
    assert (
        detecter.main(
            [str(images), "--modele", str(model), "--fils", "1", "--mesurer", "4", "--json"]
        )
        == 0
    )
    summary = json.loads(capsys.readouterr().out)
    assert summary["images"] == 4
    assert set(summary["median_ms"]) == {
        "preparation",
        "inference",
        "decoding",
        "total",
        "float_preparation",
    }
    assert (
        detecter.main(
            [
                str(images),
                "--modele",
                str(model),
                "--fils",
                "1",
                "--mesurer",
                "2",
                "--preparation",
                "flottante",
            ]
        )
        == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("préparation flottante.")
    assert [line.split("  ")[1].strip() for line in lines[3:-1]] == [
        "préparation",
        "inférence",
        "décodage + NMS",
        "total",
    ]


# Each channel its own value: a swapped R and B changes what the model is fed. A fourth padding
# channel, as XRGB8888 frames have.
FRAME_COLOR = (200, 120, 40)
COLOR_FRAME = np.concatenate(
    [
        np.broadcast_to(np.array(FRAME_COLOR, np.uint8), (480, 640, 3)),
        np.full((480, 640, 1), 255, np.uint8),
    ],
    axis=-1,
)


def test_detecter_reads_camera_frames_in_rgb_order_and_numbers_them(tmp_path, monkeypatch, capsys):
    model = _detector_bundle_model(tmp_path)
    camera_class = fake_picamera2.install(monkeypatch, classer, COLOR_FRAME)
    fed = []
    original = detecter.Detector.raw_outputs

    def spy(self, tensor):
        fed.append(tensor.copy())
        return original(self, tensor)

    monkeypatch.setattr(detecter.Detector, "raw_outputs", spy)
    assert detecter.main(["--camera", "--modele", str(model), "--nombre", "3", "--json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["frame"] for r in records] == [0, 1, 2]
    assert [r["image"] for r in records] == ["camera_0000", "camera_0001", "camera_0002"]
    assert all(isinstance(r["detections"], list) for r in records)
    (camera,) = camera_class.instances
    assert camera.configuration["main"] == {"size": (640, 480), "format": "BGR888"}
    assert camera.captures == 3 and camera.closed and not camera.started
    # What the model sees: each channel the frame's colour, quantized (int8: p − 128).
    assert len(fed) == 3 and fed[0].shape == (1, 128, 128, 3)
    expected = np.array(FRAME_COLOR, dtype=np.int16) - 128
    assert np.array_equal(np.unique(fed[0].reshape(-1, 3), axis=0), expected[None])


def test_detecter_camera_boxes_are_in_pixels_of_the_central_square(tmp_path, monkeypatch, capsys):
    """A test scene in the middle 480×480 of the frame: the boxes are the scene's own, in the
    square's pixels (what the bundle's README says), not in the whole frame's."""
    model = _detector_bundle_model(tmp_path)
    scene_path = DETECTION_DIR / "test" / "test_000.jpg"
    with Image.open(scene_path) as scene:
        square = np.asarray(scene.convert("RGB").resize((480, 480), Image.NEAREST))
    frame = np.zeros((480, 640, 3), dtype=np.uint8)
    frame[:, 80:560] = square
    fake_picamera2.install(monkeypatch, classer, frame)
    assert detecter.main(["--camera", "--modele", str(model), "--nombre", "1", "--json"]) == 0
    (from_camera,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    folder = tmp_path / "scene"
    folder.mkdir()
    shutil.copy(scene_path, folder)
    assert detecter.main([str(folder), "--modele", str(model), "--json"]) == 0
    (from_file,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert from_file["detections"], "the scene should hold objects"
    assert [d["index"] for d in from_camera["detections"]] == [
        d["index"] for d in from_file["detections"]
    ]
    camera_boxes = np.array([d["box"] for d in from_camera["detections"]])
    file_boxes = np.array([d["box"] for d in from_file["detections"]]) * (480 / 128)
    np.testing.assert_allclose(camera_boxes, file_boxes, atol=8)  # 8 of 480 pixels


def test_mesurer_with_the_camera_takes_n_frames_after_the_warm_up(tmp_path, monkeypatch, capsys):
    model = _detector_bundle_model(tmp_path)
    camera_class = fake_picamera2.install(monkeypatch, classer, COLOR_FRAME)
    assert detecter.main(["--camera", "--modele", str(model), "--mesurer", "3", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["source"] == "camera" and summary["images"] == 3
    (camera,) = camera_class.instances
    assert camera.captures == 3 + classer.WARMUP_RUNS and camera.closed


@pytest.mark.parametrize(
    "failure",
    [
        RuntimeError("Camera __init__ sequence did not complete"),
        IndexError("list index out of range"),
    ],
)
def test_mesurer_with_picamera2_but_no_camera_is_a_french_error(
    tmp_path, monkeypatch, capsys, failure
):
    """picamera2 installed, no camera plugged in: Picamera2() fails as it does on a Pi."""

    def no_camera():
        raise failure

    monkeypatch.setitem(sys.modules, "picamera2", types.SimpleNamespace(Picamera2=no_camera))
    model = _detector_bundle_model(tmp_path)
    assert detecter.main(["--camera", "--modele", str(model), "--mesurer", "5"]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("Erreur : aucune caméra détectée")
    assert "rpicam-hello --list-cameras" in captured.err and captured.out == ""


def test_bundle_readmes_say_the_runtime_the_options_and_the_camera_pixels(
    tmp_path, int8_full_model
):
    from helpers.steps.export import make_bundle

    classifier_model = write_model(
        tmp_path / "classifieur" / "modele.tflite",
        int8_full_model.read_bytes(),
        build_metadata(
            int8_full_model.read_bytes(),
            mode="int8-full",
            source="data/modele_demo",
            input_size=(64, 64),
            normalization="symmetric",
            labels=[line for line in LABELS_FILE.read_text(encoding="utf-8").split() if line],
        ),
    )
    detector_readme = (
        make_bundle(_detector_bundle_model(tmp_path), tmp_path / "pi_detecteur") / "README.md"
    ).read_text(encoding="utf-8")
    classifier_readme = (
        make_bundle(classifier_model, tmp_path / "pi_classifieur") / "README.md"
    ).read_text(encoding="utf-8")
    for readme in (classifier_readme, detector_readme):
        for text in (
            "tflite_runtime",
            "Bookworm 64 bits" if readme is classifier_readme else "64 bits",
            "pip install ai-edge-litert numpy pillow",
            "--fils",
            "--mesurer 50",
            "90e centile",
            "--preparation flottante",
        ):
            assert text in readme, text
        assert "--threads" not in readme
    # Which pixels the boxes are in, with the camera: those of the central square.
    assert "carré central de 480×480" in detector_readme and "ajoutez 80 à x" in detector_readme
    assert "**décodage + NMS**" in detector_readme
