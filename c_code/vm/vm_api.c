// The host's entry points that run the machine (vm_api.h): starting the
// apps, passes of samples, control rounds, the live edge's packets and
// timer ticks, and what the gatherers and the cores' status regions say
// after.  Every entry point sets vm_active: the spin1 calls act on it.
#include <stdlib.h>
#include <string.h>

#include <data_specification.h>
#include "vm_build.h"
#include "vm_clock.h"
#include "vm_core.h"
#include "vm_machine.h"
#include "vm_mailbox.h"
#include "vm_sched.h"
#include "vm_api.h"

// The app's STATUS region (control.h), where the host reads its progress.
static core_status_t *status_region(vm_core_t *core) {
    data_specification_metadata_t *ds = (void *) core->sdram;
    return ds->regions[REGION_STATUS].pointer;
}

int vm_start(vm_t *vm) {
    vm_active = vm;
    int rc = vm_allocate_dtcm(vm);
    if (rc != VM_OK) {
        return rc;
    }
    if (!vm_mail_start(vm)) {
        vm_fail(vm, "cannot allocate the chips' mail logs");
        return VM_BAD_CALL;
    }
    for (int32_t i = 0; i < vm->n_cores; i++) {
        vm_core_t *core = &vm->cores[i];
        if (core->kind != VM_CORE_APP) {
            continue;
        }
        int32_t failed = vm_core_run_main(vm, i);
        if (failed >= 0) {
            return vm_core_error(vm, failed);
        }
        core->status = status_region(core);
    }
    return vm_run_until_quiet(vm, UINT64_MAX);
}

// The gatherers' packets of the pass or round about to start, which
// the host sends once the machine has finished what came before.
static void reset_pass(vm_t *vm) {
    vm->n_out = 0;
    vm_clock_host_turn(vm);
}

// Cores whose status does not show one more pass done than `before`.
static uint32_t cores_behind(vm_t *vm, const uint32_t *before) {
    uint32_t behind = 0;
    for (int32_t i = 0; i < vm->n_cores; i++) {
        const core_status_t *status = vm->cores[i].status;
        if (status != NULL && status->passes_done != before[i] + 1) {
            behind++;
        }
    }
    return behind;
}

static void note_passes(vm_t *vm, uint32_t *before) {
    for (int32_t i = 0; i < vm->n_cores; i++) {
        const core_status_t *status = vm->cores[i].status;
        before[i] = status != NULL ? status->passes_done : 0;
    }
}

// One control round: the command's packet (after n_pre packets carrying
// its arguments, such as a commit's scale) leaves the control source with
// the next round number, the machine runs until quiet, and every app core
// must have written that number back.
static int control_round(vm_t *vm, int32_t control_core, uint32_t key,
                         uint64_t budget, uint32_t n_pre,
                         const uint32_t *pre_keys,
                         const uint32_t *pre_payloads) {
    uint32_t round = ++vm->control_round;
    if (setjmp(vm->on_rt_error) != 0) {
        return vm_stop_on_error(vm);
    }
    vm_clock_control_begins(vm);
    for (uint32_t i = 0; i < n_pre; i++) {
        vm_host_send(vm, control_core, pre_keys[i], pre_payloads[i]);
    }
    vm_host_send(vm, control_core, key, round);
    int rc = vm_run_until_quiet(vm, budget);
    vm_clock_control_ends(vm);
    if (rc != VM_OK) {
        return rc;
    }
    uint32_t missing = 0;
    for (int32_t i = 0; i < vm->n_cores; i++) {
        const core_status_t *status = vm->cores[i].status;
        missing += status != NULL && status->last_control != round;
    }
    if (missing > 0) {
        vm_fail(vm, "%u core(s) did not carry out control round %u",
                missing, round);
        return VM_CONTROL_FAILED;
    }
    return VM_OK;
}

int vm_control(vm_t *vm, int32_t control_core, uint32_t key,
               uint64_t budget, uint32_t n_pre, const uint32_t *pre_keys,
               const uint32_t *pre_payloads) {
    vm_active = vm;
    if (control_core < 0 || control_core >= vm->n_cores
            || vm->cores[control_core].kind != VM_CORE_SOURCE) {
        vm_fail(vm, "control core %d is not a source", control_core);
        return VM_BAD_CALL;
    }
    reset_pass(vm);
    return control_round(vm, control_core, key, budget, n_pre, pre_keys,
                         pre_payloads);
}

// Whether every core the host sends from is a source (else the error).
static bool all_sources(vm_t *vm, uint32_t n, const int32_t *src_cores) {
    for (uint32_t i = 0; i < n; i++) {
        if (src_cores[i] < 0 || src_cores[i] >= vm->n_cores
                || vm->cores[src_cores[i]].kind != VM_CORE_SOURCE) {
            vm_fail(vm, "packet %u names core %d, not a source", i,
                    src_cores[i]);
            return false;
        }
    }
    return true;
}

