"""keras.io's mnist_convnet (examples/vision/mnist_convnet.py) exactly as
written, trained by spiDNN on the virtual machine beside Keras' own fit
on the CPU, in one run, from the same initial weights.

The model: Conv2D(32, 3, relu) -> MaxPooling2D(2) -> Conv2D(64, 3, relu)
-> MaxPooling2D(2) -> Flatten -> Dropout(0.5) -> Dense(10, softmax),
compiled with categorical cross-entropy and Adam, fitted for one epoch at
batch 128 with validation_split=0.1 (the example's 15 epochs cut to one).
The Dropout masks differ, so the two sides are beside, not equal.
Reports both test accuracies, training samples/s of both (the epoch with
its validation; spiDNN over machine time and over wall time with
mapping), the cores and chips,
packets per training sample by layer against the lower bound, their
deliveries to cores, the
predicted board samples/s and joules per sample, and the plan.

    python benchmarks/mnist_convnet.py [--samples N] [--test-samples M]

The example trains on all 60,000 images (the default); ``--samples``
takes the first N.
"""
import argparse
import os
import time

import numpy

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import spiDNN  # noqa: E402
import spiDNN.datasets  # noqa: E402
from results_file import aligned, run_benchmark  # noqa: E402

BATCH_SIZE = 128
DEFAULT_OUTPUT = os.path.join("benchmarks", "results", "mnist_convnet.json")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mnist", default=spiDNN.datasets.default_mnist_path(),
                        help="folder of the four MNIST IDX files")
    parser.add_argument("--samples", type=int, default=60000,
                        help="training images, validation included "
                             "(default 60000)")
    parser.add_argument("--test-samples", type=int, default=10000,
                        help="test images (default 10000)")
    parser.add_argument("--output", default=DEFAULT_OUTPUT)
    return parser.parse_args(argv)


def keras_model():
    """The example's model and compile, verbatim."""
    import keras
    from keras import layers
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(loss="categorical_crossentropy", optimizer="adam",
                  metrics=["accuracy"])
    return model


def timed(call):
    start = time.perf_counter()
    result = call()
    return result, time.perf_counter() - start


