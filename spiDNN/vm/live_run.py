"""A run of the virtual machine behind a board's live I/O: the toolchain's
runner step, as it goes on a board (application_runner), with the machine
in this process and its edge on the loopback (spiDNN/vm/live.py).

The toolchain has already told the database's listeners (each
``LiveEventConnection``) that the database is ready.  While they read it
and point the gatherer's IP tag at themselves, the edge serves them; once
they confirm, they are told the run has started, the edge carries their
messages until ``stop_run`` is asked for, and they are told it stopped.
"""
import threading

from spinn_front_end_common.data import FecDataView

from spiDNN.errors import SpiDNNMachineError
from spiDNN.vm.build import build_virtual_machine
from spiDNN.vm.live import LiveEdge


def run_live(simulator, settings):
    """Runs the mapped graph live until a stop is asked for (the edge
    polls the flag ``stop_run`` sets).

    :param settings: the :py:class:`~spiDNN.vm.live.LiveIO` of the run
    :return: the :py:class:`~spiDNN.vm.live.LiveEdge`'s message counts
    """
    notification = FecDataView.get_notification_protocol()
    vm, core_of = build_virtual_machine(simulator)
    with vm:
        edge = LiveEdge(vm, core_of, settings)
        started = []

        def start():
            try:
                notification.wait_for_confirmation()
                notification.send_start_resume_notification()
            except Exception as error:  # pylint: disable=broad-except
                edge.failure = (
                    f"the live I/O host did not confirm it had read the "
                    f"database: {error}")
            started.append(True)

        starter = threading.Thread(target=start, daemon=True,
                                   name="spiDNN live start")
        starter.start()
        try:
            edge.serve(lambda: not FecDataView.is_no_stop_requested())
        finally:
            edge.close()
            starter.join()
            notification.send_stop_pause_notification()
        if edge.failure is not None:
            raise SpiDNNMachineError(f"the live run failed: {edge.failure}")
    return edge.sent, edge.dropped
