"""Running passes on the virtual SpiNNaker machine."""
import collections
import time

import numpy
from spinn_front_end_common.data import FecDataView

from spiDNN.errors import SpiDNNMachineError
from spiDNN.history import mean_loss
from spiDNN.run_report import RunReport
from spiDNN.vertices.partitions import CONTROL, GRADIENT_CHAIN, WEIGHTS
from spiDNN.vm.build import build_virtual_machine
from spiDNN.vm.fault_setup import apply_faults
from spiDNN.vm.host import Host

#: Time units (callbacks) a pass may take per packet delivery it should
#: need, before the host gives up on it (its timeout).
EVENT_BUDGET_FACTOR = 4
#: Samples streamed per call into the machine during fit, rounded up to
#: whole batches (progress and the running loss are updated between calls).
FIT_CHUNK = 256


def _event_budget(graph, extra=0):
    """The host's timeout for one pass: every delivery its layers expect,
    times a margin."""
    return EVENT_BUDGET_FACTOR * (graph.deliveries_per_sample() + extra) + 1000


def _source_core(core_of, source_vertex):
    return core_of[next(iter(source_vertex.machine_vertices))]


def _machine(graph, session, faults):
    """The started machine, its core per vertex, and the host driving it."""
    vm, core_of = build_virtual_machine(session.simulator)
    try:
        if faults is not None:
            apply_faults(vm, graph, core_of, faults)
        return vm, core_of, Host(vm, graph, core_of, faults)
    except BaseException:
        vm.close()
        raise


def predict(graph, session, inputs, faults=None):
    """Forward passes of ``inputs`` (float32, (n, n_in)) on the VM."""
    session.map()
    return predict_mapped(graph, session, inputs, faults)


def predict_mapped(graph, session, inputs, faults=None):
    """:py:func:`predict` on a fresh machine built from what ``session``
    has mapped (which can build many)."""
    vm, core_of, host = _machine(graph, session, faults)
    with vm:
        counted = _count_partitions(vm, core_of)
        keys = graph.input_keys()
        start = time.perf_counter()
        out_keys, out_payloads = host.run(
            [_source_core(core_of, graph.input_vertex)] * len(keys), keys,
            inputs.view(numpy.uint32), graph.output_vertex.n_atoms,
            _event_budget(graph))
        seconds = time.perf_counter() - start
        outputs = graph.decode_outputs(out_keys, out_payloads)
        report = _report(vm, host, session, graph, counted, len(inputs),
                         seconds)
    return outputs, report


def fit(graph, session, inputs, labels, order, progress, faults=None):
    """Trains on the VM; returns (sample losses per epoch, weights, report).

    :param inputs: float32 (n, n_in); ``labels``: uint32 words (n, width)
    :param order: :py:class:`~spiDNN.model.EpochOrder`, the sample indices
        of each epoch in the order to train them
    """
    session.map()
    return fit_mapped(graph, session, inputs, labels, order, progress,
                      faults)


def fit_mapped(graph, session, inputs, labels, order, progress,
               faults=None):
    """:py:func:`fit` on a fresh machine built from what ``session`` has
    mapped (which can build many)."""
    vm, core_of, host = _machine(graph, session, faults)
    with vm:
        counted = _count_partitions(vm, core_of)
        input_keys, label_keys = graph.input_keys(), graph.label_keys()
        sources = ([_source_core(core_of, graph.input_vertex)]
                   * len(input_keys)
                   + [_source_core(core_of, graph.labels_vertex)]
                   * len(label_keys))
        n_epochs, n = order.n_epochs, order.n_samples
        batch_size = graph.training.batch_size
        chunk = -(-FIT_CHUNK // batch_size) * batch_size
        # The last pass of each batch: the host commits the update after.
        commit_after = numpy.zeros(n, dtype=bool)
        commit_after[batch_size - 1::batch_size] = True
        commit_after[-1] = True
        # The optimizer's step of each batch, counted over the whole run.
        batches_per_epoch = -(-n // batch_size)
        step_in_epoch = numpy.arange(n) // batch_size
        optimizer = graph.training.optimizer
        budget = _event_budget(graph)
        loss_key = graph.loss_key()
        sample_losses = []
        start = time.perf_counter()
        for epoch in range(n_epochs):
            progress.start_epoch(epoch)
            losses = numpy.empty(n, dtype=numpy.float32)
            epoch_order = order(epoch)
            for first in range(0, n, chunk):
                rows = epoch_order[first:first + chunk]
                payloads = numpy.concatenate(
                    [inputs.view(numpy.uint32)[rows], labels[rows]], axis=1)
                steps = (epoch * batches_per_epoch
                         + step_in_epoch[first:first + len(rows)])
                unique, index = numpy.unique(steps, return_inverse=True)
                scales = numpy.array(
                    [optimizer.step_scale(step) for step in unique],
                    dtype=numpy.float32)[index]
                try:
                    out_keys, out_payloads = host.run(
                        sources, input_keys + label_keys, payloads, 1,
                        budget, commit_after[first:first + len(rows)],
                        scales, first_pass=first)
                except SpiDNNMachineError as error:
                    raise SpiDNNMachineError(
                        f"training, epoch {epoch + 1} of {n_epochs}: "
                        f"{error}") from None
                if not numpy.all(out_keys == loss_key):
                    raise SpiDNNMachineError(
                        "a training pass sent the host something other "
                        "than its loss")
                losses[first:first + len(rows)] = (
                    out_payloads[:, 0].view(numpy.float32))
                progress.update(first + len(rows),
                                mean_loss(losses[:first + len(rows)]))
            progress.end_epoch(mean_loss(losses))
            sample_losses.append(losses)
        seconds = time.perf_counter() - start
        try:
            weights = graph.decode_weights(*host.fetch_weights(
                graph.n_weights(), _event_budget(graph, graph.n_weights()),
                n_epochs * n))
        except SpiDNNMachineError as error:
            raise SpiDNNMachineError(
                f"training, fetching the weights: {error}") from None
        report = _report(vm, host, session, graph, counted, n_epochs * n,
                         seconds)
    return sample_losses, weights, report


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


def _report(vm, host, session, graph, counted, n_samples, seconds):
    stats = vm.stats()
    chips = {vm.core_locations[i][:2] for i in vm.app_cores}
    per_partition = collections.Counter()
    per_batch = collections.Counter()
    n_batches = graph.training.n_batches if graph.training else 0
    weight_packets = 0
    for core, names in counted.items():
        for (label, partition), sent in zip(
                names, vm.partition_counts(core, len(names))):
            name = f"{label}/{partition}"
            if partition == WEIGHTS:
                weight_packets += sent
            elif partition == CONTROL:
                # The host's, not the samples': commits per batch.
                if n_batches:
                    per_batch[name] += sent
            else:
                per_partition[name] += sent
                if partition == GRADIENT_CHAIN:
                    per_batch[name] += sent
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
                            for i in vm.app_cores),
        faults={**vm.fault_counts(), "replays": host.replays,
                "passes_replayed": host.passes_replayed,
                "control_retries": host.control_retries})
