"""The MNIST benchmark runner as a smoke test: it runs end to end on a tiny
MNIST-format folder and writes its JSON, table and plot (no figure is
judged here; the figures belong to benchmarks/)."""
import functools
import importlib.util
import json
import os
import sys

import numpy
import pytest

from conftest import upscale_to_mnist
from test_datasets import write_idx

SUITE = os.path.join(os.path.dirname(__file__), os.pardir, "benchmarks",
                     "mnist_suite")


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
    suite = load_suite()
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


@functools.cache
def load_suite():
    """The suite's package, benchmarks/mnist_suite/, loaded from its folder
    (benchmarks/ need not be on the path); registered as ``mnist_suite``,
    the name a script in benchmarks/ imports it by, so that its modules'
    relative imports find it."""
    spec = importlib.util.spec_from_file_location(
        "mnist_suite", os.path.join(SUITE, "__init__.py"),
        submodule_search_locations=[SUITE])
    suite = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = suite
    spec.loader.exec_module(suite)
    return suite


@pytest.mark.unit
def test_boosting_filter_keeps_alternately_right_and_wrong():
    suite = load_suite()
    labels = numpy.zeros(10, dtype=int)
    #          0  1  2  3  4  5  6  7  8  9   (1 = wrong)
    wrong = [1, 0, 0, 1, 1, 0, 1, 0, 0, 0]
    predicted = numpy.array(wrong)
    kept, draw = suite.filter_half_wrong(predicted, labels, wanted=4)
    # right 1, wrong 3, right 5, wrong 6: then four are kept
    assert kept.tolist() == [1, 3, 5, 6]
    assert (draw["right"], draw["wrong"], draw["ran_out"]) == (2, 2, False)
    kept, draw = suite.filter_half_wrong(predicted, labels, wanted=10)
    # ... right 7 has no wrong partner after it: dropped, the set ran out
    assert kept.tolist() == [1, 3, 5, 6]
    assert draw["ran_out"] and draw["unpaired_right_dropped"] == 1
    assert "ran out" in draw["note"]
    kept, draw = suite.filter_half_wrong(numpy.zeros(5, int),
                                         numpy.zeros(5, int), wanted=5)
    assert len(kept) == 0 and draw["ran_out"]


@pytest.mark.unit
def test_boosting_filter_takes_disagreements_in_order():
    suite = load_suite()
    first = numpy.array([0, 1, 2, 3, 4, 5])
    second = numpy.array([0, 2, 2, 0, 4, 1])
    kept, draw = suite.filter_disagreement(first, second, wanted=2)
    assert kept.tolist() == [1, 3] and not draw["ran_out"]
    kept, draw = suite.filter_disagreement(first, second, wanted=6)
    assert kept.tolist() == [1, 3, 5] and draw["ran_out"]
    assert draw["available_disagreements"] == 3


@pytest.mark.unit
def test_boosting_trains_each_member_on_its_filtered_set():
    """run_boosted with a stand-in trainer (no machine, no Keras): member 2
    sees member 1's filter, member 3 the disagreements, the ensemble sums
    the members' outputs and its rate sums their training times."""
    suite = load_suite()
    y_train = numpy.arange(12) % 3
    x_train = y_train.astype(numpy.float32)[:, None]
    y_test = numpy.array([0, 1, 2])
    x_test = y_test.astype(numpy.float32)[:, None]
    seen = []

    def one_hot(classes):
        return numpy.eye(3)[classes]

    def train_member(spec, weights, data, epochs, filter_x=None):
        (x, y), _ = data
        member = len(seen)
        seen.append((weights, x[:, 0].astype(int).tolist(), len(y)))
        # member 1 gets every 4th sample wrong, member 2 every 3rd
        figures = {"train_samples": len(y), "train_samples_timed": len(y),
                   "train_seconds": 1.0, "predict_seconds": 0.5,
                   "_probabilities": one_hot(y_test) * (member + 1),
                   "accuracy": 1.0, "trained": True}
        if filter_x is not None:
            classes = filter_x[:, 0].astype(int)
            step = 4 if member == 0 else 3
            wrong = numpy.arange(len(classes)) % step == step - 1
            figures["_filter_probabilities"] = one_hot(
                numpy.where(wrong, (classes + 1) % 3, classes))
        return figures

    spec = suite.ModelSpec("stand-in", "", (1,), (), members=3)
    result = suite.run_boosted(spec, train_member, ["w0", "w1", "w2"],
                               ((x_train, y_train), (x_test, y_test)), 1)
    assert [weights for weights, _, _ in seen] == ["w0", "w1", "w2"]
    members = result["members"]
    assert members[0]["training_set"]["kept"] == 12
    second = members[1]["_indices"].tolist()
    assert second == [0, 3, 4, 7, 8, 11]        # right, wrong, right, ...
    assert members[1]["training_set"]["wrong"] == 3
    assert members[1]["training_set"]["ran_out"]
    third = members[2]["_indices"].tolist()
    # 1 is wrong on 3, 7, 11, 2 on 2, 5, 8, 11 (11: the same wrong class)
    assert third == [2, 3, 5, 7, 8]
    assert result["accuracy"] == 1.0
    assert numpy.allclose(result["_probabilities"], one_hot(y_test) * 6)
    total = 12 + len(second) + len(third)
    assert result["train_samples"] == total
    assert numpy.isclose(result["train_samples_per_second"], total / 3.0)
    assert numpy.isclose(result["predict_samples_per_second"], 3 / 1.5)
    assert result["trained"] and "error" not in result
    assert result["filter_predict_seconds"] == 0.0   # none timed here


