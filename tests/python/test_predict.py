"""The Predictor: the reference README's example, files vs arrays, result fields, to_dict."""
import contextlib
import io
import json
import os
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

import cephtrace
from conftest import MODELS, ROOT, SAMPLE, cli_binary, positions

CANONICAL_25 = ["S", "N", "Or", "Po", "ANS", "PNS", "A", "B", "Pog", "Gn", "Me", "Go", "Ar", "Co",
                "U1_tip", "U1_root", "L1_tip", "L1_root", "UL", "LL", "Pm", "Ba", "Pog_soft",
                "Sn", "Prn"]
EXTENDED_14 = ["D", "Cm", "Ptm", "PT", "Bo", "UL_border", "LL_border", "Gn_soft", "Me_soft",
               "G_soft", "N_soft", "C_point", "U6", "L6"]
# The names a result of the shipped models has: the 25, then the 14 when the extended model ships.
TRACED = CANONICAL_25 + (EXTENDED_14 if (MODELS / "extended" / "refine_extended.onnx").exists() else [])


def test_reference_readme_example_runs_unchanged(monkeypatch):
    # The reference README's example, word for word but for the image path; model_dir
    # "models/" is relative, as there, so it runs from the repository root.
    monkeypatch.chdir(ROOT)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        from cephtrace import CephTracePredictor

        predictor = CephTracePredictor(model_dir="models/")
        result = predictor.predict("samples/isbi2015_151.jpg")

        print(f"Image: {result.original_width} x {result.original_height}")
        print(f"Degraded: {result.degraded}")
        for lm in result.landmarks:
            print(
                f"  {lm.name:<10} ({lm.x:.1f}, {lm.y:.1f}) "
                f"confidence={lm.confidence_label} (peak={lm.peak:.2f})"
            )
    lines = out.getvalue().splitlines()
    assert lines[0] == "Image: 1935 x 2400"
    assert lines[1] == "Degraded: False"
    assert [line.split()[0] for line in lines[2:]] == TRACED  # the 25 first, as the reference
    assert all("confidence=" in line for line in lines[2:])
    assert cephtrace.CephTracePredictor is cephtrace.Predictor


def test_result_fields(jpg_result):
    r = jpg_result
    assert (r.original_width, r.original_height) == (1935, 2400)
    assert r.source == str(SAMPLE)
    assert [lm.name for lm in r.landmarks] == TRACED
    assert [lm.index for lm in r.landmarks] == list(range(len(TRACED)))
    assert [lm.extended for lm in r.landmarks] == [i >= 25 for i in range(len(TRACED))]
    for lm in r.landmarks:
        assert 0 <= lm.x < r.original_width and 0 <= lm.y < r.original_height
        assert lm.confidence_label == lm.confidence in ("high", "medium", "low")
        assert lm.tier in ("high", "medium", "low")
    assert r.orientation in ("left", "right")
    assert set(r.stage0_status) == {"0A", "0B", "0C", "0D", "0E"}
    assert r.stage0_details == r.to_dict()["stage0_details"]
    assert "applied" in r.framing  # tried by default
    assert r.timings_ms["total"] > 0
    assert "stage1" in r.models_loaded
    assert r.landmark("Me").y == r.landmarks[CANONICAL_25.index("Me")].y
    with pytest.raises(KeyError, match="no landmark named 'Xx'"):
        r.landmark("Xx")
    # Stage 2 runs with the shipped models and says where each landmark came from.
    assert r.refinement == "stage2"
    assert all(lm.refinement is not None for lm in r.landmarks[:25])
    assert all(lm.refinement is None and lm.confidence != "high" for lm in r.landmarks[25:])


def test_extended_option_keeps_the_25_unchanged(jpg_result):
    if len(TRACED) == 25:
        pytest.skip("models/ has no extended/refine_extended.onnx")
    only25 = cephtrace.Predictor(str(MODELS), extended=False).predict(str(SAMPLE))
    assert [lm.name for lm in only25.landmarks] == CANONICAL_25
    assert positions(only25) == positions(jpg_result)[:25]
    assert "extended" in jpg_result.models_loaded and "extended" not in only25.models_loaded


def test_to_dict_is_the_predict_json_of_the_cli(jpg_result, tmp_path):
    out = tmp_path / "cli.json"
    subprocess.run([str(cli_binary()), "predict", "--image", str(SAMPLE), "--model-dir", str(MODELS),
                    "--output", str(out), "--quiet"], check=True)
    cli = json.loads(out.read_text())
    mine = jpg_result.to_dict()
    assert list(mine) == list(cli)  # same keys, same order
    assert set(mine.pop("timings_ms")) == set(cli.pop("timings_ms"))  # times differ run to run
    assert mine == cli
    assert json.loads(jpg_result.to_json()) == jpg_result.to_dict()


