"""``spiDNN.Model``: a Keras-style sequential model run on SpiNNaker."""
import contextlib
import copy
import dataclasses
import math

import numpy

from spiDNN import losses, metrics, optimizers
from spiDNN.arrays import check_finite, numeric_array
from spiDNN.compiler.lowering import core_layers
from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.layers.input import Input
from spiDNN.live_io import live_io_settings
from spiDNN.faults import Faults
from spiDNN.layers.arguments import non_negative_int, positive_int
from spiDNN.layers.layer import Layer
from spiDNN.compiler import planner
from spiDNN.compiler.planner import APP_CORES_PER_CHIP, boards_for
from spiDNN.training import outputs as output_losses
from spiDNN.training import sample_weights
from spiDNN.training.progress import Progress
from spiDNN.training.order import EpochOrder
from spiDNN.training.sources import (
    ArraySource, StreamedSource, batch_length, kind_of, unpack)
from spiDNN.training.steps import (
    Steps, steps_argument, validation_freq_argument)
from spiDNN.training.training_run import TrainingRun, unbounded_samples

#: fit's batch size when none is given: the original spiDNN's 1 for
#: ``fit(x, y, loss)``, Keras' 32 for a model set up with ``compile``.
DEFAULT_BATCH_SIZE = {"fit": 1, "compile": 32}
#: Keras' batch size of evaluate and predict, when none is given.
KERAS_BATCH_SIZE = 32
_DESCRIBED = {"dataset": "tf.data.Dataset", "pydataset": "PyDataset",
              "generator": "generator"}


def _refuse_batch_size(kind, call, name="batch_size"):
    """A streamed source's batches set the batch size: a batch_size too
    is refused (Keras 3 ignores it)."""
    raise SpiDNNConfigurationError(
        f"{call}: {name} with a {_DESCRIBED[kind]}: its batches set the "
        f"batch size; leave {name} out")


def _refuse_beside_a_stream(kind, call, y, batch_size):
    """x a streamed source: its elements hold the labels and its batches
    the batch size, so y and batch_size are refused (Keras refuses y and
    ignores batch_size)."""
    if y is not None:
        raise SpiDNNConfigurationError(
            f"{call}: y with x a {_DESCRIBED[kind]}: its elements hold the "
            f"labels, (x, y); leave y out")
    if batch_size is not None:
        _refuse_batch_size(kind, call)