int vm_inject(vm_t *vm, uint32_t n, const int32_t *src_cores,
              const uint32_t *keys, const uint32_t *payloads,
              uint64_t budget) {
    vm_active = vm;
    if (!all_sources(vm, n, src_cores)) {
        return VM_BAD_CALL;
    }
    reset_pass(vm);
    // Injected packets run pre-empting callbacks at once.
    if (setjmp(vm->on_rt_error) != 0) {
        return vm_stop_on_error(vm);
    }
    for (uint32_t i = 0; i < n; i++) {
        vm_host_send(vm, src_cores[i], keys[i], payloads[i]);
    }
    int rc = vm_run_until_quiet(vm, budget);
    if (rc == VM_TIMEOUT && vm_work_left(vm)) {
        // A slice of a longer run (the feeder trains without the host).
        vm->error[0] = '\0';
        return VM_RUNNING;
    }
    return rc;
}

uint32_t vm_get_outputs(vm_t *vm, uint32_t n, uint32_t *keys,
                        uint32_t *payloads) {
    uint32_t got = vm->n_out < n ? (uint32_t) vm->n_out : n;
    memcpy(keys, vm->out_keys, sizeof(uint32_t) * got);
    memcpy(payloads, vm->out_payloads, sizeof(uint32_t) * got);
    return (uint32_t) vm->n_out;
}

int vm_run_samples(vm_t *vm, uint32_t n_samples, uint32_t n_inject,
                   const int32_t *src_cores, const uint32_t *keys,
                   const uint32_t *payloads, uint32_t n_expected,
                   uint32_t *out_keys, uint32_t *out_payloads,
                   uint64_t budget, const uint8_t *commit_after,
                   uint32_t n_commit_args, const uint32_t *commit_arg_keys,
                   const uint32_t *commit_args, int32_t control_core,
                   uint32_t commit_key, uint32_t *n_done) {
    vm_active = vm;
    *n_done = 0;
    if (!all_sources(vm, n_inject, src_cores)) {
        return VM_BAD_CALL;
    }
    uint32_t *before = malloc(sizeof(uint32_t) * (size_t) vm->n_cores);
    int rc = VM_OK;
    for (uint32_t s = 0; s < n_samples && rc == VM_OK; s++) {
        reset_pass(vm);
        note_passes(vm, before);
        const uint32_t *row = &payloads[(size_t) s * n_inject];
        // Injected packets run pre-empting callbacks at once, so a core
        // can fail while the sources are still sending.
        if (setjmp(vm->on_rt_error) != 0) {
            rc = vm_stop_on_error(vm);
            break;
        }
        for (uint32_t i = 0; i < n_inject; i++) {
            vm_host_send(vm, src_cores[i], keys[i], row[i]);
        }
        rc = vm_run_until_quiet(vm, budget);
        if (rc != VM_OK) {
            break;
        }
        uint32_t behind = cores_behind(vm, before);
        if (vm->n_out != n_expected || behind > 0) {
            vm_fail(vm, "%zu of %u expected packets reached the gatherers "
                    "and %u core(s) did not finish their part before the "
                    "machine went quiet", vm->n_out, n_expected, behind);
            rc = VM_STALLED;
            break;
        }
        memcpy(&out_keys[(size_t) s * n_expected], vm->out_keys,
               sizeof(uint32_t) * n_expected);
        memcpy(&out_payloads[(size_t) s * n_expected], vm->out_payloads,
               sizeof(uint32_t) * n_expected);
        *n_done = s + 1;
        int committed = commit_after != NULL && commit_after[s];
        if (committed) {
            rc = control_round(vm, control_core, commit_key, budget,
                               n_commit_args, commit_arg_keys,
                               &commit_args[(size_t) s * n_commit_args]);
            if (rc == VM_STALLED || rc == VM_TIMEOUT) {
                // The batch is done: the host repeats the commit, never
                // aborts (some cores may have applied it).
                rc = VM_CONTROL_FAILED;
            }
        }
        vm_clock_count_pass(vm, commit_after != NULL, committed);
    }
    free(before);
    return rc;
}

int vm_run_ticks(vm_t *vm, uint32_t n_ticks, uint64_t max_events) {
    vm_active = vm;
    return vm_fire_ticks(vm, n_ticks, max_events);
}

void vm_get_core_status(vm_t *vm, int32_t core, uint32_t *out4) {
    vm_core_t *c = &vm->cores[core];
    memset(out4, 0, 4 * sizeof(uint32_t));
    if (c->status != NULL) {
        out4[0] = c->status->passes_done;
        out4[1] = c->status->waiting;
        out4[2] = c->status->last_control;
    }
    out4[3] = c->stalled_until > vm->now;
}
