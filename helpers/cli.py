"""La ligne de commande du cours : ``python -m helpers <commande>``, et le corps de chaque commande.

Toute mauvaise entrée donne une première ligne ``Erreur : ...`` sur la sortie d'erreur, le code
de sortie 2, aucune trace Python, et rien d'écrit.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from helpers.base.environment import check_environment, describe_machine
from helpers.base.errors import KitError, quiet_tensorflow
from helpers.base.units import format_percent, format_size, json_text
from helpers.core.images import NORMALIZATIONS, read_labels
from helpers.core.inputs import check_size
from helpers.core.runtime import (
    metadata_path,
    read_metadata,
)
from helpers.demo.classroom import course_notebooks, execute_notebooks, set_jupyterlab_french
from helpers.demo.detector import train_demo_detector
from helpers.demo.fragile import train_fragile_model
from helpers.demo.model import train_demo_model
from helpers.pi.classer import EXIT_USAGE, FrenchArgumentParser
from helpers.steps.calibration import DEFAULT_MIN_IMAGES
from helpers.steps.debugging import (
    format_debug_table,
    short_name,
)
from helpers.steps.detection import evaluate_detector
from helpers.steps.export import (
    BUNDLE_README,
    BUNDLE_SCRIPT,
    DETECTOR_SCRIPT,
    make_bundle,
)
from helpers.steps.inspection import (
    DEFAULT_COMPARED_IMAGES,
    compare_with_float,
    confusion_matrix,
    evaluate_model,
    format_float_comparison,
    format_report,
    inspect_model,
)
from helpers.steps.pipeline import QuantizeSettings, debug_model, quantize_to_file
from helpers.steps.quantization import (
    IO_TYPES,
    MODES,
    OUTPUT_TYPES,
)
from helpers.steps.quantizer_engine import (
    ENGINES,
    SNR_SAMPLES,
)


def _shown(path: str) -> str:
    """A path as the user typed it if relative, else only its name (no machine path)."""
    return path if not Path(path).is_absolute() else Path(path).name


# ---------------------------------------------------------------------------------------------
# Commands of the course's steps


def quantize_command(args) -> int:
    """``python -m helpers quantize`` : le chemin de ``steps.pipeline``, ses remarques sur la
    sortie d'erreur."""
    settings = QuantizeSettings(
        mode=args.mode,
        io_type=args.io_type,
        output_type=args.output_type,
        normalization=args.normalization,
        input_size=args.input_size,
        num_samples=args.num_samples,
        min_images=args.min_images,
        keep_float=tuple(args.keep_float or ()),
        engine=args.engine,
        detector=args.detector,
        labels=args.labels,
    )
    result, written = quantize_to_file(
        args.model_dir, args.output, settings, args.images, force=args.force, progress=True
    )
    for note in result.notes:
        print(note, file=sys.stderr)
    report = result.report
    print(
        f"{written.name} écrit ({format_size(report.size_bytes)}, mode {args.mode}, entrée "
        f"{report.input_dtype}, sortie {report.output_dtype}) ; métadonnées dans "
        f"{metadata_path(written).name}."
    )
    if result.kept:
        kept = ", ".join(short_name(name) for name in result.kept)
        print(f"Gardés en flottant ({len(result.kept)}) : {kept}")
    return 0


def debug_command(args) -> int:
    """``python -m helpers debug MODEL_DIR --images DIR [--json]`` : rmse/échelle par couche."""
    result, dataset, notes = debug_model(
        args.model_dir,
        args.images,
        args.normalization,
        args.input_size,
        args.num_samples,
        args.min_images,
        progress=True,
    )
    for note in notes:
        print(note, file=sys.stderr)
    if args.json:
        print(json_text(result))
    else:
        print(
            f"Débogueur de quantification (mode int8) : {_shown(args.model_dir)}, "
            f"{len(dataset)} images de {_shown(args.images)} ; SNR mesuré sur "
            f"{min(SNR_SAMPLES, len(dataset))} d'entre elles"
        )
        print(format_debug_table(result))
    return 0


