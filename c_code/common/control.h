// The host's control of a run, shared by every app: abort and replay,
// commit, weights out; and the core's status, which the host reads.
//
// A pass the host cannot see finish (a packet lost for good, a core that
// stalled past the host's timeout) is replayed from the last commit:
// ABORT makes every core forget what the pass in flight had gathered and
// take back the state of the last commit (gradients, batch counter,
// dropout pass number).  Until RESUME the core starts no work: a stale
// packet still in the fabric may land in a gather but schedules nothing,
// and RESUME forgets it again, so nothing stale leaks into the replay.
// Callbacks queued before an abort see the generation change and do
// nothing.  Control keys are checked after the data keys, so the packets
// of a pass pay nothing for them.
// Training cores prepare a batch's update at its end but apply it only on
// the host's COMMIT, once every core has finished the batch, so a replay
// never meets weights that moved.  A commit can reach a core before the
// core has finished the batch (the feeder and a board's host send it once
// the batch's last loss is back, while the backward pass still runs): the
// core puts it off and carries it out when its update is ready.
//
// Each command's payload is the host's round number; a core writes it to
// its status once the command is carried out, which is how the host knows
// every core got it (a control packet can be lost too).
#ifndef SPIDNN_CONTROL_H
#define SPIDNN_CONTROL_H

#include <stdint.h>
#include <stdbool.h>

#include <spin1_api.h>
#include <data_specification.h>

#include "spidnn_layouts.h"
#include "app_init.h"
#include "cost.h"
#include "spidnn_math.h"
#include "optimizers/types.h"

// ---- Hooks: what the core does on each command, handed over by its user
// (layer_core.h for the layer apps, the loss app) at control_init, so that
// this header depends on nothing of theirs.  They run once a batch or a
// run, not per packet: calling them through pointers costs nothing that
// shows.
typedef struct control_hooks_t {
    // Forgets the pass in flight and takes back the last commit's state.
    // (Not "abort": the SDK's assert.h defines abort(n) as a macro.)
    void (*abort_pass)(void);
    // Applies the update the batch prepared (if any, with control.step)
    // and takes a snapshot; false if it needs a step value that has not
    // come, or if the core has not finished the batch yet (it then calls
    // control_ready()).
    bool (*commit)(void);
    // Sends the trained weights (if any) to the host.
    void (*send_weights)(void);
    // Sends the core's part of its layer's weight penalty (if any) to
    // the host; NULL: the core has none.
    void (*send_penalty)(void);
    // The pass ends with the batch about to start, of so many samples
    // (batch.h's batch_end_pass, of the batch counters it keeps); NULL:
    // the core counts no batches.
    void (*end_pass)(uint32_t size);
} control_hooks_t;

typedef struct control_t {
    uint32_t key;              // the control partition's first key
    core_status_t *status;     // in SDRAM, where the host reads it
    uint32_t generation;       // bumped by every abort
    bool draining;             // after an abort, until resume
    step_t step;               // the next commit's learning rate, values
    uint32_t last_batch_size;  // the next end_pass's batch size
    uint32_t step_fresh;       // what of it came since the last commit:
                               // optimizer_step_needs' bits
    bool evaluating;           // passes evaluate: no gradients, no batches
    uint32_t evaluate_left;    // evaluate_passes: passes left to evaluate
    uint32_t last_commit;      // round number of the last commit applied
    uint32_t put_off;          // a commit's round not carried out yet, or 0
    uint32_t weights_put_off;  // a weight request's round waiting for it
    uint32_t penalty_put_off;  // a penalty request's round waiting for it
    const control_hooks_t *hooks;
} control_t;

static control_t control;

static inline void control_init(uint32_t key,
                                data_specification_metadata_t *ds,
                                const control_hooks_t *hooks) {
    control.key = key;
    control.hooks = hooks;
    control.status = data_specification_get_region(REGION_STATUS, ds);
    control.status->passes_done = 0;
    control.status->waiting = WAITING_INPUTS;
    control.status->last_control = 0;
    control.generation = 0;
    control.draining = false;
    control.step.learning_rate = 0.0f;
    for (uint32_t k = 0; k < OPTIMIZER_MAX_STEP_VALUES; k++) {
        control.step.values[k] = 0.0f;
    }
    control.step_fresh = 0;
    control.last_batch_size = 0;
    control.evaluating = false;
    control.evaluate_left = 0;
    control.last_commit = 0;
    control.put_off = 0;
    control.weights_put_off = 0;
    control.penalty_put_off = 0;
}

// Whether the next commit's step has brought all of `needs`
// (optimizer_step_needs' bits); if so the commit takes it, and the next
// commit waits for its own.
static inline bool control_take_step(uint32_t needs) {
    if ((control.step_fresh & needs) != needs) {
        return false;          // the host sends them again
    }
    control.step_fresh = 0;
    return true;
}

static inline void control_waiting(uint32_t what) {
    control.status->waiting = what;
}

// The core has finished its whole part of a pass.
static inline void control_pass_done(void) {
    control.status->passes_done++;
    control.status->waiting = WAITING_INPUTS;
}

