"""training.distil: the student folder is the base with the student as its only Stage 2 network.

Run from the repository root: /usr/bin/python3 -m pytest tests/training (CTest's training_folds).
"""
import hashlib
from pathlib import Path

import pytest

from training import distil


def make_models(root):
    """A model folder in the shipped layout with a two-member ensemble and a protocol subfolder."""
    for rel in ("stage0/v4_stage0_profile.onnx", "stage1/v4_stage1.onnx", "stage2/refine.onnx",
                "stage2/refine_2.onnx", "stage2/confidence.json", "extended/refine_extended.onnx",
                "isbi2015-protocol/stage2/refine.onnx"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(("base " + rel).encode())
    (root / "MODEL_CARD.md").write_text("base card")
    return root


def listed(folder):
    return dict(reversed(line.split("  ")) for line in (folder / distil.MANIFEST).read_text().splitlines())


def test_members_lists_refine_first(tmp_path):
    base = make_models(tmp_path / "models")
    assert [Path(m).name for m in distil.members(str(base))] == ["refine.onnx", "refine_2.onnx"]


def test_student_folder_has_the_student_as_its_only_stage2_network(tmp_path):
    base = make_models(tmp_path / "models")
    student = tmp_path / "student.onnx"
    student.write_bytes(b"student")

    folder = Path(distil.student_folder(str(base), str(student), str(tmp_path / "runs" / "models")))

    assert (folder / "stage2" / "refine.onnx").read_bytes() == b"student"
    assert not (folder / "stage2" / "refine_2.onnx").exists()
    assert not (folder / distil.PROTOCOL_SUBDIR).exists() and not (folder / "MODEL_CARD.md").exists()
    # Every other file is the base's, and the manifest lists exactly the folder's model files.
    for rel in ("stage0/v4_stage0_profile.onnx", "stage1/v4_stage1.onnx", "stage2/confidence.json",
                "extended/refine_extended.onnx"):
        assert (folder / rel).read_bytes() == (base / rel).read_bytes(), rel
    entries = listed(folder)
    assert set(entries) == {"stage0/v4_stage0_profile.onnx", "stage1/v4_stage1.onnx", "stage2/refine.onnx",
                            "stage2/confidence.json", "extended/refine_extended.onnx"}
    for rel, digest in entries.items():
        assert hashlib.sha256((folder / rel).read_bytes()).hexdigest() == digest, rel
    # The base is untouched.
    assert (base / "stage2" / "refine_2.onnx").read_bytes() == b"base stage2/refine_2.onnx"


def test_training_refuses_a_base_without_an_ensemble(tmp_path):
    base = make_models(tmp_path / "models")
    (base / "stage2" / "refine_2.onnx").unlink()
    with pytest.raises(SystemExit, match="no ensemble"):
        distil.train(str(base), "1-140", str(tmp_path / "runs"), 1, 1, 0)
