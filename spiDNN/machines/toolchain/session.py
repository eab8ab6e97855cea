"""One use of the SpiNNaker toolchain, from set-up to stop, leaving nothing.

A session owns a private temporary folder for the toolchain's reports and
databases, builds the graph the caller describes, maps it, and on exit
stops the toolchain and removes the folder, whatever happened.  The
toolchain's Ctrl-C handler and exception hook are the user's again once it
has mapped, and sessions run one at a time (the toolchain's state is
global), so threads that predict at once take turns.
"""
import atexit
import contextlib
import io
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import warnings

from spinn_front_end_common.data import FecDataView
from spinn_utilities.data.utils_data_writer import UtilsDataWriter
from spinn_utilities.log import FormatAdapter

from spiDNN.live_io import LiveIO
from spiDNN.machines.toolchain import mapping_errors, parking
from spiDNN.machines.toolchain.simulator import SpiDNNSimulator
from spiDNN.compiler.vertices import keys

#: Where the .aplx files and host builds live.
BINARIES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "binaries")


#: The toolchain keeps one global state: one session at a time (a thread
#: waits; the thread holding it may open one inside, parking its state).
_ONE_AT_A_TIME = threading.RLock()
#: The sessions open, the innermost last.
_OPEN = []


def quiet_toolchain():
    """The toolchain logs every step at INFO; spiDNN users want warnings."""
    for name in ("spinn_utilities", "spinn_machine", "spinnman", "pacman",
                 "spinn_front_end_common", "spinnaker_graph_front_end",
                 "spiDNN.machines.toolchain"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # It warns that the cfg turned the live I/O database off, which is
    # spiDNN's choice on the virtual machine (toolchain/config.py).
    logging.getLogger("spinn_front_end_common.interface.interface_functions."
                      "database_interface").setLevel(logging.ERROR)


class ToolchainSession:
    """``with ToolchainSession() as s: ...`` maps a graph and cleans up."""

    def __init__(self, n_boards=None, live_io=None):
        self.n_boards = n_boards
        #: A :py:class:`~spiDNN.vm.live.LiveIO`: the virtual machine runs
        #: behind a board's live I/O (None: in-process).
        self.live_io = live_io
        self.folder = None
        self.simulator = None
        self.mapping_seconds = None

    def __enter__(self):
        _ONE_AT_A_TIME.acquire()
        try:
            # Inside another session (a callback of its fit): its state is
            # parked while this one runs.
            self._parked = parking.park() if _OPEN else None
            self._user_handlers = _user_handlers()
            quiet_toolchain()
            self.folder = tempfile.mkdtemp(prefix="spiDNN-")
            try:
                self.simulator = SpiDNNSimulator(
                    self.folder, BINARIES, n_boards=self.n_boards,
                    live_io=self.live_io)
            except BaseException:
                shutil.rmtree(self.folder, ignore_errors=True)
                raise
            finally:
                _restore(self._user_handlers)
        except BaseException:
            if self._parked is not None:
                parking.unpark(self._parked)
            _ONE_AT_A_TIME.release()
            raise
        _OPEN.append(self)
        return self

    @property
    def is_virtual(self):
        return self.simulator.is_virtual

    @property
    def live_settings(self):
        """The run's :py:class:`spiDNN.LiveIO`: the model's, or the
        defaults (a board's live I/O, when the model asked for none)."""
        return self.live_io or LiveIO()

    @property
    def is_live(self):
        """Whether the edge speaks a board's live I/O (a board's always
        does)."""
        return not self.is_virtual or self.live_io is not None

    @staticmethod
    def add_vertex(vertex):
        FecDataView.add_vertex(vertex)

    @staticmethod
    def add_edge(edge, partition_id):
        FecDataView.add_edge(edge, partition_id)

    def map(self, run_time=None):
        """Maps the graph and generates the data specifications.

        On the virtual board this is all ``run`` does; the host then builds
        the virtual machine from what the toolchain produced.
        """
        start = time.perf_counter()
        # The toolchain draws progress bars on stderr for every step.
        try:
            with contextlib.redirect_stderr(io.StringIO()):
                self.simulator.run(run_time)
        except Exception as error:  # pylint: disable=broad-except
            refusal = mapping_errors.explained(error)
            if refusal is None:
                raise
            raise refusal from error
        finally:
            # The toolchain installs its own Ctrl-C handler, which swallows
            # an interrupt: the machine's run is the user's to interrupt.
            _restore(self._user_handlers)
        self.mapping_seconds = time.perf_counter() - start
        if self.simulator.interrupted:
            raise KeyboardInterrupt

    def __exit__(self, exc_type, exc_value, traceback):
        try:
            if self.simulator is not None:
                self.simulator.close_live_run()
                try:
                    with contextlib.redirect_stderr(io.StringIO()):
                        self.simulator.stop()
                except Exception as error:  # pylint: disable=broad-except
                    # After a failure the toolchain may refuse to stop
                    # ("not valid after end"): the failure is the news.
                    # After a run the results are home: its clean-up
                    # failing (a report file gone) must not lose them.
                    if exc_type is None:
                        warnings.warn(
                            f"the SpiNNaker toolchain failed to stop after "
                            f"the run ({type(error).__name__}: {error}); "
                            f"the run's results are kept",
                            RuntimeWarning, stacklevel=2)
        finally:
            _restore(self._user_handlers)
            _OPEN.remove(self)
            # The toolchain asks to write an "errored" flag into its report
            # folder at exit; that folder is about to go.
            atexit.unregister(UtilsDataWriter.write_errored_file)
            # Its log store is a database in that folder, read again at exit.
            FormatAdapter.set_log_store(None)
            keys.clear_cache()
            shutil.rmtree(self.folder, ignore_errors=True)
            if self._parked is not None:
                parking.unpark(self._parked)
            _ONE_AT_A_TIME.release()
        return False


def _user_handlers():
    """The Ctrl-C handler (main thread only) and exception hook in force."""
    in_main = threading.current_thread() is threading.main_thread()
    return (signal.getsignal(signal.SIGINT) if in_main else None,
            sys.excepthook)


def _restore(handlers):
    sigint, excepthook = handlers
    if sigint is not None and (
            threading.current_thread() is threading.main_thread()):
        signal.signal(signal.SIGINT, sigint)
    sys.excepthook = excepthook