def inspect_command(args) -> int:
    """``python -m helpers inspect FILE.tflite [--json]``."""
    report = inspect_model(args.tflite_file)
    if args.json:
        print(json_text(report))
    else:
        print(format_report(report, title=f"Modèle {_shown(args.tflite_file)}"))
    return 0


def evaluate_command(args) -> int:
    """``python -m helpers evaluate FILE.tflite --images DIR [--annotations COCO.json]
    [--normalization N] [--input-size HxW] [--json]``."""
    if args.annotations:
        return _evaluate_detector(args)
    result = evaluate_model(
        args.tflite_file,
        args.images,
        normalization=args.normalization,
        progress=sys.stderr.isatty(),
        input_size=args.input_size,
    )
    if args.json:
        print(json_text({"accuracy": result["accuracy"], "count": result["count"]}))
        return 0
    correct = round(result["accuracy"] * result["count"])
    print(
        f"Exactitude : {format_percent(result['accuracy'])} ({correct} / {result['count']} images "
        f"de {_shown(args.images)})"
    )
    matrix = confusion_matrix(result["targets"], result["predictions"], len(result["labels"]))
    per_label = [
        f"{label} {format_percent(matrix[i, i] / matrix[i].sum(), 1)}"
        for i, label in enumerate(result["labels"])
        if matrix[i].sum()
    ]
    print(f"Par étiquette : {', '.join(per_label)}")
    print(f"Normalisation des images : {result['normalization']}")
    return 0


def compare_command(args) -> int:
    """``python -m helpers compare MODEL_DIR FILE.tflite --images DIR [--json]``."""
    result = compare_with_float(
        args.model_dir,
        args.tflite_file,
        args.images,
        normalization=args.normalization,
        input_size=args.input_size,
        num_samples=args.num_samples,
        progress=sys.stderr.isatty(),
        detector=args.detector,
        channel_axis=args.channel_axis,
    )
    if args.json:
        keys = ("name", "shape", "float_min", "float_max", "scale", "zero_point", "snr_db")
        keys += ("cosine", "max_abs_error", "top1_agreement", "ok", "verdict")
        outputs = [{key: entry[key] for key in keys} for entry in result["outputs"]]
        print(json_text({"count": result["count"], "outputs": outputs}))
    else:
        print(f"{_shown(args.tflite_file)} comparé à {_shown(args.model_dir)}")
        print(format_float_comparison(result))
    return 0


def _evaluate_detector(args) -> int:
    result = evaluate_detector(
        args.tflite_file,
        args.images,
        args.annotations,
        normalization=args.normalization,
        input_size=args.input_size,
        progress=sys.stderr.isatty(),
        detector=args.detector,
        labels=read_labels(Path(args.labels)) if args.labels else None,
    )
    if args.json:
        print(json_text(result))
        return 0
    print(
        f"mAP@0,5 : {format_percent(result['map50'], 1)} ; mAP@[0,5:0,95] : "
        f"{format_percent(result['map50_95'], 1)} ({result['count']} images de {_shown(args.images)}, "
        "pycocotools)"
    )
    return 0


def bundle_command(args) -> int:
    """``python -m helpers bundle FILE.tflite --output DIR [--labels FILE]``."""
    model_path = Path(args.tflite_file)
    assumed = model_path.is_file() and read_metadata(model_path) is None
    output_dir = make_bundle(model_path, args.output, args.labels, args.detector)
    if assumed:
        print(
            f"Attention : {metadata_path(model_path).name} est absent ; normalisation supposée "
            f"symmetric ([-1, 1]). Si le réseau attend une autre plage, lancez "
            f"{BUNDLE_SCRIPT} avec --normalisation.",
            file=sys.stderr,
        )
    total = sum(p.stat().st_size for p in output_dir.iterdir())
    print(f"Dossier prêt : {output_dir.name}/ ({format_size(total, digits=0)})")
    if (output_dir / DETECTOR_SCRIPT).exists():
        print(
            f"  (un détecteur : lancez {DETECTOR_SCRIPT} ; {BUNDLE_SCRIPT} fournit ses fonctions)"
        )
    for name in sorted(p.name for p in output_dir.iterdir()):
        print(f"  {name}")
    print(
        f"Copiez-le sur la Raspberry Pi : scp -r {output_dir.name} pi@raspberrypi.local:~/ "
        f"puis suivez {output_dir.name}/{BUNDLE_README}."
    )
    return 0


