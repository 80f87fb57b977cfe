"""Vérifier un modèle ``.tflite`` : types, paramètres de quantification, opérations, verdicts,
précision et latence avec LiteRT (les commandes ``inspect`` et ``evaluate``).
"""

from __future__ import annotations

import math
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
from tqdm import tqdm  # plain text bar on stderr: tqdm.auto warns in a notebook without ipywidgets

from helpers.base.errors import KitError
from helpers.base.units import format_percent, format_size, french
from helpers.core.images import (
    DEFAULT_PAD_VALUE,
    check_labels,
    find_images,
    find_labels_file,
    label_folders,
    list_labeled_images,
    normalize,
    read_image,
    read_labels,
)
from helpers.core.models import loaded_model
from helpers.core.runtime import (
    check_image_input,
    check_single_output,
    describe_tensor,
    load_interpreter,
    op_details,
    open_tflite,
    read_model_bytes,
    run_model,
    run_signature,
    sha256_hex,
    signature_runner,
)
from helpers.steps.decoding import (
    check_detector_description,
    read_detector_description,
    yolo_channel_axis,
)

EDGETPU_IO_DTYPES = ("int8", "uint8")

# The TFLite builtin ops (names as LiteRT gives them in op_details) that Coral lists as
# supported by the Edge TPU: « TensorFlow models on the Edge TPU », section « Supported
# operations », https://coral.ai/docs/edgetpu/models-intro/#supported-operations (the table of
# edgetpu_compiler 16). Not in it, for example: DEQUANTIZE (allowed here only at a float output,
# which the compiler leaves to the CPU), HARD_SWISH, LEAKY_RELU, TILE. The row « LSTM » says
# « unidirectional LSTM only », which TFLite stores as UNIDIRECTIONAL_SEQUENCE_LSTM.
# The table's limitations are not checked here, for example: MEAN and PAD only along the x/y
# axes (x/y/z with runtime 13+), SOFTMAX on a 1-D tensor of at most 16 000 elements,
# STRIDED_SLICE with strides of 1, no fused activation in CONCATENATION and the pools,
# FULLY_CONNECTED with a one-dimensional output, RESIZE_* mapped or not depending on the sizes,
# SQUEEZE only of leading 1s (before runtime 13), at most 3 innermost dimensions larger than 1
# (model requirements); nor the runtime version some ops need (13 or 14), nor the op versions
# the compiler can read (see EDGETPU_CONDITIONS_MET).
EDGETPU_OPS = frozenset(
    {
        "ADD",
        "AVERAGE_POOL_2D",
        "CONCATENATION",
        "CONV_2D",
        "DEPTHWISE_CONV_2D",
        "EXPAND_DIMS",
        "FULLY_CONNECTED",
        "L2_NORMALIZATION",
        "LOGISTIC",
        "LSTM",
        "UNIDIRECTIONAL_SEQUENCE_LSTM",
        "MAXIMUM",
        "MAX_POOL_2D",
        "MEAN",
        "MINIMUM",
        "MUL",
        "PACK",
        "PAD",
        "PRELU",
        "QUANTIZE",
        "REDUCE_MAX",
        "REDUCE_MIN",
        "RELU",
        "RELU6",
        "RELU_N1_TO_1",
        "RESHAPE",
        "RESIZE_BILINEAR",
        "RESIZE_NEAREST_NEIGHBOR",
        "RSQRT",
        "SLICE",
        "SOFTMAX",
        "SPACE_TO_DEPTH",
        "SPLIT",
        "SQUARED_DIFFERENCE",
        "SQUEEZE",
        "STRIDED_SLICE",
        "SUB",
        "SUM",
        "TANH",
        "TRANSPOSE",
        "TRANSPOSE_CONV",
    }
)
# Coral (Edge TPU Compiler, « Parameter data caching »): roughly 8 MB of on-chip SRAM keep the
# model's parameters, part of it reserved for the executable. The compiler streams the rest from
# the host memory (« off-chip memory used for streaming uncached model parameters »). The size
# of an 8-bit .tflite file stands in for the size of its parameters.
EDGETPU_PARAMETER_MEMORY = 8_000_000
# What inspect_model cannot check: only edgetpu_compiler says whether the model compiles. Its
# last version, 16, refuses op versions written by newer TensorFlow releases (Coral issues:
# « Didn't find op for builtin opcode 'CONV_2D' version '6' » with TF 2.9, 'EXP' version '2'
# with TF 2.16, « Op builtin_code out of range » with TF 2.12).
EDGETPU_CONDITIONS_MET = (
    "Edge TPU : conditions nécessaires remplies, celles que ce rapport vérifie : calcul entier "
    "en 8 bits, formes fixes, lot de 1, opérations de la liste de Coral. La compilation n'est "
    "pas vérifiée ici : seul edgetpu_compiler la confirme (il tourne sur un PC Linux x86-64, "
    "pas sur la Pi). Sa dernière version (16) peut refuser les versions d'opérations qu'écrit "
    "un TensorFlow récent (« Didn't find op for builtin opcode … version … »)."
)


def _is_float(dtype) -> bool:
    return np.issubdtype(np.dtype(dtype), np.floating)


def _count_text(counter: Counter) -> str:
    return ", ".join(f"{name} ×{count}" for name, count in sorted(counter.items()))


