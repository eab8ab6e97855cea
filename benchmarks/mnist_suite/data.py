"""MNIST for the suite: the first N training and test images, and rows
reshaped to a model's input."""
import os
import sys

import spiDNN.datasets

from .settings import QUICK_TEST_SAMPLES, QUICK_TRAIN_SAMPLES


def sample_counts(args):
    """(train, test) samples asked for: explicit counts win over --quick."""
    train = args.train_samples or (QUICK_TRAIN_SAMPLES if args.quick
                                   else None)
    test = args.test_samples or (QUICK_TEST_SAMPLES if args.quick else None)
    return train, test


def load_data(args):
    """The first N training and test images, in file order (both sides
    train with shuffle=False, so they see the same batches)."""
    if not args.mnist or not os.path.isdir(args.mnist):
        sys.exit(f"no MNIST folder found ({args.mnist!r}): pass --mnist "
                 f"PATH, a folder holding the four MNIST IDX files")
    (x_train, y_train), (x_test, y_test) = spiDNN.datasets.load_mnist(
        args.mnist)
    n_train, n_test = sample_counts(args)
    n_train = len(x_train) if n_train is None else n_train
    n_test = len(x_test) if n_test is None else n_test
    if n_train > len(x_train) or n_test > len(x_test):
        sys.exit(f"MNIST holds {len(x_train)} training and {len(x_test)} "
                 f"test images; asked for {n_train} and {n_test}")
    return (x_train[:n_train], y_train[:n_train]), (
        x_test[:n_test], y_test[:n_test])


def _as_input(spec, x):
    """Flat MNIST rows reshaped to the model's input shape."""
    return x.reshape((len(x),) + tuple(spec.input_shape))
