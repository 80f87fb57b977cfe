"""Les modes de quantification côte à côte : d'un SavedModel à un fichier ``.tflite``.

Cinq modes, tous produits par ``tf.lite.TFLiteConverter.from_saved_model`` (un modèle de taille
d'image libre est d'abord fixé à la taille demandée) :

- ``float32`` : la référence, aucune optimisation ;
- ``dynamic`` : poids en int8, activations calculées en flottant (plage dynamique) ;
- ``float16`` : poids en float16, calculs en float32 sur le processeur ;
- ``int8`` : poids et activations en int8, entrée et sortie flottantes (le résultat de la capsule) ;
- ``int8-full`` : tout en entier, entrée et sortie int8 ou uint8 (Edge TPU, accélérateurs entiers).

Les vérifications passent avant TensorFlow, pour expliquer en français ce que ses messages
disent de façon obscure. Introduit dans le notebook 02.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from helpers.errors import KitError

MODES = ("float32", "dynamic", "float16", "int8", "int8-full")
INTEGER_MODES = ("int8", "int8-full")
IO_TYPES = ("int8", "uint8")

# How many samples check_representative_dataset pulls: enough to see a range, cheap at 640×640.
_CHECKED_SAMPLES = 3
# Ops that only move data between integer and float; the others are the real computations.
_CONVERSION_OPS = {"QUANTIZE", "DEQUANTIZE"}


@dataclass
class ConversionReport:
    """Ce que la conversion a produit : mode, taille, types d'entrée/sortie, durée, avertissements.

    Introduit dans le notebook 02.
    """

    mode: str
    size_bytes: int
    input_dtype: str
    output_dtype: str
    seconds: float
    warnings: list[str] = field(default_factory=list)


def check_mode(mode: str, io_type: str = "int8") -> None:
    """Vérifie le nom du mode et le type d'entrée/sortie demandé (``uint8`` : int8-full seulement)."""
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


def _batch_one_converter(model, height: int, width: int):
    """A converter whose input is fixed at (1, H, W, C): static shapes, one image at a time.

    ``from_saved_model`` keeps the SavedModel's free batch axis (-1), and the free height and
    width of a model of free size (a (1, 1, 1, C) input that must be resized before each use).
    The Edge TPU compiler refuses both; tracing the signature of the loaded ``model``
    (a ``FloatModel``) with a fixed shape gives a plain static model.
    """
    import tensorflow as tf

    spec = model.input
    signature = model.signature

    @tf.function(
        input_signature=[
            tf.TensorSpec([1, height, width, spec.channels], tf.float32, name=spec.name)
        ]
    )
    def serve(image):
        return signature(**{spec.name: image})

    # The loaded model is passed along so its variables stay alive during the conversion.
    return tf.lite.TFLiteConverter.from_concrete_functions(
        [serve.get_concrete_function()], model._loaded
    )


@contextlib.contextmanager
def _quiet_tensorflow_logger():
    """Hides TensorFlow's INFO lines during a conversion (a concrete-function conversion logs
    « Assets written to: /tmp/... »: noise for a student, and a machine path)."""
    logger = logging.getLogger("tensorflow")
    previous = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(previous)


def make_converter(model_dir, mode, representative_dataset=None, io_type="int8", input_size=None):
    """Un ``tf.lite.TFLiteConverter`` réglé pour le mode, avec les appels de TensorFlow.

    float32 : rien ; dynamic : ``Optimize.DEFAULT`` ; float16 : et ``supported_types``
    ``[tf.float16]`` ; int8 : et le jeu de données représentatif ; int8-full : et
    ``supported_ops`` ``[TFLITE_BUILTINS_INT8]``, entrée/sortie ``tf.int8`` ou ``tf.uint8``.
    int8-full est tracé pour un lot de 1 (formes fixes, ce que veut l'Edge TPU) ;
    ``input_size`` (hauteur, largeur) fixe la taille d'un modèle de taille libre.
    Introduit dans le notebook 02.
    """
    from helpers.models import check_saved_model_dir

    check_mode(mode, io_type)
    _require_dataset(mode, representative_dataset)
    model_dir = check_saved_model_dir(model_dir)
    return _make_converter(model_dir, mode, representative_dataset, io_type, input_size)


