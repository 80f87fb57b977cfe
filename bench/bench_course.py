"""Mesure : les budgets de temps du cours, en multiples d'une référence R mesurée sur place.

R est la durée d'un processus Python nu qui importe TensorFlow, construit un MobileNetV2
(96×96, alpha 0,35, poids aléatoires : rien n'est téléchargé) et le convertit en .tflite
float32 (médiane de 3 essais par défaut). R ne dépend pas des modèles du cours : les rendre plus
rapides rend le cours plus rapide au lieu de rapetisser R. Chaque notebook est ensuite exécuté sans interface
dans un noyau neuf, comme le fait ``make course`` : le temps compte du démarrage du noyau à la
fin de la dernière cellule. Les notebooks du dépôt ne sont pas modifiés (copies exécutées dans
sorties/bench/).

Pourquoi des rapports et pas des secondes : les machines diffèrent (Intel, AMD, portables,
serveurs partagés) et les mesures sont bruitées. R, pris dans la même séance sur la même
machine, absorbe l'essentiel de ces écarts : un budget en R se vérifie partout.

Budgets : notebooks 00 à 04 ensemble ≤ 4 R ; 05 ≤ 2 R ; 06 ≤ 2 R ; capsule_10_minutes
≤ 1 R ; avec --test, la suite de tests complète ≤ 16 R. Le tableau s'affiche même hors budget
(code de sortie 0) : c'est une mesure, pas un test.
Lancement : ``python bench/bench_course.py [NOTEBOOK ...] [--test] [--runs-r 3]``.
"""

from __future__ import annotations

import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from helpers.base.errors import quiet_environment
from helpers.base.paths import ROOT
from helpers.base.units import french
from helpers.pi.classer import FrenchArgumentParser

OUTPUT_DIR = ROOT / "sorties" / "bench"
REFERENCE = """
import tensorflow as tf
model = tf.keras.applications.MobileNetV2(input_shape=(96, 96, 3), alpha=0.35, weights=None)
tf.lite.TFLiteConverter.from_keras_model(model).convert()
"""
# (label, which notebooks count, budget in R): notebooks 00 to 04 share a single budget.
BUDGETS = [
    ("notebooks 00 à 04 (ensemble)", lambda name: name[:3] in {f"0{i}_" for i in range(5)}, 4),
    ("notebook 05", lambda name: name.startswith("05_"), 2),
    ("notebook 06", lambda name: name.startswith("06_"), 2),
    ("capsule_10_minutes", lambda name: name == "capsule_10_minutes.ipynb", 1),
]
TEST_BUDGET = 16


def fr(value: float, digits: int) -> str:
    return french(value, f".{digits}f")


def timed_run(command: list[str], env=None) -> tuple[float, subprocess.CompletedProcess]:
    """Durée (s) et résultat d'une commande lancée depuis la racine du dépôt."""
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    return time.perf_counter() - started, done


def time_notebook(path: Path) -> float | None:
    """Secondes du démarrage du noyau à la fin de la dernière cellule (None : erreur)."""
    notebook = nbformat.read(path, as_version=4)  # in memory: the stored file is never written
    ended = []
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        # Kernel shutdown is not part of what the course costs: stop the clock at the last cell.
        on_cell_executed=lambda **_: ended.append(time.perf_counter()),
    )
    started = time.perf_counter()
    try:
        client.execute(stderr=subprocess.DEVNULL)  # TensorFlow's C++ start-up lines
    except CellExecutionError as error:
        last_line = re.sub(r"\x1b\[[0-9;]*m", "", str(error).strip().splitlines()[-1])  # colours
        print(f"  erreur : {last_line[:200]}", flush=True)
        return None
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, OUTPUT_DIR / path.name)
    return (ended[-1] if ended else time.perf_counter()) - started


def main() -> int:
    parser = FrenchArgumentParser(prog="python bench/bench_course.py", description=__doc__)
    parser.add_argument(
        "notebooks", nargs="*", type=Path, metavar="NOTEBOOK",
        help="notebooks à mesurer (par défaut : tous les notebooks/*.ipynb, dans l'ordre)",
    )  # fmt: skip
    parser.add_argument("--test", action="store_true", help="mesure aussi la suite de tests")
    parser.add_argument("--runs-r", type=int, default=3, metavar="N", help="essais pour R")
    args = parser.parse_args()
    missing = [str(p) for p in args.notebooks if not p.is_file()]
    if missing:
        parser.error(f"notebook introuvable : {', '.join(missing)}")
    if args.runs_r < 1:
        parser.error("--runs-r doit valoir au moins 1")
    paths = [p.resolve() for p in args.notebooks] or sorted((ROOT / "notebooks").glob("*.ipynb"))

    print(f"Référence R ({args.runs_r} essais)…", flush=True)
    env = quiet_environment()
    runs = []
    for _ in range(args.runs_r):
        seconds, done = timed_run([sys.executable, "-c", REFERENCE], env)
        if done.returncode:  # a failed conversion is fast: R would mean nothing
            sys.exit(f"Erreur : la mesure de référence a échoué :\n{done.stderr[-2000:]}")
        runs.append(seconds)
    r = statistics.median(runs)

    rows = []  # (élément, seconds or None on error, budget in R or None)
    times = {}
    for path in paths:
        print(f"Exécution de {path.name}…", flush=True)
        times[path.name] = time_notebook(path)
        rows.append((path.name, times[path.name], None))
    for label, counts, budget in BUDGETS:
        measured = [seconds for name, seconds in times.items() if counts(name)]
        if measured:  # only the notebooks that exist and were asked for
            rows.append((label, None if None in measured else sum(measured), budget))
    if args.test:
        print("Suite de tests complète…", flush=True)
        seconds, done = timed_run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly"])
        label = "tests (pytest, en échec)" if done.returncode else "tests (pytest)"
        rows.append((label, seconds, TEST_BUDGET))

    print(
        f"\nMachine : {platform.platform()}, {os.cpu_count()} processeur(s) logique(s) ; "
        f"R = {fr(r, 1)} s (médiane de {' ; '.join(fr(x, 1) + ' s' for x in runs)})\n"
    )
    print("| élément | secondes | en R | budget (en R) | verdict |")
    print("|---|---|---|---|---|")
    over = failed = budgeted = 0
    for label, seconds, budget in rows:
        if seconds is None:
            verdict, figures = "✗ erreur d'exécution", "— | —"
        else:
            figures = f"{fr(seconds, 1)} s | {fr(seconds / r, 2)} R"
            if budget is None:
                verdict = ""
            else:
                verdict = "✓ dans le budget" if seconds <= budget * r else "✗ hors budget"
        if budget is not None:
            budgeted += 1
            over += verdict == "✗ hors budget"
            failed += seconds is None
        limit = "—" if budget is None else f"≤ {budget}"
        print(f"| {label} | {figures} | {limit} | {verdict} |")
    print(
        f"\nHors budget : {over} élément(s) sur {budgeted} ayant un budget"
        + (f" ; {failed} non mesuré(s) (erreur d'exécution)." if failed else ".")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
