"""Les modes de quantification côte à côte : d'un SavedModel à un fichier ``.tflite``.

Cinq modes, tous produits par ``tf.lite.TFLiteConverter.from_saved_model`` (un modèle de taille
d'image libre est d'abord fixé à la taille demandée), et un sixième pour aller plus loin :

- ``float32`` : la référence, aucune optimisation ;
- ``dynamic`` : poids en int8, activations calculées en flottant (plage dynamique) ;
- ``float16`` : poids en float16, calculs en float32 sur le processeur ;
- ``int8`` : poids et activations en int8, entrée et sortie flottantes (le résultat de la capsule) ;
- ``int8-full`` : tout en entier, entrée et sortie int8 ou uint8 (Edge TPU, accélérateurs entiers) ;
- ``int16x8`` (notebook 06) : poids en int8, activations en int16, entrée et sortie flottantes ;
  plus fidèle que int8 quand une activation a une grande plage, sur le processeur seulement.

Les vérifications passent avant TensorFlow, pour expliquer en français ce que ses messages
disent de façon obscure.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from helpers.base.errors import KitError, quiet_tensorflow
from helpers.base.units import format_percent, format_size, french
from helpers.core.models import FloatModel, check_saved_model_dir, load_saved_model, loaded_model
from helpers.core.runtime import read_model_bytes
from helpers.steps.calibration import representative_dataset as folder_dataset
from helpers.steps.inspection import inspect_model

# The five modes of notebook 02, then int16x8, which notebook 06 introduces.
MODES = ("float32", "dynamic", "float16", "int8", "int8-full", "int16x8")
COURSE_MODES = MODES[:5]
# The modes with integer activations: they need a representative dataset to calibrate.
INTEGER_MODES = ("int8", "int8-full", "int16x8")
IO_TYPES = ("int8", "uint8")
# int8-full may keep a float32 output: integer inside, one DEQUANTIZE at the end (detector heads).
OUTPUT_TYPES = ("float32",)

# How many samples check_representative_dataset pulls: enough to see a range, cheap at 640×640.
_CHECKED_SAMPLES = 3
# Ops that only move data between integer and float; the others are the real computations.
_CONVERSION_OPS = {"QUANTIZE", "DEQUANTIZE"}


@dataclass
class ConversionReport:
    """Ce que la conversion a produit : mode, taille, types d'entrée/sortie, durée, avertissements."""

    mode: str
    size_bytes: int
    input_dtype: str
    output_dtype: str
    seconds: float
    warnings: list[str] = field(default_factory=list)


def check_mode(mode: str, io_type: str = "int8", output_type: str | None = None) -> None:
    """Vérifie le nom du mode, le type d'entrée/sortie demandé (``uint8`` : int8-full
    seulement) et le type de sortie (``float32`` : int8-full seulement)."""
    if mode not in MODES:
        raise KitError(f"Mode inconnu « {mode} » : choisissez parmi {', '.join(MODES)}.")
    if io_type not in IO_TYPES:
        raise KitError(
            f"Type d'entrée/sortie inconnu « {io_type} » : choisissez int8 ou uint8 "
            "(uint8 pour les outils qui attendent des pixels 0..255)."
        )
    if io_type != "int8" and mode != "int8-full":
        raise KitError(
            f"Le type d'entrée/sortie {io_type} ne s'applique qu'au mode int8-full : en mode "
            f"{mode}, l'entrée et la sortie restent flottantes. Choisissez le mode int8-full ou "
            "retirez ce réglage."
        )
    if output_type is not None and output_type not in OUTPUT_TYPES:
        raise KitError(
            f"Type de sortie inconnu « {output_type} » : seul float32 se choisit (la sortie "
            "suit sinon le type d'entrée)."
        )
    if output_type is not None and mode != "int8-full":
        raise KitError(
            f"Le type de sortie {output_type} ne s'applique qu'au mode int8-full (calcul entier, "
            f"une seule conversion en flottant à la fin) : en mode {mode}, la sortie est déjà "
            "flottante. Retirez ce réglage ou choisissez le mode int8-full."
        )