def _float_ops(ops: list[dict], input_indices: set, output_indices: set) -> tuple[list, list]:
    """Splits the ops that touch a float tensor: (boundary conversions, float computations)."""
    boundary, compute = [], []
    for op in ops:
        types = list(op.get("operand_types", [])) + list(op.get("result_types", []))
        if not any(_is_float(t) for t in types):
            continue
        inputs = {int(i) for i in op["inputs"]}
        outputs = {int(i) for i in op["outputs"]}
        at_input = op["op_name"] == "QUANTIZE" and inputs <= input_indices
        at_output = op["op_name"] == "DEQUANTIZE" and outputs <= output_indices
        (boundary if at_input or at_output else compute).append(op["op_name"])
    return boundary, compute


def _integer_only_reasons(inputs, outputs, boundary, compute, tensor_dtypes) -> list[str]:
    reasons = []
    int16 = "int16" in tensor_dtypes
    float_io = False
    for kind, entries, op, setting in (
        ("L'entrée", inputs, "QUANTIZE", "inference_input_type"),
        ("La sortie", outputs, "DEQUANTIZE", "inference_output_type"),
    ):
        for entry in entries:
            if _is_float(entry["dtype"]):
                float_io = True
                conversion = (
                    f" ; une opération {op} la convertit à la frontière du modèle"
                    if op in boundary
                    else ""
                )
                # int16x8 keeps float I/O by design: the advice comes once, below.
                advice = (
                    ""
                    if int16
                    else f" Pour des entrées et sorties entières, convertissez avec {setting} = "
                    "tf.int8 ou tf.uint8 (mode int8-full)."
                )
                reasons.append(
                    f"{kind} « {entry['name']} » est en {entry['dtype']}{conversion}.{advice}"
                )
    if int16 and float_io:
        reasons.append(
            "Activations en int16 (mode int16x8, poids en int8) : l'entrée et la sortie restent "
            "en float32, comme ce mode le prévoit. Un modèle entier seulement, entrées et sorties "
            "comprises, c'est le mode int8-full (inference_input_type et inference_output_type = "
            "tf.int8 ou tf.uint8)."
        )
    if compute:
        if "float16" in tensor_dtypes:
            why = (
                "les poids sont stockés en float16 et reconvertis (DEQUANTIZE) : le calcul se "
                "fait en flottant (en float32 sur le processeur d'une Pi 4)"
            )
        elif int16:
            why = (
                "des activations sont en int16, mais ces opérations sont restées en float32 (pas "
                "de version int16 dans LiteRT)"
            )
        elif "int8" in tensor_dtypes:
            why = (
                "des poids sont en int8 mais les activations restent en float32 dans le fichier "
                "(quantification dynamique : LiteRT les quantifie à la volée dans les "
                "convolutions et couches denses, d'autres opérations restent flottantes)"
            )
        else:
            why = "tout le calcul est en virgule flottante (modèle non quantifié)"
        reasons.append(
            f"{len(compute)} opérations touchent des flottants ({_count_text(Counter(compute))}) : "
            f"{why}. Il faut une quantification entière avec étalonnage (mode int8-full)."
        )
    return reasons


def _edgetpu_op_reasons(op_names: list[str], boundary: list[str]) -> list[str]:
    """The ops outside Coral's list; a boundary QUANTIZE or DEQUANTIZE is left to the CPU."""
    outside = Counter(op_names) - Counter(boundary)
    names = [n for n in dict.fromkeys(op_names) if outside[n] and n not in EDGETPU_OPS]
    if not names:
        return []
    if len(names) == 1:
        what, verb, pronoun = f"l'opération {names[0]}", "ne figure pas", "la"
    else:
        what, verb, pronoun = f"les opérations {', '.join(names)}", "ne figurent pas", "les"
    return [
        f"Edge TPU : {what} {verb} dans la liste des opérations prises en charge par l'Edge "
        f"TPU (documentation Coral) : le compilateur {pronoun} laisserait au processeur, avec "
        "tout ce qui suit."
    ]


