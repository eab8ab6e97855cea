"""MNIST benchmark suite: spiDNN on the virtual machine against Keras.

Six models of LeCun et al. (1998), "Gradient-based learning applied to
document recognition": two MLPs and four convolutional nets.  Each model
the installed spiDNN can build is trained and evaluated twice in the same
run, by spiDNN on the (virtual) SpiNNaker machine and by Keras on the CPU
(and on a GPU where TensorFlow sees one), from the same initial weights
with the same hyper-parameters and the same sample order.  A model whose
layers spiDNN lacks is listed as "not supported" with the reason, never
left out.

    PYTHONPATH=. python benchmarks/mnist_suite.py --quick
    PYTHONPATH=. python benchmarks/mnist_suite.py [--epochs N] [--models ...]

Writes a JSON file (default benchmarks/results/mnist_suite.json) and, with
the same stem, a Markdown table (.md) and a figure (.png); prints the
table.  ``main(argv)`` returns the results dict, for tests.
"""
import argparse
import dataclasses
import datetime
import importlib
import json
import os
import platform
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
              "three LeNet-4, outputs summed; the 2nd and 3rd trained on "
              "samples filtered by the earlier members",
              (28, 28, 1), _LENET4_LAYERS, members=3,
              runner_needs=("boosting: this runner does not yet build the "
                            "filtered training sets of the 2nd and 3rd "
                            "members",)),
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
def keras_model(spec):
    """The Keras reference of ``spec``, seeded so its initial weights are
    the ones copied into spiDNN."""
    import keras
    keras.utils.set_random_seed(SEED)
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