def run(args):
    import keras
    (x_train, y_train), (x_test, y_test) = spiDNN.datasets.load_mnist(
        args.mnist)
    # The example's scaling: images in [0, 1], one-hot labels.
    x = x_train[:args.samples].reshape(-1, 28, 28, 1).astype(numpy.float32)
    y = keras.utils.to_categorical(y_train[:args.samples], 10)
    xt = x_test[:args.test_samples].reshape(-1, 28, 28, 1).astype(
        numpy.float32)
    yt = y_test[:args.test_samples]
    if x.max() > 1:
        x, xt = x / 255.0, xt / 255.0
    on_spidnn = keras_model()
    on_keras = keras.models.clone_model(on_spidnn)
    on_keras.set_weights(on_spidnn.get_weights())
    on_keras.compile(loss="categorical_crossentropy", optimizer="adam",
                     metrics=["accuracy"])

    history, fit_wall = timed(lambda: spiDNN.keras.fit(
        on_spidnn, x, y, batch_size=BATCH_SIZE, epochs=1,
        validation_split=0.1, verbose=0))
    model = spiDNN.from_keras(on_spidnn)
    predicted, predict_wall = timed(lambda: model.predict(xt))
    predict_report = model.last_run
    khistory, keras_fit = timed(lambda: on_keras.fit(
        x, y, batch_size=BATCH_SIZE, epochs=1, validation_split=0.1,
        verbose=0))
    kpredicted = on_keras.predict(xt, batch_size=BATCH_SIZE, verbose=0)
    fit_report = history.spidnn_run

    trained = int(len(x) * 0.9)
    fit_rate = trained / fit_report.machine_seconds
    keras_rate = trained / keras_fit
    return {
        "training_samples": trained,
        "validation_samples": len(x) - trained,
        "test_samples": len(xt),
        "spidnn_test_accuracy": float(numpy.mean(
            predicted.argmax(1) == yt)),
        "keras_test_accuracy": float(numpy.mean(
            kpredicted.argmax(1) == yt)),
        "spidnn_history": {k: [float(v) for v in values]
                           for k, values in history.history.items()},
        "keras_history": {k: [float(v) for v in values]
                          for k, values in khistory.history.items()},
        "spidnn_train_samples_per_second": fit_rate,
        "spidnn_train_samples_per_wall_second": trained / fit_wall,
        "keras_train_samples_per_second": keras_rate,
        "train_spidnn_over_keras": fit_rate / keras_rate,
        "fit_wall_seconds": fit_wall,
        "fit_mapping_seconds": fit_report.mapping_seconds,
        "predict_wall_seconds": predict_wall,
        "train_cores": fit_report.cores, "train_chips": fit_report.chips,
        "predict_cores": predict_report.cores,
        "packets_per_train_sample": fit_report.packets_per_sample,
        "packets_per_train_sample_total":
            fit_report.packets_per_sample_total,
        "packets_per_train_sample_lower_bound":
            fit_report.packets_per_sample_lower_bound,
        # A multicast packet reaches every core its tree leads to: each
        # delivery is a callback, the virtual machine's (and a board
        # core's) per-packet work.
        "deliveries_per_train_sample":
            fit_report.packets_delivered / fit_report.samples,
        "deliveries_per_train_sample_by_layer":
            fit_report.deliveries_per_sample,
        "predicted_board_train_samples_per_second":
            fit_report.predicted_samples_per_second,
        "predicted_board_train_joules_per_sample":
            fit_report.predicted_joules_per_sample,
        "predicted_board_bottleneck": fit_report.bottleneck,
        "target_train_samples_per_second": 50,
    }


def table(results):
    r = results
    rows = [
        ("training / validation / test samples",
         f"{r['training_samples']} / {r['validation_samples']} / "
         f"{r['test_samples']}"),
        ("test accuracy spiDNN / Keras",
         f"{r['spidnn_test_accuracy']:.4f} / {r['keras_test_accuracy']:.4f}"),
        ("train samples/s spiDNN (machine) / Keras",
         f"{r['spidnn_train_samples_per_second']:,.1f} / "
         f"{r['keras_train_samples_per_second']:,.1f} "
         f"(ratio {r['train_spidnn_over_keras']:.4f}; target "
         f"{r['target_train_samples_per_second']})"),
        ("train samples/s spiDNN, wall with mapping",
         f"{r['spidnn_train_samples_per_wall_second']:,.1f}"),
        ("cores / chips training",
         f"{r['train_cores']} / {r['train_chips']}"),
        ("packets per train sample",
         f"{r['packets_per_train_sample_total']:,.1f} (lower bound "
         f"{r['packets_per_train_sample_lower_bound']:,})"),
        ("deliveries per train sample",
         f"{r['deliveries_per_train_sample']:,.0f}"),
        ("predicted board train samples/s, J/sample",
         f"{r['predicted_board_train_samples_per_second']:,.1f}, "
         f"{r['predicted_board_train_joules_per_sample']:.3g}"),
    ]
    lines = aligned(rows)
    lines += ["packets per train sample by layer/partition:"] + [
        f"  {key}: {value:,.1f}" for key, value in sorted(
            r["packets_per_train_sample"].items())]
    lines += ["deliveries per train sample by layer:"] + [
        f"  {key}: {value:,.0f}" for key, value in sorted(
            r.get("deliveries_per_train_sample_by_layer", {}).items())]
    return "\n".join(lines + [
        f"predicted board bottleneck: {r['predicted_board_bottleneck']}"])


def main(argv=None):
    return run_benchmark(parse_args, run, table, argv)


if __name__ == "__main__":
    main()
