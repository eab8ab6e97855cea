"""One run of a model: a toolchain session, then the passes on a backend."""
import contextlib

from spiDNN.compiler.board_data import BoardData
from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.compiler.machine_graph import ModelGraph
from spiDNN.live_io import LiveIO
from spiDNN.machines.toolchain.session import ToolchainSession


def _backend(session):
    if session.is_live:
        from spiDNN.machines import live as board
        return board
    from spiDNN.machines import virtual
    return virtual


def _session(model):
    return ToolchainSession(n_boards=model.boards_needed(),
                            live_io=model.live_io)


def predict(model, inputs):
    """(outputs, RunReport) of forward passes on the configured machine."""
    with _session(model) as session:
        graph = ModelGraph(model, session)
        return _backend(session).predict(graph, session, inputs,
                                         model.faults)


def fit(model, training, inputs, labels, order, progress):
    """(sample losses per epoch, trained weights, RunReport) of training
    through live I/O, on a board or the live virtual machine (the
    in-process one trains through :py:func:`training_machine`): with the
    training set in the board's SDRAM unless the model's ``LiveIO`` says
    otherwise."""
    from spiDNN.machines import live as board
    with _session(model) as session:
        if (session.live_io or LiveIO()).data_on_board:
            data = BoardData(inputs, labels, order, training)
            graph = ModelGraph(model, session, training, data)
            return board.fit_from_board(graph, session, data, progress,
                                        model.faults)
        graph = ModelGraph(model, session, training)
        return board.fit(graph, session, inputs, labels, order, progress,
                         model.faults)


@contextlib.contextmanager
def training_machine(model, training):
    """The loaded machine of one ``fit`` or ``evaluate`` (the virtual
    one): :py:class:`~spiDNN.machines.virtual.TrainingMachine`."""
    with ToolchainSession(n_boards=model.boards_needed()) as session:
        if not session.is_virtual:
            raise SpiDNNConfigurationError(
                "validation, callbacks, metrics and evaluate run on the "
                "virtual machine; the board backend trains with fit(x, y) "
                "alone for now")
        from spiDNN.machines import virtual
        graph = ModelGraph(model, session, training)
        session.map()
        with virtual.TrainingMachine(graph, session, model.faults) as machine:
            yield machine
