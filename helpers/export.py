"""Écrire un modèle ``.tflite`` sans risque, le relire, le vérifier, préparer le dossier de la Pi.

- ``build_metadata`` : ce qu'il faut savoir pour réutiliser le fichier (mode, source, taille et
  normalisation des entrées, paramètres de quantification, étiquettes, empreinte, versions) ;
- ``write_model`` : écriture atomique (fichier temporaire dans le même dossier, vidé sur le
  disque, puis renommé) du ``.tflite`` et de son ``.json`` : les deux fichiers ou aucun ;
- ``verify_written_model`` : relecture, empreinte, taille, mêmes sorties que le modèle en mémoire ;
- ``make_bundle`` et la commande ``python -m helpers bundle`` : le dossier à copier sur la
  Raspberry Pi (modèle, étiquettes, métadonnées, script ``classer.py``, README).

Introduit dans le notebook 04.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import string
import sys
import tempfile
from pathlib import Path

import numpy as np

from helpers.errors import KitError
from helpers.images import check_normalization
from helpers.paths import relative_to_root
from helpers.runtime import (
    describe_tensor,
    load_interpreter,
    read_model_bytes,
    run_model_outputs,
)
from helpers.units import format_size

UNKNOWN_MODE = "inconnu"  # a .tflite that arrives without its metadata
BUNDLE_SCRIPT = "classer.py"
BUNDLE_README = "README.md"
BUNDLE_LABELS = "labels.txt"
_PACKAGE_DIR = Path(__file__).resolve().parent
_SCRIPT_SOURCE = _PACKAGE_DIR / "pi_classifier.py"
_README_TEMPLATE = _PACKAGE_DIR / "bundle_readme.md"
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
)


# ---------------------------------------------------------------------------------------------
# Metadata


def sha256_hex(content: bytes) -> str:
    """Empreinte SHA-256 (hexadécimale) d'un contenu : deux fichiers identiques ont la même.

    Introduit dans le notebook 04.
    """
    return hashlib.sha256(content).hexdigest()


def metadata_path(model_path) -> Path:
    """Le fichier de métadonnées d'un modèle : ``FILE.json`` à côté de ``FILE.tflite``.

    Introduit dans le notebook 04.
    """
    return Path(model_path).with_suffix(".json")


def _source_name(source) -> str:
    """Un nom de modèle affichable partout : relatif au dépôt, jamais un chemin de la machine."""
    if source is None or str(source).strip() == "":
        raise KitError("Indiquez la source du modèle (le dossier du SavedModel converti).")
    path = Path(source)
    if path.is_absolute() or path.exists():
        return relative_to_root(path)
    return path.as_posix()


def _check_input_size(input_size, input_detail: dict) -> list[int]:
    """(hauteur, largeur) des images : celles, fixes, du modèle, sinon ``input_size``."""
    shape = [int(n) for n in input_detail.get("shape_signature", input_detail["shape"])]
    image = len(shape) == 4
    free = image and (shape[1] < 1 or shape[2] < 1)
    if input_size is None:
        if not image:
            raise KitError(
                f"L'entrée du modèle a la forme {shape} : donnez input_size=(hauteur, largeur)."
            )
        if free:
            raise KitError(
                f"L'entrée « {input_detail['name']} » a une taille libre ({shape}, -1 = libre) : "
                "rien ne dit à quelle taille donner les images. Quantifiez le modèle à une "
                "taille fixe (--input-size HxW, ou input_size=(hauteur, largeur) de convert) "
                "pour que le fichier l'ait en lui ; à défaut, donnez input_size=(hauteur, "
                "largeur), celle des images qu'il verra."
            )
        return shape[1:3]
    try:
        height, width = (int(n) for n in input_size)
    except (TypeError, ValueError):
        raise KitError(
            f"Taille d'entrée illisible : {input_size!r}. Donnez (hauteur, largeur), par exemple "
            "(64, 64)."
        ) from None
    if height <= 0 or width <= 0:
        raise KitError(f"Taille d'entrée {input_size!r} : les dimensions doivent être positives.")
    if image and not free and [height, width] != shape[1:3]:
        raise KitError(
            f"Taille d'entrée {height}×{width} donnée, mais le modèle a une entrée fixe "
            f"{shape[1]}×{shape[2]} : donnez input_size=None (lue dans le modèle) ou "
            f"({shape[1]}, {shape[2]})."
        )
    return [height, width]


def _check_labels(labels, num_outputs: int | None) -> list[str] | None:
    if labels is None:
        return None
    labels = [str(label) for label in labels]
    if num_outputs is not None and len(labels) != num_outputs:
        raise KitError(
            f"Le modèle a {num_outputs} sorties mais {len(labels)} étiquettes ont été données : "
            "utilisez le fichier d'étiquettes de ce modèle (une par ligne, dans l'ordre des sorties)."
        )
    return labels


def build_metadata(
    model_bytes,
    *,
    mode: str,
    source,
    input_size,
    normalization: str,
    labels=None,
    extra: dict | None = None,
) -> dict:
    """Métadonnées d'un modèle TFLite, à écrire dans ``FILE.json`` à côté de ``FILE.tflite``.

    Mode, source (nom relatif, jamais un chemin de la machine), taille d'entrée (H, W) et
    normalisation, type, forme, échelle et point zéro des entrées et sorties, étiquettes,
    empreinte SHA-256, taille, versions de TensorFlow et LiteRT. Sans date : les métadonnées d'un
    même modèle sont identiques d'une exécution à l'autre. Introduit dans le notebook 04.
    """
    import helpers
    from helpers.environment import installed_version
    from helpers.quantization import MODES  # imported here: quantization imports this module

    content = read_model_bytes(model_bytes)
    if mode not in MODES + (UNKNOWN_MODE,):
        raise KitError(f"Mode inconnu « {mode} » : choisissez parmi {', '.join(MODES)}.")
    low, high = check_normalization(normalization)
    interpreter = load_interpreter(content)
    input_details = interpreter.get_input_details()
    output_details = interpreter.get_output_details()
    outputs_shape = [int(n) for n in output_details[0]["shape"]]
    metadata = {
        "mode": mode,
        "source": _source_name(source),
        "input_size": _check_input_size(input_size, input_details[0]),
        "normalization": normalization,
        "input_range": [low, high],
        "inputs": [describe_tensor(detail) for detail in input_details],
        "outputs": [describe_tensor(detail) for detail in output_details],
        "labels": _check_labels(labels, outputs_shape[-1] if len(outputs_shape) == 2 else None),
        "sha256": sha256_hex(content),
        "size_bytes": len(content),
        "versions": {
            "tensorflow": installed_version(("tensorflow", "tensorflow-cpu")),
            "ai_edge_litert": installed_version(("ai-edge-litert",)),
        },
        "created_with": f"helpers {helpers.__version__}",
    }
    for key, value in (extra or {}).items():
        if key in metadata:
            raise KitError(
                f"La clé « {key} » des métadonnées supplémentaires est déjà calculée par le kit : "
                "choisissez un autre nom."
            )
        metadata[key] = value
    return metadata


def read_metadata(model_path) -> dict | None:
    """Les métadonnées ``FILE.json`` d'un modèle, ou None s'il n'y en a pas.

    Introduit dans le notebook 04.
    """
    path = metadata_path(model_path)
    if not path.is_file():
        return None
    try:
        metadata = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise KitError(
            f"Métadonnées illisibles : {path.name} ({error.__class__.__name__}). Supprimez ce "
            "fichier ou réécrivez le modèle avec ses métadonnées."
        ) from error
    if not isinstance(metadata, dict):
        raise KitError(
            f"Métadonnées illisibles : {path.name} contient {_json_kind(metadata)}, pas un objet "
            "JSON {...} avec des clés. Supprimez ce fichier ou réécrivez le modèle avec ses "
            "métadonnées."
        )
    return metadata


def _json_kind(value) -> str:
    kinds = {list: "une liste", str: "un texte", bool: "un booléen", type(None): "null"}
    return kinds.get(type(value), "un nombre")


def _metadata_text(metadata: dict) -> str:
    try:
        return json.dumps(metadata, ensure_ascii=False, indent=2, allow_nan=False) + "\n"
    except (TypeError, ValueError) as error:
        raise KitError(
            f"Les métadonnées ne sont pas enregistrables en JSON ({error}) : n'y mettez que des "
            "textes, nombres, listes et dictionnaires."
        ) from error


# ---------------------------------------------------------------------------------------------
# Atomic writing


def missing_folders(folder) -> list[Path]:
    """Les dossiers à créer pour que ``folder`` existe, du plus haut au plus profond.

    Vérifie que le plus proche dossier existant en est bien un et qu'on peut y écrire.
    Introduit dans le notebook 04.
    """
    folder = Path(folder)
    missing = []
    existing = folder
    while not existing.exists():
        missing.append(existing)
        if existing.parent == existing:
            break
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        raise KitError(
            f"{existing.name} est un fichier, pas un dossier : impossible d'écrire dans "
            f"{folder.as_posix()}. Choisissez un autre chemin."
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise KitError(
            f"Le dossier {existing.name or existing.as_posix()} est protégé en écriture : "
            "choisissez un dossier à vous (par exemple sorties/) ou changez ses droits."
        )
    return list(reversed(missing))


def _remove_empty_folders(folders: list[Path]) -> None:
    for folder in reversed(folders):
        try:
            folder.rmdir()
        except OSError:
            break


def _write_temporary(folder: Path, final_name: str, content: bytes) -> Path:
    """Écrit ``content`` dans un fichier temporaire du même dossier, vidé sur le disque."""
    descriptor, name = tempfile.mkstemp(dir=folder, prefix=f".{final_name}.", suffix=".tmp")
    temporary = Path(name)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())  # the bytes are on disk before the rename makes them visible
        os.chmod(temporary, 0o644)  # mkstemp creates 0600; a model is an ordinary file
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def _backup(final: Path) -> Path:
    """Un second nom pour le fichier existant (lien physique, sinon copie) : de quoi le remettre."""
    while True:
        backup = final.with_name(f".{final.name}.{secrets.token_hex(4)}.bak")
        try:
            os.link(final, backup)
            return backup
        except FileExistsError:
            continue
        except OSError:  # file systems without hard links (FAT, some network shares)
            shutil.copy2(final, backup)
            return backup


def _sync_folder(folder: Path) -> None:
    """Rend le renommage durable (POSIX) ; sans effet là où un dossier ne s'ouvre pas (Windows)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def _commit(folder: Path, operations: list[tuple[Path, bytes | None]]) -> None:
    """Remplace (contenu) ou supprime (None) chaque fichier : tout, ou rien en cas d'échec."""
    temporaries: dict[Path, Path] = {}
    backups: dict[Path, Path] = {}
    committed: list[Path] = []
    try:
        for final, content in operations:
            if content is not None:
                temporaries[final] = _write_temporary(folder, final.name, content)
        for final, _ in operations:
            if final.exists():
                backups[final] = _backup(final)
        for final, content in operations:
            if content is None:
                if final.exists():
                    final.unlink()
            else:
                os.replace(temporaries[final], final)
                del temporaries[final]
            committed.append(final)
        _sync_folder(folder)
    except BaseException:
        # Put back what was there before, newest change first.
        for final in reversed(committed):
            try:
                if final in backups:
                    os.replace(backups[final], final)
                    del backups[final]
                else:
                    final.unlink(missing_ok=True)
            except OSError:
                backups.pop(final, None)  # keep the copy of the previous file rather than lose it
        raise
    finally:
        for leftover in list(temporaries.values()) + list(backups.values()):
            leftover.unlink(missing_ok=True)


