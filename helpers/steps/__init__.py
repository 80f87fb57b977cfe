"""Une étape du cours par module : étalonnage, quantification, inspection, débogage,
détection, export.

Les notebooks et la ligne de commande appellent ces fonctions ; elles s'appuient sur
``helpers.core`` et ``helpers.base``.
"""
