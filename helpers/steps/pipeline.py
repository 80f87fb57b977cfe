"""Les chemins complets des commandes ``quantize`` et ``debug`` : réglages vérifiés d'un coup,
conversion par le bon moteur, ``FILE.tflite`` et son ``FILE.json`` ; le diagnostic couche par
couche.

La ligne de commande (``python -m helpers quantize``) et les notebooks appellent les mêmes
fonctions : un réglage impossible est refusé ici, une seule fois, avant que TensorFlow ne soit
importé, et les métadonnées ont une seule source (``export.build_metadata``).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

from helpers.base.errors import KitError, quiet_tensorflow
from helpers.base.paths import relative_to_root
from helpers.core.images import NORMALIZATIONS, check_labels, find_labels_file, read_labels
from helpers.core.models import check_saved_model_dir, load_saved_model, loaded_model
from helpers.steps.calibration import DEFAULT_MIN_IMAGES, representative_dataset
from helpers.steps.debugging import layer_statistics, make_debugger
from helpers.steps.decoding import (
    DETECTOR_FILE,
    check_description_outputs,
    read_detector_description,
)
from helpers.steps.detection import check_converted_detector, detector_labels
from helpers.steps.export import build_metadata, check_output_path, write_model
from helpers.steps.inspection import inspect_model
from helpers.steps.quantization import (
    INTEGER_MODES,
    ConversionReport,
    check_mode,
    conversion_report,
    convert,
)
from helpers.steps.quantizer_engine import (
    DEFAULT_ENGINE,
    SNR_SAMPLES,
    add_snr,
    check_engine,
    layer_snr,
    quantize_with_litert_quantizer,
)
from helpers.steps.selective import check_keep_float, quantize_keeping_float


@dataclass(frozen=True)
class QuantizeSettings:
    """Les réglages de ``quantize``, tels que la ligne de commande les reçoit.

    ``io_type`` vaut ``None`` quand il n'est pas demandé (int8 en int8-full) ; ``keep_float``
    est une suite d'expressions régulières cherchées dans le nom des tenseurs.
    """

    mode: str
    io_type: str | None = None
    output_type: str | None = None
    normalization: str = "symmetric"
    input_size: tuple[int, int] | None = None
    num_samples: int | None = None
    min_images: int = DEFAULT_MIN_IMAGES
    keep_float: tuple[str, ...] = ()
    engine: str = DEFAULT_ENGINE
    detector: str | None = None  # a detecteur.json, which wins over MODEL_DIR's
    labels: str | None = None  # a labels.txt, which wins over MODEL_DIR's


@dataclass
class QuantizedModel:
    """Ce que produit le chemin de ``quantize`` : les octets, leurs métadonnées, le rapport de
    conversion, les tenseurs gardés en flottant et les remarques à montrer (en français)."""

    model_bytes: bytes
    metadata: dict
    report: ConversionReport
    kept: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def check_settings(settings: QuantizeSettings, images=None) -> QuantizeSettings:
    """Vérifie toutes les règles des réglages, sans TensorFlow ; renvoie les réglages avec
    ``io_type`` résolu en int8-full (int8 par défaut)."""
    mode = settings.mode
    if settings.io_type is not None and mode != "int8-full":
        raise KitError(
            f"--io-type ne s'applique qu'au mode int8-full : en mode {mode}, l'entrée et la "
            "sortie restent flottantes. Retirez --io-type, ou choisissez --mode int8-full."
        )
    io_type = settings.io_type or "int8"
    check_mode(mode, io_type, settings.output_type)
    if settings.normalization not in NORMALIZATIONS:
        raise KitError(
            f"Normalisation inconnue « {settings.normalization} » : choisissez parmi "
            f"{', '.join(NORMALIZATIONS)}."
        )
    if mode in INTEGER_MODES and images is None:
        raise KitError(
            f"Le mode {mode} a besoin d'images d'étalonnage : ajoutez --images DOSSIER (au moins "
            f"{settings.min_images} images représentatives, PNG ou JPEG)."
        )
    check_engine(settings.engine, mode, io_type, settings.output_type)
    if settings.keep_float and settings.engine == DEFAULT_ENGINE:
        check_keep_float(mode, io_type, settings.output_type)
    # Resolved for int8-full only, so that checking the settings again gives the same answer.
    resolved = io_type if mode == "int8-full" else None
    return replace(settings, io_type=resolved, keep_float=tuple(settings.keep_float))


def quantize_model(
    model_dir, settings: QuantizeSettings, images=None, progress: bool = False
) -> QuantizedModel:
    """Convertit le SavedModel de ``model_dir`` selon ``settings``, étalonné sur le dossier
    ``images`` quand le mode l'exige, et prépare ses métadonnées (``FILE.json``).

    Rien n'est écrit : ``quantize_to_file`` écrit le résultat.
    """
    settings = check_settings(settings, images)
    model_dir = check_saved_model_dir(model_dir)  # cheap check before importing TensorFlow
    notes: list[str] = []
    # A detector says how to decode its outputs (--detector wins); it needs its labels.
    detector = read_detector_description(model_dir, settings.detector)
    labels_file = Path(settings.labels) if settings.labels else find_labels_file(model_dir)
    if detector is not None:
        detector_labels(labels_file=labels_file, where=Path(model_dir).name)
    # Loaded once: its input is checked here, and the same model is converted.
    model = load_saved_model(model_dir)
    height, width, channels = model.input.image_shape(settings.input_size)
    if detector is not None:  # its outputs and labels, before converting anything
        check_description_outputs(
            detector, _output_shapes(model), read_labels(labels_file), DETECTOR_FILE
        )
    dataset = None
    if settings.mode in INTEGER_MODES:
        dataset, warned = _calibration_dataset(
            images, settings, (height, width), channels, progress, detector
        )
        notes += warned
    elif images is not None:
        notes.append(
            f"Remarque : le mode {settings.mode} n'utilise pas d'images d'étalonnage ; "
            "--images est ignoré."
        )
    model_bytes, report, kept = _convert(model, settings, dataset)
    notes += [f"Attention : {message}" for message in report.warnings]
    if detector is not None:
        labels = read_labels(labels_file)
        detector = check_converted_detector(model_bytes, detector, labels, settings.input_size)
    else:
        labels, label_note = _model_labels(labels_file, model_bytes)
        notes += [label_note] if label_note else []
    extra = {}
    if detector is not None:
        extra["detector"] = detector
    if settings.engine != DEFAULT_ENGINE:
        extra["engine"] = settings.engine
    if settings.keep_float:
        extra["keep_float"] = {"patterns": list(settings.keep_float), "tensors": kept}
    metadata = build_metadata(
        model_bytes,
        mode=settings.mode,
        source=relative_to_root(model_dir),
        input_size=(height, width),
        normalization=settings.normalization,
        labels=labels,
        calibration=dataset,
        extra=extra,
    )
    return QuantizedModel(model_bytes, metadata, report, kept, notes)


def quantize_to_file(
    model_dir,
    output,
    settings: QuantizeSettings,
    images=None,
    force: bool = False,
    progress: bool = False,
) -> tuple[QuantizedModel, Path]:
    """``quantize_model`` puis l'écriture de ``FILE.tflite`` et ``FILE.json`` : tout est vérifié
    avant la conversion (réglages, chemin de sortie, modèle, images) ; en cas d'erreur, rien
    n'est écrit."""
    settings = check_settings(settings, images)
    output = check_output_path(output, force=force)
    result = quantize_model(model_dir, settings, images, progress=progress)
    written = write_model(output, result.model_bytes, result.metadata, force=force)
    return result, written


