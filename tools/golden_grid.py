"""The golden grid: what the machine computes, recorded so that a
restructuring can show it changed nothing.

    python tools/golden_grid.py record GRID.json   # digests of every case
    python tools/golden_grid.py check GRID.json    # same digests, or which differ

Each case runs a small model end to end (predict, fit, evaluate) and
keeps a SHA-256 of every array it gives back (predictions, trained
weights, optimizer state, per-sample losses, History) and the run
report's deterministic figures (packets, routes, DTCM, the clock's
predicted seconds and joules, fault and recovery counts).  Wall-clock
figures are left out: they are the host's, not the machine's.

A developer tool, not a test: the digests are of one version of the
code, so a change that is meant to change the numbers re-records them.
"""
import hashlib
import json
import os
import sys
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy  # noqa: E402

import spiDNN  # noqa: E402
from spiDNN.layers import layer as layer_module  # noqa: E402
from spiDNN.layers import (  # noqa: E402
    AveragePooling1D, Conv1D, Conv2D, Dense, Dropout, Flatten, Input,
    MaxPooling2D, ZeroPadding2D)

#: RunReport fields that depend on the host's speed, not the machine's.
WALL_CLOCK = {"mapping_seconds", "machine_seconds", "host_link"}
#: Live runs' host link counts that do not depend on timing.
HOST_LINK_KEYS = ("sent", "received", "resends")

RNG = numpy.random.default_rng(11)
X8 = RNG.normal(size=(24, 8)).astype(numpy.float32)
Y3 = RNG.integers(0, 3, 24)
IMAGES = RNG.random(size=(12, 8, 8, 1)).astype(numpy.float32)
Y_IMAGES = RNG.integers(0, 4, 12)
SERIES = RNG.normal(size=(12, 10, 2)).astype(numpy.float32)


def digest(value):
    array = numpy.ascontiguousarray(numpy.asarray(value))
    return hashlib.sha256(str(array.dtype).encode() + str(
        array.shape).encode() + array.tobytes()).hexdigest()[:16]


def report_figures(report):
    if report is None:
        return None
    figures = {}
    for name, value in vars(report).items():
        if name in WALL_CLOCK:
            continue
        figures[name] = value
    if report.host_link:
        figures["host_link"] = {k: report.host_link.get(k)
                                for k in HOST_LINK_KEYS}
    return json.loads(json.dumps(figures, default=str))


def outcome(model, history=None, predictions=None):
    result = {"weights": [digest(w) for w in model.get_weights()],
              "report": report_figures(model.last_run)}
    if model.optimizer_state is not None:
        result["optimizer_state"] = {
            "iterations": int(model.optimizer_state["iterations"]),
            "slots": [[digest(a) for a in kind]
                      for kind in model.optimizer_state["slots"]]}
    if history is not None:
        result["history"] = {key: digest(numpy.asarray(values, numpy.float64))
                             for key, values in history.history.items()}
        result["sample_losses"] = [digest(e) for e in getattr(
            history, "sample_losses", [])]
    if predictions is not None:
        result["predictions"] = digest(predictions)
    if model.plan is not None:
        result["plan"] = [[layer.name, layer.neurons_per_core, layer.n_cores,
                           layer.streamed, layer.inputs_per_core]
                          for layer in model.plan.layers]
    return result


def mlp(seed=3, **kwargs):
    npc = kwargs.pop("neurons_per_core", 2)
    return spiDNN.Model([Input(8), Dense(6, "tanh", neurons_per_core=npc,
                                         **kwargs),
                         Dense(3, "softmax", neurons_per_core=npc)],
                        seed=seed)


def case_dense_predict():
    model = mlp(neurons_per_core="auto")
    return outcome(model, predictions=model.predict(X8))


def case_dense_fit(optimizer, **model_kwargs):
    def run():
        model = mlp(**model_kwargs)
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        history = model.fit(X8, Y3, epochs=2, batch_size=5, verbose=0)
        result = fit_then_predict(model, history, X8[:6])
        result["evaluated"] = digest(numpy.asarray(model.evaluate(X8, Y3)))
        result["evaluate_report"] = report_figures(model.last_run)
        return result
    return run


def case_original_fit():
    model = mlp()
    history = model.fit(X8, numpy.eye(3)[Y3], "categorical_crossentropy",
                        epochs=2, batch_size=4, learning_rate=0.05,
                        verbose=0)
    return outcome(model, history)


def case_streamed_and_split():
    model = spiDNN.Model([Input(8), Dense(6, "relu", neurons_per_core=3,
                                          weights_in="sdram",
                                          inputs_per_core=4),
                          Dense(3, "sigmoid", neurons_per_core=1)], seed=4)
    history = model.fit(X8, (numpy.eye(3)[Y3]), loss="mse", epochs=1,
                        batch_size=7, verbose=0)
    return fit_then_predict(model, history, X8[:5])


def conv_model(seed=5):
    return spiDNN.Model([
        Input(8, 8, 1), ZeroPadding2D(1), Conv2D(3, 3, activation="relu"),
        MaxPooling2D(2), Dropout(0.25, seed=7), Conv2D(4, 2, strides=2,
                                                       padding="same",
                                                       activation="tanh"),
        Flatten(), Dense(4, "softmax", neurons_per_core=2)], seed=seed)


