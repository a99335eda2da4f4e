"""training.folds: --promote (fold all's Stage 2 becomes the default, the protocol models are kept),
the from-scratch fold's model folder, and --kfold's pooling of the held-out films.

Run from the repository root: /usr/bin/python3 -m pytest tests/training (CTest's training_folds).
"""
import hashlib
from pathlib import Path

from training import folds


def sha(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def manifest(folder):
    entries = {}
    for line in (folder / folds.MANIFEST).read_text().splitlines():
        digest, rel = line.split("  ")
        entries[rel] = digest
    return entries


def make_models(root, tag):
    """A model folder in the shipped layout; each file's bytes say which set it belongs to."""
    for rel in ("stage0/v4_stage0_profile.onnx", "stage1/v4_stage1.onnx", "stage2/refine.onnx",
                "stage2/refine_2.onnx", "stage2/confidence.json", "extended/refine_extended.onnx"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(("%s %s" % (tag, rel)).encode())
    (root / "MODEL_CARD.md").write_text("%s card" % tag)
    folds.write_manifest(root)
    return root


def test_promote_keeps_the_protocol_models_and_ships_the_folds_stage2(tmp_path):
    default = make_models(tmp_path / "models", "protocol")
    before = {rel: (default / rel).read_bytes() for rel in manifest(default)}
    fold = make_models(tmp_path / "fold", "fold-all")

    folds.promote(str(fold), str(default))

    protocol = default / folds.PROTOCOL_SUBDIR
    # The protocol folder is the old default, byte for byte, with a manifest that matches it.
    assert {rel: (protocol / rel).read_bytes() for rel in manifest(protocol)} == before
    assert all(sha(protocol / rel) == d for rel, d in manifest(protocol).items())
    assert (protocol / "MODEL_CARD.md").read_text() == "protocol card"
    # The default: the fold's two members, every other file the protocol one.
    listed = manifest(default)
    assert listed["stage2/refine.onnx"] != manifest(protocol)["stage2/refine.onnx"]
    assert not any(rel.startswith(folds.PROTOCOL_SUBDIR) for rel in listed)
    assert set(listed) == set(before)
    for rel, digest in listed.items():
        assert sha(default / rel) == digest
        source = fold if rel in ("stage2/refine.onnx", "stage2/refine_2.onnx") else protocol
        assert (default / rel).read_bytes() == (source / rel).read_bytes(), rel


def test_promote_ships_a_fine_tuned_extended_model_when_given(tmp_path):
    default = make_models(tmp_path / "models", "protocol")
    extended = tmp_path / "refine_extended.onnx"
    extended.write_bytes(b"fine-tuned extended")
    folds.promote(str(make_models(tmp_path / "fold", "fold-all")), str(default), str(extended))
    assert (default / "extended/refine_extended.onnx").read_bytes() == b"fine-tuned extended"
    assert manifest(default)["extended/refine_extended.onnx"] == sha(extended)
    protocol = default / folds.PROTOCOL_SUBDIR
    assert (protocol / "extended/refine_extended.onnx").read_bytes() == b"protocol extended/refine_extended.onnx"
    assert (default / "stage1/v4_stage1.onnx").read_bytes() == (protocol / "stage1/v4_stage1.onnx").read_bytes()


def test_promoting_again_leaves_the_protocol_models_alone(tmp_path):
    default = make_models(tmp_path / "models", "protocol")
    folds.promote(str(make_models(tmp_path / "fold", "first")), str(default))
    folds.promote(str(make_models(tmp_path / "fold2", "second")), str(default))
    protocol = default / folds.PROTOCOL_SUBDIR
    assert (protocol / "stage2/refine.onnx").read_bytes() == b"protocol stage2/refine.onnx"
    assert (default / "stage2/refine.onnx").read_bytes() == b"second stage2/refine.onnx"
    assert manifest(default)["stage2/refine.onnx"] == sha(default / "stage2/refine.onnx")


def test_promote_is_refused_for_a_fold_that_holds_test_images_out(capsys):
    try:
        folds.main(["--fold", "test1", "--promote"])
    except SystemExit as e:
        assert "--promote is for --fold all" in str(e)
    else:
        raise AssertionError("--fold test1 --promote was accepted")


def test_a_from_scratch_fold_starts_from_stage0_alone(tmp_path):
    # Fold train trains Stage 1 and Stage 2 itself: a model it failed to make must be missing,
    # not silently the base's (which learnt from the films the fold holds out).
    base = make_models(tmp_path / "base", "protocol")
    models = Path(folds.fold_models(str(base), str(tmp_path / "train"), scratch=True))
    present = sorted(str(p.relative_to(models)) for p in models.rglob("*") if p.is_file())
    assert present == ["stage0/v4_stage0_profile.onnx"]
    fine_tuned = Path(folds.fold_models(str(base), str(tmp_path / "test1")))
    assert (fine_tuned / "stage2/refine.onnx").read_bytes() == b"protocol stage2/refine.onnx"


def write_held_out(runs, fold, overall, key=None):
    import json
    report = {"overall": overall}
    path = runs / fold / "held_out.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({key: report} if key else report))


def test_kfold_pools_the_held_out_landmarks_of_the_three_folds(tmp_path, capsys):
    write_held_out(tmp_path, "train", {"n": 2850, "mre_mm": 1.2})
    write_held_out(tmp_path, "test1", {"n": 2850, "mre_mm": 1.5}, key="test1")
    write_held_out(tmp_path, "test2", {"n": 1900, "mre_mm": 2.0}, key="test2")
    expected = (2850 * 1.2 + 2850 * 1.5 + 1900 * 2.0) / 7600  # weighted by landmarks, not folds
    assert abs(folds.kfold(str(tmp_path)) - expected) < 1e-12
    assert "pooled: n 7600  MRE %.3f mm" % expected in capsys.readouterr().out


def test_kfold_names_the_fold_it_is_missing(tmp_path):
    write_held_out(tmp_path, "train", {"n": 10, "mre_mm": 1.0})
    try:
        folds.main(["--kfold", "--runs", str(tmp_path)])
    except SystemExit as e:
        assert "test1/held_out.json" in str(e) and "--fold test1" in str(e) and "--given test1=MRE" in str(e)
    else:
        raise AssertionError("--kfold pooled without fold test1")


def test_kfold_takes_a_given_mre_for_a_fold_without_its_report(tmp_path):
    write_held_out(tmp_path, "train", {"n": 2850, "mre_mm": 1.2})
    pooled = folds.kfold(str(tmp_path), {"test1": 1.5, "test2": 2.0})
    assert abs(pooled - (2850 * 1.2 + 19 * 150 * 1.5 + 19 * 100 * 2.0) / 7600) < 1e-12
