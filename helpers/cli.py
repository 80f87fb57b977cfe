"""La ligne de commande du cours : ``python -m helpers <commande>``.

Toute mauvaise entrée donne une première ligne ``Erreur : ...`` sur la sortie d'erreur, le code
de sortie 2, aucune trace Python, et rien d'écrit.
"""

from __future__ import annotations

import argparse
import os
import sys

from helpers.errors import KitError

EXIT_USAGE = 2


class _FrenchFormatter(argparse.RawDescriptionHelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        return super().add_usage(usage, actions, groups, prefix="utilisation : ")


class FrenchArgumentParser(argparse.ArgumentParser):
    """argparse, avec une aide et des erreurs en français."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _FrenchFormatter)
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self._positionals.title = "arguments"
        self._optionals.title = "options"
        self.add_argument("-h", "--help", action="help", help="affiche cette aide et quitte")

    def error(self, message):
        message = (
            message.replace(
                "the following arguments are required", "arguments obligatoires manquants"
            )
            .replace("unrecognized arguments", "arguments non reconnus")
            .replace("invalid choice", "choix invalide")
            .replace("choose from", "choisissez parmi")
            .replace("expected one argument", "une valeur est attendue")
            .replace("argument ", "argument ")
        )
        self.exit(
            EXIT_USAGE,
            f"Erreur : {message}\nAide : {self.prog} --help\n",
        )


def _quiet_tensorflow() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _cmd_check(args) -> int:
    from helpers.environment import check_environment, describe_machine

    for check in check_environment():
        print(f"  ✓ {check.name:<24} {check.found}")
    print(f"Environnement prêt ({describe_machine()}).")
    return 0


def _cmd_demo_model(args) -> int:
    from helpers.demo_model import train_demo_model

    train_demo_model(verbose=1 if sys.stderr.isatty() else 2)
    return 0


def _cmd_execute_notebooks(args) -> int:
    from helpers.course import course_notebooks, execute_notebooks

    execute_notebooks(args.notebooks or course_notebooks())
    return 0


def _cmd_french_interface(args) -> int:
    from helpers.course import set_jupyterlab_french

    set_jupyterlab_french()
    print("JupyterLab s'ouvrira en français.")
    return 0


def _size(text: str) -> tuple[int, int]:
    """« 640x640 » -> (640, 640)."""
    try:
        height, width = (int(part) for part in text.lower().replace("×", "x").split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"taille « {text} » illisible : écrivez HAUTEURxLARGEUR, par exemple 640x640"
        ) from None
    if height <= 0 or width <= 0:
        raise argparse.ArgumentTypeError(
            f"taille « {text} » : les dimensions doivent être positives"
        )
    return height, width


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"« {text} » n'est pas un nombre entier") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"« {text} » : un entier positif est attendu")
    return value


def _dispatch(module: str, function: str):
    """Imports the command's module only when it runs (TensorFlow is slow to import)."""

    def handler(args) -> int:
        import importlib

        return getattr(importlib.import_module(f"helpers.{module}"), function)(args)

    return handler


def _add_course_commands(commands) -> None:
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
        help="dossier des images d'étalonnage (obligatoire pour int8 et int8-full)",
    )
    quantize.add_argument(
        "--mode",
        required=True,
        choices=["float32", "dynamic", "float16", "int8", "int8-full"],
        help="float32 | dynamic | float16 | int8 (entrées/sorties flottantes, "
        "comme la capsule) | int8-full (entier seulement, Edge TPU)",
    )
    quantize.add_argument("--output", required=True, metavar="FILE.tflite", help="fichier à écrire")
    quantize.add_argument(
        "--io-type",
        choices=["int8", "uint8"],
        # None, not "int8": the command must tell "not given" from "given for another mode".
        default=None,
        help="type des entrées/sorties en int8-full (défaut : int8)",
    )
    quantize.add_argument(
        "--normalization",
        choices=["symmetric", "unit", "raw"],
        default="symmetric",
        help="plage des entrées : [-1,1] | [0,1] | [0,255] (défaut : symmetric)",
    )
    quantize.add_argument(
        "--input-size",
        type=_size,
        metavar="HxW",
        help="taille d'entrée, seulement si celle du modèle est dynamique",
    )
    quantize.add_argument(
        "--num-samples",
        type=_positive,
        metavar="N",
        help="images d'étalonnage utilisées (défaut : toutes, au plus 500)",
    )
    quantize.add_argument(
        "--min-images",
        type=_positive,
        default=100,
        metavar="N",
        help="nombre minimal d'images d'étalonnage (défaut : 100)",
    )
    quantize.add_argument("--force", action="store_true", help="remplace FILE s'il existe")
    quantize.set_defaults(handler=_dispatch("quantization", "quantize_command"))

    inspect = commands.add_parser(
        "inspect",
        prog="python -m helpers inspect",
        help="types, paramètres de quantification, opérations et verdicts d'un .tflite",
        description="Rapport sur FILE.tflite : entrées, sorties, opérations, verdicts "
        "« entier seulement » et « prêt pour l'Edge TPU ».",
    )
    inspect.add_argument("tflite_file", metavar="FILE.tflite", help="modèle TFLite à inspecter")
    inspect.add_argument("--json", action="store_true", help="un seul objet JSON sur la sortie")
    inspect.set_defaults(handler=_dispatch("inspection", "inspect_command"))

    evaluate = commands.add_parser(
        "evaluate",
        prog="python -m helpers evaluate",
        help="précision d'un .tflite sur un dossier d'images rangées par étiquette",
        description="Précision de FILE.tflite sur DIR (un sous-dossier par étiquette).",
    )
    evaluate.add_argument("tflite_file", metavar="FILE.tflite", help="modèle TFLite à évaluer")
    evaluate.add_argument(
        "--images", required=True, metavar="DIR", help="dossier avec un sous-dossier par étiquette"
    )
    evaluate.add_argument(
        "--normalization",
        choices=["symmetric", "unit", "raw"],
        default=None,
        help="plage des entrées : [-1,1] | [0,1] | [0,255] (défaut : celle de FILE.json, "
        "sinon symmetric)",
    )
    evaluate.add_argument(
        "--input-size",
        type=_size,
        metavar="HxW",
        help="taille des images, seulement si celle du modèle est libre (défaut : celle de "
        "FILE.json)",
    )
    evaluate.add_argument("--json", action="store_true", help='{"accuracy", "count"} en JSON')
    evaluate.set_defaults(handler=_dispatch("inspection", "evaluate_command"))

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
    bundle.set_defaults(handler=_dispatch("export", "bundle_command"))


