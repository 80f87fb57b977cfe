"""Les vérificateurs des exercices des notebooks 00 à 04 : ils guident, ils refusent les erreurs.

Chaque vérificateur reçoit la réponse de l'étudiant (un nombre, un dictionnaire, une fonction, les
octets d'un modèle) et ce dont il a besoin pour la juger (le modèle, les images, les paramètres
de quantification), passés explicitement par la cellule de vérification. Il renvoie un message :

- « À vous : ... » tant que la réponse est encore ``None`` (ou ``...``) : ce qu'il faut faire ;
- « Bravo : ... » quand la réponse est juste ;

et lève ``AssertionError`` avec un indice en français (ce qu'il faut regarder) quand elle est
fausse. Une fonction de l'étudiant est appelée sur de petits cas choisis pour reconnaître les
erreurs classiques (arrondi oublié, bornes du type, signe du point zéro, fichier lu d'un coup).
"""

from __future__ import annotations

import math

import numpy as np

from helpers.units import BYTES_PER_KO, french


def _is_placeholder(value) -> bool:
    return value is None or value is Ellipsis


def _number(value, name: str) -> float:
    """A student's numeric answer as a float, or an AssertionError that says what was expected."""
    if isinstance(value, (bool, str, bytes)) or not isinstance(value, (int, float, np.number)):
        if isinstance(value, np.ndarray) and value.size == 1:
            return float(value.reshape(-1)[0])
        raise AssertionError(
            f"{name} doit être un nombre (par exemple 12.5), pas {type(value).__name__} "
            f"({value!r}) : sans guillemets ni unité."
        )
    number = float(value)
    if not math.isfinite(number):
        raise AssertionError(f"{name} vaut {value!r} : il faut un nombre fini.")
    return number


def _spaced(count: int) -> str:
    """109813 -> « 109 813 », as the notebooks print counts."""
    return f"{count:,}".replace(",", " ")


# --------------------------------------------------------------------------------------------
# Notebook 00: the int8 size of the kernels
# --------------------------------------------------------------------------------------------


def _shape(variable) -> tuple[int, ...]:
    return tuple(int(d) for d in variable.shape)


def _is_floating(variable) -> bool:
    dtype = variable.dtype
    if hasattr(dtype, "is_floating"):  # a TensorFlow variable
        return bool(dtype.is_floating)
    return bool(np.issubdtype(np.dtype(dtype), np.floating))


def check_int8_size_answer(int8_kernels_kb, variables) -> str:
    """Vérifie l'exercice du notebook 00 : la place, en ko (1000 octets), qu'occuperont en int8
    les noyaux des couches du modèle (ses variables à plusieurs dimensions), calculée à partir
    de ``variables`` (``loaded.variables``). Renvoie un message ; lève ``AssertionError`` (indice
    en français) sur une mauvaise réponse. Introduit dans le notebook 00."""
    if _is_placeholder(int8_kernels_kb):
        return (
            "À vous : remplacez None par votre estimation, en ko, de la place des noyaux des "
            "couches une fois quantifiés en int8 (un nombre, calculé à partir du modèle), puis "
            "relancez cette cellule."
        )
    answer = _number(int8_kernels_kb, "int8_kernels_kb")
    shapes = [_shape(v) for v in variables if _is_floating(v)]
    kernel_values = sum(math.prod(shape) for shape in shapes if len(shape) > 1)
    all_values = sum(math.prod(shape) for shape in shapes)
    expected = kernel_values / BYTES_PER_KO
    rounded = answer in (round(expected), round(expected, 1))  # 104 or 104.2 ko: right too
    if rounded or np.isclose(answer, expected, rtol=5e-3):
        return (
            f"Bravo : {_spaced(kernel_values)} valeurs de noyaux, 1 octet chacune en int8, soit "
            f"{french(expected, '.1f')} ko, contre {french(4 * expected, '.1f')} ko en float32 "
            "(4 fois moins). Le fichier .tflite pèsera davantage : les biais (en int32), une "
            "échelle et un point zéro par canal et par activation, et le graphe s'y ajoutent "
            "(notebook 02)."
        )
    only_kernels = (
        "Ne comptez que les noyaux (les variables à plusieurs dimensions) : les vecteurs (biais, "
        "normalisation par lot) sont fusionnés dans les convolutions par la conversion, et les "
        "biais restent sur 4 octets (int32)."
    )
    mistakes = [
        (kernel_values * 4 / BYTES_PER_KO, "C'est la place des noyaux en float32 (4 octets par "
         "valeur). En int8, chaque valeur occupe 1 octet."),
        (all_values / BYTES_PER_KO, f"Vous comptez toutes les valeurs stockées. {only_kernels}"),
        (all_values * 4 / BYTES_PER_KO, "C'est la place de toutes les valeurs en float32 "
         f"(4 octets chacune). En int8, une valeur occupe 1 octet. {only_kernels}"),
        (kernel_values / 1024, "Dans ce cours, 1 ko = 1000 octets (pas 1024)."),
        (all_values / 1024, f"Dans ce cours, 1 ko = 1000 octets (pas 1024). {only_kernels}"),
        (kernel_values, "C'est un nombre d'octets : convertissez-le en ko (1 ko = 1000 octets)."),
        (all_values, f"C'est un nombre de valeurs, pas des ko. {only_kernels}"),
        (kernel_values / 4 / BYTES_PER_KO, "En int8, une valeur occupe 1 octet : c'est la place "
         "qui est divisée par 4 par rapport au float32 (4 octets), pas le nombre de valeurs."),
        (kernel_values * 8 / BYTES_PER_KO, "8 bits font 1 octet : comptez en octets, pas en bits."),
    ]
    for value, hint in mistakes:
        if np.isclose(answer, value, rtol=5e-3):
            raise AssertionError(f"{french(answer, 'g')} ko : pas tout à fait. {hint}")
    raise AssertionError(
        f"{french(answer, 'g')} ko : pas tout à fait. Repérez les noyaux dans le tableau des "
        "variables (les formes à plusieurs dimensions), additionnez leurs valeurs, puis comptez "
        "la place d'une valeur int8 ; donnez le résultat en ko (1 ko = 1000 octets)."
    )
