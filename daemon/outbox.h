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
};

/* Queue a mail (inside the caller's transaction). Returns the row id or -1. */
int64_t outbox_enqueue(struct store *st, const struct outbox_item *it, time_t now,
    struct err *e);

/* How many mails were queued for rcpt since `since` (for the answer rate limit). */
int64_t outbox_count_since(struct store *st, const char *rcpt, time_t since, struct err *e);

/* Queued mails, and the age in seconds of the oldest (0 if none). */
int64_t outbox_depth(struct store *st, time_t now, int64_t *oldest_age, struct err *e);

struct outbox_stats {
	unsigned sent, deferred, failed;
};

/* Send what is due, one mail at a time, until the queue is empty, the server
 * fails (the rest waits for the next round) or *stop is set. Returns 0, or
 * -1 on a store error. */
int outbox_flush(struct store *st, struct smtp *smtp, time_t now,
    volatile sig_atomic_t *stop, struct outbox_stats *stats, struct err *e);

#endif
