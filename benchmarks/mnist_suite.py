"""MNIST benchmark suite: spiDNN on the virtual machine against Keras.

Six models of LeCun et al. (1998), "Gradient-based learning applied to
document recognition": two MLPs and four convolutional nets.  Each model
the installed spiDNN can build is trained and evaluated twice in the same
run, by spiDNN on the (virtual) SpiNNaker machine and by Keras on the CPU
(and on a GPU where TensorFlow sees one), from the same initial weights
with the same hyper-parameters and the same sample order.  A model whose
layers spiDNN lacks is listed as "not supported" with the reason, never
left out.  Boosted LeNet-4 trains its three members as the paper does,
each side filtering with its own members (``BOOSTING``).

    PYTHONPATH=. python benchmarks/mnist_suite.py --quick
    PYTHONPATH=. python benchmarks/mnist_suite.py [--epochs N] [--models ...]

Writes a JSON file (default benchmarks/results/mnist_suite.json) and, with
the same stem, a Markdown table (.md) and a figure (.png); prints the
table.  ``main(argv)`` returns the results dict, for tests.
"""
import argparse
import dataclasses
import datetime
import functools
import importlib
import inspect
import json
import os
import platform
import re
import subprocess
import sys
import time
import traceback

import numpy

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")   # quiet TensorFlow's logs

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
try:
    import spiDNN
except ImportError:
    # Run as ``python benchmarks/mnist_suite.py`` without PYTHONPATH=. or an
    # installed spiDNN, the script's folder is on the path, not the
    # repository root: add the root, so this checkout's spiDNN is used.
    sys.path.insert(0, _ROOT)
    import spiDNN
import spiDNN.datasets  # noqa: E402
import spiDNN.layers  # noqa: E402

DEFAULT_OUTPUT = os.path.join("benchmarks", "results", "mnist_suite.json")

#: Hyper-parameters shared by both sides (the issue fixes them).
LEARNING_RATE = 0.05
BATCH_SIZE = 32
LOSS = "sparse_categorical_crossentropy"
SEED = 0

#: What --quick trains and tests on: small enough for a 2-core machine.
QUICK_TRAIN_SAMPLES = 1000
QUICK_TEST_SAMPLES = 500
QUICK_EPOCHS = 1


# --------------------------------------------------------------- the models
@dataclasses.dataclass(frozen=True)
class LayerSpec:
    """One layer as both libraries name it: ``kind`` is the class name in
    ``keras.layers`` and (when it exists) in ``spiDNN.layers``, so one entry
    both builds the layer and says which spiDNN layer the model needs."""
    kind: str
    kwargs: dict


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """A model of the suite.

    :param members: networks in an ensemble (boosting), 1 for a plain net
    :param runner_needs: features this runner itself would need and does
        not implement, with why (so an entry can be unsupported even once
        spiDNN has all its layers)
    """
    name: str
    description: str
    input_shape: tuple
    layers: tuple
    members: int = 1
    runner_needs: tuple = ()

    @property
    def layer_kinds(self):
        """spiDNN layer classes the model needs, in order of first use."""
        return list(dict.fromkeys(["Input"] + [
            layer.kind for layer in self.layers]))


def _dense(units, activation):
    return LayerSpec("Dense", {"units": units, "activation": activation})


def _conv(filters, activation="tanh"):
    return LayerSpec("Conv2D", {"filters": filters, "kernel_size": 5,
                                "activation": activation})


_POOL = LayerSpec("AveragePooling2D", {"pool_size": 2})
_PAD_TO_32 = LayerSpec("ZeroPadding2D", {"padding": 2})
_FLATTEN = LayerSpec("Flatten", {})

#: LeNet-4's layers, shared by the boosted ensemble.
_LENET4_LAYERS = (_PAD_TO_32, _conv(4), _POOL, _conv(16), _POOL, _FLATTEN,
                  _dense(120, "tanh"), _dense(10, "softmax"))

#: The suite, in the order of LeCun et al.'s comparison.  The LeNets are
#: the usual simplifications: full connection tables, average pooling for
#: the trainable sub-sampling, tanh for the scaled tanh, softmax for
#: LeNet-5's RBF output.
MODELS = (
    ModelSpec("mlp-300", "784 -> Dense(300, tanh) -> Dense(10, softmax)",
              (784,), (_dense(300, "tanh"), _dense(10, "softmax"))),
    ModelSpec("mlp-300-100",
              "784 -> Dense(300, tanh) -> Dense(100, tanh) "
              "-> Dense(10, softmax)",
              (784,), (_dense(300, "tanh"), _dense(100, "tanh"),
                       _dense(10, "softmax"))),
    ModelSpec("lenet-1",
              "28x28 -> Conv(4, 5x5) -> AvgPool(2) -> Conv(12, 5x5) "
              "-> AvgPool(2) -> Dense(10, softmax)",
              (28, 28, 1), (_conv(4), _POOL, _conv(12), _POOL, _FLATTEN,
                            _dense(10, "softmax"))),
    ModelSpec("lenet-4",
              "32x32 -> Conv(4, 5x5) -> AvgPool(2) -> Conv(16, 5x5) "
              "-> AvgPool(2) -> Dense(120, tanh) -> Dense(10, softmax)",
              (28, 28, 1), _LENET4_LAYERS),
    ModelSpec("lenet-5",
              "32x32 -> Conv(6, 5x5) -> AvgPool(2) -> Conv(16, 5x5) "
              "-> AvgPool(2) -> Conv(120, 5x5) -> Dense(84, tanh) "
              "-> Dense(10, softmax)",
              (28, 28, 1), (_PAD_TO_32, _conv(6), _POOL, _conv(16), _POOL,
                            _conv(120), _FLATTEN, _dense(84, "tanh"),
                            _dense(10, "softmax"))),
    ModelSpec("boosted-lenet-4",
              "three LeNet-4, outputs summed; the 2nd trained on samples "
              "half of which the 1st gets wrong, the 3rd on samples where "
              "the 1st and 2nd disagree",
              (28, 28, 1), _LENET4_LAYERS, members=3),
)
MODEL_NAMES = tuple(spec.name for spec in MODELS)


def support(spec):
    """Whether this spiDNN can run ``spec``, and if not, why.

    Asks ``spiDNN.layers`` for each layer class by name, so a model becomes
    supported by itself once spiDNN gains its layers.

    :return: (supported, missing layer names, reason or None)
    """
    missing = [kind for kind in spec.layer_kinds
               if not hasattr(spiDNN.layers, kind)]
    reasons = []
    if missing:
        reasons.append(f"spiDNN has no {', '.join(missing)} layers yet")
    reasons.extend(spec.runner_needs)
    return not reasons, missing, "; ".join(reasons) or None


