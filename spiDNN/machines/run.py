"""One run of a model: a toolchain session, then the passes on the machine
it configures.  The one place that chooses the backend: the toolchain
session says whether the machine speaks live I/O (a board, or the
virtual machine behind live I/O) or is the in-process virtual machine.
"""
import contextlib

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
    configured machine."""
    with _session(model) as session:
        _refuse_several_outputs_live(model, session, "predict")
        graph = ModelGraph(model, session)
        if session.is_live:
            from spiDNN.machines import live
            return live.predict(graph, session, inputs, model.faults)
        from spiDNN.machines import virtual
        return virtual.predict(graph, session, inputs, model.faults)


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
        callbacks, initial_epoch):
    """Trains ``model`` with Keras' loop (spiDNN.training.loop) on the
    configured machine; its History."""
    from spiDNN.training import loop
    with _session(model) as session:
        _refuse_regularised_live(model, session, "fit")
        _refuse_several_outputs_live(model, session, "fit")
        with _training_machine(model, session, training, inputs, labels,
                               order, validation, callbacks,
                               initial_epoch) as (machine, order):
            return loop.fit_on(machine, model, training, inputs, labels,
                               order, progress, validation, callbacks,
                               initial_epoch)


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


@contextlib.contextmanager
def _loaded(model, training, session):
    """The in-process virtual machine loaded for one ``fit`` or
    ``evaluate``: :py:class:`~spiDNN.machines.virtual.TrainingMachine`."""
    from spiDNN.machines import virtual
    graph = ModelGraph(model, session, training)
    session.map()
    with virtual.TrainingMachine(graph, session, model.faults) as machine:
        yield machine
