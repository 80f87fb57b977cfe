#!/usr/bin/env python3
"""Classe des images avec un modèle TensorFlow Lite, sur la Raspberry Pi (ou tout autre ordinateur).

Ce script est autonome : il ne dépend que de numpy, Pillow et LiteRT (``ai-edge-litert``, ou
son ancien nom ``tflite_runtime`` s'il est le seul installé), plus picamera2 pour la caméra. Il
lit, dans le dossier où il se trouve, le modèle ``.tflite``, ses métadonnées (même nom,
extension ``.json``) et ``labels.txt``.

Exemples :
    python3 classer.py images/             # chaque image PNG ou JPEG du dossier (et sous-dossiers)
    python3 classer.py --camera            # les images de la caméra, Ctrl+C pour arrêter
    python3 classer.py                     # la caméra si picamera2 est installé
    python3 classer.py images/ --fils 1    # un seul cœur
    python3 classer.py --camera --mesurer 50  # la durée de chaque étape sur 50 images

Pour chaque image : l'étiquette prédite, sa probabilité et la durée de l'inférence.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import NamedTuple

EXIT_USAGE = 2
INSTALL_HINT = "pip install ai-edge-litert numpy pillow"


def _missing_module(name: str) -> None:
    """Say how to install, rather than a traceback."""
    print(
        f"Erreur : le module « {name} » est absent. Activez l'environnement virtuel "
        f"(source ~/venv-quantif/bin/activate) puis installez : {INSTALL_HINT}",
        file=sys.stderr,
    )
    sys.exit(EXIT_USAGE)


try:
    import numpy as np
    from PIL import Image, UnidentifiedImageError
except ImportError as missing:
    _missing_module(missing.name)
try:
    from ai_edge_litert.interpreter import Interpreter
except ImportError:
    try:  # the runtime's former name: the same interpreter, on Pis set up before LiteRT
        from tflite_runtime.interpreter import Interpreter
    except ImportError:
        _missing_module("ai_edge_litert")

HERE = Path(__file__).resolve().parent
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
# name -> (value of pixel 0, value of pixel 255): the same table as the course's helpers.
NORMALIZATIONS = {"symmetric": (-1.0, 1.0), "unit": (0.0, 1.0), "raw": (0.0, 255.0)}
DEFAULT_THREADS = 4  # the Raspberry Pi 4 has 4 cores; LiteRT alone would use 1
CAMERA_SIZE = (640, 480)
WARMUP_RUNS = 5  # --mesurer: runs before the measured ones (allocation, caches, clock ramp-up)
FIXED_POINT_BITS = 16  # the integer input path's multiply-shift: q = (p * M + B) >> 16


class UsageError(Exception):
    """Une mauvaise entrée : affichée « Erreur : ... », code de sortie 2."""


def find_model(model_arg: str | None) -> Path:
    """Le modèle donné, sinon l'unique ``.tflite`` du dossier du script."""
    if model_arg:
        path = Path(model_arg)
        if not path.is_file():
            raise UsageError(f"modèle introuvable : {path}. Vérifiez le chemin donné à --modele.")
        return path
    candidates = sorted(HERE.glob("*.tflite"))
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise UsageError(
            f"aucun fichier .tflite à côté du script ({HERE.name}/). Copiez le dossier complet "
            "ou donnez le modèle avec --modele FICHIER.tflite."
        )
    names = ", ".join(path.name for path in candidates)
    raise UsageError(
        f"plusieurs modèles ({names}) : choisissez-en un avec --modele FICHIER.tflite."
    )


def read_metadata(model_path: Path) -> dict:
    """Les métadonnées écrites par le cours à côté du modèle (vide si absentes)."""
    path = model_path.with_suffix(".json")
    if not path.is_file():
        return {}
    try:
        metadata = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise UsageError(
            f"métadonnées illisibles ({path.name}) : {error}. Recopiez ce fichier depuis le "
            "dossier préparé par le cours, ou supprimez-le (normalisation symmetric supposée)."
        ) from error
    if not isinstance(metadata, dict):
        raise UsageError(
            f"métadonnées illisibles ({path.name}) : un objet JSON {{...}} avec des clés est "
            "attendu. Recopiez ce fichier depuis le dossier préparé par le cours, ou "
            "supprimez-le (normalisation symmetric supposée)."
        )
    return metadata


