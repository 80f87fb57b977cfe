"""Les chiffres que le README cite d'un notebook : ceux que le notebook affiche."""

from __future__ import annotations

import nbformat
import pytest

from helpers.base.paths import ROOT

# (figure in the README, notebook that prints it, line of its stored output that holds it)
CITED = [
    ("4,9 Mo par image", "01_etalonnage.ipynb", "Une image 640×640×3 en float32 : 4,9 Mo"),
    ("2,46 Go pour 500 images", "01_etalonnage.ipynb", "500 images dans la liste : 2,46 Go"),
    ("de 99,06 %", "01_etalonnage.ipynb", "vraies images"),
    ("à 81,25 %", "01_etalonnage.ipynb", "aléatoires [0, 1) (capsule)"),
]


def _output_lines(name: str) -> list[str]:
    notebook = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    return [
        line
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        for line in output.get("text", "").splitlines()
    ]


@pytest.mark.parametrize(("figure", "name", "line_start"), CITED)
def test_readme_figure_is_the_one_the_notebook_prints(figure, name, line_start):
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert figure in readme
    number = figure.split()[1] if figure.startswith(("de ", "à ")) else figure.split()[0]
    lines = [line for line in _output_lines(name) if line.strip().startswith(line_start)]
    assert lines and number in lines[0], (figure, lines)
