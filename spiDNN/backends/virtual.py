"""Running passes on the virtual SpiNNaker machine."""
import time

import numpy

from spiDNN.errors import SpiDNNMachineError
from spiDNN.run_report import RunReport
from spiDNN.vertices.keys import index_of_keys
from spiDNN.vm.build import build_virtual_machine

#: Events a pass may take per packet it should need before it is called a
#: livelock (a pass that never goes quiet).
EVENT_BUDGET_FACTOR = 4


def predict(graph, session, inputs):
    """Forward passes of ``inputs`` (float32, (n, n_in)) on the VM."""
    vm, core_of = build_virtual_machine(session.simulator)
    with vm:
        source = core_of[next(iter(graph.input_vertex.machine_vertices))]
        keys = graph.input_keys()
        space = graph.output_space()
        n_out = space["n_atoms"]
        budget = EVENT_BUDGET_FACTOR * sum(
            layer.n_inputs * layer.units + layer.units * layer.units
            for layer in graph.layers) + 1000
        start = time.perf_counter()
        out_keys, out_payloads = vm.run_samples(
            [source] * len(keys), keys, inputs.view(numpy.uint32), n_out,
            budget)
        seconds = time.perf_counter() - start
        outputs = _decode(space, out_keys, out_payloads)
        report = _report(vm, session, len(inputs), seconds)
    return outputs, report


def _decode(space, out_keys, out_payloads):
    n_samples, n_out = out_keys.shape
    index = index_of_keys(space, out_keys.astype(numpy.int64))
    expected = numpy.arange(n_out)
    if not numpy.array_equal(numpy.sort(index, axis=1),
                             numpy.broadcast_to(expected, index.shape)):
        raise SpiDNNMachineError(
            "the output layer did not send each of its neurons once")
    outputs = numpy.empty((n_samples, n_out), dtype=numpy.float32)
    rows = numpy.arange(n_samples)[:, None]
    outputs[rows, index] = out_payloads.view(numpy.float32)
    return outputs


def _report(vm, session, n_samples, seconds):
    stats = vm.stats()
    chips = {vm.core_locations[i][:2] for i in vm.app_cores}
    return RunReport(
        backend="virtual", samples=n_samples, cores=len(vm.app_cores),
        chips=len(chips), packets_sent=stats["sent"],
        packets_delivered=stats["delivered"],
        packets_dropped=stats["dropped"],
        max_routing_entries=vm.max_routing_entries(),
        mapping_seconds=session.mapping_seconds, machine_seconds=seconds,
        events=stats["events"])
