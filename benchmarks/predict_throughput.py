"""Inference throughput of spiDNN's virtual machine against Keras on MNIST.

Builds a 784 -> Dense(128, relu) -> Dense(10, softmax) Keras model (seeded,
untrained), copies its weights into a spiDNN model (one neuron per core),
predicts the first N MNIST test images with both, and reports samples per
second, agreement, accuracy and the machine figures of ``model.last_run``.

    PYTHONPATH=. python benchmarks/predict_throughput.py [--samples N]
"""
import argparse
import os
import sys
import time

import numpy

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")   # quiet TensorFlow's logs

import spiDNN  # noqa: E402
import spiDNN.datasets  # noqa: E402
from spiDNN.layers import Dense, Input  # noqa: E402
from results_file import aligned, run_benchmark  # noqa: E402

#: Samples per second spiDNN's predict should reach (machine time).
TARGET_SAMPLES_PER_SECOND = 1000.0

DEFAULT_OUTPUT = os.path.join("benchmarks", "results",
                              "predict_throughput.json")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--mnist", default=spiDNN.datasets.default_mnist_path(),
        help="folder holding the four MNIST IDX files "
             "(default: ../shared/datasets/mnist beside the repository)")
    parser.add_argument("--samples", type=int, default=10000,
                        help="test images to predict (default 10000)")
    parser.add_argument("--output", default=DEFAULT_OUTPUT,
                        help=f"JSON file for the results "
                             f"(default {DEFAULT_OUTPUT})")
    args = parser.parse_args(argv)
    if args.samples < 1:
        parser.error("--samples must be at least 1")
    return args


def keras_model():
    import keras
    keras.utils.set_random_seed(0)
    return keras.Sequential([
        keras.Input((784,)),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(10, activation="softmax")])


def run(args):
    if not args.mnist or not os.path.isdir(args.mnist):
        sys.exit(f"no MNIST folder found ({args.mnist!r}): pass --mnist "
                 f"PATH, a folder holding the four MNIST IDX files")
    _, (x_test, y_test) = spiDNN.datasets.load_mnist(args.mnist)
    if args.samples > len(x_test):
        sys.exit(f"--samples {args.samples} is more than the "
                 f"{len(x_test)} MNIST test images")
    x, y = x_test[:args.samples], y_test[:args.samples]

    reference = keras_model()
    model = spiDNN.Model(seed=0)
    model.add(Input(784))
    model.add(Dense(128, activation="relu"))
    model.add(Dense(10, activation="softmax"))
    model.set_weights(reference.get_weights())

    start = time.perf_counter()
    spidnn_out = model.predict(x)
    spidnn_wall = time.perf_counter() - start
    report = model.last_run

    reference.predict(x[:32], batch_size=32, verbose=0)   # warm up tracing
    start = time.perf_counter()
    keras_out = reference.predict(x, batch_size=32, verbose=0)
    keras_wall = time.perf_counter() - start

    n = len(x)
    machine_rate = n / report.machine_seconds if (
        report.machine_seconds) else float("inf")
    keras_rate = n / keras_wall
    return {
        "samples": n,
        "backend": report.backend,
        "spidnn_samples_per_second": machine_rate,
        "spidnn_samples_per_second_with_mapping": n / spidnn_wall,
        "spidnn_wall_seconds": spidnn_wall,
        "mapping_seconds": report.mapping_seconds,
        "machine_seconds": report.machine_seconds,
        "keras_samples_per_second": keras_rate,
        "keras_seconds": keras_wall,
        "spidnn_over_keras": machine_rate / keras_rate,
        "max_abs_difference": float(numpy.max(numpy.abs(
            spidnn_out.astype(numpy.float64) - keras_out))),
        "spidnn_accuracy": float(numpy.mean(spidnn_out.argmax(1) == y)),
        "keras_accuracy": float(numpy.mean(keras_out.argmax(1) == y)),
        "cores": report.cores,
        "chips": report.chips,
        "packets_sent": report.packets_sent,
        "packets_delivered": report.packets_delivered,
        "packets_dropped": report.packets_dropped,
        "max_routing_entries": report.max_routing_entries,
        "target_samples_per_second": TARGET_SAMPLES_PER_SECOND,
        "target_met": machine_rate >= TARGET_SAMPLES_PER_SECOND,
    }


def table(results):
    rows = [
        ("samples", f"{results['samples']}"),
        ("backend", results["backend"]),
        ("spiDNN samples/s (machine time)",
         f"{results['spidnn_samples_per_second']:,.1f}"),
        ("spiDNN samples/s (incl. mapping)",
         f"{results['spidnn_samples_per_second_with_mapping']:,.1f}"),
        ("spiDNN machine seconds", f"{results['machine_seconds']:.3f}"),
        ("spiDNN mapping seconds", f"{results['mapping_seconds']:.3f}"),
        ("Keras samples/s (batch 32)",
         f"{results['keras_samples_per_second']:,.1f}"),
        ("spiDNN / Keras", f"{results['spidnn_over_keras']:.3f}"),
        ("max |spiDNN - Keras|", f"{results['max_abs_difference']:.3g}"),
        ("spiDNN accuracy", f"{results['spidnn_accuracy']:.4f}"),
        ("Keras accuracy", f"{results['keras_accuracy']:.4f}"),
        ("cores", f"{results['cores']}"),
        ("chips", f"{results['chips']}"),
        ("packets sent", f"{results['packets_sent']:,}"),
        ("packets dropped", f"{results['packets_dropped']:,}"),
        ("max routing entries", f"{results['max_routing_entries']}"),
        ("target samples/s", f"{results['target_samples_per_second']:,.0f}"),
        ("target met", "yes" if results["target_met"] else "NO"),
    ]
    return "\n".join(aligned(rows))


def main(argv=None):
    run_benchmark(parse_args, run, table, argv)


if __name__ == "__main__":
    main()
