"""Exécuter un modèle ``.tflite`` avec LiteRT, le moteur qui tourne sur la Raspberry Pi.

``ai_edge_litert.interpreter.Interpreter`` a la même API que ``tf.lite.Interpreter``
(obsolète, voué à disparaître de TensorFlow).
Un modèle dont l'entrée est entière attend des entiers : on quantifie l'image avec l'échelle et le
point zéro du modèle, et on déquantifie sa sortie de la même façon. Le fichier ``FILE.json`` à
côté d'un modèle (ses métadonnées) et son empreinte sha256 se lisent ici aussi.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helpers.base.errors import KitError, quiet_tensorflow
from helpers.base.units import read_json
from helpers.core.images import check_normalization
from helpers.core.inputs import (
    image_input_shape,
    several_inputs_error,
    several_outputs_error,
)

TFLITE_MAGIC = b"TFL3"  # FlatBuffer file identifier, at bytes 4 to 8 of every .tflite file


def read_model_bytes(model: bytes | str | Path) -> bytes:
    """Le contenu d'un modèle TFLite (déjà en mémoire, ou lu depuis un fichier), vérifié."""
    if isinstance(model, (bytes, bytearray, memoryview)):
        content, name = bytes(model), "Le modèle en mémoire"
    else:
        path = Path(model)
        if path.is_dir():
            raise KitError(
                f"{path.name} est un dossier, pas un fichier .tflite : donnez le chemin du "
                "fichier (un SavedModel se convertit d'abord avec « python -m helpers quantize »)."
            )
        if not path.is_file():
            raise KitError(f"Fichier introuvable : {path.name}. Vérifiez le chemin du .tflite.")
        content, name = path.read_bytes(), f"Le fichier {path.name}"
    if len(content) < 8 or content[4:8] != TFLITE_MAGIC:
        raise KitError(
            f"{name} n'est pas un modèle TensorFlow Lite (il devrait commencer par l'identifiant "
            "TFL3). Produisez-le avec « python -m helpers quantize » ou TFLiteConverter."
        )
    return content


