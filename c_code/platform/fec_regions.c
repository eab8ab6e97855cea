// The front-end-common calls that read what the toolchain wrote (the data
// specification's header and regions, the system region), answered the
// same way by both platforms that stand in for a chip's own FEC library:
// the virtual machine (vm/) and the calibration build (calibration/).
#include <spin1_api.h>
#include <debug.h>
#include <data_specification.h>
#include <simulation.h>

bool data_specification_read_header(data_specification_metadata_t *ds) {
    if (ds->magic_number != DATA_SPECIFICATION_MAGIC_NUMBER) {
        log_error("bad data specification magic 0x%08x", ds->magic_number);
        return false;
    }
    if (ds->version != DATA_SPECIFICATION_VERSION) {
        log_error("bad data specification version 0x%08x", ds->version);
        return false;
    }
    return true;
}

void *data_specification_get_region(
        uint32_t region, data_specification_metadata_t *ds) {
    return ds->regions[region].pointer;
}

bool simulation_initialise(
        address_t address, uint32_t expected_app_magic_number,
        uint32_t *timer_period, uint32_t *simulation_ticks_pointer,
        uint32_t *infinite_run_pointer, uint32_t *time_pointer,
        int sdp_packet_callback_priority, int dma_transfer_complete_priority) {
    (void) sdp_packet_callback_priority;
    (void) dma_transfer_complete_priority;
    // System region: application magic number, timer period, SDP port.
    if (address == NULL || address[0] != expected_app_magic_number) {
        log_error("system region is not for this application");
        return false;
    }
    *timer_period = address[1];
    *simulation_ticks_pointer = 0;
    *infinite_run_pointer = 1;   // the host ends a run, not a tick count
    *time_pointer = 0;
    return true;
}
