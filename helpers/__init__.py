"""Outils du cours « Quantification post-entraînement vers TensorFlow Lite / LiteRT ».

Les modules forment des couches : chacun n'importe que ceux des lignes au-dessus de lui
(``tests/test_layers.py`` le vérifie, sans cycle possible).

=========================  ==========================================================  =========
module                     rôle                                                        notebook
=========================  ==========================================================  =========
``errors``                 ``KitError`` (message en français), silence de TensorFlow
``paths``                  chemins du dépôt, écriture atomique d'un fichier
``units``                  tailles en ko
``environment``            versions de Python et des bibliothèques                     00
``images``                 images, normalisation, dossiers par étiquette, étiquettes   00
``models``                 le SavedModel et la règle unique de son entrée image        00
``runtime``                LiteRT : charger, quantifier, exécuter ; sha256, FILE.json   03
``calibration``            le jeu de données représentatif, la quantification affine   01
``inspection``             types, verdicts, précision, latence d'un ``.tflite``        03
``quantization``           les modes et la conversion                                  02
``debugging``              couches en cause (débogueur), quantification sélective      06
``quantizer_engine``       le second moteur : LiteRT Quantizer                         06
``detection``              détecteur : décodage, NMS, annotations COCO, mAP            05
``export``                 écriture sûre, métadonnées, vérification, dossier de la Pi  04
``plots``                  toutes les figures (chaque fonction renvoie la sienne)
``exercises``              vérificateurs d'exercices : « À vous », indice, « Bravo »   00-04, 06
``pi_classifier``          script autonome copié sur la Pi (numpy, Pillow, LiteRT)      04
``pi_detector``            script de détection copié sur la Pi (importe ``classer.py``)
``course``                 outils de l'enseignant : exécuter les notebooks, JupyterLab
``demo_data``              générateur déterministe des images de démonstration
``demo_model``             le petit MobileNet de démonstration et son entraînement
``demo_detector``          scènes annotées et détecteur de démonstration, entraînement
``demo_fragile``           modèle qui perd de l'exactitude en int8-full, entraînement  06
``cli``                    ``python -m helpers`` : analyse des arguments et commandes
=========================  ==========================================================  =========

TensorFlow est importé dans les fonctions qui s'en servent : il met des secondes à se charger,
et ``inspect``, ``evaluate`` ou ``bundle`` n'en ont pas besoin.
"""

__version__ = "0.1.0"

# The table above, as data: a module may import only the modules listed before it.
LAYERS = (
    "errors",
    "paths",
    "units",
    "environment",
    "images",
    "models",
    "runtime",
    "calibration",
    "inspection",
    "quantization",
    "debugging",
    "quantizer_engine",
    "detection",
    "export",
    "plots",
    "exercises",
    "pi_classifier",
    "pi_detector",
    "course",
    "demo_data",
    "demo_model",
    "demo_detector",
    "demo_fragile",
    "cli",
)
