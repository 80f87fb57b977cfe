"""Erreurs du kit : un message en français qui dit ce qui ne va pas et quoi faire.

Et le silence de TensorFlow et LiteRT : leurs messages techniques (« oneDNN custom
operations », « Created TensorFlow Lite XNNPACK delegate ») ne doivent pas passer avant la
ligne « Erreur : ... » ni encombrer un notebook.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile


class KitError(Exception):
    """Erreur d'usage (mauvaise entrée) expliquée en français.

    La ligne de commande l'affiche sous la forme ``Erreur : <message>`` et sort avec le code 2.
    """

    def _render_traceback_(self) -> list[str]:
        # IPython (Jupyter) shows these lines instead of the traceback: the student reads the
        # French message, not the kit's internal frames with the machine's paths.
        return [f"{type(self).__name__}: {self}"]


@contextlib.contextmanager
def quiet_tensorflow():
    """Cache ce que TensorFlow et LiteRT écrivent pendant le bloc ; le montre si tout échoue.

    Leur code C++ écrit directement sur le descripteur 2 (la sortie d'erreur), quoi que dise
    ``TF_CPP_MIN_LOG_LEVEL`` : ce descripteur va dans un journal temporaire, relu seulement si
    une erreur inattendue (pas une ``KitError``) sort du bloc. Le ``sys.stderr`` de Python
    (barres de progression, nos messages) reste à l'écran. Le journal Python « tensorflow »
    passe au niveau WARNING (sinon « Assets written to: /tmp/... »).
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # read when TensorFlow is first imported
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