# ---------------------------------------------------------------------------------------------
# Teacher's and installation commands


def check_command(args) -> int:
    for check in check_environment():
        print(f"  ✓ {check.name:<24} {check.found}")
    print(f"Environnement prêt ({describe_machine()}).")
    return 0


def demo_fragile_command(args) -> int:
    train_fragile_model(verbose=1 if sys.stderr.isatty() else 2)
    return 0


def demo_model_command(args) -> int:
    train_demo_model(verbose=1 if sys.stderr.isatty() else 2)
    return 0


def demo_detector_command(args) -> int:
    train_demo_detector(verbose=1 if sys.stderr.isatty() else 2)
    return 0


def execute_notebooks_command(args) -> int:
    execute_notebooks(args.notebooks or course_notebooks())
    return 0


def french_interface_command(args) -> int:
    set_jupyterlab_french()
    print("JupyterLab s'ouvrira en français.")
    return 0


# ---------------------------------------------------------------------------------------------
# The parser


def _size(text: str) -> tuple[int, int]:
    """« 640x640 » -> (640, 640)."""
    try:
        height, width = (int(part) for part in text.lower().replace("×", "x").split("x"))
        return check_size((height, width))
    except (ValueError, KitError):
        raise argparse.ArgumentTypeError(
            f"taille « {text} » illisible : écrivez HAUTEURxLARGEUR en pixels positifs, par "
            "exemple 640x640"
        ) from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"« {text} » n'est pas un nombre entier") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"« {text} » : un entier positif est attendu")
    return value


def _add_normalization(parser, default: str | None, default_text: str) -> None:
    low_high = " | ".join(f"[{low:g},{high:g}]" for low, high in NORMALIZATIONS.values())
    parser.add_argument(
        "--normalization",
        choices=list(NORMALIZATIONS),
        default=default,
        help=f"plage des entrées : {low_high} (défaut : {default_text})",
    )


def _add_calibration_counts(parser) -> None:
    """--num-samples and --min-images, the same for every command that calibrates."""
    parser.add_argument(
        "--num-samples",
        type=_positive,
        metavar="N",
        help="images d'étalonnage utilisées (défaut : toutes, au plus 500)",
    )
    parser.add_argument(
        "--min-images",
        type=_positive,
        default=DEFAULT_MIN_IMAGES,
        metavar="N",
        help=f"nombre minimal d'images d'étalonnage (défaut : {DEFAULT_MIN_IMAGES})",
    )


def _add_input_size(parser, help_text: str) -> None:
    parser.add_argument("--input-size", type=_size, metavar="HxW", help=help_text)


def _add_detector(parser, default_text: str = "MODEL_DIR/detecteur.json") -> None:
    parser.add_argument(
        "--detector",
        metavar="D.json",
        help=f"description du détecteur (format, sorties, seuils ; voir le README) ; "
        f"défaut : {default_text}",
    )


