"""Les vérificateurs des exercices des notebooks 00 à 06 et de la capsule : ils guident, ils refusent les erreurs.

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

import builtins
import contextlib
import hashlib
import math
import tempfile
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import numpy as np

from helpers.base.errors import KitError
from helpers.base.units import BYTES_PER_KO, format_percent, french
from helpers.core.images import normalize, read_image
from helpers.core.runtime import (
    dequantize_values,
    load_interpreter,
    quantization_params,
    quantize_values,
    run_model,
)
from helpers.steps.calibration import (
    affine_dequantize,
    affine_quantization_params,
    affine_quantize,
    peak_memory_while_consuming,
)
from helpers.steps.debugging import match_tensors, short_name
from helpers.steps.quantization import COURSE_MODES


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
        (
            kernel_values * 4 / BYTES_PER_KO,
            "C'est la place des noyaux en float32 (4 octets par "
            "valeur). En int8, chaque valeur occupe 1 octet.",
        ),
        (all_values / BYTES_PER_KO, f"Vous comptez toutes les valeurs stockées. {only_kernels}"),
        (
            all_values * 4 / BYTES_PER_KO,
            "C'est la place de toutes les valeurs en float32 "
            f"(4 octets chacune). En int8, une valeur occupe 1 octet. {only_kernels}",
        ),
        (kernel_values / 1024, "Dans ce cours, 1 ko = 1000 octets (pas 1024)."),
        (all_values / 1024, f"Dans ce cours, 1 ko = 1000 octets (pas 1024). {only_kernels}"),
        (kernel_values, "C'est un nombre d'octets : convertissez-le en ko (1 ko = 1000 octets)."),
        (all_values, f"C'est un nombre de valeurs, pas des ko. {only_kernels}"),
        (
            kernel_values / 4 / BYTES_PER_KO,
            "En int8, une valeur occupe 1 octet : c'est la place "
            "qui est divisée par 4 par rapport au float32 (4 octets), pas le nombre de valeurs.",
        ),
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


# --------------------------------------------------------------------------------------------
# Notebook 01: a representative dataset in [0, 1]
# --------------------------------------------------------------------------------------------


def _check_unit_example(item, number: int, expected: np.ndarray, path: Path) -> None:
    shape = expected.shape
    where = f"Exemple n° {number}"
    if isinstance(item, np.ndarray):
        raise AssertionError(
            f"{where} : un tableau seul. Le convertisseur attend une liste, avec un tableau par "
            "entrée du modèle : yield [tableau]."
        )
    if isinstance(item, tuple):
        raise AssertionError(f"{where} : un tuple. Produisez une liste : yield [tableau].")
    if not isinstance(item, list):
        raise AssertionError(
            f"{where} : {type(item).__name__}. Chaque exemple est une liste contenant un tableau "
            "numpy : yield [tableau]."
        )
    if len(item) != 1:
        raise AssertionError(
            f"{where} : une liste de {len(item)} éléments. Le modèle a une seule entrée : "
            "yield [tableau], un seul tableau dans la liste."
        )
    array = item[0]
    if not isinstance(array, np.ndarray):
        raise AssertionError(
            f"{where} : la liste contient {type(array).__name__}, pas un tableau numpy : "
            "np.asarray(image, dtype=np.float32)."
        )
    if array.dtype == np.float64:
        raise AssertionError(
            f"{where} : type float64, le piège classique de np.asarray(image) / 255.0. Le "
            "convertisseur veut du float32 : np.asarray(image, dtype=np.float32) / 255.0."
        )
    if array.dtype != np.float32:
        hint = (
            " : les pixels ne sont pas normalisés. Convertissez en float32 et divisez par 255."
            if np.issubdtype(array.dtype, np.integer)
            else " : convertissez en float32 (dtype=np.float32)."
        )
        raise AssertionError(f"{where} : type {array.dtype}{hint}")
    if array.shape != shape:
        hint = (
            f" : il manque l'axe du lot, tableau[np.newaxis] donne {shape}."
            if array.shape == shape[1:]
            else f" : il faut {shape}, (1, hauteur, largeur, canaux), avec la taille et les "
            "canaux du modèle."
        )
        raise AssertionError(f"{where} : forme {array.shape}{hint}")
    low, high = float(array.min()), float(array.max())
    if high > 1.0 + 1e-6 or low < -1e-6:
        if high > 2.0:
            hint = "des pixels 0..255 non normalisés : divisez par 255."
        elif low < 0:
            hint = (
                "c'est la normalisation symmetric [-1, 1] ; ce modèle attend [0, 1] : divisez "
                "simplement par 255, sans décalage."
            )
        else:
            hint = "la normalisation unit donne [0, 1] : divisez par 255."
        raise AssertionError(f"{where} : valeurs dans [{french(low)}, {french(high)}], {hint}")
    if not np.allclose(array, expected, atol=1e-6):
        height, width, channels = shape[1:]
        raise AssertionError(
            f"{where} : ce n'est pas l'image {path.name} préparée comme le kit. Gardez l'ordre de "
            f"calibration_files (triée), convertissez en {'RGB' if channels == 3 else 'L'}, "
            f"redimensionnez en {width}×{height} et divisez par 255."
        )


def check_unit_dataset_answer(
    unit_dataset, calibration_files, input_shape, count: int = 100
) -> str:
    """Vérifie l'exercice du notebook 01 : ``unit_dataset`` est un générateur qui produit les
    ``count`` premières images de ``calibration_files``, normalisées dans [0, 1], au format du
    convertisseur (``[float32 (1, H, W, C)]``), une image à la fois. ``input_shape`` est
    ``(hauteur, largeur, canaux)`` du modèle. Renvoie un message ; lève ``AssertionError``
    (indice en français) sur une mauvaise réponse. Introduit dans le notebook 01."""
    todo = (
        "À vous : écrivez le corps de unit_dataset (un yield [tableau] par image, dans la "
        "boucle sur les fichiers), puis relancez cette cellule."
    )
    if _is_placeholder(unit_dataset):
        return todo
    if not callable(unit_dataset):
        raise AssertionError(
            "unit_dataset doit être une fonction sans argument (def unit_dataset(): ...) : le "
            "convertisseur l'appelle lui-même, et la rappelle pour recommencer."
        )
    produced = unit_dataset()
    if produced is None:
        return todo
    if isinstance(produced, (list, tuple)):
        raise AssertionError(
            "unit_dataset() renvoie une liste toute faite : toutes les images restent en mémoire, "
            "comme avec le chargeur de la capsule. Écrivez un générateur : yield [tableau] pour "
            "chaque image, dans la boucle."
        )
    if not isinstance(produced, Iterator):
        raise AssertionError(
            f"unit_dataset() renvoie {type(produced).__name__} : c'est un générateur qu'il faut, "
            "avec yield [tableau] pour chaque image."
        )
    height, width, channels = (int(v) for v in input_shape)
    paths = [Path(p) for p in calibration_files][:count]
    number = 0
    for number, item in enumerate(produced, start=1):
        if number > len(paths):
            raise AssertionError(
                f"Plus de {len(paths)} exemples : limitez-vous aux {count} premières images "
                f"(calibration_files[:{count}])."
            )
        path = paths[number - 1]
        expected = normalize(read_image(path, (height, width), channels), "unit")[np.newaxis]
        _check_unit_example(item, number, expected, path)
    if number < len(paths):
        raise AssertionError(
            f"{number} exemple(s) produit(s) : il en faut {len(paths)}, les {count} premières "
            f"images de calibration_files (calibration_files[:{count}])."
        )
    # Streaming keeps a few copies of one image; loading everything first keeps them all.
    one_image = height * width * channels * np.dtype(np.float32).itemsize
    _, peak = peak_memory_while_consuming(unit_dataset)
    if len(paths) >= 20 and peak > 10 * one_image:
        raise AssertionError(
            f"Le parcours de unit_dataset occupe environ {round(peak / one_image)} fois une image : "
            "il charge les images avant de les donner, comme le chargeur de la capsule (en "
            "640×640, 4,9 Mo par image). Lisez, préparez et donnez chaque image dans la même "
            "boucle, sans liste."
        )
    return (
        f"Bravo : {len(paths)} exemples float32 de forme (1, {height}, {width}, {channels}) "
        "dans [0, 1], les mêmes que ceux du kit (normalisation unit), lus une image à la fois."
    )


# --------------------------------------------------------------------------------------------
# Notebook 02: a uint8 model, and which mode for which hardware
# --------------------------------------------------------------------------------------------


def _accuracy(content: bytes, images, targets) -> float:
    predictions = run_model(load_interpreter(content), images).argmax(axis=1)
    return float(np.mean(predictions == np.asarray(targets)))


def check_uint8_model_answer(model_uint8, int8_full_model, images=None, targets=None) -> str:
    """Vérifie l'exercice a) du notebook 02 : ``model_uint8`` (les octets rendus par
    ``converter.convert()``) a une entrée et une sortie ``uint8``, avec la même échelle que
    l'entrée de ``int8_full_model`` et son point zéro + 128. Avec ``images`` et ``targets``, le
    message donne l'exactitude des deux modèles. Renvoie un message ; lève ``AssertionError``
    (indice en français) sur une mauvaise réponse. Introduit dans le notebook 02."""
    if _is_placeholder(model_uint8):
        return (
            "À vous : ajoutez au convertisseur les deux réglages du type de l'entrée et de la "
            "sortie, remplacez None par converter.convert(), puis relancez cette cellule."
        )
    if type(model_uint8).__name__.startswith("TFLiteConverter"):
        raise AssertionError(
            "model_uint8 est le convertisseur lui-même : il faut les octets du modèle, "
            "model_uint8 = converter.convert()."
        )
    if not isinstance(model_uint8, (bytes, bytearray)):
        raise AssertionError(
            f"model_uint8 est {type(model_uint8).__name__} : il faut les octets rendus par "
            "converter.convert()."
        )
    try:
        interpreter = load_interpreter(bytes(model_uint8))
    except KitError as error:
        raise AssertionError(
            f"model_uint8 n'est pas un modèle lisible ({error}) : model_uint8 = converter.convert()."
        ) from error
    detail = interpreter.get_input_details()[0]
    for role, tensor, setting in (
        ("L'entrée", detail, "inference_input_type"),
        ("La sortie", interpreter.get_output_details()[0], "inference_output_type"),
    ):
        dtype = np.dtype(tensor["dtype"])
        if dtype == np.uint8:
            continue
        if dtype == np.int8:
            hint = "int8 est le type par défaut du mode entier ; demandez tf.uint8."
        elif dtype == np.float32:
            hint = (
                "sans ce réglage, le convertisseur garde une entrée et une sortie flottantes "
                "(comme le mode int8), avec QUANTIZE et DEQUANTIZE aux bords."
            )
        else:
            hint = "le type attendu est tf.uint8."
        raise AssertionError(
            f"{role} du modèle est en {dtype.name} : réglez converter.{setting} = tf.uint8 ; {hint}"
        )
    scale, zero_point = quantization_params(detail)
    reference = load_interpreter(int8_full_model).get_input_details()[0]
    int8_scale, int8_zero_point = quantization_params(reference)
    if not (np.isclose(scale, int8_scale, rtol=1e-5) and zero_point == int8_zero_point + 128):
        raise AssertionError(
            f"Entrée uint8 d'échelle {french(scale, '.6f')} et de point zéro {zero_point} : on "
            f"attendait l'échelle du modèle int8-full ({french(int8_scale, '.6f')}) et son point "
            f"zéro + 128 ({int8_zero_point} + 128 = {int8_zero_point + 128}). Gardez le même jeu "
            "de données représentatif (converter.representative_dataset = dataset)."
        )
    message = (
        f"Bravo : entrée et sortie en uint8, même échelle que int8-full ({french(scale, '.6f')}), "
        f"point zéro {int8_zero_point} + 128 = {zero_point}"
    )
    if images is not None and targets is not None:
        message += (
            f", exactitude {format_percent(_accuracy(bytes(model_uint8), images, targets))} "
            f"(int8-full : {format_percent(_accuracy(int8_full_model, images, targets))})"
        )
    return message + "."


HARDWARE_SITUATIONS = {  # situation: (expected mode, hint)
    "clé Coral Edge TPU branchée sur la Pi": (
        "int8-full",
        "l'Edge TPU n'exécute que des entiers, entrée et sortie comprises",
    ),
    "processeur de la Pi, sans aucune image d'étalonnage": (
        "dynamic",
        "un seul mode réduit les poids à un octet sans étalonnage",
    ),
    "délégué GPU d'un téléphone": (
        "float16",
        "le GPU calcule volontiers en demi-précision",
    ),
    "processeur de la Pi, images disponibles, entrée flottante comme le modèle d'origine": (
        "int8",
        "calcul entier sur le processeur, entrée et sortie flottantes comme la capsule",
    ),
}


def _wrong_mode_hint(situation: str, choice: str) -> str:
    """What is wrong with a mode for a situation, when there is more to say than the hint."""
    if choice == "float32":
        return "float32 ne quantifie rien : c'est la référence, le fichier le plus gros."
    if "sans aucune image" in situation and choice in ("int8", "int8-full"):
        return f"{choice} étalonne les activations : il lui faut des images d'étalonnage."
    if "Edge TPU" in situation and choice == "int8":
        return (
            "int8 garde une entrée et une sortie float32 : QUANTIZE et DEQUANTIZE resteraient "
            "hors de l'Edge TPU, qui n'exécute que des entiers."
        )
    if "Edge TPU" in situation and choice in ("dynamic", "float16"):
        return f"{choice} calcule en flottant : l'Edge TPU n'exécute que des entiers."
    if "entrée flottante" in situation and choice == "int8-full":
        return (
            "int8-full a une entrée et une sortie entières : l'application devrait quantifier "
            "l'image elle-même. Le mode de la capsule garde des bords flottants."
        )
    if "processeur" in situation and choice == "float16":
        return (
            "le processeur de la Pi 4 ne calcule pas en float16 : il reconvertit les poids en "
            "float32, sans gain de vitesse."
        )
    return ""


def check_hardware_choice_answer(hardware_choice) -> str:
    """Vérifie l'exercice b) du notebook 02 : le mode de conversion choisi pour chacune des
    quatre situations de ``HARDWARE_SITUATIONS`` (un dictionnaire situation → mode). Renvoie un
    message ; lève ``AssertionError`` (indice en français) sur un mauvais choix. Introduit dans
    le notebook 02."""
    modes = ", ".join(f"« {mode} »" for mode in COURSE_MODES)
    if _is_placeholder(hardware_choice):
        return (
            f"À vous : créez le dictionnaire hardware_choice (un mode parmi {modes} par situation)."
        )
    if not isinstance(hardware_choice, dict):
        raise AssertionError(
            f"hardware_choice doit rester un dictionnaire situation → mode, pas "
            f"{type(hardware_choice).__name__}."
        )
    if set(hardware_choice) != set(HARDWARE_SITUATIONS):
        missing = sorted(set(HARDWARE_SITUATIONS) - set(hardware_choice))
        raise AssertionError(
            "Gardez les quatre situations telles quelles et ne changez que les valeurs"
            + (f" (introuvable : « {missing[0]} »)." if missing else ".")
        )
    pending = 0
    for situation, (expected, hint) in HARDWARE_SITUATIONS.items():
        choice = hardware_choice[situation]
        if _is_placeholder(choice):
            pending += 1
            continue
        if choice not in COURSE_MODES:
            raise AssertionError(
                f"« {situation} » : {choice!r} n'est pas un mode du cours ; choisissez parmi "
                f"{modes} (un texte, entre guillemets)."
            )
        if choice != expected:
            detail = _wrong_mode_hint(situation, choice)
            raise AssertionError(
                f"« {situation} » : pas « {choice} ». "
                + (detail + " " if detail else "")
                + f"Indice : {hint}."
            )
    if pending:
        already = (
            f" ({len(HARDWARE_SITUATIONS) - pending} choix déjà justes)"
            if pending < len(HARDWARE_SITUATIONS)
            else ""
        )
        return (
            f"À vous : remplacez chaque None par un mode parmi {modes}{already}, puis relancez "
            "cette cellule."
        )
    return (
        "Bravo : les quatre choix sont justes. Le matériel décide du mode : Edge TPU → "
        "int8-full, GPU → float16, processeur → int8 (ou dynamic, sans images d'étalonnage)."
    )


# --------------------------------------------------------------------------------------------
# Notebook 03: quantize by hand, and what the integer 0 means
# --------------------------------------------------------------------------------------------

# (values, scale, zero point, dtype): each case catches a classic mistake.
QUANTIZE_CASES = (
    ((0.2, 1.3, -1.3, 2.4), 0.5, 0, np.int8),  # rounding: 2.6 -> 3, not 2
    ((0.0, 0.5, -0.5), 0.25, -3, np.int8),  # the zero point is added
    ((100.0, -100.0, 0.3), 0.5, 10, np.int8),  # the bounds of int8
    ((-1.0, 0.0, 0.5, 2.0, -2.0), 1 / 128, 128, np.uint8),  # the bounds of the asked type
)


def _quantize_variants(values, scale, zero_point, dtype) -> list[tuple[np.ndarray, str]]:
    """What classic mistakes would give, each with its hint."""
    info, int8 = np.iinfo(dtype), np.iinfo(np.int8)
    x = np.asarray(values, dtype=np.float64)

    def bounded(q, limits=info):
        return np.clip(q, limits.min, limits.max).astype(dtype)

    with np.errstate(over="ignore", invalid="ignore"):
        return [
            (
                bounded(np.trunc(x / scale) + zero_point),
                "Il manque l'arrondi : astype tronque "
                "vers zéro (2,6 devient 2 au lieu de 3). Arrondissez x / échelle à l'entier le plus "
                "proche (np.round) avant d'ajouter le point zéro.",
            ),
            (
                bounded(np.floor(x / scale) + zero_point),
                "np.floor arrondit vers le bas (-2,6 "
                "devient -3, mais 2,6 devient 2) : il faut l'entier le plus proche, np.round.",
            ),
            (
                (np.round(x / scale) + zero_point).astype(np.int64).astype(dtype),
                "Il manque les "
                f"bornes du type : {np.dtype(dtype).name} va de {info.min} à {info.max}, et astype "
                "ne borne pas (210 devient -46 en int8). Bornez avec np.clip(q, "
                "np.iinfo(dtype).min, np.iinfo(dtype).max) avant astype(dtype).",
            ),
            (
                bounded(np.round(x / scale) - zero_point),
                "Le point zéro s'ajoute : q = round(x / "
                "échelle) + point zéro (le réel 0 doit donner le point zéro).",
            ),
            (
                bounded(np.round(x / scale)),
                "Il manque le point zéro : q = round(x / échelle) + point zéro.",
            ),
            (
                bounded(np.round(x * scale) + zero_point),
                "Divisez par l'échelle : q = round(x / "
                "échelle) + point zéro (on multiplie par l'échelle pour revenir aux réels).",
            ),
            (
                bounded(np.round(x / scale) + zero_point, int8),
                "Les bornes dépendent du type "
                f"demandé : {np.dtype(dtype).name} va de {info.min} à {info.max}. Prenez-les dans "
                "np.iinfo(dtype), pas celles de int8.",
            ),
        ]


def _call_quantize(function, values, scale, zero_point, dtype):
    where = (
        f"x = {[french(v, 'g') for v in values]}, échelle {french(scale, 'g')}, point zéro "
        f"{zero_point}, type {np.dtype(dtype).name}"
    ).replace("'", "")
    try:
        result = function(np.array(values, dtype=np.float32), scale, zero_point, dtype)
    except Exception as error:
        raise AssertionError(
            f"quantize_by_hand a levé {type(error).__name__} ({error}) pour {where}."
        ) from error
    return result, where


def _check_quantize_by_hand(function) -> bool:
    """True when the function answers right, False when it still returns None."""
    for values, scale, zero_point, dtype in QUANTIZE_CASES:
        result, where = _call_quantize(function, values, scale, zero_point, dtype)
        if result is None:
            return False
        expected = np.clip(
            np.round(np.asarray(values, dtype=np.float32) / np.float32(scale)) + zero_point,
            np.iinfo(dtype).min,
            np.iinfo(dtype).max,
        ).astype(dtype)
        got = np.asarray(result)
        if got.shape != expected.shape:
            raise AssertionError(
                f"Pour {where}, le résultat a la forme {got.shape} au lieu de {expected.shape} : "
                "quantifiez chaque valeur, sans changer la forme du tableau."
            )
        if not np.array_equal(got.astype(np.float64), expected.astype(np.float64)):
            hint = next(
                (
                    text
                    for wrong, text in _quantize_variants(values, scale, zero_point, dtype)
                    if np.array_equal(got.astype(np.float64), wrong.astype(np.float64))
                ),
                "Formule : q = clip(round(x / échelle) + point zéro, min du type, max du type).",
            )
            raise AssertionError(
                f"Pour {where}, vous obtenez {got.tolist()} au lieu de {expected.tolist()}. {hint}"
            )
        if got.dtype != np.dtype(dtype):
            raise AssertionError(
                f"Pour {where}, les bons entiers, mais en {got.dtype} : le résultat doit être du "
                "type demandé ; terminez par .astype(dtype)."
            )
    return True


def _wrong_integers(got, images, input_detail) -> np.ndarray:
    """Where integers differ from LiteRT's quantization of ``images``, to one step at exact
    halves: pixels land near them (x / s = p - 127.5), where float64 and float32 may round
    apart, so there either neighbour of x / s is right."""
    scale, zero_point = quantization_params(input_detail)
    info = np.iinfo(np.dtype(input_detail["dtype"]))
    expected = quantize_values(images, input_detail)
    ratio = np.asarray(images, dtype=np.float64) / scale
    near_half = np.abs(np.abs(ratio - np.floor(ratio)) - 0.5) < 1e-3
    below = np.clip(np.floor(ratio) + zero_point, info.min, info.max)
    above = np.clip(np.ceil(ratio) + zero_point, info.min, info.max)
    got = np.asarray(got).astype(np.float64)
    return np.where(near_half, (got != below) & (got != above), got != expected)


def _check_on_images(function, images, input_detail) -> None:
    """The student's integers equal LiteRT's on real images, to one step at exact halves."""
    scale, zero_point = quantization_params(input_detail)
    dtype = np.dtype(input_detail["dtype"]).type
    expected_shape = np.shape(images)
    try:
        got = np.asarray(function(np.asarray(images, dtype=np.float32), scale, zero_point, dtype))
    except Exception as error:
        raise AssertionError(
            f"quantize_by_hand a levé {type(error).__name__} ({error}) sur les images de test."
        ) from error
    if got.shape != expected_shape:
        raise AssertionError(
            f"Sur les images, le résultat a la forme {got.shape} au lieu de {expected_shape}."
        )
    wrong = _wrong_integers(got, images, input_detail)
    if np.any(wrong):
        raise AssertionError(
            f"Sur les images de test, {int(np.sum(wrong))} entiers diffèrent de ceux de LiteRT "
            f"(échelle {french(scale, '.6f')}, point zéro {zero_point}) : arrondissez à "
            "l'entier le plus proche avec np.round, ajoutez le point zéro, puis bornez."
        )


def check_quantize_by_hand_answer(
    quantize_by_hand, real_of_zero, input_detail, output_detail, images
) -> str:
    """Vérifie l'exercice du notebook 03. ``quantize_by_hand(values, scale, zero_point, dtype)``
    doit arrondir, ajouter le point zéro et borner au type (``np.int8`` ou ``np.uint8``) : elle
    est essayée sur de petits cas, puis comparée à LiteRT sur ``images`` avec les paramètres
    d'``input_detail``. ``real_of_zero`` est le réel que représente l'entier 0 en sortie
    (``output_detail``). Renvoie un message ; lève ``AssertionError`` (indice en français) sur une
    mauvaise réponse. Introduit dans le notebook 03."""
    pending = []
    if _is_placeholder(quantize_by_hand):
        pending.append("complétez quantize_by_hand")
    elif not callable(quantize_by_hand):
        raise AssertionError(
            "quantize_by_hand doit rester une fonction (def quantize_by_hand(values, scale, "
            "zero_point, dtype=np.int8): ...)."
        )
    elif not _check_quantize_by_hand(quantize_by_hand):
        pending.append("complétez quantize_by_hand (elle renvoie encore None)")
    else:
        _check_on_images(quantize_by_hand, images, input_detail)

    out_scale, out_zero_point = quantization_params(output_detail)
    expected = float(
        dequantize_values(np.array([0], dtype=output_detail["dtype"]), output_detail)[0]
    )
    if _is_placeholder(real_of_zero):
        pending.append("remplacez None dans real_of_zero par votre calcul")
    else:
        answer = _number(real_of_zero, "real_of_zero")
        if abs(answer - expected) > 1e-6:
            in_scale, in_zero_point = quantization_params(input_detail)
            mistakes = [
                (
                    out_scale * out_zero_point,
                    "Attention au signe : x = échelle × (q − point zéro), avec q = 0.",
                ),
                (
                    0.0,
                    f"L'entier 0 ne représente pas le réel 0 : c'est le point zéro "
                    f"({out_zero_point}) qui représente 0. Appliquez x = échelle × (q − point "
                    "zéro) avec q = 0.",
                ),
                (
                    float(out_zero_point),
                    "C'est le point zéro, un entier : appliquez x = échelle "
                    "× (q − point zéro) avec q = 0.",
                ),
                (-float(out_zero_point), "Il manque l'échelle : x = échelle × (q − point zéro)."),
                (
                    in_scale * (0 - in_zero_point),
                    "Ce sont les paramètres de l'entrée : prenez "
                    "ceux de la sortie (output_scale, output_zero_point).",
                ),
            ]
            hint = next(
                (text for value, text in mistakes if abs(answer - value) <= 1e-6),
                "Relisez x = échelle × (q − point zéro), avec q = 0 et les paramètres de la "
                "sortie (output_scale, output_zero_point).",
            )
            raise AssertionError(f"real_of_zero = {french(answer, 'g')} : inexact. {hint}")

    if pending:
        return "À vous : " + ", puis ".join(pending) + " ; relancez ensuite cette cellule."
    return (
        "Bravo : quantize_by_hand arrondit, ajoute le point zéro et borne au type (int8 comme "
        f"uint8), et donne les entiers de LiteRT sur {len(images)} images de test. L'entier 0 en "
        f"sortie vaut {french(expected, 'g')} : ce n'est pas le réel 0, que représente le point "
        f"zéro ({out_zero_point})."
    )


# --------------------------------------------------------------------------------------------
# The capsule: one image quantized for an int8-full model
# --------------------------------------------------------------------------------------------


def check_quantized_image_answer(image_int8, image, input_detail) -> str:
    """Vérifie l'exercice de la capsule : ``image_int8`` est ``image`` (normalisée, forme
    ``(1, H, W, C)``) quantifiée pour l'entrée ``input_detail`` d'un modèle ``int8-full``, avec
    l'échelle et le point zéro de cette entrée, comme LiteRT l'attend. Renvoie un message ; lève
    ``AssertionError`` (indice en français) sur une mauvaise réponse. Introduit dans la
    capsule."""
    if _is_placeholder(image_int8):
        return (
            "À vous : remplacez None par l'image quantifiée (un tableau numpy calculé à partir "
            "de image, scale et zero_point), puis relancez cette cellule."
        )
    scale, zero_point = quantization_params(input_detail)
    dtype = np.dtype(input_detail["dtype"])
    if not isinstance(image_int8, np.ndarray):
        raise AssertionError(
            f"image_int8 est {type(image_int8).__name__} : il faut un tableau numpy, de la forme "
            "de image."
        )
    if image_int8.shape != np.shape(image):
        raise AssertionError(
            f"Forme {image_int8.shape} au lieu de {np.shape(image)} : quantifiez chaque valeur "
            "de image, sans changer la forme (l'axe du lot compris)."
        )
    if image_int8.dtype != dtype:
        raise AssertionError(
            f"Type {image_int8.dtype} : l'entrée du modèle attend {dtype.name}. Terminez par "
            f".astype(np.{dtype.name})."
        )
    # Exactly LiteRT's integers, computed in float32 as LiteRT does (or in float64): pixels in
    # [-1, 1] sit on exact halves of the step, where a one-step tolerance would let a missing
    # rounding through.
    values = np.asarray(image, dtype=np.float32)
    info = np.iinfo(dtype)
    in_float64 = np.clip(
        np.round(values.astype(np.float64) / scale) + zero_point, info.min, info.max
    )
    if np.array_equal(image_int8, quantize_values(values, input_detail)) or np.array_equal(
        image_int8, in_float64
    ):
        return (
            f"Bravo : {image_int8.size} entiers {dtype.name}, de {int(image_int8.min())} à "
            f"{int(image_int8.max())}, ceux que run_model donne au modèle (échelle "
            f"{french(scale, '.6f')}, point zéro {zero_point})."
        )
    wrong = int(np.sum(image_int8 != quantize_values(values, input_detail)))
    mistakes = [
        (
            values.astype(dtype),
            "astype seul ne garde que la partie entière des valeurs de [-1, 1] (-1, 0 ou 1) : "
            "divisez d'abord par l'échelle.",
        ),
        *_quantize_variants(values, scale, zero_point, dtype.type),
    ]
    agreement, hint = max(
        ((float(np.mean(mistake == image_int8)), hint) for mistake, hint in mistakes),
        key=lambda pair: pair[0],
    )
    if agreement > 0.5:  # closest to this classic mistake
        raise AssertionError(f"{wrong} entiers inexacts sur {image_int8.size}. {hint}")
    raise AssertionError(
        f"{wrong} entiers sur {image_int8.size} diffèrent de ceux qu'attend le modèle. "
        "Reprenez la formule de la section 1, pour aller du réel x à l'entier q, avec "
        "l'échelle et le point zéro lus dans le modèle."
    )


# --------------------------------------------------------------------------------------------
# Notebook 04: the sha256 of a file, read by blocks
# --------------------------------------------------------------------------------------------


class _ReadLog:
    """What a student's function read from the files it opened in binary mode."""

    def __init__(self):
        self.whole = False  # read() without a size
        self.largest = 0  # the largest block returned


