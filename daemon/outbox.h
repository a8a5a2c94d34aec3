/*
 * outbox — mail mercomail has promised to send, kept in SQLite.
 *
 * A mail is queued in the same transaction as the record that caused it,
 * and sent after the commit. Sending marks it sent right after the SMTP
 * server accepted it; a crash between the two can send it once more (the
 * only window for a duplicate, and the recipient's client dedups by
 * Message-ID). Temporary failures are retried with growing delays.
 */
#ifndef MERCOMAIL_OUTBOX_H
#define MERCOMAIL_OUTBOX_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "err.h"
#include "smtp.h"
#include "store.h"

struct outbox_item {
	const char *purpose;	/* "ack", "invalid", ... */
	int64_t message_id;	/* the mail it answers, 0 if none */
	const char *mail_from;	/* envelope sender */
	const char *rcpt;	/* envelope recipient */
	const char *msgid;	/* Message-ID of the queued mail */
	const char *data;	/* RFC 5322 bytes with CRLF */
	size_t len;
	int64_t unit_id;	/* list mail: the unit or body of the list; 0 if none */
};

/* Queue a mail (inside the caller's transaction). Returns the row id or -1. */
int64_t outbox_enqueue(struct store *st, const struct outbox_item *it, time_t now,
    struct err *e);

/* How many answers to rcpt's own mails were queued since `since` (for the
 * answer rate limit; invites and list mail to rcpt do not count). */
int64_t outbox_count_since(struct store *st, const char *rcpt, time_t since, struct err *e);

/* Queued mails, and the age in seconds of the oldest (0 if none). */
int64_t outbox_depth(struct store *st, time_t now, int64_t *oldest_age, struct err *e);

/* When the earliest deferred mail (one tried before) is due again: 0 if
 * none, -1 on error. The daemon wakes up for it: a deferred answer must not
 * wait for the next mail to arrive. */
int64_t outbox_next_retry(struct store *st, struct err *e);

struct outbox_stats {
	unsigned sent, deferred, failed;
	int64_t unmarked;	/* a mail the server accepted whose "sent" mark could not
				 * be written (outbox_flush returned -1): do not flush
				 * again before outbox_mark_sent() recorded it; 0: none */
};

/* Record the row id as sent (after outbox_stats.unmarked). 0, or -1. */
int outbox_mark_sent(struct store *st, int64_t id, time_t now, struct err *e);

/* Send what is due, one mail at a time, until the queue is empty, the server
 * cannot be reached (the rest waits for the next round) or *stop is set.
 * Each row is tried at most once per call. Per recipient: 2xx sent, 5xx
 * failed, 4xx retried later (see outbox_retry_delay), and failed once it
 * is older than smtp.retry_max_age. Returns 0, or -1 on a store error. */
int outbox_flush(struct store *st, struct smtp *smtp, time_t now,
    volatile sig_atomic_t *stop, struct outbox_stats *stats, struct err *e);

/* Seconds to wait after a mail's attempts-th failed attempt (0-based):
 * first doubled each time up to max, then moved by up to a quarter either
 * way by rnd (a random number). Pure; exposed for tests. */
time_t outbox_retry_delay(int64_t attempts, int first, int max, uint32_t rnd);

/* The stored message msg_id, if it is a delivery report (daemon/bounce.h)
 * about a mail of the outbox: record it in bounces and, for a permanent
 * failure, mark that outbox row failed. verp_rcpt: the member whose VERP
 * address it came back to (verp.h), or NULL: then the report must quote
 * the Message-ID of an outbox row. from_mailer: it comes from a mail
 * server's own address (a VERP report counts even when nothing parses).
 * Returns 1 recorded, 0 not a report about our mail, -1 on a store error. */
int outbox_bounce_note(struct store *st, int64_t msg_id, const char *verp_rcpt, int from_mailer,
    time_t now, struct err *e);

#endif
