"""Le second moteur de quantification : LiteRT Quantizer (paquet ``litert-quantizer``, le
successeur d'``ai-edge-quantizer``), à côté du convertisseur de TensorFlow (notebook 06,
``quantize --engine litert-quantizer``).

Le convertisseur quantifie pendant la conversion du SavedModel ; LiteRT Quantizer part du
``.tflite`` flottant et applique une « recette » (quelles opérations, combien de bits), règle
par règle : on peut y exclure des couches par une expression régulière, comme ``--keep-float``.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import math

from helpers.base.errors import KitError, quiet_tensorflow
from helpers.core.models import loaded_model
from helpers.core.runtime import op_details
from helpers.steps.debugging import (
    is_suspect,
    match_tensors,
    tensor_names,
)
from helpers.steps.quantization import check_representative_dataset, convert

ENGINES = ("tflite-converter", "litert-quantizer")
DEFAULT_ENGINE = ENGINES[0]  # TensorFlow's converter
# Images on which validate() measures each tensor's SNR: a handful is enough to rank the layers,
# and each one runs both models with every tensor kept.
SNR_SAMPLES = 8
# What LiteRT Quantizer makes from a float .tflite: int8 weights with float activations, or int8
# weights and activations with int8 input and output (its static recipe has no float I/O form).
LITERT_QUANTIZER_MODES = ("dynamic", "int8-full")


def check_engine(engine: str, mode: str, io_type: str = "int8", output_type=None) -> None:
    """Refuse en français ce que le moteur ne sait pas faire (avant toute conversion)."""
    if engine not in ENGINES:
        raise KitError(f"Moteur inconnu « {engine} » : choisissez parmi {', '.join(ENGINES)}.")
    if engine != "litert-quantizer":
        return
    if mode not in LITERT_QUANTIZER_MODES:
        raise KitError(
            f"LiteRT Quantizer ne produit pas le mode {mode} dans ce kit : il fait dynamic "
            "(poids int8) et int8-full (poids et activations int8, entrée et sortie int8). "
            "Pour les autres modes, gardez le moteur par défaut (tflite-converter)."
        )
    if io_type != "int8" or output_type is not None:
        raise KitError(
            "LiteRT Quantizer donne une entrée et une sortie int8 en int8-full ; il ne sait "
            "pas produire du uint8 ni une sortie float32. Retirez --io-type / --output-type, ou "
            "gardez le moteur par défaut (tflite-converter)."
        )


def _recipe(mode: str):
    from litert_quantizer import recipe

    return recipe.dynamic_wi8_afp32() if mode == "dynamic" else recipe.static_wi8_ai8()


def calibration_data(float_bytes: bytes, representative_dataset) -> dict:
    """Le jeu de données représentatif au format de LiteRT Quantizer :
    ``{signature: ({nom de l'entrée: tableau} pour chaque image)}``, lu une image à la fois.
    Introduit dans le notebook 06.
    """
    from ai_edge_litert.interpreter import Interpreter

    signatures = Interpreter(model_content=float_bytes).get_signature_list()
    (key, signature), *others = signatures.items()
    if others or len(signature["inputs"]) != 1:
        raise KitError(
            "LiteRT Quantizer est branché ici pour un modèle à une signature et une entrée image."
        )
    return {key: _Samples(representative_dataset, signature["inputs"][0])}


class _Samples:
    """The images one at a time, as often as asked: a list of 500 images at 640×640 would take
    2.4 GB in float32, and the quantizer goes through the data twice (it counts it first)."""

    def __init__(self, dataset, name: str):
        self.dataset, self.name = dataset, name

    def __iter__(self):
        return ({self.name: sample[0]} for sample in self.dataset())

    def __len__(self) -> int:
        return (
            sum(1 for _ in self.dataset())
            if not hasattr(self.dataset, "__len__")
            else len(self.dataset)
        )


def quantize_with_litert_quantizer(
    model, mode: str, representative_dataset=None, input_size=None, no_quantize=()
) -> tuple[bytes, bytes]:
    """Quantifie avec LiteRT Quantizer : ``(octets du .tflite quantifié, octets du flottant)``.

    Le SavedModel est d'abord converti en ``.tflite`` flottant, pour un lot de 1 (formes fixes,
    comme int8-full) ; puis ``Quantizer(float).load_quantization_recipe(recette)``,
    ``calibrate`` (mode int8-full) et ``quantize``. ``no_quantize`` : expressions régulières
    des couches à laisser en flottant (règle ``no_quantize`` de la recette).
    """
    from litert_quantizer import qtyping, quantizer

    check_engine("litert-quantizer", mode)
    model = loaded_model(model)
    height, width, channels = model.input.image_shape(input_size)
    if mode == "int8-full":
        if representative_dataset is None:
            raise KitError(
                "Le mode int8-full étalonne les activations : il faut des images d'étalonnage "
                "(--images DOSSIER)."
            )
        check_representative_dataset(representative_dataset, (1, height, width, channels))
    float_bytes, _ = convert(model, "float32", input_size=(height, width))
    if no_quantize:
        match_tensors(no_quantize, tensor_names(float_bytes))  # a typo is refused, named
    try:
        with quiet_tensorflow(hide_warnings=True):
            engine = quantizer.Quantizer(float_bytes, _recipe(mode))
            for pattern in no_quantize:
                engine.update_quantization_recipe(
                    regex=pattern,
                    operation_name=qtyping.TFLOperationName.ALL_SUPPORTED,
                    algorithm_key="no_quantize",
                )
            calibration = None
            if engine.need_calibration:
                # Its own progress bar would count model ops, not images; the kit's counts images.
                with contextlib.redirect_stderr(io.StringIO()):
                    calibration = engine.calibrate(
                        calibration_data(float_bytes, representative_dataset), num_threads=1
                    )
            result = engine.quantize(calibration, enable_progress_report=False)
    except KitError:
        raise
    except Exception as error:  # ValueError, RuntimeError from the quantizer: explained
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        raise KitError(
            f"LiteRT Quantizer a échoué : {lines[0][:300] if lines else type(error).__name__}. "
            "Essayez le moteur par défaut (tflite-converter) pour comparer."
        ) from error
    return bytes(result.quantized_model), float_bytes


def validate_snr(
    float_bytes: bytes, quantized_bytes: bytes, representative_dataset, samples=SNR_SAMPLES
):
    """``validate()`` de LiteRT Quantizer : le SNR (en dB) de chaque tenseur du modèle
    quantifié face au flottant, sur ``samples`` images. ``{nom du tenseur: snr_db}``, trié du
    pire au meilleur. L'outil fait la moyenne, sur les images, du rapport des puissances de
    chacune (``compare`` additionne d'abord les puissances de toutes les images : sur une même
    sortie, les deux chiffres peuvent différer un peu)."""
    from ai_edge_litert.interpreter import Interpreter
    from litert_quantizer import quantizer
    from litert_quantizer.utils.validation_utils import ValidationErrorMetric

    # The tool pairs tensors by name and fails with a bare KeyError on the outputs otherwise.
    outputs = {
        detail["name"] for detail in Interpreter(model_content=float_bytes).get_output_details()
    }
    names = {
        detail["name"] for detail in Interpreter(model_content=quantized_bytes).get_tensor_details()
    }
    if not outputs <= names:
        raise KitError(
            "Les deux modèles n'ont pas les mêmes noms de tenseurs (sortie "
            f"« {sorted(outputs - names)[0]} » absente du modèle quantifié) : convertissez le "
            "float32 comme le modèle quantifié, avec le même input_size (un lot de 1 pour "
            'int8-full, comme convert(modèle, "float32", input_size=...)).'
        )
    data = calibration_data(float_bytes, representative_dataset)
    data = {key: list(itertools.islice(values, samples)) for key, values in data.items()}
    with quiet_tensorflow(hide_warnings=True):
        engine = quantizer.Quantizer(float_bytes, previous_quantized_model=quantized_bytes)
        result = engine.validate(test_data=data, error_metrics=[ValidationErrorMetric.SNR])
    # The quantizer gives the SNR as a power ratio; decibels are what a reader compares.
    snr = {
        name: 10 * math.log10(values["snr"]) if values["snr"] > 0 else -math.inf
        for name, values in result.get_all_tensor_results().items()
    }
    return dict(sorted(snr.items(), key=lambda item: item[1]))


# Ops that only change the number format: the tensor they make has no twin in the float model,
# it carries the SNR of its input.
_FORMAT_OPS = ("QUANTIZE", "DEQUANTIZE")


def layer_snr(
    float_bytes: bytes, quantized_bytes: bytes, representative_dataset, samples=SNR_SAMPLES
):
    """Le SNR (dB) de la sortie de chaque couche du modèle quantifié face au flottant, erreur
    accumulée depuis l'entrée (``validate_snr``), et ce que la couche en perd elle-même : son
    entrée la plus bruitée moins sa sortie. ``{premier nom du tenseur: (snr_db, perte_db)}``,
    la perte vaut ``None`` si aucune entrée n'a de jumeau flottant.
    Introduit dans le notebook 06.
    """
    from ai_edge_litert.interpreter import Interpreter

    snr = validate_snr(float_bytes, quantized_bytes, representative_dataset, samples)
    interpreter = Interpreter(model_content=quantized_bytes)
    names = {tensor["index"]: tensor["name"] for tensor in interpreter.get_tensor_details()}
    ops = op_details(interpreter)
    # Activations are the model's inputs and what ops produce; the rest are weights.
    activations = {index for op in ops for index in op["outputs"]}
    model_inputs = {detail["index"] for detail in interpreter.get_input_details()}
    activations |= model_inputs
    known = {
        index: snr[name]
        for index, name in names.items()
        if name in snr and math.isfinite(snr[name])
    }
    # Dequantizing is exact: the int8 tensor a DEQUANTIZE reads (the last layer's output in an
    # int8 model with float I/O) has the SNR of the float tensor it makes.
    for op in ops:
        if op["op_name"] == "DEQUANTIZE" and op["outputs"][0] in known:
            known.setdefault(op["inputs"][0], known[op["outputs"][0]])
    layers = {}
    for op in ops:
        inputs = [known[i] for i in op["inputs"] if i in activations and i in known]
        output = op["outputs"][0]
        if op["op_name"] in _FORMAT_OPS:
            # The QUANTIZE of the model's input makes the first error, which no float tensor
            # measures: the first layer's loss stays unknown rather than blamed on it.
            if output not in known and inputs and not model_inputs & set(op["inputs"]):
                known[output] = min(inputs)
            continue
        if output in known:
            loss = min(inputs) - known[output] if inputs else None
            layers[names[output].split(";")[0]] = (known[output], loss)
    # The debugger names the last layer after the model's output, which the final DEQUANTIZE
    # makes in the plain int8 model: the same values under that name too.
    model_outputs = {detail["index"] for detail in interpreter.get_output_details()}
    for op in ops:
        source = names[op["inputs"][0]].split(";")[0]
        if op["op_name"] == "DEQUANTIZE" and op["outputs"][0] in model_outputs and source in layers:
            layers.setdefault(names[op["outputs"][0]].split(";")[0], layers[source])
    return layers


def add_snr(layers: list[dict], snr: dict) -> dict:
    """Ajoute aux lignes du débogueur (``layer_statistics``) le SNR de ``layer_snr`` :
    ``snr_db`` et ``snr_loss_db`` (``None`` sans jumeau flottant), et juge chaque couche
    (``is_suspect``). Rend ``{"layers": [...], "suspects": [noms des tenseurs]}``, le contrat de
    ``python -m helpers debug --json``.
    Introduit dans le notebook 06.
    """
    layers = [dict(layer) for layer in layers]
    for layer in layers:
        # The debugger's model and the plain int8 model name fused tensors alike up to the
        # first ";" (the debugger appends a suffix to the last part).
        values = snr.get(layer["tensor"].split(";")[0], (None, None))
        # An infinite or undefined SNR (a tensor that is zero everywhere) is not a measure:
        # null in the JSON, a dash in the table.
        layer["snr_db"], layer["snr_loss_db"] = (
            value if value is not None and math.isfinite(value) else None for value in values
        )
        layer["suspect"] = is_suspect(layer)
    return {"layers": layers, "suspects": [layer["tensor"] for layer in layers if layer["suspect"]]}