class _LoggedFile:
    def __init__(self, stream, log: _ReadLog):
        self._stream = stream
        self._log = log

    def read(self, size=-1, /):
        data = self._stream.read(size)
        if size is None or size < 0:
            self._log.whole = True
        self._log.largest = max(self._log.largest, len(data))
        return data

    def read1(self, size=-1, /):
        data = self._stream.read1(size)
        self._log.largest = max(self._log.largest, len(data))
        return data

    def readinto(self, buffer, /):
        count = self._stream.readinto(buffer)
        self._log.largest = max(self._log.largest, count or 0)
        return count

    def readall(self):
        self._log.whole = True
        return self.read()

    def __iter__(self):
        for line in self._stream:
            self._log.largest = max(self._log.largest, len(line))
            yield line

    def __enter__(self):
        self._stream.__enter__()
        return self

    def __exit__(self, *details):
        return self._stream.__exit__(*details)

    def __getattr__(self, name):
        return getattr(self._stream, name)


@contextlib.contextmanager
def _logging_reads(log: _ReadLog):
    """open() (and Path.open, Path.read_bytes) log the reads of binary files meanwhile."""
    original = builtins.open

    def logging_open(file, mode="r", *args, **kwargs):
        stream = original(file, mode, *args, **kwargs)
        return _LoggedFile(stream, log) if "r" in mode and "b" in mode else stream

    with mock.patch("builtins.open", logging_open), mock.patch("io.open", logging_open):
        yield


