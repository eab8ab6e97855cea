"""The virtual clock's inputs: the fabric's timing and the cost table.

The cost table (``arm_costs.json`` beside this file) is measured on the
ARM build of the apps in an instruction-set emulator by
``python -m spiDNN.calibration.measure``; it gives each app's cycles per
cost point (c_code/common/cost.h) as base + slope * size.  The fabric's
timing is not measurable here; the constants below are the published
orders of magnitude, and say so.
"""
import functools
import json
import os

from spiDNN.errors import SpiDNNInternalError
from spiDNN.vertices import layouts

#: Turn the clock off to run the machine without it (the numbers it
#: computes are the same either way; only the timing is missing).
ENABLED = True

#: Passes the clock times in a run (in training, to the end of that
#: batch and its commit round); the rest run untimed, several times
#: faster (the machine then delivers core by core, c_code/vm/
#: vm_mailbox.c).  The apps' work does not depend on the data, so every
#: pass of a prediction, and every batch of training, takes the same time
#: and the timed ones stand for the rest (spiDNN/vm/timing.py).  0: all.
TIMED_PASSES = 8

TABLE = os.path.join(os.path.dirname(__file__), "arm_costs.json")

#: Picoseconds per second.
PS = 10 ** 12

# A multicast packet's latency through one router.  SpiNNaker's router is
# pipelined and handles a packet per clock; Furber et al., "Overview of
# the SpiNNaker system architecture", IEEE Trans. Computers 62(12), 2013,
# give of the order of 0.1-0.2 us per hop.  Assumed: 0.2 us (not checked
# against a stored copy of the paper here).
HOP_SECONDS = 0.2e-6
# The chip-to-chip links are self-timed 2-of-7 NRZ links of about
# 250 Mbit/s each way (Plana et al., "SpiNNaker: design and implementation
# of a GALS multicore system-on-chip", ACM JETC 7(4), 2011; assumed, as
# above).  A multicast packet is 40 bits (8-bit header, 32-bit key), 72
# with a payload.
LINK_BITS_PER_SECOND = 250e6
PACKET_BITS = 40
PAYLOAD_PACKET_BITS = 72
# How often an input core streams one of the host's values into the
# fabric: 100 cycles a packet (reading SDRAM, one spin1_send_mc_packet).
# Assumed, not measured: the reverse IP tag source is not one of spiDNN's
# apps; the report shows when the sources are the bottleneck.
SOURCE_CYCLES_PER_PACKET = 100
# A chip's SDRAM is shared by its cores' DMA engines: mobile DDR SDRAM
# of about 1 GB/s (Painkras et al., "SpiNNaker: a 1-W 18-core
# system-on-chip for massively-parallel neural network simulation", IEEE
# JSSC 48(8), 2013; assumed, as above).  A transfer's set-up (spin1's
# queue, the DMA controller's registers): 100 cycles, assumed.
SDRAM_BYTES_PER_SECOND = 1e9
DMA_SETUP_CYCLES = 100
# A board waits for the host between batches (the commit needs the
# step's scale): one UDP round trip over the board's Ethernet.  Assumed
# 1 ms; a measured figure belongs to issue 13's live I/O.
HOST_ROUND_TRIP_SECONDS = 1e-3


def cost_table():
    """The measured cost table, as written by the calibration."""
    return _load(TABLE)


@functools.lru_cache(maxsize=None)
def _load(path):
    if not os.path.exists(path):
        raise SpiDNNInternalError(
            f"{path} is missing: measure it with "
            f"`python -m spiDNN.calibration.measure`")
    with open(path) as f:
        return json.load(f)


def clock_hz():
    return cost_table()["clock_hz"]


def _ps(cycles, hz=None):
    return max(0, round(cycles * PS / (hz or clock_hz())))


def cost_lines(app):
    """(base_ps, slope_ps) per cost point of ``app``, then its entries to
    a packet callback and to a queued one (vm_api.h's order)."""
    return _cost_lines(TABLE, app)


@functools.lru_cache(maxsize=None)
def _cost_lines(path, app):
    cycles, hz = _cost_cycles(path, app), _load(path)["clock_hz"]
    lines = [cycles[point] for point in layouts.COST_POINTS]
    lines += [cycles["packet"], cycles["task"]]
    return ([_ps(base, hz) for base, _ in lines],
            [_ps(slope, hz) for _, slope in lines])


def cost_cycles(app):
    """{cost point: (base, slope)} of ``app`` in ARM cycles, with
    ``packet`` and ``task``: its entries to a packet callback and to a
    queued one (slope 0).

    A point the app's measurement never reached takes the same point's
    line from the other apps (a shared piece of code, such as ``send``),
    or costs nothing if no app reached it.
    """
    return _cost_cycles(TABLE, app)


@functools.lru_cache(maxsize=None)
def _cost_cycles(path, app):
    apps = _load(path)["apps"]
    if app not in apps:
        raise SpiDNNInternalError(f"the cost table has no app {app!r}")
    lines = {}
    for point in layouts.COST_POINTS:
        line = apps[app]["points"].get(point) or next(
            (other["points"][point] for other in apps.values()
             if point in other["points"]), None)
        lines[point] = ((line["base_cycles"], line["slope_cycles"]) if line
                        else (0, 0))
    for kind in ("packet", "task"):
        lines[kind] = (apps[app]["entry"][kind]["base_cycles"], 0)
    return lines


def work_cycles(app, work):
    """ARM cycles of ``work`` ([(cost point, calls, size of each)], as a
    vertex's ``work`` states it) on a core running ``app``."""
    lines = cost_cycles(app)
    total = 0.0
    for point, calls, size in work:
        base, slope = lines[point]
        total += calls * (base + slope * size)
    return total


def source_packet_ps():
    """A source core's time between two of the host's packets."""
    return _ps(SOURCE_CYCLES_PER_PACKET)


def start_clock(vm):
    """Turns the clock on in ``vm``, every app core with its app's costs."""
    link_ps = round(PACKET_BITS / LINK_BITS_PER_SECOND * PS)
    payload_ps = round(PAYLOAD_PACKET_BITS / LINK_BITS_PER_SECOND * PS)
    vm.set_clock(round(HOP_SECONDS * PS), link_ps, payload_ps,
                 source_packet_ps(), round(PS / SDRAM_BYTES_PER_SECOND),
                 _ps(DMA_SETUP_CYCLES))
    vm.time_passes(TIMED_PASSES)
    for index, app in vm.core_apps.items():
        vm.set_core_costs(index, *cost_lines(app))
