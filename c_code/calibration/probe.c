// The dense kernel's forward loop alone, for the check that the cost
// table's dense forward slope is that loop's cost a multiply
// (tests/test_cost_table.py): the same kernel, flags and library as the
// dense app, without the app around it.
#include <stdint.h>

#include "dense_kernel.h"

void c_main(void);
void probe_dense_forward(uint32_t n_in, const float *kernel, const float *x,
                         float *z);

void c_main(void) {
}

// One neuron of n_in inputs.
void probe_dense_forward(uint32_t n_in, const float *kernel, const float *x,
                         float *z) {
    static const float bias[1] = {0.0f};
    dense_forward(1, n_in, kernel, bias, NULL, x, z);
}