# ---------------------------------------------------------------- arguments
def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
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


# -------------------------------------------------------------------- Keras
def member_seed(member):
    """Seed of the initial weights of ensemble member ``member`` (0, 1,
    ...): each member starts from its own weights, the same on both
    sides."""
    return SEED + member


def keras_model(spec, seed=SEED):
    """The Keras reference of ``spec``, seeded so its initial weights are
    the ones copied into spiDNN."""
    import keras
    keras.utils.set_random_seed(seed)
    layers = [keras.Input(spec.input_shape)]
    layers += [getattr(keras.layers, layer.kind)(**layer.kwargs)
               for layer in spec.layers]
    return keras.Sequential(layers)


def _as_input(spec, x):
    """Flat MNIST rows reshaped to the model's input shape."""
    return x.reshape((len(x),) + tuple(spec.input_shape))


def _keras_fit_timer():
    """A callback timing fit from the end of its first batch.

    The first batch traces and compiles the train step; spiDNN has no such
    cost inside its machine time, so Keras' rate leaves it out (the whole
    fit's time is reported as well)."""
    import keras

    class FitTimer(keras.callbacks.Callback):
        first_batch_end = None
        end = None

        def on_train_batch_end(self, batch, logs=None):
            if self.first_batch_end is None:
                self.first_batch_end = time.perf_counter()

        def on_train_end(self, logs=None):
            self.end = time.perf_counter()

    return FitTimer()


def run_keras(spec, initial_weights, data, epochs, device, filter_x=None):
    """Trains and evaluates ``spec`` in Keras on ``device`` ("/CPU:0" or
    "/GPU:0"), from ``initial_weights``; returns its figures.

    :param filter_x: images the trained model also predicts (untimed in
        the throughputs), for boosting's filters: ``_filter_probabilities``
    """
    import keras
    import tensorflow as tf
    (x_train, y_train), (x_test, y_test) = data
    x_train, x_test = _as_input(spec, x_train), _as_input(spec, x_test)
    with tf.device(device):
        model = keras_model(spec)
        model.set_weights(initial_weights)
        model.compile(
            optimizer=keras.optimizers.SGD(learning_rate=LEARNING_RATE),
            loss=LOSS)
        timer = _keras_fit_timer()
        start = time.perf_counter()
        history = model.fit(x_train, y_train, epochs=epochs,
                            batch_size=BATCH_SIZE, shuffle=False, verbose=0,
                            callbacks=[timer])
        fit_wall = time.perf_counter() - start

        model.predict(x_test[:BATCH_SIZE], batch_size=BATCH_SIZE,
                      verbose=0)   # warm up: trace the predict step
        start = time.perf_counter()
        probabilities = model.predict(x_test, batch_size=BATCH_SIZE,
                                      verbose=0)
        predict_wall = time.perf_counter() - start

        filtered = {}
        if filter_x is not None:
            start = time.perf_counter()
            filtered["_filter_probabilities"] = model.predict(
                _as_input(spec, filter_x), batch_size=BATCH_SIZE, verbose=0)
            filtered["filter_predict_seconds"] = time.perf_counter() - start

    trained = len(x_train) * epochs
    after_first = trained - min(BATCH_SIZE, len(x_train))
    if after_first > 0:
        train_seconds = timer.end - timer.first_batch_end
        train_rate = after_first / train_seconds
        timing = "batches after the first (tracing) batch"
    else:   # one batch in all: nothing is left after the tracing one
        after_first = trained
        train_seconds, train_rate = fit_wall, trained / fit_wall
        timing = "whole fit (a single batch, tracing included)"
    return {
        **filtered,
        "trained": True,
        "train_samples": trained,
        "train_samples_timed": after_first,
        "device": device,
        "accuracy": _accuracy(probabilities, y_test),
        "loss_per_epoch": [float(v) for v in history.history["loss"]],
        "train_samples_per_second": train_rate,
        "train_seconds": train_seconds,
        "train_timing": timing,
        "fit_wall_seconds": fit_wall,
        "train_samples_per_second_whole_fit": trained / fit_wall,
        "predict_samples_per_second": len(x_test) / predict_wall,
        "predict_seconds": predict_wall,
        "predict_timing": "one predict call after a one-batch warm-up",
        "_probabilities": probabilities,
        "_weights": model.get_weights(),
    }


def gpu_devices():
    """Names of the GPUs TensorFlow sees (none with tensorflow-cpu)."""
    import tensorflow as tf
    return [device.name for device in tf.config.list_physical_devices("GPU")]


# ------------------------------------------------------------------- spiDNN
def layer_names(spec):
    """Keras-style names (``conv2d``, ``conv2d_1``, ``dense``, ...) counted
    within the model, given to spiDNN's layers so that a model's vertex
    labels (the keys of ``RunReport.packets_per_sample``) are the same in
    every run of the suite and in every member of an ensemble (spiDNN's
    own default names count up across all the models of a process)."""
    counts, names = {}, []
    for layer in spec.layers:
        base = re.sub(r"(?<!^)(?=[A-Z][a-z])", "_", layer.kind).lower()
        count = counts.get(base, 0)
        counts[base] = count + 1
        names.append(base if count == 0 else f"{base}_{count}")
    return names


def _accepts_name(cls):
    try:
        return "name" in inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return False


def spidnn_model(spec, initial_weights):
    """``spec`` as a spiDNN model holding the Keras initial weights.

    Every layer is built with its defaults, so spiDNN's planner chooses
    its slices (``neurons_per_core="auto"``) for each run.

    :return: (model, {layer index: the spiDNN layer object of each layer
        with a neurons_per_core}: ``slices`` reads them after a run)
    """
    model = spiDNN.Model(seed=SEED)
    model.add(spiDNN.layers.Input(shape=tuple(spec.input_shape)))
    packing = {}
    for index, (layer, name) in enumerate(zip(spec.layers,
                                              layer_names(spec))):
        cls = getattr(spiDNN.layers, layer.kind)
        kwargs = dict(layer.kwargs)
        if _accepts_name(cls):
            kwargs["name"] = name
        added = cls(**kwargs)
        model.add(added)
        if hasattr(added, "neurons_per_core"):
            packing[index] = added
    model.set_weights(initial_weights)
    return model, packing


