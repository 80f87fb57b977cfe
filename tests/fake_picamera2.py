"""A stand-in for picamera2, for the Pi scripts' camera tests: no camera on this machine."""

from __future__ import annotations

import sys
import types

import numpy as np


def install(monkeypatch, classer_module, frame: np.ndarray) -> type:
    """Makes ``import picamera2`` give a camera whose every capture is ``frame`` (640×480, in
    R, G, B order, as libcamera's "BGR888" gives it), with no wait for the exposure. Returns
    the camera class: its ``instances`` are the cameras the script opened."""

    class FakeCamera:
        instances: list = []

        def __init__(self):
            self.configuration, self.started, self.closed, self.captures = None, False, False, 0
            FakeCamera.instances.append(self)

        def create_preview_configuration(self, main):
            return {"main": main}

        def configure(self, configuration):
            self.configuration = configuration

        def start(self):
            self.started = True

        def capture_array(self, stream="main"):
            self.captures += 1
            return frame.copy()

        def stop(self):
            self.started = False

        def close(self):
            self.closed = True

    monkeypatch.setitem(sys.modules, "picamera2", types.SimpleNamespace(Picamera2=FakeCamera))
    monkeypatch.setattr(classer_module.time, "sleep", lambda seconds: None)
    return FakeCamera
