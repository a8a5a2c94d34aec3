/*
 * log — one line per event, "level=... key=value ..." pairs, to stderr or syslog.
 * Under systemd (JOURNAL_STREAM set) stderr lines carry "<N>" syslog priority
 * prefixes. Never pass a password, token or mail body to these functions.
 */
#ifndef MERCOMAIL_LOG_H
#define MERCOMAIL_LOG_H

#include "config.h"

void log_init(const char *ident, enum log_level level, int use_syslog);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