def read_labels(path: Path) -> list[str]:
    """Une étiquette par ligne, dans l'ordre des sorties du modèle."""
    if not path.is_file():
        raise UsageError(
            f"fichier d'étiquettes introuvable : {path}. Donnez-le avec --etiquettes FICHIER."
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise UsageError(
            f"le fichier d'étiquettes {path.name} n'est pas en UTF-8 (position {error.start}) : "
            "enregistrez le fichier en UTF-8 (dans l'éditeur : « Enregistrer sous », codage UTF-8)."
        ) from error
    labels = [line.strip() for line in text.splitlines()]
    labels = [label for label in labels if label]
    if not labels:
        raise UsageError(f"le fichier d'étiquettes {path.name} est vide.")
    return labels


class Classifier:
    """Le modèle LiteRT, avec la préparation des images et la lecture de la sortie."""

    def __init__(self, model_path: Path, normalization: str, num_threads: int, input_size=None):
        if normalization not in NORMALIZATIONS:
            raise UsageError(
                f"normalisation inconnue « {normalization} » (clé « normalization » de "
                f"{model_path.with_suffix('.json').name}) : corrigez-la en symmetric, unit ou "
                "raw, ou imposez-la avec l'option --normalisation."
            )
        try:
            self.interpreter = Interpreter(model_path=str(model_path), num_threads=num_threads)
            self.interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as error:
            if "Select TensorFlow op" in str(error) or "custom op" in str(error):
                raise UsageError(
                    f"{model_path.name} utilise des opérations que LiteRT ne connaît pas "
                    "(opérations TensorFlow « Flex » ou personnalisées) : reconvertissez-le "
                    "sans SELECT_TF_OPS ni allow_custom_ops."
                ) from error
            raise UsageError(
                f"LiteRT ne peut pas charger {model_path.name} : {str(error).strip()[:200]}"
            ) from error
        inputs = self.interpreter.get_input_details()
        if len(inputs) != 1:
            raise UsageError(
                f"ce modèle a {len(inputs)} entrées : ce script n'alimente qu'une seule entrée "
                "image. Pour plusieurs entrées, appelez vous-même "
                "interpreter.get_signature_runner() dans votre propre script."
            )
        outputs = self.interpreter.get_output_details()
        if len(outputs) != 1:
            raise UsageError(
                f"ce modèle a {len(outputs)} sorties : ce script suppose un classifieur à une "
                "sortie (une probabilité par étiquette). Pour un modèle à plusieurs sorties (un "
                "détecteur, par exemple), lisez-les une à une dans votre propre script avec "
                "interpreter.get_output_details() et interpreter.get_tensor()."
            )
        self.input_detail = self.interpreter.get_input_details()[0]
        self.output_detail = outputs[0]
        shape = [int(n) for n in self.input_detail["shape"]]
        if len(shape) != 4 or shape[3] not in (1, 3):
            raise UsageError(
                f"entrée de forme {shape} : ce script attend une image (1, hauteur, largeur, 1 ou 3)."
            )
        signature = [int(n) for n in self.input_detail.get("shape_signature", shape)]
        if signature[1] < 1 or signature[2] < 1:
            shape = self._fix_free_size(model_path, signature, input_size)
        if len(self.output_detail["shape"]) != 2:
            raise UsageError(
                "ce script attend un modèle de classification (une sortie de forme (1, N)) ; "
                f"la sortie de ce modèle a la forme {list(self.output_detail['shape'])}."
            )
        _, self.height, self.width, self.channels = shape
        self.input_dtype = np.dtype(self.input_detail["dtype"])
        self.low, self.high = NORMALIZATIONS[normalization]

    def _fix_free_size(self, model_path: Path, signature: list[int], input_size) -> list[int]:
        """A free-size input (-1) gets the size written in the metadata at quantization."""
        valid = (
            isinstance(input_size, list)
            and len(input_size) == 2
            and all(type(n) is int and n > 0 for n in input_size)
        )
        if not valid:
            raise UsageError(
                f"l'entrée du modèle a une taille libre ({signature}, -1 = libre) et "
                f"{model_path.with_suffix('.json').name} ne donne pas sa taille (clé "
                "« input_size ») : quantifiez le modèle avec --input-size HxW (le fichier aura "
                "une taille fixe), puis refaites ce dossier avec « python -m helpers bundle »."
            )
        shape = [1, input_size[0], input_size[1], signature[3]]
        try:
            self.interpreter.resize_tensor_input(self.input_detail["index"], shape)
            self.interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as error:
            raise UsageError(
                f"LiteRT ne peut pas donner à {model_path.name} des images "
                f"{input_size[0]}×{input_size[1]} : {str(error).strip()[:200]}"
            ) from error
        self.input_detail = self.interpreter.get_input_details()[0]
        self.output_detail = self.interpreter.get_output_details()[0]
        return shape

    def prepare(self, image: Image.Image, integer_path: bool = True) -> np.ndarray:
        """Image PIL -> tenseur d'entrée : couleurs, taille, normalisation, puis quantification."""
        return input_tensor(image, self.input_detail, self.low, self.high, integer_path)

    def scores(self, tensor: np.ndarray) -> tuple[np.ndarray, float]:
        """Sortie déquantifiée (float32) et durée de l'inférence en millisecondes."""
        self.interpreter.set_tensor(self.input_detail["index"], tensor)
        started = time.perf_counter()
        self.interpreter.invoke()
        latency_ms = (time.perf_counter() - started) * 1000.0
        output = self.interpreter.get_tensor(self.output_detail["index"])[0]
        if np.issubdtype(output.dtype, np.integer):
            # x = scale * (q - zero_point), with the output's own parameters
            scale, zero_point = self.output_detail["quantization"]
            output = float(scale) * (output.astype(np.float32) - int(zero_point))
        return output.astype(np.float32), latency_ms

    def warm_up(self) -> None:
        """Une première inférence à vide : la première est toujours plus lente."""
        self.interpreter.set_tensor(
            self.input_detail["index"], np.zeros(self.input_detail["shape"], self.input_dtype)
        )
        self.interpreter.invoke()


def input_tensor(
    image: Image.Image, input_detail: dict, low: float, high: float, integer_path: bool = True
) -> np.ndarray:
    """Image PIL -> tenseur d'entrée du modèle (lot de 1) : couleurs, taille, puis les pixels
    ramenés dans [low, high] et quantifiés si l'entrée est entière.

    Entrée entière et ``integer_path`` : le chemin entier (:func:`integer_input_plan`) quand
    l'échelle et le point zéro le permettent ; sinon le chemin flottant, celui du cours.
    ``detecter.py`` prépare ses images avec la même fonction.
    """
    _, height, width, channels = (int(n) for n in input_detail["shape"])
    pixels = model_pixels(image, height, width, channels)
    plan = integer_input_plan(input_detail, low, high) if integer_path else None
    if plan is not None:
        return integer_input(pixels, plan, np.dtype(input_detail["dtype"]))[None]
    return float_input(pixels, input_detail, low, high)


def model_pixels(image: Image.Image, height: int, width: int, channels: int) -> np.ndarray:
    """Image PIL -> pixels uint8 (hauteur, largeur, canaux) à la taille du modèle."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit grey: keep the 8 most significant bits, like the course's helpers
        wide = np.asarray(image, dtype=np.uint32)
        image = Image.fromarray((wide >> 8).clip(0, 255).astype(np.uint8), mode="L")
    image = image.convert("RGB" if channels == 3 else "L")
    if image.size != (width, height):
        image = image.resize((width, height), Image.BILINEAR)
    return np.asarray(image, dtype=np.uint8).reshape(height, width, channels)


def float_input(pixels: np.ndarray, input_detail: dict, low: float, high: float) -> np.ndarray:
    """Le chemin flottant, celui du cours : x = low + p × (high − low) / 255, puis, pour une
    entrée entière, q = round(x / échelle) + point zéro."""
    input_dtype = np.dtype(input_detail["dtype"])
    values = np.asarray(pixels, dtype=np.float32) * np.float32((high - low) / 255.0) + np.float32(
        low
    )
    values = values[None].astype(np.float32)
    if not np.issubdtype(input_dtype, np.integer):
        return values.astype(input_dtype)
    # Integer input: q = round(x / scale) + zero_point, with the model's own parameters.
    scale, zero_point = input_detail["quantization"]
    info = np.iinfo(input_dtype)
    quantized = np.round(values / float(scale)) + int(zero_point)
    return np.clip(quantized, info.min, info.max).astype(input_dtype)


def integer_input_plan(input_detail: dict, low: float, high: float) -> tuple | None:
    """Le chemin entier d'une entrée quantifiée, choisi d'après son échelle et son point zéro.

    Le pixel p (0 à 255) devient x = low + p × (high − low) / 255, puis q = round(x / s) + z.
    Donc q = round(m × p + c), avec m = (high − low) / (255 × s) et c = low / s + z : deux
    constantes du modèle, calculées une fois.

    - m = 1 (normalisation [-1, 1] et s = 2/255, ce que donne l'étalonnage sur de vraies
      images) : q = p + k, avec k = round(c). En uint8, z = 127 donne c ≈ -0,5 et k = 0 : le
      pixel EST l'entrée. En int8, z = -1 donne k = -128 : une soustraction.
    - sinon : q = (p × M + B) >> 16, une multiplication et un décalage entiers, avec
      M = round(m × 2¹⁶) et B = round(c × 2¹⁶) + 2¹⁵ (le demi qui fait arrondir).

    Renvoie ``("addition", k)``, ``("multiplication-décalage", M, B)``, ou None : entrée
    flottante, échelle par canal, ou M trop grand pour 32 bits (le chemin flottant alors).
    L'écart avec le chemin flottant : au plus un pas de quantification (les arrondis diffèrent
    quand m × p + c tombe à un cheveu d'un demi ; le chemin flottant y arrondit ses propres
    erreurs de calcul en float32).
    """
    dtype = np.dtype(input_detail["dtype"])
    if not np.issubdtype(dtype, np.integer):
        return None
    scales = (input_detail.get("quantization_parameters") or {}).get("scales")
    if scales is not None and len(scales) > 1:
        return None
    scale, zero_point = input_detail["quantization"]
    if not scale > 0:
        return None
    gain = (high - low) / (255.0 * float(scale))
    offset = low / float(scale) + int(zero_point)
    # m this close to 1 moves 255 × |m − 1| < 0,001 step at most: q = p + k is the same value.
    if abs(gain - 1.0) * 255.0 < 1e-3:
        return ("addition", math.floor(offset + 0.5))
    one = 1 << FIXED_POINT_BITS
    multiplier = round(gain * one)
    bias = round(offset * one) + one // 2
    if multiplier <= 0 or 255 * multiplier + abs(bias) >= 2**31:
        return None
    return ("multiplication-décalage", multiplier, bias)


def integer_input(pixels: np.ndarray, plan: tuple, dtype: np.dtype) -> np.ndarray:
    """Pixels uint8 -> entrée entière du modèle, en arithmétique entière seulement (``plan`` :
    :func:`integer_input_plan`)."""
    info = np.iinfo(dtype)
    if plan[0] == "addition":
        if plan[1] == 0 and dtype == np.uint8:
            return pixels  # the pixel is the input
        shifted = pixels.astype(np.int16) + np.int16(plan[1])
    else:
        _, multiplier, bias = plan
        shifted = (pixels.astype(np.int32) * multiplier + bias) >> FIXED_POINT_BITS
    return np.clip(shifted, info.min, info.max).astype(dtype)


def describe_input_plan(plan: tuple | None) -> str:
    """La préparation en mots (pour l'en-tête et --mesurer)."""
    if plan is None:
        return "préparation flottante"
    if plan[0] == "addition":
        k = plan[1]
        formula = "q = p" if k == 0 else f"q = p {'−' if k < 0 else '+'} {abs(k)}"
    else:
        formula = f"q = (p × {plan[1]} + {plan[2]}) >> {FIXED_POINT_BITS}"
    return f"préparation entière ({formula})"


def to_probabilities(scores: np.ndarray) -> np.ndarray:
    """Les sorties telles quelles si elles sont déjà des probabilités, sinon leur softmax."""
    if scores.min() >= -1e-3 and abs(float(scores.sum()) - 1.0) < 0.05:
        return scores
    shifted = np.exp(scores - scores.max())
    return shifted / shifted.sum()


def folder_images(folder: Path):
    """(nom affiché, image PIL) pour chaque PNG ou JPEG du dossier, en ordre trié. Le dossier
    est lu tout de suite : vide ou absent, l'erreur vient avant toute sortie."""
    return _load_images(folder, image_paths(folder))


def image_paths(folder: Path) -> list[Path]:
    """Les PNG et JPEG du dossier et de ses sous-dossiers (suffixe en minuscules ou non)."""
    if not folder.is_dir():
        raise UsageError(f"dossier d'images introuvable : {folder}.")
    # Hidden names (macOS "._photo.png", ".ipynb_checkpoints/") are system files, not images.
    paths = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and p.suffix.lower() in IMAGE_SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )
    if not paths:
        raise UsageError(f"aucune image PNG ou JPEG dans {folder}.")
    return paths


