"""Ctrl-C during a long predict reaches Python within a second (the passes
run a chunk at a time) and leaves the process usable; a process that
ignores SIGINT (nohup, background jobs) goes on ignoring it, mapping
included.  Each in a subprocess, sent real signals."""
import os
import signal
import subprocess
import sys
import textwrap
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CHILD = textwrap.dedent("""
    import signal, sys, time
    import numpy
    import spiDNN
    from spiDNN.layers import Dense, Input
    if sys.argv[1] == "ignore":
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    model = spiDNN.Model(seed=0)
    model.add(Input(32))
    model.add(Dense(256, activation="relu"))
    model.add(Dense(256, activation="relu"))
    model.add(Dense(10, activation="softmax"))
    x = numpy.random.default_rng(0).normal(size=(int(sys.argv[2]), 32))
    x = x.astype(numpy.float32)
    print("start", flush=True)
    try:
        out = model.predict(x)
        print("done", len(out), flush=True)
    except KeyboardInterrupt:
        print("interrupted", repr(time.time()), flush=True)
    # Still usable: a predict after it gives the same as a fresh one.
    again = model.predict(x[:20])
    print("usable", bool(numpy.all(numpy.isfinite(again))), flush=True)
""")


def _child(mode, n_samples):
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, mode, str(n_samples)], env=env,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def _wait_for(process, word):
    for line in process.stdout:
        if line.startswith(word):
            return line.split()
    raise AssertionError(f"the child ended without saying {word!r}")


def test_ctrl_c_stops_a_long_predict_within_a_second():
    # 100,000 samples: over a minute of passes, uninterrupted, so the
    # signal finds the passes running, after a mapping of a few seconds
    # even on a loaded machine.
    process = _child("default", 100000)
    try:
        _wait_for(process, "start")
        time.sleep(10.0)                # mapped, and predicting
        sent = time.time()
        process.send_signal(signal.SIGINT)
        words = _wait_for(process, "interrupted")
        assert float(words[1]) - sent < 1.0
        assert _wait_for(process, "usable") == ["usable", "True"]
        assert process.wait(timeout=60) == 0
    finally:
        process.kill()
        process.wait()


def test_an_ignored_ctrl_c_stays_ignored_while_mapping_and_predicting():
    process = _child("ignore", 3000)
    try:
        _wait_for(process, "start")
        # Ctrl-C every 0.1 s, from before the mapping to the run's end.
        while process.poll() is None:
            process.send_signal(signal.SIGINT)
            time.sleep(0.1)
        out = process.stdout.read()
        assert process.returncode == 0
        assert "done 3000" in out and "usable True" in out
    finally:
        process.kill()
        process.wait()
