"""The cost table from measured callbacks: per app, a straight line
base + slope * size per cost point, in instructions and in cycles, by
least squares over the point's segments; the entry cost per kind of
callback; and how well the table predicts measured callbacks.

The VM's cost model (spiDNN/vm/clock.py): a callback costs its kind's
entry plus, for each mark it passes, its point's base + slope * size.
"""
import collections

import numpy

from spiDNN.abi import layouts

POINT_NAMES = {value: name for name, value in layouts.COST_POINTS.items()}
KINDS = ("packet", "task")


def _line(sizes, values):
    """(base, slope, how): the least-squares line, held to a base and a
    slope of at least zero (a negative base is a line fitted to a mix,
    such as SGD with and without momentum, and would make small sizes
    cost less than nothing); through zero when every size is the same
    (a per-element cost extrapolates better than a constant), or flat
    when that size is 1 (the point's size is always 1)."""
    sizes = numpy.asarray(sizes, dtype=float)
    values = numpy.asarray(values, dtype=float)
    if numpy.ptp(sizes) == 0:
        if sizes[0] <= 1:
            return float(values.mean()), 0.0, "flat"
        return 0.0, float(values.mean() / sizes[0]), "through zero"
    slope, base = numpy.polyfit(sizes, values, 1)
    if base < 0:
        return 0.0, float(sizes @ values / (sizes @ sizes)), "through zero"
    if slope < 0:
        return float(values.mean()), 0.0, "flat"
    return float(base), float(slope), "least squares"


def fit_points(callbacks):
    """{point name: line} from (app's) callbacks' segments."""
    samples = collections.defaultdict(list)
    for callback in callbacks:
        for point, size, instructions, cycles in callback.segments():
            samples[point].append((size, instructions, cycles))
    points = {}
    for point in sorted(samples):
        sizes, instructions, cycles = map(numpy.array,
                                          zip(*samples[point]))
        base_i, slope_i, _ = _line(sizes, instructions)
        base_c, slope_c, how = _line(sizes, cycles)
        residual = cycles - (base_c + slope_c * sizes)
        points[POINT_NAMES[point]] = {
            "base_instructions": round(base_i, 2),
            "slope_instructions": round(slope_i, 4),
            "base_cycles": round(base_c, 2),
            "slope_cycles": round(slope_c, 4),
            "fit": how,
            "samples": len(sizes),
            "sizes": [int(sizes.min()), int(sizes.max())],
            "max_abs_residual_cycles": round(float(abs(residual).max()), 1),
        }
    return points


def fit_entries(callbacks):
    """{kind: entry} from the callbacks' costs up to their first mark."""
    entries = {}
    for kind in KINDS:
        costs = numpy.array([c.entry() for c in callbacks if c.kind == kind],
                            dtype=float).reshape(-1, 2)
        if not len(costs):
            entries[kind] = {"base_instructions": 0.0, "base_cycles": 0.0,
                             "samples": 0}
            continue
        entries[kind] = {
            "base_instructions": round(float(costs[:, 0].mean()), 2),
            "base_cycles": round(float(costs[:, 1].mean()), 2),
            "samples": len(costs),
            "cycles_range": [int(costs[:, 1].min()), int(costs[:, 1].max())],
        }
    return entries


def resolve(apps, app):
    """An app's points, a point it never reached taken from the first app
    that did, as the VM does (spiDNN/vm/clock.py)."""
    points = dict(apps[app]["points"])
    for other in (apps[name] for name in sorted(apps)):   # the JSON's order
        for name, line in other["points"].items():
            points.setdefault(name, line)
    return points


def predict(entry, points, callback):
    """The table's cycles for one callback."""
    cycles = entry[callback.kind]["base_cycles"]
    for point, size, _, _ in callback.segments():
        line = points[POINT_NAMES[point]]
        cycles += line["base_cycles"] + line["slope_cycles"] * size
    return cycles


def validate(entry, points, cores):
    """Predicted against measured cycles, for ``cores`` (each a list of
    callbacks): the relative error of each callback (max and mean, over
    all and over those of at least 1000 cycles), of each core's total
    (what the clock makes of a core's busy time) and of the total."""
    callbacks = [c for core in cores for c in core]
    measured = numpy.array([c.cycles for c in callbacks], dtype=float)
    predicted = numpy.array([predict(entry, points, c) for c in callbacks])
    error = numpy.abs(predicted - measured) / measured
    large = measured >= 1000
    worst = int(numpy.argmax(error))
    ends = numpy.cumsum([len(core) for core in cores])[:-1]
    core_error = numpy.array([
        abs(p.sum() - m.sum()) / m.sum() for p, m in zip(
            numpy.split(predicted, ends), numpy.split(measured, ends))])

    def stat(values, how):
        return round(float(how(values)) if len(values) else 0.0, 4)
    return {
        "callbacks": len(callbacks),
        "max_relative_error": stat(error, numpy.max),
        "mean_relative_error": stat(error, numpy.mean),
        "worst_callback": callbacks[worst].function,
        "large_callbacks": int(large.sum()),
        "max_relative_error_large": stat(error[large], numpy.max),
        "mean_relative_error_large": stat(error[large], numpy.mean),
        "cores": len(cores),
        "max_relative_error_core_total": stat(core_error, numpy.max),
        "mean_relative_error_core_total": stat(core_error, numpy.mean),
        "total_relative_error": round(
            float(abs(predicted.sum() - measured.sum()) / measured.sum()), 4),
    }
