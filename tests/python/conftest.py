"""Shared fixtures: the shipped models, the sample cephalogram, one Predictor for the suite.

Run with PYTHONPATH=<build>/python (CTest's python_bindings test does), from the repo root.
"""
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

import cephtrace

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "models"
SAMPLE = ROOT / "samples" / "isbi2015_151.jpg"


@pytest.fixture(scope="session")
def predictor():
    # One Predictor (models loaded once) shared by the tests, as an application would.
    return cephtrace.Predictor(str(MODELS))


@pytest.fixture(scope="session")
def grey():
    """The sample as an 8-bit grey array."""
    image = cv2.imread(str(SAMPLE), cv2.IMREAD_GRAYSCALE)
    assert image is not None and image.dtype == np.uint8
    return image


@pytest.fixture(scope="session")
def grey_png(grey, tmp_path_factory):
    """The grey sample as a lossless file: its pixels are exactly the array's."""
    path = tmp_path_factory.mktemp("images") / "isbi2015_151.png"
    assert cv2.imwrite(str(path), grey)
    return path


@pytest.fixture(scope="session")
def png_result(predictor, grey_png):
    return predictor.predict(grey_png)


@pytest.fixture(scope="session")
def jpg_result(predictor):
    return predictor.predict(str(SAMPLE))


def cli_binary():
    return Path(os.environ.get("CEPHTRACE_CLI", ROOT / "build" / "bin" / "cephtrace"))


def positions(result):
    return [(lm.name, lm.x, lm.y, lm.peak, lm.confidence_label) for lm in result.landmarks]
