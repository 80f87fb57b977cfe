# Cours de quantification post-entraînement : commandes usuelles.
# Sans make (Windows) : voir la section « Sans make » du README.

PYTHON ?= python3
VENV := .venv
ifeq ($(OS),Windows_NT)
BIN := $(VENV)/Scripts
else
BIN := $(VENV)/bin
endif
PY := $(BIN)/python
STAMP := $(VENV)/.installation-terminee


.PHONY: help install lab test course bench demo-model demo-detector demo-fragile lint clean

help:
	@echo "make lab         installe tout (une fois) et ouvre le cours dans JupyterLab"
	@echo "make test        installe tout (une fois) et lance tous les tests"
	@echo "make course      exécute les notebooks 00 à 06 sans interface (préparer la séance)"
	@echo "make bench       mesures de performance (tableaux)"
	@echo "make demo-model  régénère data/ et réentraîne le modèle de démonstration"
	@echo "make demo-detector  régénère data/detection et réentraîne le détecteur de démonstration"
	@echo "make demo-fragile   réentraîne le modèle qui perd de l'exactitude en int8 (notebook 06)"

# The stamp makes the installation run once, and again only when the requirements change.
$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c "import sys; v = sys.version_info[:2]; sys.exit(0 if (3, 10) <= v <= (3, 12) else 'Erreur : le cours demande Python 3.10, 3.11 ou 3.12 (trouvé %d.%d). Choisissez-en un, par exemple : make lab PYTHON=python3.11' % v)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	$(PY) -m helpers jupyterlab-french
	@touch $(STAMP)

install: $(STAMP)

lab: install
	$(PY) -m jupyter lab $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root) notebooks/00_presentation.ipynb

test: install
	$(PY) -m pytest

course: install
	$(PY) -m helpers run-notebooks

bench: install
	@for script in bench/bench_*.py; do $(PY) $$script || exit 1; done

demo-model: install
	$(PY) -m helpers demo-model

demo-detector: install
	$(PY) -m helpers demo-detector

demo-fragile: install
	$(PY) -m helpers demo-fragile

lint: install
	$(PY) -m ruff check helpers tests bench

clean:
	rm -rf sorties
