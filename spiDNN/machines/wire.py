"""The host's side of a live I/O link to a board (or to the virtual
machine's live edge): a ``LiveEventConnection`` that sends events to the
sources and queues what the live packet gatherer forwards, the run it
belongs to, and a run the host drives call by call.

UDP loses messages, so the host counts what it expects back and waits at
most ``LiveIO.timeout`` for each (:py:class:`Lost`).
"""
import collections
import queue
import socket
import threading
import time

import numpy
from spinn_front_end_common.data import FecDataView
from spinn_front_end_common.utilities.connections import LiveEventConnection
from spinn_utilities.socket_address import SocketAddress

from spiDNN.abi import layouts
from spiDNN.compiler.machine_graph import CONTROL_LABEL, OUTPUT_LABEL
from spiDNN.errors import SpiDNNMachineError

#: Bytes of the host's receive buffer: the weights come back in one burst,
#: faster than Python reads them (the kernel caps it at
#: net.core.rmem_max; spinnman asks for 1 MiB).
RECEIVE_BUFFER_BYTES = 16 * 1024 * 1024


class Lost(Exception):
    """Fewer packets came back than were expected, within the timeout:
    its text is "got of expected"."""


class Closed(Exception):
    """The run ended (stopped, failed or interrupted) while streaming."""


class HostLink:
    """One run: a connection that sends to ``send_labels`` and queues
    every (key, payload) the gatherer forwards for ``receive_labels``;
    ``stream(self)`` runs once the machine starts, and the run stops when
    it returns."""

    def __init__(self, session, send_labels, receive_labels, stream):
        self.session = session
        self.settings = session.live_settings
        self.received = queue.Queue()
        self.failure = []
        self.closed = threading.Event()
        #: Set by the host to end the stream at its next wait.
        self.cancelled = threading.Event()
        #: Events sent and received, by kind, and the host's resends.
        self.sent = collections.Counter()
        self.got = collections.Counter()
        self.resends = collections.Counter()
        self.started = None
        self.stopped = None
        #: Training with the data on the board: seconds from the start to
        #: the last loss.
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
        except Closed:
            pass
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
        """The next ``n`` packets, as two uint32 arrays; :py:class:`Lost`
        when the timeout passes first."""
        packets = []
        deadline = time.perf_counter() + self.settings.timeout
        while len(packets) < n:
            try:
                packets.append(self.next_packet(deadline))
            except Lost:
                self.got[kind] += len(packets)
                raise Lost(f"{len(packets)} of {n}") from None
        self.got[kind] += n
        return (numpy.array([k for k, _ in packets], dtype=numpy.uint32),
                numpy.array([p for _, p in packets], dtype=numpy.uint32))

    def take_asking(self, ask, n, kind, resend_kind, failure,
                    before_asking_again=None):
        """The ``n`` packets of ``kind`` that ``ask()`` asks for, asked for
        again (late packets forgotten, ``before_asking_again()`` first) as
        often as the settings' ``retries``; then a SpiDNNMachineError
        whose text is ``failure(lost, times asked)``."""
        retries = self.settings.retries
        for attempt in range(retries + 1):
            ask()
            try:
                return self.take(n, kind)
            except Lost as lost:
                if attempt == retries:
                    raise SpiDNNMachineError(
                        failure(lost, retries + 1)) from None
                self.resends[resend_kind] += 1
                self.drain()
                if before_asking_again is not None:
                    before_asking_again()

    def next_packet(self, deadline=None):
        """The next (key, payload); :py:class:`Lost` when none comes by
        ``deadline`` (by default, the timeout from now)."""
        if deadline is None:
            deadline = time.perf_counter() + self.settings.timeout
        while True:
            if self.closed.is_set() or self.cancelled.is_set():
                raise Closed()
            try:
                return self.received.get(timeout=min(
                    0.05, max(deadline - time.perf_counter(), 0.0)))
            except queue.Empty:
                if time.perf_counter() >= deadline:
                    raise Lost() from None

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
            raise SpiDNNMachineError(self.failure[0] + self.edge_drops())
        return (self.stopped or time.perf_counter()) - (
            self.started or time.perf_counter())

    def edge_drops(self):
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


class _Request:
    """One call the stream thread carries out for the host's thread."""

    def __init__(self, work):
        self.work = work
        self.done = threading.Event()
        self.value = None
        self.error = None


class SteppedRun:
    """A live run that the host drives call by call, as it drives the
    in-process machine: the toolchain's run (mapping, loading, then the
    live run until it is stopped) goes on in a thread of its own, and
    ``call(work)`` has ``work(link)`` carried out on the link's stream
    thread, so that the caller's thread (Keras' loop, its callbacks, a
    Ctrl-C) is free between calls.  ``stop()`` ends the run."""

    def __init__(self, session, send_labels, receive_labels):
        self._requests = queue.Queue()
        self._ready = threading.Event()
        self._ended = threading.Event()
        self._error = None
        #: Seconds from the stream's start to its end.
        self.seconds = None
        self.link = HostLink(session, send_labels, receive_labels,
                             self._serve)
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name="spiDNN live run")
        self._thread.start()
        try:
            self._wait(self._ready)
        except BaseException:
            # Ctrl-C while mapping: the stream ends as soon as it starts.
            self.link.cancelled.set()
            self._requests.put(None)
            self._thread.join()
            raise

    def _run(self):
        try:
            self.seconds = self.link.run()
        except BaseException as error:  # pylint: disable=broad-except
            self._error = error
        finally:
            self._ended.set()
            self._ready.set()

    def _serve(self, link):
        """The stream: the host's calls, one after another, until stop."""
        self._ready.set()
        while True:
            try:
                request = self._requests.get(timeout=0.05)
            except queue.Empty:
                if link.cancelled.is_set():
                    return
                continue
            if request is None:
                return
            try:
                request.value = request.work(link)
            except Closed as closed:
                request.error = closed
                request.done.set()
                return
            except BaseException as error:  # pylint: disable=broad-except
                request.error = error
            request.done.set()

    def _wait(self, event):
        """Waits for ``event``; the run's failure if it ends first."""
        while not event.wait(0.05) and not self._ended.is_set():
            pass
        if not event.is_set() or (
                event is self._ready and self._error is not None):
            self._thread.join()
            raise self._failure()

    def _failure(self):
        if self._error is not None:
            return self._error
        return SpiDNNMachineError("the live run ended before the host's "
                                  "call was carried out")

    def call(self, work):
        """``work(link)``'s result, carried out on the stream thread."""
        if self._ended.is_set():
            raise self._failure()
        request = _Request(work)
        self._requests.put(request)
        try:
            self._wait(request.done)
        except BaseException:
            # Ctrl-C, or the run failed: the stream ends at its next wait.
            self.link.cancelled.set()
            raise
        if isinstance(request.error, Closed):
            raise self._failure()
        if request.error is not None:
            raise request.error
        return request.value

    def stop(self):
        """Ends the stream and the run; raises the run's failure, if any
        (the stream's own failures were raised by ``call``)."""
        if not self._ended.is_set():
            self._requests.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error
