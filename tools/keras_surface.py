"""The table of Keras' training surface against spiDNN
(docs/keras_surface.rst): every argument of keras.Model.compile/fit/evaluate/predict and every class
of keras.optimizers, keras.losses, keras.metrics and keras.callbacks,
each tried with spiDNN on a small model (a one-epoch ``spiDNN.keras.fit``
on the virtual machine, or spiDNN's evaluate/predict) and recorded as
accepted or refused (with spiDNN's message), and, where accepted, the
tests that name it (tests/*.py): only those are marked implemented.

    PYTHONPATH=. python -m tools.keras_surface   # rewrites the table

A raw (non-spiDNN) error is recorded as such: it is a bug to fix.
"""
import inspect
import os
import re
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TABLE = os.path.join(ROOT, "docs", "keras_surface.rst")

RNG = numpy.random.default_rng(0)
X = RNG.normal(size=(8, 4)).astype(numpy.float32)
SPARSE = RNG.integers(0, 3, 8)
ONE_HOT = numpy.eye(3, dtype=numpy.float32)[SPARSE]

#: Constructor arguments of the classes that need some.
def _required(scratch):
    import keras
    return {
        # (Of the outputs' argmax: the cores compute no other.)
        "MeanIoU": dict(num_classes=3, sparse_y_pred=False),
        "OneHotMeanIoU": dict(num_classes=3),
        "IoU": dict(num_classes=3, target_class_ids=[0],
                    sparse_y_pred=False),
        "OneHotIoU": dict(num_classes=3, target_class_ids=[0]),
        "PrecisionAtRecall": dict(recall=0.5),
        "RecallAtPrecision": dict(precision=0.5),
        "SensitivityAtSpecificity": dict(specificity=0.5),
        "SpecificityAtSensitivity": dict(sensitivity=0.5),
        "MeanMetricWrapper": dict(fn=keras.metrics.mean_squared_error),
        "ModelCheckpoint": dict(filepath=os.path.join(scratch, "m.keras")),
        "OrbaxCheckpoint": dict(directory=os.path.join(scratch, "orbax")),
        "CSVLogger": dict(filename=os.path.join(scratch, "log.csv")),
        "BackupAndRestore": dict(backup_dir=os.path.join(scratch, "b")),
        "TensorBoard": dict(log_dir=os.path.join(scratch, "tb")),
        "LearningRateScheduler": dict(schedule=lambda epoch, rate: rate),
        "MultiOptimizer": None, "OptimizerMap": None,
        "Optimizer": dict(learning_rate=0.01),
        "LossScaleOptimizer": dict(
            inner_optimizer=keras.optimizers.SGD()),
    }


#: Non-default values the arguments are tried with.
COMPILE_VALUES = {
    "optimizer": "adam", "loss": "categorical_crossentropy",
    "loss_weights": [2.0], "metrics": ["accuracy"],
    "weighted_metrics": ["accuracy"], "run_eagerly": True,
    "steps_per_execution": 2, "jit_compile": False,
    "auto_scale_loss": False}


def _fit_values():
    import keras
    return {
        "x": X, "y": ONE_HOT, "batch_size": 4, "epochs": 2, "verbose": 0,
        "callbacks": [keras.callbacks.TerminateOnNaN()],
        "validation_split": 0.25, "validation_data": (X, ONE_HOT),
        "shuffle": False, "class_weight": {0: 1.0, 1: 2.0, 2: 1.0},
        "sample_weight": numpy.ones(8, numpy.float32), "initial_epoch": 1,
        "steps_per_epoch": 1, "validation_steps": 1,
        "validation_batch_size": 4, "validation_freq": 2}


def _evaluate_values():
    return {"x": X, "y": ONE_HOT, "batch_size": 4, "verbose": 0,
            "sample_weight": numpy.ones(8, numpy.float32), "steps": 1,
            "callbacks": [_callback()], "return_dict": True, "kwargs": None}


def _predict_values():
    return {"x": X, "batch_size": 4, "verbose": 0, "steps": 1,
            "callbacks": [_callback()]}


def _callback():
    import keras
    return keras.callbacks.History()