def _array_batch_size(batch_size, n_samples, steps, default):
    """Keras' batch size of arrays: the one given; else, with ``steps``,
    as many samples as make ``steps`` batches (ArrayDataAdapter's
    ceil(n / steps)); else ``default``."""
    if batch_size is not None:
        return batch_size
    return -(-n_samples // steps) if steps else default


def _counted(batch, sizes):
    """``batch``, its length appended to ``sizes`` (predict's hooks)."""
    sizes.append(len(batch))
    return batch


def _samples_of_steps(n_samples, batch_size, steps):
    """The samples of the first ``steps`` batches of arrays (Keras warns
    when the data runs out first)."""
    source = ArraySource(numpy.empty((n_samples, 0)), None, batch_size)
    return sum(len(batch) for batch in Steps(source, steps).epoch())


def _epoch_samples(training, steps_per_epoch):
    """An epoch's samples for the progress bar, where known."""
    if steps_per_epoch is not None:
        return steps_per_epoch * training.batch_size
    return None if training.unbounded else training.n_samples


def _unpacked(data, what):
    """Keras' (x, y, sample_weight) of validation_data given as a tuple:
    (x, y) or (x, y, sample_weight)."""
    if not isinstance(data, (tuple, list)) or len(data) not in (2, 3):
        raise SpiDNNConfigurationError(
            f"{what} must be a pair (x, y) or a triple (x, y, "
            f"sample_weight), a tf.data.Dataset, a PyDataset or a "
            f"generator, not "
            + (f"a {type(data).__name__} of {len(data)}"
               if isinstance(data, (tuple, list))
               else type(data).__name__))
    return unpack(tuple(data), what)


def _refuse_weights_beside_a_stream(kind, call, sample_weight, class_weight):
    """x a streamed source: its elements (x, y, sample_weight) carry the
    sample weights, so sample_weight= is refused (as Keras); Keras turns
    class_weight into sample weights for a tf.data.Dataset or a PyDataset,
    not for a generator."""
    if sample_weight is not None:
        raise SpiDNNConfigurationError(
            f"{call}: sample_weight with x a {_DESCRIBED[kind]}: its "
            f"elements carry the sample weights, (x, y, sample_weight); "
            f"leave sample_weight out (as Keras)")
    if class_weight is not None and kind == "generator":
        raise SpiDNNConfigurationError(
            "fit: class_weight with x a generator, which Keras does not "
            "take either: yield (x, y, sample_weight) elements, or give a "
            "tf.data.Dataset or a PyDataset")


def _per_layer(layers, weights):
    """(layer, its arrays) of a flat Keras-order weight list."""
    start = 0
    for layer in layers:
        yield layer, weights[start:start + layer.n_weights]
        start += layer.n_weights


def _check_unique_names(layers):
    """Refuses two layers of one name, as Keras does: spiDNN keys the
    weights' optimizer state and the run report by the names."""
    names = {}
    for layer in layers:
        names.setdefault(layer.name, []).append(layer)
    repeated = {name: len({id(layer) for layer in same})
                for name, same in names.items()}
    repeated = {name: n for name, n in repeated.items() if n > 1}
    if repeated:
        raise SpiDNNConfigurationError(
            "the model's layer names must be unique, as Keras requires: "
            + ", ".join(f"{name!r} names {n} layers"
                        for name, n in repeated.items())
            + "; give each layer a name of its own (name=...)")


class Model:
    """A stack of layers: ``Model().add(Input(n)).add(Dense(...))``, or
    as Keras' Sequential, ``Model([Input(n), Dense(...)])``; or, as Keras'
    functional API, a graph of layers each called on its sources:
    ``x = Input(n); y = Dense(8)(x); Model(inputs=x, outputs=y)`` (or
    ``Model(x, y)``), which may branch and merge (Add, Concatenate, ...).

    :param layers: layers to add, an Input first
    :param inputs: the functional API: the model's Input (or a list)
    :param outputs: the functional API: the output layer, or a list of
        them, or a dict by name (each output then has its loss, labels
        and predictions, as in Keras)
    :param seed: seed of the initial weights (Keras' default initialisers)
    :param n_boards: boards of the machine; by default as many 48-chip
        boards as the model needs
    :param faults: :py:class:`spiDNN.Faults` to inject in the virtual
        machine, and the switches of recovery
    :param live_io: True (or a :py:class:`spiDNN.LiveIO`) to run the
        virtual machine behind a board's live I/O: ``predict`` and ``fit``
        go through the board backend and the toolchain's
        ``LiveEventConnection`` over the loopback, as they would to a board
    """

    def __init__(self, layers=None, outputs=None, *, inputs=None,
                 seed=None, n_boards=None, faults=None, live_io=False,
                 name=None):
        if outputs is not None and inputs is None:
            # Keras' Model(inputs, outputs), positionally.
            inputs, layers = layers, None
        self.name = name
        self._rng = numpy.random.default_rng(seed)
        #: Built with the functional API (``add`` refuses more layers).
        self.functional = False
        self.input = None
        #: The Inputs (a Sequential's one; the functional API's, in order).
        self.inputs = []
        self.layers = []
        #: The functional API's output layers, in Keras' flat order, their
        #: names in the logs, and the form they were given in ("list",
        #: "dict" with its keys' order, or None for one).
        self._outputs = None
        self._output_names = None
        self._output_form = None
        self.n_boards = None if n_boards is None else positive_int(
            n_boards, "n_boards")
        if faults is not None and not isinstance(faults, Faults):
            raise SpiDNNConfigurationError(
                f"faults must be a spiDNN.Faults, not {faults!r}")
        self.faults = faults
        self.live_io = live_io_settings(live_io)
        self.last_run = None
        #: The last plan of the layers' slices (spiDNN.compiler.planner.Plan): of
        #: the last run, or for inference as the layers were added.
        self.plan = None
        self.loss = None
        self.loss_weights = None
        self.optimizer = None
        self._compiled_metrics = None
        self._compiled_weighted_metrics = None
        self._resolved_metrics = ()
        #: The optimizer's state after the last fit, to resume from:
        #: {"iterations": steps, "slots": per state kind, arrays in
        #: get_weights' order}; a new compile starts it again.
        self.optimizer_state = None
        #: Set by a callback to end ``fit`` (as Keras' attribute).
        self.stop_training = False
        self._weights_on_machine = None
        self._state_on_machine = self._steps_on_machine = None
        #: A fit of this model is running (its callbacks may predict,
        #: evaluate and save, not fit it again).
        self._fitting = False
        if layers is not None:
            if not isinstance(layers, (list, tuple)):
                raise SpiDNNConfigurationError(
                    f"Model's first argument is a list of layers, as "
                    f"Keras' Sequential takes, not {layers!r}; give a seed "
                    f"as seed=...")
            for layer in layers:
                self.add(layer)
        if inputs is not None or outputs is not None:
            if layers is not None:
                raise SpiDNNConfigurationError(
                    "give Model either a list of layers (Sequential) or "
                    "inputs and outputs (the functional API), not both")
            self._build_graph(inputs, outputs)

    def _build_graph(self, inputs, outputs, order=None):
        """The functional API: the layers from ``inputs`` to ``outputs``
        (in ``order``, a list, where given), their weights created in
        that order."""
        from spiDNN.functional import graph_layers, model_outputs, preceding
        output_layers, (names, form) = model_outputs(outputs)
        model_inputs, layers, output_layers = graph_layers(
            inputs, output_layers, order)
        _check_unique_names(model_inputs + layers)
        for layer in layers:
            layer.check_free()
            layer.check_after(preceding(layer))
        built = set()
        for layer in layers:
            sources = [source.output_shape for source in layer.inbound]
            shape = sources if layer.merges else sources[0]
            if id(layer.owner) in built:
                # A shared layer's weights are created once, at its first
                # use in the model's order.
                layer.set_shapes(shape)
                layer.check_slice()
            else:
                layer.build(shape, self._rng)
                built.add(id(layer.owner))
        self.inputs, self.layers, self.functional = model_inputs, layers, True
        self.input = model_inputs[0]
        self._outputs, self._output_names = output_layers, names
        self._output_form = (list(outputs) if form == "dict" else form if (
            len(output_layers) > 1) else None)
        self.check_fits()
        for layer in layers:
            layer.model = layer.owner.model = self

    # ----------------------------------------------------------- building
    def add(self, layer):
        """Appends a layer; returns the model so calls can chain."""
        if isinstance(layer, Input):
            if self.input is not None:
                raise SpiDNNConfigurationError(
                    "the model already has an Input layer")
            self.input = layer
            self.inputs = [layer]
            return self
        if not isinstance(layer, Layer):
            raise SpiDNNConfigurationError(
                f"spiDNN cannot add {layer!r}: use spiDNN.layers")
        if self.functional:
            raise SpiDNNConfigurationError(
                f"this model is built with the functional API: call "
                f"{layer.name} on a layer's output and make a new "
                f"spiDNN.Model(inputs, outputs)")
        if layer.inbound is not None or layer.merges:
            raise SpiDNNConfigurationError(
                f"{layer.name} ({type(layer).__name__}) "
                + ("merges several inputs" if layer.merges else
                   "was called on a layer (the functional API)")
                + ": build the model with spiDNN.Model(inputs, outputs)")
        if self.input is None:
            raise SpiDNNConfigurationError(
                f"add an Input layer before {layer.name}")
        if any(layer is other for other in self.layers):
            raise SpiDNNConfigurationError(
                f"layer {layer.name} is already in the model")
        _check_unique_names(self.inputs + self.layers + [layer])
        layer.check_free()          # before building changes its weights
        previous = self.layers[-1] if self.layers else self.input
        layer.check_after(self.layers)
        layer.build(previous.output_shape, self._rng)
        self.layers.append(layer)
        if layer.takes_cores:
            # Its forward pass must fit the machine before anything else
            # is added; training's needs are checked by fit.
            try:
                self.check_fits()
            except SpiDNNConfigurationError:
                self.layers.pop()
                raise
        layer.model = self
        return self

    @property
    def n_inputs(self):
        """Input elements of a sample, of all the Inputs."""
        return sum(model_input.units for model_input in self.inputs)

    @property
    def outputs(self):
        """The output layers, in order (a Sequential's last layer)."""
        return list(self._outputs) if self._outputs else self.layers[-1:]

    @property
    def output_names(self):
        """Each output's name in the logs (``<name>_loss``...): its
        layer's, or its key where the outputs were given as a dict."""
        if self._output_names:
            return list(self._output_names)
        return [layer.name for layer in self.outputs]

    @property
    def output_shape(self):
        """The output's shape (of a model of several, a list of them)."""
        shapes = [layer.output_shape for layer in self.outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    def _lowered(self, plan=None):
        """The model's nodes as the machine takes them (lowering)."""
        return core_layers(self.layers, plan, self.inputs, self.outputs)

    def _check_built(self):
        if self.input is None or not core_layers(self.layers):
            raise SpiDNNConfigurationError(
                "the model needs an Input and at least one layer with "
                "neurons (Dense, a convolution or a pooling layer)")

    # ------------------------------------------------------------ weights
    def weight_layers(self):
        """The layers holding the model's weights, in Keras' order: each
        once, a shared layer at its first use in the model."""
        return list({id(layer.owner): layer.owner
                     for layer in self.layers}.values())

    def get_weights(self):
        """All weights in Keras' order: kernel then bias, layer by layer
        (during ``fit``, a callback gets the cores' current weights); a
        shared layer's once."""
        self._pull_weights()
        return [w for layer in self.weight_layers()
                for w in layer.get_weights()]

    def weight_layout(self):
        """[(shape, trainable)] of each weight array in get_weights'
        order: which ones Keras' optimizer keeps state for."""
        return [(w.shape, layer.trainable) for layer in self.weight_layers()
                for w in layer.weights]

    def _pull_weights(self):
        """During fit, the weights on the machine replace the host's."""
        if self._weights_on_machine is not None:
            self._take_weights(self._weights_on_machine())

    def training_state(self):
        """(weights in get_weights' order, optimizer state as
        ``optimizer_state`` holds it): during fit the machine's, read at
        once (a callback saving both gets one step's), else the host's."""
        if self._state_on_machine is not None:
            weights, state = self._state_on_machine()
            self._take_weights(weights)
            return weights, state
        return self.get_weights(), self.optimizer_state

    def _take_weights(self, weights):
        """Weights the machine trained (non-finite ones included, as Keras
        leaves them after a divergence)."""
        for layer, trained in _per_layer(self.weight_layers(), weights):
            layer.take_trained_weights(trained)

    def set_weights(self, weights):
        """Takes a list as Keras' ``get_weights()`` returns it."""
        if self._weights_on_machine is not None:
            raise SpiDNNConfigurationError(
                "set_weights during fit: the cores train their own copy, "
                "which spiDNN does not replace mid-run; set the weights "
                "after fit (as EarlyStopping's restore_best_weights does, "
                "in on_train_end)")
        weights = list(weights)
        owners = self.weight_layers()
        expected = sum(layer.n_weights for layer in owners)
        if len(weights) != expected:
            raise SpiDNNConfigurationError(
                f"the model has {expected} weight arrays, got {len(weights)}")
        for layer, arrays in _per_layer(owners, weights):
            layer.set_weights(arrays)

    def count_params(self):
        """Weights and biases in all, as Keras counts them (a shared
        layer's once)."""
        return sum(int(w.size) for layer in self.weight_layers()
                   for w in layer.get_weights())

    def get_layer(self, name=None, index=None):
        """A layer by its name or its index (as Keras'; the Input is not
        counted)."""
        if (name is None) == (index is None):
            raise SpiDNNConfigurationError(
                "get_layer takes a name or an index")
        if index is not None:
            if not -len(self.layers) <= index < len(self.layers):
                raise SpiDNNConfigurationError(
                    f"the model has {len(self.layers)} layers, no index "
                    f"{index}")
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise SpiDNNConfigurationError(
            f"no layer named {name!r}; the model has "
            f"{', '.join(layer.name for layer in self.layers)}")

    # ----------------------------------------------------------- machine
    def cores_needed(self):
        """Application cores of the last plan: each layer's slices, plus
        input and output (the input source on a core per input block of a
        first layer split 2-D)."""
        if self.plan is None:
            return 2
        return self.plan.cores_needed()

    def check_fits(self, training=None):
        """Plans the slices left to the planner for this run (training or
        not), and refuses a model that would break a limit of the
        machine; the plan, frozen, is ``self.plan``, which the run's
        machine graph takes its slicing from."""
        self.plan = planner.plan(self.layers, training, self.n_boards,
                                 self.inputs, self.outputs)
        return self.plan

    def boards_needed(self):
        if self.n_boards is not None:
            return self.n_boards
        return boards_for(self.cores_needed())

    def _check_inputs(self, x):
        """Inputs as a contiguous float32 array (n_samples, n_inputs), from
        (n_samples, *input shape) or already flat, or a clear error; with
        several Inputs, a list of such arrays (or a dict by the Inputs'
        names), one per Input, side by side."""
        if len(self.inputs) == 1:
            return _input_rows(x, self.input, "inputs")
        if isinstance(x, numpy.ndarray) and x.dtype == numpy.float32 and (
                x.ndim == 2 and x.shape[1] == self.n_inputs):
            # Already side by side, as fit's validation_split leaves them.
            check_finite(x, "inputs")
            return numpy.ascontiguousarray(x)
        if isinstance(x, dict):
            missing = [one.name for one in self.inputs if one.name not in x]
            if missing or len(x) != len(self.inputs):
                raise SpiDNNConfigurationError(
                    f"inputs by name must give exactly "
                    f"{', '.join(one.name for one in self.inputs)}; got "
                    f"{', '.join(map(str, x))}")
            x = [x[one.name] for one in self.inputs]
        if not isinstance(x, (list, tuple)) or len(x) != len(self.inputs):
            raise SpiDNNConfigurationError(
                f"the model has {len(self.inputs)} Inputs "
                f"({', '.join(one.name for one in self.inputs)}): give a "
                f"list of as many arrays, not {type(x).__name__}")
        rows = [_input_rows(part, one, f"inputs of {one.name}")
                for part, one in zip(x, self.inputs)]
        if len({len(part) for part in rows}) != 1:
            raise SpiDNNConfigurationError(
                f"the inputs hold different numbers of samples: "
                f"{', '.join(str(len(part)) for part in rows)}")
        return numpy.ascontiguousarray(numpy.concatenate(rows, axis=1))

    def predict(self, x, batch_size=None, verbose=0, steps=None,
                callbacks=None):
        """Outputs of the model for ``x`` (n_samples, n_inputs), or a
        tf.data.Dataset, PyDataset or generator of such batches (its
        elements ``x``, or ``(x, y)`` whose y is not used, as Keras).

        Every forward pass runs in the dense apps on the machine (the
        virtual one unless a board is configured), a chunk of samples at
        a time.  ``batch_size`` (Keras' 32 by default) and ``steps`` say
        how many samples: the first ``steps`` batches, as Keras.
        ``callbacks`` get Keras' on_predict_* hooks, each batch's with its
        outputs, once the machine has run the batches (a chunk at a time).
        """
        self._check_built()
        from spiDNN.training import loop
        given = loop.listed(callbacks)
        if batch_size is not None:
            positive_int(batch_size, "batch_size")
        steps = steps_argument(steps, "steps")
        kind = kind_of(x, "x")
        sizes = []
        if kind == "array":
            inputs = self._check_inputs(x)
            size = _array_batch_size(batch_size, len(inputs), steps,
                                     KERAS_BATCH_SIZE)
            if steps is not None:
                inputs = inputs[:_samples_of_steps(len(inputs), size, steps)]
            sizes = loop.batch_sizes(len(inputs), size)
        else:
            if batch_size is not None:
                _refuse_batch_size(kind, "predict")
            source = StreamedSource(x, False, "x")
            self._check_batched(source.first()[0], kind)
            source.convert = lambda x, y, weights: (
                self._check_inputs(x), None)
            batches = Steps(source, steps)
            inputs = (_counted(batch.inputs, sizes)
                      for batch in batches.epoch())
        calls = loop.Callbacks(given, self, {
            "verbose": verbose, "epochs": 1,
            "steps": len(sizes) if kind == "array" else None})
        with self._nested():
            self._pull_weights()
            self.check_fits()
            from spiDNN.machines.run import predict
            outputs, last_run = predict(self, inputs)
        self.last_run = last_run if not self._fitting else self.last_run
        outputs = [values.reshape((len(values),) + layer.output_shape)
                   for values, layer in zip(outputs, self.outputs)]
        loop.run_predict_hooks(calls, outputs, sizes,
                               kind != "array" and batches.stopped)
        # As Keras 3: an array for one output, a list for a list of them,
        # a dict (in the order it was given) for a dict of them.
        if isinstance(self._output_form, list):
            by_name = dict(zip(self.output_names, outputs))
            return {name: by_name[name] for name in self._output_form}
        return outputs if self._output_form == "list" else outputs[0]

    @contextlib.contextmanager
    def _nested(self):
        """During this model's fit (a callback predicting or evaluating),
        its plan and run report stay the fit's."""
        if not self._fitting:
            yield
            return
        kept = self.plan, self.last_run, self._resolved_metrics
        try:
            yield
        finally:
            self.plan, self.last_run, self._resolved_metrics = kept

    # ------------------------------------------------------------ training
    def compile(self, optimizer="sgd", loss=None, metrics=None,
                loss_weights=None, weighted_metrics=None):
        """Sets the optimizer, loss and metrics ``fit`` and ``evaluate``
        use, as Keras' ``compile``.  With several outputs, as Keras 3:
        ``loss`` one for each output, a list in the outputs' order or a
        dict by output name; ``loss_weights`` a list or dict (the total
        loss is the sum of each output's loss times its weight, 1 by
        default); ``metrics`` a list with an entry per output (a metric,
        a list of them, or None) or a dict by output name.

        :param optimizer: one of :py:mod:`spiDNN.optimizers` (SGD,
            Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, Nadam,
            Lion), their Keras names, or the Keras ones (learning-rate
            schedules included); their state lives on the cores
        :param loss: a Keras loss name (``"mse"``,
            ``"categorical_crossentropy"``,
            ``"sparse_categorical_crossentropy"``,
            ``"binary_crossentropy"``), function or object
        :param metrics: Keras accuracies, computed on the machine:
            ``"accuracy"``, ``"sparse_categorical_accuracy"``,
            ``"categorical_accuracy"``, ``"binary_accuracy"`` or the Keras
            metric objects
        :param loss_weights: each output's factor in the total loss (a
            number, for a model of one output)
        :param weighted_metrics: as ``metrics`` (in the same forms),
            weighted by the samples' weights (``sample_weight``,
            ``class_weight``), as Keras weighs them: the metrics Keras
            reduces as a mean of per-sample values
        """
        if loss is None:
            raise SpiDNNConfigurationError("compile needs a loss")
        names = self.output_names
        loss = self._losses_of(loss)
        loss_weights = output_losses.weights_per_output(
            loss_weights, names or [None])
        output_losses.metrics_per_output(metrics, names or [None])
        output_losses.metrics_per_output(weighted_metrics, names or [None])
        self.optimizer = optimizers.get(optimizer)
        self.optimizer_state = None
        self.loss = loss
        #: Each output's loss weight, or None (Keras' default).
        self.loss_weights = (None if all(w is None for w in loss_weights)
                             else loss_weights)
        # Checked against the labels when fit or evaluate sees them.
        self._compiled_metrics = metrics
        self._compiled_weighted_metrics = weighted_metrics
        return self

    def _losses_of(self, loss):
        """compile's (or fit's) loss as its Keras name, or with several
        outputs a list of them in the outputs' order."""
        names = self.output_names
        if len(names) <= 1 and not isinstance(loss, (list, tuple, dict)):
            return losses.get(loss)
        found = output_losses.losses_per_output(loss, names)
        return found[0] if len(names) == 1 else found

    @property
    def metrics(self):
        """The metrics of the last ``fit`` or ``evaluate``, as Keras
        models list them (what ``EarlyStopping(mode="auto")`` reads to tell
        a metric to maximise from one to minimise)."""
        if not self._resolved_metrics:
            return []
        import keras
        from keras.src.trainers.compile_utils import MetricsList
        return [MetricsList([
            getattr(keras.metrics, metrics.KERAS_CLASS_OF[kind])(
                name=name, **metrics.KERAS_CLASS_ARGUMENTS.get(kind, {}))
            for name, kind in self._resolved_metrics])]

    def fit(self, x=None, y=None, loss=None, epochs=1, batch_size=None,
            learning_rate=None, shuffle=None, verbose=1, validation_data=None,
            validation_split=0.0, callbacks=None, initial_epoch=0,
            sample_weight=None, class_weight=None, steps_per_epoch=None,
            validation_steps=None, validation_batch_size=None,
            validation_freq=1):
        """Trains the model on the machine and returns a :py:class:`History`.

        Forward pass, loss, metrics, backward pass and the optimizer's
        updates all run in the C apps; the trained weights come back to
        the model at the end (and whenever a callback asks for them).  Two
        forms: the original ``fit(x, y, loss, epochs=1, batch_size=1,
        learning_rate=0.01)``, and Keras' ``compile(optimizer, loss,
        metrics)`` then ``fit(x, y, epochs=..., batch_size=32, ...)``;
        ``loss`` and ``learning_rate`` given here override ``compile``'s.

        :param shuffle: reorder the samples every epoch (seeded by the
            model's seed, so runs repeat exactly); None, the default, is
            Keras' True, but in the original form (a ``loss`` or
            ``learning_rate`` given here) False: the original spiDNN
            streamed the samples in order
        :param verbose: 0 silent, 1 a progress bar with the running loss,
            2 one line per epoch
        :param y: the labels; with several outputs, a list of each
            output's (in the outputs' order) or a dict by output name
        :param validation_data: (x, y) evaluated on the machine after
            each epoch (``val_loss`` and ``val_`` metrics in the History)
        :param validation_split: the fraction of (x, y) to validate on
            instead: its last samples, before shuffling, as Keras takes
        :param callbacks: ``keras.callbacks.Callback`` objects (the model
            they get is this one: ``get_weights``, ``set_weights``,
            ``save``, ``save_weights``, ``stop_training``)
        :param initial_epoch: the epoch to start from (0 first)
        :param x: arrays (a list or dict of them by Input name, with
            several), or a tf.data.Dataset, keras.utils.PyDataset or
            generator of ``(x, y)`` batches (its batches set the batch
            size; ``y`` and ``batch_size`` are then left out; elements
            ``(x, y, sample_weight)`` weigh their samples), streamed to
            the machine a chunk at a time
        :param steps_per_epoch: batches per epoch, as Keras (the data goes
            on from where the last epoch left it; running out warns and
            ends the epoch)
        :param validation_steps: batches of ``validation_data`` to
            validate on (from its start, each time)
        :param validation_batch_size: its batch size (fit's by default)
        :param validation_freq: validate every so many epochs (an int) or
            after the epochs listed (1 first)
        :param sample_weight: a weight per sample (an array; with several
            outputs one for all, or a list or dict of one per output),
            a factor of its loss and gradient as Keras folds it (arrays
            only: a streamed x carries its weights in its elements)
        :param class_weight: a dict from class to weight (a model of one
            output): each sample weighs its class's weight, as Keras
            (also of a tf.data.Dataset or PyDataset, not a generator)
        """
        self._check_built()
        from spiDNN.training import loop
        loop.refuse_nested_fit(self)
        if not any(layer.weights for layer in self.layers):
            raise SpiDNNConfigurationError(
                "the model has no weights to train")
        if shuffle is None:
            shuffle = loss is None and learning_rate is None
        steps_per_epoch = steps_argument(steps_per_epoch, "steps_per_epoch")
        validation_steps = steps_argument(validation_steps,
                                          "validation_steps")
        validation_freq = validation_freq_argument(validation_freq)
        if validation_batch_size is not None:
            positive_int(validation_batch_size, "validation_batch_size")
        initial_epoch = non_negative_int(initial_epoch, "initial_epoch")
        form = "compile" if loss is None and learning_rate is None else "fit"
        names = self.output_names or [None]
        if kind_of(x, "x") != "array":
            val_data, val_weighted = self._validation_data(
                validation_data, validation_batch_size)
            source, training, order = self._streamed_fit(
                x, y, loss, epochs, batch_size, learning_rate, shuffle,
                verbose, validation_split, steps_per_epoch, sample_weight,
                class_weight, val_weighted)
            inputs = labels = None
        else:
            if validation_split and validation_data is None:
                x = self._check_inputs(x)      # the Inputs side by side
                if len(self.outputs) > 1:      # and each output's labels
                    y = output_losses.labels_per_output(y, self.output_names)
            x, y, validation_data, sample_weight = _split_validation(
                x, y, validation_data, validation_split, sample_weight)
            inputs = self._check_inputs(x)
            weights = sample_weights.per_sample(
                sample_weight, class_weight,
                output_losses.labels_per_output(y, names), names,
                len(inputs))
            val_data, val_weighted = self._validation_data(
                validation_data, validation_batch_size)
            training, order = self._plan_training(
                len(inputs), loss, epochs, _array_batch_size(
                    batch_size, len(inputs), steps_per_epoch if (
                        form == "compile") else None,
                    DEFAULT_BATCH_SIZE[form]),
                learning_rate, shuffle, verbose, y,
                weighted=weights is not None or val_weighted)
            labels = self._check_labels(training, y, len(inputs), weights)
            source = None
        validation = self._validation(
            val_data, training, validation_steps,
            validation_batch_size or batch_size, DEFAULT_BATCH_SIZE[form])
        self.check_fits(training)
        order = order()
        progress = Progress(verbose if verbose != "auto" else 1,
                            training.n_epochs, _epoch_samples(
                                training, steps_per_epoch))
        from spiDNN.machines import run
        # As Keras: training that diverged leaves non-finite weights and a
        # nan loss in the History, not an error.
        return run.fit(self, training, inputs, labels, order, progress,
                       validation, callbacks, initial_epoch, source,
                       steps_per_epoch, validation_freq)

    def _streamed_fit(self, x, y, loss, epochs, batch_size, learning_rate,
                      shuffle, verbose, validation_split, steps_per_epoch,
                      sample_weight, class_weight, val_weighted):
        """(source, TrainingRun, order) of a fit on a streamed source: its
        first batch sets the batch size, its length (where known) the
        samples of a pass, its first element's weights (or
        ``class_weight``, or weighted validation, ``val_weighted``) whether
        the loss cores weigh samples."""
        kind = kind_of(x, "x")
        _refuse_beside_a_stream(kind, "fit", y, batch_size)
        _refuse_weights_beside_a_stream(kind, "fit", sample_weight,
                                        class_weight)
        if validation_split:
            raise SpiDNNConfigurationError(
                f"validation_split={validation_split!r} with x a "
                f"{_DESCRIBED[kind]}: Keras splits arrays only; give "
                f"validation_data")
        source = StreamedSource(x, shuffle, "x")
        if source.infinite and steps_per_epoch is None:
            raise SpiDNNConfigurationError(
                "fit: x is an infinite tf.data.Dataset (repeat()): give "
                "steps_per_epoch, the batches of an epoch")
        first_x, first_y, weights = source.first()
        self._check_batched(first_x, kind)
        if first_y is None:
            raise SpiDNNConfigurationError(
                f"fit: the {_DESCRIBED[kind]}'s elements hold no labels: "
                f"fit takes (x, y) elements")
        size = batch_length(first_x)
        n_samples = source.samples_per_pass(size)
        if n_samples is None:
            n_samples = unbounded_samples(size)
        if class_weight is not None and weights is not None:
            raise SpiDNNConfigurationError(
                f"fit: class_weight with x a {_DESCRIBED[kind]} whose "
                f"elements are (x, y, sample_weight): give one or the "
                f"other (as Keras)")
        training, order = self._plan_training(
            n_samples, loss, epochs, size, learning_rate, False, verbose,
            first_y, weighted=weights is not None
            or class_weight is not None or val_weighted)
        source.convert = self._converter(training, "x", class_weight)
        return source, training, order

    def _check_batched(self, x, kind):
        """A streamed source's elements must be batches, as Keras takes
        them: an element of one sample's shape is refused."""
        first = x
        if isinstance(x, dict):
            first = x.get(self.input.name, next(iter(x.values())))
        elif isinstance(x, (list, tuple)) and len(self.inputs) > 1:
            first = x[0]
        if numpy.ndim(first) == len(self.input.output_shape) and (
                numpy.shape(first) == self.input.output_shape):
            raise SpiDNNConfigurationError(
                f"x: the {_DESCRIBED[kind]}'s elements are single samples "
                f"of shape {numpy.shape(first)}; Keras takes batches: batch "
                f"it (dataset.batch(32))")

    def _converter(self, training, what, class_weight=None):
        """A streamed element's (x, y, sample_weight) as the machine takes
        them (inputs, labels with each sample's weight where the loss
        cores weigh samples; ``class_weight``: fit's, turned into each
        sample's weight as Keras' data adapters do)."""
        names = self.output_names or [None]
        weighted = any(output.weighted for output in training.outputs)

        def convert(x, y, weights):
            if y is None:
                raise SpiDNNConfigurationError(
                    f"{what}: an element without labels: (x, y) elements")
            if weights is not None and not weighted:
                raise SpiDNNConfigurationError(
                    f"{what}: an element (x, y, sample_weight) after a "
                    f"first element (x, y) without weights, which set the "
                    f"loss cores up unweighted: give every element its "
                    f"sample_weight, or none")
            if class_weight is not None and weights is not None:
                raise SpiDNNConfigurationError(
                    f"{what}: an element (x, y, sample_weight) with "
                    f"class_weight: give one or the other (as Keras)")
            inputs = self._check_inputs(x)
            if class_weight is not None or weights is not None:
                weights = sample_weights.per_sample(
                    weights, class_weight,
                    output_losses.labels_per_output(y, names), names,
                    len(inputs), f"{what}'s sample weights")
            return inputs, self._check_labels(training, y, len(inputs),
                                              weights)
        return convert

    def _validation_data(self, validation_data, given_batch_size):
        """fit's validation_data before the run is planned, and whether it
        weighs its samples: a StreamedSource (its first element's weights
        tell), or the arrays' (inputs, y, each output's weights or
        None)."""
        if validation_data is None:
            return None, False
        kind = kind_of(validation_data, "validation_data")
        if kind != "array":
            if given_batch_size is not None:
                _refuse_batch_size(kind, "fit", "validation_batch_size")
            source = StreamedSource(validation_data, False,
                                    "validation_data")
            return source, source.first()[2] is not None
        x_val, y_val, w_val = _unpacked(validation_data, "validation_data")
        val_inputs = self._check_inputs(x_val)
        names = self.output_names or [None]
        val_weights = sample_weights.per_sample(
            w_val, None, None, names, len(val_inputs),
            "validation_data's sample weights")
        return (val_inputs, y_val, val_weights), val_weights is not None

    def _validation(self, validation_data, training, steps, batch_size,
                    default_batch_size):
        """fit's validation (spiDNN.training.loop.Validation) of what
        ``_validation_data`` made of validation_data, or None."""
        from spiDNN.training.loop import Validation
        if validation_data is None:
            return None
        if isinstance(validation_data, StreamedSource):
            validation_data.convert = self._converter(
                training, "validation_data")
            return Validation(validation_data, steps)
        val_inputs, y_val, val_weights = validation_data
        val_labels = self._check_labels(training, y_val, len(val_inputs),
                                        val_weights)
        batch_size = _array_batch_size(batch_size, len(val_inputs), steps,
                                       default_batch_size)
        return Validation(ArraySource(val_inputs, val_labels,
                                      min(batch_size, len(val_inputs))),
                          steps)

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto",
                 return_dict=False, sample_weight=None, steps=None,
                 callbacks=None):
        """The loss (and metrics) of ``(x, y)``, computed on the machine
        with the compiled loss and metrics, as Keras' ``evaluate``: a
        scalar loss, or ``[loss, metric, ...]``, or a dict.  ``x`` may be a
        tf.data.Dataset, PyDataset or generator of (x, y) batches;
        ``steps`` evaluates its first batches (of ``batch_size``, Keras'
        32 by default, for arrays).  With ``sample_weight`` (as ``fit``'s,
        arrays only; a streamed x's elements ``(x, y, sample_weight)``
        carry theirs) the loss is weighted, the metrics not (Keras'
        compiled ``metrics``).  ``callbacks`` get Keras' on_test_* hooks,
        each batch's with the logs so far, once the machine has evaluated
        the batches (a chunk at a time)."""
        self._check_built()
        from spiDNN.training import loop
        given = loop.listed(callbacks)
        if self.loss is None:
            raise SpiDNNConfigurationError(
                "evaluate needs a loss: compile(...) first")
        if batch_size is not None:
            positive_int(batch_size, "batch_size")
        steps = steps_argument(steps, "steps")
        from spiDNN.machines import run
        from spiDNN.training import loop
        kind = kind_of(x, "x")
        with self._nested():
            self._pull_weights()
            if kind == "array":
                inputs = self._check_inputs(x)
                names = self.output_names or [None]
                weights = sample_weights.per_sample(
                    sample_weight, None, None, names, len(inputs))
                training, _ = self._plan_training(
                    len(inputs), None, 1, _array_batch_size(
                        batch_size, len(inputs), steps, KERAS_BATCH_SIZE),
                    None, False, 0, y, weighted=weights is not None)
                labels = self._check_labels(training, y, len(inputs),
                                            weights)
                if steps is not None:
                    n = _samples_of_steps(len(inputs), training.batch_size,
                                          steps)
                    inputs, labels = inputs[:n], labels[:n]
                    training = dataclasses.replace(training, n_samples=n)
                self.check_fits(training)
                self._resolved_metrics = training.metrics
                losses, metrics, last_run = run.evaluate(
                    self, training, inputs, labels)
                sizes = loop.batch_sizes(len(inputs), training.batch_size)
                losses, metrics = training.reduce_logged(
                    losses, metrics, training.batch_size, labels)
            else:
                _refuse_beside_a_stream(kind, "evaluate", y, batch_size)
                _refuse_weights_beside_a_stream(kind, "evaluate",
                                                sample_weight, None)
                source = StreamedSource(x, False, "x")
                first_x, first_y, weights = source.first()
                self._check_batched(first_x, kind)
                size = batch_length(first_x)
                training, _ = self._plan_training(
                    unbounded_samples(size), None, 1, size, None, False, 0,
                    first_y, weighted=weights is not None)
                source.convert = self._converter(training, "x")
                self.check_fits(training)
                self._resolved_metrics = training.metrics
                batches = Steps(source, steps)
                losses, metrics, sizes, last_run = run.evaluate_batches(
                    self, training, batches.epoch())
        if not self._fitting:
            self.last_run = last_run
        if given:
            loop.run_test_hooks(loop.Callbacks(given, self, {
                "verbose": verbose, "epochs": 1,
                "steps": len(sizes) if kind == "array"
                else batches.steps or source.num_batches}),
                losses, metrics, training, sizes,
                kind != "array" and batches.stopped)
        logs = loop.logs_of(losses, metrics, training, sizes)
        if return_dict:
            return logs
        values = output_losses.evaluate_order(logs, training.outputs)
        return values[0] if len(values) == 1 else values

    def _check_labels(self, training, y, n_samples, weights=None):
        """The labels as the labels sources stream them: each output's
        words (losses.check_labels), then its sample weight if its loss
        core is weighted (``weights``: each output's, or None for 1),
        side by side in the outputs' order."""
        names = self.output_names
        words = []
        for k, (part, output, layer) in enumerate(zip(
                output_losses.labels_per_output(y, names), training.outputs,
                self.outputs)):
            if numpy.ndim(part) > 2 and (
                    numpy.shape(part)[1:] == layer.output_shape):
                part = numpy.reshape(part, (len(part), -1))  # a value each
            what = ("labels" if output.name is None
                    else f"labels of {output.name}")
            words.append(losses.check_labels(
                output.loss, part, n_samples, output.n_outputs, what))
            hinges = [name for name, kind in output.metrics
                      if kind.endswith(("loss_hinge", "loss_squared_hinge"))]
            if hinges and output.loss not in losses.HINGES:
                losses.check_hinge_labels(f"metric {hinges[0]!r}",
                                          numpy.asarray(part), what)
            if output.weighted:
                words[-1] = sample_weights.appended(
                    words[-1], None if weights is None else weights[k])
            if output.reduction == "weight_sum":
                # The batch's sum of weights: the loop fills it in for
                # each training pass (evaluating sends no gradient).
                words[-1] = sample_weights.appended(words[-1], None)
        return words[0] if len(words) == 1 else numpy.ascontiguousarray(
            numpy.concatenate(words, axis=1))

    def _plan_training(self, n_samples, loss, epochs, batch_size,
                       learning_rate, shuffle, verbose, y=None,
                       weighted=False):
        """The TrainingRun of a fit call, and a function giving the order
        of the samples in each epoch (drawn only once all checks pass)."""
        if loss is None and self.loss is None:
            raise SpiDNNConfigurationError(
                "fit needs a loss: fit(x, y, loss=...) or compile(...) first")
        loss_names = self._losses_of(loss) if loss is not None else self.loss
        form = "compile" if loss is None else "fit"
        optimizer = self.optimizer or optimizers.SGD()
        if learning_rate is not None:
            optimizer = copy.copy(optimizer)
            optimizer.learning_rate = optimizers.SGD(
                learning_rate).learning_rate
        epochs = positive_int(epochs, "epochs")
        if epochs > 0xFFFFFFFF:
            raise SpiDNNConfigurationError(
                f"epochs must be below 2**32, got {epochs}")
        batch_size = positive_int(
            DEFAULT_BATCH_SIZE[form] if batch_size is None else batch_size,
            "batch_size")
        if not isinstance(shuffle, (bool, numpy.bool_)):
            raise SpiDNNConfigurationError(
                f"shuffle must be True or False, got {shuffle!r}")
        if verbose not in (0, 1, 2, "auto"):
            raise SpiDNNConfigurationError(
                f"verbose must be 0, 1, 2 or 'auto', got {verbose!r}")

        def order():
            return EpochOrder(n_samples, epochs,
                              self._rng if shuffle else None)

        training = TrainingRun(
            outputs=self._output_losses(loss_names, y, weighted),
            optimizer=optimizer,
            batch_size=min(batch_size, n_samples),
            n_samples=n_samples, n_epochs=epochs,
            **self._state_to_resume(optimizer))
        return training, order

    def _output_losses(self, loss_names, y, weighted=False):
        """Each output's OutputLoss: its loss, weight and metrics (resolved
        against its labels, ``y``'s part); ``weighted``: its samples have
        weights."""
        names = self.output_names
        several = len(names) > 1
        per_loss = loss_names if several else [loss_names]
        labels = (output_losses.labels_per_output(y, names) if y is not None
                  else [None] * len(names))
        given = output_losses.metrics_per_output(self._compiled_metrics,
                                                 names)
        weighted_given = output_losses.metrics_per_output(
            self._compiled_weighted_metrics, names)
        weights = self.loss_weights or [None] * len(names)
        nodes = self._lowered()
        node_of = {index: node for node in nodes
                   for index in node.output_indices}
        resolved = [metrics.resolve(
            given[k], per_loss[k],
            2 if labels[k] is None else numpy.ndim(labels[k]), layer.units,
            z_arrives=losses.takes_logits(
                per_loss[k], node_of[k].layer.activation),
            output_activation=node_of[k].layer.activation,
            weighted=weighted_given[k])
            for k, layer in enumerate(self.outputs)]
        outputs = tuple(output_losses.OutputLoss(
            name=names[k] if several else None, loss=per_loss[k],
            n_outputs=layer.units,
            output_activation=node_of[k].layer.activation,
            metrics=tuple(resolved[k][0]), metric_settings=resolved[k][1],
            weight=weights[k], weighted=weighted,
            values_per_sample=int(numpy.prod(layer.output_shape[:-1])))
            for k, layer in enumerate(self.outputs))
        for output, layer in zip(outputs, self.outputs):
            what = f"output {output.name or layer.name!r}"
            losses.check_output_shape(output.loss, layer.output_shape, what)
            if weighted and len(layer.output_shape) > 1:
                raise SpiDNNConfigurationError(
                    f"{what}: sample weights (sample_weight, class_weight "
                    f"or weighted validation data) for an output of shape "
                    f"{layer.output_shape}: Keras multiplies its losses "
                    f"per position, shape (batch,) + "
                    f"{layer.output_shape[:-1]}, by weights of shape "
                    f"(batch,), which TensorFlow refuses (incompatible "
                    f"shapes) or broadcasts along the wrong axis; weigh "
                    f"an output of one axis (Flatten it)")
        _check_logits(nodes, outputs)
        return outputs

    def _state_to_resume(self, optimizer):
        """TrainingRun's optimizer_state and initial_step: the state the
        last fit left, when this one trains with the same optimizer."""
        state = self.optimizer_state
        if state is None:
            # Where Keras' state starts at other values than zeros.
            state = optimizer.initial_state(
                [w for layer in self.weight_layers()
                 for w in layer.get_weights()])
        if state is None or len(state["slots"]) != optimizer.n_states:
            return {}
        per_layer = {}
        for k, arrays in enumerate(state["slots"]):
            for layer, mine in _per_layer(self.weight_layers(), arrays):
                if mine:
                    per_layer.setdefault(layer.name, []).append(mine)
        return {"optimizer_state": per_layer,
                "initial_step": state["iterations"]}

    def to_keras(self):
        """An equivalent ``keras.Sequential`` holding this model's weights
        (Flatten made explicit where spiDNN flattens implicitly)."""
        from spiDNN.keras.models import to_keras
        self._pull_weights()
        return to_keras(self)

    def save_weights(self, filepath, overwrite=True):
        """Writes the weights as Keras does (``.weights.h5``), through the
        equivalent Keras model, so Keras can load them too."""
        self.to_keras().save_weights(filepath, overwrite=overwrite)

    def load_weights(self, filepath):
        """Reads weights written by ``save_weights`` (or by a Keras model
        of the same layers)."""
        kmodel = self.to_keras()
        kmodel.load_weights(filepath)
        # Layer by layer: a graph's Keras order may differ from spiDNN's.
        self.set_weights([w for layer in self.weight_layers()
                          if layer.weights
                          for w in kmodel.get_layer(layer.name).get_weights()])

    def save(self, filepath, overwrite=True):
        """Saves the model as a Keras ``.keras`` file;
        ``spiDNN.load_model`` (or ``keras.models.load_model``) reads it."""
        self.to_keras().save(filepath, overwrite=overwrite)

    def summary(self, print_fn=print):
        """Prints each layer's output shape and parameters, as Keras'
        summary does, with its cores and the packets they send per
        predicted sample; a model's several outputs; then the chips (and
        returns the text)."""
        rows = [(f"{one.name} (Input)", str((None,) + one.output_shape), 0,
                 0, one.units) for one in self.inputs]
        rows += [layer.summary_row(
            self.plan.layer(layer.name).n_cores
            if layer.takes_cores and self.plan is not None else 0)
            for layer in self.layers]
        header = ("Layer (type)", "Output Shape", "Param #", "Cores",
                  "Packets/sample")
        if self.functional:
            # As Keras' summary of a functional model: each layer's inputs.
            header += ("Connected to",)
            n = len(self.inputs)
            rows = [row + ("-",) for row in rows[:n]] + [
                row + (", ".join(source.name for source in layer.inbound),)
                for row, layer in zip(rows[n:], self.layers)]
        widths = [max(len(str(row[i])) for row in rows + [header]) + 2
                  for i in range(len(header))]
        lines = ["".join(str(v).ljust(w) for v, w in zip(header, widths))]
        lines += ["".join(str(v).ljust(w) for v, w in zip(row, widths))
                  for row in rows]
        total = self.count_params()
        cores = self.cores_needed()
        if len(self.outputs) > 1:
            lines.append("Outputs (each with a loss core, training): " + (
                ", ".join(name if name == layer.name else f"{name}: "
                          f"{layer.name}" for name, layer in zip(
                              self.output_names, self.outputs))))
        lines += [f"Total params: {total}",
                  f"Cores: {cores} (with the input source and the output "
                  f"gatherer), on at least "
                  f"{math.ceil(cores / APP_CORES_PER_CHIP)} chip(s)"]
        if self.plan is not None:
            lines += self.plan.lines()
        text = "\n".join(lines)
        if print_fn is not None:
            print_fn(text)
        return text


def _check_logits(nodes, outputs):
    """An output whose loss takes its logits (Keras' cross-entropies after
    a softmax or sigmoid) has its cores send z: they cannot also send
    their activations to other layers, or to another output's loss."""
    for node in nodes:
        mine = [outputs[index] for index in node.output_indices]
        takes = [output for output in mine if output.sends_logits]
        if takes and (node.uses or len(takes) != len(mine)):
            others = [c.layer.name for c in node.consumers] + [
                repr(output.name) for output in mine
                if not output.sends_logits]
            raise SpiDNNConfigurationError(
                f"{node.layer.name}: the {takes[0].loss} of output "
                f"{takes[0].name or node.layer.name!r} is taken from its "
                f"{node.layer.activation}'s logits, as Keras does, but it "
                f"feeds {', '.join(others)} too, which take its "
                f"activations: spiDNN's cores send one of the two; make the "
                f"output a layer of its own, or use another loss")


def _input_rows(x, model_input, what):
    """One Input's samples as float32 rows (n_samples, its elements)."""
    array = numeric_array(x, what)
    shape = model_input.output_shape
    n_inputs = model_input.units
    if array.ndim >= 1 and array.shape[1:] == shape:
        array = array.reshape(len(array), n_inputs)
    if array.ndim != 2 or array.shape[1] != n_inputs:
        expected = (f"(n_samples, {', '.join(map(str, shape))})"
                    + (f" or (n_samples, {n_inputs})"
                       if len(shape) > 1 else ""))
        raise SpiDNNConfigurationError(
            f"{what} must have shape {expected}, got {array.shape}")
    if len(array) == 0:
        raise SpiDNNConfigurationError(f"{what} hold no samples")
    check_finite(array, what)
    return numpy.ascontiguousarray(array.astype(numpy.float32))


def _split_validation(x, y, validation_data, validation_split,
                      sample_weight=None):
    """(x, y, validation_data, sample_weight) with Keras'
    ``validation_split``: the last ``floor(n * split)`` samples, before
    any shuffling, validate (with their sample weights, as Keras)."""
    if isinstance(validation_split, bool) or not (
            isinstance(validation_split, (int, float))
            and 0 <= validation_split < 1):
        raise SpiDNNConfigurationError(
            f"validation_split must be in [0, 1), not {validation_split!r}")
    if not validation_split or validation_data is not None:
        return x, y, validation_data, sample_weight
    x = numpy.asarray(x)
    parts = y if isinstance(y, list) else None   # several outputs' labels
    y = [numpy.asarray(part) for part in parts] if parts is not None else (
        numpy.asarray(y))
    n = len(x)
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at in (0, n):
        raise SpiDNNConfigurationError(
            f"validation_split={validation_split} of {n} samples leaves no "
            f"samples to {'train' if split_at == 0 else 'validate'} on")
    train_w, val_w = _split_weights(sample_weight, split_at)
    if parts is not None:
        return (x[:split_at], [part[:split_at] for part in y],
                (x[split_at:], [part[split_at:] for part in y], val_w),
                train_w)
    return (x[:split_at], y[:split_at], (x[split_at:], y[split_at:], val_w),
            train_w)


def _split_weights(sample_weight, split_at):
    """The (training, validation) parts of fit's sample_weight: an
    array, or a list or dict of them."""
    if sample_weight is None:
        return None, None
    if isinstance(sample_weight, dict):
        return ({k: numpy.asarray(v)[:split_at]
                 for k, v in sample_weight.items()},
                {k: numpy.asarray(v)[split_at:]
                 for k, v in sample_weight.items()})
    if isinstance(sample_weight, (list, tuple)) and sample_weight and (
            numpy.ndim(sample_weight[0]) > 0):
        return ([numpy.asarray(v)[:split_at] for v in sample_weight],
                [numpy.asarray(v)[split_at:] for v in sample_weight])
    array = numpy.asarray(sample_weight)
    return array[:split_at], array[split_at:]