def _require_dataset(mode: str, representative_dataset) -> None:
    if mode in INTEGER_MODES and representative_dataset is None:
        raise KitError(
            f"Le mode {mode} quantifie les activations : il lui faut un jeu de données "
            "représentatif (des images d'étalonnage) pour mesurer leurs plages. Donnez-en un "
            "(--images DOSSIER en ligne de commande), ou choisissez dynamic ou float16 qui "
            "n'en ont pas besoin."
        )


def _traced_at_batch_one(mode: str, input_size) -> bool:
    """int8-full is for the Edge TPU (static shapes only); a free-size model needs a size."""
    return mode == "int8-full" or input_size is not None


def _batch_one_converter(model: FloatModel, height: int, width: int):
    """A converter whose input is fixed at (1, H, W, C): static shapes, one image at a time.

    ``from_saved_model`` keeps the SavedModel's free batch axis (-1), and the free height and
    width of a model of free size (a (1, 1, 1, C) input that must be resized before each use).
    The Edge TPU compiler refuses both; tracing the signature of the loaded model with a fixed
    shape gives a plain static model (notebook 03 shows these calls).
    """
    import tensorflow as tf  # imported when used: seconds to load, not needed by inspect

    spec, signature = model.input, model.signature

    @tf.function(
        input_signature=[
            tf.TensorSpec([1, height, width, spec.channels], tf.float32, name=spec.name)
        ]
    )
    def serve(image):
        return signature(**{spec.name: image})

    # The loaded model is passed along so its variables stay alive during the conversion.
    return tf.lite.TFLiteConverter.from_concrete_functions(
        [serve.get_concrete_function()], model.loaded
    )


def make_converter(
    model, mode, representative_dataset=None, io_type="int8", input_size=None, output_type=None
):
    """Un ``tf.lite.TFLiteConverter`` réglé pour le mode, avec les appels de TensorFlow.

    ``model`` : le dossier du SavedModel, ou le modèle déjà chargé (``load_saved_model``).
    float32 : rien ; dynamic : ``Optimize.DEFAULT`` ; float16 : et ``supported_types``
    ``[tf.float16]`` ; int8 : et le jeu de données représentatif ; int8-full : et
    ``supported_ops`` ``[TFLITE_BUILTINS_INT8]``, entrée/sortie ``tf.int8`` ou ``tf.uint8`` ;
    int16x8 : jeu de données représentatif et ``supported_ops``
    ``[EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]``.
    int8-full est tracé pour un lot de 1 (formes fixes, ce que veut l'Edge TPU) ;
    ``input_size`` (hauteur, largeur) fixe la taille d'un modèle de taille libre ;
    ``output_type="float32"`` garde une sortie flottante en int8-full (``inference_output_type``).
    """
    import tensorflow as tf

    check_mode(mode, io_type, output_type)
    _require_dataset(mode, representative_dataset)
    if not isinstance(model, FloatModel):
        model_dir = check_saved_model_dir(model)
        model = load_saved_model(model_dir) if _traced_at_batch_one(mode, input_size) else None
    else:
        model_dir = model.model_dir
    if _traced_at_batch_one(mode, input_size):
        height, width, _ = model.input.image_shape(input_size)
        converter = _batch_one_converter(model, height, width)
    else:
        converter = tf.lite.TFLiteConverter.from_saved_model(str(model_dir))
    if mode == "float32":
        return converter
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if mode == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if mode in INTEGER_MODES:
        converter.representative_dataset = representative_dataset
    if mode == "int16x8":
        # No float fallback: an op without an int16 kernel makes the conversion fail.
        converter.target_spec.supported_ops = [
            tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8
        ]
    if mode == "int8-full":
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8 if io_type == "int8" else tf.uint8
        converter.inference_output_type = (
            tf.float32 if output_type == "float32" else converter.inference_input_type
        )
    return converter