#: Metrics of a binary classifier's one output, tried on one.
BINARY_METRICS = ("AUC", "BinaryIoU", "PrecisionAtRecall", "R2Score",
                  "RecallAtPrecision", "SensitivityAtSpecificity",
                  "SpecificityAtSensitivity")
#: Metrics of class-index labels (as the sparse ones).
SPARSE_METRICS = ("MeanIoU", "IoU")


def kmodel(loss="categorical_crossentropy", outputs=3, **compile_settings):
    import keras
    keras.utils.set_random_seed(1)
    model = keras.Sequential([
        keras.Input((4,)), keras.layers.Dense(5, activation="tanh"),
        keras.layers.Dense(outputs, activation="softmax" if outputs > 1
                           else "sigmoid")])
    model.compile(**{"optimizer": "sgd", "loss": loss, **compile_settings})
    return model


def _labels(name):
    if name in BINARY_METRICS:
        return ONE_HOT[:, :1]
    return SPARSE if "Sparse" in name or name in SPARSE_METRICS else ONE_HOT


def _loss_of_labels(name):
    if name in BINARY_METRICS:
        return "binary_crossentropy"
    return ("sparse_categorical_crossentropy" if "Sparse" in name
            or name in SPARSE_METRICS else "categorical_crossentropy")


def probe(thunk):
    """("accepted", "") or ("refused", spiDNN's message) or ("raw error",
    the exception)."""
    from spiDNN.errors import SpiDNNError
    try:
        thunk()
    except NotTried as error:
        return "not tried", str(error)
    except SpiDNNError as error:
        return "refused", str(error)
    except Exception as error:      # noqa: BLE001 -- recorded as a bug
        return "raw error", f"{type(error).__name__}: {error}"
    return "accepted", ""


class NotTried(Exception):
    """The class cannot be made on its own here (the reason)."""


def _instance(module, name, required):
    cls = getattr(module, name)
    kwargs = required.get(name, {})
    if kwargs is None:
        raise NotTried(f"{name} wraps other optimizers: not tried alone")
    try:
        return cls(**kwargs)
    except Exception as error:      # noqa: BLE001 -- Keras' own refusal
        raise NotTried(f"Keras: {type(error).__name__}: {error}")


def _classes(module):
    return sorted(name for name in dir(module)
                  if inspect.isclass(getattr(module, name))
                  and not name.startswith("_"))


def class_rows(scratch):
    """[(section, name, status, message)] of every class."""
    import keras
    import spiDNN
    required = _required(scratch)
    fit = spiDNN.keras.fit

    def optimizer(name):
        return lambda: fit(kmodel(optimizer=_instance(
            keras.optimizers, name, required)), X, ONE_HOT, verbose=0)

    def loss(name):
        return lambda: fit(kmodel(loss=_instance(
            keras.losses, name, required)), X, _labels(name), verbose=0)

    def metric(name):
        return lambda: fit(kmodel(
            loss=_loss_of_labels(name),
            outputs=1 if name in BINARY_METRICS else 3,
            metrics=[_instance(keras.metrics, name, required)]),
            X, _labels(name), verbose=0)

    def callback(name):
        return lambda: fit(kmodel(), X, ONE_HOT, verbose=0, callbacks=[
            _instance(keras.callbacks, name, required)])

    rows = []
    for section, module, tried in (
            ("keras.optimizers", keras.optimizers, optimizer),
            ("keras.losses", keras.losses, loss),
            ("keras.metrics", keras.metrics, metric),
            ("keras.callbacks", keras.callbacks, callback)):
        for name in _classes(module):
            rows.append((section, name, *probe(tried(name))))
    return rows


def argument_rows():
    """[(section, argument, status, message)] of every argument, each
    given a value other than its default."""
    import keras
    import spiDNN
    rows = []
    for name in _parameters(keras.Model.compile):
        settings = {name: COMPILE_VALUES[name]}
        rows.append(("compile", name, *probe(
            lambda: spiDNN.keras.fit(kmodel(**settings), X, ONE_HOT,
                                     verbose=0))))
    values = _fit_values()
    for name in _parameters(keras.Model.fit):
        arguments = {"x": X, "y": ONE_HOT, "verbose": 0, name: values[name]}
        rows.append(("fit", name, *probe(
            lambda: spiDNN.keras.fit(kmodel(), **arguments))))
    for method, values, needed in (
            ("evaluate", _evaluate_values(), {"x": X, "y": ONE_HOT}),
            ("predict", _predict_values(), {"x": X})):
        for name in _parameters(getattr(keras.Model, method)):
            if name == "kwargs":
                continue
            arguments = {**needed, "verbose": 0, name: values[name]}

            def call(method=method, arguments=arguments):
                model = spiDNN.from_keras(kmodel())
                model.compile(optimizer="sgd",
                              loss="categorical_crossentropy")
                getattr(model, method)(**arguments)
            rows.append((method, name, *probe(call)))
    return rows


