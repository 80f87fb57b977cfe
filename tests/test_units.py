"""La lecture des fichiers JSON du kit (métadonnées, description de détecteur, annotations) :
une seule règle, dans ``base/units``, et son message."""

import pytest

from helpers.base.errors import KitError
from helpers.base.units import read_json


def test_read_json_names_the_file_the_error_and_the_fix(tmp_path):
    good = tmp_path / "bon.json"
    good.write_text('{"étiquette": "cercle"}', encoding="utf-8")
    assert read_json(good, "Illisible", "Réécrivez-le.") == {"étiquette": "cercle"}
    latin = tmp_path / "latin.json"
    latin.write_bytes('{"étiquette": 1}'.encode("latin-1"))
    with pytest.raises(KitError, match=r"^Illisible : latin.json \(UnicodeDecodeError\)\. Réécr"):
        read_json(latin, "Illisible", "Réécrivez-le.")
    with pytest.raises(KitError, match=r"absent.json \(FileNotFoundError\)"):
        read_json(tmp_path / "absent.json", "Illisible", "Réécrivez-le.")
