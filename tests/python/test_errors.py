"""Errors: Python exception types with the engine's messages."""
import numpy as np
import pytest

import cephtrace
from conftest import MODELS


def test_exception_hierarchy():
    for name, base in [("ImageError", ValueError), ("ModelError", RuntimeError),
                       ("GroundTruthError", ValueError), ("LimitError", ValueError)]:
        cls = getattr(cephtrace, name)
        assert issubclass(cls, cephtrace.Error) and issubclass(cls, base), name
        assert cls.__module__ == "cephtrace"


def test_missing_file(predictor, tmp_path):
    missing = tmp_path / "no_such_film.jpg"
    with pytest.raises(FileNotFoundError) as e:
        predictor.predict(str(missing))
    assert str(e.value) == f"{missing}: file not found"  # the engine's message


def test_unreadable_file(predictor, tmp_path):
    bad = tmp_path / "notes.jpg"
    bad.write_text("not an image")
    with pytest.raises(cephtrace.ImageError, match=r"notes\.jpg: not a supported image"):
        predictor.predict(bad)
    with pytest.raises(cephtrace.ImageError, match=r"<bytes>: not a supported image"):
        predictor.predict(b"not an image either")


@pytest.mark.parametrize("dtype", [np.float32, np.int16, np.int64, bool, ">u2"])
def test_bad_dtype(predictor, dtype):
    with pytest.raises(TypeError, match="dtype .* give uint8 or uint16"):
        predictor.predict(np.zeros((64, 64), dtype))


@pytest.mark.parametrize("shape", [(64,), (64, 64, 2), (64, 64, 5), (2, 64, 64, 3)])
def test_bad_shape(predictor, shape):
    with pytest.raises(ValueError, match=r"shape \(.*\); give H x W \(grey\), H x W x 3 \(RGB\)"):
        predictor.predict(np.zeros(shape, np.uint8))


def test_not_row_contiguous(predictor, grey):
    for view in (grey[:, ::2], grey.T, grey[::-1]):
        with pytest.raises(ValueError, match="ascontiguousarray"):
            predictor.predict(view)


def test_too_small_and_wrong_type(predictor):
    with pytest.raises(cephtrace.ImageError, match="<array>: "):
        predictor.predict(np.zeros((10, 10), np.uint8))
    with pytest.raises(TypeError, match="not int"):
        predictor.predict(42)


def test_bad_model_dir(tmp_path):
    with pytest.raises(cephtrace.ModelError) as e:
        cephtrace.Predictor(str(tmp_path / "no_models"))
    assert "no_models" in str(e.value)
    assert "v4_stage1.onnx" in str(e.value)


def test_bad_options():
    with pytest.raises(ValueError, match="decoder 'fast' is not one of 'reference', 'dark'"):
        cephtrace.Predictor(str(MODELS), decoder="fast")
    with pytest.raises(ValueError, match="orientation 'up' is not one of 'left', 'right'"):
        cephtrace.Predictor(str(MODELS), orientation="up")
    with pytest.raises(TypeError):
        cephtrace.Predictor(str(MODELS), no_such_option=True)
