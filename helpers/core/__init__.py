"""Ce que chaque étape du cours manipule : les images, le SavedModel et son entrée, LiteRT.

Chaque module n'importe que le socle (``helpers.base``) et les modules de ce dossier placés
avant lui (``images``, ``inputs``, ``models``, puis ``runtime``).
"""
