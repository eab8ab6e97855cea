"""Running passes through live I/O: on a SpiNNaker board, or on the
virtual machine's live edge (``spiDNN.Model(live_io=True)``).

The same graph runs until the host stops it.  Each sample's inputs (and,
training, its label) go in as payload events to the sources through a
``LiveEventConnection``; outputs, losses and the trained weights come back
from the live packet gatherer, keyed as on the virtual machine, so they
are decoded by the same code.  The host commits each batch and asks for
the weights at the end on the control source (control.h).

UDP loses messages, so the host counts what it expects back and waits at
most ``LiveIO.timeout`` for each:

- a prediction whose outputs do not all come back is aborted (abort and
  resume in one message) and sent again;
- a commit is one message with its scale and learning rate, so it arrives
  whole or not at all; when the next pass's loss does not come, the host
  sends it again with the same round number, which the cores carry out
  once;
- a weight download that comes back short is asked for again;
- a training pass whose loss still does not come ends the run with an
  error naming what may have been lost (replaying it from the last commit
  needs to know that commit arrived, which nothing on the wire says).
"""
import collections
import queue
import socket
import threading
import time
import warnings

import numpy
from spinn_front_end_common.data import FecDataView
from spinn_front_end_common.utilities.connections import LiveEventConnection
from spinn_utilities.socket_address import SocketAddress

from spiDNN.errors import SpiDNNConfigurationError, SpiDNNMachineError
from spiDNN.compiler.machine_graph import CONTROL_LABEL, INPUT_LABEL, LABELS_LABEL, OUTPUT_LABEL
from spiDNN.training.history import mean_loss
from spiDNN.live_io import LiveIO
from spiDNN.machines.run_report import RunReport
from spiDNN.abi import layouts

#: Bytes of the host's receive buffer: the weights come back in one burst,
#: faster than Python reads them (the kernel caps it at
#: net.core.rmem_max; spinnman asks for 1 MiB).
RECEIVE_BUFFER_BYTES = 16 * 1024 * 1024


class _Lost(Exception):
    """Fewer packets came back than were expected, within the timeout:
    its text is "got of expected"."""


class _Closed(Exception):
    """The run ended (stopped, failed or interrupted) while streaming."""