def _format_shape(shape) -> str:
    return "(" + ", ".join("?" if d is None else str(d) for d in shape) + ")"


def _sample_array(sample, index: int) -> np.ndarray:
    """The one input array of a sample, in any structure TensorFlow accepts for one input."""
    where = f"L'échantillon n° {index + 1} du jeu de données représentatif"
    if isinstance(sample, tuple) and len(sample) == 2 and isinstance(sample[0], str):
        sample = sample[1]  # (signature key, {input name: value})
    if isinstance(sample, dict):
        values = list(sample.values())
    elif isinstance(sample, (list, tuple)):
        values = list(sample)
    elif hasattr(sample, "shape"):
        raise KitError(
            f"{where} est un tableau seul ; le convertisseur attend une liste avec un tableau "
            "par entrée du modèle. Écrivez « yield [image] » au lieu de « yield image »."
        )
    else:
        raise KitError(
            f"{where} est de type {type(sample).__name__} ; il faut une liste contenant "
            "l'image : « yield [image] »."
        )
    if len(values) != 1:
        raise KitError(
            f"{where} contient {len(values)} tableaux, mais le modèle n'a qu'une entrée : "
            "produisez « [image] » avec une seule image."
        )
    value = values[0]
    if hasattr(value, "numpy"):
        value = value.numpy()
    return np.asarray(value)


def _check_sample(array: np.ndarray, index: int, input_shape: tuple) -> None:
    where = f"L'échantillon n° {index + 1} du jeu de données représentatif"
    expected = _format_shape(input_shape)
    if array.dtype == np.float64:
        raise KitError(
            f"{where} est en float64, le modèle attend du float32 (TensorFlow dirait « Cannot "
            "set tensor: Got value of type FLOAT64 but expected type FLOAT32 »). C'est le cas "
            "de « x / 255.0 » sur des pixels uint8 : ajoutez « .astype(np.float32) »."
        )
    if array.dtype != np.float32:
        raise KitError(
            f"{where} est de type {array.dtype}, le modèle attend des flottants float32 "
            "normalisés (par exemple « (2 / 255) * pixels - 1 » pour [-1, 1], puis "
            "« .astype(np.float32) »)."
        )
    if array.ndim == len(input_shape) - 1 and _shape_matches(array.shape, input_shape[1:]):
        raise KitError(
            f"{where} a la forme {array.shape}, sans l'axe du lot ; le modèle attend "
            f"{expected}. Ajoutez-le : « image[np.newaxis] » (ou « image[None] »)."
        )
    if not _shape_matches(array.shape, input_shape):
        raise KitError(
            f"{where} a la forme {array.shape}, le modèle attend {expected} (lot, hauteur, "
            "largeur, canaux). Redimensionnez les images à la taille du modèle et vérifiez "
            "le nombre de canaux (3 pour RGB, 1 pour les niveaux de gris)."
        )
    if not np.all(np.isfinite(array)):
        raise KitError(
            f"{where} contient des valeurs NaN ou infinies : vérifiez la lecture et la "
            "normalisation des images."
        )


def _shape_matches(shape, expected) -> bool:
    return len(shape) == len(expected) and all(
        want is None or int(want) == int(got) for got, want in zip(shape, expected, strict=True)
    )


