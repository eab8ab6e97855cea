"""Issue 25's acceptance models that are too slow for the test suite,
built as their sources build them (Dropout removed: the masks would
differ), trained by ``spiDNN.keras.fit`` beside Keras' own fit from the
same initial weights, with the source's optimizer and loss:

- ``mnist_cnn``: Keras' ``examples/mnist_cnn.py`` (Adadelta, batch 128),
  on MNIST;
- ``cifar10_cnn``: Keras' ``examples/cifar10_cnn.py`` (RMSprop at 1e-4,
  its ``decay`` gone from Keras 3; batch 32), on MNIST padded to 32x32
  on three channels (there is no CIFAR-10 here);
- ``vgg16``: ``keras.applications.VGG16(weights=None, input_shape=(32,
  32, 3), classes=10)``, one SGD step of a small batch, on the same
  stand-in.

Reports predict's and the trained weights' largest difference from
Keras', the cores, and the machine and wall seconds; and, as the scale
to read the weights' difference against, how far Keras lands from
itself when half its initial weights are moved by one float32 ulp
(``keras_nudged_weights_max_difference``), and when it trains the same
weights on its other CPU code path, oneDNN's off (TF_ENABLE_ONEDNN_OPTS=0
in a child process: its sums in other orders;
``keras_other_order_weights_max_difference``): a model whose training
magnifies last-bit differences that much cannot match any
implementation summing in another order more closely.

    python benchmarks/keras_cnn_acceptance.py mnist_cnn [--samples N]

The tests' acceptance models (keras.io's mnist_convnet, TensorFlow's
CIFAR-10 tutorial) are in tests/test_conv_streamed.py.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import spiDNN  # noqa: E402
import spiDNN.datasets  # noqa: E402
from results_file import aligned, run_benchmark  # noqa: E402


def mnist_cnn():
    import keras
    layers = keras.layers
    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.Conv2D(64, (3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dense(10, activation="softmax")])
    return model, keras.optimizers.Adadelta, {}, 128


def cifar10_cnn():
    import keras
    layers = keras.layers
    model = keras.Sequential([
        keras.Input(shape=(32, 32, 3)),
        layers.Conv2D(32, (3, 3), padding="same", activation="relu"),
        layers.Conv2D(32, (3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, (3, 3), padding="same", activation="relu"),
        layers.Conv2D(64, (3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dense(512, activation="relu"),
        layers.Dense(10, activation="softmax")])
    return model, keras.optimizers.RMSprop, {"learning_rate": 1e-4}, 32


def vgg16():
    import keras
    model = keras.applications.VGG16(weights=None, input_shape=(32, 32, 3),
                                     classes=10)
    return model, keras.optimizers.SGD, {"learning_rate": 0.01}, 8


MODELS = {"mnist_cnn": mnist_cnn, "cifar10_cnn": cifar10_cnn,
          "vgg16": vgg16}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model", choices=sorted(MODELS))
    parser.add_argument("--mnist",
                        default=spiDNN.datasets.default_mnist_path())
    parser.add_argument("--samples", type=int, default=None,
                        help="training images (default: 256; vgg16 8)")
    parser.add_argument("--output", default=None)
    parser.add_argument("--keras-child", nargs=2, default=None,
                        metavar=("GIVEN", "TRAINED"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.output is None:
        args.output = os.path.join("benchmarks", "results",
                                   f"acceptance_{args.model}.json")
    return args


def images(args, shape, n):
    """MNIST scaled to [0, 1]; padded to 32x32 on three channels for the
    CIFAR-10 models."""
    import keras
    (x, y), _ = spiDNN.datasets.load_mnist(args.mnist)
    x = (x[:n].astype(numpy.float32) / 255).reshape(n, 28, 28, 1)
    if shape == (32, 32, 3):
        x = numpy.repeat(numpy.pad(x, ((0, 0), (2, 2), (2, 2), (0, 0))),
                         3, axis=3)
    return x, keras.utils.to_categorical(y[:n], 10)


def nudged(weights, seed=1):
    """``weights`` with half their values (at random) moved up by one
    float32 ulp."""
    rng = numpy.random.default_rng(seed)
    return [numpy.where(rng.random(w.shape) < 0.5, numpy.nextafter(
        w, numpy.float32(numpy.inf)), w).astype(numpy.float32)
        for w in weights]


def keras_other_order(args, weights):
    """Keras' trained weights from ``weights`` with oneDNN off: the fit
    of :py:func:`run`, in a child process (TensorFlow reads the setting
    when it loads)."""
    with tempfile.TemporaryDirectory() as folder:
        given, trained = (os.path.join(folder, name)
                          for name in ("given.npz", "trained.npz"))
        numpy.savez(given, *weights)
        subprocess.run(
            [sys.executable, __file__, args.model, "--mnist", args.mnist,
             "--samples", str(args.samples), "--keras-child", given,
             trained],
            check=True, env={**os.environ, "TF_ENABLE_ONEDNN_OPTS": "0"})
        with numpy.load(trained) as arrays:
            return [arrays[name] for name in arrays.files]


def keras_child(args):
    """--keras-child GIVEN TRAINED: Keras' fit of the model from GIVEN's
    weights, written to TRAINED."""
    given, trained = args.keras_child
    kmodel, optimizer, settings, batch_size = MODELS[args.model]()
    with numpy.load(given) as arrays:
        kmodel.set_weights([arrays[name] for name in arrays.files])
    kmodel.compile(loss="categorical_crossentropy",
                   optimizer=optimizer(**settings))
    x, y = images(args, kmodel.input_shape[1:], args.samples)
    kmodel.fit(x, y, batch_size=batch_size, epochs=1, shuffle=False,
               verbose=0)
    numpy.savez(trained, *kmodel.get_weights())


def max_difference(a, b):
    return max(float(numpy.max(numpy.abs(numpy.float64(u) - v)))
               for u, v in zip(a, b))


def run(args):
    import keras
    keras.utils.set_random_seed(0)
    kmodel, optimizer, settings, batch_size = MODELS[args.model]()
    n = args.samples = args.samples or (
        batch_size if args.model == "vgg16" else 256)
    x, y = images(args, kmodel.input_shape[1:], n)
    other_order = keras_other_order(args, kmodel.get_weights())
    reference = keras.models.clone_model(kmodel)
    reference.set_weights(kmodel.get_weights())
    nudged_reference = keras.models.clone_model(kmodel)
    nudged_reference.set_weights(nudged(kmodel.get_weights()))
    for model in (kmodel, reference, nudged_reference):
        model.compile(loss="categorical_crossentropy",
                      optimizer=optimizer(**settings))
    model = spiDNN.from_keras(kmodel)
    start = time.perf_counter()
    predicted = model.predict(x)
    predict_wall = time.perf_counter() - start
    predict_cores = model.last_run.cores
    start = time.perf_counter()
    history = spiDNN.keras.fit(kmodel, x, y, batch_size=batch_size,
                               epochs=1, shuffle=False, verbose=0)
    fit_wall = time.perf_counter() - start
    expected = reference.predict(x, batch_size=batch_size, verbose=0)
    for model in (reference, nudged_reference):
        model.fit(x, y, batch_size=batch_size, epochs=1, shuffle=False,
                  verbose=0)
    report = history.spidnn_run
    return {
        "model": args.model, "samples": n, "batch_size": batch_size,
        "optimizer": type(reference.optimizer).__name__,
        "predict_max_difference": max_difference([predicted], [expected]),
        "weights_max_difference": max_difference(
            kmodel.get_weights(), reference.get_weights()),
        "keras_nudged_weights_max_difference": max_difference(
            nudged_reference.get_weights(), reference.get_weights()),
        "keras_other_order_weights_max_difference": max_difference(
            other_order, reference.get_weights()),
        "predict_cores": predict_cores, "predict_wall_seconds": predict_wall,
        "train_cores": report.cores, "train_chips": report.chips,
        "train_machine_seconds": report.machine_seconds,
        "train_wall_seconds": fit_wall,
    }


def table(results):
    r = results
    return "\n".join(aligned([
        ("model, optimizer", f"{r['model']}, {r['optimizer']}"),
        ("samples, batch", f"{r['samples']}, {r['batch_size']}"),
        ("predict: max |spiDNN - Keras|",
         f"{r['predict_max_difference']:.3g} ({r['predict_cores']} cores, "
         f"{r['predict_wall_seconds']:.1f} s)"),
        ("trained weights: max |spiDNN - Keras|",
         f"{r['weights_max_difference']:.3g}"),
        ("Keras from weights 1 ulp off: max |Keras' - Keras|",
         f"{r['keras_nudged_weights_max_difference']:.3g}"),
        ("Keras with oneDNN off: max |Keras' - Keras|",
         f"{r['keras_other_order_weights_max_difference']:.3g}"),
        ("training cores / chips",
         f"{r['train_cores']} / {r['train_chips']}"),
        ("training machine / wall seconds",
         f"{r['train_machine_seconds']:.1f} / "
         f"{r['train_wall_seconds']:.1f}"),
    ]))


def main(argv=None):
    args = parse_args(argv)
    if args.keras_child:
        return keras_child(args)
    return run_benchmark(lambda _: args, run, table)


if __name__ == "__main__":
    main()
