"""What the virtual clock says a run would take on a SpiNNaker board.

The virtual machine runs the host's passes one after another, each until
the machine is quiet, so its clock gives each pass's latency and every
core's and link's busy time.  A board is fed faster than that: the next
sample may enter while the previous is still in flight (the layers'
inputs are double-buffered), so in the steady state a sample leaves every
``bottleneck`` seconds, where the bottleneck is the busiest core, link or
source per sample.  Training waits at each batch end for the host's
commit: the batch's last sample has to come out (a pass's latency), the
host answers (a round trip) and the commit round runs.  So:

    inference: latency + (n - 1) * bottleneck
    training:  per batch, latency + round trip + commit
               + (samples in it - 1) * bottleneck

The clock times only a run's first passes (clock.TIMED_PASSES, in
training whole batches): the latency, bottleneck and commit above are
their averages, and the counts of passes and commits are the whole run's.

Energy is the power model's (spiDNN.costs.power_model) for that time and for
the cycles, router visits and link crossings the timed passes counted,
scaled to the whole run.
"""
import collections

from spiDNN.costs import fabric, power_model, table

PS = fabric.PS


def _busiest(busy):
    """(name, picoseconds) of the largest entry, or (None, 0)."""
    if not busy:
        return None, 0
    name = max(busy, key=busy.get)
    return name, busy[name]


def predict(vm, core_layers):
    """The report's predicted figures of the run ``vm`` has made so far
    ({} without the clock).

    :param core_layers: {core index: layer label}
    """
    totals = vm.clock()
    if not totals["on"] or totals["passes"] == 0:
        return {}
    passes, commits = totals["passes"], totals["commits"]
    all_passes, all_commits = totals["passes_run"], totals["commits_run"]
    # What the timed passes counted, per pass of the whole run.
    scale = all_passes / passes
    hz = table.clock_hz()
    core_busy, pass_busy, core_fiq = {}, {}, {}
    layer_busy = collections.Counter()
    for index, layer in core_layers.items():
        busy, in_fiq, in_control = vm.core_clock(index)
        x, y, p = vm.core_locations[index]
        name = f"{layer} ({x}, {y}, {p})"
        core_busy[name] = busy
        pass_busy[name] = busy - in_control
        core_fiq[name] = in_fiq
        layer_busy[layer] += busy
    link_busy = {}
    for chip, (x, y) in enumerate(vm.chips):
        for link, (busy, packets) in enumerate(vm.link_clock(chip)):
            if packets:
                link_busy[f"link {link} of chip ({x}, {y})"] = busy
    source_ps = table.source_packet_ps()
    # A source's packets are counted in every pass, timed or not.
    source_busy = {vm.core_labels[i]:
                   vm.core_stats(i)["sent"] * source_ps / scale
                   for i in vm.source_cores}

    latency = (totals["last_ps"] - totals["control_ps"]) / passes
    per_sample = {kind: _busiest(busy) for kind, busy in (
        ("core", pass_busy), ("link", link_busy), ("source", source_busy))}
    kind, (bottleneck_name, bottleneck_ps) = max(
        per_sample.items(), key=lambda item: item[1][1])
    bottleneck = bottleneck_ps / passes
    if kind == "core":
        # A core busy mostly taking packets is packet-bound: more neurons
        # per core would not slow it down as much as fewer inputs speed it.
        kind = ("packet-bound core"
                if core_fiq[bottleneck_name] * 2 > core_busy[bottleneck_name]
                else "compute-bound core")
    if all_commits:
        commit = totals["control_ps"] / commits
        round_trip = fabric.HOST_ROUND_TRIP_SECONDS * PS
        total_ps = (all_commits * (latency + round_trip + commit)
                    + (all_passes - all_commits) * bottleneck)
    else:
        total_ps = latency + (all_passes - 1) * bottleneck
    seconds = total_ps / PS

    core_name, core_ps = _busiest(core_busy)
    link_name, link_ps = _busiest(link_busy)
    chips = {vm.core_locations[i][:2] for i in core_layers}
    energy = power_model.predict_energy(
        seconds=seconds, chips=len(chips),
        busy_cycles=sum(core_busy.values()) * scale * hz / PS,
        router_visits=totals["router_visits"] * scale,
        link_crossings=totals["link_crossings"] * scale)
    return dict(
        predicted_seconds=seconds,
        predicted_samples_per_second=all_passes / seconds,
        predicted_latency_seconds=latency / PS,
        predicted_joules=energy["total"],
        predicted_joules_per_sample=energy["total"] / all_passes,
        predicted_energy=energy,
        bottleneck=f"{kind}: {bottleneck_name}",
        bottleneck_seconds_per_sample=bottleneck / PS,
        busiest_core=core_name,
        busiest_core_fraction=core_ps * scale / total_ps,
        busiest_link=link_name,
        busiest_link_fraction=(link_ps * scale / total_ps if link_name
                               else 0.0),
        layer_busy_seconds={layer: busy * scale / PS
                            for layer, busy in sorted(layer_busy.items())},
        timed_passes=passes,
    )