def build_parser() -> FrenchArgumentParser:
    parser = FrenchArgumentParser(
        prog="python -m helpers",
        description="Outils du cours de quantification post-entraînement (TensorFlow Lite / LiteRT).",
    )
    commands = parser.add_subparsers(
        dest="command", title="commandes", metavar="COMMANDE", parser_class=FrenchArgumentParser
    )
    _add_course_commands(commands)
    check = commands.add_parser(
        "verifier",
        prog="python -m helpers verifier",
        help="vérifie l'installation (versions de Python et des bibliothèques)",
        description="Vérifie l'installation du cours.",
    )
    check.set_defaults(handler=_cmd_check)
    demo = commands.add_parser(
        "demo-model",
        prog="python -m helpers demo-model",
        help="régénère les images de data/ et réentraîne le modèle de démonstration (quelques minutes)",
        description="Régénère data/calibration, data/test et réentraîne data/modele_demo (déterministe).",
    )
    demo.set_defaults(handler=_cmd_demo_model)
    run = commands.add_parser(
        "executer-notebooks",
        prog="python -m helpers executer-notebooks",
        help="exécute les notebooks sans interface ; copies exécutées dans sorties/notebooks",
        description="Exécute les notebooks (par défaut 00 à 04) dans un noyau neuf, sans modifier "
        "ceux du dépôt : le bouton « préparer la séance » de l'enseignant.",
    )
    run.add_argument("notebooks", nargs="*", help="notebooks à exécuter (défaut : 00 à 04)")
    run.set_defaults(handler=_cmd_execute_notebooks)
    french = commands.add_parser(
        "interface-francais",
        prog="python -m helpers interface-francais",
        help="met JupyterLab en français dans cet environnement",
    )
    french.set_defaults(handler=_cmd_french_interface)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Point d'entrée de ``python -m helpers``."""
    _quiet_tensorflow()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_USAGE
    try:
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
