"""A run of the virtual machine behind a board's live I/O: the toolchain's
runner step, as it goes on a board (application_runner), with the machine
in this process and its edge on the loopback (spiDNN/vm/live.py).

The machine is built and its edge listens before the toolchain tells the
database's listeners (each ``LiveEventConnection``) that the database is
ready: they read it and at once point the gatherer's IP tag at themselves,
which the edge answers.  Once they confirm, they are told the run has
started, the edge carries their messages until ``stop_run`` is asked for,
and they are told it stopped.
"""
import threading

from spinn_front_end_common.data import FecDataView

from spiDNN.errors import SpiDNNMachineError
from spiDNN.vm.build import build_virtual_machine
from spiDNN.vm.live import LiveEdge


class LiveRun:
    """The built machine and its listening edge, until ``close``.

    :param simulator: the simulator that mapped the graph
    :param settings: the run's :py:class:`spiDNN.LiveIO`
    """

    def __init__(self, simulator, settings):
        self.vm, core_of = build_virtual_machine(simulator)
        try:
            self.edge = LiveEdge(self.vm, core_of, settings)
        except BaseException:
            self.vm.close()
            raise

    def run(self):
        """Serves the hosts until a stop is asked for (the edge polls the
        flag ``stop_run`` sets); the edge's (sent, dropped) message
        counts."""
        notification = FecDataView.get_notification_protocol()
        edge = self.edge

        def start():
            try:
                notification.wait_for_confirmation()
                notification.send_start_resume_notification()
            except Exception as error:  # pylint: disable=broad-except
                edge.failure = (
                    f"the live I/O host did not confirm it had read the "
                    f"database: {error}")

        starter = threading.Thread(target=start, daemon=True,
                                   name="spiDNN live start")
        starter.start()
        try:
            edge.serve(lambda: not FecDataView.is_no_stop_requested())
        finally:
            starter.join()
            notification.send_stop_pause_notification()
        if edge.failure is not None:
            raise SpiDNNMachineError(f"the live run failed: {edge.failure}")
        return edge.sent, edge.dropped

    def close(self):
        self.edge.close()
        self.vm.close()
