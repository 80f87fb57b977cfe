"""Quand la quantification coûte de l'exactitude : trouver les couches en cause (notebook 06,
commande ``debug`` ; les garder en flottant, c'est ``helpers.steps.selective``).

Le diagnostic repose sur ``tf.lite.experimental.QuantizationDebugger`` de TensorFlow : il convertit
le modèle en int8 avec des opérations de vérification (``NumericVerify``) qui comparent, couche
par couche, la sortie quantifiée à la sortie flottante calculée à partir de la même entrée.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
import re

import numpy as np

from helpers.base.errors import KitError, quiet_tensorflow
from helpers.base.units import french
from helpers.core.models import loaded_model
from helpers.core.runtime import load_interpreter, op_details
from helpers.steps.quantization import check_representative_dataset, make_converter

# Rounding to the nearest step spreads the error uniformly over one step: its standard deviation
# is step / sqrt(12). A healthy layer has rmse / scale close to that.
HEALTHY_RMSE_OVER_SCALE = 1 / math.sqrt(12)
# TensorFlow's Quantization Debugger tutorial flags the layers above 0.7 (more than twice the
# rounding error alone): a rule of thumb, not a law; look at the plot too.
SUSPECT_RMSE_OVER_SCALE = 0.7
# The debugger judges each layer from the same quantized input, so it cannot see a tensor whose
# range is so wide that 256 levels crush it: the error stays proportional to the (coarse) step.
# The second look compares each tensor of the int8 model with the float model's (accumulated
# error, in dB). A layer is where the signal goes when it loses 6 dB by itself (twice the error
# amplitude) and leaves less than 30 dB (noise amplitude above about 3 % of the signal). Above
# 30 dB, a 6 dB loss is only int8 rounding at its finest: 8 bits give at most about 48 dB, and the
# demo model's first layers go from 40 to 33 dB while it keeps its float accuracy.
SUSPECT_SNR_LOSS_DB = 6.0
SUSPECT_SNR_BELOW_DB = 30.0
# How long a tensor name may be in the French table (the full name is in the JSON).
_SHOWN_NAME = 58
# In a fused name, the part that names the layer with weights (the one a student recognizes).
_WEIGHTED_PARTS = ("/convolution", "/depthwise", "/Conv2D", "/MatMul", "/BiasAdd")


def make_debugger(model, representative_dataset, input_size=None, denylisted_nodes=None):
    """Un ``tf.lite.experimental.QuantizationDebugger`` pour le mode int8 du modèle.

    ``model`` : dossier du SavedModel ou modèle chargé ; ``representative_dataset`` sert à
    l'étalonnage et aux mesures ; ``denylisted_nodes`` : noms des tenseurs à garder en
    flottant (c'est ce que montre le notebook 06, appel par appel).
    """
    import tensorflow as tf

    model = loaded_model(model)
    height, width, channels = model.input.image_shape(input_size)
    batch = 1 if input_size is not None else None
    check_representative_dataset(representative_dataset, (batch, height, width, channels))
    options = tf.lite.experimental.QuantizationDebugOptions(
        denylisted_nodes=list(denylisted_nodes) if denylisted_nodes else None
    )
    try:
        with quiet_tensorflow(hide_warnings=True):
            converter = make_converter(model, "int8", representative_dataset, input_size=input_size)
            return tf.lite.experimental.QuantizationDebugger(
                converter=converter, debug_dataset=representative_dataset, debug_options=options
            )
    except KitError:
        raise
    except Exception as error:  # ConverterError, ValueError: explained, not dumped
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        raise KitError(
            "Le débogueur de quantification n'a pas pu préparer le modèle : "
            f"{lines[0][:300] if lines else error.__class__.__name__}. Vérifiez d'abord que le "
            "modèle se convertit en mode int8 (python -m helpers quantize --mode int8)."
        ) from error


def tensor_names(model_bytes: bytes) -> list[str]:
    """Les noms des tenseurs produits par les opérations d'un ``.tflite`` : ceux que
    ``denylisted_nodes`` (et ``--keep-float``) peuvent garder en flottant.
    Introduit dans le notebook 06.
    """
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=model_bytes)
    tensors = interpreter.get_tensor_details()
    names = []
    for op in op_details(interpreter):
        for index in op["outputs"]:
            name = tensors[index]["name"]
            if name and name not in names:
                names.append(name)
    return names


def layer_statistics(debugger) -> list[dict]:
    """Exécute le débogueur (s'il ne l'a pas été) et renvoie une ligne par couche quantifiée : ``tensor``, ``op``,
    ``scale``, ``zero_point``, ``rmse``, ``rmse_over_scale``, ``suspect``.

    ``rmse`` est l'écart quadratique moyen entre la sortie quantifiée et la sortie flottante
    de la couche ; divisé par l'échelle, il vaut environ 0,29 pour une couche saine.
    Introduit dans le notebook 06.
    """
    if debugger.layer_statistics is None:  # not run yet
        with quiet_tensorflow(hide_warnings=True):
            debugger.run()
    dump = io.StringIO()
    debugger.layer_statistics_dump(dump)
    layers = []
    for row in csv.DictReader(io.StringIO(dump.getvalue())):
        scale = float(row["scale"])
        rmse = math.sqrt(float(row["mean_squared_error"]))
        ratio = rmse / scale if scale > 0 else math.inf
        layers.append(
            {
                "tensor": row["tensor_name"],
                "op": row["op_name"],
                "scale": scale,
                "zero_point": int(float(row["zero_point"])),
                "rmse": rmse,
                "rmse_over_scale": ratio,
            }
        )
        layers[-1]["suspect"] = is_suspect(layers[-1])
    return layers


def is_suspect(layer: dict) -> bool:
    """La règle des couches suspectes, en un seul endroit : ``rmse / échelle`` au-dessus de 0,7
    (erreur propre à la couche), ou, si le SNR a été mesuré, une couche qui perd au moins 6 dB
    et laisse moins de 30 dB (le signal se perd là)."""
    loss = layer.get("snr_loss_db")
    return bool(
        layer["rmse_over_scale"] > SUSPECT_RMSE_OVER_SCALE
        or (
            loss is not None
            and loss >= SUSPECT_SNR_LOSS_DB
            and layer["snr_db"] < SUSPECT_SNR_BELOW_DB
        )
    )


def short_name(tensor: str) -> str:
    """Un nom de tenseur lisible : TensorFlow colle les noms des opérations fusionnées avec des
    « ; » ; on garde celui de la couche à poids (convolution, dense), sinon le premier,
    raccourci par le début."""
    parts = tensor.split(";")
    shown = next((part for part in parts if part.endswith(_WEIGHTED_PARTS)), parts[0])
    return shown if len(shown) <= _SHOWN_NAME else "…" + shown[-(_SHOWN_NAME - 1) :]


def _db(value) -> str:
    return "—" if value is None else french(value, ".1f")


def format_debug_table(result: dict) -> str:
    """Le diagnostic en tableau français : une ligne par couche, les suspectes marquées ; les
    colonnes SNR et perte quand le SNR a été mesuré (commande ``debug``).
    Introduit dans le notebook 06.
    """
    with_snr = any("snr_db" in layer for layer in result["layers"])
    snr_header = f"{'SNR (dB)':>10}{'perte (dB)':>12}" if with_snr else ""
    header = f"{'n°':>3}  {'opération':<18}{'échelle':>10}{'rmse/échelle':>14}{snr_header}  tenseur"
    lines = [header, "-" * (len(header) + 40)]
    for number, layer in enumerate(result["layers"], start=1):
        mark = "  ← suspecte" if layer["suspect"] else ""
        snr = (
            f"{_db(layer.get('snr_db')):>10}{_db(layer.get('snr_loss_db')):>12}" if with_snr else ""
        )
        lines.append(
            f"{number:>3}  {layer['op']:<18}{french(layer['scale'], '.4g'):>10}"
            f"{french(layer['rmse_over_scale'], '.2f'):>14}{snr}  {short_name(layer['tensor'])}{mark}"
        )
    count = len(result["suspects"])
    rules = (
        f"critères : rmse/échelle > {french(SUSPECT_RMSE_OVER_SCALE, '.2f')} (une couche saine "
        f"est vers {french(HEALTHY_RMSE_OVER_SCALE, '.2f')})"
    )
    if with_snr:
        rules += (
            f", ou une perte d'au moins {french(SUSPECT_SNR_LOSS_DB, '.0f')} dB qui laisse le "
            f"SNR sous {french(SUSPECT_SNR_BELOW_DB, '.0f')} dB"
        )
    lines.append("")
    if count:
        lines.append(
            f"{count} couche(s) suspecte(s) ({rules}). Pour les garder en flottant : "
            "python -m helpers quantize ... --mode int8-full --keep-float MOTIF (MOTIF : une "
            "partie du nom du tenseur)."
        )
    else:
        lines.append(
            f"Aucune couche suspecte ({rules}) : l'arrondi explique l'erreur de chaque couche. "
            "Si l'exactitude baisse quand même, regardez l'étalonnage (images représentatives ?) "
            "et la sortie du modèle (python -m helpers compare)."
        )
    return "\n".join(lines)


def activation_peak(float_bytes: bytes, representative_dataset, pattern: str):
    """Les plus grandes valeurs que prend, sur les images du jeu de données, la sortie d'une
    couche d'un ``.tflite`` flottant, canal par canal : ``(nom du tenseur, tableau)`` (un
    maximum par canal, le dernier axe). La couche est la première dont le nom contient
    ``pattern`` (expression régulière). À comparer à la plage que l'int8 lui donne.
    Introduit dans le notebook 06.
    """
    # Without XNNPACK and with every tensor kept: the intermediate values stay readable.
    interpreter = load_interpreter(float_bytes, default_delegates=False, preserve_all_tensors=True)
    names = {tensor["index"]: tensor["name"] for tensor in interpreter.get_tensor_details()}
    outputs = [index for op in op_details(interpreter) for index in op["outputs"]]
    (name, *_) = match_tensors([pattern], list(dict.fromkeys(names[i] for i in outputs)))
    index = next(i for i in outputs if names[i] == name)
    image_index = interpreter.get_input_details()[0]["index"]
    peaks = None
    for image, *_ in representative_dataset():
        interpreter.set_tensor(image_index, image)
        interpreter.invoke()
        values = interpreter.get_tensor(index)
        current = values.reshape(-1, values.shape[-1]).max(axis=0)
        peaks = current if peaks is None else np.maximum(peaks, current)
    if peaks is None:
        raise KitError("Le jeu de données n'a produit aucune image : rien à mesurer.")
    return name, peaks


def match_tensors(patterns, names: list[str]) -> list[str]:
    """Les noms de ``names`` qu'au moins une expression régulière de ``patterns`` trouve
    (``re.search``). Lève ``KitError`` pour un motif invalide ou qui ne trouve rien, en
    nommant les tenseurs les plus proches.
    Introduit dans le notebook 06.
    """
    matched = []
    for pattern in patterns:
        try:
            regex = re.compile(pattern)
        except re.error as error:
            raise KitError(
                f"--keep-float « {pattern} » n'est pas une expression régulière valide ({error})."
            ) from error
        found = [name for name in names if regex.search(name)]
        if not found:
            parts = sorted({part for name in names for part in re.split(r"[;/:]", name) if part})
            close = difflib.get_close_matches(pattern, parts, n=3, cutoff=0.5)
            hint = (
                f" Les plus proches : {', '.join(close)}."
                if close
                else f" Par exemple : {', '.join(short_name(n) for n in names[:3])}."
            )
            raise KitError(
                f"--keep-float « {pattern} » ne correspond à aucun des {len(names)} tenseurs du "
                f"modèle.{hint} La commande debug les liste avec leur nom complet."
            )
        matched += [name for name in found if name not in matched]
    return matched
