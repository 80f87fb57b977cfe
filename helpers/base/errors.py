"""Erreurs du kit : un message en français qui dit ce qui ne va pas et quoi faire.

Et le silence de TensorFlow et LiteRT : leurs messages techniques en anglais (« oneDNN custom
operations », « fully_quantize: 0, inference_type: 6 ») ne doivent pas passer avant la ligne
« Erreur : ... » ni encombrer un notebook. Une seule règle, ici : ``quiet_environment`` pour un
processus qui importera TensorFlow, ``silence_tensorflow`` dans un notebook ou un script,
``quiet_tensorflow`` autour d'un appel.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import re
import sys
import tempfile
import threading
import warnings


class KitError(Exception):
    """Erreur d'usage (mauvaise entrée) expliquée en français.

    La ligne de commande l'affiche sous la forme ``Erreur : <message>`` et sort avec le code 2.
    """

    def _render_traceback_(self) -> list[str]:
        # IPython (Jupyter) shows these lines instead of the traceback: the student reads the
        # French message, not the kit's internal frames with the machine's paths.
        return [f"{type(self).__name__}: {self}"]


# Read by TensorFlow's C++ code when TensorFlow is first imported: INFO and WARNING lines off.
_QUIET_VARIABLES = {"TF_CPP_MIN_LOG_LEVEL": "2"}

# What TensorFlow's C++ code writes to descriptor 2 whatever TF_CPP_MIN_LOG_LEVEL says: two
# absl lines at import (logged before absl::InitializeLog), and the quantizer's llvm::dbgs()
# line (tensorflow/compiler/mlir/lite/quantization/lite/quantize_model.cc), which no log
# level governs. Errors (E, F lines) stay visible.
_TENSORFLOW_LINE = re.compile(
    r"WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|[IW]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [\w.]+:\d+\] "
    r"|fully_quantize: \d+, inference_type: "
    r"|INFO: Created TensorFlow Lite "
)
_filter_lock = threading.Lock()
_filter_installed = False


def quiet_environment(environment=None) -> dict[str, str]:
    """Une copie de ``environment`` (par défaut ``os.environ``) pour un processus qui importera
    TensorFlow : ses journaux techniques coupés."""
    return {**(os.environ if environment is None else environment), **_QUIET_VARIABLES}


def is_tensorflow_log(line: str) -> bool:
    """Vrai pour une ligne que TensorFlow écrit de lui-même (journal technique, en anglais)."""
    return _TENSORFLOW_LINE.match(line) is not None


def _filter_descriptor_2() -> None:
    """Descriptor 2 becomes a pipe; a thread passes on every line but TensorFlow's own."""
    global _filter_installed
    with _filter_lock:
        if _filter_installed:
            return
        sys.stderr.flush()
        original = os.dup(2)
        read_end, write_end = os.pipe()
        os.dup2(write_end, 2)
        os.close(write_end)

        def forward() -> None:
            with os.fdopen(read_end, "rb") as source:
                for line in source:
                    if not is_tensorflow_log(line.decode("utf-8", errors="replace")):
                        os.write(original, line)

        thread = threading.Thread(target=forward, name="journaux-tensorflow", daemon=True)
        thread.start()

        def drain() -> None:
            # At exit, give descriptor 2 back: the pipe closes, the thread writes what is left.
            sys.stderr.flush()
            os.dup2(original, 2)
            thread.join(timeout=2)

        atexit.register(drain)
        _filter_installed = True


def _below_error(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.ERROR


def silence_tensorflow() -> None:
    """À appeler avant ``import tensorflow`` (cellule de configuration d'un notebook, script) :
    TensorFlow et LiteRT n'écrivent plus leurs journaux techniques en anglais, ni à l'import ni
    pendant ``converter.convert()`` ; leurs erreurs et tout le reste passent. Introduit dans le
    notebook 00."""
    os.environ.update(_QUIET_VARIABLES)
    # « INFO:tensorflow:Assets written to: /tmp/... »: a filter, since tf.get_logger() sets the
    # level back to INFO in an interactive session (Jupyter) the first time it is called.
    logger = logging.getLogger("tensorflow")
    if _below_error not in logger.filters:
        logger.addFilter(_below_error)
    try:
        _filter_descriptor_2()
    except (OSError, ValueError, AttributeError):
        pass  # no usable descriptor 2 (some embedded consoles): nothing reaches the screen


@contextlib.contextmanager
def quiet_tensorflow(hide_warnings: bool = False):
    """Cache ce que TensorFlow et LiteRT écrivent pendant le bloc ; le montre si tout échoue.

    Leur code C++ écrit directement sur le descripteur 2 (la sortie d'erreur), quoi que dise
    ``TF_CPP_MIN_LOG_LEVEL`` : ce descripteur va dans un journal temporaire, relu seulement si
    une erreur inattendue (pas une ``KitError``) sort du bloc. Le ``sys.stderr`` de Python
    (barres de progression, nos messages) reste à l'écran. Le journal Python « tensorflow »
    passe au niveau WARNING (sinon « Assets written to: /tmp/... »). Avec ``hide_warnings``,
    les avertissements Python du bloc sont ignorés aussi (``tf.lite.Interpreter`` obsolète, que
    le débogueur de TensorFlow utilise encore, ceux de LiteRT Quantizer).
    """
    for name, value in _QUIET_VARIABLES.items():
        os.environ.setdefault(name, value)
    with warnings.catch_warnings():
        if hide_warnings:
            warnings.simplefilter("ignore")
        with _descriptor_2_to_log():
            yield


@contextlib.contextmanager
def _descriptor_2_to_log():
    logger = logging.getLogger("tensorflow")
    previous_level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        sys.stderr.flush()
        saved_fd = os.dup(2)
    except (OSError, ValueError, AttributeError):
        saved_fd = None  # no usable descriptor 2 (some embedded consoles): nothing to hide
    if saved_fd is None:
        try:
            yield
        finally:
            logger.setLevel(previous_level)
        return
    python_stderr = sys.stderr
    try:
        python_on_fd2 = sys.stderr.fileno() == 2
    except (AttributeError, OSError, ValueError):
        python_on_fd2 = False  # already elsewhere (pytest, Jupyter): leave it alone
    log = tempfile.TemporaryFile()
    if python_on_fd2:
        sys.stderr = os.fdopen(os.dup(saved_fd), "w", encoding="utf-8", errors="replace")
    os.dup2(log.fileno(), 2)
    failed = False
    try:
        yield
    except (KitError, KeyboardInterrupt):
        raise
    except BaseException:
        failed = True
        raise
    finally:
        if sys.stderr is not python_stderr:
            sys.stderr.close()
            sys.stderr = python_stderr
        os.dup2(saved_fd, 2)
        os.close(saved_fd)
        if failed:
            log.seek(0)
            sys.stderr.write(log.read().decode("utf-8", errors="replace"))
        log.close()
        logger.setLevel(previous_level)