// Queues a computation that an abort in the meantime cancels: the
// callback gets the generation it was queued in as its first argument.
// Between an abort and the resume nothing is queued.
static inline void schedule(callback_t callback, uint arg) {
    if (!control.draining) {
        spin1_schedule_callback(callback, control.generation, arg,
                                COMPUTE_PRIORITY);
    }
}

// True for a callback queued before the last abort: it must do nothing.
static inline bool stale(uint generation) {
    return generation != control.generation;
}

// A request for what the weights are now (themselves, their penalty):
// asked after the last commit, it waits for that commit, which moves
// them.  A NULL hook: the core has nothing to send, and acknowledges.
static void run_request(uint generation, uint round, void (*hook)(void),
                        uint32_t *put_off_round) {
    if (stale(generation)) {
        return;
    }
    if (control.put_off != 0) {
        *put_off_round = round;
        return;
    }
    COST(COST_CONTROL, 1);
    if (hook != NULL) {
        hook();
    }
    control.status->last_control = round;
}

static void run_send_weights(uint generation, uint round) {
    run_request(generation, round, control.hooks->send_weights,
                &control.weights_put_off);
}

static void run_send_penalty(uint generation, uint round) {
    run_request(generation, round, control.hooks->send_penalty,
                &control.penalty_put_off);
}

// Carries out a request put off for the commit just applied.
static void run_put_off(uint generation, uint32_t *put_off_round,
                        callback_t run) {
    if (*put_off_round != 0) {
        uint32_t round = *put_off_round;
        *put_off_round = 0;
        run(generation, round);
    }
}

static void run_commit(uint generation, uint round) {
    if (stale(generation)) {
        return;
    }
    // A host that cannot see whether a commit arrived sends it again with
    // the same round number (backends/board.py): carried out once, or a
    // snapshot taken part-way through the next batch would be rolled
    // back to by an abort.
    if (round == control.last_commit) {
        return;
    }
    COST(COST_CONTROL, 1);
    if (control.hooks->commit()) {
        control.status->last_control = round;
        control.last_commit = round;
        control.put_off = 0;
        run_put_off(generation, &control.penalty_put_off, run_send_penalty);
        run_put_off(generation, &control.weights_put_off, run_send_weights);
    } else {
        control.put_off = round;
    }
}

// The core's update is ready: a commit that came too early is carried out.
static inline void control_ready(void) {
    if (control.put_off != 0) {
        run_commit(control.generation, control.put_off);
    }
}

// Whether the passes to come train or evaluate.  Only a pass's forward
// part and the loss read it, so a switch that comes while the last
// training pass's backward part still runs (the host has its loss) takes
// effect from the next pass.
static inline bool evaluating(void) {
    return control.evaluating;
}

// An evaluated pass is done: after the passes evaluate_passes asked for,
// the core trains again.
static inline void control_evaluated(void) {
    if (control.evaluate_left != 0 && --control.evaluate_left == 0) {
        control.evaluating = false;
    }
}

// Takes a control packet; false if the key is not one.
static inline bool control_receive(uint32_t key, uint32_t payload) {
    uint32_t command = key - control.key;   // wraps for keys below it
    if (command >= N_CONTROLS) {
        return false;
    }
    if (command == CONTROL_ABORT) {
        control.generation++;
        control.draining = true;
        control.put_off = 0;
        control.weights_put_off = 0;
        control.penalty_put_off = 0;
        control.hooks->abort_pass();
        control.status->waiting = WAITING_RESUME;
        control.status->last_control = payload;
    } else if (command == CONTROL_RESUME) {
        control.hooks->abort_pass();  // forget what stale packets left draining
        control.draining = false;
        control.status->waiting = WAITING_INPUTS;
        control.status->last_control = payload;
    } else if (command == CONTROL_COMMIT) {
        schedule(run_commit, payload);
    } else if (command >= CONTROL_STEP_VALUE_0
               && command < CONTROL_STEP_VALUE_0 + OPTIMIZER_MAX_STEP_VALUES) {
        uint32_t k = command - CONTROL_STEP_VALUE_0;
        control.step.values[k] = bits_to_float(payload);
        control.step_fresh |= 2u << k;
    } else if (command == CONTROL_LEARNING_RATE) {
        control.step.learning_rate = bits_to_float(payload);
        control.step_fresh |= 1u;
    } else if (command == CONTROL_EVALUATE || command == CONTROL_TRAIN) {
        control.evaluating = command == CONTROL_EVALUATE;
        control.evaluate_left = 0;
        control.status->last_control = payload;
    } else if (command == CONTROL_EVALUATE_PASSES) {
        if (control.evaluate_left == 0 && payload != 0) {
            control.evaluate_left = payload;
            control.evaluating = true;
        }
    } else if (command == CONTROL_SEND_PENALTY) {
        schedule(run_send_penalty, payload);
    } else if (command == CONTROL_LAST_BATCH_SIZE) {
        control.last_batch_size = (uint32_t) bits_to_float(payload);
    } else if (command == CONTROL_END_PASS) {
        // Between batches (the host sends it once the last commit is
        // carried out, before the batch's samples): a repeat after a lost
        // acknowledgement sets the same again.
        if (control.hooks->end_pass != NULL) {
            control.hooks->end_pass(control.last_batch_size);
        }
        control.status->last_control = payload;
    } else {
        schedule(run_send_weights, payload);
    }
    return true;
}

#endif