def _edgetpu_reasons(
    inputs, outputs, integer_compute, tensor_details, tensor_dtypes, op_names, boundary
) -> list[str]:
    """The Edge TPU conditions this report checks that are not met: each one is a refusal."""
    reasons = []
    if not integer_compute:
        reasons.append(
            "Edge TPU : des calculs restent flottants (voir ci-dessus) ; le compilateur Edge "
            "TPU les laisserait au processeur, avec tout ce qui vient après eux."
        )
    if tensor_dtypes.get("int16"):
        reasons.append(
            f"Edge TPU : activations en int16 ({tensor_dtypes['int16']} tenseurs) : l'Edge TPU "
            "ne calcule qu'en 8 bits (int8 ou uint8) ; le compilateur laisserait ces opérations "
            "au processeur. Pour l'Edge TPU, c'est le mode int8-full."
        )
    reasons += _edgetpu_op_reasons(op_names, boundary)
    for entry in inputs + outputs:
        if entry["dtype"] not in EDGETPU_IO_DTYPES and not _is_float(entry["dtype"]):
            reasons.append(
                f"Edge TPU : « {entry['name']} » est en {entry['dtype']} ; l'Edge TPU attend "
                "des entrées et sorties int8 ou uint8."
            )
    shape_reasons = []
    for entry in inputs:
        signature = entry["shape_signature"]
        if any(v < 0 for v in signature[1:]):
            shape_reasons.append(
                f"Edge TPU : l'entrée « {entry['name']} » a une taille libre {signature} (-1) ; "
                "le compilateur Edge TPU veut des formes fixes. Convertissez avec une taille "
                "fixe (--input-size HxW)."
            )
        elif signature and signature[0] < 0:
            shape_reasons.append(
                f"Edge TPU : la taille du lot de l'entrée « {entry['name']} » est libre "
                f"{signature} (-1) ; le compilateur Edge TPU refuse les tenseurs de taille "
                "dynamique. Fixez le lot à 1 à la conversion (fonction concrète avec "
                "tf.TensorSpec de lot 1)."
            )
        elif signature and signature[0] != 1:
            shape_reasons.append(
                f"Edge TPU : l'entrée « {entry['name']} » a un lot de {signature[0]} ; l'Edge "
                "TPU traite une image à la fois (lot de 1)."
            )
    if not shape_reasons:
        # The inputs are static but an op may still produce a dynamic tensor.
        dynamic = [d["name"] for d in tensor_details if any(v < 0 for v in d["shape_signature"])]
        if dynamic:
            shape_reasons.append(
                f"Edge TPU : {len(dynamic)} tenseurs internes ont une taille dynamique (-1), par "
                f"exemple « {dynamic[0]} » ; le compilateur Edge TPU veut des formes fixes."
            )
    return reasons + shape_reasons


def _edgetpu_memory_warnings(size_bytes: int) -> list[str]:
    """A warning, not a refusal: parameters beyond the on-chip memory are streamed, slower."""
    if size_bytes <= EDGETPU_PARAMETER_MEMORY:
        return []
    return [
        f"Edge TPU (avertissement, pas un refus) : le fichier fait "
        f"{french(size_bytes / 1e6, '.1f')} Mo, plus que les "
        f"{french(EDGETPU_PARAMETER_MEMORY / 1e6, 'g')} Mo environ de mémoire de l'Edge TPU où "
        "le compilateur garde les paramètres (documentation Coral, « parameter data caching »). "
        "Ce qui n'y tient pas reste dans la mémoire de l'hôte (« off-chip ») et passe vers "
        "l'Edge TPU à chaque inférence : c'est plus lent. edgetpu_compiler affiche la "
        "répartition."
    ]


def inspect_model(model: bytes | str | Path) -> dict:
    """Rapport complet d'un ``.tflite`` : entrées, sorties, opérations, types, verdicts.

    Renvoie ``{"inputs", "outputs", "ops", "integer_only", "edgetpu_ready", "reasons",
    "size_bytes", "sha256"}`` (le contrat de ``python -m helpers inspect --json``), plus
    ``op_counts``, ``tensor_dtypes`` et ``per_axis_tensors``. Une échelle 0.0 et un point zéro 0
    veulent dire « non quantifié ».
    Introduit dans le notebook 03.
    """
    # Without the default XNNPACK delegate the ops are listed as stored in the file (with it,
    # most of them become one "DELEGATE" op).
    opened = open_tflite(model, default_delegates=False, image_input=False)
    content, interpreter = opened.content, opened.interpreter
    inputs = [describe_tensor(d) for d in interpreter.get_input_details()]
    outputs = [describe_tensor(d) for d in interpreter.get_output_details()]
    ops = op_details(interpreter)
    tensors = interpreter.get_tensor_details()
    tensor_details = [
        {
            "name": t["name"],
            "shape_signature": [int(v) for v in t.get("shape_signature", t["shape"])],
        }
        for t in tensors
    ]
    # Unnamed tensors are LiteRT's working buffers added by allocate_tensors, not the model's.
    tensor_dtypes = Counter(np.dtype(t["dtype"]).name for t in tensors if t["name"])
    per_axis = sum(
        1 for t in tensors if len((t.get("quantization_parameters") or {}).get("scales", [])) > 1
    )
    input_indices = {int(d["index"]) for d in interpreter.get_input_details()}
    output_indices = {int(d["index"]) for d in interpreter.get_output_details()}
    boundary, compute = _float_ops(ops, input_indices, output_indices)

    integer_reasons = _integer_only_reasons(inputs, outputs, boundary, compute, tensor_dtypes)
    integer_only = not integer_reasons and not any(_is_float(n) for n in tensor_dtypes)
    if not integer_only and not integer_reasons:
        integer_reasons.append(
            "Le modèle contient des tenseurs flottants : "
            + _count_text(Counter({n: c for n, c in tensor_dtypes.items() if _is_float(n)}))
            + "."
        )
    # Float only at the boundaries (QUANTIZE of a float input, DEQUANTIZE of a float output):
    # every computation is integer, which is what the Edge TPU compiler maps to the chip.
    integer_compute = not compute
    op_names = [op["op_name"] for op in ops]
    edgetpu_reasons = _edgetpu_reasons(
        inputs, outputs, integer_compute, tensor_details, tensor_dtypes, op_names, boundary
    )
    edgetpu_ready = integer_compute and not edgetpu_reasons
    reasons = integer_reasons + edgetpu_reasons
    if integer_compute and "int16" not in tensor_dtypes:
        # Only an 8-bit file's size is close to what the compiler puts in the Edge TPU memory.
        reasons += _edgetpu_memory_warnings(len(content))
    if edgetpu_ready and not integer_only:
        reasons.append(
            "Edge TPU : tout le calcul est entier ; seules les conversions aux frontières "
            f"({', '.join(sorted(set(boundary)))}) touchent des flottants. Le compilateur Edge "
            "TPU place le calcul sur l'Edge TPU et laisse ces conversions au processeur : "
            "c'est possible (une sortie de détecteur en float32, par exemple), au prix d'un "
            "aller-retour par le processeur ; des entrées et sorties entières l'évitent."
        )
    if edgetpu_ready:
        reasons.append(EDGETPU_CONDITIONS_MET)
    return {
        "inputs": inputs,
        "outputs": outputs,
        "ops": sorted({op["op_name"] for op in ops}),
        "integer_only": bool(integer_only),
        "edgetpu_ready": bool(edgetpu_ready),
        "reasons": reasons,
        "size_bytes": len(content),
        "sha256": sha256_hex(content),
        "op_counts": dict(sorted(Counter(op["op_name"] for op in ops).items())),
        "tensor_dtypes": dict(sorted(tensor_dtypes.items())),
        "per_axis_tensors": per_axis,
        "float_ops": list(dict.fromkeys(compute)),
    }