def _range_warnings(low: float, high: float, value_range) -> list[str]:
    expected_low, expected_high = (float(v) for v in value_range)
    span = expected_high - expected_low
    seen = f"[{low:.3g}, {high:.3g}]"
    expected = f"[{expected_low:g}, {expected_high:g}]"
    consequence = "Avec une mauvaise plage, l'échelle et le point zéro seront faux."
    if high > expected_high + 0.5 * span and high > 2:
        return [
            f"Les valeurs d'étalonnage vont jusqu'à {high:.3g} alors que le modèle attend "
            f"{expected} : des pixels 0..255 non normalisés ? Appliquez la normalisation du "
            f"modèle. {consequence}"
        ]
    if high > expected_high + 0.5 * span or low < expected_low - 0.5 * span:
        return [
            f"Les valeurs d'étalonnage occupent {seen} alors que le modèle attend {expected} : "
            f"vérifiez la normalisation. {consequence}"
        ]
    if expected_low < 0 <= low:
        return [
            f"Les valeurs d'étalonnage restent dans {seen}, jamais négatives, alors que le "
            f"modèle attend {expected} : c'est l'erreur des données aléatoires de la capsule "
            "(np.random.rand donne [0, 1)) ou d'une normalisation [0, 1]. La partie négative "
            "de la plage ne sera pas étalonnée."
        ]
    return []


def _first_samples(dataset, count: int) -> list:
    # No progress bar for these few samples: it would stop early and look like a failure.
    progress = getattr(dataset, "progress", None)
    if progress:
        dataset.progress = False
    try:
        try:
            iterator = iter(dataset())
        except TypeError as error:
            raise KitError(
                "Le jeu de données représentatif doit produire ses échantillons avec « yield "
                f"[image] » ; appelé, il a renvoyé un objet non itérable ({error})."
            ) from error
        try:
            return list(itertools.islice(iterator, count))
        finally:
            # Release the generator (and its open image) before the converter calls it again.
            close = getattr(iterator, "close", None)
            if close is not None:
                close()
    finally:
        if progress:
            dataset.progress = progress


def check_representative_dataset(dataset, input_shape, value_range=None) -> list[str]:
    """Vérifie les premiers échantillons d'un jeu de données représentatif avant TensorFlow.

    ``input_shape`` est la forme d'entrée du modèle avec l'axe du lot (None = libre).
    Lève ``KitError`` (float64, pas d'axe du lot, tableau seul au lieu d'une liste, mauvaise
    forme) ; renvoie des avertissements si les valeurs sortent loin de ``value_range``.
    Introduit dans le notebook 02.
    """
    if not callable(dataset):
        raise KitError(
            "Le jeu de données représentatif doit être une fonction (un générateur qui fait "
            "« yield [image] »), pas son résultat : écrivez « converter.representative_dataset "
            "= representative_dataset », sans parenthèses."
        )
    input_shape = tuple(input_shape)
    samples = _first_samples(dataset, _CHECKED_SAMPLES)
    if not samples:
        raise KitError(
            "Le jeu de données représentatif ne produit aucun échantillon : vérifiez le "
            "dossier d'images et la boucle « for ... yield [image] »."
        )
    arrays = [_sample_array(sample, index) for index, sample in enumerate(samples)]
    for index, array in enumerate(arrays):
        _check_sample(array, index, input_shape)
    if value_range is None:
        return []
    low = float(min(array.min() for array in arrays))
    high = float(max(array.max() for array in arrays))
    return _range_warnings(low, high, value_range)


def _missing_ops(error: Exception) -> list[str]:
    """The TensorFlow ops that LiteRT has neither as builtin nor as Flex op, from the
    converter's structured errors (``ConverterError.errors``), not from its text."""
    names = []
    for detail in getattr(error, "errors", []):
        code = detail.ErrorCode.Name(detail.error_code)
        name = detail.operator.name.removeprefix("tf.")
        if code in ("ERROR_NEEDS_FLEX_OPS", "ERROR_NEEDS_CUSTOM_OPS") and name not in names:
            names.append(name)
    return names


def explain_conversion_error(error: Exception, mode: str) -> KitError:
    """Traduit une erreur du convertisseur en ``KitError`` qui nomme l'opération en cause."""
    missing = _missing_ops(error)
    if missing:
        return KitError(
            f"La conversion échoue : l'opération {', '.join(missing)} n'existe pas dans "
            "TensorFlow Lite, ni en flottant ni en entier (aucun mode ne l'évitera). "
            "Remplacez-la dans le modèle par des opérations prises en charge (par exemple "
            "gelu(approximate=True) au lieu de erf), puis exportez-le à nouveau."
        )
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    detail = lines[0][:300] if lines else error.__class__.__name__
    return KitError(
        f"La conversion en mode {mode} a échoué : {detail}. Vérifiez que le modèle se convertit "
        "en float32 ; sinon, c'est le modèle qu'il faut adapter."
    )