def _quantize_parser(commands) -> None:
    quantize = commands.add_parser(
        "quantize",
        prog="python -m helpers quantize",
        help="convertit un SavedModel en .tflite quantifié (avec étalonnage)",
        description="Convertit MODEL_DIR (SavedModel) en FILE.tflite dans le mode choisi et écrit "
        "FILE.json (métadonnées) à côté.",
    )
    quantize.add_argument("model_dir", metavar="MODEL_DIR", help="dossier du SavedModel")
    quantize.add_argument(
        "--images",
        metavar="DIR",
        help="dossier des images d'étalonnage (obligatoire pour int8, int8-full et int16x8)",
    )
    quantize.add_argument(
        "--mode",
        required=True,
        choices=MODES,
        help="float32 | dynamic | float16 | int8 (entrées/sorties flottantes, "
        "comme la capsule) | int8-full (entier seulement, Edge TPU) | int16x8 (activations "
        "en int16, processeur seulement)",
    )
    quantize.add_argument("--output", required=True, metavar="FILE.tflite", help="fichier à écrire")
    quantize.add_argument(
        "--io-type",
        choices=IO_TYPES,
        # None, not "int8": the command must tell "not given" from "given for another mode".
        default=None,
        help="type des entrées/sorties en int8-full (défaut : int8)",
    )
    quantize.add_argument(
        "--output-type",
        choices=OUTPUT_TYPES,
        default=None,
        help="int8-full seulement : sortie float32 (calcul entier, une conversion à la fin ; "
        "pour une tête de détecteur)",
    )
    _add_normalization(quantize, "symmetric", "symmetric")
    _add_input_size(quantize, "taille d'entrée, seulement si celle du modèle est dynamique")
    _add_calibration_counts(quantize)
    quantize.add_argument(
        "--keep-float",
        action="append",
        metavar="MOTIF",
        help="modes int8 et int8-full : garde en flottant les tenseurs dont le nom contient "
        "MOTIF (expression régulière ; répétable ; noms donnés par la commande debug)",
    )
    quantize.add_argument(
        "--engine",
        choices=ENGINES,
        default=ENGINES[0],
        help="tflite-converter (défaut : le convertisseur de TensorFlow) | litert-quantizer "
        "(LiteRT Quantizer, modes dynamic et int8-full)",
    )
    _add_detector(quantize)
    quantize.add_argument(
        "--labels",
        metavar="FILE",
        help="étiquettes, une par ligne dans l'ordre des scores (défaut : labels.txt du modèle)",
    )
    quantize.add_argument("--force", action="store_true", help="remplace FILE s'il existe")
    quantize.set_defaults(handler=quantize_command)


def _debug_parser(commands) -> None:
    debug = commands.add_parser(
        "debug",
        prog="python -m helpers debug",
        help="erreur de quantification couche par couche (rmse/échelle, SNR), couches suspectes",
        description="Quantifie MODEL_DIR en int8 avec le débogueur de quantification de "
        "TensorFlow et mesure, pour chaque couche, l'erreur (rmse) rapportée à l'échelle "
        "(environ 0,29 pour une couche saine), puis le SNR de sa sortie face au modèle flottant "
        "et ce qu'elle en perd (validate() de LiteRT Quantizer). Suspecte : rmse/échelle "
        "au-dessus de 0,7, ou une couche qui perd au moins 6 dB et descend sous 30 dB.",
    )
    debug.add_argument("model_dir", metavar="MODEL_DIR", help="dossier du SavedModel flottant")
    debug.add_argument(
        "--images", required=True, metavar="DIR", help="dossier des images d'étalonnage"
    )
    _add_normalization(debug, "symmetric", "symmetric")
    _add_input_size(debug, "taille d'entrée, seulement si celle du modèle est dynamique")
    _add_calibration_counts(debug)
    debug.add_argument("--json", action="store_true", help="un seul objet JSON sur la sortie")
    debug.set_defaults(handler=debug_command)


def _inspect_parser(commands) -> None:
    inspect = commands.add_parser(
        "inspect",
        prog="python -m helpers inspect",
        help="types, paramètres de quantification, opérations et verdicts d'un .tflite",
        description="Rapport sur FILE.tflite : entrées, sorties, opérations, verdicts "
        "« entier seulement » et « Edge TPU (conditions nécessaires) ».",
    )
    inspect.add_argument("tflite_file", metavar="FILE.tflite", help="modèle TFLite à inspecter")
    inspect.add_argument("--json", action="store_true", help="un seul objet JSON sur la sortie")
    inspect.set_defaults(handler=inspect_command)


