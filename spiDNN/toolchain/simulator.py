"""The toolchain's simulator object, set up the spiDNN way."""
from spinn_front_end_common.interface.abstract_spinnaker_base import (
    AbstractSpinnakerBase)

from spiDNN.toolchain.config import setup_session_configs


class SpiDNNSimulator(AbstractSpinnakerBase):
    """GFE's simulator with spiDNN's configuration (see ``config``).

    It is the same class the graph front end builds in ``setup()``, minus
    the step that demands a user configuration file.
    """

    def __init__(self, report_folder, binary_folder, n_boards=None):
        self.is_virtual = setup_session_configs(report_folder)
        super().__init__()
        self._data_writer.register_binary_search_path(binary_folder)
        self._data_writer.set_n_required(n_boards, None)
        self._data_writer.set_up_timings(None, None, 1)
