"""Notebook 05 en rapport sur le détecteur d'un étudiant : papermill ne change que sa cellule
``parameters``, et la mAP qu'il affiche est celle d'``evaluate`` sur les mêmes images."""

from __future__ import annotations

import json
import re

import pytest

from helpers.base.paths import ROOT
from helpers.base.units import french
from helpers.cli import main
from helpers.steps.detection import coco_subset, load_coco_annotations

papermill = pytest.importorskip("papermill")

NOTEBOOKS = ROOT / "notebooks"
TEST_IMAGES = ROOT / "data" / "detection" / "test"
ANNOTATIONS = TEST_IMAGES / "annotations.json"
NUM_TEST_IMAGES = 10  # the mAP of few images is enough to compare two computations of it
LINE = re.compile(r"^(\S+)\s+mAP@0\.5 (\d,\d{3})\s+mAP@\[\.5:\.95\] (\d,\d{3})", re.M)


def _printed(notebook: dict) -> str:
    return "".join(
        "".join(output.get("text", ""))
        for cell in notebook["cells"]
        if cell["cell_type"] == "code"
        for output in cell.get("outputs", [])
        if output.get("name") == "stdout"
    )


# One layout is enough here: the notebook has no branch by format (the decoding of each is
# tested from quantize to the Pi in test_own_detector.py), and the stored run covers the kit's
# own two-output grid. YOLO is the layout most students bring.
@pytest.mark.parametrize("kind", ["yolo"])
def test_notebook_05_reports_on_a_students_detector(kind, own_detectors, tmp_path, capsys):
    output_dir = tmp_path / "sorties"
    parameters = {
        "MODEL_DIR": str(own_detectors.saved_model(kind)),
        "OUTPUT_DIR": str(output_dir),
        "NUM_TEST_IMAGES": NUM_TEST_IMAGES,
        # The reference detector's latency is the same whatever MODEL_DIR: stored run only.
        "REFERENCE_LATENCY": False,
    }
    executed = tmp_path / "05_rapport.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOKS / "05_detecteur.ipynb"),
        str(executed),
        parameters=parameters,
        cwd=str(NOTEBOOKS),
        progress_bar=False,
        kernel_name="python3",
    )
    printed = _printed(json.loads(executed.read_text(encoding="utf-8")))
    assert f"format = {kind}," in printed and "Section 5 sautée" in printed
    found = {mode: (map50, map50_95) for mode, map50, map50_95 in LINE.findall(printed)}
    assert set(found) == {"float32", "int8", "int8-full"}, printed
    labels = json.loads(own_detectors.tflite(kind).with_suffix(".json").read_text())["labels"]
    coco = coco_subset(load_coco_annotations(ANNOTATIONS, labels, TEST_IMAGES), NUM_TEST_IMAGES)
    annotations = tmp_path / "annotations.json"
    annotations.write_text(json.dumps(coco), encoding="utf-8")
    for mode in ("float32", "int8-full"):
        argv = [str(own_detectors.tflite(kind, mode)), "--images", str(TEST_IMAGES)]
        capsys.readouterr()  # after quantize, which prints
        assert main(["evaluate", *argv, "--annotations", str(annotations), "--json"]) == 0
        result = json.loads(capsys.readouterr().out)
        assert found[mode] == (french(result["map50"], ".3f"), french(result["map50_95"], ".3f"))
