// Cost points: where a piece of an app's work begins, for the virtual
// clock.  COST(COST_<NAME>, size) marks it (the points and their sizes:
// spiDNN/vertices/layouts.py, COST_POINTS); the work runs until the next
// mark or the end of the callback.
//
// The host build reports each mark to the virtual machine, which charges
// the core that point's measured cycles for the size (spiDNN/vm/
// arm_costs.json).  The calibration build writes the mark where the ARM
// emulator measuring those cycles watches for it.  On a real SpiNNaker a
// mark compiles to nothing.
#ifndef SPIDNN_COST_H
#define SPIDNN_COST_H

#include <stdint.h>

#include "spidnn_layouts.h"

#if defined(SPIDNN_VIRTUAL_MACHINE)
void spidnn_cost(uint32_t point, uint32_t size);
#define COST(point, size) spidnn_cost((point), (size))
#elif defined(SPIDNN_COST_TRACE)
// [0]: the point, written last; [1]: its size.
extern volatile uint32_t spidnn_cost_mark[2];
#define COST(point, size) \
    (spidnn_cost_mark[1] = (size), spidnn_cost_mark[0] = (point))
#else
#define COST(point, size) ((void) (point), (void) (size))
#endif

#endif
