"""Les outils de l'enseignant : générer les images et réentraîner les modèles de
démonstration, exécuter les notebooks, mettre JupyterLab en français.

Rien dans les étapes du cours n'en dépend : un étudiant n'en a pas besoin.
"""
