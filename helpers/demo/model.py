"""Le modèle de démonstration : un petit réseau de type MobileNet, entraîné de façon déterministe.

Convolutions séparables en profondeur (depthwise + pointwise), normalisation par lot,
ReLU6, moyenne globale et softmax : la famille d'architectures qui tourne sur une Raspberry Pi et
qui montre les vrais comportements de la quantification (fusion des normalisations par lot,
poids par canal, activations fusionnées). Entrée dans [-1, 1], comme dans la capsule.

Introduit dans le notebook 00 ; reconstruit par ``make demo-model``.
"""

from __future__ import annotations

import platform
import sys
import time
from pathlib import Path

import numpy as np

from helpers.base.paths import DATA_DIR
from helpers.base.units import format_percent, json_text
from helpers.core.images import load_labeled_images, normalize
from helpers.core.models import export_frozen
from helpers.demo import data as demo_data

# (filters, stride) of each depthwise-separable block, after a first 3x3 convolution.
BLOCKS = ((32, 1), (48, 2), (64, 1), (96, 2), (128, 1), (192, 2), (256, 1))
TRAINING = {
    "seed": demo_data.SEED,
    "train_images": 4000,
    "epochs": 14,
    "batch_size": 64,
    "learning_rate": 0.003,
    "batch_norm_momentum": 0.9,
}


def build_model(num_classes: int = len(demo_data.LABELS), size: int = demo_data.IMAGE_SIZE):
    """Construit le réseau (Keras, API fonctionnelle)."""
    import keras
    from keras import layers

    # Short training: a lower momentum lets the batch-norm moving statistics catch up,
    # otherwise inference accuracy can stay at chance while training accuracy rises.
    momentum = TRAINING["batch_norm_momentum"]
    inputs = keras.Input(shape=(size, size, 3), name="image")
    x = layers.Conv2D(16, 3, strides=2, padding="same", use_bias=False, name="conv_entree")(inputs)
    x = layers.BatchNormalization(momentum=momentum)(x)
    x = layers.ReLU(6.0)(x)
    for index, (filters, stride) in enumerate(BLOCKS, start=1):
        x = layers.DepthwiseConv2D(
            3, strides=stride, padding="same", use_bias=False, name=f"bloc{index}_depthwise"
        )(x)
        x = layers.BatchNormalization(momentum=momentum)(x)
        x = layers.ReLU(6.0)(x)
        x = layers.Conv2D(filters, 1, use_bias=False, name=f"bloc{index}_pointwise")(x)
        x = layers.BatchNormalization(momentum=momentum)(x)
        x = layers.ReLU(6.0)(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.2)(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="probabilites")(x)
    return keras.Model(inputs, outputs, name="mobilenet_demo")


def _augment(images: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flips and quarter turns: the classes do not change, the data set grows fourfold."""
    variants = [images, images[:, :, ::-1], images[:, ::-1, :], np.rot90(images, 1, axes=(1, 2))]
    return np.concatenate(variants), np.concatenate([targets] * len(variants))


def training_arrays(training: dict) -> tuple[np.ndarray, np.ndarray]:
    """Les images d'entraînement générées (``training["train_images"]``, graine
    ``training["seed"]``), augmentées, mélangées et normalisées dans [-1, 1] : ``(x, y)``."""
    images, targets = demo_data.make_training_set(training["train_images"], training["seed"])
    images, targets = _augment(images, targets)
    order = np.random.default_rng(training["seed"]).permutation(len(images))
    return normalize(images[order]), targets[order]


def fit_classifier(model, x_train, y_train, training: dict, verbose: int) -> None:
    """Entraîne un classifieur Keras : Adam, taux d'apprentissage en cosinus sur tout
    l'entraînement, entropie croisée ; ``training`` donne ``learning_rate``, ``epochs`` et
    ``batch_size``."""
    import keras

    steps = training["epochs"] * int(np.ceil(len(x_train) / training["batch_size"]))
    schedule = keras.optimizers.schedules.CosineDecay(training["learning_rate"], steps)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(
        x_train,
        y_train,
        batch_size=training["batch_size"],
        epochs=training["epochs"],
        shuffle=True,
        verbose=verbose,
    )


def labeled_accuracy(model, test_dir: Path) -> float:
    """L'exactitude du modèle Keras sur un dossier rangé par étiquette (celles du kit)."""
    labels = list(demo_data.LABELS)
    x_test, y_test = load_labeled_images(test_dir, labels, model.input_shape[1:3])
    return float(np.mean(np.argmax(model.predict(x_test, verbose=0), axis=1) == y_test))


