"""Les nombres qu'une personne lit dans les notebooks sont écrits à la française (virgule).

Deux règles, sur les sorties enregistrées (pas le code, pas la sortie d'erreur) :

1. **Devant une unité** (ko, Mo, Go, ms, s, %), un point décimal est toujours une faute :
   « 160.5 ko », « 99.06 % ».
2. **Sans unité**, un nombre à point décimal est une faute dans un texte écrit en français
   (« au plus 0.00392 », « échelle 0.00784 », « rapport 1.41 »). Une sortie est en français si
   l'une de ses lignes contient une lettre accentuée, un mot outil français (« de », « le »,
   « au »…) ou un mot des tableaux du cours (« moyenne », « plage », « flottant »…) : toutes ses
   lignes sont alors vérifiées, les lignes d'un tableau comme son en-tête, sauf une ligne en
   anglais (un message de TensorFlow) sans aucun mot français. Une sortie sans un mot de
   français (le seul ``repr`` d'un objet Python) n'est pas vérifiée. Dans le texte vérifié,
   restent écrits avec un point, parce qu'une personne les lit comme du code ou comme un nom :

   - les représentations Python que l'on montre telles quelles : un n-uplet de nombres
     (« (0.0, 0) », les paramètres de quantification), un tableau numpy (« [0.996 0. 0.] »,
     nombres séparés par des espaces), un dictionnaire (« {'score_threshold': 0.3} ») ;
   - ce qui est cité entre guillemets « … » (du code, un message anglais de TensorFlow) ;
   - les nombres collés à un nom : fichiers (« modele.tflite »), versions à trois nombres
     (« 2.21.0 »), noms de mesures (« mAP@0.5 ») ;
   - les versions d'un logiciel nommé sur la ligne (« Python 3.11 (attendu : 3.10 à 3.12) »).

   Une plage de nombres décimaux s'écrit à la française : « [-1,00 ; 1,00] ».
"""

from __future__ import annotations

import json
import re
from pathlib import Path

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
# A decimal point before a unit: « 160.5 ko », « 99.06 % », « 0.14 ms », « 5.8 s ».
POINT_BEFORE_UNIT = re.compile(r"\b\d+\.\d+\s?(?:ko|Mo|Go|ms|s\b|%)")
# A number with a decimal point that is not glued to a name: not « modele.tflite », « 2.21.0 »,
# « mAP@0.5 », « v1.2 ». A final « . » ends the sentence: « rapport 1.28. » is still caught.
DOTTED_NUMBER = re.compile(r"(?<![\w.@])\d+\.\d+(?!\w|\.\w)")
# French: an accented letter, a French function word, or a word of the course's tables.
FRENCH = re.compile(
    r"[àâçéèêëîïôûùœ]|\b[ldLD]'\w|\b(?:le|la|les|de|des|du|un|une|et|au|aux|en|sur|pour|par"
    r"|avec|plus|moins|que|qui|est|sont|soit|dans|entre|fois|pas|ou"
    r"|moyenne|valeurs?|plage|flottant|entiers?|sortie|rapport|taille|fils?)\b",
    re.IGNORECASE,
)
# English: a line of a TensorFlow message, left alone when it has no French word.
ENGLISH = re.compile(
    r"\b(?:the|is|are|of|and|to|for|with|from|this|that|was|please|not|since)\b", re.IGNORECASE
)
_NUMBER = r"[-+]?\d+(?:\.\d*)?(?:e[-+]?\d+)?"
# Spans shown as Python or quoted, left as they are (see the docstring).
AS_IS = re.compile(
    rf"\((?:\s*{_NUMBER}\s*,)+\s*{_NUMBER}?\s*\)"  # a tuple of numbers: (0.0, 0)
    rf"|\[\s*{_NUMBER}(?:\s+{_NUMBER})*\s*\]"  # a numpy array: [0.996 0.    0.   ]
    r"|\{'[^{}]*\}"  # a dict: {'score_threshold': 0.3}
    r"|«[^»]*»"  # a quotation: « x / 255.0 »
)
SOFTWARE_VERSION = re.compile(
    r"\b(?:Python|TensorFlow|TF|Keras|LiteRT|ai-edge-litert|numpy|Pillow|matplotlib)\s+\d+\.\d+"
)


