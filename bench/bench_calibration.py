"""Mesure : le chargeur d'étalonnage du kit (en flux) contre celui de la capsule (liste complète).

Des images PNG 640×640 sont générées dans un dossier temporaire (100 et 1000 images), puis
chaque cas (chargeur × nombre d'images) tourne dans un processus Python séparé, pour que son pic
de mémoire (RSS) soit le sien. On parcourt le jeu comme le ferait le convertisseur, une image
après l'autre, et on mesure le pic de mémoire et le débit (images par seconde).

Budgets : le pic du kit grandit d'au plus 50 Mo de 100 à 1000 images, et son débit est au moins
celui de la capsule. Lancement : ``python bench/bench_calibration.py`` (environ 1 à 2 minutes,
jusqu'à 5 Go de mémoire pour la liste de la capsule). Code de sortie 1 si un budget est dépassé.
"""

from __future__ import annotations

import argparse
import glob
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from helpers.base.errors import quiet_environment

SIZE = 640
COUNTS = (100, 1000)
DISTINCT_IMAGES = 12  # encoded once, then written many times: generation stays short
GROWTH_BUDGET_MB = 50.0
LOADERS = ("kit", "capsule")
LOADER_NAMES = {"kit": "kit (en flux)", "capsule": "capsule (liste)"}


def peak_rss_mb() -> float:
    """Pic de mémoire résidente du processus, en Mo de 10⁶ octets, comme le calcul théorique
    (ru_maxrss : Kio sous Linux, octets sous macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1e6 if sys.platform == "darwin" else peak * 1024 / 1e6


def encoded_images(count: int, size: int, seed: int = 0) -> list[bytes]:
    """Quelques PNG « photo » : un fond lisse (aléatoire basse résolution agrandi) plus du bruit."""
    rng = np.random.default_rng(seed)
    encoded = []
    for _ in range(count):
        coarse = Image.fromarray(rng.integers(0, 256, size=(12, 12, 3), dtype=np.uint8))
        smooth = np.asarray(coarse.resize((size, size), Image.BICUBIC), dtype=np.int16)
        noisy = smooth + rng.integers(-12, 13, size=smooth.shape, dtype=np.int16)
        buffer = io.BytesIO()
        Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).save(
            buffer, format="PNG", compress_level=1
        )
        encoded.append(buffer.getvalue())
    return encoded


def write_folder(folder: Path, count: int, encoded: list[bytes]) -> None:
    folder.mkdir(parents=True)
    for index in range(count):
        (folder / f"image_{index:04d}.png").write_bytes(encoded[index % len(encoded)])


def capsule_representative_dataset(folder: str, image_size: int = SIZE):
    """Le chargeur de la capsule, à l'identique : toutes les images dans une liste, puis yield."""
    raw_test_data = []
    files = glob.glob(folder + "/*.png")
    for file in files:
        image = Image.open(file)
        image = image.convert("RGB")
        image = image.resize((image_size, image_size))
        image = (2.0 / 255.0) * np.float32(image) - 1.0
        image = np.asarray(image).astype(np.float32)
        image = image[np.newaxis, :, :, :]
        raw_test_data.append(image)
    for data in raw_test_data:
        yield [data]


def run_case(loader: str, folder: str) -> dict:
    """Un cas, dans ce processus : parcourt tout le jeu et renvoie pic RSS, durée, nombre."""
    from helpers.steps.calibration import representative_dataset

    start_rss = peak_rss_mb()
    started = time.perf_counter()
    if loader == "kit":
        dataset = representative_dataset(folder, input_size=(SIZE, SIZE), max_samples=None)
        batches = dataset()
    else:
        batches = capsule_representative_dataset(folder)
    count = 0
    for batch in batches:
        # What the converter checks on each item before copying it into the model's input.
        assert batch[0].shape == (1, SIZE, SIZE, 3) and batch[0].dtype == np.float32
        count += 1
    seconds = time.perf_counter() - started
    return {"count": count, "seconds": seconds, "peak_mb": peak_rss_mb(), "start_mb": start_rss}


def measure(loader: str, folder: Path) -> dict:
    environment = quiet_environment()
    result = subprocess.run(
        [sys.executable, __file__, "--case", loader, "--folder", str(folder)],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"Erreur : le cas {loader} sur {folder.name} a échoué :\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=LOADERS, help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case, args.folder)))
        return 0

    total_started = time.perf_counter()
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench_etalonnage_") as temporary:
        started = time.perf_counter()
        encoded = encoded_images(DISTINCT_IMAGES, SIZE)
        folders = {count: Path(temporary) / f"images_{count}" for count in COUNTS}
        for count, folder in folders.items():
            write_folder(folder, count, encoded)
        megabytes = sum(len(encoded[i % len(encoded)]) for i in range(max(COUNTS))) / 1e6
        print(
            f"Images générées : {' et '.join(map(str, COUNTS))} PNG {SIZE}×{SIZE} "
            f"({megabytes:.0f} Mo pour {max(COUNTS)}) en {time.perf_counter() - started:.1f} s"
        )
        for count in COUNTS:
            for loader in LOADERS:  # side by side, on the same files, in the same run
                results[loader, count] = measure(loader, folders[count])
                r = results[loader, count]
                print(
                    f"  mesuré : {LOADER_NAMES[loader]}, {count} images, {r['seconds']:.1f} s",
                    flush=True,
                )

    float_mb = SIZE * SIZE * 3 * 4 / 1e6
    print(f"\nÉtalonnage {SIZE}×{SIZE}×3 float32 ({float_mb:.1f} Mo par image)\n")
    header = f"| {'chargeur':<16} | {'images':>6} | {'pic RSS (Mo)':>12} | {'images/s':>8} | {'durée (s)':>9} |"
    print(header)
    print("|" + "|".join("-" * (len(cell)) for cell in header.split("|")[1:-1]) + "|")
    for loader in LOADERS:
        for count in COUNTS:
            r = results[loader, count]
            print(
                f"| {LOADER_NAMES[loader]:<16} | {count:>6} | {r['peak_mb']:>12.0f} | "
                f"{r['count'] / r['seconds']:>8.1f} | {r['seconds']:>9.1f} |"
            )

    small, large = COUNTS
    growth = {
        loader: results[loader, large]["peak_mb"] - results[loader, small]["peak_mb"]
        for loader in LOADERS
    }
    speed = {
        loader: sum(results[loader, c]["count"] for c in COUNTS)
        / sum(results[loader, c]["seconds"] for c in COUNTS)
        for loader in LOADERS
    }
    memory_ok = growth["kit"] <= GROWTH_BUDGET_MB
    speed_ok = speed["kit"] >= speed["capsule"]
    print(
        f"\nCroissance du pic de {small} à {large} images : kit {growth['kit']:+.0f} Mo, "
        f"capsule {growth['capsule']:+.0f} Mo."
    )
    print(
        f"Budget mémoire (kit ≤ {GROWTH_BUDGET_MB:.0f} Mo de croissance) : "
        f"{'respecté' if memory_ok else 'DÉPASSÉ'}."
    )
    print(
        f"Budget débit (kit ≥ capsule, sur {small} + {large} images) : kit {speed['kit']:.1f} images/s, "
        f"capsule {speed['capsule']:.1f} images/s (× {speed['kit'] / speed['capsule']:.2f}) : "
        f"{'respecté' if speed_ok else 'DÉPASSÉ'}."
    )
    print(f"Durée totale de la mesure : {time.perf_counter() - total_started:.0f} s")
    return 0 if memory_ok and speed_ok else 1


if __name__ == "__main__":
    sys.exit(main())
