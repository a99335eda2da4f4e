"""A narrower Stage 0 network (issue 15): its widths are read back from the exported file, and a
run does not resume at other widths than it began with.

Run from the repository root: /usr/bin/python3 -m pytest tests/training (CTest's training_folds).
"""
import argparse

import numpy as np
import pytest

NARROW = (8, 16, 32, 64)


@pytest.mark.parametrize("kind,size", [("profile", 512), ("z3", 256)])
def test_an_exported_narrow_stage0_network_reads_back_with_its_widths(tmp_path, kind, size):
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")
    from training import stage0
    from training.export import export_onnx
    torch.manual_seed(0)
    net = stage0.make_model(kind, NARROW).eval()
    x = torch.rand(1, 1, size, size)
    path = export_onnx(net, x, str(tmp_path / "narrow.onnx"))
    assert stage0.width_of(path) == NARROW
    with torch.no_grad():
        # the contract's output: one channel per class at the input's size
        assert tuple(net(x).shape) == (1, 1 if kind == "profile" else len(stage0.ZONES[kind]["classes"]), size, size)


def test_a_run_resumes_only_at_its_widths(tmp_path):
    torch = pytest.importorskip("torch")
    from training import stage0
    torch.save({"model": {}, "opt": {}, "state": {"elapsed": 60.0, "width": list(stage0.WIDTH)}},
               str(tmp_path / "stage0_z1_last.pt"))
    with pytest.raises(SystemExit, match="trained at widths 16,32,64,128, not 8,16,32,64"):
        stage0.train("z1", str(tmp_path), str(tmp_path / "models"), width=NARROW)


def test_a_stage0_width_is_four_positive_channel_counts():
    from training.common import parse_unet_width
    assert parse_unet_width("8,16,32,64") == NARROW
    for bad in ("8,16,32,64,64", "8,16,0,64", "8,x,32,64", ""):
        with pytest.raises(argparse.ArgumentTypeError, match="expected 4 positive channel counts"):
            parse_unet_width(bad)
