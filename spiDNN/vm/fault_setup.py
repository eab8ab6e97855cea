"""Puts a :py:class:`spiDNN.Faults` into a built virtual machine: its
rules name layers and partitions, the machine wants keys and cores."""
from spinn_front_end_common.data import FecDataView

from spiDNN.compiler.vertices.app_machine_vertex import AppMachineVertex
from spiDNN.errors import SpiDNNConfigurationError


def apply_faults(vm, graph, core_of, faults):
    """Configures ``vm`` (before any pass) with ``faults``."""
    vm.set_faults(faults.seed, faults.drop_rate, faults.delay_rate,
                  faults.max_delay, faults.reinjection)
    routing_infos = FecDataView.get_routing_infos()
    for group, drop in enumerate(faults.drops):
        for machine_vertex in _cores_of(graph, drop.layer):
            partitions = routing_infos.get_partitions_from(machine_vertex)
            if drop.partition not in partitions:
                raise SpiDNNConfigurationError(
                    f"{drop}: {drop.layer} sends on "
                    f"{', '.join(sorted(partitions))}, not "
                    f"{drop.partition!r}")
            info = routing_infos.get_info_from(machine_vertex,
                                               drop.partition)
            vm.add_drop_rule(info.key, info.mask, group, drop.nth)
    for stall in faults.stalls:
        cores = _cores_of(graph, stall.layer)
        if not all(isinstance(core, AppMachineVertex) for core in cores):
            raise SpiDNNConfigurationError(
                f"{stall}: {stall.layer} is the host's source, which runs "
                f"on no core of the machine; stall a layer, the loss or "
                f"the feeder")
        if stall.core >= len(cores):
            raise SpiDNNConfigurationError(
                f"{stall}: {stall.layer} has {len(cores)} core(s)")
        vm.set_stall(core_of[cores[stall.core]], stall.at_packet,
                     2 ** 64 - 1 if stall.duration is None
                     else stall.duration)
    for link in faults.dead_links:
        vm.set_link_down(link.x, link.y, link.link)


def _cores_of(graph, label):
    """The machine vertices of the vertex labelled ``label``, in order."""
    for vertex in graph.app_vertices():
        if vertex.label == label:
            return sorted(vertex.machine_vertices,
                          key=lambda v: v.vertex_slice.lo_atom)
    raise SpiDNNConfigurationError(
        f"no layer or vertex named {label!r} in this run; there are "
        f"{', '.join(v.label for v in graph.app_vertices())}")
