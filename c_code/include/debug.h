// Logging as in spinnaker_tools' debug.h: log_error .. log_debug.
#ifndef SPIDNN_DEBUG_H
#define SPIDNN_DEBUG_H

#include <stdint.h>

#define LOG_ERROR   10
#define LOG_WARNING 20
#define LOG_INFO    30
#define LOG_DEBUG   40

void spin1_log(uint32_t level, const char *format, ...);

#define log_error(...)   spin1_log(LOG_ERROR, __VA_ARGS__)
#define log_warning(...) spin1_log(LOG_WARNING, __VA_ARGS__)
#define log_info(...)    spin1_log(LOG_INFO, __VA_ARGS__)
#define log_debug(...)   spin1_log(LOG_DEBUG, __VA_ARGS__)

#endif
