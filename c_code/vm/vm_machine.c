// The machine the spin1 calls act on, and its failure reporting: the
// bottom of the machine, which every part may call and which calls none.
#include <stdarg.h>
#include <stdio.h>

#include "vm_machine.h"

vm_t *vm_active = NULL;

void vm_fail(vm_t *vm, const char *format, ...) {
    va_list args;
    va_start(args, format);
    vsnprintf(vm->error, sizeof(vm->error), format, args);
    va_end(args);
}
