"""Les tailles de fichier du cours, en ko (1 ko = 1000 octets).

Introduit dans le notebook 03.
"""

from __future__ import annotations

BYTES_PER_KO = 1000  # the course counts in ko of 1000 bytes, never in KiB


def format_size(size_bytes: int, digits: int = 1) -> str:
    """Une taille en ko (1 ko = 1000 octets), comme dans tout le cours : « 160.5 ko »."""
    return f"{size_bytes / BYTES_PER_KO:.{digits}f} ko"