def write_model(path, model_bytes, metadata: dict | None = None, *, force: bool = False) -> Path:
    """Écrit ``FILE.tflite`` et ses métadonnées ``FILE.json`` de façon atomique ; renvoie le chemin.

    Tout est vérifié avant d'écrire (contenu TFLite, dossier, fichiers existants, JSON) ; chaque
    fichier est d'abord écrit sous un nom temporaire du même dossier, vidé sur le disque
    (``fsync``), puis renommé (``os.replace``). En cas d'échec, les fichiers précédents sont
    intacts et aucun fichier partiel ne reste. Un fichier existant n'est remplacé qu'avec
    ``force=True``. Un dossier manquant est créé (et retiré si l'écriture échoue). Sans
    métadonnées, un ancien ``FILE.json`` (qui décrirait l'ancien modèle) est retiré.
    Introduit dans le notebook 04.
    """
    content = read_model_bytes(model_bytes)
    path = Path(path)
    if path.suffix.lower() != ".tflite":
        raise KitError(
            f"Le nom du fichier doit finir par .tflite (reçu : {path.name}) : par exemple "
            f"{path.stem or 'modele'}.tflite."
        )
    json_path = metadata_path(path)
    json_text = None
    if metadata is not None:
        if metadata.get("sha256") not in (None, sha256_hex(content)):
            raise KitError(
                "Ces métadonnées décrivent un autre modèle (empreinte sha256 différente) : "
                "recalculez-les avec build_metadata sur ce modèle."
            )
        json_text = _metadata_text(metadata)
    created = missing_folders(path.parent)  # a missing folder is created, then removed on failure
    for target in (path, json_path):
        if target.is_dir():
            raise KitError(f"{target.name} est un dossier : choisissez un autre nom de fichier.")
        if target.exists() and not force:
            raise KitError(
                f"Le fichier {target.name} existe déjà : rien n'a été écrit. Pour le remplacer, "
                "ajoutez --force (ligne de commande) ou force=True (Python), ou choisissez un "
                "autre nom."
            )
    operations = [(path, content)]
    if json_text is not None:
        operations.append((json_path, json_text.encode("utf-8")))
    elif json_path.exists():
        operations.append((json_path, None))
    written = False
    try:
        for folder in created:
            folder.mkdir()
        _commit(path.parent, operations)
        written = True
    except OSError as error:
        raise KitError(
            f"Écriture de {path.name} impossible ({error.strerror or error}) : vérifiez la place "
            "libre et les droits du dossier. Le fichier précédent, s'il existait, est intact."
        ) from error
    finally:
        if not written:
            _remove_empty_folders(created)
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
    print(f"{report['file']} ({report['size_bytes']:,} octets)".replace(",", " "))
    for key, text in lines:
        if report[key] is not None:
            print(f"  {marks[report[key]]} {text}")
    print("  → fichier vérifié" if report["ok"] else "  → ÉCHEC : réécrivez le fichier")


