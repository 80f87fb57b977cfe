"""Écrire un modèle ``.tflite`` sans risque, le relire, le vérifier, préparer le dossier de la Pi.

- ``build_metadata`` : ce qu'il faut savoir pour réutiliser le fichier (mode, source, taille et
  normalisation des entrées, paramètres de quantification, étiquettes, empreinte, versions) ;
- ``write_model`` : écriture atomique du ``.tflite`` puis de son ``.json`` (chacun écrit sous
  un nom temporaire, vidé sur le disque, puis renommé) ; l'empreinte sha256 des métadonnées dit
  si elles décrivent bien le fichier ;
- ``verify_written_model`` : relecture, empreinte, taille, mêmes sorties que le modèle en mémoire ;
- ``make_bundle`` : le dossier à copier sur la Raspberry Pi (modèle, étiquettes, métadonnées,
  script ``classer.py``, README).
"""

from __future__ import annotations

import os
import shutil
import string
import tempfile
from pathlib import Path

import numpy as np

from helpers import __version__
from helpers.base.environment import installed_version
from helpers.base.errors import KitError
from helpers.base.paths import (
    missing_folders,
    relative_to_root,
    remove_empty_folders,
    write_atomically,
)
from helpers.base.units import format_count, format_size, french, json_text
from helpers.core.images import check_labels, check_normalization, read_labels
from helpers.core.inputs import image_input_shape
from helpers.core.runtime import (
    describe_tensor,
    load_interpreter,
    metadata_input_size,
    metadata_path,
    read_metadata,
    read_model_bytes,
    run_model_outputs,
    sha256_hex,
)
from helpers.steps.decoding import DECODER_SOURCE
from helpers.steps.detection import open_detector
from helpers.steps.quantization import MODES

UNKNOWN_MODE = "inconnu"  # a .tflite that arrives without its metadata
BUNDLE_SCRIPT = "classer.py"
DETECTOR_SCRIPT = "detecter.py"  # a detector's bundle: detecter.py, which imports classer.py
BUNDLE_README = "README.md"
BUNDLE_LABELS = "labels.txt"
# The Pi scripts are files shipped as they are, not modules this one imports.
_PI_DIR = Path(__file__).resolve().parents[1] / "pi"
_SCRIPT_SOURCE = _PI_DIR / BUNDLE_SCRIPT
_README_TEMPLATE = _PI_DIR / "bundle_readme.md"
_DETECTOR_SCRIPT_SOURCE = _PI_DIR / DETECTOR_SCRIPT
_DETECTOR_README_TEMPLATE = _PI_DIR / "bundle_readme_detecteur.md"
_COMPUTED_KEYS = (
    "mode",
    "source",
    "input_size",
    "normalization",
    "input_range",
    "inputs",
    "outputs",
    "labels",
    "sha256",
    "size_bytes",
    "versions",
    "created_with",
    "channels",
    "io_type",
    "output_type",
    "calibration",
)


# ---------------------------------------------------------------------------------------------
# Metadata


def _source_name(source) -> str:
    """Un nom de modèle affichable partout : relatif au dépôt, jamais un chemin de la machine."""
    if source is None or str(source).strip() == "":
        raise KitError("Indiquez la source du modèle (le dossier du SavedModel converti).")
    path = Path(source)
    if path.is_absolute() or path.exists():
        return relative_to_root(path)
    return path.as_posix()


def _labels_for_outputs(labels, output_shape) -> list[str] | None:
    """Labels checked against a classifier's output (N, num_labels); None stays None."""
    if labels is None:
        return None
    return check_labels(labels, int(output_shape[-1]) if len(output_shape) == 2 else None)


def check_output_path(output, force: bool = False) -> Path:
    """Vérifie avant tout calcul qu'on pourra écrire ``FILE.tflite`` et ``FILE.json``.

    Extension ``.tflite``, fichiers existants (sauf ``force``), dossier accessible en écriture
    (un dossier manquant sera créé si son parent existant l'est).
    """
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
    for path in (output, metadata_path(output)):
        if path.is_dir():
            raise KitError(f"{path.name} est un dossier : choisissez un autre nom de fichier.")
        if path.exists() and not force:
            raise KitError(
                f"{path.as_posix()} existe déjà : rien n'a été écrit. Pour le remplacer, "
                "ajoutez --force (ligne de commande) ou force=True (Python), ou choisissez un "
                "autre nom."
            )
    missing_folders(output.parent)  # a file in the way, or no write permission
    return output


