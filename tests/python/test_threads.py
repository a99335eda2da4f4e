"""Threads: concurrent predict() calls give the serial answers, and the GIL is released."""
import sys
import threading

from conftest import positions


def test_two_threads_give_the_serial_answers(predictor, grey, grey_png, png_result, jpg_result):
    from conftest import SAMPLE

    results = {}

    def run(key, image):
        results[key] = predictor.predict(image)

    threads = [threading.Thread(target=run, args=("array", grey)),
               threading.Thread(target=run, args=("jpg", str(SAMPLE)))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert positions(results["array"]) == positions(png_result)
    assert positions(results["jpg"]) == positions(jpg_result)


def test_gil_is_released_during_predict(predictor, grey):
    # With a huge switch interval the interpreter never takes the GIL from a running thread:
    # the watcher can run before predict() returns only if predict() gives the GIL up.
    finished = []
    seen = []
    go = threading.Event()

    def watcher():
        go.wait()
        seen.append(bool(finished))

    t = threading.Thread(target=watcher)
    t.start()
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1000)
    try:
        go.set()
        predictor.predict(grey)
        finished.append(True)
    finally:
        sys.setswitchinterval(interval)
    t.join()
    assert seen == [False], "a Python thread could not run while predict() ran"
