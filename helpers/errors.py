"""Erreurs du kit : un message en français qui dit ce qui ne va pas et quoi faire."""


class KitError(Exception):
    """Erreur d'usage (mauvaise entrée) expliquée en français.

    La ligne de commande l'affiche sous la forme ``Erreur : <message>`` et sort avec le code 2.
    Introduite dans le notebook 00.
    """