def build_metadata(
    model_bytes,
    *,
    mode: str,
    source,
    input_size,
    normalization: str,
    labels=None,
    calibration=None,
    extra: dict | None = None,
) -> dict:
    """Métadonnées d'un modèle TFLite, à écrire dans ``FILE.json`` à côté de ``FILE.tflite``.

    Mode, source (nom relatif, jamais un chemin de la machine), taille d'entrée (H, W) et
    normalisation, type, forme, échelle et point zéro des entrées et sorties, étiquettes,
    empreinte SHA-256, taille, versions de TensorFlow et LiteRT. Sans date : les métadonnées d'un
    même modèle sont identiques d'une exécution à l'autre. Ce qui se lit dans le fichier en
    est tiré (canaux de l'entrée, types d'entrée et de sortie d'un int8-full) ; ``calibration``,
    le jeu de données représentatif de la conversion, ajoute son dossier et son nombre
    d'images. Introduit dans le notebook 04.
    """
    content = read_model_bytes(model_bytes)
    if mode not in MODES + (UNKNOWN_MODE,):
        raise KitError(f"Mode inconnu « {mode} » : choisissez parmi {', '.join(MODES)}.")
    low, high = check_normalization(normalization)
    interpreter = load_interpreter(content)
    input_details = interpreter.get_input_details()
    output_details = interpreter.get_output_details()
    outputs_shape = [int(n) for n in output_details[0]["shape"]]
    first_input = input_details[0]
    height, width, channels = image_input_shape(
        first_input["name"], first_input["shape_signature"], input_size=input_size
    )
    metadata = {
        "mode": mode,
        "source": _source_name(source),
        "input_size": [height, width],
        "normalization": normalization,
        "input_range": [low, high],
        "inputs": [describe_tensor(detail) for detail in input_details],
        "outputs": [describe_tensor(detail) for detail in output_details],
        "labels": _labels_for_outputs(labels, outputs_shape),
        "sha256": sha256_hex(content),
        "size_bytes": len(content),
        "versions": {
            "tensorflow": installed_version(("tensorflow", "tensorflow-cpu")),
            "ai_edge_litert": installed_version(("ai-edge-litert",)),
        },
        "created_with": f"helpers {__version__}",
        "channels": channels,
    }
    if mode == "int8-full":
        metadata["io_type"] = np.dtype(first_input["dtype"]).name
        metadata["output_type"] = np.dtype(output_details[0]["dtype"]).name
    if calibration is not None:
        metadata["calibration"] = {
            "images": len(calibration),
            "folder": relative_to_root(calibration.source) if calibration.source else None,
            "skipped": list(calibration.skipped),
        }
    for key, value in (extra or {}).items():
        if key in metadata:
            raise KitError(
                f"La clé « {key} » des métadonnées supplémentaires est déjà calculée par le kit : "
                "choisissez un autre nom."
            )
        metadata[key] = value
    return metadata


def _metadata_text(metadata: dict) -> str:
    try:
        return json_text(metadata, indent=2) + "\n"
    except (TypeError, ValueError) as error:
        raise KitError(
            f"Les métadonnées ne sont pas enregistrables en JSON ({error}) : n'y mettez que des "
            "textes, nombres, listes et dictionnaires."
        ) from error