def test_grey_array_gives_the_landmarks_of_the_file(predictor, grey, png_result):
    from_array = predictor.predict(grey)
    assert from_array.source == "<array>"
    assert positions(from_array) == positions(png_result)


def test_rgb_and_rgba_arrays(predictor, grey, png_result):
    rgb = np.ascontiguousarray(np.dstack([grey, grey, grey]))
    assert positions(predictor.predict(rgb)) == positions(png_result)
    rgba = np.dstack([grey, grey, grey, np.full_like(grey, 255)])
    assert positions(predictor.predict(rgba)) == positions(png_result)


def test_colour_array_is_read_as_rgb(grey, tmp_path):
    # Stage 1 alone reads the RGB pixels only (Stage 0, orientation, Stage 2 and the extended
    # model read a grey decode, whose rounding differs between a PNG file and an array), so the
    # two must agree exactly here, and the same pixels in BGR order must not.
    rgb = np.dstack([grey, (grey * 0.8).astype(np.uint8), grey // 2])
    png = tmp_path / "tinted.png"
    assert cv2.imwrite(str(png), rgb[:, :, ::-1])  # OpenCV writes BGR
    p = cephtrace.Predictor(str(MODELS), priors="zero", orientation="left", framing=False,
                            refine_passes=0, extended=False)
    from_file = positions(p.predict(png))
    assert positions(p.predict(rgb)) == from_file
    assert positions(p.predict(np.ascontiguousarray(rgb[:, :, ::-1]))) != from_file


def test_uint16_array_is_scaled_like_a_16_bit_file(predictor, grey, png_result):
    assert grey.min() == 0 and grey.max() == 255  # so 257 * v scales back to v exactly
    deep = grey.astype(np.uint16) * 257
    assert positions(predictor.predict(deep)) == positions(png_result)


def test_row_padded_view_needs_no_copy(predictor, grey, png_result):
    # A crop of a wider buffer: rows are contiguous, the row stride is not the width.
    wide = np.zeros((grey.shape[0], grey.shape[1] + 13), np.uint8)
    wide[:, : grey.shape[1]] = grey
    view = wide[:, : grey.shape[1]]
    assert not view.flags.c_contiguous
    assert positions(predictor.predict(view)) == positions(png_result)


def test_encoded_bytes_and_pathlike(predictor, grey_png, png_result):
    assert positions(predictor.predict(grey_png.read_bytes())) == positions(png_result)
    assert positions(predictor.predict(grey_png)) == positions(png_result)  # pathlib.Path


def test_pixel_spacing_is_carried_into_the_result(predictor, grey):
    r = predictor.predict(grey, pixel_spacing_mm=0.1)
    assert r.pixel_spacing_mm == 0.1
    assert r.to_dict()["pixel_spacing_mm"] == 0.1


def test_options_reach_the_engine(grey):
    p = cephtrace.Predictor(str(MODELS), refine_passes=0, decoder="dark", orientation="left",
                            framing=False, threads=1)
    r = p.predict(grey)
    assert r.refinement == "none" and r.decoder == "dark"
    assert r.orientation == "left" and not r.orientation_detected
    assert r.framing is None
    assert all(lm.refinement is None for lm in r.landmarks)
    assert p.model_dir == MODELS
    assert "stage1" in p.loaded_models and p.stage0_available and p.missing_models == {}


def test_share_radius_option_is_checked():
    for radius in (-1.0, 65.0):
        with pytest.raises(ValueError, match="refine_share_radius"):
            cephtrace.Predictor(str(MODELS), refine_share_radius=radius)
    assert cephtrace.Predictor(str(MODELS), refine_share_radius=0.0).model_dir == MODELS


def isbi_dir():
    """The ISBI 2015 data beside the repository (or $CEPHTRACE_ISBI_DIR), or None."""
    env = os.environ.get("CEPHTRACE_ISBI_DIR")
    path = Path(env) if env else ROOT.parent / "shared" / "data" / "isbi2015"
    return path if (path / "images").is_dir() else None


def test_anatomy_gate_option_and_relocated_field():
    # ISBI Test1 film 238: Stage 1 puts Ba on the chin; the gate (on by default) moves it and
    # says so, and anatomy_gate=False leaves Stage 1's answer alone.
    isbi = isbi_dir()
    if isbi is None:
        pytest.skip("ISBI 2015 data not found (../shared/data/isbi2015 or $CEPHTRACE_ISBI_DIR)")
    film = str(isbi / "images" / "238.jpg")

    def basion(**options):
        result = cephtrace.Predictor(str(MODELS), threads=2, **options).predict(film)
        return next(lm for lm in result.landmarks if lm.name == "Ba")

    gated, plain = basion(), basion(anatomy_gate=False)
    assert gated.relocated and gated.confidence_label == "low"
    assert not plain.relocated
    assert abs(gated.y - plain.y) > 200  # pixels (0.1 mm): the chin is far from the skull base