def _check_integer_only(summary: dict, mode: str, output_type: str | None) -> None:
    """Refuses an int8-full model that is not integer only (``summary``: ``inspect_model``);
    with ``output_type="float32"``, integer inside is enough (the final DEQUANTIZE is asked for).

    TF 2.21 does not fail on an op without an integer kernel: it leaves it in float, between
    a DEQUANTIZE and a QUANTIZE. The kit refuses such a file for int8-full and names the op.
    """
    if summary["integer_only"] or (output_type == "float32" and not summary["float_ops"]):
        return
    names = [name for name in summary["float_ops"] if name not in _CONVERSION_OPS]
    if names:
        raise KitError(
            f"L'opération {', '.join(names)} n'a pas de version entière dans TensorFlow Lite : "
            f"le convertisseur la laisse en flottant, et le kit refuse donc le mode {mode} "
            "(entier seulement, pour l'Edge TPU ou un accélérateur entier) pour ce modèle. Le "
            "mode int8 garde un repli en flottant pour cette opération (entrée et sortie "
            "flottantes, sur le processeur) ; sinon remplacez-la dans le modèle."
        )
    reasons = [r for r in summary["reasons"] if not r.startswith("Edge TPU")]
    raise KitError(
        f"Le mode {mode} n'a pas donné un modèle entier seulement : {' '.join(reasons)} "
        "Vérifiez le modèle avec « python -m helpers inspect »."
    )


def conversion_report(
    mode: str, model_bytes: bytes, seconds: float, warnings=(), summary: dict | None = None
) -> ConversionReport:
    """Le rapport d'une conversion, types d'entrée et de sortie lus dans le fichier produit."""
    summary = summary or inspect_model(model_bytes)
    return ConversionReport(
        mode=mode,
        size_bytes=len(model_bytes),
        input_dtype=summary["inputs"][0]["dtype"],
        output_dtype=summary["outputs"][0]["dtype"],
        seconds=seconds,
        warnings=list(warnings),
    )


def convert(
    model,
    mode,
    representative_dataset=None,
    io_type="int8",
    value_range=None,
    input_size=None,
    output_type=None,
) -> tuple[bytes, ConversionReport]:
    """Convertit un SavedModel dans un mode : ``(octets du .tflite, rapport)``.

    ``model`` : le dossier du SavedModel, ou le modèle déjà chargé (``load_saved_model`` : il
    n'est pas relu à chaque mode). Vérifie tout avant TensorFlow (mode, jeu de données
    représentatif, forme d'entrée) et traduit les échecs en ``KitError`` en français.
    ``value_range`` (min, max) est la plage attendue par le modèle ; ``input_size`` (hauteur,
    largeur) pour un modèle de taille libre ; ``output_type="float32"`` (int8-full) garde la
    sortie flottante. Introduit dans le notebook 02.
    """
    check_mode(mode, io_type, output_type)
    _require_dataset(mode, representative_dataset)
    model = loaded_model(model)  # the folder checked before importing TensorFlow
    height, width, channels = model.input.image_shape(input_size)
    warnings = []
    if mode in INTEGER_MODES:
        # A fixed-size conversion traces the model for one image at a time.
        batch = 1 if _traced_at_batch_one(mode, input_size) else None
        warnings = check_representative_dataset(
            representative_dataset, (batch, height, width, channels), value_range
        )
    try:
        with quiet_tensorflow():
            # Loading the SavedModel and tracing its signature can fail too, not only convert().
            converter = make_converter(
                model,
                mode,
                representative_dataset if mode in INTEGER_MODES else None,
                io_type,
                input_size,
                output_type,
            )
            start = time.perf_counter()
            model_bytes = converter.convert()
            seconds = time.perf_counter() - start
    except KitError:
        raise
    except Exception as error:  # the converter raises ConverterError, ValueError, RuntimeError
        raise explain_conversion_error(error, mode) from error
    summary = inspect_model(model_bytes)
    if mode == "int8-full":
        _check_integer_only(summary, mode, output_type)
    return model_bytes, conversion_report(mode, model_bytes, seconds, warnings, summary)


