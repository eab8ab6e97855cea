"""Running passes on the virtual SpiNNaker machine."""
import collections
import time

import numpy
from spinn_front_end_common.data import FecDataView

from spiDNN.errors import SpiDNNMachineError
from spiDNN.machines.run_report import RunReport
from spiDNN.abi.partitions import (
    CONTROL, GRADIENT_CHAIN, NORM, PENALTY, WEIGHTS, traffic_of)
from spiDNN.vm import clock, timing
from spiDNN.vm.build import build_virtual_machine
from spiDNN.vm.fault_setup import apply_faults
from spiDNN.vm.host import Host

#: Time units (callbacks) a pass may take per packet delivery it should
#: need, before the host gives up on it (its timeout).
EVENT_BUDGET_FACTOR = 4


def _event_budget(graph, extra=0):
    """The host's timeout for one pass: every delivery its layers expect,
    times a margin."""
    return EVENT_BUDGET_FACTOR * (graph.deliveries_per_sample() + extra) + 1000


def _source_core(core_of, source_vertex):
    return core_of[next(iter(source_vertex.machine_vertices))]


def _input_cores(core_of, graph):
    """The source core of each input element (a core per input block
    when the first layer is split 2-D)."""
    return [core_of[machine_vertex]
            for machine_vertex in graph.input_key_sources()]


def _machine(graph, session, faults):
    """The started machine, its core per vertex, and the host driving it."""
    vm, core_of = build_virtual_machine(session.simulator)
    try:
        if faults is not None:
            apply_faults(vm, graph, core_of, faults)
        elif clock.ENABLED:
            clock.start_clock(vm)
        return vm, core_of, Host(vm, graph, core_of, faults)
    except BaseException:
        vm.close()
        raise


def predict(graph, session, inputs, faults=None):
    """Forward passes of ``inputs`` (float32, (n, n_in)) on the VM: each
    output's values (a list, in the model's order) and the report."""
    session.map()
    return predict_mapped(graph, session, inputs, faults)


def predict_mapped(graph, session, inputs, faults=None):
    """:py:func:`predict` on a fresh machine built from what ``session``
    has mapped (which can build many).

    The passes run a chunk at a time (sized to take about
    PREDICT_CALL_SECONDS), so that Ctrl-C reaches Python between two
    calls into the machine; ``inputs`` may be an iterable of chunks (a
    streamed source's batches)."""
    vm, core_of, host = _machine(graph, session, faults)
    with vm:
        counted = _count_partitions(vm, core_of)
        keys = graph.input_keys()
        sources = _input_cores(core_of, graph)
        budget = _event_budget(graph)
        n_expected = graph.n_output_packets()
        out_keys, out_payloads = [], []
        seconds, done, size = 0.0, 0, PREDICT_FIRST_CHUNK
        for given in _as_chunks(inputs):
            words = numpy.ascontiguousarray(given).view(numpy.uint32)
            lo = 0
            while lo < len(words):
                part = words[lo:lo + size]
                start = time.perf_counter()
                keys_out, payloads_out = host.run(
                    sources, keys, part, n_expected, budget,
                    first_pass=done)
                took = time.perf_counter() - start
                seconds += took
                out_keys.append(keys_out)
                out_payloads.append(payloads_out)
                done += len(part)
                lo += len(part)
                size = _next_chunk(size, len(part), took)
        if not done:
            raise SpiDNNMachineError("predict: the data gave no sample")
        outputs = graph.decode_outputs(numpy.concatenate(out_keys),
                                       numpy.concatenate(out_payloads))
        report = _report(vm, host, session, graph, counted, done, seconds)
    return outputs, report


#: Samples of predict's first call into the machine; then as many as take
#: about PREDICT_CALL_SECONDS (the numbers do not depend on it: each pass
#: stands alone).
PREDICT_FIRST_CHUNK = 16
PREDICT_CALL_SECONDS = 0.1


