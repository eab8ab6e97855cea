"""How much energy a run would take on a real SpiNNaker (SpiNN-5 boards).

A linear model, in the spirit of the one Stromatias et al. built from a
48-chip board ("Power analysis of large-scale, real-time neural networks on
SpiNNaker", IJCNN 2013): a fixed power for every powered chip and board,
plus an energy for each unit of activity::

    E = P_chip_idle * chips * t          (chips switched on, cores asleep)
      + E_cycle     * busy_cycles        (cores running instead of asleep)
      + E_router    * router_visits      (a multicast packet through a router)
      + E_link      * link_crossings     (a packet over a chip-to-chip link)
      + P_board     * boards * t         (FPGAs, Ethernet, BMP, regulators)

Stromatias et al.'s activity terms are per neuron update and per synaptic
event of spiking-neuron kernels; spiDNN's kernels are not those, so the
activity here is counted in what the virtual machine can count for any
kernel: core cycles and packet hops.

Every default below comes from published measurements, but none could be
read in the papers themselves from here: they were found quoted, with the
paper named, in the SpiNNaker team's own energy code (SpiNNakerManchester's
SpiNNMachine and SpiNNFrontEndCommon on GitHub).  Each comment says which,
and where a value is derived rather than quoted.  Override any of them:
``SpiNNakerPower(chip_idle_w=0.36)``.
"""
import math
import numbers
from dataclasses import dataclass, fields


def _check(name, value):
    """Counts, times and powers are finite numbers, never negative."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, not {value!r}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be finite and >= 0, not {value!r}")


@dataclass(frozen=True)
class SpiNNakerPower:
    """The constants of the model (SI units: W, J, Hz)."""

    # Idle power of one chip (18 ARM968 cores asleep, router, its 128 MB
    # SDRAM).  Stromatias, Patterson & Furber, "Optimising the overall power
    # usage on the SpiNNaker neuromimetic platform", IJCNN 2014: an idle
    # 48-chip board's chip supply rails draw 5.23 + 5.17 + 5.52 W plus
    # 0.90 W of SDRAM = 16.82 W, so 16.82 / 48 = 0.350 W a chip.  Quoted
    # (with that arithmetic) in SpiNNMachine spinn_machine/version/
    # version_spin1.py, WATTS_PER_IDLE_CHIP; the paper's table number was not
    # visible.  The older SpiNNFrontEndCommon compute_energy_used.py uses
    # 0.36 W and attributes it to Painkras et al. 2013 (below).
    chip_idle_w: float = 16.82 / 48

    # Energy of one core cycle above idle.  Derived: Painkras et al.,
    # "SpiNNaker: A 1-W 18-core System-on-Chip for Massively-Parallel Neural
    # Network Simulation", IEEE JSSC 48(8), 2013, abstract: peak 1 W with all
    # 18 cores at the nominal 180 MHz (confirmed in the stored abstract);
    # idle 0.36 W (attributed to that paper by SpiNNFrontEndCommon, not seen
    # in it).  (1 - 0.36) W / 18 cores / 180e6 Hz = 198 pJ a cycle.  Check:
    # the SpiNNaker team's own board measurement, 0.034 W a busy core at
    # 200 MHz (SpiNNMachine WATTS_PER_CORE_ACTIVE_OVERHEAD, unpublished),
    # gives 170 pJ.
    joules_per_core_cycle: float = (1.0 - 0.36) / 18 / 180e6

    # Energy of a multicast packet through one router: 25 pJ a bit times the
    # 40 bits of a packet without payload = 1 nJ.  Attributed to Painkras et
    # al. 2013 (above) in SpiNNMachine version_spin1.py (JOULES_PER_ROUTER_BIT,
    # JOULES_PER_PACKET); the section of the paper was not visible.  Earlier
    # SpiNNFrontEndCommon used 0.8 nJ a packet, citing the same paper.
    joules_per_router_visit: float = 25e-12 * 40

    # Energy of a packet crossing a chip-to-chip link: NOT FOUND in the
    # material available.  The SpiNNaker team's model charges nothing per
    # link: a packet arriving over a link is charged the router energy by
    # the router that receives it (its "External_Multicast_Packets"), and the
    # board-to-board FPGA links are charged as constant power (here in
    # board_baseline_w).  0 so as not to invent a number; set it if you have
    # one.
    joules_per_link_crossing: float = 0.0

    # SpiN-5 board power that is not the chips.  Derived: Stromatias et al.
    # 2014 (above), an idle 48-chip board draws 26.84 W (quoted in
    # SpiNNMachine spinn_machine/version/version_5.py,
    # WATTS_FOR_48_CHIP_BOARD_IDLE_COST), of which 16.82 W are the chips
    # (chip_idle_w): 26.84 - 16.82 = 10.02 W.  For scale, the team measured
    # each of the board's 3 Spartan-6 FPGAs at 0.58 W (SpiNNFrontEndCommon
    # MILLIWATTS_PER_FPGA, "Indar's measurements", unpublished).
    board_baseline_w: float = 26.84 - 16.82

    # Core clock of the production machine: 200 MHz (SpiNNMachine
    # version_spin1.py clock_speeds_hz; the JSSC paper's nominal was 180 MHz).
    clock_hz: float = 200e6

    # Chips on a SpiN-5 board: 48 (Plana et al., "spiNNlink: FPGA-Based
    # Interconnect for the Million-Core SpiNNaker System", IEEE Access 8,
    # 2020, abstract; SpiNNMachine version_5.py CHIPS_PER_BOARD).
    chips_per_board: int = 48

    # 18 cores a chip (Painkras et al. 2013, title and abstract): the design
    # reserves one for the monitor and one as a spare, leaving 16 for
    # applications (Furber et al., "Overview of the SpiNNaker System
    # Architecture", IEEE Trans. Computers 62(12), 2013 -- the 16 + 2 split
    # was seen only in a third-party summary, not in the paper).  Where all
    # 18 work, 17 can run applications: SpiNNMachine version_5.py lists the
    # board's chips with 17 or 18 working cores and one monitor core each.
    cores_per_chip: int = 18
    app_cores_per_chip: int = 16
    usable_app_cores_per_chip: int = 17

    def __post_init__(self):
        for field in fields(self):
            _check(field.name, getattr(self, field.name))


def predict_energy(seconds, chips, busy_cycles, router_visits, link_crossings,
                   boards=0, power=SpiNNakerPower()):
    """Joules by component for a run of ``seconds`` on ``chips`` chips.

    busy_cycles: core cycles spent running (not asleep), summed over cores;
    router_visits: packets times routers each passed through;
    link_crossings: packets times chip-to-chip links each crossed;
    boards: SpiN-5 boards powered, for their non-chip baseline (a board
    powers all its 48 chips: count them in ``chips`` too).
    Returns a dict of floats: chips_idle, cores, routers, links, boards and
    their total.
    """
    for name, value in (("seconds", seconds), ("chips", chips),
                        ("busy_cycles", busy_cycles),
                        ("router_visits", router_visits),
                        ("link_crossings", link_crossings),
                        ("boards", boards)):
        _check(name, value)
    energy = {
        "chips_idle": power.chip_idle_w * chips * seconds,
        "cores": power.joules_per_core_cycle * busy_cycles,
        "routers": power.joules_per_router_visit * router_visits,
        "links": power.joules_per_link_crossing * link_crossings,
        "boards": power.board_baseline_w * boards * seconds,
    }
    energy = {name: float(joules) for name, joules in energy.items()}
    energy["total"] = math.fsum(energy.values())
    return energy