def _evaluate_parser(commands) -> None:
    evaluate = commands.add_parser(
        "evaluate",
        prog="python -m helpers evaluate",
        help="exactitude d'un classifieur (images rangées par étiquette) ou mAP d'un détecteur",
        description="Classifieur : exactitude de FILE.tflite sur DIR (un sous-dossier par "
        "étiquette). Détecteur décrit (--detector, ou la clé detector de FILE.json) : mAP@0.5 et mAP@[.5:.95] (pycocotools) sur les images "
        "de DIR annotées dans COCO.json (--annotations).",
    )
    evaluate.add_argument("tflite_file", metavar="FILE.tflite", help="modèle TFLite à évaluer")
    evaluate.add_argument(
        "--images", required=True, metavar="DIR", help="dossier avec un sous-dossier par étiquette"
    )
    evaluate.add_argument(
        "--annotations",
        metavar="COCO.json",
        help="détecteur : annotations au format COCO (file_name relatif à DIR)",
    )
    _add_normalization(evaluate, None, "celle de FILE.json, sinon symmetric")
    _add_input_size(
        evaluate,
        "taille des images, seulement si celle du modèle est libre (défaut : celle de FILE.json)",
    )
    _add_detector(evaluate, "celle de FILE.json")
    evaluate.add_argument(
        "--labels",
        metavar="FILE",
        help="détecteur : étiquettes, une par ligne (défaut : celles de FILE.json)",
    )
    evaluate.add_argument(
        "--json",
        action="store_true",
        help='{"accuracy", "count"} en JSON ({"map50", "map50_95", "count"} avec --annotations)',
    )
    evaluate.set_defaults(handler=evaluate_command)


def _compare_parser(commands) -> None:
    compare = commands.add_parser(
        "compare",
        prog="python -m helpers compare",
        help="compare chaque sortie d'un .tflite à celle du SavedModel flottant",
        description="Exécute MODEL_DIR (SavedModel flottant) et FILE.tflite sur les mêmes images "
        "et compare chaque sortie : plage, échelle, SNR, cosinus, écart maximal, accord top-1, "
        "verdict. Pour tout modèle à une entrée image, détecteur compris.",
    )
    compare.add_argument("model_dir", metavar="MODEL_DIR", help="dossier du SavedModel flottant")
    compare.add_argument("tflite_file", metavar="FILE.tflite", help="modèle TFLite à comparer")
    compare.add_argument(
        "--images", required=True, metavar="DIR", help="dossier d'images (sous-dossiers compris)"
    )
    compare.add_argument(
        "--num-samples",
        type=_positive,
        default=DEFAULT_COMPARED_IMAGES,
        metavar="N",
        help=f"images utilisées, réparties sur le dossier (défaut : {DEFAULT_COMPARED_IMAGES})",
    )
    _add_normalization(compare, None, "celle de FILE.json, sinon symmetric")
    _add_input_size(compare, "taille des images, seulement si celle du modèle est libre")
    _add_detector(compare, "MODEL_DIR/detecteur.json, sinon celle de FILE.json")
    compare.add_argument(
        "--channel-axis",
        type=int,
        metavar="K",
        help="sans description : l'axe des canaux des sorties, lot compris (défaut : déduit, "
        "le plus petit des deux axes d'une sortie (1, A, B), sinon le dernier)",
    )
    compare.add_argument("--json", action="store_true", help="un seul objet JSON sur la sortie")
    compare.set_defaults(handler=compare_command)


def _bundle_parser(commands) -> None:
    bundle = commands.add_parser(
        "bundle",
        prog="python -m helpers bundle",
        help="prépare le dossier à copier sur la Raspberry Pi",
        description="Crée DIR : modèle, étiquettes, métadonnées, script d'inférence autonome et "
        "README d'installation sur Raspberry Pi OS.",
    )
    bundle.add_argument("tflite_file", metavar="FILE.tflite", help="modèle TFLite à embarquer")
    bundle.add_argument("--output", required=True, metavar="DIR", help="dossier à créer")
    bundle.add_argument("--labels", metavar="FILE", help="fichier d'étiquettes (une par ligne)")
    _add_detector(bundle, "celle de FILE.json")
    bundle.set_defaults(handler=bundle_command)