def slices(spec, packing):
    """{"layer i (kind n)": neurons_per_core} as the layers hold it now:
    spiDNN plans an unset one for each run (fit and predict can differ),
    so read it after the run; "auto" where a layer does not say."""
    record = {}
    for index, value in packing.items():
        if not isinstance(value, (int, numpy.integer)):
            value = getattr(value, "neurons_per_core", None)
            value = (int(value) if isinstance(value, (int, numpy.integer))
                     and not isinstance(value, bool) else "auto")
        record[f"layer {index} ({_layer_label(spec.layers[index])})"] = value
    return record


def _layer_label(layer):
    """A layer's description in the neurons_per_core record."""
    detail = layer.kwargs.get("units", layer.kwargs.get("filters"))
    return layer.kind if detail is None else f"{layer.kind} {detail}"


def report_figures(report):
    """The figures of a ``RunReport``, the newer fields read with a default
    so an older spiDNN still reports the rest."""
    if report is None:
        return None
    figures = (dataclasses.asdict(report)
               if dataclasses.is_dataclass(report) else {})
    for name in ("packets_per_sample", "packets_per_sample_lower_bound",
                 "peak_dtcm_bytes"):
        figures[name] = getattr(report, name, None)
    return _plain(figures)


def _spidnn_fit(model, x_train, y_train, epochs):
    """Compiles and fits on the machine; (history, RunReport, wall s)."""
    optimizers = importlib.import_module("spiDNN.optimizers")
    model.compile(optimizer=optimizers.SGD(learning_rate=LEARNING_RATE),
                  loss=LOSS)
    start = time.perf_counter()
    history = model.fit(x_train, y_train, epochs=epochs,
                        batch_size=BATCH_SIZE, shuffle=False, verbose=0)
    return history, model.last_run, time.perf_counter() - start


def run_spidnn(spec, initial_weights, data, epochs, filter_x=None):
    """Trains and evaluates ``spec`` on the machine; returns its figures.

    A failing stage is recorded as ``error`` rather than raised, so one
    model cannot stop the suite.  If fit fails, predict still runs (on the
    initial weights) for its throughput; its accuracy is then not
    comparable and is flagged by ``trained`` = False.

    :param filter_x: images the trained model also predicts on the
        machine after the test set (a run of its own, left out of the
        throughputs), for boosting's filters: ``_filter_probabilities``,
        or ``filter_error``
    """
    (x_train, y_train), (x_test, y_test) = data
    x_train, x_test = _as_input(spec, x_train), _as_input(spec, x_test)
    result = {"trained": False}
    try:
        model, packing = spidnn_model(spec, initial_weights)
    except Exception as error:
        result["error"] = _error_text(error, "building the model")
        result["build_traceback"] = traceback.format_exc(limit=-3)
        return result
    result["neurons_per_core_at_add"] = slices(spec, packing)

    trained = len(x_train) * epochs
    result["train_samples"] = trained
    try:
        history, report, wall = _spidnn_fit(model, x_train, y_train, epochs)
    except Exception as error:
        result["error"] = _error_text(error, "fit")
        result["fit_traceback"] = traceback.format_exc(limit=-3)
    else:
        machine = report.machine_seconds
        result.update({
            "trained": True,
            "neurons_per_core": slices(spec, packing),
            "cores_needed": model.cores_needed(),
            "loss_per_epoch": [float(v) for v in getattr(
                history, "history", {}).get("loss", [])],
            "train_samples_per_second": (trained / machine if machine
                                         else None),
            "train_samples_timed": trained,
            "train_seconds": machine,
            "train_samples_per_second_whole_fit": trained / wall,
            "fit_wall_seconds": wall,
            "train_run": report_figures(report),
        })
        result.update(_packets_per_training_sample(result["train_run"],
                                                   trained))
        if report.samples != trained:
            result["train_samples_note"] = (
                f"RunReport.samples is {report.samples}, the fit trained "
                f"{trained} (samples x epochs); rates here use {trained}")

    try:
        start = time.perf_counter()
        probabilities = model.predict(x_test)
        wall = time.perf_counter() - start
    except Exception as error:
        result["predict_error"] = _error_text(error, "predict")
        result["predict_traceback"] = traceback.format_exc(limit=-3)
        return result
    report = model.last_run
    result.update({
        "neurons_per_core_predict": slices(spec, packing),
        "accuracy": _accuracy(probabilities, y_test),
        "predict_samples_per_second": report.samples_per_second,
        "predict_seconds": report.machine_seconds,
        "predict_samples_per_second_whole_call": len(x_test) / wall,
        "predict_wall_seconds": wall,
        "predict_run": report_figures(report),
        "_probabilities": probabilities,
        "_weights": model.get_weights() if result["trained"] else None,
    })
    if filter_x is not None and result["trained"]:
        try:
            start = time.perf_counter()
            result["_filter_probabilities"] = model.predict(
                _as_input(spec, filter_x))
            result["filter_predict_seconds"] = time.perf_counter() - start
        except Exception as error:
            result["filter_error"] = _error_text(
                error, "predict on the training set (boosting filter)")
    return result


def _packets_per_training_sample(run, trained):
    """Packets per training sample: the sum of spiDNN's own per-partition
    count where the report has one (what its lower bound is comparable
    to), else every packet sent (input injection included) / samples.
    ``run`` is a RunReport's figures (``report_figures``)."""
    breakdown = run.get("packets_per_sample")
    if breakdown:
        return {"packets_per_training_sample": float(sum(breakdown.values())),
                "packets_per_training_sample_source":
                    "sum of RunReport.packets_per_sample"}
    return {"packets_per_training_sample": run["packets_sent"] / trained,
            "packets_per_training_sample_source":
                "RunReport.packets_sent / (samples x epochs)"}


# ------------------------------------------------------------------ boosting
#: How the members of a boosted ensemble are trained (LeCun et al. 1998,
#: section III.C.9, after Drucker, Schapire and Simard).
BOOSTING = {
    "member 1": "the training set",
    "member 2": "the training set drawn in order, keeping alternately one "
                "sample member 1 classifies right and one it gets wrong, so "
                "half of it is misclassified by member 1",
    "member 3": "the training samples, in order, on which members 1 and 2 "
                "predict different classes",
    "wanted samples": "as many as member 1 trained on; where the training "
                      "set holds fewer, the set is smaller and ran_out says "
                      "so (the paper drew more from distorted images; this "
                      "suite does not distort)",
    "filtering": "each side (spiDNN, Keras CPU, Keras GPU) filters with its "
                 "own trained members' predictions of the training set, so "
                 "the sides' 2nd and 3rd training sets can differ",
    "initial weights": "member k (from 0) starts from the seeded Keras "
                       "weights of seed SEED + k, the same on every side",
    "epochs": "each member trains the run's epochs on its own set",
    "ensemble": "the three members' softmax outputs summed, then argmax",
    "throughput": "training: samples trained by all members / their "
                  "summed training time; predict: test samples / the "
                  "members' summed predict time (each ensemble prediction "
                  "runs all members); the training-set predictions that "
                  "filter are timed apart (filter_predict_seconds)",
}