class _LiveRun:
    """One run: a connection that sends to ``send_labels`` and queues
    every (key, payload) the gatherer forwards for ``receive_labels``;
    ``stream(self)`` runs once the machine starts, and the run stops when
    it returns."""

    def __init__(self, session, send_labels, receive_labels, stream):
        self.session = session
        self.settings = session.live_io or LiveIO()
        self.received = queue.Queue()
        self.failure = []
        self.closed = threading.Event()
        #: Events sent and received, by kind, and the host's resends.
        self.sent = collections.Counter()
        self.got = collections.Counter()
        self.resends = collections.Counter()
        self.started = None
        self.stopped = None
        #: Training with the data on the board: losses lost on the wire, and
        #: seconds from the start to the last loss.
        self.lost_losses = 0
        self.training_seconds = None
        self.connection = LiveEventConnection(
            OUTPUT_LABEL, receive_labels=receive_labels,
            send_labels=send_labels, local_port=None)
        # spinnman keeps the socket to itself; a larger buffer is all that
        # is asked of it.
        self.connection._socket.setsockopt(  # pylint: disable=protected-access
            socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER_BYTES)
        for label in receive_labels:
            # Raw keys: the decoders read them as the VM's gatherer gives
            # them.
            self.connection.add_receive_no_time_callback(
                label, lambda _, key, payload: self.received.put(
                    (key, payload)), translate_key=False)
        self.connection.add_start_resume_callback(
            send_labels[0], lambda label, conn: threading.Thread(
                target=self._guarded, args=(stream,), daemon=True,
                name="spiDNN live stream").start())

    def _guarded(self, stream):
        self.started = time.perf_counter()
        try:
            stream(self)
        except _Closed:
            return
        except SpiDNNMachineError as error:
            self.failure.append(str(error))
        except Exception as error:  # pylint: disable=broad-except
            self.failure.append(f"the host's stream failed: {error!r}")
        self.stopped = time.perf_counter()
        if not self.closed.is_set():
            self.session.simulator.stop_run()

    def send(self, label, words):
        """Events with payloads ``words`` from atoms 0, 1, ... of
        ``label``."""
        self.connection.send_events_with_payloads(
            label, [(i, int(w)) for i, w in enumerate(words)])
        self.sent[label] += len(words)

    def command(self, *commands):
        """Control commands [(name, payload)] in one message, so that they
        arrive together or not at all."""
        self.connection.send_events_with_payloads(
            CONTROL_LABEL, [(layouts.CONTROLS[name], int(payload))
                            for name, payload in commands])
        self.sent[CONTROL_LABEL] += len(commands)

    def take(self, n, kind):
        """The next ``n`` packets, as two uint32 arrays; :py:class:`_Lost`
        when the timeout passes first."""
        packets = []
        deadline = time.perf_counter() + self.settings.timeout
        while len(packets) < n:
            try:
                packets.append(self.next_packet(deadline))
            except _Lost:
                self.got[kind] += len(packets)
                raise _Lost(f"{len(packets)} of {n}") from None
        self.got[kind] += n
        return (numpy.array([k for k, _ in packets], dtype=numpy.uint32),
                numpy.array([p for _, p in packets], dtype=numpy.uint32))

    def next_packet(self, deadline=None):
        """The next (key, payload); :py:class:`_Lost` when none comes by
        ``deadline`` (by default, the timeout from now)."""
        if deadline is None:
            deadline = time.perf_counter() + self.settings.timeout
        while True:
            if self.closed.is_set():
                raise _Closed()
            try:
                return self.received.get(timeout=min(
                    0.05, max(deadline - time.perf_counter(), 0.0)))
            except queue.Empty:
                if time.perf_counter() >= deadline:
                    raise _Lost() from None

    def drain(self):
        """Forgets packets that came back late."""
        while True:
            try:
                self.received.get_nowait()
            except queue.Empty:
                return

    def run(self):
        """Maps and runs until the stream ends; its seconds."""
        FecDataView.add_database_socket_address(
            SocketAddress("localhost", self.connection.local_port, None))
        try:
            self.session.map(None)
        finally:
            self.closed.set()
            self.connection.close()
        if self.failure:
            raise SpiDNNMachineError(self.failure[0] + self._edge_drops())
        return (self.stopped or time.perf_counter()) - (
            self.started or time.perf_counter())

    def _edge_drops(self):
        counts = self.session.simulator.live_counts
        if not counts or not counts[1]:
            return ""
        return " (the virtual machine's edge dropped " + ", ".join(
            f"{n} {kind} message(s)" for kind, n in counts[1].items()) + ")"

    def host_link(self):
        counts = self.session.simulator.live_counts
        link = {"sent": dict(self.sent), "received": dict(self.got),
                "resends": dict(self.resends)}
        if self.training_seconds is not None:
            link["training_seconds"] = self.training_seconds
        if counts is not None:
            link["edge_messages"] = dict(counts[0])
            link["edge_dropped"] = dict(counts[1])
        return link


def _check_no_faults(faults):
    if faults is not None:
        raise SpiDNNConfigurationError(
            "faults are injected in the in-process virtual machine only; "
            "through live I/O, spiDNN.LiveIO(drop=...) loses messages on "
            "the wire")


def _check_one_source_core(graph):
    """A LiveEventConnection sends all of a label's events to its first
    core."""
    if len(graph.input_vertex.machine_vertices) > 1:
        raise SpiDNNConfigurationError(
            "live I/O sends a source's events to its first core; a first "
            "layer split by inputs_per_core needs the input on several")


def predict(graph, session, inputs, faults=None):
    _check_no_faults(faults)
    n_out = graph.output_vertex.n_atoms
    outputs = numpy.zeros((len(inputs), n_out), dtype=numpy.float32)
    rounds = iter(range(1, 2 ** 32))

    def stream(live):
        _check_one_source_core(graph)
        retries = live.settings.retries
        for s, row in enumerate(inputs.view(numpy.uint32)):
            for attempt in range(retries + 1):
                live.send(INPUT_LABEL, row)
                try:
                    keys, payloads = live.take(n_out, "output")
                    break
                except _Lost as lost:
                    if attempt == retries:
                        raise SpiDNNMachineError(
                            f"sample {s}: {lost} outputs came back, "
                            f"{retries + 1} time(s); its input or output "
                            f"messages were lost on the wire") from None
                    # Cores may hold part of its inputs: forget them.
                    live.resends["input"] += 1
                    live.drain()
                    live.command(("abort", next(rounds)),
                                 ("resume", next(rounds)))
            outputs[s] = graph.decode_outputs(keys[None], payloads[None])[0]

    live = _LiveRun(session, [INPUT_LABEL, CONTROL_LABEL],
                    [graph.output_vertex.label], stream)
    seconds = live.run()
    return outputs, _report(graph, session, len(inputs), seconds, live)


