"""Mesure : ce que le choix des images d'étalonnage change à l'exactitude en int8.

Sur le modèle de démonstration (--model DOSSIER pour un autre SavedModel d'entrée 64×64 aux
mêmes classes) : le mode int8-full
étalonné avec 10, 50, 100 et 500 images (produites par le générateur des images de
démonstration, les 120 premières sont celles de data/calibration), puis avec 100 images peu
représentatives (une seule classe ; les 100 premières assombries, pixels divisés par 4) ; enfin
les poids quantifiés par tenseur au lieu de par canal. Exactitude sur data/test.

Produire 500 images prend une vingtaine de secondes : c'est un banc, pas une cellule de
notebook. Lancement : ``python bench/bench_calibration_design.py``
(quelques minutes sur 2 cœurs).
"""

from __future__ import annotations

import argparse
import sys
import time

from helpers.base.errors import silence_tensorflow  # noqa: E402

silence_tensorflow()  # before TensorFlow is imported

import numpy as np  # noqa: E402

from helpers.base.errors import quiet_tensorflow  # noqa: E402
from helpers.base.paths import DEMO_MODEL_DIR, TEST_DIR, relative_to_root  # noqa: E402
from helpers.base.units import format_percent  # noqa: E402
from helpers.core.images import normalize  # noqa: E402
from helpers.core.models import load_saved_model  # noqa: E402
from helpers.demo import data as demo_data  # noqa: E402
from helpers.steps.inspection import evaluate_model  # noqa: E402
from helpers.steps.quantization import convert, make_converter  # noqa: E402

COUNTS = (10, 50, 100, 500)
MODE = "int8-full"


def array_dataset(images: np.ndarray):
    """A representative dataset from uint8 images already in memory."""

    def dataset():
        for image in images:
            yield [normalize(image[np.newaxis], "symmetric")]

    return dataset


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(DEMO_MODEL_DIR), help="dossier du SavedModel")
    args = parser.parse_args()
    started = time.perf_counter()
    model = load_saved_model(args.model)
    print(f"Génération de {max(COUNTS)} images d'étalonnage…", file=sys.stderr, flush=True)
    generated = np.stack([image for _, image in demo_data.iter_split("calibration", max(COUNTS))])
    rng = np.random.default_rng(0)
    circles = np.stack([demo_data.render_scene("cercle", rng) for _ in range(100)])
    sets = {f"{count} images": generated[:count] for count in COUNTS}
    sets["100 images d'une seule classe"] = circles
    sets["100 images assombries (÷ 4)"] = generated[:100] // 4

    float_bytes, _ = convert(model, "float32")
    float_accuracy = evaluate_model(float_bytes, TEST_DIR)["accuracy"]
    rows = [("float32 (référence)", float_accuracy)]
    for name, images in sets.items():
        print(f"Étalonnage : {name}…", file=sys.stderr, flush=True)
        model_bytes, _ = convert(model, MODE, array_dataset(images))
        rows.append((f"{MODE}, {name}", evaluate_model(model_bytes, TEST_DIR)["accuracy"]))
    converter = make_converter(model, MODE, array_dataset(generated[:100]))
    converter._experimental_disable_per_channel = True  # one scale per weight tensor
    with quiet_tensorflow():
        per_tensor = converter.convert()
    rows.append(
        (f"{MODE}, 100 images, poids par tenseur", evaluate_model(per_tensor, TEST_DIR)["accuracy"])
    )

    print(
        f"\nModèle : {relative_to_root(args.model)} ; exactitude sur {TEST_DIR.name}/ ({MODE} sauf la référence)\n"
    )
    print(f"| {'étalonnage':<48} | exactitude |")
    print(f"|{'-' * 50}|{'-' * 12}|")
    for name, accuracy in rows:
        print(f"| {name:<48} | {format_percent(accuracy):>10} |")
    print(f"\n{time.perf_counter() - started:.0f} s au total".replace(".", ","))
    return 0


if __name__ == "__main__":
    sys.exit(main())
