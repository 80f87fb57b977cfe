"""Ce que montrent les notebooks par-dessus les étapes : les figures et les exercices.

Chaque fonction de ``plots`` renvoie sa figure ; chaque vérificateur d'``exercises`` dit
« À vous » tant que la réponse manque, lève une ``AssertionError`` avec un indice quand elle
est fausse et dit « Bravo » quand elle est juste.
"""
