"""Running passes on a physical SpiNNaker board through live I/O.

The same graph runs forever on the board; each sample's inputs go in as
payload events to the input source through a ``LiveEventConnection`` and
the outputs come back from the live packet gatherer.  No board can be
reached where spiDNN is developed, so this path is kept thin and is not
covered by the tests.
"""
import queue
import threading
import time

import numpy
from spinn_front_end_common.data import FecDataView
from spinn_front_end_common.utilities.connections import LiveEventConnection
from spinn_utilities.socket_address import SocketAddress

from spiDNN.errors import SpiDNNMachineError
from spiDNN.graph import INPUT_LABEL, OUTPUT_LABEL
from spiDNN.run_report import RunReport

#: Seconds a sample may take on the board before the pass is called stalled.
SAMPLE_TIMEOUT = 10.0


def predict(graph, session, inputs):
    out_label = graph.output_vertex.label
    n_out = graph.output_vertex.n_atoms
    received = queue.Queue()
    outputs = numpy.zeros((len(inputs), n_out), dtype=numpy.float32)
    failure = []
    connection = LiveEventConnection(
        OUTPUT_LABEL, receive_labels=[out_label], send_labels=[INPUT_LABEL],
        local_port=None)
    connection.add_receive_no_time_callback(
        out_label, lambda label, atom, payload: received.put((atom, payload)))

    def stream(label, live_connection):
        try:
            for s, row in enumerate(inputs.view(numpy.uint32)):
                live_connection.send_events_with_payloads(
                    INPUT_LABEL, [(i, int(v)) for i, v in enumerate(row)])
                for _ in range(n_out):
                    atom, payload = received.get(timeout=SAMPLE_TIMEOUT)
                    outputs[s, atom] = numpy.uint32(payload).view(
                        numpy.float32)
        except queue.Empty:
            failure.append(f"sample {s}: the board sent fewer than {n_out} "
                           f"outputs within {SAMPLE_TIMEOUT} s")
        finally:
            session.simulator.stop_run()

    connection.add_start_resume_callback(
        INPUT_LABEL, lambda label, conn: threading.Thread(
            target=stream, args=(label, conn), daemon=True).start())
    FecDataView.add_database_socket_address(
        SocketAddress("localhost", connection.local_port, None))
    start = time.perf_counter()
    try:
        session.map(None)
    finally:
        connection.close()
    seconds = time.perf_counter() - start
    if failure:
        raise SpiDNNMachineError(failure[0])
    cores = sum(len(v.machine_vertices) for v in graph.layer_vertices)
    return outputs, RunReport(
        backend="board", samples=len(inputs), cores=cores, chips=0,
        packets_sent=0, packets_delivered=0, packets_dropped=0,
        max_routing_entries=0, mapping_seconds=session.mapping_seconds,
        machine_seconds=seconds)