def _format_tensor(entry: dict) -> str:
    shape = "×".join(str(v) for v in entry["shape"])
    if not entry["quantized"]:
        quantization = "non quantifié (échelle 0, point zéro 0)"
    elif "scales" in entry:
        quantization = (
            f"par canal (axe {entry['quantized_dimension']}) : {len(entry['scales'])} échelles, "
            f"de {french(min(entry['scales']), '.6g')} à {french(max(entry['scales']), '.6g')}"
        )
    else:
        quantization = f"échelle {french(entry['scale'], '.6g')}, point zéro {entry['zero_point']}"
    return f"  {entry['name']} : {entry['dtype']}, forme {shape}, {quantization}"


def format_report(report: dict, title: str | None = None) -> str:
    """Le rapport de ``inspect_model`` en texte français, lisible sur un projecteur."""
    yes_no = {True: "oui", False: "non"}
    met = {True: "remplies", False: "non remplies"}
    lines = [title] if title else []
    lines.append(f"Taille : {format_size(report['size_bytes'])}")
    lines.append("Entrées :")
    lines += [_format_tensor(entry) for entry in report["inputs"]]
    lines.append("Sorties :")
    lines += [_format_tensor(entry) for entry in report["outputs"]]
    op_counts = report.get("op_counts") or dict.fromkeys(report["ops"], 1)
    lines.append(
        f"Opérations ({sum(op_counts.values())} au total) : {_count_text(Counter(op_counts))}"
    )
    if report.get("tensor_dtypes"):
        lines.append(f"Types des tenseurs : {_count_text(Counter(report['tensor_dtypes']))}")
    lines.append(f"Entier seulement : {yes_no[report['integer_only']]}")
    lines.append(f"Edge TPU (conditions nécessaires) : {met[report['edgetpu_ready']]}")
    lines += [f"  - {reason}" for reason in report["reasons"]]
    return "\n".join(lines)


def show_report(report: dict, title: str | None = None) -> None:
    """Affiche le rapport de ``inspect_model``. Introduit dans le notebook 03."""
    print(format_report(report, title))


def _labels_for(image_dir: Path, labels, metadata: dict) -> list[str]:
    if labels is not None:
        return [str(label) for label in labels]
    if isinstance(metadata.get("labels"), list) and metadata["labels"]:
        return [str(label) for label in metadata["labels"]]
    if not image_dir.is_dir():
        raise KitError(
            f"Dossier d'images introuvable : {image_dir.name}. Donnez un dossier avec un "
            "sous-dossier par étiquette."
        )
    subfolders = label_folders(image_dir)
    if not subfolders:
        raise KitError(
            f"Le dossier {image_dir.name} n'a aucun sous-dossier : il faut un sous-dossier par "
            "étiquette (par exemple test/chat/, test/chien/), chacun contenant ses images."
        )
    return subfolders


