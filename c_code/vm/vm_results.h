// Results of the machine's run functions: every part returns them, and
// the host reads them (vm_api.h passes them on; spiDNN/vm/binding.py
// numbers them alike).
#ifndef SPIDNN_VM_RESULTS_H
#define SPIDNN_VM_RESULTS_H

#define VM_OK        0
#define VM_STALLED   1   // the machine went quiet before the pass finished
#define VM_TIMEOUT   2   // the pass did not finish within its time budget
#define VM_CORE_ERROR 3  // a core called rt_error
#define VM_BAD_CALL  4
#define VM_CONTROL_FAILED 5  // some core did not carry out a control round
#define VM_RUNNING   6   // vm_inject: the budget ran out, work is left

#endif