def _next_chunk(size, ran, seconds):
    """The next call's samples: as many as take PREDICT_CALL_SECONDS at
    the pace of the last call, at most four times as many."""
    if ran < size or seconds <= 0:
        return size
    pace = ran / seconds
    return max(1, min(4 * size, int(pace * PREDICT_CALL_SECONDS)))


def _as_chunks(inputs):
    """An array as one chunk; an iterable of arrays as they come."""
    if isinstance(inputs, numpy.ndarray):
        yield inputs
    else:
        yield from inputs


class TrainingMachine:
    """The machine of one ``fit``, loaded once for all its epochs: train
    chunks of whole batches, evaluate (validation), fetch the weights.

    :param graph: the training :py:class:`~spiDNN.compiler.machine_graph.ModelGraph`,
        mapped by ``session``
    """

    def __init__(self, graph, session, faults=None):
        self.graph = graph
        self.session = session
        self.vm, core_of, self.host = _machine(graph, session, faults)
        try:
            self.counted = _count_partitions(self.vm, core_of)
        except BaseException:
            self.vm.close()
            raise
        self.keys = graph.input_keys() + graph.label_keys()
        self.sources = _input_cores(core_of, graph) + [
            _source_core(core_of, vertex)
            for vertex in graph.label_key_sources()]
        training = graph.training
        self.batch_size = training.batch_size
        #: Samples per call: whole batches (commits fall inside a call).
        self.chunk = training.chunk
        self.budget = _event_budget(graph)
        #: What the loss cores send per sample (TrainingRun.combine's).
        self.result_keys = graph.result_keys()
        #: The optimizer's steps so far (Keras' ``iterations``).
        self.steps = training.initial_step
        self.samples = 0
        self.seconds = 0.0
        self.evaluating = False

    def _passes(self, inputs, labels, rows, commit_after=None,
                commit_args=(), first=0):
        """(total losses, the other logs' columns) of passes of samples
        ``rows``: a pass ends when every loss core has sent its loss and
        metrics (the host waits for all of them)."""
        payloads = numpy.concatenate(
            [inputs.view(numpy.uint32)[rows], labels[rows]], axis=1)
        start = time.perf_counter()
        out_keys, out_payloads = self.host.run(
            self.sources, self.keys, payloads, len(self.result_keys),
            self.budget, commit_after, commit_args, first_pass=first)
        self.seconds += time.perf_counter() - start
        values = out_payloads.view(numpy.float32)
        columns = []
        for key in self.result_keys:
            found = out_keys == key
            if not numpy.all(found.sum(axis=1) == 1):
                raise SpiDNNMachineError(
                    "a pass did not send the host each loss and each of "
                    "its metrics once")
            columns.append(values[found])
        return self.graph.training.combine(numpy.stack(columns, axis=1))

    def _mode(self, evaluating):
        if evaluating != self.evaluating:
            self.host.control("evaluate" if evaluating else "train",
                              self.budget, self.samples)
            self.evaluating = evaluating

    def penalty(self):
        """The weight penalty of the weights on the cores now (0 without
        a regulariser): the regularised cores' parts, asked for."""
        if not self.graph.regularised:
            return numpy.float32(0.0)
        try:
            return self.graph.decode_penalty(*self.host.fetch_penalty(
                self.graph.n_penalty_packets(), self.budget, self.samples))
        except SpiDNNMachineError as error:
            raise SpiDNNMachineError(
                f"training, the weight penalty: {error}") from None

    def end_pass(self, size):
        """The cores' pass ends with the next batch, of ``size`` samples
        (the short last batch of a source of unknown length): a control
        round between batches (control.h's end_pass)."""
        self._mode(False)
        self.host.control("end_pass", self.budget, self.samples,
                          [("last_batch_size", float(size))])

    def train(self, inputs, labels, rows, first, epoch, n_epochs,
              ends_pass=False):
        """Trains on samples ``rows`` (whole batches of the epoch, from its
        sample ``first``; ``ends_pass``: the last ends the cores' pass,
        after end_pass); their (losses, metrics).

        Regularised, a batch at a time: each batch's losses gain the
        penalty of the weights it trains from, which the cores report
        before it (Keras' compute_loss adds the regularisers' penalties
        to the batch's mean loss, and its logged loss is the mean of
        that over the batches, weighted by their sizes: the mean over
        the samples of loss + the batch's penalty)."""
        self._mode(False)
        if not self.graph.regularised:
            return self._train(inputs, labels, rows, first, epoch, n_epochs,
                               ends_pass)
        losses, metrics = [], []
        for lo in range(0, len(rows), self.batch_size):
            penalty = self.penalty()
            batch_losses, batch_metrics = self._train(
                inputs, labels, rows[lo:lo + self.batch_size], first + lo,
                epoch, n_epochs, ends_pass and lo + self.batch_size >= len(
                    rows))
            losses.append(batch_losses + penalty)
            metrics.append(batch_metrics)
        return numpy.concatenate(losses), numpy.concatenate(metrics)

    def _train(self, inputs, labels, rows, first, epoch, n_epochs,
               ends_pass=False):
        training = self.graph.training
        index = numpy.arange(first, first + len(rows))
        commit_after = training.ends_batch(index)
        commit_after[-1] |= ends_pass
        batch = index // self.batch_size - first // self.batch_size
        # The learning rate goes only where weight decay scales by it.
        commit_args = [
            (command, values[batch]) for command, values in
            training.step_commands(
                range(self.steps, self.steps + int(batch[-1]) + 1))
            if command != "learning_rate" or training.optimizer.weight_decay]
        try:
            result = self._passes(inputs, labels, rows, commit_after,
                                  commit_args, first)
        except SpiDNNMachineError as error:
            raise SpiDNNMachineError(
                f"training, epoch {epoch + 1} of {n_epochs}: {error}"
            ) from None
        self.steps += int(batch[-1]) + 1
        self.samples += len(rows)
        return result

    def evaluate(self, inputs, labels, what="evaluating"):
        """(losses, metrics) of every sample, without training."""
        self._mode(True)
        rows = numpy.arange(len(inputs))
        try:
            losses, metrics = self._passes(inputs, labels, rows)
        except SpiDNNMachineError as error:
            raise SpiDNNMachineError(f"{what}: {error}") from None
        if self.graph.regularised:
            # Keras' test step adds the penalty too (of weights that stay).
            losses = losses + self.penalty()
        return losses, metrics

    def weights(self):
        """The weights on the cores now, in Keras' order, and the
        optimizer's state (per kind, shaped the same)."""
        n_weights = self.graph.n_weights()
        try:
            return self.graph.decode_weights(*self.host.fetch_weights(
                n_weights, _event_budget(self.graph, n_weights),
                self.samples))
        except SpiDNNMachineError as error:
            raise SpiDNNMachineError(
                f"training, fetching the weights: {error}") from None

    def report(self):
        return _report(self.vm, self.host, self.session, self.graph,
                       self.counted, max(self.samples, 1), self.seconds)

    def close(self):
        self.vm.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
        return False


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
            name = f"{label}/{traffic_of(partition)}"
            if partition == WEIGHTS:
                weight_packets += sent
            elif partition in (CONTROL, PENALTY):
                # The host's, not the samples': commits (and penalty
                # parts) per batch.
                if n_batches:
                    per_batch[name] += sent
            else:
                per_partition[name] += sent
                if partition in (GRADIENT_CHAIN, NORM):
                    per_batch[name] += sent
    delivered = collections.Counter()
    for core, label in host.core_layers.items():
        delivered[label] += vm.core_stats(core)["received"]
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
        deliveries_per_sample={name: count / n_samples
                               for name, count in sorted(delivered.items())},
        packets_per_sample_lower_bound=graph.packets_lower_bound(),
        packets_per_batch={name: count / n_batches
                           for name, count in sorted(per_batch.items())},
        weight_packets=weight_packets,
        peak_dtcm_bytes=max(vm.core_stats(i)["dtcm_used"]
                            for i in vm.app_cores),
        faults={**vm.fault_counts(), "replays": host.replays,
                "passes_replayed": host.passes_replayed,
                "control_retries": host.control_retries},
        **timing.predict(vm, host.core_layers))
