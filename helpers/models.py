"""Chargement d'un SavedModel TensorFlow et lecture de sa signature d'entrée.

Introduit dans le notebook 00.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helpers.errors import KitError
from helpers.paths import DEMO_MODEL_DIR

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
        self._loaded = loaded  # keeps the variables alive while the signature is used
        self.model_dir = Path(model_dir)
        self.signature = loaded.signatures["serving_default"]
        self.input = input_spec(self.signature)
        self.output_names = sorted(self.signature.structured_outputs)

    def predict(self, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
        """Sorties du modèle flottant pour des images normalisées (float32, avec l'axe du lot).

        Suppose un classifieur (une seule sortie) ; un modèle à plusieurs sorties est refusé.
        """
        import tensorflow as tf

        if len(self.output_names) != 1:
            from helpers.runtime import several_outputs_error

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

    @property
    def parameter_count(self) -> int:
        """Nombre de valeurs stockées dans les variables flottantes (poids et statistiques de
        normalisation ; l'état entier du générateur aléatoire du dropout n'est pas compté)."""
        return int(sum(np.prod(v.shape) for v in self._loaded.variables if v.dtype.is_floating))


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
        raise KitError(
            f"Ce modèle a {len(inputs)} entrées ({', '.join(sorted(inputs))}) : le cours ne "
            "sait alimenter qu'un modèle à une seule entrée image. Pour plusieurs entrées, "
            "appelez vous-même la signature avec une valeur par entrée, par nom (et, après "
            "conversion, interpreter.get_signature_runner())."
        )
    name, spec = next(iter(inputs.items()))
    return InputSpec(name=name, shape=tuple(spec.shape.as_list()), dtype=spec.dtype.name)


def directory_size(folder: Path) -> int:
    """Taille totale des fichiers d'un dossier, en octets."""
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())
