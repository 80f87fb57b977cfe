"""Chemins du dépôt, trouvés à partir de l'emplacement du paquet (pas du dossier courant)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
CALIBRATION_DIR = DATA_DIR / "calibration"
TEST_DIR = DATA_DIR / "test"
LABELS_FILE = DATA_DIR / "labels.txt"
DEMO_MODEL_DIR = DATA_DIR / "modele_demo"
DEMO_MODEL_RECORD = DATA_DIR / "modele_demo.json"
# Everything the notebooks and commands produce goes here (git-ignored).
OUTPUT_DIR = ROOT / "sorties"


def relative_to_root(path) -> str:
    """Chemin affichable relatif à la racine du dépôt (jamais un chemin absolu de la machine)."""
    path = Path(path).resolve()
    try:
        return path.relative_to(ROOT).as_posix()
    except ValueError:
        return path.name