def evaluate_model(
    model: bytes | str | Path,
    image_dir: str | Path,
    labels: list[str] | None = None,
    normalization: str | None = None,
    num_threads: int = 1,
    progress: bool = False,
    input_size: tuple[int, int] | None = None,
) -> dict:
    """Exactitude d'un ``.tflite`` sur un dossier rangé par étiquette (un sous-dossier chacune).

    Les images sont lues une à une, à la taille d'entrée du modèle, normalisées puis
    quantifiées avec l'échelle et le point zéro du modèle. Étiquettes : ``labels``, sinon celles
    de ``FILE.json`` à côté du ``.tflite``, sinon les sous-dossiers triés. Normalisation :
    ``normalization``, sinon celle de ``FILE.json``, sinon « symmetric ». Taille des images :
    celle du modèle ; s'il a une taille libre, ``input_size``, sinon celle de ``FILE.json``.
    Renvoie ``{"accuracy", "count", "predictions", "targets", "labels", "normalization"}``.
    """
    opened = open_tflite(model, normalization, input_size, num_threads)
    metadata, interpreter = opened.metadata, opened.interpreter
    if opened.detector is not None:
        raise KitError(
            "Ce modèle est un détecteur (clé « detector » de son .json) : sa mesure est la mAP, "
            "pas la précision d'un classifieur. Donnez ses annotations COCO avec --annotations "
            "FICHIER.json."
        )
    image_dir = Path(image_dir)
    normalization = opened.normalization
    labels = _labels_for(image_dir, labels, metadata)
    items = list_labeled_images(image_dir, labels)
    output_detail = check_single_output(interpreter)
    (height, width), channels = opened.input_size, opened.channels
    check_labels(labels, int(output_detail["shape"][-1]))
    predictions, targets = [], []
    for path, target in tqdm(items, desc="Évaluation", disable=not progress, file=sys.stderr):
        pixels = read_image(path, (height, width), channels)
        scores = run_model(interpreter, normalize(pixels, normalization)[None])[0]
        predictions.append(int(np.argmax(scores)))
        targets.append(int(target))
    correct = int(np.sum(np.array(predictions) == np.array(targets)))
    return {
        "accuracy": correct / len(items),
        "count": len(items),
        "predictions": predictions,
        "targets": targets,
        "labels": labels,
        "normalization": normalization,
    }


def top1_agreement(predictions, reference) -> float:
    """Part des images où deux modèles donnent la même classe (top-1)."""
    predictions, reference = np.asarray(predictions), np.asarray(reference)
    if predictions.shape != reference.shape or predictions.size == 0:
        raise KitError(
            f"Impossible de comparer {predictions.size} et {reference.size} prédictions : "
            "évaluez les deux modèles sur les mêmes images."
        )
    return float(np.mean(predictions == reference))


def confusion_matrix(targets, predictions, num_labels: int) -> np.ndarray:
    """Matrice de confusion : ligne = vraie étiquette, colonne = prédiction. Introduit dans le notebook 03."""
    targets, predictions = (
        np.asarray(targets, dtype=np.int64),
        np.asarray(predictions, dtype=np.int64),
    )
    counts = np.bincount(targets * num_labels + predictions, minlength=num_labels * num_labels)
    return counts.reshape(num_labels, num_labels)


def compare_modes(models: dict, images: np.ndarray, targets, reference_predictions) -> dict:
    """Pour chaque mode : taille, précision et accord top-1 avec le modèle de référence.

    ``models`` : {mode: octets du .tflite} ; ``images`` : images normalisées (float32) ;
    ``reference_predictions`` : les classes prédites par le modèle flottant d'origine.
    Introduit dans le notebook 03.
    """
    targets = np.asarray(targets)
    results = {}
    for mode, content in models.items():
        probabilities = run_model(load_interpreter(content), images)
        predictions = np.argmax(probabilities, axis=1)
        results[mode] = {
            "size_bytes": len(read_model_bytes(content)),
            "accuracy": float(np.mean(predictions == targets)),
            "agreement": top1_agreement(predictions, reference_predictions),
            "predictions": predictions,
            "probabilities": probabilities,
        }
    return results


def format_comparison(results: dict, reference: str = "float32") -> str:
    """Le tableau de ``compare_modes`` en texte (taille, rapport à la référence, exactitude, accord).

    Introduit dans le notebook 03.
    """
    base = results.get(reference, next(iter(results.values())))["size_bytes"]
    lines = [f"{'mode':<10} {'taille':>10} {'× ' + reference:>11} {'exactitude':>10} {'accord':>8}"]
    for mode, row in results.items():
        lines.append(
            f"{mode:<10} {format_size(row['size_bytes']):>10} {french(row['size_bytes'] / base):>11} "
            f"{format_percent(row['accuracy']):>10} {format_percent(row['agreement'], 1):>8}"
        )
    return "\n".join(lines)


def _latency_input(detail: dict) -> np.ndarray:
    """A fixed input of the right type: the kernels' speed does not depend on the values."""
    dtype = np.dtype(detail["dtype"])
    rng = np.random.default_rng(0)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, size=detail["shape"], endpoint=True).astype(dtype)
    return rng.uniform(-1.0, 1.0, size=detail["shape"]).astype(dtype)


def measure_latency(
    model: bytes | str | Path,
    num_threads: int = 1,
    runs: int = 50,
    warmup: int = 5,
    input_size: tuple[int, int] | None = None,
    default_delegates: bool = True,
) -> dict:
    """Latence d'une inférence avec LiteRT : médiane et 90e centile en ms sur ``runs`` essais.

    Les ``warmup`` premiers appels (allocation, préparation des noyaux) ne sont pas comptés.
    Seul ``invoke()`` est chronométré. ``num_threads`` : 1 par défaut (un cœur de Pi).
    ``default_delegates=False`` : sans le délégué XNNPACK (les noyaux intégrés de LiteRT).
    Introduit dans le notebook 03.
    """
    if runs < 1 or warmup < 0:
        raise KitError(f"runs = {runs}, warmup = {warmup} : il faut runs >= 1 et warmup >= 0.")
    interpreter = load_interpreter(
        model, num_threads=num_threads, default_delegates=default_delegates
    )
    detail = interpreter.get_input_details()[0]
    if len(detail["shape"]) == 4 and detail["shape"][3] in (1, 3):
        check_image_input(interpreter, input_size)
        detail = interpreter.get_input_details()[0]
    interpreter.set_tensor(detail["index"], _latency_input(detail))
    for _ in range(warmup):
        interpreter.invoke()
    durations = []
    for _ in range(runs):
        start = time.perf_counter()
        interpreter.invoke()
        durations.append((time.perf_counter() - start) * 1000.0)
    return {
        "median_ms": statistics.median(durations),
        "p90_ms": float(np.percentile(durations, 90)),
        "min_ms": min(durations),
        "runs": runs,
        "warmup": warmup,
        "num_threads": num_threads,
    }


