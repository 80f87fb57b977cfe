"""Mesure : la latence du détecteur de démonstration et d'un détecteur de la taille des vôtres.

Deux modèles, la même tête (``helpers.demo.detector``) :

- le détecteur de démonstration (115 817 paramètres, poids entraînés) ;
- le détecteur de référence (:func:`~helpers.demo.detector.reference_detector`) : cette tête
  sur MobileNetV2 α 1,0 (environ 2,5 millions de paramètres, comme SSD MobileNetV2 FPNLite ou
  YOLOv8n), poids aléatoires jamais entraînés. La latence ne dépend que des opérations et des
  formes, pas des valeurs des poids ; ses détections ne veulent rien dire : sa mAP n'est jamais
  mesurée.

Pour chacun, à 320×320 et à 640×640, dans chaque mode (float32, dynamic, int8, int8-full ;
étalonnage sur data/detection/calibration à la taille mesurée) : la taille du fichier, la
latence LiteRT (médiane d'au moins 20 inférences après échauffement, ``invoke()`` seul) à 1 fil
et sur tous les cœurs, avec le délégué XNNPACK par défaut et sans lui
(``OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES``), le nombre de partitions ``DELEGATE``
qu'XNNPACK prend en charge et les opérations laissées hors de lui. En plus, la mAP@0,5 du
détecteur de démonstration à 128×128, sa taille d'entraînement, sur data/detection/test.

Objectif : int8-full au moins 1,3 fois plus rapide que float32 à 1 fil, sur le détecteur de
référence à 320×320 (mesurés dans la même exécution). Le tableau s'affiche quoi qu'il arrive.
Cette machine n'est pas une Raspberry Pi : sur la Pi, ``detecter.py --mesurer N`` mesure.
Lancement : ``python bench/bench_detector.py [--runs N]`` (environ cinq minutes sur 2 cœurs).
"""

from __future__ import annotations

import sys
import tempfile
from collections import Counter
from pathlib import Path

from helpers.base.errors import silence_tensorflow  # noqa: E402

silence_tensorflow()  # before TensorFlow is imported

from helpers.base.units import format_size  # noqa: E402
from helpers.core.images import read_labels  # noqa: E402
from helpers.core.models import load_saved_model  # noqa: E402
from helpers.core.runtime import load_interpreter, op_details  # noqa: E402
from helpers.demo.detector import (  # noqa: E402
    DETECTION_DIR,
    DETECTOR_DIR,
    export_detector,
    export_reference_detector,
)
from helpers.pi.classer import FrenchArgumentParser  # noqa: E402
from helpers.steps.calibration import representative_dataset  # noqa: E402
from helpers.steps.decoding import read_detector_description  # noqa: E402
from helpers.steps.detection import evaluate_detector  # noqa: E402
from helpers.steps.export import build_metadata, write_model  # noqa: E402
from helpers.steps.inspection import all_cores, measure_latency  # noqa: E402
from helpers.steps.quantization import INTEGER_MODES, convert  # noqa: E402

MODES = ("float32", "dynamic", "int8", "int8-full")
SIZES = (320, 640)
MODELS = {"démonstration": export_detector, "référence": export_reference_detector}
SPEEDUP_TARGET = 1.3
MIN_RUNS = 20
# XNNPACK's README, end-to-end benchmark of 8 February 2022 (MobileNet v2 1.0 224×224,
# multi-threaded, randomized weights, int8 with per-channel weights): Raspberry Pi 4, ARM64.
PI4_REFERENCE_MS = {"float32": 46.0, "int8": 17.0}


def french(value: float, digits: int) -> str:
    return f"{value:.{digits}f}".replace(".", ",")


def convert_all(model_dir: Path, size: int, modes=MODES) -> dict[str, bytes]:
    """Each mode of one SavedModel, calibrated on the detection scenes at ``size``."""
    model = load_saved_model(model_dir)
    dataset = representative_dataset(
        DETECTION_DIR / "calibration", input_size=(size, size), min_images=100
    )
    return {
        mode: convert(model, mode, dataset if mode in INTEGER_MODES else None)[0] for mode in modes
    }


def delegation(model: bytes) -> tuple[int, Counter]:
    """(number of DELEGATE partitions, Counter of the ops XNNPACK leaves to LiteRT).

    With the default delegate the interpreter lists the file's ops, then one DELEGATE node per
    partition. A partition holds the ops between its inputs and its outputs: walk back from its
    outputs, through producers, stopping at its inputs.
    """
    ops = op_details(load_interpreter(model, default_delegates=True))
    delegates = [op for op in ops if op["op_name"] == "DELEGATE"]
    original = [op for op in ops if op["op_name"] != "DELEGATE"]
    producer = {int(t): op["index"] for op in original for t in op["outputs"]}
    by_index = {op["index"]: op for op in original}
    inside: set[int] = set()
    for delegate in delegates:
        inputs = {int(t) for t in delegate["inputs"]}
        pending = [int(t) for t in delegate["outputs"]]
        while pending:
            tensor = pending.pop()
            index = producer.get(tensor)
            if tensor in inputs or index is None or index in inside:
                continue
            inside.add(index)
            pending += [int(t) for t in by_index[index]["inputs"] if int(t) >= 0]
    outside = Counter(op["op_name"] for op in original if op["index"] not in inside)
    return len(delegates), outside


