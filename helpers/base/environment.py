"""Vérification de l'environnement : versions de Python et des bibliothèques du cours.

Introduit dans le notebook 00.
"""

from __future__ import annotations

import platform
import sys
from dataclasses import dataclass
from importlib import metadata

from helpers.base.errors import KitError

SUPPORTED_PYTHON = ((3, 10), (3, 12))
INSTALL_HINT = (
    "Réinstallez l'environnement du cours : « make lab » (ou, sans make, "
    "« python -m pip install -r requirements.txt » dans l'environnement virtuel .venv)."
)
# distribution name(s) -> (displayed name, required version prefix)
REQUIRED = (
    (("tensorflow", "tensorflow-cpu"), "TensorFlow", "2.21."),
    (("keras",), "Keras", "3."),
    (("ai-edge-litert",), "LiteRT (ai-edge-litert)", "2.3."),
    (("numpy",), "numpy", ""),
    (("pillow",), "Pillow", ""),
    (("matplotlib",), "matplotlib", ""),
)


@dataclass(frozen=True)
class Check:
    """Une ligne de la vérification : ce qui est vérifié, la version trouvée, et si elle convient."""

    name: str
    found: str
    expected: str
    ok: bool


def installed_version(distributions: tuple[str, ...]) -> str | None:
    """La version installée de la première distribution trouvée (ex. tensorflow ou
    tensorflow-cpu), ou None si aucune ne l'est."""
    for name in distributions:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def environment_checks(python_version: tuple[int, int] | None = None) -> list[Check]:
    """Vérifie Python et chaque bibliothèque du cours ; renvoie une ligne par élément."""
    python_version = python_version or sys.version_info[:2]
    low, high = SUPPORTED_PYTHON
    checks = [
        Check(
            "Python",
            ".".join(map(str, python_version)),
            f"{low[0]}.{low[1]} à {high[0]}.{high[1]}",
            low <= tuple(python_version) <= high,
        )
    ]
    for distributions, name, prefix in REQUIRED:
        version = installed_version(distributions)
        checks.append(
            Check(
                name,
                version or "absent",
                f"{prefix}x" if prefix else "installé",
                version is not None and version.startswith(prefix),
            )
        )
    return checks


def check_environment(python_version: tuple[int, int] | None = None) -> list[Check]:
    """Comme ``environment_checks``, mais lève une erreur en français si quelque chose manque.

    Introduit dans le notebook 00.
    """
    checks = environment_checks(python_version)
    failures = [c for c in checks if not c.ok]
    if failures:
        details = "; ".join(f"{c.name} {c.found} (attendu : {c.expected})" for c in failures)
        fix = INSTALL_HINT
        if any(c.name == "Python" for c in failures):
            fix = (
                "Installez Python 3.10, 3.11 ou 3.12, recréez l'environnement "
                "(supprimez le dossier .venv) puis relancez « make lab »."
            )
        raise KitError(f"Environnement incomplet : {details}. {fix}")
    return checks


def describe_machine() -> str:
    """Système et processeur, pour savoir où les mesures ont été faites."""
    return f"{platform.system()} {platform.machine()}, Python {platform.python_version()}"