def all_cores() -> int:
    """Nombre de cœurs de cette machine (pour ``num_threads``). Introduit dans le notebook 03."""
    return os.cpu_count() or 1


# ---------------------------------------------------------------------------------------------
# The float model against the .tflite, output by output (python -m helpers compare)

# Below these, an output (or one channel of it) is called destroyed: the figures of a healthy
# int8 output are far above (SNR 30 to 50 dB, cosine > 0.999 on the demo models).
MIN_SNR_DB = 15.0
MIN_COSINE = 0.98
# A channel whose largest value is this much smaller than the output's is not judged (a class
# never predicted: its tiny values round to zero, an error that means nothing). Scores next to
# boxes in pixels are about 1/640 of them: still judged.
QUIET_CHANNEL = 1e-4
DEFAULT_COMPARED_IMAGES = 100  # enough for stable figures, quick at 640×640


def _verdict(entry: dict, channels: int) -> tuple[bool, str]:
    """(ok, verdict in French) for one compared output."""
    snr, scale, crushed = entry["snr_db"], entry["scale"], entry["crushed_channels"]
    where = (
        f"une seule échelle ({french(scale, '.4g')}) pour toute la sortie"
        if scale > 0.0
        else "la sortie est flottante, mais le tenseur entier qui la précède n'a qu'une échelle"
    )
    axis = f"axe {entry['channel_axis']}"
    if crushed and len(crushed) < channels and _pixel_concatenation(entry):
        high = max(entry["channel_max"][:4])
        return False, (
            f"Détruite : une concaténation de boîtes en pixels (canaux 0 à 3 de l'{axis}, "
            f"jusqu'à {french(high, '.0f')}) et de scores entre 0 et 1 (canaux 4 à "
            f"{channels - 1}) ; {where}, fixée par les pixels : les scores tombent sous le pas "
            f"de quantification ({len(crushed)} canaux sous {MIN_SNR_DB:g} dB). Remèdes : "
            "réexportez le modèle avec des boîtes normalisées dans [0, 1] (divisées par la "
            "taille de l'entrée) ; sinon, en mode int8 (sortie flottante), gardez en flottant "
            "la fin de la tête : la dernière opération de chaque branche, la concaténation et "
            "ce qui la suit (quantize --keep-float MOTIF, noms donnés par la commande debug). "
            "--output-type float32 n'aide pas : la concaténation est quantifiée avant son "
            "DEQUANTIZE."
        )
    if crushed and len(crushed) < channels:
        return False, (
            f"Détruite : {len(crushed)} de ses {channels} canaux ({axis}, n° "
            f"{_ranges(crushed)}) ont un SNR sous {MIN_SNR_DB:g} dB alors que les autres vont "
            f"bien ; {where}. C'est le cas d'une sortie qui mêle des grandeurs d'ordres "
            "différents (boîtes en pixels et scores entre 0 et 1) : les petites valeurs "
            "tombent sous le pas de quantification. Séparez ces sorties, ou normalisez les "
            "boîtes dans [0, 1] avant de les concaténer."
        )
    if snr < MIN_SNR_DB or entry["cosine"] < MIN_COSINE:
        return False, (
            f"Trop abîmée : SNR {french(snr, '.1f')} dB, cosinus {french(entry['cosine'], '.3f')} "
            f"(il faudrait au moins {french(MIN_SNR_DB, 'g')} dB et {french(MIN_COSINE, 'g')}). "
            "Vérifiez l'étalonnage (images comme en service, bonne normalisation), puis "
            "cherchez la couche qui perd (débogueur de quantification)."
        )
    kind = "Sortie flottante, fidèle" if scale == 0.0 else "Fidèle"
    return True, f"{kind} : SNR {french(snr, '.1f')} dB, cosinus {french(entry['cosine'], '.4f')}."


def _pixel_concatenation(entry: dict) -> bool:
    """Boxes in pixels (channels 0-3 beyond 1.5) then scores in [0, 1] on the channel axis:
    known from the description, or read from the ranges of a 4+C layout."""
    if not entry.get("box_channels"):
        return False
    low, high = entry["channel_min"], entry["channel_max"]
    scores_in_unit = min(low[4:]) >= -0.01 and max(high[4:]) <= 1.01
    return max(high[:4]) > 1.5 and scores_in_unit


