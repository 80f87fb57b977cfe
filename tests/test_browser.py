"""Le cours dans un vrai navigateur : JupyterLab du cours, ouvert dans Chromium sans écran.

Le test démarre le JupyterLab du cours sur ce poste (localhost), ouvre le notebook de la
capsule, vérifie que l'interface est en français et qu'aucune question sur les nouvelles de
Jupyter ne s'affiche, exécute toutes les cellules depuis le menu, vérifie qu'aucune cellule ne
montre d'erreur, que l'exercice attend toujours l'étudiant (sa solution reste repliée, et
s'ouvre d'un clic) et enregistre une capture d'écran dans ``sorties/jupyterlab_capsule.png``.
Puis il ouvre la capsule en diaporama (RISE, ``jupyterlab-rise``) : une diapositive par
section, capture dans ``sorties/diaporama_capsule.png``.

Il faut Chromium (``sudo apt install chromium``) et le paquet Python playwright
(``pip install -r requirements.txt``) ; aucun navigateur n'est téléchargé. Sans eux, le test est
ignoré sur le poste d'un étudiant et échoue en intégration continue (``CI=true``).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

from helpers.base.errors import quiet_environment
from helpers.base.paths import OUTPUT_DIR, ROOT

NOTEBOOKS_DIR = ROOT / "notebooks"
CAPSULE_NOTEBOOK = NOTEBOOKS_DIR / "capsule_10_minutes.ipynb"
SCREENSHOT = OUTPUT_DIR / "jupyterlab_capsule.png"
SLIDESHOW_SCREENSHOT = OUTPUT_DIR / "diaporama_capsule.png"
# JupyterLab autosaves what it opens: the browser works on a copy. The copy sits directly in
# sorties/, at the same depth as notebooks/, so the notebook's relative paths (../data/...) still
# lead to the repository's data.
NOTEBOOK_COPY = OUTPUT_DIR / f"navigateur_{CAPSULE_NOTEBOOK.name}"

INSTALL_HINT = (
    "installez Chromium avec `sudo apt install chromium` (Debian, Ubuntu) et le paquet playwright "
    "avec `pip install -r requirements.txt` (aucun navigateur n'est téléchargé)"
)
# The news prompt, in French and in English (should the language pack fail to load).
NEWS_PROMPT = re.compile(r"nouvelles officielles de Jupyter|official Jupyter news", re.IGNORECASE)

# Every wait is time-boxed (seconds): the test fails with a message rather than hang.
SERVER_START_TIMEOUT = 45
PAGE_TIMEOUT = 30
KERNEL_READY_TIMEOUT = 30
RUN_ALL_TIMEOUT = 90
SERVER_STOP_TIMEOUT = 20
# Chromium as the machine allows it: as root no sandbox, no GPU, and no background requests (the
# closed network refuses them, and a course runs offline).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-proxy-server",
]


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _require_browser() -> str:
    """Le chemin de Chromium ; sinon le test est ignoré, ou échoue en intégration continue."""
    missing = []
    chromium = _chromium()
    if chromium is None:
        missing.append("Chromium est introuvable")
    if importlib.util.find_spec("playwright") is None:
        missing.append("le paquet Python playwright n'est pas installé")
    if missing:
        reason = f"{' et '.join(missing)} ; {INSTALL_HINT}."
        # Under CI the check must run: a missing browser there is a broken CI, not a skip.
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Test du navigateur impossible en CI : {reason}", pytrace=False)
        pytest.skip(f"Test du navigateur ignoré : {reason}")
    return chromium


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _request(url: str, method: str = "GET", timeout: float = 5) -> bytes:
    # No proxy: the server is on this machine.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(urllib.request.Request(url, method=method), timeout=timeout) as response:
        return response.read()


def _log_tail(log_file: Path) -> str:
    lines = log_file.read_text(encoding="utf-8", errors="replace").splitlines()
    return "\n".join(lines[-20:])


@pytest.fixture
def chromium() -> str:
    """Chromium, vérifié avant de démarrer quoi que ce soit."""
    return _require_browser()


@pytest.fixture
def jupyterlab(chromium, tmp_path):
    """Le JupyterLab du cours sur un port libre de localhost : (adresse, jeton). Toujours arrêté."""
    port = _free_port()
    token = secrets.token_hex(16)
    base_url = f"http://127.0.0.1:{port}"
    env = quiet_environment(
        dict(
            os.environ,
            # The course's settings (overrides.json in the venv) apply as they do for a student; the
            # student's own settings and saved workspace stay out, and nothing is written in them.
            JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "user-settings"),
            JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"),
            JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
        )
    )
    command = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        "--ServerApp.open_browser=False",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={ROOT}",
        # window.jupyterapp: the test reads the notebook's model (outputs, execution counts).
        "--LabApp.expose_app_in_browser=True",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    log_file = tmp_path / "jupyterlab.log"
    with open(log_file, "wb") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own process group: the finalizer can end the server and nothing else.
            start_new_session=os.name == "posix",
        )
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(
                    f"JupyterLab s'est arrêté au démarrage (code {process.returncode}) :\n"
                    f"{_log_tail(log_file)}",
                    pytrace=False,
                )
            try:
                _request(f"{base_url}/api/status?token={token}", timeout=2)
                break
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"JupyterLab ne répond pas après {SERVER_START_TIMEOUT} s :\n"
                        f"{_log_tail(log_file)}",
                        pytrace=False,
                    )
                time.sleep(0.3)
        yield base_url, token
    finally:
        _stop_jupyterlab(process, base_url, token)


def _stop_jupyterlab(process: subprocess.Popen, base_url: str, token: str) -> None:
    # Kernels run in their own sessions: shut them down through the server first, so that no
    # TensorFlow process outlives the test.
    try:
        kernels = json.loads(_request(f"{base_url}/api/kernels?token={token}", timeout=3))
        for kernel in kernels:
            _request(f"{base_url}/api/kernels/{kernel['id']}?token={token}", "DELETE", timeout=10)
    except (urllib.error.URLError, OSError, ValueError):
        pass  # the server is gone already, or busy: SIGTERM below also shuts its kernels down
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=SERVER_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            if os.name == "posix":
                os.killpg(process.pid, signal.SIGKILL)
            else:
                process.kill()
            process.wait(timeout=SERVER_STOP_TIMEOUT)


def _copy_without_outputs(source: Path, destination: Path) -> None:
    """Copie le notebook sans ses sorties enregistrées : ce que le test voit vient de son
    exécution, et une cellule sans numéro d'exécution est une cellule qui n'a pas tourné."""
    notebook = nbformat.read(source, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    destination.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, destination)


# The notebook's state, read from JupyterLab's own model of the open notebook.
NOTEBOOK_STATE_JS = """() => {
    const panel = window.jupyterapp ? window.jupyterapp.shell.currentWidget : null;
    if (!panel || !panel.context || !panel.sessionContext) { return null; }
    const kernel = panel.sessionContext.session ? panel.sessionContext.session.kernel : null;
    const notebook = panel.context.model.toJSON();
    const cells = notebook.cells.filter((cell) => cell.cell_type === "code");
    return {
        path: panel.context.path,
        kernel: kernel ? kernel.status : null,
        running: Array.from(panel.content.model.cells).filter(
            (cell) => cell.type === "code" && cell.executionState === "running").length,
        counts: cells.map((cell) => cell.execution_count),
        errors: cells.flatMap((cell) => cell.outputs)
            .filter((output) => output.output_type === "error")
            .map((output) => `${output.ename}: ${output.evalue}`),
    };
}"""


def _wait_for_state(page, done, timeout: float, what: str) -> dict:
    deadline = time.monotonic() + timeout
    state = None
    while time.monotonic() < deadline:
        state = page.evaluate(NOTEBOOK_STATE_JS)
        if state is not None and done(state):
            return state
        page.wait_for_timeout(250)
    page.screenshot(path=str(SCREENSHOT))
    pytest.fail(
        f"{what} : rien après {timeout} s (état : {state} ; capture : sorties/{SCREENSHOT.name}).",
        pytrace=False,
    )


# What RISE draws: reveal.js sections, one per slide (fragments and sub-slides inside them).
SLIDES_JS = """() => {
    const slides = document.querySelectorAll(".reveal .slides > section");
    const first = slides.length ? slides[0].querySelector("h1") : null;
    return {count: slides.length, title: first ? first.innerText : ""};
}"""


def _open_slideshow(browser, base_url: str, token: str, relative_copy: str) -> dict:
    """La capsule en diaporama, page que RISE sert sous /rise/ : ses diapositives."""
    page = browser.new_page(viewport={"width": 1280, "height": 720}, locale="en-US")
    page.set_default_timeout(PAGE_TIMEOUT * 1000)
    page.goto(f"{base_url}/rise/{relative_copy}?token={token}")
    title = page.locator(".reveal .slides section.present h1").first
    try:
        title.wait_for(state="visible")
    finally:
        page.screenshot(path=str(SLIDESHOW_SCREENSHOT))
    return page.evaluate(SLIDES_JS)


def test_capsule_runs_in_french_jupyterlab_without_errors(chromium, jupyterlab):
    from playwright.sync_api import expect, sync_playwright

    base_url, token = jupyterlab
    stored = _digest(CAPSULE_NOTEBOOK)
    _copy_without_outputs(CAPSULE_NOTEBOOK, NOTEBOOK_COPY)
    relative_copy = NOTEBOOK_COPY.relative_to(ROOT).as_posix()
    started = time.monotonic()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_ARGS, timeout=PAGE_TIMEOUT * 1000
        )
        try:
            # An English browser: French can only come from the course's JupyterLab settings.
            page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="en-US")
            page.set_default_timeout(PAGE_TIMEOUT * 1000)
            page.goto(f"{base_url}/lab/tree/{relative_copy}?token={token}")

            # The interface is in French: the first menu is « Fichier ».
            menus = page.locator("#jp-MainMenu .lm-MenuBar-itemLabel")
            expect(menus.first).to_be_visible(timeout=PAGE_TIMEOUT * 1000)
            labels = menus.all_inner_texts()
            assert labels[:1] == ["Fichier"], (
                f"JupyterLab n'est pas en français (menus : {labels}) : relancez "
                "`python -m helpers jupyterlab-french` (make install)."
            )
            # The notebook is open and its kernel has started.
            _wait_for_state(
                page,
                lambda state: state["path"] == relative_copy and state["kernel"] == "idle",
                KERNEL_READY_TIMEOUT,
                f"Le noyau du notebook {CAPSULE_NOTEBOOK.name} n'a pas démarré",
            )

            load_seconds = time.monotonic() - started
            run_started = time.monotonic()
            # Run every cell from the interface, as in the room: menu Exécution.
            page.get_by_role("menuitem", name="Exécution", exact=True).click()
            page.get_by_role("menuitem", name="Exécuter toutes les cellules", exact=True).click()
            state = _wait_for_state(
                page,
                lambda state: (
                    state["kernel"] == "idle"
                    and state["running"] == 0
                    and (state["errors"] or all(count is not None for count in state["counts"]))
                ),
                RUN_ALL_TIMEOUT,
                f"L'exécution de toutes les cellules de {CAPSULE_NOTEBOOK.name} ne s'est pas terminée",
            )
            run_seconds = time.monotonic() - run_started
            page.screenshot(path=str(SCREENSHOT))

            assert not state["errors"], (
                f"{CAPSULE_NOTEBOOK.name} : des cellules s'arrêtent sur une erreur : "
                f"{state['errors']} (capture : sorties/{SCREENSHOT.name})."
            )
            not_run = sum(count is None for count in state["counts"])
            assert not not_run, f"{not_run} cellule(s) de code n'ont pas été exécutées."
            # What the room sees: no rendered traceback either (outputs of type error).
            tracebacks = page.locator(".jp-OutputArea-output", has_text="Traceback")
            assert tracebacks.count() == 0, (
                f"Une cellule affiche une erreur : {tracebacks.first.inner_text()[:500]}"
            )
            # "Exécuter tout" left the exercise to the student: its check waits, its solution is
            # folded, and one click on « Solution » shows it.
            page_text = page.locator(".jp-Notebook").inner_text()
            assert "À vous" in page_text and "Bravo" not in page_text
            solution = page.locator(".jp-MarkdownOutput details").first
            code = solution.locator("pre")
            assert solution.count() == 1 and not code.is_visible()
            solution.locator("summary").click()
            expect(code).to_be_visible()
            assert "np.round" in code.inner_text()
            # The news prompt never showed: by now JupyterLab has been up long enough to ask.
            assert not NEWS_PROMPT.search(page.locator("body").inner_text()), (
                "JupyterLab demande encore s'il faut suivre les nouvelles officielles de Jupyter : "
                "relancez `python -m helpers jupyterlab-french` (make install)."
            )
            slides = _open_slideshow(browser, base_url, token, relative_copy)
        finally:
            browser.close()

    sections = [
        cell
        for cell in nbformat.read(CAPSULE_NOTEBOOK, as_version=4).cells
        if cell.metadata.get("slideshow", {}).get("slide_type") == "slide"
    ]
    assert slides["count"] == len(sections), slides
    assert slides["title"].lower().startswith("capsule de 10 minutes"), slides  # theme: capitals
    assert _digest(CAPSULE_NOTEBOOK) == stored, f"Le test a modifié {CAPSULE_NOTEBOOK.name}."
    print(
        f"{CAPSULE_NOTEBOOK.name} dans Chromium : ouvert en {load_seconds:.1f} s, "
        f"exécuté en {run_seconds:.1f} s."
    )
