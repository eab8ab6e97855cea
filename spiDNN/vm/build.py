"""Building the virtual machine from what the toolchain mapped.

Chips and links come from the toolchain's machine, routing tables from
what its loader would write into the routers, cores from the placements,
and each core's SDRAM from the data specification its vertex wrote.
"""
from spinn_front_end_common.data import FecDataView
from spinn_front_end_common.interface.ds import DsSqlliteDatabase
from spinn_front_end_common.utility_models import (
    LivePacketGatherMachineVertex,
    ReverseIPTagMulticastSourceMachineVertex)
from spinn_front_end_common.abstract_models import (
    AbstractHasAssociatedBinary)

from spiDNN.errors import SpiDNNInternalError
from spiDNN.vm.binding import CORE_GATHERER, CORE_SOURCE
from spiDNN.vm.machine import VirtualMachine

#: Called with (machine, core index per vertex) after every machine is
#: built and started: how the calibration finds cores to trace.
on_build = []


def _add_chips(vm, machine):
    for chip in machine.chips:
        vm.add_chip(chip.x, chip.y)
    for chip in machine.chips:
        for link in chip.router.links:
            vm.add_link(chip.x, chip.y, link.source_link_id,
                        link.destination_x, link.destination_y)


def _add_routes(vm, tables):
    for table in tables.routing_tables:
        entries = list(table.multicast_routing_entries)
        vm.set_routes(table.x, table.y, [e.key for e in entries],
                      [e.mask for e in entries],
                      [e.spinnaker_route for e in entries])


def _app_name(vertex):
    name = vertex.get_binary_file_name()
    return name[:-len(".aplx")] if name.endswith(".aplx") else name


def build_virtual_machine(simulator):
    """A started :py:class:`VirtualMachine` and its core index per vertex."""
    machine = FecDataView.get_machine()
    vm = VirtualMachine(machine.width, machine.height)
    try:
        _add_chips(vm, machine)
        _add_routes(vm, simulator.loaded_routing_tables)
        core_of = {}
        with DsSqlliteDatabase() as ds:
            for placement in FecDataView.iterate_placemements():
                core_of[placement.vertex] = _add_core(
                    vm, ds, placement.vertex, placement.x, placement.y,
                    placement.p)
        vm.start()
        for observer in on_build:
            observer(vm, core_of)
    except BaseException:
        vm.close()
        raise
    return vm, core_of


def _add_core(vm, ds, vertex, x, y, p):
    if isinstance(vertex, ReverseIPTagMulticastSourceMachineVertex):
        return vm.add_edge_core(x, y, p, CORE_SOURCE, vertex.label)
    if isinstance(vertex, LivePacketGatherMachineVertex):
        return vm.add_edge_core(x, y, p, CORE_GATHERER, vertex.label)
    if isinstance(vertex, AbstractHasAssociatedBinary):
        regions = [(region, content) for region, _, content
                   in ds.get_regions_content(x, y, p)]
        return vm.add_app_core(x, y, p, _app_name(vertex), regions,
                               vertex.label)
    raise SpiDNNInternalError(
        f"the virtual machine cannot run {vertex} ({type(vertex).__name__})")
