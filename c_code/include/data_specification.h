// The front-end-common data specification reader (FEC c_common):
// a core's SDRAM block starts with this metadata, then its regions.
#ifndef SPIDNN_DATA_SPECIFICATION_H
#define SPIDNN_DATA_SPECIFICATION_H

#include <stdint.h>
#include <stdbool.h>

#define DATA_SPECIFICATION_MAGIC_NUMBER 0xAD130AD6u
#define DATA_SPECIFICATION_VERSION      0x00010000u
#define MAX_MEM_REGIONS                 32

typedef struct region_desc_t {
    void *pointer;
    uint32_t checksum;
    uint32_t n_words;
} region_desc_t;

typedef struct data_specification_metadata_t {
    uint32_t magic_number;
    uint32_t version;
    region_desc_t regions[MAX_MEM_REGIONS];
} data_specification_metadata_t;

data_specification_metadata_t *data_specification_get_data_address(void);
bool data_specification_read_header(data_specification_metadata_t *ds_regions);
void *data_specification_get_region(
        uint32_t region, data_specification_metadata_t *ds_regions);

#endif