# ---------------------------------------------------------------------------------------------
# The Raspberry Pi bundle


def bundle_file_names(model_name: str) -> list[str]:
    """Les fichiers d'un dossier pour la Pi fait par ``make_bundle``.

    Introduit dans le notebook 04.
    """
    stem = Path(model_name).stem
    return [f"{stem}.tflite", f"{stem}.json", BUNDLE_LABELS, BUNDLE_SCRIPT, BUNDLE_README]


def _bundle_labels(model_path: Path, labels_file, metadata: dict | None) -> list[str]:
    from helpers.demo_data import read_labels

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


def _readme_text(model_name: str, bundle_name: str, metadata: dict, labels: list[str]) -> str:
    template = string.Template(_README_TEMPLATE.read_text(encoding="utf-8"))
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
    )


def _quantization_text(description: dict) -> str:
    if description["scale"] == 0.0:
        return "non quantifiée (flottants)"
    return f"échelle {description['scale']:.6g}, point zéro {description['zero_point']}"


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
        metadata["labels"] = _check_labels(
            labels, output_shape[-1] if len(output_shape) == 2 else None
        )
    for key in ("inputs", "outputs", "input_size", "normalization", "size_bytes", "mode"):
        if key not in metadata:
            raise KitError(
                f"{metadata_path(model_path).name} est incomplet (pas de « {key} ») : "
                "réécrivez le modèle avec write_model et build_metadata."
            )
    size = metadata["input_size"]
    if not (
        isinstance(size, list) and len(size) == 2 and all(type(n) is int and n > 0 for n in size)
    ):
        raise KitError(
            f"{metadata_path(model_path).name} : « input_size » vaut {size!r}, il faut [hauteur, "
            "largeur] en pixels. Réécrivez le modèle avec ses métadonnées (build_metadata, ou "
            "« python -m helpers quantize » avec --input-size HxW)."
        )
    return metadata, labels


