"""The dense app's vertices: a layer, and a slice of its neurons per core."""
import numpy

from pacman.model.graphs.application import ApplicationVertex
from pacman.model.partitioner_interfaces import LegacyPartitionerAPI
from pacman.model.partitioner_splitters import SplitterFixedLegacy
from pacman.model.resources import ConstantSDRAM
from pacman.utilities.utility_calls import get_keys
from spinn_front_end_common.abstract_models import HasCustomAtomKeyMap
from spinn_front_end_common.data import FecDataView
from spinn_front_end_common.utilities.constants import (
    SYSTEM_BYTES_REQUIREMENT)

from spiDNN.vertices import layouts
from spiDNN.vertices.app_machine_vertex import AppMachineVertex, struct_words
from spiDNN.vertices.keys import NO_KEY_SPACE, key_space, prefixed
from spiDNN.vertices.partitions import (
    BACKWARD, FORWARD, SOFTMAX, SOFTMAX_BACKWARD, WEIGHTS)


class DenseVertex(ApplicationVertex, LegacyPartitionerAPI,
                  HasCustomAtomKeyMap):
    """A Dense layer: ``neurons_per_core`` neurons on each core."""

    def __init__(self, layer, source_vertex, training=None, next_layer=None,
                 is_first=True):
        """
        :param layer: the :py:class:`spiDNN.layers.Dense` it runs
        :param source_vertex: the application vertex feeding it
        :param training: the :py:class:`~spiDNN.training.TrainingRun`, or
            None to run forward passes only
        :param next_layer: the layer after it (None for the output layer)
        :param is_first: whether its inputs are the model's inputs
        """
        super().__init__(label=layer.name,
                         max_atoms_per_core=layer.neurons_per_core,
                         splitter=SplitterFixedLegacy())
        self.layer = layer
        self.source_vertex = source_vertex
        self.training = training
        self.next_layer = next_layer
        self.is_first = is_first
        #: Where the deltas come from: the next layer's or the loss's
        #: vertex (set by the graph once it exists).
        self.next_vertex = None

    @property
    def n_atoms(self):
        return self.layer.units

    @property
    def is_output(self):
        return self.next_layer is None

    @property
    def sends_logits(self):
        """The output layer hands z to a loss that takes logits."""
        return self.layer.sends_logits(self.training, self.is_output)

    @property
    def exchanges_softmax(self):
        return self.layer.exchanges_softmax(self.training, self.is_output)

    @property
    def sends_backward(self):
        return bool(self.training) and not self.is_first

    @property
    def n_next(self):
        """Deltas a core receives per sample when training."""
        return (self.layer.units if self.is_output
                else self.next_layer.units)

    def get_sdram_used_by_atoms(self, vertex_slice):
        n = vertex_slice.n_atoms
        outgoing = (n * self.n_next
                    if self.training and not self.is_output else 0)
        return ConstantSDRAM(
            SYSTEM_BYTES_REQUIREMENT + layouts.DENSE_PARAMS.n_bytes
            + 4 * (n * (self.layer.n_inputs + 1) + outgoing))

    def create_machine_vertex(self, vertex_slice, sdram, label=None):
        return DenseMachineVertex(self, vertex_slice, sdram, label)

    def get_atom_key_map(self, pre_vertex, partition_id, routing_info):
        """What a board's live connection accepts from the gatherer: every
        weight's key for ``weights``, a key per neuron otherwise."""
        base = routing_info.get_key_from(pre_vertex, partition_id)
        vertex_slice = pre_vertex.vertex_slice
        if partition_id == WEIGHTS:
            per_neuron = self.layer.n_inputs + 1
            first = vertex_slice.lo_atom * per_neuron
            return [(first + i, base + i)
                    for i in range(vertex_slice.n_atoms * per_neuron)]
        return list(enumerate(get_keys(base, vertex_slice),
                              vertex_slice.lo_atom))


class DenseMachineVertex(AppMachineVertex):
    """One core's slice of a Dense layer."""

    APP_NAME = "dense"

    def get_n_keys_for_partition(self, partition_id):
        if partition_id == WEIGHTS:
            # One key per weight: each neuron's kernel row, then its bias.
            return self.vertex_slice.n_atoms * (
                self.app_vertex.layer.n_inputs + 1)
        return super().get_n_keys_for_partition(partition_id)

    def _key(self, partition_id, wanted=True):
        if not wanted:
            return 0
        return FecDataView.get_routing_infos().get_key_from(
            self, partition_id)

    def params(self):
        """The values of this core's ``dense_params`` struct."""
        vertex = self.app_vertex
        layer = vertex.layer
        training = vertex.training
        softmax = vertex.exchanges_softmax
        return layouts.DENSE_PARAMS.pack(
            n_neurons=self.vertex_slice.n_atoms,
            first_neuron=self.vertex_slice.lo_atom,
            activation=layouts.ACTIVATIONS[layer.activation],
            forward_key=self._key(FORWARD),
            softmax_key=self._key(SOFTMAX, softmax),
            **prefixed("input", key_space(vertex.source_vertex, FORWARD)),
            **prefixed("peer", key_space(vertex, SOFTMAX)
                       if softmax else NO_KEY_SPACE),
            training=int(bool(training)),
            sends_logits=int(vertex.sends_logits),
            is_output=int(vertex.is_output),
            sends_backward=int(vertex.sends_backward),
            backward_key=self._key(BACKWARD, vertex.sends_backward),
            softmax_backward_key=self._key(
                SOFTMAX_BACKWARD, bool(training) and softmax),
            weights_key=self._key(WEIGHTS, bool(training)),
            learning_rate=layouts.float_bits(
                training.learning_rate if training else 0.0),
            **(training.batch_fields() if training else
               {"batch_size": 0, "n_samples": 0, "n_epochs": 0}),
            **prefixed("next", key_space(vertex.next_vertex, BACKWARD)
                       if training else NO_KEY_SPACE),
            **prefixed("peer_backward",
                       key_space(vertex, SOFTMAX_BACKWARD)
                       if training and softmax else NO_KEY_SPACE))

    def _rows(self, kernel):
        """This slice's neurons' rows of ``kernel`` as stored (n, n_in)."""
        neurons = slice(self.vertex_slice.lo_atom,
                        self.vertex_slice.hi_atom + 1)
        return numpy.ascontiguousarray(kernel[:, neurons].T)

    def weights(self):
        """float32 kernel rows (one per neuron) then the biases, as words."""
        layer = self.app_vertex.layer
        neurons = slice(self.vertex_slice.lo_atom,
                        self.vertex_slice.hi_atom + 1)
        data = numpy.concatenate(
            [self._rows(layer.kernel).ravel(),
             layer.bias[neurons]]).astype(numpy.float32)
        return data.view(numpy.uint32)

    def outgoing_weights(self):
        """The next layer's kernel rows of this slice's neurons (n, n_next):
        the copy that the backward pass multiplies the deltas by."""
        next_kernel = self.app_vertex.next_layer.kernel
        rows = next_kernel[self.vertex_slice.lo_atom:
                           self.vertex_slice.hi_atom + 1]
        return numpy.ascontiguousarray(rows, dtype=numpy.float32).view(
            numpy.uint32).ravel()

    def regions(self):
        regions = [("PARAMS", struct_words(self.params())),
                   ("WEIGHTS", self.weights())]
        vertex = self.app_vertex
        if vertex.training and not vertex.is_output:
            regions.append(("OUTGOING", self.outgoing_weights()))
        return regions