def load_interpreter(
    model: bytes | str | Path,
    num_threads: int = 1,
    default_delegates: bool = True,
    preserve_all_tensors: bool = False,
):
    """Un interpréteur LiteRT prêt à l'emploi (tenseurs alloués).

    ``num_threads`` vaut 1 par défaut ici : c'est le plus proche d'un cœur de Pi (sans ce
    réglage, le nombre de fils de LiteRT dépend de sa version et de sa compilation).
    ``default_delegates=False`` garde les opérations du fichier telles quelles (sans XNNPACK,
    qui les regroupe en une opération ``DELEGATE``) : utile pour les inspecter.
    ``preserve_all_tensors=True`` garde lisibles les tenseurs intermédiaires après ``invoke()``
    (à utiliser avec ``default_delegates=False``).
    Introduit dans le notebook 03.
    """
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    content = read_model_bytes(model)
    if not isinstance(num_threads, int) or num_threads < 1:
        raise KitError(f"num_threads = {num_threads!r} : donnez un entier >= 1 (1 par défaut).")
    resolver = (
        OpResolverType.AUTO
        if default_delegates
        else (OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    )
    try:
        with quiet_tensorflow():
            interpreter = Interpreter(
                model_content=content,
                num_threads=num_threads,
                experimental_op_resolver_type=resolver,
                experimental_preserve_all_tensors=preserve_all_tensors,
            )
            interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as error:
        text = str(error)
        if any(marker in text for marker in _UNKNOWN_OPS_MARKERS):
            raise KitError(
                "Ce modèle utilise des opérations que LiteRT ne connaît pas (opérations "
                f"TensorFlow « Flex » ou personnalisées{_unknown_ops_text(content)}) : "
                "reconvertissez-le sans SELECT_TF_OPS ni allow_custom_ops (opérations "
                "intégrées seulement : TFLITE_BUILTINS, ou TFLITE_BUILTINS_INT8 en int8-full), "
                "en remplaçant dans le modèle les opérations qui manquent."
            ) from error
        first_line = (text.strip().splitlines() or [error.__class__.__name__])[0][:200]
        raise KitError(
            f"LiteRT ne peut pas charger ce modèle ({first_line}). Le fichier est peut-être "
            "tronqué ou produit par une version plus récente : reconvertissez-le."
        ) from error
    return interpreter


# What LiteRT says when a model needs the Flex delegate or a custom op it does not have.
_UNKNOWN_OPS_MARKERS = ("Select TensorFlow op", "Flex delegate", "unresolved custom op")


def _unknown_ops_text(content: bytes) -> str:
    """« : FlexCumprod, Igamma » (the ops that are not LiteRT builtins), or "" if unknown."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    try:
        with quiet_tensorflow():
            interpreter = Interpreter(
                model_content=content,
                experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
            )
            names = [str(op["op_name"]) for op in op_details(interpreter)]
    except (ValueError, RuntimeError, KitError):
        return ""
    # Builtin ops have upper-case names (CONV_2D); Flex and custom ops do not (FlexCumprod).
    unknown = sorted({name for name in names if not name.isupper()})
    return f" : {', '.join(unknown)}" if unknown else ""


LITERT_REQUIREMENT = "ai-edge-litert==2.3.0"  # the version the course is checked with


def op_details(interpreter) -> list[dict]:
    """Les opérations de l'interpréteur, dans l'ordre d'exécution : nom, tenseurs, types.

    Chaque élément a au moins ``op_name``, ``inputs`` et ``outputs`` (indices des tenseurs).
    LiteRT n'a pas encore d'API publique pour cette liste : ce kit ne l'appelle qu'ici.
    """
    try:
        return list(interpreter._get_ops_details())
    except AttributeError as error:
        raise KitError(
            "Cette version de LiteRT ne sait pas lister les opérations d'un modèle : installez "
            f"celle du cours (pip install {LITERT_REQUIREMENT})."
        ) from error


def list_ops(model: bytes | str | Path) -> list[str]:
    """Le nom de chaque opération du modèle, dans l'ordre d'exécution (répétitions comprises).

    Les opérations sont celles du fichier : l'interpréteur est créé sans le délégué XNNPACK,
    qui en regrouperait la plupart en une seule opération ``DELEGATE``.
    """
    interpreter = load_interpreter(model, default_delegates=False)
    return [str(op["op_name"]) for op in op_details(interpreter)]


def quantization_params(detail: dict) -> tuple[float, int]:
    """(échelle, point zéro) d'un tenseur ; (0.0, 0) veut dire « non quantifié »."""
    scale, zero_point = detail["quantization"]
    return float(scale), int(zero_point)


def describe_tensor(detail: dict) -> dict:
    """Une entrée ou une sortie du modèle : nom, type, forme, échelle et point zéro.

    Plus ``shape_signature`` (-1 pour une dimension libre) et ``quantized``. Un tenseur
    quantifié par canal garde (0.0, 0) dans le champ historique de LiteRT : on donne la paire
    du premier canal, et toutes les paires dans ``scales``, ``zero_points`` et
    ``quantized_dimension``. Une échelle 0.0 et un point zéro 0 veulent dire « non quantifié ».
    """
    scale, zero_point = quantization_params(detail)
    parameters = detail.get("quantization_parameters") or {}
    scales = [float(v) for v in parameters.get("scales", [])]
    zero_points = [int(v) for v in parameters.get("zero_points", [])]
    if scale == 0.0 and scales:
        scale, zero_point = scales[0], zero_points[0]
    entry = {
        "name": str(detail["name"]),
        "dtype": np.dtype(detail["dtype"]).name,
        "shape": [int(v) for v in detail["shape"]],
        "scale": scale,
        "zero_point": zero_point,
        "shape_signature": [int(v) for v in detail.get("shape_signature", detail["shape"])],
        "quantized": bool(scale != 0.0),
    }
    if len(scales) > 1:
        entry["scales"] = scales
        entry["zero_points"] = zero_points
        entry["quantized_dimension"] = int(parameters.get("quantized_dimension", 0))
    return entry


def _scales_and_zero_points(detail: dict, ndim: int) -> tuple[np.ndarray, np.ndarray]:
    """Scales and zero points shaped to broadcast over a tensor of rank ``ndim``.

    Per-axis tensors (one scale per channel) carry (0.0, 0) in the legacy "quantization" field,
    so their parameters are read from "quantization_parameters".
    """
    scale, zero_point = quantization_params(detail)
    if scale != 0.0:
        return np.float32(scale), np.int32(zero_point)
    parameters = detail.get("quantization_parameters") or {}
    scales = np.asarray(parameters.get("scales", []), dtype=np.float32)
    zero_points = np.asarray(parameters.get("zero_points", []), dtype=np.int32)
    if scales.size == 0:
        return np.float32(0.0), np.int32(0)
    if scales.size == 1:
        return scales[0], zero_points[0]
    axis = int(parameters.get("quantized_dimension", 0))
    shape = [1] * ndim
    shape[axis] = scales.size
    return scales.reshape(shape), zero_points.reshape(shape)


def quantize_values(values: np.ndarray, detail: dict) -> np.ndarray:
    """Flottants -> type du tenseur : q = round(x / échelle) + point zéro, borné au type.

    Un tenseur flottant reçoit les valeurs telles quelles (dans son type flottant).
    Introduit dans le notebook 03.
    """
    dtype = np.dtype(detail["dtype"])
    values = np.asarray(values, dtype=np.float32)
    if not np.issubdtype(dtype, np.integer):
        return values.astype(dtype)
    scale, zero_point = _scales_and_zero_points(detail, values.ndim)
    if np.all(scale == 0.0):
        raise KitError(
            f"Le tenseur « {detail['name']} » est entier ({dtype.name}) mais sans paramètres de "
            "quantification (échelle 0) : impossible d'y convertir des flottants. Ce modèle "
            "n'attend pas une image normalisée ; vérifiez que c'est le bon fichier."
        )
    info = np.iinfo(dtype)
    # np.round rounds halves to even, like LiteRT's optimized QUANTIZE kernel (checked in tests).
    quantized = np.round(values / scale) + zero_point
    return np.clip(quantized, info.min, info.max).astype(dtype)


def dequantize_values(values: np.ndarray, detail: dict) -> np.ndarray:
    """Type du tenseur -> flottants : x = échelle × (q - point zéro).

    Un tenseur flottant est rendu tel quel (en float32). Un tenseur entier non quantifié
    (échelle 0) donnerait des zéros : c'est une erreur claire.
    Introduit dans le notebook 03.
    """
    values = np.asarray(values)
    if not np.issubdtype(values.dtype, np.integer):
        return values.astype(np.float32)
    scale, zero_point = _scales_and_zero_points(detail, values.ndim)
    if np.all(scale == 0.0):
        raise KitError(
            f"Le tenseur « {detail['name']} » est entier mais non quantifié (échelle 0, point "
            "zéro 0) : le déquantifier donnerait des zéros. Ses valeurs sont déjà des entiers "
            "bruts (des indices, par exemple)."
        )
    return (scale * (values.astype(np.float32) - zero_point)).astype(np.float32)


def input_size(interpreter) -> tuple[int, int] | None:
    """(hauteur, largeur) de l'entrée image du modèle, ou None si elle est libre (-1)."""
    detail = interpreter.get_input_details()[0]
    signature = detail.get("shape_signature", detail["shape"])
    if len(signature) != 4:
        return None
    if signature[1] < 1 or signature[2] < 1:
        return None
    return int(signature[1]), int(signature[2])


_fixed_input_size = input_size  # open_tflite's argument has the same name


def check_image_input(interpreter, size: tuple[int, int] | None = None) -> tuple[int, int, int]:
    """Vérifie que le modèle prend une image (lot, H, L, 1 ou 3 canaux) ; renvoie (H, L, canaux).

    Un modèle à taille libre (-1) est redimensionné à ``size`` (obligatoire dans ce cas).
    """
    inputs = interpreter.get_input_details()
    if len(inputs) != 1:
        raise several_inputs_error([str(d["name"]) for d in inputs])
    detail = inputs[0]
    signature = [int(v) for v in detail.get("shape_signature", detail["shape"])]
    height, width, channels = image_input_shape(detail["name"], signature, input_size=size)
    if input_size(interpreter) is None:
        interpreter.resize_tensor_input(detail["index"], [1, height, width, channels])
        interpreter.allocate_tensors()
    return height, width, channels


def _fit_input(interpreter, images) -> tuple[dict, np.ndarray]:
    """The input detail and the images with their batch axis; a free-size input (-1) is
    resized here to the images' size, so every caller feeds such a model the same way."""
    detail = interpreter.get_input_details()[0]
    signature = [int(v) for v in detail.get("shape_signature", detail["shape"])]
    images = np.asarray(images)
    if images.ndim == len(signature) - 1:
        images = images[None]  # a single image: add the batch axis
    shape = tuple(int(v) for v in images.shape[1:])
    if len(shape) != len(signature) - 1 or any(
        fixed >= 0 and fixed != given for fixed, given in zip(signature[1:], shape, strict=True)
    ):
        expected = tuple(int(v) for v in detail["shape"][1:])
        if any(v < 0 for v in signature[1:]):
            expected = f"{tuple(signature[1:])} (-1 : taille libre)"
        raise KitError(
            f"Les images ont la forme {shape} mais le modèle attend {expected} (hauteur, "
            "largeur, canaux) : redimensionnez-les."
        )
    if tuple(int(v) for v in detail["shape"][1:]) != shape:
        interpreter.resize_tensor_input(detail["index"], [1, *shape])
        interpreter.allocate_tensors()
        detail = interpreter.get_input_details()[0]
    return detail, images


def check_single_output(interpreter) -> dict:
    """La sortie d'un classifieur (une seule sortie), ou une erreur claire s'il y en a plusieurs."""
    outputs = interpreter.get_output_details()
    if len(outputs) != 1:
        raise several_outputs_error(
            [str(d["name"]) for d in outputs],
            "helpers.core.runtime.run_model_outputs(interpreter, images), dans l'ordre de "
            "interpreter.get_output_details(),",
        )
    return outputs[0]


def run_model_outputs(interpreter, images: np.ndarray) -> list[np.ndarray]:
    """Toutes les sorties déquantifiées (float32), une par sortie dans l'ordre de
    ``interpreter.get_output_details()``, pour des images normalisées, une image à la fois.

    Comme ``run_model``, pour un modèle à plusieurs sorties (un détecteur, par exemple).
    """
    input_detail, images = _fit_input(interpreter, images)
    if np.issubdtype(images.dtype, np.integer):
        raise KitError(
            f"Les images sont des entiers ({images.dtype.name}, des pixels bruts ?) : donnez des "
            "images normalisées en float32 (helpers.core.images.normalize) ; run_model les quantifie "
            "lui-même avec les paramètres du modèle."
        )
    output_details = interpreter.get_output_details()
    outputs = [[] for _ in output_details]
    for image in images:
        interpreter.set_tensor(input_detail["index"], quantize_values(image[None], input_detail))
        interpreter.invoke()
        for collected, detail in zip(outputs, output_details, strict=True):
            collected.append(dequantize_values(interpreter.get_tensor(detail["index"]), detail)[0])
    return [np.stack(collected) for collected in outputs]


def run_model(interpreter, images: np.ndarray) -> np.ndarray:
    """Sorties déquantifiées (float32) d'un classifieur pour des images normalisées, une image
    à la fois.

    Les images sont quantifiées avec les paramètres de l'entrée du modèle si elle est entière.
    Un modèle à taille libre (-1) est redimensionné à la taille des images. Un modèle à
    plusieurs sorties est refusé : ``run_model_outputs`` les donne toutes.
    Introduit dans le notebook 03.
    """
    check_single_output(interpreter)
    return run_model_outputs(interpreter, images)[0]


def sha256_hex(content: bytes) -> str:
    """Empreinte SHA-256 (hexadécimale) d'un contenu : deux fichiers identiques ont la même."""
    return hashlib.sha256(content).hexdigest()


def metadata_path(model_path) -> Path:
    """Le fichier de métadonnées d'un modèle : ``FILE.json`` à côté de ``FILE.tflite``."""
    return Path(model_path).with_suffix(".json")


def _json_kind(value) -> str:
    kinds = {list: "une liste", str: "un texte", bool: "un booléen", type(None): "null"}
    return kinds.get(type(value), "un nombre")


def read_metadata(model_path) -> dict | None:
    """Les métadonnées ``FILE.json`` d'un modèle, ou None s'il n'y en a pas."""
    path = metadata_path(model_path)
    if not path.is_file():
        return None
    metadata = read_json(
        path,
        "Métadonnées illisibles",
        "Supprimez ce fichier ou réécrivez le modèle avec ses métadonnées.",
    )
    if not isinstance(metadata, dict):
        raise KitError(
            f"Métadonnées illisibles : {path.name} contient {_json_kind(metadata)}, pas un objet "
            "JSON {...} avec des clés. Supprimez ce fichier ou réécrivez le modèle avec ses "
            "métadonnées."
        )
    return metadata


def metadata_input_size(metadata: dict, where: str = "FILE.json") -> tuple[int, int] | None:
    """La taille d'images ``input_size`` des métadonnées, None si la clé manque ; une valeur
    qui n'est pas [hauteur, largeur] en pixels est une erreur (la règle unique, stricte)."""
    size = metadata.get("input_size")
    if size is None:
        return None
    if not (
        isinstance(size, list) and len(size) == 2 and all(type(n) is int and n > 0 for n in size)
    ):
        raise KitError(
            f"{where} : « input_size » vaut {size!r}, il faut [hauteur, largeur] en pixels. "
            "Réécrivez le modèle avec ses métadonnées (build_metadata, ou « python -m helpers "
            "quantize » avec --input-size HxW)."
        )
    return size[0], size[1]


@dataclass
class OpenedModel:
    """Un ``.tflite`` ouvert avec son ``FILE.json`` (voir :func:`open_tflite`)."""

    content: bytes
    interpreter: object
    metadata: dict
    normalization: str
    input_size: tuple[int, int] | None  # (hauteur, largeur) ; None : pas une entrée image
    channels: int | None
    detector: dict | None  # la clé « detector » telle quelle (vérifiée par steps.decoding)
    labels: list[str] | None
    name: str  # FILE.json, pour les messages


def open_tflite(
    model: bytes | str | Path,
    normalization: str | None = None,
    input_size: tuple[int, int] | None = None,
    num_threads: int = 1,
    default_delegates: bool = True,
    image_input: bool = True,
) -> OpenedModel:
    """Un ``.tflite`` et son ``FILE.json`` : interpréteur, normalisation (l'option, sinon celle
    de ``FILE.json``, sinon « symmetric »), taille d'entrée (celle du modèle ; s'il a une taille
    libre, ``input_size``, sinon celle de ``FILE.json``), description de détecteur et
    étiquettes. ``image_input=False`` n'exige pas une entrée image (``inspect``).
    La règle unique d'``evaluate``, ``compare``, ``inspect`` et du détecteur."""
    content = read_model_bytes(model)
    in_memory = isinstance(model, (bytes, bytearray, memoryview))
    name = "FILE.json" if in_memory else metadata_path(model).name
    # Bytes in memory have no FILE.json beside them.
    metadata = {} if in_memory else (read_metadata(model) or {})
    normalization = normalization or metadata.get("normalization") or "symmetric"
    check_normalization(normalization)
    interpreter = load_interpreter(content, num_threads, default_delegates)
    size = channels = None
    recorded = metadata_input_size(metadata, name)  # checked even when the model's is fixed
    if image_input:
        if input_size is None and _fixed_input_size(interpreter) is None:
            input_size = recorded
        height, width, channels = check_image_input(interpreter, input_size)
        size = (height, width)
    labels = metadata.get("labels")
    labels = [str(label) for label in labels] if isinstance(labels, list) and labels else None
    return OpenedModel(
        content=content,
        interpreter=interpreter,
        metadata=metadata,
        normalization=normalization,
        input_size=size,
        channels=channels,
        detector=metadata.get("detector"),
        labels=labels,
        name=name,
    )


def signature_runner(interpreter) -> tuple[object, dict]:
    """Le lanceur de la signature du modèle et ses sorties par nom (ceux du SavedModel).

    Le convertisseur garde la signature ``serving_default`` du SavedModel : ses sorties y ont
    les noms du modèle d'origine, ce qui permet de les apparier une à une.
    """
    signatures = interpreter.get_signature_list()
    if len(signatures) != 1:
        raise KitError(
            f"Ce .tflite a {len(signatures)} signatures ({', '.join(signatures) or 'aucune'}) : "
            "impossible d'apparier ses sorties avec celles du SavedModel. Convertissez-le avec "
            "« python -m helpers quantize » (ou TFLiteConverter.from_saved_model)."
        )
    runner = interpreter.get_signature_runner(next(iter(signatures)))
    inputs = runner.get_input_details()
    if len(inputs) != 1:
        raise several_inputs_error(sorted(inputs))
    return runner, runner.get_output_details()


def run_signature(runner, output_details: dict, images: np.ndarray) -> dict[str, np.ndarray]:
    """Les sorties déquantifiées (float32) du lanceur de signature, par nom, image par image."""
    ((input_name, input_detail),) = runner.get_input_details().items()
    outputs = {name: [] for name in output_details}
    for image in np.asarray(images):
        result = runner(**{input_name: quantize_values(image[None], input_detail)})
        for name, value in result.items():
            outputs[name].append(dequantize_values(value, output_details[name])[0])
    return {name: np.stack(values) for name, values in outputs.items()}
