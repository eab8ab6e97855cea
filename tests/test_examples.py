"""The examples run as a user runs them and agree with Keras."""
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize("script", ["digits_train.py", "digits_cnn.py"])
def test_example_trains_like_keras(script):
    result = subprocess.run(
        [sys.executable, os.path.join("examples", script)], cwd=ROOT,
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": ROOT})
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    difference = float(re.search(
        r"max \|weight difference\|: (\S+)", out).group(1))
    assert difference < 1e-5
    ours, theirs = re.search(
        r"test accuracy spiDNN (\S+)\s+Keras (\S+)", out).groups()
    assert ours == theirs and float(ours) > 0.8
