"""MNIST benchmark suite: spiDNN on the virtual machine against Keras.

The command line (``python -m benchmarks.mnist_suite``): its arguments,
and ``main``, which runs the chosen models and writes the results.
"""
import argparse
import time

import spiDNN.datasets

from .data import load_data
from .keras_side import gpu_devices
from .markdown import markdown
from .models import MODEL_NAMES, MODELS
from .outputs import write_outputs
from .report import new_results
from .settings import (DEFAULT_OUTPUT, QUICK_EPOCHS, QUICK_TEST_SAMPLES,
                       QUICK_TRAIN_SAMPLES)
from .side_by_side import run_model


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.mnist_suite",
                                     description=__doc__.split("\n")[0])
    parser.add_argument(
        "--mnist", default=spiDNN.datasets.default_mnist_path(),
        help="folder holding the four MNIST IDX files "
             "(default: ../shared/datasets/mnist beside the repository)")
    parser.add_argument(
        "--quick", action="store_true",
        help=f"{QUICK_TRAIN_SAMPLES} training and {QUICK_TEST_SAMPLES} test "
             f"images, {QUICK_EPOCHS} epoch (all six models still listed)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="training epochs (default 1)")
    parser.add_argument("--train-samples", type=int, default=None,
                        help="first N training images (default all 60000, "
                             f"{QUICK_TRAIN_SAMPLES} with --quick)")
    parser.add_argument("--test-samples", type=int, default=None,
                        help="first N test images (default all 10000, "
                             f"{QUICK_TEST_SAMPLES} with --quick)")
    parser.add_argument("--models", nargs="+", metavar="NAME",
                        help=f"models to run, among {', '.join(MODEL_NAMES)} "
                             f"(default all)")
    parser.add_argument("--output", default=DEFAULT_OUTPUT,
                        help=f"JSON file for the results; the .md and .png "
                             f"take its stem (default {DEFAULT_OUTPUT})")
    args = parser.parse_args(argv)
    if args.epochs is None:
        args.epochs = QUICK_EPOCHS if args.quick else 1
    for name in ("epochs", "train_samples", "test_samples"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.models:
        args.models = [name.lower() for name in args.models]
        unknown = sorted(set(args.models) - set(MODEL_NAMES))
        if unknown:
            parser.error(f"unknown models {', '.join(unknown)}; choose "
                         f"among {', '.join(MODEL_NAMES)}")
    else:
        args.models = list(MODEL_NAMES)
    return args



def main(argv=None):
    """Runs the suite; returns the results dict (also written to files)."""
    args = parse_args(argv)
    data = load_data(args)
    gpus = gpu_devices()
    started = time.perf_counter()
    results = new_results(args, argv, data, gpus)
    for spec in MODELS:
        if spec.name in args.models:
            results["models"].append(
                run_model(spec, data, args.epochs, gpus))
    results["run"]["wall_seconds"] = time.perf_counter() - started
    paths = write_outputs(results, args.output)
    results["files"] = paths
    print(markdown(results))
    print("results written to " + ", ".join(paths.values()))
    return results
