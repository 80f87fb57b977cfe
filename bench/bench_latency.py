"""Mesure : ce que chaque mode de quantification coûte et rapporte sur le modèle de démonstration.

Pour chaque mode (float32, dynamic, float16, int8, int8-full), converti depuis data/modele_demo
avec les images de data/calibration : taille du fichier, précision sur data/test, latence d'une
inférence avec LiteRT (médiane d'au moins 50 essais après échauffement) à 1 fil et sur tous les
cœurs. Puis le rapport de latence int8-full / float32 : celui à 1 fil est le plus proche d'un cœur
de Pi ; celui sur tous les cœurs se compare aux chiffres publiés par XNNPACK (banc end2end-bench,
MobileNet v2, 4 fils, Raspberry Pi 4 en 64 bits, poids aléatoires : 46 ms en float32, 17 ms en
int8, soit 0.37), une mesure multi-fils de la bibliothèque et non de LiteRT à 1 fil.
Les tailles sont en ko (1 ko = 1000 octets), comme dans le cours.

Objectif : la précision de int8-full à moins d'un point de celle de float32 (code de sortie 1
sinon). Lancement : ``python bench/bench_latency.py`` (environ une minute sur 2 cœurs).
"""

from __future__ import annotations

import argparse
import sys
import time

from helpers.base.errors import silence_tensorflow  # noqa: E402

silence_tensorflow()  # before TensorFlow is imported

from helpers.base.paths import CALIBRATION_DIR, DEMO_MODEL_DIR, LABELS_FILE, TEST_DIR  # noqa: E402
from helpers.base.units import BYTES_PER_KO  # noqa: E402
from helpers.core.images import read_labels  # noqa: E402
from helpers.core.models import load_saved_model  # noqa: E402
from helpers.steps.calibration import representative_dataset  # noqa: E402
from helpers.steps.inspection import all_cores, evaluate_model, measure_latency  # noqa: E402
from helpers.steps.quantization import COURSE_MODES, INTEGER_MODES, convert  # noqa: E402

# Published in XNNPACK's README: end2end-bench, MobileNet v2, multi-threaded on the Pi 4's 4 cores,
# 64-bit OS, random weights. A multi-threaded library figure: compare it with the all-cores ratio.
PI4_FLOAT32_MS = 46.0
PI4_INT8_MS = 17.0
PI4_THREADS = 4
ACCURACY_BUDGET_POINTS = 1.0


def convert_all_modes() -> dict[str, bytes]:
    """Les cinq modes du cours, convertis en mémoire comme le fait la commande quantize."""
    dataset = representative_dataset(CALIBRATION_DIR, DEMO_MODEL_DIR)
    models = {}
    for mode in COURSE_MODES:
        models[mode], _ = convert(DEMO_MODEL_DIR, mode, dataset if mode in INTEGER_MODES else None)
    return models


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100, help="essais mesurés (au moins 50)")
    parser.add_argument("--warmup", type=int, default=10, help="appels d'échauffement")
    parser.add_argument(
        "--series", type=int, default=5, help="séries de mesures ; on garde la meilleure médiane"
    )
    args = parser.parse_args()
    if args.runs < 50:
        parser.error("--runs doit valoir au moins 50")
    started = time.perf_counter()
    cores = all_cores()
    thread_counts = sorted({1, cores})
    labels = read_labels(LABELS_FILE)
    parameters = load_saved_model(DEMO_MODEL_DIR).parameter_count

    print("Conversion des cinq modes (data/modele_demo, étalonnage sur data/calibration)...")
    models = convert_all_modes()
    rows = {
        mode: {
            "size": len(content),
            "accuracy": evaluate_model(content, TEST_DIR, labels=labels)["accuracy"],
            "latency": dict.fromkeys(thread_counts, float("inf")),
        }
        for mode, content in models.items()
    }
    # The machine may be shared: series alternate between modes, and the best median of each
    # mode is kept, so that a burst of background load does not favour one mode.
    for _ in range(args.series):
        for mode, content in models.items():
            for threads in thread_counts:
                median = measure_latency(
                    content, num_threads=threads, runs=args.runs, warmup=args.warmup
                )["median_ms"]
                rows[mode]["latency"][threads] = min(rows[mode]["latency"][threads], median)

    base = rows["float32"]
    thread_headers = " | ".join(
        f"latence {t} fil{'s' if t > 1 else ''} (ms)" for t in thread_counts
    )
    header = f"| mode | taille (ko) | × float32 | précision (%) | {thread_headers} |"
    print(
        f"\nLiteRT : médiane de {args.runs} essais après {args.warmup} appels d'échauffement, "
        f"meilleure de {args.series} séries ; {cores} cœur(s) ici.\n"
    )
    print(header)
    print("|" + "|".join("---" for _ in header.split("|")[1:-1]) + "|")
    for mode, row in rows.items():
        latencies = " | ".join(f"{row['latency'][t]:.3f}" for t in thread_counts)
        print(
            f"| {mode} | {row['size'] / BYTES_PER_KO:.1f} | {row['size'] / base['size']:.2f} | "
            f"{100 * row['accuracy']:.2f} | {latencies} |"
        )

    full = rows["int8-full"]
    print("\nRapport de latence int8-full / float32 (plus petit = plus rapide) :")
    ratios = {t: full["latency"][t] / base["latency"][t] for t in thread_counts}
    print(f"  1 fil (le plus proche d'un cœur de Pi) : {ratios[1]:.2f}")
    print(f"  tous les cœurs ({cores} fil(s)) : {ratios[thread_counts[-1]]:.2f}")
    print(
        f"  à comparer au rapport sur tous les cœurs : chiffres publiés par XNNPACK (banc "
        f"end2end-bench, MobileNet v2, {PI4_THREADS} fils, Raspberry Pi 4 en 64 bits) : "
        f"{PI4_INT8_MS:.0f} / {PI4_FLOAT32_MS:.0f} ms = {PI4_INT8_MS / PI4_FLOAT32_MS:.2f}"
    )
    print(
        f"\nTaille : int8-full {full['size']} octets pour {parameters} valeurs stockées, soit "
        f"{full['size'] / parameters:.2f} octet par valeur (limite de la quantification 8 bits : "
        f"1 ; float32 : {base['size'] / parameters:.2f} pour une limite de 4)."
    )

    gap = 100 * (base["accuracy"] - full["accuracy"])
    ok = gap <= ACCURACY_BUDGET_POINTS
    print(
        f"\nObjectif précision : int8-full {100 * full['accuracy']:.2f} % contre float32 "
        f"{100 * base['accuracy']:.2f} % (écart {gap:.2f} point(s), budget "
        f"{ACCURACY_BUDGET_POINTS:.0f}) : {'atteint' if ok else 'MANQUÉ'}."
    )
    print(f"Durée totale de la mesure : {time.perf_counter() - started:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
