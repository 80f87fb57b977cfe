"""Une docstring qui dit « Introduit dans le notebook NN » : ce notebook montre bien la fonction."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import helpers

PACKAGE_DIR = Path(helpers.__file__).parent
NOTEBOOKS_DIR = PACKAGE_DIR.parent / "notebooks"
TAG = re.compile(r"Introduite? dans le notebook (\d\d)")


def notebook_code(number: str) -> str:
    (path,) = NOTEBOOKS_DIR.glob(f"{number}_*.ipynb")
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")


def tagged_names() -> list[tuple[str, str, str]]:
    """(module, name, notebook) for each function, class or method whose docstring has a tag."""
    found = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                docstring = ast.get_docstring(node) or ""
                for number in TAG.findall(docstring.replace("\n", " ")):
                    found.append((path.stem, node.name, number))
    return found


def test_tags_name_a_notebook_that_shows_the_function():
    assert tagged_names(), "aucune docstring ne cite de notebook"
    missing = [
        f"{module}.{name} (notebook {number})"
        for module, name, number in tagged_names()
        if not re.search(rf"\b{name}\b", notebook_code(number))
    ]
    assert not missing, f"docstrings qui citent un notebook qui ne les montre pas : {missing}"
