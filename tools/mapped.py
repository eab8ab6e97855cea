"""A model mapped once and run many times, each time on a fresh virtual
machine with its own faults: fault campaigns (tests/test_faults.py,
benchmarks/fault_campaign.py) without a toolchain mapping per run."""
import contextlib
import time

import numpy

from spiDNN.training import loop as fitting
from spiDNN import losses, optimizers
from spiDNN.machines import virtual
from spiDNN.compiler.machine_graph import ModelGraph
from spiDNN.training.order import EpochOrder
from spiDNN.training.progress import Progress
from spiDNN.machines.toolchain.session import ToolchainSession
from spiDNN.training.outputs import OutputLoss
from spiDNN.training.training_run import TrainingRun


class MappedModel(contextlib.AbstractContextManager):
    """``with MappedModel(model, x, y, loss=...) as rig: rig.run(faults)``;
    without ``y`` the runs are predictions.

    A run returns a tuple of arrays (outputs; or each epoch's losses then
    the weights) and leaves its report in ``rig.report`` and its time in
    ``rig.seconds``.
    """

    def __init__(self, model, x, y=None, loss=None, epochs=1, batch_size=3,
                 optimizer=None):
        self.model = model
        self.x = numpy.ascontiguousarray(
            numpy.reshape(x, (len(x), -1)), dtype=numpy.float32)
        self.training = None
        self.epochs = epochs
        if y is not None:
            last = model.layers[-1]
            self.training = TrainingRun(
                outputs=(OutputLoss(None, losses.get(loss), last.units,
                                    last.activation),),
                optimizer=optimizers.get(optimizer or optimizers.SGD(0.1)),
                batch_size=batch_size, n_samples=len(x), n_epochs=epochs)
            self.labels = losses.check_labels(
                self.training.outputs[0].loss, y, len(x), last.units)
        self.report = None
        self.seconds = None
        self._stack = contextlib.ExitStack()
        self.session = self._stack.enter_context(ToolchainSession())
        try:
            model.check_fits(self.training)
            self.graph = ModelGraph(model, self.session, self.training)
            self.session.map()
        except BaseException:
            self._stack.close()
            raise

    def run(self, faults=None):
        start = time.perf_counter()
        try:
            if self.training is None:
                outputs, self.report = virtual.predict_mapped(
                    self.graph, self.session, self.x, faults)
                return tuple(outputs)     # each output's
            with virtual.TrainingMachine(
                    self.graph, self.session, faults) as machine:
                history = fitting.fit_on(
                    machine, self.model, self.graph.training,
                    fitting.array_source(
                        self.x, self.labels, self.graph.training,
                        EpochOrder(len(self.x), self.epochs)),
                    Progress(0, self.epochs, len(self.x)))
            self.report = self.model.last_run
            return (tuple(history.sample_losses)
                    + tuple(self.model.get_weights()))
        finally:
            self.seconds = time.perf_counter() - start

    def __exit__(self, *exc_info):
        self._stack.close()
        return False


def identical(a, b):
    """Two runs' arrays equal bit for bit."""
    return len(a) == len(b) and all(
        x.shape == y.shape and x.tobytes() == y.tobytes()
        for x, y in zip(a, b))
