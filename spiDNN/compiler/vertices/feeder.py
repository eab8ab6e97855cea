"""The feeder's vertex (``c_code/feeder``): the training set in SDRAM,
streamed by the board itself, a core per shard of the set.

Shard 0, the lead, sends every sample (``forward`` to the first layer,
``labels`` to the loss), the commits and the final weight request, and
carries the host's commands on (``control``): to the apps it is the
control source.  Other shards, on other chips when one chip's SDRAM is
too small, send their samples to the lead (``relay``).  Every shard hears
the loss core's ``loss``, which starts the next pass, and the host's
control.
"""
from pacman.model.graphs.application import ApplicationVertex
from pacman.model.partitioner_interfaces import LegacyPartitionerAPI
from pacman.model.partitioner_splitters import SplitterFixedLegacy
from pacman.model.resources import ConstantSDRAM
from spinn_front_end_common.data import FecDataView

from spiDNN.abi import layouts
from spiDNN.compiler.vertices.app_machine_vertex import (
    APP_BASE_BYTES, AppMachineVertex, struct_words)
from spiDNN.compiler.vertices.keys import NO_KEY_SPACE, key_space
from spiDNN.abi.partitions import (
    CONTROL, FORWARD, LABELS, LOSS, RELAY)

LABEL = "feeder"


class FeederVertex(ApplicationVertex, LegacyPartitionerAPI):
    """A core per shard of a :py:class:`~spiDNN.compiler.board_data.BoardData`.

    :param data: the training set as the board holds it
    :param host_control_vertex: the source of the host's commands
    """

    def __init__(self, data, host_control_vertex):
        super().__init__(label=LABEL, max_atoms_per_core=1,
                         splitter=SplitterFixedLegacy())
        self.data = data
        self.host_control_vertex = host_control_vertex
        #: The loss vertex whose losses pace the stream (set by the graph).
        self.loss_vertex = None

    @property
    def n_atoms(self):
        return len(self.data.shards)

    def key_space_shape(self, partition_id):
        """Each partition's keys number the values one core sends."""
        data = self.data
        return {FORWARD: (data.n_inputs, data.n_inputs),
                LABELS: (data.label_width, data.label_width),
                CONTROL: (len(layouts.CONTROLS), len(layouts.CONTROLS)),
                RELAY: (data.relayed, data.relayed * len(data.shards)),
                }.get(partition_id)

    def cores_sending(self, lo, hi):
        """The cores sending any of inputs [lo, hi): the lead sends them
        all (its atoms are shards of the set, not inputs)."""
        return [v for v in self.machine_vertices if v.shard == 0]

    def get_sdram_used_by_atoms(self, vertex_slice):
        words = sum(len(w) for _, w in self.data.regions(vertex_slice.lo_atom))
        return ConstantSDRAM(
            APP_BASE_BYTES + layouts.FEEDER_PARAMS.n_bytes + 4 * words)

    def create_machine_vertex(self, vertex_slice, sdram, label=None):
        return FeederMachineVertex(self, vertex_slice, sdram, label)


class FeederMachineVertex(AppMachineVertex):

    APP_NAME = "feeder"

    def get_n_keys_for_partition(self, partition_id):
        shape = self.app_vertex.key_space_shape(partition_id)
        if shape is not None:
            return shape[0]
        return super().get_n_keys_for_partition(partition_id)

    @property
    def shard(self):
        return self.vertex_slice.lo_atom

    def params(self):
        vertex = self.app_vertex
        data = vertex.data
        routing_infos = FecDataView.get_routing_infos()
        lead = self.shard == 0
        first, count = data.shards[self.shard]
        loss_machine_vertex = next(iter(vertex.loss_vertex.machine_vertices))
        # A single core has no relay partition.
        sharded = len(data.shards) > 1
        relay = key_space(vertex, RELAY) if sharded else NO_KEY_SPACE

        def key(partition):
            """This core's first key of a partition it sends on (the lead
            sends all but the relay, which only shards have)."""
            sends = sharded if partition == RELAY else lead
            return routing_infos.get_key_from(self, partition) if sends else 0

        return layouts.FEEDER_PARAMS.pack(
            n_inputs=data.n_inputs, label_width=data.label_width,
            n_samples=data.n_samples, n_epochs=data.n_epochs,
            n_validation=data.n_validation,
            n_step_values=data.n_step_values,
            batch_size=data.batch_size, codes=int(data.coded),
            shard_first=first, shard_count=count, lead=int(lead),
            input_key=key(FORWARD), labels_key=key(LABELS),
            control_key=key(CONTROL),
            relay_key=key(RELAY), relay_base=relay["base"],
            relay_atom_bits=relay["atom_bits"],
            relay_n_cores=len(data.shards) if sharded else 0,
            host_control_key=key_space(
                vertex.host_control_vertex, CONTROL)["base"],
            loss_key=routing_infos.get_key_from(loss_machine_vertex, LOSS))

    def regions(self):
        return [("PARAMS", struct_words(self.params()))] + (
            self.app_vertex.data.regions(self.shard))
