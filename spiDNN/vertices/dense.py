"""The dense app's vertices: a layer, and a slice of its neurons per core."""
import numpy

from pacman.model.graphs.application import ApplicationVertex
from pacman.model.graphs.machine import MachineVertex
from pacman.model.partitioner_interfaces import LegacyPartitionerAPI
from pacman.model.partitioner_splitters import SplitterFixedLegacy
from pacman.model.resources import ConstantSDRAM
from spinn_front_end_common.abstract_models import (
    AbstractGeneratesDataSpecification, AbstractHasAssociatedBinary)
from spinn_front_end_common.data import FecDataView
from spinn_front_end_common.interface.simulation.simulation_utilities import (
    get_simulation_header_array)
from spinn_front_end_common.utilities.constants import (
    SIMULATION_N_BYTES, SYSTEM_BYTES_REQUIREMENT)
from spinn_front_end_common.utilities.utility_objs import ExecutableType

from spiDNN.vertices import layouts
from spiDNN.vertices.keys import NO_KEY_SPACE, key_space, prefixed

APP_NAME = "dense"
FORWARD = "forward"
SOFTMAX = "softmax"


class DenseVertex(ApplicationVertex, LegacyPartitionerAPI):
    """A Dense layer: ``neurons_per_core`` neurons on each core."""

    def __init__(self, layer, source_vertex):
        """
        :param layer: the :py:class:`spiDNN.layers.Dense` it runs
        :param source_vertex: the application vertex feeding it
        """
        super().__init__(label=layer.name,
                         max_atoms_per_core=layer.neurons_per_core,
                         splitter=SplitterFixedLegacy())
        self.layer = layer
        self.source_vertex = source_vertex

    @property
    def n_atoms(self):
        return self.layer.units

    def get_sdram_used_by_atoms(self, vertex_slice):
        return ConstantSDRAM(
            SYSTEM_BYTES_REQUIREMENT + layouts.DENSE_PARAMS.n_bytes
            + 4 * vertex_slice.n_atoms * (self.layer.n_inputs + 1))

    def create_machine_vertex(self, vertex_slice, sdram, label=None):
        return DenseMachineVertex(self, vertex_slice, sdram, label)


class DenseMachineVertex(MachineVertex, AbstractHasAssociatedBinary,
                         AbstractGeneratesDataSpecification):
    """One core's slice of a Dense layer."""

    def __init__(self, app_vertex, vertex_slice, sdram, label):
        super().__init__(label=label, app_vertex=app_vertex,
                         vertex_slice=vertex_slice)
        self._sdram = sdram

    @property
    def sdram_required(self):
        return self._sdram

    def get_binary_file_name(self):
        return APP_NAME + ".aplx"

    def get_binary_start_type(self):
        return ExecutableType.USES_SIMULATION_INTERFACE

    def params(self):
        """The values of this core's ``dense_params`` struct."""
        layer_vertex = self.app_vertex
        layer = layer_vertex.layer
        routing_infos = FecDataView.get_routing_infos()
        is_softmax = layer.activation == "softmax"
        return layouts.DENSE_PARAMS.pack(
            n_neurons=self.vertex_slice.n_atoms,
            first_neuron=self.vertex_slice.lo_atom,
            activation=layouts.ACTIVATIONS[layer.activation],
            forward_key=routing_infos.get_key_from(self, FORWARD),
            softmax_key=(routing_infos.get_key_from(self, SOFTMAX)
                         if is_softmax else 0),
            **prefixed("input", key_space(
                layer_vertex.source_vertex, FORWARD)),
            **prefixed("peer", key_space(layer_vertex, SOFTMAX)
                       if is_softmax else NO_KEY_SPACE))

    def weights(self):
        """float32 kernel rows (one per neuron) then the biases, as words."""
        layer = self.app_vertex.layer
        neurons = slice(self.vertex_slice.lo_atom,
                        self.vertex_slice.hi_atom + 1)
        kernel = numpy.ascontiguousarray(layer.kernel[:, neurons].T)
        data = numpy.concatenate(
            [kernel.ravel(), layer.bias[neurons]]).astype(numpy.float32)
        return data.view(numpy.uint32)

    def generate_data_specification(self, spec, placement):
        system = get_simulation_header_array(self.get_binary_file_name())
        params = self.params()
        weights = self.weights()
        spec.reserve_memory_region(
            layouts.REGIONS["SYSTEM"], SIMULATION_N_BYTES, label="system")
        spec.reserve_memory_region(
            layouts.REGIONS["PARAMS"], len(params), label="params")
        spec.reserve_memory_region(
            layouts.REGIONS["WEIGHTS"], 4 * len(weights), label="weights")
        spec.switch_write_focus(layouts.REGIONS["SYSTEM"])
        spec.write_array(system)
        spec.switch_write_focus(layouts.REGIONS["PARAMS"])
        spec.write_array(numpy.frombuffer(params, dtype="<u4"))
        spec.switch_write_focus(layouts.REGIONS["WEIGHTS"])
        spec.write_array(weights)
        spec.end_specification()
