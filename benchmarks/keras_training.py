"""Keras' training interface on the machine: the MNIST MLP of
examples/keras_fit_mnist.py (Flatten, Dense(128, relu), Dropout(0.2),
Dense(10, softmax); Adam, sparse categorical cross-entropy, accuracy)
trained by ``spiDNN.keras.fit`` beside Keras' own ``fit``, from the same
initial weights, for the same epochs.

Reports both test accuracies (Keras' ``evaluate`` with each side's trained
weights; the Dropout masks differ between the two, so the weights do too)
and spiDNN's training throughput with and without a validation set
(``validation_split=0.1``, evaluated on the machine after each epoch), in
one run.

    PYTHONPATH=. python benchmarks/keras_training.py [--train-samples N]
        [--epochs N] [--mnist PATH]

Prints the figures and writes benchmarks/results/keras_training.json.  The
published figures are in benchmarks/published/keras_training.json and
README.rst.
"""
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(_ROOT, "examples"))
try:
    import spiDNN
except ImportError:
    sys.path.insert(0, _ROOT)
    import spiDNN
import keras  # noqa: E402
from keras_fit_mnist import build, parse  # noqa: E402
from results_file import write_json  # noqa: E402

DEFAULT_OUTPUT = os.path.join("benchmarks", "results", "keras_training.json")


def main(argv=None):
    args, (x_train, y_train), (x_test, y_test) = parse(
        argv, __doc__.split("\n")[0], output=DEFAULT_OUTPUT)
    keras.utils.set_random_seed(0)
    initial = build((28, 28), 10).get_weights()
    fit_args = dict(epochs=args.epochs, batch_size=32, shuffle=False,
                    verbose=0)
    results = {"train_samples": len(x_train), "epochs": args.epochs}

    reference = build((28, 28), 10)
    reference.set_weights(initial)
    start = time.perf_counter()
    reference.fit(x_train, y_train, validation_split=0.1, **fit_args)
    results["keras_seconds"] = time.perf_counter() - start
    results["keras_test_accuracy"] = float(
        reference.evaluate(x_test, y_test, verbose=0)[1])

    for name, validation in (("without_validation", 0.0),
                             ("with_validation", 0.1)):
        kmodel = build((28, 28), 10)
        kmodel.set_weights(initial)
        history = spiDNN.keras.fit(kmodel, x_train, y_train, seed=0,
                                   validation_split=validation, **fit_args)
        run = history.spidnn_run
        trained = int(len(x_train) * (1 - validation)) * args.epochs
        results[name] = {
            "machine_seconds": run.machine_seconds,
            "train_samples_per_second": trained / run.machine_seconds,
            "history": history.history,
            "test_accuracy": float(
                kmodel.evaluate(x_test, y_test, verbose=0)[1])}
    results["throughput_ratio_with_validation"] = (
        results["with_validation"]["train_samples_per_second"]
        / results["without_validation"]["train_samples_per_second"])
    print(f"test accuracy after {args.epochs} epoch(s) on "
          f"{len(x_train)} images: spiDNN "
          f"{results['with_validation']['test_accuracy']:.4f} "
          f"(without validation "
          f"{results['without_validation']['test_accuracy']:.4f}), Keras "
          f"{results['keras_test_accuracy']:.4f}")
    print(f"spiDNN training throughput: "
          f"{results['without_validation']['train_samples_per_second']:.0f}"
          f" samples/s without validation, "
          f"{results['with_validation']['train_samples_per_second']:.0f} "
          f"with (ratio {results['throughput_ratio_with_validation']:.3f})")
    write_json(results, args.output)
    return results


if __name__ == "__main__":
    main()