def write_model(path, model_bytes, metadata: dict | None = None, *, force: bool = False) -> Path:
    """Écrit ``FILE.tflite`` puis ses métadonnées ``FILE.json``, chacun de façon atomique.

    Tout est vérifié avant d'écrire (contenu TFLite, chemin, fichiers existants, JSON). Chaque
    fichier est écrit sous un nom temporaire du même dossier, vidé sur le disque, puis renommé :
    une panne laisse l'ancien fichier intact. Un fichier existant n'est remplacé qu'avec
    ``force=True``. Un dossier manquant est créé (et retiré si l'écriture échoue). Sans
    métadonnées, un ancien ``FILE.json`` (qui décrirait l'ancien modèle) est retiré.
    Introduit dans le notebook 04.
    """
    content = read_model_bytes(model_bytes)
    path = check_output_path(path, force=force)
    json_text = None
    if metadata is not None:
        if metadata.get("sha256") not in (None, sha256_hex(content)):
            raise KitError(
                "Ces métadonnées décrivent un autre modèle (empreinte sha256 différente) : "
                "recalculez-les avec build_metadata sur ce modèle."
            )
        json_text = _metadata_text(metadata)
    created = missing_folders(path.parent)
    try:
        for folder in created:
            folder.mkdir()
        write_atomically(path, content)
    except OSError as error:
        remove_empty_folders(created)
        raise KitError(
            f"Écriture de {path.name} impossible ({error.strerror or error}) : vérifiez la place "
            "libre et les droits du dossier. Le fichier précédent, s'il existait, est intact."
        ) from error
    json_path = metadata_path(path)
    try:
        if json_text is not None:
            write_atomically(json_path, json_text.encode("utf-8"))
        else:
            json_path.unlink(missing_ok=True)  # it would describe the previous model
    except OSError as error:
        raise KitError(
            f"{path.name} est écrit, mais pas ses métadonnées {json_path.name} "
            f"({error.strerror or error}) : l'ancien {json_path.name} ne correspond plus "
            "(empreinte sha256 différente). Libérez de la place, puis réécrivez le modèle "
            "(--force, ou force=True)."
        ) from error
    return path


def remove_model(path) -> list[str]:
    """Supprime ``FILE.tflite`` et ``FILE.json`` s'ils existent ; renvoie les noms retirés.

    Sert à rejouer un notebook depuis le début. Introduit dans le notebook 04.
    """
    path = Path(path)
    if path.suffix.lower() != ".tflite":
        raise KitError(f"{path.name} n'est pas un fichier .tflite : rien n'a été supprimé.")
    removed = []
    for target in (path, metadata_path(path)):
        if target.is_file():
            target.unlink()
            removed.append(target.name)
    return removed


# ---------------------------------------------------------------------------------------------
# Reading back and verifying


def verify_written_model(path, model_bytes=None, images=None, metadata: dict | None = None) -> dict:
    """Relit un ``.tflite`` écrit et le compare à ce qu'il devrait être.

    Vérifie l'empreinte SHA-256 et la taille annoncées par les métadonnées (``metadata`` ou, à
    défaut, ``FILE.json``), l'égalité avec les octets en mémoire (``model_bytes``) et, avec des
    images normalisées (float32), que le fichier donne les mêmes sorties que le modèle en mémoire.
    Renvoie un dictionnaire de résultats (None = vérification non faite) ; ``ok`` les résume.
    Introduit dans le notebook 04.
    """
    path = Path(path)
    content = read_model_bytes(path)
    digest = sha256_hex(content)
    if metadata is None:
        metadata = read_metadata(path)
    report = {
        "file": path.name,
        "size_bytes": len(content),
        "sha256": digest,
        "metadata_sha256_ok": None,
        "metadata_size_ok": None,
        "memory_bytes_ok": None,
        "outputs_ok": None,
        "max_abs_difference": None,
        "num_images": 0,
    }
    if metadata is not None:
        report["metadata_sha256_ok"] = metadata.get("sha256") == digest
        report["metadata_size_ok"] = metadata.get("size_bytes") == len(content)
    if model_bytes is not None:
        in_memory = read_model_bytes(model_bytes)
        report["memory_bytes_ok"] = in_memory == content
    if images is not None:
        if model_bytes is None:
            raise KitError(
                "Pour comparer les sorties, donnez aussi model_bytes (le modèle en mémoire)."
            )
        images = np.asarray(images)
        if images.ndim != 4 or images.dtype != np.float32 or len(images) == 0:
            raise KitError(
                f"Les images doivent être un tableau float32 (N, hauteur, largeur, canaux) déjà "
                f"normalisé ; reçu {images.dtype} de forme {images.shape}."
            )
        # Every output, matched by position: both sides are the same model.
        from_file = run_model_outputs(load_interpreter(content), images)
        from_memory = run_model_outputs(load_interpreter(in_memory), images)
        pairs = list(zip(from_file, from_memory, strict=True))
        report["outputs_ok"] = all(np.array_equal(a, b) for a, b in pairs)
        report["max_abs_difference"] = max(float(np.max(np.abs(a - b))) for a, b in pairs)
        report["num_images"] = len(images)
    checks = [
        report[key]
        for key in ("metadata_sha256_ok", "metadata_size_ok", "memory_bytes_ok", "outputs_ok")
    ]
    report["ok"] = all(check is not False for check in checks)
    return report


