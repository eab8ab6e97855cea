"""One run of a model: a toolchain session, then the passes on the machine
it configures.  The one place that chooses the backend: the toolchain
session says whether the machine speaks live I/O (a board, or the
virtual machine behind live I/O) or is the in-process virtual machine.
"""
import contextlib

import numpy

from spiDNN.compiler.board_data import BoardData
from spiDNN.compiler.machine_graph import ModelGraph
from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.machines.toolchain.session import ToolchainSession
from spiDNN.training.order import EpochOrder


def _session(model):
    return ToolchainSession(n_boards=model.boards_needed(),
                            live_io=model.live_io)


def _refuse_several_outputs_live(model, session, what):
    """Through live I/O the host takes one output layer's values, or one
    loss core's losses (and the feeder paces its passes by that one
    loss): a model of several outputs is refused rather than run with
    only one of them heard."""
    if session.is_live and len(model.outputs) > 1:
        raise SpiDNNConfigurationError(
            f"{what} through live I/O listens to one output layer and one "
            f"loss core (the feeder starts each pass on the loss it "
            f"hears); the model has {len(model.outputs)} outputs "
            f"({', '.join(map(str, model.output_names))}): run it on the "
            f"in-process virtual machine (live_io=False)")


def predict(model, inputs):
    """(each output's values, RunReport) of forward passes on the
    configured machine.

    :param inputs: float32 (n, n_in), or an iterable of such chunks (a
        streamed source's batches), run as they come"""
    with _session(model) as session:
        _refuse_several_outputs_live(model, session, "predict")
        graph = ModelGraph(model, session)
        if session.is_live:
            from spiDNN.machines import live
            if not isinstance(inputs, numpy.ndarray):
                inputs = _joined(inputs)
            return live.predict(graph, session, inputs, model.faults)
        from spiDNN.machines import virtual
        return virtual.predict(graph, session, inputs, model.faults)


def _joined(chunks):
    chunks = list(chunks)
    if not chunks:
        raise SpiDNNConfigurationError("predict: the data gave no batch")
    return numpy.concatenate(chunks)


def _refuse_regularised_live(model, session, what):
    """Through live I/O the host does not yet ask the cores for the weight
    penalty (spiDNN.regularizers), which a regularised model's losses must
    include: refused rather than reported without it."""
    named = [layer.name for layer in model.layers
             if getattr(layer, "regularised", False)]
    if session.is_live and named:
        raise SpiDNNConfigurationError(
            f"{what} through live I/O does not compute the weight penalty "
            f"yet: {', '.join(named)} have a kernel_regularizer or "
            f"bias_regularizer; run on the in-process virtual machine "
            f"(live_io=False) or remove them")


def fit(model, training, inputs, labels, order, progress, validation,
        callbacks, initial_epoch, source=None, steps_per_epoch=None,
        validation_freq=1):
    """Trains ``model`` with Keras' loop (spiDNN.training.loop) on the
    configured machine; its History.

    :param source: a streamed source (spiDNN.training.sources), or None:
        the arrays ``inputs`` and ``labels`` in ``order``
    :param validation: a spiDNN.training.loop.Validation, or None
    """
    from spiDNN.training import loop
    with _session(model) as session:
        _refuse_regularised_live(model, session, "fit")
        _refuse_several_outputs_live(model, session, "fit")
        _refuse_steps_live(session, source, steps_per_epoch, validation,
                           validation_freq)
        whole = (validation.source.inputs, validation.source.labels) if (
            validation is not None and validation.whole) else None
        with _training_machine(model, session, training, inputs, labels,
                               order, whole, callbacks,
                               initial_epoch) as (machine, order):
            if source is None:
                source = loop.array_source(inputs, labels, training, order,
                                           initial_epoch)
            return loop.fit_on(machine, model, training, source, progress,
                               validation, callbacks, initial_epoch,
                               steps_per_epoch, validation_freq)


