"""The loss app's vertex: one core between an output layer and the host
(a model of several outputs has one per output)."""
from pacman.model.graphs.application import ApplicationVertex
from pacman.model.partitioner_interfaces import LegacyPartitionerAPI
from pacman.model.partitioner_splitters import SplitterFixedLegacy
from pacman.model.resources import ConstantSDRAM
from spinn_front_end_common.abstract_models import HasCustomAtomKeyMap
from spinn_front_end_common.data import FecDataView

from spiDNN import losses
from spiDNN.abi import layouts
from spiDNN.compiler.vertices.app_machine_vertex import (
    APP_BASE_BYTES, AppMachineVertex, struct_words)
from spiDNN.compiler.vertices.keys import key_space, prefixed
from spiDNN.abi.partitions import BACKWARD, CONTROL, FORWARD, LOSS

LABEL = "loss"


def loss_label(output):
    """The loss vertex's label: ``loss``, or with several outputs
    ``loss_<output>``."""
    return LABEL if output.name is None else f"{LABEL}_{output.name}"


def loss_dtcm_bytes(output):
    """DTCM loss.c allocates for ``output`` (an OutputLoss): its values,
    a label (with the sample weight), the gradient and, smoothing, a
    smoothed label; the metrics' outputs from z (sends_logits), the
    hinge metrics' labels."""
    n = output.n_outputs
    smoothing = losses.smoothing_fields(output.loss, n) is not None
    quantities = set(output.quantities)
    extra = int(bool(quantities) and output.sends_logits) + int(bool(
        quantities & {"loss_hinge", "loss_squared_hinge"}))
    return 4 * ((3 if smoothing else 2) * n + output.label_width
                + extra * n)


class LossVertex(ApplicationVertex, LegacyPartitionerAPI,
                 HasCustomAtomKeyMap):
    """The loss of one output in a training run; its atoms are the
    output's elements."""

    def __init__(self, training, output, output_vertex, labels_vertex,
                 labels_partition=FORWARD):
        """
        :param training: the :py:class:`~spiDNN.training.training_run.TrainingRun`
        :param output: its :py:class:`~spiDNN.training.outputs.OutputLoss`
            of this core's output
        :param output_vertex: the output layer's vertex
        :param labels_vertex: the source streaming the labels
        :param labels_partition: its partition that carries them
        """
        super().__init__(label=loss_label(output),
                         max_atoms_per_core=output.n_outputs,
                         splitter=SplitterFixedLegacy())
        self.training = training
        self.output = output
        self.output_vertex = output_vertex
        self.labels_vertex = labels_vertex
        self.labels_partition = labels_partition
        #: The source of the host's control commands (set by the graph).
        self.control_vertex = None

    @property
    def n_atoms(self):
        return self.output.n_outputs

    def deliveries_per_sample(self):
        """Packets the core receives per sample: the output's values and
        the label."""
        return self.output.n_outputs + self.output.label_width

    @staticmethod
    def work(output):
        """What the loss core of ``output`` (an OutputLoss) runs per
        sample (LayerVertex.work's form)."""
        n, received = output.n_outputs, (
            output.n_outputs + output.label_width)
        return [("packet", received, 0), ("receive", received, 1),
                ("task", 1, 0), (f"loss_{output.loss}", 1, n),
                ("send", 1, n)] + [
            (f"metric_{kind}", 1, n) for kind in output.quantities] + (
            # The metrics' outputs from the z the core takes.
            [(f"output_{layouts.activation_kind(output.output_activation)}",
              1, n)] if output.quantities and output.sends_logits else [])

    def get_sdram_used_by_atoms(self, vertex_slice):
        return ConstantSDRAM(
            APP_BASE_BYTES + layouts.LOSS_PARAMS.n_bytes)

    def create_machine_vertex(self, vertex_slice, sdram, label=None):
        return LossMachineVertex(self, vertex_slice, sdram, label)

    def get_atom_key_map(self, pre_vertex, partition_id, routing_info):
        """The keys of ``loss``: the loss, then each metric (deltas do not
        go to the host)."""
        base = routing_info.get_key_from(pre_vertex, partition_id)
        return [(i, base + i) for i in range(1 + len(layouts.METRICS))]


class LossMachineVertex(AppMachineVertex):

    APP_NAME = "loss"

    def get_n_keys_for_partition(self, partition_id):
        if partition_id == LOSS:
            # The loss, then each metric the cores can compute.
            return 1 + len(layouts.METRICS)
        return super().get_n_keys_for_partition(partition_id)

    def params(self):
        vertex = self.app_vertex
        output = vertex.output
        routing_infos = FecDataView.get_routing_infos()
        return layouts.LOSS_PARAMS.pack(
            **output.loss_fields(),
            loss_weight=output.weight_bits,
            backward_key=routing_infos.get_key_from(self, BACKWARD),
            loss_key=routing_infos.get_key_from(self, LOSS),
            **output.metric_fields(),
            output_activation=layouts.ACTIVATIONS[layouts.activation_kind(
                output.output_activation)],
            **vertex.training.batch_fields(),
            **prefixed("output", key_space(vertex.output_vertex, FORWARD)),
            **prefixed("label", key_space(
                vertex.labels_vertex, vertex.labels_partition)),
            control_key=key_space(vertex.control_vertex, CONTROL)["base"])

    def regions(self):
        return [("PARAMS", struct_words(self.params()))]
