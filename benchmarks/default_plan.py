"""The planner's default plan against one neuron per core and Keras (CPU).

For MNIST 784-128-10, MLP-300, MLP-300-100 and LeNet-5 (the MNIST suite's
specs), with the same initial weights: samples/s of Keras, of spiDNN's
virtual machine at the default plan (no setting from the user) and at one
neuron (or one output position) per core, for one epoch of training on N
MNIST images (batch 32, SGD 0.05) and a prediction of N images; each run's
predicted samples/s on a board (the virtual clock) and the plan's cores.
Then the time to map and generate the data of a 5,000-core model.

    PYTHONPATH=. python benchmarks/default_plan.py [--samples N]
        [--lenet-samples N]

The published figures are in benchmarks/published/default_plan.json and
README.rst.
"""
import argparse
import os
import time

import numpy

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import spiDNN  # noqa: E402
import spiDNN.datasets  # noqa: E402
from spiDNN.layers import Dense, Input  # noqa: E402
from mnist_suite import (  # noqa: E402
    MODELS, LayerSpec, ModelSpec, keras_model, spidnn_model)
from results_file import write_json  # noqa: E402

#: The issue's targets: spiDNN's training (and prediction) samples/s over
#: Keras' at the default plan, LeNet-5's samples/s, the mapping seconds.
TARGETS = {"mnist-784-128-10": {"train": 1 / 4, "predict": 1 / 2},
           "mlp-300": {"train": 1 / 5}, "mlp-300-100": {"train": 1 / 5},
           "lenet-5": {"train_samples_per_second": 100},
           "map_5000_cores_seconds": 30}
LEARNING_RATE = 0.05
BATCH_SIZE = 32
DEFAULT_OUTPUT = os.path.join("benchmarks", "results", "default_plan.json")

MNIST_MLP = ModelSpec(
    "mnist-784-128-10", "784 -> Dense(128, relu) -> Dense(10, softmax)",
    (784,), (LayerSpec("Dense", {"units": 128, "activation": "relu"}),
             LayerSpec("Dense", {"units": 10, "activation": "softmax"})))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mnist", default=spiDNN.datasets.default_mnist_path())
    parser.add_argument("--samples", type=int, default=512,
                        help="MNIST images per MLP run (default 512)")
    parser.add_argument("--lenet-samples", type=int, default=64,
                        help="MNIST images per LeNet-5 run (default 64)")
    parser.add_argument("--output", default=DEFAULT_OUTPUT)
    return parser.parse_args(argv)


def one_per_core(model):
    """The same model with every layer at one neuron (or output position)
    per core."""
    for layer in model.layers:
        if layer.takes_cores:
            layer.request_slice(layer.slice_granularity)
    return model


def _timed(function):
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def keras_figures(spec, x, y):
    import keras
    model = keras_model(spec)
    model.compile(keras.optimizers.SGD(LEARNING_RATE),
                  "sparse_categorical_crossentropy")
    # Trace fit and predict once first: Keras' first calls build graphs.
    model.fit(x[:BATCH_SIZE], y[:BATCH_SIZE], batch_size=BATCH_SIZE,
              verbose=0)
    model.predict(x[:BATCH_SIZE], batch_size=BATCH_SIZE, verbose=0)
    _, train = _timed(lambda: model.fit(x, y, batch_size=BATCH_SIZE,
                                        epochs=1, shuffle=False, verbose=0))
    _, predict = _timed(lambda: model.predict(x, batch_size=BATCH_SIZE,
                                              verbose=0))
    return {"train_samples_per_second": len(x) / train,
            "predict_samples_per_second": len(x) / predict}


