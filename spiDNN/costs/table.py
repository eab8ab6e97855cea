"""The cost table: each app's ARM cycles per cost point
(c_code/common/cost.h) as base + slope * size, measured on the apps' ARM
build in an instruction-set emulator by ``python -m
tools.calibration.measure`` (``arm_costs.json`` beside this file).  The
planner prices plans with it and the virtual clock times callbacks with
it.
"""
import functools
import json
import os

from spiDNN.abi import layouts
from spiDNN.costs.fabric import PS, SOURCE_CYCLES_PER_PACKET
from spiDNN.errors import SpiDNNInternalError

TABLE = os.path.join(os.path.dirname(__file__), "arm_costs.json")


def cost_table():
    """The measured cost table, as written by the calibration."""
    return _load(TABLE)


@functools.lru_cache(maxsize=None)
def _load(path):
    if not os.path.exists(path):
        raise SpiDNNInternalError(
            f"{path} is missing: measure it with "
            f"`python -m tools.calibration.measure`")
    with open(path) as f:
        return json.load(f)


def clock_hz():
    return cost_table()["clock_hz"]


def picoseconds(cycles, hz=None):
    """ARM cycles at the table's clock (or ``hz``) as whole picoseconds."""
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
    return ([picoseconds(base, hz) for base, _ in lines],
            [picoseconds(slope, hz) for _, slope in lines])


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
    return picoseconds(SOURCE_CYCLES_PER_PACKET)
