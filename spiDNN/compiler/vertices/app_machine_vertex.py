"""What every spiDNN core's machine vertex shares: its app, its SDRAM and
the way its data specification is written."""
import numpy

from pacman.model.graphs.machine import MachineVertex
from spinn_front_end_common.abstract_models import (
    AbstractGeneratesDataSpecification, AbstractHasAssociatedBinary)
from spinn_front_end_common.interface.simulation.simulation_utilities import (
    get_simulation_header_array)
from spinn_front_end_common.utilities.constants import (
    SIMULATION_N_BYTES, SYSTEM_BYTES_REQUIREMENT)
from spinn_front_end_common.utilities.utility_objs import ExecutableType

from spiDNN.abi import layouts

#: SDRAM every app core has before its own regions: the system region and
#: its status (control.h), which the host reads.
APP_BASE_BYTES = SYSTEM_BYTES_REQUIREMENT + layouts.CORE_STATUS.n_bytes


class AppMachineVertex(MachineVertex, AbstractHasAssociatedBinary,
                       AbstractGeneratesDataSpecification):
    """A core running the C app ``c_code/<APP_NAME>/``."""

    APP_NAME = None

    def __init__(self, app_vertex, vertex_slice, sdram, label):
        super().__init__(label=label, app_vertex=app_vertex,
                         vertex_slice=vertex_slice)
        self._sdram = sdram

    @property
    def sdram_required(self):
        return self._sdram

    def get_binary_file_name(self):
        return self.APP_NAME + ".aplx"

    def get_binary_start_type(self):
        return ExecutableType.USES_SIMULATION_INTERFACE

    def regions(self):
        """[(name in layouts.REGIONS, uint32 words)] after the system one."""
        raise NotImplementedError

    def generate_data_specification(self, spec, placement):
        regions = [("SYSTEM", get_simulation_header_array(
            self.get_binary_file_name())),
            ("STATUS", numpy.zeros(len(layouts.CORE_STATUS.fields),
                                   dtype=numpy.uint32))] + self.regions()
        for name, words in regions:
            size = SIMULATION_N_BYTES if name == "SYSTEM" else 4 * len(words)
            spec.reserve_memory_region(
                layouts.REGIONS[name], size, label=name.lower())
        for name, words in regions:
            spec.switch_write_focus(layouts.REGIONS[name])
            spec.write_array(numpy.asarray(words).view(_Words))
        spec.end_specification()


class _Words(numpy.ndarray):
    """A region's words, formatted briefly: the data specification keeps
    an f-string of every array it writes for its debug text, and numpy's
    printer took most of the time of writing a model's data (0.6 s of
    0.75 s for MNIST 784-128-10's 131 cores)."""

    def __format__(self, spec):
        return f"<{self.size} words>"


def struct_words(packed):
    """A packed parameter struct as the words a region holds."""
    return numpy.frombuffer(packed, dtype="<u4")
