"""Le modèle fragile : un petit réseau qui perd de l'exactitude en int8-full (notebook 06).

Mêmes images, même entrée (64×64 RGB dans [-1, 1]), mêmes cinq étiquettes dans le même ordre que
le modèle de démonstration (``demo_model``), mais des blocs à la MobileNetV2 (expansion 1×1,
convolution en profondeur, projection 1×1, raccourci) où la normalisation par lot est placée
**après** l'activation : ``Conv2D(..., activation="relu")`` puis ``BatchNormalization()``, un
ordre très répandu dans les exemples Keras. Son epsilon est 1,001e-5, celui des ResNet et
DenseNet de ``keras.applications``.

Pourquoi il est fragile
    Placée avant l'activation, une normalisation par lot se fond dans les poids de la convolution
    (une échelle par canal de sortie : sans effet sur la quantification). Placée après une ReLU
    sans plafond, elle reste dans le graphe : une multiplication et une addition par canal. Son
    rôle est de remettre à la même échelle des canaux qui ne l'ont pas : elle multiplie certains
    canaux par γ/σ jusqu'à 45 environ, et sa sortie monte jusqu'à 36 environ. Le convertisseur de
    TensorFlow donne à la sortie de la ReLU qui la précède la même plage, alors que ses valeurs ne
    dépassent pas 3,4 sur les images d'étalonnage : une vingtaine des 256 niveaux int8 servent
    (deux pour le canal le plus faible), et la normalisation multiplie ensuite cette erreur
    d'arrondi. En 16 bits, le pas est 256 fois plus fin et l'exactitude revient ; LiteRT Quantizer,
    qui mesure ce tenseur et lisse les extrêmes d'une image à l'autre, lui donne une plage de 2,2
    environ et garde l'exactitude en int8. Le débogueur de quantification, qui compare chaque
    couche à sa version flottante calculée à partir de la même entrée quantifiée, ne voit pas
    cette perte (l'erreur reste proportionnelle au pas) ; le rapport signal sur bruit de chaque
    couche face au modèle flottant la situe : il tombe de plus de 15 dB à la sortie de cette ReLU.

Les images d'étalonnage et de test sont celles de ``data/calibration`` et ``data/test``, partagées
avec le modèle de démonstration : ce module les lit, il ne les réécrit jamais. Reconstruit par
:func:`train_fragile_model`.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from helpers.base.errors import KitError
from helpers.base.paths import DATA_DIR
from helpers.base.units import format_percent
from helpers.core.images import list_labeled_images
from helpers.core.models import export_frozen
from helpers.demo import data as demo_data
from helpers.demo.model import (
    fit_classifier,
    labeled_accuracy,
    training_arrays,
    training_record,
    write_record,
)
from helpers.steps.calibration import list_calibration_images

MODEL_NAME = "modele_fragile"
# (expansion channels, output channels, stride) of each inverted-residual block.
BLOCKS = ((48, 16, 1), (72, 24, 2), (96, 24, 1), (96, 32, 2), (128, 32, 1), (128, 64, 2))
STEM_FILTERS = 16
HEAD_FILTERS = 256
TRAINING = {
    "seed": demo_data.SEED,
    "train_images": 2000,
    "epochs": 8,
    "batch_size": 64,
    "learning_rate": 0.003,
    "batch_norm_momentum": 0.9,
    "batch_norm_epsilon": 1.001e-5,
}
FRAGILITY = (
    "normalisation par lot placée après une ReLU sans plafond (non fondue dans la convolution) : "
    "le convertisseur donne à la sortie de la première ReLU la plage de la normalisation qui la "
    "suit (jusqu'à 36 environ, ses canaux étant multipliés par γ/σ jusqu'à 45) alors que ses "
    "valeurs ne dépassent pas 3,4 : une vingtaine de niveaux int8 servent, deux pour le canal le "
    "plus faible, et la normalisation multiplie ensuite cette erreur d'arrondi"
)


def build_fragile_model(num_classes: int = len(demo_data.LABELS), size: int = demo_data.IMAGE_SIZE):
    """Construit le réseau fragile (Keras, API fonctionnelle) : BatchNorm après la ReLU."""
    import keras
    from keras import layers

    def batch_norm(name=None):
        return layers.BatchNormalization(
            momentum=TRAINING["batch_norm_momentum"],
            epsilon=TRAINING["batch_norm_epsilon"],
            name=name,
        )

    inputs = keras.Input(shape=(size, size, 3), name="image")
    # The stem keeps the usual order (BatchNorm folded into the convolution, ReLU6).
    x = layers.Conv2D(STEM_FILTERS, 3, strides=2, padding="same", name="conv_entree")(inputs)
    x = batch_norm()(x)
    x = layers.ReLU(6.0)(x)
    for index, (expansion, filters, stride) in enumerate(BLOCKS, start=1):
        shortcut = x
        y = layers.Conv2D(expansion, 1, activation="relu", name=f"bloc{index}_expansion")(x)
        y = batch_norm(f"bloc{index}_bn_expansion")(y)
        y = layers.DepthwiseConv2D(
            3, strides=stride, padding="same", activation="relu", name=f"bloc{index}_depthwise"
        )(y)
        y = batch_norm(f"bloc{index}_bn_depthwise")(y)
        y = layers.Conv2D(filters, 1, use_bias=False, name=f"bloc{index}_projection")(y)
        y = batch_norm(f"bloc{index}_bn_projection")(y)
        same_shape = stride == 1 and shortcut.shape[-1] == filters
        x = layers.Add(name=f"bloc{index}_somme")([shortcut, y]) if same_shape else y
    x = layers.Conv2D(HEAD_FILTERS, 1, activation="relu", name="conv_tete")(x)
    x = batch_norm("bn_tete")(x)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="probabilites")(x)
    return keras.Model(inputs, outputs, name="mobilenet_fragile")


def _check_shared_images(data_dir: Path) -> None:
    """The calibration and test images are the demo model's: read here, never rewritten."""
    missing = [
        name
        for name in ("calibration", "test")
        if not (data_dir / name).is_dir() or not any((data_dir / name).iterdir())
    ]
    if missing:
        raise KitError(
            f"Dossier(s) {', '.join(missing)} absent(s) ou vide(s) dans {data_dir.name} : le "
            "modèle fragile utilise les images du modèle de démonstration. Régénérez-les "
            "d'abord avec « make demo-model »."
        )


