"""One run of a model: a toolchain session, then the passes on a backend."""
from spiDNN.graph import ModelGraph
from spiDNN.toolchain.session import ToolchainSession


def predict(model, inputs):
    """(outputs, RunReport) of forward passes on the configured machine."""
    with ToolchainSession(n_boards=model.boards_needed()) as session:
        graph = ModelGraph(model, session)
        if session.is_virtual:
            session.map()
            from spiDNN.backends import virtual
            return virtual.predict(graph, session, inputs)
        from spiDNN.backends import board
        return board.predict(graph, session, inputs)
