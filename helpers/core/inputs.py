"""L'entrée image d'un modèle, une seule règle qu'il soit un SavedModel ou un ``.tflite`` : une
seule entrée, une image (lot, hauteur, largeur, 1 ou 3 canaux), un lot libre ou de 1, une
taille fixe ou donnée par l'utilisateur (``image_input_shape``).

Elle est ici, sous ``models`` (le SavedModel) et ``runtime`` (LiteRT), parce que les deux
l'appliquent et que LiteRT n'a pas à charger TensorFlow pour la connaître.
"""

from __future__ import annotations

import numpy as np

from helpers.base.errors import KitError


def check_size(input_size) -> tuple[int, int]:
    """(hauteur, largeur) en pixels, positifs ; un entier seul vaut pour les deux côtés."""
    if isinstance(input_size, (int, np.integer)) and not isinstance(input_size, bool):
        input_size = (int(input_size), int(input_size))
    try:
        height, width = (int(v) for v in input_size)
        valid = height > 0 and width > 0 and tuple(input_size) == (height, width)
    except (TypeError, ValueError):
        valid = False
    if not valid:
        raise KitError(
            f"Taille d'entrée invalide : {input_size!r}. Donnez (hauteur, largeur) en pixels, "
            "par exemple input_size=(640, 640) (ou --input-size 640x640)."
        )
    return height, width


def _shape_text(shape) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def image_input_shape(name: str, shape, dtype: str | None = None, input_size=None):
    """(hauteur, largeur, canaux) d'une entrée image, ou une erreur qui dit quoi faire.

    ``shape`` a l'axe du lot, None pour une dimension libre ; ``dtype`` (SavedModel seulement)
    doit être float32. ``input_size`` (hauteur, largeur) n'est demandé que pour une taille
    libre ; donné pour une taille fixe, il doit être le même.
    """
    shape = tuple(None if d is None or int(d) < 0 else int(d) for d in shape)
    text = _shape_text(shape)
    cannot_feed = (
        "Le cours ne sait pas l'alimenter : appelez vous-même le modèle avec des tableaux de "
        "la forme attendue (et, pour l'étalonnage, écrivez votre propre fonction "
        "representative_dataset, voir le notebook 01)."
    )
    if len(shape) != 4:
        raise KitError(
            f"L'entrée « {name} » du modèle a la forme {text} : ce n'est pas une image (il "
            f"faudrait 4 dimensions : lot, hauteur, largeur, canaux). {cannot_feed}"
        )
    channels = shape[3]
    if channels not in (1, 3):
        raise KitError(
            f"L'entrée « {name} » du modèle a la forme {text} : {channels} canaux, alors "
            f"qu'une image en a 1 (niveaux de gris) ou 3 (RGB). {cannot_feed}"
        )
    # float16, bfloat16 or float64 inputs would fail later inside the converter, with a message
    # about unsupported ops: the images and the converter's calibration are float32.
    if dtype is not None and dtype != "float32":
        raise KitError(
            f"L'entrée « {name} » du modèle est de type {dtype}, pas float32 : l'étalonnage et "
            "la conversion partent d'un modèle flottant qui reçoit des images float32. "
            "Exportez le modèle avec une entrée float32 (le modèle flottant d'origine, avant "
            "toute conversion de type)."
        )
    if shape[0] not in (None, 1):
        raise KitError(
            f"L'entrée « {name} » du modèle a un lot fixe de {shape[0]} images {text} : le "
            "cours donne les images une par une. Exportez le modèle avec un lot libre (None) "
            "ou de 1."
        )
    height, width = shape[1], shape[2]
    if height is None or width is None:
        if input_size is None:
            raise KitError(
                f"L'entrée « {name} » a une taille libre {text} : indiquez la taille des "
                "images qu'il verra en service, avec --input-size HxW en ligne de commande "
                "(par exemple 640x640) ou input_size=(hauteur, largeur) en Python."
            )
        size = check_size(input_size)
        for given, fixed, side in ((size[0], height, "hauteur"), (size[1], width, "largeur")):
            if fixed is not None and given != fixed:
                raise KitError(
                    f"La {side} demandée ({given}) ne correspond pas à celle du modèle "
                    f"({fixed}) {text} : corrigez input_size (--input-size)."
                )
        return size[0], size[1], channels
    if input_size is not None and check_size(input_size) != (height, width):
        given = check_size(input_size)
        raise KitError(
            f"L'entrée « {name} » a une taille fixe {height}×{width} {text} : le modèle "
            f"attend des images de {height}×{width}, pas {given[0]}×{given[1]}. Retirez "
            f"--input-size (input_size en Python), la taille est lue dans le modèle, ou donnez "
            f"{height}x{width}."
        )
    return height, width, channels


def several_outputs_error(names: list[str], how: str) -> KitError:
    """L'erreur d'une fonction qui suppose un classifieur (une sortie) devant plusieurs sorties.

    ``how`` dit comment obtenir toutes les sorties pour les comparer une à une.
    """
    return KitError(
        f"Ce modèle a {len(names)} sorties ({', '.join(names)}) : la précision par étiquette "
        "suppose un classifieur à une sortie. Comparez les sorties une à une : "
        f"{how} les donne toutes."
    )


def several_inputs_error(names: list[str]) -> KitError:
    """L'erreur devant un modèle à plusieurs entrées (le cours alimente une seule image)."""
    return KitError(
        f"Ce modèle a {len(names)} entrées ({', '.join(names)}) : le cours ne sait alimenter "
        "qu'un modèle à une seule entrée image. Pour plusieurs entrées, appelez vous-même la "
        "signature avec une valeur par entrée, par nom (et, après conversion, "
        "interpreter.get_signature_runner())."
    )
