// The chips' mail logs: core-major delivery on the untimed machine
// (vm_mailbox.c).
#ifndef SPIDNN_VM_MAILBOX_H
#define SPIDNN_VM_MAILBOX_H

#include <stdint.h>

#include "vm_untimed_state.h"

typedef struct vm vm_t;

// The mail logs, once every core is added; false if out of memory.
int vm_mail_start(vm_t *vm);
// Puts a packet with a payload in chip's log, for the app cores of
// `procs` (a subset of its app_procs).
void vm_mail(vm_t *vm, int32_t chip, uint32_t procs, uint32_t key,
             uint32_t payload);
// Runs the next ready chip's log (vm->r_len > 0).
void vm_mail_drain_next(vm_t *vm);
// Forgets all mail (a core stopped the machine).
void vm_mail_clear(vm_t *vm);
void vm_mail_free(vm_t *vm);

#endif
