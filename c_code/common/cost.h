// Cost points: where a piece of an app's work begins, for the virtual
// clock.  COST(COST_<NAME>, size) marks it (the points and their sizes:
// spiDNN/abi/layouts.py, COST_POINTS); the work runs until the next
// mark or the end of the callback.
//
// The host build adds the point's measured cost for the size (spiDNN/vm/
// arm_costs.json) to what the running callback has been charged; the
// virtual machine gives each core's copy of the app its cost lines and
// reads the charge after each callback.  The two are the app's own
// globals, not calls into the machine: a mark runs on every packet, and
// a call out of 128 copies of an app costs more than the packet itself.  The calibration build writes the mark where the ARM
// emulator measuring those cycles watches for it.  On a real SpiNNaker a
// mark compiles to nothing.
#ifndef SPIDNN_COST_H
#define SPIDNN_COST_H

#include <stdint.h>

#include "spidnn_layouts.h"

#if defined(SPIDNN_VIRTUAL_MACHINE)
// base + slope * size picoseconds (as the machine's vm_cost_line_t).
typedef struct spidnn_cost_line {
    uint64_t base_ps, slope_ps;
} spidnn_cost_line_t;
// Protected: the app's own references bind to its own copy, and the
// machine still finds them by name.  NULL lines: no clock.
__attribute__((weak, visibility("protected")))
const spidnn_cost_line_t *spidnn_cost_lines;
__attribute__((weak, visibility("protected")))
uint64_t spidnn_cost_charge;
#define COST(point, size) \
    (spidnn_cost_lines != NULL \
     ? (void) (spidnn_cost_charge += spidnn_cost_lines[point].base_ps \
               + spidnn_cost_lines[point].slope_ps * (uint64_t) (size)) \
     : (void) 0)
#elif defined(SPIDNN_COST_TRACE)
// [0]: the point, written last; [1]: its size.
extern volatile uint32_t spidnn_cost_mark[2];
#define COST(point, size) \
    (spidnn_cost_mark[1] = (size), spidnn_cost_mark[0] = (point))
#else
#define COST(point, size) ((void) (point), (void) (size))
#endif

#endif
