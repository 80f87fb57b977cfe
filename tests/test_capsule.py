"""La capsule de 10 minutes : assez courte pour être projetée, et prête pour le diaporama."""

from __future__ import annotations

import re

import nbformat

from helpers.base.paths import ROOT

CAPSULE = ROOT / "notebooks" / "capsule_10_minutes.ipynb"
MAX_WORDS = 600  # about 4 minutes read aloud; the code and its outputs take the rest
MAX_CODE_CELLS = 8
SLIDE_TYPES = {"slide", "subslide", "fragment", "-", "skip", "notes"}


def prose_words(notebook) -> int:
    """Words of the Markdown cells, tables included, code blocks and HTML tags left out."""
    text = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    return sum(1 for word in re.findall(r"[\wÀ-ÿ'’-]+", text) if re.search(r"[^\W_]", word))


def test_prose_words_counts_words_not_code():
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("## Un titre\n\n| a | b |\n|---|---|\n| l'échelle | 2,7 |"),
        nbformat.v4.new_markdown_cell("<details>\n\n```python\nx = 1 + 2\n```\n</details>"),
    ]
    assert prose_words(notebook) == 7  # Un, titre, a, b, l'échelle, 2 and 7


def test_capsule_fits_in_ten_minutes():
    notebook = nbformat.read(CAPSULE, as_version=4)
    assert prose_words(notebook) <= MAX_WORDS
    assert sum(cell.cell_type == "code" for cell in notebook.cells) <= MAX_CODE_CELLS


def test_every_cell_of_the_capsule_is_placed_in_the_slideshow():
    notebook = nbformat.read(CAPSULE, as_version=4)
    types = [cell.metadata.get("slideshow", {}).get("slide_type") for cell in notebook.cells]
    assert set(types) <= SLIDE_TYPES, types
    assert types[0] == "slide"
    sections = [
        c for c in notebook.cells if c.cell_type == "markdown" and c.source.startswith("## ")
    ]
    assert all(cell.metadata["slideshow"]["slide_type"] == "slide" for cell in sections)
    assert "rise" in notebook.metadata  # RISE's settings travel with the notebook