def case_conv_fit():
    model = conv_model()
    model.compile(optimizer=spiDNN.optimizers.Adam(0.01),
                  loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(IMAGES, Y_IMAGES, epochs=2, batch_size=4, verbose=0,
                        validation_split=0.25)
    return fit_then_predict(model, history, IMAGES[:4])


def case_conv1d_fit():
    model = spiDNN.Model([
        Input(10, 2), Conv1D(3, 3, activation="sigmoid"),
        AveragePooling1D(2, padding="same"), Dense(2, neurons_per_core=1)],
        seed=6)
    model.compile(optimizer=spiDNN.optimizers.RMSprop(0.01, momentum=0.5),
                  loss="mse")
    history = model.fit(SERIES, SERIES[:, :2, 0], epochs=2, batch_size=5,
                        verbose=0)
    return fit_then_predict(model, history, SERIES[:3])


def case_callbacks():
    import keras
    model = mlp()
    model.compile(optimizer=spiDNN.optimizers.SGD(0.1, momentum=0.9,
                                                  nesterov=True),
                  loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    seen = []
    stopper = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: seen.append(
            digest(numpy.concatenate([w.ravel()
                                      for w in model.get_weights()]))))
    history = model.fit(X8, Y3, epochs=3, batch_size=6, verbose=0,
                        validation_data=(X8[:5], Y3[:5]),
                        callbacks=[stopper], initial_epoch=1)
    result = outcome(model, history)
    result["callback_weights"] = seen
    return result


def case_faults(faults):
    def run():
        return faults_run(faults)
    return run


def faults_run(faults):
    model = spiDNN.Model([Input(8), Dense(6, "tanh", neurons_per_core=2,
                                          name="hidden"),
                          Dense(3, "softmax", neurons_per_core=2)], seed=3,
                         faults=faults)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = model.fit(X8, Y3, epochs=1, batch_size=6, verbose=0)
    return fit_then_predict(model, history, X8[:4])


def fit_then_predict(model, history, x):
    """The fit's outcome, with its run report, and predict's."""
    result = outcome(model, history)
    result["predictions"] = digest(model.predict(x))
    result["predict_report"] = report_figures(model.last_run)
    return result


def case_live(data_on_board):
    def run():
        model = spiDNN.Model([Input(8), Dense(6, "tanh", neurons_per_core=2),
                              Dense(3, "softmax", neurons_per_core=2)],
                             seed=3, live_io=spiDNN.LiveIO(
                                 data_on_board=data_on_board))
        model.compile(optimizer="adam",
                      loss="sparse_categorical_crossentropy")
        history = model.fit(X8, Y3, epochs=2, batch_size=5, verbose=0)
        return fit_then_predict(model, history, X8[:4])
    return run


CASES = {
    "dense_predict": case_dense_predict,
    "dense_sgd": case_dense_fit("sgd"),
    "dense_momentum": case_dense_fit(spiDNN.optimizers.SGD(0.05, 0.9)),
    "dense_nesterov": case_dense_fit(spiDNN.optimizers.SGD(0.05, 0.9, True)),
    "dense_adam": case_dense_fit(spiDNN.optimizers.Adam(0.01)),
    "dense_adam_npc1": case_dense_fit(spiDNN.optimizers.Adam(0.01),
                                      neurons_per_core=1),
    "dense_rmsprop": case_dense_fit(spiDNN.optimizers.RMSprop(0.01)),
    "dense_sgd_decay": case_dense_fit(spiDNN.optimizers.SGD(
        0.05, weight_decay=0.01, clipvalue=0.5)),
    "original_fit": case_original_fit,
    "streamed_and_split": case_streamed_and_split,
    "conv_fit": case_conv_fit,
    "conv1d_fit": case_conv1d_fit,
    "callbacks": case_callbacks,
    "faults_random": case_faults(spiDNN.Faults(
        drop_rate=0.01, delay_rate=0.01, seed=9)),
    "faults_replayed": case_faults(spiDNN.Faults(
        drops=[spiDNN.Drop("hidden", "forward", 30)], reinjection=False)),
    "live_host_streamed": case_live(False),
    "live_data_on_board": case_live(True),
}


def record(names=None):
    results = {}
    for name, case in CASES.items():
        if names and name not in names:
            continue
        # Layer names count per kind in a process: each case starts them
        # again, so that a subset of the cases records the same names.
        layer_module._counters.clear()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results[name] = case()
        print(f"  {name}: done", flush=True)
    return results


def differences(expected, got, path=""):
    if isinstance(expected, dict) and isinstance(got, dict):
        for key in sorted(set(expected) | set(got)):
            yield from differences(expected.get(key), got.get(key),
                                   f"{path}/{key}")
    elif isinstance(expected, list) and isinstance(got, list) and len(
            expected) == len(got):
        for i, (a, b) in enumerate(zip(expected, got)):
            yield from differences(a, b, f"{path}[{i}]")
    elif expected != got:
        yield f"{path}: {expected!r} != {got!r}"


def main(argv):
    if len(argv) < 3 or argv[1] not in ("record", "check"):
        print(__doc__)
        return 2
    names = set(argv[3:])
    results = record(names)
    if argv[1] == "record":
        with open(argv[2], "w") as file:
            json.dump(results, file, indent=1, sort_keys=True)
        print(f"recorded {len(results)} cases in {argv[2]}")
        return 0
    with open(argv[2]) as file:
        expected = json.load(file)
    if names:
        expected = {k: v for k, v in expected.items() if k in names}
    found = list(differences(expected, results))
    for line in found:
        print(line)
    print(f"{len(results)} cases: "
          f"{'bit-identical' if not found else f'{len(found)} differences'}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
