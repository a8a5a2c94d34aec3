/*
 * metrics — what mercomaild has done since it started, and whether it is
 * healthy (pure: no sockets, no SQLite, no clock; `now` is passed in).
 *
 * The main loop owns one struct metrics and updates it after each pass;
 * the HTTP server (http.c) serves a copy as /metrics and /healthz, and the
 * status row (status.c) stores one for `mercomail status`. Counters start at
 * 0 with each daemon process, as Prometheus expects of counters.
 *
 * No text from mail ever goes in here: the only free text is last_error,
 * which metrics_cycle_failed() reduces to one line without addresses.
 */
#ifndef MERCOMAIL_METRICS_H
#define MERCOMAIL_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "outbox.h"
#include "sync.h"

/* A pass counts as healthy for this many poll intervals. */
#define METRICS_HEALTHY_POLLS 3

struct metrics {
	uint64_t fetched;	/* new mails stored (duplicates not counted) */
	uint64_t recorded, rejected, held, ignored;	/* the state each ended in */
	uint64_t answers_sent;
	uint64_t smtp_errors;	/* answers deferred or failed */
	uint64_t imap_errors;	/* failed passes (connect or sync); a dropped IDLE is not one */
	time_t last_cycle;	/* end of the last pass, good or bad; 0: none yet */
	time_t last_success;	/* end of the last good pass; 0: none yet */
	char last_error[256];	/* one line, "" if none */
	int poll_interval;	/* seconds, from the config */
	int wait_allowance;	/* seconds the loop may wait on top (IDLE), else 0 */
	int64_t outbox_depth;	/* queued answers */
	time_t outbox_oldest;	/* created_at of the oldest queued answer; 0: none */
};

/* Add what one sync pass did (also a pass that failed half-way: what it
 * committed is done). */
void metrics_count_sync(struct metrics *m, const struct sync_stats *s);

/* Add what one outbox flush did. */
void metrics_count_outbox(struct metrics *m, const struct outbox_stats *o);

void metrics_cycle_ok(struct metrics *m, time_t now);

/* A failed pass: counts an IMAP error and keeps why (made one line, and
 * any word with an '@' replaced, so no address reaches /healthz or logs). */
void metrics_cycle_failed(struct metrics *m, time_t now, const char *why);

/* The queue as outbox_depth() saw it at now. */
void metrics_set_outbox(struct metrics *m, int64_t depth, int64_t oldest_age, time_t now);

/*
 * 1 if the last good pass is recent enough: within METRICS_HEALTHY_POLLS
 * poll intervals (plus wait_allowance while the loop waits in IDLE). Else
 * 0, with a one-line reason in why (no newline), e.g.
 * "no successful IMAP cycle for 183 s: <last error>".
 */
int metrics_healthy(const struct metrics *m, time_t now, char *why, size_t size);

/*
 * The Prometheus text exposition (version 0.0.4) of m at now into buf.
 * Returns its length, or -1 if buf is too small (4 KiB is plenty).
 */
int metrics_format(const struct metrics *m, time_t now, char *buf, size_t size);

#endif