def _load_images(folder: Path, paths: list[Path]):
    for path in paths:
        try:
            with Image.open(path) as image:
                image.load()
                yield path.relative_to(folder).as_posix(), image
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            print(f"Attention : image illisible, ignorée : {path.name}", file=sys.stderr)


def cycled_images(folder: Path):
    """Les images du dossier, reprises au début autant de fois qu'il le faut."""
    paths = image_paths(folder)

    def forever():
        while True:
            found = False
            for item in _load_images(folder, paths):
                found = True
                yield item
            if not found:  # every image was unreadable (each one already reported)
                raise UsageError(f"aucune image lisible dans {folder}.")

    return forever()


def camera_available() -> bool:
    """Vrai si picamera2 s'importe (Raspberry Pi OS, venv avec --system-site-packages)."""
    try:
        import picamera2  # noqa: F401
    except ImportError:
        return False
    return True


def camera_images(count: int | None, interval: float):
    """Images de la caméra, une par tour, jusqu'à ``count`` (ou Ctrl+C). La caméra est ouverte
    tout de suite : sans elle, l'erreur vient avant toute sortie."""
    return _camera_frames(open_camera(), count, interval)


def open_camera():
    """La caméra de la Pi (picamera2), configurée et démarrée."""
    try:
        from picamera2 import Picamera2
    except ImportError as error:
        raise UsageError(
            "picamera2 est introuvable. Sur Raspberry Pi OS : sudo apt install python3-picamera2, "
            "et un venv créé avec --system-site-packages."
        ) from error
    try:
        camera = Picamera2()
    except (RuntimeError, IndexError) as error:
        raise UsageError(
            "aucune caméra détectée. Vérifiez la nappe, puis essayez : rpicam-hello --list-cameras"
        ) from error
    # Picamera2 names formats after libcamera: "BGR888" gives arrays in R, G, B order.
    camera.configure(
        camera.create_preview_configuration(main={"size": CAMERA_SIZE, "format": "BGR888"})
    )
    camera.start()
    time.sleep(1.0)  # let automatic exposure and white balance settle
    return camera