def filter_half_wrong(predicted, labels, wanted):
    """Boosting's filter for the 2nd member: samples drawn in order, kept
    alternately one ``predicted`` gets right and one it gets wrong (a
    right one first), until ``wanted`` are kept or the samples run out.

    A right sample left without its wrong partner when the samples run
    out is dropped, so exactly half the set is misclassified.

    :return: (indices kept, description of the draw)
    """
    right = numpy.asarray(predicted) == numpy.asarray(labels)
    wanted = (int(wanted) // 2) * 2
    kept, want_right, scanned = [], True, 0
    for index, correct in enumerate(right):
        if len(kept) >= wanted:
            break
        scanned = index + 1
        if bool(correct) == want_right:
            kept.append(index)
            want_right = not want_right
    dropped = 0
    if len(kept) % 2:     # a right one whose wrong partner never came
        kept.pop()
        dropped = 1
    kept = numpy.asarray(kept, dtype=numpy.int64)
    return kept, _draw_record(
        "alternately right and wrong for member 1", kept, wanted, scanned,
        len(right), {"right": int(numpy.sum(right[kept])),
                     "wrong": int(numpy.sum(~right[kept])),
                     "available_right": int(numpy.sum(right)),
                     "available_wrong": int(numpy.sum(~right)),
                     "unpaired_right_dropped": dropped})


def filter_disagreement(predicted_1, predicted_2, wanted):
    """Boosting's filter for the 3rd member: the samples, in order, on
    which the two predictions differ, at most ``wanted`` of them.

    :return: (indices kept, description of the draw)
    """
    differ = numpy.asarray(predicted_1) != numpy.asarray(predicted_2)
    available = numpy.flatnonzero(differ)
    kept = available[:int(wanted)].astype(numpy.int64)
    scanned = int(kept[-1]) + 1 if len(kept) == wanted and len(kept) else (
        len(differ))
    return kept, _draw_record(
        "members 1 and 2 disagree", kept, wanted, scanned, len(differ),
        {"available_disagreements": int(len(available))})


def _draw_record(rule, kept, wanted, scanned, pool, counts):
    ran_out = len(kept) < wanted
    record = {"rule": rule, "wanted": int(wanted), "kept": int(len(kept)),
              "scanned": int(scanned), "pool": int(pool), **counts,
              "ran_out": ran_out}
    if ran_out:
        record["note"] = (f"the training data ran out: {len(kept)} of the "
                          f"{wanted} wanted samples after scanning all "
                          f"{pool}")
    return record


def run_boosted(spec, train_member, initial_weights, data, epochs):
    """One side's boosted ensemble (``BOOSTING``): trains the members in
    turn, each on the set the earlier members filter, and sums their
    outputs.

    :param train_member: ``run_keras``/``run_spidnn`` with its side bound:
        ``(spec, weights, data, epochs, filter_x=None) -> figures``
    :param initial_weights: one Keras weight list per member
    :return: the side's figures, shaped as a single model's (accuracy,
        rates, runs, for the tables) plus ``members``, one record each
    """
    (x_train, y_train), (x_test, y_test) = data
    wanted = len(x_train)
    members, predictions, stop = [], [], None
    for index in range(spec.members):
        record = {"member": index + 1, "seed": member_seed(index)}
        members.append(record)
        if stop:
            record["status"] = f"not run: {stop}"
            continue
        if index == 0:
            chosen = numpy.arange(len(x_train))
            draw = {"rule": "the training set", "wanted": wanted,
                    "kept": wanted, "ran_out": False}
        elif index == 1:
            chosen, draw = filter_half_wrong(predictions[0], y_train, wanted)
        elif index == 2:
            chosen, draw = filter_disagreement(predictions[0],
                                               predictions[1], wanted)
        else:
            raise ValueError("boosting as LeCun et al. have three members")
        record["training_set"] = draw
        record["_indices"] = chosen
        if len(chosen) == 0:
            record["status"] = "not trained: its filtered training set is " \
                               "empty"
            stop = f"member {index + 1} had no training samples"
            continue
        filters_later = index + 1 < spec.members
        figures = train_member(
            spec, initial_weights[index],
            ((x_train[chosen], y_train[chosen]), (x_test, y_test)), epochs,
            filter_x=x_train if filters_later else None)
        record.update(figures)
        failure = next((figures[key] for key in (
            "error", "predict_error", "filter_error") if key in figures),
            None)
        if failure is None and filters_later and (
                figures.get("_filter_probabilities") is None):
            failure = "no predictions of the training set to filter with"
        if failure is not None:
            record["status"] = "error"
            stop = f"member {index + 1} failed"
            continue
        record["status"] = "ok"
        if filters_later:
            predicted = numpy.argmax(figures["_filter_probabilities"], axis=1)
            predictions.append(predicted)
            record["training_set_accuracy"] = float(
                numpy.mean(predicted == y_train))
    return _ensemble_figures(members, y_test)


def _ensemble_figures(members, y_test):
    """A side's ensemble figures from its member records."""
    done = [m for m in members if m.get("status") == "ok"]
    failed = [m for m in members if m.get("status") == "error"]
    result = {"members": members,
              "trained": bool(done) and not failed,
              "members_in_ensemble": [m["member"] for m in done]}
    if failed:
        member = failed[0]
        reason = next((member[key] for key in (
            "error", "predict_error", "filter_error") if key in member),
            "no predictions of the training set to filter with")
        result["error"] = f"member {member['member']}: {reason}"
    for key in ("neurons_per_core", "neurons_per_core_predict",
                "cores_needed"):   # the same in all members
        value = next((m[key] for m in members if key in m), None)
        if value is not None:
            result[key] = value
    skipped = [m for m in members if m.get("status") not in ("ok", "error")]
    if skipped:
        result["members_note"] = "; ".join(
            f"member {m['member']} {m['status']}" for m in skipped)
    if not done:
        return result

    def total(key):
        values = [m.get(key) for m in done]
        return None if any(v is None for v in values) else sum(values)

    trained, timed = total("train_samples"), total("train_samples_timed")
    train_s, predict_s = total("train_seconds"), total("predict_seconds")
    fit_wall = total("fit_wall_seconds")
    n_test = len(y_test)
    probabilities = sum(m["_probabilities"].astype(numpy.float64)
                        for m in done)
    result.update({
        "accuracy": _accuracy(probabilities, y_test),
        "member_accuracies": [m.get("accuracy") for m in done],
        "train_samples": trained,
        "train_samples_per_second": (timed / train_s if timed and train_s
                                     else None),
        "train_seconds": train_s,
        "train_samples_per_second_whole_fit": (trained / fit_wall
                                               if fit_wall else None),
        "fit_wall_seconds": fit_wall,
        "predict_samples_per_second": (n_test / predict_s if predict_s
                                       else None),
        "predict_seconds": predict_s,
        "filter_predict_seconds": sum(
            m.get("filter_predict_seconds") or 0.0 for m in done),
        "_probabilities": probabilities,
    })
    wall = total("predict_wall_seconds")
    if wall:
        result["predict_samples_per_second_whole_call"] = n_test / wall
    if any("train_run" in m for m in done):
        for run in ("train_run", "predict_run"):
            result[run] = combine_runs([m.get(run) for m in done])
        result.update(_packets_per_training_sample(result["train_run"],
                                                   trained))
    for key in ("loss_per_epoch",):
        result[key] = [m.get(key) for m in done]
    return result


def combine_runs(runs):
    """One RunReport-like dict for the members' runs: counts and seconds
    summed, packets per sample weighted by samples, cores, chips, routing
    entries and DTCM the largest (the members run one after another)."""
    runs = [run for run in runs if run]
    if not runs:
        return None
    combined = {"members_combined": len(runs)}
    for key in ("samples", "packets_sent", "packets_delivered",
                "packets_dropped", "events", "weight_packets",
                "mapping_seconds", "machine_seconds"):
        values = [run.get(key) for run in runs]
        if all(v is not None for v in values):
            combined[key] = sum(values)
    for key in ("cores", "chips", "max_routing_entries", "peak_dtcm_bytes",
                "packets_per_sample_lower_bound"):
        values = [run.get(key) for run in runs if run.get(key) is not None]
        combined[key] = max(values) if values else None
    combined["backend"] = runs[0].get("backend")
    samples = sum(run.get("samples") or 0 for run in runs)
    per_partition = {}
    for run in runs:
        for key, value in (run.get("packets_per_sample") or {}).items():
            per_partition[key] = per_partition.get(key, 0.0) + (
                value * (run.get("samples") or 0))
    combined["packets_per_sample"] = {
        key: value / samples for key, value in per_partition.items()
    } if samples else {}
    combined["note"] = ("the members' runs: counts and seconds summed, "
                        "packets per sample weighted by samples, cores, "
                        "chips, routing entries and DTCM the largest")
    return combined


# ------------------------------------------------------------ one model
def run_model(spec, data, epochs, gpus):
    """Everything the suite records about one model."""
    supported, missing, reason = support(spec)
    entry = {
        "name": spec.name,
        "description": spec.description,
        "input_shape": list(spec.input_shape),
        "layers": [{"kind": layer.kind, **layer.kwargs}
                   for layer in spec.layers],
        "ensemble_members": spec.members,
        "needs_layers": spec.layer_kinds,
        "supported": supported,
        "missing_layers": missing,
    }
    if not supported:
        entry.update({
            "status": "not supported",
            "reason": reason,
            "keras_run": False,
            "keras_skipped_because": "spiDNN cannot run this model, so "
                                     "there is no comparison to make"})
        return entry
    entry["keras_run"] = True
    if spec.members > 1:
        entry["boosting"] = BOOSTING
        weights = [keras_model(spec, member_seed(index)).get_weights()
                   for index in range(spec.members)]

        def run_side(train_member):
            return run_boosted(spec, train_member, weights, data, epochs)
    else:
        weights = keras_model(spec).get_weights()

        def run_side(train_member):
            return train_member(spec, weights, data, epochs)

    print(f"[{spec.name}] Keras on CPU ...", flush=True)
    keras_cpu = run_side(functools.partial(run_keras, device="/CPU:0"))
    keras_gpu = None
    if gpus:
        print(f"[{spec.name}] Keras on GPU ...", flush=True)
        try:
            keras_gpu = run_side(functools.partial(run_keras,
                                                   device="/GPU:0"))
        except Exception as error:   # a GPU run is a bonus, not the point
            keras_gpu = {"error": _error_text(error, "Keras on GPU")}
    print(f"[{spec.name}] spiDNN on the machine ...", flush=True)
    spidnn = run_side(run_spidnn)

    entry["status"] = "error" if ("error" in spidnn
                                  or "predict_error" in spidnn) else "ok"
    entry["spidnn"] = spidnn
    entry["keras_cpu"] = keras_cpu
    entry["keras_gpu"] = keras_gpu if gpus else "no GPU present"
    entry["comparison"] = compare(spidnn, keras_cpu)
    if keras_gpu and "error" not in keras_gpu:
        entry["comparison_gpu"] = compare(spidnn, keras_gpu)
    for side_figures in (spidnn, keras_cpu, keras_gpu or {}):
        _drop_private(side_figures)   # arrays: not for the JSON
    return entry


def compare(spidnn, keras):
    """spiDNN / Keras throughput ratios and how far the two agree (for an
    ensemble: its summed outputs, and member by member)."""
    def ratio(key):
        ours, theirs = spidnn.get(key), keras.get(key)
        return ours / theirs if ours and theirs else None

    comparison = {
        "train_ratio": ratio("train_samples_per_second"),
        "train_ratio_whole_fit": ratio("train_samples_per_second_whole_fit"),
        "predict_ratio": ratio("predict_samples_per_second"),
    }
    if (spidnn.get("trained") and spidnn.get("_probabilities") is not None
            and keras.get("_probabilities") is not None):
        comparison["max_abs_output_difference"] = float(numpy.max(numpy.abs(
            spidnn["_probabilities"].astype(numpy.float64)
            - keras["_probabilities"])))
    if spidnn.get("_weights") is not None and keras.get("_weights"):
        comparison["max_abs_trained_weight_difference"] = _weight_difference(
            spidnn["_weights"], keras["_weights"])
    if "members" in spidnn and "members" in keras:
        comparison["members"] = [
            _compare_members(ours, theirs) for ours, theirs in zip(
                spidnn["members"], keras["members"])]
    return comparison


def _compare_members(ours, theirs):
    """One member of the two sides: same training set? weights apart?"""
    record = {"member": ours["member"]}
    a, b = ours.get("_indices"), theirs.get("_indices")
    if a is not None and b is not None:
        record["same_training_set"] = bool(numpy.array_equal(a, b))
    if ours.get("_weights") is not None and theirs.get("_weights"):
        record["max_abs_trained_weight_difference"] = _weight_difference(
            ours["_weights"], theirs["_weights"])
    return record


def _weight_difference(ours, theirs):
    return max(float(numpy.max(numpy.abs(
        numpy.asarray(a, numpy.float64) - b))) for a, b in zip(ours, theirs))


def _drop_private(value):
    """Removes the ``_``-prefixed entries (arrays) from nested figures."""
    if isinstance(value, dict):
        for key in [key for key in value if str(key).startswith("_")]:
            del value[key]
        for item in value.values():
            _drop_private(item)
    elif isinstance(value, list):
        for item in value:
            _drop_private(item)


# ------------------------------------------------------------ small helpers
def _accuracy(probabilities, labels):
    return float(numpy.mean(numpy.argmax(probabilities, axis=1) == labels))


def _error_text(error, stage):
    """One line naming the error, and the one it arose while handling: a
    failed run's clean-up can raise over the error that stopped it."""
    text = f"{stage}: {type(error).__name__}: {error}"
    cause = error.__cause__ or error.__context__
    if cause is not None:
        text += f" (while handling {type(cause).__name__}: {cause})"
    return text


def _plain(value):
    """``value`` with numpy scalars made JSON-serialisable."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, numpy.generic):
        return value.item()
    return value


def machine_info():
    """What the numbers depend on: host, library versions, spiDNN commit."""
    import keras
    import tensorflow as tf
    info = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "keras": keras.__version__,
        "tensorflow": tf.__version__,
    }
    if hasattr(os, "sched_getaffinity"):
        info["cpus_usable"] = len(os.sched_getaffinity(0))
    try:
        info["git_commit"] = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=_ROOT, capture_output=True,
            text=True, check=True).stdout.strip()
        info["git_dirty"] = bool(subprocess.run(
            ["git", "status", "--porcelain"], cwd=_ROOT, capture_output=True,
            text=True, check=True).stdout.strip())
    except (OSError, subprocess.CalledProcessError):
        info["git_commit"] = None
    return info


# ------------------------------------------------------------------ outputs
def _fmt(value, spec=",.1f"):
    return "—" if value is None else format(value, spec)


def _rate_pair(side, key):
    """'machine / whole call' rates of one side, or a dash."""
    return f"{_fmt(side.get(key))} / {_fmt(side.get(key + '_whole_fit'))}"


def _status_text(entry):
    if entry["status"] == "not supported":
        return f"not supported: {entry['reason']}"
    if entry["status"] == "error":
        spidnn = entry["spidnn"]
        text = "spiDNN " + (spidnn.get("error") or spidnn["predict_error"])
        text = " ".join(text.replace("|", "/").split())   # one table cell
        return text if len(text) <= 120 else text[:117] + "..."
    return "ok"


def markdown(results):
    """The run as Markdown: a header, a results table, a machine table."""
    run = results["run"]
    gpu_text = ", ".join(results["gpu"]["devices"]) or "no GPU present"
    lines = [
        "# MNIST suite: spiDNN (virtual SpiNNaker machine) vs Keras",
        "",
        f"{run['timestamp']}; {run['train_samples']} training and "
        f"{run['test_samples']} test images, {run['epochs']} epoch(s), "
        f"SGD lr {LEARNING_RATE}, batch {BATCH_SIZE}, no shuffling; "
        f"{results['machine']['cpu_count']} CPUs; GPU: {gpu_text}.",
        "Throughputs are samples/s; spiDNN's over machine time (mapping "
        "excluded), Keras' after its tracing batch; ratio = spiDNN / Keras "
        "(CPU).",
        "",
        "| model | status | spiDNN acc. | Keras acc. | train spiDNN "
        "(machine / whole fit) | train Keras | train ratio | predict spiDNN "
        "| predict Keras | predict ratio |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for entry in results["models"]:
        if not entry["supported"]:
            lines.append(f"| {entry['name']} | {_status_text(entry)} |"
                         + " — |" * 8)
            continue
        ours, theirs = entry["spidnn"], entry["keras_cpu"]
        comparison = entry["comparison"]
        accuracy = _trained_accuracy(ours)
        lines.append(
            f"| {entry['name']} | {_status_text(entry)} | {accuracy} "
            f"| {_fmt(theirs['accuracy'], '.4f')} "
            f"| {_rate_pair(ours, 'train_samples_per_second')} "
            f"| {_fmt(theirs['train_samples_per_second'])} "
            f"| {_fmt(comparison['train_ratio'], '.4f')} "
            f"| {_fmt(ours.get('predict_samples_per_second'))} "
            f"| {_fmt(theirs['predict_samples_per_second'])} "
            f"| {_fmt(comparison['predict_ratio'], '.4f')} |")
    lines += [
        "",
        "| model | mapping s (train / predict) | cores | chips "
        "| packets per training sample (lower bound) | max routing entries "
        "| peak DTCM bytes/core |",
        "|---|---|---|---|---|---|---|",
    ]
    for entry in results["models"]:
        ours = entry.get("spidnn") or {}
        train, predict = ours.get("train_run") or {}, ours.get(
            "predict_run") or {}
        either = train or predict
        lines.append(
            f"| {entry['name']} "
            f"| {_fmt(train.get('mapping_seconds'), '.2f')} / "
            f"{_fmt(predict.get('mapping_seconds'), '.2f')} "
            f"| {_fmt(either.get('cores'), 'd')} "
            f"| {_fmt(either.get('chips'), 'd')} "
            f"| {_fmt(ours.get('packets_per_training_sample'), ',.1f')} "
            f"({_fmt(train.get('packets_per_sample_lower_bound'), ',.1f')}) "
            f"| {_fmt(either.get('max_routing_entries'), 'd')} "
            f"| {_fmt(_peak_dtcm(train, predict), ',d')} |")
    packets = _packets_table(results["models"])
    if packets:
        lines += [""] + packets
    boosting = _boosting_table(results["models"])
    if boosting:
        lines += [""] + boosting
    board = _board_table(results["models"])
    if board:
        lines += [""] + board
    if results["gpu"]["present"]:
        lines += [""] + _gpu_table(results["models"])
    return "\n".join(lines) + "\n"


def _trained_accuracy(figures):
    """Test accuracy, "untrained" where fit failed and predict ran on the
    initial weights, or a dash."""
    if figures.get("trained"):
        return _fmt(figures.get("accuracy"), ".4f")
    return "untrained" if "accuracy" in figures else "—"


def _packets_table(entries):
    """Markdown lines: spiDNN's packets per sample by layer and partition
    (RunReport.packets_per_sample) in training and in predict, each
    model's total against RunReport.packets_per_sample_lower_bound."""
    lines = ["Packets per sample by layer/partition (spiDNN's "
             "RunReport.packets_per_sample; an ensemble's averaged over "
             "its members' runs):",
             "",
             "| model | layer/partition | per training sample "
             "| per predict sample |",
             "|---|---|---|---|"]
    rows = 0
    for entry in entries:
        ours = entry.get("spidnn") or {}
        train = ours.get("train_run") or {}
        predict = ours.get("predict_run") or {}
        train_packets = train.get("packets_per_sample") or {}
        predict_packets = predict.get("packets_per_sample") or {}
        keys = list(dict.fromkeys(list(train_packets)
                                  + list(predict_packets)))
        for key in keys:
            lines.append(f"| {entry['name']} | {key} "
                         f"| {_fmt(train_packets.get(key), ',.1f')} "
                         f"| {_fmt(predict_packets.get(key), ',.1f')} |")
            rows += 1
        if keys:
            lines.append(
                f"| {entry['name']} | **total** (lower bound) "
                f"| {_fmt(_total(train_packets), ',.1f')} "
                f"({_fmt(train.get('packets_per_sample_lower_bound'), ',')})"
                f" | {_fmt(_total(predict_packets), ',.1f')} "
                f"({_fmt(predict.get('packets_per_sample_lower_bound'), ',')}"
                f") |")
    return lines if rows else []


def _total(packets):
    return float(sum(packets.values())) if packets else None


def _draw_text(member):
    """A member's training set in a few words."""
    draw = member.get("training_set")
    if not draw:
        return "—"
    if "right" in draw:
        text = f"{draw['kept']:,} ({draw['right']:,} right / " \
               f"{draw['wrong']:,} wrong)"
    elif "available_disagreements" in draw:
        text = f"{draw['kept']:,} disagreements"
    else:
        text = f"{draw['kept']:,} (all)"
    return text + (" ran out" if draw.get("ran_out") else "")


def _boosting_table(entries):
    """Markdown lines: each ensemble member of spiDNN and Keras (CPU), its
    training set, test accuracy and training rate, and the ensemble."""
    lines = ["Boosted ensembles, member by member (each side filters with "
             "its own members; training set: samples kept by the filter, "
             "\"ran out\" where the training set held fewer than wanted):",
             "",
             "| model | member | training set spiDNN | training set Keras "
             "| acc. spiDNN | acc. Keras | train spiDNN | train Keras |",
             "|---|---|---|---|---|---|---|---|"]
    notes, rows = [], 0
    for entry in entries:
        ours, theirs = entry.get("spidnn") or {}, entry.get("keras_cpu") or {}
        if "members" not in ours:
            continue
        for mine, keras in zip(ours["members"], theirs.get("members", [])):
            def status(member):
                return "" if member.get("status") == "ok" else (
                    " (" + " ".join(str(member.get("status")).split())[:60]
                    + ")")
            lines.append(
                f"| {entry['name']} | {mine['member']} "
                f"| {_draw_text(mine)}{status(mine)} "
                f"| {_draw_text(keras)}{status(keras)} "
                f"| {_trained_accuracy(mine)} "
                f"| {_trained_accuracy(keras)} "
                f"| {_fmt(mine.get('train_samples_per_second'))} "
                f"| {_fmt(keras.get('train_samples_per_second'))} |")
            rows += 1
            for side, member in (("spiDNN", mine), ("Keras", keras)):
                note = (member.get("training_set") or {}).get("note")
                if note:
                    notes.append(f"- {entry['name']} member "
                                 f"{member['member']}, {side}: {note}.")
        lines.append(
            f"| {entry['name']} | **ensemble** (sum) "
            f"| {_fmt(ours.get('train_samples'), ',d')} samples trained "
            f"| {_fmt(theirs.get('train_samples'), ',d')} samples trained "
            f"| {_fmt(ours.get('accuracy'), '.4f')} "
            f"| {_fmt(theirs.get('accuracy'), '.4f')} "
            f"| {_fmt(ours.get('train_samples_per_second'))} "
            f"| {_fmt(theirs.get('train_samples_per_second'))} |")
    if not rows:
        return []
    return lines + ([""] + notes if notes else [])


def _board_table(entries):
    """Markdown lines of what the virtual clock predicts for a SpiNNaker
    board (spiDNN/vm/timing.py) beside Keras on the CPU, for the runs that
    had the clock."""
    lines = ["Predicted on a SpiNNaker board (the virtual clock, on the "
             "cores the model uses; benchmarks/board_prediction.py adds "
             "energy against Keras and a whole board):", "",
             "| model | train samples/s (Keras CPU) | train mJ/sample "
             "| predict samples/s (Keras CPU) | predict mJ/sample "
             "| training bottleneck |",
             "|---|---|---|---|---|---|"]
    rows = 0
    for entry in entries:
        ours, theirs = entry.get("spidnn") or {}, entry.get("keras_cpu") or {}
        train = ours.get("train_run") or {}
        predict = ours.get("predict_run") or {}
        if train.get("predicted_seconds") is None and predict.get(
                "predicted_seconds") is None:
            continue
        rows += 1
        lines.append(
            f"| {entry['name']} "
            f"| {_fmt(train.get('predicted_samples_per_second'))} "
            f"({_fmt(theirs.get('train_samples_per_second'))}) "
            f"| {_fmt(_milli(train.get('predicted_joules_per_sample')), '.3f')} "
            f"| {_fmt(predict.get('predicted_samples_per_second'))} "
            f"({_fmt(theirs.get('predict_samples_per_second'))}) "
            f"| {_fmt(_milli(predict.get('predicted_joules_per_sample')), '.3f')} "
            f"| {train.get('bottleneck') or '—'} |")
    return lines if rows else []


def _milli(value):
    return None if value is None else 1e3 * value


def _gpu_table(entries):
    """Markdown lines of Keras on the GPU, for models it ran on one."""
    lines = ["| model | Keras GPU acc. | train Keras GPU | train ratio "
             "| predict Keras GPU | predict ratio |",
             "|---|---|---|---|---|---|"]
    for entry in entries:
        gpu = entry.get("keras_gpu")
        if not isinstance(gpu, dict):
            continue
        if "error" in gpu:
            lines.append(f"| {entry['name']} | {gpu['error']} |"
                         + " — |" * 4)
            continue
        comparison = entry.get("comparison_gpu", {})
        lines.append(
            f"| {entry['name']} | {_fmt(gpu['accuracy'], '.4f')} "
            f"| {_fmt(gpu['train_samples_per_second'])} "
            f"| {_fmt(comparison.get('train_ratio'), '.4f')} "
            f"| {_fmt(gpu['predict_samples_per_second'])} "
            f"| {_fmt(comparison.get('predict_ratio'), '.4f')} |")
    return lines


def _peak_dtcm(*runs):
    values = [run.get("peak_dtcm_bytes") for run in runs if run]
    values = [value for value in values if value is not None]
    return max(values) if values else None


def _plotted(entry, side, key):
    """One bar's height, or None: no figure, or an accuracy of spiDNN
    weights that were never trained (fit failed)."""
    figures = entry.get(side)
    if not isinstance(figures, dict):
        return None
    if side == "spidnn" and not figures.get("trained"):
        return None
    return figures.get(key)


def _grouped_bars(axes, entries, series):
    """Two bars per model (``series``: [(label, side, key)] x 2), models
    without figures labelled on the spot of their spiDNN bar."""
    x = numpy.arange(len(entries))
    width = 0.38
    for offset, (label, side, key) in zip((-width / 2, width / 2), series):
        heights = [_plotted(entry, side, key) for entry in entries]
        bars = axes.bar(x + offset, [numpy.nan if h is None else h
                                     for h in heights], width, label=label)
        axes.bar_label(bars, labels=["" if h is None else f"{h:,.0f}"
                                     if h >= 1000 else f"{h:.3g}"
                                     for h in heights], fontsize=7)
    for position, entry in zip(x, entries):
        if entry["status"] != "ok":
            text = ("not supported" if entry["status"] == "not supported"
                    else "spiDNN error")
            axes.text(position - width / 2, 0.02, text, rotation=90,
                      ha="center", va="bottom", fontsize=8,
                      transform=axes.get_xaxis_transform())
    axes.set_xticks(x, [entry["name"] for entry in entries], rotation=30,
                    ha="right")
    axes.set_xlim(-0.6, len(entries) - 0.4)   # keep models without bars
    axes.legend(fontsize=8)


def plot(results, path):
    """Throughput ratios (left, log scale), accuracies (middle) and packets
    per training sample against the lower bound (right, log scale)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    entries = results["models"]
    figure, (left, middle, right) = plt.subplots(1, 3, figsize=(18, 4.8))
    _grouped_bars(left, entries, [
        ("train (machine time)", "comparison", "train_ratio"),
        ("predict (machine time)", "comparison", "predict_ratio")])
    if any(_plotted(entry, "comparison", key) for entry in entries
           for key in ("train_ratio", "predict_ratio")):
        left.set_yscale("log")
    left.axhline(1.0, color="grey", linewidth=0.8)
    left.set_ylabel("spiDNN / Keras CPU samples/s")
    left.set_title("Throughput ratio")
    _grouped_bars(middle, entries, [("spiDNN", "spidnn", "accuracy"),
                                    ("Keras CPU", "keras_cpu", "accuracy")])
    middle.set_ylim(0, 1)
    middle.set_ylabel("test accuracy")
    middle.set_title(f"Accuracy after {results['run']['epochs']} epoch(s)")
    with_packets = [dict(entry, packets=_packet_figures(entry))
                    for entry in entries]
    _grouped_bars(right, with_packets, [
        ("spiDNN", "packets", "per_training_sample"),
        ("lower bound", "packets", "lower_bound")])
    if any(_plotted(entry, "packets", "per_training_sample")
           for entry in with_packets):
        right.set_yscale("log")
    right.set_ylabel("packets per training sample")
    right.set_title("Packets per training sample (spiDNN)")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def _packet_figures(entry):
    """spiDNN's packets per training sample and its lower bound, if any."""
    ours = entry.get("spidnn") or {}
    if not ours.get("trained"):
        return None
    return {"per_training_sample": ours.get("packets_per_training_sample"),
            "lower_bound": (ours.get("train_run") or {}).get(
                "packets_per_sample_lower_bound")}


def write_outputs(results, json_path):
    """The JSON, and the Markdown and PNG of the same stem; their paths."""
    folder = os.path.dirname(json_path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    stem = os.path.splitext(json_path)[0]
    paths = {"json": json_path, "markdown": stem + ".md",
             "png": stem + ".png"}
    with open(paths["json"], "w") as stream:
        json.dump(_plain(results), stream, indent=2)
        stream.write("\n")
    with open(paths["markdown"], "w") as stream:
        stream.write(markdown(results))
    plot(results, paths["png"])
    return paths


# --------------------------------------------------------------------- main
def main(argv=None):
    """Runs the suite; returns the results dict (also written to files)."""
    args = parse_args(argv)
    data = load_data(args)
    gpus = gpu_devices()
    started = time.perf_counter()
    results = {
        "benchmark": "mnist_suite",
        "arguments": vars(args),
        "command_line": sys.argv[1:] if argv is None else list(argv),
        "run": {
            "timestamp": datetime.datetime.now(
                datetime.timezone.utc).isoformat(timespec="seconds"),
            "mode": "quick" if args.quick else "full",
            "train_samples": len(data[0][0]),
            "test_samples": len(data[1][0]),
            "epochs": args.epochs,
        },
        "hyper_parameters": {
            "optimizer": "SGD", "learning_rate": LEARNING_RATE,
            "batch_size": BATCH_SIZE, "shuffle": False, "loss": LOSS,
            "seed": SEED, "initial_weights": "Keras' (seeded), copied "
                                             "into spiDNN",
            "neurons_per_core": "every layer 'auto': spiDNN's planner "
                                "chooses it per run "
                                "(spidnn.neurons_per_core for fit, "
                                "neurons_per_core_predict)"},
        "timing": {
            "spidnn_train": "samples x epochs / RunReport.machine_seconds "
                            "of fit; *_whole_fit: / wall time of fit, "
                            "mapping included",
            "spidnn_predict": "RunReport.samples_per_second (machine time); "
                              "*_whole_call: the whole predict call",
            "ensembles": BOOSTING["throughput"],
            "keras_train": "from the end of the first (tracing) batch to "
                           "the end of fit; *_whole_fit: the whole fit call",
            "keras_predict": "predict(batch_size=32) after a one-batch "
                             "warm-up call",
        },
        "machine": machine_info(),
        "gpu": {"present": bool(gpus), "devices": gpus,
                "note": "Keras also run on the GPU" if gpus
                else "no GPU present"},
        "models": [],
    }
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


if __name__ == "__main__":
    main()
