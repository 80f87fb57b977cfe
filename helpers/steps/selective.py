"""La quantification sélective : garder en flottant les couches que le diagnostic désigne
(notebook 06, ``quantize --keep-float``).

Elle passe par le débogueur de TensorFlow (``tf.lite.experimental.QuantizationDebugger``), qui
sait convertir en int8 en laissant des tenseurs nommés en flottant.
"""

from __future__ import annotations

from helpers.base.errors import KitError, quiet_tensorflow
from helpers.core.models import loaded_model
from helpers.steps.debugging import make_debugger, match_tensors, tensor_names
from helpers.steps.quantization import convert

# The modes a selective quantization starts from: int8 keeps float I/O; int8-full keeps int8 I/O
# (the debugger's fully_quantize) with float layers inside, so it is no longer integer only.
KEEP_FLOAT_MODES = ("int8", "int8-full")


def check_keep_float(mode: str, io_type: str = "int8", output_type: str | None = None) -> None:
    """Refuse en français une quantification sélective que le mode ne permet pas."""
    if mode not in KEEP_FLOAT_MODES:
        raise KitError(
            f"--keep-float garde des couches en flottant à partir du mode int8 ou int8-full, "
            f"pas {mode} : choisissez --mode int8 (entrée et sortie flottantes) ou "
            "--mode int8-full (entrée et sortie int8, des couches flottantes au milieu)."
        )
    if io_type != "int8" or output_type is not None:
        raise KitError(
            "--keep-float en int8-full donne une entrée et une sortie int8 : retirez "
            "--io-type et --output-type."
        )


def quantize_keeping_float(model, representative_dataset, patterns, input_size=None, mode="int8"):
    """Le mode ``int8`` (ou ``int8-full`` : entrée et sortie int8) avec les tenseurs que
    ``patterns`` désignent gardés en flottant (quantification sélective) :
    ``(octets du .tflite, noms gardés en flottant)``.

    Les appels montrés dans le notebook 06 : ``QuantizationDebugOptions(denylisted_nodes=...,
    fully_quantize=...)`` puis ``debugger.get_nondebug_quantized_model()``.
    """
    import tensorflow as tf

    check_keep_float(mode)
    patterns = list(patterns)
    if not patterns:
        raise KitError("--keep-float attend au moins un motif (une partie du nom d'un tenseur).")
    model = loaded_model(model)
    if mode == "int8-full":
        # As the int8-full mode: traced for one image at a time (static shapes).
        input_size = model.input.image_shape(input_size)[:2]
    # The float conversion has the same tensor names as the calibrated model and takes a
    # second: a pattern that matches nothing is refused before the calibration.
    float_bytes, _ = convert(model, "float32", input_size=input_size)
    match_tensors(patterns, tensor_names(float_bytes))
    debugger = make_debugger(model, representative_dataset, input_size)
    kept = match_tensors(patterns, tensor_names(debugger.calibrated_model))
    with quiet_tensorflow(hide_warnings=True):
        debugger.options = tf.lite.experimental.QuantizationDebugOptions(
            denylisted_nodes=kept, fully_quantize=mode == "int8-full"
        )
        return debugger.get_nondebug_quantized_model(), kept