def fit(graph, session, inputs, labels, order, progress, faults=None):
    """Trains one sample at a time, each sent once the previous one's
    loss is back (the cores buffer the next inputs while their backward
    pass finishes), a commit after each batch."""
    _check_no_faults(faults)
    n_epochs, n = order.n_epochs, order.n_samples
    training = graph.training
    # Steps go on from where the optimizer's state left them.
    step = training.initial_step
    rounds = iter(range(1, 2 ** 32))
    sample_losses = [numpy.empty(n, dtype=numpy.float32)
                     for _ in range(n_epochs)]
    weights = []

    def stream(live):
        _check_one_source_core(graph)
        loss_key = graph.loss_key()
        rows = inputs.view(numpy.uint32)
        nonlocal step
        commit = None
        for epoch in range(n_epochs):
            progress.start_epoch(epoch)
            for i, s in enumerate(order(epoch)):
                live.send(INPUT_LABEL, rows[s])
                live.send(LABELS_LABEL, labels[s])
                keys, payloads = _loss(live, commit, epoch, i)
                commit = None
                if keys[0] != loss_key:
                    raise SpiDNNMachineError(
                        "a training pass sent something other than its loss")
                sample_losses[epoch][i] = payloads.view(numpy.float32)[0]
                if training.ends_batch(i):
                    learning_rate, scale = training.step_values([step])
                    step += 1
                    commit = (
                        ("learning_rate", layouts.float_bits(learning_rate[0])),
                        ("scale", layouts.float_bits(scale[0])),
                        ("commit", next(rounds)))
                    live.command(*commit)
                progress.update(i + 1, mean_loss(sample_losses[epoch][:i + 1]))
            progress.end_epoch({"loss": mean_loss(sample_losses[epoch])})
        weights.extend(_weights(live, graph, rounds, commit))

    receive = [graph.loss_vertex.label] + [
        vertex.label for vertex in graph.vertices_with_weights()]
    live = _LiveRun(session, [INPUT_LABEL, LABELS_LABEL, CONTROL_LABEL],
                    receive, stream)
    seconds = live.run()
    return sample_losses, weights, _report(
        graph, session, n_epochs * n, seconds, live)


