"""Mesure : le détecteur de démonstration à 640×640, dans chaque mode de quantification.

Pour chaque mode (float32, dynamic, float16, int8, int8-full), les mêmes poids sont convertis
deux fois : à 128×128, la taille d'entraînement, pour la mAP@0.5 sur data/detection/test (les
scènes sont dessinées à cette taille ; les agrandir 5 fois ne mesurerait rien d'utile), et à
640×640, la taille des étudiants, pour la taille du fichier et la latence LiteRT (médiane après
échauffement) à 1 fil et sur tous les cœurs. Étalonnage : data/detection/calibration (à 640×640,
les mêmes scènes agrandies : les plages d'activations restent celles de vraies scènes).

Objectifs : int8 au moins 1,3 fois plus rapide que float32 à 1 fil (en 640×640) ; mAP@0.5 de
int8-full à moins de 2 points de celle de float32. Le tableau s'affiche quoi qu'il arrive.
Lancement : ``python bench/bench_detector.py [--runs N]`` (quelques minutes sur 2 cœurs).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from helpers.base.errors import silence_tensorflow  # noqa: E402

silence_tensorflow()  # before TensorFlow is imported

from helpers.base.units import format_size  # noqa: E402
from helpers.core.images import read_labels  # noqa: E402
from helpers.core.models import load_saved_model  # noqa: E402
from helpers.demo.detector import DETECTION_DIR, DETECTOR_DIR, export_detector  # noqa: E402
from helpers.pi.classer import FrenchArgumentParser  # noqa: E402
from helpers.steps.calibration import representative_dataset  # noqa: E402
from helpers.steps.detection import evaluate_detector, read_detector_description  # noqa: E402
from helpers.steps.export import build_metadata, write_model  # noqa: E402
from helpers.steps.inspection import all_cores, measure_latency  # noqa: E402
from helpers.steps.quantization import COURSE_MODES, INTEGER_MODES, convert  # noqa: E402

SPEEDUP_TARGET = 1.3
MAP_BUDGET_POINTS = 2.0


def french(value: float, digits: int) -> str:
    return f"{value:.{digits}f}".replace(".", ",")


def convert_all(model_dir: Path, size: int) -> dict[str, bytes]:
    model = load_saved_model(model_dir)
    dataset = representative_dataset(
        DETECTION_DIR / "calibration", input_size=(size, size), min_images=100
    )
    return {
        mode: convert(model, mode, dataset if mode in INTEGER_MODES else None)[0]
        for mode in COURSE_MODES
    }


def main() -> int:
    parser = FrenchArgumentParser(prog="python bench/bench_detector.py", description=__doc__)
    parser.add_argument("--runs", type=int, default=50, help="inférences chronométrées par mesure")
    args = parser.parse_args()
    labels = read_labels(DETECTOR_DIR / "labels.txt")
    description = read_detector_description(DETECTOR_DIR)
    cores = all_cores()
    print(
        f"Conversions à 128×128 (mAP) et à 640×640 (taille, latence), {cores} cœur(s)…", flush=True
    )
    small = convert_all(DETECTOR_DIR, 128)
    with tempfile.TemporaryDirectory() as scratch:
        large = convert_all(export_detector(Path(scratch) / "detecteur_640", 640), 640)
        rows = {}
        for mode in COURSE_MODES:
            path = write_model(
                Path(scratch) / f"{mode}.tflite",
                small[mode],
                build_metadata(
                    small[mode],
                    mode=mode,
                    source="data/detecteur_demo",
                    input_size=(128, 128),
                    normalization="symmetric",
                    labels=labels,
                    extra={"detector": description},
                ),
            )
            scores = evaluate_detector(
                path, DETECTION_DIR / "test", DETECTION_DIR / "test" / "annotations.json"
            )
            latency = {
                threads: measure_latency(large[mode], num_threads=threads, runs=args.runs)
                for threads in sorted({1, cores})
            }
            rows[mode] = (len(large[mode]), scores["map50"], latency)
            print(f"  {mode} mesuré", flush=True)
    print()
    print(f"| mode | taille 640×640 | mAP@0,5 (128×128) | latence 1 fil | latence {cores} fils |")
    print("|---|---|---|---|---|")
    for mode, (size, map50, latency) in rows.items():
        print(
            f"| {mode} | {format_size(size).replace('.', ',')} | {french(100 * map50, 1)} % | "
            f"{french(latency[1]['median_ms'], 1)} ms | {french(latency[cores]['median_ms'], 1)} ms |"
        )
    speedup = rows["float32"][2][1]["median_ms"] / rows["int8"][2][1]["median_ms"]
    drop = 100 * (rows["float32"][1] - rows["int8-full"][1])
    print()
    print(
        f"int8 / float32 à 1 fil : {french(speedup, 2)} fois plus rapide "
        f"({'✓' if speedup >= SPEEDUP_TARGET else '✗'} objectif ≥ {french(SPEEDUP_TARGET, 1)})"
    )
    print(
        f"mAP@0,5 : int8-full {french(drop, 1)} point(s) sous float32 "
        f"({'✓' if drop <= MAP_BUDGET_POINTS else '✗'} objectif ≤ {french(MAP_BUDGET_POINTS, 0)})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