def _shared_image_counts(data_dir: Path, labels: list[str]) -> dict[str, int]:
    """How many images the shared folders hold (the same counts as in ``modele_demo.json``)."""
    counts = {"calibration": len(list_calibration_images(data_dir / "calibration")[0])}
    indices = [index for _, index in list_labeled_images(data_dir / "test", labels)]
    counts.update({label: indices.count(index) for index, label in enumerate(labels)})
    return counts


def train_fragile_model(data_dir: Path = DATA_DIR, verbose: int = 1) -> dict:
    """Entraîne le modèle fragile (déterministe) et l'exporte en SavedModel.

    Écrit ``modele_fragile/`` et ``modele_fragile.json`` (architecture, entraînement, exactitude
    flottante sur ``data/test``, ce qui le rend fragile). Lit ``calibration/`` et ``test/`` sans
    les modifier. ``verbose`` : 0 silencieux, 1 une barre de progression par époque, 2 une ligne
    par époque.
    """
    import keras
    import tensorflow as tf

    data_dir = Path(data_dir)
    _check_shared_images(data_dir)
    keras.utils.set_random_seed(TRAINING["seed"])
    tf.config.experimental.enable_op_determinism()

    def say(message):
        if verbose:
            print(message, flush=True)

    started = time.perf_counter()
    say(f"Génération de {TRAINING['train_images']} images d'entraînement…")
    x_train, y_train = training_arrays(TRAINING)

    model = build_fragile_model()
    say("Entraînement (une ligne par époque)…")
    fit_classifier(model, x_train, y_train, TRAINING, verbose)
    accuracy = labeled_accuracy(model, data_dir / "test")

    # Frozen weights: the converter handles it two to three times faster (notebook 06's budget).
    export_frozen(model, data_dir / MODEL_NAME)

    record = {
        "architecture": (
            "MobileNetV2 réduit (blocs à expansion, convolutions en profondeur, raccourcis), "
            "BatchNorm placée après la ReLU"
        ),
        "fragilite": FRAGILITY,
        **training_record(
            model,
            BLOCKS,
            TRAINING,
            len(x_train),
            _shared_image_counts(data_dir, list(demo_data.LABELS)),
            accuracy,
            started,
        ),
    }
    write_record(data_dir / f"{MODEL_NAME}.json", record)
    say(f"Exactitude flottante sur data/test : {format_percent(accuracy)}")
    return record


if __name__ == "__main__":
    train_fragile_model(verbose=1 if sys.stderr.isatty() else 2)