def run_keras(spec, initial_weights, data, epochs, device):
    """Trains and evaluates ``spec`` in Keras on ``device`` ("/CPU:0" or
    "/GPU:0"), from ``initial_weights``; returns its figures."""
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

    trained = len(x_train) * epochs
    after_first = trained - min(BATCH_SIZE, len(x_train))
    if after_first > 0:
        train_seconds = timer.end - timer.first_batch_end
        train_rate = after_first / train_seconds
        timing = "batches after the first (tracing) batch"
    else:   # one batch in all: nothing is left after the tracing one
        train_seconds, train_rate = fit_wall, trained / fit_wall
        timing = "whole fit (a single batch, tracing included)"
    return {
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
def _add_fitting_dense(model, layer):
    """Adds a Dense layer with the smallest neurons_per_core that fits.

    One neuron per core is the aim; spiDNN refuses (at ``add``) a slice
    whose DTCM a core cannot hold, so try 1, 2, ... and keep the first it
    accepts.  (With today's layout a slice's DTCM grows with its neurons,
    so this is 1 or no value at all; the loop keeps the suite's rule
    should that change.)  :return: the neurons_per_core used
    """
    from spiDNN.layers import Dense
    first_error = None
    for neurons_per_core in range(1, layer.kwargs["units"] + 1):
        try:
            model.add(Dense(**layer.kwargs,
                            neurons_per_core=neurons_per_core))
            return neurons_per_core
        except spiDNN.SpiDNNConfigurationError as error:
            first_error = first_error or error
    raise first_error


def spidnn_model(spec, initial_weights):
    """``spec`` as a spiDNN model holding the Keras initial weights.

    :return: (model, {layer index: neurons_per_core} of its Dense layers)
    """
    model = spiDNN.Model(seed=SEED)
    model.add(spiDNN.layers.Input(shape=tuple(spec.input_shape)))
    packing = {}
    for index, layer in enumerate(spec.layers):
        if layer.kind == "Dense":
            packing[index] = _add_fitting_dense(model, layer)
        else:   # a layer kind spiDNN gained after this runner was written
            model.add(getattr(spiDNN.layers, layer.kind)(**layer.kwargs))
    model.set_weights(initial_weights)
    return model, packing


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


def run_spidnn(spec, initial_weights, data, epochs):
    """Trains and evaluates ``spec`` on the machine; returns its figures.

    A failing stage is recorded as ``error`` rather than raised, so one
    model cannot stop the suite.  If fit fails, predict still runs (on the
    initial weights) for its throughput; its accuracy is then not
    comparable and is flagged by ``trained`` = False.
    """
    (x_train, y_train), (x_test, y_test) = data
    result = {"trained": False}
    try:
        model, packing = spidnn_model(spec, initial_weights)
    except Exception as error:
        result["error"] = _error_text(error, "building the model")
        return result
    result["neurons_per_core"] = {
        f"layer {index} ({spec.layers[index].kind} "
        f"{spec.layers[index].kwargs['units']})": value
        for index, value in packing.items()}
    result["cores_needed"] = model.cores_needed()

    trained = len(x_train) * epochs
    try:
        history, report, wall = _spidnn_fit(model, x_train, y_train, epochs)
    except Exception as error:
        result["error"] = _error_text(error, "fit")
        result["fit_traceback"] = traceback.format_exc(limit=-3)
    else:
        machine = report.machine_seconds
        result.update({
            "trained": True,
            "loss_per_epoch": [float(v) for v in getattr(
                history, "history", {}).get("loss", [])],
            "train_samples_per_second": (trained / machine if machine
                                         else None),
            "train_samples_per_second_whole_fit": trained / wall,
            "fit_wall_seconds": wall,
            "train_run": report_figures(report),
        })
        result.update(_packets_per_training_sample(report, trained))
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
        return result
    report = model.last_run
    result.update({
        "accuracy": _accuracy(probabilities, y_test),
        "predict_samples_per_second": report.samples_per_second,
        "predict_samples_per_second_whole_call": len(x_test) / wall,
        "predict_wall_seconds": wall,
        "predict_run": report_figures(report),
        "_probabilities": probabilities,
        "_weights": model.get_weights() if result["trained"] else None,
    })
    return result


def _packets_per_training_sample(report, trained):
    """Packets per training sample: the sum of spiDNN's own per-partition
    count where the report has one (what its lower bound is comparable
    to), else every packet sent (input injection included) / samples."""
    breakdown = getattr(report, "packets_per_sample", None)
    if breakdown:
        return {"packets_per_training_sample": float(sum(breakdown.values())),
                "packets_per_training_sample_source":
                    "sum of RunReport.packets_per_sample"}
    return {"packets_per_training_sample": report.packets_sent / trained,
            "packets_per_training_sample_source":
                "RunReport.packets_sent / (samples x epochs)"}


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
    print(f"[{spec.name}] Keras on CPU ...", flush=True)
    initial_weights = keras_model(spec).get_weights()
    keras_cpu = run_keras(spec, initial_weights, data, epochs, "/CPU:0")
    keras_gpu = None
    if gpus:
        print(f"[{spec.name}] Keras on GPU ...", flush=True)
        try:
            keras_gpu = run_keras(spec, initial_weights, data, epochs,
                                  "/GPU:0")
        except Exception as error:   # a GPU run is a bonus, not the point
            keras_gpu = {"error": _error_text(error, "Keras on GPU")}
    print(f"[{spec.name}] spiDNN on the machine ...", flush=True)
    spidnn = run_spidnn(spec, initial_weights, data, epochs)

    entry["status"] = "error" if ("error" in spidnn
                                  or "predict_error" in spidnn) else "ok"
    entry["spidnn"] = spidnn
    entry["keras_cpu"] = keras_cpu
    entry["keras_gpu"] = keras_gpu if gpus else "no GPU present"
    entry["comparison"] = compare(spidnn, keras_cpu)
    if keras_gpu and "error" not in keras_gpu:
        entry["comparison_gpu"] = compare(spidnn, keras_gpu)
    for side in (spidnn, keras_cpu, keras_gpu or {}):   # not for the JSON
        side.pop("_probabilities", None)
        side.pop("_weights", None)
    return entry


def compare(spidnn, keras):
    """spiDNN / Keras throughput ratios and how far the two agree."""
    def ratio(key):
        ours, theirs = spidnn.get(key), keras.get(key)
        return ours / theirs if ours and theirs else None

    comparison = {
        "train_ratio": ratio("train_samples_per_second"),
        "train_ratio_whole_fit": ratio("train_samples_per_second_whole_fit"),
        "predict_ratio": ratio("predict_samples_per_second"),
    }
    if spidnn.get("trained") and spidnn.get("_probabilities") is not None:
        comparison["max_abs_output_difference"] = float(numpy.max(numpy.abs(
            spidnn["_probabilities"].astype(numpy.float64)
            - keras["_probabilities"])))
    if spidnn.get("_weights") is not None:
        comparison["max_abs_trained_weight_difference"] = max(
            float(numpy.max(numpy.abs(numpy.asarray(a, numpy.float64) - b)))
            for a, b in zip(spidnn["_weights"], keras["_weights"]))
    return comparison


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
        accuracy = (_fmt(ours.get("accuracy"), ".4f") if ours["trained"]
                    else "untrained" if "accuracy" in ours else "—")
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
    if results["gpu"]["present"]:
        lines += [""] + _gpu_table(results["models"])
    return "\n".join(lines) + "\n"


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
        axes.bar_label(bars, labels=["" if h is None else f"{h:.3g}"
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
    """Throughput ratios (left, log scale) and accuracies (right)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    entries = results["models"]
    figure, (left, right) = plt.subplots(1, 2, figsize=(13, 4.8))
    _grouped_bars(left, entries, [
        ("train (machine time)", "comparison", "train_ratio"),
        ("predict (machine time)", "comparison", "predict_ratio")])
    if any(_plotted(entry, "comparison", key) for entry in entries
           for key in ("train_ratio", "predict_ratio")):
        left.set_yscale("log")
    left.axhline(1.0, color="grey", linewidth=0.8)
    left.set_ylabel("spiDNN / Keras CPU samples/s")
    left.set_title("Throughput ratio")
    _grouped_bars(right, entries, [("spiDNN", "spidnn", "accuracy"),
                                   ("Keras CPU", "keras_cpu", "accuracy")])
    right.set_ylim(0, 1)
    right.set_ylabel("test accuracy")
    right.set_title(f"Accuracy after {results['run']['epochs']} epoch(s)")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


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
            "neurons_per_core": "smallest that fits a core, from 1"},
        "timing": {
            "spidnn_train": "samples x epochs / RunReport.machine_seconds "
                            "of fit; *_whole_fit: / wall time of fit, "
                            "mapping included",
            "spidnn_predict": "RunReport.samples_per_second (machine time); "
                              "*_whole_call: the whole predict call",
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