def _camera_frames(camera, count: int | None, interval: float):
    try:
        index = 0
        while count is None or index < count:
            frame = camera.capture_array("main")[..., :3]
            yield f"camera_{index:04d}", center_crop(Image.fromarray(frame))
            index += 1
            if interval > 0:
                time.sleep(interval)
    finally:
        camera.stop()
        camera.close()


def center_crop(image: Image.Image) -> Image.Image:
    """Carré central : une image 4:3 redimensionnée en carré serait déformée."""
    width, height = image.size
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    return image.crop((left, top, left + side, top + side))


def french_number(value: float, digits: int = 1) -> str:
    return f"{value:.{digits}f}".replace(".", ",")


class _FrenchFormatter(argparse.RawDescriptionHelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        return super().add_usage(usage, actions, groups, prefix="utilisation : ")


class FrenchArgumentParser(argparse.ArgumentParser):
    """argparse avec l'aide et les erreurs en français (« Erreur : ... », code 2).

    La ligne de commande du cours (``python -m helpers``) utilise la même classe.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _FrenchFormatter)
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self._positionals.title = "arguments"
        self._optionals.title = "options"
        self.add_argument("-h", "--help", action="help", help="affiche cette aide et quitte")

    def error(self, message):
        for english, french in (
            ("the following arguments are required", "arguments obligatoires manquants"),
            ("unrecognized arguments", "arguments non reconnus"),
            ("invalid choice", "choix invalide"),
            ("choose from", "choisissez parmi"),
            ("invalid int value", "nombre entier attendu, reçu"),
            ("invalid float value", "nombre attendu, reçu"),
            ("expected one argument", "une valeur est attendue"),
        ):
            message = message.replace(english, french)
        self.exit(EXIT_USAGE, f"Erreur : {message}\nAide : {self.prog} --help\n")


def script_parser(script: str, description: str) -> FrenchArgumentParser:
    """Les options communes de classer.py et detecter.py (chacun ajoute les siennes)."""
    parser = FrenchArgumentParser(prog=f"python3 {script}", description=description)
    parser.add_argument(
        "dossier", nargs="?", help="dossier d'images PNG/JPEG (sans dossier : la caméra)"
    )
    parser.add_argument("--camera", action="store_true", help="utilise la caméra (picamera2)")
    parser.add_argument("--modele", help="fichier .tflite (défaut : celui du dossier du script)")
    parser.add_argument("--etiquettes", help="fichier d'étiquettes (défaut : labels.txt)")
    parser.add_argument(
        "--fils",
        type=int,
        default=DEFAULT_THREADS,
        help=f"cœurs utilisés par LiteRT (défaut : {DEFAULT_THREADS}, les 4 cœurs de la Pi 4)",
    )
    # The option's former name, kept so that older commands still work; not shown in --help.
    parser.add_argument(
        "--threads", type=int, dest="fils", default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--normalisation",
        choices=sorted(NORMALIZATIONS),
        help="plage des entrées (défaut : celle des métadonnées, sinon symmetric)",
    )
    parser.add_argument(
        "--preparation",
        choices=("entiere", "flottante"),
        default="entiere",
        help="entrée entière (int8-full) : pixels convertis en entiers seulement (défaut), ou "
        "par le calcul flottant du cours (mêmes tenseurs que le cours, à l'octet près)",
    )
    parser.add_argument(
        "--nombre", type=int, help="caméra : nombre d'images à traiter (défaut : sans fin)"
    )
    parser.add_argument(
        "--intervalle", type=float, default=0.0, help="caméra : pause entre deux images (s)"
    )
    parser.add_argument(
        "--mesurer",
        type=int,
        metavar="N",
        help=f"mesure la durée de chaque étape sur N images (après {WARMUP_RUNS} "
        "d'échauffement non comptées) et n'affiche que ce bilan",
    )
    parser.add_argument("--json", action="store_true", help="une ligne JSON par image")
    return parser


class Opening(NamedTuple):
    """Ce que les deux scripts lisent avant de charger leur modèle."""

    model_path: Path
    metadata: dict
    labels_path: Path
    labels: list[str]
    normalization: str


def open_run(args) -> Opening:
    """Le début commun de ``run`` : options vérifiées, modèle trouvé, métadonnées, étiquettes."""
    if args.fils < 1:
        raise UsageError("--fils doit valoir au moins 1.")
    if args.mesurer is not None and args.mesurer < 1:
        raise UsageError(
            f"--mesurer {args.mesurer} : donnez le nombre d'images à mesurer, au moins 1 "
            "(par exemple --mesurer 50)."
        )
    if args.mesurer is not None and args.nombre is not None:
        raise UsageError("--mesurer N fixe lui-même le nombre d'images : retirez --nombre.")
    if args.dossier and args.camera:
        raise UsageError("choisissez un dossier OU --camera, pas les deux.")
    model_path = find_model(args.modele)
    metadata = read_metadata(model_path)
    labels_path = Path(args.etiquettes) if args.etiquettes else model_path.parent / "labels.txt"
    labels = read_labels(labels_path)
    normalization = args.normalisation or metadata.get("normalization", "symmetric")
    return Opening(model_path, metadata, labels_path, labels, normalization)


def check_label_count(count: int, opening: Opening, what: str) -> None:
    """Autant d'étiquettes que le modèle a de sorties (``what`` : « sorties », « classes »)."""
    if count != len(opening.labels):
        raise UsageError(
            f"le modèle a {count} {what} mais {opening.labels_path.name} contient "
            f"{len(opening.labels)} étiquettes : utilisez le fichier d'étiquettes de ce modèle."
        )


def image_source(args, script: str):
    """Les images à traiter, (nom, image PIL) : le dossier, sinon la caméra. Avec --mesurer N :
    N + 5 images (le dossier repris au début s'il en a moins)."""
    runs = None if args.mesurer is None else args.mesurer + WARMUP_RUNS
    if args.dossier:
        folder = Path(args.dossier)
        if runs is None:
            return folder_images(folder)
        return itertools.islice(cycled_images(folder), runs)
    if args.camera or camera_available():
        return camera_images(args.nombre if runs is None else runs, args.intervalle)
    raise UsageError(
        f"donnez un dossier d'images (python3 {script} DOSSIER), ou lancez le script sur une "
        "Raspberry Pi avec picamera2 pour utiliser la caméra."
    )


def timed(function, *args):
    """(``function(*args)``, durée de l'appel en millisecondes)."""
    started = time.perf_counter()
    result = function(*args)
    return result, (time.perf_counter() - started) * 1000.0


def measure_images(images, steps, float_preparation, as_json: bool, header: dict) -> int:
    """--mesurer : chaque image passe par ``steps`` (clé, nom français, fonction), chaque
    fonction appelée avec le résultat de la précédente et l'image. Les 5 premières
    images échauffent ; ensuite la durée de chaque étape, et du total, est notée. Puis le bilan :
    médiane, 90e centile, images par seconde. ``float_preparation`` (ou None) : la préparation
    par le chemin flottant, chronométrée à part pour comparer (hors total)."""
    times: dict[str, list[float]] = {key: [] for key, _, _ in steps}
    times["total"] = []
    if float_preparation is not None:
        times["float_preparation"] = []
    for index, (_, image) in enumerate(images):
        value, total = image, 0.0
        durations = {}
        for key, _, function in steps:
            value, durations[key] = timed(function, value, image)
            total += durations[key]
        durations["total"] = total
        if float_preparation is not None:
            durations["float_preparation"] = timed(float_preparation, image)[1]
        if index >= WARMUP_RUNS:
            for key, duration in durations.items():
                times[key].append(duration)
    if not times["total"]:
        raise UsageError(
            "aucune image mesurée : la caméra ou le dossier s'est arrêté pendant l'échauffement."
        )
    median = {key: float(np.median(values)) for key, values in times.items()}
    p90 = {key: float(np.percentile(values, 90)) for key, values in times.items()}
    rate = 1000.0 / median["total"] if median["total"] > 0 else None
    if as_json:
        summary = {
            **header,
            "images": len(times["total"]),
            "warmup": WARMUP_RUNS,
            "median_ms": {key: round(value, 4) for key, value in median.items()},
            "p90_ms": {key: round(value, 4) for key, value in p90.items()},
            "images_per_second": None if rate is None else round(rate, 2),
        }
        print(json.dumps(summary, ensure_ascii=False), flush=True)
        return 0
    names = {key: name for key, name, _ in steps}
    names.update(total="total", float_preparation="préparation flottante, pour comparer")
    width = max(map(len, names.values()))
    print(
        f"Mesure sur {len(times['total'])} image(s), après {WARMUP_RUNS} d'échauffement non "
        "comptées (durées en ms) :"
    )
    print(f"  {'étape':<{width}}  {'médiane':>9}  {'90e centile':>11}")
    for key, name in names.items():
        if key in median:
            print(
                f"  {name:<{width}}  {french_number(median[key], 2):>9}"
                f"  {french_number(p90[key], 2):>11}"
            )
    if rate is not None:
        print(f"Débit : {french_number(rate)} images par seconde (d'après la médiane du total).")
    return 0


def chosen_plan(args, model) -> tuple | None:
    """Le chemin entier de ``model`` (Classifier ou Detector), ou None : le chemin flottant
    (entrée flottante, ou --preparation flottante)."""
    if args.preparation != "entiere":
        return None
    return integer_input_plan(model.input_detail, model.low, model.high)


def print_header(opening: Opening, model, args, plan: tuple | None) -> None:
    """La première ligne affichée : le modèle, son entrée, les fils, la préparation."""
    print(
        f"Modèle {opening.model_path.name} : entrée {model.height}×{model.width} "
        f"{model.input_dtype.name}, normalisation « {opening.normalization} », "
        f"{args.fils} fil{'s' if args.fils > 1 else ''}, {describe_input_plan(plan)}."
    )


def measure_header(args, plan: tuple | None) -> dict:
    """Les premières clés de l'objet JSON de --mesurer."""
    return {
        "measure": args.mesurer,
        "threads": args.fils,
        "input_path": "float" if plan is None else "integer",
        "source": "camera" if not args.dossier else "folder",
    }


def run(args) -> int:
    opening = open_run(args)
    classifier = Classifier(
        opening.model_path, opening.normalization, args.fils, opening.metadata.get("input_size")
    )
    check_label_count(int(classifier.output_detail["shape"][-1]), opening, "sorties")
    images = image_source(args, Path(__file__).name)
    plan = chosen_plan(args, classifier)
    integer = plan is not None
    if not args.json:
        print_header(opening, classifier, args, plan)
    classifier.warm_up()
    if args.mesurer is not None:
        steps = [
            ("preparation", "préparation", lambda image, _: classifier.prepare(image, integer)),
            ("inference", "inférence", lambda tensor, _: classifier.scores(tensor)),
            ("probabilities", "probabilités", lambda result, _: to_probabilities(result[0])),
        ]
        compare = None if plan is None else (lambda image: classifier.prepare(image, False))
        return measure_images(images, steps, compare, args.json, measure_header(args, plan))
    latencies = []
    for frame, (name, image) in enumerate(images):
        scores, latency_ms = classifier.scores(classifier.prepare(image, integer))
        probabilities = to_probabilities(scores)
        best = int(np.argmax(probabilities))
        latencies.append(latency_ms)
        if args.json:
            record = {
                "image": name,
                **({} if args.dossier else {"frame": frame}),
                "label": opening.labels[best],
                "index": best,
                "probability": round(float(probabilities[best]), 6),
                "latency_ms": round(latency_ms, 3),
            }
            print(json.dumps(record, ensure_ascii=False), flush=True)
        else:
            print(
                f"{name} : {opening.labels[best]} "
                f"({french_number(100 * float(probabilities[best]))} %) "
                f"en {french_number(latency_ms, 2)} ms",
                flush=True,
            )
    if latencies and not args.json:
        print(
            f"{len(latencies)} image(s) ; inférence : médiane "
            f"{french_number(float(np.median(latencies)), 2)} ms, "
            f"minimum {french_number(min(latencies), 2)} ms."
        )
    return 0


def build_parser() -> argparse.ArgumentParser:
    return script_parser(
        Path(__file__).name,
        "Classe des images (dossier ou caméra) avec le modèle .tflite du dossier.",
    )


def script_main(parser: argparse.ArgumentParser, run_script, argv: list[str] | None) -> int:
    """La fin commune des deux scripts : options lues, ``run_script(args)``, et les erreurs
    d'entrée affichées « Erreur : ... » (code 2), sans trace Python."""
    args = parser.parse_args(argv)
    try:
        return run_script(args)
    except UsageError as error:
        print(f"Erreur : {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("\nArrêt demandé (Ctrl+C).", file=sys.stderr)
        return 0
    except BrokenPipeError:  # output piped into `head` and closed early: not an error
        # Python would fail again while flushing stdout at exit (see the signal module docs).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def main(argv: list[str] | None = None) -> int:
    return script_main(build_parser(), run, argv)


if __name__ == "__main__":
    sys.exit(main())