def show_verification(report: dict) -> None:
    """Affiche le résultat de ``verify_written_model`` en français, une ligne par vérification.

    Introduit dans le notebook 04.
    """
    marks = {True: "✓", False: "✗"}
    lines = [
        ("metadata_sha256_ok", "empreinte sha256 identique à celle des métadonnées"),
        ("metadata_size_ok", "taille identique à celle des métadonnées"),
        ("memory_bytes_ok", "octets identiques au modèle en mémoire"),
        (
            "outputs_ok",
            f"mêmes sorties que le modèle en mémoire sur {report['num_images']} images",
        ),
    ]
    print(f"{report['file']} ({format_count(report['size_bytes'])} octets)")
    for key, text in lines:
        if report[key] is not None:
            print(f"  {marks[report[key]]} {text}")
    print("  → fichier vérifié" if report["ok"] else "  → ÉCHEC : réécrivez le fichier")


# ---------------------------------------------------------------------------------------------
# The Raspberry Pi bundle


def bundle_file_names(model_name: str, detector: bool = False, decoder: str | None = None):
    """Les fichiers d'un dossier pour la Pi fait par ``make_bundle`` (``detecter.py`` en plus
    pour un détecteur, et le fichier ``decoder`` d'un décodeur ``python``)."""
    stem = Path(model_name).stem
    scripts = [BUNDLE_SCRIPT, DETECTOR_SCRIPT] if detector else [BUNDLE_SCRIPT]
    scripts += [decoder] if decoder else []
    return [f"{stem}.tflite", f"{stem}.json", BUNDLE_LABELS, *scripts, BUNDLE_README]


def _bundle_labels(model_path: Path, labels_file, metadata: dict | None) -> list[str]:
    if labels_file is not None:
        return read_labels(Path(labels_file))
    if metadata and metadata.get("labels"):
        return [str(label) for label in metadata["labels"]]
    beside = model_path.parent / BUNDLE_LABELS
    if beside.is_file():
        return read_labels(beside)
    raise KitError(
        f"Aucune étiquette trouvée pour {model_path.name} : donnez le fichier avec "
        "--labels FICHIER (une étiquette par ligne, dans l'ordre des sorties du modèle), ou "
        f"placez {BUNDLE_LABELS} à côté du modèle."
    )


def _check_bundle_destination(output_dir: Path) -> None:
    if output_dir.exists() and not output_dir.is_dir():
        raise KitError(
            f"{output_dir.name} existe et n'est pas un dossier : choisissez un autre nom avec "
            "--output."
        )
    if output_dir.is_dir() and any(output_dir.iterdir()):
        raise KitError(
            f"Le dossier {output_dir.name} existe déjà et n'est pas vide : rien n'a été écrit. "
            "Choisissez un nouveau dossier avec --output, ou videz/supprimez celui-ci."
        )


def _readme_text(
    model_name: str, bundle_name: str, metadata: dict, labels: list[str], detector: bool = False
) -> str:
    source = _DETECTOR_README_TEMPLATE if detector else _README_TEMPLATE
    template = string.Template(source.read_text(encoding="utf-8"))
    description = metadata.get("detector", {})
    first_input, first_output = metadata["inputs"][0], metadata["outputs"][0]
    low, high = check_normalization(metadata["normalization"])
    height, width = metadata["input_size"]
    assumed = metadata.get("normalization_assumed", False)
    return template.substitute(
        bundle=bundle_name,
        model=model_name,
        metadata=Path(model_name).with_suffix(".json").name,
        mode=metadata["mode"],
        size_kb=format_size(metadata["size_bytes"], digits=0),
        sha256=metadata["sha256"],
        height=height,
        width=width,
        input_dtype=first_input["dtype"],
        output_dtype=first_output["dtype"],
        input_quantization=_quantization_text(first_input),
        output_quantization=_quantization_text(first_output),
        normalization=metadata["normalization"],
        range=f"[{low:g}, {high:g}]",
        normalization_note=(
            " **Supposée** : le modèle est arrivé sans ses métadonnées ; si votre réseau attend "
            "une autre plage, lancez le script avec `--normalisation unit` ou `raw`."
            if assumed
            else ""
        ),
        num_labels=len(labels),
        labels=", ".join(f"`{label}`" for label in labels),
        first_label=labels[0],
        outputs_text=_outputs_text(description),
        score_threshold=description.get("score_threshold", ""),
        iou_threshold=description.get("iou_threshold", ""),
        max_detections=description.get("max_detections", ""),
    )