def _make_converter(model_dir, mode, representative_dataset, io_type, input_size, model=None):
    """make_converter after its checks; ``model``, if already loaded, is not loaded again."""
    import tensorflow as tf

    from helpers.calibration import input_spec_shape
    from helpers.models import load_saved_model

    if _traced_at_batch_one(mode, input_size):
        model = model if model is not None else load_saved_model(model_dir)
        height, width, _ = input_spec_shape(model.input, input_size)
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
    if mode == "int8-full":
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8 if io_type == "int8" else tf.uint8
        converter.inference_output_type = converter.inference_input_type
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


def _op_names(text: str, patterns) -> list[str]:
    names = []
    for pattern in patterns:
        for match in re.finditer(pattern, text):
            for name in re.split(r"[,\s]+", match.group(1)):
                if name and name not in names:
                    names.append(name)
    return names


_FLEX_PATTERNS = (
    r"TF Select ops: ([\w, ]+)",
    r"'tf\.(\w+)' op is neither a custom op nor a flex op",
)
_QUANTIZATION_PATTERNS = (
    r"Quantization not yet supported for op: '?(\w+)'?",
    r"[Ff]ailed to quantize[^\n]*?op[^\w\n]+(?:tfl\.)?(\w+)",
    r"'tfl\.(\w+)' op [^\n]*quantiz",
)


def explain_conversion_error(error: Exception, mode: str) -> KitError:
    """Traduit une erreur du convertisseur en ``KitError`` qui nomme l'opération en cause."""
    text = str(error)
    flex_ops = _op_names(text, _FLEX_PATTERNS)
    if flex_ops:
        names = ", ".join(flex_ops)
        return KitError(
            f"La conversion échoue : l'opération {names} n'existe pas dans TensorFlow Lite, "
            "ni en flottant ni en entier (aucun mode ne l'évitera). Remplacez-la dans le modèle "
            "par des opérations prises en charge (par exemple gelu(approximate=True) au lieu de "
            "erf), puis exportez-le à nouveau."
        )
    quantization_ops = _op_names(text, _QUANTIZATION_PATTERNS)
    if quantization_ops:
        return _not_integer_error(quantization_ops, mode)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    detail = lines[0][:300] if lines else error.__class__.__name__
    return KitError(
        f"La conversion en mode {mode} a échoué : {detail}. Vérifiez que le modèle se convertit "
        "en float32 ; sinon, c'est le modèle qu'il faut adapter."
    )


def _not_integer_error(op_names, mode: str) -> KitError:
    names = ", ".join(op_names)
    return KitError(
        f"L'opération {names} n'a pas de version entière dans TensorFlow Lite : le mode {mode} "
        "(entier seulement, pour l'Edge TPU ou un accélérateur entier) est impossible pour ce "
        "modèle. Le mode int8 garde un repli en flottant pour cette opération (entrée et sortie "
        "flottantes, sur le processeur) ; sinon remplacez-la dans le modèle."
    )


def _float_computations(model_bytes: bytes) -> list[str]:
    """The ops left computing in float, named in the int8-full error message.

    ``inspect_model`` decides whether the model is integer only; its count of the ops that
    touch floats also includes the DEQUANTIZE and QUANTIZE the converter puts around an op it
    had to leave in float. The message names that op, not the conversions around it.
    """
    from helpers.runtime import load_interpreter, op_details

    names = []
    for op in op_details(load_interpreter(model_bytes, default_delegates=False)):
        types = [*op.get("operand_types", []), *op.get("result_types", [])]
        touches_float = any(np.issubdtype(np.dtype(t), np.floating) for t in types)
        if touches_float and op["op_name"] not in _CONVERSION_OPS and op["op_name"] not in names:
            names.append(op["op_name"])
    return names


def _check_integer_only(summary: dict, model_bytes: bytes, mode: str) -> None:
    """Refuses an int8-full model that is not integer only (``summary``: ``inspect_model``)."""
    if summary["integer_only"]:
        return
    # TF 2.21 no longer fails on an op without an integer kernel: it silently leaves it in float.
    names = _float_computations(model_bytes)
    if names:
        raise _not_integer_error(names, mode)
    reasons = [r for r in summary["reasons"] if not r.startswith("Edge TPU")]
    raise KitError(
        f"Le mode {mode} n'a pas donné un modèle entier seulement : {' '.join(reasons)} "
        "Vérifiez le modèle avec « python -m helpers inspect »."
    )


