"""The virtual clock: the machine timed with the cost table
(spiDNN.costs.table) and the fabric's timing (spiDNN.costs.fabric)."""
from spiDNN.costs.fabric import (
    DMA_SETUP_CYCLES, HOP_SECONDS, LINK_BITS_PER_SECOND, PACKET_BITS,
    PAYLOAD_PACKET_BITS, PS, SDRAM_BYTES_PER_SECOND)
from spiDNN.costs.table import cost_lines, picoseconds, source_packet_ps

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


def start_clock(vm):
    """Turns the clock on in ``vm``, every app core with its app's costs."""
    link_ps = round(PACKET_BITS / LINK_BITS_PER_SECOND * PS)
    payload_ps = round(PAYLOAD_PACKET_BITS / LINK_BITS_PER_SECOND * PS)
    vm.set_clock(round(HOP_SECONDS * PS), link_ps, payload_ps,
                 source_packet_ps(), round(PS / SDRAM_BYTES_PER_SECOND),
                 picoseconds(DMA_SETUP_CYCLES))
    vm.time_passes(TIMED_PASSES)
    for index, app in vm.core_apps.items():
        vm.set_core_costs(index, *cost_lines(app))