def output_channel_axis(shape, labels=None, description=None, name=None, channel_axis=None):
    """(axe des canaux, canaux des coordonnées de boîtes ou None) d'une sortie de forme
    ``shape`` (lot compris) : celui de la description (``yolo`` : l'axe de taille 4+C), sinon
    ``channel_axis``, sinon déduit (l'axe de taille 4+C ou 5+C avec les étiquettes, sinon le
    plus petit des deux axes d'une sortie (1, A, B), le dernier si A = B)."""
    rank = len(shape)
    if description is not None and description["format"] == "yolo" and labels:
        if name == description.get("output", name):
            axis = yolo_channel_axis(shape, len(labels), description["objectness"])
            if axis is not None:
                return axis, [0, 1, 2, 3]
    if description is not None and description["format"] in ("grille-centres", "boites-scores"):
        return rank - 1, None
    if channel_axis is not None:
        if not 1 <= channel_axis < rank:
            raise KitError(
                f"--channel-axis {channel_axis} : la sortie « {name} » a la forme "
                f"{tuple(shape)} ; donnez un axe de 1 à {rank - 1} (0 est le lot)."
            )
        return channel_axis, None
    if rank != 3 or shape[1] == shape[2]:
        return rank - 1, None
    if labels:
        fitting = [a for a in (1, 2) if shape[a] in (4 + len(labels), 5 + len(labels))]
        if len(fitting) == 1:
            return fitting[0], [0, 1, 2, 3]
    axis = 1 if shape[1] < shape[2] else 2
    return axis, ([0, 1, 2, 3] if shape[axis] > 4 else None)


def _ranges(indices: list[int]) -> str:
    shown = ", ".join(str(i) for i in indices[:8])
    return shown + (" …" if len(indices) > 8 else "")


def _snr_db(signal: float, noise: float) -> float:
    """10 log10(signal energy / error energy); infinite when there is no error at all."""
    if noise == 0.0:
        return float("inf")
    if signal == 0.0:
        return float("-inf")
    return 10.0 * math.log10(signal / noise)


class _Accumulator:
    """Streaming statistics of one output: memory stays flat in the number of images."""

    def __init__(self):
        self.count = 0
        self.minimum = self.maximum = self.peak = None  # per channel (last axis)
        self.signal = self.noise = None  # per channel (last axis)
        self.dot = self.quantized_energy = 0.0
        self.max_abs_error = 0.0
        self.top1_same = 0
        self.class_vector = None

    def add(self, reference: np.ndarray, quantized: np.ndarray) -> None:
        reference = np.asarray(reference, dtype=np.float64)
        quantized = np.asarray(quantized, dtype=np.float64)
        flat = reference.reshape(-1, reference.shape[-1]) if reference.ndim else reference[None]
        low, high = flat.min(axis=0), flat.max(axis=0)
        self.minimum = low if self.minimum is None else np.minimum(self.minimum, low)
        self.maximum = high if self.maximum is None else np.maximum(self.maximum, high)
        peak = np.abs(flat).max(axis=0)
        self.peak = peak if self.peak is None else np.maximum(self.peak, peak)
        error = (reference - quantized).reshape(flat.shape)
        signal, noise = np.sum(flat**2, axis=0), np.sum(error**2, axis=0)
        self.signal = signal if self.signal is None else self.signal + signal
        self.noise = noise if self.noise is None else self.noise + noise
        self.dot += float(np.sum(reference * quantized))
        self.quantized_energy += float(np.sum(quantized**2))
        self.max_abs_error = max(self.max_abs_error, float(np.max(np.abs(error))))
        # One image's output of shape (C,), C > 1: a class vector.
        self.class_vector = reference.ndim == 1 and reference.shape[0] > 1
        if self.class_vector:
            self.top1_same += int(reference.argmax() == quantized.argmax())
        self.count += 1

    def result(self) -> dict:
        signal, noise = float(self.signal.sum()), float(self.noise.sum())
        norms = math.sqrt(signal * self.quantized_energy)
        cosine = self.dot / norms if norms else float(noise == 0.0)
        judged = self.peak > QUIET_CHANNEL * self.peak.max()
        channel_snr = np.array(
            [_snr_db(a, b) for a, b in zip(self.signal, self.noise, strict=True)]
        )
        crushed = [int(i) for i in np.flatnonzero(judged & (channel_snr < MIN_SNR_DB))]
        return {
            "float_min": float(self.minimum.min()),
            "float_max": float(self.maximum.max()),
            "snr_db": _snr_db(signal, noise),
            "cosine": cosine,
            "max_abs_error": self.max_abs_error,
            "top1_agreement": self.top1_same / self.count if self.class_vector else None,
            "crushed_channels": crushed,
            "channels": int(self.minimum.size),
            "channel_min": [float(v) for v in self.minimum],
            "channel_max": [float(v) for v in self.maximum],
        }