def course_models(
    model_dir, calibration_dir, models_dir, modes=None, normalization: str = "symmetric"
) -> dict[str, bytes]:
    """Les ``.tflite`` du notebook 02 (``models_dir/modele_<mode>.tflite``), dans l'ordre des modes.

    Un fichier absent ou abîmé est reconverti en mémoire depuis le SavedModel (avec le jeu de
    données représentatif de ``calibration_dir`` pour les modes entiers) : les notebooks 03 et
    04 s'exécutent seuls. Introduit dans le notebook 03.
    """
    models, dataset = {}, None
    for mode in modes or COURSE_MODES:
        path = Path(models_dir) / f"modele_{mode}.tflite"
        try:
            models[mode] = read_model_bytes(path)
            continue
        except KitError:
            pass
        if mode in INTEGER_MODES and dataset is None:
            dataset = folder_dataset(calibration_dir, model_dir, normalization=normalization)
        models[mode], _ = convert(model_dir, mode, dataset if mode in INTEGER_MODES else None)
    return models


def mode_comparison(
    reports: dict, parameter_count: int, accuracies: dict | None = None
) -> dict[str, dict]:
    """Une ligne par mode : taille, rapport à float32, octets par poids, types, durée, exactitude.

    ``reports`` : {mode: ConversionReport} ; ``parameter_count`` : nombre de valeurs du modèle
    flottant (la limite d'un octet par poids) ; ``accuracies`` : {mode: exactitude} si mesurée.
    Introduit dans le notebook 02.
    """
    if not reports:
        raise KitError("Aucun rapport de conversion à comparer : convertissez d'abord le modèle.")
    if parameter_count <= 0:
        raise KitError(
            f"Nombre de poids invalide : {parameter_count!r}. Donnez le nombre de valeurs du "
            "modèle flottant : parameter_count=load_saved_model(MODEL_DIR).parameter_count."
        )
    reference = reports.get("float32", next(iter(reports.values())))
    rows = {}
    for mode, report in reports.items():
        rows[mode] = {
            "size_bytes": report.size_bytes,
            "ratio_to_float32": report.size_bytes / reference.size_bytes,
            "bytes_per_weight": report.size_bytes / parameter_count,
            "input_dtype": report.input_dtype,
            "output_dtype": report.output_dtype,
            "seconds": report.seconds,
            "accuracy": None if accuracies is None else accuracies.get(mode),
        }
    return rows


def format_mode_table(rows: dict[str, dict]) -> str:
    """Le tableau de ``mode_comparison`` en texte (sans les durées, qui varient d'une fois à l'autre).

    Introduit dans le notebook 02.
    """
    header = (
        f"{'mode':<10}{'taille':>11}{'× float32':>11}{'octets/poids':>14}"
        f"{'entrée':>9}{'sortie':>9}{'exactitude':>11}"
    )
    lines = [header, "-" * len(header)]
    for mode, row in rows.items():
        accuracy = "" if row["accuracy"] is None else format_percent(row["accuracy"])
        lines.append(
            f"{mode:<10}{format_size(row['size_bytes']):>11}{french(row['ratio_to_float32']):>11}"
            f"{french(row['bytes_per_weight']):>14}{row['input_dtype']:>9}{row['output_dtype']:>9}"
            f"{accuracy:>11}"
        )
    return "\n".join(lines)
