"""The ARM build of a core's app replaying what the host build received,
and the check that it sent the same packets.

Replay: the core's regions are loaded into the emulator, ``c_main``
runs, then each packet the host build's core was delivered is delivered
in the same order, and the task queue is drained after each: a valid
order of events (as if the packets arrived slowly), so the core reaches
the same states and sends the same values, if the two builds compute
the same.

The check: every core of the run was traced, so what the host build of a
core sent on a partition is what any core that received that partition
got from it, in order.  The ARM build's sends on each partition must
equal that sequence bit for bit (keys, payloads, payload flags), and it
must send nothing outside its partitions.
"""
import collections

import numpy

from tools.calibration.arm_core import ArmCore

#: One replayed core: its label, app, callbacks (arm_core.Callback), its
#: c_main's record, the deepest its stack went and its heap use (bytes),
#: and what it logged ((level, format, first arguments) each).
Replayed = collections.namedtuple(
    "Replayed", "label app callbacks main stack_bytes heap_bytes logs")


def replay(image, core):
    """Replays a captured core (capture.Core) on its app's
    :py:class:`~tools.calibration.arm_core.ArmImage`."""
    arm = ArmCore(image, core.regions)
    callbacks = []
    keys, payloads, has_payload = core.deliveries
    for key, payload, flag in zip(keys.tolist(), payloads.tolist(),
                                  has_payload.tolist()):
        callbacks += arm.deliver(key, payload, flag)
    return Replayed(core.label, core.app, callbacks, arm.main,
                    arm.stack_bytes_used(), arm.heap_bytes_used(), arm.logs)


def _in_partition(keys, key, mask):
    return (keys & numpy.uint32(mask)) == numpy.uint32(key)


def host_sends(run, index, key, mask):
    """What the host build of core ``index`` sent on partition (key,
    mask), read from a core that received it: (keys, payloads, flags)
    arrays, or None if no core received any; a ValueError if two
    receivers disagree."""
    found = None
    for other, core in run.cores.items():
        if other == index:
            continue
        keys, payloads, flags = core.deliveries
        mine = _in_partition(keys, key, mask)
        if not mine.any():
            continue
        got = (keys[mine], payloads[mine], flags[mine])
        if found is None:
            found = got
        elif not all(numpy.array_equal(a, b) for a, b in zip(found, got)):
            raise ValueError(
                f"two cores received different packets on partition "
                f"{key:#x}/{mask:#x} of {run.cores[index].label}")
    return found


def check_sends(run, index, replayed):
    """How the ARM build's sends of core ``index`` differ from its host
    build's: (messages, empty if bit-identical; packets compared bit for
    bit; packets compared by count only, on partitions routed nowhere,
    whose packets no core received)."""
    sent = [packet for callback in replayed.callbacks
            for packet in callback.sent]
    arm = numpy.array(sent, dtype=numpy.uint32).reshape(-1, 3)
    arm[:, 2] = arm[:, 2] != 0
    owned = numpy.zeros(len(arm), dtype=bool)
    problems = []
    compared = counted = 0
    core = run.cores[index]
    for (key, mask), count in zip(core.partitions, core.sent_counts):
        mine = _in_partition(arm[:, 0], key, mask)
        owned |= mine
        ours = arm[mine]
        theirs = host_sends(run, index, key, mask)
        if theirs is None:
            # The first layer's backward partition, say: the VM's count of
            # the host build's sends is all there is.
            counted += len(ours)
            if len(ours) != count:
                problems.append(
                    f"{core.label}: partition {key:#x}: the ARM build sent "
                    f"{len(ours)} packets, the host build {count} (none "
                    f"delivered)")
            continue
        host = numpy.stack(theirs, axis=1)
        host[:, 2] = host[:, 2] != 0
        compared += len(ours)
        if not numpy.array_equal(ours, host):
            problems.append(_difference(core.label, key, ours, host))
    if not owned.all():
        stray = arm[~owned][0]
        problems.append(f"{core.label}: the ARM build sent key "
                        f"{stray[0]:#x}, on none of its partitions")
    return problems, compared, counted


def _difference(label, key, ours, host):
    if len(ours) != len(host):
        return (f"{label}: partition {key:#x}: the ARM build sent "
                f"{len(ours)} packets, the host build {len(host)}")
    row = int(numpy.argmax((ours != host).any(axis=1)))
    same_set = sorted(map(tuple, ours.tolist())) == sorted(
        map(tuple, host.tolist()))
    return (f"{label}: partition {key:#x}: packet {row} differs: ARM "
            f"{tuple(hex(v) for v in ours[row])}, host "
            f"{tuple(hex(v) for v in host[row])}"
            + (" (the same packets in another order)" if same_set else ""))
