"""Running passes on the virtual SpiNNaker machine."""
import collections
import time

import numpy
from spinn_front_end_common.data import FecDataView

from spiDNN.errors import SpiDNNMachineError
from spiDNN.history import mean_loss
from spiDNN.run_report import RunReport
from spiDNN.vertices.partitions import GRADIENT_CHAIN, WEIGHTS
from spiDNN.vm.build import build_virtual_machine

#: Events a pass may take per packet it should need before it is called a
#: livelock (a pass that never goes quiet).
EVENT_BUDGET_FACTOR = 4
#: Samples streamed per call into the machine during fit (progress and the
#: running loss are updated between calls).
FIT_CHUNK = 256


def _event_budget(graph, extra=0):
    """A bound on the events of one pass: every delivery its layers
    expect, times a margin."""
    return EVENT_BUDGET_FACTOR * (graph.deliveries_per_sample() + extra) + 1000


def _source_core(core_of, source_vertex):
    return core_of[next(iter(source_vertex.machine_vertices))]


def predict(graph, session, inputs):
    """Forward passes of ``inputs`` (float32, (n, n_in)) on the VM."""
    session.map()
    vm, core_of = build_virtual_machine(session.simulator)
    with vm:
        counted = _count_partitions(vm, core_of)
        keys = graph.input_keys()
        start = time.perf_counter()
        out_keys, out_payloads = vm.run_samples(
            [_source_core(core_of, graph.input_vertex)] * len(keys), keys,
            inputs.view(numpy.uint32), graph.output_vertex.n_atoms,
            _event_budget(graph))
        seconds = time.perf_counter() - start
        outputs = graph.decode_outputs(out_keys, out_payloads)
        report = _report(vm, session, graph, counted, len(inputs), seconds)
    return outputs, report


def fit(graph, session, inputs, labels, order, progress):
    """Trains on the VM; returns (sample losses per epoch, weights, report).

    :param inputs: float32 (n, n_in); ``labels``: uint32 words (n, width)
    :param order: :py:class:`~spiDNN.model.EpochOrder`, the sample indices
        of each epoch in the order to train them
    """
    session.map()
    vm, core_of = build_virtual_machine(session.simulator)
    with vm:
        counted = _count_partitions(vm, core_of)
        input_keys, label_keys = graph.input_keys(), graph.label_keys()
        keys = input_keys + label_keys
        sources = ([_source_core(core_of, graph.input_vertex)]
                   * len(input_keys)
                   + [_source_core(core_of, graph.labels_vertex)]
                   * len(label_keys))
        stream = _Stream(vm, graph, sources, keys, inputs, labels)
        n_epochs, n = order.n_epochs, order.n_samples
        sample_losses = []
        start = time.perf_counter()
        for epoch in range(n_epochs):
            progress.start_epoch(epoch)
            losses = numpy.empty(n, dtype=numpy.float32)
            epoch_order = order(epoch)
            for first in range(0, n, FIT_CHUNK):
                rows = epoch_order[first:first + FIT_CHUNK]
                try:
                    losses[first:first + len(rows)] = stream.run(
                        rows, first, last=epoch == n_epochs - 1
                        and first + len(rows) == n)
                except SpiDNNMachineError as error:
                    raise SpiDNNMachineError(
                        f"training, epoch {epoch + 1} of {n_epochs}: "
                        f"{error}") from None
                progress.update(first + len(rows),
                                mean_loss(losses[:first + len(rows)]))
            progress.end_epoch(mean_loss(losses))
            sample_losses.append(losses)
        seconds = time.perf_counter() - start
        weights = graph.decode_weights(*stream.weight_packets)
        report = _report(vm, session, graph, counted, n_epochs * n, seconds)
    return sample_losses, weights, report