def _calibration_dataset(
    images, settings: QuantizeSettings, input_size, channels, progress, detector=None
):
    """The calibration images, checked, and the loader's warnings as French lines; resized as
    the detector's description says."""
    resize = {key: detector[key] for key in ("resize", "pad_value")} if detector else {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dataset = representative_dataset(
            images,
            input_size=input_size,
            channels=channels,
            normalization=settings.normalization,
            min_images=settings.min_images,
            num_samples=settings.num_samples,
            progress=progress,
            **resize,
        )
    return dataset, [f"Attention : {warning.message}" for warning in caught]


def _convert(model, settings: QuantizeSettings, dataset):
    """The engine and path the settings ask for: ``(octets, rapport, tenseurs gardés en flottant)``."""
    mode = settings.mode
    if settings.engine != DEFAULT_ENGINE:
        started = time.perf_counter()
        model_bytes, _ = quantize_with_litert_quantizer(
            model, mode, dataset, settings.input_size, no_quantize=settings.keep_float
        )
        report = conversion_report(mode, model_bytes, time.perf_counter() - started)
        return model_bytes, report, list(settings.keep_float)
    if settings.keep_float:
        started = time.perf_counter()
        model_bytes, kept = quantize_keeping_float(
            model, dataset, settings.keep_float, settings.input_size, mode
        )
        return (
            model_bytes,
            conversion_report(mode, model_bytes, time.perf_counter() - started),
            kept,
        )
    # A free-size model is converted at the size given, so the file gets a fixed input.
    model_bytes, report = convert(
        model,
        mode,
        dataset,
        settings.io_type or "int8",
        NORMALIZATIONS[settings.normalization],
        settings.input_size,
        settings.output_type,
    )
    return model_bytes, report, []


def _output_shapes(model) -> dict[str, list[int]]:
    """The SavedModel's output shapes by name, a free batch axis counted as 1 (as converted)."""
    outputs = model.signature.structured_outputs
    return {
        name: [1 if n is None else int(n) for n in outputs[name].shape]
        for name in model.output_names
    }


def _model_labels(labels_file: Path | None, model_bytes: bytes):
    """A classifier's labels (``labels.txt`` beside the model) when they count its classes,
    else a note."""
    if labels_file is None:
        return None, None
    labelled_shape = inspect_model(model_bytes)["outputs"][0]["shape"]
    try:
        return check_labels(read_labels(labels_file), int(labelled_shape[-1])), None
    except KitError as error:
        return None, f"Remarque : {error} Étiquettes non enregistrées."


def debug_model(
    model_dir,
    images,
    normalization: str = "symmetric",
    input_size=None,
    num_samples: int | None = None,
    min_images: int = DEFAULT_MIN_IMAGES,
    progress: bool = False,
):
    """Le chemin de ``debug`` : le SavedModel, ses images d'étalonnage, puis ``diagnose_model``.
    Rend ``(diagnostic, jeu de données, remarques)``."""
    model_dir = check_saved_model_dir(model_dir)
    model = load_saved_model(model_dir)
    height, width, channels = model.input.image_shape(input_size)
    settings = QuantizeSettings(
        "int8", normalization=normalization, num_samples=num_samples, min_images=min_images
    )
    dataset, notes = _calibration_dataset(images, settings, (height, width), channels, progress)
    return diagnose_model(model, dataset, input_size), dataset, notes


def diagnose_model(model, representative_dataset, input_size=None, samples=SNR_SAMPLES) -> dict:
    """Le diagnostic de la commande ``debug`` : les statistiques du débogueur
    (``layer_statistics``), puis le SNR de chaque couche (``layer_snr``) entre le modèle int8 du
    débogueur et le modèle flottant (``add_snr``)."""
    model = loaded_model(model)
    debugger = make_debugger(model, representative_dataset, input_size)
    layers = layer_statistics(debugger)
    with quiet_tensorflow(hide_warnings=True):
        quantized = debugger.get_nondebug_quantized_model()
    # Converted like the debugger's int8 model (same tracing): the tensor names match.
    float_bytes, _ = convert(model, "float32", input_size=input_size)
    return add_snr(layers, layer_snr(float_bytes, quantized, representative_dataset, samples))
