"""Mesure : les remèdes du notebook 06 côte à côte, sur le modèle qui perd de l'exactitude en int8.

Sur data/modele_fragile (--model DOSSIER pour un autre SavedModel d'entrée 64×64 aux mêmes
classes) : float32, int8-full, int8-full avec des couches gardées en flottant (--keep-float,
« bloc1_ » par défaut, la solution de l'exercice du notebook 06), int16x8 et LiteRT Quantizer
(int8-full). Étalonnage sur 100 des 120 images de data/calibration, réparties dans le dossier,
comme le notebook.
Colonnes : exactitude sur data/test, taille, latence LiteRT médiane à 1 fil d'exécution et sur
tous les cœurs (--runs inférences après 5 de chauffe).

Ce n'est pas un test : aucun objectif chiffré, le tableau est la mesure. Lancement :
``python bench/bench_remedies.py`` (une minute environ sur 2 cœurs).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import time

from helpers.base.errors import silence_tensorflow  # noqa: E402

silence_tensorflow()  # before TensorFlow is imported

from helpers.base.paths import CALIBRATION_DIR, FRAGILE_MODEL_DIR, TEST_DIR, relative_to_root  # noqa: E402
from helpers.base.units import format_ms, format_percent, format_size, french  # noqa: E402
from helpers.core.models import load_saved_model  # noqa: E402
from helpers.steps.calibration import representative_dataset  # noqa: E402
from helpers.steps.inspection import all_cores, evaluate_model, measure_latency  # noqa: E402
from helpers.steps.quantization import convert  # noqa: E402
from helpers.steps.quantizer_engine import quantize_with_litert_quantizer  # noqa: E402
from helpers.steps.selective import quantize_keeping_float  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(FRAGILE_MODEL_DIR), help="dossier du SavedModel")
    parser.add_argument(
        "--keep-float",
        action="append",
        metavar="MOTIF",
        help="couches gardées en flottant (répétable ; défaut : bloc1_)",
    )
    parser.add_argument("--runs", type=int, default=50, help="inférences chronométrées")
    args = parser.parse_args()
    patterns = args.keep_float or ["bloc1_"]
    started = time.perf_counter()
    model = load_saved_model(args.model)
    calibration = representative_dataset(CALIBRATION_DIR, args.model, num_samples=100)

    print("Conversions…", file=sys.stderr, flush=True)
    variants = {}
    variants["float32"], _ = convert(model, "float32", input_size=model.input.size)
    variants["int8-full"], _ = convert(model, "int8-full", calibration)
    selective, kept = quantize_keeping_float(model, calibration, patterns, mode="int8-full")
    variants[f"int8-full, {', '.join(patterns)} en flottant ({len(kept)} couches)"] = selective
    variants["int16x8"], _ = convert(model, "int16x8", calibration)
    with contextlib.redirect_stderr(io.StringIO()):  # its progress bars count ops, not images
        variants["LiteRT Quantizer, int8-full"], _ = quantize_with_litert_quantizer(
            model, "int8-full", calibration
        )

    cores = all_cores()
    rows = []
    for name, content in variants.items():
        print(f"Mesures : {name}…", file=sys.stderr, flush=True)
        accuracy = evaluate_model(content, TEST_DIR)["accuracy"]
        latencies = [
            measure_latency(content, num_threads=threads, runs=args.runs)["median_ms"]
            for threads in (1, cores)
        ]
        rows.append((name, accuracy, len(content), *latencies))

    print(f"\nModèle : {relative_to_root(args.model)} ; exactitude sur {TEST_DIR.name}/\n")
    print(
        f"| {'variante':<46} | exactitude | {'taille':>9} | latence 1 fil | latence {cores} fils |"
    )
    print(f"|{'-' * 48}|{'-' * 12}|{'-' * 11}|{'-' * 15}|{'-' * 16}|")
    for name, accuracy, size, one, many in rows:
        print(
            f"| {name:<46} | {format_percent(accuracy):>10} | {format_size(size):>9} | "
            f"{format_ms(one, 3):>13} | {format_ms(many, 3):>14} |"
        )
    print(f"\n{french(time.perf_counter() - started, '.0f')} s au total")
    return 0


if __name__ == "__main__":
    sys.exit(main())
