"""Exécution d'un .tflite avec LiteRT : liste des opérations, entrées de taille libre, sorties."""

from __future__ import annotations

import pytest

import helpers.runtime as runtime
from helpers.errors import KitError
from helpers.runtime import list_ops


def test_list_ops_gives_the_file_ops_in_order_without_the_delegate(raw_tflite_models):
    ops = list_ops(raw_tflite_models["int8-full"])
    assert all(isinstance(name, str) for name in ops)
    assert "DELEGATE" not in ops
    assert {"CONV_2D", "DEPTHWISE_CONV_2D", "SOFTMAX"} <= set(ops)
    assert ops.count("CONV_2D") > 1  # one name per op, repetitions included


def test_list_ops_reads_a_file_the_same_as_bytes(raw_tflite_models, tmp_path):
    path = tmp_path / "modele.tflite"
    path.write_bytes(raw_tflite_models["int8"])
    assert list_ops(path) == list_ops(raw_tflite_models["int8"])
    assert list_ops(path)[0] == "QUANTIZE"  # the capsule's int8 model starts with a conversion


def test_litert_without_the_ops_list_names_the_version_to_install(raw_tflite_models, monkeypatch):
    class WithoutOpsList:
        pass

    monkeypatch.setattr(runtime, "load_interpreter", lambda *a, **k: WithoutOpsList())
    with pytest.raises(KitError, match=r"ai-edge-litert==2\.3\.0"):
        list_ops(raw_tflite_models["int8"])
