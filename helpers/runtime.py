"""Exécuter un modèle ``.tflite`` avec LiteRT, le moteur qui tourne sur la Raspberry Pi.

``ai_edge_litert.interpreter.Interpreter`` a la même API que ``tf.lite.Interpreter`` (déprécié).
Un modèle dont l'entrée est entière attend des entiers : on quantifie l'image avec l'échelle et le
point zéro du modèle, et on déquantifie sa sortie de la même façon.

Introduit dans le notebook 03.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from helpers.errors import KitError

TFLITE_MAGIC = b"TFL3"  # FlatBuffer file identifier, at bytes 4 to 8 of every .tflite file


def read_model_bytes(model: bytes | str | Path) -> bytes:
    """Le contenu d'un modèle TFLite (déjà en mémoire, ou lu depuis un fichier), vérifié."""
    if isinstance(model, (bytes, bytearray)):
        content, name = bytes(model), "Le modèle en mémoire"
    else:
        path = Path(model)
        if not path.is_file():
            raise KitError(f"Fichier introuvable : {path.name}. Vérifiez le chemin du .tflite.")
        content, name = path.read_bytes(), f"Le fichier {path.name}"
    if len(content) < 8 or content[4:8] != TFLITE_MAGIC:
        raise KitError(
            f"{name} n'est pas un modèle TensorFlow Lite (il devrait commencer par l'identifiant "
            "TFL3). Produisez-le avec « python -m helpers quantize » ou TFLiteConverter."
        )
    return content


def load_interpreter(model: bytes | str | Path, num_threads: int = 1):
    """Un interpréteur LiteRT prêt à l'emploi (tenseurs alloués).

    ``num_threads`` vaut 1 par défaut, comme LiteRT : c'est le plus proche d'un cœur de Pi.
    Introduit dans le notebook 03.
    """
    from ai_edge_litert.interpreter import Interpreter

    content = read_model_bytes(model)
    try:
        interpreter = Interpreter(model_content=content, num_threads=num_threads)
        interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as error:
        raise KitError(
            f"LiteRT ne peut pas charger ce modèle : {str(error).strip().splitlines()[0][:200]}"
        ) from error
    return interpreter


def quantization_params(detail: dict) -> tuple[float, int]:
    """(échelle, point zéro) d'un tenseur ; (0.0, 0) veut dire « non quantifié »."""
    scale, zero_point = detail["quantization"]
    return float(scale), int(zero_point)


def quantize(values: np.ndarray, detail: dict) -> np.ndarray:
    """Flottants -> type du tenseur : q = round(x / échelle) + point zéro, borné au type.

    Un tenseur flottant (échelle 0) reçoit les valeurs telles quelles, en float32.
    """
    dtype = np.dtype(detail["dtype"])
    if not np.issubdtype(dtype, np.integer):
        return np.asarray(values, dtype=dtype)
    scale, zero_point = quantization_params(detail)
    if scale == 0.0:
        raise KitError(
            f"Le tenseur « {detail['name']} » est entier mais sans paramètres de quantification "
            "(échelle 0) : impossible d'y convertir des flottants."
        )
    info = np.iinfo(dtype)
    quantized = np.round(np.asarray(values, dtype=np.float32) / scale) + zero_point
    return np.clip(quantized, info.min, info.max).astype(dtype)


def dequantize(values: np.ndarray, detail: dict) -> np.ndarray:
    """Type du tenseur -> flottants : x = échelle × (q - point zéro). Un tenseur flottant est rendu tel quel."""
    values = np.asarray(values)
    if not np.issubdtype(values.dtype, np.integer):
        return values.astype(np.float32)
    scale, zero_point = quantization_params(detail)
    return (scale * (values.astype(np.float32) - zero_point)).astype(np.float32)


def run_model(interpreter, images: np.ndarray) -> np.ndarray:
    """Sorties déquantifiées (float32) pour des images normalisées, une image à la fois.

    Les images sont quantifiées avec les paramètres de l'entrée du modèle si elle est entière.
    Introduit dans le notebook 03.
    """
    input_detail = interpreter.get_input_details()[0]
    output_detail = interpreter.get_output_details()[0]
    expected = tuple(input_detail["shape"][1:])
    if tuple(images.shape[1:]) != expected:
        raise KitError(
            f"Les images ont la forme {tuple(images.shape[1:])} mais le modèle attend "
            f"{expected} (hauteur, largeur, canaux) : redimensionnez-les."
        )
    outputs = []
    for image in images:
        interpreter.set_tensor(input_detail["index"], quantize(image[None], input_detail))
        interpreter.invoke()
        outputs.append(dequantize(interpreter.get_tensor(output_detail["index"]), output_detail)[0])
    return np.stack(outputs)
