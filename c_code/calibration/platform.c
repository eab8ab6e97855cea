// The spin1 / front-end-common API for the calibration build: an app
// compiled for the ARM968 and run in an instruction-set emulator
// (tools/calibration), which measures what each callback costs.
//
// There is no event loop here.  The emulator plays spin1's part from
// outside: it reads the callback table, calls a packet callback for each
// packet it delivers, and drains the task queue that spin1_schedule_
// callback fills.  Everything the harness reads or writes is a global
// with a spidnn_ name, found by its symbol in the ELF.
//
// The functions an app calls inside a measured callback (sending a packet,
// scheduling a callback) are kept about as short as spin1's own, so that
// their cost in the table is realistic; the rest only has to work.
#include <stdarg.h>
#include <stdint.h>
#include <stdbool.h>

#include <spin1_api.h>
#include <debug.h>
#include <data_specification.h>
#include <simulation.h>

#include "spidnn_layouts.h"

// ---- What the harness reads and writes.

// A cost mark (common/cost.h): [1] its size, then [0] its point, which
// the emulator watches.
volatile uint32_t spidnn_cost_mark[2];

// The callback registered for each event, and its priority.
callback_t spidnn_callbacks[NUM_EVENTS];
int32_t spidnn_priorities[NUM_EVENTS];

// Queued callbacks: spin1_schedule_callback (and, with a NULL function,
// spin1_trigger_user_event) append; the harness takes them from `head`.
// 64 entries: the harness drains the queue after every callback, so it
// never holds more than a few.
#define TASK_QUEUE_SIZE 64u
typedef struct task_t {
    callback_t function;   // NULL: the user event's callback
    uint32_t arg0;
    uint32_t arg1;
} task_t;
task_t spidnn_tasks[TASK_QUEUE_SIZE];
volatile uint32_t spidnn_task_head;
volatile uint32_t spidnn_task_tail;
volatile uint32_t spidnn_tasks_dropped;

// Packets sent: (key, payload, with payload) each, in four words (an
// index is then a shift, not a multiply).  The section lies
// outside DTCM (calibration/arm968.ld), where the comms controller is on
// the chip; the harness empties it after every callback by resetting
// the count.
#define OUTBOX_PACKETS 65536u
typedef struct packet_t {
    uint32_t key;
    uint32_t payload;
    uint32_t load;
    uint32_t unused;
} packet_t;
__attribute__((section(".comms"))) packet_t spidnn_outbox[OUTBOX_PACKETS];
volatile uint32_t spidnn_outbox_count;
volatile uint32_t spidnn_outbox_overflow;

// Set by the harness before c_main: the core's SDRAM block.
data_specification_metadata_t *spidnn_data_address;

// rt_error's code; the emulator stops at the write.
volatile uint32_t spidnn_rt_error[2];

// The last log message: level, format (a pointer into rodata) and its
// first three arguments; the emulator records each at the write of [0].
volatile uint32_t spidnn_log[5];

uint32_t spidnn_timer_period;
uint32_t spidnn_core_id = 1;
uint32_t spidnn_chip_id;
static exit_callback_t exit_function;

// ---- The heap: DTCM_HEAP_BYTES of DTCM, as the VM gives each core.

static uint32_t spidnn_heap[DTCM_HEAP_BYTES / sizeof(uint32_t)];
uint32_t spidnn_heap_used;    // bytes

void *spin1_malloc(uint bytes) {
    uint32_t rounded = (bytes + 3u) & ~3u;
    if (rounded > DTCM_HEAP_BYTES - spidnn_heap_used) {
        return NULL;   // DTCM is full, exactly as on the chip
    }
    void *block = (uint8_t *) spidnn_heap + spidnn_heap_used;
    spidnn_heap_used += rounded;
    return block;
}

// ---- spin1.

void spin1_callback_on(uint event_id, callback_t cback, int priority) {
    if (event_id < NUM_EVENTS) {
        spidnn_callbacks[event_id] = cback;
        spidnn_priorities[event_id] = priority;
    }
}

void spin1_callback_off(uint event_id) {
    if (event_id < NUM_EVENTS) {
        spidnn_callbacks[event_id] = NULL;
    }
}