def _call_sha256(function, path: Path, block_size: int | None = None):
    log = _ReadLog()
    try:
        with _logging_reads(log):
            result = function(path) if block_size is None else function(path, block_size)
    except Exception as error:
        hint = (
            ' Ouvrez le fichier en binaire : open(path, "rb").'
            if isinstance(error, (UnicodeDecodeError, TypeError))
            else ""
        )
        raise AssertionError(
            f"sha256_of_file a levé {type(error).__name__} ({error}) sur {path.name}.{hint}"
        ) from error
    return result, log


def _hash_hint(result, content: bytes, block_size: int) -> str:
    """Why a hash differs from the file's sha256, when a classic mistake explains it."""
    blocks = [content[i : i + block_size] for i in range(0, len(content), block_size)] or [b""]
    if result == hashlib.sha256(blocks[0]).hexdigest():
        return (
            "c'est l'empreinte du premier bloc seulement : lisez et hachez les blocs dans une "
            'boucle, jusqu\'au bloc vide (b"").'
        )
    if len(blocks[-1]) < block_size and result == hashlib.sha256(b"".join(blocks[:-1])).hexdigest():
        return (
            'le dernier bloc, plus court, est oublié : lisez jusqu\'au bloc vide (b""), pas '
            "seulement tant que les blocs sont pleins."
        )
    if result == hashlib.sha256(blocks[-1]).hexdigest():
        return (
            "c'est l'empreinte du dernier bloc seulement : créez hashlib.sha256() une seule fois, "
            "avant la boucle, puis appelez update() sur chaque bloc."
        )
    if result in (hashlib.md5(content).hexdigest(), hashlib.sha1(content).hexdigest()):
        return "ce n'est pas le bon algorithme : le .json note une empreinte hashlib.sha256."
    if result == hashlib.sha256(content).hexdigest().upper():
        return "écrivez-la en minuscules, comme hexdigest() (et sha256sum sur la Pi)."
    return "hashlib.sha256(), update() sur chaque bloc lu, puis hexdigest()."