def _parameters(function):
    return [name for name in inspect.signature(function).parameters
            if name != "self"]


def _tests():
    """{test file: its text}."""
    folder = os.path.join(ROOT, "tests")
    return {name: open(os.path.join(folder, name)).read()
            for name in sorted(os.listdir(folder))
            if name.startswith("test_") and name.endswith(".py")}


def tests_naming(section, name, tests):
    """The tests whose code names ``name`` (a class by its name, an
    argument as ``name=``): ``file::test`` where a test's body (or its
    decorators) does, ``file`` where a helper or module-level value does.
    """
    pattern = re.compile(rf"\b{re.escape(name)}\s*=" if section in (
        "compile", "fit", "evaluate", "predict")
        else rf"\b{re.escape(name)}\b")
    found = []
    for file, text in tests.items():
        module = file[:-3]
        for chunk in _top_level(text):
            if not pattern.search(chunk):
                continue
            test = re.search(r"^def (test_\w+)", chunk, re.M)
            where = f"{module}::{test.group(1)}" if test else module
            if where not in found:
                found.append(where)
    # The tests themselves first: they say most.
    return sorted(found, key=lambda where: "::" not in where)


def _top_level(text):
    """A module's top-level statements, each with its decorators."""
    pending = ""
    for piece in re.split(r"\n(?=[A-Za-z_@])", text):
        if piece.startswith("@"):
            pending += piece + "\n"
            continue
        yield pending + piece
        pending = ""


def _cell(text):
    # Object addresses vary from run to run: the table should not.
    text = re.sub(r" at 0x[0-9a-f]+", "", str(text))
    return " ".join(text.split()).replace("|", "\\|") or "--"


def render(rows):
    tests = _tests()
    lines = [
        "Keras' training surface in spiDNN",
        "=================================",
        "",
        "Generated by ``python -m tools.keras_surface`` (each entry tried "
        "with spiDNN on a small model: a one-epoch ``spiDNN.keras.fit`` on "
        "the virtual machine, or spiDNN's ``evaluate``/``predict``). "
        "*implemented*: accepted and named by the tests listed (which "
        "compare with Keras; a name in a test module's helper lists the "
        "module, and naming is not proof: read the test); *accepted, untested*: accepted, but no test "
        "names it; *refused*: spiDNN's message; *raw error*: a bug (an "
        "error that is not spiDNN's); *not tried*: Keras itself could not "
        "make it here.",
        ""]
    for section in dict.fromkeys(row[0] for row in rows):
        title = (f"``keras.Model.{section}`` arguments" if "." not in section
                 else f"``{section}``")
        lines += [title, "-" * len(title), "", ".. list-table::",
                  "   :header-rows: 1", "   :widths: 20 15 65", "",
                  "   * - Name", "     - Status", "     - Tests / message"]
        for _, name, status, message in (r for r in rows if r[0] == section):
            named = tests_naming(section, name, tests)
            if status == "accepted":
                status = "implemented" if named else "accepted, untested"
                message = ", ".join(named[:3])
            lines += [f"   * - ``{name}``", f"     - {status}",
                      f"     - {_cell(message)}"]
        lines.append("")
    return "\n".join(lines)


def main():
    with tempfile.TemporaryDirectory() as scratch:
        rows = argument_rows() + class_rows(scratch)
    os.makedirs(os.path.dirname(TABLE), exist_ok=True)
    with open(TABLE, "w") as table:
        table.write(render(rows))
    counts = {}
    for row in rows:
        counts[row[2]] = counts.get(row[2], 0) + 1
    print(f"{TABLE}: {len(rows)} entries, {counts}")


if __name__ == "__main__":
    sys.exit(main())
