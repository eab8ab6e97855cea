"""The MNIST benchmark runner as a smoke test: it runs end to end on a tiny
MNIST-format folder and writes its JSON, table and plot (no figure is
judged here; the figures belong to benchmarks/)."""
import importlib.util
import json
import os

import numpy

from conftest import upscale_to_mnist
from test_datasets import write_idx

SUITE = os.path.join(os.path.dirname(__file__), os.pardir, "benchmarks",
                     "mnist_suite.py")


def tiny_mnist(folder, digits, n_train=48, n_test=24):
    """The bundled digits as 28x28 MNIST IDX files."""
    x, y = digits
    images = (upscale_to_mnist(x) * 255).round().astype(numpy.uint8)
    for prefix, rows in (("train", slice(0, n_train)),
                         ("t10k", slice(n_train, n_train + n_test))):
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz",
                  images[rows].reshape(-1, 28, 28))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz",
                  y[rows].astype(numpy.uint8))


def test_suite_runs_and_writes_every_output(tmp_path, digits):
    tiny_mnist(tmp_path, digits)
    spec = importlib.util.spec_from_file_location("mnist_suite", SUITE)
    suite = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(suite)
    output = tmp_path / "suite.json"
    suite.main(["--quick", "--mnist", str(tmp_path), "--train-samples",
                "48", "--test-samples", "24", "--output", str(output)])
    for extension in (".json", ".md", ".png"):
        assert (tmp_path / f"suite{extension}").stat().st_size > 0
    results = json.loads(output.read_text())
    models = {entry["name"]: entry for entry in results["models"]}
    assert len(models) == 6
    for name, entry in models.items():
        if entry["supported"]:
            assert entry["status"] == "ok", (name, entry["status"])
            assert entry["spidnn"]["train_samples_per_second"] > 0
            assert entry["spidnn"]["packets_per_training_sample"] >= (
                entry["spidnn"]["train_run"]
                ["packets_per_sample_lower_bound"])
        else:
            assert entry["status"].startswith("not supported")
            assert entry["missing_layers"]
    assert models["mlp-300"]["supported"]