@pytest.mark.unit
def test_boosting_stops_at_an_empty_filtered_set():
    suite = load_suite()
    y = numpy.zeros(6, dtype=int)

    def train_member(spec, weights, data, epochs, filter_x=None):
        figures = {"train_samples": len(data[0][1]),
                   "train_samples_timed": len(data[0][1]),
                   "train_seconds": 1.0, "predict_seconds": 1.0,
                   "_probabilities": numpy.eye(2)[[0, 0]],
                   "accuracy": 1.0}
        if filter_x is not None:   # never wrong: nothing to pair with
            figures["_filter_probabilities"] = numpy.eye(2)[y]
        return figures

    spec = suite.ModelSpec("stand-in", "", (1,), (), members=3)
    result = suite.run_boosted(
        spec, train_member, [None] * 3,
        ((y[:, None], y), (y[:2, None], y[:2])), 1)
    statuses = [member["status"] for member in result["members"]]
    assert statuses[0] == "ok"
    assert statuses[1].startswith("not trained")
    assert statuses[2].startswith("not run")
    assert result["members_in_ensemble"] == [1]
    assert "members_note" in result and "error" not in result


def test_boosted_ensemble_runs_on_both_sides(tmp_path, digits):
    """A three-member boosted softmax layer on spiDNN and on Keras: the
    same code filters on both sides, from the same per-member weights, so
    on the same data they agree; the tables show members and packets."""
    tiny_mnist(tmp_path, digits, n_train=40, n_test=16)
    suite = load_suite()
    spec = suite.ModelSpec("boosted-softmax", "three Dense(10) members",
                           (784,), (suite._dense(10, "softmax"),),
                           members=3)
    args = suite.parse_args(["--quick", "--mnist", str(tmp_path),
                             "--train-samples", "40", "--test-samples",
                             "16"])
    entry = suite.run_model(spec, suite.load_data(args), 1, [])
    assert entry["status"] == "ok", entry["spidnn"].get("error")
    ours, keras = entry["spidnn"], entry["keras_cpu"]
    for side in (ours, keras):
        assert [m["member"] for m in side["members"]] == [1, 2, 3]
        assert side["members"][0]["train_samples"] == 40
        assert side["train_samples"] == sum(
            m.get("train_samples", 0) for m in side["members"])
        assert side["train_samples_per_second"] > 0
    # each member's own seed: different initial weights, same on both sides
    firsts = [suite.keras_model(spec, suite.member_seed(k)).get_weights()[0]
              for k in range(3)]
    assert not numpy.allclose(firsts[0], firsts[1])
    for mine, theirs in zip(ours["members"], keras["members"]):
        if "training_set" in mine:
            assert mine["training_set"] == theirs["training_set"]
    assert abs(ours["accuracy"] - keras["accuracy"]) <= 1 / 16
    assert ours["packets_per_training_sample"] >= (
        ours["train_run"]["packets_per_sample_lower_bound"])
    results = {"run": {"timestamp": "now", "train_samples": 40,
                       "test_samples": 16, "epochs": 1},
               "machine": {"cpu_count": 1},
               "gpu": {"present": False, "devices": []},
               "models": [entry]}
    table = suite.markdown(results)
    assert "| boosted-softmax | **ensemble** (sum)" in table
    assert "| boosted-softmax | dense/forward |" in table
    assert "| boosted-softmax | **total** (lower bound)" in table
    json.dumps(suite._plain(entry))   # nothing private is left