class _Stream:
    """Streams training samples in; takes each one's loss (and, after the
    last, the trained weights) from the gatherer."""

    def __init__(self, vm, graph, sources, keys, inputs, labels):
        self.vm = vm
        self.sources = sources
        self.keys = keys
        self.inputs = inputs.view(numpy.uint32)
        self.labels = labels
        self.loss_key = graph.loss_key()
        self.n_weights = graph.n_weights()
        self.budget = _event_budget(graph)
        self.final_budget = _event_budget(graph, self.n_weights)
        self.weight_packets = None

    def _run(self, rows, n_expected, budget, first_pass):
        payloads = numpy.concatenate(
            [self.inputs[rows], self.labels[rows]], axis=1)
        return self.vm.run_samples(self.sources, self.keys, payloads,
                                   n_expected, budget, first_pass)

    def run(self, rows, first, last):
        """The losses of samples ``rows``, the epoch's from ``first`` on;
        ``last``: the run's final ones."""
        losses = []
        body = rows[:-1] if last else rows
        if len(body):
            out_keys, out_payloads = self._run(body, 1, self.budget, first)
            if not numpy.all(out_keys == self.loss_key):
                raise SpiDNNMachineError(
                    "a training pass sent the host something other than "
                    "its loss")
            losses.append(out_payloads[:, 0].view(numpy.float32))
        if last:
            out_keys, out_payloads = self._run(
                rows[-1:], 1 + self.n_weights, self.final_budget,
                first + len(body))
            is_loss = out_keys[0] == self.loss_key
            if numpy.count_nonzero(is_loss) != 1:
                raise SpiDNNMachineError(
                    "the last training pass did not send exactly one loss")
            losses.append(out_payloads[0, is_loss].view(numpy.float32))
            self.weight_packets = (out_keys[0, ~is_loss],
                                   out_payloads[0, ~is_loss])
        return numpy.concatenate(losses)


def _count_partitions(vm, core_of):
    """Asks the VM to count every core's packets by outgoing partition;
    returns {core: [(vertex label, partition id)]}."""
    routing_infos = FecDataView.get_routing_infos()
    counted = {}
    for machine_vertex, core in core_of.items():
        partitions = sorted(routing_infos.get_partitions_from(machine_vertex))
        if not partitions:
            continue
        infos = [routing_infos.get_info_from(machine_vertex, p)
                 for p in partitions]
        vm.count_partitions(core, [(i.key, i.mask) for i in infos])
        label = machine_vertex.app_vertex.label
        counted[core] = [(label, p) for p in partitions]
    return counted


def _report(vm, session, graph, counted, n_samples, seconds):
    stats = vm.stats()
    chips = {vm.core_locations[i][:2] for i in vm.app_cores}
    per_partition = collections.Counter()
    per_batch = collections.Counter()
    weight_packets = 0
    for core, names in counted.items():
        for (label, partition), sent in zip(
                names, vm.partition_counts(core, len(names))):
            if partition == WEIGHTS:
                weight_packets += sent
            else:
                per_partition[f"{label}/{partition}"] += sent
            if partition == GRADIENT_CHAIN:
                per_batch[f"{label}/{partition}"] += sent
    n_batches = graph.training.n_batches if graph.training else 0
    return RunReport(
        backend="virtual", samples=n_samples, cores=len(vm.app_cores),
        chips=len(chips), packets_sent=stats["sent"],
        packets_delivered=stats["delivered"],
        packets_dropped=stats["dropped"],
        max_routing_entries=vm.max_routing_entries(),
        mapping_seconds=session.mapping_seconds, machine_seconds=seconds,
        events=stats["events"],
        packets_per_sample={name: count / n_samples
                            for name, count in sorted(per_partition.items())},
        packets_per_sample_lower_bound=graph.packets_lower_bound(),
        packets_per_batch={name: count / n_batches
                           for name, count in sorted(per_batch.items())},
        weight_packets=weight_packets,
        peak_dtcm_bytes=max(vm.core_stats(i)["dtcm_used"]
                            for i in vm.app_cores))