def stored_texts(path: Path):
    """(cell number, text) of every text output a person reads (not the code, not stderr)."""
    for number, cell in enumerate(json.loads(path.read_text(encoding="utf-8"))["cells"]):
        for output in cell.get("outputs", []):
            if output.get("name") == "stderr":
                continue
            text = "".join(output.get("text", "")) + "".join(
                output.get("data", {}).get("text/plain", "")
            )
            yield number, text + "".join(output.get("traceback", []))


def dotted_numbers_in_french(text: str) -> list[str]:
    """The numbers written with a decimal point, without a unit, in ``text`` if it is French."""
    if not FRENCH.search(text):
        return []
    found = []
    for line in text.splitlines():
        english = ENGLISH.search(line) and not FRENCH.search(line)
        if english or SOFTWARE_VERSION.search(line):
            continue
        found += DOTTED_NUMBER.findall(AS_IS.sub(" ", line))
    return found


def test_the_scan_sees_a_decimal_point_before_a_unit():
    assert POINT_BEFORE_UNIT.search("modèle : 160.5 ko") and POINT_BEFORE_UNIT.search("99.06%")
    assert not POINT_BEFORE_UNIT.search("160,5 ko, 99,06 %, TensorFlow 2.21.0, 0.5 point")


def test_the_scan_sees_a_decimal_point_in_french_text():
    for line in (
        "Erreur d'aller-retour sur les 1474560 valeurs d'entrée : au plus 0.00392",
        "entrée : échelle 0.00784, point zéro -1",
        "Ici, à 1 fil d'exécution, int8-full est plus lent que float32 (rapport 1.28).",
        "Ici, à 1 fil d'exécution, int8-full est plus lent que float32 (rapport 1,2 puis 1.28.",
        "rouge  min -1.000   max +1.000   moyenne -0.012",
        "image   0 (anneau  ) flottant : 1.00  int8-full : 1.00",
        # A table: its header is French, its rows are checked too.
        "étalonnage      plage vue   échelle\nvraies images   [-1.00, +1.00]   0.00784",
    ):
        assert dotted_numbers_in_french(line), line
    assert dotted_numbers_in_french("étalonnage  échelle\nvraies images  0.00784") == ["0.00784"]


def test_the_scan_leaves_code_names_versions_and_english_alone():
    for line in (
        "au plus 0,00392 ; plage [-1,00 ; 1,00] ; rapport 1,28.",
        "float32, non quantifié : (0.0, 0) ; forme (1, 64, 64, 3)",
        "probabilités       : [0.996 0.    0.    0.    0.   ] -> anneau",
        "Décodage : {'format': 'grille-centres', 'score_threshold': 0.3, 'iou_threshold': 0.5}",
        "C'est le cas de « x / 255.0 » sur des pixels uint8",
        "int8-full  mAP@0.5 0,916   mAP@[.5:.95] 0,580   (60 images)",
        "écrit dans ../sorties/modele.tflite avec TensorFlow 2.21.0 (attendu : 2.21.x)",
        "✓ Python                   3.11       (attendu : 3.10 à 3.12)",
        "UserWarning : scheduled for deletion in TF 2.20. Please use the LiteRT interpreter",
        "Warning: this op is deprecated since 2.17.",
        "TensorSpec(shape=(None, 5), dtype=tf.float32)\n[[0.1 0.9]]",  # a repr, no French
        "Attention :\nUserWarning: scheduled for deletion in 2.20, see the guide",
    ):
        assert not dotted_numbers_in_french(line), line


def test_stored_outputs_write_numbers_the_french_way():
    assert NOTEBOOKS
    found = [
        f"{path.name} cellule {number} : {match.group(0)}"
        for path in NOTEBOOKS
        for number, text in stored_texts(path)
        for match in POINT_BEFORE_UNIT.finditer(text)
    ]
    assert not found, f"nombres avec un point décimal devant une unité : {found}"


def test_stored_outputs_write_unitless_numbers_the_french_way():
    assert NOTEBOOKS
    found = [
        f"{path.name} cellule {number} : {dotted}"
        for path in NOTEBOOKS
        for number, text in stored_texts(path)
        for dotted in dotted_numbers_in_french(text)
    ]
    assert not found, f"nombres sans unité avec un point décimal, dans du texte français : {found}"


def test_powers_of_ten_are_written_the_french_way():
    from helpers.base.units import french

    assert french(4.52e-06, ".3g") == "4,52 × 10⁻⁶"
    assert french(1.5e10, ".2e") == "1,50 × 10¹⁰"
    assert french(0.0078, ".4g") == "0,0078" and french(99.0625) == "99,06"