def compare_with_float(
    model_dir,
    model: bytes | str | Path,
    image_dir,
    normalization: str | None = None,
    input_size: tuple[int, int] | None = None,
    num_samples: int | None = DEFAULT_COMPARED_IMAGES,
    progress: bool = False,
    detector=None,
    channel_axis: int | None = None,
) -> dict:
    """Le SavedModel flottant (son dossier, ou le modèle déjà chargé) et le ``.tflite`` sur les
    mêmes images, sortie par sortie.

    Les sorties sont appariées par leur nom (celui de la signature du SavedModel, que le
    convertisseur garde) et celles du ``.tflite`` déquantifiées. Normalisation et taille :
    les options, sinon celles de ``FILE.json``. Renvoie ``{"count", "outputs": [{"name",
    "shape", "float_min", "float_max", "scale", "zero_point", "snr_db", "cosine",
    "max_abs_error", "top1_agreement", "ok", "verdict", ...}]}`` (le contrat de
    ``python -m helpers compare --json``). Les canaux sont jugés un à un sur l'axe de la
    description du détecteur (``detector`` : un ``detecteur.json`` ; sinon celui de
    ``MODEL_DIR``, sinon la clé ``detector`` de ``FILE.json``), sinon ``channel_axis``, sinon
    un axe déduit (:func:`output_channel_axis`) ; les images sont redimensionnées comme la
    description le dit.
    """
    opened = open_tflite(model, normalization, input_size)
    normalization, interpreter = opened.normalization, opened.interpreter
    (height, width), channels = opened.input_size, opened.channels
    # A model already loaded (load_saved_model) is not read again: notebooks compare several files.
    float_model = loaded_model(model_dir)
    free = float_model.input.size is None
    float_shape = float_model.input.image_shape((height, width) if free else None)
    if float_shape != (height, width, channels):
        raise KitError(
            f"Le .tflite attend des images {height}×{width}×{channels}, le SavedModel "
            f"{float_shape[0]}×{float_shape[1]}×{float_shape[2]} : ce n'est pas le même modèle "
            "(ou pas à la même taille). Donnez le SavedModel d'où vient ce .tflite."
        )
    runner, output_details = signature_runner(interpreter)
    if set(output_details) != set(float_model.output_names):
        raise KitError(
            f"Le .tflite a {len(output_details)} sortie(s) ({', '.join(sorted(output_details))}) "
            f"et le SavedModel {len(float_model.output_names)} "
            f"({', '.join(float_model.output_names)}) : ce n'est pas le même modèle. Donnez "
            "le SavedModel d'où vient ce .tflite."
        )
    description, labels = _compared_detector(detector, float_model.model_dir, opened)
    layouts = {
        name: output_channel_axis(
            [int(v) for v in detail["shape"]], labels, description, name, channel_axis
        )
        for name, detail in output_details.items()
    }
    resize = (
        (description or {}).get("resize", "stretch"),
        (description or {}).get("pad_value", DEFAULT_PAD_VALUE),
    )
    paths = find_images(image_dir, num_samples)
    accumulators = {name: _Accumulator() for name in float_model.output_names}
    for path in tqdm(paths, desc="Comparaison", disable=not progress, file=sys.stderr):
        pixels = read_image(path, (height, width), channels, *resize)
        image = normalize(pixels, normalization)[None]
        reference = float_model.predict_outputs(image)
        quantized = run_signature(runner, output_details, image)
        for name, accumulator in accumulators.items():
            axis = layouts[name][0] - 1  # without the batch axis
            accumulator.add(
                np.moveaxis(reference[name][0], axis, -1), np.moveaxis(quantized[name][0], axis, -1)
            )
    outputs = []
    for name, accumulator in accumulators.items():
        tensor = describe_tensor(output_details[name])
        entry = {
            "name": name,
            "shape": tensor["shape"],
            "scale": tensor["scale"],
            "zero_point": tensor["zero_point"],
            "channel_axis": layouts[name][0],
            "box_channels": layouts[name][1],
            **accumulator.result(),
        }
        entry["ok"], entry["verdict"] = _verdict(entry, entry["channels"])
        outputs.append(entry)
    return {"count": len(paths), "normalization": normalization, "outputs": outputs}


def _compared_detector(detector, model_dir, opened) -> tuple[dict | None, list[str] | None]:
    """The description (``detector`` path or dict, else MODEL_DIR's, else FILE.json's) and the
    labels (FILE.json's, else MODEL_DIR's labels.txt) that tell compare the channel axis."""
    if isinstance(detector, (str, Path)):
        description = read_detector_description(None, detector)
    elif detector is not None:
        description = check_detector_description(detector, "la description")
    else:
        description = read_detector_description(model_dir)
        if description is None and opened.detector is not None:
            description = check_detector_description(opened.detector, opened.name)
    labels = opened.labels
    labels_file = find_labels_file(model_dir)
    if labels is None and labels_file is not None:
        labels = read_labels(labels_file)
    return description, labels


def format_float_comparison(result: dict) -> str:
    """Le résultat de ``compare_with_float`` en texte français, une sortie par paragraphe."""
    lines = [f"{result['count']} images, normalisation « {result['normalization']} »"]
    for entry in result["outputs"]:
        quantization = (
            "flottante"
            if entry["scale"] == 0.0
            else f"échelle {french(entry['scale'], '.4g')}, point zéro {entry['zero_point']}"
        )
        top1 = (
            ""
            if entry["top1_agreement"] is None
            else f", accord top-1 {format_percent(entry['top1_agreement'], 1)}"
        )
        shape = "×".join(str(v) for v in entry["shape"])
        lines += [
            f"{'✓' if entry['ok'] else '✗'} {entry['name']} ({shape}, {quantization})",
            f"    plage flottante [{french(entry['float_min'], '.4g')} ; "
            f"{french(entry['float_max'], '.4g')}], SNR {french(entry['snr_db'], '.1f')} dB, "
            f"cosinus {french(entry['cosine'], '.4f')}, "
            f"écart max {french(entry['max_abs_error'], '.4g')}{top1}",
            f"    {entry['verdict']}",
        ]
    return "\n".join(lines)
