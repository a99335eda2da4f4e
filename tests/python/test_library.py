"""analyze(), evaluate() and download_weights(): the library functions from Python."""
import functools
import http.server
import json
import math
import threading
from pathlib import Path

import pytest

import cephtrace
from conftest import MODELS


def test_analyze_a_result_its_dict_and_its_file(jpg_result, tmp_path):
    # Which of the sample's points are rated "low" (and so left out by default) depends on the
    # shipped models' calibration; this test is about the plumbing, so it lets them all in.
    report = cephtrace.analyze(jpg_result, allow_low_confidence=True)
    d = report.to_dict()
    assert math.isfinite(report["ANB"]) and report["ANB"] == d["measurements"]["ANB"]["value"]
    assert "ANB" in str(report)  # the table
    file = tmp_path / "result.json"
    file.write_text(jpg_result.to_json())
    assert cephtrace.analyze(jpg_result.to_dict(), allow_low_confidence=True).to_dict() == d
    assert cephtrace.analyze(file, allow_low_confidence=True).to_dict() == d
    # A known pixel spacing gives lengths in mm.
    assert cephtrace.analyze(jpg_result, pixel_spacing_mm=0.1).length_unit == "mm"
    with pytest.raises(KeyError, match="no measurement named 'XYZ'"):
        report["XYZ"]
    # analyses= chooses what is reported, in clinical order; an unknown one is a ValueError.
    chosen = cephtrace.analyze(jpg_result, analyses=["wits", "steiner"], allow_low_confidence=True).to_dict()
    kinds = {m["analysis"] for m in list(chosen["measurements"].values()) + list(chosen["not_available"].values())}
    assert kinds <= {"Steiner", "Wits"} and "Steiner" in kinds
    assert next(iter(chosen["measurements"])) == "SNA"
    with pytest.raises(ValueError, match="unknown analysis 'sassouni'"):
        cephtrace.analyze(jpg_result, analyses=["sassouni"])


def test_analyze_bad_input(tmp_path):
    with pytest.raises(TypeError, match="analyze\\(\\) takes"):
        cephtrace.analyze(3.5)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(Exception, match="bad.json"):
        cephtrace.analyze(bad)


def write_truth(folder, result, dx=0.0, dy=0.0):
    """Ground truth for the result's image: its own landmarks moved by (dx, dy) pixels."""
    folder.mkdir(exist_ok=True)
    truth = {lm.name: [lm.x + dx, lm.y + dy] for lm in result.landmarks}
    truth["_pixel_spacing_mm"] = 0.1
    (folder / (Path(result.source).stem + ".json")).write_text(json.dumps(truth))
    return folder


def test_evaluate_has_known_answers(jpg_result, tmp_path):
    exact = write_truth(tmp_path / "exact", jpg_result)
    report = cephtrace.evaluate(jpg_result, exact)
    assert report.n == len(jpg_result.landmarks) and report.mre_mm == pytest.approx(0, abs=1e-9)
    # Every landmark 3-4-5 pixels off at 0.1 mm/pixel: 0.5 mm each.
    shifted = write_truth(tmp_path / "shifted", jpg_result, dx=3, dy=4)
    report = cephtrace.evaluate(jpg_result, shifted)
    assert report.mre_mm == pytest.approx(0.5)
    assert report.sdr[2.0] == 1.0
    assert report.to_dict()["overall"]["mre_mm"] == pytest.approx(0.5)
    assert "MRE" in report.to_markdown()
    # The same predictions as a list, a dict, and a predict JSON file.
    stem = Path(jpg_result.source).stem
    assert cephtrace.evaluate([jpg_result], shifted).mre_mm == pytest.approx(0.5)
    assert cephtrace.evaluate({stem: jpg_result}, shifted).mre_mm == pytest.approx(0.5)
    file = tmp_path / "predictions.json"
    file.write_text(json.dumps({jpg_result.source: jpg_result.to_dict()}))
    assert cephtrace.evaluate(file, shifted).mre_mm == pytest.approx(0.5)
    # Pixel spacing given: 5 px at 0.2 mm/px.
    assert cephtrace.evaluate(jpg_result, shifted, pixel_spacing_mm=0.2).mre_mm == pytest.approx(1.0)


def test_evaluate_errors(jpg_result, tmp_path):
    with pytest.raises(ValueError, match="scale 'metric' is not one of"):
        cephtrace.evaluate(jpg_result, tmp_path, scale="metric")
    bad = tmp_path / "truth.json"
    bad.write_text('{"S": [1, 2, 3]}')
    with pytest.raises(cephtrace.GroundTruthError, match="truth.json"):
        cephtrace.evaluate(jpg_result, bad)


class _ModelServer:
    """A hub stand-in: any URL is answered with the shipped model of the same file name."""

    def __init__(self):
        files = {p.name: p for p in MODELS.rglob("*.onnx")}
        self.requests = []

        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                path = files.get(self.path.rsplit("/", 1)[-1])
                if path is None:
                    self.send_error(404)
                    return
                data = path.read_bytes()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def hub():
    server = _ModelServer()
    yield server
    server.close()


def test_download_weights_fetches_with_progress(hub, tmp_path):
    seen = []
    # The Phase 0E model: ours has the published one's size (the others are smaller, and a
    # file of under half the published size is refused as not the model).
    report = cephtrace.download_weights(tmp_path / "weights", keys=["derive"], endpoint=hub.url,
                                        progress=seen.append)
    assert report["ok"], report
    [file] = report["files"]
    assert file["key"] == "derive" and file["status"] == "downloaded"
    source = next(MODELS.rglob("phase0e_model.onnx"))
    assert Path(file["path"]).read_bytes() == source.read_bytes()
    assert seen and seen[-1]["bytes_done"] == source.stat().st_size
    # Present now: skipped.
    again = cephtrace.download_weights(tmp_path / "weights", keys=["derive"], endpoint=hub.url)
    assert again["files"][0]["status"] == "skipped"


def test_download_weights_failures(hub, tmp_path):
    class Stop(Exception):
        pass

    def stop(progress):
        raise Stop("enough")

    with pytest.raises(Stop, match="enough"):
        cephtrace.download_weights(tmp_path / "a", keys=["derive"], endpoint=hub.url, progress=stop)
    report = cephtrace.download_weights(tmp_path / "b", keys=["derive"], endpoint="http://127.0.0.1:9")
    assert not report["ok"]
    assert report["files"][0]["status"] == "failed" and report["files"][0]["message"]
    with pytest.raises(ValueError, match="unknown model key 'no_such_model'"):
        cephtrace.download_weights(tmp_path / "c", keys=["no_such_model"], endpoint=hub.url)
    # Never into the shipped models (pinned by their MANIFEST.sha256), not even a request.
    asked = len(hub.requests)
    with pytest.raises(ValueError, match="MANIFEST.sha256"):
        cephtrace.download_weights(MODELS, keys=["derive"], endpoint=hub.url)
    assert len(hub.requests) == asked
