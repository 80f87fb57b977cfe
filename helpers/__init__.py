"""Outils du cours « Quantification post-entraînement vers TensorFlow Lite / LiteRT ».

Un module par étape du cours :

- ``paths`` et ``errors`` : chemins du dépôt et erreurs en français ;
- ``environment`` : vérification de l'installation (notebook 00) ;
- ``demo_data`` : générateur déterministe des images de démonstration (notebook 00) ;
- ``demo_model`` : le petit réseau de type MobileNet, son entraînement et son chargement (notebook 00) ;
- ``images``, ``models`` : lecture des images, normalisation, chargement d'un SavedModel (notebook 00) ;
- ``calibration`` : le jeu de données représentatif (notebook 01) ;
- ``quantization`` : les modes de quantification et la commande ``quantize`` (notebook 02) ;
- ``runtime``, ``inspection`` : LiteRT, rapport, précision, latence ; ``inspect``, ``evaluate`` (notebook 03) ;
- ``export``, ``pi_classifier`` : écriture sûre, dossier pour la Pi ; ``bundle`` (notebook 04) ;
- ``course``, ``visualization`` : outils de l'enseignant et figures ;
- ``cli`` : la ligne de commande ``python -m helpers``.
"""

from helpers.errors import KitError

__all__ = ["KitError"]
__version__ = "0.1.0"
