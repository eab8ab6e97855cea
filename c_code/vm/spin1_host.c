// The spin1, logging, data specification and simulation calls of the apps,
// answered on the host for the core the event loop is running.
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <spin1_api.h>
#include <debug.h>
#include <data_specification.h>
#include <simulation.h>
#include "vm_chip.h"
#include "vm_core.h"
#include "vm_dma.h"
#include "vm_machine.h"
#include "vm_sched.h"
#include "vm_stats.h"

void spin1_callback_on(uint event_id, callback_t cback, int priority) {
    if (event_id < NUM_EVENTS) {
        vm_current_core()->callbacks[event_id] = cback;
        vm_current_core()->priorities[event_id] = priority;
    }
}

void spin1_callback_off(uint event_id) {
    if (event_id < NUM_EVENTS) {
        vm_current_core()->callbacks[event_id] = NULL;
    }
}

uint spin1_schedule_callback(callback_t cback, uint arg0, uint arg1,
                             uint priority) {
    (void) priority;   // queued callbacks run one at a time, in order
    vm_post(vm_active, (vm_event_t) {
        VM_EV_SCHEDULED, vm_active->current, arg0, arg1, cback});
    return 1;
}

uint spin1_trigger_user_event(uint arg0, uint arg1) {
    vm_post(vm_active, (vm_event_t) {
        VM_EV_USER, vm_active->current, arg0, arg1, NULL});
    return 1;
}

void spin1_set_timer_tick(uint time) {
    vm_current_core()->timer_period = time;
}

uint spin1_start(sync_bool sync) {
    // On the chip this runs the event loop until spin1_exit; here the
    // virtual machine's loop delivers the events, so it returns at once.
    (void) sync;
    return 0;
}

void spin1_exit(uint error) {
    (void) error;
    vm_core_t *core = vm_current_core();
    if (core->exit_function != NULL) {
        core->exit_function();
    }
}

uint spin1_send_mc_packet(uint key, uint data, uint load) {
    vm_core_t *core = vm_current_core();
    vm_count_sent(core, key);
    vm_send(vm_active, core->chip, key, data, load == WITH_PAYLOAD);
    return 1;
}

void *spin1_malloc(uint bytes) {
    vm_core_t *core = vm_current_core();
    uint32_t rounded = (bytes + 3u) & ~3u;
    if (core->dtcm == NULL
            || core->dtcm_used + rounded > vm_active->dtcm_heap_bytes) {
        return NULL;   // DTCM is full, exactly as on the chip
    }
    void *block = core->dtcm + core->dtcm_used;
    core->dtcm_used += rounded;
    return block;
}

void spin1_memcpy(void *dst, void const *src, uint len) {
    memcpy(dst, src, len);
}

uint spin1_get_core_id(void) {
    return (uint) vm_current_core()->p;
}

uint spin1_get_chip_id(void) {
    vm_chip_t *chip = &vm_active->chips[vm_current_core()->chip];
    return (uint) ((chip->x << 8) | chip->y);
}

void rt_error(uint code, ...) {
    vm_core_t *core = vm_current_core();
    core->errored = 1;
    core->error_code = code;
    longjmp(vm_active->on_rt_error, 1);
}

void spin1_log(uint32_t level, const char *format, ...) {
    if (level > LOG_WARNING && getenv("SPIDNN_VM_LOG") == NULL) {
        return;
    }
    vm_core_t *core = vm_current_core();
    va_list args;
    va_start(args, format);
    vsnprintf(core->last_error, sizeof(core->last_error), format, args);
    va_end(args);
    vm_chip_t *chip = &vm_active->chips[core->chip];
    fprintf(stderr, "[spiDNN vm core %d,%d,%d] %s\n",
            chip->x, chip->y, core->p, core->last_error);
}

data_specification_metadata_t *data_specification_get_data_address(void) {
    return (data_specification_metadata_t *) vm_current_core()->sdram;
}

void simulation_set_exit_function(exit_callback_t exit_function) {
    vm_current_core()->exit_function = exit_function;
}

void simulation_run(void) {
    spin1_start(SYNC_WAIT);
}

static int in_dtcm(const vm_core_t *core, const void *address, uint length) {
    const uint8_t *p = address;
    return core->dtcm != NULL && p >= core->dtcm
            && p + length <= core->dtcm + vm_active->dtcm_heap_bytes;
}

uint spin1_dma_transfer(uint tag, void *system_address, void *tcm_address,
                        uint direction, uint length) {
    vm_t *vm = vm_active;
    vm_core_t *core = vm_current_core();
    if (!in_dtcm(core, tcm_address, length)) {
        log_error("DMA of %u bytes to or from outside the core's DTCM",
                  length);
        rt_error(RTE_SWERR);
    }
    uint32_t id;
    if (!vm_dma_queue(core, tag, system_address, tcm_address, direction,
                      length, &id)) {
        return 0;        // spin1's queue is full
    }
    vm_post_dma(vm, (vm_event_t) {VM_EV_SCHEDULED, vm->current, id, tag,
                                  vm_dma_complete}, length);
    return id;
}
