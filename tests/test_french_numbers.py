"""Les nombres qu'une personne lit dans les notebooks sont écrits à la française (virgule)."""

from __future__ import annotations

import json
import re
from pathlib import Path

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
# A decimal point before a unit: « 160.5 ko », « 99.06 % », « 0.14 ms », « 5.8 s ».
POINT_BEFORE_UNIT = re.compile(r"\b\d+\.\d+\s?(?:ko|Mo|Go|ms|s\b|%)")


def stored_texts(path: Path):
    """(cell number, text) of every text output a person reads (not the code, not stderr)."""
    for number, cell in enumerate(json.loads(path.read_text(encoding="utf-8"))["cells"]):
        for output in cell.get("outputs", []):
            if output.get("name") == "stderr":
                continue
            text = "".join(output.get("text", "")) + "".join(
                output.get("data", {}).get("text/plain", "")
            )
            yield number, text + "".join(output.get("traceback", []))


def test_the_scan_sees_a_decimal_point_before_a_unit():
    assert POINT_BEFORE_UNIT.search("modèle : 160.5 ko") and POINT_BEFORE_UNIT.search("99.06%")
    assert not POINT_BEFORE_UNIT.search("160,5 ko, 99,06 %, TensorFlow 2.21.0, 0.5 point")


def test_stored_outputs_write_numbers_the_french_way():
    assert NOTEBOOKS
    found = [
        f"{path.name} cellule {number} : {match.group(0)}"
        for path in NOTEBOOKS
        for number, text in stored_texts(path)
        for match in POINT_BEFORE_UNIT.finditer(text)
    ]
    assert not found, f"nombres avec un point décimal devant une unité : {found}"