def _check_parser(commands) -> None:
    check = commands.add_parser(
        "check",
        prog="python -m helpers check",
        help="vérifie l'installation (versions de Python et des bibliothèques)",
        description="Vérifie l'installation du cours.",
    )
    check.set_defaults(handler=check_command)


def _demo_model_parser(commands) -> None:
    demo = commands.add_parser(
        "demo-model",
        prog="python -m helpers demo-model",
        help="régénère les images de data/ et réentraîne le modèle de démonstration (quelques minutes)",
        description="Régénère data/calibration, data/test et réentraîne data/modele_demo (déterministe).",
    )
    demo.set_defaults(handler=demo_model_command)


def _demo_fragile_parser(commands) -> None:
    fragile = commands.add_parser(
        "demo-fragile",
        prog="python -m helpers demo-fragile",
        help="réentraîne le modèle qui perd de l'exactitude en int8 (notebook 06, quelques minutes)",
        description="Réentraîne data/modele_fragile (déterministe) à partir des images de "
        "démonstration ; data/calibration et data/test ne sont pas modifiés.",
    )
    fragile.set_defaults(handler=demo_fragile_command)


def _demo_detector_parser(commands) -> None:
    detector = commands.add_parser(
        "demo-detector",
        prog="python -m helpers demo-detector",
        help="régénère data/detection et réentraîne le détecteur de démonstration (15 min environ)",
        description="Régénère data/detection (scènes annotées au format COCO) et réentraîne "
        "data/detecteur_demo (déterministe).",
    )
    detector.set_defaults(handler=demo_detector_command)


def _run_notebooks_parser(commands) -> None:
    run = commands.add_parser(
        "run-notebooks",
        prog="python -m helpers run-notebooks",
        help="exécute les notebooks sans interface ; copies exécutées dans sorties/notebooks",
        description="Exécute les notebooks (par défaut tout le cours) dans un noyau neuf, sans "
        "modifier ceux du dépôt : le bouton « préparer la séance » de l'enseignant.",
    )
    run.add_argument("notebooks", nargs="*", help="notebooks à exécuter (défaut : tout le cours)")
    run.set_defaults(handler=execute_notebooks_command)


def _jupyterlab_french_parser(commands) -> None:
    french = commands.add_parser(
        "jupyterlab-french",
        prog="python -m helpers jupyterlab-french",
        help="met JupyterLab en français dans cet environnement",
    )
    french.set_defaults(handler=french_interface_command)


# One builder per command, in the order of the help: the course's steps, then the teacher's.
COMMAND_PARSERS = (
    _quantize_parser,
    _debug_parser,
    _inspect_parser,
    _evaluate_parser,
    _compare_parser,
    _bundle_parser,
    _check_parser,
    _demo_model_parser,
    _demo_fragile_parser,
    _demo_detector_parser,
    _run_notebooks_parser,
    _jupyterlab_french_parser,
)
# The first names of commands now in English, as the rest of the command line: still accepted,
# no longer shown.
LEGACY_COMMANDS = {
    "verifier": "check",
    "executer-notebooks": "run-notebooks",
    "interface-francais": "jupyterlab-french",
}


def build_parser() -> FrenchArgumentParser:
    parser = FrenchArgumentParser(
        prog="python -m helpers",
        description="Outils du cours de quantification post-entraînement (TensorFlow Lite / LiteRT).",
    )
    commands = parser.add_subparsers(
        dest="command", title="commandes", metavar="COMMANDE", parser_class=FrenchArgumentParser
    )
    for add_parser in COMMAND_PARSERS:
        add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Point d'entrée de ``python -m helpers``."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in LEGACY_COMMANDS:
        argv[0] = LEGACY_COMMANDS[argv[0]]
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        # TensorFlow's and LiteRT's C++ lines would come before the French « Erreur : » line.
        with quiet_tensorflow():
            return args.handler(args)
    except KitError as error:
        print(f"Erreur : {error}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # Output piped into `head` or similar, which closed early: not an error of the user.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("Erreur : interrompu par l'utilisateur ; rien n'a été écrit.", file=sys.stderr)
        return 130
