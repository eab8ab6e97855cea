"""The toolchain's simulator object, set up the spiDNN way."""
import signal
import threading

from spinn_front_end_common.data import FecDataView
from spinn_front_end_common.interface.abstract_spinnaker_base import (
    AbstractSpinnakerBase)

from spiDNN.machines.toolchain.board_binaries import (
    check_board_binaries, use_log_dictionary)
from spiDNN.machines.toolchain.config import setup_session_configs


class SpiDNNSimulator(AbstractSpinnakerBase):
    """GFE's simulator with spiDNN's configuration (see ``config``).

    It is the class the graph front end builds in ``setup()``, minus the
    step that demands a user configuration file, and it keeps the routing
    tables the loader would write to the routers so the virtual machine
    can use exactly those.

    :param live_io: a :py:class:`~spiDNN.vm.live.LiveIO`: on the virtual
        machine, ``run`` runs it behind a board's live I/O (the toolchain's
        runner step, which a virtual board skips), until ``stop_run``
    """

    def __init__(self, report_folder, binary_folder, n_boards=None,
                 live_io=None):
        self.is_virtual = setup_session_configs(
            report_folder, live=live_io is not None)
        if not self.is_virtual:
            check_board_binaries(binary_folder)
            use_log_dictionary(binary_folder)
        self.live_io = live_io
        self.loaded_routing_tables = None
        #: A Ctrl-C that ended a live run (the toolchain's own handling
        #: would exit the process).
        self.interrupted = False
        #: (messages that crossed the wire, messages dropped) by kind.
        self.live_counts = None
        self._live_run = None
        super().__init__()
        self._data_writer.register_binary_search_path(binary_folder)
        self._data_writer.set_n_required(n_boards, None)
        self._data_writer.set_up_timings(None, None, 1)

    def _execute_graph_binary_gatherer(self):
        # The virtual machine runs the apps' host builds, not .aplx files.
        if not self.is_virtual:
            super()._execute_graph_binary_gatherer()

    def _AbstractSpinnakerBase__run_control_c_handler_on(self):
        # The toolchain installs its Ctrl-C handler for each run; a
        # process that ignores SIGINT (nohup, a background job) must go on
        # ignoring it, not be interrupted while mapping.
        if threading.current_thread() is threading.main_thread() and (
                signal.getsignal(signal.SIGINT) is signal.SIG_IGN):
            return
        super()._AbstractSpinnakerBase__run_control_c_handler_on()

    def _execute_load_routing_tables(self, compressed):
        self.loaded_routing_tables = (
            compressed if compressed else FecDataView.get_uncompressed())
        super()._execute_load_routing_tables(compressed)

    def _is_live(self):
        return self.is_virtual and self.live_io is not None

    def _execute_create_notifiaction_protocol(self):
        # The notification tells the hosts the database is ready; they
        # answer at once on the machine's edge, which must listen first.
        if self._is_live() and self._live_run is None:
            from spiDNN.vm.live_run import LiveRun
            self._live_run = LiveRun(self, self.live_io)
        super()._execute_create_notifiaction_protocol()

    def _execute_runner(self, n_sync_steps, run_time):
        if not self._is_live():
            super()._execute_runner(n_sync_steps, run_time)
            return
        try:
            self.live_counts = self._live_run.run()
        except KeyboardInterrupt:
            self.interrupted = True
        finally:
            self.close_live_run()

    def close_live_run(self):
        """Unloads the live run's machine and closes its edge, if open."""
        if self._live_run is not None:
            self._live_run.close()
            self._live_run = None
