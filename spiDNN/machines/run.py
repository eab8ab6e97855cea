"""One run of a model: a toolchain session, then the passes on the machine
it configures.  The one place that chooses the backend: the toolchain
session says whether the machine speaks live I/O (a board, or the
virtual machine behind live I/O) or is the in-process virtual machine.
"""
import contextlib

from spiDNN.compiler.board_data import BoardData
from spiDNN.compiler.machine_graph import ModelGraph
from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.live_io import LiveIO
from spiDNN.machines.toolchain.session import ToolchainSession
from spiDNN.training.history import History


def _session(model):
    return ToolchainSession(n_boards=model.boards_needed(),
                            live_io=model.live_io)


def predict(model, inputs):
    """(outputs, RunReport) of forward passes on the configured machine."""
    with _session(model) as session:
        graph = ModelGraph(model, session)
        if session.is_live:
            from spiDNN.machines import live
            return live.predict(graph, session, inputs, model.faults)
        from spiDNN.machines import virtual
        return virtual.predict(graph, session, inputs, model.faults)


def fit(model, training, inputs, labels, order, progress, validation,
        callbacks, initial_epoch):
    """Trains ``model`` on the configured machine; its History.  The
    in-process machine runs Keras' loop (spiDNN.training.loop); through
    live I/O the host streams the samples, or the feeder streams them from
    the board's SDRAM (``LiveIO.data_on_board``)."""
    with _session(model) as session:
        if not session.is_live:
            from spiDNN.training import loop
            with _loaded(model, training, session) as machine:
                return loop.fit_on(machine, model, training, inputs, labels,
                                   order, progress, validation, callbacks,
                                   initial_epoch)
        if validation is not None or callbacks or initial_epoch or (
                training.metrics):
            raise SpiDNNConfigurationError(
                "through live I/O (on a board, or live_io=True), fit "
                "takes no validation, callbacks, metrics or initial_epoch "
                "yet; they run on the virtual machine in-process")
        sample_losses, weights, model.last_run = _live_fit(
            model, session, training, inputs, labels, order, progress)
    model._take_weights(weights)
    history = History(training.history_params())
    for epoch_losses in sample_losses:
        history.add_epoch(epoch_losses)
    return history


def _live_fit(model, session, training, inputs, labels, order, progress):
    """(sample losses per epoch, trained weights, RunReport) of training
    through live I/O: with the training set in the board's SDRAM unless
    the model's ``LiveIO`` says otherwise."""
    from spiDNN.machines import live
    if (session.live_io or LiveIO()).data_on_board:
        data = BoardData(inputs, labels, order, training)
        graph = ModelGraph(model, session, training, data)
        return live.fit_from_board(graph, session, data, progress,
                                   model.faults)
    graph = ModelGraph(model, session, training)
    return live.fit(graph, session, inputs, labels, order, progress,
                    model.faults)


def evaluate(model, training, inputs, labels):
    """(losses, metrics) of every sample, and the RunReport, on the
    in-process virtual machine."""
    with _session(model) as session:
        if session.is_live:
            raise SpiDNNConfigurationError(
                "evaluate runs on the virtual machine in-process, not yet "
                "through live I/O (on a board, or live_io=True)")
        with _loaded(model, training, session) as machine:
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