def _check_sha256_result(result, content: bytes, block_size: int, what: str) -> None:
    expected = hashlib.sha256(content).hexdigest()
    if isinstance(result, (bytes, bytearray)):
        hint = (
            "digest() donne des octets : appelez hexdigest() pour la chaîne hexadécimale."
            if result == hashlib.sha256(content).digest()
            else "il faut une chaîne hexadécimale, celle de digest.hexdigest()."
        )
        raise AssertionError(f"sha256_of_file renvoie des octets ({what}) : {hint}")
    if hasattr(result, "hexdigest"):
        raise AssertionError(
            "sha256_of_file renvoie l'objet de hashlib : renvoyez digest.hexdigest()."
        )
    if not isinstance(result, str):
        raise AssertionError(
            f"sha256_of_file renvoie {type(result).__name__} ({what}) : il faut la chaîne "
            "hexadécimale de digest.hexdigest()."
        )
    if result != expected:
        raise AssertionError(
            f"Empreinte fausse ({what}) : {_hash_hint(result, content, block_size)}"
        )


def _check_blocks(log: _ReadLog, block_size: int, what: str) -> None:
    if log.whole:
        raise AssertionError(
            f"sha256_of_file lit tout le fichier d'un coup ({what}) : read() sans taille, ou "
            "read_bytes(). Un gros détecteur tiendrait alors entier en mémoire ; lisez "
            "stream.read(block_size) dans une boucle."
        )
    if log.largest > block_size:
        raise AssertionError(
            f"sha256_of_file lit des blocs de {log.largest} octets avec block_size = "
            f"{block_size} ({what}) : lisez stream.read(block_size)."
        )


