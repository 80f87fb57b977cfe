"""Les exercices des notebooks : « Exécuter tout » n'exécute aucune solution, et chaque solution,
mise à sa place, fait dire « Bravo » à sa vérification.

Une solution est une cellule Markdown marquée ``solution`` : un bloc ``<details>`` replié (un
clic pour l'ouvrir) qui contient son code dans un bloc ```` ```python ````. Elle suit la cellule
de vérification de son exercice ; la version résolue d'un notebook exécute ce code juste avant
cette vérification, à la place de ce que l'étudiant aurait écrit.
"""

from __future__ import annotations

import copy
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from jupyter_client import KernelManager
from nbclient import NotebookClient

from helpers.base.paths import ROOT

NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(path.name for path in NOTEBOOK_DIR.glob("*.ipynb"))
CODE_BLOCK = re.compile(r"```python\n(.*?)\n```", re.S)
MODELS_DIR = ROOT / "sorties" / "modeles"  # written by notebook 02


def _text(cell) -> str:
    return "".join(
        output.get("text", "") or output.get("data", {}).get("text/plain", "")
        for output in cell.get("outputs", [])
    )


def _read(name: str):
    return nbformat.read(NOTEBOOK_DIR / name, as_version=4)


def _solutions(notebook) -> list[tuple[int, str]]:
    """(index of the check cell, solution code) for each solution, in notebook order."""
    found = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "markdown" or "solution" not in cell.metadata.get("tags", []):
            continue
        check = max(i for i in range(index) if notebook.cells[i].cell_type == "code")
        (code,) = CODE_BLOCK.findall(cell.source)
        found.append((check, code))
    return found


# Settings a solved run may skip: what they switch off is checked by the stored run already.
FAST_SETTINGS = {"05_detecteur.ipynb": "REFERENCE_LATENCY = False"}


def solved_notebook(notebook, settings: str | None = None):
    """A copy where each solution's code runs just before its check cell, cut after the last
    check (what follows the exercises does not need a second run); ``settings`` runs right
    after the ``parameters`` cell."""
    solutions = _solutions(notebook)
    solved = copy.deepcopy(notebook)
    solved.cells = solved.cells[: solutions[-1][0] + 1]
    for check, code in reversed(solutions):
        solved.cells.insert(check, nbformat.v4.new_code_cell(code))
    checks = [check + number for number, (check, _) in enumerate(solutions, start=1)]
    if settings:
        (parameters,) = [
            i
            for i, cell in enumerate(solved.cells)
            if "parameters" in cell.metadata.get("tags", [])
        ]
        solved.cells.insert(parameters + 1, nbformat.v4.new_code_cell(settings))
        checks = [check + 1 if check > parameters else check for check in checks]
    return solved, checks


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_stored_notebook_leaves_every_exercise_unanswered(name):
    notebook = _read(name)
    solutions = _solutions(notebook)
    assert solutions, f"{name} : aucun exercice avec sa solution"
    for cell in notebook.cells:
        assert "solution" not in cell.metadata.get("tags", []) or cell.cell_type == "markdown"
        assert "Bravo" not in _text(cell), f"{name} : « Bravo » enregistré"
    for check, _ in solutions:
        assert _text(notebook.cells[check]).startswith("À vous"), f"{name}, cellule {check}"
    for cell in notebook.cells:
        if "solution" in cell.metadata.get("tags", []):
            source = cell.source
            assert source.startswith("<details>") and source.rstrip().endswith("</details>")


def _course_copy(folder: Path) -> Path:
    """A folder laid out like the course (notebooks/ beside data/), whose sorties/ is its own:
    a solved run never writes where the stored notebooks' runs write at the same time. The
    models notebook 02 has already written are copied in, so that 03 and 04 need not convert
    them again (without them, they convert in memory)."""
    (folder / "notebooks").mkdir()
    try:
        (folder / "data").symlink_to(ROOT / "data", target_is_directory=True)
    except OSError:  # no symbolic links (some Windows accounts): a copy
        shutil.copytree(ROOT / "data", folder / "data")
    if MODELS_DIR.is_dir():
        shutil.copytree(MODELS_DIR, folder / "sorties" / "modeles")
    return folder / "notebooks"


@pytest.fixture(scope="module")
def kernel():
    """One kernel for every solved run: starting a kernel and importing TensorFlow, matplotlib
    and the helpers is most of a short notebook's time, and the stored runs (nbval, each in a
    fresh kernel) already prove that each notebook runs alone. Each solved run starts by
    emptying the kernel's namespace (``%reset -f``): a solution cannot lean on a name another
    notebook left behind."""
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel()
    yield manager
    manager.shutdown_kernel(now=True)


def _fresh_start(folder: Path):
    """The cell a solved run starts with in the shared kernel: an empty namespace, no figure
    left open, and the notebook's own folder as the working directory."""
    return nbformat.v4.new_code_cell(
        "%reset -f\n"
        "import os as _os, matplotlib.pyplot as _plt\n"
        f"_plt.close('all'); _os.chdir({str(folder)!r}); del _os, _plt"
    )


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_with_its_solutions_says_bravo_at_every_check(name, tmp_path, kernel):
    solved, checks = solved_notebook(_read(name), FAST_SETTINGS.get(name))
    solved.cells.insert(0, _fresh_start(_course_copy(tmp_path)))
    checks = [check + 1 for check in checks]
    client = NotebookClient(solved, km=kernel, timeout=600)
    try:
        client.execute()
    finally:
        if client.kc is not None:
            client.kc.stop_channels()
    for check in checks:
        message = _text(solved.cells[check])
        assert message.startswith("Bravo"), f"{name}, cellule {check} : {message[:200]}"