def convert(
    model_dir,
    mode,
    representative_dataset=None,
    io_type="int8",
    value_range=None,
    input_size=None,
) -> tuple[bytes, ConversionReport]:
    """Convertit un SavedModel dans un mode : ``(octets du .tflite, rapport)``.

    Vérifie tout avant TensorFlow (mode, jeu de données représentatif, forme d'entrée) et
    traduit les échecs en ``KitError`` en français. ``value_range`` (min, max) est la plage
    attendue par le modèle ; ``input_size`` (hauteur, largeur) pour un modèle de taille libre.
    Introduit dans le notebook 02.
    """
    from helpers.models import check_saved_model_dir, load_saved_model

    check_mode(mode, io_type)
    _require_dataset(mode, representative_dataset)
    check_saved_model_dir(model_dir)  # cheap check before importing TensorFlow
    model = load_saved_model(model_dir)
    model_bytes, report, _ = _convert(
        model, mode, representative_dataset, io_type, value_range, input_size
    )
    return model_bytes, report


def _convert(
    model, mode, representative_dataset, io_type, value_range, input_size
) -> tuple[bytes, ConversionReport, dict]:
    """convert for an already loaded ``FloatModel``; also returns ``inspect_model``'s report."""
    from helpers.calibration import input_spec_shape
    from helpers.inspection import inspect_model

    height, width, channels = input_spec_shape(model.input, input_size)
    warnings = []
    if mode in INTEGER_MODES:
        # A fixed-size conversion traces the model for one image at a time.
        batch = 1 if _traced_at_batch_one(mode, input_size) else None
        warnings = check_representative_dataset(
            representative_dataset, (batch, height, width, channels), value_range
        )
    try:
        with _quiet_tensorflow_logger():
            # Loading the SavedModel and tracing its signature can fail too, not only convert().
            converter = _make_converter(
                model.model_dir,
                mode,
                representative_dataset if mode in INTEGER_MODES else None,
                io_type,
                input_size,
                model=model,
            )
            start = time.perf_counter()
            model_bytes = converter.convert()
            seconds = time.perf_counter() - start
    except KitError:
        raise
    except Exception as error:  # the converter raises ConverterError, ValueError, RuntimeError
        raise explain_conversion_error(error, mode) from error
    summary = inspect_model(model_bytes)  # one interpreter for every check after the conversion
    if mode == "int8-full":
        _check_integer_only(summary, model_bytes, mode)
    report = ConversionReport(
        mode=mode,
        size_bytes=len(model_bytes),
        input_dtype=summary["inputs"][0]["dtype"],
        output_dtype=summary["outputs"][0]["dtype"],
        seconds=seconds,
        warnings=warnings,
    )
    return model_bytes, report, summary


