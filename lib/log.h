/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Logging for programs (main() and request handlers).  Libraries do not
 * log: they return errors with text.  Lines go to stderr as
 *   <prog>: <level>: <message>
 * or, with log_set_json(true), as one JSON object per line.
 */
#ifndef TG_LIB_LOG_H
#define TG_LIB_LOG_H

#include <stdbool.h>

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

void log_init(const char *prog, enum log_level level);
void log_set_level(enum log_level level);
void log_set_json(bool json);
bool log_enabled(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
