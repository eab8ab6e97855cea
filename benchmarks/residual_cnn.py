"""A residual CNN on MNIST: spiDNN's virtual machine beside Keras (CPU) in
one run, from the same initial weights.

The model (issue 24's): a strided stem Conv2D(4, 3) to 14x14, a block
Conv2D(use_bias=False) -> ReLU -> Conv2D added to its identity, a block
added to a strided 1x1 projection (to 7x7x8), a ReLU after each Add,
GlobalAveragePooling2D and a softmax Dense.  Both train one epoch on the
first N training images (batch 32, Adam at 0.005, sparse categorical
cross-entropy, no shuffling: the same batches) and predict
the first M test images.  Reports both test accuracies, training and
predict samples/s of both sides (spiDNN over machine time, mapping apart)
and their ratios, the cores, packets per training sample by layer and
partition (the merges' ``backward_<k>`` and each fan-out's consumers
visible) against the lower bound, and the predicted board time.

    python benchmarks/residual_cnn.py [--samples N] [--test-samples M]
"""
import argparse
import os
import time

import numpy

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import spiDNN  # noqa: E402
import spiDNN.datasets  # noqa: E402
from results_file import aligned, run_benchmark  # noqa: E402

BATCH_SIZE = 32
LOSS = "sparse_categorical_crossentropy"
DEFAULT_OUTPUT = os.path.join("benchmarks", "results", "residual_cnn.json")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mnist", default=spiDNN.datasets.default_mnist_path(),
                        help="folder of the four MNIST IDX files")
    parser.add_argument("--samples", type=int, default=8192,
                        help="training images (default 8192)")
    parser.add_argument("--test-samples", type=int, default=1000,
                        help="test images (default 1000)")
    parser.add_argument("--output", default=DEFAULT_OUTPUT)
    return parser.parse_args(argv)


def keras_model():
    import keras
    from keras import layers
    keras.utils.set_random_seed(0)
    inputs = keras.Input((28, 28, 1))
    x = layers.Conv2D(4, 3, strides=2, padding="same",
                      activation="relu")(inputs)
    for filters, strides in ((4, 1), (8, 2)):
        y = layers.Conv2D(filters, 3, strides=strides, padding="same",
                          use_bias=False)(x)
        y = layers.ReLU()(y)
        y = layers.Conv2D(filters, 3, padding="same")(y)
        shortcut = (x if strides == 1 and filters == x.shape[-1]
                    else layers.Conv2D(filters, 1, strides=strides)(x))
        x = layers.ReLU()(layers.Add()([y, shortcut]))
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(10, activation="softmax")(x))


def optimizer():
    import keras
    return keras.optimizers.Adam(0.005)


def timed(call):
    start = time.perf_counter()
    result = call()
    return result, time.perf_counter() - start


