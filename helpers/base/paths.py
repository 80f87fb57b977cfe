"""Chemins du dépôt (trouvés à partir du paquet, pas du dossier courant) et écriture sûre.

Un fichier est écrit de façon atomique : sous un nom temporaire du même dossier, vidé sur le
disque, puis renommé. Une panne en cours d'écriture laisse l'ancien fichier intact.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from helpers.base.errors import KitError

ROOT = Path(__file__).resolve().parents[2]  # helpers/base/paths.py -> the repository
DATA_DIR = ROOT / "data"
CALIBRATION_DIR = DATA_DIR / "calibration"
TEST_DIR = DATA_DIR / "test"
LABELS_FILE = DATA_DIR / "labels.txt"
DEMO_MODEL_DIR = DATA_DIR / "modele_demo"
DEMO_MODEL_RECORD = DATA_DIR / "modele_demo.json"
# The model that loses accuracy in int8-full (notebook 06, helpers.demo.fragile).
FRAGILE_MODEL_DIR = DATA_DIR / "modele_fragile"
# The detection scenes and the demo detector of notebook 05 (helpers.demo.detector).
DETECTION_DIR = DATA_DIR / "detection"
DEMO_DETECTOR_DIR = DATA_DIR / "detecteur_demo"
DEMO_DETECTOR_WEIGHTS = DATA_DIR / "detecteur_demo.weights.h5"
DEMO_DETECTOR_RECORD = DATA_DIR / "detecteur_demo.json"
# The demo detector's variants that notebook 05 loads (exported once, with the same weights).
DEMO_DETECTOR_VARIANTS_DIR = DATA_DIR / "detecteur_demo_variantes"
# Everything the notebooks and commands produce goes here (git-ignored).
OUTPUT_DIR = ROOT / "sorties"


def relative_to_root(path) -> str:
    """Chemin affichable relatif à la racine du dépôt (jamais un chemin absolu de la machine)."""
    path = Path(path).resolve()
    try:
        return path.relative_to(ROOT).as_posix()
    except ValueError:
        return path.name


def missing_folders(folder) -> list[Path]:
    """Les dossiers à créer pour que ``folder`` existe, du plus haut au plus profond.

    Vérifie que le plus proche dossier existant en est bien un et qu'on peut y écrire.
    """
    folder = Path(folder)
    missing = []
    existing = folder
    while not existing.exists():
        missing.append(existing)
        if existing.parent == existing:
            break
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        raise KitError(
            f"{existing.name} est un fichier, pas un dossier : impossible d'écrire dans "
            f"{folder.as_posix()}. Choisissez un autre chemin."
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise KitError(
            f"Le dossier {existing.name or existing.as_posix()} est protégé en écriture : "
            "choisissez un dossier à vous (par exemple sorties/) ou changez ses droits."
        )
    return list(reversed(missing))


def remove_empty_folders(folders: list[Path]) -> None:
    """Retire, du plus profond au plus haut, les dossiers créés pour rien (s'ils sont vides)."""
    for folder in reversed(folders):
        try:
            folder.rmdir()
        except OSError:
            break


def write_atomically(path, content: bytes) -> None:
    """Écrit ``content`` dans ``path`` : tout le nouveau contenu, ou l'ancien fichier intact."""
    path = Path(path)
    descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    temporary = Path(name)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())  # on disk before the rename makes the bytes visible
        os.chmod(temporary, 0o644)  # mkstemp creates 0600; a model is an ordinary file
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
