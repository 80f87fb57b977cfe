"""Les nombres que lit une personne, écrits à la française : virgule décimale, tailles en ko.

Un seul endroit pour ces règles : tableaux, rapports, messages et notebooks passent par ici.
Le JSON (``--json``, ``FILE.json``) garde des nombres, pas du texte : ``json_text`` l'écrit.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from helpers.base.errors import KitError

BYTES_PER_KO = 1000  # the course counts in ko of 1000 bytes, never in KiB


_SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def french(value: float, spec: str = ".2f") -> str:
    """Un nombre formaté (``spec`` comme dans un f-string) avec une virgule décimale :
    ``french(99.0625, ".2f")`` donne « 99,06 », et une puissance de 10 s'écrit comme en
    français : ``french(4.52e-06, ".3g")`` donne « 4,52 × 10⁻⁶ »."""
    mantissa, exponent_mark, exponent = format(value, spec).partition("e")
    text = mantissa.replace(".", ",")
    if exponent_mark:
        text += f" × 10{str(int(exponent)).translate(_SUPERSCRIPTS)}"
    return text


def format_size(size_bytes: int, digits: int = 1) -> str:
    """Une taille en ko (1 ko = 1000 octets), comme dans tout le cours : « 160,5 ko »."""
    return f"{french(size_bytes / BYTES_PER_KO, f'.{digits}f')} ko"


def format_percent(ratio: float, digits: int = 2) -> str:
    """Une proportion (0 à 1) en pourcentage : « 99,06 % »."""
    return f"{french(100 * ratio, f'.{digits}f')} %"


def format_count(count: int) -> str:
    """Un entier avec ses milliers séparés par une espace : « 437 512 »."""
    return f"{count:,}".replace(",", " ")


def format_threads(count: int) -> str:
    """Un nombre de fils d'exécution, accordé : « 1 fil », « 4 fils »."""
    return f"{count} fil{'s' if count > 1 else ''}"


def format_ms(milliseconds: float, digits: int = 2) -> str:
    """Une durée en millisecondes : « 0,14 ms »."""
    return f"{french(milliseconds, f'.{digits}f')} ms"


def json_text(value, indent: int | None = None) -> str:
    """``value`` en JSON, accents lisibles ; un nombre infini ou indéfini (le SNR d'une sortie
    identique au modèle flottant) devient ``null`` : JSON n'a pas d'infini."""
    return json.dumps(_finite(value), ensure_ascii=False, indent=indent, allow_nan=False)


def read_json(path, unreadable: str, fix: str):
    """Le contenu d'un fichier JSON en UTF-8. S'il ne se lit pas, une ``KitError`` :
    « {unreadable} : {nom du fichier} ({erreur}). {fix} »."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise KitError(f"{unreadable} : {path.name} ({error.__class__.__name__}). {fix}") from error


def _finite(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value