def _outputs_text(description: dict) -> str:
    """The detector's outputs in the bundle's README, by format."""
    kind = description.get("format")
    if kind == "grille-centres":
        return (
            f"`{description['boxes']}` (la régression brute de chaque case d'une grille, une case "
            f"tous les {description['stride']} pixels) et `{description['scores']}` (la probabilité "
            "de chaque étiquette)"
        )
    if kind == "yolo":
        return (
            f"une sortie YOLO (boîtes `{description['box_format']}` "
            f"{'dans [0, 1]' if description['normalized'] else 'en pixels'}, puis un score par "
            "étiquette)"
        )
    if kind == "boites-scores":
        return (
            f"`{description['boxes']}` (une boîte `{description['box_format']}` par ancre, "
            f"{'dans [0, 1]' if description['normalized'] else 'en pixels'}) et "
            f"`{description['scores']}` (un score par étiquette)"
        )
    if kind == "python":
        return f"décodées par `{description['decoder']}` (fichier à côté de `detecter.py`)"
    return ""


def _quantization_text(description: dict) -> str:
    if description["scale"] == 0.0:
        return "non quantifiée (flottants)"
    return f"échelle {french(description['scale'], '.6g')}, point zéro {description['zero_point']}"


def _bundle_metadata(model_path: Path, content: bytes, labels_file) -> tuple[dict, list[str]]:
    metadata = read_metadata(model_path)
    if metadata is not None and metadata.get("sha256") != sha256_hex(content):
        raise KitError(
            f"{metadata_path(model_path).name} ne décrit pas ce modèle (empreinte sha256 "
            "différente) : réécrivez le modèle avec ses métadonnées, ou supprimez ce .json."
        )
    labels = _bundle_labels(model_path, labels_file, metadata)
    if metadata is None:
        metadata = build_metadata(
            content,
            mode=UNKNOWN_MODE,
            source=model_path.name,
            input_size=None,
            normalization="symmetric",
            labels=labels,
            extra={"normalization_assumed": True},
        )
    else:
        metadata = dict(metadata)
        output_shape = metadata.get("outputs", [{}])[0].get("shape", [])
        metadata["labels"] = _labels_for_outputs(labels, output_shape)
    for key in ("inputs", "outputs", "input_size", "normalization", "size_bytes", "mode"):
        if key not in metadata:
            raise KitError(
                f"{metadata_path(model_path).name} est incomplet (pas de « {key} ») : "
                "réécrivez le modèle avec write_model et build_metadata."
            )
    metadata_input_size(metadata, metadata_path(model_path).name)
    return metadata, labels


