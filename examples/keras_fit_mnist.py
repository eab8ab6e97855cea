"""The first proposal's script: a compiled Keras model trained on the
(virtual) SpiNNaker machine, then evaluated by Keras with the trained
weights.

    PYTHONPATH=. python examples/keras_fit_mnist.py [--mnist PATH]
        [--train-samples N] [--epochs N]

MNIST comes from the four IDX files under PATH (by default
../shared/datasets/mnist).  ``spiDNN.keras.fit`` converts the model, trains
it with the optimizer, loss and metrics it was compiled with (Adam, sparse
categorical cross-entropy, accuracy), validating on the machine, and
writes the trained weights back into the Keras model; ``kmodel.evaluate``
then runs on the host.  With all 60,000 images one epoch takes a few
minutes on the virtual machine.
"""
import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")   # quiet TensorFlow's logs

import keras  # noqa: E402

import spiDNN  # noqa: E402
from spiDNN.datasets import default_mnist_path, load_mnist  # noqa: E402


def build(input_shape, n_classes, dropout=0.2):
    """The proposal's model, compiled; ``dropout=0`` leaves Dropout out
    (Keras' masks cannot be drawn the same on the machine)."""
    layers = [keras.Input(input_shape), keras.layers.Flatten(),
              keras.layers.Dense(128, activation="relu")]
    if dropout:
        layers.append(keras.layers.Dropout(dropout))
    layers.append(keras.layers.Dense(n_classes, activation="softmax"))
    kmodel = keras.Sequential(layers)
    kmodel.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                   metrics=["accuracy"])
    return kmodel


def parse(argv, description, **more):
    """The MNIST arguments (``--mnist``, ``--train-samples``, ``--epochs``
    and ``more``: {flag: default}) and the images, 28x28:
    ``(args, (x_train, y_train), (x_test, y_test))``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--mnist", default=default_mnist_path(),
                        help="folder with MNIST's four IDX files")
    parser.add_argument("--train-samples", type=int, default=60000)
    parser.add_argument("--epochs", type=int, default=1)
    for flag, default in more.items():
        parser.add_argument(f"--{flag}", default=default)
    args = parser.parse_args(argv)
    if args.mnist is None:
        parser.error("MNIST not found: give --mnist PATH")
    (x_train, y_train), (x_test, y_test) = load_mnist(args.mnist)
    return (args, (x_train[:args.train_samples].reshape(-1, 28, 28),
                   y_train[:args.train_samples]),
            (x_test.reshape(-1, 28, 28), y_test))


def main(argv=None):
    args, (x_train, y_train), (x_test, y_test) = parse(
        argv, __doc__.split("\n")[0])

    keras.utils.set_random_seed(0)
    kmodel = build((28, 28), 10)
    history = spiDNN.keras.fit(kmodel, x_train, y_train, epochs=args.epochs,
                               batch_size=32, validation_split=0.1, seed=0)
    print("history:", {key: [round(v, 4) for v in values]
                       for key, values in history.history.items()})
    loss, accuracy = kmodel.evaluate(x_test, y_test, verbose=0)
    print(f"Keras evaluate with the trained weights: loss {loss:.4f}, "
          f"accuracy {accuracy:.4f}")


if __name__ == "__main__":
    main()