def fit_from_board(graph, session, data, progress, faults=None):
    """Trains on the training set the feeder holds on the board
    (:py:class:`~spiDNN.compiler.board_data.BoardData`): the host sends one
    command to start and hears each sample's loss and, at the end, the
    weights the feeder asks the cores for.

    A lost start is sent again while nothing has come back, and lost
    weights are asked for again once nothing has come for the timeout; a
    lost loss message leaves the weights exact but the losses unknown
    (NaN, with a warning); a run that goes quiet before its end ends with
    an error naming how far it came.
    """
    _check_no_faults(faults)
    n_epochs, n = data.n_epochs, data.n_samples
    total = n_epochs * n
    losses = numpy.full(total, numpy.nan, dtype=numpy.float32)
    weights = []
    # The feeder's rounds: its commits 1, 2, ..., then its weight request.
    rounds = iter(range(graph.training.n_batches + 2, 2 ** 32))

    def stream(live):
        loss_key = graph.loss_key()
        n_weights = graph.n_weights()
        got = 0
        running = 0.0           # the epoch's losses so far, for progress
        weight_packets = {}
        live.command(("train", next(rounds)))
        progress.start_epoch(0)
        starts = requests = 0
        while len(weight_packets) < n_weights:
            try:
                key, payload = live.next_packet()
            except _Lost:
                if got == 0 and not weight_packets and (
                        starts < live.settings.retries):
                    # The start may have been lost: the feeder starts once.
                    starts += 1
                    live.resends["train"] += 1
                    live.command(("train", next(rounds)))
                    continue
                if got < total and not weight_packets:
                    raise SpiDNNMachineError(
                        f"training on the board went quiet after {got} of "
                        f"{total} passes: nothing came back for "
                        f"{live.settings.timeout} s (a loss message was "
                        f"lost on the wire, or the machine stalled)"
                    ) from None
                if requests == live.settings.retries:
                    raise SpiDNNMachineError(
                        f"{len(weight_packets)} of {n_weights} weights came "
                        f"back, {requests + 1} time(s): weight messages "
                        f"were lost on the wire") from None
                # Training is over; some weights were lost.
                requests += 1
                live.resends["weights"] += 1
                live.command(("send_weights", next(rounds)))
                continue
            if key != loss_key:
                weight_packets[key] = payload
                continue
            if got == total:
                continue
            losses[got] = numpy.uint32(payload).view(numpy.float32)
            live.training_seconds = time.perf_counter() - live.started
            epoch, i = divmod(got, n)
            running = (running if i else 0.0) + float(losses[got])
            got += 1
            progress.update(i + 1, running / (i + 1))
            if i + 1 == n:
                progress.end_epoch(
                    {"loss": mean_loss(losses[epoch * n:got])})
                if epoch + 1 < n_epochs:
                    progress.start_epoch(epoch + 1)
        live.got["loss"] += got
        live.got["weight"] += len(weight_packets)
        if got < total:
            live.lost_losses = total - got
            losses[:] = numpy.nan
        keys = numpy.fromiter(weight_packets, dtype=numpy.uint32)
        payloads = numpy.fromiter(weight_packets.values(), dtype=numpy.uint32)
        weights.extend(graph.decode_weights(keys, payloads)[0])

    receive = [graph.loss_vertex.label] + [
        vertex.label for vertex in graph.vertices_with_weights()]
    live = _LiveRun(session, [CONTROL_LABEL], receive, stream)
    seconds = live.run()
    if live.lost_losses:
        warnings.warn(
            f"{live.lost_losses} of {total} sample losses were lost on the "
            f"wire: the weights are exact, the losses unknown (NaN)",
            RuntimeWarning, stacklevel=2)
    return list(losses.reshape(n_epochs, n)), weights, _report(
        graph, session, total, seconds, live)


def _loss(live, commit, epoch, i):
    """The loss of the pass just sent.  The batch's commit before it may
    have been lost (the cores then wait for it): it is sent again, as
    often as the settings' ``retries``."""
    retries = live.settings.retries
    for attempt in range(retries + 1 if commit else 1):
        try:
            return live.take(1, "loss")
        except _Lost:
            if commit and attempt < retries:
                live.resends["commit"] += 1
                live.command(*commit)
    after = " or the commit before it" if commit else ""
    raise SpiDNNMachineError(
        f"training stopped at sample {i} of epoch {epoch + 1}: its loss did "
        f"not come back within {live.settings.timeout} s; its input, label "
        f"or loss message{after} was lost on the wire")


def _weights(live, graph, rounds, commit):
    """The trained weights, asked for until they all come back.  The
    request goes with the last batch's commit again (carried out once), in
    case that was lost."""
    retries = live.settings.retries
    n_weights = graph.n_weights()
    for attempt in range(retries + 1):
        live.command(*(commit or ()), ("send_weights", next(rounds)))
        try:
            return graph.decode_weights(*live.take(n_weights, "weight"))[0]
        except _Lost as lost:
            if attempt == retries:
                raise SpiDNNMachineError(
                    f"{lost} weights came back, {retries + 1} time(s): "
                    f"weight messages were lost on the wire") from None
            live.resends["weights"] += 1
            live.drain()


def _report(graph, session, n_samples, seconds, live):
    """What the host can tell without reading the board's counters."""
    cores = sum(len(v.machine_vertices) for v in graph.layer_vertices)
    return RunReport(
        backend="board" if not session.is_virtual else "virtual live I/O",
        samples=n_samples, cores=cores, chips=0,
        packets_sent=0, packets_delivered=0, packets_dropped=0,
        max_routing_entries=0,
        # The toolchain's run step is the whole live run.
        mapping_seconds=max(session.mapping_seconds - seconds, 0.0),
        machine_seconds=seconds,
        packets_per_sample_lower_bound=graph.packets_lower_bound(),
        host_link=live.host_link())