def run(args):
    (x_train, y_train), (x_test, y_test) = spiDNN.datasets.load_mnist(
        args.mnist)
    x = x_train[:args.samples].reshape(-1, 28, 28, 1)
    y = y_train[:args.samples]
    xt = x_test[:args.test_samples].reshape(-1, 28, 28, 1)
    yt = y_test[:args.test_samples]
    kmodel = keras_model()
    model = spiDNN.from_keras(kmodel)
    kmodel.compile(optimizer=optimizer(), loss=LOSS)
    model.compile(optimizer=optimizer(), loss=LOSS)

    history, fit_wall = timed(lambda: model.fit(
        x, y, batch_size=BATCH_SIZE, epochs=1, shuffle=False, verbose=0))
    fit_report = model.last_run
    # Keras: a one-batch warm-up traces the step; the weights and the
    # optimizer's momentum and step count start again.
    initial = kmodel.get_weights()
    kmodel.optimizer.build(kmodel.trainable_variables)
    state = [variable.numpy() for variable in kmodel.optimizer.variables]
    kmodel.train_on_batch(x[:BATCH_SIZE], y[:BATCH_SIZE])
    kmodel.set_weights(initial)
    for variable, value in zip(kmodel.optimizer.variables, state):
        variable.assign(value)
    khistory, keras_fit = timed(lambda: kmodel.fit(
        x, y, batch_size=BATCH_SIZE, epochs=1, shuffle=False, verbose=0))
    predicted, predict_wall = timed(lambda: model.predict(xt))
    predict_report = model.last_run
    kmodel.predict(xt[:BATCH_SIZE], verbose=0)
    kpredicted, keras_predict = timed(lambda: kmodel.predict(
        xt, batch_size=BATCH_SIZE, verbose=0))

    n, m = len(x), len(xt)
    fit_rate = n / fit_report.machine_seconds
    predict_rate = m / predict_report.machine_seconds
    return {
        "training_samples": n, "test_samples": m,
        "layers": [f"{layer.name} ({type(layer).__name__})"
                   for layer in model.layers],
        "spidnn_test_accuracy": float(numpy.mean(
            predicted.argmax(1) == yt)),
        "keras_test_accuracy": float(numpy.mean(
            kpredicted.argmax(1) == yt)),
        "spidnn_loss": history.history["loss"][0],
        "keras_loss": khistory.history["loss"][0],
        "max_weight_difference": max(
            float(numpy.max(numpy.abs(a - b)))
            for a, b in zip(model.get_weights(), kmodel.get_weights())),
        "spidnn_train_samples_per_second": fit_rate,
        "keras_train_samples_per_second": n / keras_fit,
        "train_spidnn_over_keras": fit_rate / (n / keras_fit),
        "spidnn_predict_samples_per_second": predict_rate,
        "keras_predict_samples_per_second": m / keras_predict,
        "predict_spidnn_over_keras": predict_rate / (m / keras_predict),
        "fit_mapping_seconds": fit_report.mapping_seconds,
        "fit_wall_seconds": fit_wall,
        "predict_wall_seconds": predict_wall,
        "train_cores": fit_report.cores, "train_chips": fit_report.chips,
        "predict_cores": predict_report.cores,
        "plan": model.plan.lines(),
        "packets_per_train_sample": fit_report.packets_per_sample,
        "packets_per_train_sample_total":
            fit_report.packets_per_sample_total,
        "packets_per_train_sample_lower_bound":
            fit_report.packets_per_sample_lower_bound,
        "packets_per_predict_sample_total":
            predict_report.packets_per_sample_total,
        "packets_per_predict_sample_lower_bound":
            predict_report.packets_per_sample_lower_bound,
        "predicted_board_train_samples_per_second":
            fit_report.predicted_samples_per_second,
        "predicted_board_predict_samples_per_second":
            predict_report.predicted_samples_per_second,
        "predicted_board_train_joules_per_sample":
            fit_report.predicted_joules_per_sample,
        "peak_dtcm_bytes": fit_report.peak_dtcm_bytes,
    }


def table(results):
    r = results
    rows = [
        ("training / test samples",
         f"{r['training_samples']} / {r['test_samples']}"),
        ("test accuracy spiDNN / Keras",
         f"{r['spidnn_test_accuracy']:.4f} / {r['keras_test_accuracy']:.4f}"),
        ("max |weight difference|", f"{r['max_weight_difference']:.3g}"),
        ("train samples/s spiDNN / Keras",
         f"{r['spidnn_train_samples_per_second']:,.1f} / "
         f"{r['keras_train_samples_per_second']:,.1f} "
         f"(ratio {r['train_spidnn_over_keras']:.4f})"),
        ("predict samples/s spiDNN / Keras",
         f"{r['spidnn_predict_samples_per_second']:,.1f} / "
         f"{r['keras_predict_samples_per_second']:,.1f} "
         f"(ratio {r['predict_spidnn_over_keras']:.4f})"),
        ("cores train / predict",
         f"{r['train_cores']} / {r['predict_cores']}"),
        ("packets per train sample",
         f"{r['packets_per_train_sample_total']:,.1f} (lower bound "
         f"{r['packets_per_train_sample_lower_bound']:,})"),
        ("packets per predict sample",
         f"{r['packets_per_predict_sample_total']:,.1f} (lower bound "
         f"{r['packets_per_predict_sample_lower_bound']:,})"),
        ("predicted board samples/s train / predict",
         f"{r['predicted_board_train_samples_per_second']:,.0f} / "
         f"{r['predicted_board_predict_samples_per_second']:,.0f}"),
    ]
    lines = aligned(rows)
    lines += ["packets per train sample by layer/partition:"] + [
        f"  {key}: {value:,.1f}" for key, value in sorted(
            r["packets_per_train_sample"].items())]
    return "\n".join(lines + r["plan"])


def main(argv=None):
    return run_benchmark(parse_args, run, table, argv)


if __name__ == "__main__":
    main()
