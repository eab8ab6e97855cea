"""Faults on demand in the virtual machine, and the switches of recovery.

``spiDNN.Model(..., faults=spiDNN.Faults(drop_rate=1e-3, seed=1))`` runs
the model on a virtual machine whose routers drop packets, hold them back
(which reorders them), whose cores stall and whose links go down, as a
real SpiNNaker's do under load.  What the faults did and what recovery
did about it is in ``model.last_run.faults``.

Recovery has two layers, both on by default:

- ``reinjection``: a router keeps the packet it dropped in its
  dropped-packet register and the monitor core sends it again (the
  toolchain's extra monitor support does this on a board).  The register
  holds one packet: a second drop at the same router before the monitor
  has read the first is lost for good.
- ``replay``: when a pass cannot finish (a packet lost for good, a core
  stalled past the host's timeout) the host aborts it, every core takes
  back the state of the last commit, and the host replays the batch from
  its first sample.  A batch's weight update waits for the host's commit,
  so nothing is counted twice.

Time in the virtual machine is counted in callbacks run (one unit each),
jumping ahead while the whole machine idles, until the virtual clock
gives it seconds.  The host's timeout for a pass is a few units per packet
the pass needs; a stall's ``duration`` is in the same units.
"""
import dataclasses

import numpy

from spiDNN.layers.arguments import (
    boolean, int_below, non_negative_int, positive_int, probability)
from spiDNN.errors import SpiDNNConfigurationError

#: Replays of one batch (or rounds of one control command) before the run
#: is given up with an error.
MAX_REPLAYS = 8
#: The virtual machine's fields: 64-bit counts and seeds, 32-bit delays
#: and core numbers; a stall's duration of 2^64 - 1 is "for good".
_U64, _U32, _I32 = 2 ** 64, 2 ** 32, 2 ** 31


@dataclasses.dataclass(frozen=True)
class Drop:
    """Drop the ``nth`` packet (0 first) that ``layer`` sends on
    ``partition``, its cores counted together.

    :param layer: a layer's name, or ``"input"``, ``"labels"``, ``"loss"``
        or ``"control"``
    :param partition: ``"forward"``, ``"backward"``, ``"softmax"``,
        ``"softmax_backward"``, ``"exchange"``, ``"gradient_chain"``,
        ``"shared_chain"``, ``"norm"``, ``"loss"``, ``"weights"`` or
        ``"control"``
        (those the layer has)
    """
    layer: str
    partition: str
    nth: int = 0

    def __post_init__(self):
        int_below(self.nth, _U64, "Drop nth")


@dataclasses.dataclass(frozen=True)
class Stall:
    """Core ``core`` (0 first) of ``layer`` stops running callbacks when
    its ``at_packet``-th packet arrives (1 first, counted from the start of
    the run), for ``duration`` time units, or for good if None."""
    layer: str
    core: int = 0
    at_packet: int = 1
    duration: int = None

    def __post_init__(self):
        int_below(self.core, _I32, "Stall core")
        if int_below(self.at_packet, _U64, "Stall at_packet") == 0:
            raise SpiDNNConfigurationError(
                "Stall at_packet counts from 1, not 0")
        if self.duration is not None and int_below(
                self.duration, _U64 - 1, "Stall duration") == 0:
            raise SpiDNNConfigurationError(
                "Stall duration must be at least 1 (None: for good)")


@dataclasses.dataclass(frozen=True)
class DeadLink:
    """Link ``link`` (0-5: E, NE, N, W, SW, S) of chip (x, y) is down."""
    x: int
    y: int
    link: int

    def __post_init__(self):
        int_below(self.x, _I32, "DeadLink x")
        int_below(self.y, _I32, "DeadLink y")
        if not 0 <= non_negative_int(self.link, "DeadLink link") < 6:
            raise SpiDNNConfigurationError(
                f"DeadLink link must be 0 to 5, not {self.link}")


class Faults:
    """The faults of a run, all drawn from one seed.

    :param drop_rate: probability that a router drops a packet passing it
    :param seed: the seed of every random fault; None draws one, kept in
        ``faults.seed`` so the run can be repeated
    :param drops: :py:class:`Drop` rules
    :param delay_rate: probability that a router holds a packet back for
        1 to ``max_delay`` time units
    :param stalls: :py:class:`Stall` rules
    :param dead_links: :py:class:`DeadLink` rules
    :param reinjection: the monitors reinject dropped packets
    :param replay: the host aborts and replays a batch that cannot finish
    :param max_replays: replays of one batch before the run gives up
    """

    def __init__(self, drop_rate=0.0, seed=None, drops=(), delay_rate=0.0,
                 max_delay=16, stalls=(), dead_links=(), reinjection=True,
                 replay=True, max_replays=MAX_REPLAYS):
        self.drop_rate = probability(drop_rate, "drop_rate")
        self.delay_rate = probability(delay_rate, "delay_rate")
        self.max_delay = positive_int(max_delay, "max_delay")
        int_below(self.max_delay, _U32, "max_delay")
        if seed is None:
            seed = int(numpy.random.default_rng().integers(2 ** 63))
        self.seed = int_below(seed, _U64, "seed")
        self.drops = _rules(drops, Drop, "drops")
        self.stalls = _rules(stalls, Stall, "stalls")
        self.dead_links = _rules(dead_links, DeadLink, "dead_links")
        self.reinjection = boolean(reinjection, "Faults reinjection")
        self.replay = boolean(replay, "Faults replay")
        self.max_replays = non_negative_int(max_replays, "max_replays")

    def __repr__(self):
        fields = ", ".join(f"{name}={value!r}"
                           for name, value in vars(self).items())
        return f"Faults({fields})"


def _rules(rules, kind, name):
    rules = tuple(rules)
    for rule in rules:
        if not isinstance(rule, kind):
            raise SpiDNNConfigurationError(
                f"{name} takes spiDNN.{kind.__name__} objects, not "
                f"{rule!r}")
    return rules


#: Recovery when no faults are asked for: a board loses packets too.
NO_FAULTS = Faults(seed=0)