def training_record(model, blocks, training: dict, seen: int, images: dict, accuracy, started):
    """Ce que le ``.json`` d'un modèle de démonstration dit de lui, après son architecture :
    blocs, nombre de valeurs, entrée, étiquettes, entraînement, images, exactitude, durée
    (depuis ``started``, un ``time.perf_counter()``) et versions."""
    import keras
    import tensorflow as tf

    return {
        "blocs": [list(block) for block in blocks],
        "parametres": int(model.count_params()),
        "entree": {
            "forme": [None, *model.input_shape[1:]],
            "normalisation": "symmetric",
            "plage": [-1.0, 1.0],
        },
        "etiquettes": list(demo_data.LABELS),
        "entrainement": {
            **training,
            "augmentation": "retournements et quart de tour (x4)",
            "images_vues_par_epoque": int(seen),
        },
        "images": images,
        "precision_flottante_test": round(accuracy, 4),
        "duree_entrainement_s": round(time.perf_counter() - started, 1),
        "versions": {
            "python": platform.python_version(),
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "numpy": np.__version__,
        },
    }


def write_record(path: Path, record: dict) -> None:
    """Écrit un ``.json`` de l'enseignant : comment un modèle a été entraîné, la description
    d'un détecteur (UTF-8, indenté, accents lisibles)."""
    path.write_text(json_text(record, indent=2) + "\n", encoding="utf-8")


def train_demo_model(data_dir: Path = DATA_DIR, verbose: int = 1) -> dict:
    """Régénère les images de ``data_dir``, entraîne le modèle et l'exporte en SavedModel.

    Écrit ``modele_demo/`` et ``modele_demo.json`` (comment il a été entraîné, son exactitude).
    Reproductible : les images sont identiques au pixel près et l'exactitude est la même ; les
    poids peuvent différer dans les derniers bits selon la machine.
    """
    import keras
    import tensorflow as tf

    data_dir = Path(data_dir)
    keras.utils.set_random_seed(TRAINING["seed"])
    tf.config.experimental.enable_op_determinism()

    started = time.perf_counter()
    print("Génération des images de démonstration (calibration, test)…", flush=True)
    counts = demo_data.write_demo_data(data_dir)
    print(f"Génération de {TRAINING['train_images']} images d'entraînement…", flush=True)
    x_train, y_train = training_arrays(TRAINING)

    model = build_model()
    print("Entraînement (une ligne par époque)…", flush=True)
    fit_classifier(model, x_train, y_train, TRAINING, verbose)
    accuracy = labeled_accuracy(model, data_dir / "test")

    # Frozen like the other models (faster conversions), its variables kept: notebook 00 reads
    # them as in a student's model.export(...).
    export_frozen(model, data_dir / "modele_demo", keep_variables=True)

    record = {
        "architecture": "MobileNet (convolutions séparables, BatchNorm, ReLU6)",
        **training_record(model, BLOCKS, TRAINING, len(x_train), counts, accuracy, started),
    }
    write_record(data_dir / "modele_demo.json", record)
    print(f"Exactitude flottante sur data/test : {format_percent(accuracy)}", flush=True)
    return record


if __name__ == "__main__":
    train_demo_model(verbose=1 if sys.stderr.isatty() else 2)
