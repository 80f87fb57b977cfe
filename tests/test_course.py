"""Outils de l'enseignant : exécution du cours sans interface, JupyterLab en français."""

import configparser
import json
import re
import sys
from pathlib import Path

import nbformat
import pytest

from helpers.base.errors import KitError
from helpers.demo.classroom import (
    NOTIFICATION_PLUGIN,
    TRANSLATION_PLUGIN,
    course_notebooks,
    execute_notebooks,
    set_jupyterlab_french,
)


def _notebook(path, source):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source)]
    nbformat.write(notebook, path)
    return path


def test_execute_notebooks_writes_executed_copies_elsewhere(tmp_path):
    source = _notebook(tmp_path / "essai.ipynb", "print(6 * 7)")
    durations = execute_notebooks([source], output_dir=tmp_path / "sorties")
    executed = nbformat.read(tmp_path / "sorties" / "essai.ipynb", as_version=4)
    assert executed.cells[0].outputs[0]["text"] == "42\n"
    assert nbformat.read(source, as_version=4).cells[0].outputs == []  # the original is untouched
    assert [name for name, _ in durations] == ["essai.ipynb"]


def test_failing_notebook_is_named_in_a_french_error(tmp_path):
    source = _notebook(tmp_path / "casse.ipynb", "1 / 0")
    with pytest.raises(KitError, match="casse.ipynb s'est arrêté sur une erreur"):
        execute_notebooks([source], output_dir=tmp_path / "sorties")


def test_missing_notebook_is_a_french_error(tmp_path):
    with pytest.raises(KitError, match="introuvable"):
        execute_notebooks([tmp_path / "absent.ipynb"], output_dir=tmp_path)


def test_course_notebooks_are_in_course_order():
    names = [path.name for path in course_notebooks()]
    assert names[:5] == [
        "00_presentation.ipynb",
        "01_etalonnage.ipynb",
        "02_quantification.ipynb",
        "03_verification_des_types.ipynb",
        "04_export.ipynb",
    ]
    assert all(name[:2].isdigit() for name in names)  # not the capsule, nor a stray copy


def test_jupyterlab_french_keeps_other_overrides(tmp_path):
    settings = tmp_path / "share" / "jupyter" / "lab" / "settings"
    settings.mkdir(parents=True)
    (settings / "overrides.json").write_text(json.dumps({"autre:plugin": {"x": 1}}))
    written = set_jupyterlab_french(prefix=tmp_path)
    overrides = json.loads(written.read_text())
    assert overrides[TRANSLATION_PLUGIN]["locale"] == "fr_FR"
    assert overrides["autre:plugin"] == {"x": 1}


def test_jupyterlab_settings_turn_off_the_news_prompt(tmp_path):
    # The prompt « Souhaitez-vous être informé des nouvelles officielles de Jupyter ? » shows as
    # long as fetchNews is "none" (its default): "false" means never fetch, never ask.
    written = set_jupyterlab_french(prefix=tmp_path)
    overrides = json.loads(written.read_text(encoding="utf-8"))
    assert NOTIFICATION_PLUGIN == "@jupyterlab/apputils-extension:notification"
    assert overrides[NOTIFICATION_PLUGIN]["fetchNews"] == "false"
    assert overrides[NOTIFICATION_PLUGIN]["checkForUpdates"] is False
    assert written == tmp_path / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    # The installed JupyterLab must know this plugin and accept these values, or the override
    # would be silently ignored after an upgrade of JupyterLab.
    package, plugin = NOTIFICATION_PLUGIN.split(":")
    schema_file = Path(sys.prefix, "share", "jupyter", "lab", "schemas", package, f"{plugin}.json")
    properties = json.loads(schema_file.read_text(encoding="utf-8"))["properties"]
    assert "false" in [choice["const"] for choice in properties["fetchNews"]["oneOf"]]
    assert properties["checkForUpdates"]["type"] == "boolean"


def test_the_nbval_duration_rule_replaces_french_durations_and_nothing_else():
    rules = configparser.ConfigParser()
    rules.read(Path(__file__).parent / "sanitize.cfg", encoding="utf-8")
    rule = rules["durees"]
    sanitized = re.sub(rule["regex"], rule["replace"], "médiane 0,14 ms, conversion 2,5 s, 12 s")
    assert sanitized == "médiane DUREE, conversion DUREE, DUREE"
    # Sizes, percentages and counts of images are compared as they are.
    kept = "160,5 ko, 99,06 %, 5 scènes, 120 images"
    assert re.sub(rule["regex"], rule["replace"], kept) == kept
