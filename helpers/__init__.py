"""Outils du cours « Quantification post-entraînement vers TensorFlow Lite / LiteRT ».

Un module par étape du cours :

- ``paths`` et ``errors`` : chemins du dépôt et erreurs en français ;
- ``environment`` : vérification de l'installation (notebook 00) ;
- ``demo_data`` : générateur déterministe des images de démonstration (notebook 00) ;
- ``demo_model`` : le petit réseau de type MobileNet, son entraînement et son chargement (notebook 00) ;
- ``cli`` : la ligne de commande ``python -m helpers``.
"""

from helpers.errors import KitError

__all__ = ["KitError"]
__version__ = "0.1.0"
