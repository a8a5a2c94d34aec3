/*
 * status — the daemon's status row and its recent errors in SQLite
 * (schema/0003_status.sql), so that `mercomail status` can tell a person
 * what a running (or stopped) mercomaild is doing without talking to it.
 *
 * Written outside any transaction of the pipeline, after each pass and each
 * reload; a failure here is worth a warning, never worth stopping for.
 */
#ifndef MERCOMAIL_STATUS_H
#define MERCOMAIL_STATUS_H

#include <sys/types.h>
#include <time.h>

#include "err.h"
#include "metrics.h"
#include "store.h"

#define STATUS_ERRORS_KEPT 50

/* What the row says besides the metrics; the strings are not kept. */
struct status_info {
	pid_t pid;
	time_t started_at;
	const char *config_path;
	const char *http_listen;	/* NULL: no HTTP server */
};

/* Replace the one row with si and m as of now. 0 or -1. */
int status_write(struct store *st, const struct status_info *si, const struct metrics *m,
    time_t now, struct err *e);

/* Append an error line (keeping the last STATUS_ERRORS_KEPT). 0 or -1. */
int status_add_error(struct store *st, time_t at, const char *text, struct err *e);

/* A clean exit of process pid: the row loses the pid (if still its own), so
 * nobody mistakes a reused pid for the daemon. 0 or -1. */
int status_stopped(struct store *st, pid_t pid, time_t now, struct err *e);

#endif
