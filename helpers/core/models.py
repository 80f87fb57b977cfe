"""Le SavedModel TensorFlow : le reconnaître, le charger, lire son entrée image (avec la règle
de ``helpers.core.inputs``), l'exporter aux poids figés.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helpers.base.errors import KitError, quiet_tensorflow
from helpers.base.paths import DEMO_MODEL_DIR
from helpers.core.inputs import image_input_shape, several_inputs_error, several_outputs_error

REBUILD_DEMO_HINT = (
    "reconstruisez-le avec « make demo-model » (ou « python -m helpers demo-model »)"
)


@dataclass(frozen=True)
class InputSpec:
    """L'entrée d'une signature : nom, forme (None pour une dimension libre) et type."""

    name: str
    shape: tuple[int | None, ...]
    dtype: str

    @property
    def size(self) -> tuple[int, int] | None:
        """(hauteur, largeur) si elles sont fixes dans la signature, sinon None."""
        if len(self.shape) != 4 or self.shape[1] is None or self.shape[2] is None:
            return None
        return int(self.shape[1]), int(self.shape[2])

    @property
    def channels(self) -> int | None:
        return self.shape[3] if len(self.shape) == 4 else None

    def image_shape(self, input_size=None) -> tuple[int, int, int]:
        """(hauteur, largeur, canaux), vérifiés par ``image_input_shape``."""
        return image_input_shape(self.name, self.shape, self.dtype, input_size)


def _not_a_model_message(model_dir: Path) -> str:
    if Path(model_dir).resolve() == DEMO_MODEL_DIR.resolve():
        return f"Le modèle de démonstration data/modele_demo est absent ou abîmé : {REBUILD_DEMO_HINT}."
    if not Path(model_dir).exists():
        return (
            f"Dossier du modèle introuvable : {Path(model_dir).as_posix()}. Vérifiez le chemin du "
            "SavedModel (le dossier qui contient saved_model.pb), relatif au dossier où vous "
            "lancez la commande."
        )
    return (
        f"{Path(model_dir).name} n'est pas un SavedModel TensorFlow (il faut un dossier contenant "
        "saved_model.pb, produit par model.export(...) ou tf.saved_model.save(...))."
    )


def check_saved_model_dir(model_dir: Path) -> Path:
    """Vérifie qu'un dossier ressemble à un SavedModel avant d'appeler TensorFlow."""
    model_dir = Path(model_dir)
    if not model_dir.is_dir() or not (model_dir / "saved_model.pb").is_file():
        raise KitError(_not_a_model_message(model_dir))
    return model_dir


class FloatModel:
    """Un SavedModel chargé : sa signature ``serving_default``, son entrée et ``predict``."""

    def __init__(self, loaded, model_dir: Path):
        self.loaded = loaded  # keeps the variables alive while the signature is used
        self.model_dir = Path(model_dir)
        self.signature = loaded.signatures["serving_default"]
        self.input = input_spec(self.signature)
        self.output_names = sorted(self.signature.structured_outputs)

    def predict(self, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
        """Sorties du modèle flottant pour des images normalisées (float32, avec l'axe du lot).

        Suppose un classifieur (une seule sortie) ; un modèle à plusieurs sorties est refusé.
        Introduit dans le notebook 00.
        """
        import tensorflow as tf  # imported when used: seconds to load, not needed by inspect

        if len(self.output_names) != 1:
            raise several_outputs_error(
                self.output_names,
                "model.signature(**{model.input.name: images}), un dictionnaire par nom de sortie,",
            )
        outputs = []
        for start in range(0, len(images), batch_size):
            batch = tf.constant(images[start : start + batch_size], dtype=tf.float32)
            result = self.signature(**{self.input.name: batch})
            outputs.append(result[self.output_names[0]].numpy())
        return np.concatenate(outputs)

    def predict_outputs(self, images: np.ndarray) -> dict[str, np.ndarray]:
        """Toutes les sorties du modèle flottant, par nom, pour des images normalisées."""
        import tensorflow as tf

        result = self.signature(**{self.input.name: tf.constant(images, dtype=tf.float32)})
        return {name: value.numpy() for name, value in result.items()}

    @property
    def parameter_count(self) -> int:
        """Nombre de valeurs stockées dans les variables flottantes (poids et statistiques de
        normalisation ; l'état entier du générateur aléatoire du dropout n'est pas compté)."""
        return int(sum(np.prod(v.shape) for v in self.loaded.variables if v.dtype.is_floating))


def load_saved_model(model_dir: Path) -> FloatModel:
    """Charge un SavedModel (dossier produit par ``model.export``) et lit son entrée.

    Introduit dans le notebook 00.
    """
    import tensorflow as tf

    model_dir = check_saved_model_dir(model_dir)
    try:
        loaded = tf.saved_model.load(str(model_dir))
    except Exception as error:  # TensorFlow raises many kinds of errors for a broken model
        raise KitError(
            _not_a_model_message(model_dir) + f" Détail : {error.__class__.__name__}."
        ) from error
    if "serving_default" not in getattr(loaded, "signatures", {}):
        raise KitError(
            f"Le SavedModel {model_dir.name} n'a pas de signature « serving_default » : "
            "exportez-le avec model.export(...) (Keras 3)."
        )
    return FloatModel(loaded, model_dir)


def input_spec(signature) -> InputSpec:
    """L'unique entrée d'une signature (erreur claire s'il y en a plusieurs)."""
    inputs = signature.structured_input_signature[1]
    if len(inputs) != 1:
        raise several_inputs_error(sorted(inputs))
    name, spec = next(iter(inputs.items()))
    return InputSpec(name=name, shape=tuple(spec.shape.as_list()), dtype=spec.dtype.name)


def directory_size(folder: Path) -> int:
    """Taille totale des fichiers d'un dossier, en octets. Introduit dans le notebook 04."""
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())


def loaded_model(model) -> FloatModel:
    """Le modèle chargé : tel quel s'il l'est déjà (``load_saved_model``), sinon lu depuis son
    dossier, vérifié d'abord (une erreur claire avant d'importer TensorFlow)."""
    if isinstance(model, FloatModel):
        return model
    return load_saved_model(check_saved_model_dir(model))


def _save_frozen(model, folder: Path, keep_variables: bool = False) -> None:
    """A SavedModel whose serving function reads its weights as constants of the graph.

    Same ``serving_default`` signature as ``model.export`` (input named after the Keras input,
    outputs named as ``model.export`` names them) and the same values (to about 1e-5: the
    converter's constant folding). The function restores no variable: TensorFlow loads it
    several times faster and the TFLite converter handles it two to three times faster
    (measured on 2 cores for the demo detector: about 1 s instead of 3 s in float32, 2 s instead
    of 5 s in int8-full), which is most of notebooks 05 and 06's time.

    ``keep_variables``: the weights are saved as variables too, in the lists ``model.export``
    writes (``variables``, ``trainable_variables``, ``non_trainable_variables``), so that the
    loaded SavedModel can be read like a student's (notebook 00 counts its kernels). The
    serving function still reads the constants: the demo model's conversions are 1.7 to 2 times
    as fast as from its model.export (2 to 3 times without the variables; measured on 2 cores).
    """
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    spec = tf.TensorSpec([None, *model.inputs[0].shape[1:]], tf.float32, name=model.inputs[0].name)
    traced = tf.function(lambda image: model(image, training=False)).get_concrete_function(spec)
    frozen = convert_variables_to_constants_v2(traced)

    @tf.function(input_signature=[spec])
    def serve(image):
        return tf.nest.pack_sequence_as(traced.structured_outputs, frozen(image))

    # tf.Module computes its own `variables`; model.export sets them on a plain AutoTrackable.
    module = tf.__internal__.tracking.AutoTrackable() if keep_variables else tf.Module()
    module.serve = serve
    if keep_variables:
        # Keras 3 wraps each tf.Variable (.value); the SavedModel stores the tf.Variable.
        for name in ("variables", "trainable_variables", "non_trainable_variables"):
            setattr(module, name, [variable.value for variable in getattr(model, name)])
    tf.saved_model.save(module, str(folder), signatures={"serving_default": serve})


def replace_folder(folder, write) -> Path:
    """Écrit un dossier à côté de ``folder`` (``write(dossier)``), puis le met à sa place : un
    écrit qui échoue ne laisse jamais un dossier à moitié écrit. Rend le chemin du dossier."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent) as scratch:
        staged = Path(scratch) / folder.name
        write(staged)
        if folder.exists():
            shutil.rmtree(folder)
        staged.rename(folder)
    return folder


def export_frozen(model, folder, write_files=None, keep_variables: bool = False) -> Path:
    """Exporte un modèle Keras en SavedModel aux poids figés en constantes, dans ``folder``
    (``replace_folder``). ``write_files(dossier)`` ajoute des fichiers (description,
    étiquettes) ; ``keep_variables`` y garde aussi les poids en variables, lisibles comme ceux
    d'un ``model.export(...)``. Rend le chemin du dossier.
    """

    def write(staged: Path) -> None:
        with quiet_tensorflow():  # else "Assets written to: <temporary folder>"
            _save_frozen(model, staged, keep_variables)
        if write_files is not None:
            write_files(staged)

    return replace_folder(folder, write)