def make_bundle(tflite_path, output_dir, labels_file=None) -> Path:
    """Crée le dossier à copier sur la Raspberry Pi ; renvoie son chemin.

    Il contient le modèle, ``labels.txt``, les métadonnées (``FILE.json`` à côté du modèle s'il
    existe, sinon calculées, normalisation supposée symmetric), le script autonome
    ``classer.py`` et un README d'installation. Étiquettes : ``labels_file``, sinon celles des
    métadonnées, sinon ``labels.txt`` à côté du modèle. Le dossier doit être neuf ou vide ; il
    est construit à côté sous un nom temporaire puis renommé : en cas d'erreur, rien n'est créé.
    Introduit dans le notebook 04.
    """
    model_path = Path(tflite_path)
    content = read_model_bytes(model_path)
    output_dir = Path(output_dir)
    metadata, labels = _bundle_metadata(model_path, content, labels_file)
    _check_bundle_destination(output_dir)
    # The script looks for the one *.tflite beside it, whatever the original extension was.
    model_name, metadata_name, *_ = bundle_file_names(model_path.name)
    readme = _readme_text(model_name, output_dir.name, metadata, labels)
    files = {
        model_name: content,
        metadata_name: _metadata_text(metadata).encode("utf-8"),
        BUNDLE_LABELS: ("\n".join(labels) + "\n").encode("utf-8"),
        BUNDLE_SCRIPT: _SCRIPT_SOURCE.read_bytes(),
        BUNDLE_README: readme.encode("utf-8"),
    }

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
        os.chmod(temporary / BUNDLE_SCRIPT, 0o755)
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
            _remove_empty_folders(created_parents)
    return output_dir


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
    expected = set(bundle_file_names(models[0])) if len(models) == 1 else set()
    if names and names != expected:
        raise KitError(
            f"{output_dir.name} ne ressemble pas à un dossier fait par « bundle » (il contient "
            f"{', '.join(sorted(names))}) : supprimez-le vous-même si vous en êtes sûr."
        )
    shutil.rmtree(output_dir)
    return True


def bundle_command(args) -> int:
    """La commande ``python -m helpers bundle FILE.tflite --output DIR [--labels FILE]``.

    Introduit dans le notebook 04.
    """
    model_path = Path(args.tflite_file)
    assumed = model_path.is_file() and read_metadata(model_path) is None
    output_dir = make_bundle(model_path, args.output, args.labels)
    if assumed:
        print(
            f"Attention : {metadata_path(model_path).name} est absent ; normalisation supposée "
            "symmetric ([-1, 1]). Si le réseau attend une autre plage, lancez classer.py avec "
            "--normalisation.",
            file=sys.stderr,
        )
    total = sum(p.stat().st_size for p in output_dir.iterdir())
    print(f"Dossier prêt : {output_dir.name}/ ({format_size(total, digits=0)})")
    for name in sorted(p.name for p in output_dir.iterdir()):
        print(f"  {name}")
    print(
        f"Copiez-le sur la Raspberry Pi : scp -r {output_dir.name} pi@raspberrypi.local:~/ "
        f"puis suivez {output_dir.name}/{BUNDLE_README}."
    )
    return 0
