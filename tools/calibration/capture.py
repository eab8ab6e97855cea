"""What the host build of the apps did in a run on the virtual machine,
kept for the ARM build to replay: every app core's app and SDRAM
regions, its outgoing partitions, and every packet delivered to every
core (control packets and the gatherer's included), in order.

    with Capture() as capture:
        model.fit(...)
    capture.runs   # one Run per machine built

Every core is traced, so the packets a core sent can be read back from
the cores that received them: the reference the ARM build's sends are
checked against (replay.py).
"""
import collections

from spinn_front_end_common.data import FecDataView

from spiDNN.vm import build, clock
from spiDNN.vm.machine import VirtualMachine

#: Deliveries recorded per core; a run that fills it cannot be replayed.
TRACE_CAPACITY = 400_000

#: One core of a run: its vertex's label and its layer's, the app and its
#: regions (None for an edge core), its partitions' (key, mask), the
#: packets the VM counted it sending on each, and the deliveries as
#: (keys, payloads, has_payload) arrays.
Core = collections.namedtuple(
    "Core", "label layer app regions partitions sent_counts deliveries")


class Run:
    """The cores of one machine, by core index."""

    def __init__(self):
        self.cores = {}

    def app_cores(self):
        return {i: c for i, c in self.cores.items() if c.app is not None}

    def complete(self, index):
        """True if the core's trace holds every delivery."""
        return len(self.cores[index].deliveries[0]) < TRACE_CAPACITY


class Capture:
    """Traces every virtual machine built while it is active."""

    def __init__(self):
        self.runs = []

    def __enter__(self):
        self._kept = VirtualMachine.keep_regions, clock.ENABLED
        VirtualMachine.keep_regions = True
        # Without the clock: the run then needs no cost table (this is how
        # the first one is measured) and does not depend on the last one.
        clock.ENABLED = False
        build.on_build.append(self._observe)
        return self

    def __exit__(self, *exc_info):
        build.on_build.remove(self._observe)
        VirtualMachine.keep_regions, clock.ENABLED = self._kept
        return False

    def _observe(self, vm, core_of):
        routing = FecDataView.get_routing_infos()
        vertex_of = {index: vertex for vertex, index in core_of.items()}
        described = {}
        for index, vertex in vertex_of.items():
            vm.trace_core(index, TRACE_CAPACITY)
            partitions = [
                (info.key, info.mask) for info in (
                    routing.get_info_from(vertex, p)
                    for p in sorted(routing.get_partitions_from(vertex)))]
            app, regions = vm.app_regions.get(index, (None, None))
            if app is not None and partitions:
                # The counts cover packets no core received (a partition
                # the machine routes nowhere).
                vm.count_partitions(index, partitions)
            layer = getattr(vertex, "app_vertex", None)
            described[index] = (vertex.label,
                                layer.label if layer is not None else None,
                                app, regions, partitions)
        run = Run()
        self.runs.append(run)

        def harvest():
            # The machine's traces die with it: read them first.
            for index, (label, layer, app, regions,
                        partitions) in described.items():
                counts = (vm.partition_counts(index, len(partitions))
                          if app is not None and partitions else [])
                run.cores[index] = Core(label, layer, app, regions,
                                        partitions, counts, vm.trace(index))
        vm.on_close.append(harvest)
