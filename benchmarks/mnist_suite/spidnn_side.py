"""spiDNN's side of the suite: a spec as a spiDNN model holding Keras'
initial weights, trained and predicting on the (virtual) machine, and the
figures of its run reports."""
import dataclasses
import importlib
import inspect
import re
import time
import traceback

import numpy

import spiDNN
import spiDNN.layers

from .data import _as_input
from .records import _accuracy, _error_text, _plain
from .settings import BATCH_SIZE, LEARNING_RATE, LOSS, SEED


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