def mode_comparison(
    reports: dict, parameter_count: int, accuracies: dict | None = None
) -> dict[str, dict]:
    """Une ligne par mode : taille, rapport à float32, octets par poids, types, durée, précision.

    ``reports`` : {mode: ConversionReport} ; ``parameter_count`` : nombre de valeurs du modèle
    flottant (la limite d'un octet par poids) ; ``accuracies`` : {mode: précision} si mesurée.
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
    from helpers.units import format_size

    header = (
        f"{'mode':<10}{'taille':>11}{'× float32':>11}{'octets/poids':>14}"
        f"{'entrée':>9}{'sortie':>9}{'précision':>11}"
    )
    lines = [header, "-" * len(header)]
    for mode, row in rows.items():
        accuracy = "" if row["accuracy"] is None else f"{100 * row['accuracy']:.2f} %"
        lines.append(
            f"{mode:<10}{format_size(row['size_bytes']):>11}{row['ratio_to_float32']:>11.2f}"
            f"{row['bytes_per_weight']:>14.2f}{row['input_dtype']:>9}{row['output_dtype']:>9}"
            f"{accuracy:>11}"
        )
    return "\n".join(lines)


def plot_mode_sizes(rows: dict[str, dict], parameter_count: int, title: str | None = None):
    """Taille du fichier par mode, rapport à float32, et la limite d'un octet par poids.

    Introduit dans le notebook 02.
    """
    import matplotlib.pyplot as plt

    from helpers.units import BYTES_PER_KO, format_size

    modes = list(rows)
    sizes = [rows[mode]["size_bytes"] / BYTES_PER_KO for mode in modes]
    colors = [
        "tab:blue" if mode in INTEGER_MODES else "tab:orange" if mode != "float32" else "0.55"
        for mode in modes
    ]
    figure, axis = plt.subplots(figsize=(6.4, 3.4))
    bars = axis.bar(modes, sizes, color=colors)
    axis.bar_label(
        bars,
        labels=[
            f"{format_size(rows[m]['size_bytes'], digits=0)}\n× {rows[m]['ratio_to_float32']:.2f}"
            for m in modes
        ],
        fontsize=8,
    )
    for bytes_per_weight, style in ((4, ":"), (1, "--")):
        axis.axhline(
            bytes_per_weight * parameter_count / BYTES_PER_KO,
            color="0.3",
            linestyle=style,
            linewidth=1,
            label=f"{bytes_per_weight} octet{'s' if bytes_per_weight > 1 else ''} par poids",
        )
    from matplotlib.patches import Patch

    handles, _ = axis.get_legend_handles_labels()
    handles += [
        Patch(color="tab:orange", label="calcul flottant"),
        Patch(color="tab:blue", label="calcul entier"),
    ]
    axis.legend(handles=handles, fontsize=8, loc="upper right")
    axis.set_ylabel("taille du fichier (ko)")
    axis.set_ylim(0, max(max(sizes), 4 * parameter_count / BYTES_PER_KO) * 1.25)
    axis.set_title(title or "Taille du .tflite selon le mode (× = rapport à float32)", fontsize=10)
    figure.tight_layout()
    return figure


# --------------------------------------------------------------------------------------------
# The command line: python -m helpers quantize
# --------------------------------------------------------------------------------------------


def find_labels_file(model_dir) -> Path | None:
    """Le fichier d'étiquettes d'un modèle : ``labels.txt`` dans son dossier, sinon à côté.

    Pour le modèle de démonstration, c'est ``data/labels.txt``, à côté de ``data/modele_demo``.
    Introduit dans le notebook 02.
    """
    model_dir = Path(model_dir)
    for candidate in (model_dir / "labels.txt", model_dir.parent / "labels.txt"):
        if candidate.is_file():
            return candidate
    return None


def check_output_path(output, force: bool = False) -> Path:
    """Vérifie avant la conversion qu'on pourra écrire ``FILE.tflite`` et ``FILE.json``.

    Extension ``.tflite``, fichiers existants (sauf ``force``), dossier accessible en écriture
    (un dossier manquant sera créé si son parent existant l'est). Introduit dans le notebook 02.
    """
    from helpers.export import metadata_path, missing_folders

    output = Path(output)
    if output.suffix.lower() != ".tflite":
        raise KitError(
            f"Le fichier de sortie {output.name} doit finir par .tflite (par exemple "
            "modele_int8.tflite) ; les métadonnées iront dans le .json du même nom."
        )
    if output.is_dir():
        raise KitError(
            f"{output.as_posix()} est un dossier : donnez le chemin d'un fichier, par exemple "
            f"{(output / 'modele_int8.tflite').as_posix()}."
        )
    if not force:
        for path in (output, metadata_path(output)):
            if path.exists():
                raise KitError(
                    f"{path.as_posix()} existe déjà : ajoutez --force pour le remplacer, ou "
                    "choisissez un autre nom."
                )
    # Same folder checks as the writing itself: a file in the way, or no write permission.
    missing_folders(output.parent)
    return output


def _checked_labels(model_dir: Path, outputs: list[dict]) -> tuple[list[str] | None, str | None]:
    """Labels found beside the model, kept only if there is one per model output.

    ``outputs`` are the converted model's outputs, as in ``inspect_model``'s report.
    """
    from helpers.demo_data import read_labels

    labels_file = find_labels_file(model_dir)
    if labels_file is None:
        return None, None
    labels = read_labels(labels_file)
    output_shape = outputs[0]["shape"]
    count = int(output_shape[-1]) if len(output_shape) else 0
    if len(labels) != count:
        return None, (
            f"{labels_file.name} a {len(labels)} étiquettes mais le modèle a {count} sorties : "
            "étiquettes non enregistrées dans les métadonnées."
        )
    return labels, None


class _NativeStderrToLog:
    """Sends what TensorFlow's C++ code prints on file descriptor 2 to a temporary log.

    TensorFlow prints lines at import and during conversion ("oneDNN custom operations",
    "fully_quantize: 0 ...", MLIR locations) that would come before the French « Erreur : »
    line. Python's own stderr (tqdm, our messages) still reaches the terminal; the log is shown
    only if something unexpected fails.
    """

    def __enter__(self):
        import os
        import sys
        import tempfile

        sys.stderr.flush()
        self._log = tempfile.TemporaryFile()
        self._saved_fd = os.dup(2)
        self._python_stderr = sys.stderr
        try:
            python_on_fd2 = sys.stderr.fileno() == 2
        except (AttributeError, OSError, ValueError):
            python_on_fd2 = False  # already redirected (pytest, Jupyter): leave it alone
        if python_on_fd2:
            sys.stderr = os.fdopen(os.dup(self._saved_fd), "w", encoding="utf-8", errors="replace")
        os.dup2(self._log.fileno(), 2)
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        import os
        import sys

        if sys.stderr is not self._python_stderr:
            sys.stderr.close()
            sys.stderr = self._python_stderr
        os.dup2(self._saved_fd, 2)
        os.close(self._saved_fd)
        if exc_type is not None and not issubclass(exc_type, (KitError, KeyboardInterrupt)):
            self._log.seek(0)
            sys.stderr.write(self._log.read().decode("utf-8", errors="replace"))
        self._log.close()
        return False


def quantize_command(args) -> int:
    """La commande ``python -m helpers quantize`` (voir ``python -m helpers quantize --help``).

    Tout est vérifié avant la conversion (sortie, modèle, images) ; en cas d'erreur, rien n'est
    écrit. Introduit dans le notebook 02.
    """
    from helpers.images import check_normalization
    from helpers.units import format_size

    mode = args.mode
    if args.io_type is not None and mode != "int8-full":
        raise KitError(
            f"--io-type ne s'applique qu'au mode int8-full : en mode {mode}, l'entrée et la "
            "sortie restent flottantes. Retirez --io-type, ou choisissez --mode int8-full."
        )
    io_type = args.io_type or "int8"
    check_mode(mode, io_type)
    if mode in INTEGER_MODES and not args.images:
        raise KitError(
            f"Le mode {mode} a besoin d'images d'étalonnage : ajoutez --images DOSSIER (au moins "
            f"{args.min_images} images représentatives, PNG ou JPEG)."
        )
    check_normalization(args.normalization)
    output = check_output_path(args.output, force=args.force)
    with _NativeStderrToLog():
        written, report = _quantize(args, mode, io_type, output)
    print(
        f"{written.name} écrit ({format_size(report.size_bytes)}, mode {mode}, entrée "
        f"{report.input_dtype}, sortie {report.output_dtype}) ; métadonnées dans "
        f"{written.with_suffix('.json').name}."
    )
    return 0


def _quantize(args, mode: str, io_type: str, output: Path) -> tuple[Path, ConversionReport]:
    import sys
    import warnings

    from helpers.calibration import input_spec_shape, representative_dataset
    from helpers.export import build_metadata, write_model
    from helpers.images import NORMALIZATIONS
    from helpers.models import check_saved_model_dir, load_saved_model
    from helpers.paths import relative_to_root

    model_dir = check_saved_model_dir(args.model_dir)  # cheap check before importing TensorFlow
    # Loaded once: its input is checked here, and the same model is traced for the conversion.
    model = load_saved_model(model_dir)
    height, width, channels = input_spec_shape(model.input, input_size=args.input_size)
    dataset = None
    if mode in INTEGER_MODES:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            # The size is already known: no need to load the model again.
            dataset = representative_dataset(
                args.images,
                input_size=(height, width),
                channels=channels,
                normalization=args.normalization,
                min_images=args.min_images,
                num_samples=args.num_samples,
                progress=True,
            )
        for warning in caught:
            print(f"Attention : {warning.message}", file=sys.stderr)
    elif args.images:
        print(
            f"Remarque : le mode {mode} n'utilise pas d'images d'étalonnage ; --images est ignoré.",
            file=sys.stderr,
        )
    # A free-size model is converted at the size given, so the file gets a fixed input.
    model_bytes, report, summary = _convert(
        model, mode, dataset, io_type, NORMALIZATIONS[args.normalization], args.input_size
    )
    for message in report.warnings:
        print(f"Attention : {message}", file=sys.stderr)
    labels, labels_note = _checked_labels(model_dir, summary["outputs"])
    if labels_note:
        print(f"Remarque : {labels_note}", file=sys.stderr)
    extra = {"channels": channels}
    if mode == "int8-full":
        extra["io_type"] = io_type
    if dataset is not None:
        extra["calibration"] = {
            "images": len(dataset),
            "folder": relative_to_root(args.images),
            "skipped": list(dataset.skipped),
        }
    metadata = build_metadata(
        model_bytes,
        mode=mode,
        source=relative_to_root(model_dir),
        input_size=(height, width),
        normalization=args.normalization,
        labels=labels,
        extra=extra,
    )
    return write_model(output, model_bytes, metadata, force=args.force), report
