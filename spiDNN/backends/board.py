"""Running passes on a physical SpiNNaker board through live I/O.

The same graph runs forever on the board.  Each sample's inputs (and,
training, its label) go in as payload events to the sources through a
``LiveEventConnection``; outputs, losses and the trained weights come back
from the live packet gatherer, keyed as on the virtual machine, so they
are decoded by the same code.  The host commits each batch and asks for
the weights at the end on the control source (control.h); it does not yet
read the cores' status, so a pass that cannot finish ends the run after
``SAMPLE_TIMEOUT`` instead of being replayed as on the virtual machine.
No board can be reached where spiDNN is developed, so this path is kept
thin and is not covered by the tests.
"""
import queue
import threading
import time

import numpy
from spinn_front_end_common.data import FecDataView
from spinn_front_end_common.utilities.connections import LiveEventConnection
from spinn_utilities.socket_address import SocketAddress

from spiDNN.errors import SpiDNNConfigurationError, SpiDNNMachineError
from spiDNN.graph import CONTROL_LABEL, INPUT_LABEL, LABELS_LABEL, OUTPUT_LABEL
from spiDNN.history import mean_loss
from spiDNN.run_report import RunReport
from spiDNN.vertices import layouts

#: Seconds a sample may take on the board before the pass is called stalled.
SAMPLE_TIMEOUT = 10.0


class _LiveRun:
    """One run on the board: a connection that sends to ``send_labels``
    and queues every (key, payload) the gatherer forwards for
    ``receive_labels``; ``stream(connection)`` runs once the board starts,
    and the run stops when it returns."""

    def __init__(self, session, send_labels, receive_labels, stream):
        self.session = session
        self.received = queue.Queue()
        self.failure = []
        self.connection = LiveEventConnection(
            OUTPUT_LABEL, receive_labels=receive_labels,
            send_labels=send_labels, local_port=None)
        for label in receive_labels:
            # Raw keys: the decoders read them as the VM's gatherer gives
            # them.
            self.connection.add_receive_no_time_callback(
                label, lambda _, key, payload: self.received.put(
                    (key, payload)), translate_key=False)
        self.connection.add_start_resume_callback(
            send_labels[0], lambda label, conn: threading.Thread(
                target=self._guarded, args=(stream, conn),
                daemon=True).start())

    def _guarded(self, stream, connection):
        try:
            stream(connection)
        except queue.Empty:
            self.failure.append(
                f"the board sent nothing for {SAMPLE_TIMEOUT} s")
        except SpiDNNMachineError as error:
            self.failure.append(str(error))
        finally:
            self.session.simulator.stop_run()

    def take(self, n):
        """The next ``n`` packets from the board, as two uint32 arrays."""
        packets = [self.received.get(timeout=SAMPLE_TIMEOUT)
                   for _ in range(n)]
        return (numpy.array([k for k, _ in packets], dtype=numpy.uint32),
                numpy.array([p for _, p in packets], dtype=numpy.uint32))

    def run(self):
        FecDataView.add_database_socket_address(
            SocketAddress("localhost", self.connection.local_port, None))
        start = time.perf_counter()
        try:
            self.session.map(None)
        finally:
            self.connection.close()
        seconds = time.perf_counter() - start
        if self.failure:
            raise SpiDNNMachineError(self.failure[0])
        return seconds


def _send(connection, label, words):
    connection.send_events_with_payloads(
        label, [(i, int(w)) for i, w in enumerate(words)])


def _command(connection, command, round_number):
    """A control command (layouts.CONTROLS) with its round number."""
    connection.send_event_with_payload(
        CONTROL_LABEL, layouts.CONTROLS[command], round_number)


def _no_faults(faults):
    if faults is not None:
        raise SpiDNNConfigurationError(
            "faults are injected in the virtual machine only; a board has "
            "its own")


def predict(graph, session, inputs, faults=None):
    _no_faults(faults)
    n_out = graph.output_vertex.n_atoms
    outputs = numpy.zeros((len(inputs), n_out), dtype=numpy.float32)

    def stream(connection):
        for s, row in enumerate(inputs.view(numpy.uint32)):
            _send(connection, INPUT_LABEL, row)
            keys, payloads = live.take(n_out)
            outputs[s] = graph.decode_outputs(keys[None], payloads[None])[0]

    live = _LiveRun(session, [INPUT_LABEL], [graph.output_vertex.label],
                    stream)
    seconds = live.run()
    return outputs, _report(graph, session, len(inputs), seconds)


def fit(graph, session, inputs, labels, order, progress, faults=None):
    """Trains on the board: one sample at a time, each sent once the
    previous one's loss is back (the cores buffer the next inputs while
    their backward pass finishes), a commit after each batch."""
    _no_faults(faults)
    n_epochs, n = order.n_epochs, order.n_samples
    batch_size = graph.training.batch_size
    rounds = iter(range(1, 2 ** 32))
    sample_losses = [numpy.empty(n, dtype=numpy.float32)
                     for _ in range(n_epochs)]
    weights = []

    def stream(connection):
        loss_key = graph.loss_key()
        rows = inputs.view(numpy.uint32)
        for epoch in range(n_epochs):
            progress.start_epoch(epoch)
            for i, s in enumerate(order(epoch)):
                _send(connection, INPUT_LABEL, rows[s])
                _send(connection, LABELS_LABEL, labels[s])
                keys, payloads = live.take(1)
                if keys[0] != loss_key:
                    raise SpiDNNMachineError(
                        "a training pass sent something other than its loss")
                sample_losses[epoch][i] = payloads.view(numpy.float32)[0]
                if (i + 1) % batch_size == 0 or i + 1 == n:
                    step = epoch * -(-n // batch_size) + i // batch_size
                    optimizer = graph.training.optimizer
                    for command, value in (
                            ("learning_rate", optimizer.learning_rate_at(step)),
                            ("scale", optimizer.step_scale(step))):
                        connection.send_event_with_payload(
                            CONTROL_LABEL, layouts.CONTROLS[command],
                            int(numpy.float32(value).view(numpy.uint32)))
                    _command(connection, "commit", next(rounds))
                progress.update(i + 1, mean_loss(sample_losses[epoch][:i + 1]))
            progress.end_epoch({"loss": mean_loss(sample_losses[epoch])})
        _command(connection, "send_weights", next(rounds))
        weights.extend(
            graph.decode_weights(*live.take(graph.n_weights()))[0])

    receive = [graph.loss_vertex.label] + [
        vertex.label for vertex in graph.vertices_with_weights()]
    live = _LiveRun(session, [INPUT_LABEL, LABELS_LABEL, CONTROL_LABEL],
                    receive, stream)
    seconds = live.run()
    return sample_losses, weights, _report(
        graph, session, n_epochs * n, seconds)


def _report(graph, session, n_samples, seconds):
    """What the host can tell without reading the board's counters."""
    cores = sum(len(v.machine_vertices) for v in graph.layer_vertices)
    return RunReport(
        backend="board", samples=n_samples, cores=cores, chips=0,
        packets_sent=0, packets_delivered=0, packets_dropped=0,
        max_routing_entries=0, mapping_seconds=session.mapping_seconds,
        machine_seconds=seconds,
        packets_per_sample_lower_bound=graph.packets_lower_bound())