def _refuse_steps_live(session, source, steps_per_epoch, validation,
                       validation_freq):
    """Through live I/O the data goes to the board before the run (or the
    host streams whole epochs): streamed sources and Keras' steps are
    refused rather than run otherwise."""
    if not session.is_live:
        return
    given = [name for name, used in (
        ("a streamed x (tf.data.Dataset, PyDataset, generator)",
         source is not None),
        ("steps_per_epoch", steps_per_epoch is not None),
        ("validation_steps or a streamed validation_data",
         validation is not None and not validation.whole),
        ("validation_freq", validation_freq != 1)) if used]
    if given:
        raise SpiDNNConfigurationError(
            f"fit through live I/O takes arrays, whole epochs and a "
            f"validation each epoch for now, not {', '.join(given)}: run "
            f"on the in-process virtual machine (live_io=False)")


@contextlib.contextmanager
def _training_machine(model, session, training, inputs, labels, order,
                      validation, callbacks, initial_epoch):
    """The machine loaded for one fit, and the samples' order by epoch:
    the in-process virtual machine, or through live I/O the feeder
    streaming the data from the board's SDRAM (``LiveIO.data_on_board``,
    the default) or the host streaming it."""
    if not session.is_live:
        with _loaded(model, training, session) as machine:
            yield machine, order
        return
    from spiDNN.machines import live
    if session.live_settings.data_on_board:
        if training.takes_weight_sums:
            raise SpiDNNConfigurationError(
                "fit through live I/O with the data on the board: a loss "
                "of reduction='mean_with_sample_weight' with sample "
                "weights divides each batch by its sum of weights, which "
                "the host streams with each sample; stream the samples "
                "from the host (spiDNN.LiveIO(data_on_board=False)) or "
                "run on the in-process virtual machine (live_io=False)")
        data = BoardData(inputs, labels, order, training,
                         validation=validation, first_epoch=initial_epoch)
        graph = ModelGraph(model, session, training, data)
        with live.FeederMachine(
                graph, session, data, model.faults,
                run_ahead=validation is None and not callbacks) as machine:
            yield machine, data.epoch_order
        return
    graph = ModelGraph(model, session, training)
    with live.LiveMachine(graph, session, model.faults) as machine:
        yield machine, order


def evaluate(model, training, inputs, labels):
    """(losses, metrics) of every sample, and the RunReport, on the
    configured machine: through live I/O, the samples on the board, which
    the feeder streams as a validation set."""
    with _session(model) as session:
        _refuse_regularised_live(model, session, "evaluate")
        _refuse_several_outputs_live(model, session, "evaluate")
        if not session.is_live:
            with _loaded(model, training, session) as machine:
                losses, metrics = machine.evaluate(inputs, labels)
                return losses, metrics, machine.report()
        if not session.live_settings.data_on_board:
            raise SpiDNNConfigurationError(
                "evaluate through live I/O needs the data on the board "
                "(spiDNN.LiveIO(data_on_board=True), the default) for now")
        from spiDNN.machines import live
        data = BoardData(inputs[:0], labels[:0], EpochOrder(0, 1), training,
                         validation=(inputs, labels))
        graph = ModelGraph(model, session, training, data)
        with live.FeederMachine(graph, session, data,
                                model.faults) as machine:
            losses, metrics = machine.evaluate(inputs, labels)
            return losses, metrics, machine.report()


def evaluate_batches(model, training, batches):
    """(losses, metrics, batch sizes, RunReport) of a streamed source's
    ``batches`` on the in-process virtual machine, a chunk at a time."""
    from spiDNN.training import loop
    with _session(model) as session:
        if session.is_live:
            raise SpiDNNConfigurationError(
                "evaluate through live I/O takes arrays for now, not a "
                "tf.data.Dataset, PyDataset or generator: run on the "
                "in-process virtual machine (live_io=False)")
        with _loaded(model, training, session) as machine:
            losses, metrics, sizes = loop.evaluate_batches(
                machine, batches, training.chunk)
            return losses, metrics, sizes, machine.report()


@contextlib.contextmanager
def _loaded(model, training, session):
    """The in-process virtual machine loaded for one ``fit`` or
    ``evaluate``: :py:class:`~spiDNN.machines.virtual.TrainingMachine`."""
    from spiDNN.machines import virtual
    graph = ModelGraph(model, session, training)
    session.map()
    with virtual.TrainingMachine(graph, session, model.faults) as machine:
        yield machine
