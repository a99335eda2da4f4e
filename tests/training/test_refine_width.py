"""A narrower Stage 2 or extended network (issue 15): its widths are read back from the exported
file, and a distillation into it starts from scratch and may be taught by one network.

Run from the repository root: /usr/bin/python3 -m pytest tests/training (CTest's training_folds).
"""
import numpy as np
import pytest

from training import distil

NARROW = (8, 16, 32, 64, 64)


@pytest.mark.parametrize("outputs", [25, 14])  # Stage 2's network, the extended model's
def test_an_exported_narrow_network_reads_back_with_its_widths(tmp_path, outputs):
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")
    from training import refine
    from training.export import export_onnx
    torch.manual_seed(0)
    net = refine.RefineNet(NARROW, nout=outputs).eval()
    x = torch.randn(2, 1, refine.PATCH, refine.PATCH)
    path = export_onnx(net, x, str(tmp_path / "narrow.onnx"))

    assert refine.width_of(path) == NARROW
    # The file loads as the same function (BatchNorms folded into the convolutions).
    loaded = refine.load_exported(path)
    with torch.no_grad():
        assert np.abs(loaded(x).numpy() - net(x).numpy()).max() < 1e-4


def test_a_narrower_student_starts_from_scratch_with_one_teacher(tmp_path, monkeypatch):
    base = tmp_path / "models"
    (base / "stage2").mkdir(parents=True)
    (base / "stage2" / "refine.onnx").write_bytes(b"one network")
    commands = []

    class Done:
        returncode = 0
    monkeypatch.setattr(distil.subprocess, "run", lambda cmd, **kw: commands.append(cmd) or Done())

    distil.train(str(base), "1-140", str(tmp_path / "runs"), 1, 1, 0, width="8,16,32,64,64")

    cmd = commands[0]
    value = lambda flag: cmd[cmd.index(flag) + 1]
    assert value("--refine-width") == "8,16,32,64,64"
    assert "--init-from" not in cmd  # a member's weights do not fit a narrower network
    assert float(value("--refine-lr")) == distil.SCRATCH_LEARNING_RATE
    assert value("--refine-teachers") == str(base / "stage2" / "refine.onnx")
    # Without a width the student is a member fine-tuned: a single network is no ensemble.
    with pytest.raises(SystemExit, match="no ensemble"):
        distil.train(str(base), "1-140", str(tmp_path / "runs"), 1, 1, 0)


def test_a_width_is_five_positive_channel_counts():
    import argparse
    from training.common import parse_width
    assert parse_width("8,16,32,64,64") == NARROW
    for bad in ("8,16,32,64", "8,16,32,64,0", "8,16,x,64,64", ""):
        with pytest.raises(argparse.ArgumentTypeError, match="expected 5 positive channel counts"):
            parse_width(bad)


def test_a_fine_tuned_extended_model_keeps_its_files_widths(tmp_path):
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")
    from training import extended, refine
    from training.export import export_onnx
    folder = tmp_path / "models"
    (folder / "extended").mkdir(parents=True)
    net = refine.RefineNet(NARROW, nout=extended.NEXT).eval()
    export_onnx(net, torch.randn(2, 1, refine.PATCH, refine.PATCH), str(folder / "extended" / "refine_extended.onnx"))
    runs = ["--runs", str(tmp_path / "runs"), "--out", str(tmp_path / "out")]
    with pytest.raises(SystemExit, match="a fine-tune keeps the widths"):
        extended.main(runs + ["--init-from", str(folder), "--width", "8,16,32,48,48"])
    with pytest.raises(SystemExit, match="--teacher .*: no extended/refine_extended.onnx there"):
        extended.main(runs + ["--teacher", str(tmp_path)])