def spidnn_figures(spec, x, y, plan):
    weights = keras_model(spec).get_weights()
    model, _ = spidnn_model(spec, weights)
    if plan == "one per core":
        one_per_core(model)
    model.compile(spiDNN.optimizers.SGD(LEARNING_RATE),
                  "sparse_categorical_crossentropy")
    _, train = _timed(lambda: model.fit(x, y, batch_size=BATCH_SIZE,
                                        epochs=1, shuffle=False, verbose=0))
    fit_run, fit_plan = model.last_run, model.plan
    _, predict = _timed(lambda: model.predict(x))
    run = model.last_run
    return {
        "train_samples_per_second": len(x) / train,
        "train_machine_seconds": fit_run.machine_seconds,
        "train_mapping_seconds": fit_run.mapping_seconds,
        "train_cores": fit_run.cores,
        "train_board_samples_per_second":
            fit_run.predicted_samples_per_second,
        "train_plan": fit_plan.lines(),
        "predict_samples_per_second": len(x) / predict,
        "predict_machine_seconds": run.machine_seconds,
        "predict_mapping_seconds": run.mapping_seconds,
        "predict_cores": run.cores,
        "predict_board_samples_per_second": run.predicted_samples_per_second,
        "predict_plan": model.plan.lines()}


def map_5000_cores():
    """Seconds to plan, map, generate the data of and load a 5,002-core
    model (Input(64) -> Dense(5000) at one neuron per core), and to
    predict one sample."""
    model = spiDNN.Model([Input(64), Dense(5000, neurons_per_core=1)],
                         seed=0)
    x = numpy.zeros((1, 64), dtype=numpy.float32)
    _, seconds = _timed(lambda: model.predict(x))
    return {"cores": model.last_run.cores,
            "mapping_seconds": model.last_run.mapping_seconds,
            "total_seconds": seconds}


def main(argv=None):
    args = parse_args(argv)
    (x_all, y_all), _ = spiDNN.datasets.load_mnist(args.mnist)
    specs = [MNIST_MLP] + [spec for spec in MODELS
                           if spec.name in ("mlp-300", "mlp-300-100",
                                            "lenet-5")]
    results = {"samples": args.samples, "lenet_samples": args.lenet_samples,
               "targets": TARGETS, "models": {}}
    for spec in specs:
        n = args.lenet_samples if spec.name == "lenet-5" else args.samples
        x, y = x_all[:n].reshape((n,) + tuple(spec.input_shape)), y_all[:n]
        figures = {"keras": keras_figures(spec, x, y)}
        for plan in ("default", "one per core"):
            figures[plan] = spidnn_figures(spec, x, y, plan)
        keras_figs = figures["keras"]
        for plan in ("default", "one per core"):
            for kind in ("train", "predict"):
                figures[plan][f"{kind}_ratio_to_keras"] = (
                    figures[plan][f"{kind}_samples_per_second"]
                    / keras_figs[f"{kind}_samples_per_second"])
        results["models"][spec.name] = figures
        print(f"{spec.name} ({n} samples):")
        print(f"  Keras CPU: train {keras_figs['train_samples_per_second']:,.0f}"
              f"/s, predict {keras_figs['predict_samples_per_second']:,.0f}/s")
        for plan in ("default", "one per core"):
            f = figures[plan]
            print(f"  spiDNN VM, {plan}: train "
                  f"{f['train_samples_per_second']:,.1f}/s (x"
                  f"{f['train_ratio_to_keras']:.3f} of Keras, "
                  f"{f['train_cores']} cores, board "
                  f"{f['train_board_samples_per_second']:,.0f}/s), predict "
                  f"{f['predict_samples_per_second']:,.1f}/s (x"
                  f"{f['predict_ratio_to_keras']:.3f}, "
                  f"{f['predict_cores']} cores, board "
                  f"{f['predict_board_samples_per_second']:,.0f}/s)")
        for line in figures["default"]["train_plan"]:
            print("   ", line)
    results["map_5000_cores"] = map_5000_cores()
    print(f"5,000-core model: {results['map_5000_cores']['cores']} cores, "
          f"mapped and loaded in "
          f"{results['map_5000_cores']['mapping_seconds']:.1f} s "
          f"(predict of one sample {results['map_5000_cores']['total_seconds']:.1f} s)")
    write_json(results, args.output)


if __name__ == "__main__":
    main()