def make_bundle(tflite_path, output_dir, labels_file=None, detector=None) -> Path:
    """Crée le dossier à copier sur la Raspberry Pi ; renvoie son chemin.

    Il contient le modèle, ``labels.txt``, les métadonnées (``FILE.json`` à côté du modèle s'il
    existe, sinon calculées, normalisation supposée symmetric), le script autonome
    ``classer.py`` et un README d'installation. Étiquettes : ``labels_file``, sinon celles des
    métadonnées, sinon ``labels.txt`` à côté du modèle. ``detector`` (un ``detecteur.json``)
    remplace la description de ``FILE.json`` ; un détecteur est vérifié contre son modèle, et
    un décodeur ``python`` est écrit à côté de ``detecter.py``. Le dossier doit être neuf ou vide ; il
    est construit à côté sous un nom temporaire puis renommé : en cas d'erreur, rien n'est créé.
    Introduit dans le notebook 04.
    """
    model_path = Path(tflite_path)
    content = read_model_bytes(model_path)
    output_dir = Path(output_dir)
    metadata, labels = _bundle_metadata(model_path, content, labels_file)
    decoder_file = None
    if detector is not None or "detector" in metadata:
        checked = open_detector(
            content,
            detector or metadata["detector"],
            labels,
            None,
            metadata["normalization"],
            metadata_input_size(metadata),
        ).description
        metadata["detector"] = checked
        if checked["format"] == "python":
            decoder_file = checked["decoder"].rpartition(":")[0]
    _check_bundle_destination(output_dir)
    # The script looks for the one *.tflite beside it, whatever the original extension was.
    model_name, metadata_name, *_ = bundle_file_names(model_path.name)
    is_detector = "detector" in metadata
    readme = _readme_text(model_name, output_dir.name, metadata, labels, is_detector)
    files = {
        model_name: content,
        metadata_name: _metadata_text(metadata).encode("utf-8"),
        BUNDLE_LABELS: ("\n".join(labels) + "\n").encode("utf-8"),
        BUNDLE_SCRIPT: _SCRIPT_SOURCE.read_bytes(),
        BUNDLE_README: readme.encode("utf-8"),
    }
    if is_detector:
        files[DETECTOR_SCRIPT] = _DETECTOR_SCRIPT_SOURCE.read_bytes()
    if decoder_file is not None:
        files[decoder_file] = metadata["detector"][DECODER_SOURCE].encode("utf-8")

    created_parents = missing_folders(output_dir.parent)
    temporary, emptied = None, False
    try:
        for parent in created_parents:
            parent.mkdir()
        temporary = Path(
            tempfile.mkdtemp(dir=output_dir.parent, prefix=f".{output_dir.name}.", suffix=".tmp")
        )
        for name, data in files.items():
            (temporary / name).write_bytes(data)
        for script in (BUNDLE_SCRIPT, DETECTOR_SCRIPT):
            if (temporary / script).exists():
                os.chmod(temporary / script, 0o755)
        os.chmod(temporary, 0o755)  # mkdtemp creates 0700; the folder is meant to be copied
        if output_dir.is_dir():
            output_dir.rmdir()  # empty (checked above); a rename cannot replace it everywhere
            emptied = True
        os.rename(temporary, output_dir)
        temporary = None
    except OSError as error:
        raise KitError(
            f"Impossible de créer {output_dir.name} ({error.strerror or error}) : vérifiez la "
            "place libre et les droits du dossier. Rien n'a été créé."
        ) from error
    finally:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)
            if emptied:
                output_dir.mkdir(exist_ok=True)  # the empty folder given was there before
        if not output_dir.is_dir():
            remove_empty_folders(created_parents)
    return output_dir


def _bundled_decoder(output_dir: Path, model_name: str) -> str | None:
    """The python decoder file a bundle's FILE.json names, if any."""
    try:
        metadata = read_metadata(output_dir / model_name) or {}
    except KitError:
        return None
    description = metadata.get("detector")
    if isinstance(description, dict) and isinstance(description.get("decoder"), str):
        return description["decoder"].rpartition(":")[0] or None
    return None


def remove_bundle(output_dir) -> bool:
    """Supprime un dossier fait par ``make_bundle`` (et rien d'autre) ; vrai s'il existait.

    Refuse un dossier qui contient d'autres fichiers que ceux d'un dossier pour la Pi, pour ne
    jamais effacer un dossier personnel par erreur. Introduit dans le notebook 04.
    """
    output_dir = Path(output_dir)
    if not output_dir.exists():
        return False
    if not output_dir.is_dir():
        raise KitError(f"{output_dir.name} n'est pas un dossier : rien n'a été supprimé.")
    names = {p.name for p in output_dir.iterdir()} - {"__pycache__"}
    models = [name for name in names if name.endswith(".tflite")]
    # Exactly a bundle's files: an export folder (model + .json only) is never removed here.
    variants = (
        [
            set(bundle_file_names(models[0], d, _bundled_decoder(output_dir, models[0])))
            for d in (False, True)
        ]
        if len(models) == 1
        else []
    )
    if names and names not in variants:
        raise KitError(
            f"{output_dir.name} ne ressemble pas à un dossier fait par « bundle » (il contient "
            f"{', '.join(sorted(names))}) : supprimez-le vous-même si vous en êtes sûr."
        )
    shutil.rmtree(output_dir)
    return True