def check_sha256_answer(sha256_of_file, model_path, expected_sha256: str) -> str:
    """Vérifie l'exercice du notebook 04 : ``sha256_of_file(path, block_size)`` rend l'empreinte
    sha256 (``hexdigest``) d'un fichier lu par blocs d'au plus ``block_size`` octets. Elle doit
    retrouver ``expected_sha256`` (l'empreinte du ``.json``) pour ``model_path``, quelle que soit
    la taille des blocs, et aussi pour un fichier vide ; une copie tronquée doit changer
    l'empreinte. Renvoie un message ; lève ``AssertionError`` (indice en français) sur une
    mauvaise réponse. Introduit dans le notebook 04."""
    todo = (
        "À vous : écrivez le corps de sha256_of_file (hashlib.sha256(), update() sur chaque bloc "
        "lu, puis hexdigest()), puis relancez cette cellule."
    )
    if _is_placeholder(sha256_of_file):
        return todo
    if not callable(sha256_of_file):
        raise AssertionError(
            "sha256_of_file doit rester une fonction : def sha256_of_file(path, block_size=65536)."
        )
    model_path = Path(model_path)
    content = model_path.read_bytes()
    default_block = 65536
    result, log = _call_sha256(sha256_of_file, model_path)
    if result is None:
        return todo
    what = f"{model_path.name}, blocs par défaut"
    _check_sha256_result(result, content, default_block, what)
    if result != expected_sha256:
        raise AssertionError(
            f"L'empreinte de {model_path.name} ne correspond pas à celle de son .json : le "
            "fichier a changé depuis son écriture ? Relancez les cellules de la section 5."
        )
    _check_blocks(log, default_block, what)

    with tempfile.TemporaryDirectory() as folder:
        cases = [
            (model_path, 7, content, f"{model_path.name}, blocs de 7 octets"),
        ]
        pattern = bytes(range(256)) * 4
        for name, data, block_size, what in (
            ("deux_blocs.bin", pattern[:64], 32, "un fichier de deux blocs exactement"),
            ("vide.bin", b"", 16, "un fichier vide"),
        ):
            path = Path(folder) / name
            path.write_bytes(data)
            cases.append((path, block_size, data, what))
        for path, block_size, data, what in cases:
            result, log = _call_sha256(sha256_of_file, path, block_size)
            if block_size == 7 and isinstance(result, str) and result != expected_sha256:
                raise AssertionError(
                    "Avec des blocs de 7 octets, l'empreinte change : le résultat ne doit pas "
                    "dépendre de la taille des blocs. Hachez chaque bloc jusqu'au bloc vide "
                    '(b""), y compris le dernier, plus court.'
                )
            if not data and result is None:
                raise AssertionError(
                    "Pour un fichier vide, sha256_of_file renvoie None : la boucle ne fait rien, "
                    "et hexdigest() donne quand même l'empreinte du vide (e3b0c442…)."
                )
            _check_sha256_result(result, data, block_size, what)
            _check_blocks(log, block_size, what)

        truncated = Path(folder) / f"copie_interrompue{model_path.suffix}"
        truncated.write_bytes(content[: len(content) // 2])  # the copy stopped halfway
        result, _ = _call_sha256(sha256_of_file, truncated)
        if result == expected_sha256:
            raise AssertionError(
                "Une copie tronquée donne la même empreinte : hachez bien le fichier reçu en "
                "argument (path), pas un autre."
            )
    return (
        "Bravo : sha256_of_file lit par blocs de block_size octets, retrouve l'empreinte du "
        ".json quelle que soit la taille des blocs (et celle d'un fichier vide), et repère une "
        "copie tronquée."
    )


# --------------------------------------------------------------------------------------------
# Notebook 05: one int8 scale for pixels and scores
# --------------------------------------------------------------------------------------------


_NOT_ASKED = object()  # the check cell does not pass the zero point


def check_concatenated_scale_answer(
    scale, score_back, input_size: int = 640, score: float = 0.9, *, zero_point=_NOT_ASKED
) -> str:
    """Vérifie l'exercice du notebook 05 : l'échelle int8 d'une sortie concaténée dont les
    valeurs vont de 0 à ``input_size`` (les boîtes en pixels), son point zéro ``zero_point``,
    puis ce que devient un score ``score`` quantifié avec eux et déquantifié. Le score
    déquantifié ne dépend pas du point zéro (il s'annule) : le point zéro se vérifie à part,
    quand la cellule le passe. Renvoie un message ; lève ``AssertionError`` (indice en
    français) sur une mauvaise réponse. Introduit dans le notebook 05."""
    if any(_is_placeholder(value) for value in (scale, score_back, zero_point)):
        return (
            "À vous : remplacez les None par vos valeurs (scale_640 : un nombre, "
            + ("zero_point_640 : un entier, " if zero_point is not _NOT_ASKED else "")
            + f"score_back : le score {french(score, 'g')} après quantification et "
            "déquantification), puis relancez cette cellule."
        )
    expected_scale, expected_zero_point = affine_quantization_params(0.0, float(input_size), "int8")
    scale = _number(scale, "scale_640")
    score_back = _number(score_back, "score_back")
    if not np.isclose(scale, expected_scale, rtol=1e-3):
        hint = (
            f"L'échelle vaut (max − min) / (qmax − qmin) : la plage va de 0 à {input_size} "
            "(les pixels) et int8 compte 255 pas (de −128 à 127)."
        )
        if np.isclose(scale, input_size / 256, rtol=1e-3) or np.isclose(
            scale, input_size / 127, rtol=1e-3
        ):
            hint += " Attention au nombre de pas : 127 − (−128) = 255."
        raise AssertionError(f"Échelle {french(scale, '.4g')} inexacte. {hint}")
    if zero_point is not _NOT_ASKED:
        given = _number(zero_point, "zero_point_640")
        if given != expected_zero_point:
            hint = (
                " C'est le point zéro d'une plage symétrique autour de 0 ; celle-ci commence à 0."
                if given == 0
                else ""
            )
            raise AssertionError(
                f"Point zéro {french(given, 'g')} inexact. Le point zéro est l'entier qui "
                "représente le réel 0 : z = qmin − min / échelle, arrondi. Où tombe le réel 0 "
                f"dans la plage [0, {input_size}] ?{hint}"
            )
    quantized = affine_quantize(np.array([score]), expected_scale, expected_zero_point, "int8")
    expected_back = float(affine_dequantize(quantized, expected_scale, expected_zero_point)[0])
    if not np.isclose(score_back, expected_back, atol=1e-6):
        raise AssertionError(
            f"Score déquantifié {french(score_back, 'g')} inexact. Quantifiez d'abord : "
            "q = arrondi(score / échelle) + point zéro, borné à [−128, 127] ; puis "
            "déquantifiez : échelle × (q − point zéro). Comparez le score à la moitié du pas."
        )
    consequence = (
        "tous les scores (de 0 à 1, sous la moitié du pas) tombent à 0"
        if expected_scale / 2 > 1.0
        else f"les scores ne valent plus que des multiples de {french(expected_scale, '.3f')}"
    )
    return (
        f"Bravo : échelle {french(expected_scale, '.4f')}, point zéro {expected_zero_point}, "
        f"et le score {french(score, 'g')} revient à {french(expected_back, 'g')} : en "
        f"{input_size}×{input_size}, {consequence}."
    )


# --------------------------------------------------------------------------------------------
# Notebook 06: which layers to keep in float
# --------------------------------------------------------------------------------------------

# A selective quantization keeps few layers in float: beyond a quarter of them it is no longer a
# fix, it is giving up on quantization.
_MAX_FLOAT_SHARE = 0.25
# "Recovered": within 1.5 points of float32 (the int8-full drop it fixes is 3 to 4 points).
_RECOVERED_POINTS = 1.5


def check_keep_float_answer(
    keep_float_patterns, names: list[str], float_accuracy: float, accuracy_with, lost_at=None
) -> str:
    """Vérifie l'exercice du notebook 06 : des motifs (expressions régulières) qui gardent en
    flottant assez de couches pour retrouver l'exactitude, et peu d'autres.

    ``names`` : les noms des tenseurs du modèle étalonné ; ``float_accuracy`` : l'exactitude du
    modèle float32 ; ``accuracy_with(noms)`` : l'exactitude mesurée du modèle quantifié qui
    garde ces tenseurs en flottant. La vérification mesure, elle ne compare pas à une liste.
    ``lost_at`` : le tenseur où le signal se perd (la plus forte perte du diagnostic), pour un
    indice qui dit si la réponse est au bon endroit.
    Introduit dans le notebook 06.
    """
    if _is_placeholder(keep_float_patterns):
        return (
            'À vous : remplacez None par une liste de motifs, par exemple ["bloc3_depthwise"] : '
            "une partie du nom des couches à garder en flottant, puis relancez cette cellule."
        )
    if isinstance(keep_float_patterns, str) or not isinstance(keep_float_patterns, (list, tuple)):
        raise AssertionError(
            'Il faut une liste de motifs (des textes), par exemple ["bloc3_depthwise"], même '
            "pour un seul motif."
        )
    try:
        kept = match_tensors([str(p) for p in keep_float_patterns], names)
    except KitError as error:
        raise AssertionError(str(error)) from error
    limit = max(1, int(_MAX_FLOAT_SHARE * len(names)))
    if len(kept) > limit:
        raise AssertionError(
            f"Vos motifs gardent {len(kept)} couches sur {len(names)} en flottant (par exemple "
            f"« {short_name(kept[-1])} ») : le modèle perd alors ce que la quantification "
            f"apporte (taille, vitesse). Visez au plus {limit} couches : un motif plus précis "
            "(une partie du nom d'un bloc ou d'une couche, pas « .* » ni « conv »)."
        )
    accuracy = accuracy_with(kept)
    lost = 100 * (float_accuracy - accuracy)
    if lost > _RECOVERED_POINTS:
        measured = (
            f"Avec ces {len(kept)} couche(s) en flottant, l'exactitude est de "
            f"{format_percent(accuracy)} (float32 : {format_percent(float_accuracy)}, "
            f"{french(lost, '.1f')} points de moins)"
        )
        first_part = str(lost_at).split(";")[0]
        if lost_at is not None and any(name.split(";")[0] == first_part for name in kept):
            raise AssertionError(
                f"{measured} : c'est le bon endroit, mais pas assez. Gardez aussi en flottant "
                "les couches qui suivent dans le même bloc : le reste du bloc continue de perdre "
                "du signal (colonne « perte (dB) »)."
            )
        raise AssertionError(
            f"{measured} : ce ne sont pas les couches où le signal se perd. Cherchez dans la "
            "colonne « perte (dB) » la couche qui perd le plus, et gardez aussi en flottant les "
            "couches qui la suivent dans son bloc."
        )
    return (
        f"Bravo : {format_percent(accuracy)} avec {len(kept)} couche(s) en flottant sur "
        f"{len(names)} (float32 : {format_percent(float_accuracy)})."
    )
