"""Training throughput of spiDNN's virtual machine against Keras on MNIST.

A seeded Keras 784 -> Dense(128, relu) -> Dense(10, softmax) model and a
spiDNN copy of it (same initial weights, one neuron per core) each train
one epoch on the first N MNIST training images (batch 32, SGD 0.05, sparse
categorical cross-entropy, no shuffling, so both see the same batches),
then predict the test set.  Reports samples/s of both and their ratio, the
test accuracies, and spiDNN's packets per training sample against the
lower bound of one packet per input, label, neuron and direction.

    PYTHONPATH=. python benchmarks/train_throughput.py [--samples N]
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

#: spiDNN training samples/s over Keras' that the project aims for.
TARGET_RATIO = 1 / 20
TARGET_ACCURACY = 0.90
LEARNING_RATE = 0.05
BATCH_SIZE = 32
LOSS = "sparse_categorical_crossentropy"

DEFAULT_OUTPUT = os.path.join("benchmarks", "results",
                              "train_throughput.json")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--mnist", default=spiDNN.datasets.default_mnist_path(),
        help="folder holding the four MNIST IDX files "
             "(default: ../shared/datasets/mnist beside the repository)")
    parser.add_argument("--samples", type=int, default=60000,
                        help="training images (default all 60000)")
    parser.add_argument("--test-samples", type=int, default=10000,
                        help="test images for the accuracy (default 10000)")
    parser.add_argument("--output", default=DEFAULT_OUTPUT,
                        help=f"JSON file for the results "
                             f"(default {DEFAULT_OUTPUT})")
    args = parser.parse_args(argv)
    if args.samples < 1 or args.test_samples < 1:
        parser.error("--samples and --test-samples must be at least 1")
    return args


def keras_model():
    import keras
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((784,)),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(LEARNING_RATE), loss=LOSS)
    return model


def time_keras_fit(model, x, y):
    """Seconds of one epoch, after a one-batch warm-up that traces the
    train step (restoring the initial weights afterwards)."""
    initial = model.get_weights()
    model.train_on_batch(x[:BATCH_SIZE], y[:BATCH_SIZE])
    model.set_weights(initial)
    start = time.perf_counter()
    model.fit(x, y, epochs=1, batch_size=BATCH_SIZE, shuffle=False,
              verbose=0)
    return time.perf_counter() - start


def run(args):
    if not args.mnist or not os.path.isdir(args.mnist):
        sys.exit(f"no MNIST folder found ({args.mnist!r}): pass --mnist "
                 f"PATH, a folder holding the four MNIST IDX files")
    (x_train, y_train), (x_test, y_test) = spiDNN.datasets.load_mnist(
        args.mnist)
    x, y = x_train[:args.samples], y_train[:args.samples]
    x_test, y_test = x_test[:args.test_samples], y_test[:args.test_samples]

    reference = keras_model()
    model = spiDNN.Model(seed=0)
    model.add(Input(784))
    model.add(Dense(128, activation="relu"))
    model.add(Dense(10, activation="softmax"))
    model.set_weights(reference.get_weights())
    model.compile(optimizer=spiDNN.optimizers.SGD(LEARNING_RATE), loss=LOSS)

    start = time.perf_counter()
    history = model.fit(x, y, epochs=1, batch_size=BATCH_SIZE,
                        shuffle=False, verbose=1)
    spidnn_wall = time.perf_counter() - start
    report = model.last_run
    keras_seconds = time_keras_fit(reference, x, y)

    spidnn_accuracy = float(numpy.mean(
        model.predict(x_test).argmax(1) == y_test))
    keras_accuracy = float(numpy.mean(
        reference.predict(x_test, batch_size=BATCH_SIZE, verbose=0)
        .argmax(1) == y_test))
    weight_difference = max(
        float(numpy.max(numpy.abs(a - b)))
        for a, b in zip(model.get_weights(), reference.get_weights()))

    n = len(x)
    machine_rate = n / report.machine_seconds
    keras_rate = n / keras_seconds
    ratio = machine_rate / keras_rate
    return {
        "training_samples": n,
        "test_samples": len(x_test),
        "backend": report.backend,
        "batch_size": BATCH_SIZE,
        "learning_rate": LEARNING_RATE,
        "spidnn_samples_per_second": machine_rate,
        "spidnn_samples_per_second_with_mapping": n / spidnn_wall,
        "mapping_seconds": report.mapping_seconds,
        "machine_seconds": report.machine_seconds,
        "keras_samples_per_second": keras_rate,
        "keras_seconds": keras_seconds,
        "spidnn_over_keras": ratio,
        "spidnn_loss": history.history["loss"][0],
        "spidnn_test_accuracy": spidnn_accuracy,
        "keras_test_accuracy": keras_accuracy,
        "max_weight_difference": weight_difference,
        "packets_per_sample": report.packets_per_sample,
        "packets_per_sample_total": report.packets_per_sample_total,
        "packets_per_sample_lower_bound":
            report.packets_per_sample_lower_bound,
        "weight_packets": report.weight_packets,
        "cores": report.cores,
        "chips": report.chips,
        "packets_dropped": report.packets_dropped,
        "max_routing_entries": report.max_routing_entries,
        "peak_dtcm_bytes": report.peak_dtcm_bytes,
        "target_ratio": TARGET_RATIO,
        "target_ratio_met": ratio >= TARGET_RATIO,
        "target_accuracy": TARGET_ACCURACY,
        "target_accuracy_met": spidnn_accuracy >= TARGET_ACCURACY,
    }


def table(results):
    rows = [
        ("training samples", f"{results['training_samples']}"),
        ("spiDNN samples/s (machine time)",
         f"{results['spidnn_samples_per_second']:,.1f}"),
        ("spiDNN samples/s (incl. mapping)",
         f"{results['spidnn_samples_per_second_with_mapping']:,.1f}"),
        ("spiDNN mapping seconds", f"{results['mapping_seconds']:.2f}"),
        ("Keras samples/s", f"{results['keras_samples_per_second']:,.1f}"),
        ("spiDNN / Keras", f"{results['spidnn_over_keras']:.4f} "
         f"(target {results['target_ratio']:.3f})"),
        ("spiDNN test accuracy", f"{results['spidnn_test_accuracy']:.4f}"),
        ("Keras test accuracy", f"{results['keras_test_accuracy']:.4f}"),
        ("max |weight difference|",
         f"{results['max_weight_difference']:.3g}"),
        ("packets per sample",
         f"{results['packets_per_sample_total']:,.1f} (lower bound "
         f"{results['packets_per_sample_lower_bound']:,})"),
        ("cores / chips", f"{results['cores']} / {results['chips']}"),
        ("max routing entries", f"{results['max_routing_entries']}"),
        ("peak DTCM per core", f"{results['peak_dtcm_bytes']:,} bytes"),
        ("targets met",
         f"ratio {'yes' if results['target_ratio_met'] else 'NO'}, "
         f"accuracy {'yes' if results['target_accuracy_met'] else 'NO'}"),
    ]
    return "\n".join(aligned(rows))


def main(argv=None):
    return run_benchmark(parse_args, run, table, argv)


if __name__ == "__main__":
    main()
