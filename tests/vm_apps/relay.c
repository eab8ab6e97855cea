// relay: a test app for the virtual clock.  Each packet's callback queues
// a callback that sends the packet on with its key plus one; a timer tick
// does nothing but cost.  Its cost points are the ones the test sets.
#include <spin1_api.h>

#include "cost.h"

static void forward(uint key, uint payload) {
    COST(COST_FORWARD, 1);
    spin1_send_mc_packet(key + 1, payload, WITH_PAYLOAD);
}

static void receive(uint key, uint payload) {
    COST(COST_RECEIVE, 1);
    spin1_schedule_callback(forward, key, payload, 1);
}

static void tick(uint ticks, uint unused) {
    (void) ticks;
    (void) unused;
    COST(COST_CONTROL, 1);
}

void c_main(void) {
    spin1_callback_on(MCPL_PACKET_RECEIVED, receive, -1);
    spin1_callback_on(TIMER_TICK, tick, 1);
    spin1_set_timer_tick(1000);     // microseconds
    spin1_start(SYNC_WAIT);
}