def demo_map(labels, description) -> dict[str, float]:
    """mAP@0.5 of the demo detector at 128×128 in each mode (its training size)."""
    scores = {}
    with tempfile.TemporaryDirectory() as scratch:
        for mode, content in convert_all(DETECTOR_DIR, 128).items():
            metadata = build_metadata(
                content,
                mode=mode,
                source="data/detecteur_demo",
                input_size=(128, 128),
                normalization="symmetric",
                labels=labels,
                extra={"detector": description},
            )
            path = write_model(Path(scratch) / f"{mode}.tflite", content, metadata)
            test = DETECTION_DIR / "test"
            scores[mode] = evaluate_detector(path, test, test / "annotations.json")["map50"]
    return scores


def measure(content: bytes, cores: int, runs: int) -> dict:
    latency = {}
    for threads in sorted({1, cores}):
        for xnnpack in (True, False):
            result = measure_latency(
                content, num_threads=threads, runs=runs, default_delegates=xnnpack
            )
            latency[threads, xnnpack] = result["median_ms"]
    partitions, outside = delegation(content)
    return {"size": len(content), "latency": latency, "partitions": partitions, "outside": outside}


def main() -> int:
    parser = FrenchArgumentParser(prog="python bench/bench_detector.py", description=__doc__)
    parser.add_argument(
        "--runs", type=int, default=30, help=f"inférences chronométrées par mesure (≥ {MIN_RUNS})"
    )
    args = parser.parse_args()
    if args.runs < MIN_RUNS:
        parser.error(f"--runs {args.runs} : au moins {MIN_RUNS} inférences par mesure.")
    labels = read_labels(DETECTOR_DIR / "labels.txt")
    description = read_detector_description(DETECTOR_DIR)
    cores = all_cores()
    print(f"{cores} cœur(s), {args.runs} inférences par mesure après échauffement.", flush=True)
    rows = {}
    with tempfile.TemporaryDirectory() as scratch:
        for name, export in MODELS.items():
            for size in SIZES:
                folder = export(Path(scratch) / f"{name}_{size}", size)
                for mode, content in convert_all(folder, size).items():
                    rows[name, size, mode] = measure(content, cores, args.runs)
                print(f"  {name} {size}×{size} mesuré", flush=True)
    print()
    many = f"{cores} fils"
    print(
        f"| modèle | entrée | mode | taille | 1 fil | 1 fil sans XNNPACK | {many} | "
        f"{many} sans XNNPACK | partitions DELEGATE | opérations hors XNNPACK |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for (name, size, mode), row in rows.items():
        latency = row["latency"]
        outside = ", ".join(f"{op} ×{n}" for op, n in sorted(row["outside"].items())) or "aucune"
        print(
            f"| {name} | {size}×{size} | {mode} | {format_size(row['size'])} | "
            f"{french(latency[1, True], 1)} ms | {french(latency[1, False], 1)} ms | "
            f"{french(latency[cores, True], 1)} ms | {french(latency[cores, False], 1)} ms | "
            f"{row['partitions']} | {outside} |"
        )
    print()
    for name in MODELS:
        for size in SIZES:
            base = rows[name, size, "float32"]["latency"][1, True]
            full = rows[name, size, "int8-full"]["latency"][1, True]
            verdict = ""
            if (name, size) == ("référence", 320):
                verdict = (
                    f" ({'✓' if base / full >= SPEEDUP_TARGET else '✗'} objectif "
                    f"≥ {french(SPEEDUP_TARGET, 1)})"
                )
            print(
                f"{name} {size}×{size}, 1 fil : float32 {french(base, 1)} ms, int8-full "
                f"{french(full, 1)} ms, soit {french(base / full, 2)} fois plus rapide{verdict}"
            )
    print()
    scores = demo_map(labels, description)
    print(
        "mAP@0,5 du détecteur de démonstration (128×128, data/detection/test) : "
        + ", ".join(f"{mode} {french(100 * value, 1)} %" for mode, value in scores.items())
        + " (le détecteur de référence, jamais entraîné, n'en a pas)."
    )
    pi = PI4_REFERENCE_MS
    print(
        f"Référence Raspberry Pi 4 (README d'XNNPACK, banc du 8 février 2022, MobileNet v2 "
        f"224×224, plusieurs fils, poids aléatoires) : float32 {french(pi['float32'], 0)} ms, "
        f"int8 {french(pi['int8'], 0)} ms, {french(pi['float32'] / pi['int8'], 1)} fois plus "
        "rapide. Le kit ne mesure pas la Pi : detecter.py --mesurer N le fait."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