static uint enqueue(callback_t function, uint arg0, uint arg1) {
    uint32_t tail = spidnn_task_tail;
    if (tail - spidnn_task_head >= TASK_QUEUE_SIZE) {
        spidnn_tasks_dropped++;
        return 0;      // the queue is full: spin1 fails the call too
    }
    task_t *task = &spidnn_tasks[tail % TASK_QUEUE_SIZE];
    task->function = function;
    task->arg0 = arg0;
    task->arg1 = arg1;
    spidnn_task_tail = tail + 1u;
    return 1;
}

// spin1 keeps one queue per priority; the apps queue at one priority,
// so one FIFO gives the same order.
uint spin1_schedule_callback(callback_t cback, uint arg0, uint arg1,
                             uint priority) {
    (void) priority;
    return enqueue(cback, arg0, arg1);
}

uint spin1_trigger_user_event(uint arg0, uint arg1) {
    return enqueue(NULL, arg0, arg1);
}

// A few loads and stores, as spin1's own: the real one also disables
// interrupts and writes the key and payload to the comms controller (or
// its software queue when the controller is busy), a handful more.
uint spin1_send_mc_packet(uint key, uint data, uint load) {
    uint32_t n = spidnn_outbox_count;
    if (n >= OUTBOX_PACKETS) {
        spidnn_outbox_overflow = 1;
        return 1;
    }
    packet_t *packet = &spidnn_outbox[n];
    packet->key = key;
    packet->payload = data;
    packet->load = load;
    spidnn_outbox_count = n + 1u;
    return 1;
}

// The calibration measures callbacks that the VM traced from packets; its
// models keep their data in DTCM, so no DMA is traced.  A streamed core
// (dense with its kernel in SDRAM) links but is not measured: its
// transfers complete at once and call nothing.
uint spin1_dma_transfer(uint tag, void *system_address, void *tcm_address,
                        uint direction, uint length) {
    (void) tag;
    if (direction == DMA_READ) {
        spin1_memcpy(tcm_address, system_address, length);
    } else {
        spin1_memcpy(system_address, tcm_address, length);
    }
    return 1;
}

bool simulation_dma_transfer_done_callback_on(uint tag, callback_t callback) {
    (void) tag;
    (void) callback;
    return true;
}

void spin1_set_timer_tick(uint time) {
    spidnn_timer_period = time;
}

// On the chip this runs the event loop until spin1_exit; here it returns
// and c_main returns to the harness, which then plays the event loop.
uint spin1_start(sync_bool sync) {
    (void) sync;
    return 0;
}

void spin1_exit(uint error) {
    (void) error;
    if (exit_function != NULL) {
        exit_function();
    }
}

// Words when both ends are word aligned (the apps copy float arrays and
// structs), else bytes.
void spin1_memcpy(void *dst, void const *src, uint len) {
    if ((((uint32_t) dst | (uint32_t) src | len) & 3u) == 0) {
        uint32_t *d = dst;
        const uint32_t *s = src;
        for (uint i = 0; i < len / 4u; i++) {
            d[i] = s[i];
        }
        return;
    }
    uint8_t *d = dst;
    const uint8_t *s = src;
    for (uint i = 0; i < len; i++) {
        d[i] = s[i];
    }
}

uint spin1_get_core_id(void) {
    return spidnn_core_id;
}

uint spin1_get_chip_id(void) {
    return spidnn_chip_id;
}

// Records the code, then stops: the emulator ends the run at the write
// (the loop only holds the core if nothing watches).
void rt_error(uint code, ...) {
    spidnn_rt_error[1] = 1u;
    spidnn_rt_error[0] = code;
    for (;;) {
    }
}

void spin1_log(uint32_t level, const char *format, ...) {
    va_list args;
    va_start(args, format);
    spidnn_log[1] = (uint32_t) format;
    spidnn_log[2] = va_arg(args, uint32_t);
    spidnn_log[3] = va_arg(args, uint32_t);
    spidnn_log[4] = va_arg(args, uint32_t);
    spidnn_log[0] = level;
    va_end(args);
}

// ---- The data specification and simulation interface.

data_specification_metadata_t *data_specification_get_data_address(void) {
    return spidnn_data_address;
}

void simulation_set_exit_function(exit_callback_t function) {
    exit_function = function;
}

void simulation_run(void) {
    spin1_start(SYNC_WAIT);
}
