"""Outils de l'enseignant : exécuter tout le cours sans interface, JupyterLab en français."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from helpers.base.errors import KitError
from helpers.base.paths import OUTPUT_DIR, ROOT, relative_to_root
from helpers.base.units import french

NOTEBOOKS_DIR = ROOT / "notebooks"
TRANSLATION_PLUGIN = "@jupyterlab/translation-extension:plugin"
# JupyterLab 4 asks at first start whether to fetch Jupyter's news from the web: a prompt that
# greets the room on the projector, and a request that an offline course does not want.
NOTIFICATION_PLUGIN = "@jupyterlab/apputils-extension:notification"
# "false" is the schema's "Never" (a string, not a boolean); the update check needs the news
# feed, it is turned off too so that nothing asks the web.
NOTIFICATION_SETTINGS = {"fetchNews": "false", "checkForUpdates": False}


def course_notebooks() -> list[Path]:
    """Les notebooks numérotés du cours (00, 01, ...), dans l'ordre."""
    return sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))


def execute_notebooks(
    paths: list[Path], output_dir: Path = OUTPUT_DIR / "notebooks", timeout: int = 600
) -> list[tuple[str, float]]:
    """Exécute chaque notebook dans un noyau neuf et enregistre la copie exécutée dans
    ``output_dir`` (les notebooks du dépôt ne sont pas modifiés). Renvoie (nom, secondes)."""
    # Imported here: nbformat takes more than a second to import (its JSON schema checker),
    # which every command of python -m helpers would otherwise pay.
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    durations = []
    for path in map(Path, paths):
        if not path.is_file():
            raise KitError(f"Notebook introuvable : {path}.")
        notebook = nbformat.read(path, as_version=4)
        started = time.perf_counter()
        print(f"Exécution de {path.name}…", flush=True)
        client = NotebookClient(
            notebook,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
        )
        try:
            # The kernels' own stderr (TensorFlow's C++ start-up lines) would drown the progress.
            client.execute(stderr=subprocess.DEVNULL)
        except CellExecutionError as error:
            raise KitError(
                f"Le notebook {path.name} s'est arrêté sur une erreur. Ouvrez-le dans JupyterLab "
                f"et exécutez-le cellule par cellule pour la voir. Début du message : "
                f"{str(error).strip().splitlines()[-1][:300]}"
            ) from error
        nbformat.write(notebook, output_dir / path.name)
        durations.append((path.name, time.perf_counter() - started))
        print(f"  terminé en {french(durations[-1][1], '.1f')} s", flush=True)
    total = sum(seconds for _, seconds in durations)
    print(
        f"Cours exécuté en {french(total, '.1f')} s ; copies exécutées dans {relative_to_root(output_dir)}/.",
        flush=True,
    )
    return durations


def set_jupyterlab_french(prefix: Path = Path(sys.prefix)) -> Path:
    """Choisit le français comme langue par défaut de JupyterLab dans cet environnement, sans
    la question sur les nouvelles officielles de Jupyter (rien n'est demandé au web).

    Écrit ``share/jupyter/lab/settings/overrides.json`` (réglages par défaut, que chacun peut
    changer dans le menu Paramètres > Langue et dans l'éditeur de paramètres)."""
    settings_dir = Path(prefix) / "share" / "jupyter" / "lab" / "settings"
    settings_dir.mkdir(parents=True, exist_ok=True)
    overrides_file = settings_dir / "overrides.json"
    overrides = {}
    if overrides_file.is_file():
        try:
            overrides = json.loads(overrides_file.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            overrides = {}
    overrides.setdefault(TRANSLATION_PLUGIN, {})["locale"] = "fr_FR"
    overrides.setdefault(NOTIFICATION_PLUGIN, {}).update(NOTIFICATION_SETTINGS)
    overrides_file.write_text(json.dumps(overrides, indent=2) + "\n", encoding="utf-8")
    return overrides_file
