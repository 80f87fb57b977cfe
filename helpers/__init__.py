"""Outils du cours « Quantification post-entraînement vers TensorFlow Lite / LiteRT ».

Le paquet est rangé en étages ; chaque dossier en est un, du bas vers le haut :

=================  =================================================================  =========
étage              rôle                                                               notebooks
=================  =================================================================  =========
``base``           ``errors`` (``KitError``, silence de TensorFlow), ``paths``
                   (chemins du dépôt, écriture atomique), ``units`` (nombres à la
                   française), ``environment`` (versions)                             00
``core``           ``images`` (lecture, normalisation, étiquettes), ``inputs`` (la
                   règle unique de l'entrée image d'un modèle), ``models`` (le
                   SavedModel), ``runtime`` (LiteRT : charger, exécuter, valeurs
                   quantifiées, ``FILE.json``)                                        00, 03
``steps``          une étape du cours par module : ``calibration``, ``decoding``
                   (descriptions de détecteurs, décodage, NMS), ``inspection``,
                   ``quantization``, ``debugging``, ``selective`` (couches gardées
                   en flottant), ``quantizer_engine``, ``detection``, ``export`` ;
                   ``pipeline`` enchaîne les étapes des commandes ``quantize`` et
                   ``debug`` (la CLI et les notebooks)                                01-06
``course``         ce que montrent les notebooks : ``plots`` (chaque fonction
                   renvoie sa figure), ``exercises`` (les vérificateurs)              00-06
``demo``           l'enseignant : images et modèles de démonstration (``data``,
                   ``model``, ``detector``, ``fragile``), ``classroom`` (exécuter
                   les notebooks, JupyterLab en français)
``cli``            ``python -m helpers`` : analyse des arguments et commandes
=================  =================================================================  =========

Un module n'importe que les étages du dessous et, dans son étage, les modules placés avant lui
(``TIERS`` ci-dessous ; ``tests/test_layers.py`` le vérifie, sans cycle possible).

À part, ``pi`` : les scripts ``classer.py`` et ``detecter.py`` que ``bundle`` copie sur la
Raspberry Pi. Ils n'importent rien du paquet (numpy, Pillow et LiteRT seulement) ; des tests
de parité les gardent d'accord avec ``core`` et ``steps``.

TensorFlow est importé dans les fonctions qui s'en servent : il met des secondes à se charger,
et ``inspect``, ``evaluate`` ou ``bundle`` n'en ont pas besoin.
"""

__version__ = "0.1.0"

# The table above, as data: each tier with its modules, in the order they may import each other.
TIERS = (
    ("base", ("errors", "paths", "units", "environment")),
    ("core", ("images", "inputs", "models", "runtime")),
    (
        "steps",
        (
            "calibration",
            "decoding",
            "inspection",
            "quantization",
            "debugging",
            "selective",
            "quantizer_engine",
            "detection",
            "export",
            "pipeline",
        ),
    ),
    ("course", ("plots", "exercises")),
    ("demo", ("data", "model", "detector", "fragile", "classroom")),
    ("cli", ("cli",)),
)
STANDALONE = ("pi", ("classer", "detecter"))
"""Scripts shipped to the Pi: they import nothing of helpers (detecter.py imports classer.py)."""
